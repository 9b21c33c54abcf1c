"""The command line's rendering helpers: JSON without NaN, short cells, literal text."""

from __future__ import annotations

import json

from click.testing import CliRunner

from runyard.cli.main import cli
from runyard.cli.output import Output, escape_control, format_duration, format_value, to_json
from runyard.cli.parsing import parse_filters, parse_model_id, parse_pairs
from runyard.core.run_metrics import metric_json


def test_to_json_writes_non_finite_floats_as_strings_at_any_depth():
    text = to_json({"a": [float("nan"), {"b": float("-inf")}], "c": float("inf"), "d": 1.5})
    assert json.loads(text) == {"a": ["NaN", {"b": "-Infinity"}], "c": "Infinity", "d": 1.5}


def test_to_json_follows_the_sdk_metric_json_convention():
    value = {"x": [1.0, float("nan"), float("inf")], "t": {"c": [float("-inf"), None, "s"]}}
    assert json.loads(to_json(value)) == json.loads(metric_json(value))


def test_to_json_is_one_line_unless_pretty_and_keeps_non_ascii_text():
    value = {"名前": "モデル", "v": [1, 2]}
    assert "\n" not in to_json(value)
    assert to_json(value, pretty=True).splitlines()[1] == '  "名前": "モデル",'


def test_format_value_shortens_long_lists_and_names_table_columns():
    assert format_value([1.0, 2.0]) == "[1, 2]"
    assert format_value([float(i) for i in range(10)]) == "[0, 1, 2, ..., 9] (10 values)"
    assert format_value({"x": [1, 2, 3], "y": [4, 5, 6]}) == "table: x, y (3 rows)"
    assert format_value(float("nan")) == "NaN"
    assert format_value(None) == "-"


def test_format_duration_reads_as_hours_minutes_seconds():
    assert format_duration(None, None) == "-"
    assert format_duration(0.0, 5.4) == "5s"
    assert format_duration(0.0, 125.0) == "2m 05s"
    assert format_duration(0.0, 3723.0) == "1h 02m 03s"


def test_parsers_split_on_the_first_equals_and_the_last_colon():
    assert parse_pairs(["a=1", "b=x=y", "c="], "--tag") == {"a": "1", "b": "x=y", "c": ""}
    assert parse_filters(["a", "b=2"], "--tag") == {"a": None, "b": "2"}
    assert parse_model_id("keras-dnn-mnist:12") == ("keras-dnn-mnist", 12)
    assert parse_model_id("keras-dnn-mnist") == ("keras-dnn-mnist", None)


def test_user_text_that_looks_like_rich_markup_is_printed_literally(ws, tmp_path, monkeypatch):
    from runyard.core import Experiment

    monkeypatch.chdir(tmp_path)
    ws.write_config()
    run = Experiment(ws, "x").start_logging()
    run.tag("note", "[bold red]not markup[/bold red]")
    shown = CliRunner().invoke(cli, ["run", "show", run.id])
    assert "note=[bold red]not markup[/bold red]" in shown.stdout
    assert "\x1b[" not in shown.stdout  # no colour codes when stdout is not a terminal


def test_escape_control_makes_c0_c1_del_and_bidi_controls_visible():
    text = "a\x1b]0;pwned\x07b\n\tc\r\x7f\x9b2J\u202eé"
    assert escape_control(text) == "a\\x1b]0;pwned\\x07b\\n\\tc\\r\\x7f\\x9b2J\\u202eé"


def test_tables_and_fields_show_control_characters_escaped(capsys):
    out = Output()
    out.table(["id", "tag"], [["r1", "x\x1b[2Jy"]], title="t\x1b[H")
    out.fields([("Desc\x1b", "line\nbreak\x9b")])
    out.line("path\x1b]0;title\x07")
    out.note("note\x1b[2J")
    captured = capsys.readouterr()
    assert "\x1b" not in captured.out + captured.err
    assert "\x9b" not in captured.out
    for shown in ("x\\x1b[2Jy", "t\\x1b[H", "Desc\\x1b", "line\\nbreak\\x9b", "\\x07"):
        assert shown in captured.out
    assert "note\\x1b[2J" in captured.err


def test_json_output_escapes_every_control_character_and_stays_exact():
    value = {"k\x1b": "a\x9b\u202e\x7f\n"}
    text = to_json(value)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c == "\u202e" for c in text)
    assert json.loads(text) == value


def test_an_error_quoting_a_user_value_is_printed_escaped_on_one_line(tmp_path, monkeypatch):
    from runyard.core import Workspace

    ws = Workspace.create("esc", path=str(tmp_path / "ws"))
    monkeypatch.chdir(tmp_path)
    ws.write_config()
    source = tmp_path / "src\x1b]0;pwned\x07"
    source.mkdir()
    result = CliRunner().invoke(
        cli, ["run", "submit", "-e", "demo", "--source-dir", str(source), "nope.py"]
    )
    assert result.exit_code == 3
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "src\\x1b]0;pwned\\x07" in result.stderr
