"""Building jobs from rows selected in the column order every engine's queries use."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from .. import _json
from ..job import Job


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
