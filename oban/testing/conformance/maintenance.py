"""The leader's chores: staging due jobs, pruning finished ones, rescuing orphans."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ..._time import utcnow
from ...engines.protocol import RESCUE_ERROR
from ...job import JobState
from ._helpers import ack, claim, close_to, insert, insert_many, reload


@pytest.mark.asyncio
class TestStage:
    async def test_due_scheduled_and_retryable_jobs_become_available(self, oban_engine):
        due = await insert(oban_engine, queue="a", schedule_in=30)
        later = await insert(oban_engine, queue="b", schedule_in=3600)
        await insert(oban_engine, queue="c")
        [running] = await claim(oban_engine, queue="c")
        error = {"at": "x", "attempt": 1, "error": "e"}
        await oban_engine.ack_jobs([ack(running, JobState.RETRYABLE, delay=30, error=error)])
        queues = await oban_engine.stage_jobs(utcnow() + timedelta(seconds=60), 100)
        assert sorted(queues) == ["a", "c"]
        assert (await reload(oban_engine, due)).state is JobState.AVAILABLE
        assert (await reload(oban_engine, running)).state is JobState.AVAILABLE
        assert (await reload(oban_engine, later)).state is JobState.SCHEDULED

    async def test_staging_can_be_limited_to_one_queue(self, oban_engine):
        mine = await insert(oban_engine, queue="mine", schedule_in=30)
        theirs = await insert(oban_engine, queue="theirs", schedule_in=30)
        queues = await oban_engine.stage_jobs(utcnow() + timedelta(seconds=60), 100, "mine")
        assert queues == ["mine"]
        assert (await reload(oban_engine, mine)).state is JobState.AVAILABLE
        assert (await reload(oban_engine, theirs)).state is JobState.SCHEDULED

    async def test_staging_respects_its_limit(self, oban_engine):
        await insert_many(oban_engine, 5, schedule_in=10)
        await oban_engine.stage_jobs(utcnow() + timedelta(seconds=60), 3)
        assert len(await oban_engine.list_jobs(states=[JobState.AVAILABLE])) == 3

    async def test_nothing_due_stages_nothing(self, oban_engine):
        await insert(oban_engine, schedule_in=60)
        assert await oban_engine.stage_jobs(utcnow(), 100) == []


@pytest.mark.asyncio
class TestPrune:
    async def test_prunes_only_finished_jobs_older_than_the_cutoff(self, oban_engine):
        for queue in ("completed", "cancelled", "discarded", "executing"):
            await insert(oban_engine, queue=queue)
            [job] = await claim(oban_engine, queue=queue)
            state = {"executing": None, "completed": JobState.COMPLETED, "cancelled": JobState.CANCELLED,
                     "discarded": JobState.DISCARDED}[queue]
            if state is not None:
                await oban_engine.ack_jobs([ack(job, state, error=None if state is JobState.COMPLETED else
                                           {"at": "x", "attempt": 1, "error": "e"})])
        available = await insert(oban_engine)
        scheduled = await insert(oban_engine, schedule_in=60)
        assert await oban_engine.prune_jobs(utcnow() - timedelta(seconds=60), 100) == 0
        assert await oban_engine.prune_jobs(utcnow() + timedelta(seconds=1), 100) == 3
        remaining = {job.id for job in await oban_engine.list_jobs()}
        assert len(remaining) == 3 and {available.id, scheduled.id} <= remaining

    async def test_pruning_respects_its_limit(self, oban_engine):
        await insert_many(oban_engine, 5)
        jobs = await claim(oban_engine)
        await oban_engine.ack_jobs([ack(job, JobState.COMPLETED) for job in jobs])
        assert await oban_engine.prune_jobs(utcnow() + timedelta(seconds=1), 2) == 2
        assert len(await oban_engine.list_jobs()) == 3


@pytest.mark.asyncio
class TestRescue:
    async def test_orphaned_jobs_return_to_available_or_are_discarded_when_spent(self, oban_engine):
        retriable = await insert(oban_engine, queue="a", max_attempts=3)
        spent = await insert(oban_engine, queue="b", max_attempts=1)
        await claim(oban_engine, queue="a")
        await claim(oban_engine, queue="b")
        assert await oban_engine.rescue_jobs(utcnow() - timedelta(seconds=60), utcnow()) == (0, 0)
        assert await oban_engine.rescue_jobs(utcnow() + timedelta(seconds=1), utcnow()) == (1, 1)
        rescued = await reload(oban_engine, retriable)
        assert rescued.state is JobState.AVAILABLE
        assert [(e["attempt"], e["error"]) for e in rescued.errors] == [(1, RESCUE_ERROR)]
        stored = await reload(oban_engine, spent)
        assert stored.state is JobState.DISCARDED and stored.discarded_at is not None
        assert [(e["attempt"], e["error"]) for e in stored.errors] == [(1, RESCUE_ERROR)]
        assert close_to(datetime.fromisoformat(stored.errors[0]["at"]), utcnow(), 5)
