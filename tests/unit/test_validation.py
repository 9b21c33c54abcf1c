import math
from decimal import Decimal

import pytest

from runyard.entities.validation import (
    MAX_TAG_VALUE_LENGTH,
    check_cell_text,
    check_description,
    check_display_name,
    check_entity_name,
    check_key,
    check_tag_value,
    to_metric_float,
)
from runyard.errors import InvalidArgument


@pytest.mark.parametrize("name", ["keras-mnist", "a", "A.b_c-1", "x" * 255])
def test_good_entity_names_pass(name):
    assert check_entity_name("Experiment", name) == name


@pytest.mark.parametrize("name", ["", "-x", "a b", "a/b", "../x", "x" * 256, None, 3, "é"])
def test_bad_entity_names_are_invalid_arguments(name):
    with pytest.raises(InvalidArgument):
        check_entity_name("Experiment", name)


def test_metric_values_accept_numbers_and_keep_nan_and_inf():
    assert to_metric_float("m", 3) == 3.0
    assert math.isnan(to_metric_float("m", float("nan")))
    assert to_metric_float("m", float("-inf")) == float("-inf")


@pytest.mark.parametrize("value", ["0.5", b"1", True, None, [1], {"a": 1}, object()])
def test_non_numeric_metric_values_are_refused(value):
    with pytest.raises(InvalidArgument, match="must be a number"):
        to_metric_float("m", value)


def test_huge_ints_are_refused_not_silently_turned_into_inf():
    with pytest.raises(InvalidArgument, match="too large"):
        to_metric_float("m", 10**400)


def test_numpy_scalars_are_numbers():
    np = pytest.importorskip("numpy")
    assert to_metric_float("m", np.float32(0.5)) == 0.5
    assert to_metric_float("m", np.int64(7)) == 7.0


def test_tag_values_are_bounded_and_stringified():
    assert check_tag_value("Tag", "k", 5) == "5"
    assert check_tag_value("Tag", "k", None) == ""
    with pytest.raises(InvalidArgument, match="limit"):
        check_tag_value("Tag", "k", "x" * (MAX_TAG_VALUE_LENGTH + 1))
    with pytest.raises(InvalidArgument):
        check_tag_value("Tag", "k", {"a": 1})


def test_keys_refuse_control_characters_and_length():
    with pytest.raises(InvalidArgument):
        check_key("Metric", "a\x00b")
    with pytest.raises(InvalidArgument):
        check_key("Metric", "x" * 300)
    assert check_key("Metric", "Accuracy vs Loss") == "Accuracy vs Loss"


def test_description_limit():
    assert check_description(None) is None
    with pytest.raises(InvalidArgument):
        check_description("x" * 6000)


# -- issue 8: control characters, lone surrogates, display names, cells, overflow ----------


@pytest.mark.parametrize("text", ["a\x00b", "a\x1b[2Jb", "a\rb", "a\x7fb", "a\x85b", "a\ud800b"])
def test_tag_values_and_descriptions_refuse_control_characters_and_lone_surrogates(text):
    with pytest.raises(InvalidArgument, match=r"control character|lone surrogate"):
        check_tag_value("Tag", "k", text)
    with pytest.raises(InvalidArgument, match=r"control character|lone surrogate"):
        check_description(text)


def test_tag_values_keep_tabs_and_line_feeds():
    assert check_tag_value("Tag", "k", "a\tb\nc") == "a\tb\nc"
    assert check_description("line one\nline two") == "line one\nline two"


@pytest.mark.parametrize("key", ["a\x00", "a\tb", "a\nb", "a\x9bb", "loss\udcff"])
def test_names_refuse_every_control_character_and_lone_surrogates(key):
    with pytest.raises(InvalidArgument, match=r"control character|lone surrogate"):
        check_key("Metric", key)


def test_display_name_is_a_bounded_line_of_text():
    assert check_display_name(None) is None
    assert check_display_name("first try") == "first try"
    with pytest.raises(InvalidArgument, match="limit is 255"):
        check_display_name("x" * 1_000_000)
    with pytest.raises(InvalidArgument, match="control character"):
        check_display_name("a\nb")
    with pytest.raises(InvalidArgument, match="must be a string"):
        check_display_name(5)


def test_table_cells_are_bounded_like_tag_values():
    assert check_cell_text("t", "x" * MAX_TAG_VALUE_LENGTH) == "x" * MAX_TAG_VALUE_LENGTH
    with pytest.raises(InvalidArgument, match="limit is 5000"):
        check_cell_text("t", "x" * (MAX_TAG_VALUE_LENGTH + 1))
    with pytest.raises(InvalidArgument, match="control character"):
        check_cell_text("t", "a\x00b")


@pytest.mark.parametrize("value", [Decimal("1e500"), Decimal("-1e500")])
def test_a_finite_decimal_beyond_float_range_is_refused_not_stored_as_inf(value):
    with pytest.raises(InvalidArgument, match="too large for a 64-bit float"):
        to_metric_float("m", value)


def test_non_finite_decimals_stay_non_finite():
    assert to_metric_float("m", Decimal("-Infinity")) == float("-inf")
    assert math.isnan(to_metric_float("m", Decimal("NaN")))
    assert to_metric_float("m", Decimal("1.5")) == 1.5


def test_the_sdk_refuses_bad_text_at_the_call(ws):
    from runyard.core import Experiment

    exp = Experiment(ws, "bounds")
    with pytest.raises(InvalidArgument, match="limit is 255"):
        exp.start_logging(display_name="x" * 1_000_000)
    with exp.start_logging() as run:
        with pytest.raises(InvalidArgument, match="limit is 5000"):
            run.log_row("t", note="x" * 10_000_000)
        with pytest.raises(InvalidArgument, match="lone surrogate"):
            run.tag("k", "bad\udc80")
        with pytest.raises(InvalidArgument, match="lone surrogate"):
            run.log("loss\udc80", 1.0)  # refused here, not lost in the writer thread
        with pytest.raises(InvalidArgument, match="control character"):
            run.tag("k", "nul\x00")
        with pytest.raises(InvalidArgument, match="limit is 255"):
            run.display_name = "y" * 256
        with pytest.raises(InvalidArgument, match="limit is 255"):
            run.child_run(name="z" * 256)
        run.log_row("t", note="fine\ttext\n")
        run.log("zero", -0.0)
        run.flush()
    assert run.get_metrics()["t"] == {"note": ["fine\ttext\n"]}
    assert math.copysign(1.0, run.get_metrics()["zero"]) == -1.0
