"""Recorded values are stored as oban-py and Oban Pro store them: an Erlang term, base64."""

from __future__ import annotations

import base64
import zlib

import pytest

from oban import JobState, Oban, Record
from oban._etf import decode, decode_recorded, encode, encode_recorded
from tests import workers
from tests.support import wait_until

VALUES = [
    None,
    True,
    False,
    0,
    255,
    256,
    -1,
    2**31 - 1,
    -(2**31),
    2**31,
    2**64,
    -(2**200),
    1.5,
    -0.25,
    "",
    "héllo ✓",
    [],
    [1, [2, [3]]],
    {},
    {"a": None, "b": 1},
    {"nested": {"k": [{"z": False}]}},
    (1, "two"),
    b"\xff\x00",
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_values_round_trip(value):
    assert decode_recorded(encode_recorded(value)) == value


def test_the_encoding_is_erlangs_term_to_binary():
    # term_to_binary(%{"a" => 1}) is <<131, 116, 0, 0, 0, 1, 109, 0, 0, 0, 1, "a", 97, 1>>.
    assert encode({"a": 1}) == bytes([131, 116, 0, 0, 0, 1, 109, 0, 0, 0, 1, 97, 97, 1])
    assert encode_recorded({"a": 1}) == "g3QAAAABbQAAAAFhYQE"  # base64, padding stripped as oban-py does


def test_terms_elixir_writes_decode_too():
    # %{ok: [1, 2, 3]}: an atom key and a charlist (STRING_EXT), as term_to_binary writes them.
    term = bytes([131, 116, 0, 0, 0, 1, 119, 2]) + b"ok" + bytes([107, 0, 3, 1, 2, 3])
    assert decode(term) == {"ok": [1, 2, 3]}
    # The compressed form (term_to_binary(value, [:compressed])).
    body = encode(["x" * 100])[1:]
    compressed = bytes([131, 80]) + len(body).to_bytes(4, "big") + zlib.compress(body)
    assert decode(compressed) == ["x" * 100]


def test_what_cannot_be_stored_or_read_is_named():
    with pytest.raises(ValueError, match=r"recorded value\['s'\] cannot be stored: set"):
        encode({"s": {1}})
    with pytest.raises(ValueError, match="not an Erlang term"):
        decode(b"{}")
    with pytest.raises(ValueError, match="not a whole Erlang term"):
        decode(encode([1, 2])[:-2])


def test_values_written_by_oban_pys_erlpack_read_back_and_the_reverse():
    erlpack = pytest.importorskip("erlpack")  # in the dev extra; the library oban-py records with
    for value in [{"a": [1, None, True, 2.5, "x", 2**40, -5, 300]}, "plain", [], {"k": {"n": False}}]:
        theirs = base64.b64encode(erlpack.pack(value)).decode().rstrip("=")
        assert decode_recorded(theirs) == value
        unpacked = erlpack.unpack(base64.b64decode(encode_recorded(value) + "=" * (-len(encode_recorded(value)) % 4)))
        assert _strings(unpacked) == value


def _strings(value):  # type: ignore[no-untyped-def]
    """erlpack reads binaries as bytes; oban-py turns them into str, as this does."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, dict):
        return {_strings(k): _strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strings(v) for v in value]
    return value


async def test_a_recorded_job_stores_the_term_and_reads_back_its_value(engine):
    oban = Oban(engine, queues={"default": 1}, stage_interval=0.1)
    job = await oban.enqueue(workers.Returns.new({"kind": "record", "rows": 4}))
    await oban.start()
    try:

        async def completed() -> bool:
            return (await oban.get_job(job)).state is JobState.COMPLETED

        await wait_until(completed)
    finally:
        await oban.stop()
    stored = await oban.get_job(job)
    assert stored.meta["recorded"] is True and stored.meta["return"] == Record({"rows": 4}).encoded
    assert stored.recorded == {"rows": 4}


async def test_a_value_another_implementation_recorded_reads_back(engine):
    """A row as oban-py or Oban Pro leaves it on a shared database: meta.return holds the term."""
    oban = Oban(engine)
    [job] = await oban.enqueue_many(workers.Noop.new({}))
    written = "g3QAAAACbQAAAAVjb3VudGEqbQAAAARuYW1lbQAAAANhYmM"  # %{"count" => 42, "name" => "abc"}
    await oban.update_job(job, {"meta": {"recorded": True, "return": written}})
    assert (await oban.get_job(job)).recorded == {"count": 42, "name": "abc"}
    await oban.stop()
