"""A run's snapshot over a real server, as the run page's file browser reads it: the files
its manifest lists with their sizes, each file inline or as a download, and nothing else:
not another snapshot's files, not a path out of it, not for a run that has none."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from runyard.artifacts.snapshots import take_snapshot
from runyard.core.workspace import Workspace
from runyard.entities import RunStatus
from server_process import ServerProcess, start_server

UI = "/api/v1/workspaces/lab/ui"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("ui-snapshot")
    ws = Workspace.create("lab", path=root / "ws")
    store, artifacts = ws._resources.store, ws._resources.artifacts
    src, other = root / "src", root / "other"
    (src / "pkg").mkdir(parents=True)
    (src / "train.py").write_text("print('training')\n")
    (src / "pkg" / "model.py").write_text("LAYERS = 3\n")
    (src / "conf.json").write_text('{"lr": 0.1}')
    other.mkdir()
    (other / "secret.py").write_text("TOKEN = 'x'\n")
    snapshot_id = take_snapshot(artifacts, src)
    take_snapshot(artifacts, other)
    store.create_experiment("exp")
    store.create_run(
        "exp",
        run_id="submitted",
        status=RunStatus.QUEUED,
        details={"runDefinition": {"script": "train.py", "snapshotId": snapshot_id}},
    )
    store.create_run("exp", run_id="interactive", status=RunStatus.RUNNING)
    ws.close()
    server = start_server(str(root / "ws"), log_dir=str(root))
    try:
        yield server
    finally:
        server.stop()


def test_the_snapshot_lists_its_files_by_path_with_sizes(lab: ServerProcess) -> None:
    with lab.client() as client:
        listed = client.get(f"{UI}/runs/submitted/snapshot").json()
    assert len(listed["snapshot_id"]) == 32
    assert listed["files"] == [
        {"name": "conf.json", "size": 11},
        {"name": "pkg/model.py", "size": 11},
        {"name": "train.py", "size": 18},
    ]


def test_a_snapshot_file_is_served_inline_or_as_a_download(lab: ServerProcess) -> None:
    with lab.client() as client:
        inline = client.get(f"{UI}/runs/submitted/snapshot/pkg/model.py")
        download = client.get(
            f"{UI}/runs/submitted/snapshot/conf.json", params={"download": "true"}
        )
    assert inline.status_code == 200 and inline.text == "LAYERS = 3\n"
    assert inline.headers["content-type"].startswith("text/plain")
    assert inline.headers["content-disposition"].startswith("inline")
    assert "sandbox" in inline.headers["content-security-policy"]
    assert download.json() == {"lr": 0.1}
    assert download.headers["content-disposition"].startswith("attachment")


def test_only_the_runs_own_snapshot_files_are_served(lab: ServerProcess) -> None:
    with lab.client() as client:
        other = client.get(f"{UI}/runs/submitted/snapshot/secret.py")
        escape = client.get(f"{UI}/runs/submitted/snapshot/..%2F..%2Fmanifest.json")
        none = client.get(f"{UI}/runs/interactive/snapshot")
        ghost = client.get(f"{UI}/runs/ghost/snapshot")
        reader_needed = client.get(
            f"{UI}/runs/submitted/snapshot", headers={"Authorization": "Bearer nope"}
        )
    assert other.status_code == 404 and "no file 'secret.py'" in other.json()["error"]["message"]
    assert escape.status_code in (400, 404)
    assert none.status_code == 404
    assert "only submitted runs" in none.json()["error"]["message"]
    assert ghost.status_code == 404
    assert reader_needed.status_code == 401
