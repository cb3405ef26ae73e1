"""Per-key rate limits: a burst at once, refilled at a steady rate, on one budget per key.

The policy is pyrate-limiter's GCRA (a token bucket kept as one timestamp per key). Where
its state lives depends on the database: on SQLite, the embedded single-process default,
in this process's memory; on PostgreSQL, where many API processes and machines serve one
service, in the ``rate_limit_states`` table, read and written under a row lock, so every
process spends from the same budget.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pyrate_limiter import (
    GCRA,
    Duration,
    InMemoryStateStore,
    Rate,
    RateItem,
    StateBucket,
    WallClock,
)
from pyrate_limiter.abstracts.algorithm import Decision, State, StateAlgorithm
from pyrate_limiter.abstracts.store import StateStore
from pyrate_limiter.clocks import AbstractClock
from sqlalchemy import JSON, String, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from app.db import Base, transaction, utcnow

# Wall-clock milliseconds: a monotonic clock means nothing to another machine.
CLOCK = WallClock()
MEMORY_KEYS = 50_000  # idle keys are forgotten beyond this many, rather than grow forever
PURGE_EVERY = 1_000  # checks between sweeps of expired rows


class RateLimitState(Base):
    """One key's GCRA state (theoretical arrival times, in microseconds) on PostgreSQL."""

    __tablename__ = "rate_limit_states"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[list[int]] = mapped_column(JSON)
    # When the state is as good as new again (its last arrival time): after that the row
    # can go, and a missing row reads as a full budget.
    expires_at: Mapped[datetime] = mapped_column(index=True)


class DatabaseStateStore(StateStore):
    """pyrate-limiter's state store for one key, in ``rate_limit_states``.

    ``check`` is atomic across processes: the row is made if missing, then locked
    (``SELECT ... FOR UPDATE``), stepped by the algorithm and written in one transaction.
    """

    is_async = False
    default_clock = CLOCK

    def __init__(self, sessions: sessionmaker[Session], key: str) -> None:
        self.sessions = sessions
        self.key = key

    def check(
        self, algorithm: StateAlgorithm, rates: list[Rate], now: int, weight: int
    ) -> Decision:
        with transaction(self.sessions) as session:
            initial = list(algorithm.initial(rates))
            session.execute(
                pg_insert(RateLimitState)
                .values(key=self.key, state=initial, expires_at=utcnow())
                .on_conflict_do_nothing(index_elements=["key"])
            )
            stored = session.scalar(
                select(RateLimitState.state).where(RateLimitState.key == self.key).with_for_update()
            )
            state: State = tuple(stored) if stored and len(stored) == len(rates) else tuple(initial)
            new_state, decision = algorithm.step(rates, state, now, weight)
            if decision.allowed:
                session.execute(
                    update(RateLimitState)
                    .where(RateLimitState.key == self.key)
                    .values(
                        state=[int(t) for t in new_state],
                        expires_at=datetime.fromtimestamp(max(new_state) / 1e6, UTC),
                    )
                )
            return decision

    def read(self, algorithm: StateAlgorithm, rates: list[Rate]) -> State:
        with transaction(self.sessions) as session:
            stored = session.scalar(
                select(RateLimitState.state).where(RateLimitState.key == self.key)
            )
        return tuple(stored) if stored and len(stored) == len(rates) else algorithm.initial(rates)

    def reset(self) -> None:
        with transaction(self.sessions) as session:
            session.execute(delete(RateLimitState).where(RateLimitState.key == self.key))


def purge_expired(sessions: sessionmaker[Session]) -> int:
    """Delete the rows of keys whose budget is full again; how many went."""
    with transaction(sessions) as session:
        result: Any = session.execute(
            delete(RateLimitState).where(RateLimitState.expires_at < utcnow())
        )
        return int(result.rowcount or 0)


class RateLimiter:
    """``burst`` requests at once per key, refilled at ``per_minute``.

    ``shared``: keep the budgets in the database (PostgreSQL), else in this process.
    """

    def __init__(
        self,
        namespace: str,
        *,
        per_minute: int,
        burst: int,
        shared: bool,
        clock: AbstractClock = CLOCK,
    ) -> None:
        self.namespace = namespace
        self.clock = clock
        self.rate = Rate(per_minute, Duration.MINUTE, burst=burst)
        self.shared = shared
        self._memory: dict[str, InMemoryStateStore] = {}
        self._lock = threading.Lock()
        self._checks = 0

    def wait(self, key: str, sessions: Callable[[], sessionmaker[Session]]) -> float:
        """0 when a request under ``key`` may go ahead (and is counted), else seconds to wait.

        ``sessions`` gives the database's session factory (asked only when shared).
        """
        store: StateStore
        if self.shared:
            factory = sessions()
            store = DatabaseStateStore(factory, f"{self.namespace}:{key}"[:200])
            with self._lock:
                self._checks += 1
                sweep = self._checks % PURGE_EVERY == 0
            if sweep:
                purge_expired(factory)
        else:
            store = self._memory_store(key)
        now = self.clock.now()
        assert isinstance(now, int)  # noqa: S101 - a synchronous clock
        bucket = StateBucket([self.rate], GCRA(), store, clock=self.clock)
        decision = bucket.put_decision(RateItem(key, now, 1))
        if isinstance(decision, Decision) and decision.allowed:
            return 0.0
        retry_ms = decision.retry_after_ms if isinstance(decision, Decision) else None
        return max(0.001, (retry_ms or 1000) / 1000)

    def _memory_store(self, key: str) -> InMemoryStateStore:
        with self._lock:
            store = self._memory.get(key)
            if store is None:
                if len(self._memory) >= MEMORY_KEYS:
                    self._forget_idle()
                store = self._memory[key] = InMemoryStateStore()
            return store

    def _forget_idle(self) -> None:
        now = self.clock.now()
        assert isinstance(now, int)  # noqa: S101 - a synchronous clock
        now_us = now * 1000
        idle = [
            key
            for key, store in self._memory.items()
            if max(store.read(GCRA(), [self.rate]), default=0) <= now_us  # type: ignore[no-untyped-call]
        ]
        for key in idle or list(self._memory)[: MEMORY_KEYS // 10]:
            del self._memory[key]


_APP_LIMITERS_LOCK = threading.Lock()


def app_limiter(
    app_state: Any, namespace: str, *, per_minute: int, burst: int, shared: bool
) -> RateLimiter:
    """The application's one limiter for ``namespace``, made on first use.

    Kept in ``app_state`` (the app's ``state``), so that every request of the app spends
    from the same budgets and a test's new app starts with fresh ones.
    """
    with _APP_LIMITERS_LOCK:
        limiters: dict[str, RateLimiter] | None = getattr(app_state, "rate_limiters", None)
        if limiters is None:
            limiters = app_state.rate_limiters = {}
        limiter = limiters.get(namespace)
        if limiter is None:
            limiter = limiters[namespace] = RateLimiter(
                namespace, per_minute=per_minute, burst=burst, shared=shared
            )
        return limiter
