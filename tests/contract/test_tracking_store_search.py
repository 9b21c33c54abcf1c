"""TrackingStore contract: run search (filters and orders on attributes, metric summaries,
tags and properties, a page at a time) and chart reads of several runs at once.

Written against the port only, so it runs on every adapter of the conftest.
"""

from __future__ import annotations

import base64
import json
import math

import pytest

from runyard.entities import MetricKind, MetricRecord, RunStatus
from runyard.entities.search import (
    Comparison,
    DisplayNameContains,
    MetricCompare,
    MetricSummary,
    ParentIs,
    PropertyEquals,
    RunOrder,
    RunSearchPage,
    StatusIn,
    TagEquals,
    TagExists,
)
from runyard.errors import InvalidArgument, NotFound
from runyard.tracking.paging import keep_in_buckets

S = RunStatus
NAN, INF = math.nan, math.inf


def _log(store, run_id, name, values, kind=MetricKind.SCALAR):
    store.log_metrics(
        [MetricRecord(run_id, name, v, kind, step, 1000.0 + step) for step, v in enumerate(values)]
    )


# r0..r7 in creation order: (display name, status path, tags, properties, loss batches)
# and the script arguments the parameter 'lr' comes from (numbers, text, none)
_ARGUMENTS = [
    ["--lr", "0.1"],
    ["--lr", "1e-3", "--fast"],
    ["--lr", "adam"],
    ["--lr", "10"],
    ["--lr", "sgd"],
    ["--lr=0.1"],
    ["--epochs", "3"],
    ["--lr", "Adam"],
]
_RUNS = [
    ("Alpha", [S.RUNNING, S.COMPLETED], {"team": "a"}, {"seed": "3"}, [[4.0, 2.0]]),
    ("beta", [S.RUNNING], {"team": "b"}, {"seed": "1"}, [[1.0], [3.0]]),
    ("Gamma-é", [S.RUNNING, S.COMPLETED], {"team": "a"}, {}, [[2.0]]),
    ("delta", [S.QUEUED], {}, {}, []),
    ("ÉPSILON", [S.FAILED], {"team": "B"}, {}, [[NAN]]),
    ("zeta", [S.RUNNING, S.COMPLETED], {"team": "a"}, {}, [[9.0, NAN]]),
    ("eta", [S.RUNNING], {"team": "é"}, {}, [[-1.0], [INF]]),
    ("theta", [S.QUEUED], {"team": "a"}, {}, []),
]


@pytest.fixture
def runs(store):
    """The runs of _RUNS in experiment 'exp' (r7 logs 'loss' as a list, not a scalar),
    and a run of another experiment that no search of 'exp' may return."""
    store.create_experiment("exp")
    for i, (name, path, tags, properties, batches) in enumerate(_RUNS):
        run_id = f"r{i}"
        store.create_run(
            "exp",
            run_id=run_id,
            status=path[0],
            display_name=name,
            tags=tags,
            properties=properties,
            details={"runDefinition": {"arguments": _ARGUMENTS[i]}},
        )
        for status in path[1:]:
            store.set_run_status(run_id, status)
        step = 0
        for batch in batches:
            store.log_metrics(
                [
                    MetricRecord(run_id, "loss", v, MetricKind.SCALAR, step + j, 1.0)
                    for j, v in enumerate(batch)
                ]
            )
            step += len(batch)
    _log(store, "r7", "loss", [[1.0, 2.0]], kind=MetricKind.LIST)
    store.create_experiment("other")
    store.create_run("other", run_id="x0", status=S.RUNNING, tags={"team": "a"})
    _log(store, "x0", "loss", [0.0])
    return store


def _ids(page: RunSearchPage) -> list[str]:
    return [run.run_id for run in page.runs]


def _all(store, page_size=1000, **search):
    """Every run of a search, page by page, checking pages never overlap."""
    found, token = [], None
    while True:
        page = store.search_runs("exp", max_results=page_size, page_token=token, **search)
        assert isinstance(page, RunSearchPage)
        assert len(page.runs) <= page_size
        found += _ids(page)
        token = page.next_page_token
        if token is None:
            assert len(found) == len(set(found))
            return found


