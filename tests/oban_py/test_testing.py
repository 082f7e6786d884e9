"""``oban.testing`` as oban-py's users write their tests with it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from oban import Job, JobState, Record, Snooze, job, worker
from oban.testing import (
    ANY,
    all_enqueued,
    assert_enqueued,
    build_job,
    drain_queue,
    mode,
    perform_job,
    process_job,
    refute_enqueued,
    reset_oban,
)

RAN: list[object] = []


@worker(queue="alpha")
class Alpha:
    def process(self, job):  # type: ignore[no-untyped-def]
        RAN.append(("alpha", job.args))


@worker(queue="omega", max_attempts=5)
class Omega:
    async def process(self, job):  # type: ignore[no-untyped-def]
        RAN.append(("omega", job.args))
        if job.args.get("fail"):
            raise RuntimeError(f"failed {job.args['fail']}")
        if job.args.get("snooze"):
            return Snooze(60)
        if job.args.get("spawn"):
            await Alpha.enqueue({"spawned_by": job.id})
        return Record({"ok": True}) if job.args.get("record") else None


@job(queue="alpha")
def echo(email: str) -> str:
    return email


@pytest.fixture(autouse=True)
def _clear() -> None:
    RAN.clear()


class TestProcessJob:
    def test_runs_a_worker_from_plain_code_and_returns_its_value(self):
        @worker()
        class Sample:
            def process(self, job):  # type: ignore[no-untyped-def]
                return job.args

        assert process_job(Sample.new({"user_id": 123})) == {"user_id": 123}
        assert process_job(echo.new("test@example.com")) == "test@example.com"

    async def test_returns_an_awaitable_inside_a_running_loop(self):
        assert await process_job(echo.new("async@example.com")) == "async@example.com"

    def test_fills_in_what_a_claimed_job_has_and_keeps_explicit_values(self):
        @worker()
        class Verifying:
            def process(self, job):  # type: ignore[no-untyped-def]
                return (job.id, job.attempt, job.attempted_at, job.scheduled_at, job.inserted_at)

        built = Verifying.new({"data": "x"})
        assert (built.id, built.attempt, built.attempted_at) == (None, 0, None)
        job_id, attempt, *stamps = process_job(built)
        assert job_id is not None and attempt == 1 and all(stamp is not None for stamp in stamps)
        assert process_job(Verifying.new({}, attempt=5, id=999))[:2] == (999, 5)

    def test_round_trips_args_through_json_and_refuses_what_json_cannot_hold(self):
        @worker()
        class Shapes:
            def process(self, job):  # type: ignore[no-untyped-def]
                return job.args["value"]

        assert process_job(Shapes.new({"value": (1, 2, 3)})) == [1, 2, 3]
        with pytest.raises(TypeError):
            process_job(Shapes.new({"value": lambda x: x}))

    def test_raises_what_the_worker_raises(self):
        with pytest.raises(RuntimeError, match="failed 1"):
            process_job(Omega.new({"fail": 1}))


class TestInlineMode:
    async def test_enqueue_runs_the_job_at_once_and_returns_it_completed(self, oban_instance):
        oban = oban_instance(testing="inline")
        done = await oban.enqueue(Omega.new({"record": True}))
        assert RAN == [("omega", {"record": True})]
        assert done.state == JobState.COMPLETED and done.attempt == 1 and done.completed_at is not None
        assert done.recorded == {"ok": True}
        assert await all_enqueued(oban=oban) == [], "inline jobs never reach the database"
        snoozed = await oban.enqueue(Omega.new({"snooze": True}))
        assert snoozed.state == JobState.SCHEDULED
        with pytest.raises(RuntimeError, match="failed 2"):
            await oban.enqueue(Omega.new({"fail": 2}))

    async def test_mode_switches_any_instance_for_a_block(self, oban_instance):
        oban = oban_instance()
        with mode("inline"):
            ran = await oban.enqueue(Alpha.new({"value": 42}))
            assert ran.state == JobState.COMPLETED and ran.args["value"] == 42
        assert (await oban.enqueue(Alpha.new({}))).state == JobState.AVAILABLE
        with pytest.raises(ValueError, match="testing mode must be 'inline', 'manual' or None, got 'eager'"):
            with mode("eager"):
                pass


class TestManualModeAndDraining:
    async def test_manual_mode_inserts_and_start_runs_nothing(self, oban_instance):
        oban = oban_instance(queues={"alpha": 5}, testing="manual")
        async with oban:
            inserted = await Alpha.enqueue({"n": 1})
            await asyncio.sleep(0.3)
        assert RAN == [] and (await oban.get_job(inserted.id)).state == JobState.AVAILABLE
        assert oban.check_all_queues() == []

    async def test_drain_queue_runs_everything_with_oban_pys_defaults(self, oban_instance):
        oban = oban_instance(testing="manual")
        await oban.enqueue_many(Omega.new({"n": 1}), Omega.new({"spawn": True}), Omega.new({"n": 3}, scheduled_in=600))
        assert await drain_queue(queue="omega") == {
            "cancelled": 0,
            "completed": 3,
            "discarded": 0,
            "retryable": 0,
            "scheduled": 0,
        }
        assert await drain_queue(queue="alpha") == {
            "cancelled": 0,
            "completed": 1,
            "discarded": 0,
            "retryable": 0,
            "scheduled": 0,
        }

    async def test_a_failing_job_is_recorded_then_raised_unless_with_safety(self, oban_instance):
        oban = oban_instance(testing="manual")
        failing = await oban.enqueue(Omega.new({"fail": 7}))
        with pytest.raises(RuntimeError, match="failed 7"):
            await drain_queue(queue="omega", with_scheduled=False)
        stored = await oban.get_job(failing.id)
        assert stored.state == JobState.RETRYABLE and "failed 7" in stored.errors[0]["error"]
        summary = await drain_queue(queue="omega", with_safety=True, with_recursion=False)
        assert summary["retryable"] == 1 and (await oban.get_job(failing.id)).attempt == 2

    async def test_drain_queue_options_limit_recursion_and_scheduling(self, oban_instance):
        oban = oban_instance(testing="manual")
        await oban.enqueue_many(Alpha.new({"n": n}) for n in range(5))
        await oban.enqueue(Alpha.new({"later": True}, scheduled_in=3600))
        one_pass = await drain_queue(queue="alpha", with_limit=2, with_recursion=False, with_scheduled=False)
        assert one_pass["completed"] == 2
        assert (await drain_queue(queue="alpha", with_scheduled=False))["completed"] == 3
        soon = datetime.now(UTC) + timedelta(minutes=1)
        assert (await drain_queue(queue="alpha", with_scheduled=soon))["completed"] == 0
        assert (await drain_queue(queue="alpha"))["completed"] == 1
        with pytest.raises(ValueError, match="with_limit must be a positive integer or None, got 0"):
            await drain_queue(queue="alpha", with_limit=0)

    async def test_reset_oban_deletes_every_job(self, oban_instance):
        oban = oban_instance(testing="manual")
        await oban.enqueue_many(Alpha.new({}), Omega.new({}, scheduled_in=60))
        assert await reset_oban() == 2
        assert await oban.list_jobs() == []


class TestEnqueuedAssertions:
    async def test_match_by_worker_queue_and_partial_args_through_the_default_instance(self, oban_instance):
        oban = oban_instance(testing="manual")
        await oban.enqueue_many(Alpha.new(), Alpha.new({"id": 1, "xd": 1}), Omega.new({"id": 1, "xd": 2}))
        await assert_enqueued(worker=Alpha)
        await assert_enqueued(worker=Alpha, queue="alpha")
        await assert_enqueued(worker=Omega, args={})
        await assert_enqueued(worker=Omega, args={"id": 1})
        await assert_enqueued(worker=Omega, args={"id": 1, "xd": 2}, max_attempts=5)
        await assert_enqueued(worker="tests.oban_py.test_testing.Omega", oban="Oban")
        await assert_enqueued(worker=Omega, args={"id": ANY, "xd": ANY})
        await refute_enqueued(worker=Omega, args={"id": 2})
        await refute_enqueued(worker=Alpha, args={"missing": ANY})
        with pytest.raises(AssertionError, match="Expected a job matching"):
            await assert_enqueued(worker=Omega, args={"id": 2})
        with pytest.raises(AssertionError, match="Expected no jobs matching"):
            await refute_enqueued(worker=Alpha)
        assert [j.args for j in await all_enqueued(worker=Alpha)] == [{"id": 1, "xd": 1}, {}]

    async def test_timestamps_match_within_a_second_or_a_given_delta(self, oban_instance):
        oban = oban_instance(testing="manual")
        at = datetime.now(UTC) + timedelta(hours=1)
        await oban.enqueue(Alpha.new({}, scheduled_at=at))
        await assert_enqueued(worker=Alpha, scheduled_at=at + timedelta(milliseconds=800))
        await refute_enqueued(worker=Alpha, scheduled_at=at + timedelta(seconds=5))
        await assert_enqueued(worker=Alpha, scheduled_at=(at + timedelta(seconds=5), 10))
        await assert_enqueued(worker=Alpha, scheduled_in=timedelta(hours=1))
        await assert_enqueued(worker=Alpha, scheduled_in=3600)

    async def test_timeout_waits_for_a_job_enqueued_meanwhile(self, oban_instance):
        oban = oban_instance(testing="manual")

        async def later() -> None:
            await asyncio.sleep(0.1)
            await oban.enqueue(Alpha.new({"late": True}))

        task = asyncio.create_task(later())
        with pytest.raises(AssertionError):
            await assert_enqueued(worker=Alpha)
        found = await assert_enqueued(worker=Alpha, args={"late": True}, timeout=5)
        assert isinstance(found, Job)
        await task
        with pytest.raises(AssertionError, match=r"within 0\.2s"):
            await refute_enqueued(worker=Alpha, timeout=0.2)


class TestBuildAndPerform:
    async def test_build_job_gives_a_running_job_and_perform_job_runs_it(self):
        built = build_job(Omega, {"n": (1, 2)}, priority=3)
        assert built.args == {"n": [1, 2]} and built.attempt == 1 and built.state == JobState.EXECUTING
        assert built.priority == 3 and built.id is not None
        assert isinstance(await perform_job(Omega, {"record": True}), Record)
        assert await perform_job(echo, {"email": "x@y.z"}) == "x@y.z"


async def test_the_plugins_oban_fixture_is_a_manual_default_instance(oban):
    inserted = await Alpha.enqueue({"via": "fixture"})
    assert oban.testing == "manual" and (await oban.get_job(inserted.id)).state == JobState.AVAILABLE
    assert (await drain_queue("alpha"))["completed"] == 1
