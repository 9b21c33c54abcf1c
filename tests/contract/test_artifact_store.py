"""The ArtifactStore contract: the same tests over every adapter.

- ``fsspec-local``: FsspecArtifactStore on a folder;
- ``fsspec-memory``: FsspecArtifactStore on fsspec's in-memory filesystem (an object
  store: no append, no rename);
- ``rest``: RestArtifactStore against the session's real server process (a fresh
  workspace per test), with 64 KB chunks so that files of a few hundred KB already go
  as resumable uploads and chunked downloads.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from runyard.artifacts.rest import RestArtifactStore
from runyard.artifacts.store import ArtifactStore, FsspecArtifactStore
from runyard.errors import InvalidArgument, NotFound

CHUNK = 64 * 1024


@pytest.fixture(params=["fsspec-local", "fsspec-memory", "rest"])
def artifacts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArtifactStore]:
    store: ArtifactStore
    if request.param == "fsspec-local":
        store = FsspecArtifactStore(str(tmp_path / "files"))
    elif request.param == "fsspec-memory":
        store = FsspecArtifactStore(f"memory://contract-{uuid.uuid4().hex}")
    else:
        server, name = request.getfixturevalue("served_workspace")
        store = RestArtifactStore(server.url, name, token=server.token, chunk_bytes=CHUNK)
    yield store
    store.close()


def _random(size: int) -> bytes:
    return os.urandom(size)


def test_bytes_put_are_read_back_exactly(artifacts: ArtifactStore) -> None:
    data = bytes(range(256)) * 3
    artifacts.put_bytes(data, "outputs/table.bin")
    assert artifacts.read_bytes("outputs/table.bin") == data
    assert artifacts.size("outputs/table.bin") == len(data)


def test_a_file_larger_than_many_chunks_round_trips(
    artifacts: ArtifactStore, tmp_path: Path
) -> None:
    data = _random(9 * CHUNK + 123)
    source = tmp_path / "model.bin"
    source.write_bytes(data)
    artifacts.put_file(str(source), "models/m/1/model.bin")
    target = tmp_path / "down" / "deep" / "model.bin"
    artifacts.get_file("models/m/1/model.bin", str(target))
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert artifacts.read_bytes("models/m/1/model.bin") == data
    assert artifacts.list("models") == ["models/m/1/model.bin"]  # no upload left behind


def test_a_put_replaces_the_whole_file(artifacts: ArtifactStore) -> None:
    artifacts.put_bytes(_random(5 * CHUNK), "f.bin")
    artifacts.put_bytes(b"short", "f.bin")
    assert artifacts.read_bytes("f.bin") == b"short"
    assert artifacts.size("f.bin") == 5


def test_an_empty_file_round_trips(artifacts: ArtifactStore, tmp_path: Path) -> None:
    artifacts.put_bytes(b"", "empty.txt")
    assert artifacts.exists("empty.txt")
    assert artifacts.size("empty.txt") == 0
    assert artifacts.read_bytes("empty.txt") == b""
    artifacts.get_file("empty.txt", str(tmp_path / "empty.txt"))
    assert (tmp_path / "empty.txt").read_bytes() == b""
    assert artifacts.read_range("empty.txt", 0, 10) == b""


NAMES = [
    "a b/c d.txt",
    "hash#tag/q?uery.txt",
    "percent/%41%2e.txt",
    "päth/ünïcode-文字.txt",
    "epoch:3.txt",
    "a+b&c=d;e.txt",
    ".hidden/.env",
]


def test_names_with_spaces_unicode_and_url_characters_round_trip(
    artifacts: ArtifactStore,
) -> None:
    for name in NAMES:
        artifacts.put_bytes(name.encode(), name)
    for name in NAMES:
        assert artifacts.read_bytes(name) == name.encode(), name
        assert artifacts.exists(name), name
    assert artifacts.list() == sorted(NAMES)


def test_list_is_recursive_sorted_and_takes_a_folder_or_a_file(artifacts: ArtifactStore) -> None:
    for name in ["b/2.txt", "a.txt", "b/1.txt", "b/c/3.txt", "bb.txt"]:
        artifacts.put_bytes(b"x", name)
    assert artifacts.list() == ["a.txt", "b/1.txt", "b/2.txt", "b/c/3.txt", "bb.txt"]
    assert artifacts.list("b") == ["b/1.txt", "b/2.txt", "b/c/3.txt"]
    assert artifacts.list("b/c") == ["b/c/3.txt"]
    assert artifacts.list("b/1.txt") == ["b/1.txt"]
    assert artifacts.list("nothing/here") == []


def test_exists_and_size_answer_for_files_and_missing_names(artifacts: ArtifactStore) -> None:
    artifacts.put_bytes(b"12345", "d/f.txt")
    assert artifacts.exists("d/f.txt")
    assert not artifacts.exists("d/g.txt")
    assert artifacts.size("d/f.txt") == 5
    with pytest.raises(NotFound):
        artifacts.size("d/g.txt")


def test_a_missing_file_is_not_found_and_no_local_file_appears(
    artifacts: ArtifactStore, tmp_path: Path
) -> None:
    with pytest.raises(NotFound):
        artifacts.read_bytes("missing.txt")
    with pytest.raises(NotFound):
        artifacts.get_file("missing.txt", str(tmp_path / "out.txt"))
    assert list(tmp_path.iterdir()) == [] or not (tmp_path / "out.txt").exists()
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith("out.txt")]


def test_appends_create_the_file_then_add_to_its_end(artifacts: ArtifactStore) -> None:
    artifacts.append_bytes(b"", "logs/driver.txt")
    assert artifacts.exists("logs/driver.txt")
    for i in range(5):
        artifacts.append_bytes(f"line {i}\n".encode(), "logs/driver.txt")
    expected = b"".join(f"line {i}\n".encode() for i in range(5))
    assert artifacts.read_bytes("logs/driver.txt") == expected
    assert artifacts.size("logs/driver.txt") == len(expected)
    assert artifacts.list("logs") == ["logs/driver.txt"]


def test_an_append_after_a_put_adds_to_the_file(artifacts: ArtifactStore) -> None:
    artifacts.put_bytes(b"head ", "f.txt")
    artifacts.append_bytes(b"tail", "f.txt")
    assert artifacts.read_bytes("f.txt") == b"head tail"


def test_an_append_larger_than_a_chunk_arrives_whole(artifacts: ArtifactStore) -> None:
    data = _random(3 * CHUNK + 7)
    artifacts.append_bytes(b"<", "big.log")
    artifacts.append_bytes(data, "big.log")
    assert artifacts.read_bytes("big.log") == b"<" + data


def test_delete_takes_a_file_or_a_folder_and_missing_is_fine(artifacts: ArtifactStore) -> None:
    for name in ["keep.txt", "gone/1.txt", "gone/sub/2.txt", "one.txt"]:
        artifacts.put_bytes(b"x", name)
    artifacts.delete("one.txt")
    artifacts.delete("gone")
    artifacts.delete("never/was")
    assert artifacts.list() == ["keep.txt"]
    assert not artifacts.exists("gone/1.txt")


def test_copy_copies_a_file_and_a_missing_source_is_not_found(artifacts: ArtifactStore) -> None:
    data = _random(2 * CHUNK)
    artifacts.put_bytes(data, "src/a.bin")
    artifacts.copy("src/a.bin", "dst/b.bin")
    assert artifacts.read_bytes("dst/b.bin") == data
    assert artifacts.read_bytes("src/a.bin") == data
    with pytest.raises(NotFound):
        artifacts.copy("src/none.bin", "dst/c.bin")
    assert not artifacts.exists("dst/c.bin")


def test_read_range_reads_from_an_offset_and_past_the_end_is_empty(
    artifacts: ArtifactStore,
) -> None:
    artifacts.put_bytes(b"0123456789", "r.txt")
    assert artifacts.read_range("r.txt", 0, 4) == b"0123"
    assert artifacts.read_range("r.txt", 3, 4) == b"3456"
    assert artifacts.read_range("r.txt", 8, 100) == b"89"
    assert artifacts.read_range("r.txt", 10, 5) == b""
    assert artifacts.read_range("r.txt", 50, 5) == b""
    with pytest.raises(NotFound):
        artifacts.read_range("nope.txt", 0, 1)


UNSAFE = [
    "../escape.txt",
    "a/../../escape.txt",
    "/etc/passwd",
    "a\\b.txt",
    "a\x00b.txt",
    "%2e%2e/escape.txt",
    "%252e%252e/escape.txt",
    "..%2fescape.txt",
    "C:/windows/x.txt",
    "x" * 1100,
    "a/b.ry~tmp-0123456789ab",
    "evil\u202etxt.exe",
]


def test_unsafe_names_are_refused_by_every_operation(
    artifacts: ArtifactStore, tmp_path: Path
) -> None:
    local = tmp_path / "local.txt"
    local.write_bytes(b"data")
    artifacts.put_bytes(b"safe", "safe.txt")
    operations = {
        "put_bytes": lambda n: artifacts.put_bytes(b"x", n),
        "put_file": lambda n: artifacts.put_file(str(local), n),
        "append_bytes": lambda n: artifacts.append_bytes(b"x", n),
        "read_bytes": lambda n: artifacts.read_bytes(n),
        "read_range": lambda n: artifacts.read_range(n, 0, 1),
        "get_file": lambda n: artifacts.get_file(n, str(tmp_path / "got.txt")),
        "exists": lambda n: artifacts.exists(n),
        "size": lambda n: artifacts.size(n),
        "delete": lambda n: artifacts.delete(n),
        "copy to": lambda n: artifacts.copy("safe.txt", n),
        "copy from": lambda n: artifacts.copy(n, "copy.txt"),
    }
    for name in UNSAFE:
        for what, operation in operations.items():
            with pytest.raises(InvalidArgument):
                operation(name)
                pytest.fail(f"{what} took {name!r}")
    assert artifacts.list() == ["safe.txt"]
    assert not (tmp_path / "escape.txt").exists()
    assert not (tmp_path / "got.txt").exists()
