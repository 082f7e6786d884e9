"""The dashboard in a real browser: servers on a background loop, seeded jobs, Chromium through Playwright.

The browser tests are plain sync tests (Playwright's sync API cannot run inside a running event
loop), so everything async lives on one background thread with its own loop: the database, a
started Oban node that really runs jobs, the dashboard's client ``Oban`` and three uvicorn servers:
one with :class:`oban.web.BasicAuth` (actions allowed), one without an auth hook (read-only), and
one app of its own with the dashboard mounted under a path and guarded by a callable.
Tests reach that loop through :meth:`Dashboard.run`.

Chromium is Debian's (``/usr/bin/chromium``, or ``OBAN_CHROMIUM``); Playwright never downloads
one here. Without Chromium or Playwright the browser tests skip, unless ``OBAN_REQUIRE_BROWSER``
is set, and then they fail.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from oban import Job, JobState, Oban, QueueInfo
from tests import support
from tests.web.browser_workers import BuildReport, ChargeCard, SendEmail, SyncInventory

__all__ = ["anonymous_page", "browser", "dashboard", "page"]
"""What ``from tests.web.browser_support import *`` gives a test module: the pytest fixtures."""

T = TypeVar("T")

CHROMIUM = os.environ.get("OBAN_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = bool(os.environ.get("OBAN_REQUIRE_BROWSER"))
USERNAME, PASSWORD = "admin", "s3cret-pass"
STAFF_COOKIE = ("staff_token", "let-me-in")
"""What the mounted dashboard's own auth hook (a plain callable) looks for."""
MOUNT_PATH = "/admin/oban"
TITLE = "Acme jobs"
"""The basic-auth server's ``title``."""
NODE_QUEUES = {"default": 5, "mailers": 2, "media": 3}
"""The queues the started node runs; ``reports`` and ``parked`` are run by no node, so their jobs stay put."""
REPORT_JOBS = 130
"""Jobs in ``reports``: more than one page of the jobs list, whatever its page size up to 100."""
VIEWPORT = {"width": 1280, "height": 800}


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or ``None`` when they can."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (.venv/bin/pip install playwright; no browser download needed)"
    if shutil.which(CHROMIUM) is None:
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set OBAN_CHROMIUM)"
    return None


def require_browser() -> None:
    """Skip the calling test without a browser; fail instead when ``OBAN_REQUIRE_BROWSER`` is set."""
    reason = browser_missing()
    if reason is None:
        return
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} (OBAN_REQUIRE_BROWSER is set)", pytrace=False)
    pytest.skip(reason)


