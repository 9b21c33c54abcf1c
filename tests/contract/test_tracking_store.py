"""TrackingStore contract: experiments, runs, their statuses, details, tags and properties.

Every test runs on every adapter (see conftest.py)."""

from __future__ import annotations

import itertools
import time

import pytest

from runyard.entities import TERMINAL_STATUSES, RunStatus, can_transition
from runyard.errors import AlreadyExists, InvalidState, NotFound
from runyard.tracking.store import TrackingStore

S = RunStatus


def _run(store: TrackingStore, run_id: str, experiment: str = "exp", **kwargs: object):
    store.create_experiment(experiment)
    kwargs.setdefault("status", S.NOT_STARTED)
    return store.create_run(experiment, run_id=run_id, **kwargs)  # type: ignore[arg-type]


# -- experiments -----------------------------------------------------------------------


def test_create_experiment_returns_the_existing_experiment_when_called_again(store):
    first = store.create_experiment("mnist")
    again = store.create_experiment("mnist")
    assert again.experiment_id == first.experiment_id
    assert again.name == "mnist"
    assert again.created_at == pytest.approx(first.created_at)
    assert [e.name for e in store.list_experiments()] == ["mnist"]


def test_get_experiment_counts_its_runs(store):
    _run(store, "r1", "mnist")
    _run(store, "r2", "mnist")
    assert store.get_experiment("mnist").run_count == 2


def test_get_experiment_of_an_unknown_name_raises_not_found_listing_known_ones(store):
    store.create_experiment("known")
    with pytest.raises(NotFound, match=r"'missing' not found.*known"):
        store.get_experiment("missing")


def test_list_experiments_returns_oldest_first(store):
    for name in ("b", "a", "c"):
        store.create_experiment(name)
    assert [e.name for e in store.list_experiments()] == ["b", "a", "c"]


# -- creating and reading runs ---------------------------------------------------------


def test_create_run_numbers_runs_from_one_per_experiment(store):
    numbers = [_run(store, f"a{i}", "a").number for i in range(3)]
    assert numbers == [1, 2, 3]
    assert _run(store, "b1", "b").number == 1


def test_create_run_keeps_every_field_it_is_given(store):
    _run(store, "parent")
    before = time.time()
    created = _run(
        store,
        "child",
        status=S.QUEUED,
        display_name="Child run",
        parent_run_id="parent",
        run_type="child",
        target="local",
        tags={"t": "1"},
        properties={"p": "x"},
        details={"config": {"lr": 0.1}, "packages": ["keras"]},
    )
    fetched = store.get_run("child")
    assert fetched == created
    assert fetched.experiment_name == "exp"
    assert fetched.status is S.QUEUED
    assert fetched.display_name == "Child run"
    assert fetched.parent_run_id == "parent"
    assert fetched.run_type == "child"
    assert fetched.target == "local"
    assert fetched.tags == {"t": "1"}
    assert fetched.properties == {"p": "x"}
    assert fetched.details == {"config": {"lr": 0.1}, "packages": ["keras"]}
    assert before - 1 <= fetched.created_at <= time.time() + 1
    assert fetched.started_at is None and fetched.ended_at is None and fetched.error is None


def test_create_run_defaults_display_name_to_the_run_id(store):
    assert _run(store, "exp_123").display_name == "exp_123"
    assert store.get_run("exp_123").display_name == "exp_123"


def test_create_run_in_running_status_records_started_at(store):
    run = _run(store, "r", status=S.RUNNING)
    assert run.started_at is not None
    assert store.get_run("r").started_at == pytest.approx(run.started_at)


def test_create_run_in_an_unknown_experiment_raises_not_found(store):
    with pytest.raises(NotFound, match="nope"):
        store.create_run("nope", run_id="r", status=S.NOT_STARTED)


def test_create_run_with_an_unknown_parent_raises_not_found(store):
    with pytest.raises(NotFound, match="ghost"):
        _run(store, "r", parent_run_id="ghost")


def test_create_run_with_a_taken_id_raises_already_exists_and_leaves_no_gap(store):
    _run(store, "r")
    with pytest.raises(AlreadyExists, match="'r'"):
        _run(store, "r")
    assert _run(store, "r2").number == 2


def test_get_run_of_an_unknown_id_raises_not_found(store):
    with pytest.raises(NotFound, match="'ghost'"):
        store.get_run("ghost")


# -- listing runs ----------------------------------------------------------------------


def test_list_runs_returns_newest_first(store):
    for i in range(4):
        _run(store, f"r{i}")
    assert [r.run_id for r in store.list_runs()] == ["r3", "r2", "r1", "r0"]


