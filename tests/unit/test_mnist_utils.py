"""The keras-mnist example's MNIST helpers, checked against the facts in shared/data/mnist."""

from __future__ import annotations

import gzip
import importlib.util
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
MNIST_DIR = REPO.parent / "shared" / "data" / "mnist"
# Published in shared/data/mnist/README.md.
TRAIN_LABEL_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

needs_mnist = pytest.mark.skipif(
    not (MNIST_DIR / "t10k-labels-idx1-ubyte.gz").is_file(),
    reason=f"MNIST files not found at {MNIST_DIR}",
)


def _load_utils():
    path = REPO / "examples" / "keras-mnist" / "utils.py"
    spec = importlib.util.spec_from_file_location("keras_mnist_example_utils", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


utils = _load_utils()


@pytest.fixture(scope="module")
def mnist():
    files = utils.find_mnist_files(MNIST_DIR)
    return {
        "train_images": utils.load_data(files["train-images-idx3-ubyte.gz"]),
        "train_labels": utils.load_data(files["train-labels-idx1-ubyte.gz"], label=True),
        "test_images": utils.load_data(files["t10k-images-idx3-ubyte.gz"]),
        "test_labels": utils.load_data(files["t10k-labels-idx1-ubyte.gz"], label=True),
    }


@needs_mnist
def test_images_are_flattened_uint8_with_the_published_mean_pixel(mnist):
    assert mnist["train_images"].shape == (60000, 784)
    assert mnist["test_images"].shape == (10000, 784)
    assert mnist["train_images"].dtype == np.uint8
    assert mnist["train_images"].mean() == pytest.approx(33.318421, abs=1e-6)
    assert mnist["test_images"].mean() == pytest.approx(33.791224, abs=1e-6)


@needs_mnist
def test_labels_are_int_vectors_with_the_published_counts(mnist):
    train, test = mnist["train_labels"], mnist["test_labels"]
    assert train.shape == (60000,) and test.shape == (10000,)
    assert np.issubdtype(train.dtype, np.integer)
    assert np.bincount(train).tolist() == TRAIN_LABEL_COUNTS
    assert np.bincount(test).tolist() == TEST_LABEL_COUNTS


@needs_mnist
def test_loading_a_labels_file_as_images_names_the_magic_number():
    with pytest.raises(ValueError, match="magic number 2049, expected 2051"):
        utils.load_data(MNIST_DIR / "t10k-labels-idx1-ubyte.gz")


def test_a_truncated_file_is_refused(tmp_path):
    path = tmp_path / "short-labels.gz"
    with gzip.open(path, "wb") as gz:
        gz.write(struct.pack(">ii", 2049, 10) + bytes(range(4)))
    with pytest.raises(ValueError, match="truncated"):
        utils.load_data(path, label=True)


def test_one_hot_encode_round_trips_through_argmax():
    labels = np.array([3, 0, 9, 3])
    encoded = utils.one_hot_encode(labels, 10)
    assert encoded.shape == (4, 10)
    assert encoded.sum(axis=1).tolist() == [1, 1, 1, 1]
    assert encoded.argmax(axis=1).tolist() == labels.tolist()
    assert utils.one_hot_encode(labels.reshape(-1, 1), 10).tolist() == encoded.tolist()


@pytest.mark.parametrize("names", ["original", "walkthrough"])
def test_find_mnist_files_accepts_both_naming_schemes(tmp_path, names):
    nested = tmp_path / "mnist"
    nested.mkdir()
    for original, short in utils.WALKTHROUGH_NAMES.items():
        (nested / (original if names == "original" else short)).write_bytes(b"")
    found = utils.find_mnist_files(tmp_path)
    assert sorted(found) == sorted(utils.MNIST_MD5)
    assert all(Path(p).parent == nested for p in found.values())


def test_find_mnist_files_lists_what_is_missing(tmp_path):
    (tmp_path / "train-images.gz").write_bytes(b"")
    with pytest.raises(
        FileNotFoundError, match=r"t10k-images-idx3-ubyte\.gz \(or test-images\.gz\)"
    ):
        utils.find_mnist_files(tmp_path)


# The mirror tests use a file:// URL to a local folder: no network.


@needs_mnist
def test_download_from_a_mirror_checks_md5_and_renames(tmp_path):
    dest = tmp_path / "data"
    paths = utils.download_mnist(dest, MNIST_DIR.as_uri(), names=utils.WALKTHROUGH_NAMES)
    assert sorted(p.name for p in dest.iterdir()) == sorted(utils.WALKTHROUGH_NAMES.values())
    assert [Path(p).name for p in paths] == list(utils.WALKTHROUGH_NAMES.values())
    assert utils.find_mnist_files(dest)["t10k-labels-idx1-ubyte.gz"] == str(dest / "test-labels.gz")
    assert utils.load_data(dest / "test-labels.gz", label=True).shape == (10000,)


@needs_mnist
def test_a_corrupt_mirror_file_is_refused_and_leaves_nothing(tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(MNIST_DIR, mirror)
    corrupt = mirror / "t10k-labels-idx1-ubyte.gz"
    corrupt.chmod(0o644)
    data = bytearray(corrupt.read_bytes())
    data[100] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    dest = tmp_path / "data"
    with pytest.raises(ValueError, match=r"md5 mismatch for .*t10k-labels-idx1-ubyte\.gz"):
        utils.download_mnist(dest, mirror.as_uri() + "/")
    assert not (dest / "t10k-labels-idx1-ubyte.gz").exists()
    assert not list(dest.glob("*.part"))


def test_a_present_file_with_the_right_md5_is_not_downloaded_again(tmp_path, monkeypatch):
    dest = tmp_path / "data"
    dest.mkdir()
    for name in utils.MNIST_MD5:
        (dest / name).write_bytes(b"")
    empty_md5 = utils.file_md5(dest / name)
    monkeypatch.setattr(utils, "MNIST_MD5", dict.fromkeys(utils.MNIST_MD5, empty_md5))

    def fail(*args, **kwargs):
        raise AssertionError("downloaded although present")

    monkeypatch.setattr(utils, "_download_verified", fail)
    paths = utils.download_mnist(dest, "https://mirror.invalid/mnist")
    assert len(paths) == 4
