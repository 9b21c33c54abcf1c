import json
import os

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


# -- what a config may name ----------------------------------------------------------------


@pytest.mark.parametrize(
    "artifact_uri",
    [
        "http://host/x",
        "ftp://host/x",
        "simplecache::s3://bucket/x",
        "data:text/plain,hello",
        "sftp://host/x",
        "/x/http://y",
    ],
)
def test_an_artifact_uri_outside_the_allow_list_is_refused_naming_the_file(tmp_path, artifact_uri):
    cfg = tmp_path / "config.json"
    cfg.write_text(
        json.dumps(
            {"workspace_name": "w", "tracking_uri": "sqlite:///x.db", "artifact_uri": artifact_uri}
        )
    )
    with pytest.raises(InvalidArgument, match="artifact_uri") as info:
        WorkspaceConfig.load(cfg)
    assert str(cfg) in str(info.value)


@pytest.mark.parametrize(
    "artifact_uri",
    [
        "/data/runyard",
        "relative/folder",
        "file:///data/x",
        "s3://bucket/x",
        "s3a://bucket/x",
        "az://c/x",
        "abfs://c/x",
        "abfss://c@acct.dfs.core.windows.net/x",
        "gs://bucket/x",
        "gcs://bucket/x",
        "memory://x",
        "https://team.example/artifacts",
        "http://127.0.0.1:8080/x",
        "http://localhost/x",
    ],
)
def test_allowed_artifact_uris_are_kept(artifact_uri):
    cfg = WorkspaceConfig("w", tracking_uri="sqlite:///x.db", artifact_uri=artifact_uri)
    assert cfg.artifact_uri == artifact_uri


@pytest.mark.parametrize(
    "tracking_uri",
    [
        "sqlite:///x.db",
        "sqlite://",
        "sqlite+pysqlite:///x.db",
        "postgresql://u@h/db",
        "postgres://u@h/db",
        "postgresql+psycopg://u@h/db",
        "https://team.example",
        "http://localhost:5000",
    ],
)
def test_allowed_tracking_uris_are_kept(tracking_uri):
    cfg = WorkspaceConfig("w", tracking_uri=tracking_uri, artifact_uri="/a")
    assert cfg.tracking_uri == tracking_uri


@pytest.mark.parametrize(
    "tracking_uri, words",
    [
        ("http://evil.example/api", "plain http"),
        ("mysql://u@h/db", "does not accept"),
        ("file:///x.db", "does not accept"),
        ("runyard.db", "not a URL"),
    ],
)
def test_a_tracking_uri_outside_the_allow_list_is_refused(tracking_uri, words):
    with pytest.raises(InvalidArgument, match=words):
        WorkspaceConfig("w", tracking_uri=tracking_uri, artifact_uri="/a")


def test_an_unknown_postgres_driver_names_the_driver_and_the_extra(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(
        json.dumps(
            {
                "workspace_name": "w",
                "tracking_uri": "postgresql+nosuchdriver://h/db",
                "artifact_uri": "/a",
            }
        )
    )
    with pytest.raises(InvalidArgument, match=r"'nosuchdriver'.*runyard\[postgres\]") as info:
        WorkspaceConfig.load(cfg)
    assert str(cfg) in str(info.value)


@pytest.mark.parametrize(
    "change, key",
    [
        ({"tracking_uri": ["x"]}, "tracking_uri"),
        ({"artifact_uri": 5}, "artifact_uri"),
        ({"path": ["ws"]}, "path"),
        ({"workspace_name": ["w"]}, "workspace_name"),
        ({"storage_options": 5}, "storage_options"),
        ({"storage_options": "anon=true"}, "storage_options"),
        ({"storage_options": ["anon"]}, "storage_options"),
    ],
)
def test_a_value_of_the_wrong_type_names_the_key_and_the_file(tmp_path, change, key):
    cfg = tmp_path / "config.json"
    data = {"workspace_name": "w", "tracking_uri": "sqlite:///x.db", "artifact_uri": "/a"}
    cfg.write_text(json.dumps({**data, **change}))
    with pytest.raises(InvalidArgument, match=f"'{key}' must be") as info:
        WorkspaceConfig.load(cfg)
    assert str(cfg) in str(info.value)


# -- which config files found by searching are trusted -------------------------------------


@pytest.fixture
def parent_config(tmp_path, monkeypatch):
    """A config.json in tmp_path, and the current folder two levels below it."""
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"workspace_name": "w", "path": "ws"}))
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    monkeypatch.delenv("RUNYARD_SAFE_DIRECTORIES", raising=False)
    return cfg


def test_a_parent_config_writable_by_others_is_refused_with_how_to_trust_it(parent_config):
    parent_config.chmod(0o666)
    with pytest.raises(InvalidArgument, match="other users can write it") as info:
        find_config_file()
    message = str(info.value)
    assert "RUNYARD_SAFE_DIRECTORIES" in message and "--workspace" in message


def test_a_parent_config_owned_by_another_user_is_refused(parent_config, monkeypatch):
    if os.getuid() == 0:
        os.chown(parent_config, 4242, -1)  # root can give the file away
    else:  # pretend to be someone else: the file's owner is then another user
        me = os.getuid()
        monkeypatch.setattr("os.getuid", lambda: me + 1)
    with pytest.raises(InvalidArgument, match="owned by user id"):
        find_config_file()


def test_a_parent_config_in_a_folder_others_can_write_is_refused(parent_config):
    parent_config.parent.chmod(0o777)
    try:
        with pytest.raises(InvalidArgument, match=r"its folder .* is writable"):
            find_config_file()
    finally:
        parent_config.parent.chmod(0o700)


def test_a_parent_config_is_trusted_when_listed_or_given_explicitly(parent_config, monkeypatch):
    parent_config.chmod(0o666)
    assert find_config_file(parent_config) == str(parent_config)
    monkeypatch.setenv("RUNYARD_SAFE_DIRECTORIES", str(parent_config.parent))
    assert find_config_file() == str(parent_config)


def test_a_config_in_the_current_folder_is_trusted_as_it_is(parent_config, monkeypatch):
    parent_config.chmod(0o666)
    monkeypatch.chdir(parent_config.parent)
    assert find_config_file() == str(parent_config)
