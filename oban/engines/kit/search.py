"""``list_jobs(search=..., before_id=...)`` checked once, in the forms an engine's query needs.

A search is a case-insensitive substring of the worker, of ``args`` or ``meta`` as JSON text, or
of a tag, and, when it is all ASCII digits, a job id. SQL engines match it with
``LIKE :pattern ESCAPE '!'`` (``ILIKE``, or ``LOWER`` on both sides where ``LIKE`` heeds case);
``!`` is the escape character because it means the same in every SQL dialect, where a backslash
does not (MySQL reads it inside string literals too). Engines that filter in Python call
``JobSearch.matches``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

LIKE_ESCAPE = "!"
"""The character ``JobSearch.pattern`` escapes ``%``, ``_`` and itself with: ``ESCAPE '!'``."""

MAX_ID = 2**63 - 1
"""The largest job id a 64-bit id column holds; a larger number names no job (and would overflow)."""


@dataclass(frozen=True, slots=True)
class JobSearch:
    """A non-empty ``search`` ready for a query."""

    text: str
    """The search as given."""
    pattern: str
    """``%text%`` with ``%``, ``_`` and ``!`` escaped by ``!``: a ``LIKE`` pattern matching the text literally."""
    job_id: int | None
    """The id the text names when it is all ASCII digits (and fits a 64-bit id), else ``None``."""

    def matches(self, *, job_id: int | None, worker: str, args: str, meta: str, tags: Iterable[str]) -> bool:
        """Whether a job matches: ``args`` and ``meta`` are its JSON text, ``tags`` its tags."""
        if self.job_id is not None and job_id == self.job_id:
            return True
        needle = self.text.lower()
        return any(needle in value.lower() for value in (worker, args, meta, *tags))


def job_search(search: str | None) -> JobSearch | None:
    """``search`` checked: ``None`` for no filter (``None`` or ``""``), else its ``JobSearch``.

    Anything but a string raises ``ValueError`` naming ``search`` and the value.
    """
    if search is None:
        return None
    if not isinstance(search, str):
        raise ValueError(f"search must be a string, got {search!r}")
    if not search:
        return None
    escaped = search.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
    for wildcard in ("%", "_"):
        escaped = escaped.replace(wildcard, LIKE_ESCAPE + wildcard)
    job_id = int(search) if search.isascii() and search.isdigit() else None
    return JobSearch(search, f"%{escaped}%", job_id if job_id is not None and job_id <= MAX_ID else None)


def check_before_id(before_id: int | None) -> int:
    """The bound for ``id < bound``: ``before_id`` checked, and ``None`` as ``MAX_ID``, above every id.

    A bound is always given so that the query reads the primary key from it downwards, instead
    of ``(:before_id IS NULL OR id < :before_id)``, which planners answer by scanning past every
    newer row. Anything but an integer raises ``ValueError`` naming ``before_id`` and the value.
    """
    if before_id is None:
        return MAX_ID
    if isinstance(before_id, bool) or not isinstance(before_id, int):
        raise ValueError(f"before_id must be a job id (an integer), got {before_id!r}")
    return max(min(before_id, MAX_ID), 0)  # no id is below 1: any lower bound finds nothing alike
