"""Mid-rank percentiles, and the coarse bands in which they are published.

Pure (no database, no clock) so that the rules a benchmark must obey are property-tested
on their own: always within 0-100, and never lower when the organization's score rises.

An exact percentile moves by one peer's weight whenever one's own score passes a peer's:
submitting chosen scores and reading the percentile after each would trace peers' scores.
So a percentile only ever leaves as the quarter it falls in (``PercentileBand``), and is
computed from a stored snapshot of the peer group (see ``app.benchmarks.service``), not live.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime


def mid_rank_percentile(score: float, peers: Sequence[float]) -> float:
    """The share of peers scoring below ``score`` plus half of those tied with it, in %.

    Half of the ties count as below so that an organization level with every peer sits at
    50, not at 0 or 100: the usual mid-rank convention for percentile ranks.
    """
    if not peers:
        raise ValueError("a percentile needs at least one peer")
    below = sum(1 for peer in peers if peer < score)
    tied = sum(1 for peer in peers if peer == score)
    return 100.0 * (below + tied / 2) / len(peers)


MINIMUM_PEERS = 5


@dataclass(frozen=True, slots=True)
class PercentileBand:
    """A quarter of the percentile scale: [low, high), the top one including 100."""

    id: str
    label: str
    low: int
    high: int


QUARTERS = (
    PercentileBand("bottom_quarter", "Bottom quarter (below the 25th percentile)", 0, 25),
    PercentileBand("second_quarter", "25th to 50th percentile", 25, 50),
    PercentileBand("third_quarter", "50th to 75th percentile", 50, 75),
    PercentileBand("top_quarter", "Top quarter (75th percentile and above)", 75, 100),
)
BANDS_BY_ID = {band.id: band for band in QUARTERS}


def percentile_band(percentile: float) -> PercentileBand:
    """The quarter a percentile (0-100) falls in."""
    if not 0 <= percentile <= 100:
        raise ValueError("a percentile is between 0 and 100")
    return QUARTERS[min(int(percentile // 25), len(QUARTERS) - 1)]


@dataclass(frozen=True, slots=True)
class DimensionBenchmark:
    """One dimension: the organization's own score and the quarter it ranks in among peers."""

    dimension_id: str
    title: str
    score: float
    percentile_band: PercentileBand | None
    peer_count: int


@dataclass(frozen=True, slots=True)
class Benchmark:
    """Where an organization stands among peers of its size band; peers stay anonymous.

    Only the size band, how many peers there are and percentile quarters leave this
    object: never a peer's score, id, name, the range of their scores, or an exact
    percentile. ``taken_at`` is when the peer snapshot it comes from was taken.
    """

    available: bool
    reason: str | None
    questionnaire_id: str
    band_id: str
    band_label: str
    peer_count: int
    minimum_peers: int
    dimensions: tuple[DimensionBenchmark, ...]
    assessment_id: str | None = None
    taken_at: datetime | None = None
    next_snapshot_after: datetime | None = None


def benchmark(
    own: Sequence[tuple[str, str, float]],
    peers: Sequence[Mapping[str, float]],
    *,
    questionnaire_id: str,
    band_id: str,
    band_label: str,
    minimum_peers: int = MINIMUM_PEERS,
) -> Benchmark:
    """The percentile quarter per dimension of ``own`` (id, title, score) among ``peers``.

    A dimension gets a band only when at least ``minimum_peers`` peers scored it, so
    that no small group of peers can be worked back from the figure.
    """
    count = len(peers)
    dimensions = []
    for dimension_id, title, score in own:
        scores = [p[dimension_id] for p in peers if dimension_id in p]
        enough = len(scores) >= minimum_peers
        dimensions.append(
            DimensionBenchmark(
                dimension_id=dimension_id,
                title=title,
                score=score,
                percentile_band=percentile_band(mid_rank_percentile(score, scores))
                if enough
                else None,
                peer_count=len(scores),
            )
        )
    available = count >= minimum_peers and any(d.percentile_band is not None for d in dimensions)
    reason = None
    if not available:
        reason = (
            f"Peer benchmarks need at least {minimum_peers} other organizations of the same "
            f"size band with a submitted assessment; there {'is' if count == 1 else 'are'} "
            f"{count}."
        )
    return Benchmark(
        available=available,
        reason=reason,
        questionnaire_id=questionnaire_id,
        band_id=band_id,
        band_label=band_label,
        peer_count=count,
        minimum_peers=minimum_peers,
        dimensions=tuple(dimensions) if available else (),
    )
