"""Loading the chapter's data sets: MNIST, Fashion-MNIST, scikit-learn's digits, a text corpus.

Image loaders look for their files in this order and use the first place that has them:

1. the explicit ``path=`` (a ``.npz`` with Keras' keys ``x_train, y_train, x_test, y_test``,
   or a folder of the four standard IDX files, plain or ``.gz``);
2. ``$KERASLAB_DATA`` (``mnist.npz`` / ``fashion_mnist.npz``, or a subfolder ``mnist/`` /
   ``fashion-mnist/`` of IDX files);
3. the Keras cache ``$KERAS_HOME/datasets`` (default ``~/.keras/datasets``), where
   ``keras.datasets`` keeps its downloads, so a file Keras fetched is reused;
4. a download from the canonical source into that cache (``keras.utils.get_file``; next
   mirror when one fails), verified by SHA-256.

Local files are validated by shape, dtype and label range rather than by hash: a
rebuilt but equivalent ``mnist.npz`` (such as the project's shared test copy) has
different bytes from Keras' download. A file that fails validation is reported with
:class:`~keraslab.errors.CorruptDataError`, never used.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from keraslab.errors import CorruptDataError, DataNotFoundError, KeraslabValueError

__all__ = ["load_mnist", "load_fashion_mnist", "load_digits", "load_corpus", "Downloader"]

Downloader = Callable[[str, Path], None]
"""Writes the resource at a URL to a file: ``downloader(url, destination)``; raises ``OSError`` when offline."""

_KERAS_MIRROR = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_ZALANDO_MIRROR = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_IDX_PARTS = {  # Keras' array name -> IDX base name
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_KEYS = tuple(_IDX_PARTS)


@dataclass(frozen=True)
class _Remote:
    """One downloadable file: its name in the cache, where to get it, its SHA-256."""

    filename: str
    urls: tuple[str, ...]
    sha256: str


@dataclass(frozen=True)
class _ImageSet:
    """What identifies a 28x28, 10-class image data set on disk and online."""

    title: str
    npz_name: str
    idx_folder: str
    remotes: tuple[_Remote, ...]
    cache_subdir: str = ""
    n_train: int = 60000
    n_test: int = 10000
    image_shape: tuple[int, int] = (28, 28)
    n_classes: int = 10


_MNIST = _ImageSet(
    title="MNIST",
    npz_name="mnist.npz",
    idx_folder="mnist",
    remotes=(
        _Remote(
            "mnist.npz",
            (_KERAS_MIRROR + "mnist.npz",),
            "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
        ),
    ),
)
_FASHION_SHA256 = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
_FASHION = _ImageSet(
    title="Fashion-MNIST",
    npz_name="fashion_mnist.npz",
    idx_folder="fashion-mnist",
    # Keras keeps these four files in <cache>/fashion-mnist/, so the cache is shared with it.
    remotes=tuple(
        _Remote(name, (_KERAS_MIRROR + name, _ZALANDO_MIRROR + name), digest)
        for name, digest in _FASHION_SHA256.items()
    ),
    cache_subdir="fashion-mnist",
)


def keras_cache_dir() -> Path:
    """The folder where ``keras.datasets`` keeps downloads (``$KERAS_HOME/datasets``)."""
    home = os.environ.get("KERAS_HOME") or str(Path.home() / ".keras")
    return Path(home).expanduser() / "datasets"


# ---------------------------------------------------------------------------- readers


def _idx_file(folder: Path, base: str) -> Path | None:
    # The classic site names them "train-images-idx3-ubyte"; some mirrors use a dot.
    for stem in (base, base.replace("-idx", ".idx")):
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                return folder / name
    return None


def _read_idx(path: Path) -> np.ndarray:
    """Read one IDX file of unsigned bytes, checking its header against its size."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            head = f.read(4)
            if len(head) < 4 or head[:3] != b"\x00\x00\x08" or not 1 <= head[3] <= 4:
                raise CorruptDataError(
                    f"{path} is not an IDX file of unsigned bytes (expected a header starting with "
                    f"00 00 08 and 1-4 dimensions). Received: header bytes {head.hex(' ')}"
                )
            ndim = head[3]
            raw_dims = f.read(4 * ndim)
            if len(raw_dims) < 4 * ndim:
                raise CorruptDataError(f"{path} is truncated inside its header. Received: {len(raw_dims)} bytes")
            dims = struct.unpack(f">{ndim}I", raw_dims)
            data = np.empty(int(np.prod(dims)), dtype=np.uint8)
            view, filled = memoryview(data), 0
            while filled < data.size:  # gzip may hand back fewer bytes than asked
                count = f.readinto(view[filled:])
                if not count:
                    break
                filled += count
            extra = f.read(1)
    except (OSError, EOFError, zlib.error) as error:
        raise CorruptDataError(f"{path} cannot be read ({error}); delete it and get a fresh copy.") from error
    if filled < data.size or extra:
        found = "more" if extra else str(filled)
        raise CorruptDataError(
            f"{path} is truncated or has trailing data: its header announces shape {dims} "
            f"({data.size} values) but the file holds {found}. Delete it and get a fresh copy."
        )
    return data.reshape(dims)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [k for k in _KEYS if k not in archive.files]
            if missing:
                raise CorruptDataError(
                    f"{path} lacks the arrays {missing}; expected Keras' keys {list(_KEYS)}. "
                    f"Received: keys {sorted(archive.files)}"
                )
            return {k: archive[k] for k in _KEYS}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as error:
        if isinstance(error, CorruptDataError):
            raise
        raise CorruptDataError(
            f"{path} is not a readable .npz archive ({error}); it may be truncated. "
            "Delete it and get a fresh copy."
        ) from error


