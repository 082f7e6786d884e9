"""Several OS processes drain one queue: every job runs exactly once, and all of them complete."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from pathlib import Path

import pytest

from oban import Job
from oban.job import JobState
from tests.support import POSTGRES_DSN, POSTGRES_TEST_DATABASE, with_database

TEST_DSN = with_database(POSTGRES_DSN, POSTGRES_TEST_DATABASE)
NODES = 3
JOBS = 3000

NODE_SCRIPT = textwrap.dedent(
    '''
    """One node: runs the default queue (limit 20) until its stdin closes, recording each run."""
    import asyncio
    import sys

    import asyncpg

    from oban import Oban, worker
    from oban.engines.postgres import PostgresEngine

    DSN, PREFIX, NODE = sys.argv[1:4]
    _pool = None


    @worker(queue="default")
    class Recorder:
        async def process(self, job):
            global _pool
            if _pool is None:
                _pool = await asyncpg.create_pool(DSN.split("?")[0], min_size=1, max_size=4)
            await _pool.execute(
                f'INSERT INTO "{PREFIX}".runs (job_id, node, attempt) VALUES ($1, $2, $3)',
                job.id, NODE, job.attempt,
            )


    async def main():
        oban = Oban(PostgresEngine(DSN), queues={"default": 20}, node=NODE, stage_interval=0.2)
        await oban.start()
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await oban.stop()
        print("stopped", flush=True)


    if __name__ == "__main__":
        asyncio.run(main())
    '''
)


pytestmark = pytest.mark.engines("postgres")


async def _read_line(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    return (await asyncio.wait_for(process.stdout.readline(), 60)).decode().strip()


@pytest.mark.timeout(300)
async def test_three_processes_drain_one_queue_running_every_job_exactly_once(
    oban_engine_factory, admin, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    engine = await oban_engine_factory()
    prefix = engine.prefix
    await admin.execute(f'CREATE TABLE "{prefix}".runs (job_id bigint NOT NULL, node text NOT NULL, attempt int)')
    script = tmp_path / "drain_node.py"
    script.write_text(NODE_SCRIPT)
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(script),
            oban_engine_factory.dsn,
            prefix,
            f"node-{n}",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=tmp_path,
        )
        for n in range(NODES)
    ]
    try:
        assert [await _read_line(process) for process in processes] == ["ready"] * NODES

        jobs = await engine.insert_jobs([Job(worker="drain_node.Recorder", args={"n": n}) for n in range(JOBS)])
        deadline = asyncio.get_running_loop().time() + 240
        while await admin.fetchval(f"SELECT count(*) FROM \"{prefix}\".oban_jobs WHERE state <> 'completed'"):
            assert asyncio.get_running_loop().time() < deadline, "the queue was not drained in time"
            await asyncio.sleep(0.1)
    finally:
        for process in processes:
            if process.stdin is not None and not process.stdin.is_closing():
                process.stdin.close()
        codes = [await asyncio.wait_for(process.wait(), 60) for process in processes]

    assert codes == [0] * NODES
    runs = await admin.fetch(f'SELECT job_id, node, attempt FROM "{prefix}".runs')
    assert sorted(row["job_id"] for row in runs) == sorted(job.id for job in jobs)  # each exactly once
    assert {row["attempt"] for row in runs} == {1}
    assert len({row["node"] for row in runs}) >= 2, "the work was not shared between processes"
    stored = await engine.list_jobs(limit=JOBS + 1)
    assert {job.state for job in stored} == {JobState.COMPLETED}
    assert all(len(job.attempted_by) == 2 for job in stored)  # [node, producer uuid], as Oban records it
    claimed_by = {job.id: job.attempted_by[0] for job in stored}
    assert all(claimed_by[row["job_id"]] == row["node"] for row in runs)
