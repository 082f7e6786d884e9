"""Showing a DSN without its secrets: the password in its user part and secret query parameters.

Every message, log line and ``engine.dsn`` shows DSNs through ``mask_dsn``; the command line
also scrubs ``dsn_secrets`` from anything a driver says, since drivers may echo their options.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

MASK = "***"
_SECRET_WORDS = ("pass", "pwd", "secret", "token", "key", "auth", "credential")


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def mask_dsn(dsn: str) -> str:
    """``dsn`` with its password and every secret-looking query value replaced by ``***``."""
    if not isinstance(dsn, str):
        return repr(dsn)
    try:
        parts = urlsplit(dsn)
    except ValueError:
        return "<unparsable DSN>"
    netloc = parts.netloc
    userinfo, at, hostport = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = f"{userinfo.split(':', 1)[0]}:{MASK}@{hostport}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = "&".join(
            f"{quote(key, safe='')}={MASK if _is_secret(key) else quote(value, safe='/:,')}" for key, value in pairs
        )
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def dsn_secrets(dsn: str) -> list[str]:
    """The secret values in ``dsn`` (raw and percent-decoded), longest first, for scrubbing text."""
    if not isinstance(dsn, str):
        return []
    try:
        parts = urlsplit(dsn)
    except ValueError:
        return []
    found: set[str] = set()
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        found.add(userinfo.split(":", 1)[1])
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if _is_secret(key):
            found.add(value)
            found.add(quote(value, safe=""))
    found |= {unquote(value) for value in found}
    return sorted((value for value in found if value), key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every one of ``secrets`` replaced by ``***``."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text
