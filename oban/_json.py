"""JSON encoding with errors that name the field that could not be encoded."""

from __future__ import annotations

from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


def encode(value: Any, field: str) -> str:
    """Encode ``value`` as JSON text or raise ``ValueError`` naming ``field``."""
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except TypeError as error:
        raise ValueError(f"{field} is not JSON-encodable ({error}): {value!r:.200}") from None


def encode_bytes(value: Any, field: str) -> bytes:
    """Like :func:`encode`, returning bytes."""
    try:
        return orjson.dumps(value, option=_OPTIONS)
    except TypeError as error:
        raise ValueError(f"{field} is not JSON-encodable ({error}): {value!r:.200}") from None


def decode(text: str | bytes | None, default: Any = None) -> Any:
    """Decode JSON text; ``None`` gives ``default``."""
    if text is None:
        return default
    return orjson.loads(text)
