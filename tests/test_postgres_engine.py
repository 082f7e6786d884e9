"""PostgresEngine itself: DSNs and prefixes, the schema it installs, migrations, transactions."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from oban import Job
from oban.engines import engine_from_dsn
from oban.engines.postgres import LATEST_VERSION, PostgresEngine
from oban.errors import SchemaError
from tests.support import POSTGRES_DSN, POSTGRES_TEST_DATABASE, wait_until, with_database

TEST_DSN = with_database(POSTGRES_DSN, POSTGRES_TEST_DATABASE)
WORKER = "tests.workers.Noop"


pytestmark = pytest.mark.engines("postgres")


@pytest_asyncio.fixture
async def spare_prefix(admin: asyncpg.Connection) -> AsyncIterator[str]:
    """A second schema name in the same database, dropped afterwards."""
    prefix = f"t_{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{prefix}" CASCADE')


# -- DSNs and prefixes ---------------------------------------------------------------------------


def test_the_dsn_carries_the_prefix_and_hides_the_password() -> None:
    engine = PostgresEngine("postgresql://app:s3cret@db.example:5432/app?prefix=jobs&sslmode=require")
    assert engine.prefix == "jobs"
    assert engine.dsn == "postgresql://app:***@db.example:5432/app?sslmode=require&prefix=jobs"
    assert "s3cret" not in repr(engine)


def test_the_public_prefix_is_the_default_and_not_shown() -> None:
    engine = PostgresEngine("postgres://app@db.example/app")
    assert engine.prefix == "public"
    assert engine.dsn == "postgresql://app@db.example/app"


def test_a_prefix_given_twice_must_agree() -> None:
    assert PostgresEngine("postgresql://h/db?prefix=a", prefix="a").prefix == "a"
    with pytest.raises(ValueError, match="contradicts"):
        PostgresEngine("postgresql://h/db?prefix=a", prefix="b")


@pytest.mark.parametrize("dsn", ["", "mysql://root@h/db", "h/db", "sqlite:///jobs.db"])
def test_dsns_that_are_not_postgresql_are_rejected(dsn: str) -> None:
    with pytest.raises(ValueError, match="postgresql://"):
        PostgresEngine(dsn)


@pytest.mark.parametrize("prefix", ["", "x" * 51])
def test_prefixes_that_cannot_name_a_channel_are_rejected(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        PostgresEngine("postgresql://h/db", prefix=prefix)


def test_bad_pool_sizes_are_rejected() -> None:
    with pytest.raises(ValueError, match="pool"):
        PostgresEngine("postgresql://h/db", pool_min_size=5, pool_max_size=2)


async def test_a_dsn_with_a_prefix_works_end_to_end(oban_engine_factory, admin) -> None:  # type: ignore[no-untyped-def]
    installed = await oban_engine_factory()
    engine = engine_from_dsn(oban_engine_factory.dsn)
    try:
        assert isinstance(engine, PostgresEngine) and engine.prefix == installed.prefix
        [job] = await engine.insert_jobs([Job(worker=WORKER, args={"via": "dsn"})])
        found = await admin.fetchval(f"SELECT args->>'via' FROM \"{engine.prefix}\".oban_jobs WHERE id = $1", job.id)
        assert found == "dsn"
    finally:
        await engine.close()


async def test_prefixes_keep_jobs_leases_and_notifications_apart(oban_engine_factory, spare_prefix) -> None:  # type: ignore[no-untyped-def]
    first = await oban_engine_factory()
    second = PostgresEngine(TEST_DSN, prefix=spare_prefix)
    try:
        await second.install()
        heard_first: list[tuple[str, dict]] = []
        heard_second: list[tuple[str, dict]] = []
        await first.listen(lambda channel, payload: heard_first.append((channel, payload)))
        await second.listen(lambda channel, payload: heard_second.append((channel, payload)))

        [job] = await first.insert_jobs([Job(worker=WORKER, queue="shared")])
        await first.notify("signal", [{"from": "first"}])
        assert await second.list_jobs() == []
        assert await second.fetch_jobs("shared", 10, "node", job.inserted_at) == []
        assert [j.id for j in await first.list_jobs()] == [job.id]
        assert await first.elect_leader("oban", "node-1", 30, job.inserted_at)
        assert await second.elect_leader("oban", "node-2", 30, job.inserted_at)

        # Notifications keep commit order: once the second prefix hears its own marker, it
        # would have heard the first prefix's insert and signal had they leaked.
        await wait_until(lambda: ("signal", {"from": "first"}) in heard_first)
        await second.notify("signal", [{"marker": True}])
        await wait_until(lambda: ("signal", {"marker": True}) in heard_second)
        assert heard_second == [("signal", {"marker": True})]
        assert ("insert", {"queue": "shared"}) in heard_first
    finally:
        await second.close()


async def test_channels_carry_the_prefix_as_oban_names_them(engine, admin) -> None:  # type: ignore[no-untyped-def]
    heard: list[tuple[str, str]] = []
    for name in ("insert", "signal"):
        await admin.add_listener(
            f"{engine.prefix}.oban_{name}", lambda _c, _p, channel, text: heard.append((channel, text))
        )
    await engine.insert_jobs([Job(worker=WORKER, queue="mailers")])
    await engine.notify("signal", [{"action": "pause", "queue": "mailers"}])
    await wait_until(lambda: len(heard) >= 2)
    decoded = [(channel, json.loads(text)) for channel, text in heard]
    assert (f"{engine.prefix}.oban_insert", {"queue": "mailers"}) in decoded
    assert (f"{engine.prefix}.oban_signal", {"action": "pause", "queue": "mailers"}) in decoded


async def test_in_public_channels_are_unprefixed_and_public_inserts_are_heard_too(admin) -> None:  # type: ignore[no-untyped-def]
    engine = PostgresEngine(TEST_DSN)  # nothing is installed: notifications need no tables
    marker = uuid.uuid4().hex
    raw: list[str] = []
    heard: list[tuple[str, dict]] = []
    try:
        await admin.add_listener("oban_signal", lambda _c, _p, _channel, text: raw.append(text))
        await engine.listen(lambda channel, payload: heard.append((channel, payload)))
        await engine.notify("signal", [{"marker": marker}])
        await admin.execute("SELECT pg_notify('public.oban_insert', $1)", f'{{"queue": "{marker}"}}')
        await wait_until(lambda: any(marker in text for text in raw))
        await wait_until(lambda: ("insert", {"queue": marker}) in heard)
        assert ("signal", {"marker": marker}) in heard
    finally:
        await engine.close()


# -- the schema ----------------------------------------------------------------------------------


async def test_install_lays_out_obans_current_schema(engine, admin) -> None:  # type: ignore[no-untyped-def]
    prefix = engine.prefix
    assert await engine.schema_version() == LATEST_VERSION == 14
    assert await admin.fetchval(f"SELECT obj_description('\"{prefix}\".oban_jobs'::regclass, 'pg_class')") == "14"
    labels = await admin.fetchval(f'SELECT enum_range(NULL::"{prefix}".oban_job_state)::text[]')
    assert labels == [
        "available",
        "suspended",
        "scheduled",
        "executing",
        "retryable",
        "completed",
        "discarded",
        "cancelled",
    ]
    columns = dict(
        await admin.fetch(
            "SELECT column_name, format_type(a.atttypid, a.atttypmod) FROM information_schema.columns c "
            "JOIN pg_attribute a ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass "
            "AND a.attname = c.column_name WHERE c.table_schema = $1 AND c.table_name = 'oban_jobs'",
            prefix,
        )
    )
    assert columns["id"] == "bigint" and columns["errors"] == "jsonb[]" and columns["tags"] == "text[]"
    assert columns["attempted_by"] == "text[]" and columns["args"] == columns["meta"] == "jsonb"
    assert columns["attempt"] == columns["max_attempts"] == columns["priority"] == "integer"
    assert columns["scheduled_at"] == "timestamp without time zone"
    indexes = {row[0] for row in await admin.fetch("SELECT indexname FROM pg_indexes WHERE schemaname = $1", prefix)}
    assert {
        "oban_jobs_pkey",
        "oban_jobs_state_queue_priority_scheduled_at_id_index",
        "oban_jobs_args_index",
        "oban_jobs_meta_index",
        "oban_jobs_state_cancelled_at_index",
        "oban_jobs_state_discarded_at_index",
        "oban_peers_pkey",
        "oban_producers_pkey",
    } == indexes
    checks = {
        row[0]
        for row in await admin.fetch(
            f"SELECT conname FROM pg_constraint WHERE conrelid = '\"{prefix}\".oban_jobs'::regclass AND contype = 'c'"
        )
    }
    assert checks == {
        "worker_length",
        "queue_length",
        "positive_max_attempts",
        "attempt_range",
        "non_negative_priority",
    }
    persistence = f"SELECT relpersistence::text FROM pg_class WHERE oid = '\"{prefix}\".oban_peers'::regclass"
    assert await admin.fetchval(persistence) == "u"
    assert (
        await admin.fetchval(
            f"SELECT count(*) FROM pg_trigger WHERE tgrelid = '\"{prefix}\".oban_jobs'::regclass AND NOT tgisinternal"
        )
        == 0
    )


async def test_every_version_can_be_reached_up_and_down_keeping_rows(oban_engine_factory, admin) -> None:  # type: ignore[no-untyped-def]
    engine = await oban_engine_factory(install=False)
    table = f'"{engine.prefix}".oban_jobs'
    assert await engine.migrate(1) == 1
    job_id = await admin.fetchval(f"INSERT INTO {table} (worker, args) VALUES ('a.B', '{{\"k\": 1}}') RETURNING id")
    for version in range(2, LATEST_VERSION + 1):
        assert await engine.migrate(version) == version
        assert await engine.schema_version() == version
    for version in range(LATEST_VERSION - 1, 0, -1):
        assert await engine.migrate(version) == version
        assert await engine.schema_version() == version
    assert await admin.fetchval(f"SELECT args->>'k' FROM {table} WHERE id = $1", job_id) == "1"
    assert await engine.migrate() == LATEST_VERSION
    stored = await engine.get_job(job_id)
    assert stored is not None and stored.args == {"k": 1} and stored.worker == "a.B"


async def test_our_version_12_has_the_columns_of_obans_version_12(oban_engine_factory, admin) -> None:  # type: ignore[no-untyped-def]
    from tests.test_postgres_layouts import ELIXIR_V12_LAYOUT, columns_of

    ours = await oban_engine_factory(install=False)
    await ours.migrate(12)
    reference = f"t_{uuid.uuid4().hex[:12]}"
    try:
        await admin.execute(f'CREATE SCHEMA "{reference}"; SET search_path TO "{reference}"; {ELIXIR_V12_LAYOUT}')
        assert await columns_of(admin, ours.prefix) == await columns_of(admin, reference)
    finally:
        await admin.execute(f'RESET search_path; DROP SCHEMA "{reference}" CASCADE')


async def test_concurrent_installs_all_succeed(oban_engine_factory) -> None:  # type: ignore[no-untyped-def]
    engines = [await oban_engine_factory(install=False) for _ in range(4)]
    await asyncio.gather(*(engine.install() for engine in engines))
    assert [await engine.schema_version() for engine in engines] == [LATEST_VERSION] * 4


async def test_install_upgrades_an_older_oban_schema_keeping_its_jobs(oban_engine_factory) -> None:  # type: ignore[no-untyped-def]
    engine = await oban_engine_factory(install=False)
    await engine.migrate(12)
    [job] = await engine.insert_jobs([Job(worker=WORKER, args={"old": True})])
    await engine.install()
    assert await engine.schema_version() == LATEST_VERSION
    assert (await engine.get_job(job.id)).args == {"old": True}  # type: ignore[union-attr]
    [held] = await engine.insert_jobs([Job(worker=WORKER, state="suspended")])
    assert (await engine.get_job(held.id)).state == "suspended"  # type: ignore[union-attr]


async def test_a_schema_newer_than_this_code_is_left_alone(engine, admin) -> None:  # type: ignore[no-untyped-def]
    await admin.execute(f"COMMENT ON TABLE \"{engine.prefix}\".oban_jobs IS '{LATEST_VERSION + 1}'")
    await engine.install()
    assert await engine.schema_version() == LATEST_VERSION + 1
    with pytest.raises(SchemaError, match="newer"):
        await engine.migrate(LATEST_VERSION - 1)


async def test_a_jobs_table_without_a_version_comment_is_reported(engine, admin) -> None:  # type: ignore[no-untyped-def]
    await admin.execute(f'COMMENT ON TABLE "{engine.prefix}".oban_jobs IS NULL')
    with pytest.raises(SchemaError, match="version comment"):
        await engine.schema_version()


async def test_versions_outside_the_history_are_refused(engine) -> None:  # type: ignore[no-untyped-def]
    for version in (-1, LATEST_VERSION + 1, True, "3"):
        with pytest.raises(SchemaError, match="between 0 and"):
            await engine.migrate(version)


# -- inserting -----------------------------------------------------------------------------------


async def _refuse_queue(admin, engine, queue: str) -> None:  # type: ignore[no-untyped-def]
    """A CHECK constraint of the database's own that jobs pass validation to reach."""
    await admin.execute(
        f'ALTER TABLE "{engine.prefix}".oban_jobs ADD CONSTRAINT refused_queue CHECK (queue <> {queue!r})'
    )


