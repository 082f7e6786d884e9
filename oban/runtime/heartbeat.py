"""Heartbeats: every few seconds a node records its producers, so the cluster knows it is alive.

Each producer's row in ``oban_producers`` carries its queue, limit, pause state, running job ids
and a ``ttl`` of two intervals; a row not refreshed within its ttl is stale, and the leader's
lifeline rescues the jobs its producer left executing. A stopping producer keeps heartbeating
until its last job has finished, then is retired, so nothing still running is rescued.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from .. import telemetry
from .._time import utcnow
from ..engines.protocol import Engine
from ._periodic import Periodic
from .producer import Producer

log = logging.getLogger("oban.heartbeat")


class Heartbeat:
    """Records ``producers()`` every ``interval`` seconds; each row lives ``2 * interval``."""

    def __init__(self, engine: Engine, producers: Callable[[], Iterable[Producer]], *, interval: float) -> None:
        if interval <= 0:
            raise ValueError(f"heartbeat interval must be positive, got {interval!r}")
        self._engine = engine
        self._producers = producers
        self.interval = interval
        self.ttl = 2 * interval
        # Retrying sooner than the ttl matters more than sparing a struggling database: a node
        # whose rows go stale has its running jobs rescued, and run twice.
        self._loop = Periodic("heartbeat", interval, self.beat, max_backoff=interval)

    async def beat(self, producers: Iterable[Producer] | None = None) -> None:
        """Record ``producers`` (all of this node's by default) now."""
        now = utcnow()
        chosen = self._producers() if producers is None else producers
        records = [producer.record(now, self.ttl) for producer in chosen]
        if records:
            with telemetry.span("oban.refresher.refresh", {"interval": self.interval}) as span:
                await self._engine.record_producers(records)
                span.add({"refreshed_count": len(records), "queues": [record.queue for record in records]})

    async def retire(self, producers: Iterable[Producer]) -> None:
        """Mark stopped producers' rows stale, so jobs they left executing are rescued at once."""
        uuids = [producer.uuid for producer in producers]
        if uuids:
            try:
                await self._engine.retire_producers(uuids, utcnow())
            except Exception as error:
                log.warning("retiring producers failed; their rows go stale within %.0fs: %r", self.ttl, error)

    def start(self) -> None:
        """Begin beating in the background."""
        self._loop.start()

    async def stop(self) -> None:
        """Stop beating (the rows go stale unless retired)."""
        await self._loop.stop()
