"""Submitting a run whose arguments hold a dataset: the node resolves it to a folder of the
pinned files, the run's details record which data it read, and a changed file fails the
run before its script starts."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from runyard.core import Dataset, Experiment, ScriptRunConfig
from runyard.errors import RunFailed

pytestmark = pytest.mark.integration

SCRIPT = """
import argparse, os
parser = argparse.ArgumentParser()
parser.add_argument("--data-folder")
parser.add_argument("--batch-size", type=int)
args = parser.parse_args()
for name in sorted(os.listdir(args.data_folder)):
    print("file", name, open(os.path.join(args.data_folder, name)).read())
print("env", os.environ["RUNYARD_DATAREFERENCE_mnist"] == args.data_folder)
"""


@pytest.fixture(autouse=True)
def _scratch(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNYARD_SCRATCH", str(tmp_path / "scratch"))


@pytest.fixture
def mnist(ws, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.gz").write_text("train")
    (data / "test.gz").write_text("test")
    ds = ws.get_default_datastore()
    ds.upload(str(data), target_path="mnist", show_progress=False)
    return Dataset.File.from_files(path=[(ds, "mnist/*")]).register(ws, "mnist-dataset")


def _config(tmp_path, dataset, env):
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "train.py").write_text(textwrap.dedent(SCRIPT))
    args = ["--data-folder", dataset.as_named_input("mnist").as_mount(), "--batch-size", 50]
    return ScriptRunConfig(str(src), "train.py", arguments=args, environment=env)


def test_a_mounted_dataset_argument_is_a_folder_of_its_files_and_is_recorded(
    ws, here, mnist, tmp_path
):
    run = Experiment(ws, "datasets").submit(_config(tmp_path, mnist, here))
    run.wait_for_completion()
    log = run._read_file("runyard-logs/driver.txt").decode()
    assert "file test.gz test" in log and "file train.gz train" in log
    assert "env True" in log
    (recorded,) = run.get_details()["inputDatasets"]
    assert recorded["dataset"]["name"] == "mnist-dataset"
    assert recorded["dataset"]["version"] == 1
    assert recorded["dataset"]["fingerprint"] == mnist.fingerprint
    assert recorded["consumptionDetails"]["inputName"] == "mnist"


def test_a_dataset_whose_file_changed_fails_the_run_naming_the_file(ws, here, mnist, tmp_path):
    root = ws.get_default_datastore()._artifact_store().local_path("")
    Path(root, "mnist", "train.gz").write_text("changed")
    run = Experiment(ws, "datasets").submit(_config(tmp_path, mnist, here))
    with pytest.raises(RunFailed):
        run.wait_for_completion()
    message = run.get_details()["error"]["message"]
    assert "mnist/train.gz" in message and "changed" in message
