"""A run-scoped principal writes only its run and that run's descendants."""

from __future__ import annotations

import pytest

from runyard.entities import RunStatus
from runyard.errors import Forbidden
from runyard.server.auth import Principal, Role
from runyard.server.auth.scope import check_new_run, check_run_write, check_runs_write
from runyard.tracking.memory import MemoryTrackingStore

USER = Principal("ana", Role.CONTRIBUTOR)
RUN_TOKEN = Principal("run:parent", Role.CONTRIBUTOR, run_scope="parent")


@pytest.fixture
def store():
    """parent -> child -> grandchild, and a sibling tree: other -> other-child."""
    store = MemoryTrackingStore()
    store.create_experiment("exp")
    for run_id, parent in [
        ("parent", None),
        ("child", "parent"),
        ("grandchild", "child"),
        ("other", None),
        ("other-child", "other"),
    ]:
        store.create_run("exp", run_id=run_id, status=RunStatus.RUNNING, parent_run_id=parent)
    return store


@pytest.mark.parametrize("run_id", ["parent", "child", "grandchild"])
def test_a_run_token_may_write_its_run_and_every_descendant(store, run_id):
    check_run_write(RUN_TOKEN, store, run_id)


@pytest.mark.parametrize("run_id", ["other", "other-child"])
def test_a_run_token_may_not_write_another_runs_tree(store, run_id):
    with pytest.raises(Forbidden, match=rf"only run 'parent' and its child runs, not '{run_id}'"):
        check_run_write(RUN_TOKEN, store, run_id)


def test_a_child_runs_token_may_not_write_its_parent(store):
    child_token = Principal("run:child", Role.CONTRIBUTOR, run_scope="child")
    check_run_write(child_token, store, "grandchild")
    with pytest.raises(Forbidden):
        check_run_write(child_token, store, "parent")


def test_an_unknown_run_is_outside_every_scope(store):
    with pytest.raises(Forbidden, match="'ghost'"):
        check_run_write(RUN_TOKEN, store, "ghost")


def test_a_users_token_has_no_run_scope(store):
    for run_id in ("parent", "other", "ghost"):
        check_run_write(USER, store, run_id)
    check_runs_write(USER, store, ["other", "ghost"])
    check_new_run(USER, store, None)


def test_a_batch_is_refused_when_one_of_its_runs_is_outside_the_scope(store):
    check_runs_write(RUN_TOKEN, store, ["parent", "grandchild", "child"])
    with pytest.raises(Forbidden, match="'other'"):
        check_runs_write(RUN_TOKEN, store, ["parent", "other"])


def test_a_run_token_creates_only_runs_under_its_tree(store):
    check_new_run(RUN_TOKEN, store, "parent")
    check_new_run(RUN_TOKEN, store, "grandchild")
    with pytest.raises(Forbidden, match="only child runs of run 'parent'"):
        check_new_run(RUN_TOKEN, store, None)
    with pytest.raises(Forbidden):
        check_new_run(RUN_TOKEN, store, "other")
