"""Snapshots of a source directory: content addressing, ignore files, size limit, restore."""

from __future__ import annotations

import os
import zipfile

import pytest

from runyard.artifacts.snapshots import (
    list_files,
    read_manifest,
    restore_snapshot,
    take_snapshot,
)
from runyard.artifacts.store import FsspecArtifactStore
from runyard.errors import InvalidArgument, InvalidState, NotFound
from runyard.settings import Settings

LIMIT_ENV = "RUNYARD_SNAPSHOT_LIMIT_MB"


@pytest.fixture
def store(tmp_path):
    return FsspecArtifactStore(str(tmp_path / "artifacts"))


def _write(root, rel, text="x"):
    path = root.joinpath(*rel.split("/"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _names(folder):
    return [f.path for f in list_files(str(folder))]


def test_same_content_gives_same_id_and_is_stored_once(tmp_path, store):
    a, b = tmp_path / "a", tmp_path / "b"
    for root in (a, b):
        _write(root, "train.py", "print(1)")
        _write(root, "pkg/util.py", "X = 1")
    first = take_snapshot(store, str(a))
    assert take_snapshot(store, str(b)) == first
    assert len(store.list(f"snapshots/{first}/files")) == 2
    stored = os.path.join(store.local_path(f"snapshots/{first}/manifest.json"))
    mtime = os.stat(stored).st_mtime_ns
    take_snapshot(store, str(a))
    assert os.stat(stored).st_mtime_ns == mtime  # not written again


def test_changed_content_or_name_gives_new_id(tmp_path, store):
    _write(tmp_path / "src", "train.py", "print(1)")
    first = take_snapshot(store, str(tmp_path / "src"))
    _write(tmp_path / "src", "train.py", "print(2)")
    second = take_snapshot(store, str(tmp_path / "src"))
    os.rename(tmp_path / "src" / "train.py", tmp_path / "src" / "main.py")
    third = take_snapshot(store, str(tmp_path / "src"))
    assert len({first, second, third}) == 3


def test_git_folder_and_pycache_are_left_out(tmp_path):
    _write(tmp_path, "train.py")
    _write(tmp_path, ".git/HEAD")
    _write(tmp_path, "pkg/__pycache__/m.cpython-311.pyc")
    _write(tmp_path, "pkg/m.py")
    assert _names(tmp_path) == ["pkg/m.py", "train.py"]


def test_gitignore_patterns_apply_with_negation_and_folder_rules(tmp_path):
    _write(tmp_path, ".gitignore", "*.csv\n!keep.csv\ndata/\n/build\n")
    for rel in ("a.csv", "keep.csv", "data/x.txt", "sub/data/y.txt", "build/o", "sub/build/o"):
        _write(tmp_path, rel)
    assert _names(tmp_path) == [".gitignore", "keep.csv", "sub/build/o"]


def test_nested_gitignore_applies_below_its_folder_and_wins(tmp_path):
    _write(tmp_path, ".gitignore", "*.log\n")
    _write(tmp_path, "sub/.gitignore", "!important.log\n*.tmp\n")
    for rel in ("a.log", "a.tmp", "sub/important.log", "sub/other.log", "sub/b.tmp"):
        _write(tmp_path, rel)
    assert _names(tmp_path) == [".gitignore", "a.tmp", "sub/.gitignore", "sub/important.log"]


def test_amlignore_replaces_gitignore_in_its_folder(tmp_path):
    _write(tmp_path, ".gitignore", "*.py\n")
    _write(tmp_path, ".amlignore", "*.bin\n")
    _write(tmp_path, "train.py")
    _write(tmp_path, "weights.bin")
    assert _names(tmp_path) == [".amlignore", ".gitignore", "train.py"]


def test_over_the_size_limit_names_the_biggest_files(tmp_path, store):
    _write(tmp_path, "train.py", "x")
    (tmp_path / "big.npy").write_bytes(b"0" * 3000)
    (tmp_path / "medium.npy").write_bytes(b"0" * 2000)
    with pytest.raises(InvalidArgument) as err:
        take_snapshot(store, str(tmp_path), limit_bytes=4000)
    message = str(err.value)
    assert "big.npy" in message and "medium.npy" in message
    assert message.index("big.npy") < message.index("medium.npy")
    assert ".amlignore" in message and LIMIT_ENV in message
    assert store.list("snapshots") == []


def test_ignored_files_do_not_count_towards_the_limit(tmp_path, store):
    _write(tmp_path, "train.py")
    _write(tmp_path, ".amlignore", "*.npy\n")
    (tmp_path / "big.npy").write_bytes(b"0" * 3000)
    assert take_snapshot(store, str(tmp_path), limit_bytes=1000)


def test_limit_comes_from_the_settings():
    assert Settings.from_env({LIMIT_ENV: "2"}).snapshot_limit_bytes == 2 * 1024 * 1024
    with pytest.raises(InvalidArgument, match=LIMIT_ENV):
        Settings.from_env({LIMIT_ENV: "lots"})


def test_a_stored_file_changed_on_disk_is_refused_at_restore(tmp_path, store):
    _write(tmp_path / "src", "train.py", "print('honest')")
    snapshot = take_snapshot(store, str(tmp_path / "src"))
    stored = store.local_path(f"snapshots/{snapshot}/files/train.py")
    with open(stored, "w") as fh:
        fh.write("print('evil')")
    with pytest.raises(InvalidState, match=r"train\.py"):
        restore_snapshot(store, snapshot, str(tmp_path / "wd"))
    assert not (tmp_path / "wd" / "train.py").exists()


def test_a_manifest_changed_on_disk_is_refused_at_restore(tmp_path, store):
    _write(tmp_path / "src", "train.py", "print('honest')")
    snapshot = take_snapshot(store, str(tmp_path / "src"))
    manifest = store.local_path(f"snapshots/{snapshot}/manifest.json")
    with open(manifest) as fh:
        text = fh.read()
    with open(manifest, "w") as fh:
        fh.write(text.replace("train.py", "other.py"))
    with pytest.raises(InvalidState, match="manifest"):
        restore_snapshot(store, snapshot, str(tmp_path / "wd"))


def test_symlink_out_of_the_folder_is_refused(tmp_path, store):
    src = tmp_path / "src"
    _write(src, "train.py")
    _write(tmp_path, "secret.txt")
    os.symlink(tmp_path / "secret.txt", src / "link.txt")
    with pytest.raises(InvalidArgument, match=r"outside the source directory"):
        take_snapshot(store, str(src))


def test_symlink_inside_the_folder_is_stored_as_its_content(tmp_path, store):
    _write(tmp_path, "real.py", "A = 1")
    os.symlink(tmp_path / "real.py", tmp_path / "alias.py")
    snapshot = take_snapshot(store, str(tmp_path))
    out = tmp_path.parent / "restored"
    restore_snapshot(store, snapshot, str(out))
    assert (out / "alias.py").read_text() == "A = 1"
    assert not os.path.islink(out / "alias.py")


def test_restore_writes_every_file_with_its_executable_bit(tmp_path, store):
    src = tmp_path / "src"
    _write(src, "train.py", "print('hi')")
    run_sh = _write(src, "bin/run.sh", "#!/bin/sh\n")
    run_sh.chmod(0o755)
    snapshot = take_snapshot(store, str(src))
    out = tmp_path / "out"
    written = restore_snapshot(store, snapshot, str(out))
    assert sorted(written) == ["bin/run.sh", "train.py"]
    assert (out / "train.py").read_text() == "print('hi')"
    assert os.access(out / "bin" / "run.sh", os.X_OK)
    assert not os.access(out / "train.py", os.X_OK)


def test_missing_folder_and_unknown_snapshot_are_not_found(tmp_path, store):
    with pytest.raises(NotFound, match="does not exist"):
        take_snapshot(store, str(tmp_path / "nope"))
    with pytest.raises(NotFound, match="Snapshot"):
        restore_snapshot(store, "0" * 32, str(tmp_path / "out"))
    with pytest.raises(InvalidArgument):
        read_manifest(store, "../escape")


def test_run_restore_snapshot_gives_a_zip_or_a_folder(ws, tmp_path, monkeypatch):
    from runyard.core import Experiment

    src = tmp_path / "src"
    _write(src, "train.py", "print(1)")
    _write(src, "data/readme.md", "hello")
    run = Experiment(ws, "snap").start_logging(snapshot_directory=str(src))
    snapshot = run.get_snapshot_id()
    assert snapshot and len(snapshot) == 32
    monkeypatch.chdir(tmp_path)
    archive = run.restore_snapshot()
    assert archive == f"{snapshot}.zip"
    with zipfile.ZipFile(tmp_path / archive) as zf:
        assert sorted(zf.namelist()) == ["data/readme.md", "train.py"]
    folder = run.restore_snapshot(path=str(tmp_path / "restored"))
    assert (tmp_path / "restored" / "data" / "readme.md").read_text() == "hello"
    assert folder == str(tmp_path / "restored")
    run.complete()


def test_run_without_snapshot_says_so(ws):
    from runyard.core import Experiment

    run = Experiment(ws, "snap").start_logging()
    assert run.get_snapshot_id() is None
    with pytest.raises(NotFound, match="has no snapshot"):
        run.restore_snapshot()
    run.complete()
