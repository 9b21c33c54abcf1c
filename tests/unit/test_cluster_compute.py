"""ClusterCompute/AmlCompute provisioning settings, VM sizes, placement and the autoscaler
mapping: everything about cluster targets that needs no running Ray."""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import threading
import urllib.request

import pytest

from runyard.compute.backend import ResourceRequest
from runyard.compute.ray.autoscaling import fake_multinode_config, worker_node_type
from runyard.compute.ray.jobs import RayJobsClient, RayNode, normalise_address
from runyard.compute.ray.placement import (
    local_head_limits,
    local_node_share,
    machine_shape,
    place_on_cluster,
    place_on_local_head,
)
from runyard.compute.ray.settings import (
    ClusterSettings,
    address_is_this_machine,
    check_workspace_reaches_nodes,
)
from runyard.compute.sizes import NodeShape, known_size_names, lookup_vm_size
from runyard.core.compute import AmlCompute, ClusterCompute, ComputeTarget
from runyard.errors import BackendError, InvalidArgument
from runyard.settings import Settings

GIB = 2**30


# -- VM sizes -----------------------------------------------------------------------------
def test_seed_size_standard_nc6_is_six_cpus_one_k80():
    shape = lookup_vm_size("STANDARD_NC6")
    assert (shape.cpus, shape.gpus, shape.memory_gb, shape.gpu_model) == (6, 1, 56, "K80")


@pytest.mark.parametrize("spelling", ["Standard_NC6", "standard_nc6", "NC6", " nc6 "])
def test_vm_size_names_ignore_case_and_the_standard_prefix(spelling):
    assert lookup_vm_size(spelling).name == "STANDARD_NC6"


@pytest.mark.parametrize(
    ("name", "cpus", "gpus"),
    [("cpu-4", 4, 0), ("CPU-2", 2, 0), ("gpu-2", 12, 2), ("Standard_D2_v3", 2, 0)],
)
def test_generic_and_azure_sizes_map_to_their_shape(name, cpus, gpus):
    shape = lookup_vm_size(name)
    assert (shape.cpus, shape.gpus) == (cpus, gpus)


def test_every_azure_series_the_docs_promise_is_in_the_table():
    names = known_size_names()
    for series in ("STANDARD_NC", "STANDARD_ND", "STANDARD_NV", "STANDARD_D", "STANDARD_F"):
        assert any(n.startswith(series) for n in names), series


def test_unknown_vm_size_is_an_error_listing_known_sizes():
    with pytest.raises(
        InvalidArgument, match=r"Unknown vm_size 'STANDARD_XYZ9'.*cpu-2.*STANDARD_NC6"
    ):
        lookup_vm_size("STANDARD_XYZ9")


@pytest.mark.parametrize("bad", ["", None, 6])
def test_vm_size_that_is_not_a_name_is_refused(bad):
    with pytest.raises(InvalidArgument, match="vm_size must be"):
        lookup_vm_size(bad)


# -- provisioning_configuration -----------------------------------------------------------
def test_amlcompute_is_clustercompute_with_the_sdk_v1_type_name():
    assert AmlCompute is ClusterCompute
    assert ClusterCompute._type_name == "AmlCompute"


def test_seed_provisioning_configuration_records_the_canonical_size_and_bounds():
    config = AmlCompute.provisioning_configuration(vm_size="Standard_NC6", max_nodes=4)
    assert config.kind == "cluster"
    assert config.config["vm_size"] == "STANDARD_NC6"
    assert (config.config["min_nodes"], config.config["max_nodes"]) == (0, 4)
    assert config.config["address"] is None
    json.dumps(config.config)  # stored as JSON


