"""The peer workloads run against pgqueuer, in its own virtualenv, on our PostgreSQL server.

This script imports only pgqueuer and asyncpg, never our package: ``benchmarks/bench.py --peers``
runs it with the interpreter of ``.bench/pgqueuer`` (``pip install "pgqueuer[asyncpg]"``)::

    .bench/pgqueuer/bin/python benchmarks/peer_pgqueuer.py --dsn postgresql://postgres@127.0.0.1:5432/postgres

It creates a database of its own (``--database``, dropped first and after), installs pgqueuer's
schema there, and prints one line per figure in the columns ``bench.py`` reads:

    pgqueuer postgres drain_10000_batch100   <N> jobs/s
    pgqueuer postgres sustained_30s          <N> jobs/s

drain       10,000 no-op jobs enqueued in one call, then one ``PgQueuer`` in drain mode at
            batch size 100, from ``run()`` until it returns (every job done, its log written);
            best of ``--rounds``.
sustained   the shape of pgqueuer's own ``tools/benchmark.py`` throughput strategy with its
            defaults: one producer enqueuing batches of 10 without pause, five consumers (one
            ``PgQueuer`` and one asyncpg connection each) at batch size 10, for 30 seconds;
            jobs run per second of the window. Both queues run on the stdlib asyncio loop here,
            as ours does (pgqueuer's script picks uvloop).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from pgqueuer import PgQueuer, Queries
from pgqueuer.types import QueueExecutionMode

JOBS = 10_000
DRAIN_BATCH = 100
SUSTAIN_PRODUCER_BATCH = 10
SUSTAIN_CONSUMERS = 5
SUSTAIN_CONSUMER_BATCH = 10


def report(name: str, value: float, unit: str) -> None:
    """One result line, in the columns ``benchmarks/bench.py`` parses."""
    print(f"{'pgqueuer':<8} {'postgres':<9} {name:<22} {value:>12,.1f} {unit}", flush=True)


def on_database(dsn: str, database: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{database}"))


async def recreate(dsn: str, database: str, *, drop_only: bool = False) -> None:
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if not drop_only:
            await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()


def consumer(conn: asyncpg.Connection, seen: list[int]) -> PgQueuer:
    """A PgQueuer on its own connection whose no-op entrypoint counts into ``seen``."""
    pgq = PgQueuer.from_asyncpg_connection(conn)

    @pgq.entrypoint("noop")
    async def noop(job: object) -> None:
        seen[0] += 1

    return pgq


async def drain(dsn: str) -> float:
    """Jobs per second: one consumer at batch 100 draining ``JOBS`` pre-enqueued no-op jobs."""
    conn = await asyncpg.connect(dsn)
    try:
        queries = Queries.from_asyncpg_connection(conn)
        await queries.clear_queue()
        await queries.clear_queue_log()
        await queries.enqueue(["noop"] * JOBS, [b""] * JOBS, [0] * JOBS)
        seen = [0]
        pgq = consumer(conn, seen)
        started = time.perf_counter()
        await pgq.run(batch_size=DRAIN_BATCH, mode=QueueExecutionMode.drain)
        elapsed = time.perf_counter() - started
        if seen[0] != JOBS:
            raise RuntimeError(f"pgqueuer drain ran {seen[0]} of {JOBS} jobs")
        return JOBS / elapsed
    finally:
        await conn.close()


async def sustained(dsn: str, seconds: float) -> float:
    """Jobs run per second while one producer enqueues as fast as it can."""
    setup = await asyncpg.connect(dsn)
    try:
        queries = Queries.from_asyncpg_connection(setup)
        await queries.clear_queue()
        await queries.clear_queue_log()
    finally:
        await setup.close()
    conns = [await asyncpg.connect(dsn) for _ in range(SUSTAIN_CONSUMERS + 1)]
    seen = [0]
    stop = asyncio.Event()
    consumers = [consumer(conn, seen) for conn in conns[1:]]

    async def produce() -> None:
        producer = Queries.from_asyncpg_connection(conns[0])
        counter = 0
        while not stop.is_set():
            payloads = [str(counter + i).encode() for i in range(SUSTAIN_PRODUCER_BATCH)]
            counter += SUSTAIN_PRODUCER_BATCH
            await producer.enqueue(["noop"] * SUSTAIN_PRODUCER_BATCH, payloads, [0] * SUSTAIN_PRODUCER_BATCH)
            await asyncio.sleep(0)

    try:
        started = time.perf_counter()
        tasks = [asyncio.create_task(pgq.run(batch_size=SUSTAIN_CONSUMER_BATCH)) for pgq in consumers]
        tasks.append(asyncio.create_task(produce()))
        await asyncio.sleep(seconds)
        ran, elapsed = seen[0], time.perf_counter() - started
        stop.set()
        for pgq in consumers:
            pgq.shutdown.set()
        done, pending = await asyncio.wait(tasks, timeout=max(5.0, seconds * 0.1))
        for task in pending:
            task.cancel()
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        return ran / elapsed
    finally:
        for conn in conns:
            await conn.close()


async def run(options: argparse.Namespace) -> None:
    dsn = on_database(options.dsn, options.database)
    await recreate(options.dsn, options.database)
    try:
        setup = await asyncpg.connect(dsn)
        try:
            await Queries.from_asyncpg_connection(setup).install()
        finally:
            await setup.close()
        if "drain" in options.only:
            rates = [await drain(dsn) for _ in range(options.rounds)]
            report(f"drain_{JOBS}_batch{DRAIN_BATCH}", max(rates), "jobs/s")
        if "sustained" in options.only:
            seconds = options.seconds
            report(f"sustained_{seconds:g}s", await sustained(dsn, seconds), "jobs/s")
    finally:
        await recreate(options.dsn, options.database, drop_only=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dsn",
        default=os.environ.get("OBAN_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL server (default: $OBAN_TEST_POSTGRES_DSN, as for our tests and bench)",
    )
    parser.add_argument("--database", default="oban_bench_pgqueuer", help="database created and dropped for the run")
    parser.add_argument("--rounds", type=int, default=2, help="drain runs; the best is printed (default 2)")
    parser.add_argument("--seconds", type=float, default=30.0, help="sustained window (default 30, pgqueuer's own)")
    parser.add_argument("--only", default="drain,sustained", help="drain, sustained or both (default)")
    options = parser.parse_args()
    if not options.database.replace("_", "").isalnum():
        parser.error(f"--database must be a plain identifier, got {options.database!r}")
    options.only = {part.strip() for part in options.only.split(",")}
    if not options.only <= {"drain", "sustained"} or not options.only:
        parser.error(f"--only takes drain, sustained or both, got {','.join(sorted(options.only))!r}")
    if options.rounds <= 0 or options.seconds <= 0:
        parser.error(f"--rounds and --seconds must be positive, got {options.rounds} and {options.seconds}")
    logging.disable(logging.WARNING)  # pgqueuer's own logs would interleave with the figures
    try:
        asyncio.run(run(options))
    except Exception as error:
        print(f"pgqueuer benchmark failed: {type(error).__name__}: {error}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
