"""``oban jobs``, ``oban queues``, ``oban nodes`` and ``oban check``: see and manage jobs, and check health.

Each command opens a client (an ``Oban`` that runs no queue), does one thing and prints either
a table for people or, with ``--json``, one JSON document for scripts. Retry, cancel and delete
follow the same rules as the Python API (a cancel of an executing job reaches its node).
``check`` reports each health check on a line of its own; the caller exits 1 if one failed.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from ._time import utcnow
from .engines.protocol import Engine, ProducerRecord
from .job import Job, JobState
from .oban import Oban

STATES = [state.value for state in JobState]


def add_commands(commands: Any, dsn_help: str, parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """Register ``jobs``, ``queues``, ``nodes`` and ``check`` on the ``oban`` parser's subcommands.

    Their settings flags (``--dsn``, ``--name``, ``--json``...) default to ``None``, for
    ``oban.cli_config.apply`` to fill in; ``parents`` are added to every one of them.
    """
    jobs = commands.add_parser("jobs", help="list, show, retry, cancel or delete jobs", parents=parents)
    actions = jobs.add_subparsers(dest="action", required=True)

    listing = actions.add_parser("list", help="jobs matching filters, newest first", parents=parents)
    listing.add_argument(
        "--state", action="append", default=[], choices=STATES, help="only jobs in this state (repeatable)"
    )
    listing.add_argument("--queue", help="only jobs of this queue")
    listing.add_argument("--worker", help="only jobs of this worker (its full name)")
    listing.add_argument("--limit", type=_positive, default=50, help="at most this many (default 50)")

    show = actions.add_parser(
        "show", help="one job whole: args, meta, attempts, errors with tracebacks", parents=parents
    )
    show.add_argument("id", type=_job_id)

    for action, text in (
        ("retry", "make jobs available now (any state but available and executing)"),
        ("cancel", "cancel jobs that have not finished (an executing one is told to stop)"),
        ("delete", "delete jobs that are not executing"),
    ):
        sub = actions.add_parser(action, help=text, parents=parents)
        sub.add_argument("ids", type=_job_id, nargs="+", metavar="ID")

    queues = commands.add_parser("queues", help="each queue: jobs by state, paused, limit per node", parents=parents)
    nodes = commands.add_parser("nodes", help="each node heartbeating: its queues, when it last beat", parents=parents)
    check = commands.add_parser(
        "check", help="health: database reachable, schema version, nodes alive (exit 1 if unhealthy)", parents=parents
    )
    check.add_argument(
        "--require-nodes",
        type=_count,
        metavar="N",
        help="fail unless at least N nodes of the instance are alive (default 0: live nodes are reported only)",
    )
    check.add_argument(
        "--timeout", type=_seconds, help="seconds to wait for each answer from the database (default 10)"
    )
    for sub in (*actions.choices.values(), queues, nodes, check):
        sub.add_argument("--dsn", help=dsn_help)
        sub.add_argument("--name", help="the Oban instance (cluster) name (default: oban)")
        sub.add_argument("--json", action="store_true", default=None, help="print JSON instead of a table")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return int(text)


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return seconds


def _job_id(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a job id is a positive integer, got {text!r}")
    return int(text)


async def run(args: argparse.Namespace, engine: Engine) -> str:
    """Run one management command against ``engine``; return what to print."""
    oban = Oban(engine, name=args.name, cron=False)
    try:
        if args.command == "queues":
            return await _queues(oban, args.json)
        if args.command == "nodes":
            return await _nodes(oban, args.json)
        return await _jobs(oban, args)
    finally:
        await oban.stop()


# -- jobs ----------------------------------------------------------------------------------------


async def _jobs(oban: Oban, args: argparse.Namespace) -> str:
    if args.action == "list":
        jobs = await oban.list_jobs(queue=args.queue, worker=args.worker, state=args.state or None, limit=args.limit)
        if args.json:
            return _dumps([job_document(job) for job in jobs])
        rows = [
            [
                str(job.id),
                job.state.value,
                job.queue,
                job.worker,
                f"{job.attempt}/{job.max_attempts}",
                _when(_state_time(job)),
                str(len(job.errors)),
            ]
            for job in jobs
        ]
        return table(["ID", "STATE", "QUEUE", "WORKER", "ATTEMPT", "AT", "ERRORS"], rows) if rows else "no jobs"
    if args.action == "show":
        job = await oban.get_job(args.id)
        if job is None:
            raise LookupError(f"no job with id {args.id}")
        return _dumps(job_document(job)) if args.json else _show(job)
    action = {"retry": oban.retry_many_jobs, "cancel": oban.cancel_many_jobs, "delete": oban.delete_many_jobs}
    count = await action[args.action](args.ids)
    past = {"retry": "retried", "cancel": "cancelled", "delete": "deleted"}[args.action]
    if args.json:
        return _dumps({past: count, "ids": args.ids})
    return f"{past} {count} of {len(args.ids)} job(s)"


def job_document(job: Job) -> dict[str, Any]:
    """A job as plain JSON-able data (what ``--json`` prints)."""
    return {
        "id": job.id,
        "state": job.state.value,
        "queue": job.queue,
        "worker": job.worker,
        "args": job.args,
        "meta": job.meta,
        "tags": job.tags,
        "attempt": job.attempt,
        "max_attempts": job.max_attempts,
        "priority": job.priority,
        "errors": job.errors,
        "attempted_by": job.attempted_by,
        "inserted_at": job.inserted_at,
        "scheduled_at": job.scheduled_at,
        "attempted_at": job.attempted_at,
        "completed_at": job.completed_at,
        "cancelled_at": job.cancelled_at,
        "discarded_at": job.discarded_at,
        "recorded": job.recorded,
    }


def _state_time(job: Job) -> datetime | None:
    """The timestamp that matters for the job's state (when it ran, finished, or is due)."""
    return {
        JobState.EXECUTING: job.attempted_at,
        JobState.COMPLETED: job.completed_at,
        JobState.CANCELLED: job.cancelled_at,
        JobState.DISCARDED: job.discarded_at,
    }.get(job.state, job.scheduled_at)


