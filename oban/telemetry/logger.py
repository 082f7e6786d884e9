"""Log lines from telemetry events: JSON (one object per event, oban-py's fields) or text.

``attach()`` sends every event to the ``oban`` logger. JSON lines carry the fields oban-py's
logger writes: for job events ``id``, ``worker``, ``queue``, ``attempt``, ``max_attempts``,
``args``, ``meta``, ``tags``, ``event``, then ``state``, ``duration`` and ``queue_time`` (in
milliseconds) and, for exceptions, ``error_type`` and ``error_message``; for loops every metadata
key with ``duration`` in milliseconds. Text lines say the same for a reader: what happened to
which job, how long it took, a discard called a discard, and the traceback of a failure.

Levels: job starts and stops at ``level`` (INFO by default); retryable failures at WARNING and
discards at ERROR in text (``level`` in JSON, as oban-py); a loop's exception at ERROR; orphaned
jobs at shutdown at WARNING; everything else at DEBUG.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Literal

import orjson

from . import EVENTS as ALL_EVENTS
from . import core

HANDLER_ID = "oban-logger"

EVENTS = [name for name in ALL_EVENTS if not name.endswith(".start") or name in ("oban.job.start", "oban.queue.start")]
"""What ``attach`` logs by default: job starts and every end of a job or a loop, queue changes."""

JOB_FIELDS = ["id", "worker", "queue", "attempt", "max_attempts", "args", "meta", "tags"]

_DROPPED = {"system_time", "monotonic_time", "job", "jobs", "error"}


def _ms(nanoseconds: Any) -> float:
    return round((nanoseconds or 0) / 1_000_000, 2)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class _LogHandler:
    def __init__(self, *, level: int, logger: logging.Logger, format: Literal["json", "text"]) -> None:
        self.level = level
        self.logger = logger
        self.format = format

    def __call__(self, name: str, meta: dict[str, Any]) -> None:
        if name == "oban.queue.shutdown" and not meta.get("orphaned"):
            return
        level = self._level(name, meta)
        if not self.logger.isEnabledFor(level):
            return
        if self.format == "json":
            data = self.json_fields(name, meta)
            message = orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS).decode()
            self.logger.log(level, message, extra={"oban_event": data})
        else:
            self.logger.log(level, "%s", self.text(name, meta), extra={"oban_event_name": name})

    def _level(self, name: str, meta: dict[str, Any]) -> int:
        if name.startswith("oban.job."):
            if self.format == "text" and name == "oban.job.exception":
                return logging.ERROR if meta.get("state") == "discarded" else logging.WARNING
            return self.level
        if name == "oban.queue.shutdown":
            return logging.WARNING
        if name.endswith(".exception"):
            return logging.ERROR
        if self.format == "text" and self._notable(name, meta):
            return logging.INFO
        return logging.DEBUG

    @staticmethod
    def _notable(name: str, meta: dict[str, Any]) -> bool:
        """Loop events a reader of ``oban start`` wants to see at INFO."""
        if name in ("oban.queue.start", "oban.queue.stop"):
            return True
        if name == "oban.scheduler.evaluate.stop":
            return bool(meta.get("enqueued_count"))
        if name == "oban.lifeline.rescue.stop":
            return bool(meta.get("rescued_count") or meta.get("discarded_count"))
        if name == "oban.leader.election.stop":
            return bool(meta.get("leader")) != bool(meta.get("was_leader"))
        return False

    # -- JSON -----------------------------------------------------------------------------------

    @staticmethod
    def json_fields(name: str, meta: dict[str, Any]) -> dict[str, Any]:
        """The JSON object logged for one event."""
        if name.startswith("oban.job."):
            job = meta.get("job")
            data = {field: getattr(job, field, None) for field in JOB_FIELDS}
            data["event"] = name
            if name != "oban.job.start":
                data["state"] = meta.get("state")
                if name == "oban.job.exception":
                    data["error_type"] = meta.get("error_type")
                    data["error_message"] = meta.get("error_message")
                data["duration"] = _ms(meta.get("duration"))
                data["queue_time"] = _ms(meta.get("queue_time"))
            return data
        if name == "oban.queue.shutdown":
            return {
                "elapsed": _ms(meta.get("elapsed")),
                "event": name,
                "message": "jobs were orphaned because they didn't finish executing in the allotted time",
                "orphaned": meta.get("orphaned"),
                "queue": meta.get("queue"),
            }
        data = {key: value for key, value in meta.items() if key not in _DROPPED}
        if "duration" in data:
            data["duration"] = _ms(data["duration"])
        data["event"] = name
        return data

    # -- text -----------------------------------------------------------------------------------

    @staticmethod
    def text(name: str, meta: dict[str, Any]) -> str:
        """The human line (and traceback, for a failure) logged for one event."""
        if name.startswith("oban.job."):
            return _job_text(name, meta)
        if name == "oban.queue.start":
            paused = ", paused" if meta.get("paused") else ""
            return f"queue {meta.get('queue')} started on node {meta.get('node')} (limit {meta.get('limit')}{paused})"
        if name == "oban.queue.stop":
            return f"queue {meta.get('queue')} stopped on node {meta.get('node')}"
        if name == "oban.queue.shutdown":
            return (
                f"queue {meta.get('queue')}: jobs {meta.get('orphaned')} did not finish within the grace period "
                f"({_ms(meta.get('elapsed'))} ms); they stay executing until the lifeline rescues them"
            )
        took = f"{_ms(meta.get('duration'))} ms"
        if name.endswith(".exception"):
            what = name.removesuffix(".exception").removeprefix("oban.")
            return f"{what} failed after {took}: {meta.get('error_type')}: {meta.get('error_message')}"
        if name == "oban.scheduler.evaluate.stop":
            at = meta.get("cron_at")
            minute = at.strftime("%Y-%m-%d %H:%M") if isinstance(at, datetime) else at
            jobs = ", ".join(f"{job.id} ({job.worker})" for job in meta.get("jobs") or [])
            return f"cron inserted {meta.get('enqueued_count', 0)} job(s) for {minute}: {jobs}"
        if name == "oban.lifeline.rescue.stop":
            return (
                f"lifeline rescued {meta.get('rescued_count', 0)} orphaned job(s) and discarded "
                f"{meta.get('discarded_count', 0)} out of attempts"
            )
        if name == "oban.leader.election.stop":
            state = "became leader" if meta.get("leader") else "is not leader"
            return f"node {meta.get('node')} {state} of {meta.get('name')}"
        details = " ".join(f"{key}={value}" for key, value in meta.items() if key not in _DROPPED | {"duration"})
        return f"{name.removeprefix('oban.')} in {took} {details}".rstrip()


def _job_text(name: str, meta: dict[str, Any]) -> str:
    job = meta.get("job")
    max_attempts = getattr(job, "max_attempts", "?")
    attempt = f"attempt {meta.get('attempt')}/{max_attempts}"
    who = f"job {meta.get('id')} {meta.get('worker')} (queue {meta.get('queue')}, {attempt})"
    if name == "oban.job.start":
        return f"{who} started"
    took = f"{_ms(meta.get('duration'))} ms"
    waited = f"{_ms(meta.get('queue_time'))} ms"
    state = meta.get("state")
    if name == "oban.job.stop":
        if state == "cancelled":
            return f"{who} cancelled after {took}: {meta.get('reason', '')}"
        if state == "scheduled":
            return f"{who} snoozed after {took} until {_when(meta.get('scheduled_at'))}"
        return f"{who} completed in {took} (waited {waited})"
    error = f"{meta.get('error_type')}: {meta.get('error_message')}"
    trace = str(meta.get("traceback") or "").rstrip()
    if state == "discarded":
        head = f"{who} failed after {took} and is discarded, out of attempts: {error}"
    else:
        head = f"{who} failed after {took}, retrying at {_when(meta.get('scheduled_at'))}: {error}"
    return f"{head}\n{trace}" if trace else head


def _when(at: Any) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if isinstance(at, datetime) else str(at)


def attach(
    *,
    level: int = logging.INFO,
    logger: logging.Logger | None = None,
    events: list[str] | None = None,
    format: Literal["json", "text"] = "json",
) -> None:
    """Log telemetry events through ``logger`` (``logging.getLogger("oban")`` by default).

    ``format="json"`` writes one JSON object per event, oban-py's fields; ``"text"`` writes lines
    for people. ``events`` narrows what is logged (default: ``EVENTS``). Attaching again replaces
    the previous attachment.
    """
    if format not in ("json", "text"):
        raise ValueError(f"log format must be 'json' or 'text', got {format!r}")
    core.detach(HANDLER_ID)
    handler = _LogHandler(level=level, logger=logger or logging.getLogger("oban"), format=format)
    core.attach(HANDLER_ID, events or EVENTS, handler)


def detach() -> None:
    """Stop logging telemetry events."""
    core.detach(HANDLER_ID)


class JsonFormatter(logging.Formatter):
    """Formats every record as one JSON line: telemetry events as ``attach`` built them, any other
    record as ``{"at", "level", "logger", "message"}`` (plus ``exception``), for ``--log-format json``."""

    def format(self, record: logging.LogRecord) -> str:
        data = getattr(record, "oban_event", None)
        if data is None:
            data = {
                "at": datetime.fromtimestamp(record.created).astimezone().isoformat(),
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": record.getMessage(),
            }
            if record.exc_info:
                data["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS).decode()
