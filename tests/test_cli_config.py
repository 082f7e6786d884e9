"""Settings for the ``oban`` command from a TOML file, the environment and flags, run as a user would.

Every test runs the installed console script in a folder of its own under ``tmp_path``, with no
``OBAN_*`` variable inherited, so nothing but what the test writes is read.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from oban import __version__
from oban.engines import LiteEngine
from tests.support import wait_until

SCRIPT = Path(sys.executable).with_name("oban")


def oban(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The ``oban`` console script in ``cwd``, with only ``env``'s ``OBAN_*`` variables."""
    return subprocess.run(
        [str(SCRIPT), *args], cwd=cwd, env=environment(env), capture_output=True, text=True, timeout=60
    )


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("OBAN_")}
    return {**clean, **(extra or {})}


def installed_sqlite(path: Path) -> str:
    """A DSN for a SQLite file with the schema installed."""

    async def install() -> None:
        engine = LiteEngine(str(path))
        await engine.connect()
        await engine.close()

    asyncio.run(install())
    return f"sqlite:///{path}"


def database_line(result: subprocess.CompletedProcess[str]) -> str:
    [line] = [line for line in result.stdout.splitlines() if line.split()[1:2] == ["database"]]
    return line


def test_version_flag_and_command_print_the_distribution_and_version(tmp_path):
    flag = oban("--version", cwd=tmp_path)
    command = oban("version", cwd=tmp_path)
    assert flag.returncode == 0 and flag.stdout.strip() == f"oban-sql {__version__}"
    assert command.returncode == 0 and command.stdout.strip() == f"oban-sql {__version__}"


def test_a_flag_beats_the_environment_which_beats_the_file(tmp_path):
    dsns = {source: installed_sqlite(tmp_path / f"{source}.db") for source in ("file", "env", "flag")}
    (tmp_path / "pyproject.toml").write_text(f'[tool.oban-sql]\ndsn = "{dsns["file"]}"\nname = "from-file"\n')

    from_file = oban("check", cwd=tmp_path)
    from_env = oban("check", cwd=tmp_path, env={"OBAN_DSN": dsns["env"], "OBAN_NAME": "from-env"})
    from_flag = oban("check", "--dsn", dsns["flag"], "--name", "from-flag", cwd=tmp_path, env={"OBAN_DSN": dsns["env"]})

    assert dsns["file"] in database_line(from_file) and "for 'from-file'" in from_file.stdout
    assert dsns["env"] in database_line(from_env) and "for 'from-env'" in from_env.stdout
    assert dsns["flag"] in database_line(from_flag) and "for 'from-flag'" in from_flag.stdout
    assert {from_file.returncode, from_env.returncode, from_flag.returncode} == {0}


def test_an_empty_environment_variable_counts_as_unset(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.oban-sql]\nname = "from-file"\n')
    result = oban("nodes", "--dsn", installed_sqlite(tmp_path / "jobs.db"), cwd=tmp_path, env={"OBAN_NAME": ""})
    assert result.returncode == 0 and result.stdout.strip() == "no nodes have heartbeated for 'from-file'"


def test_the_nearest_pyproject_with_the_table_is_found_from_a_subdirectory(tmp_path):
    project = tmp_path / "project"
    package = project / "libs" / "inner"
    deep = package / "src" / "deeper"
    deep.mkdir(parents=True)
    dsn = installed_sqlite(tmp_path / "jobs.db")
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "app"\n\n[tool.oban-sql]\ndsn = "{dsn}"\nname = "app"\n'
    )
    (package / "pyproject.toml").write_text('[project]\nname = "inner"\n')  # no table: looked past

    result = oban("nodes", cwd=deep)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "no nodes have heartbeated for 'app'"