def _validate(spec: _ImageSet, arrays: dict[str, np.ndarray], source: Path) -> tuple:
    """Check shapes, dtypes and label range; return Keras' nested tuples."""
    for split, count in (("train", spec.n_train), ("test", spec.n_test)):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        expected = (count,) + spec.image_shape
        if x.shape != expected or x.dtype != np.uint8:
            raise CorruptDataError(
                f"{source} does not hold {spec.title}: x_{split} should be uint8 with shape {expected}. "
                f"Received: dtype {x.dtype}, shape {x.shape}"
            )
        if y.shape != (count,) or not np.issubdtype(y.dtype, np.integer):
            raise CorruptDataError(
                f"{source} does not hold {spec.title}: y_{split} should be integers with shape ({count},). "
                f"Received: dtype {y.dtype}, shape {y.shape}"
            )
        low, high = int(y.min()), int(y.max())
        if low < 0 or high >= spec.n_classes:
            raise CorruptDataError(
                f"{source} does not hold {spec.title}: y_{split} should be labels 0-{spec.n_classes - 1}. "
                f"Received: labels from {low} to {high}"
            )
        arrays[f"y_{split}"] = y.astype(np.uint8, copy=False)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _read_idx_folder(folder: Path) -> dict[str, np.ndarray] | None:
    files = {key: _idx_file(folder, base) for key, base in _IDX_PARTS.items()}
    if not any(files.values()):
        return None
    missing = [_IDX_PARTS[k] for k, f in files.items() if f is None]
    if missing:
        raise DataNotFoundError(
            f"{folder} holds some IDX files but not {missing} (plain or .gz). "
            "Add the missing files or remove the partial set."
        )
    return {key: _read_idx(f) for key, f in files.items()}


# ---------------------------------------------------------------------------- lookup


def _load_from_dir(spec: _ImageSet, folder: Path) -> tuple | None:
    """Load ``spec`` from a search folder (npz file or IDX subfolder), or ``None`` if absent."""
    npz = folder / spec.npz_name
    if npz.is_file():
        return _validate(spec, _read_npz(npz), npz)
    idx_folder = folder / spec.idx_folder
    if idx_folder.is_dir():
        arrays = _read_idx_folder(idx_folder)
        if arrays is not None:
            return _validate(spec, arrays, idx_folder)
    return None


