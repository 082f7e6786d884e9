"""Settings for the ``oban`` command: a TOML file, then the environment, then the flags.

Each setting is named once and read from three places, later ones winning: a TOML file, the
environment variable ``OBAN_<KEY>`` (``OBAN_DSN``, ``OBAN_QUEUES``, ``OBAN_LOG_LEVEL``...) and the
flag ``--<key>`` (underscores become dashes). The file is ``--config PATH`` (or
``$OBAN_CONFIG``), else the ``[tool.oban-sql]`` table of the nearest ``pyproject.toml`` that has
one, looking from the working directory upwards. A ``pyproject.toml`` given to ``--config`` is
read at its ``[tool.oban-sql]`` table; any other file at its top level.

Settings are what describe a deployment (where the database is, which queues a node runs, how it
logs); what one command acts on (``migrate --version``, ``jobs list --state``, job ids) is a flag
only. A command uses the settings it has flags for and ignores the others, so one table serves
``oban start`` and ``oban nodes`` alike. Unknown keys and bad values are :class:`ConfigError`
naming the key, the value (a DSN masked) and where it came from.
"""

from __future__ import annotations

import argparse
import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .engines.kit import mask_dsn

TOOL_TABLE = "oban-sql"
"""The table under ``[tool]`` in ``pyproject.toml``: the distribution's name."""

CONFIG_VARIABLE = "OBAN_CONFIG"
"""The environment variable naming a config file when ``--config`` is not given."""

LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")


class ConfigError(ValueError):
    """A setting that cannot be used: unknown, of the wrong type or out of range."""


# -- values ----------------------------------------------------------------------------------------
# Each reader takes a value as TOML gives it (``text=False``) or as the environment gives it (a
# string, ``text=True``) and returns it as the command uses it, or raises ValueError saying why not.


def _string(value: object, text: bool) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value


def queues_from_text(text: str) -> dict[str, int]:
    """``"default:10,mailers:5"`` -> ``{"default": 10, "mailers": 5}``; ValueError saying why not."""
    queues: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, limit = part.rpartition(":")
        if not sep or not name or not limit.isdigit() or int(limit) < 1:
            raise ValueError(f"entry {part!r} must look like name:limit with a positive limit")
        queues[name] = int(limit)
    if not queues:
        raise ValueError(f"{text!r} names no queue")
    return queues


def _queues(value: object, text: bool) -> dict[str, int]:
    if isinstance(value, str):
        return queues_from_text(value)
    if not isinstance(value, dict) or not value:
        raise ValueError('must be a table like {default = 10} or a string like "default:10,mailers:5"')
    for name, limit in value.items():
        if not name.strip() or isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"queue {name!r} needs a positive integer limit, got {limit!r}")
    return dict(value)


def imports_from_text(items: list[str]) -> list[str]:
    """Module names from ``--import`` values, each possibly comma-separated."""
    return [module.strip() for item in items for module in item.split(",") if module.strip()]


def _imports(value: object, text: bool) -> list[str]:
    if isinstance(value, str):
        return imports_from_text([value])
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ValueError("must be a list of module names (or one comma-separated string)")
    return imports_from_text(value)


def _seconds(value: object, text: bool) -> float:
    if text and isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError("must be a number of seconds") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError("must be a non-negative number of seconds")
    return float(value)


def _count(value: object, text: bool) -> int:
    if text and isinstance(value, str):
        value = int(value) if value.strip().isdigit() else value
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("must be a non-negative integer")
    return value


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _switch(value: object, text: bool) -> bool:
    if text and isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    if not isinstance(value, bool):
        raise ValueError("must be true or false" + (f" ({'/'.join(_TRUE)} or {'/'.join(_FALSE)})" if text else ""))
    return value


def _one_of(choices: tuple[str, ...]) -> Callable[[object, bool], str]:
    def read(value: object, text: bool) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return str(value)

    return read


# -- the settings ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: its TOML key, where argparse keeps it, how to read it, and its default."""

    key: str
    read: Callable[[object, bool], Any]
    default: Any = None
    dest: str = ""
    secret: bool = False

    @property
    def attribute(self) -> str:
        """The argparse ``dest`` holding the flag's value."""
        return self.dest or self.key

    @property
    def variable(self) -> str:
        """The environment variable: ``OBAN_<KEY>``."""
        return f"OBAN_{self.key.upper()}"

    @property
    def flag(self) -> str:
        """The command-line flag: ``--<key>``."""
        return "--" + self.key.replace("_", "-")

    def show(self, value: object) -> str:
        """The value as messages show it: a DSN without its secrets, and nothing else of a secret."""
        if not self.secret:
            return repr(value)
        return repr(mask_dsn(value)) if isinstance(value, str) else f"<{type(value).__name__}>"


