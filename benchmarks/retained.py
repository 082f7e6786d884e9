"""Completed rows seeded server-side, fast: what a table holds after months of finished work.

One ``INSERT ... SELECT`` over a generated series per chunk (PostgreSQL ``generate_series``,
MariaDB's ``seq_1_to_N`` sequence table or a recursive CTE on MySQL, a recursive CTE on SQLite),
so a million rows take seconds, not minutes. The rows are ``completed`` no-op jobs in the
benchmark's queue, attempted once; with ``unique=True`` each carries its own ``uniq_key`` in meta,
as rows inserted by unique jobs do. Afterwards the server's own upkeep is done at once, as it
would be soon after such an insert (``upkeep``).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from tests import support

CHUNK = 100_000


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


_PG = """
INSERT INTO oban_jobs (state, queue, worker, args, meta, attempt, max_attempts, priority,
                       inserted_at, scheduled_at, attempted_at, completed_at, attempted_by)
SELECT 'completed', $1, $2, jsonb_build_object('i', g),
       CASE WHEN $3 THEN jsonb_build_object('uniq_key', 'seed-' || g) ELSE '{}'::jsonb END,
       1, 20, 0, $4, $4, $4, $4, ARRAY['seed']
FROM generate_series($5::bigint, $6::bigint) AS g
"""

_LITE = """
WITH RECURSIVE seq(g) AS (SELECT ? UNION ALL SELECT g + 1 FROM seq WHERE g < ?)
INSERT INTO oban_jobs (state, queue, worker, args, meta, tags, errors, attempted_by, attempt,
                       max_attempts, priority, inserted_at, scheduled_at, attempted_at, completed_at)
SELECT 'completed', ?, ?, json_object('i', g),
       CASE WHEN ? THEN json_object('uniq_key', 'seed-' || g) ELSE '{}' END,
       '[]', '[]', '["seed"]', 1, 20, 0, ?, ?, ?, ?
FROM seq
"""

_MY_COLUMNS = """
INSERT INTO oban_jobs (state, queue, worker, args, meta, tags, errors, attempted_by, attempt,
                       max_attempts, priority, inserted_at, scheduled_at, attempted_at, completed_at)
"""
_MY_SELECT = """
SELECT 'completed', %s, %s, JSON_OBJECT('i', g), IF(%s, JSON_OBJECT('uniq_key', CONCAT('seed-', g)), '{{}}'),
       '[]', '[]', '["seed"]', 1, 20, 0, %s, %s, %s, %s
FROM {source}
"""


async def seed_completed(
    engine_name: str,
    database: str,
    queue: str,
    worker: str,
    count: int,
    *,
    start: int = 0,
    unique: bool = False,
    postgres_dsn: str,
    mysql_dsn: str,
) -> None:
    """Add ``count`` completed rows numbered ``start + 1`` onwards to the engine's ``oban_jobs``."""
    if count <= 0:
        return
    now = _now()
    chunks = [(first, min(start + count, first + CHUNK - 1)) for first in range(start + 1, start + count + 1, CHUNK)]
    if engine_name == "postgres":
        import asyncpg

        conn = await asyncpg.connect(postgres_dsn, server_settings={"search_path": database})
        try:
            for first, last in chunks:
                await conn.execute(_PG, queue, worker, unique, now, first, last)
        finally:
            await conn.close()
    elif engine_name == "sqlite":
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}Z"
        db = sqlite3.connect(database, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout = 5000")
            for first, last in chunks:
                db.execute("BEGIN IMMEDIATE")
                db.execute(_LITE, (first, last, queue, worker, unique, stamp, stamp, stamp, stamp))
                db.execute("COMMIT")
        finally:
            db.close()
    elif engine_name == "mysql":
        await _seed_mysql(mysql_dsn, database, queue, worker, unique, now, chunks)
    else:
        raise ValueError(f"engine must be sqlite, postgres or mysql, got {engine_name!r}")
    await upkeep(engine_name, database, postgres_dsn=postgres_dsn, mysql_dsn=mysql_dsn)


async def upkeep(engine_name: str, database: str, *, postgres_dsn: str, mysql_dsn: str) -> None:
    """What the server's own upkeep does soon after a bulk insert, done now.

    PostgreSQL: ``VACUUM ANALYZE``, as autovacuum would: statistics, and the GIN indexes' pending
    lists merged (a lookup reads an unmerged list entry by entry). MariaDB/MySQL: ``ANALYZE
    TABLE``, as InnoDB's persistent statistics would. SQLite keeps no statistics unless asked.
    """
    if engine_name == "postgres":
        import asyncpg

        conn = await asyncpg.connect(postgres_dsn, server_settings={"search_path": database})
        try:
            await conn.execute("VACUUM ANALYZE oban_jobs")
        finally:
            await conn.close()
    elif engine_name == "mysql":
        conn = await _mysql_connect(mysql_dsn, database)
        try:
            async with conn.cursor() as cursor:
                await cursor.execute("ANALYZE TABLE oban_jobs")
                await cursor.fetchall()
        finally:
            conn.close()


async def _mysql_connect(dsn: str, database: str) -> Any:
    return await support.mysql_connect(dsn, database)


async def _seed_mysql(
    dsn: str, database: str, queue: str, worker: str, unique: bool, now: datetime, chunks: list[tuple[int, int]]
) -> None:
    conn = await _mysql_connect(dsn, database)
    try:
        async with conn.cursor() as cursor:
            await cursor.execute("SELECT VERSION()")
            (version,) = await cursor.fetchone()
            mariadb = "mariadb" in version.lower()
            if not mariadb:
                await cursor.execute(f"SET SESSION cte_max_recursion_depth = {CHUNK + 1}")
            params = (queue, worker, unique, now, now, now, now)
            for first, last in chunks:
                if mariadb:  # the Sequence engine's virtual tables: seq_1_to_100000 (column seq)
                    sql = _MY_COLUMNS + _MY_SELECT.format(source=f"(SELECT seq AS g FROM seq_{first}_to_{last}) AS s")
                else:
                    # MySQL takes the CTE between INSERT's column list and its SELECT.
                    sql = (
                        _MY_COLUMNS
                        + f"WITH RECURSIVE s(g) AS (SELECT {first} UNION ALL SELECT g + 1 FROM s WHERE g < {last}) "
                        + _MY_SELECT.format(source="s")
                    )
                await cursor.execute(sql, params)
    finally:
        conn.close()
