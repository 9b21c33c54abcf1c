"""AksWebservice on a real Ray cluster: a local Ray head Runyard starts (free ports, token
auth), the service as a real Ray Serve application with replicas, called over HTTP."""

from __future__ import annotations

import http.client
import json
import textwrap
import time
import urllib.parse

import pytest

from runyard.core import Model, Workspace
from runyard.core.compute import AmlCompute, ComputeTarget
from runyard.core.model import InferenceConfig
from runyard.core.webservice import AksWebservice, Webservice, WebserviceException

pytest.importorskip("ray.serve", reason="needs Ray Serve: pip install 'runyard[serve]'")
pytestmark = [pytest.mark.ray, pytest.mark.integration, pytest.mark.usefixtures("ray_heartbeat")]

SCORE = textwrap.dedent(
    """
    import json, os
    from runyard.core.model import Model

    def init():
        global factor
        with open(os.path.join(Model.get_model_path("factor"), "factor.json")) as fh:
            factor = json.load(fh)["factor"]
        print("replica init", os.getpid())

    def run(raw_data):
        return [factor * x for x in json.loads(raw_data)["data"]]
    """
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve-ray")
    ws = Workspace.create("serve-ray", path=folder / "ws")
    config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=1)
    target = ComputeTarget.create(ws, "cpucluster", config)
    target.wait_for_completion()
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


def _post(uri, body, key=None):
    parts = urllib.parse.urlsplit(uri)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    conn.request("POST", parts.path, body=body, headers=headers)
    response = conn.getresponse()
    result = response.status, response.read(), response.getheader("X-Runyard-Replica")
    conn.close()
    return result


def _status(uri, key):
    try:
        return _post(uri, '{"data": [1]}', key)[0]
    except OSError:  # nothing listens any more
        return 0


def test_an_aks_service_serves_from_its_replicas_on_ray_serve(cluster, here):
    ws, target, model, source = cluster
    inference = InferenceConfig("score.py", source_directory=source, environment=here)
    config = AksWebservice.deploy_configuration(num_replicas=2, cpu_cores=0.1, memory_gb=0.1)
    service = Model.deploy(ws, "ray-svc", [model], inference, config, deployment_target=target)
    assert isinstance(service, AksWebservice) and service.compute_target == "cpucluster"
    service.wait_for_deployment(timeout_sec=300)
    assert service.state == "Healthy"
    assert service.run(json.dumps({"data": [1, 2]})) == [3, 6]
    assert Webservice(ws, "ray-svc").replicas() == 2

    uri, (primary, _) = service.scoring_uri, service.get_keys()  # AKS: auth on by default
    assert _post(uri, '{"data": [1]}')[0] == 401
    replicas = {_post(uri, '{"data": [1]}', primary)[2] for _ in range(40)}
    assert len(replicas) == 2  # both replicas answer
    service.regen_key("Primary")
    assert _post(uri, '{"data": [1]}', primary)[0] == 401  # at once, no redeploy
    assert _post(uri, '{"data": [1]}', service.get_keys()[0])[:2] == (200, b"[3]")
    assert service.get_logs().count("replica init") >= 2

    key = service.get_keys()[0]
    service.delete()
    deadline = time.monotonic() + 60
    while _status(uri, key) == 200:
        assert time.monotonic() < deadline, "the application is still served"
        time.sleep(0.5)
    with pytest.raises(WebserviceException, match="not found"):
        Webservice(ws, "ray-svc")


def test_an_autoscaled_aks_service_gets_v1s_settings_as_serves(cluster, here):
    ws, target, model, source = cluster
    inference = InferenceConfig("score.py", source_directory=source, environment=here)
    config = AksWebservice.deploy_configuration(
        autoscale_min_replicas=1,
        autoscale_max_replicas=3,
        autoscale_target_utilization=50,
        auth_enabled=False,
    )
    service = Model.deploy(ws, "ray-auto", [model], inference, config, deployment_target=target)
    service.wait_for_deployment(timeout_sec=300)
    assert service.run('{"data": [2]}') == [6]
    backend = service._backend()
    app = backend._instance()["applications"]["ray-auto"]
    scaling = app["deployed_app_config"]["deployments"][0]["autoscaling_config"]
    assert (scaling["min_replicas"], scaling["max_replicas"]) == (1, 3)
    assert scaling["target_ongoing_requests"] == 0.5  # 50 % of one request at a time
    assert service.replicas() == 1


def test_an_aks_deployment_needs_a_cluster_target(cluster, here):
    ws, _target, model, source = cluster
    inference = InferenceConfig("score.py", source_directory=source, environment=here)
    with pytest.raises(WebserviceException, match="deployment_target"):
        Model.deploy(ws, "no-target", [model], inference, AksWebservice.deploy_configuration())
