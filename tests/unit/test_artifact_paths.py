import os
import urllib.parse

import pytest

from runyard.artifacts.paths import check_local_tree, check_relpath, join_safe
from runyard.artifacts.store import FsspecArtifactStore
from runyard.errors import InvalidArgument, NotFound

UNSAFE = [
    "../x",
    "a/../../x",
    "a/b/../c",
    "/etc/passwd",
    "C:/x",
    "a\\b",
    "..\\x",
    "a\x00b",
    "%2e%2e/x",
    "%2E%2E%2Fx",
    "%252e%252e/x",
    "%2fetc/passwd",
    "a/%5c/b",
    "",
    ".",
    "line\nbreak",
]


@pytest.mark.parametrize("name", UNSAFE)
def test_unsafe_names_are_refused_with_invalid_argument(name):
    with pytest.raises(InvalidArgument):
        check_relpath(name)


@pytest.mark.parametrize(
    "name,normalised",
    [
        ("a/b.txt", "a/b.txt"),
        ("a//b", "a/b"),
        ("./a/b", "a/b"),
        ("outputs/model/x", "outputs/model/x"),
        ("100%.txt", "100%.txt"),
        ("Accuracy vs Loss.png", "Accuracy vs Loss.png"),
    ],
)
def test_safe_names_are_normalised(name, normalised):
    assert check_relpath(name) == normalised


@pytest.mark.parametrize("char", ["\u202e", "\u202d", "\u2066", "\u2069", "\u200f", "\x9b"])
def test_bidi_and_c1_controls_in_a_name_are_refused(char):
    with pytest.raises(InvalidArgument, match=r"bidirectional|control"):
        check_relpath(f"outputs/evil{char}txt.exe")
    with pytest.raises(InvalidArgument):
        check_relpath(f"outputs/evil{urllib.parse.quote(char)}txt.exe")  # encoded too


@pytest.mark.parametrize("name", ["C:", "c:", "C:/x", "d:/"])
def test_a_windows_drive_is_refused_as_such(name):
    with pytest.raises(InvalidArgument, match="Windows drive"):
        check_relpath(name)


@pytest.mark.parametrize("name", ["a:b", "epoch:3.txt", "runs/a:b/c", "ab:c"])
@pytest.mark.skipif(os.name == "nt", reason="on Windows 'a:b' is drive-relative")
def test_a_colon_in_a_relative_posix_name_is_fine(name):
    assert check_relpath(name) == name


def test_non_string_names_are_refused():
    with pytest.raises(InvalidArgument):
        check_relpath(None)
    with pytest.raises(InvalidArgument):
        check_relpath(b"x")


def test_very_long_names_are_refused():
    with pytest.raises(InvalidArgument, match="limit"):
        check_relpath("a" * 5000)


def test_symlink_inside_root_pointing_outside_is_refused(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    os.symlink(outside, root / "link.txt")
    with pytest.raises(InvalidArgument, match="symlink"):
        join_safe(str(root), "link.txt")


def test_upload_tree_with_escaping_symlink_is_refused(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    os.symlink("/etc", folder / "etc")
    with pytest.raises(InvalidArgument, match="outside"):
        check_local_tree(str(folder))


def test_upload_tree_with_internal_symlink_is_accepted(tmp_path):
    folder = tmp_path / "f"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "x").write_text("1")
    os.symlink(folder / "sub" / "x", folder / "y")
    check_local_tree(str(folder))


def test_local_store_round_trip_and_listing(tmp_path):
    store = FsspecArtifactStore(str(tmp_path / "store"))
    store.put_bytes(b"hello", "a/b.txt")
    store.append_bytes(b" world", "a/b.txt")
    src = tmp_path / "src.bin"
    src.write_bytes(b"\x00" * 10)
    store.put_file(str(src), "c.bin")
    store.copy("c.bin", "d/c.bin")
    assert store.list() == ["a/b.txt", "c.bin", "d/c.bin"]
    assert store.list("a") == ["a/b.txt"]
    assert store.read_bytes("a/b.txt") == b"hello world"
    assert store.size("d/c.bin") == 10
    out = tmp_path / "out" / "x.txt"
    store.get_file("a/b.txt", str(out))
    assert out.read_bytes() == b"hello world"
    store.delete("a")
    assert not store.exists("a/b.txt")


def test_local_store_refuses_escaping_names(tmp_path):
    store = FsspecArtifactStore(str(tmp_path / "store"))
    with pytest.raises(InvalidArgument):
        store.put_bytes(b"x", "../escape.txt")
    assert not (tmp_path / "escape.txt").exists()


def test_missing_files_raise_not_found(tmp_path):
    store = FsspecArtifactStore(str(tmp_path / "store"))
    with pytest.raises(NotFound):
        store.read_bytes("nope")
    with pytest.raises(NotFound):
        store.get_file("nope", str(tmp_path / "x"))
    with pytest.raises(NotFound):
        store.put_file(str(tmp_path / "missing"), "x")


def test_failed_put_leaves_no_half_written_file(tmp_path, monkeypatch):
    store = FsspecArtifactStore(str(tmp_path / "store"))

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(Exception, match="disk full"):
        store.put_bytes(b"x" * 1000, "big.bin")
    monkeypatch.undo()
    assert store.list() == []
    assert os.listdir(tmp_path / "store") == []


def test_unknown_protocol_gives_install_hint(tmp_path):
    from runyard.errors import BackendError

    with pytest.raises(BackendError):
        FsspecArtifactStore("nosuchproto://bucket/x")


def test_symlinked_folder_above_a_new_file_is_refused(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, root / "linked")
    with pytest.raises(InvalidArgument, match="symlink"):
        join_safe(str(root), "linked/new.txt")
    store = FsspecArtifactStore(str(root))
    with pytest.raises(InvalidArgument):
        store.put_bytes(b"x", "linked/new.txt")
    assert list(outside.iterdir()) == []
