"""Claims on a HyperDrive run's controller (a compare-and-set in the store): one winner per
generation, even among concurrent claimants; a fresh claim is a sign of life; a controller
that sees a newer claim stops without touching the run; a sweep whose controller is gone
and whose saved state is unreadable is marked Failed with the reason."""

from __future__ import annotations

import threading
import time

import pytest

from runyard.core import Experiment
from runyard.entities.run import RunStatus
from runyard.resources import WorkspaceResources
from runyard.sweep.controller import SweepController
from runyard.sweep.launch import (
    CLAIM_PREFIX,
    Claim,
    claim_controller,
    controller_gone,
    latest_claim,
    sweep_controllers,
)


@pytest.fixture(autouse=True)
def _scratch(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNYARD_SCRATCH", str(tmp_path / "scratch"))


@pytest.fixture
def dead_sweep(ws):
    """A Running HyperDrive run whose controller stopped beating an hour ago."""
    store = ws.resources.store
    Experiment(ws, "tune")
    store.create_run("tune", run_id="hd_1", status=RunStatus.RUNNING, run_type="hyperdrive")
    store.update_run("hd_1", heartbeat_at=time.time() - 3600)
    return store.get_run("hd_1")


def test_two_claims_of_the_same_generation_have_one_winner(ws, dead_sweep):
    first = claim_controller(ws.resources, dead_sweep)
    second = claim_controller(ws.resources, dead_sweep)  # decided on the same stale record
    assert first is not None and first.generation == 1
    assert second is None
    after = ws.resources.store.get_run("hd_1")
    assert latest_claim(after) == first
    assert [k for k in after.properties if k.startswith(CLAIM_PREFIX)] == [f"{CLAIM_PREFIX}1"]
    third = claim_controller(ws.resources, after)  # the next restart: the next generation
    assert third is not None and third.generation == 2


def test_concurrent_claimants_on_their_own_connections_have_one_winner(ws, dead_sweep):
    config = ws.resources.config.to_json()
    won: list[Claim | None] = []
    start = threading.Barrier(6)

    def claimant():
        with WorkspaceResources.from_json(config) as resources:
            record = resources.store.get_run("hd_1")
            start.wait()
            won.append(claim_controller(resources, record))

    threads = [threading.Thread(target=claimant) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(won) == 6
    assert len([c for c in won if c is not None]) == 1


def test_a_fresh_claim_is_a_sign_of_life(ws, dead_sweep):
    assert controller_gone(ws.resources, dead_sweep)
    claim_controller(ws.resources, dead_sweep)
    assert not controller_gone(ws.resources, ws.resources.store.get_run("hd_1"))


def test_the_claim_travels_to_the_controller_and_back():
    claim = Claim(3, "1700000000.5:host:42:abc")
    assert Claim.from_env(claim.to_env()) == claim
    assert claim.claimed_at == 1700000000.5
    assert Claim.from_env(None) is None and Claim.from_env("x:y") is None


def test_a_superseded_controller_stops_without_touching_the_run(ws, dead_sweep):
    mine = claim_controller(ws.resources, dead_sweep)
    claim_controller(ws.resources, ws.resources.store.get_run("hd_1"))  # a newer one
    assert SweepController(ws.resources, "hd_1", claim=mine).run() == 0
    after = ws.resources.store.get_run("hd_1")
    assert after.status is RunStatus.RUNNING and "executor" not in after.details


def test_sweeping_a_dead_sweep_whose_state_is_unreadable_fails_it_with_the_reason(ws, dead_sweep):
    swept = sweep_controllers(ws.resources)
    assert [(s.record.run_id, s.resumed) for s in swept] == [("hd_1", False)]
    record = ws.resources.store.get_run("hd_1")
    assert record.status is RunStatus.FAILED
    assert record.error["code"] == "ExecutorLost"
    assert "cannot be resumed: its saved study state is missing" in record.error["message"]
    assert sweep_controllers(ws.resources) == []  # ended: nothing more to do


def test_sweeping_leaves_live_sweeps_and_other_runs_alone(ws, dead_sweep):
    store = ws.resources.store
    store.update_run("hd_1", heartbeat_at=time.time())
    store.create_run("tune", run_id="plain", status=RunStatus.RUNNING, run_type="submitted")
    store.update_run("plain", heartbeat_at=time.time() - 3600)
    assert sweep_controllers(ws.resources) == []
    assert store.get_run("hd_1").status is RunStatus.RUNNING
    assert store.get_run("plain").status is RunStatus.RUNNING  # the node sweeper's business
