"""``oban check``: database reachable, schema version, nodes alive; exit 1 when unhealthy. On every engine."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from oban.engines.protocol import Engine
from tests.support import wait_until

SCRIPT = Path(sys.executable).with_name("oban")


async def check(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``oban check ARGS`` through the console script, with no ``OBAN_*`` variable inherited."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OBAN_")}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SCRIPT), "check", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
        )

    return await asyncio.to_thread(run)


def lines(result: subprocess.CompletedProcess[str]) -> dict[str, tuple[str, str]]:
    """``{check: (status, detail)}`` from the report."""
    found = {}
    for line in result.stdout.splitlines():
        status, name, detail = line.split(maxsplit=2)
        found[name] = (status, detail)
    return found


async def alive_nodes(engine: Engine) -> list[str]:
    from oban._time import utcnow

    now = utcnow()
    return sorted({record.node for record in await engine.list_producers() if record.alive(now)})


@pytest.fixture
async def node(oban_engine_factory, tmp_path):
    """A node started with ``oban start`` on the test's database (schema installed); yields the DSN."""
    engine = await oban_engine_factory()
    dsn = oban_engine_factory.dsn
    process = await asyncio.create_subprocess_exec(
        str(SCRIPT),
        "start",
        "--dsn",
        dsn,
        "--queues",
        "default:2,mailers:1",
        "--node",
        "check-node",
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await wait_until(lambda: _beating(engine, process), within=60, interval=0.1)
        yield dsn, engine, process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.communicate(), 60)


async def _beating(engine: Engine, process: asyncio.subprocess.Process) -> bool:
    if process.returncode is not None:
        _, err = await process.communicate()
        raise AssertionError(f"oban start exited {process.returncode}: {err.decode()}")
    return await alive_nodes(engine) == ["check-node"]


async def test_a_healthy_instance_passes_every_check_and_exits_0(node, tmp_path):
    dsn, engine, _process = node
    result = await check("--dsn", dsn, "--require-nodes", "1", cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    report = lines(result)
    latest = engine.latest_schema_version
    assert list(report) == ["database", "schema", "nodes"]
    assert report["database"] == ("ok", f"{engine.dsn} reachable")
    assert report["schema"] == ("ok", f"version {latest} installed, {latest} needed")
    assert report["nodes"] == ("ok", "1 alive for 'oban': check-node (default, mailers)")

    document = json.loads((await check("--dsn", dsn, "--json", cwd=tmp_path)).stdout)
    assert document["healthy"] is True and document["name"] == "oban"
    assert [(c["check"], c["status"]) for c in document["checks"]] == [
        ("database", "ok"),
        ("schema", "ok"),
        ("nodes", "ok"),
    ]
    assert document["checks"][1]["installed"] == document["checks"][1]["needed"] == latest
    assert document["checks"][2]["alive"] == ["check-node"]


async def test_require_nodes_fails_once_the_node_has_stopped(node, tmp_path):
    dsn, engine, process = node
    process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0
    assert await alive_nodes(engine) == []  # a stopping node retires its producers

    required = await check("--dsn", dsn, "--require-nodes", "1", cwd=tmp_path)
    reported_only = await check("--dsn", dsn, cwd=tmp_path)

    assert required.returncode == 1
    assert lines(required)["nodes"] == ("FAIL", "0 alive for 'oban', at least 1 required")
    assert reported_only.returncode == 0
    assert lines(reported_only)["nodes"] == ("ok", "0 alive for 'oban' (none required)")


async def test_another_instance_name_sees_none_of_this_ones_nodes(node, tmp_path):
    dsn, _engine, _process = node
    result = await check("--dsn", dsn, "--name", "elsewhere", "--require-nodes", "1", cwd=tmp_path)
    assert result.returncode == 1
    assert lines(result)["nodes"] == ("FAIL", "0 alive for 'elsewhere', at least 1 required")


async def test_a_database_without_the_schema_is_unhealthy(oban_engine_factory, tmp_path):
    engine = await oban_engine_factory(install=False)
    result = await check("--dsn", oban_engine_factory.dsn, cwd=tmp_path)

    assert result.returncode == 1
    report = lines(result)
    assert report["database"][0] == "ok"
    assert report["schema"] == (
        "FAIL",
        f"not installed, version {engine.latest_schema_version} needed: run oban install",
    )
    assert report["nodes"] == ("skip", "not checked: no schema")


async def test_a_schema_older_than_needed_is_unhealthy(oban_engine_factory, tmp_path):
    engine = await oban_engine_factory(install=False)
    latest = engine.latest_schema_version
    if latest < 2:
        pytest.skip("this engine has a single schema version")
    await engine.migrate(latest - 1)
    result = await check("--dsn", oban_engine_factory.dsn, cwd=tmp_path)

    assert result.returncode == 1
    assert lines(result)["schema"] == ("FAIL", f"version {latest - 1} installed, {latest} needed: run oban migrate")


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://app:s3cr3t-pw@127.0.0.1:1/app",
        "mysql://root:s3cr3t-pw@127.0.0.1:1/app",
        "sqlite:///{tmp}/no/such/folder/jobs.db",
    ],
)
async def test_an_unreachable_database_fails_with_the_masked_dsn(dsn, tmp_path):
    result = await check("--dsn", dsn.format(tmp=tmp_path), "--json", cwd=tmp_path)
    text = await check("--dsn", dsn.format(tmp=tmp_path), cwd=tmp_path)

    assert result.returncode == 1 and text.returncode == 1
    document = json.loads(result.stdout)
    assert document["healthy"] is False
    assert [(c["check"], c["status"]) for c in document["checks"]] == [
        ("database", "fail"),
        ("schema", "skip"),
        ("nodes", "skip"),
    ]
    status, detail = lines(text)["database"]
    assert status == "FAIL" and "unreachable" in detail
    if "s3cr3t-pw" in dsn:
        assert ":***@127.0.0.1:1/app" in detail
    assert "s3cr3t-pw" not in result.stdout + result.stderr + text.stdout + text.stderr


async def test_a_missing_dsn_is_a_usage_error(tmp_path):
    result = await check(cwd=tmp_path)
    assert result.returncode == 2 and "no database given: pass --dsn, set OBAN_DSN" in result.stderr
