"""Run the ``process`` of workers declared with ``executor="process"`` in child processes.

The pool is a set of slots, each a ``ProcessPoolExecutor`` of one process. One process per slot
means that when a call must be stopped (a timeout, a shutdown straggler) or its process dies
(``os._exit``, a segfault), exactly that job is known to be the one, only that process is lost,
and the jobs running in the other slots go on untouched. A single shared pool would break as a
whole and fail every job in it.

Children are started with ``forkserver`` (or ``spawn`` where there is no forkserver), never by
forking the node: the node is a running event loop with threads (the thread pool, a driver's
threads, the executors' own) and open database connections, and a forked copy would inherit
locks held by threads that do not exist in it, and sockets it must never touch.

In the child, the worker is looked up by its registered name (importing its module, as a node
does) and given a copy of the job; what comes back is the result (``None``, ``Snooze``,
``Cancel``, ``Record``) or the exception with its traceback text, which the executor records
exactly as for a worker run in a thread.
"""

from __future__ import annotations

import asyncio
import inspect
import multiprocessing
import os
import pickle
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import fields
from typing import Any

from .._workers import resolve_worker
from ..errors import JobTimeoutError, WorkerCrashedError, WorkerNotFoundError
from ..job import Job
from ..results import Cancel, Record, Snooze
from .executor import REMOTE_TRACEBACK, _current_job, format_error

PROCESS = "process"
THREAD = "thread"
EXECUTORS = (THREAD, PROCESS)
"""The values ``@worker(executor=...)`` and ``@job(executor=...)`` accept."""

_KILL = getattr(signal, "SIGKILL", signal.SIGTERM)
_NOT_SENT = frozenset({"extra"})  # runtime-only options of this process, never stored nor sent