class LoopThread:
    """An event loop running on a daemon thread; ``run`` waits for a coroutine scheduled on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="dashboard-loop", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@dataclass
class Seed:
    """The ids of the seeded jobs a test looks for, by what they are."""

    completed: list[int] = field(default_factory=list)  # ChargeCard, with a recorded value
    discarded: list[int] = field(default_factory=list)  # ChargeCard on a declined card: one error, a traceback
    retryable: list[int] = field(default_factory=list)  # SyncInventory, next attempt in an hour
    emails: list[int] = field(default_factory=list)  # SendEmail, completed
    reports: list[int] = field(default_factory=list)  # BuildReport in `reports`, available
    scheduled: list[int] = field(default_factory=list)  # BuildReport in `reports`, an hour from now
    cancelled: list[int] = field(default_factory=list)
    searched: int = 0  # the one job whose args hold SEARCH_VALUE


SEARCH_VALUE = "ada@example.com"


@dataclass
class Server:
    """One uvicorn server on the dashboard loop."""

    url: str
    instance: Any
    task: asyncio.Task[None]


@dataclass
class Dashboard:
    """A seeded database, a node running its queues, and the dashboard served three ways."""

    engine_name: str
    database: str
    loop: LoopThread
    node: Oban
    client: Oban
    seed: Seed
    servers: dict[str, Server]

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        """Run a coroutine on the dashboard's loop (where the engines live) and return its result."""
        return self.loop.run(coro, timeout)

    def url(self, path: str = "/", server: str = "admin") -> str:
        """``path`` on the server with basic auth (``"admin"``), the one without auth (``"readonly"``)
        or the dashboard mounted in another app with an auth hook of its own (``"mounted"``)."""
        prefix = MOUNT_PATH if server == "mounted" else ""
        return self.servers[server].url + prefix + path

    @property
    def dsn(self) -> str:
        """The database's DSN, as ``oban web --dsn`` takes it."""
        return support.engine_dsn(self.engine_name, self.database)

    def get_job(self, job_id: int) -> Job | None:
        return self.run(self.client.get_job(job_id))

    def state_of(self, job_id: int) -> JobState | None:
        job = self.get_job(job_id)
        return None if job is None else job.state

    def enqueue(self, *jobs: Job) -> list[Job]:
        return self.run(self.client.enqueue_many(*jobs))

    def queue_on_node(self, queue: str) -> QueueInfo:
        """The running node's own live view of ``queue``."""

        async def check() -> QueueInfo | None:
            return self.node.check_queue(queue)

        info = self.run(check())
        assert info is not None, f"the node does not run {queue!r}"
        return info

    def counts(self) -> dict[tuple[str, JobState], int]:
        return self.run(self.client.count_jobs())

    def eventually(self, check: Callable[[], bool], timeout: float = 15.0, what: str = "the condition") -> None:
        """Wait (on this thread) until ``check()`` is true; fail naming ``what`` after ``timeout`` s."""

        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} did not happen within {timeout:g} s")
            time.sleep(0.1)

    def discarded_job(self, order: str, queue: str = "parked") -> Job:
        """A fresh ChargeCard job that failed for good on the node, then moved to ``queue``.

        No node runs ``parked``, so a retried job stays ``available`` there for the test to see.
        """
        (job,) = self.enqueue(ChargeCard.new({"card": "declined", "order": order, "amount": 1}))
        job_id = job.id
        assert job_id is not None
        self.eventually(lambda: self.state_of(job_id) is JobState.DISCARDED, what=f"job {job_id} being discarded")
        return self.run(self.client.update_job(job, {"queue": queue}))


def free_socket() -> socket.socket:
    """A listening socket on a free 127.0.0.1 port, handed to uvicorn (no port race)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


async def serve(app: Any) -> Server:
    """Serve ``app`` with uvicorn on this loop; returns once it accepts connections."""
    import uvicorn

    sock = free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="auto")
    instance = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(instance.serve(sockets=[sock]))
    for _ in range(200):
        if instance.started or task.done():
            break
        await asyncio.sleep(0.05)
    if task.done():
        task.result()  # raises why it did not start
    if not instance.started:
        raise RuntimeError("uvicorn did not start within 10 s")
    return Server(url=f"http://127.0.0.1:{port}", instance=instance, task=task)


async def stop_server(server: Server) -> None:
    server.instance.should_exit = True
    await asyncio.wait_for(server.task, 15)


async def wait_for(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s")
        await asyncio.sleep(0.05)


async def seed_jobs(client: Oban) -> Seed:
    """Insert the jobs every browser test looks at; the node then runs those of its queues.

    The same data on every engine and every run (only ids and times differ): it is also what
    the screenshots show.
    """
    seed = Seed()
    reports = await client.enqueue_many(
        BuildReport.new({"report": f"weekly-{n:03d}", "region": ("north", "south", "east")[n % 3]})
        for n in range(REPORT_JOBS)
    )
    seed.reports = [job.id for job in reports if job.id is not None]
    scheduled = await client.enqueue_many(
        BuildReport.new({"report": f"quarterly-{n}"}, schedule_in=3600) for n in range(3)
    )
    seed.scheduled = [job.id for job in scheduled if job.id is not None]
    (searched,) = await client.enqueue_many(SendEmail.new({"to": SEARCH_VALUE, "template": "welcome"}, queue="reports"))
    seed.searched = searched.id or 0
    cancelled = await client.enqueue_many(BuildReport.new({"report": "obsolete"}, schedule_in=3600))
    await client.cancel_many_jobs(cancelled)
    seed.cancelled = [job.id for job in cancelled if job.id is not None]
    completed = await client.enqueue_many(
        ChargeCard.new({"card": "visa", "order": f"A-{100 + n}", "amount": 25 * (n + 1)}, tags=["checkout"])
        for n in range(4)
    )
    seed.completed = [job.id for job in completed if job.id is not None]
    discarded = await client.enqueue_many(
        ChargeCard.new({"card": "declined", "order": f"B-{200 + n}", "amount": 99}, tags=["checkout"]) for n in range(2)
    )
    seed.discarded = [job.id for job in discarded if job.id is not None]
    retryable = await client.enqueue_many(SyncInventory.new({"host": "inventory.internal"}))
    seed.retryable = [job.id for job in retryable if job.id is not None]
    emails = await client.enqueue_many(SendEmail.new({"to": f"user{n}@example.com"}) for n in range(5))
    seed.emails = [job.id for job in emails if job.id is not None]
    return seed


async def settled(client: Oban, seed: Seed) -> bool:
    """Whether the node has run every seeded job of its queues to where the tests expect it."""
    expected = (
        [(i, JobState.COMPLETED) for i in seed.completed + seed.emails]
        + [(i, JobState.DISCARDED) for i in seed.discarded]
        + [(i, JobState.RETRYABLE) for i in seed.retryable]
    )
    for job_id, state in expected:
        job = await client.get_job(job_id)
        if job is None or job.state is not state:
            return False
    return True


async def staff_only(request: Any) -> bool:
    """An auth hook of an app's own: an async callable reading a cookie."""
    name, value = STAFF_COOKIE
    return bool(request.cookies.get(name) == value)


