"""MySQLEngine: the schema, sessions in UTC, exact JSON, and DSN handling."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlparse

import pytest

from oban import Job, JobState
from oban._time import utcnow
from oban.engines.mysql import LATEST_VERSION, MySQLEngine
from tests.support import MYSQL_DSN, mysql_connect, mysql_query

pytestmark = pytest.mark.engines("mysql")


def _database(factory: Any) -> str:
    return urlparse(factory.dsn).path.lstrip("/")


async def _query(factory: Any, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    conn = await mysql_connect(MYSQL_DSN, _database(factory))
    try:
        return await mysql_query(conn, sql, params)
    finally:
        conn.close()


async def test_schema_version_is_zero_until_installed_then_latest(oban_engine_factory):
    engine = await oban_engine_factory(install=False)
    assert await engine.schema_version() == 0
    await engine.install()
    await engine.install()
    assert await engine.schema_version() == LATEST_VERSION
    await engine.uninstall()
    assert await engine.schema_version() == 0
    tables = await _query(oban_engine_factory, "SHOW TABLES")
    assert tables == []


async def test_layout_is_obans_mysql_layout(oban_engine_factory):
    await oban_engine_factory()
    columns = {
        name: (data_type, column_type)
        for name, data_type, column_type in await _query(
            oban_engine_factory,
            "SELECT column_name, data_type, column_type FROM information_schema.columns "
            "WHERE table_schema = DATABASE() AND table_name = 'oban_jobs'",
        )
    }
    assert columns["state"][1] == (
        "enum('available','suspended','scheduled','executing','retryable','completed','discarded','cancelled')"
    )
    assert columns["id"][1] == "bigint(20) unsigned" or columns["id"][1] == "bigint unsigned"
    for name in ("inserted_at", "scheduled_at", "attempted_at", "completed_at", "cancelled_at", "discarded_at"):
        assert columns[name][1] == "datetime(6)", name
    for name in ("args", "meta", "tags", "errors", "attempted_by"):
        assert columns[name][0] in ("json", "longtext"), name  # MariaDB's JSON is LONGTEXT + CHECK
    index = await _query(
        oban_engine_factory,
        "SELECT column_name FROM information_schema.statistics WHERE table_schema = DATABASE() "
        "AND index_name = 'oban_jobs_state_queue_priority_scheduled_at_id_index' ORDER BY seq_in_index",
    )
    assert [row[0] for row in index] == ["state", "queue", "priority", "scheduled_at", "id"]
    peers = await _query(
        oban_engine_factory,
        "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() "
        "AND table_name = 'oban_peers' ORDER BY ordinal_position",
    )
    assert [row[0] for row in peers] == ["name", "node", "started_at", "expires_at"]


async def test_queue_names_compare_exactly(engine):
    await engine.insert_jobs([Job(worker="w.W", queue="Mail")])
    assert await engine.fetch_jobs("mail", 10, "node", utcnow()) == []
    assert len(await engine.fetch_jobs("Mail", 10, "node", utcnow())) == 1


async def test_install_adopts_a_table_created_by_oban_for_elixir(oban_engine_factory):
    engine = await oban_engine_factory(install=False)
    # The layout Oban (Elixir) creates on MySQL, with its older state list.
    await _query(
        oban_engine_factory,
        """CREATE TABLE oban_jobs (
            id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
            state ENUM('available','scheduled','executing','retryable','completed','cancelled','discarded')
                NOT NULL DEFAULT 'available',
            queue VARCHAR(255) NOT NULL DEFAULT 'default', worker VARCHAR(255) NOT NULL,
            args JSON NOT NULL DEFAULT ('{}'), meta JSON NOT NULL DEFAULT ('{}'),
            tags JSON NOT NULL DEFAULT ('[]'), attempted_by JSON NOT NULL DEFAULT ('[]'),
            errors JSON NOT NULL DEFAULT ('[]'), attempt INT NOT NULL DEFAULT 0,
            max_attempts INT NOT NULL DEFAULT 20, priority INT NOT NULL DEFAULT 0,
            inserted_at DATETIME(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
            scheduled_at DATETIME(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
            attempted_at DATETIME(6), cancelled_at DATETIME(6), completed_at DATETIME(6), discarded_at DATETIME(6),
            INDEX oban_jobs_state_queue_priority_scheduled_at_id_index (state, queue, priority, scheduled_at, id)
        )""",
    )
    await _query(oban_engine_factory, "INSERT INTO oban_jobs (worker, args) VALUES ('elixir.Worker', '{\"a\": 1}')")
    await engine.install()
    assert await engine.schema_version() == LATEST_VERSION
    [claimed] = await engine.fetch_jobs("default", 5, "node", utcnow())
    assert claimed.worker == "elixir.Worker" and claimed.args == {"a": 1} and claimed.attempt == 1
    [first] = await engine.insert_jobs([Job(worker="py.Worker", unique=True, meta={"uniq_key": "k1"})])
    [second] = await engine.insert_jobs([Job(worker="py.Worker", unique=True, meta={"uniq_key": "k1"})])
    assert second.conflict and second.id == first.id


async def test_a_job_written_with_only_column_defaults_is_claimed(engine, oban_engine_factory):
    await _query(oban_engine_factory, "INSERT INTO oban_jobs (worker) VALUES ('other.Writer')")
    [job] = await engine.fetch_jobs("default", 5, "node", utcnow())
    assert job.worker == "other.Writer" and job.args == {} and job.max_attempts == 20
    assert job.inserted_at is not None and abs((job.inserted_at - utcnow()).total_seconds()) < 60


async def test_every_pooled_connection_runs_in_utc_at_read_committed(oban_engine_factory):
    engine = await oban_engine_factory()
    held: list[Any] = [await engine._pool.acquire() for _ in range(engine.pool_max_size)]
    try:
        for conn in held:
            async with conn.cursor() as cursor:
                await cursor.execute(
                    "SHOW SESSION VARIABLES WHERE Variable_name IN "
                    "('time_zone', 'tx_isolation', 'transaction_isolation')"
                )
                settings = dict(await cursor.fetchall())
            assert settings.pop("time_zone") == "+00:00"
            assert set(settings.values()) == {"READ-COMMITTED"}
    finally:
        for conn in held:
            engine._pool.release(conn)


async def test_times_are_stored_as_naive_utc_and_read_back_aware(engine, oban_engine_factory):
    scheduled = datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=timezone(timedelta(hours=5)))
    [job] = await engine.insert_jobs([Job(worker="w.W", scheduled_at=scheduled)])
    [(raw,)] = await _query(oban_engine_factory, "SELECT scheduled_at FROM oban_jobs WHERE id = %s", (job.id,))
    assert raw == datetime(2031, 5, 6, 2, 8, 9, 123456)
    stored = await engine.get_job(job.id)
    assert stored.scheduled_at == scheduled and stored.scheduled_at.tzinfo is UTC
    assert stored.inserted_at == job.inserted_at and stored.state is JobState.SCHEDULED


async def test_concurrent_operations_share_the_pool(engine):
    await engine.insert_jobs([Job(worker="w.W", args={"n": n}) for n in range(50)])
    results = await asyncio.gather(*(engine.list_jobs(limit=5) for _ in range(40)))
    assert all(len(jobs) == 5 for jobs in results)


def test_the_dsn_shown_masks_the_password():
    engine = MySQLEngine("mysql://app:s3cret@db.example:3307/jobs")
    assert engine.dsn == "mysql://app:***@db.example:3307/jobs"
    assert "s3cret" not in repr(engine)


def test_dsn_options_apply_unless_keywords_override_them():
    engine = MySQLEngine("mysql://root@h/app?pool_max_size=4&poll_interval=0.05", poll_interval=0.2)
    assert engine.pool_max_size == 4 and engine.poll_interval == 0.2


@pytest.mark.parametrize(
    "dsn",
    ["postgresql://h/db", "mysql://h", "mysql://h/", "mysql://h/app?bogus=1", "not a dsn", "mysql://h:99999/app"],
)
def test_bad_dsns_are_rejected_by_name(dsn):
    with pytest.raises(ValueError):
        MySQLEngine(dsn)