def test_list_runs_filters_by_experiment_parent_and_status(store):
    _run(store, "a1", "a")
    _run(store, "a2", "a", parent_run_id="a1")
    _run(store, "a3", "a", parent_run_id="a1", status=S.RUNNING)
    _run(store, "b1", "b", status=S.RUNNING)
    assert {r.run_id for r in store.list_runs(experiment_name="a")} == {"a1", "a2", "a3"}
    assert {r.run_id for r in store.list_runs(parent_run_id="a1")} == {"a2", "a3"}
    running = store.list_runs(statuses=[S.RUNNING])
    assert {r.run_id for r in running} == {"a3", "b1"}
    both = store.list_runs(experiment_name="a", statuses=[S.RUNNING, S.NOT_STARTED])
    assert {r.run_id for r in both} == {"a1", "a2", "a3"}
    assert store.list_runs(experiment_name="unknown") == []


def test_list_runs_filters_by_tag_value_and_by_tag_presence(store):
    _run(store, "r1", tags={"stage": "prod", "team": "x"})
    _run(store, "r2", tags={"stage": "dev"})
    _run(store, "r3")
    assert [r.run_id for r in store.list_runs(tags={"stage": "prod"})] == ["r1"]
    assert {r.run_id for r in store.list_runs(tags={"stage": None})} == {"r1", "r2"}
    assert [r.run_id for r in store.list_runs(tags={"stage": None, "team": "x"})] == ["r1"]
    assert store.list_runs(tags={"stage": "qa"}) == []


def test_list_runs_limit_keeps_the_newest(store):
    for i in range(5):
        _run(store, f"r{i}")
    assert [r.run_id for r in store.list_runs(limit=2)] == ["r4", "r3"]


def test_list_runs_returns_tags_and_properties_of_each_run(store):
    _run(store, "r1", tags={"a": "1"}, properties={"p": "1"})
    _run(store, "r2", tags={"b": "2"})
    by_id = {r.run_id: r for r in store.list_runs()}
    assert by_id["r1"].tags == {"a": "1"} and by_id["r1"].properties == {"p": "1"}
    assert by_id["r2"].tags == {"b": "2"} and by_id["r2"].properties == {}


# -- statuses --------------------------------------------------------------------------


def test_set_run_status_through_a_submitted_runs_life_records_times(store):
    _run(store, "r", status=S.QUEUED)
    for status in (S.PREPARING, S.STARTING, S.RUNNING):
        record = store.set_run_status("r", status)
        assert record.status is status
    assert record.started_at is not None and record.ended_at is None
    store.set_run_status("r", S.FINALIZING)
    done = store.set_run_status("r", S.COMPLETED)
    assert done.status is S.COMPLETED
    assert done.started_at == pytest.approx(record.started_at)
    assert done.ended_at is not None and done.ended_at >= done.started_at
    assert store.get_run("r") == done


def test_set_run_status_failed_stores_the_error(store):
    _run(store, "r", status=S.RUNNING)
    error = {"message": "boom", "exit_code": 3, "stderr_tail": ["line 1", "line 2"]}
    failed = store.set_run_status("r", S.FAILED, error=error)
    assert failed.error == error
    assert failed.ended_at is not None
    assert store.get_run("r").error == error


def test_set_run_status_refuses_a_move_the_state_machine_forbids(store):
    _run(store, "r", status=S.RUNNING)
    store.set_run_status("r", S.COMPLETED)
    message = "Run r is Completed; it cannot move to Running. Allowed from Completed: none."
    with pytest.raises(InvalidState) as caught:
        store.set_run_status("r", S.RUNNING)
    assert str(caught.value) == message
    assert store.get_run("r").status is S.COMPLETED


def test_set_run_status_refusal_lists_the_allowed_statuses(store):
    _run(store, "r", status=S.CANCEL_REQUESTED)
    with pytest.raises(
        InvalidState, match="Allowed from CancelRequested: Completed, Failed, Canceled"
    ):
        store.set_run_status("r", S.RUNNING)


def test_set_run_status_applies_exactly_the_transitions_of_the_state_machine(store):
    store.create_experiment("exp")
    for n, (current, new) in enumerate(itertools.product(RunStatus, RunStatus)):
        run_id = f"r{n}"
        store.create_run("exp", run_id=run_id, status=current)
        if can_transition(current, new):
            assert store.set_run_status(run_id, new).status is new
        else:
            with pytest.raises(InvalidState, match=f"is {current}; it cannot move to {new}"):
                store.set_run_status(run_id, new)
            assert store.get_run(run_id).status is current


def test_set_run_status_with_expected_refuses_another_current_status(store):
    _run(store, "r", status=S.QUEUED)
    with pytest.raises(InvalidState, match="Run r is Queued, not Preparing"):
        store.set_run_status("r", S.RUNNING, expected=[S.PREPARING])
    assert store.get_run("r").status is S.QUEUED
    moved = store.set_run_status("r", S.PREPARING, expected=[S.QUEUED, S.NOT_STARTED])
    assert moved.status is S.PREPARING


