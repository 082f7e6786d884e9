"""The engine kit: everything an engine needs from oban, public and documented.

The built-in engines import only ``oban.engines.protocol`` and this kit (and their driver), and
a third-party engine needs nothing else either:

- ``EngineBase``: ``install``/``uninstall`` over ``migrate``, and driver errors raised as
  ``DatabaseError`` at the engine's boundary.
- Jobs and rows: ``stored_job``, ``job_from_row`` (with ``COLUMNS``), ``copy_job``,
  ``prepare_insert``, ``inserted_job``, ``updated_job``, ``apply_replace``,
  ``schedule_state``,
  ``insert_payloads``, ``check_channel``; ``Job``, ``JobState``, ``UNIQ_KEY``,
  ``UPDATABLE_FIELDS``, ``FINAL_STATES``.
- Codecs the conformance suite expects: ``encode_json``, ``decode_json``,
  ``to_iso``, ``from_iso``, ``naive_utc``, ``aware_utc``, ``utcnow``.
- Notifications: the in-process ``hub`` (``oban.engines.kit.hub``) and ``TablePoller``,
  polling a notification table through a ``PollSource``.
- Dashboards: ``job_search`` (with ``JobSearch`` and ``LIKE_ESCAPE``) and ``check_before_id``
  for ``list_jobs``; ``check_bucket``, ``check_since``, ``bucket_start``, ``activity_from_rows``
  and ``ACTIVITY_TIMESTAMPS`` for ``job_activity`` and its ``Activity`` rows.
- SQL files: ``load_queries``, ``split_statements``, ``Migrations``.
- ``mask_dsn``, ``dsn_secrets`` and ``scrub`` for showing DSNs without secrets.
- ``Backoff`` for retry loops and ``cancel_and_wait`` for background tasks.
- ``dbapi`` (``oban.engines.kit.dbapi``): running an engine's insert code over a blocking
  DB-API connection (``BlockingInsert``).
- ``loops`` (``oban.engines.kit.loops``): dropping what an earlier event loop owned
  (``EngineBase._leave_loop``).
"""

from __future__ import annotations

from ..._tasks import cancel_and_wait
from ...backoff import Backoff
from ...errors import DatabaseError, ObanError, SchemaError
from ...job import FINAL_STATES, UNIQ_KEY, UPDATABLE_FIELDS, Job, JobState, apply_replace, schedule_state
from ..protocol import (
    CHANNELS,
    PRODUCER_RETENTION,
    PRODUCER_TTL,
    RESCUE_ERROR,
    Ack,
    Activity,
    NotificationHandler,
    ProducerRecord,
)
from . import dbapi, hub, loops
from .activity import ACTIVITY_TIMESTAMPS, MAX_BUCKET, activity_from_rows, bucket_start, check_bucket, check_since
from .base import PROTOCOL_METHODS, EngineBase
from .codecs import (
    as_utc,
    aware_utc,
    decode_json,
    encode_json,
    encode_json_bytes,
    from_iso,
    naive_utc,
    show,
    to_iso,
    utcnow,
)
from .masking import dsn_secrets, mask_dsn, scrub
from .poller import PollSource, TablePoller
from .rows import (
    COLUMNS,
    check_channel,
    check_payloads,
    copy_job,
    insert_payloads,
    inserted_job,
    job_from_row,
    prepare_insert,
    stored_job,
    updated_job,
)
from .search import LIKE_ESCAPE, MAX_ID, JobSearch, check_before_id, job_search
from .sql import Migrations, load_queries, split_statements

__all__ = [
    "ACTIVITY_TIMESTAMPS",
    "CHANNELS",
    "COLUMNS",
    "FINAL_STATES",
    "LIKE_ESCAPE",
    "MAX_BUCKET",
    "MAX_ID",
    "PRODUCER_RETENTION",
    "PRODUCER_TTL",
    "PROTOCOL_METHODS",
    "RESCUE_ERROR",
    "UNIQ_KEY",
    "UPDATABLE_FIELDS",
    "Ack",
    "Activity",
    "Backoff",
    "DatabaseError",
    "EngineBase",
    "Job",
    "JobSearch",
    "JobState",
    "Migrations",
    "NotificationHandler",
    "ObanError",
    "PollSource",
    "ProducerRecord",
    "SchemaError",
    "TablePoller",
    "activity_from_rows",
    "apply_replace",
    "as_utc",
    "aware_utc",
    "bucket_start",
    "cancel_and_wait",
    "check_before_id",
    "check_bucket",
    "check_channel",
    "check_payloads",
    "check_since",
    "copy_job",
    "dbapi",
    "decode_json",
    "dsn_secrets",
    "encode_json",
    "encode_json_bytes",
    "from_iso",
    "hub",
    "insert_payloads",
    "inserted_job",
    "job_from_row",
    "job_search",
    "load_queries",
    "loops",
    "mask_dsn",
    "naive_utc",
    "prepare_insert",
    "schedule_state",
    "scrub",
    "show",
    "split_statements",
    "stored_job",
    "to_iso",
    "updated_job",
    "utcnow",
]
