"""Temporaries of transfers have names users cannot write; a user's ``x.partial`` is an
ordinary file; temporaries left by killed transfers are cleaned."""

from __future__ import annotations

import os
import time

import pytest

from runyard.artifacts import temporaries
from runyard.artifacts.paths import check_relpath
from runyard.artifacts.store import FsspecArtifactStore
from runyard.core import Experiment, Model
from runyard.errors import BackendError, InvalidArgument


def _killed_transfer(target, *, age_s: float):
    """What a transfer killed mid-way leaves: a temporary beside ``target``, last written
    ``age_s`` seconds ago."""
    tmp = temporaries.temporary_for(str(target))
    os.makedirs(os.path.dirname(tmp), exist_ok=True)
    with open(tmp, "wb") as fh:
        fh.write(b"half of it")
    then = time.time() - age_s
    os.utime(tmp, (then, then))
    return tmp


@pytest.mark.parametrize("name", ["a.ry~tmp-1", "x/.ry~parts/000001", "%2Ery~x"])
def test_names_holding_the_reserved_marker_are_refused_for_users(name):
    with pytest.raises(InvalidArgument, match="keeps for its own temporary files"):
        check_relpath(name)


def test_a_users_partial_file_is_listed_read_and_downloaded(tmp_path):
    store = FsspecArtifactStore(str(tmp_path / "root"))
    store.put_bytes(b"mine", "outputs/x.partial")
    assert store.list() == ["outputs/x.partial"]
    store.get_file("outputs/x.partial", str(tmp_path / "dl" / "x.partial"))
    assert (tmp_path / "dl" / "x.partial").read_bytes() == b"mine"


def test_run_files_and_model_folders_keep_partial_files(ws, tmp_path):
    run = Experiment(ws, "exp").start_logging()
    source = tmp_path / "x.partial"
    source.write_bytes(b"user data")
    run.upload_file("outputs/x.partial", str(source))
    assert "outputs/x.partial" in run.get_file_names()
    run.download_file("outputs/x.partial", str(tmp_path / "got.partial"))
    assert (tmp_path / "got.partial").read_bytes() == b"user data"
    run.complete()

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.partial").write_bytes(b"w")
    (folder / "model.json").write_bytes(b"{}")
    model = Model.register(ws, str(folder), "m")
    target = model.download(str(tmp_path / "dl"))
    assert sorted(os.listdir(target)) == ["model.json", "weights.partial"]


def test_the_next_write_of_a_file_removes_its_stale_temporaries_only(tmp_path):
    store = FsspecArtifactStore(str(tmp_path / "root"))
    target = tmp_path / "root" / "outputs" / "model.bin"
    stale = _killed_transfer(target, age_s=temporaries.STALE_AFTER_S + 60)
    live = _killed_transfer(target, age_s=1)  # a transfer still writing
    other = _killed_transfer(tmp_path / "root" / "outputs" / "other.bin", age_s=10**6)
    assert store.list() == []  # temporaries are never listed
    store.put_bytes(b"whole", "outputs/model.bin")
    assert not os.path.exists(stale)
    assert os.path.exists(live) and os.path.exists(other)
    assert store.list() == ["outputs/model.bin"]


def test_clean_temporaries_sweeps_killed_transfers_and_leaves_user_files(tmp_path):
    store = FsspecArtifactStore(str(tmp_path / "root"))
    store.put_bytes(b"keep", "a/x.partial")
    old = _killed_transfer(tmp_path / "root" / "a" / "b" / "big.bin", age_s=3600)
    young = _killed_transfer(tmp_path / "root" / "a" / "c.bin", age_s=1)
    elsewhere = _killed_transfer(tmp_path / "root" / "z" / "d.bin", age_s=3600)
    removed = store.clean_temporaries("a")
    assert removed == [os.path.relpath(old, tmp_path / "root").replace(os.sep, "/")]
    assert os.path.exists(young) and os.path.exists(elsewhere)
    assert store.clean_temporaries(older_than_s=0) == sorted(
        os.path.relpath(p, tmp_path / "root").replace(os.sep, "/") for p in (young, elsewhere)
    )
    assert store.list() == ["a/x.partial"]
    assert store.read_bytes("a/x.partial") == b"keep"


def test_a_failed_download_leaves_no_temporary(tmp_path):
    store = FsspecArtifactStore(str(tmp_path / "root"))
    store.put_bytes(b"data", "f.bin")
    (tmp_path / "dl").mkdir()
    (tmp_path / "dl" / "f.bin").mkdir()  # the rename onto a folder fails
    with pytest.raises(BackendError):
        store.get_file("f.bin", str(tmp_path / "dl" / "f.bin"))
    assert os.listdir(tmp_path / "dl") == ["f.bin"]
