"""Loaders: lookup order, IDX and npz formats, validation of local files, verified downloads, offline errors.

No test downloads anything: an autouse fixture replaces the real downloader with one that fails.
"""

from __future__ import annotations

import dataclasses
import doctest
import gzip
import hashlib
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from keraslab.data import datasets
from keraslab.data.datasets import load_corpus, load_digits, load_fashion_mnist, load_mnist
from keraslab.errors import CorruptDataError, DataNotFoundError, KeraslabError

FIRST_LABELS = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


@pytest.fixture(scope="session")
def shared_npz():
    """The shared mnist.npz, resolved before any test hides $KERASLAB_DATA."""
    folder = os.environ.get("KERASLAB_DATA")
    if not folder:
        pytest.skip("KERASLAB_DATA is not set; set it to the folder holding mnist.npz")
    return Path(folder) / "mnist.npz"


@pytest.fixture(autouse=True)
def _never_download(monkeypatch):
    def refuse(url, destination):
        raise AssertionError(f"a test tried to download {url}")

    monkeypatch.setattr(datasets, "_urllib_download", refuse)


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No $KERASLAB_DATA, and an empty home whose Keras cache is tmp_path/home/.keras/datasets."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.delenv("KERASLAB_DATA", raising=False)
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(home))
    return home / ".keras" / "datasets"


@pytest.fixture
def small(monkeypatch, mnist_arrays):
    """Shrink the expected MNIST / Fashion-MNIST sizes to 600 + 100 images, so format and
    lookup tests handle small files; returns the matching arrays."""
    for name in ("_MNIST", "_FASHION"):
        monkeypatch.setattr(datasets, name, dataclasses.replace(getattr(datasets, name), n_train=600, n_test=100))
    return {
        "x_train": mnist_arrays["x_train"][:600],
        "y_train": mnist_arrays["y_train"][:600],
        "x_test": mnist_arrays["x_test"][:100],
        "y_test": mnist_arrays["y_test"][:100],
    }


