"""Hostile and broken input: clear errors, nothing half-written, nothing interpreted as SQL."""

from __future__ import annotations

from typing import Any

import pytest

from ..._time import utcnow
from ...engines.protocol import Engine
from ...job import JobState
from ._helpers import claim, insert, new_job, reload

HOSTILE = "q'; DROP TABLE oban_jobs; --\"`\\"


@pytest.mark.asyncio
class TestBadInput:
    async def test_args_that_cannot_be_encoded_raise_naming_the_field(self, oban_engine: Engine) -> None:
        job = new_job(args={"when": {1, 2}})
        with pytest.raises(ValueError, match="args"):
            await oban_engine.insert_jobs([job])
        assert await oban_engine.list_jobs() == []

    async def test_integers_beyond_64_bits_are_rejected_not_truncated(self, oban_engine: Engine) -> None:
        with pytest.raises(ValueError, match="meta"):
            await oban_engine.insert_jobs([new_job(meta={"huge": 2**70})])
        assert await oban_engine.list_jobs() == []

    @pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")], ids=["nan", "inf", "-inf"])
    async def test_nan_and_infinity_are_refused_not_stored_as_null(self, oban_engine: Engine, value: float) -> None:
        with pytest.raises(ValueError, match="args"):
            await oban_engine.insert_jobs([new_job(args={"ok": 1, "x": [1, value]})])
        with pytest.raises(ValueError, match="meta"):
            await oban_engine.insert_jobs([new_job(meta={"x": value})])
        assert await oban_engine.list_jobs() == []

    async def test_non_string_keys_are_refused_not_turned_into_strings(self, oban_engine: Engine) -> None:
        with pytest.raises(ValueError, match="args"):
            await oban_engine.insert_jobs([new_job(args={1: "one"})])
        with pytest.raises(ValueError, match="meta"):
            await oban_engine.insert_jobs([new_job(meta={"nested": {(1, 2): "pair"}})])
        assert await oban_engine.list_jobs() == []

    @pytest.mark.parametrize("field", ["args", "meta", "args key"])
    async def test_nul_characters_in_json_are_refused(self, oban_engine: Engine, field: str) -> None:
        values: dict[str, dict[str, Any]] = {
            "args": {"args": {"text": "a\x00b"}},
            "meta": {"meta": {"text": "a\x00b"}},
            "args key": {"args": {"a\x00b": 1}},
        }
        with pytest.raises(ValueError, match=field.split()[0]):
            await oban_engine.insert_jobs([new_job(**values[field])])
        assert await oban_engine.list_jobs() == []

    @pytest.mark.parametrize("field", ["queue", "worker", "tags"])
    async def test_nul_characters_in_names_and_tags_are_refused_even_when_set_by_hand(
        self, oban_engine: Engine, field: str
    ) -> None:
        value = ["a\x00b"] if field == "tags" else "a\x00b"
        with pytest.raises(ValueError, match=field):
            new_job(**{field: value})
        job = new_job()
        setattr(job, field, value)  # past the constructor's checks: the oban_engine checks again
        with pytest.raises(ValueError, match=field):
            await oban_engine.insert_jobs([job])
        assert await oban_engine.list_jobs() == []

    async def test_max_attempts_beyond_32_bits_is_refused_even_when_set_by_hand(self, oban_engine: Engine) -> None:
        with pytest.raises(ValueError, match=r"max_attempts.*1099511627776"):
            new_job(max_attempts=2**40)
        job = new_job()
        job.max_attempts = 2**40
        with pytest.raises(ValueError, match=r"max_attempts.*1099511627776"):
            await oban_engine.insert_jobs([job])
        assert await oban_engine.list_jobs() == []

    async def test_args_nested_too_deep_are_refused_with_a_readable_error(self, oban_engine: Engine) -> None:
        deep: dict[str, Any] = {}
        node = deep
        for _ in range(10_000):
            node["a"] = {}
            node = node["a"]
        with pytest.raises(ValueError, match="args") as raised:
            await oban_engine.insert_jobs([new_job(args=deep)])
        assert len(str(raised.value)) < 1000
        assert await oban_engine.list_jobs() == []

    async def test_queue_and_worker_names_are_data_not_sql(self, oban_engine: Engine) -> None:
        job = await insert(
            oban_engine, queue=HOSTILE, worker=HOSTILE + ".Worker", args={HOSTILE: HOSTILE}, tags=[HOSTILE]
        )
        [claimed] = await claim(oban_engine, queue=HOSTILE)
        assert claimed.id == job.id
        stored = await reload(oban_engine, job)
        assert stored.queue == HOSTILE and stored.worker == HOSTILE + ".Worker"
        assert stored.args == {HOSTILE: HOSTILE} and stored.state is JobState.EXECUTING
        assert [j.id for j in await oban_engine.list_jobs(queue=HOSTILE, worker=HOSTILE + ".Worker")] == [job.id]

    async def test_empty_id_lists_change_nothing(self, oban_engine: Engine) -> None:
        await insert(oban_engine)
        assert await oban_engine.retry_jobs([], utcnow()) == 0
        assert await oban_engine.delete_jobs([]) == 0
        assert await oban_engine.update_jobs([], lambda job: job) == []
        assert len(await oban_engine.list_jobs()) == 1

    async def test_an_empty_insert_returns_nothing(self, oban_engine: Engine) -> None:
        assert await oban_engine.insert_jobs([]) == []
