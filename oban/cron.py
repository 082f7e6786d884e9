"""Cron entries: when a periodic job is due, which worker it runs, and the job it inserts.

Entries come from ``Oban(cron=[...])`` and from workers declared with ``cron=`` (registered here
when their module is imported). The runtime's ``Cron`` loop evaluates them on the leader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from ._workers import worker_name
from .job import Job, UniqueOptions, job_fields

_ENTRY_OPTIONS = frozenset({"args", "queue", "priority", "max_attempts", "tags", "meta", "name", "timezone"})


@dataclass(frozen=True, slots=True)
class CronEntry:
    """One line of the crontab: when, which worker, and the job options to insert with."""

    expr: str
    worker: str
    timezone: str = "Etc/UTC"
    name: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.expr, str) or not croniter.is_valid(self.expr):
            raise ValueError(f"cron expression {self.expr!r} is not valid")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"cron timezone {self.timezone!r} is not a known time zone") from None
        if not self.name:
            object.__setattr__(self, "name", self.worker)

    def is_due(self, at: datetime) -> bool:
        """True when the expression matches the minute ``at`` falls in, in the entry's zone."""
        local = at.astimezone(ZoneInfo(self.timezone)).replace(second=0, microsecond=0)
        return bool(croniter.match(self.expr, local))

    def build_job(self, at: datetime) -> Job:
        """The job this entry inserts for the minute ``at`` falls in, with Oban's cron meta keys.

        It is unique per entry and scheduled minute (``meta["cron_at"]``), in every state and
        for good, so each minute inserts exactly one job however many nodes evaluate it, and a
        late evaluation never swallows the next minute's run.
        """
        options = dict(self.options)
        minute = at.astimezone(UTC).replace(second=0, microsecond=0)
        meta = {
            **options.pop("meta", {}),
            "cron": True,
            "cron_expr": self.expr,
            "cron_tz": self.timezone,
            "cron_name": self.name,
            "cron_at": minute.strftime("%Y-%m-%dT%H:%M:00Z"),
        }
        return Job(
            worker=self.worker,
            args=options.pop("args", None) or {},
            meta=meta,
            unique=UniqueOptions.parse(
                {
                    "period": None,
                    "states": "all",
                    "fields": ["worker", "queue", "meta"],
                    "keys": ["cron_name", "cron_at"],
                }
            ),
            **job_fields(options),
        )


_registered: list[CronEntry] = []


def _cron_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """A worker's job options as a cron entry uses them: cron brings its own uniqueness and
    schedule."""
    return {
        key: value
        for key, value in options.items()
        if key not in ("unique", "replace", "scheduled_at", "schedule_in", "scheduled_in")
    }


def parse_entry(spec: Any, timezone: str = "Etc/UTC") -> CronEntry:
    """Accept ``(expr, worker)`` or ``(expr, worker, options)``; ``worker`` a name or a class."""
    if isinstance(spec, CronEntry):
        return spec
    if not isinstance(spec, tuple | list) or len(spec) not in (2, 3):
        raise ValueError(f"cron entry must be (expr, worker) or (expr, worker, options), got {spec!r}")
    expr, target = spec[0], spec[1]
    options = dict(spec[2]) if len(spec) == 3 else {}
    unknown = set(options) - _ENTRY_OPTIONS
    if unknown:
        raise ValueError(f"cron entry for {target!r} has unknown option(s) {sorted(unknown)!r}")
    worker = target if isinstance(target, str) else worker_name(target)
    defaults = {} if isinstance(target, str) else _cron_options(getattr(target, "_oban_options", {}))
    zone = options.pop("timezone", timezone)
    name = options.pop("name", "")
    return CronEntry(expr=expr, worker=worker, timezone=zone, name=name, options={**defaults, **options})


def register_periodic(cron: str | Mapping[str, Any], *, name: str, options: Mapping[str, Any]) -> None:
    """Record a worker (or ``@job`` function) declared with ``cron=``; every ``Oban`` with cron
    enabled schedules it, inserting jobs with the worker's own ``options``."""
    if isinstance(cron, str):
        expr, zone = cron, "Etc/UTC"
    else:
        expr, zone = cron["expr"], cron.get("timezone", "Etc/UTC")
    entry = CronEntry(expr=expr, worker=name, timezone=zone, options=_cron_options(options))
    _registered[:] = [e for e in _registered if e.name != entry.name]
    _registered.append(entry)


def registered_entries() -> list[CronEntry]:
    """Entries declared on workers with ``cron=``."""
    return list(_registered)
