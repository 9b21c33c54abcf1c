"""Web services on Ray's multi-node test cluster (``ray.cluster_utils.Cluster``: a head
without CPUs and two 2-CPU worker raylets on this machine) attached as a compute target:
the cluster places the replicas on its nodes; the service's files are read in place (the
nodes share this machine's folders) or shipped through Ray's package store, as for nodes
that do not; deployed from Python and from the command line."""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import shutil
import sys
import tempfile
import textwrap
import urllib.parse

import pytest
from click.testing import CliRunner

from runyard.cli.main import cli
from runyard.core import Model, Workspace
from runyard.core.compute import AmlCompute, ComputeTarget
from runyard.core.model import InferenceConfig
from runyard.core.webservice import AciWebservice, AksWebservice, Webservice

pytest.importorskip("ray.serve", reason="needs Ray Serve: pip install 'runyard[serve]'")
pytestmark = [pytest.mark.ray, pytest.mark.integration, pytest.mark.usefixtures("ray_heartbeat")]

WORKERS = 2
SCORE = textwrap.dedent(
    """
    import json, os
    from runyard.core.model import Model

    def init():
        global factor, where
        where = Model.get_model_path("factor")
        with open(os.path.join(where, "factor.json")) as fh:
            factor = json.load(fh)["factor"]
        print("replica init", os.getpid(), flush=True)

    def run(raw_data):
        return {"y": [factor * x for x in json.loads(raw_data)["data"]], "model_dir": where}
    """
)


