"""Run one job's worker and turn what happened into an ``Ack``; never raises for the job's faults."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import time
import traceback
from concurrent.futures import Executor
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .. import telemetry
from .._time import to_iso, utcnow
from .._workers import backoff_for, resolve_worker, timeout_for
from ..engines.protocol import Ack
from ..errors import JobTimeoutError
from ..job import Job, JobState
from ..results import Cancel, Record, Snooze

if TYPE_CHECKING:
    from .process_pool import ProcessPool

log = logging.getLogger("oban.executor")


REMOTE_TRACEBACK = "_oban_traceback"
"""The attribute holding the traceback text of an exception raised in a worker process."""


def format_error(error: BaseException) -> str:
    """The error text stored in ``errors``: the exception and its traceback."""
    remote = getattr(error, REMOTE_TRACEBACK, None)
    if isinstance(remote, str):  # raised in a worker process: its own traceback, not ours
        return _storable(remote)
    return _storable("".join(traceback.format_exception(type(error), error, error.__traceback__)).rstrip())


def _storable(text: str) -> str:
    # A NUL character cannot be stored by every database (PostgreSQL refuses it in jsonb), and
    # an error that cannot be written would leave its job executing: spell it out instead.
    return text.replace("\x00", "\\x00")


_current_job: contextvars.ContextVar[Job | None] = contextvars.ContextVar("oban_current_job", default=None)


def current_job() -> Job | None:
    """The job whose worker is running in this task or thread, or ``None`` outside a job."""
    return _current_job.get()


_async_process: dict[type, tuple[Any, bool]] = {}
"""Per worker class: its ``process`` function and whether that is a coroutine function."""


def _is_async(instance: Any, process: Any) -> bool:
    # inspect.iscoroutinefunction costs about a microsecond; asked once per class, not per job.
    # Keyed on the function too, so an instance or class whose process was swapped is asked anew.
    function = getattr(process, "__func__", process)
    cached = _async_process.get(type(instance))
    if cached is not None and cached[0] is function:
        return cached[1]
    found = inspect.iscoroutinefunction(process)
    _async_process[type(instance)] = (function, found)
    return found


async def call_process(instance: Any, job: Job, threads: Executor | None) -> Any:
    process = instance.process
    token = _current_job.set(job)
    try:
        if _is_async(instance, process):
            result = await process(job)
        else:
            loop = asyncio.get_running_loop()
            # The thread sees this task's context: current_job() and any context the app set.
            result = await loop.run_in_executor(threads, contextvars.copy_context().run, process, job)
        if result is not None and inspect.isawaitable(result):  # None is the common result
            result = await result
        return result
    finally:
        _current_job.reset(token)


async def execute(job: Job, threads: Executor | None = None, processes: ProcessPool | None = None) -> Ack:
    """Run ``job`` and return the ack describing its outcome.

    Worker exceptions, unknown workers and timeouts become failures (retry or discard) recorded
    in ``errors``. Only ``asyncio.CancelledError`` (shutdown) escapes, leaving the job for rescue.
    """
    ack, _error = await run(job, threads, processes)
    return ack


async def run(
    job: Job, threads: Executor | None = None, processes: ProcessPool | None = None
) -> tuple[Ack, BaseException | None]:
    """Like ``execute``, and also return the exception the run failed with (for testing helpers
    that re-raise it once the outcome is recorded)."""
    watched = _watched()
    started = 0
    if watched:
        started = time.monotonic_ns()
        telemetry.execute("oban.job.start", {**_job_metadata(job), "system_time": started, "monotonic_time": started})
    instance: Any = None
    try:
        instance = resolve_worker(job.worker)()
        timeout = timeout_for(instance, job)
        if processes is not None and getattr(instance, "_oban_executor", None) == "process":
            result = await processes.run(job, timeout)  # it times the run itself, once a process is free
        elif timeout is None:
            result = await call_process(instance, job, threads)
        else:
            try:
                async with asyncio.timeout(timeout) as scope:
                    result = await call_process(instance, job, threads)
            except TimeoutError:
                if not scope.expired():
                    raise
                job._cancelled = True  # a worker in a thread cannot be stopped; ask it to stop
                raise JobTimeoutError(f"job {job.id} ({job.worker}) exceeded its timeout of {timeout}s") from None
    except asyncio.CancelledError:
        raise
    except BaseException as error:
        ack = failure_ack(job, instance, error)
        if watched:
            report_stopped(job, ack, started, error)
        return ack, error
    ack = outcome_ack(job, result)
    if watched:
        report_stopped(job, ack, started)
    return ack, None


def apply_ack(job: Job, ack: Ack) -> Job:
    """``job`` as storing ``ack`` would leave it (for inline runs, which store nothing)."""
    job.state = ack.state
    if ack.state is JobState.SCHEDULED:
        job.attempt = max(0, job.attempt - 1)  # a snooze gives the attempt back
    if ack.scheduled_at is not None:
        job.scheduled_at = ack.scheduled_at
    if ack.error is not None:
        job.errors = [*job.errors, ack.error]
    if ack.meta:
        job.meta = {**job.meta, **ack.meta}
    stamp = {JobState.COMPLETED: "completed_at", JobState.DISCARDED: "discarded_at", JobState.CANCELLED: "cancelled_at"}
    if ack.state in stamp:
        setattr(job, stamp[ack.state], ack.at)
    return job


def _watched() -> bool:
    return (
        telemetry.attached("oban.job.start")
        or telemetry.attached("oban.job.stop")
        or telemetry.attached("oban.job.exception")
    )


def _job_metadata(job: Job) -> dict[str, Any]:
    return {"job": job, "id": job.id, "queue": job.queue, "worker": job.worker, "attempt": job.attempt}


def _queue_time(job: Job) -> int:
    """Nanoseconds from when the job was due to when it was claimed."""
    if job.attempted_at is None or job.scheduled_at is None:
        return 0
    return max(0, int((job.attempted_at - job.scheduled_at).total_seconds() * 1_000_000_000))


def report_stopped(job: Job, ack: Ack, started: int, error: BaseException | None = None) -> None:
    """Emit ``oban.job.stop`` (completed, cancelled, snoozed) or ``oban.job.exception``.

    Both carry the job, ``state`` (what the ack writes), ``duration`` and ``queue_time`` in
    nanoseconds; exception adds ``error`` (the exception), ``error_type``, ``error_message`` and
    ``traceback``.
    """
    ended = time.monotonic_ns()
    metadata = {
        **_job_metadata(job),
        "state": ack.state.value,
        "duration": ended - started,
        "queue_time": _queue_time(job),
        "system_time": ended,
        "monotonic_time": ended,
    }
    if ack.state is JobState.CANCELLED and ack.error is not None:
        metadata["reason"] = ack.error["error"].removeprefix("cancelled: ")
    if ack.scheduled_at is not None:
        metadata["scheduled_at"] = ack.scheduled_at
    if error is None:
        telemetry.execute("oban.job.stop", metadata)
        return
    metadata.update(
        error=error,
        error_type=type(error).__name__,
        error_message=str(error),
        traceback=ack.error["error"] if ack.error else format_error(error),
    )
    telemetry.execute("oban.job.exception", metadata)


def outcome_ack(job: Job, result: Any) -> Ack:
    """The ack for a ``process`` that returned ``result``."""
    now = utcnow()
    assert job.id is not None
    if isinstance(result, Snooze):
        snoozed = int(job.meta.get("snoozed", 0) or 0) + 1
        return Ack(
            job.id,
            job.attempt,
            JobState.SCHEDULED,
            now,
            scheduled_at=now + timedelta(seconds=result.seconds),
            meta={**(result.meta or {}), "snoozed": snoozed},
        )
    if isinstance(result, Cancel):
        error = {"at": to_iso(now), "attempt": job.attempt, "error": _storable(f"cancelled: {result.reason}")}
        return Ack(job.id, job.attempt, JobState.CANCELLED, now, error=error)
    if isinstance(result, Record):
        return Ack(job.id, job.attempt, JobState.COMPLETED, now, meta={"recorded": True, "return": result.encoded})
    return Ack(job.id, job.attempt, JobState.COMPLETED, now)


def failure_ack(job: Job, instance: Any, error: BaseException) -> Ack:
    """The ack for a run that failed with ``error``: retryable after backoff, or discarded."""
    now = utcnow()
    assert job.id is not None
    entry = {"at": to_iso(now), "attempt": job.attempt, "error": format_error(error)}
    if not telemetry.attached("oban.job.exception"):
        # Until a handler (oban.telemetry.logger, say) takes over failures, they are logged here.
        log.warning("job %s (%s) attempt %s failed: %r", job.id, job.worker, job.attempt, error)
    if job.attempt >= job.max_attempts:
        return Ack(job.id, job.attempt, JobState.DISCARDED, now, error=entry)
    try:
        delay = backoff_for(instance, job)
    except Exception:
        log.exception("backoff of %s failed; using the default", job.worker)
        delay = backoff_for(None, job)
    return Ack(job.id, job.attempt, JobState.RETRYABLE, now, scheduled_at=now + timedelta(seconds=delay), error=entry)
