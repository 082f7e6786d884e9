"""MemoryEngine: oban's jobs in this process's memory, through the public protocol and kit alone.

Engines built from the same ``memory://name`` share one database, as nodes share a server; a
``MemoryEngine()`` without a name has a database of its own. Stored values go through the kit's
JSON codec on the way in and out, so what a test reads back is what a real database would give:
tuples come back as lists, NaN and NUL are refused, and no returned job shares anything mutable
with what is stored. Every operation runs under the database's lock without awaiting, so it is
atomic for coroutines and threads alike. Nothing survives the process.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

from oban.engines.kit import (
    ACTIVITY_TIMESTAMPS,
    FINAL_STATES,
    PRODUCER_RETENTION,
    RESCUE_ERROR,
    UPDATABLE_FIELDS,
    Ack,
    Activity,
    EngineBase,
    Job,
    JobSearch,
    JobState,
    NotificationHandler,
    ProducerRecord,
    SchemaError,
    activity_from_rows,
    apply_replace,
    bucket_start,
    check_before_id,
    check_bucket,
    check_channel,
    check_payloads,
    check_since,
    decode_json,
    encode_json,
    hub,
    insert_payloads,
    inserted_job,
    job_search,
    prepare_insert,
    stored_job,
    to_iso,
    updated_job,
    utcnow,
)

LATEST_VERSION = 1
"""The only schema version: the tables exist (1) or not (0)."""

_JSON_FIELDS = ("args", "meta", "tags", "errors", "attempted_by")
_FINISHED_AT = {
    JobState.COMPLETED: "completed_at",
    JobState.CANCELLED: "cancelled_at",
    JobState.DISCARDED: "discarded_at",
}


@dataclass
class _Lease:
    node: str
    started_at: datetime
    expires_at: datetime


@dataclass
class _Database:
    """One named database: the tables, and the lock every operation holds."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    version: int = 0
    jobs: dict[int, dict[str, Any]] = field(default_factory=dict)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    leases: dict[str, _Lease] = field(default_factory=dict)
    producers: dict[str, ProducerRecord] = field(default_factory=dict)

    def require_schema(self) -> None:
        if self.version == 0:
            raise SchemaError("the memory database has no oban schema; call migrate() (or install()) first")


_databases: dict[str, _Database] = {}
_registry_lock = threading.Lock()


def _database(name: str) -> _Database:
    with _registry_lock:
        return _databases.setdefault(name, _Database())


def _store(job: Job, meta: dict[str, Any]) -> dict[str, Any]:
    """The row for a job: scalars as they are, JSON fields encoded (so nothing aliases the caller)."""
    row = {
        "id": job.id,
        "state": job.state,
        "queue": job.queue,
        "worker": job.worker,
        "attempt": job.attempt,
        "max_attempts": job.max_attempts,
        "priority": job.priority,
        "inserted_at": job.inserted_at,
        "scheduled_at": job.scheduled_at,
        "attempted_at": job.attempted_at,
        "completed_at": job.completed_at,
        "cancelled_at": job.cancelled_at,
        "discarded_at": job.discarded_at,
    }
    values = {"args": job.args, "meta": meta, "tags": job.tags, "errors": job.errors, "attempted_by": job.attempted_by}
    for name in _JSON_FIELDS:
        row[name] = encode_json(values[name], name)
    return row


def _load(row: dict[str, Any], *, conflict: bool = False) -> Job:
    """A new job from a stored row."""
    values = {name: decode_json(row[name]) for name in _JSON_FIELDS}
    return stored_job(
        id=row["id"],
        state=row["state"],
        queue=row["queue"],
        worker=row["worker"],
        attempt=row["attempt"],
        max_attempts=row["max_attempts"],
        priority=row["priority"],
        inserted_at=row["inserted_at"],
        scheduled_at=row["scheduled_at"],
        attempted_at=row["attempted_at"],
        completed_at=row["completed_at"],
        cancelled_at=row["cancelled_at"],
        discarded_at=row["discarded_at"],
        conflict=conflict,
        **values,
    )


def _matches(search: JobSearch, row: dict[str, Any]) -> bool:
    """Whether a stored row matches a search: its JSON columns are already JSON text."""
    tags = decode_json(row["tags"], [])
    return search.matches(job_id=row["id"], worker=row["worker"], args=row["args"], meta=row["meta"], tags=tags)


