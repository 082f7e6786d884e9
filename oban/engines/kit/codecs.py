"""The JSON and time codecs every engine uses, so all of them store and read the same values.

JSON is encoded strictly (``encode_json`` refuses NaN, infinities, NUL characters, non-string
keys, integers beyond 64 bits and nesting deeper than 254 levels, naming the field) and decoded
exactly (``decode_json`` reads integers of any width). Timestamps are aware UTC in Python;
``to_iso`` is the fixed-width text form whose text order is time order (SQLite columns, error
entries' ``at``), and ``naive_utc``/``aware_utc`` convert for ``timestamp``/``DATETIME`` columns.
"""

from __future__ import annotations

from ..._json import canonical_bytes, show
from ..._json import decode as decode_json
from ..._json import encode as encode_json
from ..._json import encode_bytes as encode_json_bytes
from ..._time import as_utc, aware_utc, from_iso, naive_utc, to_iso, utcnow

__all__ = [
    "as_utc",
    "aware_utc",
    "canonical_bytes",
    "decode_json",
    "encode_json",
    "encode_json_bytes",
    "from_iso",
    "naive_utc",
    "show",
    "to_iso",
    "utcnow",
]
