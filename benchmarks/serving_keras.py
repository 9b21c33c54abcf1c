"""The Keras MNIST model served by Runyard (one request per ``run``, and with ``@batch``)
and by ``mlflow models serve``; used by ``bench_serving.py``.

Both serve the same network (the Keras example's MLP: 784-300-100-10), loaded the same
way (``model_from_json`` + ``load_weights``) and called the same way (``model.predict``,
then ``argmax``), with one worker process each, on one real MNIST test image per request
(a random one when the MNIST files are not there).
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any

import common
from serving_client import concurrent, latencies, pct, request

MNIST = Path(os.environ.get("MNIST_DIR", common.REPO_ROOT.parent / "shared" / "data" / "mnist"))
#: The notebook's myenv.yml (2019 cell 78: CondaDependencies.create() + tensorflow + keras).
MYENV = "name: project_environment\ndependencies:\n  - tensorflow\n  - keras\n"
MAKE_MODEL = textwrap.dedent(
    """
    import sys, keras
    from keras import layers
    model = keras.Sequential([keras.Input((784,)), layers.Dense(300, activation="relu"),
                              layers.Dense(100, activation="relu"),
                              layers.Dense(10, activation="softmax")])
    folder = sys.argv[1]
    with open(folder + "/model.json", "w") as f:
        f.write(model.to_json())
    model.save_weights(folder + "/model.weights.h5")
    """
)
# The notebook's score.py (2019 cell 76), with Keras 3's weights file name.
SCORE = textwrap.dedent(
    """
    import json, os
    import numpy as np
    from keras.models import model_from_json
    from runyard.core.model import Model

    def init():
        global model
        folder = Model.get_model_path("keras-mlp-mnist")
        with open(os.path.join(folder, "model.json")) as f:
            model = model_from_json(f.read())
        model.load_weights(os.path.join(folder, "model.weights.h5"))
        model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])

    def run(raw_data):
        data = np.array(json.loads(raw_data)["data"])
        y_hat = np.argmax(model.predict(data, verbose=0), axis=1)
        return y_hat.tolist()
    """
)
# The same, batched: one predict for all the requests that arrive together.
SCORE_BATCHED = SCORE.replace(
    "from runyard.core.model import Model\n",
    "from runyard.core.model import Model\nfrom runyard.serving import batch\n",
).split("def run(raw_data):")[0] + textwrap.dedent(
    """
    @batch(max_batch_size=32, batch_wait_timeout_s=0.002)
    def run(raw_batch):
        parts = [np.array(json.loads(raw)["data"]) for raw in raw_batch]
        y_hat = np.argmax(model.predict(np.concatenate(parts), verbose=0), axis=1).tolist()
        out, at = [], 0
        for part in parts:
            out.append(y_hat[at : at + len(part)])
            at += len(part)
        return out
    """
)
# The same model called with predict_on_batch: no per-call input pipeline, so what the
# server adds per request shows.
SCORE_FAST = SCORE.replace("model.predict(data, verbose=0)", "model.predict_on_batch(data)")
MLFLOW_SAVE = textwrap.dedent(
    """
    import sys
    import mlflow.pyfunc
    import numpy as np

    class KerasMnist(mlflow.pyfunc.PythonModel):
        # The variant is kept in the saved model: at serve time sys.argv is the server's.
        def __init__(self, fast):
            self.fast = fast

        def load_context(self, context):
            from keras.models import model_from_json
            with open(context.artifacts["json"]) as f:
                self.model = model_from_json(f.read())
            self.model.load_weights(context.artifacts["weights"])
            self.model.compile(loss="binary_crossentropy", optimizer="rmsprop",
                               metrics=["accuracy"])

        def predict(self, context, model_input, params=None):
            data = np.asarray(model_input, dtype="float32")
            if self.fast:
                return np.argmax(self.model.predict_on_batch(data), axis=1)
            return np.argmax(self.model.predict(data, verbose=0), axis=1)

    folder = sys.argv[2]
    mlflow.pyfunc.save_model(
        sys.argv[1], python_model=KerasMnist(sys.argv[3] == "fast"),
        artifacts={"json": folder + "/model.json", "weights": folder + "/model.weights.h5"})
    """
)


def one_image() -> list[float]:
    """The first MNIST test image, scaled to [0, 1] as the example does."""
    path = MNIST / "t10k-images-idx3-ubyte.gz"
    if path.exists():
        with gzip.open(path, "rb") as fh:
            raw = fh.read(16 + 784)[16:]
        return [round(b / 255.0, 4) for b in raw]
    import random

    return [round(random.random(), 4) for _ in range(784)]


def make_model(python: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [python, "-c", MAKE_MODEL, str(folder)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


def runyard_keras(
    work: Path, requests: int, clients: int, per_client: int, threads: int
) -> dict[str, Any]:
    """Deploy the notebook's score.py (and its batched and predict_on_batch twins) on the
    Keras model: with ``threads`` run() calls at once (``replica_max_concurrent_requests``)
    and, as ``serial``, with the default of one at a time."""
    from runyard.core import Model, Workspace
    from runyard.core.model import InferenceConfig
    from runyard.core.webservice import AciWebservice
    from runyard.environments import UvEnvironmentBuilder
    from runyard.environments.host import RunyardHost
    from runyard.settings import Settings

    app = work / "keras-app"
    app.mkdir(parents=True)
    (app / "myenv.yml").write_text(MYENV)
    (app / "score.py").write_text(SCORE)
    (app / "score_batched.py").write_text(SCORE_BATCHED)
    (app / "score_fast.py").write_text(SCORE_FAST)
    plain = InferenceConfig(
        "score.py", source_directory=str(app), runtime="python", conda_file="myenv.yml"
    )
    batched = InferenceConfig(
        "score_batched.py", source_directory=str(app), runtime="python", conda_file="myenv.yml"
    )
    fast = InferenceConfig(
        "score_fast.py", source_directory=str(app), runtime="python", conda_file="myenv.yml"
    )
    settings = Settings.from_env()
    builder = UvEnvironmentBuilder(cache_dir=settings.env_cache or None, host=RunyardHost())
    python = builder.build(plain.environment_spec(), log=lambda _line: None).python
    make_model(str(python), work / "keras-model")
    ws = Workspace.create("bench-keras", path=work / "keras-ws")
    model = Model.register(ws, model_path=str(work / "keras-model"), model_name="keras-mlp-mnist")
    body = json.dumps({"data": [one_image()]}).encode()
    data = request("/score", body)
    results: dict[str, Any] = {}
    variants = (
        ("plain", plain, threads),
        ("serial", plain, 1),
        ("batched", batched, 1),
        ("fast", fast, threads),
    )
    for label, config, at_once in variants:
        conf = AciWebservice.deploy_configuration(replica_max_concurrent_requests=at_once)
        started = time.perf_counter()
        service = Model.deploy(ws, f"keras-{label}", [model], config, conf, overwrite=True)
        service.wait_for_deployment()
        results[f"{label}_deploy_s"] = time.perf_counter() - started
        port = int(service.scoring_uri.rsplit(":", 1)[1].split("/")[0])
        samples = latencies(port, data, requests, warmup=10)
        results[f"{label}_p50_s"], results[f"{label}_p99_s"] = pct(samples, 0.5), pct(samples, 0.99)
        results[f"{label}_load"] = concurrent(port, data, clients, per_client)
        service.delete()
    ws.close()
    return results


def mlflow_keras(
    work: Path, requirements: list[str], requests: int, clients: int, per_client: int
) -> dict[str, Any]:
    """``mlflow models serve`` (one worker) on the same network."""
    python = common.ensure_venv("mlflow-keras", [*requirements, "tensorflow", "keras"])
    env = {**os.environ, **common.QUIET_ENV, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env["PATH"] = str(Path(python).parent) + os.pathsep + env.get("PATH", "")
    folder = work / "mlflow-keras-model"
    make_model(str(python), folder)
    results: dict[str, Any] = {"version": common.installed_version(python, "mlflow")}
    for variant in ("plain", "fast"):
        saved = work / f"mlflow-keras-{variant}"
        subprocess.run(
            [str(python), "-c", MLFLOW_SAVE, str(saved), str(folder), variant],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        results[variant] = _mlflow_serve(python, env, saved, requests, clients, per_client)
    return results


def _mlflow_serve(
    python: Path, env: dict[str, str], saved: Path, requests: int, clients: int, per_client: int
) -> dict[str, Any]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = subprocess.Popen(
        [
            str(Path(python).parent / "mlflow"),
            "models",
            "serve",
            "-m",
            str(saved),
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
    data = request("/invocations", json.dumps({"inputs": [one_image()]}).encode())
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                latencies(port, data, 1, warmup=0)
                break
            except (OSError, AssertionError, IndexError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        samples = latencies(port, data, requests, warmup=10)
        return {
            "p50_s": pct(samples, 0.5),
            "p99_s": pct(samples, 0.99),
            "load": concurrent(port, data, clients, per_client),
        }
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()


NOTES = (
    "Keras rows: the Keras example's MLP (784-300-100-10) on one MNIST test image per "
    "request, model.predict + argmax on both sides (the notebook's score.py; MLflow: a "
    "pyfunc model doing the same), one worker process each, no resource limits. Runyard "
    "serves with replica_max_concurrent_requests (threads, the number in the row) except "
    "in the one-at-a-time row; mlflow models serve runs each predict with asyncio.to_thread "
    "(the default pool: min(32, cores + 4) threads). Runyard batched: the same score.py with "
    "@batch(max_batch_size=32, batch_wait_timeout_s=0.002). "
    "The Keras deploy time is mostly init(): importing TensorFlow and Keras takes 3-4 s here. "
    "Keras 3's model.predict sets up an input pipeline on every call (tens of ms here), the "
    "same on both sides; the predict_on_batch rows call the model without it, so what each "
    "server adds per request shows."
)


def rows(keras: dict[str, Any], clients: int) -> list[dict[str, Any]]:
    """The Keras rows of the serving result."""
    versions = keras.get("mlflow")
    name = f"mlflow {versions['version']}" if versions else "mlflow"
    ml = versions and versions["plain"]
    mlf = versions and versions["fast"]
    ms = 1000.0
    plain, batched, fast = keras["plain_load"], keras["batched_load"], keras["fast_load"]
    serial = keras["serial_load"]
    threads = keras["threads"]
    return [
        common.row(
            "Keras MNIST latency p50 (one image)",
            keras["plain_p50_s"] * ms,
            ml and ml["p50_s"] * ms,
            name,
            "ms",
            target="≤ ½ MLflow's",
            met=None if ml is None else keras["plain_p50_s"] <= ml["p50_s"] / 2,
        ),
        common.row(
            "Keras MNIST latency p99 (one image)",
            keras["plain_p99_s"] * ms,
            ml and ml["p99_s"] * ms,
            name,
            "ms",
        ),
        common.row(
            f"Keras MNIST throughput, {clients} clients",
            plain["rps"],
            ml and ml["load"]["rps"],
            name,
            "req/s",
            higher_is_better=True,
            target="≥ 3× MLflow",
            met=None if ml is None else plain["rps"] >= 3 * ml["load"]["rps"],
        ),
        common.row(
            f"Keras MNIST throughput, {clients} clients, {threads} run() at once vs one",
            plain["rps"],
            serial["rps"],
            "Runyard, one run() at a time (the default)",
            "req/s",
            higher_is_better=True,
        ),
        common.row(
            f"Keras MNIST throughput, {clients} clients, batched vs not",
            batched["rps"],
            plain["rps"],
            "Runyard without batching",
            "req/s",
            higher_is_better=True,
            target="≥ 2× without",
            met=batched["rps"] >= 2 * plain["rps"],
        ),
        common.row(
            f"Keras MNIST p95 under {clients} clients, batched vs not",
            batched["p95_s"] * ms,
            plain["p95_s"] * ms,
            "Runyard without batching",
            "ms",
            target="≤ 2× without",
            met=batched["p95_s"] <= 2 * plain["p95_s"],
        ),
        common.row(
            f"Keras MNIST p95 under {clients} clients, batched vs MLflow",
            batched["p95_s"] * ms,
            ml and ml["load"]["p95_s"] * ms,
            name,
            "ms",
        ),
        common.row(
            f"Keras MNIST throughput, {clients} clients, batched vs MLflow",
            batched["rps"],
            ml and ml["load"]["rps"],
            name,
            "req/s",
            higher_is_better=True,
        ),
        common.row(
            "Keras MNIST latency p50, predict_on_batch on both sides",
            keras["fast_p50_s"] * ms,
            mlf and mlf["p50_s"] * ms,
            name,
            "ms",
            target="≤ ½ MLflow's",
            met=None if mlf is None else keras["fast_p50_s"] <= mlf["p50_s"] / 2,
        ),
        common.row(
            f"Keras MNIST throughput, {clients} clients, predict_on_batch on both sides",
            fast["rps"],
            mlf and mlf["load"]["rps"],
            name,
            "req/s",
            higher_is_better=True,
            target="≥ 3× MLflow",
            met=None if mlf is None else fast["rps"] >= 3 * mlf["load"]["rps"],
        ),
        common.row(
            "Keras deploy -> Healthy (environment cached)",
            keras["plain_deploy_s"],
            None,
            "",
            "s",
        ),
    ]
