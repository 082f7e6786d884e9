"""The ``Oban`` facade: enqueue and manage jobs, and run queues on this node."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from . import _engine_users, _instances, _json, _testing_mode
from ._time import utcnow
from ._workers import worker_name
from .cron import CronEntry, parse_entry, registered_entries
from .engines.protocol import Activity, Engine
from .engines.registry import default_engine
from .errors import SchemaError
from .job import Job, JobState
from .runtime.executor import apply_ack
from .runtime.executor import run as run_job
from .runtime.lifeline import DEFAULTS as LIFELINE_DEFAULTS
from .runtime.node import Node, NodeConfig
from .runtime.process_pool import check_processes
from .runtime.producer import QueueInfo, check_limit
from .runtime.pruner import DEFAULTS as PRUNER_DEFAULTS

log = logging.getLogger("oban")

QueueConfig = int | Mapping[str, Any]
JobRef = Job | int


def _job_id(job: JobRef) -> int:
    job_id = job.id if isinstance(job, Job) else job
    if isinstance(job_id, bool) or not isinstance(job_id, int):
        raise ValueError(f"job must be a stored Job or an integer id, got {job!r}")
    return job_id


def _default_node() -> str:
    # The pid keeps two processes on one host apart for leadership and node-scoped signals.
    return f"{socket.gethostname()}.{os.getpid()}"


def _options(value: Mapping[str, Any] | bool | None, defaults: dict[str, Any], what: str) -> dict[str, Any] | None:
    if value is False:
        return None
    if value is None or value is True:
        return dict(defaults)
    unknown = set(value) - set(defaults)
    if unknown:
        raise ValueError(f"{what} has unknown option(s) {sorted(unknown)!r}; known: {sorted(defaults)}")
    return {**defaults, **value}


def _lifeline_options(value: Mapping[str, Any] | bool | None, heartbeat: float) -> dict[str, Any] | None:
    options = _options(value, LIFELINE_DEFAULTS, "lifeline")
    if options is not None and options["interval"] is None:
        options["interval"] = heartbeat / 2  # a stale producer's jobs wait at most half a beat more
    return options


def flatten_jobs(jobs: tuple[Job | Iterable[Job], ...]) -> list[Job]:
    """``enqueue_many``'s arguments as one list: jobs, and iterables of jobs, in order."""
    flat: list[Job] = []
    for item in jobs:
        if isinstance(item, Job):
            flat.append(item)
        elif isinstance(item, Iterable) and not isinstance(item, str | bytes | Mapping):
            flat.extend(item)
        else:
            raise ValueError(f"enqueue_many takes Job objects or iterables of them, got {item!r}")
    for job in flat:
        if not isinstance(job, Job):
            raise ValueError(f"enqueue_many takes Job objects, got {job!r}")
    return flat


_inline_ids = itertools.count(1)


async def _run_inline(job: Job) -> Job:
    """Run ``job`` now without the database; return it as its run left it, or raise its error."""
    job.validate()
    ran = job._copy()
    ran.args, ran.meta = _json.decode(_json.encode(job.args, "args")), _json.decode(_json.encode(job.meta, "meta"))
    now = utcnow()
    ran.id = ran.id if ran.id is not None else next(_inline_ids)
    ran.state, ran.attempt = JobState.EXECUTING, ran.attempt + 1
    ran.inserted_at = ran.inserted_at or now
    ran.scheduled_at = ran.scheduled_at or now
    ran.attempted_at = now
    ack, error = await run_job(ran)
    apply_ack(ran, ack)
    if error is not None:
        raise error
    return ran


