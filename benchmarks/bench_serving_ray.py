"""A web service's replicas on Ray Serve (``AksWebservice``): on a local Ray head, and on
Ray's multi-node test cluster attached as a compute target.

Measured with the same echo ``score.py`` as ``bench_serving.py``. On a Ray head Runyard
starts (a cluster compute target):

(a) deploy -> Healthy: ``Model.deploy`` + ``wait_for_deployment`` of a 1-replica service,
    the first (Serve starts on the cluster) and the next ones (Serve running);
(b) latency: sequential keep-alive requests through Serve's proxy (p50, p99), next to
    the same service deployed locally (AciWebservice): what Ray Serve adds per request
    (its documentation says 1-2 ms);
(c) throughput with 8 clients on 2 replicas.

On Ray's multi-node test cluster (``ray.cluster_utils.Cluster``: a head without CPUs and
two 2-CPU worker raylets on this machine, as ``tests/integration/ray_multinode.py`` builds
it), attached as a compute target:

(d) deploy -> Healthy of a 2-replica service whose replicas the cluster places on its two
    nodes: the first (Serve starts), the next ones with the files read in place (the nodes
    share this machine's folders), and with the files shipped through Ray's package store
    (``RUNYARD_SERVE_SHIP_FILES=1``, as for nodes on other machines).

    python benchmarks/bench_serving_ray.py [--requests 1000] [--where both|head|cluster]
                                           [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

sys.path.insert(0, str(common.REPO_ROOT / "tests" / "integration"))  # the test cluster
from bench_serving import CLIENTS, ROWS, SCORE, _pct, _request, latencies, throughput


def _port(uri: str) -> int:
    return int(uri.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])


def measure_head(work: Path, requests: int, per_client: int, deploys: int) -> dict[str, Any]:
    from runyard.core import Environment, Model, Workspace
    from runyard.core.compute import AmlCompute, ComputeTarget
    from runyard.core.model import InferenceConfig
    from runyard.core.webservice import AciWebservice, AksWebservice

    common.isolate_runyard(work)
    ws = Workspace.create("bench-serving-ray", path=work / "ws")
    config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=1)
    target = ComputeTarget.create(ws, "cpucluster", config)
    target.wait_for_completion()
    (work / "app").mkdir()
    (work / "app" / "score.py").write_text(SCORE)
    (work / "m.txt").write_text("weights")
    model = Model.register(ws, model_path=str(work / "m.txt"), model_name="echo")
    here = Environment("here")
    here.python.user_managed_dependencies = True
    inference = InferenceConfig("score.py", source_directory=str(work / "app"), environment=here)
    body = json.dumps({"data": ROWS}).encode()
    results: dict[str, Any] = {}
    try:
        times = []
        for i in range(deploys + 1):
            conf = AksWebservice.deploy_configuration(num_replicas=1, auth_enabled=False)
            started = time.perf_counter()
            service = Model.deploy(
                ws, f"echo-{i}", [model], inference, conf, deployment_target=target
            )
            service.wait_for_deployment(timeout_sec=600)
            times.append(time.perf_counter() - started)
        results["deploy_first_s"] = times[0]
        results["deploy_next_s"] = sorted(times[1:])[len(times[1:]) // 2]
        for i in range(deploys + 1):
            ws.webservices[f"echo-{i}"].delete()

        two = AksWebservice.deploy_configuration(num_replicas=2, auth_enabled=False)
        service = Model.deploy(ws, "echo-two", [model], inference, two, deployment_target=target)
        service.wait_for_deployment(timeout_sec=600)
        port, path = _port(service.scoring_uri), "/echo-two/score"
        samples = latencies(port, _request(path, body, None), requests)
        results["serve_p50_s"], results["serve_p99_s"] = _pct(samples, 0.5), _pct(samples, 0.99)
        results["serve_rps"] = throughput(port, _request(path, body, None), per_client)
        service.delete()

        local = Model.deploy(
            ws, "echo-local", [model], inference, AciWebservice.deploy_configuration()
        )
        local.wait_for_deployment()
        samples = latencies(_port(local.scoring_uri), _request("/score", body, None), requests)
        results["local_p50_s"], results["local_p99_s"] = _pct(samples, 0.5), _pct(samples, 0.99)
        local.delete()
    finally:
        target.delete()
        ws.close()
    return results


def measure_cluster(work: Path, deploys: int) -> dict[str, Any]:
    """(d): deploys on Ray's multi-node test cluster, attached as a compute target."""
    import dataclasses

    from ray_multinode import MultiNodeCluster

    from runyard.core import Environment, Model, Workspace
    from runyard.core.compute import AmlCompute, ComputeTarget
    from runyard.core.model import InferenceConfig
    from runyard.core.webservice import AksWebservice

    common.isolate_runyard(work)
    temp_dir = tempfile.mkdtemp(prefix="rb", dir="/tmp")  # short: Ray's sockets live there
    cluster = MultiNodeCluster(temp_dir, 2, cpus=2)
    results: dict[str, Any] = {}
    ws = Workspace.create("bench-serving-cluster", path=work / "ws")
    try:
        config = AmlCompute.provisioning_configuration(
            vm_size="cpu-2", max_nodes=2, address=cluster.address, python=sys.executable
        )
        target = ComputeTarget.create(ws, "testcluster", config)
        (work / "app").mkdir()
        (work / "app" / "score.py").write_text(SCORE)
        (work / "m.txt").write_text("weights")
        model = Model.register(ws, model_path=str(work / "m.txt"), model_name="echo")
        here = Environment("here")
        here.python.user_managed_dependencies = True
        inference = InferenceConfig(
            "score.py", source_directory=str(work / "app"), environment=here
        )
        shared_settings = ws.resources.settings

        def deploy(name: str, ship: bool) -> float:
            ws.resources.settings = dataclasses.replace(shared_settings, serve_ship_files=ship)
            # 1.5 of a node's 2 CPUs each: the cluster must put the replicas on both nodes.
            conf = AksWebservice.deploy_configuration(
                num_replicas=2, cpu_cores=1.5, memory_gb=0.1, auth_enabled=False
            )
            started = time.perf_counter()
            service = Model.deploy(ws, name, [model], inference, conf, deployment_target=target)
            service.wait_for_deployment(timeout_sec=600)
            took = time.perf_counter() - started
            nodes = service.replica_nodes()  # type: ignore[attr-defined]
            assert sorted(nodes) == sorted(cluster.nodes), (nodes, cluster.nodes)
            service.delete()
            return took

        results["cluster_first_s"] = deploy("first", ship=False)
        shared = [deploy(f"shared-{i}", ship=False) for i in range(deploys)]
        shipped = [deploy(f"shipped-{i}", ship=True) for i in range(deploys)]
        results["cluster_shared_s"] = sorted(shared)[len(shared) // 2]
        results["cluster_shipped_s"] = sorted(shipped)[len(shipped) // 2]
        results["cluster_shared_all_s"] = shared
        results["cluster_shipped_all_s"] = shipped
        target.delete()
    finally:
        ws.close()
        cluster.shutdown()
        shutil.rmtree(temp_dir, ignore_errors=True)
    return results


def _head_rows(r: dict[str, Any]) -> list[dict[str, Any]]:
    ms = 1000.0
    return [
        common.row(
            "deploy -> Healthy on the Ray head, Serve running",
            r["deploy_next_s"],
            None,
            "",
            "s",
            target="≤ 10 s",
            met=r["deploy_next_s"] <= 10,
        ),
        common.row(
            "deploy -> Healthy, the first (Serve starts)", r["deploy_first_s"], None, "", "s"
        ),
        common.row(
            "echo latency p50 through Ray Serve vs local",
            r["serve_p50_s"] * ms,
            r["local_p50_s"] * ms,
            "Runyard local (AciWebservice)",
            "ms",
        ),
        common.row(
            "echo latency p99 through Ray Serve vs local",
            r["serve_p99_s"] * ms,
            r["local_p99_s"] * ms,
            "Runyard local (AciWebservice)",
            "ms",
        ),
        common.row(
            f"throughput, {CLIENTS} clients, 2 replicas",
            r["serve_rps"],
            None,
            "",
            "req/s",
            higher_is_better=True,
        ),
    ]


def _cluster_rows(r: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        common.row(
            "deploy -> Healthy on the Ray test cluster (2 nodes, 2 replicas), files in place",
            r["cluster_shared_s"],
            None,
            "",
            "s",
            target="≤ 10 s",
            met=r["cluster_shared_s"] <= 10,
        ),
        common.row(
            "deploy -> Healthy on the Ray test cluster, files shipped (Ray's package store)",
            r["cluster_shipped_s"],
            None,
            "",
            "s",
            target="≤ 10 s",
            met=r["cluster_shipped_s"] <= 10,
        ),
        common.row(
            "deploy -> Healthy on the Ray test cluster, the first (Serve starts)",
            r["cluster_first_s"],
            None,
            "",
            "s",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--per-client", type=int, default=200)
    parser.add_argument("--deploys", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="A smoke run: few requests.")
    parser.add_argument(
        "--where",
        choices=("both", "head", "cluster"),
        default="both",
        help="The local Ray head, Ray's multi-node test cluster, or both (default). Only "
        "'both' replaces benchmarks/results/serving_ray.json; a part goes to benchmarks/.work/.",
    )
    args = parser.parse_args()
    if args.quick:
        args.requests, args.per_client, args.deploys = 100, 20, 1
    loads = [os.getloadavg()[0]]
    r: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    if args.where in ("both", "head"):
        work = Path(tempfile.mkdtemp(prefix="bench-serving-ray-"))
        try:
            r.update(measure_head(work, args.requests, args.per_client, args.deploys))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        rows += _head_rows(r)
        loads.append(os.getloadavg()[0])
    if args.where in ("both", "cluster"):
        work = Path(tempfile.mkdtemp(prefix="bench-serving-cluster-"))
        try:
            r.update(measure_cluster(work, args.deploys))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        rows += _cluster_rows(r)
        loads.append(os.getloadavg()[0])
    notes = (
        "Ray Serve's proxy adds its own hop (HTTP proxy -> replica actor); its documentation "
        "puts that at 1-2 ms. The 'Other' column here is Runyard's own local scoring server "
        "on the same echo score.py, for scale. The test cluster's rows: Ray's multi-node "
        "test cluster (a head without CPUs, two 2-CPU worker raylets) attached as a compute "
        "target; each replica reserves 1.5 CPU, so the two land on different nodes (checked "
        "on every deploy); medians of the deploys after the first. "
        f"Load average (1 min) {', '.join(f'{x:.1f}' for x in loads)} (before, after each "
        f"part) on {os.cpu_count()} cores shared with other work."
    )
    path = common.write_result(
        "serving_ray",
        "Serving on Ray Serve (AksWebservice): a local head and the Ray test cluster",
        rows,
        notes,
        {"raw": r, "load_average_1min": loads},
        smoke=args.quick or args.where != "both",
    )
    common.print_result(path)


if __name__ == "__main__":
    main()
