"""The ``runyard`` command as a whole: help, version, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from runyard import __version__
from runyard.cli.main import cli


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


def assert_one_line_error(result, code: int, *fragments: str) -> str:
    """The command failed with ``code`` and exactly one 'Error: ...' line on stderr."""
    assert result.exit_code == code, (result.exit_code, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines[0]
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def test_help_lists_every_command_group_with_examples_and_exit_codes():
    result = invoke("--help")
    assert result.exit_code == 0
    for group in ("workspace", "experiment", "run", "model", "compute"):
        assert group in result.stdout
    assert "Examples:" in result.stdout
    assert "Exit codes" in result.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["workspace", "create"],
        ["workspace", "show"],
        ["experiment", "list"],
        ["run", "list"],
        ["run", "show"],
        ["run", "metrics"],
        ["run", "download"],
        ["run", "cancel"],
        ["run", "submit"],
        ["run", "logs"],
        ["model", "register"],
        ["model", "list"],
        ["model", "show"],
        ["model", "download"],
        ["model", "delete"],
        ["compute", "list"],
        ["compute", "show"],
        ["compute", "create"],
        ["compute", "delete"],
    ],
)
def test_every_command_help_has_an_example_of_itself(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Examples:" in result.stdout
    assert "runyard " + " ".join(command) in result.stdout


def test_version_prints_the_package_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_help_imports_neither_sqlalchemy_nor_rich():
    code = (
        "import sys\n"
        "from runyard.cli.main import cli\n"
        "rc = cli.main(['--help'], standalone_mode=False)\n"
        "heavy = [m for m in ('sqlalchemy', 'rich', 'fsspec', 'alembic') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy), 'RC=' + str(rc))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY= RC=0" in out.stdout, out.stdout


def test_console_script_module_runs_and_exits_with_the_command_code(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "runyard.cli", "run", "list"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 3
    assert out.stderr.startswith("Error: No workspace config.json found")


def test_unknown_command_is_a_one_line_usage_error_with_exit_2():
    result = invoke("frobnicate")
    assert_one_line_error(result, 2, "No such command 'frobnicate'", "runyard --help")


def test_missing_argument_is_a_one_line_usage_error_naming_the_command_help():
    result = invoke("run", "show")
    assert_one_line_error(result, 2, "RUN_ID", "runyard run show --help")


def test_invalid_status_choice_is_a_usage_error():
    result = invoke("run", "list", "--status", "Sleeping")
    assert_one_line_error(result, 2, "Sleeping")


def test_missing_config_says_how_to_create_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = assert_one_line_error(invoke("run", "list"), 3)
    assert "runyard workspace create NAME" in line
    assert "--workspace" in line
    assert str(tmp_path) in line


def test_workspace_option_pointing_nowhere_is_not_found(tmp_path):
    result = invoke("-w", str(tmp_path / "nowhere"), "experiment", "list")
    assert_one_line_error(result, 3, "nowhere", "runyard workspace create")


def test_config_pointing_at_a_missing_workspace_folder_says_how_to_create_it(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"workspace_name": "gone", "path": str(tmp_path / "gone")}))
    result = invoke("-w", str(config), "experiment", "list")
    assert_one_line_error(result, 3, "runyard workspace create gone")


def test_invalid_config_json_is_an_invalid_argument_with_exit_2(tmp_path):
    config = tmp_path / "config.json"
    config.write_text("{not json")
    result = invoke("-w", str(config), "experiment", "list")
    assert_one_line_error(result, 2, "not valid JSON")


def test_debug_lets_the_error_through_with_its_traceback(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("--debug", "run", "list")
    from runyard.errors import NotFound

    assert isinstance(result.exception, NotFound)
    assert result.exit_code == 1  # CliRunner's code for an exception that escaped


def test_json_flag_works_before_and_after_the_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert invoke("workspace", "create", "demo", "--path", "ws").exit_code == 0
    before = invoke("--json", "experiment", "list")
    after = invoke("experiment", "list", "--json")
    assert before.exit_code == after.exit_code == 0
    assert json.loads(before.stdout) == json.loads(after.stdout) == []


@pytest.mark.parametrize("args", [[], ["run"], ["workspace"]])
def test_a_bare_command_prints_its_normal_help_and_exits_0(args):
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout == invoke(*args, "--help").stdout
    assert result.stdout.startswith("Usage: runyard")
