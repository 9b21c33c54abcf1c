"""Data references: their dict form and how they resolve on a node (local datastores)."""

from __future__ import annotations

import json
import os

import pytest

from runyard.core import Datastore
from runyard.core.data_reference import DataReference
from runyard.entities.data_reference import env_var_name, is_data_reference_dict
from runyard.errors import InvalidArgument, NotFound
from runyard.node.data import resolve_data_reference


def _resolve(ws, ref, cache_dir, **kwargs):
    return resolve_data_reference(ws.resources, ref, cache_dir, **kwargs)


@pytest.fixture
def ds(ws, tmp_path):
    """The default datastore holding mnist/train.bin and mnist/sub/labels.txt."""
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "train.bin").write_bytes(b"\x00\x01" * 1000)
    (src / "sub" / "labels.txt").write_text("0 1 2\n")
    store = ws.get_default_datastore()
    store.upload(src, target_path="mnist", show_progress=False)
    return store


def test_path_as_mount_prints_like_sdk_v1(ds):
    ref = ds.path("mnist").as_mount()
    assert ref.mode == "mount"
    assert ref.data_reference_name == "workspaceblobstore_mnist"
    assert str(ref) == "$RUNYARD_DATAREFERENCE_workspaceblobstore_mnist"
    assert env_var_name(ref.data_reference_name) == "RUNYARD_DATAREFERENCE_workspaceblobstore_mnist"
    assert ref.path_on_datastore == "mnist" and ref.path_on_compute is None


def test_dict_round_trip_through_json_keeps_every_field(ws, ds):
    ref = ds.path("mnist/sub", data_reference_name="labels").as_download(
        path_on_compute="data/labels", overwrite=True
    )
    data = json.loads(json.dumps(ref.to_dict()))
    assert data == {
        "runyard_data_reference": 1,
        "datastore_name": "workspaceblobstore",
        "path_on_datastore": "mnist/sub",
        "data_reference_name": "labels",
        "mode": "download",
        "path_on_compute": "data/labels",
        "overwrite": True,
    }
    back = DataReference.from_dict(data, ws)
    assert back == ref
    assert back.datastore == ds
    assert (back.mode, back.path_on_compute, back.overwrite) == ("download", "data/labels", True)


def test_as_mount_and_as_download_return_new_references(ds):
    ref = ds.path("mnist")
    down = ref.as_download("here")
    assert ref.mode == "mount" and down.mode == "download"
    assert down.as_mount().path_on_compute is None


def test_root_spellings_all_mean_the_whole_datastore(ds):
    for root in (None, "", ".", "./"):
        assert ds.path(root).path_on_datastore is None
    assert ds.path("mnist/").path_on_datastore == "mnist"


def test_nested_path_joins_the_parent_path(ds):
    assert ds.path("mnist").path("sub").path_on_datastore == "mnist/sub"
    assert ds.as_mount().path_on_datastore is None
    assert ds.as_download("x").path_on_compute == "x"


def test_is_data_reference_dict_tells_references_from_other_arguments(ds):
    assert is_data_reference_dict(ds.path("mnist").as_mount().to_dict())
    assert not is_data_reference_dict({"--batch-size": 50})
    assert not is_data_reference_dict("$RUNYARD_DATAREFERENCE_x")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"runyard_data_reference": 99}, "format 99 is not known"),
        ({"mode": "upload"}, "mode 'upload' is unknown"),
        ({"path_on_datastore": "../etc"}, "goes up"),
        ({"path_on_compute": "/etc"}, "absolute"),
        ({"path_on_compute": "%2e%2e/x"}, "goes up"),
        ({"data_reference_name": "a b"}, "not allowed"),
        ({"datastore_name": "../x"}, "not allowed"),
        ({"overwrite": "yes"}, "true or false"),
    ],
)
def test_malformed_reference_dicts_are_refused(ws, ds, tmp_path, change, message):
    data = {**ds.path("mnist").to_dict(), **change}
    with pytest.raises(InvalidArgument, match=message):
        DataReference.from_dict(data, ws)
    with pytest.raises(InvalidArgument, match=message):
        _resolve(ws, data, str(tmp_path / "cache"))


