"""Several nodes on one queue: 1 to 4 processes, each an oban node on the same database.

The parent seeds 20,000 no-op jobs, starts the processes (each an ``Oban`` with the queue at
limit 100, paused), and once every one is ready tells them all to resume their own queue at
once; the time runs from then until the database shows every job completed. Printed as jobs per
second and as the scaling factor against one process, measured in the same run.

    python benchmarks/nodes.py --child ENGINE DATABASE INDEX    # one node (what the parent starts)
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for entry in (str(ROOT), str(ROOT / "benchmarks")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

import ours  # noqa: E402
from _harness import best, database, row, section  # noqa: E402
from machine import cores  # noqa: E402

from oban import Oban  # noqa: E402
from tests import support  # noqa: E402

JOBS = 20_000
LIMIT = 100
PROCESSES = (1, 2, 3, 4)
POLL = 0.02


async def child(engine_name: str, db: str, index: int) -> None:
    """One node: start paused, say ready, resume on ``go``, stop on ``stop`` (lines on stdin)."""
    engine = support.build_engine(engine_name, db)
    oban = Oban(
        engine,
        queues={ours.QUEUE: {"limit": LIMIT, "paused": True}},
        name=f"bench-node-{index}",
        node=f"bench-node-{index}",
        pruner=False,
        lifeline=False,
    )
    await oban.start()
    loop = asyncio.get_running_loop()
    print("ready", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    await oban.resume_queue(ours.QUEUE, node=oban.node)  # this node only: no signal round trip
    await loop.run_in_executor(None, sys.stdin.readline)
    await oban.stop()
    await engine.close()


async def drain_with(name: str, tmp: Path, processes: int) -> float:
    """Seconds for ``processes`` nodes to complete ``JOBS`` seeded jobs between them."""
    async with database(name, tmp) as (engine, db):
        await ours.seed(engine, JOBS)
        children = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                str(Path(__file__).resolve()),
                "--child",
                name,
                db,
                str(index),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            for index in range(processes)
        ]
        try:
            for proc in children:
                assert proc.stdout is not None
                line = await asyncio.wait_for(proc.stdout.readline(), 60)
                if line.strip() != b"ready":
                    raise RuntimeError(f"a node process did not start: {line!r}")
            started = time.perf_counter()
            for proc in children:
                assert proc.stdin is not None
                proc.stdin.write(b"go\n")
            await asyncio.gather(*(proc.stdin.drain() for proc in children if proc.stdin is not None))
            deadline = started + 300
            # Only the database knows when the other processes' acks are written.
            while await ours.completed(engine) < JOBS:
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"{processes} nodes did not complete {JOBS} jobs in 300 s")
                await asyncio.sleep(POLL)
            elapsed = time.perf_counter() - started
        finally:
            for proc in children:
                if proc.stdin is not None and not proc.stdin.is_closing():
                    proc.stdin.write(b"stop\n")
                    proc.stdin.close()
            for proc in children:
                try:
                    await asyncio.wait_for(proc.wait(), 30)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
        return elapsed


async def bench_nodes(name: str, tmp: Path, rounds: int) -> None:
    """Print the drain rate with 1 to 4 node processes and its scaling against one process."""
    section(
        f"{JOBS:,} jobs drained by 1 to {PROCESSES[-1]} node processes, limit {LIMIT} each (ratio N/1 process)",
        "1 process",
        "N processes",
        "scaling",
    )
    # All counts alternate within each round, so a change in load falls on every column alike.
    times = await best(
        rounds, *[lambda processes=processes: drain_with(name, tmp, processes) for processes in PROCESSES]
    )
    one = JOBS / times[0]
    for processes, elapsed in zip(PROCESSES, times, strict=True):
        row(name, f"nodes_{processes}", one, JOBS / elapsed, "/s", f"{processes} processes on {cores()} cores")


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "--child":
        raise SystemExit(f"usage: {sys.argv[0]} --child ENGINE DATABASE INDEX (bench.py --only nodes runs it)")
    asyncio.run(child(sys.argv[2], sys.argv[3], int(sys.argv[4])))
