"""Running jobs: results, retries, timeouts, the current job, as oban-py's workers see them."""

from __future__ import annotations

import asyncio

from oban import Cancel, JobState, Record, Snooze, current_job, worker
from oban.errors import JobTimeoutError
from tests.support import wait_until

SEEN: list[object] = []


@worker(queue="default")
class Results:
    async def process(self, job):  # type: ignore[no-untyped-def]
        kind = job.args["kind"]
        if kind == "snooze":
            return Snooze(60, meta={"waiting_for": "upstream"})
        if kind == "cancel":
            return Cancel("not wanted")
        if kind == "record":
            return Record({"total": 42})
        if kind == "fail":
            raise RuntimeError("boom")
        return {"ignored": True}


@worker(queue="default", max_attempts=2)
class Slow:
    async def process(self, job):  # type: ignore[no-untyped-def]
        await asyncio.sleep(5)

    def timeout(self, job):  # type: ignore[no-untyped-def]
        return 0.05

    def backoff(self, job):  # type: ignore[no-untyped-def]
        return 1


@worker(queue="default")
class WhoAmI:
    async def process(self, job):  # type: ignore[no-untyped-def]
        SEEN.append(current_job())


@worker(queue="default")
class WhoAmISync:
    def process(self, job):  # type: ignore[no-untyped-def]
        SEEN.append(current_job())


async def _settle(oban, jobs, states):  # type: ignore[no-untyped-def]
    async def done() -> bool:
        stored = [await oban.get_job(j.id) for j in jobs]
        return all(job.state in states for job in stored)

    await wait_until(done)
    return [await oban.get_job(j.id) for j in jobs]


async def test_each_result_type_lands_its_job_in_the_right_state(oban_instance):
    oban = oban_instance(queues={"default": 5}, stager={"interval": 0.1})
    jobs = await oban.enqueue_many(Results.new({"kind": k}) for k in ("snooze", "cancel", "record", "fail", "value"))
    async with oban:
        snoozed, cancelled, recorded, failed, valued = await _settle(
            oban, jobs, {JobState.SCHEDULED, JobState.CANCELLED, JobState.COMPLETED, JobState.RETRYABLE}
        )
    assert snoozed.state == JobState.SCHEDULED and snoozed.meta["snoozed"] == 1
    assert snoozed.meta["waiting_for"] == "upstream" and snoozed.attempt == 0
    assert cancelled.state == JobState.CANCELLED and "not wanted" in cancelled.errors[-1]["error"]
    assert recorded.state == JobState.COMPLETED and recorded.meta["recorded"] is True
    assert recorded.recorded == {"total": 42}
    assert failed.state == JobState.RETRYABLE and "RuntimeError: boom" in failed.errors[-1]["error"]
    assert failed.errors[-1]["attempt"] == 1 and failed.scheduled_at > failed.attempted_at
    assert valued.state == JobState.COMPLETED


async def test_a_job_past_its_timeout_fails_with_a_timeout_error(oban_instance):
    assert issubclass(JobTimeoutError, TimeoutError)
    oban = oban_instance(queues={"default": 1}, stager={"interval": 0.1})
    job = await oban.enqueue(Slow.new({}))
    async with oban:
        [stored] = await _settle(oban, [job], {JobState.RETRYABLE, JobState.DISCARDED})
    assert "JobTimeoutError" in stored.errors[0]["error"] and "timeout" in stored.errors[0]["error"]


async def test_current_job_is_the_running_job_in_async_and_sync_workers(oban_instance):
    SEEN.clear()
    oban = oban_instance(queues={"default": 2}, stager={"interval": 0.1})
    jobs = await oban.enqueue_many(WhoAmI.new({"n": 1}), WhoAmISync.new({"n": 2}))
    async with oban:
        await _settle(oban, jobs, {JobState.COMPLETED})
    assert sorted(job.args["n"] for job in SEEN) == [1, 2]
    assert current_job() is None
