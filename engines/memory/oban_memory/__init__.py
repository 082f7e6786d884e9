"""An oban engine that keeps jobs in memory: ``MemoryEngine``, built from ``memory://name``."""

from .engine import MemoryEngine, MemoryTransaction

__all__ = ["MemoryEngine", "MemoryTransaction"]
