"""A node: this process's part of a cluster, and the signals that steer it.

It runs a producer per queue, the acker, leadership and, while it leads, the stager, pruner,
lifeline and cron. It listens for notifications: inserts wake producers, queue signals (pause,
resume, scale, start, stop, cancel a running job) are applied here, and a leader stepping down
starts an election.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .._time import utcnow
from ..cron import CronEntry
from ..engines.protocol import Engine
from ..job import Job
from ._periodic import Periodic
from .acker import Acker
from .cron import Cron
from .heartbeat import Heartbeat
from .leader import Leader
from .lifeline import lifeline as build_lifeline
from .process_pool import ProcessPool, check_processes
from .producer import Producer, QueueInfo
from .pruner import pruner as build_pruner
from .stager import stager as build_stager

log = logging.getLogger("oban")


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """How a node runs: its names, its queues and the leader's chores."""

    name: str
    node: str
    queues: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    stage_interval: float = 1.0
    stage_limit: int = 20_000
    pruner: Mapping[str, Any] | None = None
    lifeline: Mapping[str, Any] | None = None
    cron: tuple[CronEntry, ...] = ()
    leadership: bool = True
    shutdown_grace_period: float = 15.0
    heartbeat_interval: float = 5.0
    processes: int | None = None


class Node:
    """Runs one node's queues and chores on ``engine``; ``insert`` is how cron inserts its jobs."""

    def __init__(self, engine: Engine, config: NodeConfig, insert: Callable[[list[Job]], Awaitable[list[Job]]]) -> None:
        self._engine = engine
        self.config = config
        self._insert = insert
        self._producers: dict[str, Producer] = {}
        self._stopping: set[Producer] = set()  # stopped queues still finishing their jobs
        self._heartbeat = Heartbeat(engine, self._beating, interval=config.heartbeat_interval)
        self._acker: Acker | None = None
        self._leader: Leader | None = None
        self._loops: list[Periodic] = []
        self._cron: Cron | None = None
        self._threads: ThreadPoolExecutor | None = None
        # Children start only when a process worker first runs: nodes without one pay nothing.
        self._processes = ProcessPool(check_processes(config.processes))
        self._background: set[asyncio.Task[Any]] = set()
        self.started = False

    @property
    def is_leader(self) -> bool:
        """True while this node holds the cluster's leadership."""
        return self._leader is not None and self._leader.is_leader

    def _beating(self) -> list[Producer]:
        return [*self._producers.values(), *self._stopping]

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen, then start the acker, leadership, the leader's chores and every queue."""
        try:
            await self._engine.listen(self.on_notification)
            total = sum(queue["limit"] for queue in self.config.queues.values())
            self._threads = ThreadPoolExecutor(
                max_workers=max(32, total), thread_name_prefix=f"oban-{self.config.name}"
            )
            self._acker = Acker(self._engine)
            self._acker.start()
            producers = [
                self._new_producer(queue, options["limit"], options["paused"])
                for queue, options in self.config.queues.items()
            ]
            # Rows first: a job claimed before its producer's row exists could not be told apart
            # from another implementation's claim if this node died at once.
            await self._announce(producers)
            self._heartbeat.start()
            if self.config.leadership:
                # Elections every half heartbeat and a lease of two heartbeats: a dead leader's
                # lease passes on within 2.5 heartbeats, when its producers' rows are stale too.
                beat = self.config.heartbeat_interval
                self._leader = Leader(
                    self._engine,
                    name=self.config.name,
                    node=self.config.node,
                    interval=beat / 2,
                    ttl=2 * beat,
                    on_elected=self._on_elected,
                )
                self._start_leader_work()
                await self._leader.start()
            for producer in producers:
                producer.start()
        except BaseException:
            await self.stop()
            raise
        self.started = True

    async def _announce(self, producers: list[Producer]) -> None:
        try:
            await self._heartbeat.beat(producers)
        except Exception as error:
            log.warning("recording queues %s failed; the heartbeat will retry: %r", [p.queue for p in producers], error)

    def _on_elected(self) -> None:
        for loop in self._loops:  # a new leader rescues, stages and prunes at once
            loop.kick()

    def _start_leader_work(self) -> None:
        leading = lambda: self.is_leader  # noqa: E731
        config = self.config
        self._loops = [
            build_stager(self._engine, interval=config.stage_interval, limit=config.stage_limit, when=leading)
        ]
        if config.pruner:
            self._loops.append(build_pruner(self._engine, **config.pruner, when=leading))
        if config.lifeline:
            # After an outage every node's heartbeat lapsed, live ones included: rescue only once
            # this node has reached the database for a whole ttl again, so they have beaten since.
            ttl = self._heartbeat.ttl

            def rescuing() -> bool:
                return self._leader is not None and self.is_leader and self._leader.healthy_for() >= ttl

            self._loops.append(build_lifeline(self._engine, **config.lifeline, when=rescuing))
        for loop in self._loops:
            loop.start()
        self._cron = Cron(config.cron, self._insert, when=leading)
        self._cron.start()

    def _new_producer(self, queue: str, limit: int, paused: bool) -> Producer:
        assert self._acker is not None
        producer = Producer(
            queue=queue,
            limit=limit,
            paused=paused,
            engine=self._engine,
            node=self.config.node,
            name=self.config.name,
            ack=self._acker.add,
            threads=self._threads,
            processes=self._processes,
            poll_interval=self.config.stage_interval,
        )
        self._producers[queue] = producer
        return producer

    async def _start_queue(self, queue: str, limit: int, paused: bool) -> None:
        producer = self._new_producer(queue, limit, paused)
        await self._announce([producer])
        producer.start()

    async def _stop_queue(self, producer: Producer) -> None:
        self._stopping.add(producer)
        try:
            await producer.stop(asyncio.get_running_loop().time() + self.config.shutdown_grace_period)
            if self._acker is not None:
                await self._acker.drain(timeout=5.0)
        finally:
            self._stopping.discard(producer)
            await self._heartbeat.retire([producer])

    async def cluster_queues(self) -> list[QueueInfo]:
        """Every live producer of this cluster name, on every node, as its last heartbeat recorded it."""
        now = utcnow()
        records = await self._engine.list_producers()
        return [QueueInfo.from_record(r) for r in records if r.name == self.config.name and r.alive(now)]

    async def stop(self) -> None:
        """Stop claiming, let running jobs finish within the grace period, write every ack.

        Jobs still running after the grace period are cancelled and left ``executing`` for the
        lifeline to rescue; their ids are logged.
        """
        grace = self.config.shutdown_grace_period
        try:
            deadline = asyncio.get_running_loop().time() + grace
            if self._cron is not None:
                await self._cron.stop()
            for loop in self._loops:
                await loop.stop()
            results = await asyncio.gather(*(p.stop(deadline) for p in self._producers.values()))
            if self._background:  # queues stopped by signals from other nodes
                await asyncio.gather(*self._background, return_exceptions=True)
            stragglers = [job.id for jobs in results for job in jobs]
            if stragglers:
                log.error(
                    "shutdown grace period (%ss) ended with jobs still running; left for rescue: %s", grace, stragglers
                )
            if self._acker is not None:
                await self._acker.stop(timeout=max(5.0, deadline - asyncio.get_running_loop().time()))
            # Only now, with every outcome written, may the rows go: what is still executing is
            # a straggler, rescued at the leader's next pass.
            await self._heartbeat.stop()
            await self._heartbeat.retire(list(self._producers.values()))
            if self._leader is not None:
                await self._leader.stop()
            if self._threads is not None:
                self._threads.shutdown(wait=False, cancel_futures=True)
            await self._processes.close()  # running calls ended (or were abandoned) with the producers
        finally:
            try:
                await self._engine.unlisten(self.on_notification)
            finally:
                self._producers.clear()
                self._loops = []
                self._cron = None
                self._acker = None
                self._leader = None
                self._threads = None
                self.started = False

    # -- queues --------------------------------------------------------------------------------

    def check_queue(self, queue: str) -> QueueInfo | None:
        """This node's view of ``queue``, or ``None`` if it does not run here."""
        producer = self._producers.get(queue)
        return producer.info() if producer is not None else None

    def check_all_queues(self) -> list[QueueInfo]:
        """Every queue running on this node."""
        return [producer.info() for producer in self._producers.values()]

    # -- notifications and signals -------------------------------------------------------------

    def wake_queues(self, queues: Iterable[str]) -> None:
        """Have this node's producers of ``queues`` look for jobs now (jobs were just committed)."""
        for queue in queues:
            producer = self._producers.get(queue)
            if producer is not None:
                producer.wake()

    def on_notification(self, channel: str, payload: dict[str, Any]) -> None:
        """Handle one notification (the engine calls this on the event loop)."""
        if channel == "insert":
            self.wake_queues([payload.get("queue", "")])
        elif channel == "signal":
            if payload.get("sender") == self.config.node and payload.get("instance") == self.config.name:
                return  # applied locally when sent
            target = payload.get("node")
            if target is None or target == self.config.node:
                pending = self.apply_signal(payload)
                if pending is not None:
                    task = asyncio.get_running_loop().create_task(pending)
                    self._background.add(task)
                    task.add_done_callback(self._background.discard)
        elif channel == "leader" and self._leader is not None and payload.get("name") == self.config.name:
            self._leader.on_resigned()

    def apply_signal(self, payload: Mapping[str, Any]) -> Coroutine[Any, Any, Any] | None:
        """Apply a queue signal to this node; stopping a queue returns the wait to await."""
        action = payload.get("action")
        queue = payload.get("queue")
        if action == "pkill":
            ids = {int(i) for i in payload.get("job_ids", ())}
            for producer in self._producers.values():
                producer.cancel_running(ids)
            return None
        if action == "start":
            if isinstance(queue, str) and queue not in self._producers and self.started:
                return self._start_queue(queue, int(payload["limit"]), bool(payload.get("paused", False)))
            return None
        if action == "stop":
            stopping = self._producers.pop(queue, None) if isinstance(queue, str) else None
            if stopping is not None:
                return self._stop_queue(stopping)
            return None
        if queue == "*":
            targets = list(self._producers.values())
        else:
            targets = [self._producers[queue]] if queue in self._producers else []
        for producer in targets:
            if action == "pause":
                producer.pause()
            elif action == "resume":
                producer.resume()
            elif action == "scale":
                producer.scale(int(payload["limit"]))
        return None
