"""SyncClient: oban from blocking code (views in thread pools, scripts), on every engine."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from oban import Job, JobState, Oban, SyncClient, UniqueOptions
from oban.errors import EventLoopRunningError
from oban.testing import mode
from oban.testing.conformance._helpers import eventually
from tests import support

ECHO = "tests.workers.Echo"


def _job(**fields: Any) -> Job:
    fields.setdefault("worker", ECHO)
    return Job(**fields)


@pytest.fixture
def database(engine_name: str, tmp_path: Path) -> Iterator[str]:
    """A fresh database with the schema installed, made and dropped without an event loop of ours."""

    async def create() -> str:
        name = await support.create_database(engine_name, tmp_path)
        engine = support.build_engine(engine_name, name)
        await engine.migrate()
        await engine.close()
        return name

    name = asyncio.run(create())
    try:
        yield name
    finally:
        asyncio.run(support.drop_database(engine_name, name))


@pytest.fixture
def client(engine_name: str, database: str) -> Iterator[SyncClient]:
    with SyncClient(support.build_engine(engine_name, database)) as client:
        yield client


def _run_until_done(engine_name: str, database: str, job: Job) -> Job:
    """Run a node with the default queue until ``job`` has completed; return it as stored."""

    async def run() -> Job:
        node_engine = support.build_engine(engine_name, database)
        async with Oban(node_engine, queues={"default": 2}, stage_interval=0.05) as node:

            async def done() -> bool:
                stored = await node.get_job(job)
                return stored is not None and stored.state is JobState.COMPLETED

            await eventually(done)
            stored = await node.get_job(job)
            assert stored is not None
            return stored

    return asyncio.run(run())


# -- calls, again and again ------------------------------------------------------------------------


def test_every_call_works_again_and_again(client: SyncClient) -> None:
    for n in range(5):
        job = client.enqueue(_job(args={"n": n}))
        stored = client.get_job(job)
        assert stored is not None and stored.args == {"n": n}
        assert [found.args["n"] for found in client.list_jobs()] == list(reversed(range(n + 1)))


def test_a_dsn_or_an_oban_works_as_well(engine_name: str, database: str) -> None:
    with SyncClient(support.engine_dsn(engine_name, database)) as by_dsn:
        first = by_dsn.enqueue(_job())
    with SyncClient(Oban(support.build_engine(engine_name, database))) as by_oban:
        second = by_oban.enqueue(_job())
        assert [job.id for job in by_oban.list_jobs()] == [second.id, first.id]


def test_the_client_does_not_take_over_the_registered_oban(engine_name: str, database: str) -> None:
    mine = Oban(support.build_engine(engine_name, database), name="sync-registry")
    with SyncClient(support.build_engine(engine_name, database), name="sync-registry"):
        assert Oban.get_instance("sync-registry") is mine


def test_calls_work_again_after_close(client: SyncClient) -> None:
    first = client.enqueue(_job())
    client.close()
    client.close()
    second = client.enqueue(_job())
    assert [job.id for job in client.list_jobs()] == [second.id, first.id]


def test_asyncio_run_per_call_with_the_async_api(engine_name: str, database: str) -> None:
    # The issue this client answers: one Oban, asyncio.run per request, on every engine.
    oban = Oban(support.build_engine(engine_name, database))
    ids = [job_id for n in range(3) if (job_id := asyncio.run(oban.enqueue(_job(args={"n": n}))).id) is not None]
    assert len(ids) == 3
    for job_id in ids:
        assert asyncio.run(oban.get_job(job_id)) is not None
    assert [job.id for job in asyncio.run(oban.list_jobs())] == list(reversed(ids))
    asyncio.run(oban.stop())


def test_enqueued_jobs_run(engine_name: str, database: str, client: SyncClient) -> None:
    job = client.enqueue(_job(args={"tag": "sync"}))
    assert _run_until_done(engine_name, database, job).attempt == 1


# -- threads ---------------------------------------------------------------------------------------


def test_eight_threads_enqueue_at_once_without_losing_or_repeating_a_job(client: SyncClient) -> None:
    threads, per_thread = 8, 50
    start = threading.Barrier(threads)
    ids: list[list[int]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []

    def enqueue_all(t: int) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                job = client.enqueue(_job(args={"t": t, "n": n}))
                assert job.id is not None
                ids[t].append(job.id)
        except BaseException as error:
            errors.append(error)

    workers = [threading.Thread(target=enqueue_all, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert errors == []
    returned = [job_id for chunk in ids for job_id in chunk]
    assert len(returned) == len(set(returned)) == threads * per_thread
    stored = client.list_jobs(limit=10_000)
    assert sorted(job.id for job in stored if job.id is not None) == sorted(returned)
    assert sorted((job.args["t"], job.args["n"]) for job in stored) == [
        (t, n) for t in range(threads) for n in range(per_thread)
    ]


# -- every method ----------------------------------------------------------------------------------


def test_enqueue_many_takes_jobs_and_lists_of_jobs(client: SyncClient) -> None:
    stored = client.enqueue_many(_job(args={"n": 0}), [_job(args={"n": 1}), _job(args={"n": 2})])
    assert [job.args["n"] for job in stored] == [0, 1, 2]
    assert all(job.id is not None for job in stored)
    assert client.enqueue_many() == []
    with pytest.raises(ValueError, match="enqueue_many takes Job objects"):
        client.enqueue_many("not a job")  # type: ignore[arg-type]


def test_get_list_and_count(client: SyncClient) -> None:
    mail = client.enqueue(_job(queue="mail"))
    other = client.enqueue(_job(worker="tests.workers.Noop", scheduled_at=None))
    by_id, by_job = client.get_job(mail.id or 0), client.get_job(mail)
    assert by_id is not None and by_job is not None and by_id.id == by_job.id == mail.id
    assert client.get_job(10**9) is None
    assert [job.id for job in client.list_jobs(queue="mail")] == [mail.id]
    assert [job.id for job in client.list_jobs(worker="tests.workers.Noop")] == [other.id]
    assert [job.id for job in client.list_jobs(state="available", limit=1)] == [other.id]
    assert client.count_jobs() == {("mail", JobState.AVAILABLE): 1, ("default", JobState.AVAILABLE): 1}
    assert [job.id for job in client.list_jobs(search="tests.workers.noop")] == [other.id]
    assert [job.id for job in client.list_jobs(before_id=other.id)] == [mail.id]


def test_job_activity_counts_what_finished(client: SyncClient) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    first, second = client.enqueue_many([_job(), _job()])
    assert client.job_activity(since=since) == []
    assert client.cancel_many_jobs([first, second]) == 2
    [activity] = client.job_activity(since=since, bucket=3600)
    assert (activity.queue, activity.state, activity.count) == ("default", JobState.CANCELLED, 2)
    assert activity.at <= datetime.now(UTC)


def test_cancel_retry_and_delete(client: SyncClient) -> None:
    a, b, c = client.enqueue_many([_job(), _job(), _job()])
    assert client.cancel_job(a) == 1
    assert client.cancel_many_jobs([b, c.id or 0]) == 2
    assert {job.state for job in client.list_jobs()} == {JobState.CANCELLED}
    assert client.retry_job(a) == 1
    assert client.retry_many_jobs(job for job in (b, c)) == 2
    assert {job.state for job in client.list_jobs()} == {JobState.AVAILABLE}
    assert client.delete_job(a) == 1
    assert client.delete_many_jobs([b, c]) == 2
    assert client.list_jobs() == []


def test_update_with_a_dict_or_a_callable(client: SyncClient) -> None:
    a, b = client.enqueue_many([_job(priority=1), _job(priority=2)])
    assert client.update_job(a, {"tags": ["x"]}).tags == ["x"]
    updated = client.update_many_jobs([a, b], lambda job: {"priority": job.priority + 1})
    assert [job.priority for job in updated] == [2, 3]
    with pytest.raises(ValueError, match="Job with id 999999 not found"):
        client.update_job(999_999, {"priority": 0})


def test_bad_input_raises_what_the_async_api_raises(client: SyncClient) -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        client.enqueue(_job(max_attempts=0))
    with pytest.raises(ValueError, match="job must be a stored Job or an integer id"):
        client.get_job("7")  # type: ignore[arg-type]
    assert client.list_jobs() == []


def test_the_inline_testing_mode_of_the_caller_applies(client: SyncClient) -> None:
    with mode("inline"):
        ran = client.enqueue(_job(args={"tag": "inline"}))
    assert ran.state is JobState.COMPLETED
    assert client.list_jobs() == []


# -- inside an event loop --------------------------------------------------------------------------


def test_a_call_inside_a_running_loop_is_refused(client: SyncClient) -> None:
    async def view() -> None:
        client.enqueue(_job())

    with pytest.raises(EventLoopRunningError, match=r"SyncClient\.enqueue\(\) blocks.*await oban\.enqueue\("):
        asyncio.run(view())

    async def transactional_view() -> None:
        client.enqueue_many([_job()], conn=object())

    with pytest.raises(EventLoopRunningError, match=r"await oban\.enqueue_many\("):
        asyncio.run(transactional_view())
    assert isinstance(EventLoopRunningError("x"), RuntimeError)
    assert client.list_jobs() == []


# -- transactional enqueue through the application's own connection ------------------------------


def _open(engine_name: str, database: str, **options: Any) -> Any:
    """The application's own blocking connection: sqlite3, psycopg 3 or PyMySQL."""
    if engine_name == "sqlite":
        return sqlite3.connect(database, **options)
    if engine_name == "postgres":
        import psycopg

        return psycopg.connect(support.with_database(support.POSTGRES_DSN, support.POSTGRES_TEST_DATABASE), **options)
    pymysql = pytest.importorskip("pymysql")
    server = urlparse(support.MYSQL_DSN)
    return pymysql.connect(
        host=server.hostname, port=server.port or 3306, user=server.username, database=database, **options
    )