def _show(job: Job) -> str:
    lines = [
        f"job {job.id}: {job.worker}",
        f"  state        {job.state.value}",
        f"  queue        {job.queue} (priority {job.priority})",
        f"  attempt      {job.attempt} of {job.max_attempts}",
        f"  args         {_dumps(job.args)}",
        f"  meta         {_dumps(job.meta)}",
        f"  tags         {', '.join(job.tags) or '-'}",
        f"  attempted by {' '.join(job.attempted_by) or '-'}",
    ]
    for label, at in (
        ("inserted", job.inserted_at),
        ("scheduled", job.scheduled_at),
        ("attempted", job.attempted_at),
        ("completed", job.completed_at),
        ("cancelled", job.cancelled_at),
        ("discarded", job.discarded_at),
    ):
        if at is not None:
            lines.append(f"  {label:<12} {_when(at)}")
    if job.meta.get("recorded"):
        lines.append(f"  recorded     {_dumps(job.recorded)}")
    lines.append(f"  errors       {len(job.errors) or 'none'}")
    for entry in job.errors:
        lines.append(f"  - attempt {entry.get('attempt')} at {entry.get('at')}:")
        lines.extend(f"      {line}" for line in str(entry.get("error", "")).splitlines())
    return "\n".join(lines)


# -- queues and nodes ----------------------------------------------------------------------------


async def _queues(oban: Oban, as_json: bool) -> str:
    counts = await oban.count_jobs()
    producers = await oban.cluster_queues()
    names = sorted({queue for queue, _ in counts} | {info.queue for info in producers})
    documents: list[dict[str, Any]] = []
    for queue in names:
        running = [info for info in producers if info.queue == queue]
        documents.append(
            {
                "queue": queue,
                "counts": {state: counts.get((queue, JobState(state)), 0) for state in STATES},
                "nodes": [
                    {"node": info.node, "limit": info.limit, "paused": info.paused, "running": len(info.running)}
                    for info in running
                ],
                "paused": bool(running) and all(info.paused for info in running),
            }
        )
    if as_json:
        return _dumps(documents)
    if not documents:
        return "no queues: no jobs and no node running one"
    shown = ["available", "scheduled", "executing", "retryable", "completed", "discarded", "cancelled"]
    rows = []
    for doc in documents:
        limits = ", ".join(f"{n['node']}:{n['limit']}" + (" (paused)" if n["paused"] else "") for n in doc["nodes"])
        rows.append(
            [doc["queue"], *(str(doc["counts"][s]) for s in shown), "yes" if doc["paused"] else "no", limits or "-"]
        )
    return table(["QUEUE", *(s.upper() for s in shown), "PAUSED", "LIMIT PER NODE"], rows)


async def _nodes(oban: Oban, as_json: bool) -> str:
    now = utcnow()
    documents = node_documents(await oban.engine.list_producers(), oban.name, now)
    if as_json:
        return _dumps(documents)
    if not documents:
        return f"no nodes have heartbeated for {oban.name!r}"
    rows = [
        [
            doc["node"],
            "alive" if doc["alive"] else "gone",
            ", ".join(q["queue"] for q in doc["queues"]),
            str(sum(q["running"] for q in doc["queues"])),
            f"{(now - doc['last_beat']).total_seconds():.1f}s ago",
        ]
        for doc in documents
    ]
    return table(["NODE", "STATUS", "QUEUES", "RUNNING", "LAST HEARTBEAT"], rows)


