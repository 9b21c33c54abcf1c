"""How the runs table reads its columns and a run's parameters."""

from __future__ import annotations

import pytest

from runyard.errors import InvalidArgument
from runyard.server.ui.columns import Column, RunFilter, parse_column
from runyard.tracking.run_params import params_of, sort_key


def _params(*arguments: object) -> dict[str, str]:
    return params_of({"runDefinition": {"arguments": list(arguments)}})


def test_parameters_are_the_named_arguments_of_the_run_definition() -> None:
    assert _params("--lr", "0.1", "--batch-size=32", "--fast", "--shift", "-1", "pos") == {
        "lr": "0.1",
        "batch-size": "32",
        "fast": "true",
        "shift": "-1",  # a negative number is a value, not a flag
    }
    assert _params("--data", {"runyard_data_reference": 1}) == {"data": "(data)"}
    assert params_of({}) == {} and params_of({"runDefinition": {"arguments": "x"}}) == {}


def test_parameter_values_sort_numerically_then_as_text_then_missing() -> None:
    values = ["10", "9", "b", None, "a", "0.5"]
    assert sorted(values, key=sort_key) == ["0.5", "9", "10", "a", "b", None]


def test_column_ids_name_attributes_tags_parameters_and_metric_aggregates() -> None:
    assert parse_column("attr:status") == Column("attr", "status")
    assert parse_column("tag:team:a") == Column("tag", "team:a")
    assert parse_column("metric:val:loss:min") == Column("metric", "val:loss", "min")
    assert parse_column("metric:loss") == Column("metric", "loss", "last")
    assert parse_column("metric:loss:max").id == "metric:loss:max"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("status", "is not KIND:NAME"),
        ("attr:colour", "Unknown run attribute 'colour'"),
        ("colour:red", "Unknown column kind 'colour'"),
        ("metric::min", "names no metric"),
    ],
)
def test_a_bad_column_id_is_refused_with_what_is_known(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        parse_column(text)


def test_a_filter_checks_its_operator_and_a_metric_filter_its_number() -> None:
    with pytest.raises(InvalidArgument, match="Operators: ="):
        RunFilter(Column("tag", "team"), "~", "x")
    with pytest.raises(InvalidArgument, match="needs a number"):
        RunFilter(Column("metric", "loss"), "<", "low")
    assert RunFilter(Column("metric", "loss"), "contains", "1").op == "contains"
