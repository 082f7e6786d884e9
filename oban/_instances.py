"""The ``Oban`` instances of this process, by name, for code that enqueues through a name."""

from __future__ import annotations

from typing import Any

from .errors import InstanceNotFoundError

_by_name: dict[str, Any] = {}


def register(name: str, instance: Any) -> None:
    """Make ``instance`` the one ``get(name)`` returns (the newest registration wins)."""
    _by_name[name] = instance


DEFAULT_NAME = "oban"
"""The default instance name. oban-py's and Oban's default, ``"Oban"``, finds it too."""


def get(name: str = DEFAULT_NAME) -> Any:
    """The instance registered under ``name``; ``InstanceNotFoundError`` naming it otherwise.

    ``"Oban"`` (oban-py's default name) finds the ``"oban"`` instance when none is named so.
    """
    try:
        return _by_name[name]
    except KeyError:
        if name == "Oban" and DEFAULT_NAME in _by_name:
            return _by_name[DEFAULT_NAME]
        raise InstanceNotFoundError(f"no Oban instance named {name!r}; create Oban(name={name!r}, ...) first") from None
