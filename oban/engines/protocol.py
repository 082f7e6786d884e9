"""The ``Engine`` protocol: everything the core asks of a database, by concern, and nothing about how.

An engine stores jobs in an Oban-compatible ``oban_jobs`` table and carries notifications
between nodes. The core never writes SQL; it calls these methods. Times passed in are
timezone-aware UTC from the caller's clock; jobs returned carry aware UTC datetimes.

The protocol comes in parts, one per concern, each a ``typing.Protocol`` of its own:
``Connection``, ``Schema``, ``Queueing``, ``Management``,
``Maintenance``, ``Leadership``, ``Heartbeats`` and ``Notifications``. ``Engine`` is all of
them. The parts are separate so each reads as one contract and each part of the runtime depends
on the part it uses (the leader on ``Leadership``, a producer on ``Queueing``); they are
implemented by one object because they share its connections and its notion of "the database",
and because a user configures one thing. Oban splits its Notifier and Peer from the Engine so
they can be swapped independently; here a notification strategy is composed inside an engine
instead (``oban.engines.kit.TablePoller`` serves two of ours), which keeps that choice with the
database it depends on.

Rules shared by every part:

- Every method may be called from many nodes (engines on the same database) at once.
- Jobs returned are new objects: changing one never changes what is stored, nor what another
  call returned. Jobs given are never changed.
- Bad input raises ``ValueError`` naming the field and value before anything is written.
- A failure of the database or its driver raises ``oban.errors.DatabaseError`` (the driver's
  error is its ``__cause__``), naming the engine's masked DSN and the method that failed.

``oban.testing.conformance`` is the executable form of these promises; ``docs/conformance.md``
says how to run it against a new engine.
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
"""The channels notifications travel on; ``notify`` refuses any other."""

RESCUE_ERROR = "rescued: the job was still executing when its node stopped responding"
"""The ``error`` text ``rescue_jobs`` records for each job it recovers."""

PRODUCER_TTL = 60.0
"""How long a producer row without a ``ttl`` in its meta (another implementation's) stays alive."""

PRODUCER_RETENTION = 300.0
"""How long ``rescue_jobs`` keeps a producer row after it went stale, before deleting it."""


@dataclass(frozen=True, slots=True)
class ProducerRecord:
    """One queue on one node, as its heartbeat records it in ``oban_producers``.

    ``uuid`` names the producer (a claim records it as ``attempted_by[-1]``); ``name`` is the
    cluster (``Oban(name=...)``). ``meta`` holds ``local_limit``, ``paused``, ``running`` (the ids
    it runs) and ``ttl``: how many seconds after ``updated_at`` the row counts as alive.
    """

    uuid: str
    """A UUID in text form (PostgreSQL stores it as ``uuid``)."""
    name: str
    node: str
    queue: str
    meta: dict[str, Any]
    started_at: datetime
    updated_at: datetime

    @property
    def ttl(self) -> float:
        """Seconds after ``updated_at`` this producer counts as alive (``PRODUCER_TTL`` if unset)."""
        value = self.meta.get("ttl")
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else PRODUCER_TTL

    def alive(self, now: datetime) -> bool:
        """True while the producer's last heartbeat is younger than its ``ttl``."""
        return (now - self.updated_at).total_seconds() < self.ttl


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


@dataclass(frozen=True, slots=True)
class Activity:
    """How many jobs of one queue reached one outcome within one time bucket (``job_activity``).

    ``at`` is the start of the bucket: aware UTC, a whole multiple of the bucket's length in
    seconds since the Unix epoch. ``state`` is ``completed``, ``discarded``, ``cancelled`` or
    ``retryable``, each dated by its own timestamp (``completed_at``, ``discarded_at``,
    ``cancelled_at``; ``attempted_at`` for a failed attempt that will be retried).
    """

    at: datetime
    queue: str
    state: JobState
    count: int


@runtime_checkable
class Connection(Protocol):
    """Where the engine points, and its connections.

    An engine serves whichever event loop calls it, one loop at a time: a call from another
    loop than the last (``asyncio.run`` per request, a loop per thread) drops what the old loop
    owned without awaiting on it, closed or busy elsewhere as it may be, and connects again
    (``kit.EngineBase`` notices the change and calls the engine's ``_leave_loop``).
    """

    dsn: str
    """Where the engine points, secrets masked (``oban.engines.kit.mask_dsn``); shown in logs and errors."""

    async def connect(self) -> None:
        """Open connections. Idempotent; every other method connects on first use as well."""

    async def close(self) -> None:
        """Release every connection and stop delivering notifications.

        Not final: any later call connects again and works as before.
        """


@runtime_checkable
class Schema(Protocol):
    """The tables, and moving them between versions.

    ``install()`` is ``migrate()`` and ``uninstall()`` is ``migrate(0)``; they are part of the
    contract (the CLI and the conformance suite call them), and engines get both from
    ``oban.engines.kit.EngineBase`` rather than writing them again.
    """

    latest_schema_version: int
    """The version this engine's code needs and ``migrate()`` reaches; ``oban check`` compares
    ``schema_version`` with it."""

    async def migrate(self, version: int | None = None) -> int:
        """Move the schema up or down to ``version`` (newest if ``None``); return the version.

        Harmless to repeat; ``0`` removes everything. A version this engine does not know raises
        ``oban.errors.SchemaError``. Jobs stored survive moving up, and down to any version >= 1.
        """

    async def schema_version(self) -> int:
        """The installed schema version, 0 when none is installed."""

    async def install(self) -> None:
        """Create or upgrade the tables to ``latest_schema_version``: ``migrate()``."""

    async def uninstall(self) -> None:
        """Drop every table and object the schema made: ``migrate(0)``."""


@runtime_checkable
class Queueing(Protocol):
    """The hot path: putting jobs in, claiming them, and writing back what happened."""

    async def insert_jobs(self, jobs: Sequence[Job], *, conn: Any = None) -> list[Job]:
        """Insert all ``jobs`` atomically (all or none) and return them as stored, in order.

        Each job is checked first (``Job.validate``) and its JSON encoded strictly
        (``kit.encode_json``: no NaN, no NUL, string keys, 64-bit integers), so a bad job raises
        ``ValueError`` naming the field before anything is written. The returned jobs carry
        ``id``, ``inserted_at`` and ``scheduled_at`` (``inserted_at`` when not given).

        A job with ``unique`` set stores ``meta["uniq_key"] = job.unique_key`` and is not
        inserted when a job with that key exists in one of ``unique.states`` within
        ``unique.period`` (counted back from now on ``unique.timestamp``), an earlier job of
        the same batch included: that job is returned instead, with ``conflict=True`` and the
        fields in ``replace[its state]`` overwritten. Concurrent inserts never both succeed.

        Queues that gained ``available`` jobs hear of it on ``insert`` as ``{"queue": q}``, once
        per queue; conflicts and scheduled jobs wake nobody. With ``conn`` (the driver's own
        connection, inside the caller's transaction) the jobs and that notification exist only
        once the transaction commits, never before, and not at all if it rolls back.
        """

    async def fetch_jobs(self, queue: str, demand: int, node: str, now: datetime, uuid: str | None = None) -> list[Job]:
        """Claim up to ``demand`` available jobs of ``queue`` whose ``attempt < max_attempts``.

        Order is priority, then scheduled_at, then id. Claimed jobs become ``executing`` with
        ``attempt + 1``, ``attempted_at = now`` and ``attempted_by = [node, uuid]`` (Oban's
        convention: the node and the claiming producer; ``[node]`` without a ``uuid``), and are
        returned in claim order. No job is ever claimed by two callers. ``demand <= 0`` claims
        nothing.
        """

    async def ack_jobs(self, acks: Sequence[Ack]) -> list[int]:
        """Apply a batch of outcomes (see ``Ack``); return the ids it changed.

        An ack applies only while its job is still ``executing`` at ``ack.attempt``, so a late
        ack never overwrites a job that was cancelled, rescued or claimed again since.
        """


@runtime_checkable
class Management(Protocol):
    """Reading and changing jobs on a user's behalf (Oban's job management semantics)."""

    async def get_job(self, job_id: int) -> Job | None:
        """The job with this id, or ``None``."""

    async def list_jobs(
        self,
        *,
        queue: str | None = None,
        worker: str | None = None,
        states: Sequence[JobState] | None = None,
        limit: int = 1000,
        search: str | None = None,
        before_id: int | None = None,
    ) -> list[Job]:
        """Jobs matching every given filter, newest id first, at most ``limit``.

        ``search`` keeps the jobs in which it appears, ignoring case, as a plain substring
        (``%`` and ``_`` are literal): in the worker, in the text of ``args`` or ``meta`` as
        JSON, or in one of the tags; a ``search`` of ASCII digits also matches the job with
        that id. How JSON text is spaced is the database's, so search for keys and values, not
        for punctuation between them. ``""`` filters nothing. ``before_id`` keeps jobs whose
        ``id < before_id``: pass the last id of one page to get the next, with no job missed or
        repeated. A ``search`` that is not a string or a ``before_id`` that is not an integer
        raises ``ValueError`` (``kit.job_search`` and ``kit.check_before_id`` check both).
        """

    async def count_jobs(self) -> dict[tuple[str, JobState], int]:
        """How many jobs each queue holds in each state: ``{(queue, state): count}``, counts > 0 only.

        What dashboards and metrics read (``oban queues``, the Prometheus gauges); it may scan
        the table, so callers poll it every few seconds at most.
        """

    async def job_activity(self, since: datetime, bucket: int) -> list[Activity]:
        """How many jobs finished at or after ``since``, per ``bucket``-second interval, queue and state.

        Counts ``completed`` jobs by ``completed_at``, ``discarded`` by ``discarded_at``,
        ``cancelled`` by ``cancelled_at`` and ``retryable`` by ``attempted_at``; a job counts in
        its current state only. Intervals start at multiples of ``bucket`` seconds since the Unix
        epoch. Counts > 0 only, ordered by ``at``, ``queue``, then ``state``'s value. ``bucket``
        must be a positive integer of seconds, at most ``kit.MAX_BUCKET`` (about 68 years), and
        ``ValueError`` names it otherwise (``kit.check_bucket``). What a dashboard's throughput
        chart reads: it reads only rows finished since ``since``, through the engine's indexes
        on those timestamps where the schema has them.
        """

    async def cancel_jobs(self, ids: Sequence[int], now: datetime) -> tuple[int, list[int]]:
        """Cancel the incomplete jobs among ``ids`` (``cancelled_at = now``).

        Returns (count changed, ids that were executing, ascending). Finished jobs are left alone.
        """

    async def retry_jobs(self, ids: Sequence[int], now: datetime) -> int:
        """Make the jobs among ``ids`` that are neither available nor executing available now.

        ``scheduled_at = now``; ``completed_at``, ``cancelled_at`` and ``discarded_at`` are
        cleared; a job whose attempts are spent gets ``max_attempts = attempt + 1``. Returns the
        count changed.
        """

    async def delete_jobs(self, ids: Sequence[int]) -> int:
        """Delete the jobs among ``ids`` that are not executing; return the count."""

    async def update_jobs(self, ids: Sequence[int], change: Callable[[Job], Job]) -> list[Job]:
        """Atomically read each job, let ``change`` return its new version, and store it.

        Only the updatable fields (``oban.job.UPDATABLE_FIELDS``) and the state their change
        implies are written; anything else ``change`` altered is ignored. Rows are locked while
        ``change`` runs; if it raises, nothing is written. Missing ids are skipped. Returns the
        new versions, in id order.
        """


@runtime_checkable
class Maintenance(Protocol):
    """The leader's chores."""

    async def stage_jobs(self, now: datetime, limit: int, queue: str | None = None) -> list[str]:
        """Make up to ``limit`` scheduled/retryable jobs due by ``now`` available (only
        ``queue``'s when given), earliest ``scheduled_at`` first, keeping their ``scheduled_at``.

        Returns the distinct queues that gained jobs, each once, sorted.
        """

    async def prune_jobs(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` finished jobs that finished before ``before``; return the count.

        "Finished" is the state's own timestamp: ``completed_at`` for completed,
        ``cancelled_at`` for cancelled, ``discarded_at`` for discarded jobs. No other job is touched.
        """

    async def rescue_jobs(self, now: datetime, fallback_before: datetime) -> tuple[int, int]:
        """Recover jobs left ``executing`` by producers that are gone.

        A job is orphaned when ``attempted_by[-1]`` names a producer row that is stale at ``now``
        (not ``ProducerRecord.alive``: it stopped heartbeating, or was retired), or names no
        producer row at all and was attempted before ``fallback_before`` (claims by nodes that do
        not heartbeat: other implementations, or rows long gone). A job of a live producer is
        never rescued, however long it runs. Orphans become ``available``, or ``discarded`` at
        ``now`` when attempts are spent, and get ``{"at": kit.to_iso(now), "attempt": attempt,
        "error": RESCUE_ERROR}`` appended to ``errors``. Then producer rows stale for more than
        ``PRODUCER_RETENTION`` seconds are deleted. Returns (rescued, discarded).
        """


@runtime_checkable
class Leadership(Protocol):
    """One lease per cluster name; its holder does the cluster-wide chores."""

    async def elect_leader(self, name: str, node: str, ttl: float, now: datetime) -> bool:
        """Take the lease for cluster ``name`` if it is free or expired at ``now``, or renew it
        if ``node`` holds it; either way it then lasts until ``now + ttl``.

        Returns whether ``node`` holds the lease afterwards. Two nodes never both hold it, however
        many race for it; a node that resigned may take it again.
        """

    async def resign_leader(self, name: str, node: str) -> None:
        """Give up the lease if ``node`` holds it; otherwise change nothing."""


@runtime_checkable
class Heartbeats(Protocol):
    """Which producers are alive: every node records its queues every few seconds."""

    async def record_producers(self, producers: Sequence[ProducerRecord]) -> None:
        """Write each producer's row: inserted when new, else ``meta`` and ``updated_at`` replaced
        (``name``, ``node``, ``queue`` and ``started_at`` are kept)."""

    async def retire_producers(self, uuids: Sequence[str], now: datetime) -> None:
        """The producers stopped: their rows are stale from ``now`` on, so jobs they left
        executing are rescued at the next ``rescue_jobs``, which deletes the rows later. Unknown
        uuids are ignored."""

    async def list_producers(self) -> list[ProducerRecord]:
        """Every producer row, alive or stale, ordered by name, node, queue, uuid."""


@runtime_checkable
class Notifications(Protocol):
    """Messages between nodes: inserts, queue signals, leadership changes."""

    async def notify(self, channel: str, payloads: Sequence[dict[str, Any]]) -> None:
        """Send JSON objects on ``channel`` to every listening engine on the database, this one
        included, each delivered once to each handler, in the order given.

        ``channel`` must be one of ``CHANNELS`` and each payload a dict that encodes as JSON
        (``ValueError`` otherwise, before anything is sent); payloads of any size arrive intact.
        An empty list sends nothing.
        """

    async def listen(self, handler: NotificationHandler) -> None:
        """Deliver every notification on ``CHANNELS`` to ``handler`` until ``unlisten``.

        Returns only once listening, so a notification sent afterwards is not missed; one sent
        before is not delivered. A handler that raises is logged and does not stop delivery to
        the others.
        """

    async def unlisten(self, handler: NotificationHandler) -> None:
        """Stop delivering notifications to ``handler``; an unknown handler is ignored."""


@runtime_checkable
class Engine(Connection, Schema, Queueing, Management, Maintenance, Leadership, Heartbeats, Notifications, Protocol):
    """What a database must do for oban: every part above, on one object."""


PARTS: tuple[type, ...] = (Connection, Schema, Queueing, Management, Maintenance, Leadership, Heartbeats, Notifications)
"""The protocol's parts, in the order they are documented."""


@runtime_checkable
class BlockingInsert(Protocol):
    """Optional: inserting jobs through the application's own blocking (DB-API 2) connection.

    What ``oban.SyncClient.enqueue(job, conn=...)`` calls, so that sync code (Django, SQLAlchemy,
    ``sqlite3``) can make a job part of its own transaction. Not part of ``Engine``; an engine
    without it refuses ``conn=`` in sync code with a ``TypeError``. ``LiteEngine`` takes a
    ``sqlite3`` connection, ``PostgresEngine`` a psycopg 3 one, ``MySQLEngine`` a PyMySQL one.
    """

    def insert_jobs_dbapi(self, conn: Any, jobs: Sequence[Job]) -> list[Job]:
        """Insert ``jobs`` through ``conn`` inside its open transaction; return them as stored.

        ``conn`` is a blocking connection (or cursor) of the engine's database, used in the
        caller's thread; no event loop is involved. Every promise of ``insert_jobs`` holds
        (validation first, all or none, unique jobs), and those of ``conn=`` too: the jobs and
        their ``insert`` notification exist once that transaction commits, and not at all if it
        rolls back. A connection in autocommit mode with no transaction open gets one of its
        own, committed before returning. A ``conn`` the engine cannot use raises ``TypeError``
        naming the engine and the connection's type; a database failure raises
        ``oban.errors.DatabaseError``.
        """