def offline(url, destination):
    raise OSError("network is unreachable")


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    opener = gzip.open if path.suffix == ".gz" else open
    kwargs = {"compresslevel": 1} if path.suffix == ".gz" else {}
    with opener(path, "wb", **kwargs) as f:
        f.write(header)
        f.write(np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def write_idx_folder(folder: Path, arrays: dict, gz: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for key, base in datasets._IDX_PARTS.items():
        write_idx(folder / (base + (".gz" if gz else "")), arrays[key])
    return folder


def assert_is_mnist(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    n_train, n_test = len(arrays["y_train"]), len(arrays["y_test"])
    assert x_train.shape == (n_train, 28, 28) and x_test.shape == (n_test, 28, 28)
    assert y_train.shape == (n_train,) and y_test.shape == (n_test,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert y_train[:10].tolist() == FIRST_LABELS
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])


def test_load_mnist_from_keraslab_data(mnist_arrays, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))  # an empty Keras cache: the env folder must be used
    monkeypatch.delenv("KERAS_HOME", raising=False)
    result = load_mnist(downloader=offline)
    assert_is_mnist(result, mnist_arrays)
    assert np.bincount(result[0][1]).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert result[0][0].flags.writeable


def test_explicit_npz_path_wins_and_is_not_searched_further(mnist_arrays, shared_npz, isolated):
    assert_is_mnist(load_mnist(path=shared_npz), mnist_arrays)
    with pytest.raises(DataNotFoundError, match="nothing is there.*nope.npz"):
        load_mnist(path=isolated / "nope.npz", downloader=offline)


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
def test_idx_folder_explicit_and_via_env(mnist_arrays, isolated, tmp_path, monkeypatch, gz):
    folder = write_idx_folder(tmp_path / "raw", mnist_arrays, gz)
    assert_is_mnist(load_mnist(path=folder), mnist_arrays)
    if gz:
        return  # the lookup below does not depend on compression; spare a second full read
    # $KERASLAB_DATA looks in a subfolder named after the data set.
    (tmp_path / "env").mkdir()
    shutil.move(str(folder), str(tmp_path / "env" / "mnist"))
    monkeypatch.setenv("KERASLAB_DATA", str(tmp_path / "env"))
    assert_is_mnist(load_mnist(downloader=offline), mnist_arrays)


def test_keras_cache_is_searched_after_env(small, isolated, tmp_path, monkeypatch):
    isolated.mkdir(parents=True)
    np.savez(isolated / "mnist.npz", **small)
    monkeypatch.setenv("KERASLAB_DATA", str(tmp_path / "empty"))
    assert_is_mnist(load_mnist(downloader=offline), small)
    # KERAS_HOME moves the cache, as it does for keras.datasets.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "elsewhere"))
    with pytest.raises(DataNotFoundError):
        load_mnist(downloader=offline)


def test_fashion_mnist_reads_the_folder_keras_downloads_into(small, isolated):
    # Fashion-MNIST has MNIST's format and file names; Keras keeps it in <cache>/fashion-mnist/.
    write_idx_folder(isolated / "fashion-mnist", small, gz=True)
    (x_train, y_train), (x_test, _) = load_fashion_mnist(downloader=offline)
    np.testing.assert_array_equal(x_test, small["x_test"])
    assert y_train[:10].tolist() == FIRST_LABELS
    with pytest.raises(DataNotFoundError, match="MNIST was not found"):
        load_mnist(downloader=offline)  # the MNIST loader does not take Fashion-MNIST's folder


def test_offline_and_not_found_names_the_file_and_the_places(isolated):
    with pytest.raises(DataNotFoundError) as caught:
        load_mnist(downloader=offline)
    message = str(caught.value)
    assert "mnist.npz" in message and "train-images-idx3-ubyte" in message
    assert "$KERASLAB_DATA (not set)" in message and str(isolated) in message
    assert "network is unreachable" in message and "KERASLAB_DATA" in message
    assert isinstance(caught.value, KeraslabError) and isinstance(caught.value, FileNotFoundError)
    with pytest.raises(DataNotFoundError, match="download=False"):
        load_mnist(download=False)
    with pytest.raises(DataNotFoundError, match="fashion_mnist.npz"):
        load_fashion_mnist(downloader=offline)
    assert not any(isolated.glob("**/*.part"))


def test_download_is_verified_and_lands_in_the_keras_cache(small, isolated, monkeypatch, tmp_path):
    shared = tmp_path / "served.npz"
    np.savez(shared, **small)
    calls = []

    def fake(url, destination):
        calls.append(url)
        shutil.copy(shared, destination)

    # The served file is not Keras' download, so its checksum is rejected and nothing is kept.
    with pytest.raises(CorruptDataError, match="SHA-256 should be 731c5ac6"):
        load_mnist(downloader=fake)
    assert calls == ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"]
    assert not isolated.exists() or not any(isolated.iterdir())
    # With the pinned hash set to the served file's, the same download is accepted and cached.
    digest = hashlib.sha256(shared.read_bytes()).hexdigest()
    remote = dataclasses.replace(datasets._MNIST.remotes[0], sha256=digest)
    monkeypatch.setattr(datasets, "_MNIST", dataclasses.replace(datasets._MNIST, remotes=(remote,)))
    assert_is_mnist(load_mnist(downloader=fake), small)
    assert (isolated / "mnist.npz").is_file() and len(calls) == 2
    assert_is_mnist(load_mnist(downloader=offline), small)  # second call: from the cache


def test_download_falls_back_to_the_next_mirror(small, isolated, monkeypatch, tmp_path):
    write_idx_folder(tmp_path / "src", small, gz=True)
    hashes = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / "src").iterdir()}
    remotes = tuple(dataclasses.replace(r, sha256=hashes[r.filename]) for r in datasets._FASHION.remotes)
    monkeypatch.setattr(datasets, "_FASHION", dataclasses.replace(datasets._FASHION, remotes=remotes))
    tried = []

    def first_mirror_down(url, destination):
        tried.append(url)
        if "googleapis" in url:
            raise OSError("503")
        shutil.copy(tmp_path / "src" / url.rsplit("/", 1)[1], destination)

    (x_train, _), _ = load_fashion_mnist(downloader=first_mirror_down)
    np.testing.assert_array_equal(x_train, small["x_train"])
    assert len(tried) == 8 and sorted(p.name for p in (isolated / "fashion-mnist").iterdir()) == sorted(hashes)