# -- orders ----------------------------------------------------------------------------
def test_without_an_order_the_experiments_runs_come_newest_first(runs):
    assert _all(runs) == [f"r{i}" for i in reversed(range(8))]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        # ties (r0 and r2 at 2.0) in creation order in the order's direction; runs without
        # the value (no loss, a NaN last value, a list-valued 'loss') after the others
        (RunOrder.metric("loss"), [0, 2, 1, 6, 3, 4, 5, 7]),
        (RunOrder.metric("loss", descending=True), [6, 1, 2, 0, 7, 5, 4, 3]),
        (RunOrder.metric("loss", "min"), [6, 1, 0, 2, 5, 3, 4, 7]),
        (RunOrder.metric("loss", "max", descending=True), [6, 5, 0, 1, 2, 7, 4, 3]),
        (RunOrder.metric("accuracy"), [0, 1, 2, 3, 4, 5, 6, 7]),
        (RunOrder.metric("accuracy", descending=True), [7, 6, 5, 4, 3, 2, 1, 0]),
        # text by code point: "B" < "a" < "b" < "é"
        (RunOrder.tag("team"), [4, 0, 2, 5, 7, 1, 6, 3]),
        (RunOrder.tag("team", descending=True), [6, 1, 7, 5, 2, 0, 4, 3]),
        (RunOrder.property("seed"), [1, 0, 2, 3, 4, 5, 6, 7]),
        # parameters: numbers as numbers (0.001 < 0.1 = 0.1 < 10), then text by code point
        (RunOrder.parameter("lr"), [1, 0, 5, 3, 7, 2, 4, 6]),
        (RunOrder.parameter("lr", descending=True), [3, 5, 0, 1, 4, 2, 7, 6]),
        (RunOrder.parameter("epochs"), [6, 0, 1, 2, 3, 4, 5, 7]),
        (RunOrder.attribute("number"), [0, 1, 2, 3, 4, 5, 6, 7]),
        (RunOrder.attribute("number", descending=True), [7, 6, 5, 4, 3, 2, 1, 0]),
        (RunOrder.attribute("display_name"), [0, 2, 1, 3, 6, 7, 5, 4]),
        (RunOrder.attribute("status"), [0, 2, 5, 4, 3, 7, 1, 6]),
    ],
    ids=repr,
)
def test_an_order_sorts_by_its_key_with_runs_lacking_it_last(runs, order, expected):
    assert _all(runs, order_by=order) == [f"r{i}" for i in expected]


@pytest.mark.parametrize("descending", [False, True])
def test_order_by_created_at_and_duration_follow_the_records(runs, descending):
    records = {r.run_id: r for r in runs.list_runs(experiment_name="exp")}
    by_time = _all(runs, order_by=RunOrder.attribute("created_at", descending=descending))
    times = [records[r].created_at for r in by_time]
    assert times == sorted(times, reverse=descending)
    by_duration = _all(runs, order_by=RunOrder.attribute("duration", descending=descending))
    ended = [r for r in by_duration if records[r].started_at and records[r].ended_at]
    assert set(ended) == {"r0", "r2", "r5"}  # r4 failed without starting: no duration
    assert by_duration[:3] == ended  # runs with a duration first, whatever the direction
    durations = [records[r].ended_at - records[r].started_at for r in ended]
    assert durations == sorted(durations, reverse=descending)


def test_runs_created_between_pages_neither_shift_nor_repeat_an_ordered_listing(runs):
    order = RunOrder.metric("loss")
    first = runs.search_runs("exp", order_by=order, max_results=3)
    runs.create_run("exp", run_id="late", status=S.RUNNING)
    _log(runs, "late", "loss", [0.5])  # would come first: it is before the page's position
    second = runs.search_runs(
        "exp", order_by=order, max_results=3, page_token=first.next_page_token
    )
    assert _ids(first) + _ids(second) == ["r0", "r2", "r1", "r6", "r3", "r4"]