def _load_explicit(spec: _ImageSet, path: Path) -> tuple:
    if path.is_file():
        return _validate(spec, _read_npz(path), path)
    if path.is_dir():
        arrays = _read_idx_folder(path)
        if arrays is not None:
            return _validate(spec, arrays, path)
        found = _load_from_dir(spec, path)
        if found is not None:
            return found
        raise DataNotFoundError(
            f"{path} holds neither the IDX files {list(_IDX_PARTS.values())} (plain or .gz) nor "
            f"{spec.npz_name}. Received: path={str(path)!r}"
        )
    raise DataNotFoundError(
        f"{spec.title}: path= should be a .npz file or a folder of IDX files, but nothing is there. "
        f"Received: path={str(path)!r}"
    )


def _urllib_download(url: str, destination: Path) -> None:  # the name tests replace to forbid downloads
    """The default downloader: ``keras.utils.get_file`` (Keras' own download with its progress bar).

    The checksum is checked by :func:`_fetch` for every downloader, so the same
    :class:`~keraslab.errors.CorruptDataError` comes whoever downloaded.
    """
    import keras

    try:
        got = keras.utils.get_file(fname=destination.name, origin=url, cache_dir=str(destination.parent),
                                   cache_subdir="", force_download=True)
    except Exception as error:  # Keras turns urllib's errors into a plain Exception; the mirror loop wants OSError
        raise OSError(str(error)) from error
    if Path(got) != destination:  # Keras falls back to /tmp/.keras when the folder is not writable
        shutil.move(got, destination)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch(remote: _Remote, folder: Path, downloader: Downloader) -> None:
    """Download one file into ``folder`` through a temporary name, keeping it only if its hash matches."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / remote.filename
    partial = folder / (remote.filename + ".part")
    failures = []
    for url in remote.urls:
        try:
            downloader(url, partial)
        except OSError as error:  # urllib's URLError and socket timeouts are OSErrors
            failures.append(f"{url}: {error}")
            partial.unlink(missing_ok=True)
            continue
        actual = _sha256(partial)
        if actual != remote.sha256:
            partial.unlink(missing_ok=True)
            raise CorruptDataError(
                f"The download of {url} is corrupt or truncated: its SHA-256 should be {remote.sha256}. "
                f"Received: SHA-256 {actual}. Nothing was kept; retry, or place the file yourself."
            )
        os.replace(partial, target)
        return
    raise OSError("; ".join(failures))


def _load_image_set(spec: _ImageSet, path: str | os.PathLike | None, download: bool, downloader: Downloader | None) -> tuple:
    if path is not None:
        return _load_explicit(spec, Path(path).expanduser())
    searched = []
    env = os.environ.get("KERASLAB_DATA")
    if env:
        searched.append(f"$KERASLAB_DATA={env}")
        found = _load_from_dir(spec, Path(env).expanduser())
        if found is not None:
            return found
    else:
        searched.append("$KERASLAB_DATA (not set)")
    cache = keras_cache_dir()
    searched.append(str(cache))
    found = _load_from_dir(spec, cache)
    if found is not None:
        return found
    looked_for = (
        f"{spec.npz_name} or a subfolder {spec.idx_folder}/ of the IDX files "
        f"{', '.join(b + '[.gz]' for b in _IDX_PARTS.values())}"
    )
    if download:
        folder = cache / spec.cache_subdir if spec.cache_subdir else cache
        try:
            for remote in spec.remotes:
                if not (folder / remote.filename).is_file():
                    _fetch(remote, folder, downloader or _urllib_download)
        except OSError as error:
            reason = f"the download failed ({error})"
        else:
            found = _load_from_dir(spec, cache)
            if found is not None:
                return found
            reason = "the downloaded files were not found afterwards"
    else:
        reason = "downloading was disabled (download=False)"
    raise DataNotFoundError(
        f"{spec.title} was not found: looked for {looked_for} in {'; '.join(searched)}, and {reason}. "
        f"Fix: put {spec.npz_name} in one of those folders, set KERASLAB_DATA to the folder that holds it, "
        "or pass path=. Received: path=None"
    )


# ---------------------------------------------------------------------------- public


def load_mnist(
    path: str | os.PathLike | None = None, *, download: bool = True, downloader: Downloader | None = None
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST as ``keras.datasets.mnist.load_data()`` does, from local files when possible.

    Parameters
    ----------
    path : str or path-like, optional
        A ``.npz`` with Keras' keys or a folder of the four IDX files (plain or ``.gz``).
        When given, nothing else is searched.
    download : bool
        Whether to download into the Keras cache when no local copy exists.
    downloader : callable, optional
        ``downloader(url, destination)`` used instead of ``keras.utils.get_file`` (for proxies, mirrors, tests).

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        uint8 arrays of shapes (60000, 28, 28), (60000,), (10000, 28, 28), (10000,).

    Raises
    ------
    DataNotFoundError
        No local copy and the download was impossible; the message lists the places searched.
    CorruptDataError
        A file was found but is truncated or not MNIST, or a download failed its checksum.

    Examples
    --------
    >>> (x_train, y_train), (x_test, y_test) = load_mnist()  # doctest: +SKIP
    >>> x_train.shape, y_train[:3].tolist()  # doctest: +SKIP
    ((60000, 28, 28), [5, 0, 4])
    """
    return _load_image_set(_MNIST, path, download, downloader)


