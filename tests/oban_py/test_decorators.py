"""``@worker`` and ``@job`` as oban-py's users write them."""

from __future__ import annotations

import pytest

from oban import Job, job, worker


def test_worker_gains_new_and_enqueue_with_its_options_and_overrides():
    @worker(queue="test", priority=5)
    class TestWorker:
        async def process(self, job):  # type: ignore[no-untyped-def]
            return job.args

    built = TestWorker.new({"foo": "bar"})
    assert isinstance(built, Job) and built.worker.endswith("TestWorker")
    assert (built.args, built.queue, built.priority) == ({"foo": "bar"}, "test", 5)
    urgent = TestWorker.new({"foo": "bar"}, priority=9, queue="urgent")
    assert (urgent.queue, urgent.priority) == ("urgent", 9)
    assert TestWorker.new().args == {}


def test_new_takes_any_job_field_and_keeps_other_options_in_extra():
    @worker(colour="blue")
    class Painter:
        def process(self, job):  # type: ignore[no-untyped-def]
            return None

    built = Painter.new({}, attempt=5, id=999, size=3, scheduled_in=60)
    assert (built.attempt, built.id) == (5, 999)
    assert built.extra == {"colour": "blue", "size": 3}
    assert built.scheduled_at is not None and built.state == "scheduled"


def test_job_functions_bind_arguments_by_name_and_keep_their_metadata():
    @job(queue="test")
    def send_email(to: str, body: str):  # type: ignore[no-untyped-def]
        """Send it."""

    assert send_email.__name__ == "send_email" and send_email.__doc__ == "Send it."
    assert send_email.new("user@example.com", "Hello").args == {"to": "user@example.com", "body": "Hello"}
    assert send_email.new(to="a", body="b").args == {"to": "a", "body": "b"}
    assert send_email.new("a", "b").queue == "test"
    with pytest.raises(TypeError):
        send_email.new("only one")
    with pytest.raises(TypeError):
        send_email.new("a", "b", "c")


async def test_enqueue_goes_through_the_default_instance(oban_instance):
    @worker(queue="default")
    class Mailer:
        async def process(self, job):  # type: ignore[no-untyped-def]
            return None

    @job()
    def notify(user_id: int):  # type: ignore[no-untyped-def]
        return user_id

    oban = oban_instance()
    first = await Mailer.enqueue({"to": "a@b.c"}, priority=2)
    second = await notify.enqueue(7)
    stored = await oban.get_job(first.id)
    assert stored is not None and stored.priority == 2
    assert (await oban.get_job(second.id)).args == {"user_id": 7}


def test_a_worker_that_forgot_process_is_told_so_when_its_job_runs():
    @worker()
    class Forgetful:
        pass

    with pytest.raises(NotImplementedError, match="Forgetful"):
        import asyncio

        asyncio.run(Forgetful().process(Forgetful.new()))
