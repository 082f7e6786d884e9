"""Decorators and worker resolution."""

from __future__ import annotations

import pytest

from oban import Job, WorkerNotFoundError, worker
from oban.worker import resolve_worker
from tests import workers


def test_new_applies_the_worker_defaults_and_overrides():
    @worker(queue="mailers", max_attempts=5, priority=1, tags=["email"])
    class EmailWorker:
        async def process(self, job):  # type: ignore[no-untyped-def]
            return None

    job = EmailWorker.new({"to": "a@b.c"}, priority=3)
    assert isinstance(job, Job)
    assert (job.queue, job.max_attempts, job.priority, job.tags) == ("mailers", 5, 3, ["email"])
    assert job.worker == f"{__name__}.test_new_applies_the_worker_defaults_and_overrides.<locals>.EmailWorker"


def test_options_that_are_no_job_field_are_kept_in_extra_as_oban_py_does():
    @worker(queue="q", colour="blue")
    class Painter:
        async def process(self, job):  # type: ignore[no-untyped-def]
            return job.extra["colour"]

    job = Painter.new({}, size=3)
    assert job.extra == {"colour": "blue", "size": 3} and job.queue == "q"
    assert workers.Noop.new({}, colour="red").extra == {"colour": "red"}


async def test_a_worker_without_process_fails_its_jobs_by_name():
    nothing = worker()(type("Nothing", (), {}))
    with pytest.raises(NotImplementedError, match="worker Nothing does not define process"):
        await nothing().process(nothing.new({}))


def test_job_functions_store_arguments_by_parameter_name():
    job = workers.add_to_events.new("hello", count=3)
    assert job.args == {"label": "hello", "count": 3}
    assert job.worker == "tests.workers.add_to_events"
    with pytest.raises(TypeError, match="add_to_events"):
        workers.add_to_events.new(1, 2, 3)
    workers.add_to_events("direct")
    assert workers.EVENTS[-1] == ("function", "direct", 1)


def test_workers_resolve_from_their_names_importing_modules_when_needed():
    assert resolve_worker("tests.workers.Noop") is workers.Noop
    assert resolve_worker("tests.workers.add_to_events") is not None
    assert resolve_worker("oban.testing.conformance.runtime.RecordingWorker").__name__ == "RecordingWorker"


def test_a_class_with_process_that_was_never_declared_a_worker_does_not_resolve():
    with pytest.raises(WorkerNotFoundError, match=r"tests\.workers\.NotAWorker.*@worker"):
        resolve_worker("tests.workers.NotAWorker")


def test_a_worker_module_whose_own_imports_fail_says_so(tmp_path, monkeypatch):
    (tmp_path / "broken_dependency_app.py").write_text("import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(WorkerNotFoundError, match="no_such_dependency_xyz"):
        resolve_worker("broken_dependency_app.Worker")


@pytest.mark.parametrize("name", ["tests.workers.Missing", "no_such_module.Worker", "tests.workers.EVENTS", "Bare"])
def test_unresolvable_workers_raise_naming_the_worker(name):
    with pytest.raises(WorkerNotFoundError, match=name.replace(".", r"\.")):
        resolve_worker(name)