async def test_a_check_constraint_failure_is_a_value_error_naming_it(engine, admin) -> None:  # type: ignore[no-untyped-def]
    await _refuse_queue(admin, engine, "forbidden")
    with pytest.raises(ValueError, match="refused_queue"):
        await engine.insert_jobs([Job(worker=WORKER), Job(worker=WORKER, queue="forbidden")])
    assert await engine.list_jobs() == []


async def test_conn_must_be_an_asyncpg_connection(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError, match="asyncpg"):
        await engine.insert_jobs([Job(worker=WORKER)], conn=object())


async def test_a_failed_transactional_insert_leaves_the_callers_transaction_usable(oban_engine_factory, admin) -> None:  # type: ignore[no-untyped-def]
    engine = await oban_engine_factory()
    await _refuse_queue(admin, engine, "forbidden")
    async with oban_engine_factory.transaction() as conn:
        with pytest.raises(ValueError, match="refused_queue"):
            await engine.insert_jobs([Job(worker=WORKER), Job(worker=WORKER, queue="forbidden")], conn=conn)
        [kept] = await engine.insert_jobs([Job(worker=WORKER, args={"second": "try"})], conn=conn)
    assert [job.id for job in await engine.list_jobs()] == [kept.id]


async def test_asyncpg_options_reach_the_pool_and_the_listener(engine, admin) -> None:  # type: ignore[no-untyped-def]
    name = f"oban-options-{uuid.uuid4().hex[:8]}"
    tuned = PostgresEngine(
        TEST_DSN,
        prefix=engine.prefix,
        command_timeout=30,
        max_inactive_connection_lifetime=60,
        server_settings={"application_name": name},
    )
    try:
        inbox: list[dict] = []
        await tuned.listen(lambda _channel, payload: inbox.append(payload))
        await tuned.notify("signal", [{"tuned": True}])
        await wait_until(lambda: inbox == [{"tuned": True}])
        assert await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", name) >= 2
    finally:
        await tuned.close()
