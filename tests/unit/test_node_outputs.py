"""Keeping ./outputs (node/outputs.py): one file the store cannot take costs only itself."""

from __future__ import annotations

from runyard.artifacts.store import FsspecArtifactStore
from runyard.errors import BackendError, NotFound
from runyard.node.outputs import upload_outputs


class _Refusing(FsspecArtifactStore):
    """A local store that fails to take the files whose names end as given."""

    def __init__(self, root: str, failures: dict[str, Exception]) -> None:
        super().__init__(root)
        self.failures = failures

    def put_file(self, local_path: str, name: str) -> None:
        for suffix, error in self.failures.items():
            if name.endswith(suffix):
                raise error
        super().put_file(local_path, name)


def test_files_the_store_cannot_take_are_reported_and_the_rest_is_kept(tmp_path):
    outputs = tmp_path / "wd" / "outputs"
    outputs.mkdir(parents=True)
    for name in ("a.bin", "gone.bin", "full.bin", "z.bin"):
        (outputs / name).write_bytes(b"x")
    store = _Refusing(
        str(tmp_path / "store"),
        {
            "gone.bin": NotFound("File to upload 'gone.bin' does not exist."),
            "full.bin": BackendError("Could not store 'full.bin': No space left on device"),
        },
    )
    report = upload_outputs(store, "run-1", str(tmp_path / "wd"))
    assert report.uploaded == ["outputs/a.bin", "outputs/z.bin"]
    assert report.refused == [
        "full.bin: Could not store 'full.bin': No space left on device",
        "gone.bin: File to upload 'gone.bin' does not exist.",
    ]
