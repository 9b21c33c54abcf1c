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


def test_with_several_workers_the_check_runs_in_a_child_and_still_refuses(tmp_path):
    """``runyard server start --workers N`` checks in a forked child (so the supervisor
    never loads the identity store); a refusal still reaches the command as the same
    error, with its message."""
    import subprocess
    import sys

    command = ["server", "start", "--home", str(tmp_path), "--host", "0.0.0.0", "--workers", "2"]
    result = subprocess.run(
        [sys.executable, "-m", "runyard.cli", *command],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert f"runyard server init-admin --home {tmp_path}" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_a_forked_check_answers_its_value_and_raises_its_errors():
    from runyard.cli.server import _in_forked_child
    from runyard.errors import NotFound, RunyardError

    assert _in_forked_child(lambda a, b: {"sum": a + b}, 2, 3) == {"sum": 5}

    def refuse() -> None:
        raise NotFound("No such thing: create it first.")

    with pytest.raises(NotFound, match="create it first"):
        _in_forked_child(refuse)

    def crash() -> None:
        raise KeyError("boom")

    with pytest.raises(RunyardError, match="start-up check failed"):
        _in_forked_child(crash)
