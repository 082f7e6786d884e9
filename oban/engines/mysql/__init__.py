"""MySQL 8 and MariaDB 10.6+ engine, on asyncmy."""

from .engine import LATEST_VERSION, MySQLEngine

__all__ = ["LATEST_VERSION", "MySQLEngine"]
