"""``runyard service deploy|list|show|logs|keys|delete`` on a real scoring server."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from runyard.cli.main import cli
from runyard.core import Model, Workspace

SCORE = (
    "import threading\n\ndef init():\n    print('ready to echo')\n\n"
    "def run(raw):\n    return {'echo': raw, 'thread': threading.current_thread().name}\n"
)


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNYARD_SCRATCH", str(tmp_path / "scratch"))
    monkeypatch.chdir(tmp_path)
    ws = Workspace.create("cli-ws", path=tmp_path / "ws")
    ws.write_config()
    (tmp_path / "m.txt").write_text("weights")
    Model.register(ws, model_path="m.txt", model_name="echo")
    (tmp_path / "score.py").write_text(SCORE)
    yield ws
    invoke("service", "delete", "echo-svc", "--yes")
    ws.close()


def test_deploy_show_logs_keys_and_delete_a_service(project):
    deployed = invoke(
        "service",
        "deploy",
        "-n",
        "echo-svc",
        "-m",
        "echo",
        "--entry-script",
        "score.py",
        "--current-python",
        "--auth",
        "--max-concurrent-requests",
        "2",
        "--json",
    )
    assert deployed.exit_code == 0, deployed.output
    data = json.loads(deployed.stdout)
    assert data["state"] == "Healthy" and data["models"] == ["echo:1"]
    assert data["authEnabled"] and "primaryKey" not in data

    listed = json.loads(invoke("service", "list", "--model", "echo", "--json").stdout)
    assert [s["name"] for s in listed] == ["echo-svc"]
    assert (
        "ready to echo"
        in json.loads(invoke("service", "logs", "echo-svc", "--json").stdout)["logs"]
    )

    keys = json.loads(invoke("service", "keys", "echo-svc", "--json").stdout)
    regen = json.loads(invoke("service", "keys", "echo-svc", "--regen", "primary", "--json").stdout)
    assert regen["primaryKey"] != keys["primaryKey"]
    assert regen["secondaryKey"] == keys["secondaryKey"]
    service = _service(project)
    answer = service.run('"hi"')
    assert answer["echo"] == '"hi"'
    assert answer["thread"].startswith("runyard-run")  # --max-concurrent-requests 2: a pool

    again = invoke(
        "service", "deploy", "-n", "echo-svc", "-m", "echo", "--entry-script", "score.py"
    )
    assert again.exit_code != 0 and "overwrite" in again.stderr

    assert invoke("service", "delete", "echo-svc", "--yes").exit_code == 0
    missing = invoke("service", "show", "echo-svc")
    assert missing.exit_code != 0 and "not found" in missing.stderr


def _service(ws):
    from runyard.core.webservice import Webservice

    return Webservice(ws, "echo-svc")
