"""Recorded values in Erlang's external term format, as oban-py and Oban Pro store them.

A ``Record`` value is stored in ``meta["return"]`` as ``term_to_binary`` output, base64-encoded
without padding. That is what oban-py 0.7 (through erlpack) and Oban Pro write, so a job recorded
by any of them reads back in the others on a shared database.

Encoded: ``None``/``True``/``False`` as the atoms ``nil``/``true``/``false``; ``int`` (any size);
``float`` (finite); ``str`` and ``bytes`` as binaries; ``list``; ``tuple``; ``dict``. Decoded:
binaries as ``str`` (``bytes`` when not UTF-8), other atoms as ``str``, charlists as lists of
ints, and compressed terms too.
"""

from __future__ import annotations

import base64
import math
import struct
import zlib
from typing import Any

_VERSION = 131
_ATOMS = {None: b"nil", True: b"true", False: b"false"}
_ATOM_VALUES: dict[str, Any] = {"nil": None, "true": True, "false": False}


def encode_recorded(value: Any) -> str:
    """``value`` as oban-py stores a recorded value: base64 of its term, without padding."""
    return base64.b64encode(encode(value)).decode("ascii").rstrip("=")


def decode_recorded(text: str) -> Any:
    """The value ``encode_recorded`` (or oban-py, or Oban Pro) stored."""
    padded = text + "=" * (-len(text) % 4)
    return decode(base64.b64decode(padded, validate=True))


def encode(value: Any) -> bytes:
    """``value`` in Erlang's external term format; ``ValueError`` naming what cannot be encoded."""
    out = bytearray([_VERSION])
    _encode(value, out, "value")
    return bytes(out)


def _encode(value: Any, out: bytearray, where: str) -> None:
    if value is None or value is True or value is False:
        atom = _ATOMS[value]
        out += bytes([119, len(atom)]) + atom  # SMALL_ATOM_UTF8_EXT
    elif isinstance(value, int):
        if 0 <= value <= 255:
            out += bytes([97, value])  # SMALL_INTEGER_EXT
        elif -(2**31) <= value < 2**31:
            out += b"b" + struct.pack(">i", value)  # INTEGER_EXT
        else:
            magnitude = abs(value)
            digits = magnitude.to_bytes((magnitude.bit_length() + 7) // 8, "little")
            sign = 1 if value < 0 else 0
            if len(digits) < 256:
                out += bytes([110, len(digits), sign]) + digits  # SMALL_BIG_EXT
            else:
                out += b"o" + struct.pack(">I", len(digits)) + bytes([sign]) + digits  # LARGE_BIG_EXT
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"recorded {where} must be a finite number, got {value!r}")
        out += b"F" + struct.pack(">d", value)  # NEW_FLOAT_EXT
    elif isinstance(value, str | bytes | bytearray):
        data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        out += b"m" + struct.pack(">I", len(data)) + data  # BINARY_EXT
    elif isinstance(value, list):
        if not value:
            out += b"j"  # NIL_EXT
            return
        out += b"l" + struct.pack(">I", len(value))  # LIST_EXT
        for index, item in enumerate(value):
            _encode(item, out, f"{where}[{index}]")
        out += b"j"
    elif isinstance(value, tuple):
        if len(value) < 256:
            out += bytes([104, len(value)])  # SMALL_TUPLE_EXT
        else:
            out += b"i" + struct.pack(">I", len(value))  # LARGE_TUPLE_EXT
        for index, item in enumerate(value):
            _encode(item, out, f"{where}[{index}]")
    elif isinstance(value, dict):
        out += b"t" + struct.pack(">I", len(value))  # MAP_EXT
        for key, item in value.items():
            _encode(key, out, f"{where} key")
            _encode(item, out, f"{where}[{key!r}]")
    else:
        raise ValueError(f"recorded {where} cannot be stored: {type(value).__name__} {value!r:.80}")


