"""Throughput and latency of oban on every reachable engine, printed as one table.

    python benchmarks/bench.py                      # sqlite, postgres, mysql (skips unreachable)
    python benchmarks/bench.py --engine sqlite      # one engine
    python benchmarks/bench.py --peers              # also the published oban-py on PostgreSQL

Workloads (each on a fresh database):
  enqueue_10000         one enqueue_many() of 10,000 prebuilt no-op jobs
  drain_10000_limitN    10,000 pre-inserted no-op jobs, one node with queue limit N, until every
                        job is completed in the database (acks written)
  latency_p50/p99       200 single jobs enqueued one after another into an idle running queue:
                        time from calling enqueue() to the worker starting
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from oban import Oban, worker  # noqa: E402
from oban.engines import Engine  # noqa: E402
from tests import support  # noqa: E402

JOBS = 10_000
LATENCY_SAMPLES = 200

_done = 0
_target = 0
_finished: asyncio.Event | None = None
_started: dict[int, float] = {}
_start_event: asyncio.Event | None = None


@worker(queue="bench")
class NoopWorker:
    async def process(self, job: Any) -> None:
        global _done
        _done += 1
        if _done >= _target and _finished is not None:
            _finished.set()


@worker(queue="latency")
class LatencyWorker:
    async def process(self, job: Any) -> None:
        _started[job.args["i"]] = time.perf_counter()
        if _start_event is not None:
            _start_event.set()


def row(system: str, engine: str, metric: str, value: float, unit: str) -> None:
    print(f"{system:<8} {engine:<9} {metric:<22} {value:>12,.1f} {unit}", flush=True)


async def fresh_engine(name: str, tmp: Path) -> tuple[Engine, str]:
    database = await support.create_database(name, tmp)
    engine = support.build_engine(name, database)
    await engine.connect()
    await engine.install()
    return engine, database


async def bench_enqueue(name: str, tmp: Path) -> None:
    engine, database = await fresh_engine(name, tmp)
    oban = Oban(engine, name=f"bench-{name}")
    try:
        await oban.enqueue_many([NoopWorker.new({"i": -1})])  # connect and warm up
        jobs = [NoopWorker.new({"i": i}) for i in range(JOBS)]
        started = time.perf_counter()
        await oban.enqueue_many(jobs)
        elapsed = time.perf_counter() - started
        row("oban", name, f"enqueue_{JOBS}", JOBS / elapsed, "jobs/s")
    finally:
        await oban.stop()
        await support.drop_database(name, database)


async def bench_drain(name: str, tmp: Path, limit: int) -> None:
    global _done, _target, _finished
    engine, database = await fresh_engine(name, tmp)
    try:
        client = Oban(engine, name=f"bench-seed-{name}")
        for start in range(0, JOBS, 5000):
            await client.enqueue_many([NoopWorker.new({"i": i}) for i in range(start, min(JOBS, start + 5000))])
        _done, _target, _finished = 0, JOBS, asyncio.Event()
        oban = Oban(engine, queues={"bench": limit}, name=f"bench-{name}", pruner=False, lifeline=False)
        started = time.perf_counter()
        await oban.start()
        await _finished.wait()
        await oban._node._acker.drain()  # type: ignore[union-attr]
        elapsed = time.perf_counter() - started
        completed = len(await engine.list_jobs(states=["completed"], limit=JOBS + 1))  # type: ignore[list-item]
        await oban.stop()
        if completed != JOBS:
            raise RuntimeError(f"drain finished with {completed} of {JOBS} jobs completed")
        row("oban", name, f"drain_{JOBS}_limit{limit}", JOBS / elapsed, "jobs/s")
        stats = getattr(engine, "stats", None)
        if stats:
            print(f"{'':<8} {name:<9} engine stats: {dict(stats)}", flush=True)
    finally:
        await support.drop_database(name, database)


async def bench_latency(name: str, tmp: Path) -> None:
    global _start_event
    engine, database = await fresh_engine(name, tmp)
    try:
        oban = Oban(engine, queues={"latency": 10}, name=f"bench-{name}", pruner=False, lifeline=False)
        await oban.start()
        await asyncio.sleep(0.3)
        samples = []
        for i in range(LATENCY_SAMPLES + 10):
            _start_event = asyncio.Event()
            sent = time.perf_counter()
            await oban.enqueue(LatencyWorker.new({"i": i}))
            await asyncio.wait_for(_start_event.wait(), 30)
            if i >= 10:  # the first few warm connections and caches
                samples.append((_started[i] - sent) * 1000)
            await asyncio.sleep(0.005)
        await oban.stop()
        samples.sort()
        row("oban", name, "latency_p50", statistics.median(samples), "ms")
        row("oban", name, "latency_p99", samples[int(len(samples) * 0.99) - 1], "ms")
    finally:
        await support.drop_database(name, database)


async def reachable(name: str) -> bool:
    if name == "sqlite":
        return True
    try:
        if name == "postgres":
            import asyncpg

            conn = await asyncio.wait_for(asyncpg.connect(support.POSTGRES_DSN), 5)
            await conn.close()
        else:
            conn = await asyncio.wait_for(support.mysql_connect(support.MYSQL_DSN), 5)
            conn.close()
    except Exception as error:
        print(f"skipping {name}: {type(error).__name__}: {error}", flush=True)
        return False
    return True


def _python_312_or_newer() -> str | None:
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [shutil.which("python3.13"), shutil.which("python3.12")]
    candidates += [str(path) for path in sorted(pyenv.glob("3.1[2-9]*/bin/python"), reverse=True)]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; sys.exit(sys.version_info < (3, 12))"], capture_output=True
        )
        if probe.returncode == 0:
            return candidate
    return None


def run_peers() -> None:
    """The published oban-py package on the same PostgreSQL server, in its own virtualenv."""
    script = ROOT / "benchmarks" / "peer_oban_py.py"
    if not script.exists():
        print("skipping oban-py: benchmarks/peer_oban_py.py is missing", flush=True)
        return
    venv = ROOT / ".bench" / "oban-py"
    python = venv / "bin" / "python"
    if not python.exists():
        base = _python_312_or_newer()  # oban-py 0.5+ needs Python 3.12 or newer
        if base is None:
            print("skipping oban-py: it needs Python 3.12+ and none was found on PATH", flush=True)
            return
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "oban"], check=True)
    subprocess.run([str(python), str(script)], check=True, env={**os.environ, "PYTHONPATH": ""})


async def main(engines: list[str], peers: bool) -> None:
    print(f"{'system':<8} {'engine':<9} {'workload':<22} {'value':>12}", flush=True)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        for name in engines:
            if not await reachable(name):
                continue
            await bench_enqueue(name, tmp)
            for limit in (20, 100):
                await bench_drain(name, tmp, limit)
            await bench_latency(name, tmp)
    if peers:
        run_peers()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", action="append", choices=["sqlite", "postgres", "mysql"])
    parser.add_argument("--peers", action="store_true", help="also run the published oban-py on PostgreSQL")
    options = parser.parse_args()
    asyncio.run(main(options.engine or ["sqlite", "postgres", "mysql"], options.peers))
