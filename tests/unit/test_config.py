import json

import pytest

from runyard.config import WorkspaceConfig, find_config_file
from runyard.errors import InvalidArgument, NotFound


def test_config_found_in_runyard_subfolder_of_a_parent(tmp_path, monkeypatch):
    (tmp_path / ".runyard").mkdir()
    cfg = tmp_path / ".runyard" / "config.json"
    cfg.write_text(json.dumps({"workspace_name": "w", "path": "ws"}))
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert find_config_file() == str(cfg)


def test_missing_config_says_what_was_searched_and_how_to_create(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotFound) as info:
        find_config_file()
    message = str(info.value)
    assert str(tmp_path / "config.json") in message
    assert "runyard workspace create" in message


def test_relative_path_in_config_is_relative_to_the_file(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"workspace_name": "w", "path": "ws"}))
    assert WorkspaceConfig.load(cfg).path == str(tmp_path / "ws")


def test_sdk_v1_keys_are_ignored(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(
        json.dumps(
            {"subscription_id": "x", "resource_group": "y", "workspace_name": "w", "path": "/tmp/w"}
        )
    )
    assert WorkspaceConfig.load(cfg).workspace_name == "w"


def test_config_without_location_is_invalid():
    with pytest.raises(InvalidArgument, match="neither"):
        WorkspaceConfig("w")
    with pytest.raises(InvalidArgument, match="artifact_uri"):
        WorkspaceConfig("w", tracking_uri="postgresql://x/y")


def test_broken_json_is_a_clear_error(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text("{nope")
    with pytest.raises(InvalidArgument, match="not valid JSON"):
        WorkspaceConfig.load(cfg)


def test_embedded_config_resolves_sqlite_and_artifacts(tmp_path):
    cfg = WorkspaceConfig("w", path=str(tmp_path))
    assert cfg.resolved_tracking_uri == f"sqlite:///{tmp_path}/runyard.db"
    assert cfg.resolved_artifact_uri == f"{tmp_path}/artifacts"
