"""Two reports of the same peer group at once share one peer snapshot.

A report's cache key holds the snapshot it was ranked against; if two concurrent renders
each took their own snapshot, the one whose snapshot was replaced would be rendered again
on its next request, and `smm report --all` would not be served from its cache.
"""

from __future__ import annotations

import threading

import pytest

from app.benchmarks.service import current_snapshot
from app.db import session_factory, transaction
from tests.support.databases import migrated_engine
from tests.support.questionnaires import loaded_version

pytestmark = pytest.mark.postgres

CATALOGUE = loaded_version(1).catalogue


def test_a_render_that_needs_a_snapshot_while_another_takes_it_reads_that_one(
    fresh_postgres_url: str,
) -> None:
    band = CATALOGUE.size_bands[0]
    bounds = (band.min_beds, None)
    taken = threading.Event()
    results: dict[str, tuple[str, object]] = {}

    with migrated_engine(fresh_postgres_url, pool_size=4) as engine:
        factory = session_factory(engine)

        def first() -> None:
            with transaction(factory) as session:
                snapshot = current_snapshot(session, "hospital-social-media", band, bounds)
                results["first"] = (str(snapshot.id), snapshot.taken_at)
                taken.set()
                # Still uncommitted while the second render looks for a snapshot.
                threading.Event().wait(0.5)

        def second() -> None:
            taken.wait(10)
            with transaction(factory) as session:
                snapshot = current_snapshot(session, "hospital-social-media", band, bounds)
                results["second"] = (str(snapshot.id), snapshot.taken_at)

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

    assert results["first"] == results["second"]
