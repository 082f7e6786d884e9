"""Cost as work grows: what a big table of finished jobs does to draining and to unique inserts.

retained    the drain of 10,000 jobs at queue limit 100 on an empty table, then on a table that
            already holds ``retained`` completed rows in the same queue (seeded server-side,
            ``benchmarks/retained.py``): ours and the floor, each as the ratio retained/empty.
unique      ``enqueue_many()`` of 1,000 unique jobs (distinct args, so all are inserted) and of
            1,000 plain jobs into the same table, at 0, 100k and ``retained`` stored rows that
            each carry a ``uniq_key``: the ratio unique/plain at each size, and unique at each
            size against unique on the empty table.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import floor
import ours
import retained
from _harness import MYSQL_DSN, POSTGRES_DSN, best, database, open_floor, row, section

from oban import Oban
from oban.engines import Engine

DRAIN_JOBS = 10_000
DRAIN_LIMIT = 100
UNIQUE_BATCH = 1_000


async def _seed(name: str, db: str, count: int, *, start: int = 0, unique: bool = False) -> float:
    started = time.perf_counter()
    await retained.seed_completed(
        name,
        db,
        ours.QUEUE,
        ours.WORKER_NAME,
        count,
        start=start,
        unique=unique,
        postgres_dsn=POSTGRES_DSN,
        mysql_dsn=MYSQL_DSN,
    )
    return time.perf_counter() - started


async def _floor_drain(name: str, engine: Engine, db: str, shape: str) -> float:
    ids = await ours.seed(engine, DRAIN_JOBS)
    raw = await open_floor(name, db)
    try:
        return await floor.SHAPES[shape](raw, ours.QUEUE, DRAIN_JOBS, DRAIN_LIMIT)
    finally:
        await raw.close()
        await _restore(name, engine, db, ids)


async def _ours_drain(name: str, engine: Engine, db: str) -> float:
    before = await ours.completed(engine)
    ids = await ours.seed(engine, DRAIN_JOBS)
    try:
        return await ours.drain(engine, DRAIN_JOBS, DRAIN_LIMIT, already_completed=before)
    finally:
        await _restore(name, engine, db, ids)


async def _restore(name: str, engine: Engine, db: str, ids: list[int]) -> None:
    """Delete a measure's jobs and tidy up after them, so the next measure sees the same table."""
    await engine.delete_jobs(ids)
    await retained.upkeep(name, db, postgres_dsn=POSTGRES_DSN, mysql_dsn=MYSQL_DSN)


async def _fresh(name: str, tmp: Path, shape: str | None) -> float:
    """A drain on a new, empty table: the floor's ``shape``, or ours when ``None``."""
    async with database(name, tmp) as (engine, db):
        return await (_ours_drain(name, engine, db) if shape is None else _floor_drain(name, engine, db, shape))


async def bench_retained(name: str, tmp: Path, rounds: int, kept: int) -> None:
    """Print the drain with ``kept`` retained rows against the drain on an empty table.

    The empty side gets a new table for every measure; the kept side is one table that each
    measure adds its jobs to and then deletes them from, with the server's upkeep after
    (``retained.upkeep``: dead rows vacuumed away on PostgreSQL). The six measures alternate within
    each round, so a change in the machine's load falls on both sides of each ratio alike.
    """
    section(
        f"drain of {DRAIN_JOBS:,} at limit {DRAIN_LIMIT} with {kept:,} completed rows kept (ratio retained/empty)",
        "empty table",
        f"{kept:,} kept",
        "kept/empty",
    )
    async with database(name, tmp) as (full, full_db):
        took = await _seed(name, full_db, kept)
        print(f"{name:<9} {'':<30} seeded {kept:,} completed rows in {took:.1f} s", flush=True)
        times = await best(
            rounds,
            lambda: _fresh(name, tmp, "serial"),
            lambda: _fresh(name, tmp, "pipelined"),
            lambda: _fresh(name, tmp, None),
            lambda: _floor_drain(name, full, full_db, "serial"),
            lambda: _floor_drain(name, full, full_db, "pipelined"),
            lambda: _ours_drain(name, full, full_db),
        )
    empty_floor, empty_ours = min(times[0], times[1]), times[2]
    kept_floor, kept_ours = min(times[3], times[4]), times[5]
    workload = f"drain_{DRAIN_JOBS}_limit{DRAIN_LIMIT}"
    share = f"ours/floor {empty_floor / empty_ours:.2f} empty, {kept_floor / kept_ours:.2f} kept"
    row(name, f"{workload} ours", DRAIN_JOBS / empty_ours, DRAIN_JOBS / kept_ours, "/s", share)
    row(name, f"{workload} floor", DRAIN_JOBS / empty_floor, DRAIN_JOBS / kept_floor, "/s")


async def _insert_time(engine: Engine, unique: bool, offset: int) -> float:
    client = Oban(engine, name=f"bench-unique-{id(engine)}")
    options = {"unique": True} if unique else {}
    jobs = [ours.NoopWorker.new({"u": offset + i}, **options) for i in range(UNIQUE_BATCH)]
    started = time.perf_counter()
    inserted = await client.enqueue_many(jobs)
    elapsed = time.perf_counter() - started
    if unique and any(job.conflict for job in inserted):
        raise RuntimeError("a unique benchmark job conflicted; its args were meant to be new")
    return elapsed


async def bench_unique(name: str, tmp: Path, rounds: int, largest: int) -> None:
    """Print unique against plain inserts of a batch at each table size up to ``largest``."""
    sizes = sorted({0, min(100_000, largest), largest})
    section(
        f"enqueue_many() of {UNIQUE_BATCH:,} jobs at 0 to {largest:,} stored rows (ratio unique/plain)",
        "plain",
        "unique",
        "uniq/plain",
    )
    async with database(name, tmp) as (engine, db):
        stored = 0
        first_unique: float | None = None
        offsets = itertools.count(0, UNIQUE_BATCH)  # new args for every batch: unique jobs never conflict
        for size in sizes:
            if size > stored:
                took = await _seed(name, db, size - stored, start=stored, unique=True)
                print(f"{name:<9} {'':<30} seeded {size - stored:,} unique completed rows in {took:.1f} s", flush=True)
                stored = size
            else:  # every size starts from the same upkept state as a seeded one
                await retained.upkeep(name, db, postgres_dsn=POSTGRES_DSN, mysql_dsn=MYSQL_DSN)
            plain, unique = await best(
                rounds,
                lambda: _insert_time(engine, False, next(offsets)),
                lambda: _insert_time(engine, True, next(offsets)),
            )
            first_unique = first_unique or unique
            note = f"unique at {size:,} rows takes {unique / first_unique:.2f}x its time at 0"
            row(name, f"unique_{UNIQUE_BATCH}_at_{size}", UNIQUE_BATCH / plain, UNIQUE_BATCH / unique, "/s", note)
