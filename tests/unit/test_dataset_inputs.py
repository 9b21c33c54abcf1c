"""Dataset inputs on the node (the pinned folder, its cache, changed files), the input's
checked dict, and datasets of http(s) URLs served by a local web server."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import threading
from pathlib import Path

import pytest

from runyard.core import Dataset
from runyard.entities.dataset import DatasetFile, DatasetInputSpec
from runyard.errors import InvalidArgument, InvalidState, NotFound
from runyard.node.dataset import resolve_dataset


@pytest.fixture
def registered(ws, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("alpha")
    (src / "b.txt").write_text("beta")
    ds = ws.get_default_datastore()
    ds.upload(str(src), target_path="letters", show_progress=False)
    dataset = Dataset.File.from_files((ds, "letters/*")).register(ws, "letters")
    return dataset.as_named_input("letters").as_mount().to_spec()


def _change(ws, name, data):
    root = ws.get_default_datastore()._artifact_store().local_path("")
    Path(root, name).write_bytes(data)


def test_a_mounted_input_is_a_read_only_folder_named_by_the_fingerprint(ws, registered, tmp_path):
    folder = resolve_dataset(ws.resources, registered, str(tmp_path / "cache"))
    assert os.path.basename(folder) == registered.fingerprint
    assert sorted(os.listdir(folder)) == ["a.txt", "b.txt"]
    assert Path(folder, "a.txt").read_text() == "alpha"
    assert os.stat(Path(folder, "a.txt")).st_mode & 0o222 == 0


def test_a_changed_file_fails_the_input_naming_file_and_dataset(ws, registered, tmp_path):
    _change(ws, "letters/a.txt", b"ALPHA")
    with pytest.raises(InvalidState, match=r"'letters' version 1.*letters/a.txt.*changed"):
        resolve_dataset(ws.resources, registered, str(tmp_path / "cache"))
    assert not os.path.exists(tmp_path / "cache" / "datasets" / registered.fingerprint)


def test_a_cached_input_keeps_serving_the_pinned_bytes_after_the_source_changed(
    ws, registered, tmp_path
):
    """Documented: the cache is content-addressed, so a run on a node that holds the
    pinned files reads exactly them (and does not look at the source again)."""
    first = resolve_dataset(ws.resources, registered, str(tmp_path / "cache"))
    _change(ws, "letters/a.txt", b"ALPHA")
    again = resolve_dataset(ws.resources, registered, str(tmp_path / "cache"))
    assert again == first and Path(again, "a.txt").read_text() == "alpha"


def test_a_deleted_file_is_not_found(ws, registered, tmp_path):
    root = ws.get_default_datastore()._artifact_store().local_path("")
    os.unlink(os.path.join(root, "letters", "b.txt"))
    with pytest.raises(NotFound, match=r"b\.txt"):
        resolve_dataset(ws.resources, registered, str(tmp_path / "cache"))


def test_a_downloaded_input_is_a_writable_copy_in_the_working_folder(ws, registered, tmp_path):
    spec = DatasetInputSpec.from_dict({**registered.to_dict(), "mode": "download"})
    work = tmp_path / "work"
    work.mkdir()
    path = resolve_dataset(ws.resources, spec, str(tmp_path / "cache"), working_dir=str(work))
    assert path == str(work / "letters")
    Path(path, "a.txt").write_text("mine")  # the script's own copy
    with pytest.raises(InvalidArgument, match="overwrite=True"):
        resolve_dataset(ws.resources, spec, str(tmp_path / "cache"), working_dir=str(work))


def test_an_input_whose_files_were_edited_in_the_definition_is_refused(registered):
    data = registered.to_dict()
    data["files"][0]["sha256"] = "0" * 64
    with pytest.raises(InvalidArgument, match="fingerprint"):
        DatasetInputSpec.from_dict(data)


@pytest.mark.parametrize(
    "change",
    [
        {"runyard_dataset": 2},
        {"mode": "stream"},
        {"input_name": "has space"},
        {"path_on_compute": "../up"},
        {"files": []},
        {"version": 0},
    ],
)
def test_malformed_inputs_are_refused(registered, change):
    data = {**registered.to_dict(), **change, "fingerprint": None}
    with pytest.raises(InvalidArgument):
        DatasetInputSpec.from_dict(data)


@pytest.mark.parametrize(
    "file",
    [
        {"source": "ftp", "location": "x", "relpath": "x", "sha256": "a" * 64, "size": 1},
        {"source": "datastore", "location": "../x", "datastore": "d", "relpath": "x",
         "sha256": "a" * 64, "size": 1},
        {"source": "local", "location": "/x", "relpath": "/etc/x", "sha256": "a" * 64, "size": 1},
        {"source": "local", "location": "/x", "relpath": "x", "sha256": "nothex", "size": 1},
        {"source": "url", "location": "http://h/x", "datastore": "d", "relpath": "x",
         "sha256": "a" * 64, "size": 1},
        {"source": "url", "location": "file:///etc/passwd", "relpath": "x", "sha256": "a" * 64,
         "size": 1},
        {"source": "local", "location": "rel/x", "relpath": "x", "sha256": "a" * 64, "size": 1},
    ],
)  # fmt: skip
def test_malformed_pinned_files_are_refused(file):
    with pytest.raises(InvalidArgument):
        DatasetFile.from_dict(file)


# -- http(s) URLs, against a web server on 127.0.0.1 -----------------------------------


@pytest.fixture
def web(tmp_path):
    """A web server serving tmp_path/www on a free port of 127.0.0.1; yields its base URL."""
    root = tmp_path / "www" / "mnist"
    root.mkdir(parents=True)
    (root / "train-images.gz").write_bytes(b"images")
    (root / "train-labels.gz").write_bytes(b"labels")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep the test output clean
            pass

    handler = functools.partial(Quiet, directory=str(tmp_path / "www"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_dataset_of_urls_is_pinned_and_downloaded(ws, web, tmp_path):
    base, _ = web
    urls = [f"{base}/mnist/train-images.gz", f"{base}/mnist/train-labels.gz"]
    dataset = Dataset.File.from_files(path=urls)
    assert dataset.to_path() == ["/train-images.gz", "/train-labels.gz"]
    registered = dataset.register(ws, "mnist-web")
    files = {f.relpath: f for f in registered._pinned_files()}
    assert files["train-images.gz"].sha256 == hashlib.sha256(b"images").hexdigest()
    assert files["train-images.gz"].source == "url"
    paths = Dataset.get_by_name(ws, "mnist-web").download(tmp_path / "out")
    assert sorted(Path(p).read_bytes() for p in paths) == [b"images", b"labels"]


def test_a_url_whose_content_changed_fails_loudly(ws, web, tmp_path):
    base, root = web
    registered = Dataset.File.from_files([f"{base}/mnist/train-images.gz"]).register(ws, "w")
    (root / "train-images.gz").write_bytes(b"other images")
    with pytest.raises(InvalidState, match=r"train-images\.gz"):
        registered.download(tmp_path / "out")


def test_a_missing_url_is_not_found(web):
    base, _ = web
    dataset = Dataset.File.from_files([f"{base}/mnist/nope.gz"])
    with pytest.raises(NotFound, match="404"):
        dataset.download()


def test_an_unreachable_url_is_a_backend_error_naming_it():
    from runyard.errors import BackendError

    dataset = Dataset.File.from_files(["http://127.0.0.1:9/never.gz"])
    with pytest.raises(BackendError, match=r"127\.0\.0\.1:9"):
        dataset.download()
