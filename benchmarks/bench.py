"""oban against the raw SQL floor (and peers) on every reachable engine, as same-run ratios.

    python benchmarks/bench.py                           # sqlite, postgres, mysql (skips unreachable)
    python benchmarks/bench.py --engine postgres --only drain
    python benchmarks/bench.py --peers                   # also pgqueuer and oban-py on PostgreSQL
    python benchmarks/bench.py --only retained --retained 100000

Absolute numbers don't travel between machines; ratios measured in the same run do. Every figure
is printed next to the floor for the same work (``benchmarks/floor.py``: the fastest honest loop
written straight on the driver against the engine's own table) and its ratio ours/floor. Each
figure is the best of ``--rounds`` runs (2), floor and ours alternating, each on a fresh database.

Workloads (``--only`` takes a comma-separated list; all by default):
  enqueue     one enqueue_many() of 10,000 prebuilt no-op jobs
  drain       10,000 pre-inserted no-op jobs, one node at queue limit 20 and 100, until every job
              is completed in the database
  latency     insert-to-start p50/p99 over 200 single jobs into an idle running queue (no floor:
              absolute milliseconds)
  sustained   --sustain-seconds (30) of one producer enqueuing batches of 10 while five nodes at
              queue limit 10 consume: pgqueuer's own benchmark shape (no floor; --peers compares)
  retained    the limit-100 drain with --retained completed rows already in the table, as a ratio
              to the same drain on an empty table (floor and ours)
  unique      enqueue_many() of 1,000 unique jobs with 0, 100k and 1M rows (--retained caps the
              largest) already stored, as a ratio to 1,000 plain jobs into the same table
  nodes       20,000 jobs drained by 1, 2, 3 and 4 processes, each an oban node on the same database
--peers adds pgqueuer and oban-py (each in its own virtualenv under .bench/) on PostgreSQL,
as ratios to the PostgreSQL floor and ours/peer (benchmarks/peers.py).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import floor  # noqa: E402
import ours  # noqa: E402
from _harness import best, database, millis, note, open_floor, row, section  # noqa: E402
from growth import bench_retained, bench_unique  # noqa: E402
from machine import describe  # noqa: E402
from nodes import bench_nodes  # noqa: E402
from peers import run_peers  # noqa: E402

from tests import support  # noqa: E402

JOBS = 10_000
LATENCY_SAMPLES = 200
ENGINES = ["sqlite", "postgres", "mysql"]
WORKLOADS = ["enqueue", "drain", "latency", "sustained", "retained", "unique", "nodes"]


# -- the workloads -----------------------------------------------------------------------------


async def floor_insert_time(name: str, tmp: Path, count: int) -> float:
    async with database(name, tmp) as (_, db):
        raw = await open_floor(name, db)
        try:
            await raw.insert(ours.QUEUE, ours.WORKER_NAME, [{"i": -1}])  # warm up, as ours does
            return await floor.time_insert(raw, ours.QUEUE, ours.WORKER_NAME, count)
        finally:
            await raw.close()


async def ours_insert_time(name: str, tmp: Path, count: int) -> float:
    async with database(name, tmp) as (engine, _):
        return await ours.enqueue(engine, count)


async def floor_drain_time(name: str, tmp: Path, limit: int, shape: str, *, count: int = JOBS) -> float:
    async with database(name, tmp) as (engine, db):
        await ours.seed(engine, count)
        raw = await open_floor(name, db)
        try:
            return await floor.SHAPES[shape](raw, ours.QUEUE, count, limit)
        finally:
            await raw.close()


async def ours_drain_time(name: str, tmp: Path, limit: int, *, count: int = JOBS) -> float:
    async with database(name, tmp) as (engine, _):
        await ours.seed(engine, count)
        elapsed = await ours.drain(engine, count, limit)
        stats = getattr(engine, "stats", None)
        if stats and any(stats.values()):
            note(name, f"engine stats: {dict(stats)}")
        return elapsed


async def bench_enqueue(name: str, tmp: Path, rounds: int, figures: dict[str, float]) -> None:
    raw, mine = await best(
        rounds, lambda: floor_insert_time(name, tmp, JOBS), lambda: ours_insert_time(name, tmp, JOBS)
    )
    figures[f"floor enqueue_{JOBS}"], figures[f"ours enqueue_{JOBS}"] = JOBS / raw, JOBS / mine
    row(name, f"enqueue_{JOBS}", JOBS / raw, JOBS / mine, "/s")


async def bench_drain(name: str, tmp: Path, rounds: int, figures: dict[str, float]) -> None:
    """Print the drains at limits 20 and 100 against the floor's better shape."""
    for limit in (20, 100):
        serial, pipelined, mine = await best(
            rounds,
            lambda limit=limit: floor_drain_time(name, tmp, limit, "serial"),
            lambda limit=limit: floor_drain_time(name, tmp, limit, "pipelined"),
            lambda limit=limit: ours_drain_time(name, tmp, limit),
        )
        shape = "serial" if serial <= pipelined else "pipelined"
        workload = f"drain_{JOBS}_limit{limit}"
        raw = JOBS / min(serial, pipelined)
        figures[f"floor {workload}"], figures[f"ours {workload}"] = raw, JOBS / mine
        other = JOBS / max(serial, pipelined)
        row(name, workload, raw, JOBS / mine, "/s", f"floor {shape}; {other:,.0f}/s the other shape")