def load_fashion_mnist(
    path: str | os.PathLike | None = None, *, download: bool = True, downloader: Downloader | None = None
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Fashion-MNIST as ``keras.datasets.fashion_mnist.load_data()`` does.

    Same lookup and parameters as :func:`load_mnist`; local names are ``fashion_mnist.npz``
    or a folder ``fashion-mnist/`` of IDX files (the folder Keras downloads into).

    Examples
    --------
    >>> (x_train, y_train), _ = load_fashion_mnist()  # doctest: +SKIP
    """
    return _load_image_set(_FASHION, path, download, downloader)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 digits: ``X`` (1797, 64) float64 in [0, 16] and ``y`` (1797,).

    Needs no files and no network, which makes it the quickest data set for trying things.

    Examples
    --------
    >>> X, y = load_digits()
    >>> X.shape, y.shape
    ((1797, 64), (1797,))
    """
    from sklearn.datasets import load_digits as _sk_load_digits

    X, y = _sk_load_digits(return_X_y=True)
    return X, y


def load_corpus(path: str | os.PathLike, lower: bool = True) -> str:
    """Read a text corpus the way the chapter prepares it for text generation.

    Newlines become spaces and runs of spaces collapse to one; with ``lower=True`` the
    text is lower-cased. A relative path that does not exist is also looked up in
    ``$KERASLAB_DATA`` (so ``load_corpus("sherlock.txt")`` finds the shared copy).

    Parameters
    ----------
    path : str or path-like
        A UTF-8 text file.
    lower : bool
        Lower-case the text.

    Returns
    -------
    str

    Examples
    --------
    >>> text = load_corpus("sherlock.txt")  # doctest: +SKIP
    >>> "  " in text, "\\n" in text  # doctest: +SKIP
    (False, False)
    """
    candidate = Path(path).expanduser()
    places = [str(candidate)]
    env = os.environ.get("KERASLAB_DATA")
    if not candidate.is_file() and not candidate.is_absolute() and env:
        places.append(str(Path(env) / candidate))
        candidate = Path(env) / candidate
    if not candidate.is_file():
        raise DataNotFoundError(
            f"The text corpus was not found; looked in: {', '.join(places)}"
            f"{'' if env else ' ($KERASLAB_DATA is not set)'}. Pass an existing file. Received: path={str(path)!r}"
        )
    try:
        text = candidate.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise KeraslabValueError(
            f"{candidate} is not UTF-8 text ({error}); convert it to UTF-8 first. Received: path={str(path)!r}"
        ) from error
    if lower:
        text = text.lower()
    text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return re.sub(" {2,}", " ", text)
