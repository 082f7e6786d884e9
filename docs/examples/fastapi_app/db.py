"""The shop's own tables, in the same database as its jobs: SQLite (aiosqlite) or PostgreSQL (asyncpg).

``transaction()`` yields the driver's native connection, which is what
``oban.enqueue(job, conn=...)`` takes: a job inserted on it commits or rolls back with the rows
written beside it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///fastapi_app.db")
"""Where the shop's tables and its jobs live: ``sqlite:///path`` or ``postgresql://...``."""


class SqliteDatabase:
    """The tables in a SQLite file; every transaction is a connection of its own."""

    def __init__(self, path: str) -> None:
        self.path = path

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """An aiosqlite connection inside a transaction: commits on success, rolls back on error."""
        async with aiosqlite.connect(self.path, isolation_level=None) as conn:
            await conn.execute("PRAGMA busy_timeout = 5000")
            # IMMEDIATE takes the write lock at once, so two writers never deadlock upgrading.
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            await conn.execute("COMMIT")

    async def setup(self) -> None:
        """Create the tables if they are missing."""
        async with self.transaction() as conn:
            await conn.execute("CREATE TABLE IF NOT EXISTS products (sku TEXT PRIMARY KEY, stock INTEGER NOT NULL)")
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, sku TEXT NOT NULL,"
                " quantity INTEGER NOT NULL, status TEXT NOT NULL DEFAULT 'placed')"
            )

    async def close(self) -> None:
        """Nothing stays open between transactions."""

    async def set_stock(self, conn: aiosqlite.Connection, sku: str, stock: int) -> None:
        await conn.execute(
            "INSERT INTO products (sku, stock) VALUES (?, ?) ON CONFLICT (sku) DO UPDATE SET stock = excluded.stock",
            (sku, stock),
        )

    async def take_stock(self, conn: aiosqlite.Connection, sku: str, quantity: int) -> bool:
        """Take ``quantity`` of ``sku`` out of stock; False (nothing taken) if there is not enough."""
        cursor = await conn.execute(
            "UPDATE products SET stock = stock - ? WHERE sku = ? AND stock >= ?", (quantity, sku, quantity)
        )
        return cursor.rowcount == 1

    async def insert_order(self, conn: aiosqlite.Connection, sku: str, quantity: int) -> int:
        cursor = await conn.execute("INSERT INTO orders (sku, quantity) VALUES (?, ?) RETURNING id", (sku, quantity))
        row = await cursor.fetchone()
        assert row is not None
        return int(row[0])

    async def get_order(self, conn: aiosqlite.Connection, order_id: int) -> dict[str, Any] | None:
        cursor = await conn.execute("SELECT id, sku, quantity, status FROM orders WHERE id = ?", (order_id,))
        row = await cursor.fetchone()
        return None if row is None else dict(zip(("id", "sku", "quantity", "status"), row, strict=True))

    async def set_status(self, conn: aiosqlite.Connection, order_id: int, status: str) -> None:
        await conn.execute("UPDATE orders SET status = ? WHERE id = ?", (status, order_id))


class PostgresDatabase:
    """The tables in PostgreSQL, through an asyncpg pool opened on first use."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._pool: Any = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        """A pooled asyncpg connection inside a transaction: commits on success, rolls back on error."""
        import asyncpg

        if self._pool is None:
            self._pool = await asyncpg.create_pool(self.url, min_size=1, max_size=5)
        async with self._pool.acquire() as conn, conn.transaction():
            yield conn

    async def setup(self) -> None:
        """Create the tables if they are missing."""
        async with self.transaction() as conn:
            await conn.execute("CREATE TABLE IF NOT EXISTS products (sku text PRIMARY KEY, stock integer NOT NULL)")
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS orders (id bigserial PRIMARY KEY, sku text NOT NULL,"
                " quantity integer NOT NULL, status text NOT NULL DEFAULT 'placed')"
            )

    async def close(self) -> None:
        """Close the pool; the next transaction opens a new one."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def set_stock(self, conn: Any, sku: str, stock: int) -> None:
        await conn.execute(
            "INSERT INTO products (sku, stock) VALUES ($1, $2) ON CONFLICT (sku) DO UPDATE SET stock = excluded.stock",
            sku,
            stock,
        )

    async def take_stock(self, conn: Any, sku: str, quantity: int) -> bool:
        """Take ``quantity`` of ``sku`` out of stock; False (nothing taken) if there is not enough."""
        status = await conn.execute(
            "UPDATE products SET stock = stock - $1 WHERE sku = $2 AND stock >= $1", quantity, sku
        )
        return bool(status == "UPDATE 1")

    async def insert_order(self, conn: Any, sku: str, quantity: int) -> int:
        sql = "INSERT INTO orders (sku, quantity) VALUES ($1, $2) RETURNING id"
        return int(await conn.fetchval(sql, sku, quantity))

    async def get_order(self, conn: Any, order_id: int) -> dict[str, Any] | None:
        row = await conn.fetchrow("SELECT id, sku, quantity, status FROM orders WHERE id = $1", order_id)
        return None if row is None else dict(row)

    async def set_status(self, conn: Any, order_id: int, status: str) -> None:
        await conn.execute("UPDATE orders SET status = $1 WHERE id = $2", status, order_id)


Database = SqliteDatabase | PostgresDatabase

_current: Database | None = None


def open_database(url: str) -> Database:
    """The database at ``url``, made this process's current one (what the workers use)."""
    global _current
    if url.startswith("sqlite:///"):
        _current = SqliteDatabase(url.removeprefix("sqlite:///"))
    elif url.startswith(("postgresql://", "postgres://")):
        _current = PostgresDatabase(url)
    else:
        raise ValueError(f"DATABASE_URL must start with sqlite:/// or postgresql://, got {url!r}")
    return _current


def current() -> Database:
    """This process's database: the app's, or in a separate ``oban start`` worker, DATABASE_URL's."""
    return _current if _current is not None else open_database(DATABASE_URL)
