"""What a type checker sees of oban: a typed app and the quick start pass ``mypy --strict``, and
the mistakes marked in ``tests/typing/mistakes.py`` are exactly the errors mypy reports.

mypy runs once for the three files, as a user would run it on their own code: ``--strict``, no
project config, and oban as an imported library (errors inside oban are not the user's, and
``mypy --strict oban`` checks those).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from oban import Job, JobState, Oban, Worker, worker
from oban.engines import LiteEngine
from oban.testing import drain_queue

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "tests" / "typing" / "app.py"
MISTAKES = ROOT / "tests" / "typing" / "mistakes.py"
QUICKSTART = ROOT / "docs" / "examples" / "quickstart.py"

_ERROR = re.compile(r"^(?P<path>.+?):(?P<line>\d+): error: (?P<message>.*?)  \[(?P<code>[a-z-]+)\]$")
_EXPECTED = re.compile(r"#\s*E:\s*(?P<code>[a-z-]+)\s*(?P<fragment>.*?)\s*$")

Error = tuple[int, str, str]  # line, code, message


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, list[Error]]:
    """mypy's errors for each checked file (an empty list for a clean one)."""
    api = pytest.importorskip("mypy.api", reason="mypy is not installed (it is in the lint dependency group)")
    files = [APP, MISTAKES, QUICKSTART]
    stdout, stderr, status = api.run(
        [
            "--config-file=",
            "--strict",
            "--python-version=3.11",
            "--follow-imports=silent",
            "--no-pretty",
            f"--cache-dir={tmp_path_factory.mktemp('mypy_cache')}",
            *map(str, files),
        ]
    )
    assert status in (0, 1) and not stderr, f"mypy could not run (status {status}):\n{stderr}{stdout}"
    found: dict[Path, list[Error]] = {path: [] for path in files}
    for line in stdout.splitlines():
        match = _ERROR.match(line)
        if match:
            path = Path(match["path"]).resolve()
            found.setdefault(path, []).append((int(match["line"]), match["code"], match["message"]))
    unexpected = {path: errors for path, errors in found.items() if path not in files}
    assert not unexpected, f"mypy reported errors outside the checked files: {unexpected}"
    return found


def _expected(path: Path) -> list[tuple[int, str, str]]:
    """The ``# E: code fragment`` marks of ``path``: (line, code, fragment of the message)."""
    marks = []
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        match = _EXPECTED.search(text)
        if match:
            marks.append((number, match["code"], match["fragment"]))
    return marks


def test_the_typed_app_passes_mypy_strict(mypy_errors: dict[Path, list[Error]]) -> None:
    assert mypy_errors[APP] == []


def test_the_quick_start_passes_mypy_strict(mypy_errors: dict[Path, list[Error]]) -> None:
    assert mypy_errors[QUICKSTART] == []


def test_mypy_reports_exactly_the_marked_mistakes(mypy_errors: dict[Path, list[Error]]) -> None:
    expected = _expected(MISTAKES)
    assert len(expected) >= 10, "the mistakes file lost its marks"
    reported = sorted((line, code) for line, code, _ in mypy_errors[MISTAKES])
    assert reported == sorted((line, code) for line, code, _ in expected), mypy_errors[MISTAKES]
    messages = {(line, code): message for line, code, message in mypy_errors[MISTAKES]}
    for line, code, fragment in expected:
        assert fragment in messages[(line, code)], f"line {line}: {messages[(line, code)]!r} lacks {fragment!r}"


def test_the_marks_are_read_from_the_mistakes_file_as_written() -> None:
    marks = _expected(MISTAKES)
    assert (33, "arg-type", 'Argument "subject" to "enqueue"') in marks
    assert all(code and fragment for _, code, fragment in marks)


# -- the typed API at run time: what the type checker was told is what runs ----------------------


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


async def test_the_typed_app_runs_its_jobs_on_sqlite(tmp_path: Path) -> None:
    app = _load(APP, "oban_typing_app")
    async with Oban(LiteEngine(str(tmp_path / "jobs.db")), testing="manual") as oban:
        cancelled = await app.Mailer.enqueue({"to": "x@y.invalid"})
        snoozed = await app.Mailer.enqueue({"to": "a@b.c"})
        report = await app.Report.enqueue({"rows": [1, 2]})
        mail = await app.send_email.enqueue("a@b.c", subject="hi")
        resized = await app.resize.enqueue("img.png", width=100)
        assert (await drain_queue("mailers", with_scheduled=False)) == {
            "cancelled": 1,
            "completed": 1,
            "discarded": 0,
            "retryable": 0,
            "scheduled": 1,
        }
        await drain_queue("mailers")
        await drain_queue("reports")
        await drain_queue("default")
        stored = {job.id: job for job in await oban.list_jobs()}
    assert stored[cancelled.id].state is JobState.CANCELLED
    assert stored[snoozed.id].state is JobState.COMPLETED
    assert stored[snoozed.id].recorded == {"delivered_to": "a@b.c"} and stored[snoozed.id].meta["snoozed"] == 1
    assert stored[report.id].state is JobState.COMPLETED
    assert stored[mail.id].args == {"to": "a@b.c", "subject": "hi"} and stored[mail.id].queue == "mailers"
    assert stored[resized.id].state is JobState.COMPLETED and stored[resized.id].args == {
        "path": "img.png",
        "width": 100,
    }


async def test_the_typed_apps_main_runs_as_written() -> None:
    app = _load(APP, "oban_typing_app")
    states = await app.main()
    assert len(states) == 6 and all(isinstance(state, JobState) for state in states.values())


def test_a_worker_subclass_gets_the_decorators_new() -> None:
    @worker(queue="typed", priority=2)
    class Typed(Worker):
        async def process(self, job: Job) -> None:
            return None

    job = Typed.new({"n": 1}, priority=5)
    assert (job.worker.rsplit(".", 1)[-1], job.queue, job.priority, job.args) == ("Typed", "typed", 5, {"n": 1})


async def test_a_worker_subclass_without_process_fails_its_jobs_by_name(tmp_path: Path) -> None:
    @worker(max_attempts=1)
    class Empty(Worker):
        pass

    async with Oban(LiteEngine(str(tmp_path / "jobs.db")), testing="manual") as oban:
        job = await Empty.enqueue({})
        assert (await drain_queue(with_safety=True))["discarded"] == 1
        stored = await oban.get_job(job)
    assert stored is not None and stored.state is JobState.DISCARDED
    assert "NotImplementedError: worker" in stored.errors[-1]["error"]
    assert "Empty does not define process(self, job)" in stored.errors[-1]["error"]


async def test_a_worker_subclass_that_was_never_decorated_says_so() -> None:
    class Forgotten(Worker):
        def process(self, job: Job) -> None:
            return None

    with pytest.raises(TypeError, match="Forgotten is not a worker: decorate it with @worker"):
        Forgotten.new({})
    with pytest.raises(TypeError, match="Forgotten is not a worker"):
        await Forgotten.enqueue({})
