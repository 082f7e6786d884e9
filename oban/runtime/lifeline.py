"""The lifeline: the leader recovers jobs left executing by nodes that died."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from .._time import utcnow
from ..engines.protocol import Engine
from ._periodic import Periodic

log = logging.getLogger("oban.lifeline")

DEFAULTS = {"interval": 60.0, "rescue_after": 3600.0}


def lifeline(engine: Engine, *, interval: float, rescue_after: float, when: Callable[[], bool]) -> Periodic:
    """Every ``interval`` s while ``when()``: jobs executing for over ``rescue_after`` s go back to
    available (or are discarded when out of attempts), with the rescue recorded in their errors."""

    async def rescue() -> None:
        now = utcnow()
        rescued, discarded = await engine.rescue_jobs(now - timedelta(seconds=rescue_after), now)
        if rescued or discarded:
            log.warning("lifeline rescued %d orphaned jobs and discarded %d", rescued, discarded)

    return Periodic("lifeline", interval, rescue, when=when, first_delay=1.0)
