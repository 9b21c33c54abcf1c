import math

import pytest

from runyard.entities.validation import (
    MAX_TAG_VALUE_LENGTH,
    check_description,
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
