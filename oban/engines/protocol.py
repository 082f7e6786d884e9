"""The ``Engine`` protocol: everything the core asks of a database, and nothing about how.

An engine stores jobs in an Oban-compatible ``oban_jobs`` table and delivers notifications
between nodes. The core never writes SQL; it calls these methods. Times passed in are
timezone-aware UTC from the caller's clock; jobs returned carry aware UTC datetimes.
``oban.testing.conformance`` is the executable form of these promises.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from ..job import Job, JobState

NotificationHandler = Callable[[str, dict[str, Any]], None]
"""Called with ``(channel, payload)`` for every notification, on the event loop."""

CHANNELS = ("insert", "signal", "leader")

RESCUE_ERROR = "rescued: the job was still executing when its node stopped responding"
"""The ``error`` text ``rescue_jobs`` records for each job it recovers."""


def insert_payloads(jobs: Sequence[Job]) -> list[dict[str, Any]]:
    """The ``insert`` notifications for stored jobs: one ``{"queue": q}`` per queue that gained
    available jobs (conflicts and scheduled jobs wake nobody)."""
    queues = sorted({job.queue for job in jobs if job.state is JobState.AVAILABLE and not job.conflict})
    return [{"queue": queue} for queue in queues]


@dataclass(frozen=True, slots=True)
class Ack:
    """The outcome of one run of one job, written back in batches.

    ``state`` is ``completed``, ``retryable``, ``discarded``, ``cancelled`` or ``scheduled``
    (a snooze: the attempt is given back, so the row's ``attempt`` goes down by one).
    ``scheduled_at`` is set for ``retryable`` and ``scheduled``. ``error`` is appended to
    ``errors``. Each key of ``meta`` replaces that key of the job's ``meta`` whole, its value
    stored exactly (nulls and nested objects included); other keys are kept. ``at`` stamps
    ``completed_at``, ``discarded_at`` or ``cancelled_at``.
    """

    job_id: int
    attempt: int
    state: JobState
    at: datetime
    scheduled_at: datetime | None = None
    error: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None


@runtime_checkable
class Engine(Protocol):
    """What a database must do for oban. Every method is safe to call from many nodes at once."""

    dsn: str
    """Where the engine points (passwords masked); shown in logs and errors."""

    async def connect(self) -> None:
        """Open connections. Idempotent; the core calls it before any other method."""

    async def close(self) -> None:
        """Release every connection and stop delivering notifications."""

    async def install(self) -> None:
        """Create or upgrade the schema to the newest version; harmless to repeat."""

    async def uninstall(self) -> None:
        """Drop everything ``install`` created."""

    async def migrate(self, version: int | None = None) -> int:
        """Move the schema up or down to ``version`` (newest if ``None``); return the version."""

    async def schema_version(self) -> int:
        """The installed schema version, 0 when none is installed."""

    async def insert_jobs(self, jobs: Sequence[Job], *, conn: Any = None) -> list[Job]:
        """Insert all ``jobs`` atomically (all or none) and return them as stored, in order.

        Each job is checked first (``Job.validate``) and its JSON encoded strictly, so a bad job
        raises ``ValueError`` naming the field before anything is written. The jobs given are
        not changed: the engine returns new ``Job`` objects with ``id``, ``inserted_at`` and
        ``scheduled_at`` set. A job with ``unique`` set stores ``meta["uniq_key"] =
        job.unique_key`` and is not inserted when a job with the same key exists in one of
        ``unique.states`` within ``unique.period`` (counted back from now on
        ``unique.timestamp``), an earlier job of the same batch included; that job is returned
        instead with ``conflict=True`` and the fields in ``replace[its state]`` overwritten.
        Concurrent inserts never both succeed.
        With ``conn`` (the driver's own connection, inside the caller's transaction), the jobs
        and the ``insert`` notification become visible only if that transaction commits.
        Otherwise the engine notifies ``insert`` with ``{"queue": q}`` for queues that gained
        available jobs.
        """

    async def fetch_jobs(self, queue: str, demand: int, node: str, now: datetime) -> list[Job]:
        """Claim up to ``demand`` available jobs of ``queue`` whose ``attempt < max_attempts``.

        Order is priority, then scheduled_at, then id. Claimed jobs become ``executing`` with
        ``attempt + 1``, ``attempted_at = now`` and ``node`` appended to ``attempted_by``, and are
        returned in claim order. No job is ever claimed by two callers.
        """

    async def ack_jobs(self, acks: Sequence[Ack]) -> list[int]:
        """Apply a batch of outcomes; return the ids it changed.

        An ack applies only while its job is still ``executing`` at ``ack.attempt``, so a late
        ack never overwrites a job that was cancelled, rescued or claimed again since.
        """

    async def get_job(self, job_id: int) -> Job | None:
        """The job with this id, or ``None``."""

    async def list_jobs(
        self, *, queue: str | None = None, worker: str | None = None,
        states: Sequence[JobState] | None = None, limit: int = 1000,
    ) -> list[Job]:
        """Jobs matching every given filter, newest id first."""

    async def cancel_jobs(self, ids: Sequence[int], now: datetime) -> tuple[int, list[int]]:
        """Cancel the incomplete jobs among ``ids``; return (count, ids that were executing)."""

    async def retry_jobs(self, ids: Sequence[int], now: datetime) -> int:
        """Make jobs among ``ids`` that are not available or executing available now.

        A job whose attempts are exhausted gets ``max_attempts = attempt + 1``. Returns the count.
        """

    async def delete_jobs(self, ids: Sequence[int]) -> int:
        """Delete the jobs among ``ids`` that are not executing; return the count."""

    async def update_jobs(self, ids: Sequence[int], change: Callable[[Job], Job]) -> list[Job]:
        """Atomically read each job, let ``change`` return its new version, and store it.

        Only the updatable fields are written. Rows are locked while ``change`` runs; if it
        raises, nothing is written. Missing ids are skipped.
        """

    async def stage_jobs(self, now: datetime, limit: int, queue: str | None = None) -> list[str]:
        """Make up to ``limit`` scheduled/retryable jobs due by ``now`` available (only ``queue``'s
        when given).

        Returns the distinct queues that gained jobs, each once.
        """

    async def prune_jobs(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` completed/cancelled/discarded jobs that finished before ``before``."""

    async def rescue_jobs(self, before: datetime, now: datetime) -> tuple[int, int]:
        """Recover jobs ``executing`` since before ``before`` (their node died).

        They become ``available``, or ``discarded`` at ``now`` when attempts are exhausted, and
        get ``{"at": now, "attempt": attempt, "error": RESCUE_ERROR}`` appended to ``errors``.
        Returns (rescued, discarded).
        """

    async def elect_leader(self, name: str, node: str, ttl: float, now: datetime) -> bool:
        """Take or renew the lease for cluster ``name``; True if ``node`` holds it afterwards."""

    async def resign_leader(self, name: str, node: str) -> None:
        """Give up the lease if ``node`` holds it."""

    async def notify(self, channel: str, payloads: Sequence[dict[str, Any]]) -> None:
        """Send JSON payloads on ``channel`` to every listening node, this one included."""

    async def listen(self, handler: NotificationHandler) -> None:
        """Deliver every notification on :data:`CHANNELS` to ``handler`` until ``unlisten``.

        Returns only once listening, so a notification sent afterwards is not missed.
        """

    async def unlisten(self, handler: NotificationHandler) -> None:
        """Stop delivering notifications to ``handler``."""
