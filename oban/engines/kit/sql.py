"""An engine's SQL files: one query a file, named for what it does, and numbered migrations.

``queries/<name>.sql`` files load into a dict by name. ``migrations/vNNN_up.sql`` and
``vNNN_down.sql`` load into ``Migrations``, which checks a target version and lays out the
scripts that move a schema from one version to another, each with the version it leaves behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from ...errors import SchemaError


def load_queries(package: str, folder: str = "queries") -> dict[str, str]:
    """Map each ``<name>.sql`` in ``package/folder`` to its text."""
    root = resources.files(package) / folder
    return {
        entry.name.removesuffix(".sql"): entry.read_text(encoding="utf-8")
        for entry in root.iterdir()
        if entry.name.endswith(".sql")
    }


def split_statements(script: str) -> list[str]:
    """Split a script on ``;`` at line ends (migrations keep one statement per ``;``), dropping
    ``--`` comment lines."""
    statements = []
    for chunk in script.split(";\n"):
        lines = [line for line in chunk.splitlines() if not line.strip().startswith("--")]
        text = "\n".join(lines).strip().rstrip(";").strip()
        if text:
            statements.append(text)
    return statements


@dataclass(frozen=True, slots=True)
class Migrations:
    """Numbered migration scripts: version -> (up, down)."""

    scripts: dict[int, tuple[str, str]]

    @classmethod
    def load(cls, package: str, folder: str = "migrations") -> Migrations:
        """Read ``vNNN_up.sql``/``vNNN_down.sql`` from ``package/folder``; versions run 1..N."""
        files = load_queries(package, folder)
        scripts = {}
        for name, text in files.items():
            if name.endswith("_up"):
                version = int(name[1:].split("_")[0])
                scripts[version] = (text, files[name.replace("_up", "_down")])
        if sorted(scripts) != list(range(1, len(scripts) + 1)):
            raise SchemaError(f"migrations in {package}.{folder} are not numbered 1..N: {sorted(scripts)}")
        return cls(dict(sorted(scripts.items())))

    @property
    def latest(self) -> int:
        """The newest version."""
        return max(self.scripts)

    def target(self, version: int | None) -> int:
        """``version`` checked (``None`` means the newest); ``SchemaError`` for an unknown one."""
        target = self.latest if version is None else version
        if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target <= self.latest:
            raise SchemaError(f"migration version must be between 0 and {self.latest}, got {version!r}")
        return target

    def steps(self, current: int, target: int) -> list[tuple[str, int]]:
        """The scripts that move a schema from ``current`` to ``target``, in order, each with the
        version the schema is at once it has run."""
        up = [(self.scripts[step][0], step) for step in range(current + 1, target + 1)]
        down = [(self.scripts[step][1], step - 1) for step in range(current, target, -1)]
        return up or down