def test_azure_only_settings_are_accepted_and_ignored():
    config = AmlCompute.provisioning_configuration(
        vm_size="cpu-2",
        admin_username="me",
        vnet_name="net",
        subnet_name="default",
        location="westeurope",
        enable_node_public_ip=False,
    )
    assert "vnet_name" not in config.config


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_nodes": -1}, "min_nodes must be a whole number >= 0"),
        ({"max_nodes": 0}, "max_nodes must be a whole number >= 1"),
        ({"max_nodes": 2.5}, "max_nodes must be a whole number"),
        ({"min_nodes": 3, "max_nodes": 2}, "min_nodes <= max_nodes"),
        ({"idle_seconds_before_scaledown": -5}, "idle_seconds_before_scaledown"),
        ({"idle_seconds_before_scaledown": float("nan")}, "idle_seconds_before_scaledown"),
        ({"idle_seconds_before_scaledown": 10**12}, r"from 0 to 2592000 \(30 days\)"),
        ({"max_nodes": 10**20}, "beyond the 10000 nodes"),
        ({"min_nodes": 10**6, "max_nodes": 10**6}, "min_nodes=1000000 is beyond"),
        ({"vm_priority": "spot"}, "vm_priority must be one of dedicated, lowpriority"),
        ({"vm_size": "huge"}, "Unknown vm_size"),
        ({"address": "ray://head:10001"}, "Ray Client address"),
        ({"address": "grpc://head:1"}, "use http:// or https://"),
        ({"address": "http://127.0.0.1:8265", "simulated_nodes": True}, "cannot be combined"),
        ({"tags": ["a"]}, "tags must be a dict"),
    ],
)
def test_bad_provisioning_settings_are_refused_with_what_to_give(kwargs, message):
    with pytest.raises(InvalidArgument, match=message):
        ClusterCompute.provisioning_configuration(**kwargs)


def test_address_without_scheme_is_taken_as_http():
    assert normalise_address("head:8265") == "http://head:8265"
    config = ClusterCompute.provisioning_configuration(address="127.0.0.1:8265/")
    assert config.config["address"] == "http://127.0.0.1:8265"


def test_creating_an_attached_target_on_a_closed_port_fails_clearly_and_leaves_nothing(ws):
    port = _closed_port()
    config = AmlCompute.provisioning_configuration(address=f"http://127.0.0.1:{port}")
    with pytest.raises(
        BackendError, match=rf"Cannot reach the Ray cluster at http://127.0.0.1:{port}"
    ):
        ComputeTarget.create(ws, "attached", config)
    assert [t.name for t in ComputeTarget.list(ws)] == ["local"]


def test_embedded_workspace_refuses_a_cluster_on_another_machine(ws):
    config = AmlCompute.provisioning_configuration(address="http://192.0.2.250:8265")
    with pytest.raises(InvalidArgument, match="Multi-machine clusters need a server workspace"):
        ComputeTarget.create(ws, "remote", config)
    assert [t.name for t in ComputeTarget.list(ws)] == ["local"]


def test_a_server_workspace_may_use_a_remote_cluster():
    class ServerConfig:
        workspace_name = "team"
        resolved_tracking_uri = "postgresql+psycopg://db/runyard"
        resolved_artifact_uri = "s3://bucket/runyard"

    check_workspace_reaches_nodes(ServerConfig(), "t", "http://192.0.2.250:8265", ["192.0.2.9"])


def test_embedded_workspace_refuses_a_local_head_with_nodes_elsewhere(ws):
    with pytest.raises(InvalidArgument, match=r"nodes 192\.0\.2\.9"):
        check_workspace_reaches_nodes(
            ws.config, "t", "http://127.0.0.1:1", ["127.0.0.1", "192.0.2.9"]
        )


def test_loopback_and_own_addresses_are_this_machine():
    assert address_is_this_machine("http://127.0.0.1:8265")
    assert address_is_this_machine("localhost:1")
    assert not address_is_this_machine("http://192.0.2.250:8265")
    assert not address_is_this_machine("http://no-such-host.invalid:8265")


# -- the job API client -------------------------------------------------------------------
def test_job_api_client_on_a_closed_port_says_cannot_reach():
    client = RayJobsClient(f"http://127.0.0.1:{_closed_port()}", timeout=2)
    with pytest.raises(BackendError, match=r"Cannot reach the Ray cluster.*dashboard"):
        client.version()


