"""Attacks on the artifact routes over the real HTTP server (the session's server process):
path traversal in every spelling, symlinks out of the workspace, artifact locations that
name the server's files or internal URLs, oversized bodies and bad ranges. Each is refused
with a clear error and nothing is written, deleted or read outside the workspace's files.

Requests go out through ``http.client``, which sends a path exactly as written (httpx
would normalise ``..`` away before the server ever saw it).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest

from server_process import ServerProcess


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]

    def error(self) -> dict[str, str]:
        error: dict[str, str] = json.loads(self.body)["error"]
        return error


def send(
    server: ServerProcess,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> Answer:
    """One request with ``path`` sent byte for byte as given."""
    parsed = urllib.parse.urlsplit(server.url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        sent = {"Content-Length": str(len(body)), **server.headers, **(headers or {})}
        for key, value in sent.items():
            conn.putheader(key, value)
        # The server may answer (413) before taking the whole body: read its answer anyway.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.endheaders(body if body else None)
        response = conn.getresponse()
        return Answer(response.status, response.read(), dict(response.getheaders()))
    finally:
        conn.close()


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its content's hash (what an attack must not change)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            found[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


TRAVERSALS = {
    "dot-dot": "../../escape.txt",
    "dot-dot deep": "a/b/../../../../escape.txt",
    "dot-dot to the database": "../runyard.db",
    "encoded %2e%2e": "%2e%2e/%2e%2e/escape.txt",
    "encoded %2E%2E": "%2E%2E/escape.txt",
    "encoded slash ..%2f": "..%2f..%2fescape.txt",
    "double-encoded %252e%252e": "%252e%252e/%252e%252e/escape.txt",
    "double-encoded slash ..%252f": "..%252f..%252fescape.txt",
    "triple-encoded %25252e": "%25252e%25252e/escape.txt",
    "backslash": "..\\..\\escape.txt",
    "encoded backslash %5c": "..%5c..%5cescape.txt",
    "absolute": "/etc/passwd",
    "absolute encoded %2f": "%2fetc%2fpasswd",
    "windows drive": "C:/Windows/win.ini",
    "NUL": "escape.txt%00.png",
    "NUL before dot-dot": "a%00/../../escape.txt",
    "overlong": "a/" * 600 + "escape.txt",
    "reserved temporary name": "x.ry~tmp-0123456789ab",
    "bidirectional override": "evil%E2%80%AEtxt.exe",
}

# (method, path template under /artifacts, body): every route that takes a path.
ROUTES = [
    ("GET", "/{p}", b""),
    ("HEAD", "/{p}", b""),
    ("PUT", "/{p}", b"attack"),
    ("PUT", "/{p}?upload_id=" + "0" * 32 + "&offset=0", b"attack"),
    ("DELETE", "/{p}", b""),
    ("POST", "/{p}/append", b"attack"),
    ("POST", "/{p}/uploads", b""),
    ("POST", "/{p}/commit?upload_id=" + "0" * 32 + "&size=0", b""),
    ("POST", "/{p}/abort?upload_id=" + "0" * 32, b""),
    ("POST", "/{p}/copy?source=safe.txt", b""),
    ("POST", "/copied.txt/copy?source={p}", b""),
    ("GET", "?prefix={p}", b""),
]


def test_traversal_in_every_spelling_is_refused_on_every_route_and_nothing_changes(
    served_workspace: tuple[ServerProcess, str],
) -> None:
    server, name = served_workspace
    home = Path(server.home)  # type: ignore[attr-defined]
    root = home.parent
    base = f"/api/v1/workspaces/{name}/artifacts"
    assert send(server, "PUT", f"{base}/safe.txt", b"safe").status == 201
    before = snapshot(root)
    refused = []
    for label, path in TRAVERSALS.items():
        for method, template, body in ROUTES:
            answer = send(server, method, base + template.format(p=path), body)
            where = f"{method} {template} with {label} ({path[:40]!r})"
            assert answer.status == 400, f"{where}: {answer.status} {answer.body[:200]!r}"
            if method != "HEAD":
                assert answer.error()["code"] == "invalid_argument", where
                assert str(root) not in answer.body.decode(), f"{where} leaks a server path"
            refused.append(where)
    assert len(refused) == len(TRAVERSALS) * len(ROUTES)
    after = snapshot(root)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    # The access log grows; nothing else may change anywhere under the server's folders.
    assert {k for k in changed if not k.endswith(".log") and "runyard.db" not in k} == set()
    assert (home / name / "runyard.db").is_file()
    assert not list(root.rglob("escape.txt*"))
    listing = json.loads(send(server, "GET", base).body)["files"]
    assert listing == ["safe.txt"]


def test_a_workspace_name_that_climbs_is_not_served(
    served_workspace: tuple[ServerProcess, str],
) -> None:
    server, _ = served_workspace
    for workspace in ["..", "..%2f..%2ftmp", "%2e%2e", "a%00b"]:
        answer = send(server, "PUT", f"/api/v1/workspaces/{workspace}/artifacts/x.txt", b"x")
        assert answer.status in (400, 404), (workspace, answer.status, answer.body)
    assert not list(Path(server.home).parent.rglob("x.txt"))  # type: ignore[attr-defined]


def test_a_symlink_out_of_the_workspace_is_neither_followed_nor_written_through(
    served_workspace: tuple[ServerProcess, str], tmp_path: Path
) -> None:
    server, name = served_workspace
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("the server's secret")
    files = Path(server.home) / name / "artifacts"  # type: ignore[attr-defined]
    files.mkdir(parents=True, exist_ok=True)
    os.symlink(outside, files / "link")
    os.symlink(outside / "secret.txt", files / "secret-link.txt")
    base = f"/api/v1/workspaces/{name}/artifacts"
    for method, path, body in [
        ("GET", "/link/secret.txt", b""),
        ("GET", "/secret-link.txt", b""),
        ("HEAD", "/link/secret.txt", b""),
        ("PUT", "/link/planted.txt", b"planted"),
        ("POST", "/link/planted.txt/append", b"planted"),
        ("POST", "/link/planted.txt/uploads", b""),
        ("POST", "/copied.txt/copy?source=secret-link.txt", b""),
        ("DELETE", "/link", b""),
        ("DELETE", "/link/secret.txt", b""),
    ]:
        answer = send(server, method, base + path, body)
        assert answer.status == 400, (method, path, answer.status, answer.body)
        assert b"the server's secret" not in answer.body
        assert str(outside).encode() not in answer.body  # no server path in the error
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "the server's secret"
    assert not (files / "copied.txt").exists()


def test_artifact_locations_cannot_point_at_server_files_or_internal_urls(
    served_workspace: tuple[ServerProcess, str],
) -> None:
    server, name = served_workspace
    home = Path(server.home)  # type: ignore[attr-defined]
    # A workspace's storage is the server's choice: no field of the create call sets it.
    for field, value in [
        ("artifact_uri", "file:///etc"),
        ("artifact_uri", "http://169.254.169.254/latest/meta-data"),
        ("path", "/etc"),
        ("tracking_uri", "sqlite:////etc/passwd"),
        ("server", "http://127.0.0.1:1"),
        ("storage_options", {"endpoint_url": "http://127.0.0.1:9000"}),
    ]:
        body = json.dumps({"name": "located", field: value}).encode()
        answer = send(
            server, "POST", "/api/v1/workspaces", body, {"Content-Type": "application/json"}
        )
        assert answer.status == 400, (field, answer.status, answer.body)
        assert field in answer.error()["message"]
    assert not (home / "located").exists()
    # URLs given as file names are names inside the workspace: nothing is fetched or read.
    base = f"/api/v1/workspaces/{name}/artifacts"
    for source in [
        "file:///etc/passwd",
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:5432/",
        "s3://bucket/key",
    ]:
        quoted = urllib.parse.quote(source, safe="")
        copied = send(server, "POST", f"{base}/copied.txt/copy?source={quoted}")
        assert copied.status == 404, (source, copied.status, copied.body)
        read = send(server, "GET", f"{base}/{urllib.parse.quote(source, safe='/:')}")
        assert read.status == 404, (source, read.status, read.body)
        assert b"root:" not in read.body + copied.body
    planted = send(server, "PUT", f"{base}/file:///etc/planted.txt", b"planted")
    assert planted.status == 201
    assert not os.path.exists("/etc/planted.txt")
    stored = [p for p in (home / name / "artifacts").rglob("planted.txt")]
    assert len(stored) == 1 and stored[0].read_bytes() == b"planted"


def test_a_body_over_the_limit_is_refused_with_413_and_nothing_is_written(
    served_workspace: tuple[ServerProcess, str],
) -> None:
    server, name = served_workspace
    base = f"/api/v1/workspaces/{name}/artifacts"
    begun = json.loads(send(server, "POST", f"{base}/up.bin/uploads").body)
    limit = begun["max_chunk_bytes"]  # the session server's --max-body-mb 1
    assert limit == 1024 * 1024
    too_big = b"z" * (limit + 1)
    assert send(server, "PUT", f"{base}/exact.bin", b"e" * limit).status == 201
    whole = send(server, "PUT", f"{base}/big.bin", too_big)
    # The server's body limit answers first: its message says to send files in chunks.
    assert whole.status == 413 and "files in chunks" in whole.error()["message"]
    appended = send(server, "POST", f"{base}/log.txt/append", too_big)
    assert appended.status == 413
    upload = begun["upload_id"]
    assert send(server, "PUT", f"{base}/up.bin?upload_id={upload}&offset=0", b"ok").status == 200
    chunk = send(server, "PUT", f"{base}/up.bin?upload_id={upload}&offset=2", too_big)
    assert chunk.status == 413
    state = json.loads(send(server, "GET", f"{base}/up.bin?upload_id={upload}").body)
    assert state["offset"] == 2  # the refused chunk left nothing behind
    # A body that declares no length (chunked transfer) is cut off at the limit too.
    streamed = send_chunked(server, f"{base}/streamed.bin", too_big)
    assert streamed == 413
    listing = json.loads(send(server, "GET", base).body)["files"]
    assert listing == ["exact.bin"]
    files = Path(server.home) / name / "artifacts"  # type: ignore[attr-defined]
    on_disk = sorted(p.name for p in files.iterdir() if p.is_file())
    assert on_disk == ["exact.bin", f"up.bin.ry~tmp-{upload}"]  # the upload, 2 bytes
    assert (files / f"up.bin.ry~tmp-{upload}").stat().st_size == 2
    assert send(server, "POST", f"{base}/up.bin/abort?upload_id={upload}").status == 204
    assert sorted(p.name for p in files.iterdir() if p.is_file()) == ["exact.bin"]


def send_chunked(server: ServerProcess, path: str, body: bytes) -> int:
    """PUT ``body`` with ``Transfer-Encoding: chunked`` (no Content-Length); the status."""
    parsed = urllib.parse.urlsplit(server.url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    try:
        pieces = (body[i : i + 65536] for i in range(0, len(body), 65536))
        conn.request("PUT", path, body=pieces, headers=server.headers, encode_chunked=True)
        status: int = conn.getresponse().status
        return status
    finally:
        conn.close()


@pytest.mark.parametrize(
    "wanted",
    ["bytes=10-", "bytes=100-200", "bytes=5-2", "bytes=0-1,3-4", "items=0-1", "bytes=-0", "junk"],
)
def test_a_range_that_cannot_be_served_is_416_with_the_size(
    served_workspace: tuple[ServerProcess, str], wanted: str
) -> None:
    server, name = served_workspace
    base = f"/api/v1/workspaces/{name}/artifacts"
    send(server, "PUT", f"{base}/ten.txt", b"0123456789")
    answer = send(server, "GET", f"{base}/ten.txt", headers={"Range": wanted})
    assert answer.status == 416, answer.body
    assert answer.headers["content-range"] == "bytes */10"
    assert answer.error()["code"] == "invalid_argument"


def test_ranges_are_served_as_206_with_content_range(
    served_workspace: tuple[ServerProcess, str],
) -> None:
    server, name = served_workspace
    base = f"/api/v1/workspaces/{name}/artifacts"
    send(server, "PUT", f"{base}/ten.txt", b"0123456789")
    for wanted, content, content_range in [
        ("bytes=2-4", b"234", "bytes 2-4/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),
        ("bytes=-3", b"789", "bytes 7-9/10"),
        ("bytes=8-100", b"89", "bytes 8-9/10"),
        ("bytes=-50", b"0123456789", "bytes 0-9/10"),
    ]:
        answer = send(server, "GET", f"{base}/ten.txt", headers={"Range": wanted})
        assert (answer.status, answer.body) == (206, content), wanted
        assert answer.headers["content-range"] == content_range
        assert answer.headers["content-length"] == str(len(content))


def test_downloads_are_attachments_a_browser_never_renders(
    served_workspace: tuple[ServerProcess, str],
) -> None:
    server, name = served_workspace
    base = f"/api/v1/workspaces/{name}/artifacts"
    page = b"<html><script>alert(document.cookie)</script></html>"
    send(server, "PUT", f"{base}/report.html", page)
    answer = send(server, "GET", f"{base}/report.html")
    assert answer.status == 200 and answer.body == page
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["content-disposition"].startswith("attachment")
