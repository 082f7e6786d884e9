"""The leader's chores: staging due jobs, pruning finished ones, rescuing orphans."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ..._time import utcnow
from ...engines.protocol import RESCUE_ERROR
from ...job import JobState
from ._helpers import ack, claim, close_to, insert, insert_many, reload

pytestmark = pytest.mark.asyncio


class TestStage:
    async def test_due_scheduled_and_retryable_jobs_become_available(self, engine):
        due = await insert(engine, queue="a", schedule_in=30)
        later = await insert(engine, queue="b", schedule_in=3600)
        await insert(engine, queue="c")
        [running] = await claim(engine, queue="c")
        error = {"at": "x", "attempt": 1, "error": "e"}
        await engine.ack_jobs([ack(running, JobState.RETRYABLE, delay=30, error=error)])
        queues = await engine.stage_jobs(utcnow() + timedelta(seconds=60), 100)
        assert sorted(queues) == ["a", "c"]
        assert (await reload(engine, due)).state is JobState.AVAILABLE
        assert (await reload(engine, running)).state is JobState.AVAILABLE
        assert (await reload(engine, later)).state is JobState.SCHEDULED

    async def test_staging_can_be_limited_to_one_queue(self, engine):
        mine = await insert(engine, queue="mine", schedule_in=30)
        theirs = await insert(engine, queue="theirs", schedule_in=30)
        queues = await engine.stage_jobs(utcnow() + timedelta(seconds=60), 100, "mine")
        assert queues == ["mine"]
        assert (await reload(engine, mine)).state is JobState.AVAILABLE
        assert (await reload(engine, theirs)).state is JobState.SCHEDULED

    async def test_staging_respects_its_limit(self, engine):
        await insert_many(engine, 5, schedule_in=10)
        await engine.stage_jobs(utcnow() + timedelta(seconds=60), 3)
        assert len(await engine.list_jobs(states=[JobState.AVAILABLE])) == 3

    async def test_nothing_due_stages_nothing(self, engine):
        await insert(engine, schedule_in=60)
        assert await engine.stage_jobs(utcnow(), 100) == []


class TestPrune:
    async def test_prunes_only_finished_jobs_older_than_the_cutoff(self, engine):
        for queue in ("completed", "cancelled", "discarded", "executing"):
            await insert(engine, queue=queue)
            [job] = await claim(engine, queue=queue)
            state = {"executing": None, "completed": JobState.COMPLETED, "cancelled": JobState.CANCELLED,
                     "discarded": JobState.DISCARDED}[queue]
            if state is not None:
                await engine.ack_jobs([ack(job, state, error=None if state is JobState.COMPLETED else
                                           {"at": "x", "attempt": 1, "error": "e"})])
        available = await insert(engine)
        scheduled = await insert(engine, schedule_in=60)
        assert await engine.prune_jobs(utcnow() - timedelta(seconds=60), 100) == 0
        assert await engine.prune_jobs(utcnow() + timedelta(seconds=1), 100) == 3
        remaining = {job.id for job in await engine.list_jobs()}
        assert len(remaining) == 3 and {available.id, scheduled.id} <= remaining

    async def test_pruning_respects_its_limit(self, engine):
        await insert_many(engine, 5)
        jobs = await claim(engine)
        await engine.ack_jobs([ack(job, JobState.COMPLETED) for job in jobs])
        assert await engine.prune_jobs(utcnow() + timedelta(seconds=1), 2) == 2
        assert len(await engine.list_jobs()) == 3


class TestRescue:
    async def test_orphaned_jobs_return_to_available_or_are_discarded_when_spent(self, engine):
        retriable = await insert(engine, queue="a", max_attempts=3)
        spent = await insert(engine, queue="b", max_attempts=1)
        await claim(engine, queue="a")
        await claim(engine, queue="b")
        assert await engine.rescue_jobs(utcnow() - timedelta(seconds=60), utcnow()) == (0, 0)
        assert await engine.rescue_jobs(utcnow() + timedelta(seconds=1), utcnow()) == (1, 1)
        rescued = await reload(engine, retriable)
        assert rescued.state is JobState.AVAILABLE
        assert [(e["attempt"], e["error"]) for e in rescued.errors] == [(1, RESCUE_ERROR)]
        stored = await reload(engine, spent)
        assert stored.state is JobState.DISCARDED and stored.discarded_at is not None
        assert [(e["attempt"], e["error"]) for e in stored.errors] == [(1, RESCUE_ERROR)]
        assert close_to(datetime.fromisoformat(stored.errors[0]["at"]), utcnow(), 5)
