"""A registration killed (SIGKILL) while its files upload leaves no version behind: the
version stays pending, invisible, and the next registration gets the next number."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from runyard.core import Model
from runyard.errors import NotFound

# The child registers a folder of 20 files; after the 3rd upload it says so and hangs
# until it is killed (a hook on the artifact store, so the kill lands mid-registration).
_CHILD = textwrap.dedent(
    """
    import sys, time
    from runyard.core import Model, Workspace

    ws = Workspace.get("test-ws", path=sys.argv[1])
    artifacts = ws.resources.artifacts
    put_file, uploaded = artifacts.put_file, []

    def slow_put_file(local_path, name):
        put_file(local_path, name)
        uploaded.append(name)
        if len(uploaded) == 3:
            open(sys.argv[3], "w").close()
            time.sleep(600)

    artifacts.put_file = slow_put_file
    Model.register(ws, sys.argv[2], "big")
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_registration_killed_mid_upload_leaves_no_visible_version(ws, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    for i in range(20):
        (folder / f"part{i:02d}.bin").write_bytes(os.urandom(1024))
    marker = tmp_path / "uploading"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, ws.resources.config.path, str(folder), str(marker)],
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            assert time.monotonic() < deadline, "the child never started uploading"
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        child.kill()
        if child.stderr:
            child.stderr.close()

    with pytest.raises(NotFound, match="'big' not found"):
        Model(ws, "big")
    assert Model.list(ws, name="big") == []
    assert [m.version for m in ws.resources.store.reap_pending_model_versions(0.0)] == [1]

    again = Model.register(ws, str(folder), "big")
    assert again.version == 2
    assert Model(ws, "big").version == 2
    downloaded = again.download(str(tmp_path / "dl"))
    assert sorted(os.listdir(downloaded)) == sorted(os.listdir(folder))
