"""Databases set up by someone else: Oban for Elixir (version 12) and oban-py.

Each layout is written out here by hand from the published facts, not through our migrations,
and then the conformance suite runs on it as it is (no ``install``), followed by tests of what
is particular to each: jobs the other implementation inserted run here, what we write reads
back in their column types, and ``install`` on top is harmless.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from oban import Oban, worker
from oban._time import utcnow
from oban.engines.postgres import LATEST_VERSION, PostgresEngine
from oban.engines.protocol import Ack
from oban.errors import SchemaError
from oban.job import Job, JobState
from oban.testing import conformance as suite
from tests import support
from tests.support import wait_until

TEST_DSN = support.with_database(support.POSTGRES_DSN, support.POSTGRES_TEST_DATABASE)

ELIXIR_V12_LAYOUT = """
CREATE TYPE oban_job_state AS ENUM
    ('available', 'scheduled', 'executing', 'retryable', 'completed', 'discarded', 'cancelled');
CREATE TABLE oban_jobs (
    id bigserial PRIMARY KEY,
    state oban_job_state NOT NULL DEFAULT 'available',
    queue text NOT NULL DEFAULT 'default',
    worker text NOT NULL,
    args jsonb NOT NULL DEFAULT '{}'::jsonb,
    errors jsonb[] NOT NULL DEFAULT ARRAY[]::jsonb[],
    attempt integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL DEFAULT 20,
    inserted_at timestamp NOT NULL DEFAULT timezone('UTC', now()),
    scheduled_at timestamp NOT NULL DEFAULT timezone('UTC', now()),
    attempted_at timestamp,
    completed_at timestamp,
    attempted_by text[],
    discarded_at timestamp,
    priority integer NOT NULL DEFAULT 0,
    tags text[] DEFAULT ARRAY[]::text[],
    meta jsonb DEFAULT '{}'::jsonb,
    cancelled_at timestamp,
    CONSTRAINT worker_length CHECK (char_length(worker) > 0 AND char_length(worker) < 128),
    CONSTRAINT queue_length CHECK (char_length(queue) > 0 AND char_length(queue) < 128),
    CONSTRAINT positive_max_attempts CHECK (max_attempts > 0),
    CONSTRAINT attempt_range CHECK (attempt BETWEEN 0 AND max_attempts),
    CONSTRAINT non_negative_priority CHECK (priority >= 0) NOT VALID
);
CREATE INDEX oban_jobs_state_queue_priority_scheduled_at_id_index
    ON oban_jobs (state, queue, priority, scheduled_at, id);
CREATE INDEX oban_jobs_args_index ON oban_jobs USING gin (args);
CREATE INDEX oban_jobs_meta_index ON oban_jobs USING gin (meta);
CREATE UNLOGGED TABLE oban_peers (
    name text PRIMARY KEY,
    node text NOT NULL,
    started_at timestamp NOT NULL,
    expires_at timestamp NOT NULL
);
COMMENT ON TABLE oban_jobs IS '12';
"""
"""Oban for Elixir's tables at migration version 12, as one script."""

