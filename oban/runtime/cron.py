"""The cron loop: at the top of every minute, the leader inserts the jobs of the entries due."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from .. import telemetry
from .._tasks import cancel_and_wait
from .._time import utcnow
from ..cron import CronEntry
from ..job import Job

log = logging.getLogger("oban.cron")

_MAX_CATCH_UP = 60


class Cron:
    """At the top of each minute, if this node leads, insert the jobs of the entries due."""

    def __init__(
        self,
        entries: Iterable[CronEntry],
        insert: Callable[[list[Job]], Awaitable[list[Job]]],
        *,
        when: Callable[[], bool],
    ) -> None:
        self.entries = list(entries)
        names = [entry.name for entry in self.entries]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"cron entries share the name(s) {duplicates!r}; give each a distinct 'name'")
        self._insert = insert
        self._when = when
        self._task: asyncio.Task[None] | None = None

    async def evaluate(self, at: datetime) -> list[Job]:
        """Insert the jobs of every entry due in the minute of ``at``; return what was stored."""
        with telemetry.span("oban.scheduler.evaluate", {"cron_at": at}) as span:
            due = [entry.build_job(at) for entry in self.entries if entry.is_due(at)]
            inserted = await self._insert(due) if due else []
            span.add(
                {
                    "enqueued_count": sum(1 for job in inserted if not job.conflict),
                    "jobs": [job for job in inserted if not job.conflict],
                }
            )
        return inserted

    def start(self) -> None:
        """Begin evaluating at each minute boundary."""
        if self.entries and self._task is None:
            self._task = asyncio.create_task(self._loop(), name="oban-cron")

    async def stop(self) -> None:
        """Stop evaluating."""
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def _loop(self) -> None:
        # Every minute boundary is evaluated once, even when the loop wakes late (a busy event
        # loop, a suspended host): minutes missed meanwhile are caught up, up to an hour of them.
        last = utcnow().replace(second=0, microsecond=0)
        while True:
            now = utcnow()
            next_minute = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
            await asyncio.sleep((next_minute - now).total_seconds() + 0.001)
            current = utcnow().replace(second=0, microsecond=0)
            minutes = []
            while last < current:
                last += timedelta(minutes=1)
                minutes.append(last)
            if not self._when():
                continue
            for minute in minutes[-_MAX_CATCH_UP:]:
                try:
                    inserted = await self.evaluate(minute)
                except Exception as error:
                    log.warning("inserting cron jobs for %s failed: %r", minute.isoformat(), error)
                    continue
                for job in inserted:
                    if not job.conflict:
                        log.debug("cron inserted job %s for %s", job.id, job.meta.get("cron_name"))
