"""``oban web``: serves the dashboard until SIGTERM, read-only unless given basic auth, and says
clearly what is wrong when it cannot start."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytest.importorskip("uvicorn", reason="oban web needs the web extra")

ROOT = Path(__file__).resolve().parents[2]
URL = re.compile(r"at (http://127\.0\.0\.1:\d+/) ")


def oban(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oban", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


class Served:
    """A running ``oban web`` and the URL it printed."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "oban", "web", "--port", "0", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        assert self.process.stdout is not None
        self.line = self.process.stdout.readline()  # the first line says where it listens
        match = URL.search(self.line)
        if match is None:
            self.process.kill()
            _, stderr = self.process.communicate(timeout=10)
            pytest.fail(f"oban web printed {self.line!r}; stderr: {stderr}")
        self.url = match.group(1)

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        self.process.send_signal(sig)
        _, stderr = self.process.communicate(timeout=30)
        return self.process.returncode, stderr


async def get(url: str, **options: object) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(url, **options)  # type: ignore[arg-type]


async def test_oban_web_serves_the_dashboard_until_sigterm_and_exits_0(engine, oban_engine_factory):
    served = await asyncio.to_thread(Served, "--dsn", oban_engine_factory.dsn)
    try:
        assert "read-only: no --basic-auth or $OBAN_WEB_BASIC_AUTH" in served.line
        assert (await get(served.url + "healthz")).text == "ok"
        queues = await get(served.url + "queues")
        assert queues.status_code == 200 and 'data-testid="read-only-banner"' in queues.text
    finally:
        status, stderr = await asyncio.to_thread(served.stop)
    assert status == 0, stderr


@pytest.mark.engines("sqlite")
async def test_ctrl_c_stops_it_cleanly_too(engine, oban_engine_factory):
    served = await asyncio.to_thread(Served, "--dsn", oban_engine_factory.dsn)
    assert (await get(served.url + "healthz")).text == "ok"
    status, stderr = await asyncio.to_thread(served.stop, signal.SIGINT)
    assert status == 0 and "Traceback" not in stderr, stderr


@pytest.mark.engines("sqlite")
async def test_basic_auth_from_the_environment_turns_actions_on(engine, oban_engine_factory):
    env = {"OBAN_WEB_BASIC_AUTH": "admin:pa:ss"}  # the password is everything after the first colon
    served = await asyncio.to_thread(Served, "--dsn", oban_engine_factory.dsn, env=env)
    try:
        assert "actions on for basic-auth user 'admin'" in served.line and "pa:ss" not in served.line
        assert (await get(served.url + "queues")).status_code == 401
        page = await get(served.url + "queues", auth=("admin", "pa:ss"))
        assert page.status_code == 200 and 'data-testid="read-only-banner"' not in page.text
    finally:
        status, stderr = await asyncio.to_thread(served.stop)
    assert status == 0, stderr


@pytest.mark.engines("sqlite")
async def test_read_only_wins_over_basic_auth(engine, oban_engine_factory):
    served = await asyncio.to_thread(
        Served, "--dsn", oban_engine_factory.dsn, "--read-only", "--basic-auth", "admin:secret"
    )
    try:
        assert "read-only (--read-only)" in served.line
        page = await get(served.url + "jobs", auth=("admin", "secret"))
        assert 'data-testid="read-only-banner"' in page.text
    finally:
        status, _ = await asyncio.to_thread(served.stop)
    assert status == 0


def test_a_dsn_no_engine_handles_is_a_clear_error():
    result = oban("web", "--dsn", "nosuch://db")
    assert result.returncode == 2 and result.stderr.startswith("oban: ") and "nosuch" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_database_is_a_clear_error():
    start = time.monotonic()
    result = oban("web", "--dsn", "postgresql://oban:hunter2@127.0.0.1:1/jobs")
    assert result.returncode == 1 and "connecting failed" in result.stderr
    assert "hunter2" not in result.stderr and "Traceback" not in result.stderr
    assert time.monotonic() - start < 30


def test_a_database_without_the_schema_is_a_clear_error(tmp_path):
    result = oban("web", "--dsn", f"sqlite:///{tmp_path / 'empty.db'}")
    assert result.returncode == 1 and "the oban schema is not installed" in result.stderr
    assert "oban install" in result.stderr


def test_no_dsn_says_where_to_give_one(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "oban", "web"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("OBAN_")} | {"PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 2 and "no database given: pass --dsn, set OBAN_DSN" in result.stderr


def test_malformed_basic_auth_is_refused_without_echoing_it(tmp_path):
    result = oban("web", "--dsn", f"sqlite:///{tmp_path / 'x.db'}", env={"OBAN_WEB_BASIC_AUTH": "justapassword"})
    assert result.returncode == 2
    assert "$OBAN_WEB_BASIC_AUTH must look like USER:PASSWORD" in result.stderr and "justapassword" not in result.stderr
    flag = oban("web", "--dsn", f"sqlite:///{tmp_path / 'x.db'}", "--basic-auth", ":pw")
    assert flag.returncode == 2 and "--basic-auth must look like USER:PASSWORD" in flag.stderr


def test_a_bad_port_is_refused_naming_it():
    result = oban("web", "--dsn", "sqlite:///x.db", "--port", "99999")
    assert result.returncode == 2 and "must be a port number from 0 to 65535, got '99999'" in result.stderr


def test_the_help_says_how_to_keep_the_password_out_of_ps():
    result = oban("web", "--help")
    assert result.returncode == 0
    assert "OBAN_WEB_BASIC_AUTH" in result.stdout and "--read-only" in result.stdout


def test_without_the_web_extra_it_says_what_to_install(tmp_path):
    # Hide uvicorn, as an install without the extra would lack it
    code = (
        "import sys, importlib.abc\n"
        "class Hide(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('uvicorn', 'starlette'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        "from oban.cli import main\n"
        f"sys.exit(main(['web', '--dsn', 'sqlite:///{tmp_path / 'x.db'}']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "oban web needs starlette, uvicorn" in result.stderr and "pip install 'oban-sql[web]'" in result.stderr


@pytest.mark.engines("sqlite")
def test_a_port_in_use_is_a_clear_error(engine, oban_engine_factory):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = oban("web", "--dsn", oban_engine_factory.dsn, "--port", port)
    assert result.returncode == 1 and f"oban: could not listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
