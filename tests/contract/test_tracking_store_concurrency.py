"""TrackingStore contract under concurrency: processes racing on a new store, and threads
sharing one store."""

from __future__ import annotations

import multiprocessing
import queue
import threading
from typing import Any

import pytest

from runyard.entities import MetricRecord, RunStatus

PROCESSES = 8
EACH = 10


def _race(open_store: Any, worker: int, barrier: Any, results: Any) -> None:
    """Child process: open the (new) store when everyone is ready, then allocate numbers."""
    try:
        barrier.wait(timeout=120)
        store = open_store()
        try:
            experiment = store.create_experiment("race")
            barrier.wait(timeout=120)
            numbers = [
                store.create_run(
                    "race", run_id=f"w{worker}-{i}", status=RunStatus.NOT_STARTED
                ).number
                for i in range(EACH)
            ]
            versions = [
                store.create_model_version(
                    "shared", artifact_path_template="models/shared/{version}"
                ).version
                for _ in range(EACH)
            ]
        finally:
            store.close()
        results.put((worker, experiment.experiment_id, numbers, versions, None))
    except BaseException as exc:  # reported to the parent, which fails the test
        results.put((worker, None, [], [], repr(exc)))


def test_processes_racing_on_a_new_store_share_one_schema_and_get_gapless_numbers(
    open_store, adapter
):
    """8 processes open a brand-new database at once (one migrates, the others wait), get
    or create the same experiment, then each creates 10 runs and registers 10 versions of
    one model: run numbers and versions are exactly 1..80."""
    if adapter == "memory":
        pytest.skip("A memory store lives in one process; threads race on it instead.")
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [
        context.Process(target=_race, args=(open_store, n, barrier, results))
        for n in range(PROCESSES)
    ]
    for process in workers:
        process.start()
    try:
        outcomes = [results.get(timeout=180) for _ in workers]
    finally:
        for process in workers:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    errors = [error for *_, error in outcomes if error]
    assert errors == []
    assert len({experiment_id for _, experiment_id, *_ in outcomes}) == 1
    numbers = sorted(n for _, _, worker_numbers, _, _ in outcomes for n in worker_numbers)
    versions = sorted(v for *_, worker_versions, _ in outcomes for v in worker_versions)
    total = PROCESSES * EACH
    assert numbers == list(range(1, total + 1))
    assert versions == list(range(1, total + 1))
    for _, _, worker_numbers, worker_versions, _ in outcomes:  # each saw its own go up
        assert worker_numbers == sorted(worker_numbers)
        assert worker_versions == sorted(worker_versions)
    store = open_store()
    try:
        assert store.get_experiment("race").run_count == total
        assert store.get_model("shared").version == total
    finally:
        store.close()


def test_threads_can_share_one_store(store):
    store.create_experiment("exp")
    failures: queue.Queue[BaseException] = queue.Queue()

    def work(worker: int) -> None:
        try:
            for i in range(5):
                run_id = f"t{worker}-{i}"
                store.create_run("exp", run_id=run_id, status=RunStatus.RUNNING)
                store.log_metrics([MetricRecord(run_id, "m", float(j)) for j in range(50)])
                store.set_tags(run_id, {"worker": str(worker)})
                store.set_run_status(run_id, RunStatus.COMPLETED)
                assert len(store.get_metrics(run_id)) == 50
        except BaseException as exc:
            failures.put(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures.empty(), failures.get()
    runs = store.list_runs(experiment_name="exp")
    assert len(runs) == 40
    assert sorted(r.number for r in runs) == list(range(1, 41))
    assert {r.status for r in runs} == {RunStatus.COMPLETED}


def test_threads_racing_on_one_store_get_gapless_run_numbers_and_versions(store):
    """8 threads each create 10 runs of one experiment, register 10 versions of one model
    and 10 environment specs: numbers and versions are exactly 1..80, each thread's own
    going up."""
    store.create_experiment("race")
    barrier = threading.Barrier(PROCESSES)
    got: dict[int, tuple[list[int], list[int], list[int]]] = {}
    failures: queue.Queue[BaseException] = queue.Queue()

    def work(worker: int) -> None:
        try:
            barrier.wait(timeout=60)
            numbers = [
                store.create_run("race", run_id=f"w{worker}-{i}", status=RunStatus.QUEUED).number
                for i in range(EACH)
            ]
            versions = [
                store.create_model_version("shared", artifact_path_template="m/{version}").version
                for _ in range(EACH)
            ]
            environments = [
                store.create_environment_version("env", {"worker": worker, "i": i}).version
                for i in range(EACH)
            ]
            got[worker] = (numbers, versions, environments)
        except BaseException as exc:
            failures.put(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(PROCESSES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures.empty(), failures.get()
    total = PROCESSES * EACH
    for column in range(3):
        allocated = [n for worker in got.values() for n in worker[column]]
        assert sorted(allocated) == list(range(1, total + 1))
        assert all(w[column] == sorted(w[column]) for w in got.values())
    assert store.get_experiment("race").run_count == total
    assert store.get_model("shared").version == total
