"""SQLite engine."""

from .engine import LATEST_VERSION, LiteEngine

__all__ = ["LATEST_VERSION", "LiteEngine"]
