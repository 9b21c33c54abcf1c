"""Distributed training settings: SDK v1 configurations, the processes they start, and the
variables (TF_CONFIG, RANK...) each process gets."""

from __future__ import annotations

import json

import pytest

from runyard.compute.layout import layout_of, process_environment
from runyard.compute.ray.jobs import RayNode
from runyard.compute.ray.placement import Placement, check_gang_fits, gang_bundle
from runyard.compute.sizes import lookup_vm_size
from runyard.core import ScriptRunConfig
from runyard.core.distributed import (
    MpiConfiguration,
    PyTorchConfiguration,
    TensorflowConfiguration,
    describe_distribution,
)
from runyard.errors import InvalidArgument
from runyard.train.estimator import Estimator

GIB = 2**30


def test_estimator_with_tensorflow_workers_starts_one_process_per_worker(tmp_path):
    estimator = Estimator(
        str(tmp_path),
        entry_script="train.py",
        node_count=2,
        distributed_training=TensorflowConfiguration(worker_count=2),
    )
    config = estimator._to_script_run_config()
    layout = layout_of(config._distributed, config.run_config.node_count)
    assert (layout.kind, layout.processes, layout.workers) == ("tensorflow", 2, 2)


def test_script_run_config_with_parameter_servers_needs_a_node_per_process(tmp_path):
    config = ScriptRunConfig(
        str(tmp_path),
        "train.py",
        distributed_job_config=TensorflowConfiguration(worker_count=2, parameter_server_count=1),
    )
    assert config.run_config.node_count == 3
    layout = layout_of(config._distributed, config.run_config.node_count)
    assert (layout.processes, layout.workers) == (3, 2)


def test_pytorch_and_mpi_layouts_count_processes_per_node():
    torch = layout_of(describe_distribution(PyTorchConfiguration(process_count=4, node_count=2)))
    assert (torch.kind, torch.processes, torch.per_node, torch.nodes) == ("pytorch", 4, 2, 2)
    mpi = layout_of(describe_distribution(MpiConfiguration(process_count_per_node=2, node_count=3)))
    assert (mpi.kind, mpi.processes, mpi.per_node, mpi.nodes) == ("mpi", 6, 2, 3)


def test_node_count_alone_starts_that_many_processes():
    layout = layout_of(None, 3)
    assert (layout.kind, layout.processes) == ("none", 3)
    assert describe_distribution(None, 1) is None


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: TensorflowConfiguration(worker_count=0), "worker_count must be"),
        (lambda: TensorflowConfiguration(parameter_server_count=-1), "parameter_server_count"),
        (lambda: PyTorchConfiguration(process_count=1, node_count=2), "at least one process"),
        (lambda: MpiConfiguration(process_count_per_node=1.5), "process_count_per_node"),
        (lambda: describe_distribution(object()), "distributed_training must be"),
    ],
)
def test_bad_distribution_settings_are_refused(make, message):
    with pytest.raises(InvalidArgument, match=message):
        make()


def test_tf_config_names_every_worker_and_this_task():
    layout = layout_of(describe_distribution(TensorflowConfiguration(worker_count=2)))
    endpoints = [("10.0.0.1", 2222), ("10.0.0.2", 2223)]
    env = process_environment(layout, 1, endpoints, ["a", "b"])
    config = json.loads(env["TF_CONFIG"])
    assert config == {
        "cluster": {"worker": ["10.0.0.1:2222", "10.0.0.2:2223"]},
        "task": {"type": "worker", "index": 1},
    }
    assert (env["RANK"], env["WORLD_SIZE"], env["LOCAL_RANK"], env["NODE_RANK"]) == (
        "1",
        "2",
        "0",
        "1",
    )
    assert (env["MASTER_ADDR"], env["MASTER_PORT"]) == ("10.0.0.1", "2222")


def test_parameter_servers_come_after_the_workers_in_tf_config():
    layout = layout_of(
        describe_distribution(TensorflowConfiguration(worker_count=1, parameter_server_count=1))
    )
    env = process_environment(layout, 1, [("h0", 1), ("h1", 2)], ["a", "b"])
    config = json.loads(env["TF_CONFIG"])
    assert config["cluster"] == {"worker": ["h0:1"], "ps": ["h1:2"]}
    assert config["task"] == {"type": "ps", "index": 0}


def test_processes_on_one_node_get_local_ranks_and_mpi_names():
    layout = layout_of(describe_distribution(MpiConfiguration(process_count_per_node=2)))
    endpoints = [("h", 1), ("h", 2)]
    second = process_environment(layout, 1, endpoints, ["n", "n"])
    assert (second["LOCAL_RANK"], second["LOCAL_WORLD_SIZE"], second["NODE_RANK"]) == (
        "1",
        "2",
        "0",
    )
    assert second["OMPI_COMM_WORLD_RANK"] == "1"
    assert "TF_CONFIG" not in second


def test_local_head_shares_itself_among_the_processes():
    bundle = gang_bundle(Placement(2.0, 0.0), processes=2, per_node=1, local=True)
    assert (bundle.num_cpus, bundle.num_gpus) == (1.0, 0.0)
    assert "share this machine" in bundle.warnings[0]


def test_distributed_run_larger_than_the_cluster_can_ever_hold_is_refused():
    node = RayNode("n", True, False, {"CPU": 2.0, "memory": 8.0 * GIB}, "127.0.0.1")
    bundle = gang_bundle(Placement(2.0, 0.0), processes=3, per_node=1, local=False)
    with pytest.raises(InvalidArgument, match="can hold only 2 at once"):
        check_gang_fits(bundle, 3, [node, node], lookup_vm_size("cpu-2"), 0, target="t")
    check_gang_fits(bundle, 3, [node, node], lookup_vm_size("cpu-2"), 1, target="t")
