"""Datasets as run inputs: ``dataset.as_mount()`` in arguments becomes a pinned dataset
input, and the run's details list each dataset's name, version and fingerprint."""

from __future__ import annotations

import pytest

from runyard.core import Dataset
from runyard.errors import InvalidArgument


@pytest.fixture
def mnist(ws, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "train.gz").write_bytes(b"train-bytes")
    (src / "test.gz").write_bytes(b"test-bytes")
    ds = ws.get_default_datastore()
    ds.upload(str(src), target_path="mnist", show_progress=False)
    return ds


def test_as_mount_in_arguments_becomes_a_pinned_dataset_input(ws, mnist):
    from runyard.core.definition import input_datasets, serialise_arguments
    from runyard.entities.dataset import DatasetInputSpec

    dataset = Dataset.File.from_files((mnist, "mnist/*.gz")).register(ws, "mnist")
    mounted = dataset.as_named_input("mnist").as_mount()
    assert str(mounted) == "$RUNYARD_DATAREFERENCE_mnist"
    args = serialise_arguments(["--data-folder", mounted, "--epochs", 2])
    spec = args[1]
    assert isinstance(spec, DatasetInputSpec)
    assert (spec.name, spec.version, spec.mode) == ("mnist", 1, "mount")
    assert spec.fingerprint == dataset.fingerprint
    assert DatasetInputSpec.from_dict(spec.to_dict()) == spec
    (listed,) = input_datasets((spec,))
    assert listed["dataset"] == {
        "name": "mnist",
        "version": 1,
        "fingerprint": dataset.fingerprint,
        "fileCount": 2,
    }
    assert listed["consumptionDetails"]["mechanism"] == "Mount"
    download = dataset.as_download(path_on_compute="data")
    assert download.to_spec().mode == "download"
    assert download.to_spec().path_on_compute == "data"


def test_an_unregistered_dataset_input_is_pinned_when_submitted(mnist):
    spec = Dataset.File.from_files((mnist, "mnist/*.gz")).as_mount().to_spec()
    assert spec.name is None and spec.version is None
    assert spec.input_name.startswith("dataset_")
    assert {f.relpath for f in spec.files} == {"train.gz", "test.gz"}


def test_a_dataset_in_an_estimators_inputs_is_a_run_input(ws, mnist):
    from runyard.core.definition import data_reference_spec
    from runyard.entities.dataset import DatasetInputSpec

    dataset = Dataset.File.from_files((mnist, "mnist/train.gz"))
    spec = data_reference_spec(dataset.as_named_input("train").as_download())
    assert isinstance(spec, DatasetInputSpec) and spec.mode == "download"
    with pytest.raises(InvalidArgument, match=r"dataset\.as_mount"):
        data_reference_spec(dataset)


def test_a_run_definition_with_dataset_inputs_round_trips(ws, mnist):
    from runyard.entities.definition import RunDefinition

    spec = Dataset.File.from_files((mnist, "mnist/*")).as_mount().to_spec()
    definition = RunDefinition("train.py", "/src", "local", arguments=("--data", spec))
    again = RunDefinition.from_dict(definition.to_dict())
    assert again.arguments[1] == spec
    assert again.data_references == (spec,)
