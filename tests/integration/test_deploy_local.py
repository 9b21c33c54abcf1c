"""Deploying a registered model as a web service on this machine: a real scoring server
process, called through Webservice.run and raw HTTP."""

from __future__ import annotations

import http.client
import json
import os
import pickle
import signal
import socket
import textwrap
import time
import urllib.parse

import pytest

from runyard.core import Model, Workspace
from runyard.core.model import InferenceConfig
from runyard.core.webservice import (
    AciWebservice,
    LocalWebservice,
    Webservice,
    WebserviceException,
)

SCORE = textwrap.dedent(
    """
    import json, os, pickle
    from runyard.core.model import Model

    def init():
        global model
        path = Model.get_model_path("iris-clf")
        assert os.environ["AZUREML_MODEL_DIR"] in path, path
        with open(os.path.join(path, "model.pkl"), "rb") as fh:
            model = pickle.load(fh)
        print("init done", path)

    def run(raw_data):
        data = json.loads(raw_data)["data"]
        if data == "boom":
            raise ValueError("asked to fail")
        print("scoring", len(data), "rows")
        return model.predict(data).tolist()
    """
)


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNYARD_SCRATCH", str(tmp_path / "scratch"))
    ws = Workspace.create("serve-ws", path=tmp_path / "ws")
    yield ws
    for service in Webservice.list(ws):
        service.delete()
    ws.close()


@pytest.fixture
def model(workspace, tmp_path):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    folder = tmp_path / "model"
    folder.mkdir()
    with open(folder / "model.pkl", "wb") as fh:
        pickle.dump(LogisticRegression(max_iter=300).fit(x, y), fh)
    return Model.register(workspace, model_path=str(folder), model_name="iris-clf")


@pytest.fixture
def inference(tmp_path, here):
    source = tmp_path / "src"
    source.mkdir()
    (source / "score.py").write_text(SCORE)
    return InferenceConfig(entry_script="score.py", source_directory=str(source), environment=here)


def _post(uri, body, key=None):
    parts = urllib.parse.urlsplit(uri)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    conn.request("POST", parts.path, body=body, headers=headers)
    response = conn.getresponse()
    result = response.status, response.read()
    conn.close()
    return result


ROWS = json.dumps({"data": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]})


def test_a_deployed_model_scores_with_keys_and_survives_its_process_dying(
    workspace, model, inference
):
    config = AciWebservice.deploy_configuration(cpu_cores=1, memory_gb=1, auth_enabled=True)
    service = Model.deploy(workspace, "iris-svc", [model], inference, config)
    assert isinstance(service, AciWebservice)
    service.wait_for_deployment()
    assert service.state == "Healthy"
    assert service.run(ROWS) == [0, 2]
    assert "init done" in service.get_logs() and "scoring 2 rows" in service.get_logs()

    primary, secondary = service.get_keys()
    assert primary not in service.get_logs()
    uri = service.scoring_uri
    assert _post(uri, ROWS)[0] == 401
    assert _post(uri, ROWS, "wrong-key-wrong-key")[0] == 401
    assert _post(uri, ROWS, secondary) == (200, b"[0, 2]")
    assert _post(uri, "{not json", primary)[0] == 400
    status, body = _post(uri, json.dumps({"data": "boom"}), primary)
    assert status == 500 and "asked to fail" in json.loads(body)["error"]
    assert _post(uri, ROWS, primary)[0] == 200  # still up after run() raised

    service.regen_key("Primary")
    assert _post(uri, ROWS, primary)[0] == 401  # the old key stops working at once
    assert _post(uri, ROWS, service.get_keys()[0])[0] == 200
    service.regen_key("secondary", set_key="my-own-secondary-key")
    assert _post(uri, ROWS, "my-own-secondary-key")[0] == 200

    # The scoring process dies: the supervisor restarts it on the same port.
    folder = os.path.join(workspace.resources.settings.scratch_dir, ".services", "serve-ws")
    with open(os.path.join(folder, "iris-svc", "status.json")) as fh:
        worker = json.load(fh)["worker_pid"]
    os.kill(worker, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while service.state != "Healthy" or _worker(folder) == worker:
        assert time.monotonic() < deadline, service.get_logs()
        time.sleep(0.1)
    assert service.run(ROWS) == [0, 2]

    # The whole service dies: reported Unhealthy.
    with open(os.path.join(folder, "iris-svc", "node.json")) as fh:
        supervisor = json.load(fh)["supervisor_pid"]
    os.killpg(supervisor, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while service.state != "Unhealthy":
        assert time.monotonic() < deadline
        time.sleep(0.1)

    # update with the same model redeploys on the same URI; delete frees the port.
    service.update(models=[model], description="again")
    service.wait_for_deployment()
    assert service.scoring_uri == uri and service.run(ROWS) == [0, 2]
    assert Webservice(workspace, "iris-svc").description == "again"
    assert list(workspace.webservices) == ["iris-svc"]
    assert [s.name for s in Webservice.list(workspace, model_name="iris-clf")] == ["iris-svc"]
    service.delete()
    port = urllib.parse.urlsplit(uri).port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))
    with pytest.raises(WebserviceException, match="not found"):
        Webservice(workspace, "iris-svc")


