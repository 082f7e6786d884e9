"""A producer runs one queue on this node: it claims jobs up to its limit and runs each as a task."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import uuid4

from .. import telemetry
from .._time import utcnow
from ..backoff import Backoff
from ..engines.protocol import Ack, Engine, ProducerRecord
from ..job import Job
from .executor import execute, failure_ack
from .process_pool import ProcessPool

log = logging.getLogger("oban.producer")


@dataclass(frozen=True, slots=True)
class QueueInfo:
    """A snapshot of one queue on one node (its producer).

    From ``check_queue`` it is this process's live view; from ``cluster_queues`` it is what the
    producer's last heartbeat recorded, ``updated_at`` saying when.
    """

    queue: str
    limit: int
    paused: bool
    running: list[int]
    node: str
    started_at: datetime
    uuid: str = ""
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None

    @classmethod
    def from_record(cls, record: ProducerRecord) -> QueueInfo:
        """The queue as a producer row describes it."""
        meta = dict(record.meta)
        running = meta.get("running")
        return cls(
            queue=record.queue,
            limit=int(meta.get("local_limit") or 0),
            paused=bool(meta.get("paused", False)),
            running=sorted(running) if isinstance(running, list) else [],
            node=record.node,
            started_at=record.started_at,
            uuid=record.uuid,
            name=record.name,
            meta=meta,
            updated_at=record.updated_at,
        )


def check_limit(limit: object, queue: str) -> int:
    """Validate a queue's concurrency limit."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"queue {queue!r} limit must be positive (an integer), got {limit!r}")
    return limit


