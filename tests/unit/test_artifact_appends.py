"""Appending on object stores costs what is appended (parts, not rewrites), and the parts
read, list, size and download as one file. Checked on fsspec's in-memory filesystem."""

from __future__ import annotations

import uuid

import pytest

from runyard.artifacts.store import FsspecArtifactStore
from runyard.errors import NotFound


@pytest.fixture
def store():
    """A store on a fresh folder of fsspec's (process-wide) memory filesystem."""
    opened = FsspecArtifactStore(f"memory://runyard-test-{uuid.uuid4().hex}")
    yield opened
    opened.delete("")


@pytest.fixture
def written(store, monkeypatch):
    """Records the size of every object the store writes, and fails on any whole-file
    read while appending."""
    sizes: list[int] = []
    pipe_file = store._fs.pipe_file

    def counting_pipe_file(path, data, **kwargs):
        sizes.append(len(data))
        return pipe_file(path, data, **kwargs)

    monkeypatch.setattr(store._fs, "pipe_file", counting_pipe_file)
    return sizes


def test_each_append_writes_only_the_appended_bytes(store, written, monkeypatch):
    monkeypatch.setattr(store._fs, "cat_file", lambda *a, **k: pytest.fail("read on append"))
    chunk = b"x" * 1000
    for _ in range(200):
        store.append_bytes(chunk, "logs/driver.txt")
    assert written == [1000] * 200


def test_appended_parts_read_list_size_and_download_as_one_file(store, tmp_path):
    lines = [f"line {i}\n".encode() for i in range(1, 1200)]  # parts beyond 000999 too
    store.append_bytes(b"", "logs/out.txt")  # the log exists from the start
    assert store.exists("logs/out.txt")
    for line in lines:
        store.append_bytes(line, "logs/out.txt")
    store.put_bytes(b"other", "logs/other.txt")
    whole = b"".join(lines)
    assert store.read_bytes("logs/out.txt") == whole
    assert store.size("logs/out.txt") == len(whole)
    assert store.list() == ["logs/other.txt", "logs/out.txt"]
    assert store.list("logs") == ["logs/other.txt", "logs/out.txt"]
    assert store.list("logs/out.txt") == ["logs/out.txt"]
    store.get_file("logs/out.txt", str(tmp_path / "out.txt"))
    assert (tmp_path / "out.txt").read_bytes() == whole
    store.copy("logs/out.txt", "copied/out.txt")
    assert store.read_bytes("copied/out.txt") == whole


def test_a_second_store_on_the_same_root_appends_after_the_existing_parts(store):
    store.append_bytes(b"one ", "log.txt")
    store.append_bytes(b"two ", "log.txt")
    again = FsspecArtifactStore(store.url)
    again.append_bytes(b"three", "log.txt")
    assert again.read_bytes("log.txt") == b"one two three"


def test_appending_after_a_put_adds_to_it_and_a_put_replaces_the_parts(store):
    store.put_bytes(b"head ", "f.txt")
    store.append_bytes(b"tail", "f.txt")
    assert store.read_bytes("f.txt") == b"head tail"
    store.put_bytes(b"new", "f.txt")
    assert store.read_bytes("f.txt") == b"new"
    store.append_bytes(b"+", "f.txt")
    assert store.read_bytes("f.txt") == b"new+"


def test_deleting_an_appended_file_or_its_folder_removes_its_parts(store):
    store.append_bytes(b"a", "run/logs/x.txt")
    store.append_bytes(b"b", "run/y.txt")
    store.delete("run/logs/x.txt")
    assert not store.exists("run/logs/x.txt")
    assert store.list() == ["run/y.txt"]
    store.delete("run")
    assert store.list() == []
    with pytest.raises(NotFound):
        store.read_bytes("run/y.txt")
    store.append_bytes(b"fresh", "run/y.txt")
    assert store.read_bytes("run/y.txt") == b"fresh"


def test_local_appends_write_one_plain_file(tmp_path):
    store = FsspecArtifactStore(str(tmp_path / "root"))
    for i in range(3):
        store.append_bytes(f"{i}".encode(), "logs/a.txt")
    assert (tmp_path / "root" / "logs" / "a.txt").read_bytes() == b"012"
    assert store.list() == ["logs/a.txt"]