@pytest.mark.parametrize(
    "order",
    [
        None,
        RunOrder.metric("loss"),
        RunOrder.metric("loss", "max", descending=True),
        RunOrder.tag("team", descending=True),
        RunOrder.property("seed"),
        RunOrder.parameter("lr"),
        RunOrder.parameter("lr", descending=True),
        RunOrder.attribute("duration"),
        RunOrder.attribute("display_name", descending=True),
    ],
    ids=repr,
)
@pytest.mark.parametrize("page_size", [1, 3])
def test_pages_of_any_size_give_the_same_runs_as_one_page(runs, order, page_size):
    whole = _ids(runs.search_runs("exp", order_by=order))
    assert len(whole) == 8
    assert _all(runs, page_size=page_size, order_by=order) == whole


# -- filters ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([TagEquals("team", "a")], [7, 5, 2, 0]),
        ([TagExists("team")], [7, 6, 5, 4, 2, 1, 0]),
        ([StatusIn((S.COMPLETED,))], [5, 2, 0]),
        ([StatusIn((S.QUEUED, S.FAILED))], [7, 4, 3]),
        ([PropertyEquals("seed", "3")], [0]),
        ([MetricCompare("loss", Comparison.LT, 3)], [2, 0]),
        ([MetricCompare("loss", "<=", 3.0)], [2, 1, 0]),
        ([MetricCompare("loss", ">", 2)], [6, 1]),  # +inf is greater; NaN never matches
        ([MetricCompare("loss", ">=", 2)], [6, 2, 1, 0]),
        ([MetricCompare("loss", "=", 2)], [2, 0]),
        ([MetricCompare("loss", "<", 0, "min")], [6]),
        ([MetricCompare("loss", ">=", 9, "max")], [6, 5]),
        ([MetricCompare("loss", "<", INF)], [2, 1, 0]),
        ([MetricCompare("accuracy", ">", -INF)], []),
        ([DisplayNameContains("ALPHA")], [0]),  # A-Z match either case
        ([DisplayNameContains("é")], [2]),  # other letters only themselves
        ([DisplayNameContains("É")], [4]),
        ([DisplayNameContains("ta")], [7, 6, 5, 3, 1]),
        # every filter must hold
        ([TagEquals("team", "a"), StatusIn((S.COMPLETED,))], [5, 2, 0]),
        ([TagEquals("team", "a"), MetricCompare("loss", "<", 3)], [2, 0]),
        ([TagEquals("team", "b"), MetricCompare("loss", "<", 3)], []),
        ([TagEquals("team", "nobody")], []),
    ],
    ids=repr,
)
def test_filters_keep_the_runs_matching_every_one(runs, filters, expected):
    assert _all(runs, filters=filters) == [f"r{i}" for i in expected]


def test_filters_and_an_order_combine(runs):
    found = _all(runs, filters=[TagEquals("team", "a")], order_by=RunOrder.metric("loss"))
    assert found == ["r0", "r2", "r5", "r7"]
    found = _all(
        runs,
        page_size=1,
        filters=[MetricCompare("loss", ">=", 2)],
        order_by=RunOrder.metric("loss", descending=True),
    )
    assert found == ["r6", "r1", "r2", "r0"]


def test_parent_filter_keeps_children_of_a_run_or_the_top_level_runs(store):
    store.create_experiment("exp")
    store.create_run("exp", run_id="p", status=S.RUNNING)
    store.create_run("exp", run_id="c1", status=S.RUNNING, parent_run_id="p")
    store.create_run("exp", run_id="c2", status=S.RUNNING, parent_run_id="p")
    store.create_run("exp", run_id="q", status=S.RUNNING)
    assert _all(store, filters=[ParentIs("p")]) == ["c2", "c1"]
    assert _all(store, filters=[ParentIs(None)]) == ["q", "p"]
    assert _all(store, filters=[ParentIs("q")]) == []


# -- metric summaries ------------------------------------------------------------------
def test_a_page_carries_the_summaries_of_the_metrics_asked_for(runs):
    page = runs.search_runs("exp", metrics=["loss", "accuracy"], order_by=RunOrder.metric("loss"))
    assert set(page.metrics) == {"r0", "r1", "r2", "r4", "r5", "r6"}  # r3, r7: no scalar loss
    assert page.metrics["r0"] == {"loss": MetricSummary("loss", 2.0, 1, 2.0, 4.0, 2)}
    assert page.metrics["r1"] == {"loss": MetricSummary("loss", 3.0, 1, 1.0, 3.0, 2)}
    assert page.metrics["r6"] == {"loss": MetricSummary("loss", INF, 1, -1.0, INF, 2)}
    nan_only = page.metrics["r4"]["loss"]
    assert math.isnan(nan_only.last) and nan_only.last_step == 0
    assert (nan_only.min, nan_only.max, nan_only.count) == (None, None, 1)
    nan_last = page.metrics["r5"]["loss"]
    assert math.isnan(nan_last.last) and (nan_last.min, nan_last.max) == (9.0, 9.0)
    assert runs.search_runs("exp").metrics == {}  # none asked for