def node_documents(producers: Sequence[ProducerRecord], name: str, now: datetime) -> list[dict[str, Any]]:
    """Instance ``name``'s nodes from their producers' heartbeats, by node name: each with
    ``alive`` (one of its producers is), its ``queues`` and its ``last_beat``."""
    records = [r for r in producers if r.name == name]
    nodes: dict[str, dict[str, Any]] = {}
    for record in sorted(records, key=lambda r: (r.node, r.queue)):
        node = nodes.setdefault(record.node, {"node": record.node, "alive": False, "queues": [], "last_beat": None})
        alive = record.alive(now)
        node["alive"] = node["alive"] or alive
        node["queues"].append(
            {
                "queue": record.queue,
                "limit": record.meta.get("local_limit"),
                "paused": bool(record.meta.get("paused")),
                "running": len(record.meta.get("running") or []),
                "alive": alive,
                "started_at": record.started_at,
            }
        )
        if node["last_beat"] is None or record.updated_at > node["last_beat"]:
            node["last_beat"] = record.updated_at
    return list(nodes.values())


# -- check ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    """One health check's outcome: ``ok``, ``FAIL``, or ``skip`` when an earlier failure left
    nothing to check. ``data`` is what ``--json`` adds for scripts."""

    name: str
    status: str
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Only ``FAIL`` makes the instance unhealthy."""
        return self.status != "FAIL"


async def health(engine: Engine, *, name: str, require_nodes: int, timeout: float) -> list[Check]:
    """Check that the database answers, that the schema is at the version this oban needs, and
    that at least ``require_nodes`` nodes of instance ``name`` are alive (heartbeating).

    Never raises for an unhealthy database: each failure is a ``FAIL`` check naming the error,
    and the checks that depend on it are skipped.
    """

    async def answer(call: Awaitable[Any]) -> Any:
        return await asyncio.wait_for(call, timeout)

    try:
        await answer(engine.connect())
        installed = await answer(engine.schema_version())
    except Exception as error:
        skipped = "not checked: the database did not answer"
        reason = _reason(error, timeout)
        detail = f"unreachable: {reason}" if engine.dsn in reason else f"{engine.dsn} unreachable: {reason}"
        return [
            Check("database", "FAIL", detail, {"dsn": engine.dsn}),
            Check("schema", "skip", skipped),
            Check("nodes", "skip", skipped),
        ]
    checks = [Check("database", "ok", f"{engine.dsn} reachable", {"dsn": engine.dsn})]
    needed = engine.latest_schema_version
    versions = {"installed": installed, "needed": needed}
    if installed == 0:
        checks.append(Check("schema", "FAIL", f"not installed, version {needed} needed: run oban install", versions))
        checks.append(Check("nodes", "skip", "not checked: no schema"))
        return checks
    if installed < needed:
        detail = f"version {installed} installed, {needed} needed: run oban migrate"
        checks.append(Check("schema", "FAIL", detail, versions))
    else:
        checks.append(Check("schema", "ok", f"version {installed} installed, {needed} needed", versions))
    try:
        producers = await answer(engine.list_producers())
    except Exception as error:
        checks.append(Check("nodes", "FAIL", f"cannot list heartbeats: {_reason(error, timeout)}"))
        return checks
    alive = [doc for doc in node_documents(producers, name, utcnow()) if doc["alive"]]
    listing = "; ".join(f"{doc['node']} ({', '.join(q['queue'] for q in doc['queues'])})" for doc in alive)
    detail = f"{len(alive)} alive for {name!r}" + (f": {listing}" if listing else "")
    data = {"alive": [doc["node"] for doc in alive], "required": require_nodes}
    if len(alive) < require_nodes:
        checks.append(Check("nodes", "FAIL", f"{detail}, at least {require_nodes} required", data))
    else:
        checks.append(Check("nodes", "ok", detail + ("" if require_nodes else " (none required)"), data))
    return checks


def _reason(error: BaseException, timeout: float) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {timeout:g}s"
    return f"{type(error).__name__}: {error}"


def render_health(checks: Sequence[Check], name: str, as_json: bool) -> str:
    """One line a check (``ok``/``FAIL``/``skip``, the check, the detail), or one JSON document."""
    if as_json:
        documents = [{"check": c.name, "status": c.status.lower(), "detail": c.detail, **c.data} for c in checks]
        return _dumps({"healthy": all(c.passed for c in checks), "name": name, "checks": documents})
    width = max(len(check.name) for check in checks)
    return "\n".join(f"{check.status:<4}  {check.name:<{width}}  {check.detail}" for check in checks)


# -- output --------------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=False)).rstrip()
        for line in (headers, *rows)
    ]
    return "\n".join(lines)


def _when(at: datetime | None) -> str:
    if at is None:
        return "-"
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _dumps(value: Any) -> str:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
