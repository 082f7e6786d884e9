"""Unique jobs under contention: an advisory lock per key makes check-then-insert race-free."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from oban import Job
from oban.job import UniqueOptions
from tests.support import POSTGRES_DSN, POSTGRES_TEST_DATABASE, with_database

TEST_DSN = with_database(POSTGRES_DSN, POSTGRES_TEST_DATABASE)


pytestmark = pytest.mark.engines("postgres")


def unique_job(**args: object) -> Job:
    """A unique job keyed on its args."""
    return Job(worker="tests.workers.Unique", args=dict(args), unique=UniqueOptions())


async def _count(admin: asyncpg.Connection, prefix: str) -> int:
    return int(await admin.fetchval(f'SELECT count(*) FROM "{prefix}".oban_jobs'))


async def test_many_engines_racing_the_same_unique_job_store_exactly_one(oban_engine_factory, admin) -> None:  # type: ignore[no-untyped-def]
    engines = [await oban_engine_factory() for _ in range(6)]

    async def attempt(n: int) -> Job:
        [job] = await engines[n % len(engines)].insert_jobs([unique_job(race="one")])
        return job

    ids = set()
    for round_ in range(3):
        results = await asyncio.gather(*(attempt(n) for n in range(60)))
        ids |= {job.id for job in results}
        assert sum(not job.conflict for job in results) == (1 if round_ == 0 else 0)
    assert len(ids) == 1
    assert await _count(admin, engines[0].prefix) == 1


async def test_racing_batches_of_several_unique_jobs_store_each_once(oban_engine_factory, admin) -> None:  # type: ignore[no-untyped-def]
    engines = [await oban_engine_factory() for _ in range(4)]

    async def batch(n: int) -> list[Job]:
        keys = list(range(10))
        keys = keys[n % 10:] + keys[: n % 10]  # each batch takes the keys in another order
        return await engines[n % 4].insert_jobs([unique_job(key=k) for k in keys] + [Job(worker="tests.Plain")])

    results = await asyncio.gather(*(batch(n) for n in range(24)))
    winners = [job for jobs in results for job in jobs if job.unique is not None and not job.conflict]
    assert sorted(job.args["key"] for job in winners) == list(range(10))
    assert await _count(admin, engines[0].prefix) == 10 + 24


async def test_a_duplicate_within_one_batch_conflicts_with_the_first(engine) -> None:  # type: ignore[no-untyped-def]
    first, duplicate, other = await engine.insert_jobs([unique_job(n=1), unique_job(n=1), unique_job(n=2)])
    assert not first.conflict and not other.conflict
    assert duplicate.conflict and duplicate.id == first.id
    assert len(await engine.list_jobs()) == 2


async def _wait_for_advisory_waiter(admin: asyncpg.Connection, holder: asyncpg.Connection) -> None:
    """Until some backend waits for an advisory lock that ``holder``'s transaction holds."""
    for _ in range(1000):
        if await admin.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND $1::int = ANY(pg_blocking_pids(pid))",
            holder.get_server_pid(),
        ):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no insert ever waited for the unique key's lock")


async def test_an_insert_waits_for_an_open_transaction_holding_the_same_key(oban_engine_factory, admin) -> None:  # type: ignore[no-untyped-def]
    engine = await oban_engine_factory()
    async with oban_engine_factory.transaction() as conn:
        [held] = await engine.insert_jobs([unique_job(tx="open")], conn=conn)
        racer = asyncio.create_task(engine.insert_jobs([unique_job(tx="open")]))
        await _wait_for_advisory_waiter(admin, conn)
        assert not racer.done()
    [raced] = await racer
    assert raced.conflict and raced.id == held.id
    assert await _count(admin, engine.prefix) == 1


async def test_an_insert_waiting_on_a_transaction_that_rolls_back_inserts_after_all(oban_engine_factory, admin) -> None:  # type: ignore[no-untyped-def]
    engine = await oban_engine_factory()
    racer: asyncio.Task[list[Job]] | None = None
    with pytest.raises(RuntimeError, match="changed my mind"):
        async with oban_engine_factory.transaction() as conn:
            await engine.insert_jobs([unique_job(tx="rolled back")], conn=conn)
            racer = asyncio.create_task(engine.insert_jobs([unique_job(tx="rolled back")]))
            await _wait_for_advisory_waiter(admin, conn)
            raise RuntimeError("changed my mind")
    assert racer is not None
    [raced] = await racer
    assert not raced.conflict
    assert [job.id for job in await engine.list_jobs()] == [raced.id]
