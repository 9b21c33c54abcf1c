"""TrackingStore contract: run listings by page, and filtered by compute target."""

from __future__ import annotations

import base64
import json

import pytest

from runyard.entities import RunPage, RunStatus
from runyard.errors import InvalidArgument

S = RunStatus


@pytest.fixture
def runs(store):
    """12 runs, r0 (oldest) to r11; even ones on target 'gpu', odd ones on 'cpu'."""
    store.create_experiment("exp")
    for i in range(12):
        store.create_run(
            "exp",
            run_id=f"r{i}",
            status=S.RUNNING if i % 3 == 0 else S.QUEUED,
            target="gpu" if i % 2 == 0 else "cpu",
            tags={"third": "yes"} if i % 3 == 0 else None,
        )
    return [f"r{i}" for i in reversed(range(12))]  # newest first


def _all_pages(store, **filters):
    pages, token = [], None
    while True:
        page = store.list_runs_page(page_token=token, **filters)
        assert isinstance(page, RunPage)
        pages.append([r.run_id for r in page.runs])
        token = page.next_page_token
        if token is None:
            return pages


def test_pages_return_every_run_once_newest_first(store, runs):
    pages = _all_pages(store, max_results=5)
    assert pages == [runs[0:5], runs[5:10], runs[10:12]]


def test_a_page_that_ends_exactly_at_the_last_run_has_no_next_token(store, runs):
    assert _all_pages(store, max_results=6) == [runs[0:6], runs[6:12]]
    assert _all_pages(store, max_results=1000) == [runs]


def test_pages_keep_their_filters(store, runs):
    pages = _all_pages(store, max_results=2, target="gpu", statuses=[S.RUNNING])
    assert pages == [["r6", "r0"]]
    pages = _all_pages(store, max_results=1, tags={"third": None}, experiment_name="exp")
    assert pages == [["r9"], ["r6"], ["r3"], ["r0"]]


def test_runs_created_between_pages_neither_shift_nor_repeat_the_listing(store, runs):
    first = store.list_runs_page(max_results=4)
    store.create_run("exp", run_id="late", status=S.QUEUED)
    second = store.list_runs_page(max_results=4, page_token=first.next_page_token)
    assert [r.run_id for r in second.runs] == runs[4:8]
    assert store.list_runs_page(max_results=1).runs[0].run_id == "late"


def test_list_runs_filters_by_compute_target(store, runs):
    assert [r.run_id for r in store.list_runs(target="cpu")] == [r for r in runs if int(r[1:]) % 2]
    assert [r.run_id for r in store.list_runs(target="gpu", limit=2)] == ["r10", "r8"]
    assert store.list_runs(target="nowhere") == []
    assert {r.target for r in store.list_runs(target="gpu", statuses=[S.QUEUED])} == {"gpu"}


def _forged(document: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not a token",
        "!!!!",
        "eyJr",  # a cut-off token
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        _forged([1, 2]),
        _forged({"k": "1", "q": "x"}),
        _forged({"k": -1, "q": "x"}),
        _forged({"k": True, "q": "x"}),
        _forged({"q": "x"}),
        "A" * 5000,
    ],
)
def test_a_garbled_or_forged_page_token_raises_invalid_argument(store, runs, token):
    with pytest.raises(InvalidArgument, match="page_token"):
        store.list_runs_page(page_token=token)


def test_a_page_token_given_with_other_filters_raises_invalid_argument(store, runs):
    token = store.list_runs_page(max_results=2, target="gpu").next_page_token
    assert token is not None
    with pytest.raises(InvalidArgument, match="other filters"):
        store.list_runs_page(max_results=2, target="cpu", page_token=token)
    # the page size may change between pages; the filters may not
    assert len(store.list_runs_page(max_results=3, target="gpu", page_token=token).runs) == 3


@pytest.mark.parametrize("max_results", [0, -1, 1001, "5", 2.0, None])
def test_a_page_size_outside_one_to_a_thousand_raises_invalid_argument(store, max_results):
    with pytest.raises(InvalidArgument, match="max_results"):
        store.list_runs_page(max_results=max_results)


def test_a_page_of_an_empty_listing_is_empty_and_last(store):
    page = store.list_runs_page(experiment_name="none")
    assert page == RunPage([], None)