SETTINGS: dict[str, Setting] = {
    setting.key: setting
    for setting in (
        Setting("dsn", _string, secret=True),
        Setting("name", _string, "oban"),
        Setting("queues", _queues),
        Setting("import", _imports, [], dest="imports"),
        Setting("path", _string, "."),
        Setting("node", _string),
        Setting("grace", _seconds, 15.0),
        Setting("log_level", _one_of(LOG_LEVELS), "info"),
        Setting("log_format", _one_of(LOG_FORMATS), "text"),
        Setting("json", _switch, False),
        Setting("require_nodes", _count, 0),
        Setting("timeout", _seconds, 10.0),
    )
}
"""Every setting, by TOML key. A command's parser gives each flag it has ``default=None``, so a
flag left out is told apart from one given, and :func:`apply` fills it in."""


# -- the file --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfigFile:
    """The settings one TOML file holds, already checked."""

    path: Path
    table: str
    """Where in the file they are: ``[tool.oban-sql]`` or ``the top level``."""
    values: dict[str, Any]

    @property
    def where(self) -> str:
        """The file and table, as messages name them."""
        return f"{self.path} {self.table}"


def _parse(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found") from None
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"cannot read config file {path}: {error}") from None


def _tool_table(document: dict[str, Any]) -> object:
    tool = document.get("tool")
    return tool.get(TOOL_TABLE) if isinstance(tool, dict) else None


def read_file(path: Path) -> ConfigFile:
    """The settings in ``path``: its ``[tool.oban-sql]`` table for a ``pyproject.toml``, else all
    of it. A relative ``path`` setting is taken from the file's folder."""
    document = _parse(path)
    if path.name == "pyproject.toml":
        table = _tool_table(document)
        if table is None:
            raise ConfigError(f"{path} has no [tool.{TOOL_TABLE}] table")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [tool.{TOOL_TABLE}] must be a table, got {table!r}")
        return _checked(path, f"[tool.{TOOL_TABLE}]", table)
    return _checked(path, "(top level)", document)


def _checked(path: Path, table: str, raw: dict[str, Any]) -> ConfigFile:
    where = f"{path} {table}"
    values: dict[str, Any] = {}
    for key, value in raw.items():
        setting = SETTINGS.get(key)
        if setting is None:
            known = ", ".join(sorted(SETTINGS))
            raise ConfigError(f"{where}: unknown key {key!r} (known keys: {known})")
        try:
            values[key] = setting.read(value, False)
        except ValueError as error:
            raise ConfigError(f"{where}: {key} = {setting.show(value)}: {error}") from None
    if "path" in values:
        values["path"] = str(path.parent / values["path"])  # an absolute path stays as it is
    return ConfigFile(path.resolve(), table, values)


def find_file(cwd: Path) -> ConfigFile | None:
    """The ``[tool.oban-sql]`` table of the nearest ``pyproject.toml`` that has one, from ``cwd`` up."""
    for folder in (cwd, *cwd.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and _tool_table(_parse(candidate)) is not None:
            return read_file(candidate)
    return None


def load_file(explicit: str | None, cwd: Path) -> ConfigFile | None:
    """The config file in use: ``explicit`` (``--config`` or ``$OBAN_CONFIG``), else one found."""
    if explicit:
        return read_file(cwd / explicit)
    return find_file(cwd)


# -- putting it together ---------------------------------------------------------------------------


def apply(args: argparse.Namespace, *, cwd: Path, environ: Mapping[str, str]) -> ConfigFile | None:
    """Fill each setting the command has but its flags left out from the environment, then the
    file, then the default; return the file used, if any.

    Flag values are normalised as well: ``queues`` becomes ``{name: limit}`` and ``imports`` a
    list of module names. An environment variable set to the empty string counts as unset.
    """
    explicit = getattr(args, "config", None) or environ.get(CONFIG_VARIABLE) or None
    found = load_file(explicit, cwd)
    for setting in SETTINGS.values():
        if not hasattr(args, setting.attribute):
            continue
        given = getattr(args, setting.attribute)
        if given is not None:
            value = _from_flag(setting, given)
        elif environ.get(setting.variable):
            value = _from_environment(setting, environ[setting.variable])
        elif found is not None and setting.key in found.values:
            value = found.values[setting.key]
        else:
            value = setting.default
        setattr(args, setting.attribute, value)
    return found


def _from_flag(setting: Setting, given: Any) -> Any:
    if setting.key == "queues":
        try:
            return queues_from_text(given)
        except ValueError as error:
            raise ConfigError(f"{setting.flag} {error}") from None
    if setting.key == "import":
        return imports_from_text(given)
    return given  # argparse checked the type and the choices


def _from_environment(setting: Setting, text: str) -> Any:
    try:
        return setting.read(text, True)
    except ValueError as error:
        raise ConfigError(f"environment variable {setting.variable}={setting.show(text)}: {error}") from None


def where_to_set(key: str, found: ConfigFile | None) -> str:
    """How a user gives ``key``: the flag, the variable, or the file (the one in use, if any)."""
    setting = SETTINGS[key]
    place = found.where if found is not None else f"[tool.{TOOL_TABLE}] in pyproject.toml"
    return f"pass {setting.flag}, set {setting.variable} or add {key} to {place}"
