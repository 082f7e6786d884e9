"""A background loop that runs one piece of work on an interval and survives its failures."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from .._tasks import cancel_and_wait
from ..backoff import Backoff

log = logging.getLogger("oban.runtime")


class Periodic:
    """Calls ``work()`` every ``interval`` seconds while ``when()`` is true.

    A failure is logged and the next call waits longer (doubling up to ``max_backoff``, a minute
    by default), so a database outage is ridden out without a storm of retries.
    """

    def __init__(
        self,
        name: str,
        interval: float,
        work: Callable[[], Awaitable[object]],
        *,
        when: Callable[[], bool] = lambda: True,
        first_delay: float | None = None,
        max_backoff: float | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"{name} interval must be positive, got {interval!r}")
        self.name = name
        self.interval = interval
        self._work = work
        self._when = when
        self._first_delay = interval if first_delay is None else first_delay
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._kick = asyncio.Event()
        cap = max(60.0, interval * 2) if max_backoff is None else max(max_backoff, interval)
        self._backoff = Backoff(min(interval * 2, cap), cap)

    def start(self) -> None:
        """Begin the loop."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._loop(), name=f"oban-{self.name}")

    def kick(self) -> None:
        """Run the work now instead of at the next tick."""
        self._kick.set()

    async def stop(self) -> None:
        """Cancel the loop and wait for it to end."""
        # The flag and the kick end the loop even when a cancellation lands as its wait times
        # out, which Python 3.11's asyncio.timeout can swallow.
        self._stopping = True
        self._kick.set()
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def _loop(self) -> None:
        delay = self._first_delay
        while not self._stopping:
            try:
                async with asyncio.timeout(delay):
                    await self._kick.wait()
            except TimeoutError:
                pass
            if self._stopping:
                return
            self._kick.clear()
            delay = self.interval
            if not self._when():
                continue
            try:
                await self._work()
            except Exception as error:
                delay = self._backoff.next()
                log.warning("%s failed, next try in %.1fs: %r", self.name, delay, error)
            else:
                self._backoff.reset()