OBAN_PY_LAYOUT = """
CREATE TYPE oban_job_state AS ENUM
    ('available', 'scheduled', 'suspended', 'executing', 'retryable', 'completed', 'discarded', 'cancelled');
CREATE TABLE oban_jobs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    state oban_job_state NOT NULL DEFAULT 'available',
    queue text NOT NULL DEFAULT 'default',
    worker text NOT NULL,
    attempt smallint NOT NULL DEFAULT 0,
    max_attempts smallint NOT NULL DEFAULT 20,
    priority smallint NOT NULL DEFAULT 0,
    args jsonb NOT NULL DEFAULT '{}',
    meta jsonb NOT NULL DEFAULT '{}',
    tags text[] NOT NULL DEFAULT ARRAY[]::text[],
    errors jsonb NOT NULL DEFAULT '[]',
    attempted_by text[] NOT NULL DEFAULT ARRAY[]::text[],
    inserted_at timestamp NOT NULL DEFAULT timezone('UTC', now()),
    scheduled_at timestamp NOT NULL DEFAULT timezone('UTC', now()),
    attempted_at timestamp,
    cancelled_at timestamp,
    completed_at timestamp,
    discarded_at timestamp,
    CHECK (attempt >= 0 AND attempt <= max_attempts),
    CHECK (char_length(queue) > 0),
    CHECK (char_length(worker) > 0),
    CHECK (max_attempts > 0),
    CHECK (priority >= 0)
);
CREATE UNLOGGED TABLE oban_leaders (
    name text PRIMARY KEY DEFAULT 'oban',
    node text NOT NULL,
    elected_at timestamp NOT NULL,
    expires_at timestamp NOT NULL
);
CREATE UNLOGGED TABLE oban_producers (
    uuid uuid PRIMARY KEY,
    name text NOT NULL DEFAULT 'oban',
    node text NOT NULL,
    queue text NOT NULL,
    meta jsonb NOT NULL DEFAULT '{}',
    started_at timestamp NOT NULL DEFAULT timezone('UTC', now()),
    updated_at timestamp NOT NULL DEFAULT timezone('UTC', now())
);
CREATE INDEX oban_jobs_state_queue_priority_scheduled_at_id_index
    ON oban_jobs (state, queue, priority, scheduled_at, id);
CREATE INDEX oban_jobs_staging_index ON oban_jobs (scheduled_at, id) INCLUDE (queue)
    WHERE state IN ('scheduled', 'retryable');
CREATE INDEX oban_jobs_completed_at_index ON oban_jobs (completed_at) WHERE state = 'completed';
CREATE INDEX oban_jobs_cancelled_at_index ON oban_jobs (cancelled_at) WHERE state = 'cancelled';
CREATE INDEX oban_jobs_discarded_at_index ON oban_jobs (discarded_at) WHERE state = 'discarded';
"""
"""oban-py's tables as its published release installs them: smallint counters, one jsonb array
of errors, NOT NULL meta/tags/errors/attempted_by, an identity id, its own leader and producer
tables, and no version comment."""

OBAN_PY_JSONB_TAGS_LAYOUT = (
    OBAN_PY_LAYOUT.replace("tags text[] NOT NULL DEFAULT ARRAY[]::text[],", "tags jsonb NOT NULL DEFAULT '[]',")
    + "COMMENT ON TABLE oban_jobs IS '1';\n"
)
"""The same with tags as a jsonb array and oban-py's version comment, as other oban-py versions
lay it out."""

LAYOUTS = {
    "elixir_v12": ELIXIR_V12_LAYOUT,
    "oban_py": OBAN_PY_LAYOUT,
    "oban_py_jsonb_tags": OBAN_PY_JSONB_TAGS_LAYOUT,
}


async def columns_of(conn: asyncpg.Connection, schema: str) -> dict[str, tuple[str, bool, str | None]]:
    """Each column of ``schema.oban_jobs``: (type, not null, default), the id default aside."""
    rows = await conn.fetch(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid) "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE n.nspname = $1 AND c.relname = 'oban_jobs' AND a.attnum > 0 AND NOT a.attisdropped",
        schema,
    )

    def local(text: str | None) -> str | None:  # the enum type shows its schema when not on the search_path
        return None if text is None else text.replace(f'"{schema}".', "").replace(f"{schema}.", "")

    return {
        name: (local(kind), not_null, None if name == "id" else local(default))
        for name, kind, not_null, default in rows
    }


pytestmark = pytest.mark.engines("postgres")


@pytest.fixture(params=sorted(LAYOUTS))
def layout(request: pytest.FixtureRequest) -> str:
    """Which foreign layout the test runs on."""
    return str(request.param)


@pytest_asyncio.fixture
async def oban_engine_factory(layout: str, tmp_path: Any) -> AsyncIterator[Any]:
    """Like the shared factory, but the schema is laid out by hand and never installed by us."""
    schema = await support.create_database("postgres", tmp_path)
    admin = await asyncpg.connect(TEST_DSN)
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"; SET search_path TO "{schema}"; {LAYOUTS[layout]}')
    finally:
        await admin.close()
    engines: list[PostgresEngine] = []

    async def factory(install: bool = True) -> PostgresEngine:
        engine = PostgresEngine(TEST_DSN, prefix=schema)
        await engine.connect()
        engines.append(engine)
        return engine

    factory.transaction = lambda: support.transaction("postgres", schema)  # type: ignore[attr-defined]
    factory.dsn = support.engine_dsn("postgres", schema)  # type: ignore[attr-defined]
    factory.prefix = schema  # type: ignore[attr-defined]
    try:
        yield factory
    finally:
        for engine in engines:
            await engine.close()
        await support.drop_database("postgres", schema)


