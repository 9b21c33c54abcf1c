"""Runyard's side of bench_tracking.py; runs in the project's venv.

Usage: ``python runyard_side.py WORK_DIR SETTINGS_JSON``. Prints one JSON object (seconds).
Runyard is used as a training script uses it: an embedded workspace (SQLite, WAL) in
WORK_DIR, ``exp.start_logging()``, ``run.log`` one value at a time.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import summarize


def main() -> None:
    work = Path(sys.argv[1]).resolve()
    work.mkdir(parents=True, exist_ok=True)
    settings: dict[str, Any] = json.loads(sys.argv[2])
    from runyard.core import Experiment, Model, Run, Workspace

    ws_path = work / "workspace"
    ws = Workspace.create("bench", path=ws_path)
    exp = Experiment(ws, "bench")
    out: dict[str, Any] = {"workspace_config": ws.config.to_json()}

    def count(run_id: str, name: str) -> int:
        # A fresh Workspace: its own engine and connections, as another process would read.
        with Workspace.get("bench", path=ws_path) as fresh:
            values = Run.get(fresh, run_id).get_metrics(name).get(name, [])
        return len(values) if isinstance(values, list) else 1

    # Warm-up: the first run pays for lazy imports and the writer thread's start.
    with exp.start_logging() as run:
        for i in range(1000):
            run.log("warm", float(i), step=i)
        run.flush()

    # 1. A tight loop of `loop_values` run.log calls (SDK v1 idiom: no step), timed in
    #    batches; then the time from the loop's end until run.flush() has made them durable.
    big, batch = settings["loop_values"], settings["batch"]
    per_call: list[float] = []
    per_call_cpu: list[float] = []
    durable: list[float] = []
    durable_cpu: list[float] = []
    complete_after: list[float] = []
    for _ in range(settings["loop_repeats"]):
        run = exp.start_logging()
        i = 0
        for _b in range(big // batch):
            start, cpu = time.perf_counter_ns(), time.thread_time_ns()
            for _ in range(batch):
                run.log("loss", float(i))
                i += 1
            per_call.append((time.perf_counter_ns() - start) / batch / 1e9)
            per_call_cpu.append((time.thread_time_ns() - cpu) / batch / 1e9)
        loop_end, cpu = time.perf_counter_ns(), time.process_time_ns()
        run.flush()
        flushed = time.perf_counter_ns()
        durable_cpu.append((time.process_time_ns() - cpu) / 1e9)
        run.complete()
        complete_after.append((time.perf_counter_ns() - flushed) / 1e9)
        durable.append((flushed - loop_end) / 1e9)
        got = count(run.id, "loss")
        assert got == big, f"loop: {got} of {big} values durable after flush"
    out["loop_per_call"] = summarize(per_call).to_dict()
    out["loop_durable_after"] = summarize(durable).to_dict()
    out["cpu_loop_per_call"] = summarize(per_call_cpu).to_dict()
    out["cpu_loop_durable_after"] = summarize(durable_cpu).to_dict()
    out["loop_complete_after_flush"] = summarize(complete_after).to_dict()

    # 2. Throughput: n values one call at a time (same call shape as MLflow's side:
    #    name, float value, step), then flush until durable.
    n = settings["throughput_values"]
    totals: list[float] = []
    tp_per_call: list[float] = []
    tp_durable: list[float] = []
    for _ in range(settings["throughput_repeats"]):
        with exp.start_logging() as run:
            start = time.perf_counter_ns()
            for i in range(n):
                run.log("loss", float(i), step=i)
            loop_end = time.perf_counter_ns()
            run.flush()
            end = time.perf_counter_ns()
        got = count(run.id, "loss")
        assert got == n, f"throughput: {got} of {n} values durable after flush"
        totals.append((end - start) / 1e9)
        tp_per_call.append((loop_end - start) / n / 1e9)
        tp_durable.append((end - loop_end) / 1e9)
    out["throughput_10k_total"] = summarize(totals).to_dict()
    out["throughput_per_call"] = summarize(tp_per_call).to_dict()
    out["throughput_durable_after"] = summarize(tp_durable).to_dict()

    # 3. Create + complete a run.
    samples, cpu_samples = [], []
    for _ in range(settings["run_repeats"] + 2):
        start, cpu = time.perf_counter_ns(), time.process_time_ns()
        run = exp.start_logging()
        run.complete()
        samples.append((time.perf_counter_ns() - start) / 1e9)
        cpu_samples.append((time.process_time_ns() - cpu) / 1e9)
    out["run_create_complete"] = summarize(samples[2:]).to_dict()
    out["cpu_run_create_complete"] = summarize(cpu_samples[2:]).to_dict()

    # 4. Register a version of a 1 MB file: Model.register copies it into the workspace
    #    and records the next version.
    model_file = work / "model.bin"
    model_file.write_bytes(os.urandom(settings["model_bytes"]))
    samples, cpu_samples = [], []
    for _ in range(settings["register_repeats"] + 2):
        start, cpu = time.perf_counter_ns(), time.process_time_ns()
        model = Model.register(ws, model_path=str(model_file), model_name="bench-model")
        samples.append((time.perf_counter_ns() - start) / 1e9)
        cpu_samples.append((time.process_time_ns() - cpu) / 1e9)
    assert model.version == settings["register_repeats"] + 2, model.version
    out["register_model"] = summarize(samples[2:]).to_dict()
    out["cpu_register_model"] = summarize(cpu_samples[2:]).to_dict()

    # 4b. The same through a run, MLflow's shape: upload the file to the run, register the
    #     version from the run's files (lineage to the run). The run is made untimed.
    samples = []
    for _ in range(settings["register_repeats"] + 2):
        with exp.start_logging() as run:
            start = time.perf_counter_ns()
            run.upload_file("outputs/model/model.bin", str(model_file))
            run.register_model("bench-run-model", model_path="outputs/model")
            samples.append((time.perf_counter_ns() - start) / 1e9)
    out["register_from_run"] = summarize(samples[2:]).to_dict()

    ws.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
