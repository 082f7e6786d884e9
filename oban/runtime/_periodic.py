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

    A failure is logged and the next call waits longer (doubling up to a minute), so a database
    outage is ridden out without a storm of retries.
    """

    def __init__(
        self,
        name: str,
        interval: float,
        work: Callable[[], Awaitable[object]],
        *,
        when: Callable[[], bool] = lambda: True,
        first_delay: float | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"{name} interval must be positive, got {interval!r}")
        self.name = name
        self.interval = interval
        self._work = work
        self._when = when
        self._first_delay = interval if first_delay is None else first_delay
        self._task: asyncio.Task[None] | None = None
        self._kick = asyncio.Event()
        self._backoff = Backoff(interval * 2, max(60.0, interval * 2))

    def start(self) -> None:
        """Begin the loop."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=f"oban-{self.name}")

    def kick(self) -> None:
        """Run the work now instead of at the next tick."""
        self._kick.set()

    async def stop(self) -> None:
        """Cancel the loop and wait for it to end."""
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def _loop(self) -> None:
        delay = self._first_delay
        while True:
            try:
                async with asyncio.timeout(delay):
                    await self._kick.wait()
            except TimeoutError:
                pass
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
