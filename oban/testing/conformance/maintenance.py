"""The leader's chores: staging due jobs, pruning finished ones, rescuing orphans."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import uuid4

import pytest

from ..._time import to_iso, utcnow
from ...engines.protocol import PRODUCER_RETENTION, RESCUE_ERROR, Engine, ProducerRecord
from ...job import JobState
from ._helpers import ack, claim, close_to, insert, insert_many, reload


@pytest.mark.asyncio
class TestStage:
    async def test_due_scheduled_and_retryable_jobs_become_available(self, oban_engine: Engine) -> None:
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

    async def test_staging_can_be_limited_to_one_queue(self, oban_engine: Engine) -> None:
        mine = await insert(oban_engine, queue="mine", schedule_in=30)
        theirs = await insert(oban_engine, queue="theirs", schedule_in=30)
        queues = await oban_engine.stage_jobs(utcnow() + timedelta(seconds=60), 100, "mine")
        assert queues == ["mine"]
        assert (await reload(oban_engine, mine)).state is JobState.AVAILABLE
        assert (await reload(oban_engine, theirs)).state is JobState.SCHEDULED

    async def test_staging_respects_its_limit(self, oban_engine: Engine) -> None:
        await insert_many(oban_engine, 5, schedule_in=10)
        await oban_engine.stage_jobs(utcnow() + timedelta(seconds=60), 3)
        assert len(await oban_engine.list_jobs(states=[JobState.AVAILABLE])) == 3

    async def test_nothing_due_stages_nothing(self, oban_engine: Engine) -> None:
        await insert(oban_engine, schedule_in=60)
        assert await oban_engine.stage_jobs(utcnow(), 100) == []

    async def test_each_queue_is_returned_once_and_sorted(self, oban_engine: Engine) -> None:
        for queue in ("b", "a", "b", "c", "a"):
            await insert(oban_engine, queue=queue, schedule_in=5)
        assert await oban_engine.stage_jobs(utcnow() + timedelta(seconds=60), 100) == ["a", "b", "c"]

    async def test_only_waiting_jobs_are_staged(self, oban_engine: Engine) -> None:
        available = await insert(oban_engine, queue="x")
        await insert(oban_engine, queue="y")
        [executing] = await claim(oban_engine, queue="y")
        assert await oban_engine.stage_jobs(utcnow() + timedelta(days=1), 100) == []
        assert (await reload(oban_engine, available)).state is JobState.AVAILABLE
        assert (await reload(oban_engine, executing)).state is JobState.EXECUTING

    async def test_staging_keeps_scheduled_at(self, oban_engine: Engine) -> None:
        job = await insert(oban_engine, schedule_in=30)
        await oban_engine.stage_jobs(utcnow() + timedelta(seconds=60), 100)
        assert (await reload(oban_engine, job)).scheduled_at == job.scheduled_at


@pytest.mark.asyncio
class TestPrune:
    async def test_prunes_only_finished_jobs_older_than_the_cutoff(self, oban_engine: Engine) -> None:
        for queue in ("completed", "cancelled", "discarded", "executing"):
            await insert(oban_engine, queue=queue)
            [job] = await claim(oban_engine, queue=queue)
            state = {
                "executing": None,
                "completed": JobState.COMPLETED,
                "cancelled": JobState.CANCELLED,
                "discarded": JobState.DISCARDED,
            }[queue]
            if state is not None:
                await oban_engine.ack_jobs(
                    [
                        ack(
                            job,
                            state,
                            error=None if state is JobState.COMPLETED else {"at": "x", "attempt": 1, "error": "e"},
                        )
                    ]
                )
        available = await insert(oban_engine)
        scheduled = await insert(oban_engine, schedule_in=60)
        assert await oban_engine.prune_jobs(utcnow() - timedelta(seconds=60), 100) == 0
        assert await oban_engine.prune_jobs(utcnow() + timedelta(seconds=1), 100) == 3
        remaining = {job.id for job in await oban_engine.list_jobs()}
        assert len(remaining) == 3 and {available.id, scheduled.id} <= remaining

    async def test_pruning_respects_its_limit(self, oban_engine: Engine) -> None:
        await insert_many(oban_engine, 5)
        jobs = await claim(oban_engine)
        await oban_engine.ack_jobs([ack(job, JobState.COMPLETED) for job in jobs])
        assert await oban_engine.prune_jobs(utcnow() + timedelta(seconds=1), 2) == 2
        assert len(await oban_engine.list_jobs()) == 3


def _producer(
    uuid: str, *, queue: str = "default", node: str = "node-a", ttl: float = 10.0, at: datetime | None = None
) -> ProducerRecord:
    now = at or utcnow()
    meta = {"local_limit": 5, "paused": False, "running": [], "ttl": ttl}
    return ProducerRecord(uuid=uuid, name="oban", node=node, queue=queue, meta=meta, started_at=now, updated_at=now)

    async def test_pruning_goes_by_when_a_job_finished_not_when_it_was_inserted(self, oban_engine: Engine) -> None:
        await insert(oban_engine, scheduled_at=utcnow() - timedelta(days=3))
        [job] = await claim(oban_engine)
        await oban_engine.ack_jobs([ack(job, JobState.COMPLETED)])  # inserted long ago, finished now
        assert await oban_engine.prune_jobs(utcnow() - timedelta(minutes=1), 100) == 0
        assert await oban_engine.get_job(job.id) is not None

    async def test_each_final_state_is_pruned_by_its_own_timestamp(self, oban_engine: Engine) -> None:
        finished = {}
        error = {"at": "x", "attempt": 1, "error": "e"}
        for state in (JobState.COMPLETED, JobState.CANCELLED, JobState.DISCARDED):
            await insert(oban_engine, queue=state.value)
            [job] = await claim(oban_engine, queue=state.value)
            at = utcnow() - timedelta(hours=2)
            await oban_engine.ack_jobs([ack(job, state, at=at, error=None if state is JobState.COMPLETED else error)])
            finished[state] = job
        assert await oban_engine.prune_jobs(utcnow() - timedelta(hours=3), 100) == 0
        assert await oban_engine.prune_jobs(utcnow() - timedelta(hours=1), 100) == 3
        assert await oban_engine.list_jobs() == []

    async def test_waiting_and_running_jobs_are_never_pruned(self, oban_engine: Engine) -> None:
        long_ago = utcnow() - timedelta(days=30)
        await insert(oban_engine, scheduled_at=long_ago)
        await insert(oban_engine, queue="later", schedule_in=60)
        await insert(oban_engine, queue="running")
        await claim(oban_engine, queue="running")
        assert await oban_engine.prune_jobs(utcnow() + timedelta(days=1), 100) == 0
        assert len(await oban_engine.list_jobs()) == 3


@pytest.mark.asyncio
class TestRescue:
    async def test_jobs_of_unknown_producers_are_rescued_after_the_fallback_or_discarded_when_spent(
        self, oban_engine: Engine
    ) -> None:
        retriable = await insert(oban_engine, queue="a", max_attempts=3)
        spent = await insert(oban_engine, queue="b", max_attempts=1)
        await claim(oban_engine, queue="a")
        await claim(oban_engine, queue="b")
        assert await oban_engine.rescue_jobs(utcnow(), utcnow() - timedelta(seconds=60)) == (0, 0)
        assert await oban_engine.rescue_jobs(utcnow(), utcnow() + timedelta(seconds=1)) == (1, 1)
        rescued = await reload(oban_engine, retriable)
        assert rescued.state is JobState.AVAILABLE
        assert [(e["attempt"], e["error"]) for e in rescued.errors] == [(1, RESCUE_ERROR)]
        stored = await reload(oban_engine, spent)
        assert stored.state is JobState.DISCARDED and stored.discarded_at is not None
        assert [(e["attempt"], e["error"]) for e in stored.errors] == [(1, RESCUE_ERROR)]
        assert close_to(datetime.fromisoformat(stored.errors[0]["at"]), utcnow(), 5)

    async def test_a_job_of_a_live_producer_is_never_rescued_however_long_it_runs(self, oban_engine: Engine) -> None:
        live = str(uuid4())
        await oban_engine.record_producers([_producer(live)])
        job = await insert(oban_engine)
        await oban_engine.fetch_jobs("default", 1, "node-a", utcnow() - timedelta(hours=5), live)
        assert await oban_engine.rescue_jobs(utcnow(), utcnow()) == (0, 0)
        assert (await reload(oban_engine, job)).state is JobState.EXECUTING

    async def test_a_job_of_a_producer_that_stopped_heartbeating_is_rescued_at_once(self, oban_engine: Engine) -> None:
        dead = str(uuid4())
        await oban_engine.record_producers([_producer(dead, ttl=10, at=utcnow() - timedelta(seconds=11))])
        job = await insert(oban_engine)
        [claimed] = await oban_engine.fetch_jobs("default", 1, "node-a", utcnow(), dead)
        assert claimed.attempted_by == ["node-a", dead]
        # The fallback would wait an hour; the stale heartbeat needs no waiting.
        assert await oban_engine.rescue_jobs(utcnow(), utcnow() - timedelta(hours=1)) == (1, 0)
        stored = await reload(oban_engine, job)
        assert stored.state is JobState.AVAILABLE and stored.errors[-1]["error"] == RESCUE_ERROR

    async def test_retired_producers_leave_their_running_jobs_to_be_rescued(self, oban_engine: Engine) -> None:
        stopped, running = str(uuid4()), str(uuid4())
        await oban_engine.record_producers([_producer(stopped, queue="a"), _producer(running, queue="b")])
        left = await insert(oban_engine, queue="a")
        kept = await insert(oban_engine, queue="b")
        await oban_engine.fetch_jobs("a", 1, "node-a", utcnow(), stopped)
        await oban_engine.fetch_jobs("b", 1, "node-a", utcnow(), running)
        await oban_engine.retire_producers([stopped, str(uuid4())], utcnow())
        soon = utcnow() + timedelta(seconds=0.01)
        assert await oban_engine.rescue_jobs(soon, utcnow() - timedelta(hours=1)) == (1, 0)
        assert (await reload(oban_engine, left)).state is JobState.AVAILABLE
        assert (await reload(oban_engine, kept)).state is JobState.EXECUTING

    async def test_a_rescue_entry_is_stamped_in_the_kits_iso_format(self, oban_engine: Engine) -> None:
        await insert(oban_engine)
        [job] = await claim(oban_engine)
        now = utcnow()
        await oban_engine.rescue_jobs(now, now + timedelta(seconds=1))
        [entry] = (await reload(oban_engine, job)).errors
        assert entry == {"at": to_iso(now), "attempt": 1, "error": RESCUE_ERROR}

    async def test_only_executing_jobs_are_rescued(self, oban_engine: Engine) -> None:
        waiting = await insert(oban_engine)
        await insert(oban_engine, queue="done")
        [done] = await claim(oban_engine, queue="done")
        await oban_engine.ack_jobs([ack(done, JobState.COMPLETED)])
        assert await oban_engine.rescue_jobs(utcnow(), utcnow() + timedelta(days=1)) == (0, 0)
        assert (await reload(oban_engine, waiting)).errors == []
        assert (await reload(oban_engine, done)).state is JobState.COMPLETED


@pytest.mark.asyncio
class TestHeartbeats:
    async def test_recorded_producers_are_listed_with_what_their_heartbeat_said(self, oban_engine: Engine) -> None:
        first, second = str(uuid4()), str(uuid4())
        at = utcnow().replace(microsecond=0)
        await oban_engine.record_producers([_producer(first, queue="b", at=at), _producer(second, queue="a", at=at)])
        listed = await oban_engine.list_producers()
        assert [(p.queue, p.uuid) for p in listed] == [("a", second), ("b", first)]
        assert listed[0].meta == {"local_limit": 5, "paused": False, "running": [], "ttl": 10.0}
        assert listed[0].node == "node-a" and listed[0].name == "oban"
        assert close_to(listed[0].started_at, at, 0.001) and close_to(listed[0].updated_at, at, 0.001)
        assert listed[0].alive(at + timedelta(seconds=9)) and not listed[0].alive(at + timedelta(seconds=11))

    async def test_a_heartbeat_refreshes_meta_and_time_and_keeps_the_start(self, oban_engine: Engine) -> None:
        uuid = str(uuid4())
        start = utcnow() - timedelta(minutes=5)
        await oban_engine.record_producers([_producer(uuid, at=start)])
        later = ProducerRecord(
            uuid=uuid,
            name="oban",
            node="node-a",
            queue="default",
            meta={"local_limit": 9, "paused": True, "ttl": 10},
            started_at=utcnow(),
            updated_at=utcnow(),
        )
        await oban_engine.record_producers([later])
        [stored] = await oban_engine.list_producers()
        assert stored.meta["local_limit"] == 9 and stored.meta["paused"] is True
        assert close_to(stored.started_at, start, 0.01) and close_to(stored.updated_at, utcnow(), 5)
        assert stored.alive(utcnow())

    async def test_a_retired_producer_is_stale_at_once(self, oban_engine: Engine) -> None:
        uuid = str(uuid4())
        await oban_engine.record_producers([_producer(uuid)])
        await oban_engine.retire_producers([uuid], utcnow())
        [stored] = await oban_engine.list_producers()
        assert not stored.alive(utcnow() + timedelta(seconds=0.01))

    async def test_rescue_forgets_producers_stale_for_longer_than_the_retention(self, oban_engine: Engine) -> None:
        old, recent = str(uuid4()), str(uuid4())
        long_ago = utcnow() - timedelta(seconds=PRODUCER_RETENTION + 60)
        await oban_engine.record_producers([_producer(old, at=long_ago), _producer(recent, queue="q")])
        await oban_engine.rescue_jobs(utcnow(), utcnow() - timedelta(hours=1))
        assert [p.uuid for p in await oban_engine.list_producers()] == [recent]
