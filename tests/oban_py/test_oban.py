"""The ``Oban`` facade: inserting, reading and managing jobs and queues, as oban-py's users do."""

from __future__ import annotations

import pytest

from oban import Job, JobState, Oban, QueueInfo, worker
from tests.support import wait_until


@worker(queue="default")
class Sample:
    async def process(self, job):  # type: ignore[no-untyped-def]
        return None


async def test_enqueue_many_takes_jobs_an_iterable_or_a_generator(oban_instance):
    oban = oban_instance()
    one = await oban.enqueue(Sample.new({"n": 0}))
    variadic = await oban.enqueue_many(Sample.new({"n": 1}), Sample.new({"n": 2}))
    listed = await oban.enqueue_many([Sample.new({"n": 3})])
    generated = await oban.enqueue_many(Sample.new({"n": n}) for n in range(4, 6))
    assert [j.args["n"] for j in [one, *variadic, *listed, *generated]] == [0, 1, 2, 3, 4, 5]
    assert all(j.id is not None and j.state == JobState.AVAILABLE for j in variadic)


async def test_get_retry_cancel_and_delete_take_a_job_or_an_id(oban_instance):
    oban = oban_instance()
    a, b, c = await oban.enqueue_many(Sample.new({}), Sample.new({}), Sample.new({}))
    assert (await oban.get_job(a.id)).id == a.id
    assert await oban.get_job(987654321) is None
    await oban.cancel_job(a)
    await oban.cancel_job(b.id)
    assert {(await oban.get_job(j.id)).state for j in (a, b)} == {JobState.CANCELLED}
    await oban.retry_job(a)
    assert (await oban.get_job(a.id)).state == JobState.AVAILABLE
    assert await oban.retry_many_jobs([b, c.id]) == 1  # c is available already
    await oban.delete_job(a)
    assert await oban.delete_many_jobs([b.id, c]) == 2
    assert await oban.get_job(a.id) is None


async def test_update_job_takes_a_dict_or_a_callable_and_names_a_missing_job(oban_instance):
    oban = oban_instance()
    job = await oban.enqueue(Sample.new({}, tags=["a"]))
    updated = await oban.update_job(job, {"priority": 0, "tags": ["urgent"]})
    assert (updated.priority, updated.tags) == (0, ["urgent"])
    updated = await oban.update_job(job.id, lambda j: {"tags": ["retry", *j.tags]})
    assert updated.tags == ["retry", "urgent"]
    moved = await oban.update_job(job, {"scheduled_in": 300})
    assert moved.state == JobState.SCHEDULED
    [many] = await oban.update_many_jobs([job], {"meta": {"batch_id": 456}})
    assert many.meta["batch_id"] == 456
    with pytest.raises(ValueError, match="Job with id 987654321 not found"):
        await oban.update_job(987654321, {"priority": 1})


def test_get_instance_finds_the_default_and_raises_runtime_error_otherwise(oban_test_engine):
    oban = Oban(engine=oban_test_engine)
    assert Oban.get_instance() is oban and Oban.get_instance("Oban") is oban
    with pytest.raises(RuntimeError, match="nowhere"):
        Oban.get_instance("nowhere")


@pytest.mark.parametrize("limit", [0, -1])
def test_a_queue_limit_must_be_positive(oban_test_engine, limit):
    with pytest.raises(ValueError, match="limit must be positive"):
        Oban(engine=oban_test_engine, queues={"default": limit})


async def test_queues_are_checked_paused_resumed_and_scaled(oban_instance):
    oban = oban_instance(queues={"default": 2, "mailers": {"limit": 1, "paused": True}})
    async with oban:
        info = oban.check_queue("default")
        assert isinstance(info, QueueInfo) and (info.limit, info.paused, info.running) == (2, False, [])
        assert info.uuid and info.meta["local_limit"] == 2 and info.node == oban.node
        assert oban.check_queue("mailers").paused is True
        assert oban.check_queue("missing") is None
        await oban.pause_queue("default")
        await wait_until(lambda: oban.check_queue("default").paused)
        await oban.resume_queue("default")
        await oban.scale_queue("default", limit=5)
        await wait_until(lambda: oban.check_queue("default").limit == 5 and not oban.check_queue("default").paused)
        await oban.stop_queue("mailers")
        await wait_until(lambda: oban.check_queue("mailers") is None)
        await oban.start_queue("extra", limit=3)
        await wait_until(lambda: oban.check_queue("extra") is not None)
        assert sorted(q.queue for q in oban.check_all_queues()) == ["default", "extra"]


async def test_oban_pys_option_spellings_are_accepted(oban_instance):
    oban = oban_instance(
        queues={"default": 1},
        stager={"interval": 0.2, "limit": 100},
        pruner={"max_age": 3600, "interval": 60},
        lifeline={"interval": 30, "rescue_after": 300},
        scheduler={"timezone": "Europe/Paris"},
        refresher={"interval": 2},
        shutdown_grace_period=1.0,
    )
    assert oban.stage_interval == 0.2 and oban.shutdown_grace_period == 1.0
    with pytest.raises(ValueError, match="stager has unknown option"):
        oban_instance(stager={"speed": 1})


async def test_a_job_runs_and_completes_through_a_started_instance(oban_instance):
    oban = oban_instance(queues={"default": 2}, stager={"interval": 0.1})
    async with oban:
        job = await Sample.enqueue({"x": 1})

        async def completed() -> bool:
            return (await oban.get_job(job.id)).state == JobState.COMPLETED

        await wait_until(completed)
    assert isinstance(job, Job)