def _worker(folder):
    with open(os.path.join(folder, "iris-svc", "status.json")) as fh:
        return json.load(fh)["worker_pid"]


def test_init_raising_fails_the_deployment_with_its_traceback(
    workspace, model, tmp_path, here, capsys
):
    source = tmp_path / "bad"
    source.mkdir()
    (source / "score.py").write_text(
        "def init():\n    raise RuntimeError('no model here')\n\ndef run(d):\n    return d\n"
    )
    inference = InferenceConfig(
        entry_script="score.py", source_directory=str(source), environment=here
    )
    service = Model.deploy(
        workspace, "bad-svc", [model], inference, LocalWebservice.deploy_configuration()
    )
    with pytest.raises(WebserviceException, match="no model here"):
        service.wait_for_deployment(show_output=True)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "Running" and printed[-1] == "Failed"
    assert any(line.endswith("RuntimeError: no model here") for line in printed)
    assert service.state == "failed"
    assert "RuntimeError: no model here" in service.get_logs()


def test_a_local_service_without_auth_reloads_an_edited_score_py_and_needs_overwrite(
    workspace, model, inference, tmp_path, here, capsys
):
    service = Model.deploy(
        workspace, "local-svc", [model], inference, LocalWebservice.deploy_configuration()
    )
    service.wait_for_deployment(show_output=True)
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] == f"Local webservice is running at {service.scoring_uri}"
    assert service.state == "running"
    assert _post(service.scoring_uri, ROWS) == (200, b"[0, 2]")
    with pytest.raises(WebserviceException, match="overwrite=True"):
        Model.deploy(workspace, "local-svc", [model], inference)
    (tmp_path / "src" / "score.py").write_text(SCORE.replace(".tolist()", ".tolist()[:1]"))
    service.reload(wait=True)
    deadline = time.monotonic() + 30
    while _post(service.scoring_uri, ROWS) != (200, b"[0]"):
        assert time.monotonic() < deadline, service.get_logs()
        time.sleep(0.1)
    parts = urllib.parse.urlsplit(service.scoring_uri)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", "/swagger.json")
    assert json.loads(conn.getresponse().read())["swagger"] == "2.0"
    conn.close()
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as raw:
        raw.sendall(b"POST /score HTTP/1.1\r\nContent-Length: 200000000\r\n\r\n")
        assert raw.recv(100).startswith(b"HTTP/1.1 413 ")


