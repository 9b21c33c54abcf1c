"""Resumable uploads (what the server's upload routes run on), on a local root and on an
object store (fsspec's memory filesystem, staged on this machine's disk)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from runyard.artifacts import temporaries
from runyard.artifacts.store import FsspecArtifactStore
from runyard.artifacts.uploads import Uploads
from runyard.errors import InvalidArgument, InvalidState, NotFound


@pytest.fixture(params=["local", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FsspecArtifactStore]:
    if request.param == "local":
        opened = FsspecArtifactStore(str(tmp_path / "root"))
    else:
        opened = FsspecArtifactStore(f"memory://uploads-{uuid.uuid4().hex}")
    yield opened
    opened.close()


@pytest.fixture
def uploads(store: FsspecArtifactStore, tmp_path: Path) -> Uploads:
    return Uploads(store, str(tmp_path / "staging"))


def _send(uploads: Uploads, name: str, upload_id: str, offset: int, data: bytes) -> int:
    with uploads.chunk(name, upload_id, offset) as writer:
        writer.write(data)
        return writer.offset


def test_chunks_at_the_right_offsets_commit_into_one_whole_file(
    uploads: Uploads, store: FsspecArtifactStore
) -> None:
    state = uploads.begin("a/model.bin")
    assert state.offset == 0
    at = _send(uploads, "a/model.bin", state.upload_id, 0, b"first-")
    at = _send(uploads, "a/model.bin", state.upload_id, at, b"second")
    assert uploads.state("a/model.bin", state.upload_id).offset == 12
    assert not store.exists("a/model.bin") and store.list() == []  # nothing visible yet
    assert uploads.commit("a/model.bin", state.upload_id, 12) == 12
    assert store.read_bytes("a/model.bin") == b"first-second"
    with pytest.raises(NotFound):  # committed: gone
        uploads.state("a/model.bin", state.upload_id)


def test_a_chunk_at_another_offset_is_refused_and_writes_nothing(uploads: Uploads) -> None:
    state = uploads.begin("f.bin")
    _send(uploads, "f.bin", state.upload_id, 0, b"abc")
    for offset in (0, 2, 4):
        with pytest.raises(InvalidState, match="offset 3"):
            _send(uploads, "f.bin", state.upload_id, offset, b"zzz")
    assert uploads.state("f.bin", state.upload_id).offset == 3


def test_a_second_writer_of_the_same_upload_is_refused_while_the_first_writes(
    uploads: Uploads,
) -> None:
    state = uploads.begin("f.bin")
    with uploads.chunk("f.bin", state.upload_id, 0) as writer:
        writer.write(b"one")
        with (
            pytest.raises(InvalidState, match="one chunk at a time"),
            uploads.chunk("f.bin", state.upload_id, 0),
        ):
            pass
    assert uploads.state("f.bin", state.upload_id).offset == 3


def test_an_undone_chunk_leaves_the_upload_as_it_was(uploads: Uploads) -> None:
    state = uploads.begin("f.bin")
    _send(uploads, "f.bin", state.upload_id, 0, b"kept")
    with uploads.chunk("f.bin", state.upload_id, 4) as writer:
        writer.write(b"refused")
        writer.undo()
    assert uploads.state("f.bin", state.upload_id).offset == 4


def test_a_commit_of_the_wrong_size_moves_nothing(
    uploads: Uploads, store: FsspecArtifactStore
) -> None:
    state = uploads.begin("f.bin")
    _send(uploads, "f.bin", state.upload_id, 0, b"12345")
    with pytest.raises(InvalidState, match="holds 5 bytes"):
        uploads.commit("f.bin", state.upload_id, 6)
    assert not store.exists("f.bin")
    assert uploads.commit("f.bin", state.upload_id, 5) == 5


def test_an_aborted_upload_is_gone_and_aborting_twice_is_fine(
    uploads: Uploads, store: FsspecArtifactStore
) -> None:
    state = uploads.begin("f.bin")
    _send(uploads, "f.bin", state.upload_id, 0, b"x")
    uploads.abort("f.bin", state.upload_id)
    uploads.abort("f.bin", state.upload_id)
    with pytest.raises(NotFound):
        uploads.commit("f.bin", state.upload_id, 1)
    assert store.list() == []


def test_an_upload_id_belongs_to_its_file_and_must_be_an_id(uploads: Uploads) -> None:
    state = uploads.begin("mine.bin")
    with pytest.raises(NotFound):
        uploads.state("other.bin", state.upload_id)
    for bad in ["../../etc", "0" * 31, "g" * 32, state.upload_id + "/x", ""]:
        with pytest.raises(InvalidArgument):
            uploads.state("mine.bin", bad)
    with pytest.raises(InvalidArgument):
        uploads.begin("../escape.bin")


def test_an_upload_is_a_hidden_temporary_beside_its_file_on_a_local_root(tmp_path: Path) -> None:
    store = FsspecArtifactStore(str(tmp_path / "root"))
    uploads = Uploads(store, str(tmp_path / "staging"))
    state = uploads.begin("d/f.bin")
    assert os.listdir(tmp_path / "root" / "d") == [f"f.bin{temporaries.TEMPORARY}{state.upload_id}"]
    assert store.list() == []
    # The store's own cleaning takes uploads nobody touched for a long time.
    old = time.time() - temporaries.STALE_AFTER_S - 60
    os.utime(tmp_path / "root" / "d" / f"f.bin{temporaries.TEMPORARY}{state.upload_id}", (old, old))
    assert store.clean_temporaries() == [f"d/f.bin{temporaries.TEMPORARY}{state.upload_id}"]
    with pytest.raises(NotFound, match="start a new one"):
        uploads.state("d/f.bin", state.upload_id)


def test_an_object_store_upload_is_staged_on_disk_and_stale_staging_is_cleaned(
    tmp_path: Path,
) -> None:
    store = FsspecArtifactStore(f"memory://uploads-{uuid.uuid4().hex}")
    staging = tmp_path / "staging"
    uploads = Uploads(store, str(staging))
    abandoned = uploads.begin("old.bin")
    old = time.time() - temporaries.STALE_AFTER_S - 60
    for entry in staging.iterdir():
        os.utime(entry, (old, old))
    state = uploads.begin("new.bin")  # a new upload sweeps the abandoned one
    with pytest.raises(NotFound):
        uploads.state("old.bin", abandoned.upload_id)
    _send(uploads, "new.bin", state.upload_id, 0, b"staged")
    uploads.commit("new.bin", state.upload_id, 6)
    assert store.read_bytes("new.bin") == b"staged"
    assert list(staging.iterdir()) == []
