"""What the figures were measured on: CPU, cores, Python, and each database server's version."""

from __future__ import annotations

import asyncio
import os
import platform
import sqlite3
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo``, or what ``platform`` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


async def server_version(engine: str, postgres_dsn: str, mysql_dsn: str) -> str:
    """``SQLite 3.x``, ``PostgreSQL 15.x`` or ``MariaDB 10.x``; the error when unreachable."""
    try:
        if engine == "sqlite":
            return f"SQLite {sqlite3.sqlite_version}"
        if engine == "postgres":
            import asyncpg

            conn = await asyncio.wait_for(asyncpg.connect(postgres_dsn), 5)
            try:
                version = str(await conn.fetchval("SHOW server_version"))
                return f"PostgreSQL {version.split()[0]}"
            finally:
                await conn.close()
        from tests import support

        conn = await asyncio.wait_for(support.mysql_connect(mysql_dsn), 5)
        try:
            ((version,),) = await support.mysql_query(conn, "SELECT VERSION()")
        finally:
            conn.close()
        product = "MariaDB" if "mariadb" in version.lower() else "MySQL"
        return f"{product} {version.split('-')[0]}"
    except Exception as error:
        return f"{engine} unreachable ({type(error).__name__})"


async def describe(engines: list[str], postgres_dsn: str, mysql_dsn: str) -> str:
    """One line: CPU model, cores, Python, and the servers of ``engines``."""
    servers = [await server_version(name, postgres_dsn, mysql_dsn) for name in engines]
    python = f"{platform.python_implementation()} {platform.python_version()}"
    return f"{cpu_model()}, {cores()} cores; {python}; " + ", ".join(servers)
