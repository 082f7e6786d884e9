"""Claiming jobs: order, limits, what is eligible, and no job claimed twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from ..._time import utcnow
from ...engines.protocol import Engine
from ...job import JobState
from ._helpers import EngineFactory, ack, claim, close_to, insert, insert_many, job_ids, reload


@pytest.mark.asyncio
class TestFetch:
    async def test_claims_in_priority_then_scheduled_at_then_id_order(self, oban_engine: Engine) -> None:
        now = utcnow()
        late = await insert(oban_engine, args={"k": "late"}, scheduled_at=now - timedelta(seconds=1))
        early = await insert(oban_engine, args={"k": "early"}, scheduled_at=now - timedelta(seconds=10))
        urgent = await insert(oban_engine, args={"k": "urgent"}, priority=0, scheduled_at=now)
        low = await insert(oban_engine, args={"k": "low"}, priority=3, scheduled_at=now - timedelta(hours=1))
        tie_a = await insert(oban_engine, args={"k": "tie_a"}, scheduled_at=now - timedelta(seconds=5))
        tie_b = await insert(oban_engine, args={"k": "tie_b"}, scheduled_at=tie_a.scheduled_at)
        claimed = await claim(oban_engine, demand=10)
        assert [job.id for job in claimed] == [early.id, tie_a.id, tie_b.id, late.id, urgent.id, low.id]

    async def test_claims_no_more_than_demand(self, oban_engine: Engine) -> None:
        await insert_many(oban_engine, 10)
        first = await claim(oban_engine, demand=4)
        second = await claim(oban_engine, demand=4)
        third = await claim(oban_engine, demand=4)
        assert [len(first), len(second), len(third)] == [4, 4, 2]
        assert await claim(oban_engine, demand=4) == []

    async def test_claims_only_available_jobs_of_the_queue(self, oban_engine: Engine) -> None:
        wanted = await insert(oban_engine, queue="default")
        await insert(oban_engine, queue="other")
        await insert(oban_engine, queue="default", schedule_in=600)
        claimed = await claim(oban_engine, queue="default")
        assert [job.id for job in claimed] == [wanted.id]

    async def test_a_claimed_job_is_executing_with_its_attempt_recorded(self, oban_engine: Engine) -> None:
        job = await insert(oban_engine)
        before = utcnow()
        [claimed] = await claim(oban_engine, node="worker.7")
        assert claimed.state is JobState.EXECUTING and claimed.attempt == 1
        assert claimed.attempted_by[-1] == "worker.7"
        assert close_to(claimed.attempted_at, before, 5)
        stored = await reload(oban_engine, job)
        assert stored.state is JobState.EXECUTING and stored.attempt == 1
        assert stored.attempted_by[-1] == "worker.7"

    async def test_jobs_with_no_attempts_left_are_not_claimed(self, oban_engine: Engine) -> None:
        await insert(oban_engine, max_attempts=1)
        [first] = await claim(oban_engine)
        error = {"at": "x", "attempt": 1, "error": "e"}
        await oban_engine.ack_jobs([ack(first, JobState.RETRYABLE, delay=-1, error=error)])
        await oban_engine.stage_jobs(utcnow(), 100)
        assert (await reload(oban_engine, first)).state is JobState.AVAILABLE
        assert await claim(oban_engine) == []

    async def test_concurrent_claimers_never_claim_the_same_job(self, oban_engine_factory: EngineFactory) -> None:
        engines = [await oban_engine_factory() for _ in range(4)]
        jobs = await insert_many(engines[0], 400)
        claimed: list[int] = []

        async def drain(engine: Engine, node: str) -> None:
            while True:
                batch = await engine.fetch_jobs("default", 7, node, utcnow())
                if not batch:
                    return
                claimed.extend(job_ids(batch))

        await asyncio.gather(*(drain(engine, f"node-{i}") for i, engine in enumerate(engines * 2)))
        assert sorted(claimed) == sorted(job_ids(jobs))
        assert len(claimed) == len(set(claimed))

    async def test_no_demand_claims_nothing(self, oban_engine: Engine) -> None:
        job = await insert(oban_engine)
        assert await claim(oban_engine, demand=0) == []
        assert await claim(oban_engine, demand=-3) == []
        assert (await reload(oban_engine, job)).state is JobState.AVAILABLE

    async def test_a_claim_records_the_node_and_the_producer(self, oban_engine: Engine) -> None:
        await insert_many(oban_engine, 2)
        producer = "5b1a4b0e-6a0a-4f7e-9b2a-0e0c3d1f2a3b"
        [with_producer] = await oban_engine.fetch_jobs("default", 1, "node-a", utcnow(), producer)
        [bare] = await oban_engine.fetch_jobs("default", 1, "node-b", utcnow())
        assert with_producer.attempted_by == ["node-a", producer]
        assert bare.attempted_by == ["node-b"]
        assert (await reload(oban_engine, with_producer)).attempted_by == with_producer.attempted_by

    async def test_a_new_claim_replaces_the_previous_claimer(self, oban_engine: Engine) -> None:
        await insert(oban_engine)
        [first] = await claim(oban_engine, node="node-a")
        error = {"at": "x", "attempt": 1, "error": "e"}
        await oban_engine.ack_jobs([ack(first, JobState.RETRYABLE, delay=-1, error=error)])
        await oban_engine.stage_jobs(utcnow(), 10)
        [second] = await claim(oban_engine, node="node-b")
        assert second.attempted_by == ["node-b"] and second.attempt == 2

    async def test_claimed_jobs_are_copies(self, oban_engine: Engine) -> None:
        job = await insert(oban_engine, args={"list": [1]})
        [claimed] = await claim(oban_engine)
        claimed.args["list"].append(2)
        claimed.attempted_by.append("forged")
        stored = await reload(oban_engine, job)
        assert stored.args == {"list": [1]} and stored.attempted_by == ["node-a"]

    async def test_an_engine_claims_jobs_another_engine_inserted(self, oban_engine_factory: EngineFactory) -> None:
        one, other = await oban_engine_factory(), await oban_engine_factory()
        job = await insert(one)
        [claimed] = await claim(other)
        assert claimed.id == job.id
