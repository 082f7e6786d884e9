"""``oban jobs|queues|nodes`` and ``oban start``'s log lines, run as a user would, on every engine."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from oban import JobState, Oban
from tests import workers
from tests.support import wait_until

ROOT = Path(__file__).resolve().parent.parent


async def cli(*args: str) -> subprocess.CompletedProcess[str]:
    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "oban", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
        )

    return await asyncio.to_thread(run)


async def cli_json(*args: str) -> object:
    result = await cli(*args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
async def cluster(engine, oban_engine_factory):
    """A running node (queue default, limit 5) that ran a completed, a discarded and a recorded job;
    plus a scheduled job; yields (oban, dsn, jobs by name)."""
    oban = Oban(engine, queues={"default": 5}, stage_interval=0.1, heartbeat_interval=0.5)
    jobs = {
        "completed": await oban.enqueue(workers.Noop.new({})),
        "discarded": await oban.enqueue(workers.AlwaysFails.new({"n": 7}, max_attempts=1)),
        "recorded": await oban.enqueue(workers.Returns.new({"kind": "record", "rows": 4})),
        "scheduled": await oban.enqueue(workers.Noop.new({}, queue="later", schedule_in=3600)),
    }
    await oban.start()

    async def settled() -> bool:
        states = {job.id: job.state for job in await oban.list_jobs()}
        return (states[jobs["completed"].id], states[jobs["discarded"].id], states[jobs["recorded"].id]) == (
            JobState.COMPLETED,
            JobState.DISCARDED,
            JobState.COMPLETED,
        ) and bool(await oban.cluster_queues())

    await wait_until(settled)
    yield oban, oban_engine_factory.dsn, jobs
    await oban.stop()


async def test_jobs_list_filters_and_prints_a_table_or_json(cluster):
    _oban, dsn, jobs = cluster
    table = await cli("jobs", "list", "--dsn", dsn)
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["ID", "STATE", "QUEUE", "WORKER", "ATTEMPT", "AT", "ERRORS"]
    assert [int(row.split()[0]) for row in rows] == sorted((job.id for job in jobs.values()), reverse=True)
    [discarded] = [row.split() for row in rows if int(row.split()[0]) == jobs["discarded"].id]
    assert discarded[1:5] == ["discarded", "default", "tests.workers.AlwaysFails", "1/1"] and discarded[-1] == "1"

    listed = await cli_json("jobs", "list", "--dsn", dsn, "--state", "completed")
    assert sorted(job["id"] for job in listed) == sorted([jobs["completed"].id, jobs["recorded"].id])
    assert [job["id"] for job in await cli_json("jobs", "list", "--dsn", dsn, "--queue", "later")] == [
        jobs["scheduled"].id
    ]
    by_worker = await cli_json("jobs", "list", "--dsn", dsn, "--worker", "tests.workers.Returns")
    assert [job["recorded"] for job in by_worker] == [{"rows": 4}]
    assert len(await cli_json("jobs", "list", "--dsn", dsn, "--limit", "2")) == 2
    assert (await cli("jobs", "list", "--dsn", dsn, "--state", "retryable")).stdout.strip() == "no jobs"


async def test_jobs_show_prints_args_attempts_and_errors_with_tracebacks(cluster):
    _oban, dsn, jobs = cluster
    shown = await cli("jobs", "show", str(jobs["discarded"].id), "--dsn", dsn)
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert f"job {jobs['discarded'].id}: tests.workers.AlwaysFails" in text
    assert "state        discarded" in text and "attempt      1 of 1" in text and 'args         {"n":7}' in text
    assert "raise ValueError" in text and "ValueError: bad input 7" in text
    recorded = await cli("jobs", "show", str(jobs["recorded"].id), "--dsn", dsn)
    assert 'recorded     {"rows":4}' in recorded.stdout
    document = await cli_json("jobs", "show", str(jobs["discarded"].id), "--dsn", dsn)
    assert document["state"] == "discarded" and "bad input 7" in document["errors"][0]["error"]
    missing = await cli("jobs", "show", "987654", "--dsn", dsn)
    assert missing.returncode == 1 and missing.stderr.strip() == "oban: no job with id 987654"


async def test_jobs_retry_cancel_and_delete_follow_the_api_rules(cluster):
    oban, dsn, jobs = cluster
    retried = await cli("jobs", "retry", str(jobs["discarded"].id), str(jobs["completed"].id), "--dsn", dsn)
    assert retried.returncode == 0 and retried.stdout.strip() == "retried 2 of 2 job(s)"
    await wait_until(lambda: _attempts(oban, jobs["discarded"].id, 2))  # it ran again, with one more attempt
    cancelled = await cli_json("jobs", "cancel", str(jobs["scheduled"].id), str(jobs["completed"].id), "--dsn", dsn)
    assert cancelled == {"cancelled": 1, "ids": [jobs["scheduled"].id, jobs["completed"].id]}
    assert (await oban.get_job(jobs["scheduled"].id)).state is JobState.CANCELLED
    deleted = await cli("jobs", "delete", str(jobs["scheduled"].id), "--dsn", dsn)
    assert deleted.stdout.strip() == "deleted 1 of 1 job(s)" and await oban.get_job(jobs["scheduled"].id) is None
    bad = await cli("jobs", "cancel", "x1", "--dsn", dsn)
    assert bad.returncode == 2 and "a job id is a positive integer, got 'x1'" in bad.stderr


async def _attempts(oban: Oban, job_id: int, attempts: int) -> bool:
    job = await oban.get_job(job_id)
    return job.attempt == attempts and job.state is JobState.DISCARDED


async def test_queues_shows_counts_by_state_and_each_nodes_limit(cluster):
    oban, dsn, _jobs = cluster
    queues = {doc["queue"]: doc for doc in await cli_json("queues", "--dsn", dsn)}
    assert queues["default"]["counts"]["completed"] == 2 and queues["default"]["counts"]["discarded"] == 1
    assert queues["later"]["counts"]["scheduled"] == 1 and queues["later"]["nodes"] == []
    assert queues["default"]["nodes"] == [{"node": oban.node, "limit": 5, "paused": False, "running": 0}]
    table = (await cli("queues", "--dsn", dsn)).stdout.splitlines()
    assert table[0].split()[:3] == ["QUEUE", "AVAILABLE", "SCHEDULED"]
    default = next(line for line in table if line.startswith("default"))
    assert default.split()[1:8] == ["0", "0", "0", "0", "2", "1", "0"] and f"{oban.node}:5" in default


async def test_nodes_shows_each_heartbeating_node_and_its_queues(cluster):
    oban, dsn, _jobs = cluster
    [node] = await cli_json("nodes", "--dsn", dsn)
    assert node["node"] == oban.node and node["alive"] is True
    assert [(q["queue"], q["limit"]) for q in node["queues"]] == [("default", 5)]
    table = (await cli("nodes", "--dsn", dsn)).stdout.splitlines()
    assert table[1].split()[:3] == [oban.node, "alive", "default"]
    other = await cli("nodes", "--dsn", dsn, "--name", "elsewhere")
    assert other.stdout.strip() == "no nodes have heartbeated for 'elsewhere'"


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_start_logs_each_job_start_and_end_with_durations(engine, oban_engine_factory, log_format):
    oban = Oban(engine)
    done = await oban.enqueue(workers.Noop.new({}))
    failed = await oban.enqueue(workers.AlwaysFails.new({"n": 3}, max_attempts=1))
    node = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "oban",
        "start",
        "--dsn",
        oban_engine_factory.dsn,
        "--queues",
        "default:2",
        "--import",
        "tests.workers",
        "--log-format",
        log_format,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )

    async def finished() -> bool:
        states = {job.id: job.state for job in await oban.list_jobs()}
        return states[done.id] is JobState.COMPLETED and states[failed.id] is JobState.DISCARDED

    await wait_until(finished, within=60)
    await asyncio.sleep(0.3)
    node.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(node.communicate(), 60)
    await oban.stop()
    log = err.decode()
    assert node.returncode == 0, log
    if log_format == "text":
        assert f"job {done.id} tests.workers.Noop (queue default, attempt 1/20) started" in log
        assert f"job {done.id} tests.workers.Noop (queue default, attempt 1/20) completed in " in log
        assert f"job {failed.id} tests.workers.AlwaysFails (queue default, attempt 1/1) failed after " in log
        assert "is discarded, out of attempts: ValueError: bad input 3" in log and "raise ValueError" in log
        assert "queue default started on node" in log
        return
    lines = [json.loads(line) for line in log.splitlines()]
    events = {(line.get("event"), line.get("id")): line for line in lines if "event" in line}
    assert events[("oban.job.start", done.id)]["worker"] == "tests.workers.Noop"
    stop = events[("oban.job.stop", done.id)]
    assert stop["state"] == "completed" and stop["duration"] >= 0 and stop["args"] == {}
    exception = events[("oban.job.exception", failed.id)]
    assert exception["state"] == "discarded" and exception["error_message"] == "bad input 3"
    assert any(line.get("logger") == "oban.cli" and "running queues" in line["message"] for line in lines)
