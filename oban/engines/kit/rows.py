"""Turning stored rows into jobs, and jobs into what an insert stores.

``stored_job`` builds a ``Job`` from stored values without validating them (a row written by
another implementation is taken as it is). ``job_from_row`` does the same for a row selected in
the column order below, JSON columns as text. ``prepare_insert`` checks a job and gives the meta
to store with its unique key; ``inserted_job`` is the job as stored, a new object.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from ..._json import decode, encode_bytes, show
from ..._time import utcnow
from ...job import UNIQ_KEY, Job, JobState, schedule_state
from ..protocol import CHANNELS

COLUMNS = (
    "id",
    "state",
    "queue",
    "worker",
    "args",
    "meta",
    "tags",
    "errors",
    "attempted_by",
    "attempt",
    "max_attempts",
    "priority",
    "inserted_at",
    "scheduled_at",
    "attempted_at",
    "completed_at",
    "cancelled_at",
    "discarded_at",
)
"""The columns of ``oban_jobs`` in the order ``job_from_row`` reads them."""


def stored_job(
    *,
    id: int,
    worker: str,
    state: str | JobState = JobState.AVAILABLE,
    queue: str = "default",
    args: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
    tags: list[str] | None = None,
    errors: list[dict[str, Any]] | None = None,
    attempted_by: list[str] | None = None,
    attempt: int = 0,
    max_attempts: int = 20,
    priority: int = 0,
    inserted_at: datetime | None = None,
    scheduled_at: datetime | None = None,
    attempted_at: datetime | None = None,
    completed_at: datetime | None = None,
    cancelled_at: datetime | None = None,
    discarded_at: datetime | None = None,
    conflict: bool = False,
) -> Job:
    """A job from stored values, taken as they are (no validation); timestamps aware UTC.

    Lists and dicts are used, not copied: pass values the caller does not keep.
    """
    return _new_job(
        id,
        _STATES.get(state) or JobState(state),
        queue,
        worker,
        args if args is not None else {},
        meta if meta is not None else {},
        tags if tags is not None else [],
        errors if errors is not None else [],
        attempted_by if attempted_by is not None else [],
        attempt,
        max_attempts,
        priority,
        inserted_at,
        scheduled_at,
        attempted_at,
        completed_at,
        cancelled_at,
        discarded_at,
        conflict,
    )


_STATES: dict[str, JobState] = {state.value: state for state in JobState}
"""Stored state text to ``JobState``: a dict lookup is several times cheaper than ``JobState(text)``."""

_blank_job = Job.__new__


def _new_job(
    id: int,
    state: JobState,
    queue: str,
    worker: str,
    args: dict[str, Any],
    meta: dict[str, Any],
    tags: list[str],
    errors: list[dict[str, Any]],
    attempted_by: list[str],
    attempt: int,
    max_attempts: int,
    priority: int,
    inserted_at: datetime | None,
    scheduled_at: datetime | None,
    attempted_at: datetime | None,
    completed_at: datetime | None,
    cancelled_at: datetime | None,
    discarded_at: datetime | None,
    conflict: bool = False,
) -> Job:
    # Claiming builds one job per row on the hot path: positional arguments and plain slot
    # stores, no validation (stored values are taken as they are).
    job = _blank_job(Job)
    job.id = id
    job.worker = worker
    job.state = state
    job.queue = queue
    job.args = args
    job.meta = meta
    job.tags = tags
    job.errors = errors
    job.attempted_by = attempted_by
    job.attempt = attempt
    job.max_attempts = max_attempts
    job.priority = priority
    job.inserted_at = inserted_at
    job.scheduled_at = scheduled_at
    job.attempted_at = attempted_at
    job.completed_at = completed_at
    job.cancelled_at = cancelled_at
    job.discarded_at = discarded_at
    job.unique = None
    job.replace = None
    job.conflict = conflict
    job.extra = {}
    job._cancelled = False
    return job


def _json_or(text: Any, default: Any) -> Any:
    return default if text is None else decode(text)


def job_from_row(row: Sequence[Any], timestamp: Callable[[Any], datetime | None]) -> Job:
    """A job from a row selected as ``COLUMNS``, JSON columns as text.

    ``timestamp`` turns a stored time into aware UTC.
    """
    return _new_job(
        row[0],
        _STATES.get(row[1]) or JobState(row[1]),
        row[2],
        row[3],
        _json_or(row[4], {}),
        _json_or(row[5], {}),
        _json_or(row[6], []),
        _json_or(row[7], []),
        _json_or(row[8], []),
        row[9],
        row[10],
        row[11],
        timestamp(row[12]),
        timestamp(row[13]),
        timestamp(row[14]),
        timestamp(row[15]),
        timestamp(row[16]),
        timestamp(row[17]),
    )


def prepare_insert(job: Job) -> tuple[dict[str, Any], str | None]:
    """Check ``job`` and return the ``meta`` to store with its unique key (``None`` unless unique).

    Raises ``ValueError`` naming the field when the job breaks the rules (``Job.validate``). A
    unique job's key goes into the stored meta under ``uniq_key``; the job itself is not changed.
    """
    job.validate()
    key = job.unique_key
    return (job.meta, None) if key is None else ({**job.meta, UNIQ_KEY: key}, key)


def inserted_job(job: Job, job_id: int, inserted_at: datetime, scheduled_at: datetime, meta: dict[str, Any]) -> Job:
    """The job as stored: a copy of ``job`` with its id, timestamps and stored meta; ``job`` is untouched."""
    stored = job._copy()
    stored.id = job_id
    stored.inserted_at = inserted_at
    stored.scheduled_at = scheduled_at
    stored.meta = meta
    stored.conflict = False
    return stored


def copy_job(job: Job) -> Job:
    """A copy of ``job`` that shares nothing mutable with it (args, meta, tags, errors, attempted_by)."""
    copied = job._copy()
    copied.args = copy.deepcopy(job.args)
    copied.meta = copy.deepcopy(job.meta)
    copied.tags = list(job.tags)
    copied.errors = copy.deepcopy(job.errors)
    copied.attempted_by = list(job.attempted_by)
    copied.extra = {}
    return copied


def updated_job(stored: Job, change: Callable[[Job], Job]) -> Job:
    """What ``update_jobs`` writes for ``stored``: ``change``'s version of it, with the state
    ``stored`` had, moved between available and scheduled only when ``scheduled_at`` changed.

    ``change`` gets a copy, so whatever it does to its argument leaves ``stored`` as read.
    """
    state, scheduled_at = stored.state, stored.scheduled_at
    job = change(copy_job(stored))
    # Due is judged after ``change`` ran, so "schedule_in=0" comes out available.
    job.state = state if job.scheduled_at == scheduled_at else schedule_state(state, job.scheduled_at, utcnow())
    return job


def insert_payloads(jobs: Sequence[Job]) -> list[dict[str, Any]]:
    """The ``insert`` notifications for stored jobs: one ``{"queue": q}`` per queue that gained
    available jobs, sorted (conflicts and scheduled jobs wake nobody)."""
    queues = sorted({job.queue for job in jobs if job.state is JobState.AVAILABLE and not job.conflict})
    return [{"queue": queue} for queue in queues]


def check_payloads(payloads: Sequence[Any]) -> list[dict[str, Any]]:
    """``payloads`` as a list if each is a JSON object that encodes, else ``ValueError`` naming it."""
    checked = list(payloads)
    for payload in checked:
        if not isinstance(payload, dict):
            raise ValueError(f"notification payloads must be dicts (JSON objects), got {show(payload)}")
        encode_bytes(payload, "notification payload")
    return checked


def check_channel(channel: str) -> str:
    """``channel`` if it is one of the protocol's channels, else ``ValueError`` naming it."""
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {list(CHANNELS)}, got {channel!r}")
    return channel
