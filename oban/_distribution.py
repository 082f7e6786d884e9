"""Refuse to run beside the other ``oban`` distribution.

This library is distributed as ``oban-sql`` but imports as ``oban``, the import name of
oban-py, which PyPI distributes as ``oban``. Both write ``site-packages/oban/``, so with both
installed each overwrites the other's files and neither works. ``check()`` runs at import and
says so in one message, instead of an error from a half-overwritten module later.
"""

from __future__ import annotations

import os
import sys

DISTRIBUTION = "oban-sql"
OTHER = "oban"


class ConflictingDistributionError(ImportError):
    """The ``oban`` distribution (oban-py) is installed in the same environment as oban-sql."""


def _metadata_dir_on_path() -> bool:
    """Whether a ``sys.path`` folder holds metadata of a distribution named ``oban``.

    A listing of each folder: importing ``importlib.metadata`` alone would add about 50 ms to
    every ``import oban``, so it is loaded only when this finds something.
    """
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        for name in names:
            lowered = name.lower()
            if lowered.endswith((".dist-info", ".egg-info")) and (
                lowered.startswith(f"{OTHER}-") or lowered == f"{OTHER}.egg-info"
            ):
                return True
    return False


def check() -> None:
    """Raise ``ConflictingDistributionError`` when the ``oban`` distribution is installed."""
    if not _metadata_dir_on_path():
        return
    from importlib import metadata
    from pathlib import Path

    try:
        other = metadata.distribution(OTHER)
    except metadata.PackageNotFoundError:
        return
    where = getattr(other, "_path", None)
    place = f" at {Path(str(where)).resolve()}" if where else ""
    raise ConflictingDistributionError(
        f"the {OTHER!r} distribution {other.version}{place} is installed beside {DISTRIBUTION!r}"
        " (PyPI's 'oban' is oban-py): both install the import package 'oban' into site-packages/oban/,"
        f" so each overwrites the other's files. Keep one: `pip uninstall -y {OTHER} {DISTRIBUTION}"
        f" && pip install {DISTRIBUTION}`, or install {OTHER!r} alone"
    )


check()
