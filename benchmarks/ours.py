"""oban's side of each workload: the public API on a real engine, timed as a user would see it.

enqueue     one ``enqueue_many()`` of ``count`` prebuilt no-op jobs
drain       ``count`` pre-inserted no-op jobs, one node with queue limit ``limit``, from
            ``start()`` until every job is completed in the database (acks written)
latency     single jobs enqueued one after another into an idle running queue: time from calling
            ``enqueue()`` to the worker starting
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from oban import Oban, worker
from oban.engines import Engine
from oban.job import JobState
from tests import support

SEED_CHUNK = 5_000
LATENCY_WARMUP = 10

_done = 0
_target = 0
_finished: asyncio.Event | None = None
_started: dict[int, float] = {}
_start_event: asyncio.Event | None = None


@worker(queue="bench")
class NoopWorker:
    """Counts itself done; the drain waits for the last one."""

    async def process(self, job: Any) -> None:
        global _done
        _done += 1
        if _done >= _target and _finished is not None:
            _finished.set()


@worker(queue="latency")
class LatencyWorker:
    """Notes when it started."""

    async def process(self, job: Any) -> None:
        _started[job.args["i"]] = time.perf_counter()
        if _start_event is not None:
            _start_event.set()


WORKER_NAME = NoopWorker.new({}).worker
QUEUE = "bench"


async def fresh_engine(name: str, tmp: Path) -> tuple[Engine, str]:
    """A connected engine on a new, installed database."""
    database = await support.create_database(name, tmp)
    engine = support.build_engine(name, database)
    await engine.connect()
    await engine.install()
    return engine, database


async def seed(engine: Engine, count: int, *, start: int = 0) -> list[int]:
    """``count`` available no-op jobs in queue ``bench``, through ``enqueue_many``; their ids."""
    client = Oban(engine, name=f"bench-seed-{id(engine)}")
    ids: list[int] = []
    for first in range(start, start + count, SEED_CHUNK):
        last = min(start + count, first + SEED_CHUNK)
        jobs = await client.enqueue_many([NoopWorker.new({"i": i}) for i in range(first, last)])
        ids += [job.id for job in jobs if job.id is not None]
    return ids


async def completed(engine: Engine) -> int:
    """How many jobs are completed."""
    counts = await engine.count_jobs()
    return sum(n for (_, state), n in counts.items() if state == JobState.COMPLETED)


async def enqueue(engine: Engine, count: int) -> float:
    """Seconds for one ``enqueue_many()`` of ``count`` prebuilt jobs."""
    oban = Oban(engine, name=f"bench-enqueue-{id(engine)}")
    await oban.enqueue_many([NoopWorker.new({"i": -1})])  # connect and warm up
    jobs = [NoopWorker.new({"i": i}) for i in range(count)]
    started = time.perf_counter()
    await oban.enqueue_many(jobs)
    return time.perf_counter() - started


async def _acks_written(oban: Oban, engine: Engine, expected: int) -> None:
    acker = getattr(getattr(oban, "_node", None), "_acker", None)
    if acker is not None and hasattr(acker, "drain"):
        await acker.drain()
        return
    # The runtime changed shape: ask the database, which no event can tell.
    while await completed(engine) < expected:  # noqa: ASYNC110
        await asyncio.sleep(0.002)


async def drain(engine: Engine, count: int, limit: int, *, already_completed: int = 0) -> float:
    """Seconds for one node at queue limit ``limit`` to complete ``count`` seeded jobs."""
    global _done, _target, _finished
    _done, _target, _finished = 0, count, asyncio.Event()
    oban = Oban(engine, queues={QUEUE: limit}, name=f"bench-drain-{id(engine)}", pruner=False, lifeline=False)
    started = time.perf_counter()
    await oban.start()
    try:
        await _finished.wait()
        await _acks_written(oban, engine, already_completed + count)
        elapsed = time.perf_counter() - started
    finally:
        await oban.stop()
    done = await completed(engine)
    if done != already_completed + count:
        raise RuntimeError(f"drain finished with {done - already_completed} of {count} jobs completed")
    return elapsed


async def latency(engine: Engine, samples: int) -> list[float]:
    """Milliseconds from ``enqueue()`` to the worker starting, one job at a time, sorted."""
    global _start_event
    oban = Oban(engine, queues={"latency": 10}, name=f"bench-latency-{id(engine)}", pruner=False, lifeline=False)
    await oban.start()
    try:
        await asyncio.sleep(0.3)
        found = []
        for i in range(samples + LATENCY_WARMUP):
            _start_event = asyncio.Event()
            sent = time.perf_counter()
            await oban.enqueue(LatencyWorker.new({"i": i}))
            await asyncio.wait_for(_start_event.wait(), 30)
            if i >= LATENCY_WARMUP:  # the first few warm connections and caches
                found.append((_started[i] - sent) * 1000)
            await asyncio.sleep(0.005)
    finally:
        await oban.stop()
    return sorted(found)


SUSTAIN_PRODUCER_BATCH = 10
SUSTAIN_CONSUMERS = 5
SUSTAIN_CONSUMER_LIMIT = 10
_sustained_ran = 0


@worker(queue="sustain")
class SustainWorker:
    """Counts itself; the sustained workload reads the count at the end of its window."""

    async def process(self, job: Any) -> None:
        global _sustained_ran
        _sustained_ran += 1


async def sustained(name: str, db: str, seconds: float) -> float:
    """Jobs run per second over ``seconds`` while one producer enqueues as fast as it can.

    pgqueuer's ``tools/benchmark.py`` shape with its defaults: one producer enqueuing batches of
    10 without pause, five consumers (here five nodes, each with its own engine and connections)
    taking 10 at a time (queue limit 10).
    """
    global _sustained_ran
    engines = [support.build_engine(name, db) for _ in range(SUSTAIN_CONSUMERS + 1)]
    for engine in engines:
        await engine.connect()
    producer = Oban(engines[0], name="bench-sustain-producer")
    consumers = [
        Oban(engine, queues={"sustain": SUSTAIN_CONSUMER_LIMIT}, name=f"bench-sustain-{index}", pruner=False)
        for index, engine in enumerate(engines[1:])
    ]
    stop = asyncio.Event()

    async def produce() -> None:
        counter = 0
        while not stop.is_set():
            batch = [SustainWorker.new({"i": counter + i}) for i in range(SUSTAIN_PRODUCER_BATCH)]
            counter += SUSTAIN_PRODUCER_BATCH
            await producer.enqueue_many(batch)
            await asyncio.sleep(0)

    try:
        _sustained_ran = 0
        started = time.perf_counter()
        for consumer in consumers:
            await consumer.start()
        task = asyncio.create_task(produce())
        await asyncio.sleep(seconds)
        ran, elapsed = _sustained_ran, time.perf_counter() - started
        stop.set()
        await task
    finally:
        stop.set()
        for consumer in consumers:
            await consumer.stop()
        await producer.stop()
        for engine in engines:
            await engine.close()
    return ran / elapsed