def test_config_names_a_plain_toml_file_read_at_its_top_level(tmp_path):
    dsn = installed_sqlite(tmp_path / "jobs.db")
    (tmp_path / "oban.toml").write_text(f'dsn = "{dsn}"\nname = "standalone"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    by_flag = oban("nodes", "--config", str(tmp_path / "oban.toml"), cwd=elsewhere)
    before_command = oban("--config", str(tmp_path / "oban.toml"), "nodes", cwd=elsewhere)
    by_variable = oban("nodes", cwd=elsewhere, env={"OBAN_CONFIG": str(tmp_path / "oban.toml")})

    for result in (by_flag, before_command, by_variable):
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "no nodes have heartbeated for 'standalone'"


def test_start_takes_every_setting_from_pyproject(tmp_path):
    project = tmp_path / "project"
    (project / "src" / "myapp").mkdir(parents=True)
    (project / "deploy").mkdir()  # started from here, so "src" only works relative to the file
    (project / "src" / "myapp" / "__init__.py").write_text("")
    (project / "src" / "myapp" / "workers.py").write_text("IMPORTED = True\n")
    dsn = installed_sqlite(tmp_path / "jobs.db")
    (project / "pyproject.toml").write_text(
        "[tool.oban-sql]\n"
        f'dsn = "{dsn}"\n'
        'name = "shop"\n'
        'node = "web-1"\n'
        "queues = {default = 3, mailers = 1}\n"
        'import = ["myapp.workers"]\n'
        'path = "src"\n'
        "grace = 2\n"
        'log_format = "json"\n'
    )
    node = subprocess.Popen(
        [str(SCRIPT), "start"], cwd=project / "deploy", env=environment(), stderr=subprocess.PIPE, text=True
    )
    try:

        async def both_queues_beat() -> bool:
            if node.poll() is not None:
                raise AssertionError(f"oban start exited {node.returncode}: {node.stderr.read()}")
            listed = oban("nodes", "--json", "--dsn", dsn, "--name", "shop", cwd=tmp_path)
            documents = json.loads(listed.stdout) if listed.returncode == 0 else []
            return [(doc["node"], [(q["queue"], q["limit"]) for q in doc["queues"]]) for doc in documents] == [
                ("web-1", [("default", 3), ("mailers", 1)])
            ]

        asyncio.run(wait_until(both_queues_beat, within=30, interval=0.2))
    finally:
        node.send_signal(signal.SIGTERM)
        _, log = node.communicate(timeout=60)
    assert node.returncode == 0, log
    lines = [json.loads(line) for line in log.splitlines()]
    assert any("running queues default:3,mailers:1" in line["message"] for line in lines)
    assert any("grace period 2.0s" in line["message"] for line in lines)


def test_check_takes_its_health_policy_from_the_file(tmp_path):
    dsn = installed_sqlite(tmp_path / "jobs.db")
    (tmp_path / "pyproject.toml").write_text(f'[tool.oban-sql]\ndsn = "{dsn}"\nrequire_nodes = 1\njson = true\n')

    required = oban("check", cwd=tmp_path)
    relaxed = oban("check", "--require-nodes", "0", cwd=tmp_path, env={"OBAN_JSON": "false"})

    assert required.returncode == 1
    assert json.loads(required.stdout)["checks"][2] == {
        "check": "nodes",
        "status": "fail",
        "detail": "0 alive for 'oban', at least 1 required",
        "alive": [],
        "required": 1,
    }
    assert relaxed.returncode == 0 and relaxed.stdout.splitlines()[-1].split()[:2] == ["ok", "nodes"]


def test_an_unknown_key_is_named_with_the_file_and_exits_2(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.oban-sql]\nqeues = "default:1"\n')
    result = oban("nodes", "--dsn", "sqlite:///x.db", cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"oban: {tmp_path / 'pyproject.toml'} [tool.oban-sql]: unknown key 'qeues'")
    assert "queues" in line  # the known keys are listed


def test_a_bad_value_in_the_file_names_key_value_and_file_and_exits_2(tmp_path):
    config = tmp_path / "oban.toml"
    cases = {
        "queues = {default = 0}": "queues = {'default': 0}: queue 'default' needs a positive integer limit, got 0",
        'queues = "default:zero"': "queues = 'default:zero': entry 'default:zero' must look like name:limit",
        'grace = "soon"': "grace = 'soon': must be a non-negative number of seconds",
        'log_level = "loud"': "log_level = 'loud': must be one of debug, info, warning, error",
        "import = [1]": "import = [1]: must be a list of module names",
        "json = 1": "json = 1: must be true or false",
    }
    for text, message in cases.items():
        config.write_text(text + "\n")
        result = oban("start", "--config", str(config), "--dsn", "sqlite:///x.db", "--queues", "a:1", cwd=tmp_path)
        assert result.returncode == 2, text
        assert result.stderr.strip().startswith(f"oban: {config} (top level): {message}"), result.stderr


def test_a_bad_environment_value_names_the_variable_and_exits_2(tmp_path):
    result = oban("start", "--dsn", "sqlite:///x.db", cwd=tmp_path, env={"OBAN_QUEUES": "default:-1"})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "oban: environment variable OBAN_QUEUES='default:-1': "
        "entry 'default:-1' must look like name:limit with a positive limit"
    )


def test_a_dsn_is_shown_masked_whatever_the_config_holds(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.oban-sql]\ndsn = ["postgresql://app:s3cr3t-pw@127.0.0.1:1/app"]\n')
    wrong_type = oban("check", cwd=tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.oban-sql]\ndsn = "postgresql://app:s3cr3t-pw@127.0.0.1:1/app"\n')
    unreachable = oban("check", cwd=tmp_path)
    from_env = oban("check", cwd=tmp_path, env={"OBAN_DSN": "postgresql://app:s3cr3t-pw@127.0.0.1:1/other"})

    assert wrong_type.returncode == 2 and "dsn = <list>: must be a non-empty string" in wrong_type.stderr
    assert unreachable.returncode == 1 and "postgresql://app:***@127.0.0.1:1/app" in unreachable.stdout
    assert from_env.returncode == 1 and "postgresql://app:***@127.0.0.1:1/other" in from_env.stdout
    for result in (wrong_type, unreachable, from_env):
        assert "s3cr3t-pw" not in result.stdout + result.stderr


def test_an_unreadable_file_is_named_and_exits_2(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.oban-sql\n")
    broken = oban("nodes", cwd=tmp_path)
    missing = oban("nodes", "--config", "nowhere.toml", cwd=tmp_path)
    without_table = oban("nodes", "--config", str(tmp_path / "other" / "pyproject.toml"), cwd=tmp_path)
    assert broken.returncode == 2 and f"cannot read config file {tmp_path / 'pyproject.toml'}" in broken.stderr
    assert missing.returncode == 2 and f"config file {tmp_path / 'nowhere.toml'} not found" in missing.stderr
    assert without_table.returncode == 2 and "not found" in without_table.stderr
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "pyproject.toml").write_text('[project]\nname = "x"\n')
    no_table = oban("nodes", "--config", "plain/pyproject.toml", cwd=tmp_path)
    assert no_table.returncode == 2 and "has no [tool.oban-sql] table" in no_table.stderr


def test_start_without_queues_anywhere_says_where_to_give_them(tmp_path):
    result = oban("start", "--dsn", "sqlite:///x.db", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "oban: no queues given: pass --queues, set OBAN_QUEUES or add queues to "
        "[tool.oban-sql] in pyproject.toml (e.g. default:10)"
    )
