"""Workers: the ``@worker`` and ``@job`` decorators.

A decorated class or function is registered under its ``module.QualName`` (``worker_name``) and
gains ``new`` (build a job) and ``enqueue`` (insert it through a named ``Oban`` instance).

For type checkers: a ``@job`` function is a ``JobFunction[P, R]`` whose ``new`` and ``enqueue``
take the function's own parameters. A class decorator cannot change the type checkers see, so a
``@worker`` class that subclasses ``Worker`` is the one whose ``new`` and ``enqueue`` they know.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, Protocol, TypeVar

from . import _instances
from ._workers import register_worker, resolve_worker, worker_name
from .cron import register_periodic
from .job import Job, job_fields
from .runtime.process_pool import check_executor

if TYPE_CHECKING:
    from .oban import Oban

_CALL_OPTIONS = frozenset({"oban", "conn"})

_C = TypeVar("_C", bound=type)
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _not_decorated(cls: type) -> TypeError:
    return TypeError(f"{cls.__qualname__} is not a worker: decorate it with @worker")


class Worker(Protocol):
    """What ``@worker`` makes of a class, for type checkers (oban-py's ``Worker``).

    A worker defines ``process(self, job)`` and optionally ``backoff(self, job)`` (seconds before
    the next attempt) and ``timeout(self, job)`` (seconds, or ``None``); ``@worker`` adds the
    ``new`` and ``enqueue`` class methods. Subclass it (``class Mailer(Worker)``) so that type
    checkers know ``Mailer.new`` and ``Mailer.enqueue``; the decorator is still what makes the
    class a worker.
    """

    @classmethod
    def new(cls, args: Mapping[str, Any] | None = None, /, **overrides: Any) -> Job:
        """Build a job for this worker without inserting it; ``overrides`` replace its defaults."""
        raise _not_decorated(cls)

    @classmethod
    async def enqueue(cls, args: Mapping[str, Any] | None = None, /, *, conn: Any = None, **overrides: Any) -> Job:
        """Build a job for this worker and insert it (``oban=`` picks another instance by name)."""
        raise _not_decorated(cls)

    def process(self, job: Job) -> Any:
        """Do the job's work; return None, ``Snooze``, ``Cancel``, ``Record`` or raise.

        It may be ``async def`` or plain ``def`` (run in a thread).
        """
        raise NotImplementedError(f"worker {type(self).__qualname__} does not define process(self, job)")


def _get_oban(oban: str | Oban) -> Oban:
    if isinstance(oban, str):
        found: Oban = _instances.get(oban)
        return found
    return oban


def worker(
    *, oban: str = "oban", cron: str | dict[str, Any] | None = None, executor: str = "thread", **options: Any
) -> Callable[[_C], _C]:
    """Make a class with ``process(self, job)`` a worker with ``new`` and ``enqueue``.

    ``options`` are job defaults (``queue``, ``priority``, ``max_attempts``, ``tags``, ``meta``,
    ``unique``, ``replace``); ``oban`` names the instance ``enqueue`` uses; ``cron`` registers the
    worker to run on a schedule (an expression, or ``{"expr": ..., "timezone": ...}``).
    A worker may define ``backoff(job) -> seconds`` and ``timeout(job) -> seconds | None``;
    ``process`` may be ``async def`` or plain ``def`` (run in a thread, or with
    ``executor="process"`` in one of the node's child processes, for CPU-bound work).
    """

    def decorate(cls: _C) -> _C:
        if executor != "thread":
            check_executor(executor, worker_name(cls), getattr(cls, "process", None))
            cls._oban_executor = executor  # type: ignore[attr-defined]
        if not callable(getattr(cls, "process", None)):
            # As in oban-py: the class is a worker, and running a job of it fails by name.
            async def process(self: Any, job: Job) -> Any:
                raise NotImplementedError(f"worker {type(self).__qualname__} does not define process(self, job)")

            cls.process = process  # type: ignore[attr-defined]
        defaults = dict(options)

        def new(cls_: type, args: Mapping[str, Any] | None = None, /, **overrides: Any) -> Job:
            merged = {**defaults, **overrides}
            return Job(worker=worker_name(cls_), args={} if args is None else dict(args), **job_fields(merged))

        async def enqueue(
            cls_: type, args: Mapping[str, Any] | None = None, /, *, conn: Any = None, **overrides: Any
        ) -> Job:
            instance = _get_oban(overrides.pop("oban", oban))
            return await instance.enqueue(new(cls_, args, **overrides), conn=conn)

        cls.new = classmethod(new)  # type: ignore[attr-defined]
        cls.enqueue = classmethod(enqueue)  # type: ignore[attr-defined]
        cls._oban_options = defaults  # type: ignore[attr-defined]
        register_worker(cls)
        if cron is not None:
            register_periodic(cron, name=worker_name(cls), options=defaults)
        return cls

    return decorate


class JobFunction(Generic[_P, _R]):
    """A function made enqueueable by ``@job``; calling it still runs the function directly.

    ``new`` and ``enqueue`` take the function's own parameters, so type checkers check them.
    """

    def __init__(self, func: Callable[_P, _R], oban: str, options: dict[str, Any]) -> None:
        self.func = func
        self.name = worker_name(func)
        self._oban = oban
        self._options = options
        self._oban_options = options  # the job defaults, as on a worker class (cron reads them)
        self._signature = inspect.signature(func)
        self.__doc__ = func.__doc__
        self.__name__ = func.__name__
        self.__qualname__ = func.__qualname__
        self.__module__ = func.__module__

    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return self.func(*args, **kwargs)

    def new(self, *args: _P.args, **kwargs: _P.kwargs) -> Job:
        """Build the job that would run ``func(*args, **kwargs)``, without inserting it."""
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{self.__qualname__}: {error}") from None
        return Job(worker=self.name, args=dict(bound.arguments), **job_fields(self._options))

    async def enqueue(self, *args: _P.args, **kwargs: _P.kwargs) -> Job:
        """Insert a job that runs ``func(*args, **kwargs)``."""
        return await _get_oban(self._oban).enqueue(self.new(*args, **kwargs))

    def call_with(self, job: Job) -> _R:
        """Run the function with the arguments stored in ``job.args``."""
        bound = inspect.BoundArguments(self._signature, OrderedDict(job.args))
        return self.func(*bound.args, **bound.kwargs)


def _function_worker(target: JobFunction[..., Any]) -> type:
    if inspect.iscoroutinefunction(target.func):

        class AsyncFunctionWorker:
            async def process(self, job: Job) -> Any:
                return await target.call_with(job)

        return AsyncFunctionWorker

    class FunctionWorker:
        def process(self, job: Job) -> Any:
            return target.call_with(job)

    return FunctionWorker


def job(
    *, oban: str = "oban", cron: str | dict[str, Any] | None = None, executor: str = "thread", **options: Any
) -> Callable[[Callable[_P, _R]], JobFunction[_P, _R]]:
    """Make a function enqueueable: ``fn.enqueue(*args, **kwargs)`` runs ``fn`` in a job later.

    The call's arguments are bound to the function's signature and stored by parameter name as
    the job's ``args``, so they must be JSON-encodable. ``fn.new(...)`` builds the job without
    inserting it; ``fn(...)`` still calls the function. The function may be sync (run in a
    thread, or in a child process with ``executor="process"``) or async.
    """

    def decorate(func: Callable[_P, _R]) -> JobFunction[_P, _R]:
        target = JobFunction(func, oban, dict(options))
        worker_cls = _function_worker(target)
        if executor != "thread":
            check_executor(executor, target.name, func)
            worker_cls._oban_executor = executor  # type: ignore[attr-defined]
        register_worker(worker_cls, target.name)
        if cron is not None:
            register_periodic(cron, name=target.name, options=target._oban_options)
        return target

    return decorate


__all__ = ["JobFunction", "Worker", "job", "resolve_worker", "worker", "worker_name"]
