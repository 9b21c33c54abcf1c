"""S3 datastores against a real S3 server (moto's, on a free local port): registration,
transfers, and data references resolved through the download cache."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys

import pytest

pytest.importorskip("s3fs", reason="S3 datastores need s3fs: pip install 'runyard[s3]'")
moto_server = pytest.importorskip(
    "moto.server", reason="the S3 test server needs moto[server] (in runyard's dev extra)"
)

from runyard.core import Datastore  # noqa: E402
from runyard.errors import NotFound  # noqa: E402
from runyard.node.data import resolve_data_reference  # noqa: E402

pytestmark = pytest.mark.integration

KEY, SECRET = "testing-key", "testing-secret"


def _resolve(ws, ref, cache_dir, **kwargs):
    return resolve_data_reference(ws.resources, ref, cache_dir, **kwargs)


@pytest.fixture(scope="module")
def endpoint():
    """A real S3 API server in a thread of this process."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3ds(ws, endpoint, request):
    bucket = "b-" + request.node.name.replace("_", "-")[:40].lower().strip("-")
    return Datastore.register_s3(
        ws,
        "s3data",
        bucket,
        prefix="team",
        endpoint_url=endpoint,
        key=KEY,
        secret=SECRET,
        create_if_not_exists=True,
    )


@pytest.fixture
def src(tmp_path):
    folder = tmp_path / "src"
    (folder / "sub").mkdir(parents=True)
    (folder / "train.bin").write_bytes(os.urandom(300_000))
    (folder / "sub" / "labels.txt").write_text("v1")
    return folder


def test_registering_a_missing_bucket_is_not_found_unless_created(ws, endpoint):
    with pytest.raises(NotFound, match="create_if_not_exists=True"):
        Datastore.register_s3(
            ws, "s", "missing-bucket", endpoint_url=endpoint, key=KEY, secret=SECRET
        )
    ds = Datastore.register_s3(
        ws,
        "s",
        "made-bucket",
        endpoint_url=endpoint,
        key=KEY,
        secret=SECRET,
        create_if_not_exists=True,
    )
    assert ds.datastore_type == "S3" and not ds.is_local
    assert ds.url == "s3://made-bucket"
    assert "testing-secret" not in repr(ds)


def test_upload_and_download_round_trip_with_skip(s3ds, src, tmp_path, capsys):
    ref = s3ds.upload(src, target_path="mnist", show_progress=False)
    assert ref.path_on_datastore == "mnist"
    s3ds.upload(src, target_path="mnist", show_progress=False)
    assert "Skipped 2 existing files" in capsys.readouterr().err
    assert s3ds.download(tmp_path / "out", prefix="mnist", show_progress=False) == 2
    assert (tmp_path / "out" / "mnist" / "train.bin").read_bytes() == (
        src / "train.bin"
    ).read_bytes()
    assert (tmp_path / "out" / "mnist" / "sub" / "labels.txt").read_text() == "v1"


def test_mount_downloads_once_into_a_read_only_cache(ws, s3ds, src, tmp_path):
    s3ds.upload(src, target_path="mnist", show_progress=False)
    cache = str(tmp_path / "cache")
    ref = s3ds.path("mnist").as_mount().to_dict()
    first = _resolve(ws, ref, cache)
    assert first.startswith(cache)
    assert (open_bytes(os.path.join(first, "train.bin"))) == (src / "train.bin").read_bytes()
    mode = os.stat(os.path.join(first, "sub", "labels.txt")).st_mode
    assert not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert not os.stat(os.path.join(first, "sub")).st_mode & stat.S_IWUSR
    inode = os.stat(os.path.join(first, "train.bin")).st_ino
    second = _resolve(ws, ref, cache)
    assert second == first
    assert os.stat(os.path.join(second, "train.bin")).st_ino == inode  # not downloaded again


def test_a_changed_remote_is_downloaded_again(ws, s3ds, src, tmp_path):
    s3ds.upload(src, target_path="mnist", show_progress=False)
    cache = str(tmp_path / "cache")
    ref = s3ds.path("mnist").to_dict()
    old = _resolve(ws, ref, cache)
    (src / "sub" / "labels.txt").write_text("v2")
    s3ds.upload(src, target_path="mnist", overwrite=True, show_progress=False)
    new = _resolve(ws, ref, cache)
    assert new != old
    assert open_bytes(os.path.join(new, "sub", "labels.txt")) == b"v2"
    assert open_bytes(os.path.join(old, "sub", "labels.txt")) == b"v1"  # a running run keeps it


