"""A team server's datastores through its API (``/datastores/{name}/files``): a client of
the server uploads and downloads a datastore's files with its token alone (a file larger
than the server's body limit as a resumable upload), lists them with sizes, and the
datastore's files never open from the client's side as a folder; a run's token reads them
but neither changes them nor sees the datastore's storage options."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from runyard.core import Workspace
from runyard.server.identity import RunScope, open_identity_store

#: Larger than the session server's 1 MB body limit: sent as a resumable upload.
BIG = 1_500_000


@pytest.fixture
def client(served_workspace, tmp_path: Path, monkeypatch):
    server, name = served_workspace
    folder = tmp_path / "client" / ".runyard"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(
        json.dumps({"workspace_name": name, "server": server.url}), encoding="utf-8"
    )
    monkeypatch.setenv("RUNYARD_TOKEN", str(server.token))
    ws = Workspace.from_config(str(tmp_path / "client"))
    yield server, name, ws
    ws.close()


def test_a_client_uploads_lists_and_downloads_datastore_files_through_the_api(
    client, tmp_path: Path
) -> None:
    server, name, ws = client
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "small.txt").write_text("hello")
    big = os.urandom(BIG)
    (data / "sub" / "big.bin").write_bytes(big)
    ds = ws.get_default_datastore()
    assert not ds.is_local  # its files come through the server, even on its machine
    ds.upload(src_dir=str(data), target_path="set", show_progress=False)

    # The files are in the datastore's storage on the server's side.
    record = ws.resources.store.get_datastore(None)  # over the API
    on_server = Path(record.url.removeprefix("file://"))
    assert (on_server / "set" / "sub" / "big.bin").read_bytes() == big

    listing = httpx.get(
        f"{server.url}/api/v1/workspaces/{name}/datastores/{record.name}/files",
        params={"prefix": "set", "detail": "true"},
        headers=server.headers,
    ).json()
    assert listing["files"] == ["set/small.txt", "set/sub/big.bin"]
    assert [(n, s) for n, s, _tag in listing["entries"]] == [
        ("set/small.txt", 5),
        ("set/sub/big.bin", BIG),
    ]

    assert ds.download(str(tmp_path / "back"), prefix="set", show_progress=False) == 2
    assert (tmp_path / "back" / "set" / "sub" / "big.bin").read_bytes() == big
    # An upload again skips what is there (the listing through the server says so).
    ds.upload(src_dir=str(data), target_path="set", show_progress=False)

    missing = httpx.get(
        f"{server.url}/api/v1/workspaces/{name}/datastores/nothing/files/a.txt",
        headers=server.headers,
    )
    assert missing.status_code == 404
    assert "nothing" in missing.json()["error"]["message"]
    outside = httpx.get(
        f"{server.url}/api/v1/workspaces/{name}/datastores/{record.name}/files/..%2Fx",
        headers=server.headers,
    )
    assert outside.status_code in (400, 404)


def test_a_runs_token_reads_datastore_files_but_not_their_storage_options(
    client, tmp_path: Path
) -> None:
    server, name, ws = client
    with httpx.Client(base_url=server.url, headers=server.headers) as admin:
        saved = admin.post(
            f"/api/v1/workspaces/{name}/datastores",
            json={
                "datastore": {
                    "name": "secretive",
                    "url": str(tmp_path / "store"),
                    "kind": "local",
                    "options": {"key": "s3cr3t"},
                }
            },
        )
        assert saved.status_code == 204, saved.text
        put = admin.put(
            f"/api/v1/workspaces/{name}/datastores/secretive/files/a.txt", content=b"abc"
        )
        assert put.status_code == 201, put.text
        assert admin.get(f"/api/v1/workspaces/{name}/datastores/secretive").json()["options"]
    exp_run = _a_run(ws)
    identity = open_identity_store(server.home)
    try:
        token = identity.create_token(
            "admin", "run", run_scope=RunScope(name, exp_run), expires_in_s=600
        ).secret
    finally:
        identity.close()
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as node:
        seen = node.get(f"/api/v1/workspaces/{name}/datastores/secretive").json()
        assert seen["options"] == {}
        listed = node.get(f"/api/v1/workspaces/{name}/datastores").json()["datastores"]
        assert all(d["options"] == {} for d in listed)
        got = node.get(f"/api/v1/workspaces/{name}/datastores/secretive/files/a.txt")
        assert got.status_code == 200 and got.content == b"abc"
        assert "s3cr3t" not in got.text
        # Reading only: a datastore is the team's, a run writes its own files.
        put = node.put(f"/api/v1/workspaces/{name}/datastores/secretive/files/b.txt", content=b"x")
        assert put.status_code == 403 and "./outputs" in put.json()["error"]["message"]
        gone = node.delete(f"/api/v1/workspaces/{name}/datastores/secretive/files/a.txt")
        assert gone.status_code == 403
    assert not (tmp_path / "store" / "b.txt").exists()
    assert (tmp_path / "store" / "a.txt").read_bytes() == b"abc"


def _a_run(ws: Workspace) -> str:
    from runyard.core import Experiment

    run = Experiment(ws, "datastores").start_logging()
    run.complete()
    return str(run.id)
