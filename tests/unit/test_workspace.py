import json
import os

import pytest

from runyard.core import Experiment, Workspace
from runyard.errors import AlreadyExists, BackendError, InvalidArgument, NotFound


def test_create_makes_one_folder_with_wal_database_and_artifacts(tmp_path):
    ws = Workspace.create("demo", path=tmp_path / "w")
    assert (tmp_path / "w" / "runyard.db").exists()
    assert (tmp_path / "w" / "artifacts").is_dir()
    import sqlite3

    mode = sqlite3.connect(tmp_path / "w" / "runyard.db").execute("PRAGMA journal_mode").fetchone()
    assert mode[0] == "wal"
    ws.close()


def test_create_twice_raises_unless_exist_ok(tmp_path):
    Workspace.create("demo", path=tmp_path / "w").close()
    with pytest.raises(AlreadyExists, match="exist_ok"):
        Workspace.create("demo", path=tmp_path / "w")
    again = Workspace.create("demo", path=tmp_path / "w", exist_ok=True)
    assert again.name == "demo"
    again.close()


def test_create_refuses_a_folder_holding_another_workspace(tmp_path):
    Workspace.create("one", path=tmp_path / "w").close()
    with pytest.raises(AlreadyExists, match="one"):
        Workspace.create("two", path=tmp_path / "w", exist_ok=True)


def test_default_path_is_under_runyard_home(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNYARD_HOME", str(tmp_path / "home"))
    ws = Workspace.create("homed")
    assert ws.config.path == str(tmp_path / "home" / "workspaces" / "homed")
    assert Workspace.get("homed").name == "homed"
    ws.close()


def test_bad_workspace_name_is_invalid(tmp_path):
    with pytest.raises(InvalidArgument):
        Workspace.create("../evil", path=tmp_path / "w")


def test_write_config_then_from_config_finds_it_from_a_subfolder(tmp_path, monkeypatch):
    ws = Workspace.create("demo", path=tmp_path / "w")
    monkeypatch.chdir(tmp_path)
    written = ws.write_config()
    assert written == os.path.join(".runyard", "config.json")
    assert (
        json.loads((tmp_path / ".runyard" / "config.json").read_text())["workspace_name"] == "demo"
    )
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    found = Workspace.from_config()
    assert found.name == "demo"
    assert found.config.path == str(tmp_path / "w")
    found.close()
    ws.close()


def test_from_config_without_config_says_how_to_create_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotFound, match="runyard workspace create"):
        Workspace.from_config()


def test_from_config_pointing_at_missing_workspace_is_clear(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"workspace_name": "gone", "path": str(tmp_path / "nowhere")}))
    with pytest.raises(NotFound, match="holds no workspace"):
        Workspace.from_config(cfg)


def test_experiments_and_runs_are_listed(ws):
    Experiment(ws, "b")
    exp = Experiment(ws, "a")
    run = exp.start_logging()
    run.complete()
    assert sorted(ws.experiments) == ["a", "b"]
    assert [r.id for r in ws.get_runs()] == [run.id]


def test_default_datastore_exists(ws):
    assert ws.get_default_datastore().name == "workspaceblobstore"


def test_workspace_details_hide_passwords():
    from runyard.core.workspace import _redact

    assert _redact("postgresql://u:secret@h/db") == "postgresql://u:***@h/db"
    assert _redact("sqlite:///x.db") == "sqlite:///x.db"


def test_a_workspace_whose_database_was_truncated_to_zero_bytes_is_refused(tmp_path):
    folder = tmp_path / "ws"
    ws = Workspace.create("trunc", path=folder)
    with Experiment(ws, "e").start_logging() as run:
        run.log("loss", 0.5)
    ws.close()
    (folder / "runyard.db").write_bytes(b"")  # what a crash or a full disk leaves
    with pytest.raises(BackendError, match=r"is empty \(0 bytes\).*Restore runyard\.db") as info:
        Workspace.get("trunc", path=folder).resources.store.list_experiments()
    assert str(folder / "runyard.db") in str(info.value)
    assert (folder / "runyard.db").stat().st_size == 0  # nothing written over it


def test_an_empty_sqlite_file_outside_a_workspace_folder_is_a_new_database(tmp_path):
    from runyard.tracking import open_tracking_store

    (tmp_path / "new.db").write_bytes(b"")
    store = open_tracking_store(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        assert store.list_experiments() == []
    finally:
        store.close()


def test_the_marker_name_the_sqlite_check_looks_for_is_the_one_create_writes():
    from runyard.config import WORKSPACE_MARKER
    from runyard.core import workspace

    assert workspace.WORKSPACE_MARKER == WORKSPACE_MARKER
