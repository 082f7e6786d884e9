"""The oban command, run as a user would run it."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oban import JobState, Oban, __version__
from oban.engines import LiteEngine
from oban.engines.lite import LATEST_VERSION
from tests import workers
from tests.conftest import require_server

ROOT = Path(__file__).resolve().parent.parent


def oban(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oban", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_version_prints_the_package_version():
    result = oban("version")
    assert result.returncode == 0 and result.stdout.strip() == f"oban-sql {__version__}"


def test_install_migrate_and_uninstall_a_sqlite_database(tmp_path):
    dsn = f"sqlite:///{tmp_path}/cli.db"
    newest = f"schema version {LATEST_VERSION}"
    installed = oban("install", "--dsn", dsn)
    assert installed.returncode == 0 and newest in installed.stdout
    assert newest in oban("install", "--dsn", dsn).stdout
    assert "schema version 1" in oban("migrate", "--dsn", dsn, "--version", "1").stdout
    assert newest in oban("migrate", "--dsn", dsn).stdout
    assert "schema version 0" in oban("uninstall", "--dsn", dsn).stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["install", "--dsn", "nonsense"], "dsn must look like scheme://"),
        (["install", "--dsn", "redis://localhost/0"], "no engine for DSN scheme 'redis'"),
        (["start", "--dsn", "sqlite:///x.db", "--queues", "default:zero"], "--queues entry 'default:zero'"),
        (["start", "--dsn", "sqlite:///x.db", "--queues", "default:1", "--import", "no.such.module"], "no.such.module"),
    ],
)
def test_bad_input_gives_one_clear_line_and_a_non_zero_exit(args, message):
    result = oban(*args)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("oban:")]
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_starting_on_a_database_without_the_schema_fails_clearly(tmp_path):
    result = oban("start", "--dsn", f"sqlite:///{tmp_path}/empty.db", "--queues", "default:1")
    assert result.returncode == 1
    assert "not installed" in result.stderr and "oban install --dsn" in result.stderr


def test_a_missing_dsn_is_named(monkeypatch):
    monkeypatch.delenv("OBAN_DSN", raising=False)
    result = oban("install")
    assert result.returncode == 2 and "--dsn" in result.stderr


def test_start_runs_jobs_until_sigterm_then_shuts_down_gracefully(tmp_path):
    db = tmp_path / "node.db"
    dsn = f"sqlite:///{db}"
    assert oban("install", "--dsn", dsn).returncode == 0
    log = tmp_path / "runs.log"

    async def seed() -> list[int]:
        client = Oban(LiteEngine(str(db)))
        jobs = await client.enqueue_many([workers.AppendToFile.new({"path": str(log)}) for _ in range(50)])
        await client.stop()
        return [job.id for job in jobs]

    ids = asyncio.run(seed())
    node = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oban",
            "start",
            "--dsn",
            dsn,
            "--queues",
            "default:5,other:2",
            "--import",
            "tests.workers",
            "--node",
            "cli-node",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 50):
        time.sleep(0.1)
    node.send_signal(signal.SIGTERM)
    _, err = node.communicate(timeout=60)
    assert node.returncode == 0, err
    assert "shutting down" in err
    assert sorted(int(line.split()[0]) for line in log.read_text().splitlines()) == sorted(ids)

    async def states() -> set[JobState]:
        engine = LiteEngine(str(db))
        found = {job.state for job in await engine.list_jobs()}
        await engine.close()
        return found

    assert asyncio.run(states()) == {JobState.COMPLETED}


@pytest.mark.parametrize("server", ["postgres", "mysql"])
def test_install_and_uninstall_on_servers(server, tmp_path):
    engine_name = server
    require_server(engine_name)
    from tests import support

    database = asyncio.run(support.create_database(engine_name, tmp_path))
    try:
        dsn = support.engine_dsn(engine_name, database)
        installed = oban("install", "--dsn", dsn)
        assert installed.returncode == 0, installed.stderr
        assert "schema version" in installed.stdout and "schema version 0" not in installed.stdout
        assert "schema version 0" in oban("uninstall", "--dsn", dsn).stdout
    finally:
        asyncio.run(support.drop_database(engine_name, database))


def test_third_party_schemes_can_be_registered():
    from oban.engines import engine_from_dsn, register_engine

    class CustomEngine(LiteEngine):
        built_with: str | None = None

        @classmethod
        def from_dsn(cls, dsn: str, **options: object) -> CustomEngine:
            engine = cls(":memory:")
            engine.built_with = dsn
            return engine

    register_engine("custom", CustomEngine)
    engine = engine_from_dsn("custom://anything/at/all")
    assert isinstance(engine, CustomEngine) and engine.built_with == "custom://anything/at/all"
    with pytest.raises(Exception, match="no engine for DSN scheme 'other'"):
        engine_from_dsn("other://x")


def _project(tmp_path: Path, body: str) -> Path:
    """A project folder holding the package ``myapp`` with ``myapp/workers.py``."""
    package = tmp_path / "project" / "myapp"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "workers.py").write_text(body)
    return package.parent


def _console_script(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The installed ``oban`` command (not ``python -m``, which would put the folder on sys.path)."""
    script = Path(sys.executable).with_name("oban")
    return subprocess.run([str(script), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_start_imports_worker_modules_from_the_working_directory(tmp_path):
    project = _project(
        tmp_path,
        "from oban import worker\n\n@worker()\nclass Hello:\n    def process(self, job):\n"
        "        open(job.args['path'], 'w').write('ran')\n",
    )
    db = tmp_path / "app.db"
    LiteEngine(str(db))  # nothing yet; install through the CLI as a user would
    assert _console_script("install", "--dsn", f"sqlite:///{db}", cwd=project).returncode == 0
    marker = tmp_path / "ran.txt"

    async def enqueue() -> None:
        client = Oban(LiteEngine(str(db)))
        from oban import Job

        await client.enqueue(Job(worker="myapp.workers.Hello", args={"path": str(marker)}))
        await client.stop()

    asyncio.run(enqueue())
    script = Path(sys.executable).with_name("oban")
    node = subprocess.Popen(
        [str(script), "start", "--dsn", f"sqlite:///{db}", "--queues", "default:1", "--import", "myapp.workers"],
        cwd=project,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists() and node.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marker.exists(), node.stderr.read() if node.poll() is not None else "the job did not run"
    finally:
        node.send_signal(signal.SIGTERM)
        node.wait(timeout=30)


def test_a_worker_module_that_raises_while_importing_shows_its_traceback(tmp_path):
    project = _project(tmp_path, "import json\n\ndef broken():\n    return undefined_name\n\nbroken()\n")
    result = _console_script(
        "start",
        "--dsn",
        f"sqlite:///{tmp_path}/x.db",
        "--queues",
        "default:1",
        "--import",
        "myapp.workers",
        cwd=project,
    )
    assert result.returncode == 2
    assert "Traceback" in result.stderr and "NameError" in result.stderr and "workers.py" in result.stderr


def test_a_missing_worker_module_is_one_line_naming_where_it_was_looked_for(tmp_path):
    project = _project(tmp_path, "")
    result = _console_script(
        "start",
        "--dsn",
        f"sqlite:///{tmp_path}/x.db",
        "--queues",
        "default:1",
        "--import",
        "myapp.nothing_here",
        "--path",
        str(project),
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "myapp.nothing_here" in result.stderr and str(project) in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://127.0.0.1:1/db?password=s3cr3t-pw",
        "postgresql://user@127.0.0.1:1/db?sslpassword=s3cr3t-pw",
        "postgresql://user:s3cr3t-pw@127.0.0.1:1/db",
        "mysql://root:s3cr3t-pw@127.0.0.1:1/db?bogus=1",
        "mysql://root:s3cr3t-pw@127.0.0.1:1/db",
        "mysql://root:s3cr3t-pw@[bad",
    ],
)
def test_no_message_shows_a_password_from_the_dsn(dsn):
    result = oban("install", "--dsn", dsn)
    assert result.returncode != 0
    assert "s3cr3t-pw" not in result.stderr + result.stdout, result.stderr
    assert "oban:" in result.stderr


def test_a_password_in_a_postgres_dsns_query_is_masked_in_output_and_logs(tmp_path):
    require_server("postgres")
    from tests import support

    database = asyncio.run(support.create_database("postgres", tmp_path))
    dsn = support.engine_dsn("postgres", database) + "&password=s3cr3t-pw"  # trust auth ignores it
    try:
        installed = oban("install", "--dsn", dsn)
        assert installed.returncode == 0, installed.stderr
        assert "schema version" in installed.stdout and "password=***" in installed.stdout
        started = oban("start", "--dsn", dsn.replace(database, database + "_missing"), "--queues", "default:1")
        assert started.returncode == 1 and "not installed" in started.stderr
        for output in (installed.stdout + installed.stderr, started.stdout + started.stderr):
            assert "s3cr3t-pw" not in output
    finally:
        asyncio.run(support.drop_database("postgres", database))


def test_a_failing_step_is_named_with_the_masked_dsn():
    result = oban("install", "--dsn", "postgresql://app:s3cr3t-pw@127.0.0.1:1/app")
    assert result.returncode == 1
    [line] = [line for line in result.stderr.splitlines() if line.startswith("oban:")]
    assert line.startswith("oban: connecting failed: DatabaseError: connect on postgresql://app:***@127.0.0.1:1/app")
