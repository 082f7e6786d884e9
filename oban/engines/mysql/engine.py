"""MySQLEngine: oban on MySQL 8.0.13+ and MariaDB 10.6+ through asyncmy.

Neither database has ``UPDATE … RETURNING`` or pub/sub, so a claim is one short transaction that
locks the next jobs ``FOR UPDATE SKIP LOCKED`` and updates them by primary key, and notifications
go through a table that every node polls (``kit.TablePoller``). Sessions run in UTC and, unless
statement-based binary logging forbids it, at READ COMMITTED, which takes no gap locks. Deadlocks
and lock wait timeouts are retried; a connection that dies is dropped and the work retried when it
had not reached its commit, else the error is raised for the runtime to retry. Parameters are
always passed to the driver, which escapes them; no value is formatted into SQL here.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import asyncmy
from asyncmy.errors import InterfaceError, MySQLError

from ..kit import (
    PRODUCER_RETENTION,
    RESCUE_ERROR,
    UNIQ_KEY,
    Ack,
    Activity,
    Backoff,
    DatabaseError,
    EngineBase,
    Job,
    JobState,
    Migrations,
    NotificationHandler,
    ObanError,
    ProducerRecord,
    SchemaError,
    TablePoller,
    activity_from_rows,
    apply_replace,
    as_utc,
    aware_utc,
    check_before_id,
    check_bucket,
    check_channel,
    check_payloads,
    check_since,
    copy_job,
    dbapi,
    decode_json,
    encode_json,
    hub,
    insert_payloads,
    inserted_job,
    job_from_row,
    job_search,
    load_queries,
    loops,
    mask_dsn,
    naive_utc,
    prepare_insert,
    split_statements,
    to_iso,
    updated_job,
    utcnow,
)
from . import _dsn

log = logging.getLogger("oban.engines.mysql")

_Q = load_queries(__package__)
_MIGRATIONS = Migrations.load(__package__)
LATEST_VERSION = _MIGRATIONS.latest

T = TypeVar("T")
_Row = tuple[Any, ...]
Work = Callable[[Any], Awaitable[T]]

_DEADLOCK = 1213
_CHECK_FAILED = frozenset({3819, 4025})  # a CHECK constraint refused a row (MySQL 8, MariaDB)
_LOCK_WAIT_TIMEOUT = 1205
# Server gone or unreachable, connection lost or killed, server shutting down, idle disconnect.
_CONNECTION_ERRORS = frozenset({1053, 1927, 2002, 2003, 2006, 2013, 2055, 4031})
# DDL that finds its work already done: existing table/column/index/constraint, or nothing to drop.
_ALREADY_DONE = frozenset({1050, 1051, 1060, 1061, 1091, 1826, 3822})

UNIQUE_BUCKETS = 512
"""Rows in ``oban_unique_locks``; a unique key locks ``crc32(key) % UNIQUE_BUCKETS``."""

_MAX_STATEMENT_BYTES = 4 * 1024 * 1024
_INSERT_HEAD, _, _INSERT_VALUES = _Q["insert_job"].partition("VALUES")
_INSERT_VALUES = _INSERT_VALUES.strip()
_NOTIFY_HEAD, _, _NOTIFY_VALUES = _Q["insert_notification"].partition("VALUES")
_NOTIFY_VALUES = _NOTIFY_VALUES.strip()
_FIND_UNIQUE_HEAD, _, _FIND_UNIQUE_CONDITION = _Q["find_unique_many"].partition("\nWHERE ")
_FIND_UNIQUE_CONDITION, _, _FIND_UNIQUE_TAIL = _FIND_UNIQUE_CONDITION.partition("\nORDER BY")
_LOOKUPS_PER_STATEMENT = 500


def _time(value: datetime) -> datetime:
    stored = aware_utc(value)
    assert stored is not None
    return stored


def _job_from_row(row: _Row) -> Job:
    return job_from_row(row, aware_utc)


def _error_code(error: BaseException) -> int | None:
    if isinstance(error, MySQLError) and error.args and isinstance(error.args[0], int):
        return error.args[0]
    return None


def _check_failure(error: BaseException) -> ValueError | None:
    """The ``ValueError`` for a row a CHECK constraint refused, naming the constraint; else ``None``."""
    if _error_code(error) not in _CHECK_FAILED:
        return None
    detail = error.args[1] if len(error.args) > 1 else error
    return ValueError(f"the database rejected a job: {detail}")


def _is_connection_error(error: BaseException) -> bool:
    if isinstance(error, InterfaceError | ConnectionError | asyncio.IncompleteReadError):
        return True
    code = _error_code(error)
    if code is not None:
        return code in _CONNECTION_ERRORS
    return isinstance(error, OSError)


def _ids(ids: Sequence[int]) -> tuple[int, ...]:
    return tuple(sorted({int(i) for i in ids}))


def _bucket(key: str) -> int:
    return zlib.crc32(key.encode()) % UNIQUE_BUCKETS


class _Transaction:
    """A cursor whose first statement opens its transaction and whose last may commit it.

    ``START TRANSACTION`` and ``COMMIT`` ride in the same round trip as the statements next to
    them (asyncmy allows several statements per query), which halves the round trips of a claim
    or an ack. The server stops at the first statement that fails, so a COMMIT queued behind a
    failed statement never runs. Without ``transactional`` it is a plain cursor.
    """

    def __init__(self, cursor: Any, transactional: bool) -> None:
        self._cursor = cursor
        self._transactional = transactional
        self.open = False
        self.committing = False
        self.rowcount = 0
        self.lastrowid = 0

    async def execute(self, sql: str, params: Any = None) -> None:
        """Run one statement, opening the transaction with it if none is open yet."""
        if self._transactional and not self.open:
            self.open = True
            await self._cursor.execute("START TRANSACTION;\n" + sql, params)
            await self._cursor.nextset()
        else:
            await self._cursor.execute(sql, params)
        self.rowcount, self.lastrowid = self._cursor.rowcount, self._cursor.lastrowid

    async def execute_and_commit(self, sql: str, params: Any = None) -> None:
        """Run the transaction's last statement and COMMIT in one round trip."""
        if not self._transactional:
            await self.execute(sql, params)
            return
        opening = not self.open
        self.open = self.committing = True
        await self._cursor.execute(("START TRANSACTION;\n" if opening else "") + sql + ";\nCOMMIT", params)
        if opening:
            await self._cursor.nextset()
        self.rowcount, self.lastrowid = self._cursor.rowcount, self._cursor.lastrowid
        await self._cursor.nextset()  # COMMIT's own result: a failed commit raises here
        self.open = False

    async def fetchall(self) -> Any:
        """Rows of the last statement."""
        return await self._cursor.fetchall()

    async def fetchone(self) -> Any:
        """The next row of the last statement."""
        return await self._cursor.fetchone()


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What the engine learned about the server when it connected."""

    version: str
    mariadb: bool
    autoinc_lock_mode: int
    read_committed: bool
    id_strategy: str
    max_allowed_packet: int


def _version_tuple(version: str) -> tuple[int, ...]:
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
    return tuple(int(part) for part in match.groups()) if match else (0, 0, 0)


class MySQLEngine(EngineBase):
    """Jobs in MySQL 8.0.13+ or MariaDB 10.6+.

    ``MySQLEngine("mysql://user:password@host:3306/app")`` (``mariadb://`` works too). The DSN
    may also carry ``unix_socket``, ``connect_timeout``, ``ssl``/``ssl_ca`` and the engine
    options below as query parameters; keyword arguments win over them.

    ``pool_min_size``/``pool_max_size`` (1/10) size the connection pool; each listening engine
    holds one more connection for notifications. ``poll_interval`` (0.1 s) is how often that
    connection looks for notifications from other nodes, which bounds how long a job inserted
    on another node waits before this node's queues hear of it. ``lock_wait_timeout`` (seconds,
    default: the server's) shortens how long a statement waits for a row lock before it fails
    with error 1205 and is retried. ``engine.stats`` counts retries and failures.
    """

    def __init__(
        self,
        dsn: str,
        *,
        pool_min_size: int | None = None,
        pool_max_size: int | None = None,
        poll_interval: float | None = None,
        lock_wait_timeout: int | None = None,
        max_retries: int = 10,
    ) -> None:
        self._target = _dsn.parse(dsn)
        self.dsn = mask_dsn(dsn)
        options = self._target.options
        self.pool_min_size = int(pool_min_size if pool_min_size is not None else options.get("pool_min_size", 1))
        self.pool_max_size = int(pool_max_size if pool_max_size is not None else options.get("pool_max_size", 10))
        self.poll_interval = float(poll_interval if poll_interval is not None else options.get("poll_interval", 0.1))
        wait = lock_wait_timeout if lock_wait_timeout is not None else options.get("lock_wait_timeout")
        self.lock_wait_timeout = None if wait is None else int(wait)
        if not 0 <= self.pool_min_size <= self.pool_max_size or self.pool_max_size < 1:
            raise ValueError(
                f"pool sizes must satisfy 0 <= pool_min_size <= pool_max_size >= 1, "
                f"got {self.pool_min_size} and {self.pool_max_size}"
            )
        if self.poll_interval <= 0:
            raise ValueError(f"poll_interval must be positive seconds, got {self.poll_interval!r}")
        if self.lock_wait_timeout is not None and self.lock_wait_timeout < 1:
            raise ValueError(f"lock_wait_timeout must be at least 1 second, got {self.lock_wait_timeout!r}")
        self.max_retries = max_retries
        self.server: ServerInfo | None = None
        self._id_strategy: str | None = None
        self._pool: Any = None
        self._connecting = asyncio.Lock()
        self._listening = asyncio.Lock()
        self._hub_key = self._target.hub_key
        self._handlers: list[NotificationHandler] = []
        self._poller: TablePoller | None = None
        self._unsettled: list[tuple[list[Job], datetime, list[str]]] = []  # claims of unknown outcome
        self._stats = {
            "deadlock_retries": 0,
            "lock_timeout_retries": 0,
            "connection_retries": 0,
            "unretried_errors": 0,
        }

    driver_errors = (MySQLError,)
    latest_schema_version = LATEST_VERSION

    def __repr__(self) -> str:
        return f"MySQLEngine({self.dsn!r})"

    @property
    def stats(self) -> dict[str, int]:
        """Counters: deadlocks and lock wait timeouts retried, connections lost and retried,
        errors raised after retrying (or that could not be retried), notification polls failed."""
        stats = dict(self._stats)
        stats["notification_poll_failures"] = self._poller.failures if self._poller else 0
        return stats

    @property
    def id_strategy(self) -> str | None:
        """How a multi-row insert learns its ids: ``consecutive`` (``LAST_INSERT_ID()`` and the
        row count, safe under ``innodb_autoinc_lock_mode`` 0 or 1), ``returning`` (MariaDB's
        ``INSERT … RETURNING``) or ``per_row`` (one insert per job); ``None`` before connecting."""
        return self._id_strategy

    # -- connections ---------------------------------------------------------------------------

    async def connect(self) -> None:
        """Check the server and open the pool; idempotent."""
        if self._pool is not None:
            return
        async with self._connecting:
            if self._pool is not None:
                return
            kwargs = self._target.connect_kwargs()
            probe = await asyncmy.connect(**kwargs)
            try:
                async with probe.cursor() as cursor:
                    await cursor.execute(_Q["server_info"])
                    row = await cursor.fetchone()
            finally:
                probe.close()
            self.server = self._server_info(row)
            if self._id_strategy is None:
                self._id_strategy = self.server.id_strategy
            self._pool = await asyncmy.create_pool(
                minsize=self.pool_min_size,
                maxsize=self.pool_max_size,
                pool_recycle=1800,
                init_command=self._init_command(),
                **kwargs,
            )

    def _server_info(self, row: _Row) -> ServerInfo:
        version, autoinc_mode, _increment, log_bin, binlog_format, max_packet, _database = row
        mariadb = "mariadb" in version.lower()
        numbers = _version_tuple(version)
        if numbers < ((10, 6, 0) if mariadb else (8, 0, 13)):
            raise ObanError(f"MySQLEngine needs MySQL 8.0.13+ or MariaDB 10.6+; {self.dsn} runs {version}")
        autoinc_mode = int(autoinc_mode)
        if autoinc_mode in (0, 1):
            strategy = "consecutive"
        elif mariadb:
            strategy = "returning"
        else:
            strategy = "per_row"
        read_committed = not (int(log_bin or 0) and str(binlog_format).upper() == "STATEMENT")
        return ServerInfo(
            version=version,
            mariadb=mariadb,
            autoinc_lock_mode=autoinc_mode,
            read_committed=read_committed,
            id_strategy=strategy,
            max_allowed_packet=int(max_packet),
        )

    def _init_command(self) -> str:
        assert self.server is not None
        settings = ["time_zone = '+00:00'"]
        if self.server.read_committed:
            # MariaDB before 11.1 only knows the older name.
            modern = not self.server.mariadb or _version_tuple(self.server.version) >= (11, 1, 0)
            settings.append(f"SESSION {'transaction_isolation' if modern else 'tx_isolation'} = 'READ-COMMITTED'")
        if self.lock_wait_timeout is not None:
            settings.append(f"SESSION innodb_lock_wait_timeout = {int(self.lock_wait_timeout)}")
        return "SET " + ", ".join(settings)

    async def _connect_one(self) -> Any:
        """A connection outside the pool, set up like pooled ones (the notification poller's)."""
        await self.connect()
        return await asyncmy.connect(init_command=self._init_command(), **self._target.connect_kwargs())

    def _leave_loop(self, previous: asyncio.AbstractEventLoop | None) -> None:
        """Drop the pool and the poller an earlier event loop owned; the next call reconnects.

        Handlers registered on that loop are forgotten with its poller.
        """
        pool, self._pool = self._pool, None
        poller, self._poller = self._poller, None
        for handler in self._handlers:
            hub.unsubscribe(self._hub_key, handler)
        self._handlers.clear()
        self._connecting, self._listening = asyncio.Lock(), asyncio.Lock()
        if previous is not None and (pool is not None or poller is not None):
            loops.on_loop(previous, lambda: _abandon(pool, poller))

    async def close(self) -> None:
        """Stop polling notifications and close every connection; ``connect`` may be called again."""
        for handler in list(self._handlers):
            await self.unlisten(handler)
        if self._poller is not None:
            await self._poller.stop()
            self._poller = None
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
            try:
                async with asyncio.timeout(5):
                    await pool.wait_closed()
            except TimeoutError:
                pool.terminate()

    async def _run(
        self,
        work: Work[T],
        *,
        transaction: bool = True,
        settle: Callable[[], Awaitable[tuple[bool, T]]] | None = None,
    ) -> T:
        """Run ``work(cursor)`` on a pooled connection, retrying what is safe to retry.

        Deadlocks and lock wait timeouts roll back and run ``work`` again. A lost connection is
        discarded, and ``work`` runs again on another one unless the loss came during COMMIT,
        when nobody knows whether it committed. Then ``settle()``, if given, finds out on a new
        connection and returns ``(True, result)`` if it did, or ``(False, _)`` to run ``work``
        again; without ``settle``, or if it cannot find out, the error is raised.
        """
        attempt = 0
        reconnects, deadlocks = Backoff(0.05, 0.4), Backoff(0.005, 0.32, jitter=1.0)
        while True:
            attempt += 1
            if self._pool is None:
                await self.connect()
            pool = self._pool
            try:
                conn = await pool.acquire()
            except Exception as error:
                if not _is_connection_error(error) or attempt > 3:
                    self._stats["unretried_errors"] += 1
                    raise
                self._stats["connection_retries"] += 1
                await asyncio.sleep(reconnects.next())
                continue
            statements = _Transaction(conn.cursor(), transaction)
            try:
                result = await work(statements)
                if statements.open:
                    statements.committing = True
                    await conn.commit()
            except BaseException as error:
                await self._recover(conn, error, transaction)
                pool.release(conn)
                lost_commit = statements.committing and _is_connection_error(error)
                if lost_commit and settle is not None and attempt <= 3:
                    try:
                        committed, settled = await settle()
                    except Exception:
                        self._stats["unretried_errors"] += 1
                        raise error from None
                    self._stats["connection_retries"] += 1
                    if committed:
                        return settled
                    continue
                delay = self._retry_delay(error, attempt, statements.committing, reconnects, deadlocks)
                if delay is None:
                    refused = _check_failure(error)
                    if refused is not None:
                        raise refused from error
                    raise
                await asyncio.sleep(delay)
                continue
            pool.release(conn)
            return result

    @staticmethod
    async def _recover(conn: Any, error: BaseException, transaction: bool) -> None:
        """Leave ``conn`` fit for the pool, or closed so the pool drops it."""
        if isinstance(error, asyncio.CancelledError) or _is_connection_error(error):
            conn.close()
            return
        if transaction:
            try:
                await conn.rollback()
            except BaseException:
                conn.close()

    def _retry_delay(
        self, error: BaseException, attempt: int, committing: bool, reconnects: Backoff, deadlocks: Backoff
    ) -> float | None:
        """How long to wait before running the work again after ``error``, or ``None`` to raise it."""
        if not isinstance(error, Exception):
            return None
        code = _error_code(error)
        if code in (_DEADLOCK, _LOCK_WAIT_TIMEOUT) and attempt <= self.max_retries:
            self._stats["deadlock_retries" if code == _DEADLOCK else "lock_timeout_retries"] += 1
            log.debug("retrying after MySQL error %s (attempt %d)", code, attempt)
            return deadlocks.next()
        if _is_connection_error(error) and not committing and attempt <= 3:
            self._stats["connection_retries"] += 1
            log.info("MySQL connection lost (%r); retrying on a new connection", error)
            return reconnects.next()
        if code in (_DEADLOCK, _LOCK_WAIT_TIMEOUT) or _is_connection_error(error):
            self._stats["unretried_errors"] += 1
        return None

    # -- schema --------------------------------------------------------------------------------

    async def schema_version(self) -> int:
        """The installed schema version, 0 when none is installed."""

        async def read(cursor: Any) -> int:
            return await self._read_version(cursor)

        return await self._run(read, transaction=False)

    @staticmethod
    async def _read_version(cursor: Any) -> int:
        await cursor.execute(_Q["has_schema_table"])
        if not await cursor.fetchall():
            return 0
        await cursor.execute(_Q["schema_version"])
        row = await cursor.fetchone()
        return int(row[0] or 0) if row else 0

    async def migrate(self, version: int | None = None) -> int:
        """Move the schema to ``version`` (newest if ``None``) and return it.

        MySQL commits DDL at once, so steps cannot roll back: each statement is written to be
        skipped when its work is already done, and a failed migration can simply be run again.
        A named lock keeps two nodes from migrating one database at the same time.
        """
        target = _MIGRATIONS.target(version)
        lock = "oban_migrate_" + hashlib.sha1(self._target.database.encode()).hexdigest()[:24]

        async def migrate(cursor: Any) -> int:
            await cursor.execute("SELECT GET_LOCK(%s, 60)", (lock,))
            if (await cursor.fetchone())[0] != 1:
                raise SchemaError(f"another process is migrating {self.dsn}; gave up waiting after 60s")
            try:
                for script, reached in _MIGRATIONS.steps(await self._read_version(cursor), target):
                    await self._run_script(cursor, script)
                    if reached > 0:
                        await self._record_version(cursor, reached)
            finally:
                await cursor.execute("SELECT RELEASE_LOCK(%s)", (lock,))
                await cursor.fetchall()
            return target

        return await self._run(migrate, transaction=False)

    @staticmethod
    async def _run_script(cursor: Any, script: str) -> None:
        for statement in split_statements(script):
            try:
                await cursor.execute(statement)
            except MySQLError as error:
                if _error_code(error) not in _ALREADY_DONE:
                    raise

    @staticmethod
    async def _record_version(cursor: Any, version: int) -> None:
        await cursor.execute("DELETE FROM oban_schema")
        await cursor.execute("INSERT INTO oban_schema (version) VALUES (%s)", (version,))

    # -- inserting -----------------------------------------------------------------------------

    async def insert_jobs(self, jobs: Sequence[Job], *, conn: Any = None) -> list[Job]:
        """Insert ``jobs`` atomically and return them as stored; see ``Engine.insert_jobs``.

        With ``conn`` (an asyncmy connection in your transaction), the ``insert`` notification
        is a row written in that transaction too: every node, this one included, hears of the
        jobs at its next poll after the commit, never before it.
        """
        if not jobs:
            return []
        now = utcnow()
        prepared = [prepare_insert(job) for job in jobs]
        rows = self._insert_rows_for(jobs, prepared, now)
        if conn is not None:
            return await self._insert_in_user_transaction(conn, jobs, prepared, rows, now)
        sender = hub.process_token(self._hub_key)
        attempted: list[Job] = []

        async def insert(cursor: Any) -> list[Job]:
            attempted[:] = await self._insert_all(cursor, jobs, prepared, rows, now)
            notification = self._notification("insert", insert_payloads(attempted), sender)
            if notification is not None:
                await cursor.execute_and_commit(*notification)
            return list(attempted)

        async def settle() -> tuple[bool, list[Job]]:
            # New rows carry this insert's inserted_at to the microsecond. A batch of conflicts
            # only is safe to run again: it finds the same jobs and replaces the same fields.
            fresh = tuple(job.id for job in attempted if not job.conflict)
            if not fresh:
                return False, []
            stored = await self._settle_read(_Q["insert_outcome"], {"ids": fresh})
            committed = any(inserted_at == rows[0][8] for _, inserted_at in stored)
            log.warning("an insert's COMMIT lost its connection; it %s", "committed" if committed else "did not commit")
            return (True, list(attempted)) if committed else (False, [])

        inserted = await self._run(insert, settle=settle)
        payloads = insert_payloads(inserted)
        if payloads:
            hub.publish(self._hub_key, "insert", payloads)
        return inserted

    @staticmethod
    def _insert_rows_for(
        jobs: Sequence[Job], prepared: Sequence[tuple[dict[str, Any], str | None]], now: datetime
    ) -> list[tuple[Any, ...]]:
        """Parameters for each job's row; encoding errors surface here, before any SQL runs."""
        encode = encode_json
        stored_now = naive_utc(now)
        return [
            (
                job.state.value,
                job.queue,
                job.worker,
                encode(job.args, "args"),
                encode(meta, "meta"),
                encode(job.tags, "tags"),
                job.max_attempts,
                job.priority,
                stored_now,
                stored_now if job.scheduled_at is None else naive_utc(job.scheduled_at),
            )
            for job, (meta, _) in zip(jobs, prepared, strict=True)
        ]

    @staticmethod
    def _stored(job: Job, meta: dict[str, Any], job_id: int, now: datetime) -> Job:
        return inserted_job(job, job_id, now, now if job.scheduled_at is None else as_utc(job.scheduled_at), meta)

    async def _insert_all(
        self,
        cursor: Any,
        jobs: Sequence[Job],
        prepared: Sequence[tuple[dict[str, Any], str | None]],
        rows: list[tuple[Any, ...]],
        now: datetime,
    ) -> list[Job]:
        """Insert in order; plain jobs go in multi-row statements, unique ones under their lock: looked
        up together when no two share a key (``_insert_distinct``), else one by one."""
        keys = {
            index: key
            for index, (_, key) in enumerate(prepared)
            if key is not None and jobs[index].unique is not None and jobs[index].unique.states  # type: ignore[union-attr]
        }
        if keys:
            buckets = tuple(sorted({_bucket(key) for key in keys.values()}))
            await cursor.execute(_Q["lock_unique"], {"buckets": buckets})
            if len(await cursor.fetchall()) != len(buckets):
                raise SchemaError("oban_unique_locks is missing rows; run `oban migrate` to restore them")
            # No key twice (counting the keys of unique jobs without states, which are stored with
            # theirs but look nothing up): look them all up at once.
            stamped = [key for _, key in prepared if key is not None]
            if len(keys) > 1 and len(set(stamped)) == len(stamped):
                return await self._insert_distinct(cursor, jobs, prepared, rows, keys, now)
        increment = await self._increment(cursor, len(jobs) - len(keys))
        results = list(jobs)
        pending: list[int] = []

        async def flush() -> None:
            await self._store(cursor, pending, jobs, prepared, rows, now, increment, results)
            pending.clear()

        for index, job in enumerate(jobs):
            if index not in keys:
                pending.append(index)
                continue
            await flush()
            existing = await self._find_unique(cursor, job, keys[index], now)
            if existing is None:
                pending.append(index)
                await flush()
            else:
                results[index] = await self._replace(cursor, existing, job, now)
        await flush()
        return results

    async def _insert_distinct(
        self,
        cursor: Any,
        jobs: Sequence[Job],
        prepared: Sequence[tuple[dict[str, Any], str | None]],
        rows: list[tuple[Any, ...]],
        keys: dict[int, str],
        now: datetime,
    ) -> list[Job]:
        """``_insert_all`` when no two unique jobs share a key: a lookup for every 500 of them, the
        plain jobs and the unique ones nothing duplicates in multi-row inserts, then the replaces."""
        lookups = list(keys.items())
        found: dict[int, Job] = {}
        for start in range(0, len(lookups), _LOOKUPS_PER_STATEMENT):
            found.update(
                await self._find_unique_many(cursor, jobs, lookups[start : start + _LOOKUPS_PER_STATEMENT], now)
            )
        fresh = [index for index in range(len(jobs)) if index not in found]
        results = list(jobs)
        await self._store(cursor, fresh, jobs, prepared, rows, now, await self._increment(cursor, len(fresh)), results)
        for index in sorted(found):
            results[index] = await self._replace(cursor, found[index], jobs[index], now)
        return results

    async def _increment(self, cursor: Any, rows: int) -> int:
        """The step between the ids of one multi-row insert of ``rows`` rows, where the ids are derived."""
        if self._id_strategy == "consecutive" and rows > 1:
            await cursor.execute("SELECT @@auto_increment_increment")
            return int((await cursor.fetchone())[0])
        return 1

    async def _store(
        self,
        cursor: Any,
        indexes: list[int],
        jobs: Sequence[Job],
        prepared: Sequence[tuple[dict[str, Any], str | None]],
        rows: list[tuple[Any, ...]],
        now: datetime,
        increment: int,
        results: list[Job],
    ) -> None:
        """Insert the jobs at ``indexes`` in multi-row statements and put each as stored in ``results``."""
        for chunk in self._chunks(indexes, rows):
            ids = await self._insert_rows(cursor, [rows[index] for index in chunk], increment)
            for index, job_id in zip(chunk, ids, strict=True):
                results[index] = self._stored(jobs[index], prepared[index][0], job_id, now)

    @staticmethod
    def _chunks(indexes: list[int], rows: list[tuple[Any, ...]]) -> list[list[int]]:
        """Split a batch so no statement grows past a few megabytes (max_allowed_packet)."""
        chunks: list[list[int]] = []
        current: list[int] = []
        size = 0
        for index in indexes:
            row = rows[index]
            row_size = 200 + len(row[3]) + len(row[4]) + len(row[5])
            if current and size + row_size > _MAX_STATEMENT_BYTES:
                chunks.append(current)
                current, size = [], 0
            current.append(index)
            size += row_size
        if current:
            chunks.append(current)
        return chunks

    async def _insert_rows(self, cursor: Any, rows: list[tuple[Any, ...]], increment: int) -> list[int]:
        """Insert ``rows`` and return their ids in order, by the strategy the server allows."""
        strategy = self._id_strategy
        if strategy == "per_row" or len(rows) == 1:
            ids = []
            for row in rows:
                await cursor.execute(_Q["insert_job"], row)
                ids.append(int(cursor.lastrowid))
            return ids
        sql = _INSERT_HEAD + "VALUES " + ",\n".join([_INSERT_VALUES] * len(rows))
        params = [value for row in rows for value in row]
        if strategy == "returning":
            await cursor.execute(sql + "\nRETURNING id", params)
            ids = [int(row[0]) for row in await cursor.fetchall()]
        else:
            # innodb_autoinc_lock_mode 0 or 1: one multi-row INSERT takes consecutive ids,
            # and LAST_INSERT_ID() is the first of them.
            await cursor.execute(sql, params)
            if cursor.rowcount != len(rows):
                raise ObanError(f"inserted {cursor.rowcount} rows of {len(rows)}")
            first = int(cursor.lastrowid)
            ids = [first + offset * increment for offset in range(len(rows))]
        if len(ids) != len(rows):
            raise ObanError(f"the server returned {len(ids)} ids for {len(rows)} inserted rows")
        return ids

    @staticmethod
    async def _find_unique(cursor: Any, job: Job, key: str, now: datetime) -> Job | None:
        unique = job.unique
        assert unique is not None
        since = None if unique.period is None else naive_utc(now - timedelta(seconds=unique.period))
        await cursor.execute(
            _Q["find_unique"],
            {
                "key": key,
                "states": tuple(sorted(state.value for state in unique.states)),
                "since": since,
                "timestamp": unique.timestamp,
            },
        )
        row = await cursor.fetchone()
        return None if row is None else _job_from_row(row)

    @staticmethod
    async def _find_unique_many(
        cursor: Any, jobs: Sequence[Job], lookups: Sequence[tuple[int, str]], now: datetime
    ) -> dict[int, Job]:
        """The newest stored duplicate of each job of ``lookups`` (index and key) that has one, by index."""
        # Jobs that share their options share one condition; most batches have one set of options.
        groups: dict[tuple[Any, ...], list[str]] = {}
        for index, key in lookups:
            unique = jobs[index].unique
            assert unique is not None
            since = None if unique.period is None else naive_utc(now - timedelta(seconds=unique.period))
            options = (tuple(sorted(state.value for state in unique.states)), since, unique.timestamp)
            groups.setdefault(options, []).append(key)
        params: list[Any] = []
        for (states, since, timestamp), group in groups.items():
            params += [tuple(key[:64] for key in group), tuple(group), states, since, timestamp, since]
        condition = "\n   OR ".join([_FIND_UNIQUE_CONDITION] * len(groups))
        await cursor.execute(_FIND_UNIQUE_HEAD + "\nWHERE " + condition + "\nORDER BY" + _FIND_UNIQUE_TAIL, params)
        newest: dict[str, Job] = {}
        for row in await cursor.fetchall():  # newest first
            job = _job_from_row(row)
            newest.setdefault(job.meta[UNIQ_KEY], job)
        return {index: newest[key] for index, key in lookups if key in newest}

    @staticmethod
    async def _replace(cursor: Any, existing: Job, job: Job, now: datetime) -> Job:
        if apply_replace(existing, job, now):
            await cursor.execute(_Q["update_job"], MySQLEngine._update_params(existing, now))
        existing.conflict = True
        return existing

    async def _insert_in_user_transaction(
        self,
        conn: Any,
        jobs: Sequence[Job],
        prepared: Sequence[tuple[dict[str, Any], str | None]],
        rows: list[tuple[Any, ...]],
        now: datetime,
    ) -> list[Job]:
        if not isinstance(conn, asyncmy.Connection):
            raise TypeError(f"conn must be an asyncmy.Connection for MySQLEngine, got {type(conn).__name__}")
        await self.connect()
        # A connection in autocommit mode outside a transaction gets one of its own, so the
        # batch stays all-or-nothing.
        own_transaction = conn.get_autocommit() and not conn.get_transaction_status()
        if own_transaction:
            await conn.begin()
        try:
            async with conn.cursor() as cursor:
                inserted = await self._insert_all(cursor, jobs, prepared, rows, now)
                # No sender: the row is news to every node, this one included, once committed.
                notification = self._notification("insert", insert_payloads(inserted), "")
                if notification is not None:
                    await cursor.execute(*notification)
            if own_transaction:
                await conn.commit()
        except BaseException as error:
            if own_transaction:
                await conn.rollback()
            refused = _check_failure(error)
            if refused is not None:
                raise refused from error
            raise
        return inserted

    def insert_jobs_dbapi(self, conn: Any, jobs: Sequence[Job]) -> list[Job]:
        """Insert ``jobs`` through the caller's PyMySQL connection (or cursor), in its transaction.

        See ``oban.engines.protocol.BlockingInsert``; the statements are the engine's own
        (``kit.dbapi``), in a savepoint of the caller's transaction, or in a transaction of their
        own on a connection in autocommit mode with none open. Django's MySQL backend hands out
        PyMySQL connections after ``pymysql.install_as_MySQLdb()``; SQLAlchemy's with
        ``mysql+pymysql://``.
        """
        raw = _pymysql_connection(conn)
        if not jobs:
            return []
        now = utcnow()
        prepared = [prepare_insert(job) for job in jobs]
        rows = self._insert_rows_for(jobs, prepared, now)
        import pymysql  # type: ignore[import-untyped]
        from pymysql.constants import SERVER_STATUS  # type: ignore[import-untyped]

        cursor = raw.cursor()
        try:
            if self._id_strategy is None:
                # How a batch learns its ids depends on the server: ask it, on this connection.
                cursor.execute(_Q["server_info"])
                self.server = self._server_info(cursor.fetchone())
                self._id_strategy = self.server.id_strategy
            own = raw.get_autocommit() and not raw.server_status & SERVER_STATUS.SERVER_STATUS_IN_TRANS
            cursor.execute("START TRANSACTION" if own else "SAVEPOINT oban_insert")
            try:
                statements = _BlockingCursor(cursor)
                inserted = dbapi.complete(self._insert_all(statements, jobs, prepared, rows, now))
                # No sender: the row is news to every node, this one included, once committed.
                notification = self._notification("insert", insert_payloads(inserted), "")
                if notification is not None:
                    cursor.execute(*notification)
            except BaseException:
                if own:
                    raw.rollback()
                else:
                    cursor.execute("ROLLBACK TO SAVEPOINT oban_insert")
                    cursor.execute("RELEASE SAVEPOINT oban_insert")
                raise
            if own:
                raw.commit()
            else:
                cursor.execute("RELEASE SAVEPOINT oban_insert")
            return inserted
        except pymysql.MySQLError as error:
            if error.args and error.args[0] in _CHECK_FAILED:
                detail = error.args[1] if len(error.args) > 1 else error
                raise ValueError(f"the database rejected a job: {detail}") from error
            raise DatabaseError(f"insert_jobs_dbapi on {self.dsn} failed: {type(error).__name__}: {error}") from error
        finally:
            cursor.close()

    @staticmethod
    def _notification(channel: str, payloads: Sequence[dict[str, Any]], sender: str) -> tuple[str, list[Any]] | None:
        """The statement (and its parameters) that writes ``payloads`` for other nodes to poll."""
        if not payloads:
            return None
        sql = _NOTIFY_HEAD + "VALUES " + ",\n".join([_NOTIFY_VALUES] * len(payloads))
        return sql, [value for payload in payloads for value in (channel, encode_json(payload, "payload"), sender)]

    # -- running -------------------------------------------------------------------------------

    async def fetch_jobs(self, queue: str, demand: int, node: str, now: datetime, uuid: str | None = None) -> list[Job]:
        """Claim up to ``demand`` available jobs of ``queue``; see ``Engine.fetch_jobs``."""
        if demand <= 0:
            return []
        attempted_at = naive_utc(now)
        attempted_by = [node] if uuid is None else [node, uuid]
        pending: list[Job] = []

        def claimed(jobs: list[Job]) -> list[Job]:
            # The rows were locked until the commit, so the update did exactly this to each of them.
            at = aware_utc(attempted_at)  # one (immutable) datetime for the whole claim
            for job in jobs:
                job.state = JobState.EXECUTING
                job.attempt += 1
                job.attempted_at = at
                job.attempted_by = list(attempted_by)
            return jobs

        async def claim(cursor: Any) -> list[Job]:
            await cursor.execute(_Q["fetch_jobs"], {"queue": queue, "demand": demand})
            rows = await cursor.fetchall()
            if not rows:
                return []
            pending[:] = [_job_from_row(row) for row in rows]  # decoded first: a claim must not be lost
            await cursor.execute_and_commit(
                _Q["claim_jobs"],
                {
                    "ids": tuple(job.id for job in pending),
                    "now": attempted_at,
                    "attempted_by": encode_json(attempted_by, "attempted_by"),
                },
            )
            return claimed(pending)

        async def settle() -> tuple[bool, list[Job]]:
            # The rows show whether the claim committed: its attempt, attempted_at and node are on
            # them, and a commit is all or nothing. Otherwise they were never claimed by us.
            before = {job.id: job.attempt for job in pending}
            rows = await self._settle_read(_Q["claim_outcome"], {"ids": tuple(before)})
            ours = any(
                attempt == before[job_id] + 1 and at == attempted_at and decode_json(by, []) == attempted_by
                for job_id, attempt, at, by in rows
            )
            log.warning("a claim's COMMIT lost its connection; it %s", "committed" if ours else "did not commit")
            return (True, claimed(list(pending))) if ours else (False, [])

        recovered = await self._settle_earlier_claims(attempted_by)
        try:
            return [*recovered, *await self._run(claim, settle=settle)]
        except Exception as error:
            if not (_is_connection_error(error) and pending):
                raise
            # Whether the claim committed could not be read back: ask again at the next claim, so
            # jobs it may have taken are not left executing for nobody.
            self._unsettled.append(([copy_job(job) for job in pending], attempted_at, attempted_by))
            if recovered:
                return recovered
            raise

    async def _settle_earlier_claims(self, attempted_by: list[str]) -> list[Job]:
        """Jobs of this claimer's earlier claims whose COMMIT outcome was unknown, once the rows tell."""
        found: list[Job] = []
        # Taken off the list before the first await: one producer's claims may run concurrently,
        # and only one of them may read back (and run) a lost claim's jobs.
        claims = [c for c in self._unsettled if c[2] == attempted_by]
        for claim in claims:
            self._unsettled.remove(claim)
        for claim in claims:
            jobs, attempted_at, _ = claim
            try:
                rows = await self._settle_read(_Q["claim_outcome"], {"ids": tuple(job.id for job in jobs)})
            except Exception:
                self._unsettled.append(claim)  # still unreachable: ask again next time
                continue
            ours = {
                job_id
                for job_id, _attempt, at, by in rows
                if at == attempted_at and decode_json(by, []) == attempted_by
            }
            for job in jobs:
                if job.id in ours:
                    job.state, job.attempt = JobState.EXECUTING, job.attempt + 1
                    job.attempted_at, job.attempted_by = aware_utc(attempted_at), list(attempted_by)
                    found.append(job)
            if found:
                log.warning("a claim whose COMMIT lost its connection had committed; recovered %d jobs", len(found))
        return found

    async def _settle_read(self, sql: str, params: dict[str, Any]) -> list[_Row]:
        """Read on a fresh connection, waiting out a short outage (a few seconds) if need be."""

        async def read(cursor: Any) -> list[_Row]:
            await cursor.execute(sql, params)
            return list(await cursor.fetchall())

        backoff = Backoff(0.2, 1.6)
        while True:
            try:
                return await self._run(read, transaction=False)
            except Exception as error:
                if not _is_connection_error(error) or backoff.failures >= 4:
                    raise
                await asyncio.sleep(backoff.next())

    async def ack_jobs(self, acks: Sequence[Ack]) -> list[int]:
        """Apply a batch of outcomes in one statement; return the ids it changed."""
        if not acks:
            return []
        by_id: dict[int, Ack] = {}
        for ack in acks:
            by_id.setdefault(int(ack.job_id), ack)
        documents = {job_id: self._ack_document(ack) for job_id, ack in by_id.items()}
        with_meta = tuple(sorted(job_id for job_id, ack in by_id.items() if ack.meta))

        async def apply(cursor: Any) -> list[int]:
            await cursor.execute(_Q["lock_executing"], {"ids": tuple(sorted(by_id))})
            locked = {row[0] for row in await cursor.fetchall() if by_id[row[0]].attempt == row[1]}
            if not locked:
                return []
            if with_meta:
                # Ack meta replaces whole top-level keys, nulls included (JSON_MERGE_PATCH would
                # merge nested objects and drop nulls): merge the locked rows' meta here.
                await cursor.execute(_Q["select_meta"], {"ids": with_meta})
                for job_id, stored in await cursor.fetchall():
                    if job_id in locked:
                        merged = {**decode_json(stored, {}), **(by_id[job_id].meta or {})}
                        documents[job_id]["meta"] = encode_json(merged, "meta")
            encoded = encode_json([documents[job_id] for job_id in sorted(locked)], "acks")
            await cursor.execute_and_commit(_Q["ack_jobs"], {"acks": encoded, "ids": tuple(sorted(locked))})
            return [job_id for job_id in by_id if job_id in locked]

        return await self._run(apply)

    @staticmethod
    def _ack_document(ack: Ack) -> dict[str, Any]:
        document: dict[str, Any] = {
            "id": int(ack.job_id),
            "attempt": ack.attempt,
            "state": JobState(ack.state).value,
            "at": naive_utc(ack.at).isoformat(sep=" ", timespec="microseconds"),
        }
        if ack.scheduled_at is not None:
            document["scheduled_at"] = naive_utc(ack.scheduled_at).isoformat(sep=" ", timespec="microseconds")
        if ack.error is not None:
            document["error"] = encode_json(ack.error, "error")
        if ack.meta:
            encode_json(ack.meta, "meta")  # refuse a bad value before anything is written
        return document

    # -- reading and managing ------------------------------------------------------------------

    async def get_job(self, job_id: int) -> Job | None:
        """The job with this id, or ``None``."""
        jobs = await self._select_by_ids([job_id])
        return jobs[0] if jobs else None

    async def _select_by_ids(self, ids: Sequence[int]) -> list[Job]:
        wanted = _ids(ids)
        if not wanted:
            return []

        async def select(cursor: Any) -> list[Job]:
            await cursor.execute(_Q["select_jobs_by_id"], {"ids": wanted})
            return [_job_from_row(row) for row in await cursor.fetchall()]

        return await self._run(select, transaction=False)

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
        """Jobs matching every given filter, newest id first."""
        found = job_search(search)
        before = check_before_id(before_id)
        chosen = None if states is None else tuple(sorted({JobState(state).value for state in states}))
        if chosen == ():
            return []
        params = {
            "queue": queue,
            "worker": worker,
            "limit": int(limit),
            "any_state": chosen is None,
            "states": chosen or ("",),
            "before_id": before,
            "pattern": None if found is None else found.pattern,
            "search_id": None if found is None else found.job_id,
        }

        async def select(cursor: Any) -> list[Job]:
            await cursor.execute(_Q["list_jobs"], params)
            return [_job_from_row(row) for row in await cursor.fetchall()]

        return await self._run(select, transaction=False)

    async def job_activity(self, since: datetime, bucket: int) -> list[Activity]:
        """Jobs finished since ``since``, counted per bucket, queue and state."""
        params = {"since": naive_utc(check_since(since)), "bucket": check_bucket(bucket)}

        async def select(cursor: Any) -> list[Activity]:
            await cursor.execute(_Q["job_activity"], params)
            return activity_from_rows(await cursor.fetchall())

        return await self._run(select, transaction=False)

    async def count_jobs(self) -> dict[tuple[str, JobState], int]:
        """How many jobs each queue holds in each state."""

        async def select(cursor: Any) -> dict[tuple[str, JobState], int]:
            await cursor.execute(_Q["count_jobs"])
            return {(row[0], JobState(row[1])): int(row[2]) for row in await cursor.fetchall()}

        return await self._run(select, transaction=False)

    async def cancel_jobs(self, ids: Sequence[int], now: datetime) -> tuple[int, list[int]]:
        """Cancel the incomplete jobs among ``ids``; return (count, ids that were executing)."""
        wanted = _ids(ids)
        if not wanted:
            return 0, []
        params = {"ids": wanted, "now": naive_utc(now)}

        async def cancel(cursor: Any) -> tuple[int, list[int]]:
            await cursor.execute(_Q["lock_cancellable"], params)
            rows = await cursor.fetchall()
            if not rows:
                return 0, []
            await cursor.execute_and_commit(
                _Q["cancel_jobs"], {"ids": tuple(row[0] for row in rows), "now": params["now"]}
            )
            return cursor.rowcount, [row[0] for row in rows if row[1] == JobState.EXECUTING.value]

        return await self._run(cancel)

    async def retry_jobs(self, ids: Sequence[int], now: datetime) -> int:
        """Make jobs among ``ids`` available now; see ``Engine.retry_jobs``."""
        return await self._lock_then_write("lock_retryable", "retry_jobs", {"ids": _ids(ids), "now": naive_utc(now)})

    async def delete_jobs(self, ids: Sequence[int]) -> int:
        """Delete the jobs among ``ids`` that are not executing; return the count."""
        return await self._lock_then_write("lock_deletable", "delete_jobs", {"ids": _ids(ids)})

    async def _lock_then_write(self, lock: str, write: str, params: dict[str, Any]) -> int:
        """Lock the qualifying rows by primary key, then change exactly those; return the count.

        One statement with the state test in its WHERE could be planned through the state
        index, and would then lock, and wait for, rows far outside ``ids``.
        """
        if not params["ids"]:
            return 0

        async def run(cursor: _Transaction) -> int:
            await cursor.execute(_Q[lock], params)
            locked = tuple(row[0] for row in await cursor.fetchall())
            if not locked:
                return 0
            await cursor.execute_and_commit(_Q[write], {**params, "ids": locked})
            return cursor.rowcount

        return await self._run(run)

    @staticmethod
    def _update_params(job: Job, now: datetime) -> dict[str, Any]:
        return {
            "id": job.id,
            "args": encode_json(job.args, "args"),
            "meta": encode_json(job.meta, "meta"),
            "max_attempts": job.max_attempts,
            "priority": job.priority,
            "queue": job.queue,
            "scheduled_at": naive_utc(job.scheduled_at or now),
            "tags": encode_json(job.tags, "tags"),
            "worker": job.worker,
            "state": JobState(job.state).value,
        }

    async def update_jobs(self, ids: Sequence[int], change: Callable[[Job], Job]) -> list[Job]:
        """Lock each job, let ``change`` return its new version, store it; all or nothing."""
        wanted = _ids(ids)
        if not wanted:
            return []
        now = utcnow()

        async def update(cursor: Any) -> list[Job]:
            await cursor.execute(_Q["lock_jobs_by_id"], {"ids": wanted})
            updated = []
            for row in await cursor.fetchall():
                job = updated_job(_job_from_row(row), change)
                await cursor.execute(_Q["update_job"], self._update_params(job, now))
                updated.append(job)
            return updated

        return await self._run(update)

    # -- maintenance ---------------------------------------------------------------------------

    async def stage_jobs(self, now: datetime, limit: int, queue: str | None = None) -> list[str]:
        """Make up to ``limit`` due scheduled/retryable jobs (of ``queue``, if given) available; return their queues."""
        params = {"now": naive_utc(now), "limit": int(limit), "queue": queue}

        async def stage(cursor: Any) -> list[str]:
            await cursor.execute(_Q["lock_due_jobs"], params)
            rows = await cursor.fetchall()
            if not rows:
                return []
            await cursor.execute_and_commit(_Q["stage_jobs"], {"ids": tuple(row[0] for row in rows)})
            return sorted({row[1] for row in rows})

        return await self._run(stage)

    async def prune_jobs(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` finished jobs that finished before ``before``."""
        params = {"before": naive_utc(before), "limit": int(limit)}

        async def find(cursor: Any) -> tuple[int, ...]:
            await cursor.execute(_Q["find_prunable"], params)
            return tuple(row[0] for row in await cursor.fetchall())

        ids = await self._run(find, transaction=False)
        return await self._lock_then_write("lock_prunable", "delete_jobs", {"ids": ids, "before": params["before"]})

    async def rescue_jobs(self, now: datetime, fallback_before: datetime) -> tuple[int, int]:
        """Rescue jobs of stale producers (or of none, attempted before ``fallback_before``), noting
        why in ``errors``; then forget producers long stale. Returns (rescued, discarded)."""
        params = {
            "now": naive_utc(now),
            "fallback_before": naive_utc(fallback_before),
            "at": to_iso(now),
            "error": RESCUE_ERROR,
            "forget_before": naive_utc(now - timedelta(seconds=PRODUCER_RETENTION)),
        }

        async def rescue(cursor: Any) -> tuple[int, int]:
            await cursor.execute(_Q["discard_orphans"], params)
            discarded = cursor.rowcount
            await cursor.execute(_Q["rescue_orphans"], params)
            rescued = cursor.rowcount
            await cursor.execute_and_commit(_Q["prune_producers"], params)
            return rescued, discarded

        return await self._run(rescue)

    # -- heartbeats ----------------------------------------------------------------------------

    async def record_producers(self, producers: Sequence[ProducerRecord]) -> None:
        """Insert or refresh each producer's row in one statement."""
        if not producers:
            return
        values = [
            value
            for p in producers
            for value in (
                p.uuid,
                p.name,
                p.node,
                p.queue,
                encode_json(p.meta, "meta"),
                naive_utc(p.started_at),
                naive_utc(p.updated_at),
                naive_utc(p.updated_at + timedelta(seconds=p.ttl)),
            )
        ]
        head, _, row = _Q["record_producers"].partition("VALUES")
        row, _, tail = row.strip().partition("\n")
        sql = head + "VALUES " + ",\n".join([row] * len(producers)) + "\n" + tail

        async def record(cursor: Any) -> None:
            await cursor.execute_and_commit(sql, values)

        await self._run(record)

    async def retire_producers(self, uuids: Sequence[str], now: datetime) -> None:
        """Make the producers' rows stale from ``now``."""
        if not uuids:
            return

        async def retire(cursor: Any) -> None:
            await cursor.execute_and_commit(_Q["retire_producers"], {"uuids": tuple(uuids), "now": naive_utc(now)})

        await self._run(retire)

    async def list_producers(self) -> list[ProducerRecord]:
        """Every producer row."""

        async def select(cursor: Any) -> list[ProducerRecord]:
            await cursor.execute(_Q["list_producers"])
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
                for uuid, name, node, queue, meta, started_at, updated_at in await cursor.fetchall()
            ]

        return await self._run(select, transaction=False)

    # -- leadership ----------------------------------------------------------------------------

    async def elect_leader(self, name: str, node: str, ttl: float, now: datetime) -> bool:
        """Take or renew the lease for ``name``; True if ``node`` holds it afterwards."""
        params = {
            "name": name,
            "node": node,
            "now": naive_utc(now),
            "expires_at": naive_utc(now + timedelta(seconds=ttl)),
        }

        async def elect(cursor: Any) -> bool:
            await cursor.execute(_Q["elect_leader"], params)
            # The upsert's row count cannot tell "renewed" from "left alone": read the row.
            await cursor.execute(_Q["leader_node"], params)
            row = await cursor.fetchone()
            return row is not None and row[0] == node

        return await self._run(elect)

    async def resign_leader(self, name: str, node: str) -> None:
        """Give up the lease if ``node`` holds it."""

        async def resign(cursor: Any) -> None:
            await cursor.execute_and_commit(_Q["resign_leader"], {"name": name, "node": node})

        await self._run(resign)

    # -- notifications -------------------------------------------------------------------------

    async def notify(self, channel: str, payloads: Sequence[dict[str, Any]]) -> None:
        """Deliver in this process at once and write the payloads for other nodes to poll."""
        check_channel(channel)
        payloads = check_payloads(payloads)
        if not payloads:
            return
        hub.publish(self._hub_key, channel, payloads)
        sender = hub.process_token(self._hub_key)

        notification = self._notification(channel, payloads, sender)
        assert notification is not None

        async def write(cursor: Any) -> None:
            await cursor.execute_and_commit(*notification)

        await self._run(write)

    async def listen(self, handler: NotificationHandler) -> None:
        """Deliver notifications to ``handler``; returns once the poller knows where to start."""
        hub.subscribe(self._hub_key, handler)
        self._handlers.append(handler)
        async with self._listening:
            if self._poller is not None:
                return
            poller = TablePoller(
                _NotificationTable(self._connect_one),
                sender=hub.process_token(self._hub_key),
                deliver=self._deliver,
                interval=self.poll_interval,
            )
            try:
                await poller.start()
            except BaseException:
                hub.unsubscribe(self._hub_key, handler)
                self._handlers.remove(handler)
                raise
            self._poller = poller

    async def unlisten(self, handler: NotificationHandler) -> None:
        """Stop delivering to ``handler``; the poller stops with the last handler."""
        hub.unsubscribe(self._hub_key, handler)
        if handler in self._handlers:
            self._handlers.remove(handler)
        if not self._handlers and self._poller is not None:
            poller, self._poller = self._poller, None
            await poller.stop()

    def _deliver(self, channel: str, payload: dict[str, Any]) -> None:
        hub.deliver(self._handlers, channel, payload)


def _pymysql_connection(conn: Any) -> Any:
    """The PyMySQL connection behind ``conn`` (``kit.dbapi.find_connection``); else ``TypeError``."""
    try:
        import pymysql
    except ImportError:  # then nothing the caller holds can be a PyMySQL connection
        found = None
    else:
        found = dbapi.find_connection(conn, (pymysql.connections.Connection,), (pymysql.cursors.Cursor,))
    if found is None:
        raise TypeError(
            "MySQLEngine inserts through a PyMySQL connection or cursor (or Django's or "
            f"SQLAlchemy's wrapper of one), got {dbapi.describe(conn)}"
        )
    return found


class _BlockingCursor:
    """The asyncmy cursor methods the insert code awaits, over a blocking PyMySQL cursor.

    Its awaits never suspend, so ``kit.dbapi.complete`` runs that code without an event loop.
    Both drivers take ``%s`` and ``%(name)s`` parameters and return rows as tuples.
    """

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    async def execute(self, sql: str, params: Any = None) -> int:
        return int(self._cursor.execute(sql, params))

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchall(self) -> Any:
        return self._cursor.fetchall()

    @property
    def lastrowid(self) -> int:
        return int(self._cursor.lastrowid)

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)


def _abandon(pool: Any, poller: TablePoller | None) -> None:
    """Close a pool and a poller of an event loop that is gone or busy elsewhere, unawaited."""
    connections: list[Any] = []
    if poller is not None:
        poller.abandon()
        source = poller.source
        if isinstance(source, _NotificationTable):
            connections.append(source.forget())
    if pool is not None:
        # asyncmy's terminate() and wait_closed() schedule work on the pool's loop: take its
        # connections, idle and in use, and end them here instead.
        pool.close()
        connections += [*pool._free, *pool._used]
        pool._free.clear()
        pool._used.clear()
    loops.shut_down(getattr(conn, "_transport", None) for conn in connections if conn is not None)


class _NotificationTable:
    """How the :class:`TablePoller` reads ``oban_notifications``: on a connection of its own."""

    def __init__(self, connect: Callable[[], Awaitable[Any]]) -> None:
        self._connect = connect
        self._conn: Any = None

    async def _fetch(self, sql: str, params: dict[str, Any]) -> list[Any]:
        if self._conn is None:
            self._conn = await self._connect()
        async with self._conn.cursor() as cursor:
            await cursor.execute(sql, params)
            return list(await cursor.fetchall())

    async def latest_ids(self, limit: int) -> list[int]:
        return [row[0] for row in await self._fetch(_Q["recent_notifications"], {"limit": limit})]

    async def rows_after(self, cursor: int, gaps: Sequence[int], limit: int) -> list[Any]:
        return await self._fetch(
            _Q["poll_notifications"], {"cursor": cursor, "gaps": tuple(gaps) or (0,), "limit": limit}
        )

    async def prune(self, older_than: float) -> None:
        await self._fetch(_Q["prune_notifications"], {"age": older_than, "limit": 10_000})

    def forget(self) -> Any:
        """Give up the connection without closing it; return it (``None`` if there was none)."""
        conn, self._conn = self._conn, None
        return conn

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
