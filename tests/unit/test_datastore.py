"""Datastores on a real embedded workspace: registration, upload/download, path safety."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from runyard.core import Datastore
from runyard.errors import (
    AlreadyExists,
    BackendError,
    InvalidArgument,
    MissingDependency,
    NotFound,
)

UNSAFE_PATHS = ["../x", "/abs", "a\\b", "%2e%2e/x", "a/../../x"]


@pytest.fixture
def src(tmp_path):
    """A folder to upload: two files, one in a subfolder."""
    folder = tmp_path / "src"
    (folder / "sub").mkdir(parents=True)
    (folder / "train.bin").write_bytes(os.urandom(50_000))
    (folder / "sub" / "labels.txt").write_text("0 1 2\n")
    return folder


def _read(path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def _tree(folder) -> dict[str, bytes]:
    out = {}
    for dirpath, _dirs, files in os.walk(folder):
        for f in files:
            full = os.path.join(dirpath, f)
            out[os.path.relpath(full, folder).replace(os.sep, "/")] = _read(full)
    return out


def test_default_datastore_is_a_local_folder_in_the_workspace(ws):
    ds = ws.get_default_datastore()
    assert ds.name == "workspaceblobstore"
    assert ds.is_default and ds.is_local and ds.datastore_type == "Local"
    assert os.path.isdir(ds.url)
    assert ds.url.startswith(ws.config.path)
    assert Datastore.get_default(ws) == ds == Datastore(ws)


def test_upload_then_download_round_trips_the_files(ws, src, tmp_path):
    ds = ws.get_default_datastore()
    ref = ds.upload(src_dir=str(src), target_path="mnist", overwrite=True, show_progress=False)
    assert ref.path_on_datastore == "mnist" and ref.datastore == ds
    assert _tree(os.path.join(ds.url, "mnist")) == _tree(src)
    count = ds.download(tmp_path / "out", prefix="mnist", show_progress=False)
    assert count == 2
    assert _tree(tmp_path / "out" / "mnist") == _tree(src)


def test_upload_without_target_path_goes_to_the_root(ws, src):
    ds = ws.get_default_datastore()
    ref = ds.upload(src, show_progress=False)
    assert ref.path_on_datastore is None
    assert _tree(ds.url) == _tree(src)


def test_upload_skips_existing_files_and_says_so(ws, src, capsys):
    ds = ws.get_default_datastore()
    ds.upload(src, target_path="d", show_progress=False)
    (src / "train.bin").write_bytes(b"new content")
    capsys.readouterr()
    ds.upload(src, target_path="d", show_progress=False)
    skipped = "Skipped 2 existing files; pass overwrite=True to replace them"
    assert skipped in capsys.readouterr().err
    assert _read(os.path.join(ds.url, "d", "train.bin")) != b"new content"
    ds.upload(src, target_path="d", overwrite=True, show_progress=False)
    assert "Skipped" not in capsys.readouterr().err
    assert _read(os.path.join(ds.url, "d", "train.bin")) == b"new content"


def test_download_keeps_existing_local_files_unless_overwrite(ws, src, tmp_path, capsys):
    ds = ws.get_default_datastore()
    ds.upload(src, target_path="d", show_progress=False)
    out = tmp_path / "out"
    assert ds.download(out, show_progress=False) == 2
    (out / "d" / "train.bin").write_bytes(b"mine")
    assert ds.download(out, show_progress=False) == 0
    assert "Skipped 2 existing files" in capsys.readouterr().err
    assert (out / "d" / "train.bin").read_bytes() == b"mine"
    assert ds.download(out, overwrite=True, show_progress=False) == 2
    assert (out / "d" / "train.bin").read_bytes() == (src / "train.bin").read_bytes()


def test_download_of_a_missing_prefix_is_not_found(ws, tmp_path):
    with pytest.raises(NotFound, match="nothing under 'nope'"):
        ws.get_default_datastore().download(tmp_path / "out", prefix="nope")


def test_upload_shows_a_progress_bar_over_bytes_and_files(ws, tmp_path, capsys):
    big = tmp_path / "big"
    big.mkdir()
    for i in range(3):
        (big / f"part{i}.bin").write_bytes(os.urandom(2_000_000))
    ws.get_default_datastore().upload(big, target_path="big", show_progress=True)
    out = capsys.readouterr().err
    assert "Uploading" in out
    assert "6.0/6.0 MB" in out
    assert "3/3 files" in out
    assert "Uploaded 3 files (6.0 MB) to datastore 'workspaceblobstore' under 'big'." in out


def test_no_progress_output_when_show_progress_is_false(ws, src, capsys):
    ws.get_default_datastore().upload(src, show_progress=False)
    assert capsys.readouterr().err == ""


def test_upload_failing_mid_file_leaves_no_partial_file_and_can_resume(
    ws, src, monkeypatch, capsys
):
    ds = ws.get_default_datastore()
    real_copyfile = shutil.copyfile

    def copy_half_then_fail(source, target, *args, **kwargs):
        if str(source).endswith("train.bin"):
            with open(source, "rb") as fh, open(target, "wb") as out:
                out.write(fh.read(1000))
            raise OSError(28, "No space left on device")
        return real_copyfile(source, target, *args, **kwargs)

    monkeypatch.setattr(shutil, "copyfile", copy_half_then_fail)
    with pytest.raises(BackendError, match="run it again") as info:
        ds.upload(src, target_path="d", show_progress=False)
    assert "No space left on device" in str(info.value)
    assert not os.path.exists(os.path.join(ds.url, "d", "train.bin"))
    leftovers = [f for f in _tree(ds.url) if f.endswith(".partial") or ".partial" in f]
    assert leftovers == []
    monkeypatch.setattr(shutil, "copyfile", real_copyfile)
    whole = len(_tree(ds.url))
    assert f"{whole} of 2 files were transferred whole" in str(info.value)
    capsys.readouterr()
    ds.upload(src, target_path="d", show_progress=False)
    assert (f"Skipped {whole} existing files" in capsys.readouterr().err) == (whole > 0)
    assert _tree(os.path.join(ds.url, "d")) == _tree(src)


def test_overwrite_that_fails_keeps_the_old_file_whole(ws, src, monkeypatch):
    ds = ws.get_default_datastore()
    ds.upload(src, target_path="d", show_progress=False)
    old = _read(os.path.join(ds.url, "d", "train.bin"))
    (src / "train.bin").write_bytes(b"replacement")
    real_replace = os.replace

    def fail_on_train(a, b, *args, **kwargs):
        if str(b).endswith("train.bin"):
            raise OSError(5, "I/O error")
        return real_replace(a, b, *args, **kwargs)

    monkeypatch.setattr(os, "replace", fail_on_train)
    with pytest.raises(BackendError, match="I/O error"):
        ds.upload(src, target_path="d", overwrite=True, show_progress=False)
    monkeypatch.setattr(os, "replace", real_replace)
    assert _read(os.path.join(ds.url, "d", "train.bin")) == old
    assert [f for f in os.listdir(os.path.join(ds.url, "d")) if "partial" in f] == []


@pytest.mark.parametrize("bad", UNSAFE_PATHS)
def test_unsafe_target_paths_and_prefixes_are_refused(ws, src, tmp_path, bad):
    ds = ws.get_default_datastore()
    with pytest.raises(InvalidArgument):
        ds.upload(src, target_path=bad, show_progress=False)
    with pytest.raises(InvalidArgument):
        ds.upload_files([src / "train.bin"], target_path=bad, show_progress=False)
    with pytest.raises(InvalidArgument):
        ds.download(tmp_path / "out", prefix=bad, show_progress=False)
    with pytest.raises(InvalidArgument):
        ds.path(bad)
    assert _tree(ds.url) == {}
    assert not (tmp_path / "x").exists()


def test_symlink_in_src_dir_pointing_outside_is_refused(ws, src, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    os.symlink(secret, src / "link.txt")
    with pytest.raises(InvalidArgument, match="outside the folder"):
        ws.get_default_datastore().upload(src, show_progress=False)
    assert _tree(ws.get_default_datastore().url) == {}


def test_download_refuses_a_symlink_in_the_target_leading_outside(ws, src, tmp_path):
    ds = ws.get_default_datastore()
    ds.upload(src, target_path="d", show_progress=False)
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, out / "d")
    with pytest.raises(InvalidArgument, match="symlink"):
        ds.download(out, show_progress=False)
    assert os.listdir(elsewhere) == []


def test_upload_files_keeps_paths_relative_to_relative_root(ws, src):
    ds = ws.get_default_datastore()
    ref = ds.upload_files(
        [str(src / "train.bin"), str(src / "sub" / "labels.txt")],
        relative_root=str(src),
        target_path="picked",
        show_progress=False,
    )
    assert ref.path_on_datastore == "picked"
    assert sorted(_tree(ds.url)) == ["picked/sub/labels.txt", "picked/train.bin"]


def test_upload_files_refuses_a_file_outside_relative_root(ws, src, tmp_path):
    other = tmp_path / "other.txt"
    other.write_text("x")
    with pytest.raises(InvalidArgument, match="not under relative_root"):
        ws.get_default_datastore().upload_files(
            [str(src / "train.bin"), str(other)], relative_root=str(src), show_progress=False
        )


def test_upload_of_missing_things_is_not_found(ws, tmp_path):
    ds = ws.get_default_datastore()
    with pytest.raises(NotFound, match="no such folder"):
        ds.upload(tmp_path / "missing")
    with pytest.raises(NotFound, match="no such file"):
        ds.upload_files([str(tmp_path / "missing.txt")])


def test_unknown_datastore_is_not_found_listing_the_known_ones(ws, tmp_path):
    Datastore.register_local(ws, "mydata", tmp_path / "d", create_if_not_exists=True)
    with pytest.raises(NotFound, match="Known datastores: mydata, workspaceblobstore"):
        Datastore.get(ws, "nope")
    with pytest.raises(NotFound, match="register_local"):
        Datastore(ws, "nope")


def test_register_local_uses_the_folder_in_place(ws, tmp_path, src):
    ds = Datastore.register_local(ws, "raw", src)
    assert ds.url == str(src) and ds.is_local and not ds.is_default
    assert sorted(ws.datastores) == ["raw", "workspaceblobstore"]
    assert Datastore.get(ws, "raw").url == str(src)
    out = tmp_path / "out"
    assert ds.download(out, show_progress=False) == 2
    assert _tree(out) == _tree(src)


def test_register_local_needs_an_existing_folder_unless_asked_to_create(ws, tmp_path):
    with pytest.raises(NotFound, match="create_if_not_exists=True"):
        Datastore.register_local(ws, "d", tmp_path / "missing")
    ds = Datastore.register_local(ws, "d", tmp_path / "missing", create_if_not_exists=True)
    assert os.path.isdir(ds.url)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidArgument, match="is a file"):
        Datastore.register_local(ws, "f", tmp_path / "file")


def test_registering_a_taken_name_needs_overwrite(ws, tmp_path):
    Datastore.register_local(ws, "d", tmp_path, create_if_not_exists=True)
    with pytest.raises(AlreadyExists, match="overwrite=True"):
        Datastore.register_local(ws, "d", tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    assert Datastore.register_local(ws, "d", other, overwrite=True).url == str(other)


def test_bad_datastore_names_are_invalid(ws, tmp_path):
    with pytest.raises(InvalidArgument):
        Datastore.register_local(ws, "../evil", tmp_path)
    with pytest.raises(InvalidArgument):
        Datastore.get(ws, "a/b")


def test_set_as_default_moves_the_default(ws, tmp_path):
    ds = Datastore.register_local(ws, "mine", tmp_path)
    ds.set_as_default()
    assert ds.is_default
    assert ws.get_default_datastore().name == "mine"
    assert not Datastore.get(ws, "workspaceblobstore").is_default
    replaced = Datastore.register_local(ws, "mine", tmp_path, overwrite=True)
    assert replaced.is_default


@pytest.mark.parametrize(
    ("module", "extra", "register"),
    [
        ("s3fs", "s3", lambda ws: Datastore.register_s3(ws, "s", "bucket")),
        ("gcsfs", "gcs", lambda ws: Datastore.register_gcs(ws, "g", "bucket")),
        (
            "adlfs",
            "azure",
            lambda ws: Datastore.register_azure_blob_container(ws, "a", "container", "account"),
        ),
    ],
)
def test_missing_extra_is_a_clear_error_with_the_install_hint(
    ws, monkeypatch, module, extra, register
):
    monkeypatch.setitem(sys.modules, module, None)  # makes ``import module`` fail
    with pytest.raises(MissingDependency, match=rf"pip install 'runyard\[{extra}\]'"):
        register(ws)
    assert sorted(ws.datastores) == ["workspaceblobstore"]


def test_register_fsspec_with_an_unknown_protocol_lists_the_known_ones(ws):
    with pytest.raises(BackendError, match=r"Known protocols:.*s3"):
        Datastore.register_fsspec(ws, "weird", "nosuchproto://x/y")


def test_register_fsspec_with_a_local_url_is_a_local_datastore(ws, src):
    ds = Datastore.register_fsspec(ws, "viafsspec", f"file://{src}")
    assert ds.datastore_type == "Local" and ds.is_local
    assert ds.download(src.parent / "out", show_progress=False) == 2


def test_s3_registration_checks_its_arguments(ws):
    with pytest.raises(InvalidArgument, match="both key and secret"):
        Datastore.register_s3(ws, "s", "bucket", key="k")
    with pytest.raises(InvalidArgument, match="without '/'"):
        Datastore.register_s3(ws, "s", "bucket/sub", skip_validation=True)
    with pytest.raises(InvalidArgument):
        Datastore.register_s3(ws, "s", "bucket", prefix="../up", skip_validation=True)


def test_azure_registration_refuses_plain_http(ws):
    with pytest.raises(InvalidArgument, match="use 'https'"):
        Datastore.register_azure_blob_container(ws, "a", "c", "acct", protocol="http")


class _RecordingProgress:
    def __init__(self, log):
        self.log = log

    def advance(self, nbytes):
        self.log.append(("advance", nbytes))


@pytest.mark.parametrize("parallel", [1, 4])
def test_progress_advances_as_each_file_finishes(parallel):
    from runyard.artifacts.transfer import run_transfers

    log: list = []
    items = [(f"f{i}", 100 * (i + 1)) for i in range(6)]
    run_transfers(
        items,
        lambda key: log.append(("moved", key)),
        _RecordingProgress(log),
        what="test",
        parallel=parallel,
    )
    advances = [size for kind, size in log if kind == "advance"]
    assert sorted(advances) == [100, 200, 300, 400, 500, 600]
    if parallel == 1:  # one bar step right after each file, not all at the end
        assert log[:4] == [("moved", "f0"), ("advance", 100), ("moved", "f1"), ("advance", 200)]


def test_parallel_transfer_failure_names_the_file_and_keeps_the_error_class():
    from runyard.artifacts.transfer import run_transfers

    def transfer(key):
        if key == "bad":
            raise NotFound("gone")

    items = [("a", 1), ("bad", 1), ("c", 1)]
    with pytest.raises(NotFound, match=r"test stopped at 'bad': gone\. \d of 3 files"):
        run_transfers(items, transfer, _RecordingProgress([]), what="test", parallel=4)


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_a_dangling_symlink_in_a_datastore_is_skipped_and_reported(ws, src, tmp_path, capsys):
    ds = ws.get_default_datastore()
    ds.upload(src, target_path="d", show_progress=False)
    os.symlink(tmp_path / "gone", os.path.join(ds.url, "d", "dangling.bin"))
    out = tmp_path / "out"
    assert ds.download(out, show_progress=False) == 2
    assert _tree(out / "d") == _tree(src)
    err = capsys.readouterr().err
    assert "Skipped 1 entries that point at nothing" in err and "d/dangling.bin" in err
