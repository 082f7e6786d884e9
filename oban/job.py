"""The job: one row of ``oban_jobs``, its states, and the rules a new or updated job must meet."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import InitVar, dataclass, field, fields
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from . import _json
from ._etf import decode_recorded
from ._time import as_utc, to_seconds, utcnow


class JobState(StrEnum):
    """Where a job is in its lifecycle; the values are the strings stored in the database."""

    AVAILABLE = "available"
    SUSPENDED = "suspended"
    SCHEDULED = "scheduled"
    EXECUTING = "executing"
    RETRYABLE = "retryable"
    COMPLETED = "completed"
    DISCARDED = "discarded"
    CANCELLED = "cancelled"


FINAL_STATES = frozenset({JobState.COMPLETED, JobState.CANCELLED, JobState.DISCARDED})
"""States a job never leaves on its own; the pruner deletes jobs in these states."""

INCOMPLETE_STATES = frozenset(JobState) - FINAL_STATES

UNIQUE_STATE_GROUPS: dict[str, frozenset[JobState]] = {
    "all": frozenset(JobState),
    "incomplete": INCOMPLETE_STATES,
    "scheduled": frozenset({JobState.SCHEDULED}),
    "successful": frozenset(JobState) - {JobState.CANCELLED, JobState.DISCARDED},
}

UPDATABLE_FIELDS = frozenset({"args", "max_attempts", "meta", "priority", "queue", "scheduled_at", "tags", "worker"})
"""Fields ``Oban.update_job`` may change (``schedule_in`` is accepted as a convenience)."""

_UNIQUE_FIELDS = frozenset({"args", "queue", "worker", "meta"})
_UNIQUE_TIMESTAMPS = frozenset({"inserted_at", "scheduled_at"})

UNIQ_KEY = "uniq_key"
"""The ``meta`` key under which a unique job stores the hash of what makes it unique."""


@dataclass(frozen=True, slots=True)
class UniqueOptions:
    """How a job is compared with existing jobs at insert (Oban's ``unique`` option).

    ``period`` is seconds, or ``None`` for as long as jobs are kept. ``fields`` picks what is
    compared; ``keys`` narrows ``args``/``meta`` to some of their keys; ``states`` is a list of
    states or one of the groups ``all``, ``incomplete``, ``scheduled``, ``successful``;
    ``timestamp`` is which timestamp ``period`` counts back from.
    """

    period: float | None = 60.0
    fields: tuple[str, ...] = ("args", "queue", "worker")
    keys: tuple[str, ...] | None = None
    states: frozenset[JobState] = UNIQUE_STATE_GROUPS["successful"]
    timestamp: str = "inserted_at"

    @classmethod
    def parse(cls, value: Any) -> UniqueOptions | None:
        """Accept ``True``, a dict of options, or ``UniqueOptions``; ``None``/``False`` is off."""
        if value is None or value is False:
            return None
        if value is True:
            return cls()
        if isinstance(value, UniqueOptions):
            return value
        if not isinstance(value, Mapping):
            raise ValueError(f"unique must be True, a dict or UniqueOptions, got {value!r}")
        unknown = set(value) - {"period", "fields", "keys", "states", "timestamp"}
        if unknown:
            raise ValueError(f"unique has unknown option(s) {sorted(unknown)!r}")
        period = value.get("period", 60.0)
        if period in (None, "infinity", float("inf")):
            period = None
        else:
            period = to_seconds(period, "unique.period")
            if period <= 0:
                raise ValueError(f"unique.period must be positive, got {period!r}")
        fields_ = tuple(value.get("fields", ("args", "queue", "worker")))
        if not fields_ or not set(fields_) <= _UNIQUE_FIELDS:
            raise ValueError(f"unique.fields must be a subset of {sorted(_UNIQUE_FIELDS)}, got {fields_!r}")
        keys = value.get("keys")
        keys = tuple(str(key) for key in keys) if keys is not None else None
        states = value.get("states", "successful")
        if isinstance(states, str):
            if states not in UNIQUE_STATE_GROUPS:
                raise ValueError(f"unique.states group must be one of {sorted(UNIQUE_STATE_GROUPS)}, got {states!r}")
            state_set = UNIQUE_STATE_GROUPS[states]
        else:
            try:
                state_set = frozenset(JobState(state) for state in states)
            except ValueError:
                raise ValueError(f"unique.states has an unknown state in {states!r}") from None
        timestamp = value.get("timestamp", "inserted_at")
        if timestamp not in _UNIQUE_TIMESTAMPS:
            raise ValueError(f"unique.timestamp must be inserted_at or scheduled_at, got {timestamp!r}")
        return cls(period=period, fields=fields_, keys=keys, states=state_set, timestamp=timestamp)

    def key_for(self, job: Job) -> str:
        """The hash two jobs share exactly when they are duplicates under these options.

        Values are compared as JSON with sorted keys, so ``{"a": 1, "b": 2}`` and
        ``{"b": 2, "a": 1}`` (or args read back from a database that reorders keys) agree.
        """
        parts: dict[str, Any] = {}
        for name in sorted(self.fields):
            value = getattr(job, name)
            if name in ("args", "meta"):
                value = {k: v for k, v in value.items() if k != UNIQ_KEY}
                if self.keys is not None:
                    value = {k: value.get(k) for k in self.keys}
            parts[name] = value
        text = _json.canonical_bytes(parts, "unique fields")
        return hashlib.blake2b(text, digest_size=16).hexdigest()


MAX_INT32 = 2**31 - 1
"""The largest ``max_attempts`` (and ``attempt``) every engine's integer columns hold."""


def _normalize_tags(tags: Iterable[Any]) -> list[str]:
    """Tags as stored: each converted with ``str()`` (as oban-py does), stripped, lower-cased;
    blanks and falsy values dropped, duplicates merged, sorted."""
    if isinstance(tags, str | bytes) or not isinstance(tags, Iterable):
        raise ValueError(f"tags must be a list of strings, got {_json.show(tags)}")
    cleaned = set()
    for tag in tags:
        if not tag:
            continue
        tag = str(tag)
        if "\x00" in tag:
            raise ValueError(f"tags must not contain NUL characters (\\u0000), got {tag!r}")
        tag = tag.strip().lower()
        if tag:
            cleaned.add(tag)
    return sorted(cleaned)


@dataclass(slots=True, eq=False)
class Job:
    """A unit of work: a worker name, JSON args, and where the job is in its lifecycle.

    Build one with ``Job(worker="myapp.workers.Email", args={...})`` or a worker's ``new``.
    Construction validates every field and raises ``ValueError`` naming the field at fault.
    ``schedule_in`` (seconds or ``timedelta``) is a shortcut for ``scheduled_at``.
    """

    worker: str
    args: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    state: JobState = JobState.AVAILABLE
    queue: str = "default"
    attempt: int = 0
    max_attempts: int = 20
    priority: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    attempted_by: list[str] = field(default_factory=list)
    inserted_at: datetime | None = None
    scheduled_at: datetime | None = None
    attempted_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    discarded_at: datetime | None = None
    unique: UniqueOptions | None = None
    replace: dict[JobState, tuple[str, ...]] | None = None
    conflict: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    schedule_in: InitVar[float | timedelta | None] = None
    scheduled_in: InitVar[float | timedelta | None] = None
    _cancelled: bool = field(default=False, repr=False)

    def __post_init__(self, schedule_in: float | timedelta | None, scheduled_in: float | timedelta | None) -> None:
        if schedule_in is None:
            schedule_in = scheduled_in  # oban-py's name for it
        if schedule_in is not None:
            self.scheduled_at = utcnow() + timedelta(seconds=to_seconds(schedule_in, "schedule_in"))
        self.unique = UniqueOptions.parse(self.unique)
        self.replace = _parse_replace(self.replace)
        self._validate()
        try:
            self.state = JobState(self.state)
        except ValueError:
            raise ValueError(f"state must be one of {[s.value for s in JobState]}, got {self.state!r}") from None
        if self.scheduled_at is not None:
            self.scheduled_at = as_utc(self.scheduled_at)
            if self.state is JobState.AVAILABLE and self.scheduled_at > utcnow():
                self.state = JobState.SCHEDULED

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first field that breaks the rules; change nothing.

        Construction and ``update`` run this already; engines run it again before writing, so a
        job changed by hand since cannot store what the rules forbid.
        """
        for name in ("worker", "queue"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name} must be a non-blank string, got {_json.show(value)}")
            # Oban's PostgreSQL checks allow 1..127 characters; holding every engine to it keeps
            # a database portable between them.
            if len(value) > 127:
                raise ValueError(f"{name} must be at most 127 characters, got {len(value)}: {_json.show(value)}")
            if "\x00" in value:
                raise ValueError(f"{name} must not contain NUL characters (\\u0000), got {value!r}")
        if (
            isinstance(self.max_attempts, bool)
            or not isinstance(self.max_attempts, int)
            or not 1 <= self.max_attempts <= MAX_INT32
        ):
            raise ValueError(
                f"max_attempts must be an integer from 1 to {MAX_INT32}, got {_json.show(self.max_attempts)}"
            )
        if self.max_attempts < self.attempt:
            raise ValueError(
                f"max_attempts must be at least the job's attempt ({self.attempt}), got {self.max_attempts}"
            )
        if isinstance(self.priority, bool) or not isinstance(self.priority, int) or not 0 <= self.priority <= 9:
            raise ValueError(f"priority must be an integer from 0 to 9, got {_json.show(self.priority)}")
        if not isinstance(self.args, dict):
            raise ValueError(f"args must be a dict (a JSON object), got {_json.show(self.args)}")
        if not isinstance(self.meta, dict):
            raise ValueError(f"meta must be a dict (a JSON object), got {_json.show(self.meta)}")
        if self.scheduled_at is not None and not isinstance(self.scheduled_at, datetime):
            raise ValueError(f"scheduled_at must be a datetime, got {_json.show(self.scheduled_at)}")
        _normalize_tags(self.tags)

    def _validate(self) -> None:
        self.validate()
        # Copies: a job never shares a dict with its caller, nor with a worker's defaults, so
        # nothing done to one job (or by the engine) reaches another or the caller's values.
        self.args = dict(self.args)
        self.meta = dict(self.meta)
        self.tags = _normalize_tags(self.tags)

    def cancelled(self) -> bool:
        """True once cancellation of this running job was requested, from any node."""
        return self._cancelled

    def update(self, changes: Mapping[str, Any]) -> Job:
        """Apply ``changes`` to this job in place, validated, and return it (for chaining).

        Only ``UPDATABLE_FIELDS`` (and ``schedule_in``/``scheduled_in``, seconds or a
        ``timedelta`` from now) may change; anything else, or a value the rules forbid, raises
        ``ValueError`` naming the field, and then the job is left as it was.
        """
        if not isinstance(changes, Mapping):
            raise ValueError(f"changes must be a dict of fields, got {changes!r}")
        unknown = set(changes) - UPDATABLE_FIELDS - {"schedule_in", "scheduled_in"}
        if unknown:
            raise ValueError(f"cannot update field(s) {sorted(unknown)!r}; updatable: {sorted(UPDATABLE_FIELDS)}")
        updated = self._copy()
        for name, value in changes.items():
            if name in ("schedule_in", "scheduled_in"):
                updated.scheduled_at = utcnow() + timedelta(seconds=to_seconds(value, name))
            else:
                setattr(updated, name, value)
        updated._validate()
        if updated.scheduled_at is not None:
            updated.scheduled_at = as_utc(updated.scheduled_at)
        for f in fields(Job):
            setattr(self, f.name, getattr(updated, f.name))
        return self

    def _copy(self) -> Job:
        """A shallow copy: every field (and the cancellation flag) shared with this job."""
        return _shallow_copy(self)

    @property
    def unique_key(self) -> str | None:
        """The hash of what makes this job unique (``unique.key_for``), or ``None`` if it is not unique.

        Engines store it as ``meta["uniq_key"]`` and look for duplicates by it.
        """
        return None if self.unique is None else self.unique.key_for(self)

    @property
    def recorded(self) -> Any:
        """The value a worker returned in a ``Record`` (by any implementation), or ``None``."""
        if not self.meta.get("recorded"):
            return None
        stored = self.meta.get("return")
        if not isinstance(stored, str):
            return stored
        try:
            return decode_recorded(stored)
        except ValueError:
            return stored

    def __str__(self) -> str:
        short = self.worker.rsplit(".", 1)[-1]
        return f"Job(id={self.id}, worker={short}, args={self.args}, queue={self.queue}, state={self.state.value})"


def _job_options() -> frozenset[str]:
    names = {f.name for f in fields(Job) if f.init and f.name not in ("worker", "args", "_cancelled", "conflict")}
    return frozenset(names | {"schedule_in", "scheduled_in"})


JOB_OPTIONS = _job_options()
"""The options a worker, ``new`` or a cron entry may give a job: its fields, and the
``schedule_in``/``scheduled_in`` shortcuts."""
_JOB_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Job))


def _compile_shallow_copy() -> Callable[[Job], Job]:
    # Written out field by field, as dataclasses writes __init__: five times faster than a loop of
    # getattr/setattr, and it runs for every job inserted and every job a worker's run copies.
    lines = [f"    copy.{name} = job.{name}" for name in (*_JOB_FIELD_NAMES, "_cancelled")]
    source = "def shallow_copy(job):\n    copy = new(Job)\n" + "\n".join(lines) + "\n    return copy\n"
    namespace: dict[str, Any] = {"new": Job.__new__, "Job": Job}
    exec(source, namespace)
    copier: Callable[[Job], Job] = namespace["shallow_copy"]
    return copier


_shallow_copy = _compile_shallow_copy()


def job_fields(options: Mapping[str, Any]) -> dict[str, Any]:
    """``Job`` keyword arguments from worker options: any option that is no job field is kept in
    ``job.extra`` (runtime-only, never stored), as oban-py keeps it."""
    known = {key: value for key, value in options.items() if key in JOB_OPTIONS}
    extra = {key: value for key, value in options.items() if key not in JOB_OPTIONS}
    if extra:
        known["extra"] = {**dict(known.get("extra") or {}), **extra}
    return known


def schedule_state(state: JobState, scheduled_at: datetime | None, now: datetime) -> JobState:
    """The state of a waiting job after its schedule changed: available once due, else scheduled.

    Jobs in any other state keep their state.
    """
    if state not in (JobState.AVAILABLE, JobState.SCHEDULED):
        return state
    due = scheduled_at is None or as_utc(scheduled_at) <= as_utc(now)
    return JobState.AVAILABLE if due else JobState.SCHEDULED


def apply_replace(existing: Job, incoming: Job, now: datetime) -> bool:
    """Overwrite the fields ``incoming.replace`` names for ``existing``'s state (a unique conflict).

    Returns whether anything changed, so the engine knows to write ``existing`` back.
    """
    names = (incoming.replace or {}).get(existing.state, ())
    for name in names:
        setattr(existing, name, getattr(incoming, name))
    if "scheduled_at" in names:
        existing.state = schedule_state(existing.state, existing.scheduled_at, now)
    return bool(names)


def _parse_replace(value: Any) -> dict[JobState, tuple[str, ...]] | None:
    """``replace`` maps states to the fields a unique conflict overwrites; a list means any state."""
    if value is None:
        return None
    allowed = UPDATABLE_FIELDS
    if isinstance(value, list | tuple):
        value = {state: value for state in JobState}
    if not isinstance(value, Mapping):
        raise ValueError(f"replace must be a list of fields or a dict of state -> fields, got {value!r}")
    parsed: dict[JobState, tuple[str, ...]] = {}
    for state, names in value.items():
        try:
            state = JobState(state)
        except ValueError:
            raise ValueError(f"replace names an unknown state {state!r}") from None
        names = tuple(names)
        bad = set(names) - allowed
        if bad:
            raise ValueError(f"replace names field(s) that cannot be replaced: {sorted(bad)!r}")
        parsed[state] = names
    return parsed
