"""Notifications through a table, for databases without pub/sub: one algorithm for every engine.

Each engine appends ``(id, channel, payload, sender)`` rows and every listening engine polls
them through a ``PollSource``. Ids are taken at insert but rows may become visible at
commit, out of id order (MySQL), so ids skipped over are remembered as gaps and asked for again
until ``gap_timeout`` passes. Ids must only grow: a table that hands out an id again (SQLite
without ``AUTOINCREMENT``) would hide new rows behind the cursor. Rows this process wrote and the
in-process hub delivered already are skipped by their ``sender``. Old rows are pruned by every
poller now and then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from ..._json import decode
from ..._tasks import cancel_and_wait
from ...backoff import Backoff

log = logging.getLogger("oban.notifier")

Deliver = Callable[[str, dict[str, Any]], None]
Row = tuple[int, str, str, str]


class PollSource(Protocol):
    """How a ``TablePoller`` reads and prunes one engine's notification table."""

    async def latest_ids(self, limit: int) -> Sequence[int]:
        """The newest ``limit`` ids in the table, any order."""

    async def rows_after(self, cursor: int, gaps: Sequence[int], limit: int) -> Sequence[Row]:
        """Rows with ``id > cursor`` or ``id in gaps``, ascending by id, at most ``limit``."""

    async def prune(self, older_than: float) -> None:
        """Delete rows inserted more than ``older_than`` seconds ago."""

    async def close(self) -> None:
        """Release what reading needed (a dedicated connection, say); reading may reopen it."""


class TablePoller:
    """Polls a notification table every ``interval`` seconds and hands new rows to ``deliver``."""

    def __init__(
        self,
        source: PollSource,
        *,
        sender: str,
        deliver: Deliver,
        interval: float,
        retention: float = 60.0,
        gap_timeout: float = 10.0,
        prune_interval: float = 10.0,
        batch: int = 1000,
        max_gaps: int = 1000,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"poll interval must be positive seconds, got {interval!r}")
        self._source = source
        self._sender = sender
        self._deliver = deliver
        self.interval = interval
        self._retention = retention
        self._gap_timeout = gap_timeout
        self._prune_interval = prune_interval
        self._batch = batch
        self._max_gaps = max_gaps
        self._cursor = 0
        self._gaps: dict[int, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._next_prune = 0.0
        self.failures = 0

    async def start(self) -> None:
        """Find where the table ends now, then poll in the background; raises if the database fails."""
        try:
            ids = sorted(await self._source.latest_ids(200))
        except BaseException:
            await self._source.close()
            raise
        if ids:
            # Ids below the newest that are not there yet may belong to transactions still
            # committing: wait for them like for any other gap.
            deadline = time.monotonic() + self._gap_timeout
            present = set(ids)
            self._gaps = {i: deadline for i in range(ids[0] + 1, ids[-1]) if i not in present}
            self._cursor = ids[-1]
        self._next_prune = time.monotonic() + self._prune_interval
        self._task = asyncio.create_task(self._run(), name="oban-notification-poller")

    async def stop(self) -> None:
        """Stop polling and release the source."""
        task, self._task = self._task, None
        await cancel_and_wait(task)
        await self._source.close()

    @property
    def source(self) -> PollSource:
        """What this poller reads."""
        return self._source

    def abandon(self) -> None:
        """Stop polling without awaiting, for a poller whose event loop is gone or busy elsewhere.

        The source is left as it is: its engine drops that loop's connections itself.
        """
        task, self._task = self._task, None
        if task is not None:
            with contextlib.suppress(RuntimeError):  # a closed loop cannot schedule the cancel
                task.cancel()

    async def _run(self) -> None:
        backoff = Backoff(self.interval, max(5.0, self.interval))
        while True:
            try:
                more = await self.poll()
                backoff.reset()
                if not more:
                    await asyncio.sleep(self.interval)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.failures += 1
                delay = backoff.next()
                await self._source.close()
                log.warning("polling notifications failed, retrying in %.2fs: %r", delay, error)
                await asyncio.sleep(delay)

    async def poll(self) -> bool:
        """Deliver rows committed since the last poll; True if a full batch came (more may wait)."""
        now = time.monotonic()
        self._gaps = {i: deadline for i, deadline in self._gaps.items() if deadline > now}
        rows = await self._source.rows_after(self._cursor, sorted(self._gaps), self._batch)
        deadline = now + self._gap_timeout
        for row_id, channel, payload, sender in rows:
            if row_id in self._gaps:
                del self._gaps[row_id]
            elif row_id > self._cursor:
                for missing in range(self._cursor + 1, row_id):
                    self._gaps[missing] = deadline
                self._cursor = row_id
            else:
                continue
            if sender == self._sender:
                continue
            self._deliver(channel, decode(payload, {}))
        if len(self._gaps) > self._max_gaps:
            for stale in sorted(self._gaps)[: len(self._gaps) - self._max_gaps]:
                del self._gaps[stale]
        if now >= self._next_prune:
            self._next_prune = now + self._prune_interval
            await self._source.prune(self._retention)
        return len(rows) >= self._batch