def test_the_2019_form_builds_the_conda_environment_and_warns_deprecated(
    workspace, model, tmp_path, monkeypatch, capsys
):
    from runyard.core.image import ContainerImage

    monkeypatch.setenv("RUNYARD_ENV_CACHE", str(tmp_path / "envs"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "score.py").write_text(
        "import json, os\n\ndef init():\n"
        "    print('model dir', os.environ['AZUREML_MODEL_DIR'])\n\n"
        "def run(raw):\n    return json.loads(raw)\n"
    )
    (tmp_path / "myenv.yml").write_text(
        "name: myenv\ndependencies:\n  - python=3.11\n  - pip:\n    - azureml-defaults\n"
    )
    image = ContainerImage.image_configuration(
        execution_script="score.py", runtime="python", conda_file="myenv.yml"
    )
    config = AciWebservice.deploy_configuration(cpu_cores=1, memory_gb=1, auth_enabled=True)
    with pytest.warns(DeprecationWarning, match="deploy_from_model has been deprecated"):
        service = Webservice.deploy_from_model(
            workspace=workspace,
            name="keras-mnist-svc",
            deployment_config=config,
            models=[model],
            image_config=image,
        )
    capsys.readouterr()
    service.wait_for_deployment(show_output=True)
    printed = capsys.readouterr().out.splitlines()
    # v1's shape: Running, the operation's lines as they come, Succeeded, the last line.
    assert printed[0] == "Running"
    assert printed[-2:] == [
        "Succeeded",
        'ACI service creation operation finished, operation "Succeeded"',
    ]
    streamed = [line.split(" ", 2)[2] for line in printed[1:-2] if "+00:00 " in line]
    assert streamed[0] == "Service keras-mnist-svc: preparing its environment."
    assert any(line.startswith("Building environment") for line in streamed)
    assert any(line.startswith("model dir") and "iris-clf" in line for line in streamed)
    assert streamed[-1].startswith("Scoring server of keras-mnist-svc ready")
    assert service.state == "Healthy"
    assert service.run('{"data": [1]}') == {"data": [1]}
    logs = service.get_logs()
    assert "Building environment" in logs and "iris-clf" in logs
    assert str(tmp_path / "envs") in logs


def test_a_port_in_use_fails_the_deployment_at_once(workspace, model, inference):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = LocalWebservice.deploy_configuration(port=port)
        with pytest.raises(WebserviceException, match=f"Port {port} .* is in use"):
            Model.deploy(workspace, "port-svc", [model], inference, config)
    assert workspace.resources.store.get_service("port-svc").state == "Failed"


def test_a_server_that_keeps_crashing_ends_failed(workspace, model, tmp_path, here):
    source = tmp_path / "crash"
    source.mkdir()
    (source / "score.py").write_text("import os\n\ndef run(raw):\n    os._exit(7)\n")
    inference = InferenceConfig("score.py", source_directory=str(source), environment=here)
    service = Model.deploy(workspace, "crash-svc", [model], inference)
    service.wait_for_deployment()
    deadline = time.monotonic() + 60
    while service.state != "Failed":
        assert time.monotonic() < deadline, service.get_logs()
        if service.state == "Healthy":
            with pytest.raises(WebserviceException):
                service.run("{}")
        time.sleep(0.05)
    assert "crashed 5 times" in service.error["message"]
    assert "exited with status 7; restarting" in service.get_logs()


MEETING = textwrap.dedent(
    """
    import json, threading

    meet = threading.Barrier(2, timeout=20)

    def run(raw_data):
        meet.wait()  # returns only when another call is under way at the same time
        return {"x": json.loads(raw_data)["x"], "thread": threading.current_thread().name}
    """
)


def test_replica_max_concurrent_requests_lets_run_calls_overlap(workspace, model, tmp_path, here):
    from concurrent.futures import ThreadPoolExecutor

    source = tmp_path / "meeting"
    source.mkdir()
    (source / "score.py").write_text(MEETING)
    inference = InferenceConfig("score.py", source_directory=str(source), environment=here)
    config = LocalWebservice.deploy_configuration(replica_max_concurrent_requests=2)
    service = Model.deploy(workspace, "meeting-svc", [model], inference, config)
    service.wait_for_deployment()
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda x: service.run(json.dumps({"x": x})), [1, 2]))
    assert [a["x"] for a in answers] == [1, 2]
    assert all(a["thread"].startswith("runyard-run") for a in answers)


HUNGRY = textwrap.dedent(
    """
    import json, os, time

    def init():
        if os.path.exists("hungry-init"):
            hold = bytearray(400 * 2**20)  # zero-filled: resident at once
            time.sleep(5)

    def run(raw_data):
        mb = json.loads(raw_data)["mb"]
        hold = bytearray(mb * 2**20)
        time.sleep(1 if mb > 100 else 0)  # long enough for the watch to see it
        return {
            "threads": os.environ.get("OMP_NUM_THREADS"),
            "tf_inter_op": os.environ.get("TF_NUM_INTEROP_THREADS"),
            "pid": os.getpid(),
        }
    """
)


