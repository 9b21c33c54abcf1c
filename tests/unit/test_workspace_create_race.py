"""Two processes creating different workspaces in one empty folder at the same moment: one
wins, the other is told which workspace the folder holds. Before creation was atomic both
succeeded and shared one database."""

from __future__ import annotations

import json
import multiprocessing
import sys

import pytest

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="forks"),
    # Python 3.12+ warns when a process with threads forks; these children only open files.
    pytest.mark.filterwarnings(
        "ignore:.*use of fork\\(\\) may lead to deadlocks:DeprecationWarning"
    ),
]

ROUNDS = 15


def _create(name: str, folder: str, barrier, results) -> None:
    from runyard.core import Workspace
    from runyard.errors import AlreadyExists

    try:
        barrier.wait(timeout=30)
        Workspace.create(name, path=folder).close()
        results.put((name, "created"))
    except AlreadyExists as exc:
        results.put((name, f"AlreadyExists: {exc}"))
    except BaseException as exc:  # reported to the parent, which fails the test
        results.put((name, repr(exc)))


def test_two_processes_creating_workspaces_in_one_folder_one_wins_the_other_is_told(tmp_path):
    context = multiprocessing.get_context("fork")
    for round_ in range(ROUNDS):
        folder = str(tmp_path / f"ws-{round_}")
        barrier, results = context.Barrier(2), context.Queue()
        workers = [
            context.Process(target=_create, args=(name, folder, barrier, results))
            for name in ("x", "y")
        ]
        for worker in workers:
            worker.start()
        answers = dict(results.get(timeout=60) for _ in workers)
        for worker in workers:
            worker.join(timeout=30)
        winners = [name for name, answer in answers.items() if answer == "created"]
        assert len(winners) == 1, f"round {round_}: {answers}"
        (winner,) = winners
        (loser,) = {"x", "y"} - {winner}
        assert answers[loser].startswith("AlreadyExists:"), f"round {round_}: {answers}"
        assert repr(winner) in answers[loser], f"round {round_}: {answers}"
        with open(f"{folder}/workspace.json", encoding="utf-8") as fh:
            assert json.load(fh)["workspace_name"] == winner