def start_method() -> str:
    """``forkserver`` where the platform has it, else ``spawn``; never ``fork`` (see the module)."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def check_processes(value: object) -> int:
    """The pool size an ``Oban(processes=...)`` asks for: a positive integer, or the CPU count."""
    if value is None:
        return os.cpu_count() or 1
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"processes must be a positive integer (or None for the CPU count), got {value!r}")
    return value


def check_executor(executor: object, name: str, process: Any) -> str:
    """Validate a worker's ``executor`` option for the worker registered as ``name``.

    ``"process"`` needs a plain ``def process`` (an ``async def`` runs on the node's event loop)
    and a worker a child process can import by name (not one defined inside a function).
    """
    if executor not in EXECUTORS:
        raise ValueError(f"worker {name}: executor must be one of {list(EXECUTORS)}, got {executor!r}")
    if executor == PROCESS:
        if inspect.iscoroutinefunction(process):
            raise ValueError(
                f"worker {name}: executor='process' needs a plain def process; an async def process "
                "runs on the event loop (drop executor='process', or make process a plain def)"
            )
        if "<locals>" in name:
            raise ValueError(
                f"worker {name}: executor='process' needs a worker its child processes can import "
                "by name; declare it at module level, not inside a function"
            )
    return str(executor)


# -- the child's side -------------------------------------------------------------------------


def _resolve_in_child(name: str) -> type:
    try:
        return resolve_worker(name)
    except WorkerNotFoundError:
        # A script's module is ``__main__`` in the node but is imported as ``__mp_main__`` in a
        # child, so its workers are registered under that name there.
        if name.startswith("__main__."):
            return resolve_worker("__mp_main__." + name.removeprefix("__main__."))
        raise


def _portable(error: BaseException) -> BaseException | None:
    """``error`` if it survives pickling both ways (custom ``__init__`` signatures often do not)."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return None
    return error


def _run_in_child(name: str, snapshot: dict[str, Any]) -> tuple[Any, ...]:
    """Run one job's worker in this child; return ``("ok", result)`` or ``("error", ...)``."""
    job = Job.__new__(Job)
    for key, value in snapshot.items():
        setattr(job, key, value)
    job.extra = {}
    token = _current_job.set(job)
    try:
        result = _resolve_in_child(name)().process(job)
    except BaseException as error:
        # The exception itself cannot carry its traceback across: send its text along.
        return ("error", _portable(error), format_error(error), type(error).__qualname__, str(error))
    finally:
        _current_job.reset(token)
    # Any other value means "completed" and is not kept, so it need not be picklable.
    return ("ok", result if isinstance(result, Snooze | Cancel | Record) else None)


def _snapshot(job: Job) -> dict[str, Any]:
    return {f.name: getattr(job, f.name) for f in fields(Job) if f.name not in _NOT_SENT}


def _raise_child_error(outcome: tuple[Any, ...]) -> None:
    _, error, text, type_name, message = outcome
    if error is None:
        error = RuntimeError(f"{type_name}: {message}")
    # format_error records this text, the child's own traceback, instead of the parent's.
    try:
        setattr(error, REMOTE_TRACEBACK, text)
    except AttributeError:  # an exception type with __slots__: record a stand-in that carries it
        error = RuntimeError(f"{type_name}: {message}")
        setattr(error, REMOTE_TRACEBACK, text)
    raise error


# -- the node's side --------------------------------------------------------------------------


class _Slot:
    """One child process (a one-process ``ProcessPoolExecutor``), started on first use."""

    def __init__(self, context: Any) -> None:
        self._context = context
        self._executor: ProcessPoolExecutor | None = None
        self.pid: int | None = None

    async def _ensure_started(self, job: Job) -> ProcessPoolExecutor:
        if self._executor is not None:
            return self._executor
        executor = ProcessPoolExecutor(max_workers=1, mp_context=self._context)
        try:
            # Learning the pid also waits for the child to be up, so start-up is not timed.
            self.pid = await asyncio.wrap_future(executor.submit(os.getpid))
        except BrokenProcessPool:
            executor.shutdown(wait=False, cancel_futures=True)
            raise WorkerCrashedError(
                f"job {job.id} ({job.worker}): its worker process could not start (its stderr says why: "
                "often a script without an if __name__ == '__main__': guard, which children import)"
            ) from None
        except BaseException:
            executor.shutdown(wait=False, cancel_futures=True)
            raise
        self._executor = executor
        return executor

    def discard(self, *, kill: bool = True) -> None:
        """Kill this slot's process (if any) and forget it; the next call starts a new one."""
        executor, pid = self._executor, self.pid
        self._executor, self.pid = None, None
        if kill and pid is not None:
            try:
                os.kill(pid, _KILL)
            except ProcessLookupError:
                pass
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    async def call(self, job: Job, timeout: float | None) -> Any:
        executor = await self._ensure_started(job)
        pid = self.pid
        waiting = asyncio.wrap_future(executor.submit(_run_in_child, job.worker, _snapshot(job)))
        try:
            if timeout is None:
                outcome = await waiting
            else:
                async with asyncio.timeout(timeout):
                    outcome = await waiting
        except TimeoutError:
            self.discard()  # a call cannot be interrupted in its process: stop the process
            job._cancelled = True
            raise JobTimeoutError(f"job {job.id} ({job.worker}) exceeded its timeout of {timeout}s") from None
        except asyncio.CancelledError:
            self.discard()  # shutdown (or a cancelled task) abandons the call with its process
            raise
        except BrokenProcessPool:
            self.discard(kill=False)  # it is dead already, and its pid may be another's by now
            raise WorkerCrashedError(
                f"job {job.id} ({job.worker}): its worker process (pid {pid}) died before process() returned"
            ) from None
        if outcome[0] == "error":
            _raise_child_error(outcome)
        return outcome[1]

    def close(self) -> None:
        executor = self._executor
        self._executor, self.pid = None, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


class ProcessPool:
    """``size`` child processes for one node's process workers, started when first needed.

    A job waits for a free process before its timeout starts counting, so a queue whose limit
    exceeds ``size`` makes jobs wait rather than time out unrun.
    """

    def __init__(self, size: int, *, method: str | None = None) -> None:
        self.size = check_processes(size)
        context = multiprocessing.get_context(method or start_method())
        self._slots = [_Slot(context) for _ in range(self.size)]
        self._free: asyncio.Queue[_Slot] | None = None

    async def run(self, job: Job, timeout: float | None) -> Any:
        """Run ``job``'s worker in a free child; return its result or raise its exception.

        Raises ``JobTimeoutError`` (the child is killed) past ``timeout`` seconds of running,
        and ``WorkerCrashedError`` when the child dies; the slot's next job gets a new child.
        """
        if self._free is None:
            self._free = asyncio.Queue()
            for slot in self._slots:
                self._free.put_nowait(slot)
        slot = await self._free.get()
        try:
            return await slot.call(job, timeout)
        finally:
            self._free.put_nowait(slot)

    def pids(self) -> list[int]:
        """The pids of the children running now (for logs and tests)."""
        return [slot.pid for slot in self._slots if slot.pid is not None]

    async def close(self) -> None:
        """Stop every child once its running call (if any) is over; the pool may be used again."""
        await asyncio.to_thread(self._close_all)
        self._free = None

    def _close_all(self) -> None:
        for slot in self._slots:
            slot.close()
