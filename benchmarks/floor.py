"""The raw SQL floor: the same work as oban's, written straight on each driver, no oban code.

Every figure ``benchmarks/bench.py`` prints is a ratio to one of these, measured in the same run
on the same table: the engine's own ``oban_jobs``, installed by the engine's ``install()``, with
its indexes and constraints. What the floor does, per engine:

enqueue
    One statement (PostgreSQL: ``INSERT ... SELECT FROM unnest`` of parallel arrays; MariaDB:
    one multi-row ``INSERT``) or one ``executemany`` in one transaction (SQLite) for all rows,
    from Python dicts: ``json.dumps`` of each job's args and meta is counted, ids are not read
    back.

drain
    Claim up to ``limit`` available rows of a queue with the engine's locking idiom (PostgreSQL:
    a ``FOR UPDATE SKIP LOCKED`` CTE feeding an ``UPDATE ... RETURNING``; MariaDB: ``SELECT ...
    FOR UPDATE SKIP LOCKED`` then ``UPDATE`` in one transaction at READ COMMITTED; SQLite:
    ``UPDATE ... WHERE id IN (SELECT ... LIMIT) RETURNING`` inside ``BEGIN IMMEDIATE``), mark
    them executing (attempt + 1, attempted_at, attempted_by), read what a worker needs (id,
    worker, args, meta, attempt), then mark them completed, guarded by ``state = 'executing'``
    and the attempt, as oban's acks are. No job code runs and no Python objects are built
    beyond the driver's rows. Two loop shapes are timed and the faster is the floor:

    * ``serial``: claim a batch, complete it, claim the next, on one connection;
    * ``pipelined``: a claimer and a completer on two connections; the claimer claims the next
      batch as soon as the last one has "run" (at once: no job code), while the completer writes
      every finished batch so far in one statement, as a queue with a write-behind acker does.

SQLite's floor runs ``sqlite3`` on one dedicated thread, one hop from the event loop per
transaction (the fewest an asyncio library can make without blocking its loop, and what
aiosqlite costs at best); a blocking ``sqlite3`` loop on the event loop would be faster but is
not something an asyncio queue may do. Connections are set up as the engines set up theirs
(WAL and ``synchronous = NORMAL`` on SQLite; READ COMMITTED and UTC on MariaDB).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Protocol

from tests import support

# A claimed row as the floor keeps it: (id, worker, args, meta, attempt).
Claimed = Sequence[Any]
NODE = "floor"
ATTEMPTED_BY = [NODE, "00000000-0000-0000-0000-000000000000"]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _sqlite_time(value: datetime) -> str:
    # The LiteEngine's text format: fixed width, so text order is time order.
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond:06d}Z"


class Floor(Protocol):
    """The raw statements of one engine on one database."""

    name: str

    async def insert(self, queue: str, worker: str, args: Sequence[dict[str, Any]]) -> None:
        """Insert one available row per item of ``args``, all at once."""

    async def claim(self, queue: str, limit: int, conn: int) -> list[Claimed]:
        """Claim up to ``limit`` available rows of ``queue`` on connection ``conn`` (0 or 1)."""

    async def complete(self, done: Sequence[Claimed], conn: int) -> int:
        """Mark claimed rows completed on connection ``conn``; return how many changed."""

    async def close(self) -> None:
        """Close every connection."""


# -- PostgreSQL, asyncpg -------------------------------------------------------------------------

_PG_INSERT = """
INSERT INTO oban_jobs (state, queue, worker, args, meta, max_attempts, priority, inserted_at, scheduled_at)
SELECT 'available', u.queue, u.worker, u.args::jsonb, u.meta::jsonb, u.max_attempts, u.priority, $7, $7
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[])
     AS u(queue, worker, args, meta, max_attempts, priority)
