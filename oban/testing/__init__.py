"""Helpers for testing code that enqueues jobs, and workers themselves, with oban-py's API.

Modes (``Oban(testing=...)``, or for a block ``with oban.testing.mode("inline"):``):
``"inline"`` runs each enqueued job at once without the database and returns it completed (or
in whatever state its run left it); ``"manual"`` inserts jobs but runs no queue, so a test
decides when they run with ``drain_queue``.

- ``process_job(job)`` runs a worker's ``process`` on a job (sync or async callers alike);
  ``perform_job(worker, args, **options)`` builds the job first; ``build_job`` only builds it.
- ``all_enqueued``, ``assert_enqueued`` and ``refute_enqueued`` look for ``available``,
  ``scheduled`` or ``suspended`` jobs whose fields match (see ``matches``), through the default
  instance unless ``oban=`` names another; ``timeout=`` waits for a job to appear (or not).
- ``drain_queue(queue)`` runs a queue's jobs here and now, one at a time, and counts outcomes.
- ``reset_oban()`` deletes every job, between tests.

The pytest plugin (``oban.testing.pytest_plugin``, loaded automatically) provides ``oban``:
a fresh instance per test in manual mode, on an in-memory SQLite database unless you override
the ``oban_test_engine`` fixture. The engine conformance suite is ``oban.testing.conformance``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from .. import _json, _testing_mode
from .._time import as_utc, to_seconds, utcnow
from .._workers import resolve_worker, worker_name
from ..job import Job, JobState
from ..oban import Oban
from ..runtime.executor import call_process
from ..runtime.executor import run as run_job
from ..worker import JobFunction

ENQUEUED_STATES = [JobState.AVAILABLE, JobState.SCHEDULED, JobState.SUSPENDED]
"""What counts as enqueued for the assertions: jobs waiting to run."""

TIMESTAMP_DELTA = 1.0
"""How far (seconds) a job's timestamp may be from an expected one and still match (Oban's 1 s)."""

_TIMESTAMPS = ("inserted_at", "scheduled_at", "attempted_at", "completed_at", "cancelled_at", "discarded_at")
_FAR_FUTURE = timedelta(days=36_500)
_built_ids = itertools.count(1)


class _Any:
    """Matches any value (``oban.testing.ANY``), at any depth of ``args`` or ``meta``."""

    def __eq__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "ANY"


ANY: Any = _Any()
"""A wildcard for matching: ``assert_enqueued(args={"id": ANY})`` needs the key, not its value."""


@contextlib.contextmanager
def mode(testing_mode: str) -> Iterator[None]:
    """Within the block, every ``Oban`` behaves as if built with ``testing=testing_mode``."""
    _testing_mode.check(testing_mode, "testing mode")
    token = _testing_mode._override.set(testing_mode)
    try:
        yield
    finally:
        _testing_mode._override.reset(token)


def _instance(oban: Oban | str | None) -> Oban:
    if isinstance(oban, Oban):
        return oban
    return Oban.get_instance("oban" if oban is None else oban)


# -- matching --------------------------------------------------------------------------------------


def _partial(expected: Any, actual: Any) -> bool:
    """Maps match when every expected key is present with a matching value; ANY matches anything."""
    if isinstance(expected, _Any):
        return True
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and _partial(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list | tuple) and isinstance(actual, list):
        return len(expected) == len(actual) and all(_partial(e, a) for e, a in zip(expected, actual, strict=True))
    return bool(expected == actual)


def _close_in_time(expected: Any, actual: datetime | None, field: str) -> bool:
    delta = TIMESTAMP_DELTA
    if isinstance(expected, tuple):  # (value, delta seconds), like Oban's {value, delta: n}
        expected, delta = expected[0], to_seconds(expected[1], f"{field} delta")
    if actual is None or expected is None:
        return actual is expected
    if not isinstance(expected, datetime):
        raise ValueError(f"{field} must be matched with a datetime (or (datetime, delta)), got {expected!r}")
    return abs((as_utc(expected) - actual).total_seconds()) <= delta


def matches(job: Job, filters: Mapping[str, Any]) -> bool:
    """Whether ``job`` has every field in ``filters``.

    ``args`` and ``meta`` match partially (every given key, recursively; ``ANY`` for any value);
    ``tags`` when all given tags are present; ``worker`` by class, ``@job`` function or name;
    timestamps within ``TIMESTAMP_DELTA`` (or ``(value, delta)``); ``scheduled_in`` (seconds or
    a ``timedelta``) when ``scheduled_at`` is that far from now, within the delta; anything
    else by equality.
    """
    for field, expected in filters.items():
        if field == "worker":
            if job.worker != (expected if isinstance(expected, str) else worker_name(expected)):
                return False
        elif field in ("args", "meta"):
            if not _partial(expected, getattr(job, field)):
                return False
        elif field == "tags":
            if not set(expected) <= set(job.tags):
                return False
        elif field == "scheduled_in":
            if isinstance(expected, tuple):
                target, delta = expected
                expected = (utcnow() + timedelta(seconds=to_seconds(target, "scheduled_in")), delta)
            else:
                expected = utcnow() + timedelta(seconds=to_seconds(expected, "scheduled_in"))
            if not _close_in_time(expected, job.scheduled_at, "scheduled_in"):
                return False
        elif field in _TIMESTAMPS:
            if not _close_in_time(expected, getattr(job, field), field):
                return False
        elif field == "state":
            if job.state != JobState(expected):
                return False
        elif not hasattr(job, field):
            raise ValueError(f"cannot match on {field!r}: jobs have no such field")
        elif not _partial(expected, getattr(job, field)):
            return False
    return True


async def all_enqueued(oban: Oban | str | None = None, **filters: Any) -> list[Job]:
    """Enqueued (available, scheduled or suspended) jobs matching ``filters``, newest first.

    ``oban`` is an instance or its name (the default instance if omitted).
    """
    instance = _instance(oban)
    queue = filters.get("queue")
    worker = filters.get("worker")
    jobs = await instance.list_jobs(
        queue=queue if isinstance(queue, str) else None,
        worker=worker if isinstance(worker, str) or worker is None else worker_name(worker),
        state=ENQUEUED_STATES,
        limit=100_000,
    )
    return [job for job in jobs if matches(job, filters)]


async def _poll(check: Callable[[], Awaitable[bool]], timeout: float) -> bool:
    deadline = asyncio.get_running_loop().time() + max(0.0, timeout)
    while True:
        if await check():
            return True
        if asyncio.get_running_loop().time() >= deadline:
            return False
        await asyncio.sleep(0.01)


def _listing(jobs: list[Job]) -> str:
    return "\n".join(f"  {job}" for job in jobs[:20]) or "  (nothing)"


async def assert_enqueued(
    oban: Oban | str | None = None, *, timeout: float = 0, within: float | None = None, **filters: Any
) -> Job:
    """The newest enqueued job matching ``filters``; waits up to ``timeout`` s for one to appear.

    Fails with an ``AssertionError`` listing what is enqueued. ``within`` is an older name for
    ``timeout``.
    """
    wait = timeout if within is None else within
    found: list[Job] = []

    async def check() -> bool:
        found[:] = await all_enqueued(oban, **filters)
        return bool(found)

    if await _poll(check, wait):
        return found[0]
    waited = f" within {wait}s" if wait > 0 else ""
    enqueued = await all_enqueued(oban)
    raise AssertionError(
        f"Expected a job matching: {filters} to be enqueued{waited}. Instead found:\n\n{_listing(enqueued)}"
    )


async def refute_enqueued(
    oban: Oban | str | None = None, *, timeout: float = 0, within: float | None = None, **filters: Any
) -> None:
    """Fail if a job matching ``filters`` is enqueued now, or appears within ``timeout`` seconds."""
    wait = timeout if within is None else within
    found: list[Job] = []

    async def check() -> bool:
        found[:] = await all_enqueued(oban, **filters)
        return bool(found)

    deadline = asyncio.get_running_loop().time() + max(0.0, wait)
    while True:
        if await check():
            waited = f" within {wait}s" if wait > 0 else ""
            raise AssertionError(
                f"Expected no jobs matching: {filters} to be enqueued{waited}. Instead found:\n\n{_listing(found)}"
            )
        if asyncio.get_running_loop().time() >= deadline:
            return
        await asyncio.sleep(0.01)


# -- running jobs ----------------------------------------------------------------------------------


def build_job(worker: Any, args: Mapping[str, Any] | None = None, **options: Any) -> Job:
    """A job for ``worker`` as a worker sees it when it runs: validated, args through JSON,
    ``attempt`` 1, ``executing``, with an id and timestamps (nothing is stored)."""
    if isinstance(worker, JobFunction):
        job = worker.new(**dict(args or {}))
        if options:
            job.update(options)
    elif isinstance(worker, str):
        job = Job(worker=worker, args=dict(args or {}), **options)
    else:
        if not callable(getattr(worker, "process", None)) or not hasattr(worker, "new"):
            raise TypeError(f"{worker!r} is not a worker: decorate a class with process(self, job) with @worker")
        job = worker.new(dict(args or {}), **options)
    return _as_running(job)


def _as_running(job: Job) -> Job:
    job.args = _json.decode(_json.encode(job.args, "args"))
    job.meta = _json.decode(_json.encode(job.meta, "meta"))
    now = utcnow()
    job.id = job.id if job.id is not None else next(_built_ids)
    job.attempt = max(job.attempt, 1)
    job.state = JobState.EXECUTING
    job.inserted_at = job.inserted_at or now
    job.scheduled_at = job.scheduled_at or now
    job.attempted_at = job.attempted_at or now
    return job


def _worker_instance(job: Job) -> Any:
    return resolve_worker(job.worker)()


async def _process(job: Job) -> Any:
    return await call_process(_worker_instance(job), job, None)


def process_job(job: Job) -> Any:
    """Run the worker of ``job`` on it and return what ``process`` returned (exceptions raise).

    Args pass through JSON first and missing id, attempt and timestamps are filled in, as a
    claimed job would have them. Called from a coroutine it returns an awaitable; from plain
    code it runs the job to completion (as oban-py's ``process_job`` does).
    """
    _as_running(job)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_process(job))
    return _process(job)


async def perform_job(worker: Any, args: Mapping[str, Any] | None = None, **options: Any) -> Any:
    """Build a job for ``worker`` from ``args`` and ``options`` (``build_job``) and run it;
    return what ``process`` returned. Args pass through JSON first, as through the database."""
    return await _process(build_job(worker, args, **options))


def _summary() -> dict[str, int]:
    return {"cancelled": 0, "completed": 0, "discarded": 0, "retryable": 0, "scheduled": 0}


async def drain_queue(
    queue: str = "default",
    oban: Oban | str | None = None,
    with_recursion: bool = True,
    with_safety: bool = False,
    with_scheduled: bool | datetime = True,
    with_limit: int | None = None,
) -> dict[str, int]:
    """Run the jobs of ``queue`` here and now, one at a time, and count what they became.

    Defaults are oban-py's. ``with_scheduled`` makes this queue's scheduled and retryable jobs
    due first (``True``: all of them; a ``datetime``: those due by then). ``with_recursion``
    keeps draining until the queue is empty, running jobs the drained jobs enqueue (and, with
    ``with_scheduled``, their retries and snoozes: a job that always snoozes never ends the
    drain); without it, one pass over what is available. ``with_limit`` caps the jobs taken in
    one pass. A job that raises is recorded (retryable or discarded, never left executing), then
    its exception is raised unless ``with_safety``. Returns counts by resulting state.
    """
    instance = _instance(oban)
    await instance._ensure_ready()
    engine = instance.engine
    summary = _summary()
    if with_limit is not None and (isinstance(with_limit, bool) or not isinstance(with_limit, int) or with_limit < 1):
        raise ValueError(f"with_limit must be a positive integer or None, got {with_limit!r}")
    while True:
        if with_scheduled is not False:
            until = utcnow() + _FAR_FUTURE if with_scheduled is True else as_utc(with_scheduled)
            await engine.stage_jobs(until, 1_000_000, queue)
        # One pass runs what is available now (at most with_limit), claiming one job at a time so
        # a job that raises leaves nothing else claimed and stranded.
        available = (await engine.count_jobs()).get((queue, JobState.AVAILABLE), 0)
        budget = min(available, with_limit or available)
        if budget == 0:
            return summary
        for _ in range(budget):
            claimed = await engine.fetch_jobs(queue, 1, instance.node, utcnow())
            if not claimed:
                break
            ack, error = await run_job(claimed[0])
            await engine.ack_jobs([ack])
            summary[ack.state.value] = summary.get(ack.state.value, 0) + 1
            if error is not None and not with_safety:
                raise error
        if not with_recursion:
            return summary


async def reset_oban(oban: Oban | str | None = None) -> int:
    """Delete every job of the instance's database, in any state; returns how many."""
    instance = _instance(oban)
    await instance._ensure_ready()
    deleted = 0
    while True:
        ids = [job.id for job in await instance.engine.list_jobs(limit=10_000) if job.id is not None]
        if not ids:
            return deleted
        await instance.engine.cancel_jobs(ids, utcnow())  # executing jobs cannot be deleted as such
        deleted += await instance.engine.delete_jobs(ids)


__all__ = [
    "ANY",
    "ENQUEUED_STATES",
    "TIMESTAMP_DELTA",
    "all_enqueued",
    "assert_enqueued",
    "build_job",
    "drain_queue",
    "matches",
    "mode",
    "perform_job",
    "process_job",
    "refute_enqueued",
    "reset_oban",
]