def test_truncated_npz_is_reported(small, tmp_path):
    np.savez_compressed(tmp_path / "good.npz", **small)
    assert_is_mnist(load_mnist(path=tmp_path / "good.npz"), small)
    blob = (tmp_path / "good.npz").read_bytes()
    truncated = tmp_path / "mnist.npz"
    truncated.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(CorruptDataError, match="not a readable .npz"):
        load_mnist(path=truncated)
    corrupted = bytearray(blob)
    corrupted[len(blob) // 3 : len(blob) // 3 + 64] = bytes(64)
    (tmp_path / "bad.npz").write_bytes(bytes(corrupted))
    with pytest.raises(CorruptDataError):
        load_mnist(path=tmp_path / "bad.npz")


def test_a_corrupt_file_in_a_search_folder_is_reported_not_skipped(tmp_path, isolated, monkeypatch):
    (tmp_path / "mnist.npz").write_bytes(b"PK\x03\x04 not really a zip")
    monkeypatch.setenv("KERASLAB_DATA", str(tmp_path))
    with pytest.raises(CorruptDataError, match=str(tmp_path / "mnist.npz")):
        load_mnist(downloader=offline)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.update(x_train=a["x_train"][:100]), "x_train should be uint8 with shape \\(600, 28, 28\\)"),
        (lambda a: a.update(x_test=a["x_test"].astype(np.float32)), "Received: dtype float32"),
        (lambda a: a.update(y_train=a["y_train"].astype(np.int64) + 5), "labels from 5 to 14"),
        (lambda a: a.pop("y_test"), "lacks the arrays \\['y_test'\\]"),
    ],
    ids=["shape", "dtype", "labels", "keys"],
)
def test_npz_with_wrong_content_is_reported(small, tmp_path, change, message):
    arrays = dict(small)
    change(arrays)
    np.savez(tmp_path / "m.npz", **arrays)
    with pytest.raises(CorruptDataError, match=message):
        load_mnist(path=tmp_path / "m.npz")


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
def test_truncated_idx_file_is_reported(small, tmp_path, gz):
    folder = write_idx_folder(tmp_path / "idx", small, gz)
    name = "t10k-images-idx3-ubyte" + (".gz" if gz else "")
    blob = (folder / name).read_bytes()
    (folder / name).write_bytes(blob[: len(blob) - 500])
    with pytest.raises(CorruptDataError, match="t10k-images-idx3-ubyte"):
        load_mnist(path=folder)


def test_idx_header_and_partial_folder_errors(small, tmp_path):
    folder = write_idx_folder(tmp_path / "idx", small, gz=False)
    (folder / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x0d\x01" + b"\x00" * 8)
    with pytest.raises(CorruptDataError, match="00 00 0d 01"):
        load_mnist(path=folder)
    (folder / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(DataNotFoundError, match="train-labels-idx1-ubyte"):
        load_mnist(path=folder)
    write_idx(folder / "train-labels-idx1-ubyte", np.zeros(3, np.uint8))
    with pytest.raises(CorruptDataError, match="y_train should be integers with shape \\(600,\\)"):
        load_mnist(path=folder)


def test_load_digits_needs_no_files():
    X, y = load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.min() == 0 and X.max() == 16 and sorted(set(y.tolist())) == list(range(10))


def test_load_corpus_cleans_like_the_chapter(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("The  Red-Headed\nLeague\r\n\r\nby   Doyle \n", encoding="utf-8")
    assert load_corpus(path) == "the red-headed league by doyle "
    assert load_corpus(path, lower=False) == "The Red-Headed League by Doyle "
    with pytest.raises(DataNotFoundError, match="missing.txt"):
        load_corpus(tmp_path / "missing.txt")


def test_load_corpus_finds_sherlock_in_keraslab_data():
    text = load_corpus("sherlock.txt")
    assert text.startswith(" the complete sherlock holmes")
    assert "\n" not in text and "  " not in text and text == text.lower()
    assert len(text) == 2942664


def test_docstring_examples_run():
    assert doctest.testmod(datasets).failed == 0
