"""CPU-bound jobs on one node: sync workers in threads against ``executor="process"``.

    python benchmarks/cpu_bound.py                       # SQLite file, 40 jobs of ~50 ms
    python benchmarks/cpu_bound.py --engine postgres --jobs 80 --ms 20

Each job runs the same pure-Python loop (calibrated on this machine to ``--ms`` milliseconds on
one core), so in threads it holds the GIL and one node uses one core whatever the queue limit.
The process executor runs it in ``Oban(processes=N)`` children (N = the CPU count). The queue
limit is 2N for both (``--limit``): a claimed job is already waiting when a child frees, and
waiting for a child does not count against a job's timeout. Printed, all from the same run,
each the best of ``--rounds``:

  serial      the loop called ``--jobs`` times in this process: one core, no oban
  floor       the loop mapped over a warm ``ProcessPoolExecutor`` of N processes, no oban: the
              most any process executor can get from N cores
  thread      oban, sync worker in the node's thread pool
  process     oban, the same worker with ``executor="process"``

Figures are jobs/s, and ratios: process/thread (the speedup the option buys) and process/floor
(what oban's claiming, acking and its own hop to the child cost). Each oban round runs on a
fresh database, with a warm-up of N jobs first so children are started before timing.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from machine import describe  # noqa: E402

from oban import Oban, telemetry, worker  # noqa: E402
from oban.runtime.process_pool import start_method  # noqa: E402
from tests import support  # noqa: E402


def burn(iterations: int) -> int:
    """Pure-Python arithmetic: holds the GIL for the whole call."""
    total = 0
    for i in range(iterations):
        total = (total + i * i) % 1_000_003
    return total


@worker(queue="cpu_thread")
class ThreadBurn:
    def process(self, job: Any) -> None:
        burn(job.args["iterations"])


@worker(queue="cpu_process", executor="process")
class ProcessBurn:
    def process(self, job: Any) -> None:
        burn(job.args["iterations"])


def calibrate(ms: float) -> int:
    """Iterations of ``burn`` that take about ``ms`` milliseconds here (best of 5)."""
    probe = 200_000
    best = min(_timed(burn, probe) for _ in range(5))
    return max(1, int(probe * (ms / 1000) / best))


def _timed(fn: Any, *args: Any) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def serial_time(jobs: int, iterations: int) -> float:
    started = time.perf_counter()
    for _ in range(jobs):
        burn(iterations)
    return time.perf_counter() - started


def floor_time(pool: ProcessPoolExecutor, jobs: int, iterations: int) -> float:
    started = time.perf_counter()
    list(pool.map(burn, [iterations] * jobs))
    return time.perf_counter() - started


async def oban_time(
    engine_name: str, tmp: Path, mode: str, jobs: int, iterations: int, processes: int, limit: int
) -> float:
    """Seconds for one node to run ``jobs`` jobs of ``mode`` (thread or process) to completion."""
    database = await support.create_database(engine_name, tmp)
    engine = support.build_engine(engine_name, database)
    await engine.connect()
    await engine.install()
    target = ThreadBurn if mode == "thread" else ProcessBurn
    queue = f"cpu_{mode}"
    done = 0
    finished = asyncio.Event()
    goal = 0

    def on_stop(_name: str, metadata: dict[str, Any]) -> None:
        nonlocal done
        if metadata["queue"] == queue and metadata["state"] == "completed":
            done += 1
            if done >= goal:
                finished.set()

    handler = f"cpu-bound-{mode}-{os.getpid()}"
    telemetry.attach(handler, ["oban.job.stop"], on_stop)
    oban = Oban(engine, name=f"cpu-{mode}", queues={queue: limit}, processes=processes)
    try:
        async with oban:
            goal = processes  # warm up: start the children, connect, fill caches
            await oban.enqueue_many([target.new({"iterations": iterations}) for _ in range(processes)])
            await finished.wait()
            done, goal = 0, jobs
            finished.clear()
            started = time.perf_counter()
            await oban.enqueue_many([target.new({"iterations": iterations}) for _ in range(jobs)])
            await finished.wait()
            return time.perf_counter() - started
    finally:
        telemetry.detach(handler)
        await engine.close()
        await support.drop_database(engine_name, database)


def row(label: str, seconds: float, jobs: int, note: str = "") -> None:
    print(f"{label:<9} {jobs / seconds:>9.1f} jobs/s  {seconds:>7.3f} s  {note}", flush=True)


async def main(options: argparse.Namespace) -> None:
    processes = os.cpu_count() or 1
    jobs, rounds = options.jobs, options.rounds
    limit = options.limit or 2 * processes
    print(f"machine: {await describe([options.engine], support.POSTGRES_DSN, support.MYSQL_DSN)}")
    command = " ".join(["python benchmarks/cpu_bound.py", *sys.argv[1:]])
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; command: {command}")
    iterations = calibrate(options.ms)
    one = min(_timed(burn, iterations) for _ in range(3))
    print(
        f"{jobs} jobs of {one * 1000:.0f} ms ({iterations:,} iterations), engine {options.engine}, "
        f"{processes} processes ({start_method()}), queue limit {limit}, best of {rounds}"
    )
    serial = min(serial_time(jobs, iterations) for _ in range(rounds))
    with ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context(start_method())) as pool:
        list(pool.map(burn, [1] * processes * 4))  # start every process before timing
        floor = min(floor_time(pool, jobs, iterations) for _ in range(rounds))
    threads: list[float] = []
    children: list[float] = []
    with tempfile.TemporaryDirectory() as tmp_dir:
        for _ in range(rounds):  # alternating, so a noisy moment hurts both alike
            for mode, times in (("thread", threads), ("process", children)):
                times.append(await oban_time(options.engine, Path(tmp_dir), mode, jobs, iterations, processes, limit))
    thread, process = min(threads), min(children)
    row("serial", serial, jobs, "one core, no oban")
    row("floor", floor, jobs, f"ProcessPoolExecutor({processes}) alone = {serial / floor:.2f}x serial")
    row("thread", thread, jobs, f"= {serial / thread:.2f}x serial")
    row("process", process, jobs, f"= {serial / process:.2f}x serial")
    print(f"speedup process/thread: {thread / process:.2f}x; process/floor: {floor / process:.0%}", flush=True)


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", default="sqlite", choices=["sqlite", "postgres", "mysql"])
    parser.add_argument("--jobs", type=positive, default=40, help="jobs per run (40)")
    parser.add_argument("--ms", type=positive_float, default=50.0, help="milliseconds of work a job (50)")
    parser.add_argument("--limit", type=positive, help="the queue's limit (twice the processes)")
    parser.add_argument("--rounds", type=positive, default=3, help="runs of each, best kept (3)")
    asyncio.run(main(parser.parse_args()))
