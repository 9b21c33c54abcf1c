"""What a submitted script leaves in ./outputs is kept, even when some of it cannot be:
a link out of the folder is refused and reported, the rest is uploaded, and the run keeps
the status its script earned."""

from __future__ import annotations

import pytest
from submitting import submit_script

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _scratch(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNYARD_SCRATCH", str(tmp_path / "scratch"))


def test_a_link_out_of_outputs_is_reported_and_everything_else_is_kept(ws, here, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.txt").write_text("not for the run")
    body = f"""
        import os
        os.makedirs("outputs/nested", exist_ok=True)
        open("outputs/model.bin", "wb").write(b"weights")
        open("outputs/nested/config.json", "w").write("{{}}")
        os.symlink({str(elsewhere)!r}, "outputs/data")
        os.symlink({str(elsewhere / "secret.txt")!r}, "outputs/secret.txt")
        os.symlink("model.bin", "outputs/alias.bin")  # inside: kept
        print("trained")
    """
    run = submit_script(ws, "local", tmp_path, body, here, experiment="outputs")
    details = run.wait_for_completion(timeout_seconds=120)
    assert details["status"] == "Completed"
    names = run.get_file_names()
    for kept in ("outputs/model.bin", "outputs/nested/config.json", "outputs/alias.bin"):
        assert kept in names
    assert not any(n.startswith(("outputs/data", "outputs/secret")) for n in names)
    run.download_file("outputs/model.bin", str(tmp_path / "model.bin"))
    assert (tmp_path / "model.bin").read_bytes() == b"weights"
    warnings = details.get("warnings", [])
    assert "not kept from ./outputs: data: a symlink to a folder" in warnings
    assert any("secret.txt" in w and "outside ./outputs" in w for w in warnings), warnings
    executor_log = run._read_file("runyard-logs/executor.txt").decode()
    assert "not kept from ./outputs: data: a symlink to a folder" in executor_log
