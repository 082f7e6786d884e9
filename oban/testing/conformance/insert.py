"""Inserting jobs: single, bulk, transactional, unique."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ..._time import utcnow
from ...engines.protocol import Engine
from ...job import Job, JobState, UniqueOptions
from ._helpers import (
    EngineFactory,
    Inbox,
    ack,
    claim,
    close_to,
    eventually,
    id_of,
    insert,
    insert_many,
    new_job,
    reload,
)


def _unique(job: Job, **options: Any) -> Job:
    """Make ``job`` unique with ``options`` (Oban's defaults when none are given)."""
    job.unique = UniqueOptions.parse(options or True)
    return job


@pytest.mark.asyncio
class TestInsert:
    async def test_insert_returns_the_stored_job_with_id_and_timestamps(self, oban_engine: Engine) -> None:
        before = utcnow()
        job = await insert(oban_engine, args={"to": "a@b.c"}, queue="mailers")
        assert isinstance(job.id, int) and job.id > 0
        assert job.state is JobState.AVAILABLE
        assert close_to(job.inserted_at, before, 5) and close_to(job.scheduled_at, before, 5)
        stored = await reload(oban_engine, job)
        assert stored.args == {"to": "a@b.c"} and stored.queue == "mailers"
        assert stored.attempt == 0 and stored.errors == [] and stored.attempted_by == []

    async def test_bulk_insert_keeps_order_and_assigns_distinct_ids(self, oban_engine: Engine) -> None:
        jobs = await insert_many(oban_engine, 250)
        assert [job.args["n"] for job in jobs] == list(range(250))
        ids = [job.id for job in jobs]
        assert len(set(ids)) == 250
        for job in jobs[::50]:
            assert (await reload(oban_engine, job)).args == job.args

    async def test_every_field_round_trips(self, oban_engine: Engine) -> None:
        scheduled = datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
        args = {
            "text": "héllo wörld ✓ 日本語 🎉",
            "nested": {"list": [1, 2.5, None, True, {"deep": []}]},
            "big": 2**63 - 1,
            "negative": -(2**62),
            "float": 0.1,
            "empty": {},
        }
        job = await insert(
            oban_engine,
            args=args,
            meta={"trace": "x" * 300, "n": 1},
            tags=["B", "a", " a "],
            queue="q-1",
            priority=9,
            max_attempts=3,
            scheduled_at=scheduled,
        )
        stored = await reload(oban_engine, job)
        assert stored.args == args
        assert stored.meta == {"trace": "x" * 300, "n": 1}
        assert stored.tags == ["a", "b"]
        assert (stored.queue, stored.priority, stored.max_attempts) == ("q-1", 9, 3)
        assert stored.state is JobState.SCHEDULED
        assert stored.scheduled_at == scheduled
        assert stored.worker == job.worker

    async def test_the_jobs_given_are_left_untouched(self, oban_engine: Engine) -> None:
        meta = {"m": 1}
        given = [new_job(args={"n": 1}, meta=meta), _unique(new_job(args={"n": 2}, meta=meta))]
        stored = await oban_engine.insert_jobs(given)
        assert all(job.id is not None for job in stored)
        assert [job.id for job in given] == [None, None] and [job.inserted_at for job in given] == [None, None]
        assert given[0].meta == {"m": 1} and given[1].meta == {"m": 1} and meta == {"m": 1}
        assert all(s is not g for s, g in zip(stored, given, strict=True))

    async def test_a_job_scheduled_in_the_future_is_scheduled(self, oban_engine: Engine) -> None:
        job = await insert(oban_engine, schedule_in=3600)
        stored = await reload(oban_engine, job)
        assert stored.state is JobState.SCHEDULED
        assert close_to(stored.scheduled_at, utcnow() + timedelta(hours=1), 5)

    async def test_a_bulk_insert_is_all_or_nothing(self, oban_engine: Engine) -> None:
        good = new_job(args={"ok": 1})
        bad = new_job(args={"ok": 2})
        bad.args["when"] = object()
        with pytest.raises(ValueError, match="args"):
            await oban_engine.insert_jobs([good, bad])
        assert await oban_engine.list_jobs() == []

    async def test_insert_notifies_the_queues_that_gained_available_jobs(self, oban_engine: Engine) -> None:
        received: list[tuple[str, dict[str, Any]]] = []
        handler = lambda channel, payload: received.append((channel, payload))  # noqa: E731
        await oban_engine.listen(handler)
        await oban_engine.insert_jobs(
            [new_job(queue="alpha"), new_job(queue="beta"), new_job(queue="later", schedule_in=600)]
        )
        for _ in range(100):
            if {p.get("queue") for c, p in received if c == "insert"} >= {"alpha", "beta"}:
                break
            await asyncio.sleep(0.02)
        queues = {p.get("queue") for c, p in received if c == "insert"}
        assert {"alpha", "beta"} <= queues
        assert "later" not in queues
        await oban_engine.unlisten(handler)

    async def test_a_job_given_no_schedule_is_scheduled_at_its_insertion(self, oban_engine: Engine) -> None:
        job = await insert(oban_engine)
        stored = await reload(oban_engine, job)
        assert stored.scheduled_at == stored.inserted_at == job.inserted_at

    async def test_the_returned_job_is_not_the_stored_one(self, oban_engine: Engine) -> None:
        job = await insert(oban_engine, args={"list": [1]}, meta={"m": {"x": 1}}, tags=["t"])
        job.args["list"].append(2)
        job.meta["m"]["x"] = 2
        job.tags.append("u")
        stored = await reload(oban_engine, job)
        assert stored.args == {"list": [1]} and stored.meta == {"m": {"x": 1}} and stored.tags == ["t"]

    async def test_json_round_trips_exactly(self, oban_engine: Engine) -> None:
        tricky = {
            "unicode": "h\u00e9llo \u65e5\u672c \U0001f389 \u2028 \\ \" '",
            "keys with spaces and \u00fcn\u00efcode": "ok",
            "ints": [0, -1, 2**31, 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1],
            "floats": [0.1, 1.5, -2.25, 1e-300, 1.7976931348623157e308, 1e21, 123456789.123456789],
            "nested": {"a": [1, {"b": [None, True, False, {"c": "d"}]}], "empty": {}, "list": []},
        }
        job = await insert(oban_engine, args=tricky, meta={"m": tricky}, tags=["\u00fcmlaut", "\U0001f389"])
        stored = await reload(oban_engine, job)
        assert stored.args == tricky and stored.meta == {"m": tricky}
        assert stored.tags == sorted(["\u00fcmlaut", "\U0001f389"])
        [claimed] = await claim(oban_engine, node="n\u00f6de-\u2713")
        assert claimed.args == tricky and claimed.attempted_by == ["n\u00f6de-\u2713"]

    async def test_a_batch_announces_each_queue_once(self, oban_engine: Engine) -> None:
        inbox = Inbox()
        await oban_engine.listen(inbox)
        await oban_engine.insert_jobs([new_job(queue="busy") for _ in range(5)] + [new_job(queue="calm")])
        await eventually(lambda: inbox.received("insert", queue="calm"))
        await inbox.settle(oban_engine)
        await asyncio.sleep(0.3)  # a second announcement would arrive by now
        assert len(inbox.received("insert", queue="busy")) == 1
        await oban_engine.unlisten(inbox)

    async def test_a_conflict_wakes_nobody(self, oban_engine: Engine) -> None:
        await oban_engine.insert_jobs([_unique(new_job(queue="uq", args={"k": 1}))])
        inbox = Inbox()
        await oban_engine.listen(inbox)
        [again] = await oban_engine.insert_jobs([_unique(new_job(queue="uq", args={"k": 1}))])
        assert again.conflict
        await inbox.settle(oban_engine)
        await asyncio.sleep(0.3)
        assert inbox.received("insert") == []
        await oban_engine.unlisten(inbox)

    async def test_an_engine_checks_jobs_changed_after_they_were_built(self, oban_engine: Engine) -> None:
        job = new_job()
        job.priority = 10
        with pytest.raises(ValueError, match="priority"):
            await oban_engine.insert_jobs([new_job(), job])
        assert await oban_engine.list_jobs() == []


@pytest.mark.asyncio
class TestTransactionalInsert:
    async def test_jobs_inserted_in_a_committed_transaction_exist(self, oban_engine_factory: EngineFactory) -> None:
        engine = await oban_engine_factory()
        transaction = getattr(oban_engine_factory, "transaction", None)
        if transaction is None:
            pytest.skip("the engine factory provides no native transaction")
        async with transaction() as conn:
            job = (await engine.insert_jobs([new_job(args={"tx": 1})], conn=conn))[0]
            assert job.id is not None
        assert (await reload(engine, job)).args == {"tx": 1}

    async def test_jobs_inserted_in_a_rolled_back_transaction_vanish(self, oban_engine_factory: EngineFactory) -> None:
        engine = await oban_engine_factory()
        transaction = getattr(oban_engine_factory, "transaction", None)
        if transaction is None:
            pytest.skip("the engine factory provides no native transaction")
        with pytest.raises(RuntimeError, match="abort"):
            async with transaction() as conn:
                await engine.insert_jobs([new_job(args={"tx": 2})], conn=conn)
                raise RuntimeError("abort")
        assert await engine.list_jobs() == []

    async def test_jobs_inserted_in_a_transaction_stay_invisible_until_it_commits(
        self, oban_engine_factory: EngineFactory
    ) -> None:
        engine = await oban_engine_factory()
        transaction = getattr(oban_engine_factory, "transaction", None)
        if transaction is None:
            pytest.skip("the engine factory provides no native transaction")
        async with transaction() as conn:
            [job] = await engine.insert_jobs([new_job(args={"tx": 3})], conn=conn)
            assert await engine.get_job(id_of(job)) is None
            assert await engine.list_jobs() == []
        assert (await reload(engine, job)).state is JobState.AVAILABLE

    async def test_a_transactional_insert_is_announced_once_and_only_after_commit(
        self, oban_engine_factory: EngineFactory
    ) -> None:
        engine, other = await oban_engine_factory(), await oban_engine_factory()
        transaction = getattr(oban_engine_factory, "transaction", None)
        if transaction is None:
            pytest.skip("the engine factory provides no native transaction")
        inbox = Inbox()
        await other.listen(inbox)
        async with transaction() as conn:
            await engine.insert_jobs([new_job(queue="after-commit")], conn=conn)
            # No marker here: the open transaction may hold the database's only write lock (SQLite).
            await asyncio.sleep(0.6)
            assert inbox.received("insert", queue="after-commit") == []
        await eventually(lambda: inbox.received("insert", queue="after-commit"))
        await asyncio.sleep(0.3)
        assert len(inbox.received("insert", queue="after-commit")) == 1
        await other.unlisten(inbox)

    async def test_a_rolled_back_insert_is_never_announced(self, oban_engine_factory: EngineFactory) -> None:
        engine, other = await oban_engine_factory(), await oban_engine_factory()
        transaction = getattr(oban_engine_factory, "transaction", None)
        if transaction is None:
            pytest.skip("the engine factory provides no native transaction")
        inbox = Inbox()
        await other.listen(inbox)
        with pytest.raises(RuntimeError, match="roll back"):
            async with transaction() as conn:
                await engine.insert_jobs([new_job(queue="never")], conn=conn)
                raise RuntimeError("roll back")
        await inbox.settle(engine)
        await asyncio.sleep(0.5)
        assert inbox.received("insert", queue="never") == []
        await other.unlisten(inbox)


@pytest.mark.asyncio
class TestUniqueInsert:
    async def test_a_duplicate_returns_the_existing_job_marked_conflict(self, oban_engine: Engine) -> None:
        first = (await oban_engine.insert_jobs([_unique(new_job(args={"id": 1}))]))[0]
        second = (await oban_engine.insert_jobs([_unique(new_job(args={"id": 1}))]))[0]
        assert not first.conflict
        assert second.conflict and second.id == first.id
        assert len(await oban_engine.list_jobs()) == 1

    async def test_duplicates_are_found_from_the_unique_options_alone(self, oban_engine: Engine) -> None:
        # The oban_engine derives the key itself (Job.unique_key); nothing else needs to prepare the job.
        first = (await oban_engine.insert_jobs([new_job(args={"id": 1}, unique=True)]))[0]
        again = (await oban_engine.insert_jobs([new_job(args={"id": 1}, unique=True)]))[0]
        assert again.conflict and again.id == first.id
        assert len(await oban_engine.list_jobs()) == 1

    async def test_the_order_of_keys_does_not_make_jobs_distinct(self, oban_engine: Engine) -> None:
        first = (await oban_engine.insert_jobs([_unique(new_job(args={"a": 1, "b": {"x": 1, "y": 2}}))]))[0]
        again = (await oban_engine.insert_jobs([_unique(new_job(args={"b": {"y": 2, "x": 1}, "a": 1}))]))[0]
        assert again.conflict and again.id == first.id

    async def test_args_read_back_from_the_database_duplicate_themselves(self, oban_engine: Engine) -> None:
        args = {"zeta": 1, "alpha": [1, {"k2": 2, "k1": 1}], "mid": "m", "a": None}
        first = (await oban_engine.insert_jobs([_unique(new_job(args=args))]))[0]
        stored = await reload(oban_engine, first)
        again = (await oban_engine.insert_jobs([_unique(new_job(args=stored.args))]))[0]
        assert again.conflict and again.id == first.id

    async def test_distinct_unique_jobs_sharing_default_meta_are_all_stored(self, oban_engine: Engine) -> None:
        shared = {"source": "import"}
        jobs = [_unique(new_job(args={"n": n}, meta=shared)) for n in range(3)]
        stored = await oban_engine.insert_jobs(jobs)
        assert [job.conflict for job in stored] == [False, False, False]
        assert len({job.id for job in stored}) == 3 and len(await oban_engine.list_jobs()) == 3
        assert shared == {"source": "import"}

    async def test_a_duplicate_later_in_the_same_batch_conflicts_with_the_earlier_one(
        self, oban_engine: Engine
    ) -> None:
        stored = await oban_engine.insert_jobs([_unique(new_job(args={"n": 1})), _unique(new_job(args={"n": 1}))])
        assert [job.conflict for job in stored] == [False, True]
        assert stored[0].id == stored[1].id and len(await oban_engine.list_jobs()) == 1

    async def test_a_batch_of_distinct_keys_finds_each_ones_duplicate_by_its_own_options(
        self, oban_engine: Engine
    ) -> None:
        # Engines may look a batch's keys up together; each job still answers to its own states,
        # period and replace, and the batch comes back in input order with plain jobs in between.
        kept = (await oban_engine.insert_jobs([_unique(new_job(args={"n": 1}, schedule_in=60))]))[0]
        cancelled = (await oban_engine.insert_jobs([_unique(new_job(args={"n": 2}), states=["available"])]))[0]
        await oban_engine.cancel_jobs([id_of(cancelled)], utcnow())
        old = (await oban_engine.insert_jobs([_unique(new_job(args={"n": 3}), period=60, timestamp="scheduled_at")]))[0]
        long_ago = utcnow() - timedelta(hours=2)
        await oban_engine.update_jobs([id_of(old)], lambda job: job.update({"scheduled_at": long_ago}))
        later = utcnow() + timedelta(hours=3)
        replacing = _unique(new_job(args={"n": 1}, scheduled_at=later))
        replacing.replace = {JobState.SCHEDULED: ("scheduled_at",)}
        batch = [
            replacing,
            new_job(args={"plain": 1}),
            _unique(new_job(args={"n": 2}), states=["available"]),
            _unique(new_job(args={"n": 3}), period=60, timestamp="scheduled_at"),
            _unique(new_job(args={"n": 4})),
            new_job(args={"plain": 2}),
        ]
        stored = await oban_engine.insert_jobs(batch)
        assert [job.args for job in stored] == [job.args for job in batch]
        assert [job.conflict for job in stored] == [True, False, False, False, False, False]
        assert stored[0].id == kept.id
        assert close_to((await reload(oban_engine, kept)).scheduled_at, later, 0.01)
        assert stored[2].id != cancelled.id and stored[3].id != old.id
        assert len({job.id for job in stored}) == 6 and len(await oban_engine.list_jobs()) == 8

    async def test_different_args_are_not_duplicates(self, oban_engine: Engine) -> None:
        jobs = await oban_engine.insert_jobs([_unique(new_job(args={"id": 1})), _unique(new_job(args={"id": 2}))])
        assert [job.conflict for job in jobs] == [False, False]
        assert len(await oban_engine.list_jobs()) == 2

    async def test_keys_compare_only_the_named_args(self, oban_engine: Engine) -> None:
        first = (await oban_engine.insert_jobs([_unique(new_job(args={"id": 1, "at": 1}), keys=["id"])]))[0]
        again = (await oban_engine.insert_jobs([_unique(new_job(args={"id": 1, "at": 2}), keys=["id"])]))[0]
        assert again.conflict and again.id == first.id

    async def test_jobs_outside_the_unique_states_do_not_conflict(self, oban_engine: Engine) -> None:
        first = (await oban_engine.insert_jobs([_unique(new_job(args={"id": 1}), states=["available"])]))[0]
        await oban_engine.cancel_jobs([id_of(first)], utcnow())
        again = (await oban_engine.insert_jobs([_unique(new_job(args={"id": 1}), states=["available"])]))[0]
        assert not again.conflict and again.id != first.id

    async def test_jobs_older_than_the_period_do_not_conflict(self, oban_engine: Engine) -> None:
        options = {"period": 60, "timestamp": "scheduled_at"}
        first = (await oban_engine.insert_jobs([_unique(new_job(args={"id": 1}), **options)]))[0]
        long_ago = utcnow() - timedelta(hours=2)
        await oban_engine.update_jobs([id_of(first)], lambda job: job.update({"scheduled_at": long_ago}))
        again = (await oban_engine.insert_jobs([_unique(new_job(args={"id": 1}), **options)]))[0]
        assert not again.conflict
        forever = (await oban_engine.insert_jobs([_unique(new_job(args={"id": 1}), period=None)]))[0]
        assert forever.conflict

    async def test_replace_overwrites_the_named_fields_of_the_existing_job(self, oban_engine: Engine) -> None:
        first = (await oban_engine.insert_jobs([_unique(new_job(args={"id": 1}, schedule_in=60))]))[0]
        later = utcnow() + timedelta(hours=3)
        job = _unique(new_job(args={"id": 1}, scheduled_at=later, priority=5))
        job.replace = {JobState.SCHEDULED: ("scheduled_at",)}
        again = (await oban_engine.insert_jobs([job]))[0]
        assert again.conflict and again.id == first.id
        stored = await reload(oban_engine, first)
        assert close_to(stored.scheduled_at, later, 0.01)
        assert stored.priority == 0

    async def test_concurrent_unique_inserts_store_exactly_one_job(self, oban_engine_factory: EngineFactory) -> None:
        engines = [await oban_engine_factory() for _ in range(4)]

        async def attempt(engine: Engine) -> Job:
            return (await engine.insert_jobs([_unique(new_job(args={"race": True}))]))[0]

        results = await asyncio.gather(*(attempt(engines[i % 4]) for i in range(24)))
        assert len({job.id for job in results}) == 1
        assert sum(not job.conflict for job in results) == 1
        assert len(await engines[0].list_jobs()) == 1

    async def test_unique_on_meta_keys_compares_only_those_keys(self, oban_engine: Engine) -> None:
        def by_tenant(**meta: Any) -> Job:
            return _unique(new_job(meta=meta), fields=["worker", "meta"], keys=["tenant"])

        first = (await oban_engine.insert_jobs([by_tenant(tenant=1, trace="a")]))[0]
        again = (await oban_engine.insert_jobs([by_tenant(tenant=1, trace="b")]))[0]
        other = (await oban_engine.insert_jobs([by_tenant(tenant=2)]))[0]
        assert again.conflict and again.id == first.id and not other.conflict

    async def test_the_incomplete_group_ignores_finished_jobs(self, oban_engine: Engine) -> None:
        first = (await oban_engine.insert_jobs([_unique(new_job(args={"id": 1}), states="incomplete")]))[0]
        [claimed] = await claim(oban_engine)
        await oban_engine.ack_jobs([ack(claimed, JobState.COMPLETED)])
        again = (await oban_engine.insert_jobs([_unique(new_job(args={"id": 1}), states="incomplete")]))[0]
        assert not again.conflict and again.id != first.id

    async def test_replace_of_an_available_job_overwrites_args_and_priority(self, oban_engine: Engine) -> None:
        first = (await oban_engine.insert_jobs([_unique(new_job(args={"id": 1, "v": 1}), keys=["id"])]))[0]
        job = _unique(new_job(args={"id": 1, "v": 2}, priority=7), keys=["id"])
        job.replace = {JobState.AVAILABLE: ("args", "priority")}
        again = (await oban_engine.insert_jobs([job]))[0]
        assert again.conflict and again.id == first.id
        stored = await reload(oban_engine, first)
        assert stored.args == {"id": 1, "v": 2} and stored.priority == 7

    async def test_racing_batches_of_several_unique_jobs_store_each_once(
        self, oban_engine_factory: EngineFactory
    ) -> None:
        engines = [await oban_engine_factory() for _ in range(3)]

        async def batch(n: int) -> list[Job]:
            keys = list(range(10))
            keys = keys[n % 10 :] + keys[: n % 10]  # each batch takes the keys in another order
            jobs = [_unique(new_job(args={"key": k})) for k in keys] + [new_job(args={"plain": n})]
            return await engines[n % 3].insert_jobs(jobs)

        results = await asyncio.gather(*(batch(n) for n in range(12)))
        winners = [job for jobs in results for job in jobs if "key" in job.args and not job.conflict]
        assert sorted(job.args["key"] for job in winners) == list(range(10))
        assert len(await engines[0].list_jobs()) == 10 + 12
