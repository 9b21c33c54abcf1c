"""Serving a model: Runyard's local web service vs ``mlflow models serve``, and the HTTP
stack Runyard chose (a plain asyncio HTTP/1.1 server) vs uvicorn + httptools.

All three serve the same echo model (parse the JSON body, return the rows) on 127.0.0.1:

(a) latency: 2,000 sequential requests on one keep-alive connection (p50, p99), from a
    raw-socket client so that the client's own cost stays small;
(b) throughput: 8 client processes, each with its own keep-alive connection;
(c) deploy -> Healthy: ``Model.deploy`` + ``wait_for_deployment`` with the environment
    already there (this interpreter as a user-managed environment, and an environment
    built from a conda file, cache hit), vs ``mlflow models serve --env-manager local``
    until ``/ping`` answers;
(d) key check: ``KeyCheck.allows`` per call, and p50 with auth on minus auth off;
(e) the Keras MNIST model (``serving_keras.py``): the notebook's score.py served by
    Runyard (``--keras-threads`` run() calls at once, and one at a time), the same with
    ``@batch``, and ``mlflow models serve`` on the same network, one worker process each:
    latency of one image, and throughput and p50/p95 with 8 clients.

    python benchmarks/bench_serving.py [--requests 2000] [--quick] [--no-keras]
        [--keras-threads 4]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import timeit
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import serving_client
import serving_keras

ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
SCORE = (
    "import json\n\ndef init():\n    pass\n\ndef run(raw):\n    return json.loads(raw)['data']\n"
)
CLIENTS = 8
MLFLOW_REQUIREMENTS = ["mlflow==3.17.2"]


# The raw HTTP/1.1 client, shared with serving_keras.py and bench_serving_ray.py.
_request = serving_client.request
latencies = serving_client.latencies
_pct = serving_client.pct


def throughput(port: int, request: bytes, per_client: int) -> float:
    """Requests per second with :data:`CLIENTS` client processes."""
    return serving_client.concurrent(port, request, CLIENTS, per_client)["rps"]


def _wait_http(port: int, path: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    request = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(request)
                if sock.recv(100).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.02)
    raise TimeoutError(f"nothing answered on port {port}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- Runyard -----------------------------------------------------------------------------
def runyard_side(work: Path, requests: int, per_client: int, deploys: int) -> dict[str, Any]:
    from runyard.core import Environment, Model, Workspace
    from runyard.core.model import InferenceConfig
    from runyard.core.webservice import AciWebservice
    from runyard.serving.keys import KeyCheck, write_keys_file

    os.environ["RUNYARD_SCRATCH"] = str(work / "scratch")
    os.environ["RUNYARD_ENV_CACHE"] = str(work / "envs")
    ws = Workspace.create("bench-serving", path=work / "ws")
    (work / "app").mkdir()
    (work / "app" / "score.py").write_text(SCORE)
    (work / "m.txt").write_text("weights")
    (work / "app" / "myenv.yml").write_text("name: bench\ndependencies:\n  - python=3.11\n")
    model = Model.register(ws, model_path=str(work / "m.txt"), model_name="echo")
    here = Environment("here")
    here.python.user_managed_dependencies = True
    inference = InferenceConfig("score.py", source_directory=str(work / "app"), environment=here)
    results: dict[str, Any] = {}

    def deploy(name: str, config: Any, auth: bool) -> Any:
        conf = AciWebservice.deploy_configuration(auth_enabled=auth)
        started = time.perf_counter()
        service = Model.deploy(ws, name, [model], config, conf, overwrite=True)
        service.wait_for_deployment()
        return service, time.perf_counter() - started

    body = json.dumps({"data": ROWS}).encode()
    times = [deploy("echo-open", inference, False)[1] for _ in range(deploys)]
    results["deploy_user_managed_s"] = statistics.median(times)
    open_service, _ = deploy("echo-open", inference, False)
    port = int(open_service.scoring_uri.rsplit(":", 1)[1].split("/")[0])
    samples = latencies(port, _request("/score", body, None), requests)
    results["open_p50_s"], results["open_p99_s"] = _pct(samples, 0.5), _pct(samples, 0.99)
    results["throughput_rps"] = throughput(port, _request("/score", body, None), per_client)

    keyed, _ = deploy("echo-keyed", inference, True)
    kport = int(keyed.scoring_uri.rsplit(":", 1)[1].split("/")[0])
    key = keyed.get_keys()[0]
    samples = latencies(kport, _request("/score", body, key), requests)
    results["auth_p50_s"], results["auth_p99_s"] = _pct(samples, 0.5), _pct(samples, 0.99)

    keys_file = work / "keys.json"
    write_keys_file(str(keys_file), True, (key, "another-key-1234567890"))
    check = KeyCheck(str(keys_file))
    header = f"Bearer {key}"
    loops = 100_000
    results["key_check_s"] = timeit.timeit(lambda: check.allows(header), number=loops) / loops

    built = InferenceConfig(
        "score.py", source_directory=str(work / "app"), runtime="python", conda_file="myenv.yml"
    )
    deploy("echo-built", built, False)  # builds the environment once, untimed
    times = [deploy("echo-built", built, False)[1] for _ in range(deploys)]
    results["deploy_cached_env_s"] = statistics.median(times)
    for service in (open_service, keyed):
        service.delete()
    from runyard.core.webservice import Webservice

    Webservice(ws, "echo-built").delete()
    ws.close()
    return results


# -- uvicorn + httptools: the stack not chosen --------------------------------------------
UVICORN_APP = textwrap.dedent(
    """
    import json

    def run(raw):
        return json.loads(raw)['data']

    async def app(scope, receive, send):
        if scope['type'] != 'http':
            return
        body = b''
        more = True
        while more:
            message = await receive()
            body += message.get('body', b'')
            more = message.get('more_body', False)
        payload = json.dumps(run(body.decode())).encode()
        await send({'type': 'http.response.start', 'status': 200,
                    'headers': [(b'content-type', b'application/json'),
                                (b'content-length', str(len(payload)).encode())]})
        await send({'type': 'http.response.body', 'body': payload})
    """
)


def uvicorn_side(work: Path, requests: int, per_client: int) -> dict[str, Any] | None:
    try:
        import httptools  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        return None
    (work / "uvicorn_app.py").write_text(UVICORN_APP)
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "uvicorn_app:app",
            "--port",
            str(port),
            "--http",
            "httptools",
            "--loop",
            "asyncio",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=work,
    )
    try:
        body = json.dumps({"data": ROWS}).encode()
        _wait_post(port, "/", body)
        samples = latencies(port, _request("/", body, None), requests)
        return {
            "p50_s": _pct(samples, 0.5),
            "p99_s": _pct(samples, 0.99),
            "throughput_rps": throughput(port, _request("/", body, None), per_client),
        }
    finally:
        proc.terminate()
        proc.wait()


def _wait_post(port: int, path: str, body: bytes, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            latencies(port, _request(path, body, None), 1)
            return
        except (OSError, AssertionError, IndexError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


# -- MLflow --------------------------------------------------------------------------------
MLFLOW_SAVE = textwrap.dedent(
    """
    import sys
    import mlflow.pyfunc

    class Echo(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return model_input

    mlflow.pyfunc.save_model(sys.argv[1], python_model=Echo())
    """
)


def mlflow_side(work: Path, requests: int, per_client: int, deploys: int) -> dict[str, Any]:
    python = common.ensure_venv("mlflow", MLFLOW_REQUIREMENTS)
    env = {**os.environ, **common.QUIET_ENV}
    # mlflow starts "uvicorn" from PATH: the venv's.
    env["PATH"] = str(Path(python).parent) + os.pathsep + env.get("PATH", "")
    model = work / "mlflow-echo"
    subprocess.run(
        [str(python), "-c", MLFLOW_SAVE, str(model)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    mlflow = str(Path(python).parent / "mlflow")
    body = json.dumps({"inputs": ROWS}).encode()
    results: dict[str, Any] = {}
    times = []
    for i in range(deploys + 1):
        port = _free_port()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [
                mlflow,
                "models",
                "serve",
                "-m",
                str(model),
                "-p",
                str(port),
                "-h",
                "127.0.0.1",
                "--env-manager",
                "local",
                "-w",
                "1",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _wait_http(port, "/ping")
            times.append(time.perf_counter() - started)
            if i == deploys:
                samples = latencies(port, _request("/invocations", body, None), requests)
                results["p50_s"], results["p99_s"] = _pct(samples, 0.5), _pct(samples, 0.99)
                results["throughput_rps"] = throughput(
                    port, _request("/invocations", body, None), per_client
                )
        finally:
            os.killpg(proc.pid, 15)
            proc.wait()
    results["deploy_s"] = statistics.median(times[:deploys])
    results["version"] = common.installed_version(python, "mlflow")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--per-client", type=int, default=1000)
    parser.add_argument("--deploys", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="A smoke run: few requests.")
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--no-keras", action="store_true", help="Leave out the Keras model.")
    parser.add_argument("--keras-requests", type=int, default=300)
    parser.add_argument("--keras-per-client", type=int, default=30)
    parser.add_argument(
        "--keras-threads",
        type=int,
        default=4,
        help="run() calls at once for the Keras model (replica_max_concurrent_requests).",
    )
    args = parser.parse_args()
    if args.quick:
        args.requests, args.per_client, args.deploys = 200, 100, 1
        args.keras_requests, args.keras_per_client = 20, 3
    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    try:
        ours = runyard_side(work / "runyard", args.requests, args.per_client, args.deploys)
        (work / "uvicorn").mkdir()
        uv = uvicorn_side(work / "uvicorn", args.requests, args.per_client)
        ml = (
            None
            if args.no_mlflow
            else mlflow_side(work, args.requests, args.per_client, args.deploys)
        )
        keras = None
        if not args.no_keras:
            # The Keras environment is large: it comes from the usual cache, not a fresh one.
            os.environ.pop("RUNYARD_ENV_CACHE", None)
            keras = serving_keras.runyard_keras(
                work / "keras",
                args.keras_requests,
                CLIENTS,
                args.keras_per_client,
                args.keras_threads,
            )
            keras["threads"] = args.keras_threads
            if not args.no_mlflow:
                keras["mlflow"] = serving_keras.mlflow_keras(
                    work / "keras",
                    MLFLOW_REQUIREMENTS,
                    args.keras_requests,
                    CLIENTS,
                    args.keras_per_client,
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    name = f"mlflow {ml['version']}" if ml else "mlflow"
    ms = 1000.0
    rows = [
        common.row(
            "echo latency p50 (keep-alive)",
            ours["open_p50_s"] * ms,
            ml and ml["p50_s"] * ms,
            name,
            "ms",
            target="≤ 1 ms",
            met=ours["open_p50_s"] * ms <= 1,
        ),
        common.row(
            "echo latency p99 (keep-alive)",
            ours["open_p99_s"] * ms,
            ml and ml["p99_s"] * ms,
            name,
            "ms",
            target="≤ 5 ms",
            met=ours["open_p99_s"] * ms <= 5,
        ),
        common.row(
            f"throughput, {CLIENTS} clients",
            ours["throughput_rps"],
            ml and ml["throughput_rps"],
            name,
            "req/s",
            higher_is_better=True,
            target="≥ 1,000 req/s and ≥ 3× MLflow",
            met=ours["throughput_rps"] >= 1000
            and (ml is None or ours["throughput_rps"] >= 3 * ml["throughput_rps"]),
        ),
        common.row(
            "deploy -> Healthy (user-managed env)",
            ours["deploy_user_managed_s"],
            ml and ml["deploy_s"],
            f"{name} serve --env-manager local",
            "s",
            target="≤ 3 s",
            met=ours["deploy_user_managed_s"] <= 3,
        ),
        common.row(
            "deploy -> Healthy (built env, cached)",
            ours["deploy_cached_env_s"],
            None,
            "",
            "s",
            target="≤ 3 s",
            met=ours["deploy_cached_env_s"] <= 3,
        ),
        common.row("latency p50 with auth on", ours["auth_p50_s"] * ms, None, "", "ms"),
        common.row(
            "key check per request",
            ours["key_check_s"] * 1e6,
            None,
            "",
            "µs",
            target="≤ 100 µs",
            met=ours["key_check_s"] * 1e6 <= 100,
        ),
    ]
    if keras:
        rows += serving_keras.rows(keras, CLIENTS)
    if uv:
        rows += [
            common.row(
                "HTTP stack: echo p50",
                ours["open_p50_s"] * ms,
                uv["p50_s"] * ms,
                "uvicorn+httptools",
                "ms",
            ),
            common.row(
                "HTTP stack: echo p99",
                ours["open_p99_s"] * ms,
                uv["p99_s"] * ms,
                "uvicorn+httptools",
                "ms",
            ),
            common.row(
                f"HTTP stack: throughput, {CLIENTS} clients",
                ours["throughput_rps"],
                uv["throughput_rps"],
                "uvicorn+httptools",
                "req/s",
                higher_is_better=True,
            ),
        ]
    notes = (
        "Same echo model everywhere; raw-socket keep-alive clients on the same machine. "
        "The uvicorn rows serve a bare ASGI app (no framework) with the same run(): the "
        "stack Runyard did not choose. Runyard's deploy times include starting the "
        "supervisor, copying the model and running init()."
    )
    if keras:
        notes += " " + serving_keras.NOTES
    notes += (
        f" Load average (1 min) {load_before:.1f} before and {os.getloadavg()[0]:.1f} after "
        f"the run, on {os.cpu_count()} cores shared with other work: single runs vary."
    )
    extra = {"runyard": ours, "uvicorn": uv, "mlflow": ml, "keras": keras}
    path = common.write_result("serving", "Serving a model", rows, notes, extra, smoke=args.quick)
    common.print_result(path)


if __name__ == "__main__":
    main()
