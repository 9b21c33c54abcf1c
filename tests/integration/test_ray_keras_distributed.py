"""One Keras model trained by two workers (TensorFlow's MultiWorkerMirroredStrategy) as one
run on a local Ray head: each worker finds the other through TF_CONFIG."""

from __future__ import annotations

import textwrap
import time

import pytest

from runyard.core import Experiment
from runyard.core.compute import AmlCompute, ComputeTarget
from runyard.core.distributed import TensorflowConfiguration
from runyard.train.dnn import TensorFlow

pytest.importorskip("ray", reason="needs Ray: pip install 'runyard[ray]'")
pytestmark = [pytest.mark.ray, pytest.mark.keras, pytest.mark.integration]

SCRIPT = """
import json, os, tempfile
import numpy as np
import tensorflow as tf
import keras
from runyard.core import Run

# Keras 3's Model.fit does not drive MultiWorkerMirroredStrategy (keras-team/keras#20585):
# a Keras model, trained by a loop the strategy runs on every worker.
strategy = tf.distribute.MultiWorkerMirroredStrategy()
task = json.loads(os.environ["TF_CONFIG"])["task"]
GLOBAL_BATCH = 64
with strategy.scope():
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)]
    )
    optimizer = keras.optimizers.SGD(0.05)
x = np.random.RandomState(0).rand(512, 8).astype("float32")
y = x.sum(axis=1, keepdims=True)
options = tf.data.Options()
options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
data = tf.data.Dataset.from_tensor_slices((x, y)).batch(GLOBAL_BATCH).with_options(options)
batches = strategy.experimental_distribute_dataset(data)


@tf.function
def train_step(batch):
    def replica_step(features, labels):
        with tf.GradientTape() as tape:
            errors = tf.square(model(features, training=True) - labels)
            loss = tf.nn.compute_average_loss(errors, global_batch_size=GLOBAL_BATCH)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return strategy.reduce("SUM", strategy.run(replica_step, args=batch), axis=None)


losses = []
for epoch in range(3):
    total = 0.0
    for batch in batches:
        total += float(train_step(batch))
    losses.append(total)
    print("epoch", epoch, "loss", total, flush=True)
print("replicas in sync:", strategy.num_replicas_in_sync, "task:", task["type"], task["index"])
chief = task["index"] == 0
folder = "outputs" if chief else tempfile.mkdtemp()  # every worker saves; the chief's is kept
os.makedirs(folder, exist_ok=True)
model.save(os.path.join(folder, "model.keras"))
if chief:
    Run.get_context().log("final_loss", losses[-1])
"""


def test_keras_multi_worker_strategy_trains_one_model_on_two_workers(ws, tmp_path, monkeypatch):
    monkeypatch.setenv("RUNYARD_SCRATCH", str(tmp_path / "scratch"))
    target = ComputeTarget.create(
        ws, "two-workers", AmlCompute.provisioning_configuration(vm_size="cpu-2")
    )
    try:
        source = tmp_path / "keras-dist"
        source.mkdir()
        (source / "train.py").write_text(textwrap.dedent(SCRIPT))
        estimator = TensorFlow(
            source_directory=str(source),
            entry_script="train.py",
            compute_target=target,
            pip_packages=["keras", "matplotlib"],
            node_count=2,
            distributed_training=TensorflowConfiguration(worker_count=2),
        )
        run = Experiment(ws, "keras-dist").submit(estimator)
        details = run.wait_for_completion(raise_on_error=False, timeout_seconds=900)
        assert details["status"] == "Completed", details.get("error")
        # The run's status follows the chief; the workers' logs are complete once the gang
        # has recorded every process's exit code.
        deadline = time.monotonic() + 60
        while "exitCode" not in run.get_details()["distributed"]["processes"][-1]:
            assert time.monotonic() < deadline, "the gang never recorded the exit codes"
            time.sleep(0.2)
        chief = run._read_file("runyard-logs/driver.txt").decode()
        worker = run._read_file("runyard-logs/worker_1.txt").decode()
        assert "replicas in sync: 2 task: worker 0" in chief
        assert "replicas in sync: 2 task: worker 1" in worker
        assert "outputs/model.keras" in run.get_file_names()
        assert run.get_metrics()["final_loss"] < 100
    finally:
        target.delete()