def mounted_app(dashboard_app: Any) -> Any:
    """An app of its own with the dashboard mounted under :data:`MOUNT_PATH`."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Mount, Route

    async def home(request: Any) -> Any:
        return PlainTextResponse("the shop")

    return Starlette(routes=[Route("/", home), Mount(MOUNT_PATH, app=dashboard_app)])


async def start_dashboard(engine_name: str, tmp_path: Path, loop: LoopThread) -> Dashboard:
    """On the dashboard loop: a fresh database, a started node, seeded jobs, three servers."""
    from oban.web import BasicAuth, create_app

    database = await support.create_database(engine_name, tmp_path)
    cluster = f"web-{engine_name}"
    node_engine = support.build_engine(engine_name, database)
    await node_engine.connect()
    await node_engine.install()
    node = Oban(node_engine, name=cluster, node="worker-1", queues=NODE_QUEUES, heartbeat_interval=1.0)
    # The dashboard is a client of its own, on its own connections, as `oban web --dsn` is.
    client = Oban(support.build_engine(engine_name, database), name=cluster, node="dashboard")
    servers: dict[str, Server] = {}
    try:
        await node.start()
        seed = await seed_jobs(client)
        await wait_for(lambda: settled(client, seed), 30, "running the seeded jobs")
        servers["admin"] = await serve(create_app(client, auth=BasicAuth(USERNAME, PASSWORD), title=TITLE))
        servers["readonly"] = await serve(create_app(client))
        servers["mounted"] = await serve(mounted_app(create_app(client, auth=staff_only)))
    except BaseException:
        await stop_dashboard(Dashboard(engine_name, database, loop, node, client, Seed(), servers))
        raise
    return Dashboard(engine_name, database, loop, node, client, seed, servers)


async def stop_dashboard(dashboard: Dashboard) -> None:
    for server in dashboard.servers.values():
        await stop_server(server)
    await dashboard.client.stop()
    await dashboard.node.stop()
    await support.drop_database(dashboard.engine_name, dashboard.database)


# -- pytest fixtures (test modules take them with ``from tests.web.browser_support import *``) -----


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module's tests."""
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture(scope="module")
def dashboard(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """The seeded dashboard for one engine, shared by the module's tests on that engine."""
    require_browser()
    support_loop = LoopThread()
    try:
        served = support_loop.run(start_dashboard(engine_name, tmp_path_factory.mktemp(engine_name), support_loop), 90)
        try:
            yield served
        finally:
            support_loop.run(stop_dashboard(served), 60)
    finally:
        support_loop.close()


def open_context(browser: Any, **options: Any) -> Any:
    """A new browser context whose pages accept confirm() dialogs (as a user clicking OK)."""
    context = browser.new_context(viewport=VIEWPORT, **options)
    context.set_default_timeout(15_000)
    context.on("page", lambda page: page.on("dialog", lambda dialog: dialog.accept()))
    return context


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page logged in with the right basic-auth credentials."""
    context = open_context(browser, http_credentials={"username": USERNAME, "password": PASSWORD})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def anonymous_page(browser: Any) -> Iterator[Any]:
    """A page without credentials (for the read-only server)."""
    context = open_context(browser)
    try:
        yield context.new_page()
    finally:
        context.close()
