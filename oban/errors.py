"""Exceptions raised by oban. Every message names the field or thing at fault and its value."""

from __future__ import annotations


class ObanError(Exception):
    """Base class of every error oban raises on purpose."""


class DatabaseError(ObanError):
    """The database or its driver failed an operation: unreachable, dropped, refused, broken.

    The message names the engine's DSN (secrets masked) and the operation; the driver's own
    exception is ``__cause__``. Engines raise this at their boundary, whatever the driver.
    """


class SchemaError(ObanError):
    """The database has no oban schema, or one at a version this code cannot use."""


class UnknownEngineError(ObanError):
    """A DSN names a scheme that no installed engine handles."""


class WorkerNotFoundError(ObanError):
    """A job's ``worker`` string does not resolve to an importable worker."""


class JobTimeoutError(ObanError, TimeoutError):
    """A job ran past the timeout its worker allows (a ``TimeoutError``, as in oban-py)."""


class WorkerCrashedError(ObanError):
    """The process running a job's worker (``executor="process"``) died before ``process``
    returned: ``os._exit``, a signal, a segfault. The attempt fails and is retried as any failure."""


class InstanceNotFoundError(ObanError, RuntimeError):
    """No ``Oban`` instance is registered under the requested name (a ``RuntimeError``, as in oban-py)."""


class EventLoopRunningError(ObanError, RuntimeError):
    """A blocking call (``oban.SyncClient``) was made from inside a running event loop, which it
    would block; async code awaits the ``Oban`` methods instead (a ``RuntimeError``)."""


WorkerResolutionError = WorkerNotFoundError
"""oban-py's name for ``WorkerNotFoundError``."""
