"""Workers declared with ``executor="process"``, for tests/test_process_executor.py.

Child processes import this module by name (``tests.process_workers``), as a node's children
import any worker's module. The workers report what they saw through files in a directory the
test names in the job's args, since a child shares no memory with the test.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from oban import Cancel, Record, Snooze, current_job, job, worker


class Unpicklable(Exception):
    """An exception whose ``__init__`` takes two arguments: pickle cannot rebuild it."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"code {code}: {detail}")
        self.code = code


def _mark(job_args: dict[str, Any], name: str, text: str = "") -> None:
    Path(job_args["dir"], name).write_text(text)


@worker(queue="cpu", executor="process")
class Returns:
    """Returns the result ``args["kind"]`` names, and records what it saw in its process."""

    def process(self, job):  # type: ignore[no-untyped-def]
        kind = job.args["kind"]
        if kind == "record":
            running = current_job()
            return Record({"pid": os.getpid(), "current": None if running is None else running.id})
        if kind == "snooze":
            return Snooze(3600, meta={"why": "later"})
        if kind == "cancel":
            return Cancel("not needed")
        if kind == "object":
            return object()  # any other value completes the job; it need not be picklable
        return None


@worker(queue="cpu", executor="process", max_attempts=1)
class Raises:
    def process(self, job):  # type: ignore[no-untyped-def]
        if job.args.get("unpicklable"):
            raise Unpicklable(7, "cannot cross")
        raise ValueError(f"bad input {job.args['n']}")


@worker(queue="cpu", executor="process", max_attempts=3)
class CrashesOnce:
    """Kills its own process on the first attempt (``how``: exit or segv); succeeds after."""

    def process(self, job):  # type: ignore[no-untyped-def]
        if job.attempt == 1:
            if job.args["how"] == "segv":
                os.kill(os.getpid(), signal.SIGSEGV)
            os._exit(3)
        return Record({"attempt": job.attempt, "pid": os.getpid()})

    def backoff(self, job):  # type: ignore[no-untyped-def]
        return 0


@worker(queue="cpu", executor="process")
class WaitsForFile:
    """Writes ``started-<id>`` with its pid, then waits until ``args["until"]`` exists."""

    def process(self, job):  # type: ignore[no-untyped-def]
        _mark(job.args, f"started-{job.id}", str(os.getpid()))
        deadline = time.monotonic() + job.args.get("within", 60)
        gate = Path(job.args["dir"], job.args["until"])
        while not gate.exists():
            if time.monotonic() > deadline:
                return Record({"pid": os.getpid(), "gave_up": True})
            time.sleep(0.01)
        return Record({"pid": os.getpid(), "gave_up": False})

    def timeout(self, job):  # type: ignore[no-untyped-def]
        return job.args.get("timeout")

    def backoff(self, job):  # type: ignore[no-untyped-def]
        return 0


@worker(queue="cpu", executor="process")
class Rendezvous:
    """Marks its pid, then waits (up to 30 s) until ``args["n"]`` jobs have marked theirs.

    Run one at a time, the first job could only give up: ``seen`` tells how many ran together.
    """

    def process(self, job):  # type: ignore[no-untyped-def]
        _mark(job.args, f"pid-{os.getpid()}-{job.id}")
        deadline = time.monotonic() + 30
        while True:
            seen = len(list(Path(job.args["dir"]).glob("pid-*")))
            if seen >= job.args["n"] or time.monotonic() > deadline:
                return Record({"pid": os.getpid(), "seen": seen})
            time.sleep(0.01)


@job(queue="cpu", executor="process")
def square(n: int) -> Record:
    """A function worker run in a child process."""
    return Record({"square": n * n, "pid": os.getpid()})
