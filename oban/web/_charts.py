"""Throughput and failure charts: per-minute counts over the last hour, drawn as SVG bars.

The geometry is worked out here; the template only writes the elements.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..engines.protocol import Activity
from ..job import JobState

BUCKET_SECONDS = 60
BUCKETS = 60
WIDTH = 600
HEIGHT = 120
GAP = 1.0

THROUGHPUT = (JobState.COMPLETED,)
FAILURES = (JobState.RETRYABLE, JobState.DISCARDED)


def bucket_start(at: datetime, seconds: int = BUCKET_SECONDS) -> datetime:
    """The start of the bucket holding ``at`` (buckets are aligned to the Unix epoch)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    stamp = int(at.timestamp())
    return datetime.fromtimestamp(stamp - stamp % seconds, UTC)


def window(now: datetime) -> list[datetime]:
    """The starts of the last hour's buckets, oldest first, the current (partial) minute last."""
    last = bucket_start(now)
    return [last - timedelta(seconds=BUCKET_SECONDS * back) for back in range(BUCKETS - 1, -1, -1)]


@dataclass(frozen=True, slots=True)
class Segment:
    """One state's share of a bar."""

    state: str
    count: int
    y: float
    height: float


@dataclass(frozen=True, slots=True)
class Bar:
    """One bucket: where its bar stands and what it counts, in total and by state."""

    at: datetime
    count: int
    x: float
    width: float
    segments: tuple[Segment, ...]

    @property
    def label(self) -> str:
        """The tooltip: the minute and the counts."""
        parts = ", ".join(f"{s.count} {s.state}" for s in self.segments if s.count)
        return f"{self.at:%H:%M} UTC: {self.count}" + (f" ({parts})" if parts and len(self.segments) > 1 else "")


@dataclass(frozen=True, slots=True)
class Chart:
    """A bar chart ready to draw."""

    name: str
    title: str
    states: tuple[str, ...]
    bars: tuple[Bar, ...]
    peak: int
    total: int
    width: int = WIDTH
    height: int = HEIGHT


def build(
    name: str, title: str, activity: Iterable[Activity], states: Sequence[JobState], now: datetime, queue: str | None
) -> Chart:
    """A chart of ``activity`` (``Activity`` rows: ``at``, ``queue``, ``state``, ``count``) in
    ``states`` over the hour before ``now``; only ``queue``'s when given."""
    starts = window(now)
    index = {at: i for i, at in enumerate(starts)}
    counts = [dict.fromkeys(states, 0) for _ in starts]
    for row in activity:
        state = JobState(row.state)
        if state not in states or (queue is not None and row.queue != queue):
            continue
        slot = index.get(bucket_start(row.at))
        if slot is not None:
            counts[slot][state] += int(row.count)
    totals = [sum(bucket.values()) for bucket in counts]
    peak = max(totals, default=0)
    step = WIDTH / len(starts)
    bars = []
    for i, (at, bucket) in enumerate(zip(starts, counts, strict=True)):
        top = float(HEIGHT)
        segments = []
        for state in states:
            height = HEIGHT * bucket[state] / peak if peak else 0.0
            top -= height
            segments.append(Segment(state.value, bucket[state], round(top, 2), round(height, 2)))
        bars.append(Bar(at, totals[i], round(i * step, 2), round(step - GAP, 2), tuple(segments)))
    return Chart(name, title, tuple(s.value for s in states), tuple(bars), peak, sum(totals))


def charts(activity: Sequence[Activity], now: datetime, queue: str | None = None) -> list[Chart]:
    """The throughput (completed) and failures (retryable + discarded) charts."""
    return [
        build("throughput", "Completed per minute", activity, THROUGHPUT, now, queue),
        build("failures", "Failures per minute (retryable + discarded)", activity, FAILURES, now, queue),
    ]


def since(now: datetime) -> datetime:
    """Where the charts' hour starts: the first bucket's start."""
    return window(now)[0]