@pytest_asyncio.fixture
async def engine(oban_engine_factory: Any) -> PostgresEngine:
    """One engine on the foreign layout."""
    return await oban_engine_factory()


# -- the whole conformance suite, minus migrations, on each layout as found ----------------------


class TestInsertOnForeignLayouts(suite.TestInsert):
    pass


class TestTransactionalInsertOnForeignLayouts(suite.TestTransactionalInsert):
    pass


class TestUniqueInsertOnForeignLayouts(suite.TestUniqueInsert):
    pass


class TestFetchOnForeignLayouts(suite.TestFetch):
    pass


class TestAcksOnForeignLayouts(suite.TestAcks):
    pass


class TestGetAndListOnForeignLayouts(suite.TestGetAndList):
    pass


class TestCancelOnForeignLayouts(suite.TestCancel):
    pass


class TestRetryOnForeignLayouts(suite.TestRetry):
    pass


class TestDeleteOnForeignLayouts(suite.TestDelete):
    pass


class TestUpdateOnForeignLayouts(suite.TestUpdate):
    pass


class TestStageOnForeignLayouts(suite.TestStage):
    pass


class TestPruneOnForeignLayouts(suite.TestPrune):
    pass


class TestRescueOnForeignLayouts(suite.TestRescue):
    pass


class TestLeadershipOnForeignLayouts(suite.TestLeadership):
    pass


class TestNotificationsOnForeignLayouts(suite.TestNotifications):
    pass


class TestBadInputOnForeignLayouts(suite.TestBadInput):
    pass


class TestRuntimeOnForeignLayouts(suite.TestRuntime):
    pass


class TestSearchOnForeignLayouts(suite.TestSearch):
    pass


class TestPagingOnForeignLayouts(suite.TestPaging):
    pass


class TestActivityOnForeignLayouts(suite.TestActivity):
    pass


# -- what is particular to each layout -----------------------------------------------------------

RAN: list[int] = []


@worker(queue="foreign")
class ForeignWorker:
    """Records the job; fails on its first attempt when asked to."""

    async def process(self, job: Job) -> None:
        RAN.append(job.id)  # type: ignore[arg-type]
        if job.args.get("fail_once") and job.attempt == 1:
            raise RuntimeError("first attempt fails")

    def backoff(self, job: Job) -> float:
        return 0


WORKER_NAME = f"{ForeignWorker.__module__}.ForeignWorker"


async def test_jobs_the_other_implementation_inserted_run_here(engine, admin, layout) -> None:  # type: ignore[no-untyped-def]
    table = f'"{engine.prefix}".oban_jobs'
    # The way each implementation writes a row: Elixir leaves meta, tags and attempted_by to
    # their (nullable) defaults; oban-py writes them all.
    if layout == "elixir_v12":
        sql = f"INSERT INTO {table} (worker, queue, args, meta, tags) VALUES ($1, 'foreign', $2, NULL, NULL)"
    else:
        tags = "'{py}'" if layout == "oban_py" else "'[\"py\"]'"
        sql = f"INSERT INTO {table} (worker, queue, args, tags) VALUES ($1, 'foreign', $2, {tags})"
    ids = [
        await admin.fetchval(sql + " RETURNING id", WORKER_NAME, json.dumps({"n": n, "fail_once": n == 0}))
        for n in range(5)
    ]
    RAN.clear()
    async with Oban(engine, queues={"foreign": 3}, name=f"foreign-{layout}", stage_interval=0.1):

        async def all_completed() -> bool:
            return await admin.fetchval(f"SELECT count(*) FROM {table} WHERE state = 'completed'") == 5

        await wait_until(all_completed, within=20)
    assert sorted(RAN) == sorted([*ids, ids[0]])
    failed = await admin.fetchrow(
        f"SELECT attempt, attempted_by, to_jsonb(errors) AS errors, pg_typeof(errors)::text AS kind "
        f"FROM {table} WHERE id = $1",
        ids[0],
    )
    assert failed["attempt"] == 2 and len(failed["attempted_by"]) == 2
    assert failed["kind"] == ("jsonb[]" if layout == "elixir_v12" else "jsonb")
    [error] = json.loads(failed["errors"])
    assert set(error) == {"at", "attempt", "error"} and error["attempt"] == 1


