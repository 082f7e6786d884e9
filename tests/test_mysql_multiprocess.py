"""Several OS processes draining one MySQL queue run every job exactly once."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from oban import Job, Oban, worker
from tests.support import MYSQL_DSN, mysql_connect

REPO = Path(__file__).resolve().parent.parent
PROCESSES = 3
JOBS = 3000
RUNS: list[int] = []


pytestmark = pytest.mark.engines("mysql")


@worker(queue="default")
class RecordingWorker:
    """Remembers, in this process, every job it runs."""

    async def process(self, job: Job) -> None:
        RUNS.append(job.id)  # type: ignore[arg-type]
        if job.id % 7 == 0:  # type: ignore[operator]
            await asyncio.sleep(0.001)


async def child(dsn: str, workdir: str, index: str) -> None:
    """One node: run the default queue until SIGTERM, then write down the jobs it ran."""
    from oban.engines.mysql import MySQLEngine

    folder = Path(workdir)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    engine = MySQLEngine(dsn)
    async with Oban(engine=engine, queues={"default": 20}, name=f"proc-{index}", node=f"proc-{index}"):
        (folder / f"ready-{index}").touch()
        await stop.wait()
    (folder / f"runs-{index}.json").write_text(json.dumps({"runs": RUNS, "stats": engine.stats}))


async def _count(conn: Any, sql: str) -> int:
    async with conn.cursor() as cursor:
        await cursor.execute(sql)
        return int((await cursor.fetchone())[0])


async def test_three_processes_drain_a_queue_running_each_job_exactly_once(oban_engine_factory, tmp_path):
    engine = await oban_engine_factory()
    launcher = "import asyncio, sys; from tests.test_mysql_multiprocess import child; asyncio.run(child(*sys.argv[1:]))"
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", launcher, oban_engine_factory.dsn, str(tmp_path), str(index), cwd=REPO
        )
        for index in range(PROCESSES)
    ]
    conn = await mysql_connect(MYSQL_DSN, urlparse(oban_engine_factory.dsn).path.lstrip("/"))
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while not all((tmp_path / f"ready-{index}").exists() for index in range(PROCESSES)):
            assert all(process.returncode is None for process in processes), "a node exited early"
            assert loop.time() < deadline, "the nodes did not start"
            await asyncio.sleep(0.05)
        jobs: list[Job] = []
        for start in range(0, JOBS, 500):  # in batches, as an application would, while the nodes run
            jobs += await engine.insert_jobs([RecordingWorker.new({"n": n}) for n in range(start, start + 500)])
        deadline = loop.time() + 60
        while await _count(conn, "SELECT COUNT(*) FROM oban_jobs WHERE state = 'completed'") < JOBS:
            assert loop.time() < deadline, "the nodes did not finish the jobs"
            await asyncio.sleep(0.1)
        for process in processes:
            process.terminate()
        assert [await process.wait() for process in processes] == [0] * PROCESSES
        states = await _count(conn, "SELECT COUNT(DISTINCT state) FROM oban_jobs")
        attempts = await _count(conn, "SELECT MAX(attempt) FROM oban_jobs")
    finally:
        conn.close()
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()

    reports = [json.loads((tmp_path / f"runs-{index}.json").read_text()) for index in range(PROCESSES)]
    runs = Counter(job_id for report in reports for job_id in report["runs"])
    assert set(runs) == {job.id for job in jobs}
    assert set(runs.values()) == {1}, "some job ran more than once"
    assert states == 1 and attempts == 1
    assert sum(1 for report in reports if report["runs"]) >= 2, "one node did all the work"
    assert all(report["stats"]["unretried_errors"] == 0 for report in reports)
