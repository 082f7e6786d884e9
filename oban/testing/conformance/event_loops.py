"""Event loops: one engine object serves whichever event loop calls it, one loop after another.

Code that runs ``asyncio.run(...)`` per request or per script step, a test framework with a loop
per test, and threads with loops of their own all reach one engine from several loops in turn.
Each call must work, whether the loop the engine used before is closed or still running.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

import pytest

from ...engines.protocol import Engine
from ...job import Job, JobState
from ._helpers import Inbox, ack, claim, eventually, insert, reload


async def _round_trip(engine: Engine, n: int) -> Job:
    """Insert, read back, list, claim and complete one job: every kind of call, on this loop."""
    job = await insert(engine, queue=f"loop-{n}", args={"n": n})
    assert (await reload(engine, job)).args == {"n": n}
    assert [found.id for found in await engine.list_jobs(queue=f"loop-{n}")] == [job.id]
    [claimed] = await claim(engine, queue=f"loop-{n}")
    assert await engine.ack_jobs([ack(claimed, JobState.COMPLETED)]) == [claimed.id]
    return await reload(engine, job)


async def _hears_itself(engine: Engine, n: int) -> None:
    inbox = Inbox()
    await engine.listen(inbox)
    await engine.notify("signal", [{"loop": n}])
    await eventually(lambda: inbox.received("signal", loop=n), within=10.0)
    await engine.unlisten(inbox)


def _on_new_loop(work: Coroutine[Any, Any, Any]) -> Any:
    """Run ``work`` the way a script or a sync view would: ``asyncio.run`` in a thread of its own."""
    return asyncio.run(work)


class _LoopThread:
    """An event loop running in a thread, alive until ``stop()``."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="conformance-loop", daemon=True)
        self._thread.start()

    async def run(self, work: Coroutine[Any, Any, Any]) -> Any:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self.loop))

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@pytest.mark.asyncio
class TestEventLoops:
    async def test_one_closed_loop_after_another(self, oban_engine: Engine) -> None:
        # Given an engine connected on this test's loop,
        await insert(oban_engine)
        # when three loops in turn use it, each closed when its work is done,
        for n in range(3):
            stored = await asyncio.to_thread(_on_new_loop, _round_trip(oban_engine, n))
            # then every call on every loop works,
            assert stored.state is JobState.COMPLETED
        # and so do calls back on the first loop, still running all along.
        assert (await _round_trip(oban_engine, 3)).state is JobState.COMPLETED

    async def test_notifications_on_each_new_loop(self, oban_engine: Engine) -> None:
        await _hears_itself(oban_engine, 0)
        for n in range(1, 3):
            await asyncio.to_thread(_on_new_loop, _hears_itself(oban_engine, n))
        await _hears_itself(oban_engine, 3)

    async def test_a_thread_with_its_own_running_loop(self, oban_engine: Engine) -> None:
        # Given an engine used on this loop, and a second loop alive in another thread,
        first = await _round_trip(oban_engine, 0)
        other = _LoopThread()
        try:
            # when the second loop uses it, then this one again, then the second again,
            second = await other.run(_round_trip(oban_engine, 1))
            third = await _round_trip(oban_engine, 2)
            fourth = await other.run(_round_trip(oban_engine, 3))
        finally:
            other.stop()
        # then every call worked, and the jobs are all there from this loop.
        jobs = [first, second, third, fourth]
        assert all(job.state is JobState.COMPLETED for job in jobs)
        listed = await oban_engine.list_jobs(states=[JobState.COMPLETED])
        assert {job.id for job in jobs} <= {job.id for job in listed}

    async def test_close_from_a_new_loop(self, oban_engine: Engine) -> None:
        await insert(oban_engine)
        await asyncio.to_thread(_on_new_loop, oban_engine.close())
        job = await insert(oban_engine)
        assert (await reload(oban_engine, job)).state is JobState.AVAILABLE