def decode(data: bytes) -> Any:
    """The value of one term in Erlang's external term format; ``ValueError`` if it is not one."""
    try:
        return _decode_term(data)
    except (struct.error, IndexError, zlib.error, UnicodeDecodeError) as error:
        raise ValueError(f"not a whole Erlang term: {error}") from None


def _decode_term(data: bytes) -> Any:
    if not data or data[0] != _VERSION:
        raise ValueError(f"not an Erlang term (it starts with {data[:1]!r}, not version 131)")
    if len(data) > 1 and data[1] == 80:  # compressed: uncompressed size, then zlib data
        (size,) = struct.unpack_from(">I", data, 2)
        body = zlib.decompress(data[6:])
        if len(body) != size:
            raise ValueError(f"compressed Erlang term is {len(body)} bytes, its header says {size}")
        value, end = _decode(body, 0)
        data, offset = body, end
    else:
        value, offset = _decode(data, 1)
    if offset != len(data):
        raise ValueError(f"{len(data) - offset} byte(s) follow the Erlang term")
    return value


def _binary(raw: bytes) -> str | bytes:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def _atom(name: bytes) -> Any:
    text = name.decode("utf-8")
    return _ATOM_VALUES.get(text, text)


def _decode(data: bytes, at: int) -> tuple[Any, int]:
    tag = data[at]
    at += 1
    if tag == 97:
        return data[at], at + 1
    if tag == 98:
        return struct.unpack_from(">i", data, at)[0], at + 4
    if tag in (110, 111):
        if tag == 110:
            size, sign = data[at], data[at + 1]
            at += 2
        else:
            (size,) = struct.unpack_from(">I", data, at)
            sign = data[at + 4]
            at += 5
        magnitude = int.from_bytes(data[at : at + size], "little")
        return (-magnitude if sign else magnitude), at + size
    if tag == 70:
        return struct.unpack_from(">d", data, at)[0], at + 8
    if tag == 99:  # FLOAT_EXT: 31 bytes of text
        return float(data[at : at + 31].rstrip(b"\x00")), at + 31
    if tag in (100, 118):  # ATOM_EXT, ATOM_UTF8_EXT
        (size,) = struct.unpack_from(">H", data, at)
        return _atom(data[at + 2 : at + 2 + size]), at + 2 + size
    if tag in (115, 119):  # SMALL_ATOM_EXT, SMALL_ATOM_UTF8_EXT
        size = data[at]
        return _atom(data[at + 1 : at + 1 + size]), at + 1 + size
    if tag == 109:
        (size,) = struct.unpack_from(">I", data, at)
        return _binary(data[at + 4 : at + 4 + size]), at + 4 + size
    if tag == 107:  # STRING_EXT: a list of small integers (an Erlang charlist)
        (size,) = struct.unpack_from(">H", data, at)
        return list(data[at + 2 : at + 2 + size]), at + 2 + size
    if tag == 106:
        return [], at
    if tag == 108:
        (count,) = struct.unpack_from(">I", data, at)
        at += 4
        items = []
        for _ in range(count):
            item, at = _decode(data, at)
            items.append(item)
        tail, at = _decode(data, at)
        if tail != []:
            items.append(tail)  # an improper list keeps its tail as the last element
        return items, at
    if tag in (104, 105):
        if tag == 104:
            count, at = data[at], at + 1
        else:
            (count,) = struct.unpack_from(">I", data, at)
            at += 4
        elements = []
        for _ in range(count):
            element, at = _decode(data, at)
            elements.append(element)
        return tuple(elements), at
    if tag == 116:
        (count,) = struct.unpack_from(">I", data, at)
        at += 4
        mapping: dict[Any, Any] = {}
        for _ in range(count):
            key, at = _decode(data, at)
            item, at = _decode(data, at)
            mapping[_hashable(key)] = item
        return mapping, at
    raise ValueError(f"Erlang term tag {tag} is not one a recorded value uses")


def _hashable(key: Any) -> Any:
    if isinstance(key, list):
        return tuple(_hashable(item) for item in key)
    if isinstance(key, dict):
        return tuple(sorted((repr(k), _hashable(v)) for k, v in key.items()))
    return key
