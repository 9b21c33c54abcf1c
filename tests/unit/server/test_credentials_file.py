"""The user's credentials file: private (0600) and written whole, refused when others can
read it, keyed by server URL; and which token a server gets."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from types import SimpleNamespace
from typing import Any, cast

import pytest

from runyard.credentials import (
    ServerLogin,
    credentials_path,
    find_token,
    forget_login,
    read_login,
    save_login,
    server_key,
)
from runyard.errors import InvalidArgument, InvalidState
from runyard.settings import Settings


@pytest.fixture
def settings(tmp_path) -> Settings:
    return dataclasses.replace(Settings.from_env(), home=str(tmp_path / "home"))


def test_a_login_is_written_0600_in_a_0700_folder_and_read_back(settings):
    path = save_login(ServerLogin("http://127.0.0.1:8765/", "ry_abc", "alice"), settings)
    assert path == credentials_path(settings)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    login = read_login("HTTP://127.0.0.1:8765", settings)
    assert login == ServerLogin("http://127.0.0.1:8765", "ry_abc", "alice")
    assert os.listdir(os.path.dirname(path)) == ["credentials.json"]  # no temporary left


def test_a_second_server_is_added_and_a_new_token_replaces_the_old(settings):
    save_login(ServerLogin("http://a:1", "ry_1"), settings)
    save_login(ServerLogin("http://b:2", "ry_2"), settings)
    save_login(ServerLogin("http://a:1", "ry_3"), settings)
    with open(credentials_path(settings), encoding="utf-8") as fh:
        servers = json.load(fh)["servers"]
    assert {k: v["token"] for k, v in servers.items()} == {
        "http://a:1": "ry_3",
        "http://b:2": "ry_2",
    }
    assert forget_login("http://a:1/", settings)
    assert not forget_login("http://a:1", settings)
    assert read_login("http://a:1", settings) is None
    assert stat.S_IMODE(os.stat(credentials_path(settings)).st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_a_file_others_can_read_is_refused_with_the_fix(settings, mode):
    path = save_login(ServerLogin("http://a:1", "ry_1"), settings)
    os.chmod(path, mode)
    with pytest.raises(InvalidState, match=f"chmod 600 {path}") as caught:
        find_token("http://a:1", settings)
    assert "ry_1" not in str(caught.value)
    with pytest.raises(InvalidState):  # nor written over (that would keep the leak quiet)
        save_login(ServerLogin("http://b:1", "ry_2"), settings)


def test_a_malformed_file_is_refused_clearly(settings):
    path = credentials_path(settings)
    os.makedirs(os.path.dirname(path))
    with open(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600), "w") as fh:
        fh.write('{"servers": {"http://a:1": {"no": "token"}}}')
    with pytest.raises(InvalidArgument, match="not a Runyard credentials file"):
        read_login("http://a:1", settings)


def test_find_token_prefers_the_explicit_setting_then_the_file(settings):
    assert find_token("http://a:1", settings) is None
    save_login(ServerLogin("http://a:1", "ry_file"), settings)
    assert find_token("http://a:1", settings) == "ry_file"
    assert find_token("http://other:1", settings) is None
    explicit: Any = SimpleNamespace(token="ry_env", home_dir=settings.home_dir)
    assert find_token("http://a:1", cast(Settings, explicit)) == "ry_env"


@pytest.mark.parametrize("bad", ["ftp://x", "127.0.0.1:8765", "", "http://"])
def test_a_server_that_is_not_an_http_url_is_refused(bad):
    with pytest.raises(InvalidArgument, match="not a server URL"):
        server_key(bad)
