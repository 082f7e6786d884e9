"""``job_activity``: its arguments checked, its buckets computed, and its rows turned into ``Activity``.

Each counted state is dated by its own timestamp (``ACTIVITY_TIMESTAMPS``). SQL engines group by
the bucket's start in whole seconds since the Unix epoch, ``floor(seconds / bucket) * bucket``,
and hand ``(start, queue, state, count)`` rows to ``activity_from_rows``; engines that count in
Python use ``bucket_start``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from ..._time import as_utc
from ...job import MAX_INT32, JobState
from ..protocol import Activity

ACTIVITY_TIMESTAMPS: dict[JobState, str] = {
    JobState.COMPLETED: "completed_at",
    JobState.DISCARDED: "discarded_at",
    JobState.CANCELLED: "cancelled_at",
    JobState.RETRYABLE: "attempted_at",
}
"""The states ``job_activity`` counts, each with the column that dates it."""

MAX_BUCKET = MAX_INT32
"""The longest bucket, in seconds (about 68 years): longer would only overflow integer columns."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


def check_bucket(bucket: int) -> int:
    """``bucket`` checked: an integer from 1 to ``MAX_BUCKET``, else ``ValueError`` naming it and the value."""
    if isinstance(bucket, bool) or not isinstance(bucket, int) or not 0 < bucket <= MAX_BUCKET:
        raise ValueError(f"bucket must be a positive whole number of seconds (at most {MAX_BUCKET}), got {bucket!r}")
    return bucket


def check_since(since: datetime) -> datetime:
    """``since`` as aware UTC (naive is read as UTC); anything but a datetime raises ``ValueError``."""
    if not isinstance(since, datetime):
        raise ValueError(f"since must be a datetime, got {since!r}")
    return as_utc(since)


def bucket_start(at: datetime, bucket: int) -> datetime:
    """The start of the ``bucket``-second interval holding ``at``, aware UTC."""
    seconds = (as_utc(at) - _EPOCH) // _SECOND
    return _EPOCH + timedelta(seconds=seconds // bucket * bucket)


def activity_from_rows(rows: Iterable[Any]) -> list[Activity]:
    """``(start, queue, state, count)`` rows as ``Activity``, counts > 0 only, by ``at``, queue, state.

    ``start`` is the bucket's start in seconds since the Unix epoch. The order is made here, not
    in SQL, so that every engine sorts queues by code point and states by their value, whatever
    its collations or how its ``state`` column orders an enum.
    """
    found = [
        Activity(_EPOCH + timedelta(seconds=int(start)), str(queue), JobState(state), int(count))
        for start, queue, state, count in rows
        if int(count) > 0
    ]
    found.sort(key=lambda item: (item.at, item.queue, item.state.value))
    return found
