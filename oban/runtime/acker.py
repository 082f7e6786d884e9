"""Gather finished jobs' acks and write them in batches, retrying until the database takes them."""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from .. import telemetry
from ..backoff import Backoff
from ..engines.protocol import Ack, Engine

log = logging.getLogger("oban.acker")


class Acker:
    """Writes acks in batches; a database error keeps the batch and retries it with backoff."""

    def __init__(self, engine: Engine, *, batch_size: int = 1000) -> None:
        self._engine = engine
        self._batch_size = batch_size
        self._pending: deque[Ack] = deque()
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def add(self, ack: Ack) -> None:
        """Queue an ack for the next batch."""
        self._pending.append(ack)
        self._idle.clear()
        self._ready.set()

    @property
    def pending(self) -> int:
        """Acks not yet written."""
        return len(self._pending)

    def start(self) -> None:
        """Begin writing acks in the background."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="oban-acker")

    async def _run(self) -> None:
        backoff = Backoff(0.05, 5.0)
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._pending:
                batch = [self._pending.popleft() for _ in range(min(self._batch_size, len(self._pending)))]
                try:
                    with telemetry.span("oban.producer.ack", {"count": len(batch)}) as span:
                        acked = await self._engine.ack_jobs(batch)
                        span.add({"acked_count": len(acked)})
                    backoff.reset()
                except Exception as error:
                    self._pending.extendleft(reversed(batch))
                    delay = backoff.next()
                    log.warning("writing %d acks failed, retrying in %.2fs: %r", len(batch), delay, error)
                    await asyncio.sleep(delay)
            self._idle.set()
            if self._stopping:
                return

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until every queued ack is written; False if ``timeout`` passed first."""
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def stop(self, timeout: float | None = None) -> None:
        """Write what is queued (up to ``timeout``), then stop; unwritten acks are logged."""
        if self._task is None:
            return
        await self.drain(timeout)
        self._stopping = True
        self._ready.set()
        task, self._task = self._task, None
        if self._pending:
            task.cancel()
            log.error("stopping with %d acks unwritten; their jobs stay executing until rescued", len(self._pending))
        try:
            await task
        except asyncio.CancelledError:
            pass
