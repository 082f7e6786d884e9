"""LiteEngine: oban on SQLite through aiosqlite, for tests, edge devices and single hosts.

One connection per engine does all the work on aiosqlite's thread; every read-then-write runs
as one function on that thread inside ``BEGIN IMMEDIATE``, so it holds SQLite's write lock from
its first read. WAL lets readers in other processes carry on, the busy timeout makes writers
queue, and ``SQLITE_BUSY`` that still escapes is retried. Several processes may share one file.
Notifications reach engines of the same file in this process at once, and engines in other
processes through the ``oban_notifications`` table, which each listening engine polls every
``poll_interval`` (0.1 s by default). Insert notifications are written in the inserting
transaction, so other processes hear of jobs only once they are committed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar, TypeVarTuple, cast
from urllib.parse import unquote

import aiosqlite

from ..kit import (
    PRODUCER_RETENTION,
    RESCUE_ERROR,
    Ack,
    Activity,
    Backoff,
    DatabaseError,
    EngineBase,
    Job,
    JobState,
    Migrations,
    NotificationHandler,
    ProducerRecord,
    TablePoller,
    activity_from_rows,
    apply_replace,
    as_utc,
    check_before_id,
    check_bucket,
    check_channel,
    check_payloads,
    check_since,
    decode_json,
    encode_json,
    from_iso,
    hub,
    insert_payloads,
    inserted_job,
    job_from_row,
    job_search,
    load_queries,
    loops,
    prepare_insert,
    split_statements,
    stored_job,
    to_iso,
    updated_job,
    utcnow,
)

log = logging.getLogger("oban.engines.lite")

_Q = load_queries(__package__)
_MIGRATIONS = Migrations.load(__package__)
LATEST_VERSION = _MIGRATIONS.latest

_Row = tuple[Any, ...]

_ACK_YIELDS = 3
"""Event-loop ticks ``ack_jobs`` waits before its transaction, so a claim made meanwhile goes first."""

_T = TypeVar("_T")
_P = ParamSpec("_P")
_Ts = TypeVarTuple("_Ts")


def _time(text: str) -> datetime:
    value = from_iso(text)
    assert value is not None
    return value


def _job_from_row(row: Sequence[Any]) -> Job:
    return job_from_row(row, from_iso)


def _cached_time(text: str | None, times: dict[str, datetime | None]) -> datetime | None:
    # Jobs inserted together share their timestamps' text: parse each text once per claim.
    if text is None:
        return None
    value = times.get(text)
    if value is None:
        value = times[text] = from_iso(text)
    return value


def _claimed_job(row: list[Any], claimed_by: list[str], attempted_at: datetime, times: dict[str, Any]) -> Job:
    """A job from a ``select_available`` entry, as ``mark_executing`` left it."""
    return stored_job(
        id=row[0],
        state=JobState.EXECUTING,
        queue=row[1],
        worker=row[2],
        args=row[3],
        meta=row[4],
        tags=row[5],
        errors=row[6],
        attempted_by=list(claimed_by),
        attempt=row[7] + 1,
        max_attempts=row[8],
        priority=row[9],
        inserted_at=_cached_time(row[10], times),
        scheduled_at=_cached_time(row[11], times),
        attempted_at=attempted_at,
        completed_at=_cached_time(row[12], times),
        cancelled_at=_cached_time(row[13], times),
        discarded_at=_cached_time(row[14], times),
    )


def _path_from(target: str) -> str:
    if not isinstance(target, str) or not target:
        raise ValueError(f"LiteEngine needs a file path or a sqlite:// DSN, got {target!r}")
    if "://" not in target:
        return target
    scheme, _, rest = target.partition("://")
    if scheme != "sqlite":
        raise ValueError(f"LiteEngine needs a sqlite:// DSN or a file path, got {target!r}")
    # sqlite:///jobs.db is relative to the working directory, sqlite:////tmp/jobs.db absolute.
    path = unquote(rest[1:] if rest.startswith("/") else rest).split("?", 1)[0]
    if not path:
        raise ValueError(f"sqlite DSN has no path: {target!r}")
    return path


def _is_busy(error: BaseException) -> bool:
    text = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _in_write_transaction(db: sqlite3.Connection, work: Callable[[], _T]) -> _T:
    db.execute("BEGIN IMMEDIATE")
    try:
        result = work()
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return result


def _in_savepoint(db: sqlite3.Connection, work: Callable[[], _T]) -> _T:
    """Run ``work`` all or nothing inside the transaction already open on ``db``."""
    db.execute("SAVEPOINT oban_insert")
    try:
        result = work()
    except BaseException:
        db.execute("ROLLBACK TO oban_insert")
        db.execute("RELEASE oban_insert")
        raise
    db.execute("RELEASE oban_insert")
    return result


def _ids_json(ids: Sequence[int]) -> str:
    return encode_json([int(i) for i in ids], "ids")


class LiteEngine(EngineBase):
    """Jobs in a SQLite file (or ``":memory:"``).

    ``LiteEngine("jobs.db")`` or ``LiteEngine("sqlite:///jobs.db")``. With ``install=True`` (the
    default) the schema is created or upgraded on first connect, since an embedded database has
    no separate deploy step; pass ``install=False`` to require ``oban install`` instead.
    """

    def __init__(
        self,
        path: str = "oban.db",
        *,
        install: bool = True,
        busy_timeout: float = 5.0,
        busy_retries: int = 20,
        poll_interval: float = 0.1,
    ) -> None:
        self.path = _path_from(path)
        self.dsn = f"sqlite:///{self.path}"
        self._auto_install = install
        self._busy_timeout = busy_timeout
        self._busy_retries = busy_retries
        self._db: aiosqlite.Connection | None = None
        self._connecting = asyncio.Lock()
        in_memory = self.path == ":memory:" or self.path.startswith("file::memory:")
        self._hub_key = f"memory:{id(self)}" if in_memory else os.path.realpath(self.path)
        self._handlers: list[NotificationHandler] = []
        self._poll_interval = poll_interval
        self._poller: TablePoller | None = None
        self._listening = asyncio.Lock()

    @classmethod
    def from_dsn(cls, dsn: str, **options: Any) -> LiteEngine:
        """An engine for ``sqlite:///path`` that expects the schema to be installed already."""
        options.setdefault("install", False)
        return cls(dsn, **options)

    driver_errors = (sqlite3.Error,)
    latest_schema_version = LATEST_VERSION

    def __repr__(self) -> str:
        return f"LiteEngine({self.path!r})"

    # -- connections ---------------------------------------------------------------------------

    async def connect(self) -> None:
        if self._db is not None:
            return
        async with self._connecting:
            if self._db is not None:
                return
            db = await aiosqlite.connect(self.path, isolation_level=None, check_same_thread=False)
            try:
                await db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
                await self._with_busy_retry(db.execute, "PRAGMA journal_mode = WAL")
                await db.execute("PRAGMA synchronous = NORMAL")
            except BaseException:
                await db.close()
                raise
            self._db = db
            if self._auto_install:
                await self.install()

    def _leave_loop(self, previous: asyncio.AbstractEventLoop | None) -> None:
        """Drop the notification poller and handlers an earlier event loop owned.

        The connection stays: aiosqlite answers each call on the loop that made it, so it
        serves any loop. In a forked child it is forgotten: its thread stayed in the parent.
        """
        if previous is None:
            self._db = None
        poller, self._poller = self._poller, None
        for handler in self._handlers:
            hub.unsubscribe(self._hub_key, handler)
        self._handlers.clear()
        self._connecting, self._listening = asyncio.Lock(), asyncio.Lock()
        if poller is not None and previous is not None:
            loops.on_loop(previous, poller.abandon)

    async def close(self) -> None:
        for handler in list(self._handlers):
            await self.unlisten(handler)
        await self._stop_poller()
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()

    async def _with_busy_retry(self, call: Callable[_P, Awaitable[_T]], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        backoff = Backoff(0.005, 0.5)
        while True:
            try:
                return await call(*args, **kwargs)
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or backoff.failures >= self._busy_retries:
                    raise
                delay = backoff.next()
                log.debug("sqlite busy (%s), retrying in %.3fs", error, delay)
                await asyncio.sleep(delay)

    async def _run(self, fn: Callable[[sqlite3.Connection, *_Ts], _T], *args: *_Ts) -> _T:
        """Run ``fn(raw_connection, *args)`` on the connection's thread, retrying SQLITE_BUSY."""
        if self._db is None:
            await self.connect()
        db = self._db
        assert db is not None
        # aiosqlite runs queued calls one at a time on its thread; handing it a whole
        # transaction keeps other coroutines' statements out of it and saves round trips.
        # aiosqlite's (untyped) ``_execute`` returns what ``fn`` returns.
        return cast(_T, await self._with_busy_retry(db._execute, fn, db._conn, *args))

    # -- schema --------------------------------------------------------------------------------

    @staticmethod
    def _read_version(db: sqlite3.Connection) -> int:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'oban_schema'").fetchone():
            return 0
        return int(db.execute("SELECT max(version) FROM oban_schema").fetchone()[0] or 0)

    async def schema_version(self) -> int:
        return await self._run(self._read_version)

    async def migrate(self, version: int | None = None) -> int:
        target = _MIGRATIONS.target(version)

        def migrate(db: sqlite3.Connection) -> int:
            def work() -> int:
                for script, reached in _MIGRATIONS.steps(self._read_version(db), target):
                    for statement in split_statements(script):
                        db.execute(statement)
                    if reached > 0:
                        db.execute("DELETE FROM oban_schema")
                        db.execute("INSERT INTO oban_schema (version) VALUES (?)", (reached,))
                return target

            return _in_write_transaction(db, work)

        return await self._run(migrate)

    # -- inserting -----------------------------------------------------------------------------

    async def insert_jobs(self, jobs: Sequence[Job], *, conn: Any = None) -> list[Job]:
        if not jobs:
            return []
        now = utcnow()
        now_text = to_iso(now)
        prepared = [prepare_insert(job) for job in jobs]
        rows = [self._insert_row(job, meta, now_text) for job, (meta, _) in zip(jobs, prepared, strict=True)]
        if conn is not None:
            # The announcement is a row of the caller's transaction, heard by every poller (this
            # process's too) once it commits, and never if it rolls back.
            return await self._insert_in_user_transaction(conn, jobs, prepared, rows, now)
        inserted = await self._run(self._insert_sync, jobs, prepared, rows, now)
        payloads = insert_payloads(inserted)
        if payloads:
            hub.publish(self._hub_key, "insert", payloads)
        return inserted

    def _notification_rows(
        self, channel: str, payloads: Sequence[dict[str, Any]], now: datetime, *, sender: str | None = None
    ) -> list[tuple[Any, ...]]:
        token = hub.process_token(self._hub_key) if sender is None else sender
        at = to_iso(now)
        return [(channel, encode_json(payload, "payload"), token, at) for payload in payloads]

    @staticmethod
    def _insert_row(job: Job, meta: dict[str, Any], now_text: str) -> tuple[Any, ...]:
        scheduled = to_iso(job.scheduled_at) if job.scheduled_at is not None else now_text
        return (
            job.state.value,
            job.queue,
            job.worker,
            encode_json(job.args, "args"),
            encode_json(meta, "meta"),
            encode_json(job.tags, "tags"),
            job.max_attempts,
            job.priority,
            now_text,
            scheduled,
        )

    @staticmethod
    def _stored(
        job: Job, meta: dict[str, Any], row: tuple[Any, ...], job_id: int, times: dict[str, datetime | None]
    ) -> Job:
        inserted_at, scheduled_at = _cached_time(row[8], times), _cached_time(row[9], times)
        assert inserted_at is not None and scheduled_at is not None
        return inserted_job(job, job_id, inserted_at, scheduled_at, meta)

    def _insert_sync(
        self,
        db: sqlite3.Connection,
        jobs: Sequence[Job],
        prepared: Sequence[tuple[dict[str, Any], str | None]],
        rows: list[tuple[Any, ...]],
        now: datetime,
    ) -> list[Job]:
        def work() -> list[Job]:
            inserted = self._insert_all(db.execute, db.executemany, jobs, prepared, rows, now)
            notifications = self._notification_rows("insert", insert_payloads(inserted), now)
            db.executemany(_Q["insert_notification"], notifications)
            return inserted

        return _in_write_transaction(db, work)

    def _insert_all(
        self,
        execute: Callable[..., Any],
        executemany: Callable[..., Any],
        jobs: Sequence[Job],
        prepared: Sequence[tuple[dict[str, Any], str | None]],
        rows: list[tuple[Any, ...]],
        now: datetime,
    ) -> list[Job]:
        results: list[Job] = list(jobs)
        times: dict[str, datetime | None] = {}  # a batch shares its inserted_at text
        pending: list[int] = []

        def flush() -> None:
            if not pending:
                return
            executemany(_Q["insert_job"], [rows[i] for i in pending])
            last = execute("SELECT last_insert_rowid()").fetchone()[0]
            # One write transaction holds the lock, so rowids of one executemany are consecutive.
            first = last - len(pending) + 1
            for offset, index in enumerate(pending):
                results[index] = self._stored(jobs[index], prepared[index][0], rows[index], first + offset, times)
            pending.clear()

        for index, job in enumerate(jobs):
            meta, key = prepared[index]
            if key is None:
                pending.append(index)
                continue
            flush()
            existing = self._find_unique(execute, job, key, now)
            if existing is None:
                execute(_Q["insert_job"], rows[index])
                job_id = execute("SELECT last_insert_rowid()").fetchone()[0]
                results[index] = self._stored(job, meta, rows[index], job_id, times)
            else:
                results[index] = self._replace(execute, existing, job, now)
        flush()
        return results

    @staticmethod
    def _unique_params(job: Job, key: str, now: datetime) -> dict[str, Any]:
        unique = job.unique
        assert unique is not None
        return {
            "key": key,
            "states": encode_json(sorted(s.value for s in unique.states), "unique.states"),
            "since": None if unique.period is None else to_iso(now - timedelta(seconds=unique.period)),
            "timestamp": unique.timestamp,
        }

    @staticmethod
    def _find_unique(execute: Callable[..., Any], job: Job, key: str, now: datetime) -> Job | None:
        row = execute(_Q["find_unique"], LiteEngine._unique_params(job, key, now)).fetchone()
        return None if row is None else _job_from_row(row)

    @staticmethod
    def _replace(execute: Callable[..., Any], existing: Job, job: Job, now: datetime) -> Job:
        if apply_replace(existing, job, now):
            execute(_Q["update_job"], LiteEngine._update_params(existing, now))
        existing.conflict = True
        return existing

    async def _insert_in_user_transaction(
        self,
        conn: aiosqlite.Connection,
        jobs: Sequence[Job],
        prepared: Sequence[tuple[dict[str, Any], str | None]],
        rows: list[tuple[Any, ...]],
        now: datetime,
    ) -> list[Job]:
        if not isinstance(conn, aiosqlite.Connection):
            raise TypeError(f"conn must be an aiosqlite.Connection for LiteEngine, got {type(conn).__name__}")
        # The caller's transaction is async; run each statement through their connection.
        results: list[Job] = []
        times: dict[str, datetime | None] = {}
        for index, job in enumerate(jobs):
            meta, key = prepared[index]
            if key is not None:
                cursor = await conn.execute(_Q["find_unique"], self._unique_params(job, key, now))
                row = await cursor.fetchone()
                if row is not None:
                    statements: list[tuple[str, Any]] = []
                    existing = self._replace(
                        lambda sql, p, pending=statements: pending.append((sql, p)), _job_from_row(row), job, now
                    )
                    for sql, params in statements:
                        await conn.execute(sql, params)
                    results.append(existing)
                    continue
            cursor = await conn.execute(_Q["insert_job"], rows[index])
            assert cursor.lastrowid is not None
            results.append(self._stored(job, meta, rows[index], cursor.lastrowid, times))
        # No sender: the row is news to every node, this one included, once committed.
        notifications = self._notification_rows("insert", insert_payloads(results), now, sender="")
        if notifications:
            await conn.executemany(_Q["insert_notification"], notifications)
        return results

    def insert_jobs_dbapi(self, conn: Any, jobs: Sequence[Job]) -> list[Job]:
        """Insert ``jobs`` through the caller's ``sqlite3`` connection (or cursor), in its transaction.

        See ``oban.engines.protocol.BlockingInsert``. Python's ``sqlite3`` opens a transaction
        on the first write of its own accord; one is opened here the same way when none is
        (``BEGIN IMMEDIATE``), so the jobs commit or roll back with what the caller writes next.
        A connection in autocommit mode (``isolation_level=None``) with no transaction open
        commits the jobs at once.
        """
        db = conn.connection if isinstance(conn, sqlite3.Cursor) else conn
        if not isinstance(db, sqlite3.Connection):
            raise TypeError(
                f"LiteEngine inserts through a sqlite3.Connection or sqlite3.Cursor, "
                f"got {type(conn).__module__}.{type(conn).__qualname__}"
            )
        if not jobs:
            return []
        now = utcnow()
        now_text = to_iso(now)
        prepared = [prepare_insert(job) for job in jobs]
        rows = [self._insert_row(job, meta, now_text) for job, (meta, _) in zip(jobs, prepared, strict=True)]

        def work() -> list[Job]:
            inserted = self._insert_all(db.execute, db.executemany, jobs, prepared, rows, now)
            # No sender: the row is news to every node, this one included, once committed.
            notifications = self._notification_rows("insert", insert_payloads(inserted), now, sender="")
            db.executemany(_Q["insert_notification"], notifications)
            return inserted

        try:
            if db.in_transaction:
                return _in_savepoint(db, work)
            if db.isolation_level is None or getattr(db, "autocommit", None) is True:
                return _in_write_transaction(db, work)
            # sqlite3 would open one before its first write; IMMEDIATE takes the write lock now,
            # so the unique-job check below and the insert after it see the same database.
            db.execute("BEGIN IMMEDIATE")
            return _in_savepoint(db, work)
        except sqlite3.Error as error:
            raise DatabaseError(f"insert_jobs_dbapi on {self.dsn} failed: {type(error).__name__}: {error}") from error

    # -- running -------------------------------------------------------------------------------

    async def fetch_jobs(self, queue: str, demand: int, node: str, now: datetime, uuid: str | None = None) -> list[Job]:
        if demand <= 0:
            return []
        claimed_by = [node] if uuid is None else [node, uuid]
        select = {"queue": queue, "demand": demand}
        mark = {"attempted_by": encode_json(claimed_by, "attempted_by"), "now": to_iso(now), "ids": ""}
        attempted_at = as_utc(now)

        def fetch(db: sqlite3.Connection) -> list[list[Any]]:
            def work() -> list[list[Any]]:
                # One row holding every job the claim takes, then one update by id: a handful
                # of steps on the connection's thread whatever the demand, not one per job.
                rows: list[list[Any]] = decode_json(db.execute(_Q["select_available"], select).fetchone()[0], [])
                if rows:
                    mark["ids"] = encode_json([row[0] for row in rows], "ids")
                    db.execute(_Q["mark_executing"], mark)
                return rows

            return _in_write_transaction(db, work)

        rows = await self._run(fetch)
        # Jobs are built here, not on the connection's thread: that thread is the one a busy
        # queue waits on, and meanwhile it can run the next transaction.
        times: dict[str, datetime | None] = {}
        jobs = [_claimed_job(row, claimed_by, attempted_at, times) for row in rows]
        jobs.sort(key=lambda job: (job.priority, job.scheduled_at, job.id))
        return jobs

    async def ack_jobs(self, acks: Sequence[Ack]) -> list[int]:
        if not acks:
            return []
        completed: list[tuple[int, int, str]] = []
        batch: list[tuple[Any, ...]] = []
        one_by_one: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
        seen: set[int] = set()
        for item in acks:
            at = to_iso(item.at)
            if item.meta:
                encode_json(item.meta, "meta")  # refuse a bad value before anything is written
            elif item.state is JobState.COMPLETED and item.error is None and not item.scheduled_at:
                if item.job_id not in seen:
                    completed.append((item.job_id, item.attempt, at))
                    seen.add(item.job_id)
                    continue
            scheduled_at = to_iso(item.scheduled_at) if item.scheduled_at else None
            error = encode_json(item.error, "error") if item.error is not None else None
            if item.meta or item.job_id in seen:
                row: dict[str, Any] = {"id": item.job_id, "attempt": item.attempt, "state": item.state.value}
                row.update(at=at, scheduled_at=scheduled_at, error=error, meta=None)
                one_by_one.append((row, item.meta))
            else:
                batch.append((item.job_id, item.attempt, item.state.value, at, scheduled_at or "", error or ""))
            seen.add(item.job_id)
        completed_json = encode_json(completed, "acks") if completed else None
        batch_json = encode_json(batch, "acks") if batch else None

        def ack(db: sqlite3.Connection) -> list[int]:
            def work() -> set[int]:
                # Acks without meta, the first for each job, go in one statement (two when some
                # are plain completions, which have one of their own: they touch other jobs than
                # the rest, so the order of the two does not matter); the others after them one at
                # a time in the order given, so a job's later ack sees its earlier one applied, as
                # if every ack had been written in turn.
                changed: set[int] = set()
                if completed_json is not None:
                    changed.update(row[0] for row in db.execute(_Q["ack_completed"], {"acks": completed_json}))
                if batch_json is not None:
                    changed.update(row[0] for row in db.execute(_Q["ack_jobs"], {"acks": batch_json}))
                for row, meta in one_by_one:
                    if meta:
                        # Ack meta replaces whole top-level keys, nulls included; SQLite's
                        # json_patch would merge nested objects and drop nulls, so merge here.
                        found = db.execute(_Q["executing_meta"], row).fetchone()
                        if found is None:
                            continue
                        row["meta"] = encode_json({**decode_json(found[0], {}), **meta}, "meta")
                    if db.execute(_Q["ack_job"], row).rowcount:
                        changed.add(row["id"])
                return changed

            changed = _in_write_transaction(db, work)
            return list(dict.fromkeys(item.job_id for item in acks if item.job_id in changed))

        # Let a claim started in the same tick reach the connection's thread first: the jobs it
        # takes then run here while these acks are written there. Acks first would leave this
        # process idle for both, as the runtime acks a batch of jobs just as it claims their
        # replacements (and the claim's task starts a couple of ticks after the acker wakes).
        for _ in range(_ACK_YIELDS):
            await asyncio.sleep(0)
        return await self._run(ack)

    # -- reading and managing ------------------------------------------------------------------

    async def get_job(self, job_id: int) -> Job | None:
        jobs = await self._select_by_ids([job_id])
        return jobs[0] if jobs else None

    async def _select_by_ids(self, ids: Sequence[int]) -> list[Job]:
        def select(db: sqlite3.Connection) -> list[Job]:
            rows = db.execute(_Q["select_jobs_by_id"], {"ids": _ids_json(ids)}).fetchall()
            return [_job_from_row(row) for row in rows]

        return await self._run(select)

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
        found = job_search(search)
        params = {
            "queue": queue,
            "worker": worker,
            "limit": limit,
            "states": None if states is None else encode_json([JobState(s).value for s in states], "states"),
            "before_id": check_before_id(before_id),
            "pattern": None if found is None else found.pattern,
            "search_id": None if found is None else found.job_id,
        }

        def select(db: sqlite3.Connection) -> list[Job]:
            return [_job_from_row(row) for row in db.execute(_Q["list_jobs"], params).fetchall()]

        return await self._run(select)

    async def job_activity(self, since: datetime, bucket: int) -> list[Activity]:
        params = {"since": to_iso(check_since(since)), "bucket": check_bucket(bucket)}

        def select(db: sqlite3.Connection) -> list[Activity]:
            return activity_from_rows(db.execute(_Q["job_activity"], params).fetchall())

        return await self._run(select)

    async def count_jobs(self) -> dict[tuple[str, JobState], int]:
        """How many jobs each queue holds in each state."""

        def select(db: sqlite3.Connection) -> dict[tuple[str, JobState], int]:
            return {(row[0], JobState(row[1])): int(row[2]) for row in db.execute(_Q["count_jobs"]).fetchall()}

        return await self._run(select)

    async def cancel_jobs(self, ids: Sequence[int], now: datetime) -> tuple[int, list[int]]:
        params = {"ids": _ids_json(ids), "now": to_iso(now)}

        def cancel(db: sqlite3.Connection) -> tuple[int, list[int]]:
            def work() -> tuple[int, list[int]]:
                executing = [row[0] for row in db.execute(_Q["select_executing"], params).fetchall()]
                count = db.execute(_Q["cancel_jobs"], params).rowcount
                return count, executing

            return _in_write_transaction(db, work)

        return await self._run(cancel)

    async def retry_jobs(self, ids: Sequence[int], now: datetime) -> int:
        return await self._write_count(_Q["retry_jobs"], {"ids": _ids_json(ids), "now": to_iso(now)})

    async def delete_jobs(self, ids: Sequence[int]) -> int:
        return await self._write_count(_Q["delete_jobs"], {"ids": _ids_json(ids)})

    async def _write_count(self, sql: str, params: dict[str, Any]) -> int:
        def write(db: sqlite3.Connection) -> int:
            return _in_write_transaction(db, lambda: db.execute(sql, params).rowcount)

        return await self._run(write)

    @staticmethod
    def _update_params(job: Job, now: datetime) -> dict[str, Any]:
        return {
            "id": job.id,
            "args": encode_json(job.args, "args"),
            "meta": encode_json(job.meta, "meta"),
            "max_attempts": job.max_attempts,
            "priority": job.priority,
            "queue": job.queue,
            "scheduled_at": to_iso(job.scheduled_at or now),
            "tags": encode_json(job.tags, "tags"),
            "worker": job.worker,
            "state": job.state.value,
        }

    async def update_jobs(self, ids: Sequence[int], change: Callable[[Job], Job]) -> list[Job]:
        now = utcnow()

        def update(db: sqlite3.Connection) -> list[Job]:
            def work() -> list[Job]:
                rows = db.execute(_Q["select_jobs_by_id"], {"ids": _ids_json(ids)}).fetchall()
                updated = []
                for row in rows:
                    job = updated_job(_job_from_row(row), change)
                    db.execute(_Q["update_job"], self._update_params(job, now))
                    updated.append(job)
                return updated

            return _in_write_transaction(db, work)

        return await self._run(update)

    # -- maintenance ---------------------------------------------------------------------------

    async def stage_jobs(self, now: datetime, limit: int, queue: str | None = None) -> list[str]:
        params = {"now": to_iso(now), "limit": limit, "queue": queue}

        def stage(db: sqlite3.Connection) -> list[str]:
            rows = _in_write_transaction(db, lambda: db.execute(_Q["stage_jobs"], params).fetchall())
            return sorted({row[0] for row in rows})

        return await self._run(stage)

    async def prune_jobs(self, before: datetime, limit: int) -> int:
        return await self._write_count(_Q["prune_jobs"], {"before": to_iso(before), "limit": limit})

    async def rescue_jobs(self, now: datetime, fallback_before: datetime) -> tuple[int, int]:
        params = {
            "now": to_iso(now),
            "fallback_before": to_iso(fallback_before),
            "error": RESCUE_ERROR,
            "forget_before": to_iso(now - timedelta(seconds=PRODUCER_RETENTION)),
        }

        def rescue(db: sqlite3.Connection) -> tuple[int, int]:
            def work() -> list[Any]:
                rows = db.execute(_Q["rescue_jobs"], params).fetchall()
                db.execute(_Q["prune_producers"], params)
                return rows

            rows = _in_write_transaction(db, work)
            discarded = sum(1 for row in rows if row[0] == "discarded")
            return len(rows) - discarded, discarded

        return await self._run(rescue)

    # -- heartbeats ----------------------------------------------------------------------------

    async def record_producers(self, producers: Sequence[ProducerRecord]) -> None:
        rows = [
            {
                "uuid": p.uuid,
                "name": p.name,
                "node": p.node,
                "queue": p.queue,
                "meta": encode_json(p.meta, "meta"),
                "started_at": to_iso(p.started_at),
                "updated_at": to_iso(p.updated_at),
                "expires_at": to_iso(p.updated_at + timedelta(seconds=p.ttl)),
            }
            for p in producers
        ]
        if rows:
            await self._run(lambda db: _in_write_transaction(db, lambda: db.executemany(_Q["record_producer"], rows)))

    async def retire_producers(self, uuids: Sequence[str], now: datetime) -> None:
        if uuids:
            params = {"uuids": encode_json(list(uuids), "uuids"), "now": to_iso(now)}
            await self._write_count(_Q["retire_producers"], params)

    async def list_producers(self) -> list[ProducerRecord]:
        def select(db: sqlite3.Connection) -> list[ProducerRecord]:
            return [
                ProducerRecord(
                    uuid=uuid,
                    name=name,
                    node=node,
                    queue=queue,
                    meta=decode_json(meta, {}),
                    started_at=_time(started_at),
                    updated_at=_time(updated_at),
                )
                for uuid, name, node, queue, meta, started_at, updated_at in db.execute(_Q["list_producers"])
            ]

        return await self._run(select)

    # -- leadership ----------------------------------------------------------------------------

    async def elect_leader(self, name: str, node: str, ttl: float, now: datetime) -> bool:
        params = {
            "name": name,
            "node": node,
            "now": to_iso(now),
            "expires_at": to_iso(now + timedelta(seconds=ttl)),
        }

        def elect(db: sqlite3.Connection) -> bool:
            def work() -> bool:
                db.execute(_Q["elect_leader"], params)
                row = db.execute(_Q["leader_node"], params).fetchone()
                return row is not None and row[0] == node

            return _in_write_transaction(db, work)

        return await self._run(elect)

    async def resign_leader(self, name: str, node: str) -> None:
        await self._write_count(_Q["resign_leader"], {"name": name, "node": node})

    # -- notifications -------------------------------------------------------------------------

    async def notify(self, channel: str, payloads: Sequence[dict[str, Any]]) -> None:
        check_channel(channel)
        payloads = check_payloads(payloads)
        if not payloads:
            return
        rows = self._notification_rows(channel, payloads, utcnow())

        def write(db: sqlite3.Connection) -> None:
            _in_write_transaction(db, lambda: db.executemany(_Q["insert_notification"], rows))

        await self._run(write)
        hub.publish(self._hub_key, channel, list(payloads))

    async def listen(self, handler: NotificationHandler) -> None:
        hub.subscribe(self._hub_key, handler)
        self._handlers.append(handler)
        async with self._listening:
            if self._poller is not None:
                return
            poller = TablePoller(
                _NotificationTable(self),
                sender=hub.process_token(self._hub_key),
                deliver=self._deliver,
                interval=self._poll_interval,
            )
            try:
                await poller.start()
            except BaseException:
                hub.unsubscribe(self._hub_key, handler)
                self._handlers.remove(handler)
                raise
            self._poller = poller

    async def unlisten(self, handler: NotificationHandler) -> None:
        hub.unsubscribe(self._hub_key, handler)
        if handler in self._handlers:
            self._handlers.remove(handler)
        if not self._handlers:
            await self._stop_poller()

    async def _stop_poller(self) -> None:
        poller, self._poller = self._poller, None
        if poller is not None:
            await poller.stop()

    def _deliver(self, channel: str, payload: dict[str, Any]) -> None:
        hub.deliver(self._handlers, channel, payload)


class _NotificationTable:
    """How the :class:`TablePoller` reads ``oban_notifications`` through the engine's connection.

    SQLite has one writer at a time and ``AUTOINCREMENT`` ids (schema v4), so rows appear in id
    order and ids never repeat.
    """

    def __init__(self, engine: LiteEngine) -> None:
        self._engine = engine

    async def latest_ids(self, limit: int) -> list[int]:
        rows = await self._engine._run(lambda db: db.execute(_Q["recent_notifications"], {"limit": limit}).fetchall())
        return [row[0] for row in rows]

    async def rows_after(self, cursor: int, gaps: Sequence[int], limit: int) -> list[tuple[int, str, str, str]]:
        params = {"cursor": cursor, "gaps": encode_json(list(gaps), "gaps"), "limit": limit}
        return await self._engine._run(lambda db: db.execute(_Q["poll_notifications"], params).fetchall())

    async def prune(self, older_than: float) -> None:
        before = to_iso(utcnow() - timedelta(seconds=older_than))
        await self._engine._write_count(_Q["prune_notifications"], {"before": before})

    async def close(self) -> None:
        return None  # reads go through the engine's own connection
