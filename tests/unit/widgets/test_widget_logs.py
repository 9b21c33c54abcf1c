"""The widget's log tail: the file a run's phase calls for, read incrementally."""

from __future__ import annotations

import dataclasses

import pytest

from runyard.artifacts.layout import DRIVER_LOG, EXECUTOR_LOG, HYPERDRIVE_LOG, run_file_key
from runyard.core import Experiment
from runyard.entities.run import RunStatus
from runyard.widgets.logs import LogFollower


@pytest.fixture
def submitted(ws):
    Experiment(ws, "logs")
    return ws.resources.store.create_run(
        "logs", run_id="r_1", status=RunStatus.PREPARING, run_type="submitted"
    )


def append(ws, name, data: bytes):
    ws.resources.artifacts.append_bytes(data, run_file_key("r_1", name))


def test_the_executor_log_until_running_then_the_scripts_output(ws, submitted):
    follower = LogFollower(ws.resources.artifacts, "r_1")
    append(ws, EXECUTOR_LOG, b"building environment\n")
    assert follower.update(submitted) is True
    assert follower.view().name == EXECUTOR_LOG
    assert follower.view().text == "building environment"
    append(ws, EXECUTOR_LOG, b"placed on local\n")  # written before the run moved on
    append(ws, DRIVER_LOG, b"epoch 1\n")
    running = dataclasses.replace(submitted, status=RunStatus.RUNNING)
    assert follower.update(running) is True
    view = follower.view()
    assert view.name == DRIVER_LOG
    assert view.text == "building environment\nplaced on local\nepoch 1"
    assert follower.update(running) is False  # nothing appended: nothing changed


def test_only_the_last_lines_are_kept_and_a_line_shows_before_its_newline(ws, submitted):
    running = dataclasses.replace(submitted, status=RunStatus.RUNNING)
    follower = LogFollower(ws.resources.artifacts, "r_1", max_lines=3)
    append(ws, DRIVER_LOG, "".join(f"line {i}\n" for i in range(10)).encode() + b"partial")
    follower.update(running)
    assert follower.view().text == "line 8\nline 9\npartial"
    append(ws, DRIVER_LOG, b" and done\n")
    follower.update(running)
    assert follower.view().text == "line 8\nline 9\npartial and done"


def test_a_character_split_between_two_reads_is_decoded_whole(ws, submitted):
    running = dataclasses.replace(submitted, status=RunStatus.RUNNING)
    follower = LogFollower(ws.resources.artifacts, "r_1")
    data = "精度 0.98\n".encode()
    append(ws, DRIVER_LOG, data[:1])
    follower.update(running)
    append(ws, DRIVER_LOG, data[1:])
    follower.update(running)
    assert follower.view().text == "精度 0.98"


def test_a_hyperdrive_run_shows_its_tuning_log(ws):
    Experiment(ws, "logs")
    parent = ws.resources.store.create_run(
        "logs", run_id="r_1", status=RunStatus.QUEUED, run_type="hyperdrive"
    )
    append(ws, HYPERDRIVE_LOG, b"r_1_0 got --lr 0.1\n")
    follower = LogFollower(ws.resources.artifacts, "r_1")
    follower.update(parent)
    assert follower.view().name == HYPERDRIVE_LOG
    assert follower.view().text == "r_1_0 got --lr 0.1"


def test_no_log_yet_is_an_empty_tail(ws, submitted):
    follower = LogFollower(ws.resources.artifacts, "r_1")
    follower.update(submitted)
    assert follower.view().text == ""
