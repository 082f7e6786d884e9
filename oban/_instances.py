"""The ``Oban`` instances of this process, by name, for code that enqueues through a name."""

from __future__ import annotations

from typing import Any

from .errors import InstanceNotFoundError

DEFAULT_NAME = "oban"
"""The default instance name. oban-py's and Oban's default, ``"Oban"``, is the same name here:
``Oban(name="Oban")`` and ``Oban(name="oban")`` register in one slot, and either name finds it."""

_by_name: dict[str, Any] = {}


def _key(name: str) -> str:
    return DEFAULT_NAME if name == "Oban" else name


def register(name: str, instance: Any) -> None:
    """Make ``instance`` the one ``get(name)`` returns (the newest registration wins)."""
    _by_name[_key(name)] = instance


def get(name: str = DEFAULT_NAME) -> Any:
    """The instance registered under ``name``; ``InstanceNotFoundError`` (a ``RuntimeError``)
    naming it otherwise."""
    try:
        return _by_name[_key(name)]
    except KeyError:
        raise InstanceNotFoundError(f"no Oban instance named {name!r}; create Oban(name={name!r}, ...) first") from None
