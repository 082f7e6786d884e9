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
