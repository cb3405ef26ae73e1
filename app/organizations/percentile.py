"""Mid-rank percentiles: where one score stands among its peers' scores.

Pure (no database, no clock) so that the rules a benchmark must obey are property-tested
on their own: always within 0-100, and never lower when the organization's score rises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


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
class DimensionBenchmark:
    """One dimension: the organization's own score and its percentile among peers."""

    dimension_id: str
    title: str
    score: float
    percentile: float | None
    peer_count: int


@dataclass(frozen=True, slots=True)
class Benchmark:
    """Where an organization stands among peers of its size band; peers stay anonymous.

    Only the band, how many peers there are and percentiles leave this object: never a
    peer's score, id, name, or the range of their scores.
    """

    available: bool
    reason: str | None
    questionnaire_id: str
    band_id: str
    band_label: str
    peer_count: int
    minimum_peers: int
    dimensions: tuple[DimensionBenchmark, ...]


def benchmark(
    own: Sequence[tuple[str, str, float]],
    peers: Sequence[Mapping[str, float]],
    *,
    questionnaire_id: str,
    band_id: str,
    band_label: str,
    minimum_peers: int = MINIMUM_PEERS,
) -> Benchmark:
    """Percentiles per dimension of ``own`` (id, title, score) among ``peers`` (id -> score).

    A dimension gets a percentile only when at least ``minimum_peers`` peers scored it, so
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
                percentile=round(mid_rank_percentile(score, scores), 1) if enough else None,
                peer_count=len(scores),
            )
        )
    available = count >= minimum_peers and any(d.percentile is not None for d in dimensions)
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
