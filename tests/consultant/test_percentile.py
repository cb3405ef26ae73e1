"""The mid-rank percentile, its quarters and the peer benchmark: pure rules, property-tested."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.benchmarks.percentile import (
    MINIMUM_PEERS,
    QUARTERS,
    benchmark,
    mid_rank_percentile,
    percentile_band,
)

SCORES = st.floats(min_value=0, max_value=100, allow_nan=False)
PEERS = st.lists(SCORES, min_size=1, max_size=60)


@given(score=SCORES, peers=PEERS)
def test_a_percentile_is_always_between_0_and_100(score, peers):
    assert 0 <= mid_rank_percentile(score, peers) <= 100


@given(score=SCORES, raise_by=st.floats(min_value=0, max_value=100), peers=PEERS)
def test_a_higher_score_never_has_a_lower_percentile(score, raise_by, peers):
    higher = min(100.0, score + raise_by)

    assert mid_rank_percentile(higher, peers) >= mid_rank_percentile(score, peers)


@given(score=SCORES, peers=PEERS)
def test_the_order_of_the_peers_does_not_matter(score, peers):
    assert mid_rank_percentile(score, peers) == mid_rank_percentile(score, sorted(peers))


@pytest.mark.parametrize(
    ("score", "peers", "expected"),
    [
        (90, [10, 20, 30, 40], 100.0),  # above everyone
        (5, [10, 20, 30, 40], 0.0),  # below everyone
        (50, [50, 50, 50, 50, 50], 50.0),  # level with everyone: the middle, not an end
        (30, [10, 20, 30, 40], 62.5),  # two below, one tie: (2 + 0.5) / 4
        (40, [10, 40, 40, 70, 90], 40.0),  # one below, two ties: (1 + 1) / 5
    ],
)
def test_mid_rank_counts_peers_below_and_half_of_ties(score, peers, expected):
    assert mid_rank_percentile(score, peers) == expected


def test_a_percentile_needs_peers():
    with pytest.raises(ValueError, match="at least one peer"):
        mid_rank_percentile(50, [])


OWN = [("presence", "Presence", 60.0), ("security", "Security", 30.0)]


def _peers(count: int) -> list[dict[str, float]]:
    return [{"presence": 10.0 * n, "security": 17.0 + n} for n in range(count)]


def test_fewer_than_five_peers_give_no_percentiles_and_say_why():
    result = benchmark(
        OWN, _peers(MINIMUM_PEERS - 1), questionnaire_id="q", band_id="small", band_label="S"
    )

    assert result.available is False
    assert result.peer_count == 4
    assert result.dimensions == ()
    assert result.reason is not None
    assert "at least 5" in result.reason
    assert "are 4" in result.reason


def test_five_peers_give_a_percentile_per_dimension():
    result = benchmark(OWN, _peers(5), questionnaire_id="q", band_id="small", band_label="S")

    assert result.available is True
    assert result.reason is None
    assert result.peer_count == 5
    by_id = {d.dimension_id: d for d in result.dimensions}
    # presence: peers 0, 10, 20, 30, 40 are all below 60
    assert by_id["presence"].percentile_band == QUARTERS[-1]
    # security: peers 17..21 are all below 30
    assert by_id["security"].percentile_band == QUARTERS[-1]
    assert by_id["security"].score == 30.0


def test_a_dimension_too_few_peers_scored_gets_no_percentile():
    peers = [*_peers(5), *({"presence": 1.0} for _ in range(3))]
    peers[:5] = [{"presence": p["presence"]} for p in peers[:5]]
    peers[0]["security"] = 99.0

    result = benchmark(OWN, peers, questionnaire_id="q", band_id="small", band_label="S")

    by_id = {d.dimension_id: d for d in result.dimensions}
    assert by_id["presence"].percentile_band is not None
    assert by_id["security"].percentile_band is None
    assert by_id["security"].peer_count == 1


@given(
    peers=st.lists(st.fixed_dictionaries({"presence": SCORES}), min_size=5, max_size=30),
    data=st.data(),
)
def test_a_benchmark_shows_only_counts_and_percentiles_whatever_the_peers(peers, data):
    shuffled = data.draw(st.permutations(peers))

    result = benchmark(
        [("presence", "Presence", 55.5)], peers, questionnaire_id="q", band_id="b", band_label="B"
    )

    assert result == benchmark(
        [("presence", "Presence", 55.5)],
        shuffled,
        questionnaire_id="q",
        band_id="b",
        band_label="B",
    )
    (dimension,) = result.dimensions
    assert asdict(dimension) == {
        "dimension_id": "presence",
        "title": "Presence",
        "score": 55.5,
        "percentile_band": asdict(
            percentile_band(mid_rank_percentile(55.5, [p["presence"] for p in peers]))
        ),
        "peer_count": len(peers),
    }


@pytest.mark.parametrize(
    ("percentile", "quarter"),
    [
        (0.0, "bottom_quarter"),
        (24.9, "bottom_quarter"),
        (25.0, "second_quarter"),
        (50.0, "third_quarter"),
        (74.99, "third_quarter"),
        (75.0, "top_quarter"),
        (100.0, "top_quarter"),
    ],
)
def test_a_percentile_is_published_as_the_quarter_it_falls_in(percentile, quarter):
    assert percentile_band(percentile).id == quarter


@given(percentile=st.floats(min_value=0, max_value=100))
def test_every_percentile_falls_in_exactly_one_quarter(percentile):
    containing = [
        q for q in QUARTERS if q.low <= percentile < q.high or percentile == q.high == 100
    ]
    assert containing == [percentile_band(percentile)]
