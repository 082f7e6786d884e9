"""Small builders shared by the conformance tests."""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import Awaitable, Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..._time import utcnow
from ...engines.protocol import Ack, Engine
from ...job import Job, JobState

WORKER = "conformance.workers.Noop"


class InstallableEngine(Engine, Protocol):
    """An engine with ``install``/``uninstall`` (``migrate()``/``migrate(0)``, from ``kit.EngineBase``)."""

    async def install(self) -> None:
        """Create or upgrade the schema."""

    async def uninstall(self) -> None:
        """Drop the schema."""


class EngineFactory(Protocol):
    """The ``oban_engine_factory`` fixture an engine provides: each call, a new connected engine
    on this test's database (schema installed unless ``install=False``)."""

    def __call__(self, install: bool = True) -> Awaitable[InstallableEngine]: ...


def new_job(**fields: Any) -> Job:
    """A valid job for ``WORKER`` with ``fields`` overriding the defaults."""
    fields.setdefault("worker", WORKER)
    return Job(**fields)


async def insert(engine: Engine, **fields: Any) -> Job:
    """Insert one job and return it as stored."""
    return (await engine.insert_jobs([new_job(**fields)]))[0]


async def insert_many(engine: Engine, count: int, **fields: Any) -> list[Job]:
    """Insert ``count`` jobs with ``args={"n": i}``."""
    return await engine.insert_jobs([new_job(args={"n": i}, **fields) for i in range(count)])


async def claim(engine: Engine, queue: str = "default", demand: int = 100, node: str = "node-a") -> list[Job]:
    """Fetch up to ``demand`` jobs now."""
    return await engine.fetch_jobs(queue, demand, node, utcnow())


def id_of(job: Job) -> int:
    """The id of a stored job (every job an engine returned from an insert has one)."""
    assert job.id is not None, f"{job} was never stored"
    return job.id


def job_ids(jobs: Iterable[Job]) -> list[int]:
    """The ids of stored jobs, in order."""
    return [id_of(job) for job in jobs]


async def reload(engine: Engine, job: Job) -> Job:
    """The stored version of ``job``."""
    assert job.id is not None
    stored = await engine.get_job(job.id)
    assert stored is not None, f"job {job.id} is missing"
    return stored


def ack(job: Job, state: JobState, *, at: datetime | None = None, delay: float | None = None, **extra: Any) -> Ack:
    """An ack for a claimed ``job``; ``delay`` seconds sets ``scheduled_at``."""
    assert job.id is not None
    now = at or utcnow()
    scheduled = now + timedelta(seconds=delay) if delay is not None else None
    return Ack(job.id, job.attempt, state, now, scheduled_at=scheduled, **extra)


def close_to(a: datetime | None, b: datetime, tolerance: float = 1.0) -> bool:
    """True when two timestamps are within ``tolerance`` seconds."""
    return a is not None and abs((a - b).total_seconds()) <= tolerance


async def eventually(predicate: Any, within: float = 15.0, interval: float = 0.02) -> None:
    """Poll a sync or async predicate every ``interval`` s until it holds; fail after ``within`` s."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(interval)


class Inbox:
    """A notification handler that keeps what it receives, and can wait for it."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, channel: str, payload: dict[str, Any]) -> None:
        self.items.append((channel, payload))

    def received(self, channel: str, **fields: Any) -> list[dict[str, Any]]:
        """Payloads on ``channel`` whose keys include ``fields``."""
        return [p for c, p in self.items if c == channel and all(p.get(k) == v for k, v in fields.items())]

    async def settle(self, sender: Engine) -> None:
        """Send a marker through ``sender`` and wait for it: what was sent before it has arrived.

        Engines that poll deliver in id order, so the marker comes after anything committed first.
        """
        marker = {"marker": uuid.uuid4().hex}
        await sender.notify("signal", [marker])
        await eventually(lambda: ("signal", marker) in self.items)
        self.items.remove(("signal", marker))
