"""Opening the REST store: a server URL picks it, it needs a workspace name, and the
token it sends (RUNYARD_TOKEN by default) never leaks into a repr or a child process."""

from __future__ import annotations

import pytest

from runyard.config import WorkspaceConfig
from runyard.errors import BackendError, InvalidArgument
from runyard.resources import WorkspaceResources
from runyard.settings import Settings, settings_table
from runyard.tracking import open_tracking_store
from runyard.tracking.rest import RestTrackingStore
from server_process import free_port


def test_a_server_url_opens_the_rest_store_of_the_named_workspace():
    store = open_tracking_store("http://127.0.0.1:9/", workspace="team", token="t0ken")
    try:
        assert isinstance(store, RestTrackingStore)
        assert (store.url, store.workspace) == ("http://127.0.0.1:9", "team")
        assert "t0ken" not in repr(store)
    finally:
        store.close()


def test_the_workspace_may_be_named_in_the_urls_fragment():
    with RestTrackingStore("https://runyard.example.com#vision") as store:
        assert (store.url, store.workspace) == ("https://runyard.example.com", "vision")


def test_a_server_store_without_a_workspace_is_refused_saying_how_to_name_one():
    with pytest.raises(InvalidArgument, match="workspace=NAME"):
        open_tracking_store("http://127.0.0.1:9")


def test_an_unknown_scheme_lists_the_server_schemes_too():
    with pytest.raises(InvalidArgument, match=r"http://, https://"):
        open_tracking_store("ftp://host/x")


def test_an_unreachable_server_is_a_backend_error_naming_it():
    url = f"http://127.0.0.1:{free_port()}"
    store = RestTrackingStore(url, workspace="team", busy_timeout_s=2)
    with store, pytest.raises(BackendError, match=f"{url} did not answer GET"):
        store.get_run("r")


def test_resources_of_a_server_workspace_pass_its_name_and_runyard_token():
    config = WorkspaceConfig("team", server="http://127.0.0.1:9")
    settings = Settings.from_env({"RUNYARD_TOKEN": "s3cret-token"})
    with WorkspaceResources(config, settings) as resources:
        store = resources.store
        assert isinstance(store, RestTrackingStore) and store.workspace == "team"
        assert store._client()._http.headers["Authorization"] == "Bearer s3cret-token"


def test_the_token_setting_is_never_shown_nor_passed_on():
    settings = Settings.from_env({"RUNYARD_TOKEN": "s3cret-token", "RUNYARD_HEARTBEAT_S": "7"})
    assert settings.token == "s3cret-token"
    assert "s3cret" not in repr(settings)
    assert settings.to_env() == {"RUNYARD_HEARTBEAT_S": "7.0"}
    assert ("RUNYARD_TOKEN", "(none)") in [(env, default) for env, default, _ in settings_table()]


def test_a_token_with_spaces_is_refused():
    with pytest.raises(InvalidArgument, match="RUNYARD_TOKEN"):
        Settings.from_env({"RUNYARD_TOKEN": "Bearer abc"})
