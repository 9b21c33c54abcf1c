"""What the memory adapter adds to the contract: opening by URL, one workspace per store,
and data that callers cannot change behind the store's back."""

from __future__ import annotations

import pytest

from runyard.entities import RunStatus
from runyard.errors import InvalidArgument
from runyard.tracking import open_tracking_store
from runyard.tracking.memory import MemoryTrackingStore


def test_memory_url_opens_a_new_empty_memory_store_each_time():
    first = open_tracking_store("memory://")
    second = open_tracking_store("memory://")
    assert isinstance(first, MemoryTrackingStore)
    first.create_experiment("only-in-first")
    assert [e.name for e in second.list_experiments()] == []


def test_an_unknown_scheme_lists_memory_among_the_known_ones():
    with pytest.raises(InvalidArgument, match="memory://"):
        open_tracking_store("nosuch://x")


def test_closing_keeps_the_data():
    store = MemoryTrackingStore()
    store.create_experiment("kept")
    store.close()
    assert store.get_experiment("kept").run_count == 0


def test_changing_what_was_passed_in_or_returned_does_not_change_the_store():
    store = MemoryTrackingStore()
    store.create_experiment("exp")
    details = {"config": {"lr": 0.1}}
    tags = {"t": "1"}
    created = store.create_run(
        "exp", run_id="r", status=RunStatus.QUEUED, details=details, tags=tags
    )
    details["config"]["lr"] = 9.0
    tags["t"] = "changed"
    created.details["config"]["lr"] = 8.0
    created.tags["t"] = "changed too"
    fetched = store.get_run("r")
    assert fetched.details == {"config": {"lr": 0.1}}
    assert fetched.tags == {"t": "1"}
    model = store.create_model_version("m", artifact_path_template="m/{version}", tags={"a": "1"})
    model.tags["a"] = "2"
    assert store.get_model("m").tags == {"a": "1"}
