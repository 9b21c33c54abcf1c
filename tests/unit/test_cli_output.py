"""The command line's rendering helpers: JSON without NaN, short cells, literal text."""

from __future__ import annotations

import json

from click.testing import CliRunner

from runyard.cli.main import cli
from runyard.cli.output import format_duration, format_value, to_json
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
