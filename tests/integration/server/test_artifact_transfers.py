"""Large files through the real server with RestArtifactStore: chunks, retries after lost
requests and lost answers, downloads resumed with a range request, progress, uploads
killed midway (nothing visible, resumable), and a workspace whose config names a server.

Faults are made at the client's edge: a transport around httpx's real one drops a request
before it leaves, or drops the server's answer after the server acted on it.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from runyard.artifacts.rest import RestArtifactStore, Upload
from runyard.config import WorkspaceConfig
from runyard.credentials import ServerLogin, save_login
from runyard.resources import WorkspaceResources
from runyard.settings import Settings
from server_process import ServerProcess

CHUNK = 64 * 1024
Served = tuple[ServerProcess, str]


class FaultyTransport(httpx.BaseTransport):
    """httpx's real transport, with ``fault(request, number)`` deciding per request:
    ``"drop"`` (never sent), ``"lose-answer"`` (sent, acted on, answer lost),
    ``"cut:N"`` (the answer's body breaks after N bytes) or None."""

    def __init__(self, fault: Callable[[httpx.Request, int], str | None]) -> None:
        self._real = httpx.HTTPTransport()
        self._fault = fault
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        fault = self._fault(request, len(self.requests))
        if fault == "drop":
            raise httpx.ConnectError("dropped by the test", request=request)
        response = self._real.handle_request(request)
        if fault == "lose-answer":
            response.read()
            response.close()
            raise httpx.ReadError("answer lost by the test", request=request)
        if fault and fault.startswith("cut:"):
            return _cut_after(response, int(fault[4:]), request)
        return response

    def close(self) -> None:
        self._real.close()


def _cut_after(response: httpx.Response, limit: int, request: httpx.Request) -> httpx.Response:
    def body() -> Iterator[bytes]:
        sent = 0
        for piece in response.stream:  # type: ignore[union-attr]
            if sent + len(piece) > limit:
                yield piece[: limit - sent]
                response.close()
                raise httpx.ReadError("connection cut by the test", request=request)
            sent += len(piece)
            yield piece

    return httpx.Response(
        response.status_code,
        headers=response.headers,
        stream=_IterStream(body()),
        request=request,
    )


class _IterStream(httpx.SyncByteStream):
    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces

    def __iter__(self) -> Iterator[bytes]:
        yield from self._pieces


MakeStore = Callable[..., RestArtifactStore]


@pytest.fixture
def make_store(served_workspace: Served) -> Iterator[MakeStore]:
    """``make_store(transport=None, chunk_bytes=CHUNK)``: a store on the test's workspace,
    closed after the test."""
    server, name = served_workspace
    opened: list[RestArtifactStore] = []

    def make(
        transport: httpx.BaseTransport | None = None, chunk_bytes: int = CHUNK
    ) -> RestArtifactStore:
        store = RestArtifactStore(
            server.url,
            name,
            token=server.token,
            chunk_bytes=chunk_bytes,
            retry_wait_s=0.01,
            transport=transport,
        )
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def _chunk_puts(transport: FaultyTransport) -> list[int]:
    """The offsets of the chunk PUTs sent, in order."""
    offsets = []
    for request in transport.requests:
        query = urllib.parse.parse_qs(request.url.query.decode())
        if request.method == "PUT" and "offset" in query:
            offsets.append(int(query["offset"][0]))
    return offsets


def _files_on_disk(served: Served) -> list[str]:
    server, name = served
    root = Path(server.home) / name / "artifacts"  # type: ignore[attr-defined]
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_chunk_whose_answer_was_lost_is_not_sent_or_written_twice(
    served_workspace: Served, make_store: MakeStore, tmp_path: Path
) -> None:
    data = os.urandom(6 * CHUNK + 5)
    (tmp_path / "big.bin").write_bytes(data)

    def lose_third_chunk_answer(request: httpx.Request, number: int) -> str | None:
        return "lose-answer" if b"offset=131072" in request.url.query else None

    transport = FaultyTransport(lose_third_chunk_answer)
    store = make_store(transport)
    store.put_file(str(tmp_path / "big.bin"), "big.bin")
    assert store.read_bytes("big.bin") == data
    # Each offset once: after the lost answer the client asked where the upload stood.
    assert _chunk_puts(transport) == [i * CHUNK for i in range(7)]
    assert _files_on_disk(served_workspace) == ["big.bin"]


def test_a_chunk_that_never_left_is_sent_again(
    served_workspace: Served, make_store: MakeStore, tmp_path: Path
) -> None:
    data = os.urandom(4 * CHUNK)
    (tmp_path / "big.bin").write_bytes(data)
    dropped: list[int] = []

    def drop_second_chunk_twice(request: httpx.Request, number: int) -> str | None:
        if b"offset=65536" in request.url.query and len(dropped) < 2:
            dropped.append(number)
            return "drop"
        return None

    transport = FaultyTransport(drop_second_chunk_twice)
    store = make_store(transport)
    store.put_file(str(tmp_path / "big.bin"), "big.bin")
    assert store.read_bytes("big.bin") == data
    assert _chunk_puts(transport) == [0, CHUNK, CHUNK, CHUNK, 2 * CHUNK, 3 * CHUNK]


def test_a_download_cut_midway_resumes_with_a_range_request(
    served_workspace: Served, make_store: MakeStore, tmp_path: Path
) -> None:
    data = os.urandom(5 * CHUNK + 17)
    make_store().put_bytes(data, "model.bin")
    cut = 2 * CHUNK + 1000

    def cut_first_download(request: httpx.Request, number: int) -> str | None:
        first_get = request.method == "GET" and "range" not in request.headers
        return f"cut:{cut}" if first_get else None

    transport = FaultyTransport(cut_first_download)
    make_store(transport).get_file("model.bin", str(tmp_path / "model.bin"))
    assert (tmp_path / "model.bin").read_bytes() == data
    ranges = [r.headers.get("range") for r in transport.requests if r.method == "GET"]
    # Resumed from the bytes it had written, at most the cut (pieces are not split).
    assert ranges[0] is None and len(ranges) == 2
    assert 0 < int(str(ranges[1]).removeprefix("bytes=").rstrip("-")) <= cut
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.bin"]  # no temporary


def test_progress_is_reported_chunk_by_chunk_up_to_the_total(
    served_workspace: Served, make_store: MakeStore, tmp_path: Path
) -> None:
    data = os.urandom(3 * CHUNK + 1)
    (tmp_path / "up.bin").write_bytes(data)
    store = make_store()
    sent: list[tuple[int, int]] = []
    store.put_file(str(tmp_path / "up.bin"), "up.bin", progress=lambda d, t: sent.append((d, t)))
    total = len(data)
    assert sent == [(CHUNK, total), (2 * CHUNK, total), (3 * CHUNK, total), (total, total)]
    received: list[tuple[int, int]] = []
    store.get_file(
        "up.bin", str(tmp_path / "down.bin"), progress=lambda d, t: received.append((d, t))
    )
    assert received[-1] == (len(data), len(data))
    assert [d for d, _ in received] == sorted(d for d, _ in received)


def test_the_servers_limit_lowers_the_chunk_size(make_store: MakeStore, tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 3)  # the session server takes 1 MB per request
    (tmp_path / "big.bin").write_bytes(data)
    store = make_store(chunk_bytes=4 * 1024 * 1024)
    store.put_file(str(tmp_path / "big.bin"), "big.bin")
    assert store.read_bytes("big.bin") == data


UPLOADER = textwrap.dedent(
    """
    import sys, time
    from runyard.artifacts.rest import RestArtifactStore
    url, workspace, path, token = sys.argv[1:5]
    store = RestArtifactStore(url, workspace, token=token, chunk_bytes=64 * 1024)
    upload = store.start_upload("killed/model.bin")
    print(upload.upload_id, flush=True)

    def slowly(done, total):
        print(done, flush=True)
        time.sleep(0.05)

    store.resume_upload(path, upload, progress=slowly)
    print("finished", flush=True)
    """
)


def test_an_upload_killed_midway_shows_nothing_and_is_resumed_where_it_stopped(
    served_workspace: Served, make_store: MakeStore, tmp_path: Path
) -> None:
    server, name = served_workspace
    data = os.urandom(40 * CHUNK)
    source = tmp_path / "model.bin"
    source.write_bytes(data)
    child = subprocess.Popen(
        [sys.executable, "-c", UPLOADER, server.url, name, str(source), str(server.token)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    upload_id = child.stdout.readline().strip()
    while int(child.stdout.readline()) < 5 * CHUNK:
        pass
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    child.stdout.close()
    store = make_store()
    assert not store.exists("killed/model.bin")
    assert store.list() == []
    held = store.upload_state("killed/model.bin", upload_id).offset
    assert 5 * CHUNK <= held < len(data)
    store.resume_upload(str(source), Upload("killed/model.bin", upload_id, held, 1024 * 1024))
    assert store.read_bytes("killed/model.bin") == data
    assert _files_on_disk(served_workspace) == ["killed/model.bin"]


def test_a_whole_put_cut_midway_leaves_no_file_and_no_temporary(
    served_workspace: Served, make_store: MakeStore
) -> None:
    server, name = served_workspace
    parsed = urllib.parse.urlsplit(server.url)
    with socket.create_connection((parsed.hostname, parsed.port)) as sock:
        sock.sendall(
            f"PUT /api/v1/workspaces/{name}/artifacts/half.bin HTTP/1.1\r\n"
            f"Host: x\r\nContent-Length: 100000\r\n\r\n".encode()
            + b"h" * 40000
        )
        time.sleep(0.2)  # the server is reading the body when the client goes away
    store = make_store()
    deadline = time.monotonic() + 10
    while _files_on_disk(served_workspace) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _files_on_disk(served_workspace) == []
    assert not store.exists("half.bin")


def test_a_workspace_whose_config_names_a_server_keeps_its_files_there(
    served_workspace: Served, tmp_path: Path
) -> None:
    server, name = served_workspace
    # The token comes the way a user's does: saved by `runyard login` in RUNYARD_HOME.
    settings = Settings(home=str(tmp_path / "home"))
    save_login(ServerLogin(server.url, str(server.token)), settings)
    resources = WorkspaceResources(
        WorkspaceConfig(workspace_name=name, server=server.url), settings
    )
    try:
        artifacts = resources.artifacts
        assert isinstance(artifacts, RestArtifactStore)
        assert artifacts.local_path() is None
        artifacts.put_bytes(b"through the server", "runs/r1/files/outputs/a.txt")
    finally:
        resources.close()
    assert _files_on_disk(served_workspace) == ["runs/r1/files/outputs/a.txt"]
    assert (
        hashlib.sha256(b"through the server").hexdigest()
        == hashlib.sha256(
            (Path(server.home) / name / "artifacts/runs/r1/files/outputs/a.txt").read_bytes()  # type: ignore[attr-defined]
        ).hexdigest()
    )
