"""MNIST helpers for the keras-mnist example: read the IDX files, one-hot encode, download.

Kept as a single file next to ``keras_mnist.py`` (as in the original Azure ML sample) because the
walkthrough copies both into the script folder that is submitted. Standard library and numpy only.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import os
import struct
import tempfile
import urllib.request

import numpy as np

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049

# The original distribution's file names and the md5 of each .gz (see shared/data/mnist/README.md).
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}

# The names the walkthrough saves the files under (as the Azure ML walkthrough does).
WALKTHROUGH_NAMES = {
    "train-images-idx3-ubyte.gz": "train-images.gz",
    "train-labels-idx1-ubyte.gz": "train-labels.gz",
    "t10k-images-idx3-ubyte.gz": "test-images.gz",
    "t10k-labels-idx1-ubyte.gz": "test-labels.gz",
}

_CHUNK = 1 << 20


def load_data(path: str | os.PathLike[str], label: bool = False) -> np.ndarray:
    """Read a gzip-compressed MNIST IDX file.

    Args:
        path: the ``.gz`` file.
        label: False for an images file (magic 2051), True for a labels file (magic 2049).

    Returns:
        Images as a ``(n, rows * cols)`` uint8 array (784 columns for MNIST), or labels as a
        ``(n,)`` int64 vector.

    Raises:
        ValueError: the file is not the expected kind of IDX file, or is truncated.
    """
    expected_magic = LABELS_MAGIC if label else IMAGES_MAGIC
    with gzip.open(path, "rb") as gz:
        (magic,) = struct.unpack(">i", gz.read(4))
        if magic != expected_magic:
            kind = "labels" if label else "images"
            raise ValueError(
                f"{os.fspath(path)} is not an IDX {kind} file: magic number {magic}, "
                f"expected {expected_magic}. Check the file, or the label= argument."
            )
        (n_items,) = struct.unpack(">i", gz.read(4))
        if label:
            shape: tuple[int, ...] = (n_items,)
        else:
            n_rows, n_cols = struct.unpack(">ii", gz.read(8))
            shape = (n_items, n_rows * n_cols)
        size = int(np.prod(shape))
        data = gz.read(size)
    if len(data) != size:
        raise ValueError(
            f"{os.fspath(path)} is truncated: header announces {size} bytes of data, "
            f"found {len(data)}. Download it again."
        )
    array = np.frombuffer(data, dtype=np.uint8).reshape(shape)
    return array.astype(np.int64) if label else array


def one_hot_encode(array: np.ndarray, num_of_classes: int) -> np.ndarray:
    """One-hot encode integer class labels (any shape, flattened) into ``(n, num_of_classes)``."""
    return np.eye(num_of_classes)[np.asarray(array).reshape(-1)]


def find_mnist_files(folder: str | os.PathLike[str]) -> dict[str, str]:
    """Find the four MNIST files under ``folder`` (searched recursively).

    Each file may carry its original name (``train-images-idx3-ubyte.gz``) or the walkthrough's
    name (``train-images.gz``).

    Returns:
        ``{original name: path}`` for the four files.

    Raises:
        FileNotFoundError: a file is missing under either name; the message lists both names.
    """
    folder = os.fspath(folder)
    found: dict[str, str] = {}
    missing: list[str] = []
    for original, short in WALKTHROUGH_NAMES.items():
        for name in (original, short):
            matches = sorted(
                glob.glob(os.path.join(glob.escape(folder), "**", name), recursive=True)
            )
            if matches:
                found[original] = matches[0]
                break
        else:
            missing.append(f"{original} (or {short})")
    if missing:
        raise FileNotFoundError(
            f"MNIST files not found under {folder!r}: {', '.join(missing)}. "
            "Pass --data-folder pointing at a folder holding the four .gz files."
        )
    return found


def file_md5(path: str | os.PathLike[str]) -> str:
    """The hex md5 of a file, read in chunks."""
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_mnist(
    folder: str | os.PathLike[str],
    mirror_url: str,
    names: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> list[str]:
    """Download the four MNIST ``.gz`` files from a mirror and check their md5.

    Each file is fetched from ``<mirror_url>/<original name>`` into a temporary file in
    ``folder`` and renamed to its final name only once its md5 matches, so an interrupted or
    corrupt download never leaves a file under its final name. A file already present with the
    right md5 is not downloaded again.

    Args:
        folder: where to save the files (created if needed).
        mirror_url: base URL of a mirror serving the original file names (``https://``,
            ``http://`` or ``file://``).
        names: ``{original name: local name}``; by default the original names are kept. Pass
            ``WALKTHROUGH_NAMES`` for ``train-images.gz`` etc.
        timeout: seconds to wait for the mirror to answer.

    Returns:
        The paths of the four files.

    Raises:
        ValueError: a downloaded file's md5 differs from the published one.
        urllib.error.URLError: the mirror cannot be reached or does not serve a file.
    """
    folder = os.fspath(folder)
    names = names or {name: name for name in MNIST_MD5}
    os.makedirs(folder, exist_ok=True)
    paths = []
    for original, expected in MNIST_MD5.items():
        target = os.path.join(folder, names.get(original, original))
        paths.append(target)
        if os.path.isfile(target) and file_md5(target) == expected:
            print(f"{target} already present, md5 ok")
            continue
        url = mirror_url.rstrip("/") + "/" + original
        print(f"Downloading {url} to {target} ...")
        _download_verified(url, target, expected, timeout)
    return paths


def _download_verified(url: str, target: str, expected_md5: str, timeout: float) -> None:
    folder = os.path.dirname(target) or "."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(target), suffix=".part")
    try:
        digest = hashlib.md5()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            for chunk in iter(lambda: resp.read(_CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
        actual = digest.hexdigest()
        if actual != expected_md5:
            raise ValueError(
                f"md5 mismatch for {url}: got {actual}, expected {expected_md5}. The mirror "
                f"serves a different or corrupt file; {target} was not written. Check the "
                "mirror URL (it must serve the original MNIST .gz files)."
            )
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the data is not secret
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
