"""Helpers for testing code that enqueues jobs, and workers themselves.

- ``await perform_job(EmailWorker, {"to": "a@b.c"})`` runs a worker's ``process`` the way the
  runtime would (args round-tripped through JSON, ``attempt=1``) and returns its result.
- ``await all_enqueued(oban, worker=EmailWorker)``, ``assert_enqueued(...)`` and
  ``refute_enqueued(...)`` look for ``available`` or ``scheduled`` jobs in the database whose
  fields match; ``args`` and ``meta`` match when every given key has the given value.
- ``await drain_queue("default", oban)`` runs a queue's available jobs here and now, without
  running any queue, and counts the outcomes.

The engine conformance suite is ``oban.testing.conformance``.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import Counter
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from .. import _json
from .._time import utcnow
from ..job import Job, JobState
from ..oban import Oban
from ..runtime.executor import execute
from ..worker import JobFunction

_ENQUEUED = [JobState.AVAILABLE, JobState.SCHEDULED]


def _matches(job: Job, filters: Mapping[str, Any]) -> bool:
    for field, wanted in filters.items():
        value = getattr(job, field)
        if field in ("args", "meta"):
            if any(key not in value or value[key] != expected for key, expected in wanted.items()):
                return False
        elif field == "tags":
            if not set(wanted) <= set(value):
                return False
        elif value != wanted:
            return False
    return True


async def all_enqueued(
    oban: Oban, *, worker: Any = None, queue: str | None = None, **fields: Any
) -> list[Job]:
    """Available or scheduled jobs matching ``worker``, ``queue`` and any other job fields."""
    unknown = set(fields) - {"args", "meta", "tags", "priority", "max_attempts", "state"}
    if unknown:
        raise ValueError(f"cannot match on field(s) {sorted(unknown)!r}")
    jobs = await oban.list_jobs(worker=worker, queue=queue, state=_ENQUEUED, limit=100_000)
    return [job for job in jobs if _matches(job, fields)]


async def assert_enqueued(oban: Oban, *, within: float = 0.0, **filters: Any) -> Job:
    """The newest matching enqueued job; fails listing what is enqueued if none appears in ``within`` s."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = await all_enqueued(oban, **filters)
        if found:
            return found[0]
        if asyncio.get_running_loop().time() >= deadline:
            enqueued = await oban.list_jobs(state=_ENQUEUED, limit=20)
            listing = "\n".join(f"  {job}" for job in enqueued) or "  (nothing)"
            raise AssertionError(f"expected a job matching {filters!r} to be enqueued; enqueued:\n{listing}")
        await asyncio.sleep(0.02)


async def refute_enqueued(oban: Oban, *, within: float = 0.0, **filters: Any) -> None:
    """Fail if a matching job is enqueued now or appears within ``within`` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = await all_enqueued(oban, **filters)
        if found:
            raise AssertionError(f"expected no job matching {filters!r}, found {found[0]}")
        if asyncio.get_running_loop().time() >= deadline:
            return
        await asyncio.sleep(0.02)


async def perform_job(worker: Any, args: Mapping[str, Any] | None = None, **options: Any) -> Any:
    """Run ``worker``'s ``process`` on a job built from ``args`` and ``options``; return its result.

    Args pass through JSON first, as they would through the database, so a worker that relies on
    tuples or non-string keys fails here rather than in production.
    """
    if isinstance(worker, JobFunction):
        job = worker.new(**dict(args or {}))
        instance_process = worker.call_with
    else:
        if not callable(getattr(worker, "process", None)) or not hasattr(worker, "new"):
            raise TypeError(f"{worker!r} is not a worker: decorate a class with process(self, job) with @worker")
        job = worker.new(dict(args or {}), **options)
        instance_process = worker().process
    job.args = _json.decode(_json.encode(job.args, "args"))
    job.attempt = max(job.attempt, 1)
    job.state = JobState.EXECUTING
    if inspect.iscoroutinefunction(instance_process):
        return await instance_process(job)
    result = await asyncio.to_thread(instance_process, job)
    if inspect.isawaitable(result):
        result = await result
    return result


async def drain_queue(
    queue: str = "default", oban: Oban | str = "oban", *, with_scheduled: bool = False, limit: int = 100
) -> dict[str, int]:
    """Run every available job of ``queue`` here and now, until none is left; count outcomes.

    Meant for tests: no queue needs to be running. ``oban`` is an instance or its name.
    ``with_scheduled`` first makes this queue's scheduled and retryable jobs due (retries the
    drain produces are not run again in the same drain).
    """
    instance = Oban.get_instance(oban) if isinstance(oban, str) else oban
    await instance._ensure_ready()
    engine = instance.engine
    outcomes: Counter[str] = Counter()
    if with_scheduled:
        await engine.stage_jobs(utcnow() + timedelta(days=36500), 1_000_000, queue)
    while True:
        jobs = await engine.fetch_jobs(queue, limit, instance.node, utcnow())
        if not jobs:
            return dict(outcomes)
        acks = [await execute(job) for job in jobs]
        await engine.ack_jobs(acks)
        outcomes.update(ack.state.value for ack in acks)


__all__ = ["all_enqueued", "assert_enqueued", "drain_queue", "perform_job", "refute_enqueued"]
