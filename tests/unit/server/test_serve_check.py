"""Before serving: a network address needs an administrator; loopback does not (its API
still needs tokens, so nothing is open meanwhile)."""

from __future__ import annotations

import pytest

from runyard.errors import InvalidArgument, InvalidState
from runyard.server.auth.startup import check_can_serve
from runyard.server.identity import open_identity_store
from runyard.server.settings import ServerSettings


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "runyard.example.com"])
def test_a_network_address_is_refused_until_an_admin_exists(tmp_path, host):
    settings = ServerSettings(workspace=None, home=str(tmp_path), host=host)
    store = open_identity_store(settings.home)
    try:
        with pytest.raises(InvalidState, match=f"runyard server init-admin --home {tmp_path}"):
            check_can_serve(settings, store)
        store.init_admin("root")
        check_can_serve(settings, store)
        store.set_disabled("root", True)  # a disabled admin cannot sign in either
        with pytest.raises(InvalidState):
            check_can_serve(settings, store)
    finally:
        store.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.5"])
def test_a_loopback_address_may_start_before_the_first_admin(tmp_path, host):
    settings = ServerSettings(workspace=None, home=str(tmp_path), host=host)
    store = open_identity_store(settings.home)
    try:
        check_can_serve(settings, store)
    finally:
        store.close()


def test_bad_write_limits_are_refused(tmp_path):
    with pytest.raises(InvalidArgument, match="write_burst at least 1"):
        ServerSettings(workspace=None, home=str(tmp_path), write_burst=0)
    with pytest.raises(InvalidArgument, match="write_rate_per_s must be 0"):
        ServerSettings(workspace=None, home=str(tmp_path), write_rate_per_s=-1)
