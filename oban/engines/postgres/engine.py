"""PostgresEngine: oban on PostgreSQL through asyncpg, in the table layout Oban itself uses.

Work goes through a connection pool; notifications through one dedicated connection that
LISTENs and reconnects on its own. Every query lives in ``queries/<name>.sql`` and names its
tables unqualified; the engine qualifies ``oban_jobs``, ``oban_peers`` and ``oban_job_state``
with the schema prefix once, at construction, so the same statements also run on a caller's
own connection (``conn=``) whatever its ``search_path``.

Schema versions are Oban's: the version is the comment on ``oban_jobs`` and migrations
``v001``..``v014`` follow Oban's PostgreSQL history, so a database Oban for Elixir set up is
already installed here, and one installed here can be upgraded by Oban later. A database set up
by oban-py (``errors`` as one jsonb array, ``tags`` as text[] or jsonb, smallint counters, no
Oban version comment) is recognised by its ``errors`` column and used as it is; every query is
written to work on both layouts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from ..kit import (
    CHANNELS,
    PRODUCER_RETENTION,
    PRODUCER_TTL,
    RESCUE_ERROR,
    Ack,
    Activity,
    DatabaseError,
    EngineBase,
    Job,
    JobState,
    Migrations,
    NotificationHandler,
    ObanError,
    ProducerRecord,
    SchemaError,
    activity_from_rows,
    apply_replace,
    aware_utc,
    check_before_id,
    check_bucket,
    check_channel,
    check_since,
    dbapi,
    decode_json,
    encode_json,
    hub,
    inserted_job,
    job_search,
    load_queries,
    loops,
    mask_dsn,
    naive_utc,
    prepare_insert,
    stored_job,
    to_iso,
    updated_job,
    utcnow,
)
from ._notifications import Listener, channel_names, encode_payloads, listen_names

log = logging.getLogger("oban.engines.postgres")

_QUERIES = load_queries(__package__)
# insert_jobs.sql for oban-py's layouts whose tags column is jsonb: each job's tags come as JSON text.
_QUERIES["insert_jobs_json_tags"] = _QUERIES["insert_jobs"].replace("u.tags::text[]", "u.tags::jsonb")
assert _QUERIES["insert_jobs_json_tags"] != _QUERIES["insert_jobs"]
_MIGRATIONS = Migrations.load(__package__)
LATEST_VERSION = _MIGRATIONS.latest
"""The newest schema version these migrations reach (Oban's numbering)."""

INSERT_CHUNK = 2000
"""Jobs per statement in a bulk insert: the next chunk is encoded while the server writes one."""
_MAX_PREFIX = 50  # "<prefix>.oban_leader" must fit PostgreSQL's 63-byte identifiers
_TABLES = re.compile(r"(?<![\w.'\"])oban_(?:jobs|peers|producers|job_state)\b")
_POOL_ONLY = frozenset({"init", "setup", "reset", "max_queries", "max_inactive_connection_lifetime"})


# -- DSNs ----------------------------------------------------------------------------------------


def _parse_dsn(dsn: str) -> tuple[str, str | None]:
    """Split a ``postgresql://...?prefix=name`` DSN into what asyncpg takes and the prefix."""
    if not isinstance(dsn, str) or "://" not in dsn:
        raise ValueError(f"PostgresEngine needs a postgresql:// DSN, got {mask_dsn(dsn)!r}")
    parts = urlsplit(dsn)
    if parts.scheme.lower().split("+", 1)[0] not in ("postgresql", "postgres"):
        raise ValueError(f"PostgresEngine needs a postgresql:// DSN, got {mask_dsn(dsn)!r}")
    prefix = None
    kept = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "prefix":
            prefix = value
        else:
            kept.append((key, value))
    return urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(kept), parts.fragment)), prefix


def _check_prefix(prefix: object) -> str:
    if not isinstance(prefix, str) or not prefix or len(prefix.encode()) > _MAX_PREFIX or "\x00" in prefix:
        raise ValueError(f"prefix must be a schema name of 1 to {_MAX_PREFIX} bytes, got {prefix!r}")
    return prefix


def _text_array(values: Sequence[str]) -> str:
    """``values`` as a PostgreSQL array literal, each element quoted (``text[]`` parses it)."""
    if not values:
        return "{}"
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- values --------------------------------------------------------------------------------------


def _decode(value: Any, default: Any) -> Any:
    return decode_json(value, default) if isinstance(value, str | bytes) else (default if value is None else value)


def _job_from_row(row: Any) -> Job:
    return stored_job(
        id=row["id"],
        state=row["state"],
        queue=row["queue"],
        worker=row["worker"],
        args=_decode(row["args"], {}),
        meta=_decode(row["meta"], {}),
        tags=_decode(row["tags"], []),
        errors=_decode(row["errors"], []),
        attempted_by=list(row["attempted_by"] or ()),
        attempt=row["attempt"],
        max_attempts=row["max_attempts"],
        priority=row["priority"],
        inserted_at=aware_utc(row["inserted_at"]),
        scheduled_at=aware_utc(row["scheduled_at"]),
        attempted_at=aware_utc(row["attempted_at"]),
        completed_at=aware_utc(row["completed_at"]),
        cancelled_at=aware_utc(row["cancelled_at"]),
        discarded_at=aware_utc(row["discarded_at"]),
    )


_CLAIM_ORDER = operator.itemgetter(11, 13, 0)
"""How claimed rows are started: priority, scheduled_at, id (their places in fetch_jobs.sql)."""


