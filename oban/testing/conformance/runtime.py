"""The engine under the real runtime: jobs run once, failures retry, cancellation reaches workers."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest

from ...engines.protocol import Engine
from ...job import Job, JobState
from ...oban import Oban
from ...results import Record, Snooze
from ...worker import Worker, worker
from ._helpers import eventually, id_of, job_ids, reload

RUNS: list[tuple[str, Any]] = []


@worker(queue="conformance")
class RecordingWorker(Worker):
    """Appends its args to RUNS; fails while ``fail_until`` attempts are not reached."""

    async def process(self, job: Job) -> Snooze | Record | None:
        RUNS.append((job.args["tag"], job.id))
        if job.attempt < job.args.get("fail_until", 0):
            raise RuntimeError(f"planned failure {job.attempt}")
        if job.args.get("snooze") and not job.meta.get("snoozed"):
            return Snooze(0)
        if "record" in job.args:
            return Record(job.args["record"])
        if job.args.get("sleep"):
            await asyncio.sleep(job.args["sleep"])
        if job.args.get("wait_for_cancel"):
            for _ in range(500):
                if job.cancelled():
                    return None
                await asyncio.sleep(0.01)
        return None

    def backoff(self, job: Job) -> float:
        return 0


class _SlowFirstClaim:
    """An engine whose first claim that finds jobs returns half a second late, as a slow one would."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._slowed = False
        self.claimed = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    async def fetch_jobs(self, queue: str, demand: int, node: str, now: datetime, uuid: str | None = None) -> list[Job]:
        jobs: list[Job] = await self._engine.fetch_jobs(queue, demand, node, now, uuid)
        if jobs and not self._slowed:
            self._slowed = True
            self.claimed.set()
            await asyncio.sleep(0.5)
        return jobs


@pytest.mark.asyncio
class TestRuntime:
    async def test_inserted_jobs_run_exactly_once_and_complete(self, oban_engine: Engine) -> None:
        RUNS.clear()
        async with Oban(oban_engine, queues={"conformance": 5}, name="conformance-a", stage_interval=0.1) as oban:
            jobs = await oban.enqueue_many([RecordingWorker.new({"tag": f"once-{i}"}) for i in range(30)])

            async def all_done() -> bool:
                done = await oban_engine.list_jobs(states=[JobState.COMPLETED])
                return len(done) == 30

            await eventually(all_done)
        assert sorted(job_id for _, job_id in RUNS) == sorted(job_ids(jobs))

    async def test_a_failing_job_is_retried_until_it_succeeds(self, oban_engine: Engine) -> None:
        RUNS.clear()
        async with Oban(oban_engine, queues={"conformance": 2}, name="conformance-b", stage_interval=0.1) as oban:
            job = await oban.enqueue(RecordingWorker.new({"tag": "flaky", "fail_until": 3}))

            async def completed() -> bool:
                stored = await oban_engine.get_job(id_of(job))
                return stored is not None and stored.state is JobState.COMPLETED

            await eventually(completed)
        stored = await reload(oban_engine, job)
        assert stored.attempt == 3 and len(stored.errors) == 2
        assert "planned failure 1" in stored.errors[0]["error"]

    async def test_a_snoozed_job_runs_again_without_spending_an_attempt(self, oban_engine: Engine) -> None:
        RUNS.clear()
        async with Oban(oban_engine, queues={"conformance": 2}, name="conformance-c", stage_interval=0.1) as oban:
            job = await oban.enqueue(RecordingWorker.new({"tag": "snooze", "snooze": True}, max_attempts=1))

            async def completed() -> bool:
                stored = await oban_engine.get_job(id_of(job))
                return stored is not None and stored.state is JobState.COMPLETED

            await eventually(completed)
        stored = await reload(oban_engine, job)
        assert stored.meta["snoozed"] == 1 and stored.attempt == 1
        assert [tag for tag, _ in RUNS] == ["snooze", "snooze"]

    async def test_cancelling_an_executing_job_marks_it_and_tells_the_worker(self, oban_engine: Engine) -> None:
        RUNS.clear()
        async with Oban(oban_engine, queues={"conformance": 2}, name="conformance-d", stage_interval=0.1) as oban:
            job = await oban.enqueue(RecordingWorker.new({"tag": "long", "wait_for_cancel": True}))

            async def running() -> bool:
                info = oban.check_queue("conformance")
                return info is not None and job.id in info.running

            await eventually(running)
            assert await oban.cancel_job(job) == 1
            stored = await reload(oban_engine, job)
            assert stored.state is JobState.CANCELLED

            async def finished() -> bool:
                info = oban.check_queue("conformance")
                return info is not None and job.id not in info.running

            await eventually(finished)
        stored = await reload(oban_engine, job)
        assert stored.state is JobState.CANCELLED and stored.completed_at is None

    async def test_a_job_inserted_while_a_claim_is_in_flight_starts_without_waiting_for_a_poll(
        self, oban_engine: Engine
    ) -> None:
        RUNS.clear()
        slow = _SlowFirstClaim(oban_engine)
        # With a 30 s poll, only the insert notification can start the second job in time.
        async with Oban(slow, queues={"conformance": 5}, name="conformance-e", stage_interval=30) as oban:
            await asyncio.sleep(0.1)
            await oban.enqueue(RecordingWorker.new({"tag": "first"}))
            await asyncio.wait_for(slow.claimed.wait(), 10)
            await oban.enqueue(RecordingWorker.new({"tag": "second"}))

            async def both_done() -> bool:
                return len(await oban_engine.list_jobs(states=[JobState.COMPLETED])) == 2

            await eventually(both_done, within=5)
        assert sorted(tag for tag, _ in RUNS) == ["first", "second"]

    async def test_a_recorded_value_reads_back_exactly(self, oban_engine: Engine) -> None:
        RUNS.clear()
        value = {"a": None, "b": 1, "list": [None, {"c": None}]}
        async with Oban(oban_engine, queues={"conformance": 2}, name="conformance-f", stage_interval=0.1) as oban:
            job = await oban.enqueue(RecordingWorker.new({"tag": "record", "record": value}))

            async def completed() -> bool:
                stored = await oban_engine.get_job(id_of(job))
                return stored is not None and stored.state is JobState.COMPLETED

            await eventually(completed)
        assert (await reload(oban_engine, job)).recorded == value

    async def test_a_long_job_on_a_live_node_is_never_rescued(self, oban_engine: Engine) -> None:
        RUNS.clear()
        # Heartbeats every 0.2 s, rescue every 0.1 s, and a time-based fallback of 0.3 s: a job
        # running ten times longer than that must still run once.
        async with Oban(
            oban_engine,
            queues={"conformance": 1},
            name="conformance-g",
            stage_interval=0.1,
            heartbeat_interval=0.2,
            lifeline={"interval": 0.1, "rescue_after": 0.3},
        ) as oban:
            job = await oban.enqueue(RecordingWorker.new({"tag": "long", "sleep": 3}))

            async def completed() -> bool:
                stored = await oban_engine.get_job(id_of(job))
                return stored is not None and stored.state is JobState.COMPLETED

            await eventually(completed, within=20)
        stored = await reload(oban_engine, job)
        assert stored.attempt == 1 and stored.errors == []
        assert [tag for tag, _ in RUNS] == ["long"]
