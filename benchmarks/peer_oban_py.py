"""The benchmark workloads, run against the published ``oban`` package (oban-py) for comparison.

This script imports only oban-py and what it depends on (psycopg, psycopg_pool), never our
package: ``benchmarks/bench.py`` runs it with the interpreter of a separate virtual environment
(oban-py needs Python 3.12 or newer)::

    python3.12 -m venv .bench/oban-py && .bench/oban-py/bin/pip install oban
    .bench/oban-py/bin/python benchmarks/peer_oban_py.py --dsn postgresql://postgres@127.0.0.1:5432/postgres

It installs oban-py's tables into a schema of its own (``--schema``, dropped first and after),
then prints one line per figure in the columns our own benchmark uses:

    oban-py  postgres  enqueue_10000          <N> jobs/s
    oban-py  postgres  drain_10000_limit20    <N> jobs/s
    oban-py  postgres  drain_10000_limit100   <N> jobs/s
    oban-py  postgres  latency_p50            <X> ms
    oban-py  postgres  latency_p99            <X> ms

Workloads: bulk enqueue of 10,000 no-op jobs in one ``enqueue_many``; drain of 10,000
pre-inserted no-op jobs with queue limit 20 and 100 (from ``start()`` until the last job is
completed); insert-to-start latency over 200 single jobs enqueued one at a time into an idle,
running queue (from the ``enqueue`` call until the worker's ``process`` begins; the first 10
warm up connections and caches and are not counted), measured as ``bench.py`` measures ours.
"""

# `oban` below is the published oban-py package from the benchmark's own environment, not this
# repository: it belongs in the third-party import block, wherever ruff would put our `oban`.
# ruff: noqa: I001
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
from oban import Oban, worker
from oban.schema import install

JOBS = 10_000
LATENCY_SAMPLES = 200
LATENCY_WARMUP = 10
STARTED: dict[int, float] = {}


@worker(queue="default")
class NoopWorker:
    """Does nothing; a latency probe (``args["probe"]``) notes when it started."""

    async def process(self, job):  # type: ignore[no-untyped-def]
        probe = job.args.get("probe")
        if probe is not None:
            STARTED[probe] = time.perf_counter()


def report(name: str, value: float, unit: str) -> None:
    """One result line, in the same columns as ``benchmarks/bench.py`` prints ours."""
    print(f"{'oban-py':<8} {'postgres':<9} {name:<22} {value:>12,.1f} {unit}", flush=True)


def with_search_path(dsn: str, schema: str) -> str:
    """The DSN with ``search_path`` set, so oban-py's install finds its type in our schema."""
    parts = urlsplit(dsn)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "options"]
    query.append(("options", f"-c search_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


async def count_completed(admin: psycopg.AsyncConnection, schema: str) -> int:
    cursor = await admin.execute(f"SELECT count(*) FROM {schema}.oban_jobs WHERE state = 'completed'")
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def wait_for_completed(admin: psycopg.AsyncConnection, schema: str, count: int, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while await count_completed(admin, schema) < count:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"oban-py did not complete {count} jobs within {timeout}s")
        await asyncio.sleep(0.01)


async def clear(admin: psycopg.AsyncConnection, schema: str) -> None:
    await admin.execute(f"TRUNCATE {schema}.oban_jobs RESTART IDENTITY")


async def run(dsn: str, schema: str) -> None:
    admin = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
    await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    await admin.execute(f"CREATE SCHEMA {schema}")
    pool = await Oban.create_pool(with_search_path(dsn, schema), min_size=2, max_size=20)
    try:
        await install(pool, prefix=schema)

        client = Oban(pool=pool, prefix=schema, name="bench-client")
        await client.enqueue_many([NoopWorker.new({"n": -1})])  # connect and warm up
        jobs = [NoopWorker.new({"n": n}) for n in range(JOBS)]
        started = time.perf_counter()
        await client.enqueue_many(jobs)
        report(f"enqueue_{JOBS}", JOBS / (time.perf_counter() - started), "jobs/s")

        for limit in (20, 100):
            await clear(admin, schema)
            await client.enqueue_many([NoopWorker.new({"n": n}) for n in range(JOBS)])
            oban = Oban(pool=pool, prefix=schema, queues={"default": limit}, name=f"bench-drain-{limit}")
            started = time.perf_counter()
            await oban.start()
            await wait_for_completed(admin, schema, JOBS, timeout=600)
            elapsed = time.perf_counter() - started
            await oban.stop()
            report(f"drain_{JOBS}_limit{limit}", JOBS / elapsed, "jobs/s")

        await clear(admin, schema)
        oban = Oban(pool=pool, prefix=schema, queues={"default": 10}, name="bench-latency")
        await oban.start()
        await asyncio.sleep(0.3)  # let the queue settle into idle
        latencies = []
        for probe in range(LATENCY_WARMUP + LATENCY_SAMPLES):
            sent = time.perf_counter()
            await oban.enqueue(NoopWorker.new({"probe": probe}))
            deadline = sent + 30
            while probe not in STARTED:
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"latency probe {probe} never started")
                await asyncio.sleep(0.0002)
            if probe >= LATENCY_WARMUP:
                latencies.append((STARTED[probe] - sent) * 1000)
            await asyncio.sleep(0.005)
        await oban.stop()
        latencies.sort()
        report("latency_p50", statistics.median(latencies), "ms")
        report("latency_p99", latencies[int(len(latencies) * 0.99) - 1], "ms")
    finally:
        await pool.close()
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dsn",
        default=os.environ.get("OBAN_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL server and database (default: $OBAN_TEST_POSTGRES_DSN, as for our tests and bench)",
    )
    parser.add_argument("--schema", default="oban_py_bench", help="schema created and dropped for the run")
    options = parser.parse_args()
    if not options.schema.isidentifier():
        parser.error(f"--schema must be a plain identifier, got {options.schema!r}")
    logging.disable(logging.WARNING)  # oban-py's own logs would interleave with the figures
    try:
        asyncio.run(run(options.dsn, options.schema))
    except Exception as error:
        print(f"oban-py benchmark failed: {type(error).__name__}: {error}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