class Oban:
    """Background jobs in your database.

    ``Oban(engine=LiteEngine("jobs.db"), queues={"default": 10})``. With no ``queues`` it is a
    client that only enqueues and manages jobs; nothing needs starting for that, the engine
    connects on first use. ``start()`` (or ``async with``) runs the queues, leadership, staging,
    pruning, rescue and cron on this node; ``stop()`` shuts down gracefully.

    Several instances may share one engine object: each holds it from first use until its
    ``stop()``, and the last holder to stop closes it. An engine you also use directly is closed
    the same way, and reconnects if you call it again afterwards.

    Options: ``name`` (registry name, default ``"oban"``), ``node`` (default host.pid),
    ``stage_interval`` (1 s; also how often idle queues poll), ``pruner`` (``max_age`` 60 s,
    ``interval`` 30 s, ``limit`` 10 000, or ``False``), ``lifeline`` (``interval`` half the
    heartbeat; jobs of producers that stopped heartbeating are rescued at once, claims by nodes
    that never heartbeat after ``rescue_after`` 3600 s; or ``False``), ``heartbeat_interval`` (5 s:
    each node records its queues this often, a silent node counts as dead after two intervals,
    and leadership passes on within two and a half), ``cron`` (a list of
    ``(expr, worker[, options])``, ``True`` for only the workers declared with ``cron=``, or
    ``False`` for none), ``cron_timezone``, ``leadership`` (default:
    on when queues run), ``shutdown_grace_period`` (15 s), ``testing`` (``"inline"`` runs each
    enqueued job at once without the database and returns it as its run left it; ``"manual"``
    makes ``start()`` run nothing, for ``oban.testing``'s helpers), ``processes`` (how many
    child processes run the workers declared with ``executor="process"``; default the CPU
    count, started when such a worker first runs).

    oban-py's spellings are accepted too: ``stager={"interval", "limit"}`` for ``stage_interval``
    and ``stage_limit``, ``scheduler={"timezone"}`` for ``cron_timezone``, and
    ``refresher={"interval"}`` for ``heartbeat_interval``. The name ``"Oban"`` is the same slot
    as ``"oban"``.
    """

    def __init__(
        self,
        engine: Engine | None = None,
        *,
        queues: Mapping[str, QueueConfig] | None = None,
        name: str = "oban",
        node: str | None = None,
        stage_interval: float = 1.0,
        stage_limit: int = 20_000,
        pruner: Mapping[str, Any] | bool | None = None,
        lifeline: Mapping[str, Any] | bool | None = None,
        cron: Iterable[Any] | bool | None = None,
        cron_timezone: str = "Etc/UTC",
        leadership: bool | None = None,
        shutdown_grace_period: float = 15.0,
        heartbeat_interval: float = 5.0,
        testing: str | None = None,
        stager: Mapping[str, Any] | None = None,
        scheduler: Mapping[str, Any] | None = None,
        refresher: Mapping[str, Any] | None = None,
        processes: int | None = None,
    ) -> None:
        self.engine: Engine = engine if engine is not None else default_engine()
        self.name = name
        self.node = node or _default_node()
        self.testing = _testing_mode.check(testing)
        # oban-py's spellings of the same settings.
        if stager is not None:
            staging = _options(stager, {"interval": stage_interval, "limit": stage_limit}, "stager")
            assert staging is not None
            stage_interval, stage_limit = staging["interval"], staging["limit"]
        if scheduler is not None:
            cron_timezone = (_options(scheduler, {"timezone": cron_timezone}, "scheduler") or {})["timezone"]
        if refresher is not None:
            heartbeat_interval = (_options(refresher, {"interval": heartbeat_interval}, "refresher") or {})["interval"]
        if float(stage_interval) <= 0:
            raise ValueError(f"stage_interval must be positive, got {stage_interval!r}")
        if float(heartbeat_interval) <= 0:
            raise ValueError(f"heartbeat_interval must be positive, got {heartbeat_interval!r}")
        queue_config = {queue: self._parse_queue(queue, config) for queue, config in (queues or {}).items()}
        entries: list[CronEntry] = []
        if cron is not False:
            entries = [parse_entry(spec, cron_timezone) for spec in (() if cron is None or cron is True else cron)]
            explicit = {entry.name for entry in entries}
            entries += [entry for entry in registered_entries() if entry.name not in explicit]
        self._node = Node(
            self.engine,
            NodeConfig(
                name=name,
                node=self.node,
                queues=queue_config,
                stage_interval=float(stage_interval),
                stage_limit=stage_limit,
                pruner=_options(pruner, PRUNER_DEFAULTS, "pruner"),
                lifeline=_lifeline_options(lifeline, float(heartbeat_interval)),
                cron=tuple(entries),
                leadership=bool(queue_config) if leadership is None else leadership,
                shutdown_grace_period=float(shutdown_grace_period),
                heartbeat_interval=float(heartbeat_interval),
                processes=check_processes(processes),
            ),
            self.enqueue_many,
        )
        self._ready = False
        self._lock = asyncio.Lock()
        _instances.register(name, self)

    @staticmethod
    def _parse_queue(queue: str, config: QueueConfig) -> dict[str, Any]:
        if not isinstance(queue, str) or not queue.strip():
            raise ValueError(f"queue names must be non-blank strings, got {queue!r}")
        if isinstance(config, Mapping):
            unknown = set(config) - {"limit", "paused"}
            if unknown:
                raise ValueError(f"queue {queue!r} has unknown option(s) {sorted(unknown)!r}")
            return {"limit": check_limit(config.get("limit"), queue), "paused": bool(config.get("paused", False))}
        return {"limit": check_limit(config, queue), "paused": False}

    @classmethod
    def get_instance(cls, name: str = "oban") -> Oban:
        """The ``Oban`` created under ``name`` (the most recent one, if several were)."""
        instance: Oban = _instances.get(name)
        return instance

    def __repr__(self) -> str:
        return f"Oban(name={self.name!r}, node={self.node!r}, engine={self.engine!r})"

    @property
    def is_leader(self) -> bool:
        """True while this node holds the cluster's leadership."""
        return self._node.is_leader

    @property
    def crontab(self) -> tuple[CronEntry, ...]:
        """The cron entries this instance schedules while it leads."""
        return self._node.config.cron

    @property
    def stage_interval(self) -> float:
        """How often the leader stages due jobs, and how often idle queues poll."""
        return self._node.config.stage_interval

    @property
    def shutdown_grace_period(self) -> float:
        """How long ``stop()`` waits for running jobs."""
        return self._node.config.shutdown_grace_period

    # -- lifecycle -----------------------------------------------------------------------------

    async def _ensure_ready(self) -> None:
        if self._ready:
            return
        await self.engine.connect()
        _engine_users.hold(self.engine, self)
        if await self.engine.schema_version() == 0:
            raise SchemaError(
                f"the oban schema is not installed in {self.engine.dsn}; run: oban install --dsn {self.engine.dsn}"
            )
        self._ready = True

    async def start(self) -> Oban:
        """Run this node's queues and background work; returns once it is listening.

        In a testing mode (``testing="manual"`` or ``"inline"``) nothing runs: a test drives
        jobs itself (``oban.testing.drain_queue``).
        """
        if _testing_mode.in_force(self.testing) is not None:
            return self
        async with self._lock:
            if self._node.started:
                return self
            try:
                await self._ensure_ready()
                await self._node.start()
            except BaseException:
                await self._release_engine()
                raise
        return self

    async def stop(self) -> None:
        """Stop claiming jobs, let running ones finish within the grace period, write every ack.

        Jobs still running after ``shutdown_grace_period`` are cancelled and left ``executing``
        for the lifeline to rescue; their ids are logged.
        """
        async with self._lock:
            try:
                if self._node.started:
                    await self._node.stop()
            finally:
                await self._release_engine()

    async def _release_engine(self) -> None:
        """Close the engine unless another ``Oban`` still uses it."""
        self._ready = False
        if _engine_users.release(self.engine, self):
            await self.engine.close()

    async def __aenter__(self) -> Oban:
        return await self.start()

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    # -- signals -------------------------------------------------------------------------------

    async def _signal(self, payload: dict[str, Any], node: str | None) -> None:
        payload = {**payload, "node": node, "sender": self.node, "instance": self.name}
        if node is None or node == self.node:
            pending = self._node.apply_signal(payload)
            if pending is not None:
                await pending
        if node != self.node:
            await self._ensure_ready()
            await self.engine.notify("signal", [payload])

    # -- inserting -----------------------------------------------------------------------------

    async def enqueue(self, job: Job, *, conn: Any = None) -> Job:
        """Insert one job and return it as stored (with ``id``; ``conflict`` for unique clashes).

        ``conn`` is the engine's native connection inside your own transaction: the job then
        exists only if that transaction commits.
        """
        return (await self.enqueue_many(job, conn=conn))[0]

    async def enqueue_many(self, *jobs: Job | Iterable[Job], conn: Any = None) -> list[Job]:
        """Insert many jobs in one round trip: ``enqueue_many(a, b)`` or ``enqueue_many([a, b])``."""
        flat = flatten_jobs(jobs)
        if not flat:
            return []
        if _testing_mode.in_force(self.testing) == "inline":
            return [await _run_inline(job) for job in flat]
        await self._ensure_ready()
        inserted = await self.engine.insert_jobs(flat, conn=conn)
        if conn is None:  # committed: this node's own queues look now, not when the notification is back
            self._node.wake_queues({job.queue for job in inserted if job.state is JobState.AVAILABLE})
        return inserted

    # -- reading and managing jobs -------------------------------------------------------------

    async def get_job(self, job: JobRef) -> Job | None:
        """The stored job with this id, or ``None``."""
        await self._ensure_ready()
        return await self.engine.get_job(_job_id(job))

    async def list_jobs(
        self,
        *,
        queue: str | None = None,
        worker: str | type | Callable[..., Any] | None = None,
        state: str | Sequence[str] | None = None,
        limit: int = 1000,
        search: str | None = None,
        before_id: int | None = None,
    ) -> list[Job]:
        """Stored jobs matching every filter given, newest first.

        ``search`` keeps jobs whose worker, ``args`` or ``meta`` (as JSON text) or a tag contains
        it, ignoring case (``%`` and ``_`` are plain characters); digits also match that job id.
        ``before_id`` keeps jobs with a smaller id: pass the last id of a page for the next page.
        """
        await self._ensure_ready()
        if worker is not None and not isinstance(worker, str):
            worker = worker_name(worker)
        states = None
        if state is not None:
            states = [JobState(state)] if isinstance(state, str) else [JobState(s) for s in state]
        return await self.engine.list_jobs(
            queue=queue, worker=worker, states=states, limit=limit, search=search, before_id=before_id
        )

    async def job_activity(self, *, since: datetime, bucket: int = 60) -> list[Activity]:
        """How many jobs completed, were discarded, cancelled or failed to retry since ``since``.

        One ``Activity`` per ``bucket``-second interval (starting at multiples of ``bucket``
        since the Unix epoch), queue and state with a count above zero, oldest first.
        """
        await self._ensure_ready()
        return await self.engine.job_activity(since, bucket)

    async def count_jobs(self) -> dict[tuple[str, JobState], int]:
        """How many jobs each queue holds in each state: ``{(queue, state): count}``."""
        await self._ensure_ready()
        return await self.engine.count_jobs()

    async def cancel_job(self, job: JobRef) -> int:
        """Cancel one job; an executing job is marked at once and told via ``job.cancelled()``."""
        return await self.cancel_many_jobs([job])

    async def cancel_many_jobs(self, jobs: Iterable[JobRef]) -> int:
        """Cancel incomplete jobs; returns how many rows changed."""
        ids = [_job_id(job) for job in jobs]
        await self._ensure_ready()
        count, executing = await self.engine.cancel_jobs(ids, utcnow())
        if executing:
            await self._signal({"action": "pkill", "job_ids": executing}, None)
        return count

    async def retry_job(self, job: JobRef) -> int:
        """Make a job available now (any state but available/executing); raises its max_attempts if spent."""
        return await self.retry_many_jobs([job])

    async def retry_many_jobs(self, jobs: Iterable[JobRef]) -> int:
        """Retry many jobs; returns how many rows changed."""
        ids = [_job_id(job) for job in jobs]
        await self._ensure_ready()
        count = await self.engine.retry_jobs(ids, utcnow())
        if count:
            await self.engine.notify("insert", [{"queue": info.queue} for info in self._node.check_all_queues()])
        return count

    async def delete_job(self, job: JobRef) -> int:
        """Delete a job unless it is executing; returns 1 if deleted."""
        return await self.delete_many_jobs([job])

    async def delete_many_jobs(self, jobs: Iterable[JobRef]) -> int:
        """Delete jobs that are not executing; returns how many were deleted."""
        ids = [_job_id(job) for job in jobs]
        await self._ensure_ready()
        return await self.engine.delete_jobs(ids)

    async def update_job(self, job: JobRef, changes: Mapping[str, Any] | Callable[[Job], Mapping[str, Any]]) -> Job:
        """Change a job's updatable fields (a dict, or a callable ``job -> dict``) and return it.

        A missing id raises ``ValueError`` ("Job with id 7 not found", as in oban-py).
        """
        updated = await self.update_many_jobs([job], changes)
        if not updated:
            raise ValueError(f"Job with id {_job_id(job)} not found")
        return updated[0]

    async def update_many_jobs(
        self, jobs: Iterable[JobRef], changes: Mapping[str, Any] | Callable[[Job], Mapping[str, Any]]
    ) -> list[Job]:
        """Update many jobs atomically; a callable sees each job's current stored state."""
        ids = [_job_id(job) for job in jobs]
        if not callable(changes) and not isinstance(changes, Mapping):
            raise ValueError(f"changes must be a dict or a callable returning one, got {changes!r}")
        if isinstance(changes, Mapping):
            Job(worker="probe").update(changes)  # reject bad fields before touching the database

        def change(job: Job) -> Job:
            # The engine moves a waiting job between available and scheduled when its schedule changed.
            return job.update(changes(job) if callable(changes) else changes)

        await self._ensure_ready()
        return await self.engine.update_jobs(ids, change)

    # -- queues --------------------------------------------------------------------------------

    def check_queue(self, queue: str) -> QueueInfo | None:
        """This node's view of ``queue`` (limit, paused, running ids), or ``None`` if not running here."""
        return self._node.check_queue(queue)

    def check_all_queues(self) -> list[QueueInfo]:
        """Every queue running on this node."""
        return self._node.check_all_queues()

    async def cluster_queues(self, queue: str | None = None) -> list[QueueInfo]:
        """Every live producer of this cluster (this ``name``) on every node, or only ``queue``'s,
        as each one's last heartbeat recorded it (``updated_at``; at most ``heartbeat_interval``
        old). Works from a client too; ordered by queue, then node."""
        await self._ensure_ready()
        infos = await self._node.cluster_queues()
        return sorted((i for i in infos if queue is None or i.queue == queue), key=lambda i: (i.queue, i.node, i.uuid))

    async def pause_queue(self, queue: str, *, node: str | None = None) -> None:
        """Stop claiming jobs from ``queue`` on every node (or on ``node``); running jobs finish."""
        await self._signal({"action": "pause", "queue": queue}, node)

    async def resume_queue(self, queue: str, *, node: str | None = None) -> None:
        """Resume a paused queue on every node (or on ``node``)."""
        await self._signal({"action": "resume", "queue": queue}, node)

    async def pause_all_queues(self, *, node: str | None = None) -> None:
        """Pause every queue on every node (or on ``node``)."""
        await self._signal({"action": "pause", "queue": "*"}, node)

    async def resume_all_queues(self, *, node: str | None = None) -> None:
        """Resume every queue on every node (or on ``node``)."""
        await self._signal({"action": "resume", "queue": "*"}, node)

    async def scale_queue(self, queue: str, *, limit: int, node: str | None = None) -> None:
        """Change ``queue``'s concurrency limit on every node (or on ``node``)."""
        check_limit(limit, queue)
        await self._signal({"action": "scale", "queue": queue, "limit": limit}, node)

    async def start_queue(self, queue: str, *, limit: int, paused: bool = False, node: str | None = None) -> None:
        """Start running ``queue`` on every started node (or on ``node``)."""
        self._parse_queue(queue, {"limit": limit, "paused": paused})
        await self._signal({"action": "start", "queue": queue, "limit": limit, "paused": paused}, node)

    async def stop_queue(self, queue: str, *, node: str | None = None) -> None:
        """Stop running ``queue`` on every node (or on ``node``), letting running jobs finish."""
        await self._signal({"action": "stop", "queue": queue}, node)