def _claimed_job(row: Any) -> Job:
    """``_job_from_row`` for the rows of ``fetch_jobs`` and ``claim_outcome``, read by position.

    Claiming reads one row per job; positions cost a fraction of names on an asyncpg record.
    """
    return stored_job(
        id=row[0],
        state=row[1],
        queue=row[2],
        worker=row[3],
        args=_decode(row[4], {}),
        meta=_decode(row[5], {}),
        tags=_decode(row[6], []),
        errors=_decode(row[7], []),
        attempted_by=list(row[8] or ()),
        attempt=row[9],
        max_attempts=row[10],
        priority=row[11],
        inserted_at=aware_utc(row[12]),
        scheduled_at=aware_utc(row[13]),
        attempted_at=aware_utc(row[14]),
        completed_at=aware_utc(row[15]),
        cancelled_at=aware_utc(row[16]),
        discarded_at=aware_utc(row[17]),
    )


def _count(status: str) -> int:
    """The row count at the end of a command status such as ``UPDATE 3``."""
    return int(status.rsplit(" ", 1)[-1])


def _ids(ids: Sequence[int]) -> list[int]:
    return [int(i) for i in ids]


def _check_violation(error: asyncpg.CheckViolationError) -> ValueError:
    return ValueError(f"the database rejected a job: check {error.constraint_name or '?'} failed ({error})")


def _abandon(pool: asyncpg.Pool | None, listener: Listener | None) -> None:
    """Close a pool and a listener of an event loop that is gone or busy elsewhere, unawaited."""
    if listener is not None:
        listener.abandon()
    if pool is None:
        return
    # asyncpg offers no public way to reach a pooled connection's transport, which is what has
    # to be shut down by hand when the pool's loop is closed and terminate() cannot finish.
    connections = [getattr(holder, "_con", None) for holder in getattr(pool, "_holders", ())]
    with contextlib.suppress(RuntimeError):
        pool.terminate()
    loops.shut_down(getattr(conn, "_transport", None) for conn in connections)


async def _no_reset(_conn: Any) -> None:
    """Skip asyncpg's per-release reset query: our statements leave no session state behind."""


_PLACEHOLDER = re.compile(r"\$(\d+)")


def _psycopg_connection(conn: Any) -> Any:
    """The psycopg 3 connection behind ``conn`` (``kit.dbapi.find_connection``); else ``TypeError``."""
    try:
        import psycopg
    except ImportError:  # then nothing the caller holds can be a psycopg connection
        found = None
    else:
        found = dbapi.find_connection(conn, (psycopg.Connection,), (psycopg.Cursor,))
    if found is None:
        raise TypeError(
            "PostgresEngine inserts through a psycopg 3 connection or cursor (or Django's or "
            f"SQLAlchemy's wrapper of one), got {dbapi.describe(conn)}"
        )
    return found


class _Blocking:
    """asyncpg's ``fetch``/``fetchval``/``fetchrow``/``execute`` over a blocking psycopg 3 connection.

    The engine's insert code awaits these, and nothing else, so it runs to its end without an
    event loop (``kit.dbapi.complete``): one implementation of inserting serves both drivers. The
    ``$n`` placeholders of the queries become psycopg's ``%(pn)s``.
    """

    def __init__(self, conn: Any) -> None:
        from psycopg.rows import dict_row

        self._cursor = conn.cursor(row_factory=dict_row)
        self._sql: dict[str, str] = {}

    def run(self, sql: str, args: Sequence[Any] = ()) -> Any:
        """Execute one statement; return the cursor holding its result."""
        import psycopg

        query = self._sql.get(sql)
        if query is None:
            query = self._sql[sql] = _PLACEHOLDER.sub(r"%(p\1)s", sql.replace("%", "%%"))
        try:
            self._cursor.execute(query, {f"p{n}": value for n, value in enumerate(args, 1)})
        except psycopg.errors.CheckViolation as error:
            name = error.diag.constraint_name or "?"
            raise ValueError(f"the database rejected a job: check {name} failed ({error})") from None
        return self._cursor

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = self.run(sql, args).fetchone()
        return None if row is None else next(iter(row.values()))

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        return self.run(sql, args).fetchone()

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        return list(self.run(sql, args).fetchall())

    async def execute(self, sql: str, *args: Any) -> str:
        return str(self.run(sql, args).statusmessage)