async def bench_latency(name: str, tmp: Path, figures: dict[str, float]) -> None:
    async with database(name, tmp) as (engine, _):
        samples = await ours.latency(engine, LATENCY_SAMPLES)
    figures["ours latency_p50"] = statistics.median(samples)
    figures["ours latency_p99"] = samples[int(len(samples) * 0.99) - 1]
    why = f"absolute ms over {LATENCY_SAMPLES} jobs; no floor"
    millis(name, "latency_p50", figures["ours latency_p50"], why)
    millis(name, "latency_p99", figures["ours latency_p99"], why)


async def bench_sustained(name: str, tmp: Path, seconds: float, figures: dict[str, float]) -> None:
    async with database(name, tmp) as (_, db):
        figures["ours sustained"] = await ours.sustained(name, db, seconds)
    why = "1 producer x 10, 5 nodes at limit 10 (pgqueuer's benchmark shape); no floor"
    row(name, f"sustained_{seconds:g}s", None, figures["ours sustained"], "/s", why)


async def reachable(name: str) -> bool:
    """Whether the server for ``name`` answers (always, for SQLite); says why not."""
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


async def run_engine(name: str, tmp: Path, options: argparse.Namespace) -> dict[str, float]:
    """Every selected workload on one engine; ours and the floor by workload, for the peers."""
    figures: dict[str, float] = {}
    only, rounds = options.only, options.rounds
    section(f"{name}: oban against the raw SQL floor (ratio ours/floor)", "floor", "ours", "ours/floor")
    if "enqueue" in only:
        await bench_enqueue(name, tmp, rounds, figures)
    if "drain" in only:
        await bench_drain(name, tmp, rounds, figures)
    if "latency" in only:
        await bench_latency(name, tmp, figures)
    if "sustained" in only:
        await bench_sustained(name, tmp, options.sustain_seconds, figures)
    if "retained" in only:
        await bench_retained(name, tmp, rounds, options.retained)
    if "unique" in only:
        await bench_unique(name, tmp, rounds, options.retained)
    if "nodes" in only:
        await bench_nodes(name, tmp, rounds)
    return figures


async def main(options: argparse.Namespace) -> None:
    started = time.perf_counter()
    print(f"machine: {await describe(options.engine, support.POSTGRES_DSN, support.MYSQL_DSN)}")
    command = " ".join(["python benchmarks/bench.py", *sys.argv[1:]])
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; command: {command}")
    print(f"each figure is the best of {options.rounds} runs; a ratio of 1.00 is the base's speed, above is faster")
    postgres: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        for name in options.engine:
            if await reachable(name):
                figures = await run_engine(name, tmp, options)
                if name == "postgres":
                    postgres = figures
    if options.peers:
        if await reachable("postgres"):
            await run_peers(postgres, options.rounds, options.sustain_seconds)
    print(f"\ntook {time.perf_counter() - started:.0f} s", flush=True)


def parse_only(text: str) -> list[str]:
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in WORKLOADS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"--only takes a comma-separated list of {', '.join(WORKLOADS)}; got {text!r}")
    return chosen


def positive(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", action="append", choices=ENGINES, help="repeatable; default: all three")
    parser.add_argument("--only", type=parse_only, default=WORKLOADS, help=f"some of {','.join(WORKLOADS)}")
    parser.add_argument("--peers", action="store_true", help="also pgqueuer and oban-py on PostgreSQL")
    parser.add_argument("--rounds", type=positive, default=2, help="runs per figure; the best counts (default 2)")
    parser.add_argument(
        "--sustain-seconds", type=positive, default=30, help="window of 'sustained' (default 30, pgqueuer's own)"
    )
    parser.add_argument(
        "--retained", type=positive, default=1_000_000, help="completed rows kept for 'retained' (default 1,000,000)"
    )
    options = parser.parse_args(argv)
    options.engine = list(dict.fromkeys(options.engine or ENGINES))
    return options


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
