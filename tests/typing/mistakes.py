"""Mistakes a type checker must catch in code that uses oban; ``tests/test_typing.py`` runs mypy
on this file and expects exactly the errors marked ``# E: <code> <fragment of the message>``."""

from __future__ import annotations

from oban import Cancel, Job, Oban, Snooze, Worker, job, worker
from oban.engines import LiteEngine


@job(queue="mailers")
def send_email(to: str, subject: str) -> None:
    """A ``@job`` function with typed parameters."""


@job()
async def resize(path: str, width: int) -> int:
    return width


@worker(queue="mailers")
class Mailer(Worker):
    async def process(self, job: Job) -> Snooze | Cancel | None:
        return None


@worker()
class WrongProcess(Worker):
    def process(self, job: str) -> None:  # E: override Argument 1 of "process" is incompatible with supertype
        return None


async def enqueue_with_wrong_arguments() -> None:
    await send_email.enqueue(to="a@b", subject=1)  # E: arg-type Argument "subject" to "enqueue"
    await send_email.enqueue("a@b")  # E: call-arg Missing positional argument "subject"
    await send_email.enqueue("a@b", "hi", cc="c@d")  # E: call-arg Unexpected keyword argument "cc"
    send_email.new("a@b", subject=None)  # E: arg-type Argument "subject" to "new"
    await resize.enqueue("img.png", width="wide")  # E: arg-type Argument "width" to "enqueue"
    await Mailer.enqueue(["not", "a", "mapping"])  # E: arg-type Argument 1 to "enqueue"


def a_job_is_not_a_string() -> str:
    return Mailer.new({"to": "a@b"})  # E: return-value got "Job", expected "str"


def calling_directly_keeps_the_return_type() -> str:
    return send_email("a@b", "hi")  # E: return-value got "None", expected "str"


async def an_async_job_function_returns_its_own_type() -> str:
    return await resize("img.png", 10)  # E: return-value got "int", expected "str"


def snooze_takes_seconds() -> Snooze:
    return Snooze("soon")  # E: arg-type Argument 1 to "Snooze"


def oban_takes_an_engine() -> Oban:
    return Oban(engine="sqlite:///jobs.db")  # E: arg-type Argument "engine" to "Oban"


def queues_take_limits() -> Oban:
    return Oban(engine=LiteEngine(":memory:"), queues={"default": "ten"})  # E: dict-item incompatible type "str": "str"