class Producer:
    """Claims ``limit - running`` jobs whenever woken (insert, finished job, poll) and runs them."""

    MAX_CLAIMS = 2
    """Claims in flight at once (a second when an insert is heard during the first); together
    they never ask for more than the free slots."""

    def __init__(
        self,
        *,
        queue: str,
        limit: int,
        engine: Engine,
        node: str,
        name: str = "oban",
        ack: Callable[[Ack], None],
        threads: Executor | None,
        poll_interval: float,
        paused: bool = False,
        processes: ProcessPool | None = None,
    ) -> None:
        if not isinstance(queue, str) or not queue.strip():
            raise ValueError(f"queue must be a non-blank string, got {queue!r}")
        self.queue = queue
        self.limit = check_limit(limit, queue)
        self.paused = paused
        self.node = node
        self.name = name
        self.uuid = str(uuid4())
        self.started_at = utcnow()
        self._engine = engine
        self._ack = ack
        self._threads = threads
        self._processes = processes
        self._poll_interval = poll_interval
        self._running: dict[int, tuple[Job, asyncio.Task[None]]] = {}
        self._wake = asyncio.Event()
        self._more = True
        self._claims: set[asyncio.Task[None]] = set()
        self._claiming = 0  # slots that claims in flight may fill
        self._claim_error: Exception | None = None
        self._backoff = Backoff(0.1, 10.0)
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None

    # -- control -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start claiming jobs."""
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self._loop(), name=f"oban-producer-{self.queue}")
            self.wake()
            telemetry.execute("oban.queue.start", self._event_metadata())

    def _event_metadata(self) -> dict[str, Any]:
        return {"queue": self.queue, "limit": self.limit, "paused": self.paused, "node": self.node, "uuid": self.uuid}

    def wake(self) -> None:
        """Look for jobs now (new jobs were inserted, or a slot freed)."""
        self._more = True
        self._wake.set()

    def pause(self) -> None:
        """Stop claiming new jobs; running jobs finish."""
        self.paused = True

    def resume(self) -> None:
        """Claim jobs again."""
        self.paused = False
        self.wake()

    def scale(self, limit: int) -> None:
        """Change how many jobs may run at once on this node."""
        self.limit = check_limit(limit, self.queue)
        self.wake()

    def cancel_running(self, job_ids: set[int]) -> list[int]:
        """Flag running jobs among ``job_ids`` so their ``job.cancelled()`` turns True."""
        flagged = []
        for job_id in job_ids & self._running.keys():
            self._running[job_id][0]._cancelled = True
            flagged.append(job_id)
        return flagged

    def info(self) -> QueueInfo:
        """This queue's limit, pause state and running job ids."""
        return QueueInfo(
            queue=self.queue,
            limit=self.limit,
            paused=self.paused,
            running=sorted(self._running),
            node=self.node,
            started_at=self.started_at,
            uuid=self.uuid,
            name=self.name,
            meta={"local_limit": self.limit, "paused": self.paused},
        )

    def record(self, now: datetime, ttl: float) -> ProducerRecord:
        """This producer's heartbeat row, alive for ``ttl`` seconds from ``now``."""
        meta = {"local_limit": self.limit, "paused": self.paused, "running": sorted(self._running), "ttl": ttl}
        return ProducerRecord(
            uuid=self.uuid,
            name=self.name,
            node=self.node,
            queue=self.queue,
            meta=meta,
            started_at=self.started_at,
            updated_at=now,
        )

    async def stop(self, deadline: float) -> list[Job]:
        """Stop claiming, wait for running jobs until ``deadline`` (loop time); return stragglers.

        Stragglers are cancelled without an ack: their rows stay ``executing`` for the lifeline
        to rescue.
        """
        self._stopping = True
        self._wake.set()
        stopping_at = time.monotonic_ns()
        if self._loop_task is not None:
            await self._loop_task
            self._loop_task = None
        tasks = [task for _, task in self._running.values()]
        if tasks:
            remaining = max(0.0, deadline - asyncio.get_running_loop().time())
            await asyncio.wait(tasks, timeout=remaining)
        stragglers = [job for job, task in self._running.values() if not task.done()]
        for job in stragglers:
            self._running[job.id][1].cancel()  # type: ignore[index]
        if stragglers:
            await asyncio.wait([task for _, task in self._running.values()], timeout=1.0)
            telemetry.execute(
                "oban.queue.shutdown",
                {
                    "queue": self.queue,
                    "node": self.node,
                    "elapsed": time.monotonic_ns() - stopping_at,
                    "orphaned": [job.id for job in stragglers],
                },
            )
        telemetry.execute("oban.queue.stop", {**self._event_metadata(), "orphaned": [job.id for job in stragglers]})
        return stragglers

    # -- work ----------------------------------------------------------------------------------

    async def _loop(self) -> None:
        backoff = self._backoff
        try:
            while not self._stopping:
                if not self._wake.is_set():
                    try:
                        async with asyncio.timeout(self._poll_interval):
                            await self._wake.wait()
                    except TimeoutError:
                        self._more = True
                self._wake.clear()
                if self._stopping:
                    break
                error, self._claim_error = self._claim_error, None
                if error is not None:
                    delay = backoff.next()
                    log.warning("queue %s: fetching jobs failed, retrying in %.1fs: %r", self.queue, delay, error)
                    await asyncio.sleep(delay)
                    self._wake.set()
                    continue
                self._dispatch()
        finally:
            # Claims in flight finish first: the jobs they took run (or are stragglers) like any other.
            while self._claims:
                await asyncio.wait(list(self._claims))

    def _dispatch(self) -> None:
        """Start a claim for free slots, unless one is pending that may take every job there is."""
        if self.paused or not self._more or self._stopping or self._claim_error is not None:
            return
        if len(self._claims) >= self.MAX_CLAIMS:
            return
        free = self.limit - len(self._running) - self._claiming
        if free <= 0:
            return
        # Every free slot in one claim: splitting a claim to keep two in flight costs a statement
        # each, more than the overlap saves when the database and this process share the CPUs.
        demand = free
        # Cleared before the claim, not after: an insert heard while the claim is in flight sets
        # it again (wake), so its jobs are looked for at once instead of at the next poll.
        self._more = False
        self._claiming += demand
        task = asyncio.create_task(self._claim(demand), name=f"oban-claim-{self.queue}")
        self._claims.add(task)

    async def _claim(self, demand: int) -> None:
        jobs: list[Job] = []
        try:
            metadata = {"queue": self.queue, "node": self.node, "demand": demand}
            with telemetry.span("oban.producer.get", metadata) as span:
                jobs = await self._engine.fetch_jobs(self.queue, demand, self.node, utcnow(), self.uuid)
                span.add({"count": len(jobs)})
        except Exception as error:
            self._more = True
            self._claim_error = error
            self._wake.set()
            return
        except BaseException:
            self._more = True
            raise
        finally:
            self._claiming -= demand
            self._claims.discard(asyncio.current_task())
        self._backoff.reset()
        for job in jobs:
            assert job.id is not None
            task = asyncio.create_task(self._run(job), name=f"oban-job-{job.id}")
            self._running[job.id] = (job, task)
        if len(jobs) >= demand:
            self._more = True
            # Slots freed while this claim was out are claimed now, while its jobs start.
            self._dispatch()

    async def _run(self, job: Job) -> None:
        try:
            try:
                ack = await execute(job, self._threads, self._processes)
            except asyncio.CancelledError as error:
                if self._stopping:
                    raise  # shutdown abandons the job to the lifeline, without an outcome
                # Something other than shutdown killed the task: record it as a failed attempt.
                ack = failure_ack(job, None, error)
            self._ack(ack)
        finally:
            self._running.pop(job.id, None)  # type: ignore[arg-type]
            if self._more and not self._stopping:
                self._wake.set()