"""

_PG_CLAIM = """
WITH locked AS (
    SELECT id FROM oban_jobs
    WHERE state = 'available' AND queue = $1 AND attempt < max_attempts
    ORDER BY priority, scheduled_at, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE oban_jobs AS j
SET state = 'executing', attempt = j.attempt + 1, attempted_at = $3, attempted_by = $4::text[]
FROM locked
WHERE j.id = locked.id
RETURNING j.id, j.worker, j.args, j.meta, j.attempt
"""

_PG_COMPLETE = """
UPDATE oban_jobs AS j
SET state = 'completed', completed_at = $3
FROM unnest($1::bigint[], $2::int[]) AS a(id, attempt)
WHERE j.id = a.id AND j.state = 'executing' AND j.attempt = a.attempt
"""


class PostgresFloor:
    """asyncpg, two plain connections with ``search_path`` set to the engine's schema."""

    name = "postgres"

    def __init__(self, conns: list[Any]) -> None:
        self._conns = conns

    @classmethod
    async def open(cls, dsn: str, schema: str) -> PostgresFloor:
        import asyncpg

        settings = {"search_path": schema, "application_name": "oban-floor"}
        return cls([await asyncpg.connect(dsn, server_settings=settings) for _ in range(2)])

    async def insert(self, queue: str, worker: str, args: Sequence[dict[str, Any]]) -> None:
        count = len(args)
        await self._conns[0].execute(
            _PG_INSERT,
            [queue] * count,
            [worker] * count,
            [json.dumps(item) for item in args],
            [json.dumps({}) for _ in args],
            [20] * count,
            [0] * count,
            _now(),
        )

    async def claim(self, queue: str, limit: int, conn: int) -> list[Claimed]:
        return list(await self._conns[conn].fetch(_PG_CLAIM, queue, limit, _now(), ATTEMPTED_BY))

    async def complete(self, done: Sequence[Claimed], conn: int) -> int:
        ids, attempts = [row[0] for row in done], [row[4] for row in done]
        status = await self._conns[conn].execute(_PG_COMPLETE, ids, attempts, _now())
        return int(status.rsplit(" ", 1)[1])

    async def close(self) -> None:
        for conn in self._conns:
            await conn.close()


# -- SQLite, sqlite3 on one thread ------------------------------------------------------------

_LITE_INSERT = """
INSERT INTO oban_jobs (state, queue, worker, args, meta, tags, errors, attempted_by, attempt, max_attempts,
                       priority, inserted_at, scheduled_at)
VALUES ('available', ?, ?, ?, ?, '[]', '[]', '[]', 0, ?, ?, ?, ?)
"""

_LITE_CLAIM = """
UPDATE oban_jobs
SET state = 'executing', attempt = attempt + 1, attempted_at = ?, attempted_by = ?
WHERE id IN (
    SELECT id FROM oban_jobs
    WHERE state = 'available' AND queue = ? AND attempt < max_attempts
    ORDER BY priority, scheduled_at, id
    LIMIT ?
)
RETURNING id, worker, args, meta, attempt
"""

_LITE_COMPLETE = """
UPDATE oban_jobs SET state = 'completed', completed_at = ?
WHERE id = ? AND attempt = ? AND state = 'executing'
"""


class LiteFloor:
    """``sqlite3`` on a single worker thread; each transaction is one hop from the event loop."""

    name = "sqlite"

    def __init__(self, path: str) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="oban-floor-sqlite")
        self._path = path
        self._db: sqlite3.Connection | None = None

    @classmethod
    async def open(cls, path: str) -> LiteFloor:
        floor = cls(path)
        await floor._call(floor._connect)
        return floor

    def _connect(self) -> None:
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA busy_timeout = 5000")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        self._db = db

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    def _write(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        db = self._db
        assert db is not None
        db.execute("BEGIN IMMEDIATE")
        try:
            result = work(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return result

    async def insert(self, queue: str, worker: str, args: Sequence[dict[str, Any]]) -> None:
        now = _sqlite_time(_now())
        rows = [(queue, worker, json.dumps(item), json.dumps({}), 20, 0, now, now) for item in args]
        await self._call(self._write, lambda db: db.executemany(_LITE_INSERT, rows))

    async def claim(self, queue: str, limit: int, conn: int) -> list[Claimed]:
        params = (_sqlite_time(_now()), json.dumps(ATTEMPTED_BY), queue, limit)
        rows: list[Claimed] = await self._call(self._write, lambda db: db.execute(_LITE_CLAIM, params).fetchall())
        return rows

    async def complete(self, done: Sequence[Claimed], conn: int) -> int:
        now = _sqlite_time(_now())
        params = [(now, row[0], row[4]) for row in done]
        changed: int = await self._call(self._write, lambda db: db.executemany(_LITE_COMPLETE, params).rowcount)
        return changed

    async def close(self) -> None:
        if self._db is not None:
            await self._call(self._db.close)
        self._thread.shutdown()


# -- MariaDB / MySQL, asyncmy -----------------------------------------------------------------

_MY_INSERT_HEAD = (
    "INSERT INTO oban_jobs (state, queue, worker, args, meta, tags, errors, attempted_by, attempt,"
    " max_attempts, priority, inserted_at, scheduled_at) VALUES "
)
_MY_INSERT_ROW = "('available', %s, %s, %s, %s, '[]', '[]', '[]', 0, %s, %s, %s, %s)"

_MY_LOCK = """
SELECT id, worker, args, meta, attempt FROM oban_jobs
WHERE state = 'available' AND queue = %s AND attempt < max_attempts
ORDER BY priority, scheduled_at, id
LIMIT %s
FOR UPDATE SKIP LOCKED
"""

_MY_CLAIM = """
UPDATE oban_jobs SET state = 'executing', attempt = attempt + 1, attempted_at = %s, attempted_by = %s
WHERE id IN %s
"""

_MY_COMPLETE = """
UPDATE oban_jobs SET state = 'completed', completed_at = %s
WHERE id IN %s AND state = 'executing' AND (id, attempt) IN %s
"""


class MySQLFloor:
    """asyncmy, two connections at READ COMMITTED in UTC, as the MySQLEngine configures its pool."""

    name = "mysql"

    def __init__(self, conns: list[Any]) -> None:
        self._conns = conns

    @classmethod
    async def open(cls, dsn: str, database: str) -> MySQLFloor:
        conns = []
        for _ in range(2):
            conn = await support.mysql_connect(dsn, database)
            async with conn.cursor() as cursor:
                await cursor.execute("SELECT VERSION()")
                (version,) = await cursor.fetchone()
                # MariaDB before 11.1 knows only the older name.
                name = "tx_isolation" if "mariadb" in version.lower() else "transaction_isolation"
                await cursor.execute(f"SET time_zone = '+00:00', SESSION {name} = 'READ-COMMITTED'")
            conns.append(conn)
        return cls(conns)

    async def insert(self, queue: str, worker: str, args: Sequence[dict[str, Any]]) -> None:
        now = _now()
        params: list[Any] = []
        for item in args:
            params += (queue, worker, json.dumps(item), json.dumps({}), 20, 0, now, now)
        sql = _MY_INSERT_HEAD + ",".join([_MY_INSERT_ROW] * len(args))
        async with self._conns[0].cursor() as cursor:
            await cursor.execute(sql, params)

    async def claim(self, queue: str, limit: int, conn: int) -> list[Claimed]:
        connection = self._conns[conn]
        await connection.begin()
        try:
            async with connection.cursor() as cursor:
                await cursor.execute(_MY_LOCK, (queue, limit))
                rows = list(await cursor.fetchall())
                if rows:
                    ids = tuple(row[0] for row in rows)
                    await cursor.execute(_MY_CLAIM, (_now(), json.dumps(ATTEMPTED_BY), ids))
        except BaseException:
            await connection.rollback()
            raise
        await connection.commit()
        return [(*row[:4], row[4] + 1) for row in rows]

    async def complete(self, done: Sequence[Claimed], conn: int) -> int:
        ids = tuple(row[0] for row in done)
        pairs = tuple((row[0], row[4]) for row in done)
        async with self._conns[conn].cursor() as cursor:
            await cursor.execute(_MY_COMPLETE, (_now(), ids, pairs))
            return int(cursor.rowcount)

    async def close(self) -> None:
        for conn in self._conns:
            conn.close()


# -- the loops ---------------------------------------------------------------------------------


async def time_insert(floor: Floor, queue: str, worker: str, count: int) -> float:
    """Seconds to insert ``count`` rows in one statement or batch, from Python dicts."""
    args = [{"i": i} for i in range(count)]
    started = time.perf_counter()
    await floor.insert(queue, worker, args)
    return time.perf_counter() - started


async def drain_serial(floor: Floor, queue: str, count: int, limit: int) -> float:
    """Seconds to claim and complete ``count`` rows, one batch of ``limit`` at a time."""
    started = time.perf_counter()
    completed = 0
    while completed < count:
        batch = await floor.claim(queue, limit, 0)
        if not batch:
            raise RuntimeError(f"floor drain on {floor.name} ran dry after {completed} of {count} rows")
        completed += await floor.complete(batch, 0)
    return time.perf_counter() - started


async def drain_pipelined(floor: Floor, queue: str, count: int, limit: int) -> float:
    """Seconds to drain ``count`` rows with claiming overlapped with writing completions."""
    pending: list[Claimed] = []
    more = asyncio.Event()
    completed = 0
    claiming = True

    async def completer() -> None:
        nonlocal completed
        while claiming or pending:
            if not pending:
                more.clear()
                await more.wait()
                continue
            batch = pending[:]
            pending.clear()
            completed += await floor.complete(batch, 1)

    started = time.perf_counter()
    writer = asyncio.create_task(completer())
    try:
        claimed = 0
        while claimed < count:
            batch = await floor.claim(queue, limit, 0)
            if not batch:
                raise RuntimeError(f"floor drain on {floor.name} ran dry after {claimed} of {count} rows")
            claimed += len(batch)
            pending.extend(batch)
            more.set()
        claiming = False
        more.set()
        await writer
    finally:
        claiming = False
        more.set()
        if not writer.done():
            writer.cancel()
    elapsed = time.perf_counter() - started
    if completed != count:
        raise RuntimeError(f"floor drain on {floor.name} completed {completed} of {count} rows")
    return elapsed


SHAPES: dict[str, Callable[[Floor, str, int, int], Awaitable[float]]] = {
    "serial": drain_serial,
    "pipelined": drain_pipelined,
}


async def open_floor(engine_name: str, database: str, *, postgres_dsn: str, mysql_dsn: str) -> Floor:
    """The floor for ``engine_name`` on a database that ``support.create_database`` made."""
    if engine_name == "sqlite":
        return await LiteFloor.open(database)
    if engine_name == "postgres":
        return await PostgresFloor.open(postgres_dsn, database)
    if engine_name == "mysql":
        return await MySQLFloor.open(mysql_dsn, database)
    raise ValueError(f"engine must be sqlite, postgres or mysql, got {engine_name!r}")