async def test_what_we_write_reads_back_in_their_column_types(engine, admin, layout) -> None:  # type: ignore[no-untyped-def]
    [job] = await engine.insert_jobs([Job(worker="app.Worker", tags=["b", "a"], meta={"m": 1})])
    [claimed] = await engine.fetch_jobs("default", 1, "node-1", utcnow())
    error = {"at": "2030-01-01T00:00:00.000000Z", "attempt": 1, "error": "boom"}
    await engine.ack_jobs([Ack(job.id, claimed.attempt, JobState.RETRYABLE, utcnow(), utcnow(), error, {"x": 2})])
    row = await admin.fetchrow(
        "SELECT tags::text AS tags, errors::text AS errors, meta::text AS meta, attempted_by "
        f'FROM "{engine.prefix}".oban_jobs'
    )
    assert row["tags"] == ('["a", "b"]' if layout == "oban_py_jsonb_tags" else "{a,b}")
    if layout == "elixir_v12":
        assert row["errors"].startswith('{"{') and '\\"error\\": \\"boom\\"' in row["errors"]
    else:
        assert row["errors"].startswith("[{") and '"error": "boom"' in row["errors"]
    assert row["meta"] == '{"m": 1, "x": 2}' and row["attempted_by"] == ["node-1"]


async def test_install_on_top_is_harmless(engine, admin, layout) -> None:  # type: ignore[no-untyped-def]
    prefix = engine.prefix
    [job] = await engine.insert_jobs([Job(worker="app.Worker", args={"kept": True})])
    before = await columns_of(admin, prefix)
    comment_before = await admin.fetchval(f"SELECT obj_description('\"{prefix}\".oban_jobs'::regclass, 'pg_class')")
    await engine.install()
    await engine.install()
    assert (await engine.get_job(job.id)).args == {"kept": True}  # type: ignore[union-attr]
    assert await engine.schema_version() == LATEST_VERSION
    comment = await admin.fetchval(f"SELECT obj_description('\"{prefix}\".oban_jobs'::regclass, 'pg_class')")
    tables = {row[0] for row in await admin.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", prefix)}
    if layout.startswith("oban_py"):
        assert await columns_of(admin, prefix) == before  # untouched, including its version comment
        assert comment == comment_before
        assert tables == {"oban_jobs", "oban_peers", "oban_leaders", "oban_producers"}
    else:
        assert comment == str(LATEST_VERSION)  # upgraded the way Oban would: v13 indexes, v14 state
        assert tables == {"oban_jobs", "oban_peers", "oban_producers"}
        labels = await admin.fetchval(f'SELECT enum_range(NULL::"{prefix}".oban_job_state)::text[]')
        assert "suspended" in labels


async def test_schema_version_reports_what_the_layout_provides(engine, layout) -> None:  # type: ignore[no-untyped-def]
    assert await engine.schema_version() == (12 if layout == "elixir_v12" else LATEST_VERSION)


async def test_oban_py_layout_can_be_kept_or_removed_but_not_moved(engine, admin, layout) -> None:  # type: ignore[no-untyped-def]
    if not layout.startswith("oban_py"):
        pytest.skip("about the oban-py layouts")
    with pytest.raises(SchemaError, match="oban-py"):
        await engine.migrate(3)
    assert await engine.migrate() == LATEST_VERSION
    await engine.uninstall()
    assert await engine.schema_version() == 0
    left = {row[0] for row in await admin.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", engine.prefix)}
    assert left == {"oban_leaders", "oban_producers"}


async def test_leadership_works_without_install(engine, admin, layout) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    assert await engine.elect_leader("oban", "node-a", 30, now)
    assert not await engine.elect_leader("oban", "node-b", 30, now + timedelta(seconds=1))
    assert await admin.fetchval(f"SELECT node FROM \"{engine.prefix}\".oban_peers WHERE name = 'oban'") == "node-a"


async def test_unique_jobs_are_found_across_both_kinds_of_rows(engine, admin) -> None:  # type: ignore[no-untyped-def]
    from oban.job import UniqueOptions

    job = Job(worker="app.Worker", args={"u": 1}, unique=UniqueOptions())
    [first] = await engine.insert_jobs([job])
    again = Job(worker="app.Worker", args={"u": 1}, unique=UniqueOptions())
    [second] = await engine.insert_jobs([again])
    assert second.conflict and second.id == first.id
    assert await admin.fetchval(f'SELECT count(*) FROM "{engine.prefix}".oban_jobs') == 1
