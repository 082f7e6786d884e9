"""Building jobs from rows selected in the column order every engine's queries use, and the
values an insert stores."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from .. import _json
from ..job import UNIQ_KEY, Job


def job_from_row(row: Sequence[Any], timestamp: Callable[[Any], datetime | None]) -> Job:
    """A job from a row selected as ``id, state, queue, worker, args, meta, tags, errors,
    attempted_by, attempt, max_attempts, priority, inserted_at, scheduled_at, attempted_at,
    completed_at, cancelled_at, discarded_at``, JSON columns as text.

    ``timestamp`` turns a stored time into aware UTC.
    """
    loads = _json.decode
    return Job._load(
        id=row[0], state=row[1], queue=row[2], worker=row[3],
        args=loads(row[4], {}), meta=loads(row[5], {}), tags=loads(row[6], []),
        errors=loads(row[7], []), attempted_by=loads(row[8], []),
        attempt=row[9], max_attempts=row[10], priority=row[11],
        inserted_at=timestamp(row[12]), scheduled_at=timestamp(row[13]),
        attempted_at=timestamp(row[14]), completed_at=timestamp(row[15]),
        cancelled_at=timestamp(row[16]), discarded_at=timestamp(row[17]),
    )


def insert_meta(job: Job) -> tuple[dict[str, Any], str | None]:
    """The ``meta`` to store for a new job, and its unique key (``None`` unless ``job.unique``).

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
