"""JSON encoding that refuses what JSON or the databases cannot hold, naming the field at fault.

orjson quietly writes ``NaN`` and ``Infinity`` as ``null``, and PostgreSQL cannot store the NUL
character (``\\u0000``) in ``jsonb`` or ``text``; both are refused here, before anything is
written, the same way on every engine. Dict keys must be strings, integers must fit 64 bits and
nesting is capped (orjson's limit), so what is stored reads back exactly as it was given.
"""

from __future__ import annotations

import json
import math
import reprlib
from typing import Any

import orjson

_shown = reprlib.Repr()
_shown.maxlevel = 3
_shown.maxstring = 80
_shown.maxother = 80
_shown.maxdict = 8
_shown.maxlist = 8


def show(value: Any) -> str:
    """A short ``repr`` for error messages, safe on values nested too deep for ``repr``."""
    return _shown.repr(value)


class NotEncodableError(ValueError, TypeError):
    """A value JSON cannot encode: a ``ValueError`` naming the field, and a ``TypeError`` too
    (what ``json.dumps`` raises, and so what oban-py's helpers raise)."""


def encode(value: Any, field: str) -> str:
    """Encode ``value`` as JSON text or raise ``ValueError`` naming ``field`` and the value."""
    return encode_bytes(value, field).decode()


def encode_bytes(value: Any, field: str) -> bytes:
    """Encode ``value`` as JSON bytes (what ``encode`` returns, before decoding), or raise ``ValueError``."""
    try:
        data = orjson.dumps(value)
    except TypeError as error:  # orjson.JSONEncodeError
        raise NotEncodableError(f"{field} is not JSON-encodable ({error}): {show(value)}") from None
    # NaN and infinities come out as null and NUL as \u0000: look closer only when either shows.
    if b"null" in data or b"\\u0000" in data:
        _refuse_lossy(value, field, field)
    return data


def canonical_bytes(value: Any, field: str) -> bytes:
    """The encoding with every object's keys sorted: equal values give equal bytes."""
    encode_bytes(value, field)
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _refuse_lossy(value: Any, field: str, path: str) -> None:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{field} holds {value!r} at {path}, which JSON cannot represent")
    elif isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{field} holds a NUL character (\\u0000) at {path}: {show(value)}")
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and "\x00" in key:
                raise ValueError(f"{field} has a key with a NUL character (\\u0000) at {path}: {show(key)}")
            _refuse_lossy(item, field, f"{path}[{key!r}]")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _refuse_lossy(item, field, f"{path}[{index}]")


def decode(text: str | bytes | None, default: Any = None) -> Any:
    """Decode JSON text; ``None`` gives ``default``.

    Integers wider than 64 bits, which another client may have written, are read exactly too.
    """
    if text is None:
        return default
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