class _Pooled:
    """Runs one statement on a pooled connection, like ``Pool.fetch`` and friends.

    When the server drops an idle connection, asyncpg may read the server's goodbye before it
    sees the socket close, and the next statement on that connection fails with
    ``InternalClientError`` before anything is sent. Such a connection is closed here and the
    statement, never having reached the server, runs again on another (each pooled connection
    may be such a casualty, so up to pool size + 1 tries).
    """

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def _call(self, method: str, sql: str, *args: Any) -> Any:
        tries = self._pool.get_max_size() + 1
        for attempt in range(1, tries + 1):
            async with self._pool.acquire() as conn:
                try:
                    return await getattr(conn, method)(sql, *args)
                except asyncpg.InternalClientError:
                    conn.terminate()
                    if attempt == tries:
                        raise
        raise AssertionError("unreachable")

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        rows: list[Any] = await self._call("fetch", sql, *args)
        return rows

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        return await self._call("fetchrow", sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._call("fetchval", sql, *args)

    async def execute(self, sql: str, *args: Any) -> str:
        status: str = await self._call("execute", sql, *args)
        return status


@dataclass(frozen=True, slots=True)
class _Layout:
    exists: bool
    version: int | None = None
    oban_py: bool = False


# -- the engine ----------------------------------------------------------------------------------


class PostgresEngine(EngineBase):
    """Jobs in PostgreSQL, in Oban's ``oban_jobs`` layout, through asyncpg.

    ``PostgresEngine("postgresql://user:pass@host/app")``; ``prefix`` (or ``?prefix=`` in the
    DSN) is the schema holding the tables, ``public`` by default. ``pool_min_size`` and
    ``pool_max_size`` size the connection pool; any other keyword goes to
    ``asyncpg.create_pool`` and to the notification connection (``ssl``, ``server_settings``,
    ``statement_cache_size=0`` behind PgBouncer, ...). Connections open on first use.
    ``keepalive`` is how often, in seconds, the notification connection is checked.
    """

    def __init__(
        self,
        dsn: str,
        *,
        prefix: str = "public",
        pool_min_size: int = 1,
        pool_max_size: int = 10,
        keepalive: float = 15.0,
        **connect_options: Any,
    ) -> None:
        connect_dsn, dsn_prefix = _parse_dsn(dsn)
        if dsn_prefix is not None and prefix not in ("public", dsn_prefix):
            raise ValueError(f"prefix {prefix!r} contradicts ?prefix={dsn_prefix} in the DSN")
        self.prefix = _check_prefix(dsn_prefix if dsn_prefix is not None else prefix)
        if not 0 <= pool_min_size <= pool_max_size or pool_max_size < 1:
            raise ValueError(
                f"pool sizes must satisfy 0 <= pool_min_size <= pool_max_size >= 1, "
                f"got {pool_min_size!r} and {pool_max_size!r}"
            )
        self._connect_dsn = connect_dsn
        shown = mask_dsn(connect_dsn)
        if self.prefix != "public":
            shown += ("&" if urlsplit(shown).query else "?") + urlencode({"prefix": self.prefix})
        self.dsn = shown
        self._pool_min = pool_min_size
        self._pool_max = pool_max_size
        self._keepalive = keepalive
        self._options = connect_options
        self._quoted = _quote_ident(self.prefix)
        self._q = {name: _TABLES.sub(lambda m: f"{self._quoted}.{m.group(0)}", sql) for name, sql in _QUERIES.items()}
        self._channels = channel_names(self.prefix, CHANNELS)
        self._pool: asyncpg.Pool | None = None
        self._pooled: _Pooled | None = None
        self._unsettled: list[tuple[str, list[str], datetime]] = []  # claims whose replies were lost
        self._tags_as_json: bool | None = None  # some oban-py layouts store tags as jsonb; None: not looked yet
        self._connecting = asyncio.Lock()
        self._listener: Listener | None = None
        self._handlers: list[NotificationHandler] = []
        self._listening = asyncio.Lock()

    driver_errors = (asyncpg.PostgresError, asyncpg.InterfaceError)
    latest_schema_version = LATEST_VERSION

    def __repr__(self) -> str:
        return f"PostgresEngine({self.dsn!r})"

    # -- connections ---------------------------------------------------------------------------

    def _settings(self, application_name: str, *, pool: bool) -> dict[str, Any]:
        options = dict(self._options)
        settings = dict(options.pop("server_settings", None) or {})
        settings.setdefault("application_name", application_name)
        if pool:
            options.setdefault("reset", _no_reset)
        else:
            options = {key: value for key, value in options.items() if key not in _POOL_ONLY}
        return {**options, "server_settings": settings}

    async def connect(self) -> None:
        """Open the connection pool (idempotent)."""
        await self._get_pool()

    async def _get_pool(self) -> asyncpg.Pool:
        pool = self._pool
        if pool is not None:
            return pool
        async with self._connecting:
            if self._pool is None:
                pool = await asyncpg.create_pool(
                    self._connect_dsn,
                    min_size=self._pool_min,
                    max_size=self._pool_max,
                    **self._settings("oban", pool=True),
                )
                self._pooled = _Pooled(pool)
                self._pool = pool
            return self._pool

    async def _statements(self) -> _Pooled:
        """Where single statements run: the pool, replacing connections the server dropped."""
        if self._pooled is None or self._pool is None:
            await self._get_pool()
        assert self._pooled is not None
        return self._pooled

    def _leave_loop(self, previous: asyncio.AbstractEventLoop | None) -> None:
        """Drop the pool and the listener an earlier event loop owned; the next call reconnects.

        Handlers registered on that loop are forgotten with its listener.
        """
        pool, self._pool, self._pooled = self._pool, None, None
        listener, self._listener = self._listener, None
        self._handlers.clear()
        self._connecting, self._listening = asyncio.Lock(), asyncio.Lock()
        if previous is not None and (pool is not None or listener is not None):
            loops.on_loop(previous, lambda: _abandon(pool, listener))

    async def close(self) -> None:
        """Stop notifications and close every connection; the next call reconnects."""
        self._handlers.clear()
        listener, self._listener = self._listener, None
        if listener is not None:
            await listener.stop()
        pool, self._pool, self._pooled = self._pool, None, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), 10.0)
            except (TimeoutError, asyncpg.PostgresError, OSError):
                pool.terminate()

    # -- schema --------------------------------------------------------------------------------

    async def _layout(self, conn: Any) -> _Layout:
        row = await conn.fetchrow(self._q["schema_layout"], self.prefix)
        if row is None:
            return _Layout(exists=False)
        if row["errors_type"] == "jsonb":
            return _Layout(exists=True, oban_py=True)
        text = (row["version"] or "").strip()
        if not text.isdigit():
            raise SchemaError(
                f"{self.prefix}.oban_jobs has no Oban version comment (found {row['version']!r}); "
                "it was not created by Oban's migrations"
            )
        return _Layout(exists=True, version=int(text))

    async def schema_version(self) -> int:
        """Oban's schema version in the prefix, 0 when ``oban_jobs`` is missing.

        A layout set up by oban-py reports :data:`LATEST_VERSION`: it holds everything that
        version provides.
        """
        pool = await self._statements()
        layout = await self._layout(pool)
        if not layout.exists:
            return 0
        return LATEST_VERSION if layout.oban_py else int(layout.version or 0)

    async def migrate(self, version: int | None = None) -> int:
        """Move the schema to ``version`` (newest when ``None``) in one transaction.

        Versions are Oban's (1 to :data:`LATEST_VERSION`). A schema newer than this code knows
        is left alone by ``migrate()`` and refused for explicit targets; an oban-py layout can
        only be kept (``migrate()``) or removed (``migrate(0)``).
        """
        try:
            return await self._migrate(version)
        finally:
            self._tags_as_json = None  # the layout may have changed: the next insert looks again

    async def _migrate(self, version: int | None) -> int:
        target = _MIGRATIONS.target(version)
        pool = await self._get_pool()
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(self._q["lock_migrations"], self.prefix)
            if target > 0 and not await conn.fetchval(self._q["schema_exists"], self.prefix):
                await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self._quoted}")
            layout = await self._layout(conn)
            if layout.oban_py:
                return await self._migrate_oban_py(conn, target)
            current = layout.version or 0
            if current > LATEST_VERSION:
                if version is None:
                    return current
                raise SchemaError(
                    f"{self.prefix}.oban_jobs is at Oban schema version {current}, newer than the "
                    f"{LATEST_VERSION} this oban knows; upgrade oban to migrate it"
                )
            # Heartbeats need oban_producers, which is not part of Oban's version history: it is
            # created alongside the newest version (as oban-py lays it out) and dropped with the rest.
            if target == LATEST_VERSION:
                await conn.execute(self._q["create_producers"])
            elif target == 0:
                await conn.execute(self._q["drop_producers"])
            if current == target:
                return target
            await conn.execute(f"SET LOCAL search_path TO {self._quoted}")
            for script, _ in _MIGRATIONS.steps(current, target):
                await self._run_script(conn, script)
            if target > 0:
                await conn.execute(f"COMMENT ON TABLE oban_jobs IS '{target}'")
            log.info("migrated %s from schema version %d to %d", self.dsn, current, target)
        return target

    async def _migrate_oban_py(self, conn: Any, target: int) -> int:
        if target == 0:
            await conn.execute(self._q["drop_layout"])
            return 0
        if target != LATEST_VERSION:
            raise SchemaError(
                f"{self.prefix}.oban_jobs has oban-py's layout, which has no Oban version history; "
                f"it can only be kept (migrate()) or removed (migrate(0)), not moved to {target}"
            )
        await conn.execute(self._q["create_peers"])
        await conn.execute(self._q["create_producers"])
        return LATEST_VERSION

    @staticmethod
    async def _run_script(conn: Any, script: str) -> None:
        body = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("--")).strip()
        if body:
            await conn.execute(body)

    # -- inserting -----------------------------------------------------------------------------

    def _insert_args(
        self, jobs: Sequence[Job], metas: Sequence[dict[str, Any]], now: datetime, tags_as_json: bool
    ) -> tuple[Any, ...]:
        states, queues, workers, args, encoded_metas, tags, attempts, priorities, scheduled = (
            [],
            [],
            [],
            [],
            [],
            [],
            [],
            [],
            [],
        )
        for job, meta in zip(jobs, metas, strict=True):
            states.append(job.state.value)
            queues.append(job.queue)
            workers.append(job.worker)
            args.append(encode_json(job.args, "args"))
            encoded_metas.append(encode_json(meta, "meta"))
            tags.append(encode_json(job.tags, "tags") if tags_as_json else _text_array(job.tags))
            attempts.append(job.max_attempts)
            priorities.append(job.priority)
            scheduled.append(naive_utc(job.scheduled_at) if job.scheduled_at is not None else now)
        return (
            states,
            queues,
            workers,
            args,
            encoded_metas,
            tags,
            attempts,
            priorities,
            now,
            scheduled,
            self._channels["insert"],
        )

    async def _insert_rows(
        self, conn: Any, jobs: Sequence[Job], metas: Sequence[dict[str, Any]], now: datetime
    ) -> list[Job]:
        """Insert plain jobs: one statement, or for more than ``INSERT_CHUNK`` jobs one per chunk,
        each chunk encoded while the server writes the one before (``conn`` is in a transaction)."""
        if self._tags_as_json is None:
            row = await conn.fetchrow(self._q["schema_layout"], self.prefix)
            self._tags_as_json = row is not None and row["tags_type"] == "jsonb"
        json_tags = self._tags_as_json
        statement = self._q["insert_jobs_json_tags" if json_tags else "insert_jobs"]
        if len(jobs) <= INSERT_CHUNK or isinstance(conn, _Blocking):  # _Blocking runs without a loop
            args = self._insert_args(jobs, metas, now, json_tags)
            return self._stored(jobs, metas, await self._run_insert(conn, statement, args), now)
        stored: list[Job] = []
        previous: tuple[asyncio.Task[Any], int, int] | None = None
        try:
            for start in range(0, len(jobs), INSERT_CHUNK):
                end = min(start + INSERT_CHUNK, len(jobs))
                args = self._insert_args(jobs[start:end], metas[start:end], now, json_tags)
                done = None if previous is None else (await previous[0], previous[1], previous[2])
                task = asyncio.ensure_future(self._run_insert(conn, statement, args))
                await asyncio.sleep(0)  # let the task send its statement before building the next chunk
                previous = (task, start, end)
                if done is not None:  # built while the server writes the chunk just sent
                    stored += self._stored(jobs[done[1] : done[2]], metas[done[1] : done[2]], done[0], now)
        except BaseException:
            if previous is not None:  # the connection must be idle before the transaction rolls back
                await asyncio.gather(previous[0], return_exceptions=True)
            raise
        assert previous is not None
        task, start, end = previous
        return stored + self._stored(jobs[start:end], metas[start:end], await task, now)

    @staticmethod
    async def _run_insert(conn: Any, statement: str, args: tuple[Any, ...]) -> Any:
        try:
            return await conn.fetchval(statement, *args)
        except asyncpg.CheckViolationError as error:
            raise _check_violation(error) from None

    @staticmethod
    def _stored(jobs: Sequence[Job], metas: Sequence[dict[str, Any]], ids: Any, now: datetime) -> list[Job]:
        if ids is None or len(ids) != len(jobs):
            raise ObanError(f"inserted {len(ids or ())} rows for {len(jobs)} jobs")
        inserted_at = aware_utc(now)
        assert inserted_at is not None
        return [
            inserted_job(job, job_id, inserted_at, job.scheduled_at or inserted_at, meta)
            for job, job_id, meta in zip(jobs, ids, metas, strict=True)
        ]

    async def insert_jobs(self, jobs: Sequence[Job], *, conn: Any = None) -> list[Job]:
        """Insert ``jobs`` in one statement (unique jobs under advisory locks); see the protocol."""
        if not jobs:
            return []
        prepared = [prepare_insert(job) for job in jobs]
        now = naive_utc(utcnow())
        if conn is not None:
            if not callable(getattr(conn, "fetch", None)) or not callable(getattr(conn, "transaction", None)):
                raise TypeError(f"conn must be an asyncpg connection for PostgresEngine, got {type(conn).__name__}")
            async with conn.transaction():  # a savepoint inside the caller's transaction
                return await self._insert_all(conn, jobs, prepared, now)
        if len(jobs) <= INSERT_CHUNK and all(key is None for _, key in prepared):
            return await self._insert_rows(await self._statements(), jobs, [meta for meta, _ in prepared], now)
        pool = await self._get_pool()
        async with pool.acquire() as own, own.transaction():
            return await self._insert_all(own, jobs, prepared, now)

    def insert_jobs_dbapi(self, conn: Any, jobs: Sequence[Job]) -> list[Job]:
        """Insert ``jobs`` through the caller's psycopg 3 connection, inside its transaction.

        See ``oban.engines.protocol.BlockingInsert``. ``conn`` may be a ``psycopg.Connection``
        or ``psycopg.Cursor``, or what Django (``django.db.connection``) and SQLAlchemy
        (``engine.raw_connection()``) wrap one in. The statements are the engine's own, in a
        savepoint of the caller's transaction (in a transaction of their own in autocommit).
        """
        raw = _psycopg_connection(conn)
        if not jobs:
            return []
        prepared = [prepare_insert(job) for job in jobs]
        now = naive_utc(utcnow())
        import psycopg

        try:
            if raw.autocommit and raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                with raw.transaction():  # no transaction to join: one of our own, committed
                    return dbapi.complete(self._insert_all(_Blocking(raw), jobs, prepared, now))
            # Not raw.transaction(): on an idle connection outside autocommit it would commit at
            # its end, where the caller's implicit transaction must stay open until they commit.
            statements = _Blocking(raw)
            statements.run("SAVEPOINT oban_insert")
            try:
                inserted = dbapi.complete(self._insert_all(statements, jobs, prepared, now))
            except BaseException:
                statements.run("ROLLBACK TO SAVEPOINT oban_insert")
                statements.run("RELEASE SAVEPOINT oban_insert")
                raise
            statements.run("RELEASE SAVEPOINT oban_insert")
            return inserted
        except psycopg.Error as error:
            raise DatabaseError(f"insert_jobs_dbapi on {self.dsn} failed: {type(error).__name__}: {error}") from error

    async def _insert_all(
        self, conn: Any, jobs: Sequence[Job], prepared: Sequence[tuple[dict[str, Any], str | None]], now: datetime
    ) -> list[Job]:
        plain = [index for index, (_, key) in enumerate(prepared) if key is None]
        unique = [index for index, (_, key) in enumerate(prepared) if key is not None]
        results: list[Job | None] = [None] * len(jobs)
        if unique:
            keys = sorted({f"{self.prefix}:{prepared[index][1]}" for index in unique})
            await conn.fetchval(self._q["lock_unique_keys"], keys)
            if len(keys) == len(unique) > 1:  # no key twice: look them all up at once
                return await self._insert_distinct(conn, jobs, prepared, plain, unique, now)
        if plain:
            stored = await self._insert_rows(conn, [jobs[i] for i in plain], [prepared[i][0] for i in plain], now)
            for index, job in zip(plain, stored, strict=True):
                results[index] = job
        for index in unique:
            job, (meta, key) = jobs[index], prepared[index]
            assert key is not None
            existing = await self._find_unique(conn, job, key, now)
            if existing is None:
                [results[index]] = await self._insert_rows(conn, [job], [meta], now)
            else:
                results[index] = await self._replace(conn, existing, job, now)
        return [job for job in results if job is not None]

    async def _insert_distinct(
        self,
        conn: Any,
        jobs: Sequence[Job],
        prepared: Sequence[tuple[dict[str, Any], str | None]],
        plain: list[int],
        unique: list[int],
        now: datetime,
    ) -> list[Job]:
        """``_insert_all`` when no two unique jobs share a key: one lookup for every unique job,
        one insert for the plain ones and the unique ones nothing duplicates, then the replaces."""
        lookups = [(jobs[index], prepared[index][1]) for index in unique]
        if len(lookups) > 50:
            # The plan of a large lookup costs enough on paper for JIT compilation, which takes
            # longer than the lookup itself; this lasts to the end of the transaction.
            await conn.execute("SET LOCAL jit = off")
        found_jobs: list[Job | None] = []
        for start in range(0, len(lookups), 500):
            found_jobs += await self._find_unique_many(conn, lookups[start : start + 500], now)
        found = dict(zip(unique, found_jobs, strict=True))
        fresh = sorted(plain + [index for index in unique if found[index] is None])
        results: list[Job | None] = [None] * len(jobs)
        if fresh:
            stored = await self._insert_rows(conn, [jobs[i] for i in fresh], [prepared[i][0] for i in fresh], now)
            for index, job in zip(fresh, stored, strict=True):
                results[index] = job
        for index in unique:
            existing = found[index]
            if existing is not None:
                results[index] = await self._replace(conn, existing, jobs[index], now)
        return [job for job in results if job is not None]

    async def _find_unique_many(
        self, conn: Any, lookups: Sequence[tuple[Job, str | None]], now: datetime
    ) -> list[Job | None]:
        keys, states, since, timestamps = [], [], [], []
        for job, key in lookups:
            unique = job.unique
            assert unique is not None and key is not None
            keys.append(key)
            states.append(_text_array(sorted(s.value for s in unique.states)))
            since.append(None if unique.period is None else now - timedelta(seconds=unique.period))
            timestamps.append(unique.timestamp)
        rows = await conn.fetch(self._q["find_unique_many"], keys, states, since, timestamps)
        return [None if row["id"] is None else _job_from_row(row) for row in rows]

    async def _find_unique(self, conn: Any, job: Job, key: str, now: datetime) -> Job | None:
        unique = job.unique
        assert unique is not None
        since = None if unique.period is None else now - timedelta(seconds=unique.period)
        row = await conn.fetchrow(
            self._q["find_unique"],
            key,
            sorted(s.value for s in unique.states),
            since,
            unique.timestamp,
        )
        return None if row is None else _job_from_row(row)

    async def _replace(self, conn: Any, existing: Job, job: Job, now: datetime) -> Job:
        if apply_replace(existing, job, now):
            await self._write_updates(conn, [existing], now)
        existing.conflict = True
        return existing

    # -- running -------------------------------------------------------------------------------

    async def fetch_jobs(self, queue: str, demand: int, node: str, now: datetime, uuid: str | None = None) -> list[Job]:
        """Claim up to ``demand`` jobs of ``queue`` in one statement (``FOR UPDATE SKIP LOCKED``)."""
        if demand <= 0:
            return []
        pool = await self._statements()
        attempted_by = [node] if uuid is None else [node, uuid]
        recovered = await self._settle_earlier_claims(queue)
        try:
            rows = await pool.fetch(self._q["fetch_jobs"], queue, demand, attempted_by, naive_utc(now))
        except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError) as error:
            # The connection died with the claim: it may have committed. The rows tell, since a
            # claim stamps them with exactly this claimer and this time; jobs it took must not be
            # left executing for nobody. If they cannot tell yet, the next claim asks again.
            self._unsettled.append((queue, attempted_by, naive_utc(now)))
            rows = await self._settle_earlier_claims(queue)
            if not rows:
                raise error from None
        rows = [*recovered, *rows]
        if len(rows) > 1:
            rows.sort(key=_CLAIM_ORDER)
        return [_claimed_job(row) for row in rows]

    async def _settle_earlier_claims(self, queue: str) -> list[Any]:
        """Jobs of claims of ``queue`` whose replies were lost, read back once the server answers."""
        found: list[Any] = []
        # Taken off the list before the first await: claims of one queue may run concurrently,
        # and only one of them may read back (and run) a lost claim's jobs.
        claims = [c for c in self._unsettled if c[0] == queue]
        for claim in claims:
            self._unsettled.remove(claim)
        for claim in claims:
            try:
                pool = await self._statements()
                rows = await pool.fetch(self._q["claim_outcome"], *claim)
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                self._unsettled.append(claim)  # still unreachable: ask again next time
                continue
            if rows:
                log.warning("a claim lost its connection after committing; recovered %d jobs", len(rows))
            found.extend(rows)
        return found

    async def ack_jobs(self, acks: Sequence[Ack]) -> list[int]:
        """Write every ack of the batch in one statement; returns the ids it changed."""
        if not acks:
            return []
        if all(ack.state == JobState.COMPLETED and ack.error is None and not ack.meta for ack in acks):
            pool = await self._statements()
            completions = (
                [ack.job_id for ack in acks],
                [ack.attempt for ack in acks],
                [naive_utc(ack.at) for ack in acks],
            )
            return [row["id"] for row in await pool.fetch(self._q["complete_jobs"], *completions)]
        ids, attempts, states, ats, scheduled, errors, metas = [], [], [], [], [], [], []
        for ack in acks:
            ids.append(ack.job_id)
            attempts.append(ack.attempt)
            states.append(JobState(ack.state).value)
            ats.append(naive_utc(ack.at))
            scheduled.append(naive_utc(ack.scheduled_at) if ack.scheduled_at is not None else None)
            errors.append(encode_json(ack.error, "error") if ack.error is not None else None)
            metas.append(encode_json(ack.meta, "meta") if ack.meta else None)
        pool = await self._statements()
        rows = await pool.fetch(self._q["ack_jobs"], ids, attempts, states, ats, scheduled, errors, metas)
        return [row["id"] for row in rows]

    # -- reading and managing ------------------------------------------------------------------

    async def get_job(self, job_id: int) -> Job | None:
        """The job with this id, or ``None``."""
        pool = await self._statements()
        rows = await pool.fetch(self._q["select_jobs_by_id"], [int(job_id)])
        return _job_from_row(rows[0]) if rows else None

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
        wanted = None if states is None else [JobState(state).value for state in states]
        found = job_search(search)
        pattern, search_id = (None, None) if found is None else (found.pattern, found.job_id)
        before = check_before_id(before_id)
        pool = await self._statements()
        rows = await pool.fetch(self._q["list_jobs"], queue, worker, wanted, int(limit), pattern, search_id, before)
        return [_job_from_row(row) for row in rows]

    async def job_activity(self, since: datetime, bucket: int) -> list[Activity]:
        """Jobs finished since ``since``, counted per bucket, queue and state."""
        params = (naive_utc(check_since(since)), check_bucket(bucket))
        pool = await self._statements()
        return activity_from_rows(tuple(row) for row in await pool.fetch(self._q["job_activity"], *params))

    async def count_jobs(self) -> dict[tuple[str, JobState], int]:
        """How many jobs each queue holds in each state."""
        pool = await self._statements()
        rows = await pool.fetch(self._q["count_jobs"])
        return {(row["queue"], JobState(row["state"])): int(row["n"]) for row in rows}

    async def cancel_jobs(self, ids: Sequence[int], now: datetime) -> tuple[int, list[int]]:
        """Cancel incomplete jobs among ``ids``; return (count, ids that were executing)."""
        if not ids:
            return 0, []
        pool = await self._statements()
        rows = await pool.fetch(self._q["cancel_jobs"], _ids(ids), naive_utc(now))
        return len(rows), [row["id"] for row in rows if row["old_state"] == JobState.EXECUTING.value]

    async def retry_jobs(self, ids: Sequence[int], now: datetime) -> int:
        """Make jobs among ``ids`` that are not available or executing available now."""
        if not ids:
            return 0
        pool = await self._statements()
        return _count(await pool.execute(self._q["retry_jobs"], _ids(ids), naive_utc(now)))

    async def delete_jobs(self, ids: Sequence[int]) -> int:
        """Delete the jobs among ``ids`` that are not executing."""
        if not ids:
            return 0
        pool = await self._statements()
        return _count(await pool.execute(self._q["delete_jobs"], _ids(ids)))

    async def _write_updates(self, conn: Any, jobs: Sequence[Job], now: datetime) -> None:
        columns: tuple[list[Any], ...] = ([], [], [], [], [], [], [], [], [], [])
        for job in jobs:
            values = (
                job.id,
                encode_json(job.args, "args"),
                job.max_attempts,
                encode_json(job.meta, "meta"),
                job.priority,
                job.queue,
                naive_utc(job.scheduled_at or now),
                encode_json(job.tags, "tags"),
                job.worker,
                job.state.value,
            )
            for column, value in zip(columns, values, strict=True):
                column.append(value)
        try:
            await conn.execute(self._q["update_jobs"], *columns)
        except asyncpg.CheckViolationError as error:
            raise _check_violation(error) from None

    async def update_jobs(self, ids: Sequence[int], change: Callable[[Job], Job]) -> list[Job]:
        """Lock the jobs, let ``change`` build each new version, and store them all or none."""
        if not ids:
            return []
        now = naive_utc(utcnow())
        pool = await self._get_pool()
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(self._q["lock_jobs_by_id"], _ids(ids))
            updated = [updated_job(_job_from_row(row), change) for row in rows]
            if updated:
                await self._write_updates(conn, updated, now)
        return updated

    # -- maintenance ---------------------------------------------------------------------------

    async def stage_jobs(self, now: datetime, limit: int, queue: str | None = None) -> list[str]:
        """Make up to ``limit`` due scheduled/retryable jobs (of ``queue``, if given) available; return their queues."""
        pool = await self._statements()
        rows = await pool.fetch(self._q["stage_jobs"], naive_utc(now), int(limit), queue)
        return sorted(row["queue"] for row in rows)

    async def prune_jobs(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` finished jobs that finished before ``before``."""
        pool = await self._statements()
        return _count(await pool.execute(self._q["prune_jobs"], naive_utc(before), int(limit)))

    async def rescue_jobs(self, now: datetime, fallback_before: datetime) -> tuple[int, int]:
        """Rescue jobs of stale producers (or of none, attempted before ``fallback_before``); then
        forget producers long stale. Each rescued job gets a rescue entry appended to ``errors``."""
        pool = await self._statements()
        params = (naive_utc(now), naive_utc(fallback_before), to_iso(now), RESCUE_ERROR, PRODUCER_TTL)
        row = await self._with_producers(pool.fetchrow, self._q["rescue_jobs"], *params)
        await pool.execute(self._q["prune_producers"], naive_utc(now), PRODUCER_TTL, PRODUCER_RETENTION)
        return int(row["rescued"]), int(row["discarded"])

    # -- heartbeats ----------------------------------------------------------------------------

    async def _create_missing(self, query: str) -> None:
        """Create a table a foreign layout lacks, under the migration lock: two nodes creating it
        at once would otherwise collide in the catalog."""
        pool = await self._get_pool()
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(self._q["lock_migrations"], self.prefix)
            await conn.execute(self._q[query])

    async def _with_producers(self, call: Callable[..., Any], *args: Any) -> Any:
        """Run ``call(*args)``, creating ``oban_producers`` first if a layout installed without it."""
        try:
            return await call(*args)
        except asyncpg.UndefinedTableError:
            await self._create_missing("create_producers")
            return await call(*args)

    async def record_producers(self, producers: Sequence[ProducerRecord]) -> None:
        """Insert or refresh each producer's row in one statement."""
        if not producers:
            return
        pool = await self._statements()
        await self._with_producers(
            pool.execute,
            self._q["record_producers"],
            [p.uuid for p in producers],
            [p.name for p in producers],
            [p.node for p in producers],
            [p.queue for p in producers],
            [encode_json(p.meta, "meta") for p in producers],
            [naive_utc(p.started_at) for p in producers],
            [naive_utc(p.updated_at) for p in producers],
        )

    async def retire_producers(self, uuids: Sequence[str], now: datetime) -> None:
        """Make the producers' rows stale from ``now`` (their ttl becomes 0)."""
        if uuids:
            pool = await self._statements()
            await self._with_producers(pool.execute, self._q["retire_producers"], list(uuids), naive_utc(now))

    async def list_producers(self) -> list[ProducerRecord]:
        """Every producer row (ours and oban-py's share the table)."""
        pool = await self._statements()
        rows = await self._with_producers(pool.fetch, self._q["list_producers"])
        return [
            ProducerRecord(
                uuid=row["uuid"],
                name=row["name"],
                node=row["node"],
                queue=row["queue"],
                meta=_decode(row["meta"], {}),
                started_at=aware_utc(row["started_at"]),
                updated_at=aware_utc(row["updated_at"]),
            )
            for row in rows
        ]

    # -- leadership ----------------------------------------------------------------------------

    async def elect_leader(self, name: str, node: str, ttl: float, now: datetime) -> bool:
        """Take or renew the lease in ``oban_peers``; True if ``node`` holds it afterwards."""
        pool = await self._statements()
        params = (name, node, naive_utc(now), naive_utc(now + timedelta(seconds=ttl)))
        try:
            holder: str | None = await pool.fetchval(self._q["elect_leader"], *params)
        except asyncpg.UndefinedTableError:
            # oban-py's layout has no oban_peers (it keeps oban_leaders); add ours on first use.
            await self._create_missing("create_peers")
            holder = await pool.fetchval(self._q["elect_leader"], *params)
        return holder == node

    async def resign_leader(self, name: str, node: str) -> None:
        """Delete the lease if ``node`` holds it."""
        pool = await self._statements()
        try:
            await pool.execute(self._q["resign_leader"], name, node)
        except asyncpg.UndefinedTableError:
            pass  # no lease table yet, so no lease to give up

    # -- notifications -------------------------------------------------------------------------

    async def notify(self, channel: str, payloads: Sequence[dict[str, Any]]) -> None:
        """NOTIFY every payload on ``channel`` (``insert``, ``signal`` or ``leader``) in one statement."""
        check_channel(channel)
        texts = encode_payloads(payloads)
        if not texts:
            return
        pool = await self._statements()
        await pool.fetchval(self._q["notify"], self._channels[channel], texts)

    async def listen(self, handler: NotificationHandler) -> None:
        """Deliver every notification to ``handler``; returns once the LISTENs are in place."""
        if handler not in self._handlers:
            self._handlers.append(handler)
        try:
            async with self._listening:
                if self._listener is None:
                    listener = Listener(
                        self._connect_listener,
                        listen_names(self.prefix, CHANNELS),
                        self._deliver,
                        keepalive=self._keepalive,
                    )
                    await listener.start()
                    self._listener = listener
        except BaseException:
            self._handlers.remove(handler)
            raise

    async def unlisten(self, handler: NotificationHandler) -> None:
        """Stop delivering to ``handler``; the listening connection closes with the last one."""
        if handler in self._handlers:
            self._handlers.remove(handler)
        async with self._listening:
            if not self._handlers and self._listener is not None:
                listener, self._listener = self._listener, None
                await listener.stop()

    async def _connect_listener(self) -> asyncpg.Connection:
        return await asyncpg.connect(self._connect_dsn, **self._settings("oban notifier", pool=False))

    def _deliver(self, channel: str, payload: dict[str, Any]) -> None:
        hub.deliver(self._handlers, channel, payload)
