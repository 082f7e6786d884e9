"""The pruner: the leader deletes finished jobs once they are older than ``max_age``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from .. import telemetry
from .._time import utcnow
from ..engines.protocol import Engine
from ._periodic import Periodic

log = logging.getLogger("oban.pruner")

DEFAULTS = {"max_age": 60.0, "interval": 30.0, "limit": 10_000}


def pruner(engine: Engine, *, max_age: float, interval: float, limit: int, when: Callable[[], bool]) -> Periodic:
    """Every ``interval`` s while ``when()``: delete up to ``limit`` completed, cancelled or
    discarded jobs that finished more than ``max_age`` s ago."""

    async def prune() -> None:
        with telemetry.span("oban.pruner.prune", {"max_age": max_age, "limit": limit}) as span:
            pruned = await engine.prune_jobs(utcnow() - timedelta(seconds=max_age), limit)
            span.add({"pruned_count": pruned})
        if pruned:
            log.debug("pruned %d jobs", pruned)

    return Periodic("pruner", interval, prune, when=when)
