"""``runyard workspace create|show`` and ``runyard experiment list`` on real embedded
workspaces."""

from __future__ import annotations

import json

from cli_helpers import invoke, one_error_line

from runyard.core import Experiment, Workspace


def test_create_makes_the_workspace_and_writes_runyard_config_here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("workspace", "create", "demo", "--path", "ws")
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / ".runyard" / "config.json").read_text())
    assert config["workspace_name"] == "demo"
    assert (tmp_path / "ws" / "runyard.db").exists()
    assert str(tmp_path / ".runyard" / "config.json") in result.stdout
    assert Workspace.from_config().name == "demo"


def test_create_without_path_puts_the_workspace_under_runyard_home(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RUNYARD_HOME", str(tmp_path / "home"))
    result = invoke("workspace", "create", "homed", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["path"] == str(tmp_path / "home" / "workspaces" / "homed")


def test_create_json_has_stable_keys(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("workspace", "create", "demo", "--path", "ws", "--json")
    data = json.loads(result.stdout)
    assert set(data) == {"name", "path", "trackingUri", "artifactUri", "configFile"}
    assert data["trackingUri"].startswith("sqlite:///")
    assert data["configFile"] == str(tmp_path / ".runyard" / "config.json")


def test_no_config_writes_nothing_and_says_how_to_reach_the_workspace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("workspace", "create", "demo", "--path", "ws", "--no-config")
    assert result.exit_code == 0, result.output
    assert not (tmp_path / ".runyard").exists()
    assert "--workspace" in result.stderr


def test_config_dir_puts_config_json_there_and_workspace_option_finds_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("workspace", "create", "demo", "--path", "ws", "--config-dir", "cfg")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cfg" / "config.json").exists()
    shown = invoke("-w", "cfg", "workspace", "show", "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["name"] == "demo"
    by_file = invoke("-w", str(tmp_path / "cfg" / "config.json"), "workspace", "show", "--json")
    assert json.loads(by_file.stdout)["configFile"] == str(tmp_path / "cfg" / "config.json")


def test_creating_an_existing_workspace_fails_unless_exist_ok(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert invoke("workspace", "create", "demo", "--path", "ws").exit_code == 0
    again = invoke("workspace", "create", "demo", "--path", "ws")
    assert again.exit_code == 1
    line = one_error_line(again)
    assert "already exists" in line and "--exist-ok" in line
    assert "exist_ok=True" not in line and "Workspace.from_config" not in line
    other = one_error_line(invoke("workspace", "create", "other", "--path", "ws", "--exist-ok"))
    assert "choose another --path" in other
    assert invoke("workspace", "create", "demo", "--path", "ws", "--exist-ok").exit_code == 0


def test_bad_workspace_name_is_exit_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("workspace", "create", "../evil", "--path", "ws")
    assert result.exit_code == 2
    assert "not allowed" in one_error_line(result)


def test_artifact_uri_without_tracking_uri_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("workspace", "create", "demo", "--artifact-uri", str(tmp_path / "a"))
    assert result.exit_code == 2
    assert "--tracking-uri" in one_error_line(result)


def test_tracking_uri_workspace_writes_a_config_naming_the_database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path / 'team.db'}"
    result = invoke(
        "workspace", "create", "team", "--tracking-uri", db, "--artifact-uri", str(tmp_path / "a")
    )
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / ".runyard" / "config.json").read_text())
    assert config["tracking_uri"] == db
    assert config["artifact_uri"] == str(tmp_path / "a")
    assert json.loads(invoke("workspace", "show", "--json").stdout)["path"] is None


def test_show_counts_what_the_workspace_holds(ws, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ws.write_config()
    exp = Experiment(ws, "exp-a")
    exp.start_logging().complete()
    exp.start_logging().complete()
    Experiment(ws, "exp-b")
    model_file = tmp_path / "m.bin"
    model_file.write_bytes(b"weights")
    from runyard.core import Model

    Model.register(ws, model_file, "m1")
    Model.register(ws, model_file, "m1")
    result = invoke("workspace", "show", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["experiments"] == 2
    assert data["runs"] == 2
    assert data["models"] == 1
    assert data["datastores"] == ["workspaceblobstore"]
    human = invoke("workspace", "show")
    assert "test-ws" in human.stdout and "workspaceblobstore" in human.stdout


def test_experiment_list_shows_names_and_run_counts(ws, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ws.write_config()
    exp = Experiment(ws, "keras-mnist")
    exp.start_logging().complete()
    Experiment(ws, "empty")
    table = invoke("experiment", "list")
    assert table.exit_code == 0, table.output
    assert "keras-mnist" in table.stdout and "empty" in table.stdout
    data = json.loads(invoke("experiment", "list", "--json").stdout)
    assert [(e["name"], e["runCount"]) for e in data] == [("keras-mnist", 1), ("empty", 0)]
    assert set(data[0]) == {"name", "id", "runCount", "createdTimeUtc"}
    assert data[0]["createdTimeUtc"].endswith("Z")


def test_experiment_list_on_an_empty_workspace_says_how_experiments_appear(
    ws, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    ws.write_config()
    result = invoke("experiment", "list")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No experiments yet" in result.stderr


def test_create_says_when_it_replaces_the_config_of_another_workspace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert invoke("workspace", "create", "old", "--path", "ws-old").exit_code == 0
    result = invoke("workspace", "create", "new", "--path", "ws-new")
    assert result.exit_code == 0, result.output
    assert "which named workspace 'old'" in result.stderr
    assert (
        json.loads((tmp_path / ".runyard" / "config.json").read_text())["workspace_name"] == "new"
    )
    again = invoke("workspace", "create", "new", "--path", "ws-new", "--exist-ok")
    assert "Replaced" not in again.stderr


def test_an_unwritable_config_dir_is_refused_before_the_workspace_is_created(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("not a folder")
    for config_dir in ("/proc/nope", str(tmp_path / "a-file" / "sub")):
        line = one_error_line(
            invoke("workspace", "create", "demo", "--path", "ws", "--config-dir", config_dir), 2
        )
        assert "config folder" in line and "no workspace was created" in line
        assert "Unexpected" not in line
    assert not (tmp_path / "ws").exists()


def test_sweep_ends_runs_whose_process_is_gone_and_leaves_the_rest(tmp_path, monkeypatch):
    import time

    from runyard.entities.run import RunStatus

    monkeypatch.chdir(tmp_path)
    ws = Workspace.create("swept", path=tmp_path / "ws")
    ws.write_config()
    store = ws.resources.store
    store.create_experiment("e")
    for run_id, age in (("dead", 3600.0), ("alive", 0.0)):
        store.create_run("e", run_id=run_id, status=RunStatus.RUNNING, run_type="submitted")
        store.update_run(run_id, heartbeat_at=time.time() - age)
    ws.close()
    result = invoke("--json", "workspace", "sweep")
    assert result.exit_code == 0, result.output
    ended = json.loads(result.stdout)
    assert [(r["runId"], r["status"], r["error"]["code"]) for r in ended] == [
        ("dead", "Failed", "ExecutorLost")
    ]
    again = invoke("workspace", "sweep")
    assert again.exit_code == 0 and "No run needed sweeping" in again.output
    ws = Workspace.get("swept", path=tmp_path / "ws")
    assert ws.resources.store.get_run("alive").status == RunStatus.RUNNING
    ws.close()
