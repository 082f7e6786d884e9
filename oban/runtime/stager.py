"""The stager: the leader makes due scheduled and retryable jobs available and wakes their queues."""

from __future__ import annotations

from collections.abc import Callable

from .. import telemetry
from .._time import utcnow
from ..engines.protocol import Engine
from ._periodic import Periodic


def stager(engine: Engine, *, interval: float, limit: int, when: Callable[[], bool]) -> Periodic:
    """Every ``interval`` s while ``when()``: stage up to ``limit`` due jobs, notify their queues."""

    async def stage() -> None:
        with telemetry.span("oban.stager.stage", {"limit": limit}) as span:
            queues = await engine.stage_jobs(utcnow(), limit)
            span.add({"available_queues": queues})
        if queues:
            await engine.notify("insert", [{"queue": queue} for queue in queues])

    return Periodic("stager", interval, stage, when=when, first_delay=0.01)
