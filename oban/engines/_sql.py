"""Load an engine's SQL files once: one query a file, named for what it does."""

from __future__ import annotations

from importlib import resources


def load_queries(package: str, folder: str = "queries") -> dict[str, str]:
    """Map each ``<name>.sql`` in ``package/folder`` to its text."""
    root = resources.files(package) / folder
    return {
        entry.name.removesuffix(".sql"): entry.read_text(encoding="utf-8")
        for entry in root.iterdir()
        if entry.name.endswith(".sql")
    }


def load_migrations(package: str, folder: str = "migrations") -> dict[int, tuple[str, str]]:
    """Map version -> (up, down) from ``vNNN_up.sql`` / ``vNNN_down.sql`` files."""
    scripts = load_queries(package, folder)
    versions: dict[int, tuple[str, str]] = {}
    for name in scripts:
        if name.endswith("_up"):
            version = int(name[1:].split("_")[0])
            versions[version] = (scripts[name], scripts[name.replace("_up", "_down")])
    return dict(sorted(versions.items()))


def split_statements(script: str) -> list[str]:
    """Split a migration script on ``;`` at line ends (our scripts keep one statement per ``;``)."""
    statements = []
    for chunk in script.split(";\n"):
        lines = [line for line in chunk.splitlines() if not line.strip().startswith("--")]
        text = "\n".join(lines).strip().rstrip(";").strip()
        if text:
            statements.append(text)
    return statements
