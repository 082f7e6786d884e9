"""MySQLEngine inserts: ids of multi-row inserts, race-free unique jobs, inserts in your transaction."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlparse

import pytest

from oban import Job
from oban._time import utcnow
from tests.support import MYSQL_DSN, mysql_connect, mysql_query

pytestmark = pytest.mark.engines("mysql")


async def _query(factory: Any, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    conn = await mysql_connect(MYSQL_DSN, urlparse(factory.dsn).path.lstrip("/"))
    try:
        return await mysql_query(conn, sql, params)
    finally:
        conn.close()


async def test_ids_come_from_last_insert_id_only_under_a_consecutive_lock_mode(engine, oban_engine_factory):
    [(mode,)] = await _query(oban_engine_factory, "SELECT @@innodb_autoinc_lock_mode")
    expected = "consecutive" if int(mode) in (0, 1) else ("returning" if engine.server.mariadb else "per_row")
    assert engine.id_strategy == expected


@pytest.mark.parametrize("strategy", ["consecutive", "returning", "per_row"])
async def test_concurrent_bulk_inserts_return_each_row_its_own_id(oban_engine_factory, strategy):
    engines = [await oban_engine_factory() for _ in range(4)]
    for engine in engines:
        engine._id_strategy = strategy

    async def insert_batches(number: int, engine: Any) -> list[Job]:
        inserted: list[Job] = []
        for batch in range(8):
            jobs = [Job(worker="w.W", args={"engine": number, "batch": batch, "i": i}) for i in range(150)]
            inserted += await engine.insert_jobs(jobs)
        return inserted

    results = await asyncio.gather(*(insert_batches(number, engine) for number, engine in enumerate(engines)))
    returned = {job.id: job.args for jobs in results for job in jobs}
    assert len(returned) == 4 * 8 * 150
    stored = await engines[0].list_jobs(limit=10_000)
    assert {job.id: job.args for job in stored} == returned


async def test_a_batch_larger_than_one_statement_is_split_and_keeps_its_ids(engine):
    filler = "x" * 30_000
    jobs = await engine.insert_jobs([Job(worker="w.W", args={"i": i, "filler": filler}) for i in range(200)])
    assert len({job.id for job in jobs}) == 200
    for job in jobs[::37]:
        stored = await engine.get_job(job.id)
        assert stored.args["i"] == job.args["i"]


async def test_unique_batches_that_share_keys_in_different_orders_do_not_deadlock(oban_engine_factory):
    engines = [await oban_engine_factory() for _ in range(3)]
    keys = [f"key-{n}" for n in range(20)]

    async def insert(engine: Any, order: list[str]) -> list[Job]:
        jobs = [Job(worker="w.Unique", args={"k": key}, unique=True, meta={"uniq_key": key}) for key in order]
        return await engine.insert_jobs(jobs)

    orders = [keys, list(reversed(keys)), keys[10:] + keys[:10]]
    await asyncio.gather(*(insert(engine, order) for engine in engines for order in orders))
    assert len(await engines[0].list_jobs(worker="w.Unique")) == 20
    assert engines[0].stats["unretried_errors"] == 0


async def test_a_unique_insert_in_an_older_snapshot_still_sees_a_committed_duplicate(oban_engine_factory):
    engine = await oban_engine_factory()
    async with oban_engine_factory.transaction() as conn:
        async with conn.cursor() as cursor:
            # REPEATABLE READ fixes this transaction's snapshot at its first read.
            await cursor.execute("SELECT COUNT(*) FROM oban_jobs")
            await cursor.fetchall()
        [first] = await engine.insert_jobs([Job(worker="w.U", unique=True, meta={"uniq_key": "snap"})])
        [second] = await engine.insert_jobs([Job(worker="w.U", unique=True, meta={"uniq_key": "snap"})], conn=conn)
    assert second.conflict and second.id == first.id
    assert len(await engine.list_jobs(worker="w.U")) == 1


async def test_an_insert_on_an_autocommit_connection_is_still_all_or_nothing(oban_engine_factory):
    engine = await oban_engine_factory()
    conn = await mysql_connect(MYSQL_DSN, urlparse(oban_engine_factory.dsn).path.lstrip("/"))
    try:
        # A CHECK constraint of the database's own, which valid jobs pass validation to reach.
        await mysql_query(conn, "ALTER TABLE oban_jobs ADD CONSTRAINT refused_queue CHECK (queue <> 'forbidden')")
        with pytest.raises(ValueError, match="refused_queue"):
            jobs = [Job(worker="w.W", args={"n": 1}), Job(worker="w.W", queue="forbidden")]
            await engine.insert_jobs(jobs, conn=conn)
        assert not conn.get_transaction_status()
    finally:
        conn.close()
    assert await engine.list_jobs() == []


async def test_claimed_rows_locked_by_another_transaction_are_skipped_not_waited_for(engine, oban_engine_factory):
    jobs = await engine.insert_jobs([Job(worker="w.W", args={"n": n}) for n in range(3)])
    async with oban_engine_factory.transaction() as conn:
        async with conn.cursor() as cursor:
            await cursor.execute("SELECT id FROM oban_jobs WHERE id = %s FOR UPDATE", (jobs[0].id,))
            await cursor.fetchall()
        claimed = await engine.fetch_jobs("default", 3, "node", utcnow())
    assert [job.id for job in claimed] == [jobs[1].id, jobs[2].id]
    assert [job.id for job in await engine.fetch_jobs("default", 3, "node", utcnow())] == [jobs[0].id]
