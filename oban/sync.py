"""``SyncClient``: enqueue and manage jobs from blocking code (Flask, Django, scripts, threads).

The client runs the async ``Oban`` facade on one private event loop in a daemon thread of its
own, and each method hands its call to that loop and waits for the answer. One loop for the
client's whole life means the engine's pool is made once and reused by every call, from any
number of threads at once (``asyncio.run_coroutine_threadsafe`` is thread-safe, and the calls
run concurrently on the loop); nothing ever moves between loops. The thread starts on the first
call, and again in a forked child (``gunicorn --preload``), where the parent's thread is gone.

``enqueue(job, conn=...)`` with the application's own blocking connection is different: it runs
in the caller's thread, through that connection, inside the caller's open transaction (see
``SyncClient.enqueue_many``), since such connections belong to the thread that opened them.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from . import _instances, _testing_mode
from .engines.protocol import Activity, BlockingInsert, Engine
from .engines.registry import engine_from_dsn
from .errors import EventLoopRunningError
from .job import Job, JobState
from .oban import JobRef, Oban, flatten_jobs

T = TypeVar("T")


def _client_facade(engine: Engine, name: str) -> Oban:
    """An ``Oban`` client for the private loop that does not take over ``Oban.get_instance(name)``."""
    before = _instances._by_name.get(_instances._key(name))
    facade = Oban(engine, name=name)
    if before is None:
        _instances._by_name.pop(_instances._key(name), None)
    else:
        _instances.register(name, before)
    return facade


class _LoopThread:
    """One event loop running forever in a daemon thread."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), name="oban-sync-client", daemon=True)
        self.thread.start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        self.loop.run_forever()

    def stop(self, last: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run ``last()`` on the loop, then stop the loop and close it."""
        if os.getpid() != self.pid or self.loop.is_closed():
            return  # a forked child: the thread and its connections are the parent's
        if threading.current_thread() is self.thread:
            # Collected on the loop's own thread: it cannot wait for itself.
            self.loop.create_task(last()).add_done_callback(lambda _: self.loop.stop())
            return
        try:
            if self.thread.is_alive():
                asyncio.run_coroutine_threadsafe(last(), self.loop).result(30)
        finally:
            if self.thread.is_alive():
                self.loop.call_soon_threadsafe(self.loop.stop)
                self.thread.join(30)
            if not self.thread.is_alive():
                self.loop.close()


def _shutdown(runner: list[_LoopThread | None], facade: Oban) -> None:
    """Release the facade's engine on its loop and stop the loop (``close()``, or at exit)."""
    loop_thread, runner[0] = runner[0], None
    if loop_thread is not None:
        loop_thread.stop(lambda: _release(facade))


async def _release(facade: Oban) -> None:
    # stop() of a client releases its hold on the engine, closing it if nobody else holds it.
    # An Oban whose queues run (started on a loop of its own) is left alone.
    if not facade._node.started:
        await facade.stop()


class SyncClient:
    """Blocking access to oban for code without an event loop: ``SyncClient("postgresql://...")``.

    ``target`` is a DSN (the client builds its engine and closes it in ``close()``), an engine,
    or an ``Oban``. Give it its own engine, or a client-only ``Oban`` (no queues): an engine
    serves one event loop at a time, and this client's calls run on its private loop, so an
    engine that a started ``Oban`` uses on another loop in this process would keep moving
    between the two. A node running queues in the same process should have an engine of its own.
    ``name`` is the cluster name (``Oban(name=...)``) for an engine or DSN.

    Every method takes the arguments and returns the values of the ``Oban`` method of the same
    name, blocking until done, and is safe to call from many threads at once. Calling one from
    inside a running event loop raises ``oban.errors.EventLoopRunningError``: it would
    block that loop, so async code awaits ``Oban``'s methods instead. ``close()`` (or leaving a
    ``with`` block) releases the connections; a later call opens them again.
    """

    def __init__(self, target: Engine | Oban | str, *, name: str = "oban", **engine_options: Any) -> None:
        if isinstance(target, Oban):
            if engine_options:
                raise ValueError(f"engine options {sorted(engine_options)!r} need a DSN, not an Oban")
            self.oban = target
        elif isinstance(target, str):
            self.oban = _client_facade(engine_from_dsn(target, **engine_options), name)
        elif callable(getattr(target, "insert_jobs", None)):
            if engine_options:
                raise ValueError(f"engine options {sorted(engine_options)!r} need a DSN, not an engine")
            self.oban = _client_facade(target, name)
        else:
            raise TypeError(f"SyncClient needs a DSN, an engine or an Oban, got {type(target).__name__}")
        self._start = threading.Lock()
        self._runner: list[_LoopThread | None] = [None]
        self._finalizer = weakref.finalize(self, _shutdown, self._runner, self.oban)

    @property
    def engine(self) -> Engine:
        """The engine the client's calls go to."""
        return self.oban.engine

    def __repr__(self) -> str:
        return f"SyncClient({self.oban!r})"

    # -- running calls on the private loop -------------------------------------------------------

    def _loop(self) -> asyncio.AbstractEventLoop:
        runner = self._runner[0]
        if runner is None or runner.pid != os.getpid():
            with self._start:
                runner = self._runner[0]
                if runner is None or runner.pid != os.getpid():
                    runner = self._runner[0] = _LoopThread()
        return runner.loop

    @staticmethod
    def _refuse_in_loop(method: str) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        raise EventLoopRunningError(
            f"SyncClient.{method}() blocks, and was called inside a running event loop; "
            f"in async code use `await oban.{method}(...)` on an Oban instance instead"
        )

    def _call(self, method: str, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
        self._refuse_in_loop(method)
        # The call runs in a copy of the caller's context (contextvars, e.g. oban.testing.mode).
        future = asyncio.run_coroutine_threadsafe(make(), self._loop())
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    # -- lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the client's connections and stop its thread; a later call starts them again.

        The engine is closed unless another ``Oban`` still uses it (see ``Oban``).
        """
        self._refuse_in_loop("close")
        with self._start:
            _shutdown(self._runner, self.oban)

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- inserting -------------------------------------------------------------------------------

    def enqueue(self, job: Job, *, conn: Any = None) -> Job:
        """Insert one job and return it as stored (``Oban.enqueue``); ``conn``: see ``enqueue_many``."""
        self._refuse_in_loop("enqueue")
        return self.enqueue_many(job, conn=conn)[0]

    def enqueue_many(self, *jobs: Job | Iterable[Job], conn: Any = None) -> list[Job]:
        """Insert many jobs at once and return them as stored (``Oban.enqueue_many``).

        With ``conn``, the application's own blocking connection (``sqlite3`` for SQLite; a
        psycopg 3 connection or cursor for PostgreSQL, which is what Django's
        ``django.db.connection`` and SQLAlchemy's ``raw_connection()`` hold; PyMySQL for
        MySQL), the jobs are
        written through it in the caller's thread, inside its open transaction: they exist
        only if that transaction commits, and run once it has. A connection the engine cannot
        use raises ``TypeError`` naming both.
        """
        self._refuse_in_loop("enqueue_many")
        flat = flatten_jobs(jobs)
        if conn is None or _testing_mode.in_force(self.oban.testing) == "inline":
            return self._call("enqueue_many", lambda: self.oban.enqueue_many(flat))
        if not flat:
            return []
        engine = self.oban.engine
        if not self.oban._ready:
            # Once: connect (LiteEngine installs its schema then) and check the schema is there,
            # so a missing one is the same SchemaError as without conn=.
            self._call("enqueue_many", self.oban._ensure_ready)
        if not isinstance(engine, BlockingInsert):
            raise TypeError(
                f"{type(engine).__name__} cannot insert jobs through a blocking "
                f"{type(conn).__module__}.{type(conn).__qualname__} connection "
                "(it has no insert_jobs_dbapi); enqueue without conn=, or from async code with "
                "the engine's async driver connection"
            )
        return engine.insert_jobs_dbapi(conn, flat)

    # -- reading and managing jobs ---------------------------------------------------------------

    def get_job(self, job: JobRef) -> Job | None:
        """The stored job with this id, or ``None``."""
        return self._call("get_job", lambda: self.oban.get_job(job))

    def list_jobs(
        self,
        *,
        queue: str | None = None,
        worker: str | type | None = None,
        state: str | Sequence[str] | None = None,
        limit: int = 1000,
        search: str | None = None,
        before_id: int | None = None,
    ) -> list[Job]:
        """Stored jobs matching every filter given, newest first (``Oban.list_jobs``)."""
        return self._call(
            "list_jobs",
            lambda: self.oban.list_jobs(
                queue=queue, worker=worker, state=state, limit=limit, search=search, before_id=before_id
            ),
        )

    def count_jobs(self) -> dict[tuple[str, JobState], int]:
        """How many jobs each queue holds in each state: ``{(queue, state): count}``."""
        return self._call("count_jobs", self.oban.count_jobs)

    def job_activity(self, *, since: datetime, bucket: int = 60) -> list[Activity]:
        """Jobs finished per time bucket, queue and state since ``since`` (``Oban.job_activity``)."""
        return self._call("job_activity", lambda: self.oban.job_activity(since=since, bucket=bucket))

    def cancel_job(self, job: JobRef) -> int:
        """Cancel one job; an executing one is told to stop. Returns how many rows changed."""
        return self._call("cancel_job", lambda: self.oban.cancel_job(job))

    def cancel_many_jobs(self, jobs: Iterable[JobRef]) -> int:
        """Cancel incomplete jobs; returns how many rows changed."""
        refs = list(jobs)
        return self._call("cancel_many_jobs", lambda: self.oban.cancel_many_jobs(refs))

    def retry_job(self, job: JobRef) -> int:
        """Make a job available now (any state but available/executing)."""
        return self._call("retry_job", lambda: self.oban.retry_job(job))

    def retry_many_jobs(self, jobs: Iterable[JobRef]) -> int:
        """Retry many jobs; returns how many rows changed."""
        refs = list(jobs)
        return self._call("retry_many_jobs", lambda: self.oban.retry_many_jobs(refs))

    def delete_job(self, job: JobRef) -> int:
        """Delete a job unless it is executing; returns 1 if deleted."""
        return self._call("delete_job", lambda: self.oban.delete_job(job))

    def delete_many_jobs(self, jobs: Iterable[JobRef]) -> int:
        """Delete jobs that are not executing; returns how many were deleted."""
        refs = list(jobs)
        return self._call("delete_many_jobs", lambda: self.oban.delete_many_jobs(refs))

    def update_job(self, job: JobRef, changes: Mapping[str, Any] | Callable[[Job], Mapping[str, Any]]) -> Job:
        """Change a job's updatable fields and return it; a callable runs on the client's thread."""
        return self._call("update_job", lambda: self.oban.update_job(job, changes))

    def update_many_jobs(
        self, jobs: Iterable[JobRef], changes: Mapping[str, Any] | Callable[[Job], Mapping[str, Any]]
    ) -> list[Job]:
        """Update many jobs atomically; a callable sees each job's current stored state."""
        refs = list(jobs)
        return self._call("update_many_jobs", lambda: self.oban.update_many_jobs(refs, changes))
