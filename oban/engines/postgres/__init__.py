"""PostgreSQL engine: ``PostgresEngine`` on asyncpg, in Oban's own table layout."""

from .engine import LATEST_VERSION, PostgresEngine

__all__ = ["LATEST_VERSION", "PostgresEngine"]
