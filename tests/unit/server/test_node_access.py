"""What the server hands the runs it starts: the workspace's name and the server's URL,
a token scoped to the run (minted for the user who launched it), revoked once the run has
ended; and the client's backend for server workspaces."""

from __future__ import annotations

import json

import pytest

from runyard.compute.registry import backend_for
from runyard.compute.remote import ServerComputeBackend
from runyard.config import WorkspaceConfig
from runyard.entities import RunStatus
from runyard.entities.compute import ComputeTargetRecord
from runyard.errors import Forbidden, InvalidArgument
from runyard.resources import ENV_TOKEN, ENV_WORKSPACE, WorkspaceResources
from runyard.server.identity import RunScope, hash_secret, open_identity_store
from runyard.server.node_access import DEFAULT_TOKEN_LIFETIME_S, NodeAccess
from runyard.server.settings import ServerSettings
from runyard.settings import Settings
from runyard.tracking import open_tracking_store


@pytest.fixture
def identity(tmp_path):
    store = open_identity_store(str(tmp_path))
    store.create_user("colin")
    yield store
    store.close()


@pytest.fixture
def tracking():
    store = open_tracking_store("memory://")
    store.create_experiment("exp")
    yield store
    store.close()


def test_a_granted_run_gets_the_server_url_and_a_token_scoped_to_it(identity) -> None:
    access = NodeAccess(identity, "team", "http://127.0.0.1:9999")
    access.grant("exp_1", "colin", max_run_duration_s=30 * 86400.0)
    env = access("exp_1")
    assert json.loads(env[ENV_WORKSPACE]) == {
        "workspace_name": "team",
        "server": "http://127.0.0.1:9999",
    }
    credential = identity.credential(hash_secret(env[ENV_TOKEN]))
    assert credential is not None and credential.token.user == "colin"
    assert credential.token.run_scope == RunScope("team", "exp_1")
    lifetime = credential.token.expires_at - credential.token.created_at
    assert lifetime == pytest.approx(60 * 86400.0)  # twice the run's limit, over a week


def test_a_run_without_a_limit_gets_a_week_and_an_ungranted_run_nothing(identity) -> None:
    access = NodeAccess(identity, "team", "http://127.0.0.1:9999")
    access.grant("exp_1", "colin")
    token = identity.credential(hash_secret(access("exp_1")[ENV_TOKEN])).token
    assert token.expires_at - token.created_at == pytest.approx(DEFAULT_TOKEN_LIFETIME_S)
    with pytest.raises(Forbidden, match="not launched through this server"):
        access("exp_2")
    assert len(identity.list_tokens("colin")) == 1


def test_tokens_of_ended_runs_are_revoked_and_running_ones_kept(identity, tracking) -> None:
    access = NodeAccess(identity, "team", "http://127.0.0.1:9999")
    for run_id in ("exp_1", "exp_2"):
        tracking.create_run("exp", run_id=run_id, status=RunStatus.RUNNING)
        access.grant(run_id, "colin")
        access(run_id)
    tracking.set_run_status("exp_1", RunStatus.COMPLETED)
    assert access.revoke_ended(tracking) == 1
    revoked = {t.run_scope.run_id: t.revoked_at is not None for t in identity.list_tokens("colin")}
    assert revoked == {"exp_1": True, "exp_2": False}
    assert access.revoke_ended(tracking) == 0  # once only


def _url(host: str, port: int, public_url: str | None = None) -> str:
    return ServerSettings(None, "/unused", host=host, port=port, public_url=public_url).url


def test_the_servers_url_reaches_a_wildcard_address_on_the_loopback() -> None:
    assert _url("0.0.0.0", 8765) == "http://127.0.0.1:8765"
    assert _url("10.0.0.5", 80) == "http://10.0.0.5:80"
    assert _url("::1", 8765) == "http://[::1]:8765"


def test_a_public_url_is_what_the_server_gives_out_and_must_be_safe_for_tokens() -> None:
    assert _url("0.0.0.0", 8765, "https://ml.example.com/") == "https://ml.example.com"
    assert _url("127.0.0.1", 8765, "http://127.0.0.1:9000") == "http://127.0.0.1:9000"
    # A token sent in clear over a network leaks: plain http only to this machine.
    with pytest.raises(InvalidArgument, match="--public-url"):
        _url("0.0.0.0", 8765, "http://ml.example.com")
    with pytest.raises(InvalidArgument, match="--public-url"):
        _url("0.0.0.0", 8765, "https://ml.example.com/runyard")


def test_embedded_workspaces_hand_their_config_to_runs_as_before(tmp_path) -> None:
    config = WorkspaceConfig(
        workspace_name="solo",
        tracking_uri=f"sqlite:///{tmp_path}/r.db",
        artifact_uri=str(tmp_path / "files"),
    )
    resources = WorkspaceResources(config, Settings())
    assert resources.node_env("any") == {ENV_WORKSPACE: config.to_json()}


def test_a_server_workspace_places_runs_through_its_server() -> None:
    config = WorkspaceConfig(workspace_name="team", server="http://127.0.0.1:9")
    resources = WorkspaceResources(config, Settings())
    local = ComputeTargetRecord("local", "local", {})
    backend = backend_for(resources, local)
    try:
        assert isinstance(backend, ServerComputeBackend)
        assert backend.provision() == local  # the server's machine: nothing to start
    finally:
        backend.close()
    cluster = ComputeTargetRecord("gpu", "ray", {})
    backend = backend_for(resources, cluster)
    try:
        with pytest.raises(InvalidArgument, match="may create only local targets"):
            backend.provision()
        with pytest.raises(InvalidArgument, match="may create only local targets"):
            backend.deprovision()
    finally:
        backend.close()
    # A running Ray cluster the server attaches to: nothing to start or stop from here.
    attached = ComputeTargetRecord("nodes", "ray", {"address": "http://10.0.0.5:8265"})
    backend = backend_for(resources, attached)
    try:
        assert backend.provision() == attached
        backend.deprovision()
    finally:
        backend.close()


def test_a_cluster_on_other_machines_is_refused_a_server_url_only_this_machine_reaches() -> None:
    from runyard.compute.ray.settings import check_server_reaches_nodes

    def access(url: str) -> dict[str, str]:
        config = WorkspaceConfig(workspace_name="team", server=url)
        return {ENV_WORKSPACE: config.to_json(), "RUNYARD_TOKEN": "t"}

    here = access("http://127.0.0.1:8765")
    check_server_reaches_nodes(here, "nodes", "http://127.0.0.1:8265", ["127.0.0.1"])
    with pytest.raises(InvalidArgument, match="--public-url"):
        check_server_reaches_nodes(here, "nodes", "http://127.0.0.1:8265", ["192.0.2.7"])
    with pytest.raises(InvalidArgument, match="--public-url"):
        check_server_reaches_nodes(here, "nodes", "http://192.0.2.7:8265")
    public = access("https://ml.example.com")
    check_server_reaches_nodes(public, "nodes", "http://192.0.2.7:8265", ["192.0.2.8"])
