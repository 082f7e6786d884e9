"""The ``Oban`` instances of this process, by name, for code that enqueues through a name."""

from __future__ import annotations

from typing import Any

from .errors import InstanceNotFoundError

_by_name: dict[str, Any] = {}


def register(name: str, instance: Any) -> None:
    """Make ``instance`` the one ``get(name)`` returns (the newest registration wins)."""
    _by_name[name] = instance


def get(name: str = "oban") -> Any:
    """The instance registered under ``name``; ``InstanceNotFoundError`` naming it otherwise."""
    try:
        return _by_name[name]
    except KeyError:
        raise InstanceNotFoundError(f"no Oban instance named {name!r}; create Oban(name={name!r}, ...) first") from None
