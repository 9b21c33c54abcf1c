"""The reference pages say what the code does: the settings table is ``settings_table()``,
every failure code is explained, and nothing promises a feature that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from runyard.entities.run import RunErrorCode
from runyard.settings import settings_table

ROOT = Path(__file__).resolve().parents[2]


def _table_rows(text: str, header: str) -> list[list[str]]:
    """The rows of the Markdown table whose header line is ``header``."""
    lines = text.splitlines()
    start = lines.index(header) + 2  # the header, then |---|
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _plain(cell: str) -> str:
    return cell.replace("``", "`").strip("`") if cell.count("`") == 2 else cell


def test_the_settings_page_shows_exactly_settings_table() -> None:
    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    documented = [
        tuple(_plain(c) for c in row)
        for row in _table_rows(text, "| variable | default | meaning |")
    ]
    expected = [
        (variable, default, meaning.replace("``", "`"))
        for variable, default, meaning in settings_table()
    ]
    assert documented == expected


def test_every_failure_code_is_explained_in_the_runs_page() -> None:
    text = (ROOT / "docs" / "runs.md").read_text(encoding="utf-8")
    rows = _table_rows(text, "| code | what happened | what to do |")
    documented = {row[0].strip("`") for row in rows}
    assert documented == {code.value for code in RunErrorCode}
    assert all(len(row) == 3 and row[1] and row[2] for row in rows)


def test_what_the_readme_promises_exists_and_the_roadmap_does_not_yet() -> None:
    from runyard.cli.main import cli

    help_text = CliRunner().invoke(cli, ["--help"]).output
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")  # tomllib: 3.11+
    description = re.search(r'^description = "(.*)"$', pyproject, re.M)
    assert description is not None
    # Deployment and tuning exist: on the command line, in docs/, in the description.
    assert re.search(r"^\s+service\s+Deploy", help_text, re.M)
    assert re.search(r"^\s+tune\s", help_text, re.M)
    assert (ROOT / "docs" / "deploy.md").exists() and (ROOT / "docs" / "tuning.md").exists()
    assert re.search(r"deploy", description.group(1), re.I)
    # The web UI exists: on the command line and in docs/.
    assert re.search(r"^\s+ui\s+Open the web UI", help_text, re.M)
    assert (ROOT / "docs" / "ui.md").exists()
    # Replicas on Ray Serve exist, and the README says so.
    import runyard.core.webservice as webservice

    assert hasattr(webservice, "AksWebservice")
    assert "AksWebservice" in (ROOT / "README.md").read_text(encoding="utf-8")