@pytest.fixture
def app_conn(engine_name: str, database: str) -> Iterator[Any]:
    conn = _open(engine_name, database)
    try:
        yield conn
    finally:
        conn.close()


def test_a_job_enqueued_in_a_committed_transaction_exists_and_runs(
    engine_name: str, database: str, client: SyncClient, app_conn: Any
) -> None:
    job = client.enqueue(_job(args={"tag": "tx"}), conn=app_conn)
    assert job.id is not None
    assert client.get_job(job) is None  # not committed yet: nobody else sees it
    app_conn.commit()
    stored = client.get_job(job)
    assert stored is not None and stored.args == {"tag": "tx"}
    assert _run_until_done(engine_name, database, job).state is JobState.COMPLETED


def test_a_job_enqueued_in_a_rolled_back_transaction_never_exists(client: SyncClient, app_conn: Any) -> None:
    jobs = client.enqueue_many([_job(), _job()], conn=app_conn.cursor())
    app_conn.rollback()
    assert [client.get_job(job) for job in jobs] == [None, None]
    assert client.list_jobs() == []


def test_the_jobs_share_the_transaction_with_the_applications_own_writes(
    engine_name: str, client: SyncClient, app_conn: Any
) -> None:
    cursor = app_conn.cursor()
    cursor.execute("CREATE TABLE IF NOT EXISTS sync_orders (n integer)")
    app_conn.commit()
    placeholder = "?" if engine_name == "sqlite" else "%s"
    cursor.execute(f"INSERT INTO sync_orders (n) VALUES ({placeholder})", (1,))
    kept = client.enqueue(_job(args={"order": 1}), conn=app_conn)
    app_conn.commit()
    cursor.execute(f"INSERT INTO sync_orders (n) VALUES ({placeholder})", (2,))
    dropped = client.enqueue(_job(args={"order": 2}), conn=cursor)
    app_conn.rollback()
    cursor.execute("SELECT n FROM sync_orders")
    assert [row[0] for row in cursor.fetchall()] == [1]
    assert client.get_job(kept) is not None and client.get_job(dropped) is None
    cursor.execute("DROP TABLE sync_orders")
    app_conn.commit()


