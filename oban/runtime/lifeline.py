"""The lifeline: the leader recovers jobs left executing by producers that are gone.

A job runs on a live producer for as long as it takes: only jobs whose producer stopped
heartbeating (or was retired at shutdown with jobs still running) are rescued, at the next pass
after its row goes stale. Claims by nodes that never heartbeat here (another implementation on
the same table, or rows long pruned) fall back to time: rescued once executing for longer than
``rescue_after``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from .. import telemetry
from .._time import utcnow
from ..engines.protocol import Engine
from ._periodic import Periodic

log = logging.getLogger("oban.lifeline")

DEFAULTS: dict[str, float | None] = {"interval": None, "rescue_after": 3600.0}
"""``interval`` ``None`` means half the heartbeat interval (2.5 s by default)."""


def lifeline(engine: Engine, *, interval: float, rescue_after: float, when: Callable[[], bool]) -> Periodic:
    """Every ``interval`` s while ``when()``: rescue orphaned jobs (``Engine.rescue_jobs``), back to
    available or discarded when out of attempts, with the rescue recorded in their errors."""
    if rescue_after <= 0:
        raise ValueError(f"lifeline rescue_after must be positive seconds, got {rescue_after!r}")

    async def rescue() -> None:
        now = utcnow()
        with telemetry.span("oban.lifeline.rescue", {"rescue_after": rescue_after}) as span:
            rescued, discarded = await engine.rescue_jobs(now, now - timedelta(seconds=rescue_after))
            span.add({"rescued_count": rescued, "discarded_count": discarded})
        if rescued or discarded:
            log.warning("lifeline rescued %d orphaned jobs and discarded %d", rescued, discarded)

    return Periodic("lifeline", interval, rescue, when=when, first_delay=1.0)
