"""File datasets: paths, pinning to content hashes, registration, download and mount."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from runyard.core import Dataset
from runyard.core.dataset import DataPath, FileDataset
from runyard.errors import AlreadyExists, InvalidArgument, InvalidState, NotFound


@pytest.fixture
def mnist(ws, tmp_path):
    """The default datastore holding mnist/{train,test}.gz and mnist/extra/readme.txt."""
    src = tmp_path / "src"
    (src / "extra").mkdir(parents=True)
    (src / "train.gz").write_bytes(b"train-bytes")
    (src / "test.gz").write_bytes(b"test-bytes")
    (src / "extra" / "readme.txt").write_text("hello")
    ds = ws.get_default_datastore()
    ds.upload(str(src), target_path="mnist", show_progress=False)
    return ds


def _datastore_file(ds, name):
    return os.path.join(ds._artifact_store().local_path(""), name)


def test_a_wildcard_names_files_of_one_folder_level_by_their_names(mnist):
    dataset = Dataset.File.from_files(path=[(mnist, "mnist/*")])
    assert sorted(dataset.to_path()) == ["/test.gz", "/train.gz"]


def test_a_folder_is_taken_whole_with_its_subfolders(mnist):
    dataset = Dataset.File.from_files(path=DataPath(mnist, "mnist"))
    assert sorted(dataset.to_path()) == ["/extra/readme.txt", "/test.gz", "/train.gz"]
    assert sorted(Dataset.File.from_files(mnist.path("mnist")).to_path()) == sorted(
        dataset.to_path()
    )


def test_double_star_matches_at_any_depth(mnist):
    dataset = Dataset.File.from_files((mnist, "mnist/**/*.txt"))
    assert dataset.to_path() == ["/readme.txt"]


def test_a_path_matching_nothing_is_not_found_when_validated(mnist):
    with pytest.raises(NotFound, match="mnist/nothing"):
        Dataset.File.from_files((mnist, "mnist/nothing*"))
    lazy = Dataset.File.from_files((mnist, "mnist/nothing*"), validate=False)
    with pytest.raises(NotFound):
        lazy.download()


@pytest.mark.parametrize(
    "bad", [123, ("not-a-datastore", "x"), "s3://bucket/x", "https://h/a/*.gz"]
)
def test_paths_of_other_shapes_are_refused_with_what_to_give(bad):
    with pytest.raises(InvalidArgument):
        Dataset.File.from_files(bad)


def test_an_unsafe_datastore_path_is_refused(mnist):
    with pytest.raises(InvalidArgument):
        Dataset.File.from_files((mnist, "../outside"))


def test_register_pins_each_file_to_its_sha256(ws, mnist):
    registered = Dataset.File.from_files((mnist, "mnist/*.gz")).register(
        ws, "mnist", description="digits", tags={"source": "lecun"}
    )
    assert (registered.name, registered.version, registered.id) == ("mnist", 1, "mnist:1")
    again = Dataset.get_by_name(ws, "mnist")
    assert isinstance(again, FileDataset)
    files = {f.relpath: f for f in again._pinned_files()}
    assert files["train.gz"].sha256 == hashlib.sha256(b"train-bytes").hexdigest()
    assert files["train.gz"].size == len(b"train-bytes")
    assert again.fingerprint == registered.fingerprint and len(again.fingerprint) == 64
    assert again.description == "digits" and again.tags == {"source": "lecun"}
    assert list(ws.datasets) == ["mnist"]


def test_registering_the_same_files_again_returns_the_same_version(ws, mnist):
    dataset = Dataset.File.from_files((mnist, "mnist/*.gz"))
    assert dataset.register(ws, "mnist").version == 1
    assert dataset.register(ws, "mnist", create_new_version=True).version == 1


def test_changed_files_need_create_new_version_and_old_versions_stay_pinned(ws, mnist):
    dataset = Dataset.File.from_files((mnist, "mnist/*.gz"))
    first = dataset.register(ws, "mnist")
    with open(_datastore_file(mnist, "mnist/train.gz"), "wb") as fh:
        fh.write(b"new-train")
    with pytest.raises(AlreadyExists, match="create_new_version=True"):
        dataset.register(ws, "mnist")
    second = dataset.register(ws, "mnist", create_new_version=True)
    assert second.version == 2 and second.fingerprint != first.fingerprint
    assert Dataset.get_by_name(ws, "mnist", version=1).fingerprint == first.fingerprint
    assert Dataset.get_by_name(ws, "mnist", version="2").version == 2


def test_get_by_name_of_an_unknown_dataset_says_how_to_register_one(ws):
    with pytest.raises(NotFound, match="register"):
        Dataset.get_by_name(ws, "nope")
    with pytest.raises(InvalidArgument, match="latest"):
        Dataset.get_by_name(ws, "nope", version="newest")


def test_download_copies_the_pinned_files(ws, mnist, tmp_path):
    Dataset.File.from_files((mnist, "mnist/*.gz")).register(ws, "mnist")
    paths = Dataset.get_by_name(ws, "mnist").download(tmp_path / "out")
    assert sorted(os.path.basename(p) for p in paths) == ["test.gz", "train.gz"]
    assert (tmp_path / "out" / "train.gz").read_bytes() == b"train-bytes"
    with pytest.raises(InvalidArgument, match="overwrite=True"):
        Dataset.get_by_name(ws, "mnist").download(tmp_path / "out")
    Dataset.get_by_name(ws, "mnist").download(tmp_path / "out", overwrite=True)


def test_a_registered_version_whose_file_changed_fails_loudly_naming_the_file(ws, mnist, tmp_path):
    Dataset.File.from_files((mnist, "mnist/*.gz")).register(ws, "mnist")
    with open(_datastore_file(mnist, "mnist/train.gz"), "wb") as fh:
        fh.write(b"tampered")
    with pytest.raises(InvalidState, match=r"mnist/train.gz.*changed.*create_new_version"):
        Dataset.get_by_name(ws, "mnist").download(tmp_path / "out")
    assert not (tmp_path / "out" / "train.gz").exists()


def test_an_unregistered_dataset_reads_the_files_as_they_are_now(mnist, tmp_path):
    dataset = Dataset.File.from_files((mnist, "mnist/train.gz"))
    with open(_datastore_file(mnist, "mnist/train.gz"), "wb") as fh:
        fh.write(b"updated")
    (path,) = dataset.download(tmp_path / "out")
    assert Path(path).read_bytes() == b"updated"


def test_mount_gives_a_read_only_copy_until_stopped(ws, mnist):
    dataset = Dataset.File.from_files((mnist, "mnist/*.gz")).register(ws, "mnist")
    with dataset.mount() as context:
        folder = context.mount_point
        assert sorted(os.listdir(folder)) == ["test.gz", "train.gz"]
        # Modes, not a write attempt: root (as in CI) may write read-only files.
        assert os.stat(os.path.join(folder, "train.gz")).st_mode & 0o222 == 0
    assert not os.path.exists(folder)
    with pytest.raises(InvalidArgument, match="start"):
        _ = context.mount_point


def test_local_files_and_folders_can_be_a_dataset(tmp_path):
    (tmp_path / "data" / "sub").mkdir(parents=True)
    (tmp_path / "data" / "a.csv").write_text("x\n1\n")
    (tmp_path / "data" / "sub" / "b.csv").write_text("x\n2\n")
    dataset = Dataset.File.from_files(str(tmp_path / "data" / "**" / "*.csv"))
    assert sorted(dataset.to_path()) == ["/a.csv", "/sub/b.csv"]
    paths = dataset.download(tmp_path / "copy")
    assert sorted(Path(p).read_text() for p in paths) == ["x\n1\n", "x\n2\n"]


def test_two_files_that_would_share_a_name_are_refused(tmp_path, mnist):
    (tmp_path / "train.gz").write_bytes(b"other")
    dataset = Dataset.File.from_files([str(tmp_path / "train.gz"), (mnist, "mnist/train.gz")])
    assert len(dataset.to_path()) == 2  # different folders: each keeps its own path
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x").write_text("1")
    spec = Dataset.File.from_files(str(tmp_path / "a" / "x"))
    assert spec.to_path() == ["/x"]