def test_cpu_cores_and_memory_gb_are_enforced_on_the_scoring_server(
    workspace, model, tmp_path, here
):
    source = tmp_path / "hungry"
    source.mkdir()
    (source / "score.py").write_text(HUNGRY)
    inference = InferenceConfig("score.py", source_directory=str(source), environment=here)
    config = AciWebservice.deploy_configuration(cpu_cores=1, memory_gb=0.25)
    service = Model.deploy(workspace, "hungry-svc", [model], inference, config)
    service.wait_for_deployment()
    first = service.run(json.dumps({"mb": 20}))
    assert first["threads"] == "1" and first["tf_inter_op"] == "1"
    assert len(os.sched_getaffinity(first["pid"])) == 1

    with pytest.raises(WebserviceException):
        service.run(json.dumps({"mb": 400}))  # killed while it holds 400 MiB
    assert "over the service's memory_gb=0.25" in service.get_logs()
    deadline = time.monotonic() + 30
    while service.state != "Healthy":
        assert time.monotonic() < deadline, service.get_logs()
        time.sleep(0.1)
    again = service.run(json.dumps({"mb": 20}))
    assert again["pid"] != first["pid"]  # restarted, as a container after an OOM kill

    (source / "hungry-init").write_text("")  # init() now needs more than the limit
    service.update(inference_config=inference)
    with pytest.raises(WebserviceException, match=r"memory_gb=0\.25"):
        service.wait_for_deployment()
    assert service.state == "Failed"


def test_services_come_back_when_the_workspace_is_opened_after_their_processes_died(
    workspace, model, inference, capfd
):
    config = AciWebservice.deploy_configuration(auth_enabled=True)
    service = Model.deploy(workspace, "reboot-svc", [model], inference, config)
    service.wait_for_deployment()
    uri, (primary, _) = service.scoring_uri, service.get_keys()
    folder = os.path.join(workspace.resources.settings.scratch_dir, ".services", "serve-ws")
    with open(os.path.join(folder, "reboot-svc", "node.json")) as fh:
        supervisor = json.load(fh)["supervisor_pid"]
    os.killpg(supervisor, signal.SIGKILL)  # the server and its supervisor: as a reboot
    deadline = time.monotonic() + 10
    while service.state != "Unhealthy":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    with pytest.raises(WebserviceException, match="Cannot reach"):
        service.run(ROWS)

    capfd.readouterr()
    opened = Workspace.get("serve-ws", path=workspace.config.path)
    assert "restarting it at " + uri in capfd.readouterr().err
    again = Webservice(opened, "reboot-svc")
    again.wait_for_deployment()
    assert again.state == "Healthy" and again.scoring_uri == uri
    assert _post(uri, ROWS, primary) == (200, b"[0, 2]")  # same port, same keys
    assert "restarting" in again.get_logs()
    capfd.readouterr()
    Workspace.get("serve-ws", path=workspace.config.path)  # running: nothing to do
    assert "reboot-svc" not in capfd.readouterr().err
    opened.close()


def test_a_failed_or_forgotten_service_is_not_brought_back(
    workspace, model, inference, tmp_path, here
):
    source = tmp_path / "bad"
    source.mkdir()
    (source / "score.py").write_text("def init():\n    raise RuntimeError('no')\n")
    bad = InferenceConfig("score.py", source_directory=str(source), environment=here)
    failed = Model.deploy(workspace, "failed-svc", [model], bad)
    with pytest.raises(WebserviceException):
        failed.wait_for_deployment()
    from runyard.core.webservice.revive import revive_services

    assert revive_services(workspace) == []
    assert failed.state == "Failed"

    # Files left by a service the workspace no longer lists: left alone.
    gone = Model.deploy(workspace, "gone-svc", [model], inference)
    gone.wait_for_deployment()
    folder = os.path.join(workspace.resources.settings.scratch_dir, ".services", "serve-ws")
    with open(os.path.join(folder, "gone-svc", "node.json")) as fh:
        os.killpg(json.load(fh)["supervisor_pid"], signal.SIGKILL)
    workspace.resources.store.delete_service("gone-svc")
    assert revive_services(workspace) == []
    with pytest.raises(WebserviceException, match="Cannot reach"):
        gone.run(ROWS)
