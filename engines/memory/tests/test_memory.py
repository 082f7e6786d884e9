"""What is particular to MemoryEngine: named and private databases, the DSN, transactions."""

import asyncio

import pytest
from oban import Job, JobState, Oban, SchemaError, worker
from oban.engines import engine_from_dsn

from oban_memory import MemoryEngine

RAN: list[int] = []


@worker(queue="default")
class Remember:
    async def process(self, job):  # type: ignore[no-untyped-def]
        RAN.append(job.id)


@pytest.mark.asyncio
async def test_engines_with_the_same_name_share_one_database():
    a, b = MemoryEngine("memory://shared-db"), MemoryEngine("memory://shared-db")
    [job] = await a.insert_jobs([Job(worker="w.W", args={"n": 1})])
    assert (await b.get_job(job.id)).args == {"n": 1}
    assert await MemoryEngine("memory://another-db").get_job(job.id) is None
    await a.migrate(0)


@pytest.mark.asyncio
async def test_an_engine_without_a_name_has_a_database_of_its_own():
    a, b = MemoryEngine(), MemoryEngine()
    await a.insert_jobs([Job(worker="w.W")])
    assert await b.list_jobs() == []
    assert a.dsn != b.dsn and a.dsn.startswith("memory://private-")


def test_the_dsn_scheme_resolves_through_the_entry_point():
    engine = engine_from_dsn("memory://from-the-cli")
    assert isinstance(engine, MemoryEngine) and engine.dsn == "memory://from-the-cli"


@pytest.mark.parametrize("dsn", ["memory:///path", "sqlite:///x.db", "memory://x?opt=1", 42])
def test_a_bad_dsn_is_refused_naming_it(dsn):
    with pytest.raises(ValueError, match="memory://name"):
        MemoryEngine(dsn)


@pytest.mark.asyncio
async def test_an_engine_built_from_a_dsn_needs_the_schema_installed():
    engine = MemoryEngine.from_dsn("memory://not-installed")
    assert await engine.schema_version() == 0
    with pytest.raises(SchemaError, match="migrate"):
        await engine.list_jobs()
    await engine.migrate()
    assert await engine.list_jobs() == []
    await engine.migrate(0)


@pytest.mark.asyncio
async def test_a_transaction_commits_its_jobs_and_their_notification_together():
    engine = MemoryEngine()
    heard: list[dict] = []
    await engine.listen(lambda channel, payload: heard.append(payload))
    async with engine.transaction() as tx:
        [job] = await engine.insert_jobs([Job(worker="w.W", queue="tx")], conn=tx)
        assert job.id is not None and await engine.get_job(job.id) is None
        await asyncio.sleep(0.05)
        assert heard == []
    assert (await engine.get_job(job.id)).state is JobState.AVAILABLE
    await asyncio.sleep(0.05)
    assert heard == [{"queue": "tx"}]
    await engine.close()


@pytest.mark.asyncio
async def test_a_rolled_back_transaction_leaves_nothing():
    engine = MemoryEngine()
    with pytest.raises(RuntimeError):
        async with engine.transaction() as tx:
            await engine.insert_jobs([Job(worker="w.W")], conn=tx)
            raise RuntimeError("roll back")
    assert await engine.list_jobs() == []
    with pytest.raises(ValueError, match="ended"):
        await engine.insert_jobs([Job(worker="w.W")], conn=tx)


@pytest.mark.asyncio
async def test_stored_values_read_back_as_a_database_would_give_them():
    engine = MemoryEngine()
    [job] = await engine.insert_jobs([Job(worker="w.W", args={"pair": (1, 2)})])
    stored = await engine.get_job(job.id)
    assert stored.args == {"pair": [1, 2]}
    stored.args["pair"].append(3)
    assert (await engine.get_job(job.id)).args == {"pair": [1, 2]}


@pytest.mark.asyncio
async def test_it_runs_a_whole_oban_node_without_any_io():
    RAN.clear()
    async with Oban(MemoryEngine(), queues={"default": 5}, stage_interval=0.05) as oban:
        jobs = await oban.enqueue_many([Remember.new({"n": n}) for n in range(20)])
        for _ in range(200):
            if len(await oban.list_jobs(state="completed")) == 20:
                break
            await asyncio.sleep(0.01)
    assert sorted(RAN) == sorted(job.id for job in jobs)
