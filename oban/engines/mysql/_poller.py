"""Cross-node notifications on MySQL: nodes append rows to ``oban_notifications`` and poll them.

MySQL has no LISTEN/NOTIFY. Each listening engine keeps one connection of its own and, every
``interval`` seconds, reads the rows after the last id it saw. Ids are taken at insert but rows
appear at commit, so a row may turn up after a higher id was read: the ids skipped over are
remembered as gaps and asked for again until ``gap_timeout`` passes. Rows this process wrote and
already delivered in-process are skipped by their ``sender``. Old rows are pruned by every poller.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ... import _json
from ..._tasks import cancel_and_wait

log = logging.getLogger("oban.engines.mysql")

Deliver = Callable[[str, dict[str, Any]], None]


class NotificationPoller:
    """Polls ``oban_notifications`` on its own connection and hands new rows to ``deliver``."""

    def __init__(
        self,
        *,
        connect: Callable[[], Awaitable[Any]],
        queries: dict[str, str],
        sender: str,
        deliver: Deliver,
        interval: float,
        retention: float = 60.0,
        gap_timeout: float = 10.0,
        prune_interval: float = 10.0,
        batch: int = 1000,
        max_gaps: int = 1000,
    ) -> None:
        self._connect = connect
        self._q = queries
        self._sender = sender
        self._deliver = deliver
        self.interval = interval
        self._retention = retention
        self._gap_timeout = gap_timeout
        self._prune_interval = prune_interval
        self._batch = batch
        self._max_gaps = max_gaps
        self._conn: Any = None
        self._cursor = 0
        self._gaps: dict[int, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._next_prune = 0.0
        self.failures = 0
        self.delivered = 0

    async def start(self) -> None:
        """Find where the table ends now, then poll in the background; raises if the database fails."""
        try:
            rows = await self._fetch(self._q["recent_notifications"], {"limit": 200})
        except BaseException:
            await self._disconnect()
            raise
        ids = sorted(row[0] for row in rows)
        if ids:
            # Ids below the newest that are not there yet may belong to transactions still
            # committing: wait for them like for any other gap.
            deadline = time.monotonic() + self._gap_timeout
            present = set(ids)
            self._gaps = {i: deadline for i in range(ids[0] + 1, ids[-1]) if i not in present}
            self._cursor = ids[-1]
        self._next_prune = time.monotonic() + self._prune_interval
        self._task = asyncio.create_task(self._run(), name="oban-mysql-notifications")

    async def stop(self) -> None:
        """Stop polling and close the connection."""
        task, self._task = self._task, None
        await cancel_and_wait(task)
        await self._disconnect()

    async def _run(self) -> None:
        delay = self.interval
        while True:
            try:
                more = await self.poll()
                delay = self.interval
                if more:
                    continue
                await asyncio.sleep(self.interval)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.failures += 1
                await self._disconnect()
                log.warning("polling notifications failed, retrying in %.2fs: %r", delay, error)
                await asyncio.sleep(delay)
                delay = min(max(delay * 2, 0.1), 5.0)

    async def poll(self) -> bool:
        """Deliver rows committed since the last poll; True if a full batch came (more may wait)."""
        now = time.monotonic()
        self._gaps = {i: deadline for i, deadline in self._gaps.items() if deadline > now}
        gaps = tuple(sorted(self._gaps)) or (0,)
        rows = await self._fetch(
            self._q["poll_notifications"], {"cursor": self._cursor, "gaps": gaps, "limit": self._batch}
        )
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
            self.delivered += 1
            self._deliver(channel, _json.decode(payload, {}))
        if len(self._gaps) > self._max_gaps:
            for stale in sorted(self._gaps)[: len(self._gaps) - self._max_gaps]:
                del self._gaps[stale]
        if now >= self._next_prune:
            self._next_prune = now + self._prune_interval
            await self._fetch(self._q["prune_notifications"], {"age": self._retention, "limit": 10_000})
        return len(rows) >= self._batch

    async def _fetch(self, sql: str, params: dict[str, Any]) -> Any:
        if self._conn is None:
            self._conn = await self._connect()
        async with self._conn.cursor() as cursor:
            await cursor.execute(sql, params)
            return await cursor.fetchall()

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
