"""Pick an engine from a DSN's scheme; third parties add schemes with an entry point.

An installed package registers ``scheme = "package.module:EngineClass"`` in the
``oban.engines`` entry-point group. The engine is built with ``EngineClass.from_dsn(dsn)`` when
the class has that method, else ``EngineClass(dsn)``. Engines built from a DSN never install
their schema implicitly: that is what ``oban install`` is for.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from ..errors import UnknownEngineError
from .kit.masking import mask_dsn
from .protocol import Engine

_BUILTIN = {
    "sqlite": "oban.engines.lite:LiteEngine",
    "postgresql": "oban.engines.postgres:PostgresEngine",
    "postgres": "oban.engines.postgres:PostgresEngine",
    "mysql": "oban.engines.mysql:MySQLEngine",
    "mariadb": "oban.engines.mysql:MySQLEngine",
}

_extra: dict[str, Any] = {}


def register_engine(scheme: str, factory: Any) -> None:
    """Make ``scheme://`` DSNs build engines with ``factory(dsn)`` in this process."""
    _extra[scheme] = factory


def schemes() -> list[str]:
    """Every scheme this process can build an engine for."""
    found = set(_BUILTIN) | set(_extra)
    found |= {ep.name for ep in entry_points(group="oban.engines")}
    return sorted(found)


def _build(factory: Any, dsn: str, options: dict[str, Any]) -> Engine:
    from_dsn = getattr(factory, "from_dsn", None)
    engine: Engine = from_dsn(dsn, **options) if from_dsn is not None else factory(dsn, **options)
    return engine


def _load(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    module = __import__(module_name, fromlist=[attr])
    return getattr(module, attr)


def engine_from_dsn(dsn: str, **options: Any) -> Engine:
    """Build the engine a DSN names, e.g. ``sqlite:///jobs.db`` or ``postgresql://host/db``.

    Raises ``UnknownEngineError`` for a scheme no engine handles, and ``ValueError`` for a DSN
    with no scheme.
    """
    if not isinstance(dsn, str) or "://" not in dsn:
        raise ValueError(f"dsn must look like scheme://..., got {mask_dsn(dsn)!r}")
    scheme = dsn.split("://", 1)[0].lower()
    base_scheme = scheme.split("+", 1)[0]
    if base_scheme in _extra:
        return _build(_extra[base_scheme], dsn, options)
    for ep in entry_points(group="oban.engines"):
        if ep.name == base_scheme and ep.value not in _BUILTIN.values():
            return _build(ep.load(), dsn, options)
    if base_scheme in _BUILTIN:
        try:
            factory = _load(_BUILTIN[base_scheme])
        except ImportError as error:
            raise UnknownEngineError(
                f"the {base_scheme} engine needs a driver that is not installed ({error.name}); "
                f"install oban[{'postgres' if 'postgres' in base_scheme else 'mysql'}]"
            ) from None
        return _build(factory, dsn, options)
    raise UnknownEngineError(f"no engine for DSN scheme {scheme!r}; known schemes: {', '.join(schemes())}")


DEFAULT_PATH = "oban.db"


def default_engine() -> Engine:
    """The engine ``Oban()`` uses when given none: ``LiteEngine("oban.db")`` in the working
    directory, which installs its schema on first use. Built on call, so importing oban loads no
    database driver."""
    factory = _load(_BUILTIN["sqlite"])
    engine: Engine = factory(DEFAULT_PATH)
    return engine