def test_set_run_status_of_an_unknown_run_raises_not_found(store):
    with pytest.raises(NotFound, match="ghost"):
        store.set_run_status("ghost", S.RUNNING)


# -- status history --------------------------------------------------------------------


def test_status_history_lists_each_status_entered_with_its_time_oldest_first(store):
    before = time.time()
    _run(store, "r", status=S.QUEUED)
    phases = (S.PREPARING, S.STARTING, S.RUNNING, S.FINALIZING, S.COMPLETED)
    for status in phases:
        done = store.set_run_status("r", status)
    history = store.get_status_history("r")
    assert [change.status for change in history] == [S.QUEUED, *phases]
    times = [change.at for change in history]
    assert times == sorted(times)
    assert before - 1 <= times[0] and times[-1] <= time.time() + 1
    assert times[0] == pytest.approx(store.get_run("r").created_at)
    assert history[3].at == pytest.approx(done.started_at)  # Running: when it started
    assert history[-1].at == pytest.approx(done.ended_at)


def test_status_history_keeps_no_trace_of_a_refused_move_and_is_per_run(store):
    _run(store, "r", status=S.RUNNING)
    _run(store, "other", status=S.NOT_STARTED)
    store.set_run_status("r", S.FAILED, error={"message": "boom"})
    with pytest.raises(InvalidState):
        store.set_run_status("r", S.RUNNING)
    with pytest.raises(InvalidState):
        store.set_run_status("r", S.COMPLETED, expected=[S.RUNNING])
    assert [c.status for c in store.get_status_history("r")] == [S.RUNNING, S.FAILED]
    assert [c.status for c in store.get_status_history("other")] == [S.NOT_STARTED]


def test_status_history_of_an_unknown_run_raises_not_found(store):
    with pytest.raises(NotFound, match="ghost"):
        store.get_status_history("ghost")


def test_terminal_statuses_set_ended_at(store):
    for status in TERMINAL_STATUSES:
        run_id = f"r-{status}"
        _run(store, run_id, status=S.RUNNING)
        assert store.set_run_status(run_id, status).ended_at is not None


# -- details, display name, heartbeat ----------------------------------------------------


def test_update_run_merges_details_by_top_level_key(store):
    _run(store, "r", details={"a": 1, "b": {"x": 1}})
    updated = store.update_run("r", details={"b": {"y": 2}, "c": [1, 2]})
    assert updated.details == {"a": 1, "b": {"y": 2}, "c": [1, 2]}
    assert store.get_run("r").details == updated.details


def test_update_run_changes_display_name_and_records_the_heartbeat(store):
    _run(store, "r")
    updated = store.update_run("r", display_name="Nice name", heartbeat_at=1234.5)
    assert updated.display_name == "Nice name"
    assert updated.heartbeat_at == 1234.5
    unchanged = store.update_run("r")
    assert unchanged.display_name == "Nice name" and unchanged.heartbeat_at == 1234.5


def test_update_run_of_an_unknown_run_raises_not_found(store):
    with pytest.raises(NotFound):
        store.update_run("ghost", display_name="x")


# -- tags and properties ---------------------------------------------------------------


def test_set_tags_adds_and_replaces_values(store):
    _run(store, "r", tags={"a": "1", "b": "2"})
    store.set_tags("r", {"b": "3", "c": ""})
    assert store.get_run("r").tags == {"a": "1", "b": "3", "c": ""}


def test_remove_tags_ignores_names_that_are_not_set(store):
    _run(store, "r", tags={"a": "1", "b": "2"})
    store.remove_tags("r", ["a", "never-set"])
    assert store.get_run("r").tags == {"b": "2"}


def test_tag_changes_on_an_unknown_run_raise_not_found(store):
    with pytest.raises(NotFound):
        store.set_tags("ghost", {"a": "1"})
    with pytest.raises(NotFound):
        store.remove_tags("ghost", ["a"])


def test_add_properties_accepts_new_names_and_the_same_value_again(store):
    _run(store, "r", properties={"a": "1"})
    store.add_properties("r", {"a": "1", "b": "2"})
    assert store.get_run("r").properties == {"a": "1", "b": "2"}


def test_add_properties_refuses_to_change_a_set_property_and_writes_nothing(store):
    _run(store, "r", properties={"a": "1"})
    with pytest.raises(InvalidState, match=r"'a'.*'1'.*cannot change to '2'"):
        store.add_properties("r", {"new": "x", "a": "2"})
    assert store.get_run("r").properties == {"a": "1"}


def test_add_properties_on_an_unknown_run_raises_not_found(store):
    with pytest.raises(NotFound):
        store.add_properties("ghost", {"a": "1"})


def test_a_closed_store_can_be_used_again(store):
    store.create_experiment("kept")
    store.close()
    assert [e.name for e in store.list_experiments()] == ["kept"]