def test_unique_jobs_through_the_connection_conflict_as_on_the_async_path(client: SyncClient, app_conn: Any) -> None:
    unique = UniqueOptions(period=60)
    first = client.enqueue(_job(args={"u": 1}, unique=unique))
    again = client.enqueue(_job(args={"u": 1}, unique=unique), conn=app_conn)
    fresh, twin = client.enqueue_many(
        [_job(args={"u": 2}, unique=unique), _job(args={"u": 2}, unique=unique)], conn=app_conn
    )
    # Distinct keys in one batch take one lookup for all: a duplicate of a stored job, a new one
    # and a plain one.
    old, new, plain = client.enqueue_many(
        [_job(args={"u": 1}, unique=unique), _job(args={"u": 3}, unique=unique), _job(args={"u": 4})], conn=app_conn
    )
    app_conn.commit()
    assert again.conflict and again.id == first.id
    assert not fresh.conflict and twin.conflict and twin.id == fresh.id
    assert old.conflict and old.id == first.id and not new.conflict and not plain.conflict
    assert {job.id for job in client.list_jobs()} == {first.id, fresh.id, new.id, plain.id}


def test_a_bad_job_through_the_connection_writes_nothing(client: SyncClient, app_conn: Any) -> None:
    with pytest.raises(ValueError, match="priority"):
        client.enqueue_many([_job(), _job(priority=99)], conn=app_conn)
    app_conn.commit()
    assert client.list_jobs() == []


