"""The engine kit: everything an engine needs from oban, public and documented.

The built-in engines import only ``oban.engines.protocol`` and this kit (and their driver), and
a third-party engine needs nothing else either:

- :class:`EngineBase`: ``install``/``uninstall`` over ``migrate``, and driver errors raised as
  ``DatabaseError`` at the engine's boundary.
- Jobs and rows: :func:`stored_job`, :func:`job_from_row` (with :data:`COLUMNS`), :func:`copy_job`,
  :func:`prepare_insert`, :func:`inserted_job`, :func:`updated_job`, :func:`apply_replace`,
  :func:`schedule_state`,
  :func:`insert_payloads`, :func:`check_channel`; ``Job``, ``JobState``, ``UNIQ_KEY``,
  ``UPDATABLE_FIELDS``, ``FINAL_STATES``.
- Codecs the conformance suite expects: :func:`encode_json`, :func:`decode_json`,
  :func:`to_iso`, :func:`from_iso`, :func:`naive_utc`, :func:`aware_utc`, :func:`utcnow`.
- Notifications: the in-process :mod:`hub <oban.engines.kit.hub>` and :class:`TablePoller`,
  polling a notification table through a :class:`PollSource`.
- SQL files: :func:`load_queries`, :func:`split_statements`, :class:`Migrations`.
- :func:`mask_dsn`, :func:`dsn_secrets` and :func:`scrub` for showing DSNs without secrets.
- :class:`Backoff` for retry loops and :func:`cancel_and_wait` for background tasks.
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
    NotificationHandler,
    ProducerRecord,
)
from . import hub
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
from .sql import Migrations, load_queries, split_statements

__all__ = [
    "CHANNELS",
    "COLUMNS",
    "FINAL_STATES",
    "PRODUCER_RETENTION",
    "PRODUCER_TTL",
    "PROTOCOL_METHODS",
    "RESCUE_ERROR",
    "UNIQ_KEY",
    "UPDATABLE_FIELDS",
    "Ack",
    "Backoff",
    "DatabaseError",
    "EngineBase",
    "Job",
    "JobState",
    "Migrations",
    "NotificationHandler",
    "ObanError",
    "PollSource",
    "ProducerRecord",
    "SchemaError",
    "TablePoller",
    "apply_replace",
    "as_utc",
    "aware_utc",
    "cancel_and_wait",
    "check_channel",
    "check_payloads",
    "copy_job",
    "decode_json",
    "dsn_secrets",
    "encode_json",
    "encode_json_bytes",
    "from_iso",
    "hub",
    "insert_payloads",
    "inserted_job",
    "job_from_row",
    "load_queries",
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
