"""oban: background jobs that live in your SQL database.

Jobs are rows in ``oban_jobs``, kept after they run for inspection. The same core runs on
SQLite (``LiteEngine``), PostgreSQL (``PostgresEngine``) and MySQL/MariaDB (``MySQLEngine``).
"""

# _distribution comes first: it raises at once if oban-py's ``oban`` is installed here too.
from . import _distribution, telemetry  # noqa: F401
from ._version import __version__
from .backoff import default_backoff
from .errors import (
    DatabaseError,
    InstanceNotFoundError,
    JobTimeoutError,
    ObanError,
    SchemaError,
    UnknownEngineError,
    WorkerCrashedError,
    WorkerNotFoundError,
    WorkerResolutionError,
)
from .job import FINAL_STATES, Job, JobState, UniqueOptions
from .oban import Oban
from .results import Cancel, Record, Snooze
from .runtime.executor import current_job
from .runtime.producer import QueueInfo
from .sync import SyncClient
from .worker import Worker, job, worker

__all__ = [
    "FINAL_STATES",
    "Cancel",
    "DatabaseError",
    "InstanceNotFoundError",
    "Job",
    "JobState",
    "JobTimeoutError",
    "Oban",
    "ObanError",
    "QueueInfo",
    "Record",
    "SchemaError",
    "Snooze",
    "SyncClient",
    "UniqueOptions",
    "UnknownEngineError",
    "Worker",
    "WorkerCrashedError",
    "WorkerNotFoundError",
    "WorkerResolutionError",
    "__version__",
    "current_job",
    "default_backoff",
    "job",
    "telemetry",
    "worker",
]