def test_something_that_is_not_a_reference_is_refused(ws, tmp_path):
    with pytest.raises(InvalidArgument, match="Not a data reference"):
        _resolve(ws, {"path": "mnist"}, str(tmp_path))


def test_reference_to_an_unregistered_datastore_is_not_found(ws, ds, tmp_path):
    data = {**ds.path("mnist").to_dict(), "datastore_name": "gone"}
    with pytest.raises(NotFound, match="Registered datastores: workspaceblobstore"):
        _resolve(ws, data, str(tmp_path))


def test_mount_of_a_local_datastore_is_the_folder_in_place(ws, ds, tmp_path):
    path = _resolve(ws, ds.path("mnist").as_mount().to_dict(), str(tmp_path / "c"))
    assert path == os.path.join(ds.url, "mnist")
    assert sorted(os.listdir(path)) == ["sub", "train.bin"]
    assert not (tmp_path / "c").exists()  # nothing copied
    whole = _resolve(ws, ds.as_mount().to_dict(), str(tmp_path / "c"))
    assert whole == ds.url


def test_mount_of_a_registered_local_folder_is_that_folder(ws, tmp_path):
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    local = Datastore.register_local(ws, "raw", data)
    ref = local.path("images").as_mount()
    assert _resolve(ws, ref, str(tmp_path / "c")) == str(data / "images")


def test_mount_of_a_missing_path_is_not_found(ws, ds, tmp_path):
    with pytest.raises(NotFound, match="no file or folder 'nope'"):
        _resolve(ws, ds.path("nope").to_dict(), str(tmp_path))


def test_download_copies_into_the_working_folder(ws, ds, tmp_path):
    wd = tmp_path / "wd"
    wd.mkdir()
    path = _resolve(
        ws,
        ds.path("mnist").as_download().to_dict(),
        str(tmp_path / "c"),
        working_dir=str(wd),
    )
    assert path == str(wd / "workspaceblobstore" / "mnist")
    assert (wd / "workspaceblobstore" / "mnist" / "sub" / "labels.txt").read_text() == "0 1 2\n"
    (wd / "workspaceblobstore" / "mnist" / "train.bin").write_bytes(b"changed by the script")
    original = os.path.join(ds.url, "mnist", "train.bin")
    with open(original, "rb") as fh:
        assert fh.read() == b"\x00\x01" * 1000  # the copy is the script's own


def test_download_to_path_on_compute_and_overwrite(ws, ds, tmp_path):
    wd = tmp_path / "wd"
    wd.mkdir()
    ref = ds.path("mnist/train.bin").as_download(path_on_compute="inputs/train.bin")
    path = _resolve(ws, ref.to_dict(), str(tmp_path / "c"), working_dir=str(wd))
    assert path == str(wd / "inputs" / "train.bin")
    assert (wd / "inputs" / "train.bin").read_bytes() == b"\x00\x01" * 1000
    with pytest.raises(InvalidArgument, match="exists already"):
        _resolve(ws, ref.to_dict(), str(tmp_path / "c"), working_dir=str(wd))
    (wd / "inputs" / "train.bin").write_bytes(b"stale")
    again = ref.as_download(path_on_compute="inputs/train.bin", overwrite=True)
    _resolve(ws, again, str(tmp_path / "c"), working_dir=str(wd))
    assert (wd / "inputs" / "train.bin").read_bytes() == b"\x00\x01" * 1000


def test_download_through_a_symlink_out_of_the_working_folder_is_refused(ws, ds, tmp_path):
    wd = tmp_path / "wd"
    wd.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, wd / "inputs")
    ref = ds.path("mnist").as_download(path_on_compute="inputs/mnist")
    with pytest.raises(InvalidArgument, match="outside"):
        _resolve(ws, ref, str(tmp_path / "c"), working_dir=str(wd))
    assert os.listdir(outside) == []
