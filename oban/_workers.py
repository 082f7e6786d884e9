"""Registered workers: the names jobs store, finding a worker by that name, and its optional hooks.

A worker is registered by ``@worker`` or ``@job`` when its module is imported; only registered
workers ever run. This module holds the registry so the decorators, cron and the runtime can all
reach it without importing one another.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from .backoff import default_backoff
from .errors import WorkerNotFoundError
from .job import Job

_registry: dict[str, type] = {}


def worker_name(target: type | Callable[..., Any]) -> str:
    """The name stored in a job's ``worker`` column: ``module.QualName``.

    Works for worker classes, functions and ``@job`` functions (which carry their function's
    module and qualified name).
    """
    return f"{target.__module__}.{target.__qualname__}"


def register_worker(cls: type, name: str | None = None) -> None:
    """Make ``cls`` resolvable under ``name`` (its ``module.QualName`` by default)."""
    _registry[name or worker_name(cls)] = cls


def resolve_worker(name: str) -> type:
    """The registered worker for a job's ``worker`` string, importing its module when needed.

    Only workers made with ``@worker`` or ``@job`` run: importing the module named by the
    string runs its decorators, and a class that was never decorated is not a worker even if
    it has a ``process`` method. Raises ``WorkerNotFoundError`` naming the worker otherwise.
    """
    found = _registry.get(name)
    if found is not None:
        return found
    parts = name.split(".")
    # Import the longest importable module prefix; its decorators register its workers.
    for split in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:split])
        try:
            importlib.import_module(module_name)
        except ImportError as error:
            if error.name is not None and not module_name.startswith(error.name):
                raise WorkerNotFoundError(
                    f"worker {name!r} could not be loaded: importing {module_name!r} failed: {error}"
                ) from error
            continue
        break
    found = _registry.get(name)
    if found is not None:
        return found
    raise WorkerNotFoundError(
        f"worker {name!r} could not be found: no class or function by that name was registered "
        "with @worker or @job (is its module imported, e.g. with oban start --import?)"
    )


def backoff_for(instance: Any, job: Job) -> float:
    """Seconds to wait before retrying ``job``: the worker's ``backoff`` or Oban's default."""
    custom = getattr(instance, "backoff", None)
    if custom is not None:
        return float(custom(job))
    return default_backoff(job.attempt, job.max_attempts)


def timeout_for(instance: Any, job: Job) -> float | None:
    """The worker's ``timeout(job)`` in seconds, or ``None`` for no limit."""
    custom = getattr(instance, "timeout", None)
    if custom is None:
        return None
    value = custom(job)
    return None if value is None else float(value)
