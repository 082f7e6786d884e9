"""Managing jobs: get, list, cancel, retry, delete, update."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from ..._time import utcnow
from ...engines.protocol import Engine
from ...job import Job, JobState, schedule_state
from ._helpers import ack, claim, close_to, id_of, insert, insert_many, job_ids, reload


async def _one_in_each_state(engine: Engine) -> dict[str, Job]:
    """available, scheduled, executing, retryable, completed, cancelled, discarded jobs."""
    jobs: dict[str, Job] = {}
    for name in ("executing", "retryable", "completed", "discarded"):
        await insert(engine, args={"s": name}, queue=name)
        [jobs[name]] = await claim(engine, queue=name)
    error = {"at": "2020-01-01T00:00:00.000000Z", "attempt": 1, "error": "x"}
    await engine.ack_jobs(
        [
            ack(jobs["retryable"], JobState.RETRYABLE, delay=600, error=error),
            ack(jobs["completed"], JobState.COMPLETED),
            ack(jobs["discarded"], JobState.DISCARDED, error=error),
        ]
    )
    jobs["available"] = await insert(engine, args={"s": "available"})
    jobs["scheduled"] = await insert(engine, args={"s": "scheduled"}, schedule_in=600)
    jobs["cancelled"] = await insert(engine, args={"s": "cancelled"})
    await engine.cancel_jobs([id_of(jobs["cancelled"])], utcnow())
    return jobs


@pytest.mark.asyncio
class TestGetAndList:
    async def test_get_job_returns_none_for_a_missing_id(self, oban_engine: Engine) -> None:
        assert await oban_engine.get_job(987654321) is None

    async def test_list_jobs_filters_by_queue_worker_and_state(self, oban_engine: Engine) -> None:
        a = await insert(oban_engine, queue="a")
        b = await insert(oban_engine, queue="b", worker="other.Worker")
        c = await insert(oban_engine, queue="a", schedule_in=60)
        assert [j.id for j in await oban_engine.list_jobs(queue="a")] == [c.id, a.id]
        assert [j.id for j in await oban_engine.list_jobs(worker="other.Worker")] == [b.id]
        assert [j.id for j in await oban_engine.list_jobs(states=[JobState.SCHEDULED])] == [c.id]
        assert [j.id for j in await oban_engine.list_jobs(limit=1)] == [c.id]

    async def test_jobs_read_are_copies(self, oban_engine: Engine) -> None:
        job = await insert(oban_engine, args={"list": [1]}, meta={"m": 1})
        first = await reload(oban_engine, job)
        first.args["list"].append(2)
        first.meta["m"] = 2
        [listed] = await oban_engine.list_jobs()
        assert listed.args == {"list": [1]} and listed.meta == {"m": 1}
        listed.args["new"] = True
        assert (await reload(oban_engine, job)).args == {"list": [1]}

    async def test_count_jobs_counts_each_queue_in_each_state(self, oban_engine: Engine) -> None:
        assert await oban_engine.count_jobs() == {}
        await _one_in_each_state(oban_engine)
        await insert_many(oban_engine, 2, queue="executing")
        assert await oban_engine.count_jobs() == {
            ("executing", JobState.EXECUTING): 1,
            ("executing", JobState.AVAILABLE): 2,
            ("retryable", JobState.RETRYABLE): 1,
            ("completed", JobState.COMPLETED): 1,
            ("discarded", JobState.DISCARDED): 1,
            ("default", JobState.AVAILABLE): 1,
            ("default", JobState.SCHEDULED): 1,
            ("default", JobState.CANCELLED): 1,
        }

    async def test_list_jobs_takes_several_states_and_keeps_newest_first(self, oban_engine: Engine) -> None:
        jobs = await _one_in_each_state(oban_engine)
        found = await oban_engine.list_jobs(states=[JobState.AVAILABLE, JobState.COMPLETED, JobState.CANCELLED])
        expected = sorted((id_of(jobs[name]) for name in ("available", "completed", "cancelled")), reverse=True)
        assert [job.id for job in found] == expected

    async def test_list_jobs_without_filters_lists_every_job_up_to_the_limit(self, oban_engine: Engine) -> None:
        jobs = await insert_many(oban_engine, 7)
        assert [job.id for job in await oban_engine.list_jobs()] == sorted(job_ids(jobs), reverse=True)
        assert len(await oban_engine.list_jobs(limit=3)) == 3
        assert await oban_engine.list_jobs(states=[]) == []


@pytest.mark.asyncio
class TestCancel:
    async def test_cancel_changes_only_incomplete_jobs_and_reports_executing_ones(self, oban_engine: Engine) -> None:
        jobs = await _one_in_each_state(oban_engine)
        count, executing = await oban_engine.cancel_jobs(job_ids(jobs.values()), utcnow())
        assert count == 4  # available, scheduled, executing, retryable
        assert executing == [jobs["executing"].id]
        for name in ("available", "scheduled", "executing", "retryable"):
            stored = await reload(oban_engine, jobs[name])
            assert stored.state is JobState.CANCELLED and close_to(stored.cancelled_at, utcnow(), 5)
        for name in ("completed", "discarded"):
            assert (await reload(oban_engine, jobs[name])).state.value == name

    async def test_cancelling_nothing_changes_nothing(self, oban_engine: Engine) -> None:
        assert await oban_engine.cancel_jobs([], utcnow()) == (0, [])
        assert await oban_engine.cancel_jobs([424242], utcnow()) == (0, [])

    async def test_executing_ids_come_back_ascending(self, oban_engine: Engine) -> None:
        await insert_many(oban_engine, 3)
        claimed = await claim(oban_engine)
        ids = sorted(job_ids(claimed))
        count, executing = await oban_engine.cancel_jobs(list(reversed(ids)), utcnow())
        assert count == 3 and executing == ids

    async def test_cancelling_again_changes_nothing(self, oban_engine: Engine) -> None:
        job = await insert(oban_engine)
        assert await oban_engine.cancel_jobs([id_of(job)], utcnow()) == (1, [])
        first = (await reload(oban_engine, job)).cancelled_at
        assert await oban_engine.cancel_jobs([id_of(job)], utcnow()) == (0, [])
        assert (await reload(oban_engine, job)).cancelled_at == first


@pytest.mark.asyncio
class TestRetry:
    async def test_retry_makes_non_running_jobs_available_now(self, oban_engine: Engine) -> None:
        jobs = await _one_in_each_state(oban_engine)
        count = await oban_engine.retry_jobs(job_ids(jobs.values()), utcnow())
        assert count == 5  # scheduled, retryable, completed, discarded, cancelled
        for name in ("scheduled", "retryable", "completed", "discarded", "cancelled"):
            stored = await reload(oban_engine, jobs[name])
            assert stored.state is JobState.AVAILABLE, name
            assert close_to(stored.scheduled_at, utcnow(), 5)
            assert stored.completed_at is None and stored.discarded_at is None and stored.cancelled_at is None
        assert (await reload(oban_engine, jobs["executing"])).state is JobState.EXECUTING

    async def test_retrying_an_exhausted_job_raises_its_max_attempts(self, oban_engine: Engine) -> None:
        await insert(oban_engine, max_attempts=1)
        [job] = await claim(oban_engine)
        await oban_engine.ack_jobs([ack(job, JobState.DISCARDED, error={"at": "x", "attempt": 1, "error": "e"})])
        assert await oban_engine.retry_jobs([id_of(job)], utcnow()) == 1
        stored = await reload(oban_engine, job)
        assert stored.max_attempts == 2 and stored.state is JobState.AVAILABLE
        [again] = await claim(oban_engine)
        assert again.id == job.id and again.attempt == 2

    async def test_retry_clears_every_finishing_timestamp(self, oban_engine: Engine) -> None:
        jobs = await _one_in_each_state(oban_engine)
        await oban_engine.retry_jobs([id_of(jobs[name]) for name in ("completed", "discarded", "cancelled")], utcnow())
        for name in ("completed", "discarded", "cancelled"):
            stored = await reload(oban_engine, jobs[name])
            assert (stored.completed_at, stored.discarded_at, stored.cancelled_at) == (None, None, None), name

    async def test_retry_keeps_the_history_of_attempts(self, oban_engine: Engine) -> None:
        await insert(oban_engine, max_attempts=1)
        [job] = await claim(oban_engine)
        error = {"at": "x", "attempt": 1, "error": "e"}
        await oban_engine.ack_jobs([ack(job, JobState.DISCARDED, error=error)])
        await oban_engine.retry_jobs([id_of(job)], utcnow())
        stored = await reload(oban_engine, job)
        assert stored.errors == [error] and stored.attempt == 1 and stored.attempted_by == ["node-a"]


@pytest.mark.asyncio
class TestDelete:
    async def test_delete_removes_every_job_but_executing_ones(self, oban_engine: Engine) -> None:
        jobs = await _one_in_each_state(oban_engine)
        assert await oban_engine.delete_jobs(job_ids(jobs.values())) == 6
        remaining = await oban_engine.list_jobs()
        assert [job.id for job in remaining] == [jobs["executing"].id]

    async def test_deleting_missing_ids_changes_nothing(self, oban_engine: Engine) -> None:
        job = await insert(oban_engine)
        assert await oban_engine.delete_jobs([424242, 434343]) == 0
        assert await oban_engine.delete_jobs([id_of(job), id_of(job)]) == 1
        assert await oban_engine.get_job(id_of(job)) is None


@pytest.mark.asyncio
class TestUpdate:
    async def test_update_writes_the_changed_fields(self, oban_engine: Engine) -> None:
        job = await insert(oban_engine, args={"a": 1}, tags=["x"])
        when = utcnow() + timedelta(hours=1)
        [updated] = await oban_engine.update_jobs(
            [id_of(job)],
            lambda j: j.update(
                {
                    "args": {"a": 2},
                    "priority": 4,
                    "queue": "q2",
                    "tags": ["y", "Z"],
                    "meta": {"m": 1},
                    "max_attempts": 7,
                    "worker": "other.Worker",
                    "scheduled_at": when,
                }
            ),
        )
        stored = await reload(oban_engine, job)
        for found in (updated, stored):
            assert found.args == {"a": 2} and found.priority == 4 and found.queue == "q2"
            assert found.tags == ["y", "z"] and found.meta == {"m": 1} and found.max_attempts == 7
            assert found.worker == "other.Worker" and close_to(found.scheduled_at, when, 0.01)

    async def test_the_change_sees_the_current_stored_job(self, oban_engine: Engine) -> None:
        job = await insert(oban_engine, tags=["a"])
        await oban_engine.update_jobs([id_of(job)], lambda j: j.update({"tags": [*j.tags, "b"]}))
        await oban_engine.update_jobs([id_of(job)], lambda j: j.update({"tags": [*j.tags, "c"]}))
        assert (await reload(oban_engine, job)).tags == ["a", "b", "c"]

    async def test_a_failing_change_writes_nothing(self, oban_engine: Engine) -> None:
        first = await insert(oban_engine, priority=1)
        second = await insert(oban_engine, priority=1)

        def change(job: Job) -> Job:
            if job.id == second.id:
                raise ValueError("priority must be an integer from 0 to 9, got 99")
            return job.update({"priority": 2})

        with pytest.raises(ValueError, match="priority"):
            await oban_engine.update_jobs(job_ids([first, second]), change)
        assert (await reload(oban_engine, first)).priority == 1

    async def test_max_attempts_below_the_attempt_is_refused_and_nothing_is_written(self, oban_engine: Engine) -> None:
        job = await insert(oban_engine, max_attempts=5)
        for _ in range(2):
            [claimed] = await claim(oban_engine)
            error = {"at": "x", "attempt": claimed.attempt, "error": "e"}
            await oban_engine.ack_jobs([ack(claimed, JobState.RETRYABLE, delay=-1, error=error)])
            await oban_engine.stage_jobs(utcnow(), 100)
        assert (await reload(oban_engine, job)).attempt == 2
        with pytest.raises(ValueError, match=r"max_attempts.*\b1\b"):
            await oban_engine.update_jobs([id_of(job)], lambda j: j.update({"max_attempts": 1}))
        stored = await reload(oban_engine, job)
        assert stored.max_attempts == 5 and stored.state is JobState.AVAILABLE
        [again] = await claim(oban_engine)
        assert again.id == job.id and again.attempt == 3

    async def test_missing_ids_are_skipped(self, oban_engine: Engine) -> None:
        job = await insert(oban_engine)
        updated = await oban_engine.update_jobs([id_of(job), 99999999], lambda j: j.update({"priority": 3}))
        assert [j.id for j in updated] == [job.id]

    async def test_only_updatable_fields_are_written(self, oban_engine: Engine) -> None:
        job = await insert(oban_engine)
        [claimed] = await claim(oban_engine, node="node-a")

        def forge(current: Job) -> Job:
            changed = current.update({"priority": 5})
            changed.attempt = 9
            changed.errors = [{"at": "x", "attempt": 9, "error": "forged"}]
            changed.attempted_by = ["forged"]
            changed.inserted_at = changed.attempted_at = utcnow() - timedelta(days=9)
            changed.state = JobState.COMPLETED
            return changed

        await oban_engine.update_jobs([id_of(job)], forge)
        stored = await reload(oban_engine, job)
        assert stored.priority == 5
        assert stored.attempt == 1 and stored.errors == [] and stored.attempted_by == ["node-a"]
        assert stored.state is JobState.EXECUTING
        assert stored.inserted_at == job.inserted_at and stored.attempted_at == claimed.attempted_at

    async def test_new_versions_come_back_in_id_order(self, oban_engine: Engine) -> None:
        jobs = await insert_many(oban_engine, 4)
        ids = job_ids(jobs)
        updated = await oban_engine.update_jobs(list(reversed(ids)), lambda j: j.update({"priority": 2}))
        assert [job.id for job in updated] == sorted(ids)

    async def test_rescheduling_moves_a_waiting_job_between_available_and_scheduled(self, oban_engine: Engine) -> None:
        job = await insert(oban_engine)
        later = utcnow() + timedelta(hours=1)

        def reschedule(when: datetime) -> Callable[[Job], Job]:
            def change(current: Job) -> Job:
                changed = current.update({"scheduled_at": when})
                changed.state = schedule_state(changed.state, changed.scheduled_at, utcnow())
                return changed

            return change

        await oban_engine.update_jobs([id_of(job)], reschedule(later))
        assert (await reload(oban_engine, job)).state is JobState.SCHEDULED
        await oban_engine.update_jobs([id_of(job)], reschedule(utcnow() - timedelta(seconds=1)))
        assert (await reload(oban_engine, job)).state is JobState.AVAILABLE
