"""Workers used by the tests; importable by subprocesses as ``tests.workers``."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any

from oban import Cancel, Record, Snooze, job, worker

EVENTS: list[tuple[str, Any]] = []


@worker(queue="default")
class Noop:
    async def process(self, job):  # type: ignore[no-untyped-def]
        return None


@worker(queue="default")
class Echo:
    """Records (tag, job id, attempt) in EVENTS."""

    async def process(self, job):  # type: ignore[no-untyped-def]
        EVENTS.append((job.args.get("tag"), job.id, job.attempt))


@worker(queue="default", max_attempts=3)
class AlwaysFails:
    async def process(self, job):  # type: ignore[no-untyped-def]
        raise ValueError(f"bad input {job.args.get('n')}")

    def backoff(self, job):  # type: ignore[no-untyped-def]
        return 0


@worker(queue="default")
class SyncWorker:
    """A plain ``def process``: runs in a worker thread, not on the event loop."""

    def process(self, job):  # type: ignore[no-untyped-def]
        EVENTS.append(("sync", threading.current_thread().name, job.id))
        time.sleep(0.01)


@worker(queue="default")
class Returns:
    async def process(self, job):  # type: ignore[no-untyped-def]
        kind = job.args["kind"]
        if kind == "record":
            return Record({"rows": job.args.get("rows", 3)})
        if kind == "cancel":
            return Cancel("not needed")
        if kind == "snooze":
            return Snooze(3600)
        return "ignored value"


@worker(queue="default", max_attempts=2)
class Slow:
    async def process(self, job):  # type: ignore[no-untyped-def]
        EVENTS.append(("slow-start", job.id, job.attempt))
        await asyncio.sleep(job.args.get("seconds", 1))
        EVENTS.append(("slow-end", job.id, job.attempt))

    def timeout(self, job):  # type: ignore[no-untyped-def]
        return job.args.get("timeout")

    def backoff(self, job):  # type: ignore[no-untyped-def]
        return 3600


@worker(queue="default")
class Blocking:
    """Waits on a per-test asyncio.Event stored in GATES."""

    async def process(self, job):  # type: ignore[no-untyped-def]
        EVENTS.append(("blocking", job.id, job.attempt))
        await GATES[job.args["gate"]].wait()


GATES: dict[str, asyncio.Event] = {}


@job(queue="default")
def add_to_events(label: str, count: int = 1) -> None:
    EVENTS.append(("function", label, count))


@job(queue="default")
async def async_function(label: str) -> None:
    EVENTS.append(("async-function", label, None))


@worker(queue="default")
class AppendToFile:
    """Appends ``<job id> <pid>`` to the file in ``args.path`` (for multi-process tests)."""

    def process(self, job):  # type: ignore[no-untyped-def]
        with open(job.args["path"], "a") as out:
            out.write(f"{job.id} {os.getpid()}\n")


@worker(queue="default")
class CrashingTask:
    """Its asyncio task is cancelled from inside, as a crashing library might do."""

    async def process(self, job):  # type: ignore[no-untyped-def]
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        await asyncio.sleep(5)


@worker(queue="default", unique={"period": 300}, meta={"source": "import"})
class UniqueWithMeta:
    async def process(self, job):  # type: ignore[no-untyped-def]
        return None


class NotAWorker:
    """Has a process method but was never declared a worker: it must never run."""

    def process(self, job):  # type: ignore[no-untyped-def]
        EVENTS.append(("not-a-worker", job.id))


@job(queue="reports", priority=4, max_attempts=3, tags=["daily"])
def reporting() -> None:
    EVENTS.append(("reporting", None, None))


@worker(queue="reports", priority=4, max_attempts=3, tags=["daily"])
class Reporter:
    async def process(self, job):  # type: ignore[no-untyped-def]
        return None


@worker(queue="chaos")
class ChaosWork:
    """Appends ``start|end <job> <attempt> <node> <time>`` to $OBAN_CHAOS_RUNS around a sleep of
    ``args["sleep"]`` seconds; one short ``O_APPEND`` write a line, so processes never interleave."""

    @staticmethod
    def _record(event: str, job) -> None:  # type: ignore[no-untyped-def]
        line = f"{event} {job.id} {job.attempt} {os.environ.get('OBAN_CHAOS_NODE', '?')} {time.time():.6f}\n"
        fd = os.open(os.environ["OBAN_CHAOS_RUNS"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    async def process(self, job):  # type: ignore[no-untyped-def]
        self._record("start", job)
        await asyncio.sleep(float(job.args.get("sleep", 0)))
        self._record("end", job)