@pytest.mark.engines("sqlite")
def test_an_autocommit_sqlite_connection_commits_the_jobs_at_once(database: str, client: SyncClient) -> None:
    conn = sqlite3.connect(database, isolation_level=None)
    try:
        job = client.enqueue(_job(), conn=conn)
        assert not conn.in_transaction
        assert client.get_job(job) is not None
    finally:
        conn.close()


def test_a_connection_the_engine_cannot_use_is_refused_by_name(engine_name: str, client: SyncClient) -> None:
    engine, wanted = {
        "sqlite": ("LiteEngine", "sqlite3.Connection"),
        "postgres": ("PostgresEngine", "psycopg 3 connection"),
        "mysql": ("MySQLEngine", "PyMySQL connection"),
    }[engine_name]
    with pytest.raises(TypeError, match=rf"{engine} inserts through a {wanted}.*got builtins\.object"):
        client.enqueue(_job(), conn=object())
    assert client.list_jobs() == []


def test_an_engine_without_blocking_inserts_refuses_a_connection() -> None:
    from oban_memory import MemoryEngine

    with SyncClient(MemoryEngine()) as client:
        with pytest.raises(TypeError, match=r"MemoryEngine cannot insert jobs through a blocking builtins\.object"):
            client.enqueue(_job(), conn=object())
        assert client.list_jobs() == []


@pytest.mark.engines("mysql")
def test_an_autocommit_pymysql_connection_commits_the_jobs_at_once(database: str, client: SyncClient) -> None:
    conn = _open("mysql", database, autocommit=True)
    try:
        job = client.enqueue(_job(), conn=conn)
        assert client.get_job(job) is not None
    finally:
        conn.close()


@pytest.mark.engines("postgres")
def test_an_autocommit_psycopg_connection_commits_the_jobs_at_once(client: SyncClient) -> None:
    import psycopg

    dsn = support.with_database(support.POSTGRES_DSN, support.POSTGRES_TEST_DATABASE)
    with psycopg.connect(dsn, autocommit=True) as conn:
        job = client.enqueue(_job(), conn=conn)
        assert client.get_job(job) is not None


_DJANGO_VIEW = """
import sys
from urllib.parse import urlparse

import django
from django.conf import settings

dsn, prefix = urlparse(sys.argv[1]), sys.argv[2]
settings.configure(DATABASES={"default": {
    "ENGINE": "django.db.backends.postgresql", "HOST": dsn.hostname, "PORT": dsn.port,
    "USER": dsn.username, "NAME": dsn.path.lstrip("/"),
}})
django.setup()
from django.db import connection, transaction

from oban import Job, SyncClient
from oban.engines.postgres import PostgresEngine

with SyncClient(PostgresEngine(sys.argv[1], prefix=prefix)) as client:
    with transaction.atomic():
        kept = client.enqueue(Job(worker="tests.workers.Echo", args={"view": "kept"}), conn=connection)
    try:
        with transaction.atomic():
            client.enqueue(Job(worker="tests.workers.Echo", args={"view": "dropped"}), conn=connection)
            raise LookupError("the view failed")
    except LookupError:
        pass
    outside = client.enqueue(Job(worker="tests.workers.Echo", args={"view": "autocommit"}), conn=connection)
print(kept.id, outside.id)
"""