@pytest.fixture(scope="module")
def ray_cluster():
    from ray_multinode import MultiNodeCluster

    temp_dir = tempfile.mkdtemp(prefix="rs", dir="/tmp")  # short: Ray's sockets live there
    cluster = MultiNodeCluster(temp_dir, WORKERS, cpus=2)
    yield cluster
    cluster.shutdown()
    shutil.rmtree(temp_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def attached(ray_cluster, tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve-cluster")
    ws = Workspace.create("serve-cluster", path=folder / "ws")
    config = AmlCompute.provisioning_configuration(
        vm_size="cpu-2", max_nodes=WORKERS, address=ray_cluster.address, python=sys.executable
    )
    target = ComputeTarget.create(ws, "testcluster", config)
    (folder / "model").mkdir()
    (folder / "model" / "factor.json").write_text(json.dumps({"factor": 3}))
    model = Model.register(ws, model_path=str(folder / "model"), model_name="factor")
    (folder / "src").mkdir()
    (folder / "src" / "score.py").write_text(SCORE)
    yield ws, target, model, str(folder / "src")
    for service in Webservice.list(ws):
        service.delete()
    target.delete()
    ws.close()


def _post(uri, key=None):
    parts = urllib.parse.urlsplit(uri)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    conn.request("POST", parts.path, body='{"data": [1]}', headers=headers)
    response = conn.getresponse()
    result = response.status, response.read()
    conn.close()
    return result


def _deploy(ws, target, model, source, here, name, config):
    inference = InferenceConfig("score.py", source_directory=source, environment=here)
    service = Model.deploy(ws, name, [model], inference, config, deployment_target=target)
    service.wait_for_deployment(timeout_sec=300)
    assert service.state == "Healthy"
    return service


def test_the_cluster_places_an_aks_services_replicas_on_its_nodes(attached, ray_cluster, here):
    ws, target, model, source = attached
    # 1.5 of a node's 2 CPUs each: two replicas cannot share a node.
    config = AksWebservice.deploy_configuration(num_replicas=2, cpu_cores=1.5, memory_gb=0.1)
    service = _deploy(ws, target, model, source, here, "spread", config)
    assert sorted(service.replica_nodes()) == sorted(ray_cluster.nodes)
    answer = service.run({"data": [1, 2]})
    assert answer["y"] == [3, 6]
    # The nodes share this machine's folders: the replicas read the service's own.
    assert answer["model_dir"].startswith(service._backend().folder("spread"))
    primary = service.get_keys()[0]
    assert _post(service.scoring_uri)[0] == 401
    assert _post(service.scoring_uri, primary)[0] == 200
    assert service.get_logs().count("replica init") == 2
    backend = service._backend()
    service.delete()
    app = backend._instance().get("applications", {}).get("spread")
    assert app is None or app["status"] == "DELETING"  # Serve stops replicas after
    assert not os.path.exists(backend.folder("spread"))


def test_shipped_files_reach_the_replicas_and_keys_change_without_a_restart(
    attached, here, monkeypatch
):
    ws, target, model, source = attached
    ship = dataclasses.replace(ws.resources.settings, serve_ship_files=True)
    monkeypatch.setattr(ws.resources, "settings", ship)
    config = AksWebservice.deploy_configuration(
        autoscale_min_replicas=2, autoscale_max_replicas=3, cpu_cores=0.2, memory_gb=0.1
    )
    service = _deploy(ws, target, model, source, here, "shipped", config)
    assert service.replicas() == 2
    answer = service.run({"data": [2]})
    assert answer["y"] == [6]
    # Ray unpacked the service's package as the replica's working_dir, on its node.
    assert "working_dir_files" in answer["model_dir"]
    assert not answer["model_dir"].startswith(service._backend().folder("shipped"))
    app = service._backend()._instance()["applications"]["shipped"]
    assert app["deployed_app_config"]["runtime_env"]["working_dir"].startswith("gcs://_ray_pkg_")
    pids = {r["pid"] for r in service._backend().replica_details("shipped")}

    old = service.get_keys()[0]
    service.regen_key("Primary")  # returns once the replicas check the new key
    assert _post(service.scoring_uri, old)[0] == 401
    assert _post(service.scoring_uri, service.get_keys()[0])[0] == 200
    assert _post(service.scoring_uri, service.get_keys()[1])[0] == 200  # secondary kept
    assert {r["pid"] for r in service._backend().replica_details("shipped")} == pids
    assert service.get_logs().count("replica init") == 2  # read from Ray's replica logs
    assert "its files shipped as gcs://" in service.get_logs()
    service.delete()


def test_a_shipped_service_whose_init_raises_fails_with_its_traceback(
    attached, here, monkeypatch, tmp_path
):
    ws, target, model, _source = attached
    ship = dataclasses.replace(ws.resources.settings, serve_ship_files=True)
    monkeypatch.setattr(ws.resources, "settings", ship)
    (tmp_path / "score.py").write_text(
        "def init():\n    raise RuntimeError('no weights here')\n\ndef run(raw):\n    return raw\n"
    )
    inference = InferenceConfig("score.py", source_directory=str(tmp_path), environment=here)
    config = AciWebservice.deploy_configuration()
    service = Model.deploy(ws, "broken", [model], inference, config, deployment_target=target)
    with pytest.raises(Exception, match="no weights here"):
        service.wait_for_deployment(timeout_sec=300)
    assert service.state == "Failed"
    assert "RuntimeError: no weights here" in service.get_logs()
    service.delete()


def test_an_aci_service_is_one_replica_on_the_cluster(attached, here):
    ws, target, model, source = attached
    config = AciWebservice.deploy_configuration(cpu_cores=0.5, memory_gb=0.2)
    service = _deploy(ws, target, model, source, here, "one-aci", config)
    assert isinstance(service, AciWebservice)
    assert service.compute_target == "testcluster"
    assert Webservice(ws, "one-aci").compute_target == "testcluster"
    assert service.run('{"data": [5]}')["y"] == [15]
    assert _post(service.scoring_uri)[0] == 200  # ACI: no keys unless asked
    service.update(auth_enabled=True)
    assert _post(service.scoring_uri)[0] == 401
    assert _post(service.scoring_uri, service.get_keys()[0])[0] == 200
    backend = service._backend()
    assert len(backend.replica_details("one-aci")) == 1
    deployment = backend._instance()["applications"]["one-aci"]["deployed_app_config"]
    actor = deployment["deployments"][0]["ray_actor_options"]
    assert actor["num_cpus"] == 0.5
    service.delete()


def test_the_cli_deploys_replicas_on_a_cluster_target(attached, tmp_path, monkeypatch):
    ws, _target, _model, source = attached
    monkeypatch.chdir(tmp_path)
    ws.write_config()

    def invoke(*args):
        return CliRunner().invoke(cli, list(args))

    deployed = invoke(
        "service",
        "deploy",
        "-n",
        "cli-aks",
        "-m",
        "factor:1",
        "--entry-script",
        "score.py",
        "--source-directory",
        source,
        "--current-python",
        "--compute-target",
        "testcluster",
        "--replicas",
        "2",
        "--cpu-cores",
        "0.2",
        "--json",
    )
    assert deployed.exit_code == 0, deployed.output
    data = json.loads(deployed.stdout)
    assert (data["computeType"], data["computeTarget"], data["state"]) == (
        "AKS",
        "testcluster",
        "Healthy",
    )
    assert data["replicas"] == 2 and data["authEnabled"]  # AKS: keys by default, as v1
    assert "Note: cpu_cores and memory_gb reserve Ray resources" in deployed.stderr
    shown = json.loads(invoke("service", "show", "cli-aks", "--json").stdout)
    assert shown["replicas"] == 2
    keys = json.loads(invoke("service", "keys", "cli-aks", "--json").stdout)
    assert _post(data["scoringUri"], keys["primaryKey"])[0] == 200

    missing = invoke(
        "service",
        "deploy",
        "-n",
        "cli-nowhere",
        "-m",
        "factor",
        "--entry-script",
        "score.py",
        "--source-directory",
        source,
        "--compute-target",
        "nowhere",
        "--autoscale",
    )
    assert missing.exit_code != 0
    assert "Compute target 'nowhere'" in missing.stderr and "Traceback" not in missing.output
    assert invoke("service", "delete", "cli-aks", "--yes").exit_code == 0
