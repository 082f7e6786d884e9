"""The web-framework examples in docs/examples work as their READMEs say.

Each test drives one example through its framework's own test client on a fresh database (a
file in the test's temporary directory, or a new PostgreSQL database dropped afterwards), then
runs the jobs it enqueued for real: in the app's own ``Oban``, with ``oban.testing.drain_queue``,
or in an ``oban start`` process stopped with SIGTERM. What it checks is what a user would: HTTP
answers, the jobs and rows stored, and what the workers did to them.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from oban import Job, Oban
from oban.engines import engine_from_dsn
from oban.testing import drain_queue
from tests import support

pytestmark = pytest.mark.engines("sqlite", "postgres")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"
MANAGE = EXAMPLES / "django_project" / "manage.py"
BIN = Path(sys.executable).parent

# The examples are imported the way their READMEs run them: docs/examples is the import root.
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))


# -- fresh databases and looking into them --------------------------------------------------


@pytest.fixture
def database_url(engine_name: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty database for this test alone: a SQLite file or a PostgreSQL database."""
    if engine_name == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.db'}"
        return
    import psycopg

    name = f"oban_example_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(support.POSTGRES_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield support.with_database(support.POSTGRES_DSN, name)
    finally:
        with psycopg.connect(support.POSTGRES_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` read straight from the database, behind the example's back."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return conn.execute(sql).fetchall()
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def install_oban(url: str) -> None:
    """What ``oban install --dsn URL`` does."""

    async def install() -> None:
        engine = engine_from_dsn(url)
        try:
            await engine.connect()
            await engine.install()
        finally:
            await engine.close()

    asyncio.run(install())


def stored_jobs(url: str) -> list[Job]:
    """Every job in the database, oldest first, read through a client of the test's own."""

    async def read() -> list[Job]:
        oban = Oban(engine_from_dsn(url), name="examples-check")
        try:
            return sorted(await oban.list_jobs(), key=lambda j: j.id or 0)
        finally:
            await oban.stop()

    return asyncio.run(read())


def drain(url: str, queue: str) -> dict[str, int]:
    """Run ``queue``'s jobs in this process with ``oban.testing.drain_queue``."""

    async def run() -> dict[str, int]:
        oban = Oban(engine_from_dsn(url), name="examples-drain", testing="manual")
        try:
            return await drain_queue(queue, oban)
        finally:
            await oban.stop()

    return asyncio.run(run())


def wait_for(what: str, check: Callable[[], Any], within: float = 30.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within}s (last: {result!r})")
        time.sleep(0.05)


def until_completed(fetch: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Poll ``fetch`` (a job, as an example's route shows it) until it is completed; return it."""

    def check() -> dict[str, Any] | None:
        job = fetch()
        return job if job["state"] == "completed" else None

    result: dict[str, Any] = wait_for("the job completes", check)
    return result


class Process:
    """A command started in the background, stopped with SIGTERM, its output kept."""

    def __init__(self, args: list[str], env: dict[str, str], tmp_path: Path) -> None:
        self.log = tmp_path / f"process-{uuid.uuid4().hex[:6]}.log"
        self._out = self.log.open("w")
        self.popen = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text()

    def terminate(self, within: float = 30.0) -> int:
        """Send SIGTERM and return the exit status once it has stopped."""
        self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(within)
        finally:
            self.close()

    def close(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()
        self._out.close()


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OBAN_", "DJANGO_"))}
    env.update(extra)
    return env


# -- FastAPI --------------------------------------------------------------------------------


def fastapi_client(database_url: str, **options: Any) -> Any:
    """Starlette's test client on the FastAPI example; entering it runs the app's lifespan."""
    from fastapi.testclient import TestClient
    from fastapi_app.main import create_app

    return TestClient(create_app(database_url, **options))


def job_state(client: Any, job_id: int) -> dict[str, Any]:
    response = client.get(f"/jobs/{job_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_fastapi_signup_enqueues_a_job_the_apps_own_queues_run(database_url: str) -> None:
    install_oban(database_url)
    with fastapi_client(database_url) as client:
        response = client.post("/signups", json={"email": "ada@example.com"})
        assert response.status_code == 202, response.text
        job_id = response.json()["job_id"]

        done = until_completed(lambda: job_state(client, job_id))

    assert done["worker"] == "fastapi_app.workers.send_welcome"
    assert done["queue"] == "mailers"
    assert done["args"] == {"email": "ada@example.com"}
    assert done["recorded"] == {"sent_to": "ada@example.com"}


def test_fastapi_rejects_a_bad_signup_and_enqueues_nothing(database_url: str) -> None:
    install_oban(database_url)
    with fastapi_client(database_url) as client:
        response = client.post("/signups", json={"email": "nobody"})
        missing = client.get("/jobs/1")

    assert response.status_code == 422
    assert "email" in response.text
    assert missing.status_code == 404
    assert stored_jobs(database_url) == []


def test_fastapi_order_and_its_job_commit_together_and_the_job_fulfils_it(database_url: str) -> None:
    install_oban(database_url)
    with fastapi_client(database_url) as client:
        assert client.put("/products/widget", json={"stock": 3}).status_code == 200
        response = client.post("/orders", json={"sku": "widget", "quantity": 2})
        assert response.status_code == 201, response.text
        order_id, job_id = response.json()["order_id"], response.json()["job_id"]

        job = until_completed(lambda: job_state(client, job_id))
        order = client.get(f"/orders/{order_id}").json()

    assert order["status"] == "fulfilled"

    assert job["worker"] == "fastapi_app.workers.FulfilOrder"
    assert job["args"] == {"order_id": order_id}
    assert query(database_url, "SELECT stock FROM products") == [(1,)]


def test_fastapi_order_out_of_stock_rolls_back_the_order_and_its_job(database_url: str) -> None:
    install_oban(database_url)
    with fastapi_client(database_url) as client:
        client.put("/products/widget", json={"stock": 1})
        response = client.post("/orders", json={"sku": "widget", "quantity": 2})

    assert response.status_code == 409
    assert "not enough 'widget'" in response.json()["detail"]
    assert query(database_url, "SELECT count(*) FROM orders") == [(0,)]
    assert query(database_url, "SELECT stock FROM products") == [(1,)]
    assert stored_jobs(database_url) == []


def test_fastapi_jobs_run_in_a_separate_oban_start_process(database_url: str, tmp_path: Path) -> None:
    install_oban(database_url)
    # As the README says: the app only enqueues, `oban start` runs the queues.
    node = Process(
        [
            str(BIN / "oban"),
            "start",
            "--dsn",
            database_url,
            "--queues",
            "default:5,mailers:5",
            "--import",
            "fastapi_app.workers",
            "--path",
            "docs/examples",
            "--grace",
            "5",
        ],
        subprocess_env(DATABASE_URL=database_url),
        tmp_path,
    )
    try:
        with fastapi_client(database_url, queues={}) as client:
            wait_for("the node starts", lambda: "running queues" in node.output())
            client.put("/products/widget", json={"stock": 5})
            order = client.post("/orders", json={"sku": "widget", "quantity": 1}).json()
            job = until_completed(lambda: job_state(client, order["job_id"]))
            fulfilled = client.get(f"/orders/{order['order_id']}").json()
        status = node.terminate()
    finally:
        node.close()

    assert status == 0, node.output()
    assert fulfilled["status"] == "fulfilled"
    assert job["attempt"] == 1


# -- Flask ----------------------------------------------------------------------------------


@pytest.fixture
def flask_app(database_url: str) -> Iterator[Any]:
    """The Flask example on the test's database, its schema installed through ``flask oban install``."""
    from flask_app import create_app

    app = create_app({"OBAN_DSN": database_url, "TESTING": True})
    try:
        result = app.test_cli_runner().invoke(args=["oban", "install"])
        assert result.exit_code == 0, result.output
        yield app
    finally:
        app.extensions["oban"].close()


def test_flask_signup_enqueues_a_job_and_draining_runs_it(flask_app: Any, database_url: str) -> None:
    client = flask_app.test_client()

    response = client.post("/signups", json={"email": "ada@example.com"})
    assert response.status_code == 202, response.text
    job_id = response.get_json()["job_id"]
    waiting = client.get(f"/jobs/{job_id}").get_json()

    outcome = drain(database_url, "mailers")
    done = client.get(f"/jobs/{job_id}").get_json()

    assert waiting["state"] == "available"
    assert outcome["completed"] == 1
    assert done["state"] == "completed"
    assert done["worker"] == "flask_app.workers.send_welcome"
    assert done["recorded"] == {"sent_to": "ada@example.com"}


def test_flask_rejects_a_bad_signup_and_enqueues_nothing(flask_app: Any, database_url: str) -> None:
    client = flask_app.test_client()

    response = client.post("/signups", json={"email": 7})

    assert response.status_code == 400
    assert "email must be an address, got 7" in response.text
    assert client.get("/jobs/1").status_code == 404
    assert stored_jobs(database_url) == []


def test_flask_oban_command_runs_jobs_until_sigterm(flask_app: Any, database_url: str, tmp_path: Path) -> None:
    node = Process(
        [str(BIN / "flask"), "--app", "docs/examples/flask_app", "oban", "start", "--queues", "mailers:2"],
        subprocess_env(OBAN_DSN=database_url),
        tmp_path,
    )
    try:
        wait_for("the node starts", lambda: "running queues" in node.output())
        client = flask_app.test_client()
        job_id = client.post("/signups", json={"email": "grace@example.com"}).get_json()["job_id"]
        done = until_completed(lambda: client.get(f"/jobs/{job_id}").get_json())
        status = node.terminate()
    finally:
        node.close()

    assert status == 0, node.output()
    assert done["recorded"] == {"sent_to": "grace@example.com"}
    assert "shutting down" in node.output()


# -- Django ---------------------------------------------------------------------------------

# Runs inside `manage.py shell -c`, with Django set up: drives the views with Django's test
# client and prints one JSON line of what they answered.
DJANGO_DRIVER = """
import json
from django.test import Client
from orders.models import Product

Product.objects.create(sku="widget", stock=3)
client = Client()
answers = []
for quantity in (2, 2):
    response = client.post("/orders/", {"sku": "widget", "quantity": quantity}, content_type="application/json")
    answers.append({"status": response.status_code, "body": response.json()})
response = client.get(f"/jobs/{answers[0]['body']['job_id']}/")
answers.append({"status": response.status_code, "body": response.json()})
response = client.post("/orders/", {"sku": "widget", "quantity": "two"}, content_type="application/json")
answers.append({"status": response.status_code, "body": response.json()})
print("ANSWERS", json.dumps(answers))
"""


class DjangoSite:
    """The Django example on one test database: ``manage.py`` commands run as the README says."""

    def __init__(self, database_url: str, tmp_path: Path) -> None:
        self.database_url = database_url
        self.tmp_path = tmp_path
        self.env = subprocess_env(DATABASE_URL=database_url)

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, str(MANAGE), *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done

    def start(self, *args: str) -> Process:
        return Process([sys.executable, str(MANAGE), *args], self.env, self.tmp_path)

    def drive_views(self) -> list[dict[str, Any]]:
        output = self.manage("shell", "-c", DJANGO_DRIVER).stdout
        line = next(line for line in output.splitlines() if line.startswith("ANSWERS "))
        answers: list[dict[str, Any]] = json.loads(line.removeprefix("ANSWERS "))
        return answers


@pytest.fixture
def django_site(database_url: str, tmp_path: Path) -> DjangoSite:
    """Django's tables migrated and oban's installed (``manage.py oban install``) in one database."""
    site = DjangoSite(database_url, tmp_path)
    site.manage("migrate")
    assert "schema version" in site.manage("oban", "install").stdout
    return site


def test_django_view_commits_the_order_and_its_job_in_one_transaction(django_site: DjangoSite) -> None:
    placed, out_of_stock, job_page, bad_quantity = django_site.drive_views()

    assert placed["status"] == 201
    assert out_of_stock["status"] == 409
    assert out_of_stock["body"] == {"error": "not enough 'widget' in stock for 2"}
    assert bad_quantity == {"status": 400, "body": {"error": "quantity must be a positive integer, got 'two'"}}
    order_id = placed["body"]["order_id"]
    # The rolled-back order left neither its row nor its job; the stock was taken once.
    assert query(django_site.database_url, "SELECT id FROM orders_order") == [(order_id,)]
    assert query(django_site.database_url, "SELECT stock FROM orders_product") == [(1,)]
    jobs = stored_jobs(django_site.database_url)
    assert [(j.id, j.worker, j.args, j.state.value) for j in jobs] == [
        (placed["body"]["job_id"], "orders.workers.FulfilOrder", {"order_id": order_id}, "available")
    ]
    assert job_page == {
        "status": 200,
        "body": {
            "id": placed["body"]["job_id"],
            "worker": "orders.workers.FulfilOrder",
            "state": "available",
            "args": {"order_id": order_id},
        },
    }


def test_django_oban_command_processes_the_job_then_stops_on_sigterm(django_site: DjangoSite) -> None:
    placed, *_ = django_site.drive_views()
    order_id, job_id = placed["body"]["order_id"], placed["body"]["job_id"]
    url = django_site.database_url

    node = django_site.start("oban", "start", "--queues", "default:10", "--grace", "5")
    try:
        wait_for(
            "the order is fulfilled",
            lambda: query(url, f"SELECT status FROM orders_order WHERE id = {order_id}") == [("fulfilled",)],
        )
        status = node.terminate()
    finally:
        node.close()

    assert status == 0, node.output()
    (job,) = stored_jobs(url)
    assert (job.id, job.state.value, job.attempt) == (job_id, "completed", 1)
    assert "shutting down" in node.output()