@pytest.mark.engines("postgres")
def test_a_django_atomic_block_enqueues_atomically(database: str, client: SyncClient) -> None:
    import subprocess
    import sys

    pytest.importorskip("django")
    dsn = support.with_database(support.POSTGRES_DSN, support.POSTGRES_TEST_DATABASE)
    # A process of its own: Django's settings are process-wide.
    done = subprocess.run(
        [sys.executable, "-c", _DJANGO_VIEW, dsn, database], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    kept, outside = (int(text) for text in done.stdout.split())
    assert sorted(job.args["view"] for job in client.list_jobs()) == ["autocommit", "kept"]
    assert {job.id for job in client.list_jobs()} == {kept, outside}


@pytest.mark.engines("postgres")
def test_a_sqlalchemy_transaction_enqueues_atomically(client: SyncClient) -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    dsn = support.with_database(support.POSTGRES_DSN, support.POSTGRES_TEST_DATABASE)
    engine = sqlalchemy.create_engine(dsn.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as connection:  # commits at the end of the block
            kept = client.enqueue(_job(args={"orm": "kept"}), conn=connection.connection)
        with pytest.raises(LookupError), engine.begin() as connection:
            client.enqueue(_job(args={"orm": "dropped"}), conn=connection.connection)
            raise LookupError("rolled back")
        raw = engine.raw_connection()
        try:
            raw_kept = client.enqueue(_job(args={"orm": "raw"}), conn=raw)
            raw.commit()
        finally:
            raw.close()
    finally:
        engine.dispose()
    assert {job.id for job in client.list_jobs()} == {kept.id, raw_kept.id}


def _enqueue_in_child(client: SyncClient, marker: str) -> None:
    job = client.enqueue(_job(args={"process": marker}))
    assert client.get_job(job) is not None


def test_a_forked_child_gets_a_loop_and_connections_of_its_own(client: SyncClient) -> None:
    import multiprocessing

    # Given a client already in use (gunicorn --preload builds it before forking workers),
    client.enqueue(_job(args={"process": "parent"}))
    # when a forked child uses it, then the parent again,
    child = multiprocessing.get_context("fork").Process(target=_enqueue_in_child, args=(client, "child"))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    client.enqueue(_job(args={"process": "parent again"}))
    # then every call worked, in both processes, and the parent's connections were left alone.
    assert sorted(job.args["process"] for job in client.list_jobs()) == ["child", "parent", "parent again"]


@pytest.mark.engines("sqlite")
def test_a_new_sqlite_file_gets_its_schema_before_the_first_transactional_enqueue(tmp_path: Path) -> None:
    from oban.engines import LiteEngine

    path = str(tmp_path / "fresh.db")
    conn = sqlite3.connect(path)
    try:
        with SyncClient(LiteEngine(path)) as client:
            job = client.enqueue(_job(), conn=conn)
            conn.commit()
            assert client.get_job(job) is not None
    finally:
        conn.close()


def test_concurrent_transactions_enqueueing_one_unique_job_store_it_once(
    engine_name: str, database: str, client: SyncClient
) -> None:
    # Given four threads, each with a connection of its own, as request threads have,
    threads = 4
    start = threading.Barrier(threads)
    results: list[Job] = []
    errors: list[BaseException] = []

    def request() -> None:
        conn = _open(engine_name, database)
        try:
            start.wait()
            # when each enqueues the same unique job in its transaction and commits,
            results.append(client.enqueue(_job(args={"report": 1}, unique=UniqueOptions(period=60)), conn=conn))
            conn.commit()
        except BaseException as error:
            errors.append(error)
        finally:
            conn.close()

    workers = [threading.Thread(target=request) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    # then one of them inserted it and the others found it.
    assert errors == []
    assert sorted(job.conflict for job in results) == [False] + [True] * (threads - 1)
    assert len({job.id for job in results}) == 1
    assert [job.id for job in client.list_jobs()] == [results[0].id]