def test_concurrent_resolutions_download_once(ws, s3ds, src, tmp_path):
    s3ds.upload(src, target_path="mnist", show_progress=False)
    cache = str(tmp_path / "cache")
    script = (
        "import json, sys\n"
        "from runyard.core import Workspace\n"
        "from runyard.node.data import resolve_data_reference\n"
        "ws = Workspace.get(sys.argv[1], path=sys.argv[2])\n"
        "print(resolve_data_reference(ws.resources, json.loads(sys.argv[3]), sys.argv[4]))\n"
    )
    ref = json.dumps(s3ds.path("mnist").to_dict())
    args = [sys.executable, "-c", script, ws.name, ws.config.path, ref, cache]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    paths = set()
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        paths.add(out.strip())
    assert len(paths) == 1
    (entry,) = [e for e in os.listdir(cache) if not e.endswith(".lock")]
    assert os.listdir(os.path.join(cache, entry)) == [os.path.basename(paths.pop())]


def test_download_mode_gives_the_script_a_writable_copy(ws, s3ds, src, tmp_path):
    s3ds.upload(src, target_path="mnist", show_progress=False)
    wd = tmp_path / "wd"
    wd.mkdir()
    ref = s3ds.path("mnist/sub").as_download(path_on_compute="labels")
    path = _resolve(ws, ref.to_dict(), str(tmp_path / "cache"), working_dir=str(wd))
    assert path == str(wd / "labels")
    (wd / "labels" / "labels.txt").write_text("edited")  # writable
    again = _resolve(ws, s3ds.path("mnist/sub").to_dict(), str(tmp_path / "cache"))
    assert open_bytes(os.path.join(again, "labels.txt")) == b"v1"  # the cache is untouched


def test_single_file_reference_resolves_to_the_file(ws, s3ds, src, tmp_path):
    s3ds.upload(src, target_path="mnist", show_progress=False)
    path = _resolve(ws, s3ds.path("mnist/train.bin").to_dict(), str(tmp_path / "c"))
    assert os.path.basename(path) == "train.bin"
    assert open_bytes(path) == (src / "train.bin").read_bytes()


def test_reference_to_nothing_on_the_remote_is_not_found(ws, s3ds, tmp_path):
    with pytest.raises(NotFound, match="no file or folder 'nope'"):
        _resolve(ws, s3ds.path("nope").to_dict(), str(tmp_path / "c"))


def open_bytes(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def test_artifact_appends_on_s3_are_parts_read_listed_and_downloaded_as_one_file(
    endpoint, tmp_path
):
    from runyard.artifacts.store import FsspecArtifactStore

    options = {"key": KEY, "secret": SECRET, "client_kwargs": {"endpoint_url": endpoint}}
    FsspecArtifactStore("s3://appends", options)._fs.mkdir("appends")
    store = FsspecArtifactStore("s3://appends/ws", options)
    store.put_bytes(b"head|", "logs/out.txt")
    for i in range(5):
        store.append_bytes(f"{i}|".encode(), "logs/out.txt")
    store.put_bytes(b"mine", "outputs/x.partial")
    assert store.list() == ["logs/out.txt", "outputs/x.partial"]
    assert store.read_bytes("logs/out.txt") == b"head|0|1|2|3|4|"
    assert store.size("logs/out.txt") == len(b"head|0|1|2|3|4|")
    store.get_file("logs/out.txt", str(tmp_path / "out.txt"))
    assert (tmp_path / "out.txt").read_bytes() == b"head|0|1|2|3|4|"
    store.delete("logs")
    assert store.list() == ["outputs/x.partial"]


def test_a_reader_sees_parts_another_store_appended_after_it_first_read(endpoint):
    from runyard.artifacts.store import FsspecArtifactStore

    options = {"key": KEY, "secret": SECRET, "client_kwargs": {"endpoint_url": endpoint}}
    FsspecArtifactStore("s3://streamed", options)._fs.mkdir("streamed")
    writer = FsspecArtifactStore("s3://streamed/ws", options)
    # its own filesystem object and listing cache, as in another process
    reader = FsspecArtifactStore("s3://streamed/ws", {**options, "skip_instance_cache": True})
    writer.append_bytes(b"a", "log.txt")
    assert reader.read_bytes("log.txt") == b"a"
    writer.append_bytes(b"b", "log.txt")
    assert reader.read_bytes("log.txt") == b"ab"