def _claim_order(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["priority"], row["scheduled_at"], row["id"])


class MemoryTransaction:
    """A transaction of a :class:`MemoryEngine`, usable as ``conn=`` for ``insert_jobs``.

    Jobs inserted through it get their ids at once but exist, and announce themselves, only when
    the ``engine.transaction()`` block ends normally; an exception discards them.
    """

    def __init__(self, engine: MemoryEngine) -> None:
        self.engine = engine
        self.rows: list[dict[str, Any]] = []
        self.open = True


class MemoryEngine(EngineBase):
    """Jobs in memory: ``MemoryEngine()`` (a private database) or ``MemoryEngine("memory://name")``.

    Engines given the same name share one database within the process, the way several nodes
    share a server. ``install`` (default ``True``) creates the schema on first use, as
    ``LiteEngine`` does for a file path; an engine built from a DSN (``from_dsn``, what the
    ``oban`` command uses) leaves that to ``migrate()``.
    """

    latest_schema_version = LATEST_VERSION

    def __init__(self, dsn: str = "memory://", *, install: bool = True) -> None:
        parts = urlsplit(dsn) if isinstance(dsn, str) else None
        if parts is None or parts.scheme != "memory" or parts.path not in ("", "/") or parts.query:
            raise ValueError(f"MemoryEngine needs a DSN like memory://name, got {dsn!r}")
        name = parts.netloc or f"private-{uuid4().hex}"
        self.name = name
        self.dsn = f"memory://{name}"
        self._db = _database(name)
        self._auto_install = install
        self._hub_key = f"memory-engine:{name}"
        self._handlers: list[NotificationHandler] = []

    @classmethod
    def from_dsn(cls, dsn: str, **options: Any) -> MemoryEngine:
        """An engine for ``memory://name`` that expects the schema to be installed already."""
        options.setdefault("install", False)
        return cls(dsn, **options)

    def __repr__(self) -> str:
        return f"MemoryEngine({self.dsn!r})"

    # -- connection ----------------------------------------------------------------------------

    async def connect(self) -> None:
        """Nothing to open; installs the schema first if this engine was built to."""
        if self._auto_install:
            with self._db.lock:
                self._db.version = max(self._db.version, LATEST_VERSION)

    async def close(self) -> None:
        """Stop delivering notifications to this engine's handlers; the data stays."""
        for handler in list(self._handlers):
            await self.unlisten(handler)

    def _ready(self) -> _Database:
        if self._auto_install and self._db.version == 0:
            self._db.version = LATEST_VERSION
        self._db.require_schema()
        return self._db

    # -- schema --------------------------------------------------------------------------------

    async def migrate(self, version: int | None = None) -> int:
        """Create the tables (1) or drop them with everything in them (0)."""
        target = LATEST_VERSION if version is None else version
        if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target <= LATEST_VERSION:
            raise SchemaError(f"migration version must be between 0 and {LATEST_VERSION}, got {version!r}")
        with self._db.lock:
            if target == 0:
                self._db.jobs.clear()
                self._db.leases.clear()
                self._db.producers.clear()
            self._db.version = target
        return target

    async def schema_version(self) -> int:
        return self._db.version

    # -- queueing ------------------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryTransaction]:
        """A transaction to pass as ``conn=``: commits when the block ends, rolls back on error."""
        tx = MemoryTransaction(self)
        try:
            yield tx
        except BaseException:
            tx.open = False
            raise
        tx.open = False
        with self._db.lock:
            for row in tx.rows:
                self._db.jobs[row["id"]] = row
        payloads = insert_payloads([_load(row) for row in tx.rows])
        if payloads:
            hub.publish(self._hub_key, "insert", payloads)

    async def insert_jobs(self, jobs: Sequence[Job], *, conn: Any = None) -> list[Job]:
        if not jobs:
            return []
        if conn is not None and (not isinstance(conn, MemoryTransaction) or conn.engine._db is not self._db):
            raise TypeError(f"conn must be a transaction of this MemoryEngine's database, got {type(conn).__name__}")
        if conn is not None and not conn.open:
            raise ValueError("conn is a transaction that already ended")
        prepared = [prepare_insert(job) for job in jobs]
        now = utcnow()
        db = self._db
        with db.lock:
            db = self._ready()
            pending = conn.rows if conn is not None else []
            written: list[dict[str, Any]] = []
            results: list[Job] = []
            for job, (meta, key) in zip(jobs, prepared, strict=True):
                existing = self._find_unique(job, key, now, [*db.jobs.values(), *pending, *written])
                if existing is not None:
                    stored = _load(existing)
                    if apply_replace(stored, job, now):
                        existing.update(_store(stored, stored.meta))
                    results.append(_load(existing, conflict=True))
                    continue
                new = inserted_job(job, next(db.ids), now, job.scheduled_at or now, meta)
                row = _store(new, meta)
                written.append(row)
                results.append(_load(row))
            if conn is not None:
                conn.rows.extend(written)
            else:
                for row in written:
                    db.jobs[row["id"]] = row
        if conn is None:
            payloads = insert_payloads(results)
            if payloads:
                hub.publish(self._hub_key, "insert", payloads)
        return results

    @staticmethod
    def _find_unique(job: Job, key: str | None, now: datetime, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
        unique = job.unique
        if key is None or unique is None:
            return None
        since = None if unique.period is None else now - timedelta(seconds=unique.period)
        for row in sorted(rows, key=lambda r: r["id"], reverse=True):
            if row["state"] not in unique.states or decode_json(row["meta"]).get("uniq_key") != key:
                continue
            if since is None or row[unique.timestamp] >= since:
                return row
        return None

    async def fetch_jobs(self, queue: str, demand: int, node: str, now: datetime, uuid: str | None = None) -> list[Job]:
        if demand <= 0:
            return []
        attempted_by = encode_json([node] if uuid is None else [node, uuid], "attempted_by")
        with self._db.lock:
            db = self._ready()
            ready = [
                row
                for row in db.jobs.values()
                if row["state"] is JobState.AVAILABLE and row["queue"] == queue and row["attempt"] < row["max_attempts"]
            ]
            claimed = sorted(ready, key=_claim_order)[:demand]
            for row in claimed:
                row.update(
                    state=JobState.EXECUTING, attempt=row["attempt"] + 1, attempted_at=now, attempted_by=attempted_by
                )
            return [_load(row) for row in claimed]

    async def ack_jobs(self, acks: Sequence[Ack]) -> list[int]:
        for ack in acks:
            if ack.error is not None:
                encode_json(ack.error, "error")
            if ack.meta:
                encode_json(ack.meta, "meta")
        changed: list[int] = []
        with self._db.lock:
            db = self._ready()
            for ack in acks:
                row = db.jobs.get(ack.job_id)
                if row is None or row["state"] is not JobState.EXECUTING or row["attempt"] != ack.attempt:
                    continue
                state = JobState(ack.state)
                row["state"] = state
                if state is JobState.SCHEDULED:
                    row["attempt"] -= 1
                if ack.scheduled_at is not None:
                    row["scheduled_at"] = ack.scheduled_at
                if state in _FINISHED_AT:
                    row[_FINISHED_AT[state]] = ack.at
                if ack.error is not None:
                    row["errors"] = encode_json([*decode_json(row["errors"]), ack.error], "errors")
                if ack.meta:
                    row["meta"] = encode_json({**decode_json(row["meta"]), **ack.meta}, "meta")
                changed.append(ack.job_id)
        return changed

    # -- management ----------------------------------------------------------------------------

    async def get_job(self, job_id: int) -> Job | None:
        with self._db.lock:
            row = self._ready().jobs.get(job_id)
            return None if row is None else _load(row)

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
        wanted = None if states is None else {JobState(state) for state in states}
        found = job_search(search)
        before = check_before_id(before_id)
        with self._db.lock:
            rows = [
                row
                for row in self._ready().jobs.values()
                if (queue is None or row["queue"] == queue)
                and (worker is None or row["worker"] == worker)
                and (wanted is None or row["state"] in wanted)
                and row["id"] < before
                and (found is None or _matches(found, row))
            ]
            rows.sort(key=lambda row: row["id"], reverse=True)
            return [_load(row) for row in rows[: max(0, int(limit))]]

    async def job_activity(self, since: datetime, bucket: int) -> list[Activity]:
        since, bucket = check_since(since), check_bucket(bucket)
        counts: dict[tuple[datetime, str, JobState], int] = {}
        with self._db.lock:
            for row in self._ready().jobs.values():
                column = ACTIVITY_TIMESTAMPS.get(row["state"])
                at = row[column] if column is not None else None
                if at is not None and at >= since:
                    key = (bucket_start(at, bucket), row["queue"], row["state"])
                    counts[key] = counts.get(key, 0) + 1
        rows = [(int(start.timestamp()), queue, state, n) for (start, queue, state), n in counts.items()]
        return activity_from_rows(rows)

    async def count_jobs(self) -> dict[tuple[str, JobState], int]:
        counts: dict[tuple[str, JobState], int] = {}
        with self._db.lock:
            for row in self._ready().jobs.values():
                key = (row["queue"], row["state"])
                counts[key] = counts.get(key, 0) + 1
        return counts

    async def cancel_jobs(self, ids: Sequence[int], now: datetime) -> tuple[int, list[int]]:
        count, executing = 0, []
        with self._db.lock:
            db = self._ready()
            for job_id in sorted(set(ids)):
                row = db.jobs.get(job_id)
                if row is None or row["state"] in FINAL_STATES:
                    continue
                if row["state"] is JobState.EXECUTING:
                    executing.append(job_id)
                row.update(state=JobState.CANCELLED, cancelled_at=now)
                count += 1
        return count, executing

    async def retry_jobs(self, ids: Sequence[int], now: datetime) -> int:
        count = 0
        with self._db.lock:
            db = self._ready()
            for job_id in set(ids):
                row = db.jobs.get(job_id)
                if row is None or row["state"] in (JobState.AVAILABLE, JobState.EXECUTING):
                    continue
                row.update(
                    state=JobState.AVAILABLE,
                    scheduled_at=now,
                    completed_at=None,
                    cancelled_at=None,
                    discarded_at=None,
                    max_attempts=max(row["max_attempts"], row["attempt"] + 1),
                )
                count += 1
        return count

    async def delete_jobs(self, ids: Sequence[int]) -> int:
        count = 0
        with self._db.lock:
            db = self._ready()
            for job_id in set(ids):
                row = db.jobs.get(job_id)
                if row is not None and row["state"] is not JobState.EXECUTING:
                    del db.jobs[job_id]
                    count += 1
        return count

    async def update_jobs(self, ids: Sequence[int], change: Callable[[Job], Job]) -> list[Job]:
        now = utcnow()
        with self._db.lock:
            db = self._ready()
            rows = [db.jobs[job_id] for job_id in sorted(set(ids)) if job_id in db.jobs]
            # Every change is worked out before any is written, so a change that raises leaves all as they were.
            updated = [(row, updated_job(_load(row), change)) for row in rows]
            writes = []
            for row, job in updated:
                new = _store(job, job.meta)
                fields = {name: new[name] for name in UPDATABLE_FIELDS}
                fields["scheduled_at"] = fields["scheduled_at"] or now
                fields["state"] = job.state
                writes.append((row, fields))
            for row, fields in writes:
                row.update(fields)
            return [_load(row) for row, _ in writes]

    # -- maintenance ---------------------------------------------------------------------------

    async def stage_jobs(self, now: datetime, limit: int, queue: str | None = None) -> list[str]:
        with self._db.lock:
            due = [
                row
                for row in self._ready().jobs.values()
                if row["state"] in (JobState.SCHEDULED, JobState.RETRYABLE)
                and row["scheduled_at"] <= now
                and (queue is None or row["queue"] == queue)
            ]
            due.sort(key=lambda row: (row["scheduled_at"], row["id"]))
            staged = due[: max(0, int(limit))]
            for row in staged:
                row["state"] = JobState.AVAILABLE
            return sorted({row["queue"] for row in staged})

    async def prune_jobs(self, before: datetime, limit: int) -> int:
        with self._db.lock:
            db = self._ready()
            doomed = [
                job_id
                for job_id, row in sorted(db.jobs.items())
                if row["state"] in _FINISHED_AT and (row[_FINISHED_AT[row["state"]]] or before) < before
            ][: max(0, int(limit))]
            for job_id in doomed:
                del db.jobs[job_id]
            return len(doomed)

    async def rescue_jobs(self, now: datetime, fallback_before: datetime) -> tuple[int, int]:
        rescued = discarded = 0
        with self._db.lock:
            db = self._ready()
            for row in db.jobs.values():
                if row["state"] is not JobState.EXECUTING:
                    continue
                claimed_by = decode_json(row["attempted_by"])
                producer = db.producers.get(claimed_by[-1]) if claimed_by else None
                orphaned = row["attempted_at"] < fallback_before if producer is None else not producer.alive(now)
                if not orphaned:
                    continue
                entry = {"at": to_iso(now), "attempt": row["attempt"], "error": RESCUE_ERROR}
                row["errors"] = encode_json([*decode_json(row["errors"]), entry], "errors")
                if row["attempt"] >= row["max_attempts"]:
                    row.update(state=JobState.DISCARDED, discarded_at=now)
                    discarded += 1
                else:
                    row["state"] = JobState.AVAILABLE
                    rescued += 1
            forget = now - timedelta(seconds=PRODUCER_RETENTION)
            for uuid, producer in list(db.producers.items()):
                if producer.updated_at + timedelta(seconds=producer.ttl) < forget:
                    del db.producers[uuid]
        return rescued, discarded

    # -- leadership ----------------------------------------------------------------------------

    async def elect_leader(self, name: str, node: str, ttl: float, now: datetime) -> bool:
        with self._db.lock:
            db = self._ready()
            lease = db.leases.get(name)
            if lease is None or lease.node == node or lease.expires_at < now:
                started = lease.started_at if lease is not None and lease.node == node else now
                db.leases[name] = _Lease(node, started, now + timedelta(seconds=ttl))
                return True
            return False

    async def resign_leader(self, name: str, node: str) -> None:
        with self._db.lock:
            lease = self._ready().leases.get(name)
            if lease is not None and lease.node == node:
                del self._db.leases[name]

    # -- heartbeats ----------------------------------------------------------------------------

    async def record_producers(self, producers: Sequence[ProducerRecord]) -> None:
        rows = [(p, decode_json(encode_json(p.meta, "meta"))) for p in producers]
        with self._db.lock:
            db = self._ready()
            for record, meta in rows:
                known = db.producers.get(record.uuid)
                started = known.started_at if known is not None else record.started_at
                db.producers[record.uuid] = ProducerRecord(
                    uuid=record.uuid,
                    name=known.name if known else record.name,
                    node=known.node if known else record.node,
                    queue=known.queue if known else record.queue,
                    meta=meta,
                    started_at=started,
                    updated_at=record.updated_at,
                )

    async def retire_producers(self, uuids: Sequence[str], now: datetime) -> None:
        with self._db.lock:
            db = self._ready()
            for uuid in uuids:
                known = db.producers.get(uuid)
                if known is not None:
                    db.producers[uuid] = ProducerRecord(
                        uuid=known.uuid,
                        name=known.name,
                        node=known.node,
                        queue=known.queue,
                        meta={**known.meta, "ttl": 0},
                        started_at=known.started_at,
                        updated_at=now,
                    )

    async def list_producers(self) -> list[ProducerRecord]:
        with self._db.lock:
            records = list(self._ready().producers.values())
        records.sort(key=lambda p: (p.name, p.node, p.queue, p.uuid))
        return [
            ProducerRecord(
                uuid=p.uuid,
                name=p.name,
                node=p.node,
                queue=p.queue,
                meta=decode_json(encode_json(p.meta, "meta")),
                started_at=p.started_at,
                updated_at=p.updated_at,
            )
            for p in records
        ]

    # -- notifications -------------------------------------------------------------------------

    async def notify(self, channel: str, payloads: Sequence[dict[str, Any]]) -> None:
        check_channel(channel)
        payloads = check_payloads(payloads)
        # Each listener gets its own decoded copy, as if it had crossed a wire.
        texts = [encode_json(payload, "notification payload") for payload in payloads]
        if texts:
            hub.publish(self._hub_key, channel, [decode_json(text) for text in texts])

    async def listen(self, handler: NotificationHandler) -> None:
        if handler not in self._handlers:
            hub.subscribe(self._hub_key, handler)
            self._handlers.append(handler)

    async def unlisten(self, handler: NotificationHandler) -> None:
        if handler in self._handlers:
            self._handlers.remove(handler)
            hub.unsubscribe(self._hub_key, handler)