def test_summaries_merge_batches_and_keep_count_step_and_extremes(store):
    store.create_experiment("exp")
    store.create_run("exp", run_id="r", status=S.RUNNING)
    values = [float((i * 37) % 1000) for i in range(1000)]  # one batch of 1,000 on one name
    _log(store, "r", "m", values)
    store.log_metrics([MetricRecord("r", "m", -5.0, MetricKind.SCALAR, None, 1.0)])
    store.log_metrics([MetricRecord("r", "m", -0.0, MetricKind.SCALAR, 7, 1.0)])
    store.log_metrics([MetricRecord("r", "m", "not shown", MetricKind.TEXT, 8, 1.0)])
    summary = store.search_runs("exp", metrics=["m"]).metrics["r"]["m"]
    assert summary == MetricSummary("m", 0.0, 7, -5.0, 999.0, 1002)
    assert math.copysign(1.0, summary.last) == 1.0  # summaries do not keep a zero's sign


def test_a_refused_batch_leaves_the_summaries_as_they_were(store):
    store.create_experiment("exp")
    store.create_run("exp", run_id="r", status=S.RUNNING)
    _log(store, "r", "m", [1.0])
    with pytest.raises(NotFound):
        store.log_metrics(
            [
                MetricRecord("r", "m", 50.0, MetricKind.SCALAR, 1, 1.0),
                MetricRecord("missing", "m", 1.0, MetricKind.SCALAR, 1, 1.0),
            ]
        )
    with pytest.raises(InvalidArgument):
        store.log_metrics(
            [
                MetricRecord("r", "m", 60.0, MetricKind.SCALAR, 1, 1.0),
                MetricRecord("r", "m", "x", MetricKind.SCALAR, 2, 1.0),
            ]
        )
    summary = store.search_runs("exp", metrics=["m"]).metrics["r"]["m"]
    assert summary == MetricSummary("m", 1.0, 0, 1.0, 1.0, 1)


def test_one_batch_of_several_runs_and_names_summarizes_each(store):
    store.create_experiment("exp")
    for run_id in ("a", "b"):
        store.create_run("exp", run_id=run_id, status=S.RUNNING)
    store.log_metrics(
        [
            MetricRecord("a", "x", 1.0, MetricKind.SCALAR, 0, 1.0),
            MetricRecord("b", "x", 5.0, MetricKind.SCALAR, 0, 1.0),
            MetricRecord("a", "y", 2.0, MetricKind.SCALAR, 0, 1.0),
            MetricRecord("a", "x", 3.0, MetricKind.SCALAR, 1, 1.0),
        ]
    )
    found = store.search_runs("exp", metrics=["x", "y"]).metrics
    assert found == {
        "a": {
            "x": MetricSummary("x", 3.0, 1, 1.0, 3.0, 2),
            "y": MetricSummary("y", 2.0, 0, 2.0, 2.0, 1),
        },
        "b": {"x": MetricSummary("x", 5.0, 0, 5.0, 5.0, 1)},
    }


# -- refused searches ------------------------------------------------------------------
def test_a_search_of_an_unknown_experiment_raises_not_found(runs):
    with pytest.raises(NotFound, match="nowhere"):
        runs.search_runs("nowhere")


@pytest.mark.parametrize(
    "arguments",
    [
        {"filters": "team=a"},
        {"filters": [{"tag": "team"}]},
        {"filters": [("team", "a")]},
        {"order_by": "metrics.loss"},
        {"metrics": "loss"},
        {"metrics": [""]},
        {"max_results": 0},
        {"max_results": 1001},
        {"max_results": "10"},
    ],
    ids=repr,
)
def test_search_arguments_that_are_not_typed_records_raise_invalid_argument(runs, arguments):
    with pytest.raises(InvalidArgument):
        runs.search_runs("exp", **arguments)


