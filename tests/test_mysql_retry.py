"""MySQLEngine under contention and failure: deadlocks, lock wait timeouts, killed connections."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from asyncmy.errors import OperationalError

from oban import Job, JobState, Oban, worker
from oban._time import utcnow
from oban.engines.mysql import MySQLEngine
from oban.engines.mysql.engine import _Transaction
from tests.support import mysql_query, wait_until

pytestmark = pytest.mark.engines("mysql")


# Not faster: InnoDB refreshes information_schema.innodb_trx only after 0.1 s without reads.
LOCK_POLL = 0.15


async def _lock_waiters(admin: Any) -> list[int]:
    rows = await mysql_query(
        admin, "SELECT trx_mysql_thread_id FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'"
    )
    return [row[0] for row in rows]


async def test_a_deadlock_is_retried_transparently(oban_engine_factory, admin):
    engine = await oban_engine_factory()
    a, b = await engine.insert_jobs([Job(worker="w.W", args={"n": n}) for n in range(2)])
    async with oban_engine_factory.transaction() as conn:
        # This transaction writes many rows, so InnoDB rolls back the engine's lighter one.
        await mysql_query(conn, "INSERT INTO oban_jobs (worker) VALUES " + ", ".join(["('w.Filler')"] * 100))
        await mysql_query(conn, "UPDATE oban_jobs SET priority = 2 WHERE id = %s", (b.id,))
        cancel = asyncio.create_task(engine.cancel_jobs([a.id, b.id], utcnow()))  # locks a, then waits for b
        await wait_until(lambda: _lock_waiters(admin), within=30, interval=LOCK_POLL)
        await mysql_query(conn, "UPDATE oban_jobs SET priority = 3 WHERE id = %s", (a.id,))  # closes the cycle
    assert await cancel == (2, [])
    assert engine.stats["deadlock_retries"] >= 1
    assert (await engine.get_job(a.id)).state is JobState.CANCELLED


async def test_a_lock_wait_timeout_is_retried_transparently(oban_engine_factory):
    base = await oban_engine_factory()
    engine = MySQLEngine(oban_engine_factory.dsn, lock_wait_timeout=1)
    try:
        [job] = await base.insert_jobs([Job(worker="w.W")])
        async with oban_engine_factory.transaction() as conn:
            await mysql_query(conn, "SELECT id FROM oban_jobs WHERE id = %s FOR UPDATE", (job.id,))
            cancel = asyncio.create_task(engine.cancel_jobs([job.id], utcnow()))
            await wait_until(lambda: engine.stats["lock_timeout_retries"] >= 1, within=30)
        assert await cancel == (1, [])
        assert engine.stats["unretried_errors"] == 0
    finally:
        await engine.close()


async def test_pooled_connections_killed_while_idle_are_replaced(oban_engine_factory, admin):
    engine = await oban_engine_factory()
    await asyncio.gather(*(engine.list_jobs() for _ in range(6)))
    sessions = await mysql_query(
        admin, "SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id != CONNECTION_ID()"
    )
    assert sessions
    for (session,) in sessions:
        await mysql_query(admin, f"KILL {int(session)}")
    await asyncio.sleep(0.05)
    [job] = await engine.insert_jobs([Job(worker="w.W")])
    assert [claimed.id for claimed in await engine.fetch_jobs("default", 5, "node", utcnow())] == [job.id]


async def test_a_connection_killed_mid_transaction_is_retried_on_a_new_one(oban_engine_factory, admin):
    engine = await oban_engine_factory()
    [job] = await engine.insert_jobs([Job(worker="w.W")])
    async with oban_engine_factory.transaction() as conn:
        await mysql_query(conn, "SELECT id FROM oban_jobs WHERE id = %s FOR UPDATE", (job.id,))
        cancel = asyncio.create_task(engine.cancel_jobs([job.id], utcnow()))
        await wait_until(lambda: _lock_waiters(admin), within=30, interval=LOCK_POLL)
        for session in await _lock_waiters(admin):
            await mysql_query(admin, f"KILL {int(session)}")
        await wait_until(lambda: engine.stats["connection_retries"] >= 1, within=30)
    assert await cancel == (1, [])
    assert (await engine.get_job(job.id)).state is JobState.CANCELLED


@pytest.mark.parametrize("committed", [True, False])
async def test_a_claim_whose_commit_lost_its_connection_is_settled_by_reading_the_rows(
    oban_engine_factory, monkeypatch, committed
):
    engine = await oban_engine_factory()
    jobs = await engine.insert_jobs([Job(worker="w.W", args={"n": n}) for n in range(3)])
    original = _Transaction.execute_and_commit
    cut = []

    async def lose_connection(self: Any, sql: str, params: Any = None) -> None:
        if "attempted_by" in sql and not cut:
            cut.append(sql)
            if committed:
                await original(self, sql, params)  # the server commits; the reply never arrives
            else:
                self.committing = True  # sent, but the server never got it
            self._cursor.connection.close()
            raise OperationalError(2013, "Lost connection to MySQL server during query")
        await original(self, sql, params)

    monkeypatch.setattr(_Transaction, "execute_and_commit", lose_connection)
    claimed = await engine.fetch_jobs("default", 5, "node-x", utcnow())
    assert cut and [job.id for job in claimed] == [job.id for job in jobs]
    for job in claimed:
        stored = await engine.get_job(job.id)
        assert stored.state is JobState.EXECUTING and stored.attempt == 1 == job.attempt
        assert stored.attempted_by == ["node-x"] == job.attempted_by and stored.attempted_at == job.attempted_at
    assert await engine.fetch_jobs("default", 5, "node-y", utcnow()) == []
    assert engine.stats["unretried_errors"] == 0


@pytest.mark.parametrize("committed", [True, False])
async def test_an_insert_whose_commit_lost_its_connection_is_settled_by_reading_the_rows(
    oban_engine_factory, monkeypatch, committed
):
    engine = await oban_engine_factory()
    original = _Transaction.execute_and_commit
    cut = []

    async def lose_connection(self: Any, sql: str, params: Any = None) -> None:
        if "oban_notifications" in sql and not cut:
            cut.append(sql)
            if committed:
                await original(self, sql, params)
            else:
                self.committing = True
            self._cursor.connection.close()
            raise OperationalError(2013, "Lost connection to MySQL server during query")
        await original(self, sql, params)

    monkeypatch.setattr(_Transaction, "execute_and_commit", lose_connection)
    inserted = await engine.insert_jobs([Job(worker="w.W", args={"n": n}) for n in range(4)])
    assert cut
    stored = await engine.list_jobs()
    assert sorted(job.id for job in stored) == sorted(job.id for job in inserted)
    assert sorted(job.args["n"] for job in stored) == [0, 1, 2, 3]
    assert engine.stats["unretried_errors"] == 0


async def test_the_notification_poller_survives_a_killed_connection(oban_engine_factory, admin):
    engine = await oban_engine_factory()
    heard: list[dict[str, Any]] = []
    handler = lambda channel, payload: heard.append(payload)  # noqa: E731
    await engine.listen(handler)
    try:
        await mysql_query(admin, f"KILL {int(engine._poller._source._conn.thread_id())}")
        await wait_until(lambda: engine.stats["notification_poll_failures"] >= 1, within=30)
        await mysql_query(
            admin,
            "INSERT INTO oban_notifications (channel, payload, sender) VALUES ('signal', '{\"n\": 1}', 'elsewhere')",
        )
        await wait_until(lambda: heard == [{"n": 1}], within=30)
    finally:
        await engine.unlisten(handler)


RUNS: Counter[int] = Counter()


@worker(queue="killing")
class CountingWorker:
    async def process(self, job: Job) -> None:
        RUNS[job.id] += 1  # type: ignore[index]
        await asyncio.sleep(0.002)


async def test_a_running_node_loses_no_job_when_its_connections_are_killed(oban_engine_factory, admin):
    RUNS.clear()
    engine = await oban_engine_factory()
    jobs = await engine.insert_jobs([CountingWorker.new({"n": n}) for n in range(600)])
    # A claim whose COMMIT is cut off may have committed: its jobs are then rescued, never lost.
    oban = Oban(
        engine,
        queues={"killing": 10},
        name="killing",
        stage_interval=0.1,
        lifeline={"interval": 0.5, "rescue_after": 3},
    )
    async with oban:
        for _ in range(6):
            await wait_until(lambda: len(RUNS) > 0, within=30)
            for (session,) in await mysql_query(
                admin, "SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id != CONNECTION_ID()"
            ):
                try:
                    await mysql_query(admin, f"KILL {int(session)}")
                except Exception:  # the session ended on its own meanwhile
                    pass
            await asyncio.sleep(0.15)

        async def all_completed() -> bool:
            rows = await mysql_query(admin, "SELECT COUNT(*) FROM oban_jobs WHERE state = 'completed'")
            return rows[0][0] == len(jobs)

        await wait_until(all_completed, within=60)
    assert set(RUNS) == {job.id for job in jobs}
    assert set(RUNS.values()) == {1}
