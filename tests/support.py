"""Creating and dropping one throwaway database per test, per engine."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from oban.engines import Engine, LiteEngine
from oban.testing.conformance._helpers import eventually as wait_until  # noqa: F401  (shared by the tests)

POSTGRES_DSN = os.environ.get("OBAN_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
MYSQL_DSN = os.environ.get("OBAN_TEST_MYSQL_DSN", "mysql://root@127.0.0.1:3306/test")
POSTGRES_TEST_DATABASE = "oban_test"


def with_database(dsn: str, database: str) -> str:
    """The same server DSN pointing at another database."""
    parsed = urlparse(dsn)
    return parsed._replace(path=f"/{database}").geturl()


async def mysql_connect(dsn: str, database: str | None = None) -> Any:
    import asyncmy

    parsed = urlparse(dsn)
    return await asyncmy.connect(
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 3306,
        user=unquote(parsed.username or "root"),
        password=unquote(parsed.password or ""),
        database=database,
        autocommit=True,
    )


async def mysql_query(conn: Any, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    """Run one statement on an asyncmy connection and return its rows."""
    async with conn.cursor() as cursor:
        await cursor.execute(sql, params)
        return list(await cursor.fetchall())


async def _ensure_postgres_database() -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_DSN)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", POSTGRES_TEST_DATABASE)
        if not exists:
            try:
                await conn.execute(f'CREATE DATABASE "{POSTGRES_TEST_DATABASE}"')
            except asyncpg.DuplicateDatabaseError:
                pass
    finally:
        await conn.close()


async def create_database(engine_name: str, tmp_path: Path) -> str:
    """A fresh place for one test: a file path, a PostgreSQL schema, or a MySQL database."""
    if engine_name == "sqlite":
        return str(tmp_path / f"oban-{uuid.uuid4().hex[:8]}.db")
    if engine_name == "postgres":
        await _ensure_postgres_database()
        return f"t_{uuid.uuid4().hex[:12]}"
    if engine_name == "mysql":
        name = f"oban_t_{uuid.uuid4().hex[:12]}"
        conn = await mysql_connect(MYSQL_DSN)
        try:
            async with conn.cursor() as cursor:
                await cursor.execute(f"CREATE DATABASE `{name}`")
        finally:
            conn.close()
        return name
    raise ValueError(f"unknown engine {engine_name!r}")


def engine_dsn(engine_name: str, database: str) -> str:
    """The DSN the CLI would use for this test database."""
    if engine_name == "sqlite":
        return f"sqlite:///{database}"
    if engine_name == "postgres":
        return with_database(POSTGRES_DSN, POSTGRES_TEST_DATABASE) + f"?prefix={database}"
    return with_database(MYSQL_DSN, database)


def build_engine(engine_name: str, database: str) -> Engine:
    """A new engine instance on an existing test database (schema not installed)."""
    if engine_name == "sqlite":
        return LiteEngine(database, install=False)
    if engine_name == "postgres":
        from oban.engines.postgres import PostgresEngine

        return PostgresEngine(with_database(POSTGRES_DSN, POSTGRES_TEST_DATABASE), prefix=database)
    if engine_name == "mysql":
        from oban.engines.mysql import MySQLEngine

        return MySQLEngine(with_database(MYSQL_DSN, database))
    raise ValueError(f"unknown engine {engine_name!r}")


async def drop_database(engine_name: str, database: str) -> None:
    """Remove what :func:`create_database` made."""
    if engine_name == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(database + suffix).unlink(missing_ok=True)
    elif engine_name == "postgres":
        import asyncpg

        conn = await asyncpg.connect(with_database(POSTGRES_DSN, POSTGRES_TEST_DATABASE))
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{database}" CASCADE')
        finally:
            await conn.close()
    elif engine_name == "mysql":
        conn = await mysql_connect(MYSQL_DSN)
        try:
            async with conn.cursor() as cursor:
                await cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")
        finally:
            conn.close()


def transaction(engine_name: str, database: str) -> Any:
    """An async context manager giving the engine's native connection inside a transaction.

    Leaving the block normally commits; an exception rolls back.
    """
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def open_transaction() -> Any:
        if engine_name == "sqlite":
            import aiosqlite

            conn = await aiosqlite.connect(database)
            try:
                await conn.execute("PRAGMA busy_timeout = 5000")
                await conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    await conn.rollback()
                    raise
                await conn.commit()
            finally:
                await conn.close()
        elif engine_name == "postgres":
            import asyncpg

            conn = await asyncpg.connect(with_database(POSTGRES_DSN, POSTGRES_TEST_DATABASE))
            try:
                async with conn.transaction():
                    yield conn
            finally:
                await conn.close()
        elif engine_name == "mysql":
            conn = await mysql_connect(MYSQL_DSN, database)
            try:
                await conn.begin()
                try:
                    yield conn
                except BaseException:
                    await conn.rollback()
                    raise
                await conn.commit()
            finally:
                conn.close()
        else:
            raise ValueError(f"unknown engine {engine_name!r}")

    return open_transaction()
