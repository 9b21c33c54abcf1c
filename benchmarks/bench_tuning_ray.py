"""HyperDrive children on Ray's test cluster (issue 9): how fast a child starts.

A cluster target of ``max_nodes=4`` 1-CPU nodes on Ray's multi-node test cluster
(``simulated_nodes=True``: Ray's autoscaling test cluster, four raylets on this machine,
started before the clock runs). A sweep of ``--trials`` children, ``max_concurrent_runs=4``,
of a script whose first statement records ``time.time()``; the environment is the
submitting interpreter as it is (nothing to build, as with a cached environment).

(a) Child start: a child's creation (Queued, by the controller) -> its script's first
    line, median over the children.
(b) For scale, on the same cluster and the same idle nodes: an ordinary Runyard run,
    ``Experiment.submit()`` -> first line; and Ray's own floor, the same script posted
    straight to Ray's job API -> first line (no Runyard at all).

    .venv/bin/python benchmarks/bench_tuning_ray.py [--trials N] [--repeat N] [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ray import SCRIPT as FIRST_LINE
from bench_ray import _ray_api_first_line, _runyard_first_line
from common import (
    isolate_runyard,
    print_result,
    row,
    summarize,
    wait_for_quiet,
    work_dir,
    write_result,
)

CHILD = """\
import time
T0 = time.time()
from runyard.core import Run
Run.get_context().log("t0", T0)
"""
NODES = 4


def _sweep(exp: Any, src: Path, target: Any, env: Any, trials: int) -> list[float]:
    from runyard.core import ScriptRunConfig
    from runyard.train.hyperdrive import GridParameterSampling, HyperDriveConfig, choice

    config = HyperDriveConfig(
        run_config=ScriptRunConfig(str(src), "child.py", compute_target=target, environment=env),
        hyperparameter_sampling=GridParameterSampling({"--x": choice(*range(trials))}),
        primary_metric_name="t0",
        primary_metric_goal="maximize",
        max_total_runs=trials,
        max_concurrent_runs=NODES,
    )
    hdr = exp.submit(config)
    details = hdr.wait_for_completion(timeout_seconds=1800)
    if details["status"] != "Completed":
        raise RuntimeError(f"the sweep ended {details['status']}: {details.get('error')}")
    starts = []
    for child in hdr.get_children():
        record = child._refresh()
        if record.status.value != "Completed":
            raise RuntimeError(f"{child.id} ended {record.status.value}: {record.error}")
        starts.append(child.get_metrics()["t0"] - record.created_at)
    return starts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="4 trials, 2 repeats; no results")
    parser.add_argument("--max-load", type=float, default=2.0)
    parser.add_argument("--max-wait", type=float, default=300.0)
    args = parser.parse_args()
    if args.quick:
        args.trials, args.repeat = 4, 2

    folder = Path(work_dir("tuning-ray-"))
    isolate_runyard(folder)
    from runyard.core import Environment, Experiment, Workspace
    from runyard.core.compute import AmlCompute, ComputeTarget

    src = folder / "src"
    src.mkdir()
    (src / "child.py").write_text(CHILD)
    (src / "first.py").write_text(FIRST_LINE)
    stamps = folder / "stamps"
    stamps.mkdir()
    env = Environment("current")
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = sys.executable
    raw: dict[str, Any] = {}
    ws = Workspace.create("bench-tuning-ray", path=str(folder / "ws"))
    cluster = None
    try:
        exp = Experiment(ws, "bench")
        config = AmlCompute.provisioning_configuration(
            vm_size="cpu-1", min_nodes=NODES, max_nodes=NODES, simulated_nodes=True
        )
        cluster = ComputeTarget.create(ws, "four-nodes", config)
        cluster.wait_for_completion(min_node_count=NODES, timeout_in_minutes=10)
        _sweep(exp, src, cluster, env, NODES)  # warms every node's worker up
        raw["load_before"] = wait_for_quiet(args.max_load, args.max_wait)
        raw["child_start"] = _sweep(exp, src, cluster, env, args.trials)
        raw["run"] = _runyard_first_line(exp, src, cluster, env, stamps, args.repeat)
        raw["ray_api"] = _ray_api_first_line(cluster, src, stamps, args.repeat)
        raw["load_after"] = os.getloadavg()[0]
    finally:
        if cluster is not None:
            cluster.delete()
        ws.close()
        shutil.rmtree(folder, ignore_errors=True)

    start = summarize(raw["child_start"])
    run_first = summarize(raw["run"]["first_line"]).median
    api = summarize(raw["ray_api"]).median
    rows = [
        row(
            f"HyperDrive child start (Queued → first line), median of {args.trials}",
            start.median,
            api,
            "Ray job API → first line (same cluster)",
            "s",
            target="≤ 2.5 s",
            met=start.median <= 2.5,
        ),
        row("… slowest child", max(raw["child_start"]), None, "", "s"),
        row(
            "An ordinary run on the same cluster: submit → first line",
            run_first,
            api,
            "Ray job API → first line (same cluster)",
            "s",
        ),
    ]
    notes = (
        f"Ray's autoscaling test cluster: {NODES} raylets of 1 CPU on this machine's 2 "
        "cores, started and warmed up (one sweep of 4 children) before timing. Each child "
        "is placed by the cluster as a Ray task of the target's dispatcher (a whole 1-CPU node "
        "each) and carried by Runyard's executor on that node; the environment is the "
        "submitting interpreter (no build). "
        "The controller polls the children every 0.25 s and submits the next one as a slot "
        "frees. Ray's job API line is Ray alone starting the same kind of script, the floor "
        "a child's start sits on. 1-minute load average (2 shared cores) before → after: "
        f"{raw['load_before']:.1f} → {raw['load_after']:.1f}."
    )
    path = write_result(
        "tuning_ray",
        "HyperDrive children on Ray's test cluster (issue 9)",
        rows,
        notes,
        raw,
        smoke=args.quick,
    )
    print_result(path)


if __name__ == "__main__":
    main()
