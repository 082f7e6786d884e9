"""The Oban facade and runtime, on every engine under test."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from oban import Job, JobState, Oban, SchemaError
from oban._time import utcnow
from oban.cron import parse_entry
from oban.engines import LiteEngine
from oban.engines.protocol import RESCUE_ERROR, ProducerRecord
from oban.runtime.cron import Cron
from oban.testing import drain_queue
from tests import workers
from tests.support import wait_until


async def state_of(oban: Oban, job: Job) -> JobState | None:
    stored = await oban.get_job(job)
    return None if stored is None else stored.state


def reached(oban: Oban, job: Job, state: JobState) -> Any:
    async def check() -> bool:
        return await state_of(oban, job) is state

    return check


@pytest.fixture(autouse=True)
def _clear_events() -> None:
    workers.EVENTS.clear()
    workers.GATES.clear()


class TestClient:
    async def test_a_client_enqueues_and_manages_jobs_without_start(self, engine):
        oban = Oban(engine)
        job = await oban.enqueue(workers.Noop.new({"a": 1}))
        assert job.id is not None and (await oban.get_job(job.id)).args == {"a": 1}
        assert await oban.cancel_job(job) == 1
        assert await state_of(oban, job) is JobState.CANCELLED
        await oban.stop()

    async def test_worker_enqueue_uses_the_named_instance(self, engine):
        oban = Oban(engine, name="oban")
        job = await workers.Echo.enqueue({"tag": "x"}, priority=2)
        assert (await oban.get_job(job)).priority == 2
        fn_job = await workers.add_to_events.enqueue("later", count=2)
        assert (await oban.get_job(fn_job)).args == {"label": "later", "count": 2}
        await oban.stop()

    async def test_enqueue_many_accepts_jobs_or_an_iterable(self, engine):
        oban = Oban(engine)
        a, b = await oban.enqueue_many(workers.Noop.new({"n": 1}), workers.Noop.new({"n": 2}))
        more = await oban.enqueue_many(workers.Noop.new({"n": i}) for i in range(3))
        assert len({a.id, b.id, *[j.id for j in more]}) == 5
        with pytest.raises(ValueError, match="Job"):
            await oban.enqueue_many([{"not": "a job"}])  # type: ignore[list-item]
        await oban.stop()

    async def test_unique_jobs_of_a_worker_with_default_meta_are_each_stored(self, engine):
        oban = Oban(engine)
        batch = await oban.enqueue_many([workers.UniqueWithMeta.new({"n": n}) for n in range(3)])
        assert [job.conflict for job in batch] == [False, False, False]
        assert len({job.id for job in batch}) == 3
        assert workers.UniqueWithMeta._oban_options["meta"] == {"source": "import"}
        assert len(await oban.list_jobs()) == 3
        await oban.stop()

    async def test_concurrent_distinct_unique_enqueues_are_all_stored(self, oban_engine_factory):
        obans = [Oban(await oban_engine_factory(), name=f"uniq-{i}") for i in range(5)]
        try:
            stored = await asyncio.gather(
                *(oban.enqueue(workers.UniqueWithMeta.new({"n": n})) for n, oban in enumerate(obans))
            )
            assert [job.conflict for job in stored] == [False] * 5
            assert len(await obans[0].list_jobs()) == 5
            again = await obans[1].enqueue(workers.UniqueWithMeta.new({"n": 0}))
            assert again.conflict and again.id == stored[0].id
        finally:
            for oban in obans:
                await oban.stop()

    async def test_enqueue_changes_nothing_it_was_given(self, engine):
        oban = Oban(engine)
        meta = {"trace": "t1"}
        given = workers.UniqueWithMeta.new({"n": 1}, meta=meta)
        stored = await oban.enqueue(given)
        assert stored.id is not None and stored.meta["uniq_key"]
        assert given.id is None and given.meta == {"trace": "t1"} and meta == {"trace": "t1"}
        await oban.stop()

    async def test_stopping_a_client_that_shares_a_nodes_engine_leaves_the_node_working(self, oban_engine_factory):
        engine = await oban_engine_factory()
        node = await Oban(engine, queues={"default": 1}, node="node-a", name="shared").start()
        client = Oban(engine, name="shared-client")
        other = Oban(await oban_engine_factory(), node="node-b", name="shared")
        try:
            await client.enqueue(workers.Noop.new({}))
            await client.stop()
            await other.pause_queue("default")
            await wait_until(lambda: node.check_queue("default").paused, within=10)
            job = await client.enqueue(workers.Echo.new({"tag": "after"}))
            await other.resume_queue("default")
            await wait_until(reached(node, job, JobState.COMPLETED), within=10)
        finally:
            await client.stop()
            await other.stop()
            await node.stop()

    async def test_transactional_enqueue_exists_only_after_commit(self, oban_engine_factory):
        engine = await oban_engine_factory()
        oban = Oban(engine)
        async with oban_engine_factory.transaction() as conn:
            kept = await oban.enqueue(workers.Noop.new({"tx": "commit"}), conn=conn)
        with pytest.raises(RuntimeError):
            async with oban_engine_factory.transaction() as conn:
                await workers.Noop.enqueue({"tx": "rollback"}, conn=conn, oban=oban)
                raise RuntimeError("roll back")
        assert [job.args for job in await oban.list_jobs()] == [{"tx": "commit"}]
        assert (await oban.get_job(kept)).args == {"tx": "commit"}
        await oban.stop()

    async def test_a_database_without_the_schema_is_reported(self, oban_engine_factory):
        engine = await oban_engine_factory(install=False)
        oban = Oban(engine)
        with pytest.raises(SchemaError, match="oban install"):
            await oban.enqueue(workers.Noop.new({}))
        await oban.stop()

    async def test_update_retry_and_delete_through_the_facade(self, engine):
        oban = Oban(engine)
        job = await oban.enqueue(workers.Noop.new({}, tags=["a"], schedule_in=600))
        updated = await oban.update_job(job, lambda j: {"tags": [*j.tags, "b"], "priority": 4})
        assert updated.tags == ["a", "b"] and updated.priority == 4
        now_due = await oban.update_job(job.id, {"schedule_in": 0})
        assert now_due.state is JobState.AVAILABLE
        later = await oban.update_job(job, {"scheduled_at": utcnow() + timedelta(hours=1)})
        assert later.state is JobState.SCHEDULED
        with pytest.raises(ValueError, match="priority"):
            await oban.update_job(job, {"priority": 11})
        with pytest.raises(ValueError, match="attempt"):
            await oban.update_job(job, {"attempt": 3})
        with pytest.raises(ValueError, match="Job with id 123456789 not found"):
            await oban.update_job(123456789, {"priority": 1})
        assert await oban.retry_job(job) == 1 and await state_of(oban, job) is JobState.AVAILABLE
        assert await oban.delete_job(job) == 1 and await oban.get_job(job) is None
        await oban.stop()


class TestRunningJobs:
    async def test_a_job_inserted_into_an_idle_queue_starts_on_notification_not_polling(self, engine):
        async with Oban(engine, queues={"default": 2}, stage_interval=60) as oban:
            await asyncio.sleep(0.1)  # the producers' first fetch found nothing; the next poll is 60 s away
            job = await oban.enqueue(workers.Echo.new({"tag": "fast"}))
            await wait_until(reached(oban, job, JobState.COMPLETED), within=10)
        assert workers.EVENTS == [("fast", job.id, 1)]

    async def test_failures_are_retried_then_discarded_with_every_error_recorded(self, engine):
        async with Oban(engine, queues={"default": 2}, stage_interval=0.05) as oban:
            job = await oban.enqueue(workers.AlwaysFails.new({"n": 7}))
            await wait_until(reached(oban, job, JobState.DISCARDED))
        stored = await oban.get_job(job)
        assert stored.attempt == 3 and [e["attempt"] for e in stored.errors] == [1, 2, 3]
        assert all("ValueError: bad input 7" in e["error"] for e in stored.errors)
        assert stored.discarded_at is not None

    async def test_a_job_whose_worker_cannot_be_found_is_recorded_and_retried(self, engine):
        async with Oban(engine, queues={"default": 2}, stage_interval=0.05) as oban:
            job = await oban.enqueue(Job(worker="tests.workers.DoesNotExist", max_attempts=2, args={"x": 1}))
            await wait_until(reached(oban, job, JobState.RETRYABLE))
            stored = await oban.get_job(job)
            assert "tests.workers.DoesNotExist" in stored.errors[0]["error"]
            assert stored.scheduled_at > utcnow() + timedelta(seconds=10)  # Oban's default backoff applies
            await oban.retry_job(job)
            await wait_until(reached(oban, job, JobState.DISCARDED))
        stored = await oban.get_job(job)
        assert [e["attempt"] for e in stored.errors] == [1, 2]

    async def test_a_crashed_task_is_recorded_as_a_failed_attempt(self, engine):
        async with Oban(engine, queues={"default": 1}) as oban:
            job = await oban.enqueue(workers.CrashingTask.new({}))
            await wait_until(reached(oban, job, JobState.RETRYABLE))
        assert "CancelledError" in (await oban.get_job(job)).errors[0]["error"]

    async def test_sync_workers_run_in_worker_threads(self, engine):
        async with Oban(engine, queues={"default": 4}) as oban:
            jobs = await oban.enqueue_many([workers.SyncWorker.new({}) for _ in range(4)])
            for job in jobs:
                await wait_until(reached(oban, job, JobState.COMPLETED))
        assert sorted(e[2] for e in workers.EVENTS) == sorted(job.id for job in jobs)
        assert all(e[1].startswith("oban-") for e in workers.EVENTS)

    async def test_function_jobs_run_with_their_bound_arguments(self, engine):
        async with Oban(engine, queues={"default": 2}) as oban:
            a = await workers.add_to_events.enqueue("sync", count=5)
            b = await workers.async_function.enqueue("async")
            await wait_until(reached(oban, a, JobState.COMPLETED))
            await wait_until(reached(oban, b, JobState.COMPLETED))
        assert sorted(workers.EVENTS) == [("async-function", "async", None), ("function", "sync", 5)]

    async def test_result_types_steer_the_job(self, engine):
        async with Oban(engine, queues={"default": 4}) as oban:
            record, cancel, snooze, other = await oban.enqueue_many(
                [workers.Returns.new({"kind": kind}) for kind in ("record", "cancel", "snooze", "other")]
            )
            await wait_until(reached(oban, record, JobState.COMPLETED))
            await wait_until(reached(oban, cancel, JobState.CANCELLED))
            await wait_until(reached(oban, snooze, JobState.SCHEDULED))
            await wait_until(reached(oban, other, JobState.COMPLETED))
        assert (await oban.get_job(record)).recorded == {"rows": 3}
        assert (await oban.get_job(cancel)).errors[0]["error"] == "cancelled: not needed"
        snoozed = await oban.get_job(snooze)
        assert snoozed.meta["snoozed"] == 1 and snoozed.attempt == 0
        assert snoozed.scheduled_at > utcnow() + timedelta(minutes=50)
        assert (await oban.get_job(other)).meta == {}

    async def test_a_job_past_its_timeout_fails_with_a_timeout_error(self, engine):
        async with Oban(engine, queues={"default": 1}) as oban:
            job = await oban.enqueue(workers.Slow.new({"seconds": 30, "timeout": 0.2}))
            await wait_until(reached(oban, job, JobState.RETRYABLE))
        stored = await oban.get_job(job)
        assert "JobTimeoutError" in stored.errors[0]["error"] and "timeout of 0.2s" in stored.errors[0]["error"]
        assert ("slow-end", job.id, 1) not in workers.EVENTS

    async def test_scheduled_jobs_run_once_due(self, engine):
        async with Oban(engine, queues={"default": 1}, stage_interval=0.05) as oban:
            job = await oban.enqueue(workers.Echo.new({"tag": "later"}, schedule_in=0.3))
            assert await state_of(oban, job) is JobState.SCHEDULED
            await wait_until(reached(oban, job, JobState.COMPLETED))

    async def test_drain_queue_runs_everything_available_here(self, engine):
        oban = Oban(engine)
        await oban.enqueue_many(
            workers.Echo.new({"tag": "d1"}),
            workers.AlwaysFails.new({}),
            workers.Echo.new({"tag": "d2"}, schedule_in=60),
        )
        summary = await drain_queue("default", oban, with_scheduled=False, with_safety=True)
        assert summary == {"cancelled": 0, "completed": 1, "discarded": 0, "retryable": 1, "scheduled": 0}
        # With scheduled jobs and recursion (the defaults), the retries run until discarded.
        summary = await drain_queue("default", oban, with_safety=True)
        assert summary == {"cancelled": 0, "completed": 1, "discarded": 1, "retryable": 1, "scheduled": 0}
        await oban.stop()

    async def test_drain_queue_with_scheduled_stages_only_its_own_queue(self, engine):
        oban = Oban(engine)
        mine = await oban.enqueue(workers.Echo.new({"tag": "mine"}, queue="a", schedule_in=600))
        theirs = await oban.enqueue(workers.Echo.new({"tag": "theirs"}, queue="b", schedule_in=600))
        assert (await drain_queue("a", oban, with_scheduled=True))["completed"] == 1
        assert await state_of(oban, mine) is JobState.COMPLETED
        assert await state_of(oban, theirs) is JobState.SCHEDULED
        await oban.stop()

    async def test_a_class_never_declared_a_worker_does_not_run(self, engine):
        oban = Oban(engine)
        job = await oban.enqueue(Job(worker="tests.workers.NotAWorker", max_attempts=1))
        assert (await drain_queue("default", oban, with_safety=True))["discarded"] == 1
        stored = await oban.get_job(job)
        assert "tests.workers.NotAWorker" in stored.errors[0]["error"] and "@worker" in stored.errors[0]["error"]
        assert ("not-a-worker", job.id) not in workers.EVENTS
        await oban.stop()


class TestQueues:
    async def test_pause_resume_scale_and_check_queue(self, engine):
        async with Oban(engine, queues={"default": 2, "other": {"limit": 1, "paused": True}}) as oban:
            info = oban.check_queue("default")
            assert (info.queue, info.limit, info.paused, info.running) == ("default", 2, False, [])
            assert info.node == oban.node
            assert oban.check_queue("other").paused is True
            assert oban.check_queue("missing") is None
            await oban.pause_queue("default")
            assert oban.check_queue("default").paused
            job = await oban.enqueue(workers.Echo.new({"tag": "p"}))
            await asyncio.sleep(0.3)
            assert await state_of(oban, job) is JobState.AVAILABLE
            await oban.resume_queue("default")
            await wait_until(reached(oban, job, JobState.COMPLETED))
            await oban.scale_queue("default", limit=7)
            assert oban.check_queue("default").limit == 7
            with pytest.raises(ValueError, match="limit"):
                await oban.scale_queue("default", limit=0)
            await oban.pause_all_queues()
            assert all(info.paused for info in oban.check_all_queues())
            await oban.resume_all_queues()
            assert not any(info.paused for info in oban.check_all_queues())

    async def test_limit_caps_concurrency_and_running_lists_the_jobs(self, engine):
        async with Oban(engine, queues={"default": 2}) as oban:
            workers.GATES["g"] = asyncio.Event()
            jobs = await oban.enqueue_many([workers.Blocking.new({"gate": "g"}) for _ in range(5)])
            await wait_until(lambda: len(oban.check_queue("default").running) == 2)
            await asyncio.sleep(0.2)
            assert len(oban.check_queue("default").running) == 2
            assert set(oban.check_queue("default").running) <= {job.id for job in jobs}
            workers.GATES["g"].set()
            for job in jobs:
                await wait_until(reached(oban, job, JobState.COMPLETED))

    async def test_start_and_stop_queue_at_runtime(self, engine):
        async with Oban(engine, queues={"default": 1}) as oban:
            await oban.start_queue("extra", limit=3)
            assert oban.check_queue("extra").limit == 3
            job = await oban.enqueue(workers.Echo.new({"tag": "x"}, queue="extra"))
            await wait_until(reached(oban, job, JobState.COMPLETED))
            await oban.stop_queue("extra")
            assert oban.check_queue("extra") is None


class TestShutdown:
    async def test_stop_waits_for_running_jobs_within_the_grace_period(self, engine):
        oban = await Oban(engine, queues={"default": 2}, shutdown_grace_period=10).start()
        job = await oban.enqueue(workers.Slow.new({"seconds": 0.3}))
        await wait_until(lambda: job.id in oban.check_queue("default").running)
        await oban.stop()
        assert await state_of(oban, job) is JobState.COMPLETED

    async def test_jobs_still_running_after_the_grace_period_are_left_for_rescue(self, engine, caplog):
        oban = await Oban(engine, queues={"default": 2}, shutdown_grace_period=0.2).start()
        workers.GATES["never"] = asyncio.Event()
        job = await oban.enqueue(workers.Blocking.new({"gate": "never"}))
        await wait_until(lambda: job.id in oban.check_queue("default").running)
        await oban.stop()
        assert await state_of(oban, job) is JobState.EXECUTING
        assert f"left for rescue: [{job.id}]" in caplog.text


class FlakyEngine:
    """A real engine whose fetches and acks fail a set number of times, like a dropped connection."""

    def __init__(self, engine: Any, *, fetch_failures: int, ack_failures: int) -> None:
        self._engine = engine
        self.fetch_failures = fetch_failures
        self.ack_failures = ack_failures

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    async def fetch_jobs(self, *args: Any) -> list[Job]:
        if self.fetch_failures:
            self.fetch_failures -= 1
            raise ConnectionError("server closed the connection unexpectedly")
        return await self._engine.fetch_jobs(*args)

    async def ack_jobs(self, acks: Any) -> list[int]:
        if self.ack_failures:
            self.ack_failures -= 1
            raise ConnectionError("server closed the connection unexpectedly")
        return await self._engine.ack_jobs(acks)


class TestResilience:
    async def test_database_errors_are_retried_and_no_ack_is_lost(self, engine):
        flaky = FlakyEngine(engine, fetch_failures=2, ack_failures=3)
        async with Oban(flaky, queues={"default": 5}) as oban:  # type: ignore[arg-type]
            jobs = await oban.enqueue_many([workers.Echo.new({"tag": i}) for i in range(20)])
            for job in jobs:
                await wait_until(reached(oban, job, JobState.COMPLETED))
        assert flaky.fetch_failures == 0 and flaky.ack_failures == 0
        assert sorted(e[1] for e in workers.EVENTS) == sorted(job.id for job in jobs)


class TestCluster:
    async def test_exactly_one_node_leads_and_another_takes_over_when_it_stops(self, oban_engine_factory):
        a = await Oban(await oban_engine_factory(), queues={"default": 1}, node="node-a", name="c1").start()
        b = await Oban(await oban_engine_factory(), queues={"default": 1}, node="node-b", name="c1").start()
        try:
            assert [a.is_leader, b.is_leader] == [True, False]
            await a.stop()
            await wait_until(lambda: b.is_leader, within=20)
        finally:
            await a.stop()
            await b.stop()

    async def test_queue_signals_reach_every_node_or_only_the_named_one(self, oban_engine_factory):
        a = await Oban(await oban_engine_factory(), queues={"default": 1}, node="node-a", name="c2").start()
        b = await Oban(await oban_engine_factory(), queues={"default": 1}, node="node-b", name="c2").start()
        try:
            await a.pause_queue("default")
            await wait_until(lambda: b.check_queue("default").paused)
            assert a.check_queue("default").paused
            await a.resume_queue("default", node="node-b")
            await wait_until(lambda: not b.check_queue("default").paused)
            assert a.check_queue("default").paused
            await b.scale_queue("default", limit=4, node="node-a")
            await wait_until(lambda: a.check_queue("default").limit == 4)
            assert b.check_queue("default").limit == 1
            await a.start_queue("extra", limit=2)
            await wait_until(lambda: b.check_queue("extra") is not None)
            assert b.check_queue("extra").limit == 2 and a.check_queue("extra").limit == 2
            await b.stop_queue("extra")
            assert b.check_queue("extra") is None
            await wait_until(lambda: a.check_queue("extra") is None)
        finally:
            await a.stop()
            await b.stop()

    async def test_cancelling_a_job_reaches_the_node_running_it(self, oban_engine_factory):
        runner = await Oban(await oban_engine_factory(), queues={"conformance": 1}, node="runner", name="c3").start()
        client = Oban(await oban_engine_factory(), node="client", name="c3-client")
        from oban.testing.conformance.runtime import RecordingWorker

        try:
            job = await client.enqueue(RecordingWorker.new({"tag": "cancel-me", "wait_for_cancel": True}))
            await wait_until(lambda: job.id in runner.check_queue("conformance").running)
            assert await client.cancel_job(job) == 1
            await wait_until(lambda: job.id not in runner.check_queue("conformance").running, within=10)
            assert await state_of(client, job) is JobState.CANCELLED
        finally:
            await runner.stop()
            await client.stop()


class TestLeaderChores:
    async def test_the_pruner_deletes_old_finished_jobs(self, engine):
        async with Oban(engine, queues={"default": 2}, pruner={"max_age": 0.2, "interval": 0.1}) as oban:
            job = await oban.enqueue(workers.Noop.new({}))
            keep = await oban.enqueue(workers.Noop.new({}, schedule_in=3600))
            await wait_until(reached(oban, job, JobState.COMPLETED))

            async def gone() -> bool:
                return await oban.get_job(job) is None

            await wait_until(gone)
            assert await state_of(oban, keep) is JobState.SCHEDULED

    async def test_the_lifeline_rescues_a_dead_nodes_jobs_once_its_heartbeat_goes_stale(self, engine):
        job = (await engine.insert_jobs([workers.Echo.new({"tag": "orphan"})]))[0]
        dead = str(uuid4())
        beat = utcnow() - timedelta(seconds=3)
        meta = {"local_limit": 1, "paused": False, "running": [job.id], "ttl": 2.0}
        await engine.record_producers([ProducerRecord(dead, "oban", "dead-node", "default", meta, beat, beat)])
        [claimed] = await engine.fetch_jobs("default", 1, "dead-node", utcnow(), dead)
        assert claimed.id == job.id
        # The time-based fallback is an hour away: only liveness can rescue it in time.
        async with Oban(engine, queues={"default": 1}, lifeline={"interval": 0.1, "rescue_after": 3600}) as oban:
            await wait_until(reached(oban, job, JobState.COMPLETED), within=10)
        stored = await oban.get_job(job)
        assert stored.attempt == 2 and stored.attempted_by[0] == oban.node
        assert [e["error"] for e in stored.errors] == [RESCUE_ERROR]

    async def test_claims_from_nodes_that_never_heartbeat_are_rescued_after_rescue_after(self, engine):
        job = (await engine.insert_jobs([workers.Echo.new({"tag": "orphan"})]))[0]
        [claimed] = await engine.fetch_jobs("default", 1, "elsewhere", utcnow())
        assert claimed.id == job.id
        async with Oban(engine, queues={"default": 1}, lifeline={"interval": 0.1, "rescue_after": 0.1}) as oban:
            await wait_until(reached(oban, job, JobState.COMPLETED))
        stored = await oban.get_job(job)
        assert stored.attempt == 2 and stored.attempted_by[0] == oban.node

    async def test_cron_inserts_due_entries_once_per_minute(self, engine):
        oban = Oban(engine)
        entries = [
            parse_entry(("* * * * *", workers.Echo, {"args": {"tag": "cron"}})),
            parse_entry(("0 0 1 1 *", "tests.workers.Noop")),
        ]
        cron = Cron(entries, oban.enqueue_many, when=lambda: True)
        minute = utcnow().replace(second=0, microsecond=0)
        first = await cron.evaluate(minute)
        again = await cron.evaluate(minute)
        assert len(first) == 1 and not first[0].conflict
        assert again[0].conflict and again[0].id == first[0].id
        stored = await oban.get_job(first[0])
        assert stored.args == {"tag": "cron"}  # the entry's args reach the job
        meta = stored.meta
        assert meta["cron"] is True and meta["cron_expr"] == "* * * * *" and meta["cron_tz"] == "Etc/UTC"
        assert meta["cron_name"] == "tests.workers.Echo"
        assert len(await oban.list_jobs()) == 1
        await oban.stop()

    async def test_each_scheduled_minute_inserts_one_job_even_when_evaluated_late(self, engine):
        oban = Oban(engine)
        cron = Cron(
            [parse_entry(("* * * * *", workers.Echo, {"args": {"tag": "cron"}}))], oban.enqueue_many, when=lambda: True
        )
        minute = utcnow().replace(second=0, microsecond=0)
        first = await cron.evaluate(minute)
        # The next minute's tick comes ~1 s after the previous one ran late: it is a new run.
        following = await cron.evaluate(minute + timedelta(minutes=1))
        assert not first[0].conflict and not following[0].conflict and following[0].id != first[0].id
        assert first[0].meta["cron_at"] != following[0].meta["cron_at"]
        assert len(await oban.list_jobs()) == 2
        await oban.stop()

    async def test_several_nodes_evaluating_one_minute_insert_one_job(self, oban_engine_factory):
        obans = [Oban(await oban_engine_factory(), name=f"cron-{i}") for i in range(4)]
        entry = parse_entry(("* * * * *", workers.Echo, {"args": {"tag": "cron"}}))
        crons = [Cron([entry], oban.enqueue_many, when=lambda: True) for oban in obans]
        minute = utcnow().replace(second=0, microsecond=0)
        try:
            results = await asyncio.gather(*(cron.evaluate(minute) for cron in crons * 2))
            assert sum(not jobs[0].conflict for jobs in results) == 1
            assert len(await obans[0].list_jobs()) == 1
        finally:
            for oban in obans:
                await oban.stop()

    async def test_cron_jobs_carry_the_options_of_their_function_or_worker(self, engine):
        oban = Oban(engine, cron=[("* * * * *", workers.reporting), ("* * * * *", workers.Reporter)])
        cron = Cron(oban.crontab, oban.enqueue_many, when=lambda: True)
        minute = utcnow().replace(second=0, microsecond=0)
        inserted = {job.worker: job for job in await cron.evaluate(minute)}
        for name in ("tests.workers.reporting", "tests.workers.Reporter"):
            stored = await oban.get_job(inserted[name])
            assert (stored.queue, stored.priority, stored.max_attempts, stored.tags) == ("reports", 4, 3, ["daily"])
        await oban.stop()

    def test_bad_cron_entries_are_named(self):
        with pytest.raises(ValueError, match="not valid"):
            parse_entry(("61 * * * *", "tests.workers.Noop"))
        with pytest.raises(ValueError, match="Mars/Olympus"):
            parse_entry(("* * * * *", "tests.workers.Noop", {"timezone": "Mars/Olympus"}))


def test_workers_declared_with_cron_join_every_oban_unless_cron_is_off():
    from oban import cron as cron_module
    from oban import worker

    @worker(queue="reports", cron={"expr": "0 0 29 2 *", "timezone": "Europe/Paris"})
    class LeapDayReport:
        async def process(self, job):  # type: ignore[no-untyped-def]
            return None

    try:
        [entry] = [e for e in Oban(LiteEngine(":memory:")).crontab if e.name.endswith(".LeapDayReport")]
        assert (entry.expr, entry.timezone, entry.options["queue"]) == ("0 0 29 2 *", "Europe/Paris", "reports")
        assert entry.build_job(utcnow()).meta["cron_tz"] == "Europe/Paris"
        assert Oban(LiteEngine(":memory:"), cron=False).crontab == ()
        assert entry in Oban(LiteEngine(":memory:"), cron=True).crontab
    finally:
        cron_module._registered[:] = [e for e in cron_module._registered if "LeapDayReport" not in e.name]


def test_job_functions_declared_with_cron_insert_with_their_options():
    from oban import cron as cron_module
    from oban import job as job_decorator

    @job_decorator(queue="q", priority=4, max_attempts=2, cron="@daily")
    def nightly_cleanup() -> None:
        return None

    try:
        [entry] = [e for e in Oban(LiteEngine(":memory:")).crontab if e.name.endswith(".nightly_cleanup")]
        built = entry.build_job(utcnow())
        assert (built.queue, built.priority, built.max_attempts) == ("q", 4, 2)
    finally:
        cron_module._registered[:] = [e for e in cron_module._registered if "nightly_cleanup" not in e.name]


class TestClusterState:
    async def test_cluster_queues_reports_every_nodes_producers_as_their_heartbeats_said(self, oban_engine_factory):
        a = await Oban(
            await oban_engine_factory(),
            queues={"default": 2, "mail": 3},
            node="node-a",
            name="cs",
            heartbeat_interval=0.2,
        ).start()
        b = await Oban(
            await oban_engine_factory(), queues={"default": 4}, node="node-b", name="cs", heartbeat_interval=0.2
        ).start()
        client = Oban(await oban_engine_factory(), name="cs-client")
        client_view = Oban(client.engine, name="cs")  # the cluster's name, no queues of its own
        try:
            infos = await client_view.cluster_queues()
            assert [(i.queue, i.node, i.limit, i.paused) for i in infos] == [
                ("default", "node-a", 2, False),
                ("default", "node-b", 4, False),
                ("mail", "node-a", 3, False),
            ]
            assert {i.uuid for i in infos} == {i.uuid for i in [*a.check_all_queues(), *b.check_all_queues()]}
            await a.pause_queue("default", node="node-b")

            async def paused_in_the_table() -> bool:
                return [i.paused for i in await client_view.cluster_queues("default")] == [False, True]

            await wait_until(paused_in_the_table, within=5)
            await b.stop()

            async def b_gone() -> bool:
                return {i.node for i in await client_view.cluster_queues()} == {"node-a"}

            await wait_until(b_gone, within=5)
        finally:
            await a.stop()
            await b.stop()
            await client_view.stop()
            await client.stop()
