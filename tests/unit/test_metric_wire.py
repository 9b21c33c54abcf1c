"""The metric wire codec: every value survives the trip exactly, and a bad record is
refused naming what is wrong."""

from __future__ import annotations

import json
import math

import pytest

from runyard.entities import MetricKind, MetricRecord
from runyard.errors import InvalidArgument
from runyard.tracking.metric_wire import decode_records, encode_records

K = MetricKind


def _trip(records):
    # Through JSON text as the wire carries it, with NaN refused as httpx refuses it.
    text = json.dumps(encode_records(records), allow_nan=False)
    return decode_records(json.loads(text))


def test_scalars_keep_nan_infinities_negative_zero_steps_and_times():
    values = [math.nan, math.inf, -math.inf, -0.0, 0.1 + 0.2, 5e-324, 7]
    back = _trip([MetricRecord("r", "x", v, step=i, logged_at=1.5) for i, v in enumerate(values)])
    got = [m.value for m in back]
    assert math.isnan(got[0]) and got[1:3] == [math.inf, -math.inf]
    assert math.copysign(1.0, got[3]) == -1.0
    assert got[4:] == [0.1 + 0.2, 5e-324, 7.0] and all(type(v) is float for v in got)
    assert [m.step for m in back] == list(range(len(values)))
    assert {m.logged_at for m in back} == {1.5} and {m.kind for m in back} == {K.SCALAR}


def test_structured_values_keep_non_finite_floats_and_strings_that_look_like_them():
    records = [
        MetricRecord("r", "curve", [1.0, math.nan, -math.inf], K.LIST, logged_at=1.0),
        MetricRecord("r", "row", {"label": "NaN", "acc": math.inf}, K.ROW, logged_at=2.0),
        MetricRecord("r", "note", "Infinity", K.TEXT, logged_at=3.0),
        MetricRecord("r", "note", "NaN \u00e9\n", K.TEXT, logged_at=4.0),
        MetricRecord("r", "table", {"a": (1, 2)}, K.TABLE, logged_at=5.0),
    ]
    back = _trip(records)
    curve = back[0].value
    assert curve[0] == 1.0 and math.isnan(curve[1]) and curve[2] == -math.inf
    assert back[1].value == {"label": "NaN", "acc": math.inf}
    assert [m.value for m in back[2:4]] == ["Infinity", "NaN \u00e9\n"]
    assert back[4].value == {"a": [1, 2]}  # as JSON keeps it, as the SQL store does
    assert [m.kind for m in back] == [K.LIST, K.ROW, K.TEXT, K.TEXT, K.TABLE]


def test_a_common_structured_value_is_readable_json_on_the_wire():
    (item,) = encode_records([MetricRecord("r", "c", [0.5, math.nan], K.LIST, logged_at=1.0)])
    assert item["value"] == [0.5, "NaN"] and "json" not in item


def test_a_scalar_that_is_not_a_number_is_refused_naming_the_metric():
    with pytest.raises(InvalidArgument, match="'bad'"):
        encode_records([MetricRecord("r", "bad", "x")])
    wire = [{"run_id": "r", "name": "bad", "kind": "scalar", "value": "x", "logged_at": 1.0}]
    with pytest.raises(InvalidArgument, match="'bad'"):
        decode_records(wire)


def test_a_value_that_is_not_json_is_refused():
    with pytest.raises(InvalidArgument, match="JSON"):
        encode_records([MetricRecord("r", "t", {"a": object()}, K.TABLE)])


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"run_id": "r", "name": "m", "kind": "bogus", "value": 1, "logged_at": 1.0}, "'bogus'"),
        ({"run_id": "r", "name": "m", "kind": "scalar", "value": 1, "logged_at": None}, "time"),
        ({"run_id": "r", "name": "m", "kind": "scalar", "value": 1}, "'logged_at'"),
        ({"run_id": 5, "name": "m", "kind": "scalar", "value": 1, "logged_at": 1.0}, "strings"),
        (
            {"run_id": "r", "name": "m", "kind": "scalar", "value": 1, "step": "2", "logged_at": 1},
            "step",
        ),
        ({"run_id": "r", "name": "m", "kind": "list", "json": "[1,", "logged_at": 1.0}, "JSON"),
        ("not an object", "not an object"),
    ],
)
def test_a_malformed_record_is_refused_naming_what_is_wrong(item, message):
    with pytest.raises(InvalidArgument, match=message):
        decode_records([item])


def test_a_body_that_is_not_a_list_is_refused():
    with pytest.raises(InvalidArgument, match="list of metric records"):
        decode_records({"run_id": "r"})