@contextlib.contextmanager
def _http_server(answer):
    """A one-thread HTTP server on a free loopback port; ``answer(method, path, headers)``
    gives (status, body bytes) for each request. Yields the server's base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _reply(self):
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            status, body = answer(self.command, self.path, self.headers)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _reply

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_job_api_client_on_something_that_is_not_ray_says_so():
    with (
        _http_server(lambda *_: (200, b"<html>hello</html>")) as url,
        pytest.raises(BackendError, match="is it a Ray dashboard"),
    ):
        RayJobsClient(url).version()


def test_job_api_client_sends_the_token_as_a_bearer_header():
    seen: list[str | None] = []

    def answer(method, path, headers):
        seen.append(headers.get("Authorization"))
        return 200, json.dumps({"ray_version": "9.9"}).encode()

    with _http_server(answer) as url:
        assert RayJobsClient(url, "s3cret").version() == "9.9"
        assert seen == ["Bearer s3cret"]
        assert json.load(urllib.request.urlopen(f"{url}/api/version"))["ray_version"] == "9.9"


NO_AGENT = (500, b"No available agent to submit job, please try again later.")


def _submit(client: RayJobsClient) -> None:
    client.submit("job-1", "true", env_vars={}, num_cpus=1, num_gpus=0)


def test_submit_waits_for_the_job_agent_of_a_fresh_cluster(monkeypatch):
    monkeypatch.setattr("runyard.compute.ray.jobs.SUBMIT_TIMEOUT_S", 30.0)
    posts: list[str] = []

    def answer(method, path, headers):
        posts.append(path)
        return NO_AGENT if len(posts) == 1 else (200, b'{"submission_id": "job-1"}')

    with _http_server(answer) as url:
        _submit(RayJobsClient(url))
    assert posts == ["/api/jobs/", "/api/jobs/"]


def test_submit_to_a_cluster_whose_job_agent_never_starts_says_where_to_look(monkeypatch):
    monkeypatch.setattr("runyard.compute.ray.jobs.SUBMIT_TIMEOUT_S", 0.2)
    with (
        _http_server(lambda *_: NO_AGENT) as url,
        pytest.raises(BackendError, match=r"no job agent.*dashboard_agent\.log.*52365"),
    ):
        _submit(RayJobsClient(url))


def test_submit_refused_for_another_reason_is_not_retried(monkeypatch):
    posts: list[str] = []

    def answer(method, path, headers):
        posts.append(path)
        return 500, b"Traceback ...\nValueError: bad entrypoint"

    with (
        _http_server(answer) as url,
        pytest.raises(BackendError, match=r"answered 500.*bad entrypoint"),
    ):
        _submit(RayJobsClient(url))
    assert len(posts) == 1


# -- placement ----------------------------------------------------------------------------
LAPTOP = NodeShape("this machine", cpus=2, gpus=0, memory_gb=15.0)


def test_local_head_gives_a_gpu_run_the_machine_and_a_cpu_warning():
    placement = place_on_local_head(
        ResourceRequest(cpus=1, gpus=1), lookup_vm_size("STANDARD_NC6"), LAPTOP, "gpucluster"
    )
    assert (placement.num_cpus, placement.num_gpus) == (2, 0)
    assert "no GPU: the script runs on the CPU" in placement.warnings[0]


def test_local_head_reserves_one_vm_size_node_when_the_machine_is_larger():
    placement = place_on_local_head(ResourceRequest(), lookup_vm_size("cpu-1"), LAPTOP, "t")
    assert (placement.num_cpus, placement.num_gpus, placement.warnings) == (1, 0, [])


def test_local_head_limits_say_what_the_machine_lacks():
    limits = local_head_limits(lookup_vm_size("STANDARD_NC6"), LAPTOP)
    assert limits == ["6 CPUs asked, this machine has 2", "1 GPU asked, this machine has no GPU"]
    assert local_head_limits(lookup_vm_size("cpu-2"), LAPTOP) == []


def test_machine_shape_reads_rays_resources():
    shape = machine_shape({"CPU": 2.0, "memory": 8 * GIB})
    assert (shape.cpus, shape.gpus, shape.memory_gb) == (2, 0, 8.0)


def _node(cpus, gpus=0, alive=True, head=False):
    resources = {"CPU": float(cpus), "memory": 16.0 * GIB}
    if gpus:
        resources["GPU"] = float(gpus)
    return RayNode(f"n{cpus}{gpus}{head}", alive, head, resources, "127.0.0.1")


def test_cluster_run_reserves_one_whole_node_of_the_size():
    placement = place_on_cluster(
        ResourceRequest(),
        lookup_vm_size("cpu-2"),
        [_node(2), _node(2)],
        target="t",
        address="http://a",
        can_add_size_nodes=False,
    )
    assert (placement.num_cpus, placement.num_gpus) == (2, 0)


def test_gpu_run_on_a_cluster_without_gpus_fails_fast_saying_what_it_offers():
    with pytest.raises(
        InvalidArgument,
        match=r"reserves 2 CPU, 1 GPU.*offers: 1 node of 0 CPU.*; 1 node of 2 CPU, no GPU",
    ):
        place_on_cluster(
            ResourceRequest(gpus=1),
            lookup_vm_size("cpu-2"),
            [_node(2), _node(0, head=True)],
            target="t",
            address="http://a",
            can_add_size_nodes=True,
        )


def test_run_may_wait_for_a_node_the_autoscaler_can_add():
    placement = place_on_cluster(
        ResourceRequest(gpus=1),
        lookup_vm_size("gpu-1"),
        [_node(0, head=True)],
        target="t",
        address="http://a",
        can_add_size_nodes=True,
    )
    assert placement.num_gpus == 1


def test_dead_nodes_do_not_count_as_offers():
    with pytest.raises(InvalidArgument, match="no live nodes"):
        place_on_cluster(
            ResourceRequest(),
            lookup_vm_size("cpu-2"),
            [_node(2, alive=False)],
            target="t",
            address="http://a",
            can_add_size_nodes=False,
        )


@pytest.mark.parametrize(
    "request_",
    [ResourceRequest(cpus=0), ResourceRequest(gpus=-1), ResourceRequest(memory_gb=-2.0)],
)
def test_nonsense_resource_requests_are_refused(request_):
    with pytest.raises(InvalidArgument):
        place_on_local_head(request_, lookup_vm_size("cpu-2"), LAPTOP, "t")


# -- autoscaler mapping -------------------------------------------------------------------
def test_node_bounds_and_idle_time_become_the_autoscaler_config():
    size = lookup_vm_size("cpu-2")
    config = fake_multinode_config("c", size, min_nodes=1, max_nodes=4, idle_seconds=90)
    workers = config["available_node_types"][worker_node_type(size)]
    assert (workers["min_workers"], workers["max_workers"], config["max_workers"]) == (1, 4, 4)
    assert workers["resources"]["CPU"] == 2
    assert config["idle_timeout_minutes"] == 1.5
    assert config["provider"]["type"] == "fake_multinode"
    assert config["available_node_types"]["ray.head.default"]["resources"] == {"CPU": 0}


def test_gpu_sizes_declare_gpus_on_their_worker_nodes():
    size = lookup_vm_size("STANDARD_NC12")
    config = fake_multinode_config("c", size, min_nodes=0, max_nodes=2, idle_seconds=60)
    assert config["available_node_types"][worker_node_type(size)]["resources"]["GPU"] == 2


# -- settings ----------------------------------------------------------------------------
def test_settings_of_an_unprovisioned_local_target_say_to_recreate_it():
    settings = ClusterSettings.from_config("t", {"vm_size": "cpu-2"})
    with pytest.raises(BackendError, match="was not provisioned"):
        settings.job_api_address()


def test_attached_settings_read_the_token_from_the_given_file(tmp_path):
    token = tmp_path / "token"
    token.write_text("abc\n")
    settings = ClusterSettings.from_config(
        "t", {"address": "http://127.0.0.1:1", "auth_token_path": str(token)}
    )
    assert settings.token() == "abc"
    missing = ClusterSettings.from_config(
        "t", {"address": "http://127.0.0.1:1", "auth_token_path": str(tmp_path / "nope")}
    )
    with pytest.raises(InvalidArgument, match="does not exist"):
        missing.token()


def test_attached_settings_fall_back_to_rays_token_variable(monkeypatch):
    monkeypatch.setenv("RAY_AUTH_TOKEN", "from-env")
    settings = ClusterSettings.from_config("t", {"address": "http://127.0.0.1:1"})
    assert settings.token() == "from-env"


def test_executors_on_other_machines_get_only_the_heartbeat_settings():
    settings = Settings(heartbeat_s=1.0, scratch="/somewhere")
    attached = ClusterSettings.from_config("t", {"address": "http://10.0.0.1:1"})
    local = ClusterSettings.from_config("t", {})
    assert attached.forwarded_environment(settings) == {"RUNYARD_HEARTBEAT_S": "1.0"}
    assert local.forwarded_environment(settings)["RUNYARD_SCRATCH"] == "/somewhere"


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return int(port)


def test_submitting_to_a_cluster_that_went_away_fails_the_run_with_a_clear_error(ws, tmp_path):
    from runyard.core import Environment, Experiment, ScriptRunConfig
    from runyard.entities.compute import ComputeTargetRecord

    port = _closed_port()
    config = AmlCompute.provisioning_configuration(address=f"http://127.0.0.1:{port}").config
    ws.resources.store.save_compute_target(ComputeTargetRecord("gone", "cluster", config))
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text("print('never')\n")
    env = Environment("current")
    env.python.user_managed_dependencies = True
    target = ComputeTarget(ws, "gone")
    submitted = ScriptRunConfig(
        str(tmp_path / "src"), "train.py", compute_target=target, environment=env
    )
    with pytest.raises(
        BackendError, match=rf"Cannot reach the Ray cluster at http://127.0.0.1:{port}"
    ):
        Experiment(ws, "e").submit(submitted)
    run = next(Experiment(ws, "e").get_runs())
    assert run.get_status() == "Failed"
    assert "Cannot reach the Ray cluster" in run.get_details()["error"]["message"]


def test_a_local_head_stands_for_max_nodes_nodes_sharing_the_machine():
    nc6 = lookup_vm_size("STANDARD_NC6")
    placement = place_on_local_head(ResourceRequest(), nc6, LAPTOP, "gpucluster", nodes=4)
    assert placement.num_cpus == 0.5  # 2 CPUs shared by 4 nodes: 4 runs at once
    assert local_node_share(nc6, LAPTOP, 4) == (0.5, 3.75)
    small = lookup_vm_size("cpu-1")
    assert local_node_share(small, LAPTOP, 1) == (1.0, min(small.memory_gb, 15.0))


def test_only_a_cluster_whose_address_is_elsewhere_is_taken_for_other_machines(ws):
    from runyard.compute.ray.backend import RayComputeBackend
    from runyard.entities.compute import ComputeTargetRecord

    # TEST-NET-1 (RFC 5737): never an address of this machine; nothing is asked of it.
    far = AmlCompute.provisioning_configuration(address="http://192.0.2.1:8265").config
    backend = RayComputeBackend(ws.resources, ComputeTargetRecord("far", "cluster", far))
    assert not backend.nodes_share_this_machine()
    head = AmlCompute.provisioning_configuration(vm_size="cpu-2").config
    local = RayComputeBackend(ws.resources, ComputeTargetRecord("head", "cluster", head))
    assert local.nodes_share_this_machine()  # a head Runyard starts here