def _forged(document: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


def test_a_garbled_forged_or_foreign_page_token_raises_invalid_argument(runs):
    order = RunOrder.metric("loss")
    token = runs.search_runs("exp", order_by=order, max_results=2).next_page_token
    assert token is not None
    fingerprint = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))["q"]
    for bad in [
        "",
        "not a token",
        token[:-3],
        _forged({"p": [0, "two", 1], "q": fingerprint}),  # a text value for a metric order
        _forged({"p": [2, 1.0, 1], "q": fingerprint}),
        _forged({"p": [0, 1.0, -1], "q": fingerprint}),
        _forged({"p": [1, 1.0, 1], "q": fingerprint}),
        _forged({"p": [0, 1.0], "q": fingerprint}),
        _forged({"k": 1, "q": fingerprint}),
    ]:
        with pytest.raises(InvalidArgument, match=r"page_token|Page token"):
            runs.search_runs("exp", order_by=order, page_token=bad)
    for other in [
        {"order_by": RunOrder.metric("loss", descending=True)},
        {"order_by": order, "filters": [TagExists("team")]},
    ]:
        with pytest.raises(InvalidArgument, match="other filters"):
            runs.search_runs("exp", page_token=token, **other)
    with pytest.raises(InvalidArgument, match="other filters"):
        runs.search_runs("other", order_by=order, page_token=token)
    # the page size and the metric columns may change between pages
    page = runs.search_runs(
        "exp", order_by=order, max_results=5, metrics=["loss"], page_token=token
    )
    assert _ids(page) == ["r1", "r6", "r3", "r4", "r5"]


# -- chart reads -----------------------------------------------------------------------
@pytest.fixture
def series(store):
    """Three runs with 'loss' of 5, 300 and 0 points (c has only 'other'), 'text' on a."""
    store.create_experiment("exp")
    shapes = {"a": 5, "b": 300, "c": 0}
    for run_id, count in shapes.items():
        store.create_run("exp", run_id=run_id, status=S.RUNNING)
        values = [math.sin(i / 7) * (i % 13) for i in range(count)]
        if count > 100:
            values[150] = NAN
        if values:
            _log(store, run_id, "loss", values)
    _log(store, "c", "other", [1.0])
    return store


@pytest.mark.parametrize("max_points", [None, 3, 30, 299, 1000])
def test_read_metrics_many_gives_each_run_what_read_metrics_gives(series, max_points):
    pages = series.read_metrics_many(["b", "a", "c"], "loss", max_points=max_points)
    assert list(pages) == ["b", "a", "c"]
    for run_id, page in pages.items():
        alone = series.read_metrics(run_id, "loss", max_points=max_points)
        assert [(r.step, repr(r.value)) for r in page.records] == [
            (r.step, repr(r.value)) for r in alone.records
        ]
        assert page.last_seq == (alone.last_seq if alone.records else 0)
    assert pages["c"].records == []
    if max_points is not None:
        full = [r.value for r in series.get_metrics("b", "loss")]
        kept = keep_in_buckets(full, max_points)
        assert [r.step for r in pages["b"].records] == kept


def test_read_metrics_many_reads_each_run_once_and_accepts_none(series):
    assert series.read_metrics_many([], "loss") == {}
    pages = series.read_metrics_many(["a", "a"], "loss")
    assert list(pages) == ["a"] and len(pages["a"].records) == 5


@pytest.mark.parametrize(
    ("run_ids", "name", "max_points", "error"),
    [
        (["a", "missing"], "loss", None, NotFound),
        ("a", "loss", None, InvalidArgument),
        ([f"r{i}" for i in range(1001)], "loss", None, InvalidArgument),
        (["a", 3], "loss", None, InvalidArgument),
        (["a"], "", None, InvalidArgument),
        (["a"], "loss", 2, InvalidArgument),
    ],
)
def test_read_metrics_many_refuses_unknown_runs_and_bad_arguments(
    series, run_ids, name, max_points, error
):
    with pytest.raises(error):
        series.read_metrics_many(run_ids, name, max_points=max_points)
