"""Workers declared with ``executor="process"`` run in the node's child processes, on every engine.

The workers live in tests/process_workers.py, which each child imports by name.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

from oban import Job, JobState, Oban, WorkerCrashedError, job, worker
from tests import process_workers as pw
from tests.support import wait_until


def settled_in(oban: Oban, job: Job, *states: JobState) -> Any:
    async def check() -> bool:
        stored = await oban.get_job(job)
        return stored is not None and stored.state in states

    return check


async def run_to(oban: Oban, job: Job, *states: JobState) -> Job:
    await wait_until(settled_in(oban, job, *states), within=60)
    stored = await oban.get_job(job)
    assert stored is not None
    return stored


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class TestDeclaring:
    def test_an_async_worker_cannot_run_in_a_process(self):
        with pytest.raises(ValueError, match=r"executor='process' needs a plain def process"):

            @worker(executor="process")
            class AsyncCpu:
                async def process(self, job):  # type: ignore[no-untyped-def]
                    return None

    def test_an_async_function_cannot_run_in_a_process(self):
        async def fetch() -> None:
            return None

        with pytest.raises(ValueError, match=r"needs a plain def process"):
            job(executor="process")(fetch)

    def test_an_unknown_executor_is_named(self):
        with pytest.raises(ValueError, match=r"executor must be one of \['thread', 'process'\], got 'procs'"):

            @worker(executor="procs")
            class Typo:
                def process(self, job):  # type: ignore[no-untyped-def]
                    return None

    def test_a_worker_defined_in_a_function_cannot_run_in_a_process(self):
        with pytest.raises(ValueError, match=r"declare it at module level"):

            @worker(executor="process")
            class Local:
                def process(self, job):  # type: ignore[no-untyped-def]
                    return None

    def test_executor_is_not_a_job_option(self):
        built = pw.Returns.new({"kind": "none"})
        assert built.extra == {} and built.queue == "cpu"

    @pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
    def test_processes_must_be_a_positive_integer(self, bad):
        with pytest.raises(ValueError, match=rf"processes must be a positive integer .*got {bad!r}"):
            Oban(processes=bad, name="bad-processes")


class TestResults:
    async def test_each_kind_of_result_is_recorded_as_for_a_thread_worker(self, engine):
        async with Oban(engine, queues={"cpu": 4}, processes=2) as oban:
            record, snooze, cancel, none, other = await oban.enqueue_many(
                [pw.Returns.new({"kind": kind}) for kind in ("record", "snooze", "cancel", "none", "object")]
            )
            recorded = await run_to(oban, record, JobState.COMPLETED)
            snoozed = await run_to(oban, snooze, JobState.SCHEDULED)
            cancelled = await run_to(oban, cancel, JobState.CANCELLED)
            completed = await run_to(oban, none, JobState.COMPLETED)
            completed_other = await run_to(oban, other, JobState.COMPLETED)

        assert recorded.recorded["current"] == record.id  # current_job() works in the child
        assert recorded.recorded["pid"] != os.getpid()
        assert snoozed.meta["snoozed"] == 1 and snoozed.meta["why"] == "later" and snoozed.attempt == 0
        assert [e["error"] for e in cancelled.errors] == ["cancelled: not needed"]
        assert completed.errors == [] and completed.recorded is None
        assert completed_other.errors == []

    async def test_a_function_worker_runs_in_a_process(self, engine):
        async with Oban(engine, queues={"cpu": 1}, processes=1) as oban:
            queued = await pw.square.enqueue(12)
            done = await run_to(oban, queued, JobState.COMPLETED)
        assert done.recorded["square"] == 144 and done.recorded["pid"] != os.getpid()


class TestErrors:
    async def test_an_exception_is_recorded_with_the_childs_traceback(self, engine):
        async with Oban(engine, queues={"cpu": 1}, processes=1) as oban:
            queued = await oban.enqueue(pw.Raises.new({"n": 7}))
            failed = await run_to(oban, queued, JobState.DISCARDED)

        [entry] = failed.errors
        text = entry["error"]
        assert entry["attempt"] == 1
        assert text.startswith("Traceback (most recent call last):")
        assert "process_workers.py" in text and "raise ValueError" in text
        assert text.endswith("ValueError: bad input 7")
        assert "concurrent/futures" not in text  # the child's own frames, not the pool's plumbing

    async def test_an_exception_pickle_cannot_rebuild_keeps_its_traceback(self, engine):
        async with Oban(engine, queues={"cpu": 1}, processes=1) as oban:
            queued = await oban.enqueue(pw.Raises.new({"unpicklable": True}))
            failed = await run_to(oban, queued, JobState.DISCARDED)

        text = failed.errors[0]["error"]
        assert "raise Unpicklable(7" in text and text.endswith("Unpicklable: code 7: cannot cross")

    @pytest.mark.parametrize("how", ["exit", "segv"])
    async def test_a_crashed_child_fails_the_attempt_and_the_retry_succeeds(self, engine, tmp_path, how):
        async with Oban(engine, queues={"cpu": 2}, processes=2, stage_interval=0.05) as oban:
            # A job in the other process, running while its neighbour dies, must not notice.
            bystander = await oban.enqueue(pw.WaitsForFile.new({"dir": str(tmp_path), "until": "go"}))
            await wait_until(lambda: (tmp_path / f"started-{bystander.id}").exists(), within=30)
            crasher = await oban.enqueue(pw.CrashesOnce.new({"how": how}))
            retried = await run_to(oban, crasher, JobState.COMPLETED)
            (tmp_path / "go").touch()
            survived = await run_to(oban, bystander, JobState.COMPLETED)

        assert retried.attempt == 2 and retried.recorded["attempt"] == 2
        [crash] = retried.errors
        assert crash["attempt"] == 1
        assert WorkerCrashedError.__name__ in crash["error"] and "died before process() returned" in crash["error"]
        assert survived.attempt == 1 and survived.errors == [] and survived.recorded["gave_up"] is False


class TestTimeouts:
    async def test_a_timeout_kills_the_child_and_records_a_timeout_error(self, engine, tmp_path):
        async with Oban(engine, queues={"cpu": 1}, processes=1) as oban:
            slow = await oban.enqueue(
                pw.WaitsForFile.new({"dir": str(tmp_path), "until": "never", "timeout": 0.5}, max_attempts=1)
            )
            failed = await run_to(oban, slow, JobState.DISCARDED)
            pid = int((tmp_path / f"started-{slow.id}").read_text())
            await wait_until(lambda: not alive(pid), within=10)

            # The slot gets a new process: the next job runs.
            after = await oban.enqueue(pw.Returns.new({"kind": "record"}))
            ran = await run_to(oban, after, JobState.COMPLETED)

        assert "JobTimeoutError" in failed.errors[0]["error"]
        assert "exceeded its timeout of 0.5s" in failed.errors[0]["error"]
        assert ran.recorded["pid"] != pid

    async def test_waiting_for_a_free_process_does_not_count_against_the_timeout(self, engine, tmp_path):
        async with Oban(engine, queues={"cpu": 2}, processes=1) as oban:
            first = await oban.enqueue(pw.WaitsForFile.new({"dir": str(tmp_path), "until": "go"}))
            second = await oban.enqueue(
                pw.WaitsForFile.new({"dir": str(tmp_path), "until": "go", "timeout": 30}, max_attempts=1)
            )
            await wait_until(lambda: (tmp_path / f"started-{first.id}").exists(), within=30)
            # Both are claimed; the second waits for the only process, its clock not yet running.
            await wait_until(settled_in(oban, second, JobState.EXECUTING), within=10)
            assert not (tmp_path / f"started-{second.id}").exists()
            (tmp_path / "go").touch()
            done = await run_to(oban, second, JobState.COMPLETED, JobState.DISCARDED)

        assert done.state is JobState.COMPLETED and done.errors == []


class TestConcurrency:
    async def test_a_queue_runs_as_many_jobs_at_once_as_there_are_processes(self, engine, tmp_path):
        n = 2
        async with Oban(engine, queues={"cpu": n}, processes=n) as oban:
            jobs = await oban.enqueue_many([pw.Rendezvous.new({"dir": str(tmp_path), "n": n}) for _ in range(n)])
            done = [await run_to(oban, queued, JobState.COMPLETED) for queued in jobs]

        pids = {stored.recorded["pid"] for stored in done}
        assert len(pids) == n and os.getpid() not in pids
        assert [stored.recorded["seen"] for stored in done] == [n] * n  # each saw all n at once

    async def test_more_jobs_than_processes_reuse_the_same_children(self, engine):
        async with Oban(engine, queues={"cpu": 4}, processes=2) as oban:
            jobs = await oban.enqueue_many([pw.Returns.new({"kind": "record"}) for _ in range(8)])
            done = [await run_to(oban, queued, JobState.COMPLETED) for queued in jobs]
        assert len({stored.recorded["pid"] for stored in done}) <= 2


class TestShutdown:
    async def test_stop_waits_for_a_running_process_job_within_the_grace_period(self, engine, tmp_path):
        oban = Oban(engine, queues={"cpu": 1}, processes=1, shutdown_grace_period=30)
        await oban.start()
        running = await oban.enqueue(pw.WaitsForFile.new({"dir": str(tmp_path), "until": "go"}))
        await wait_until(lambda: (tmp_path / f"started-{running.id}").exists(), within=30)
        pid = int((tmp_path / f"started-{running.id}").read_text())

        stopping = asyncio.create_task(oban.stop())
        await asyncio.sleep(0.2)
        assert not stopping.done()  # stop() waits for the job
        (tmp_path / "go").touch()
        await stopping

        stored = await oban.get_job(running)
        assert stored is not None and stored.state is JobState.COMPLETED and stored.recorded["pid"] == pid
        await wait_until(lambda: not alive(pid), within=10)  # and the child is gone
        await oban.stop()

    async def test_a_job_still_running_after_the_grace_period_is_abandoned_with_its_process(self, engine, tmp_path):
        oban = Oban(engine, queues={"cpu": 1}, processes=1, shutdown_grace_period=0.5)
        await oban.start()
        running = await oban.enqueue(pw.WaitsForFile.new({"dir": str(tmp_path), "until": "never"}))
        await wait_until(lambda: (tmp_path / f"started-{running.id}").exists(), within=30)
        pid = int((tmp_path / f"started-{running.id}").read_text())

        await oban.stop()

        stored = await oban.get_job(running)
        assert stored is not None and stored.state is JobState.EXECUTING  # left for the lifeline
        await wait_until(lambda: not alive(pid), within=10)
        await oban.stop()
