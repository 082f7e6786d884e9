"""Connections the server drops mid-run: the engine reconnects and no job is lost or run twice.

The server dropping connections is simulated with ``pg_terminate_backend`` on exactly the
backends of the engine under test, found by a per-test ``application_name``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from oban import DatabaseError, Job, Oban, worker
from oban.engines.postgres import PostgresEngine
from oban.job import JobState
from tests.support import POSTGRES_DSN, POSTGRES_TEST_DATABASE, with_database

TEST_DSN = with_database(POSTGRES_DSN, POSTGRES_TEST_DATABASE)
RUNS: list[int] = []


@worker(queue="resilient")
class SlowishWorker:
    """Takes a few milliseconds, so jobs are in flight whenever connections are killed."""

    async def process(self, job: Job) -> None:
        RUNS.append(job.id)  # type: ignore[arg-type]
        await asyncio.sleep(0.005)


pytestmark = pytest.mark.engines("postgres")


@pytest_asyncio.fixture
async def marked_engine(engine: PostgresEngine) -> AsyncIterator[tuple[PostgresEngine, str]]:
    """An engine on the test's installed schema whose connections carry a unique name."""
    name = f"oban-test-{uuid.uuid4().hex[:8]}"
    marked = PostgresEngine(
        TEST_DSN,
        prefix=engine.prefix,
        pool_min_size=2,
        pool_max_size=4,
        server_settings={"application_name": name},
    )
    try:
        yield marked, name
    finally:
        await marked.close()


async def _kill(admin: asyncpg.Connection, name: str) -> int:
    return int(
        await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", name
        )
    )


async def test_the_pool_replaces_connections_the_server_killed(marked_engine, admin) -> None:  # type: ignore[no-untyped-def]
    engine, name = marked_engine
    [job] = await engine.insert_jobs([Job(worker="tests.workers.Noop")])
    await asyncio.gather(*(engine.get_job(job.id) for _ in range(4)))  # open several connections
    before = {row[0] for row in await admin.fetch("SELECT pid FROM pg_stat_activity WHERE application_name = $1", name)}
    killed = await _kill(admin, name)
    assert killed == len(before) >= 2
    # A statement sent on a dropped connection before asyncpg noticed the drop fails (whether it
    # ran cannot be told, so it is not retried); each dropped connection fails at most once,
    # then the pool has replaced them all.
    failures = 0
    for _ in range(killed + 20):
        try:
            assert (await engine.get_job(job.id)).id == job.id  # type: ignore[union-attr]
        except DatabaseError as error:  # the engine's own error, the driver's as its cause
            assert isinstance(error.__cause__, asyncpg.PostgresConnectionError | ConnectionError)
            failures += 1
    assert failures <= killed
    for _ in range(20):
        assert (await engine.get_job(job.id)).id == job.id  # type: ignore[union-attr]
    after = {row[0] for row in await admin.fetch("SELECT pid FROM pg_stat_activity WHERE application_name = $1", name)}
    assert after and not after & before


@pytest.mark.timeout(120)
async def test_a_running_node_rides_out_its_connections_being_killed(marked_engine, admin) -> None:  # type: ignore[no-untyped-def]
    engine, name = marked_engine
    RUNS.clear()
    jobs = await engine.insert_jobs([SlowishWorker.new({"n": n}) for n in range(1500)])
    oban = Oban(
        engine,
        queues={"resilient": 10},
        name=f"recovery-{name}",
        stage_interval=0.1,
        lifeline={"interval": 1.0, "rescue_after": 5.0},
    )
    await oban.start()
    kills = 0
    try:
        for _ in range(5):
            await asyncio.sleep(0.15)
            kills += await _kill(admin, name)
        deadline = asyncio.get_running_loop().time() + 90
        while await admin.fetchval(f"SELECT count(*) FROM \"{engine.prefix}\".oban_jobs WHERE state <> 'completed'"):
            assert asyncio.get_running_loop().time() < deadline, "jobs were left unfinished"
            await asyncio.sleep(0.1)
        listener = engine._listener
        assert listener is not None and listener.reconnects >= 1
    finally:
        await oban.stop()
    assert kills >= 5
    assert sorted(RUNS) == sorted(job.id for job in jobs)  # every job ran, none twice
    assert {job.state for job in await engine.list_jobs(limit=2000)} == {JobState.COMPLETED}
