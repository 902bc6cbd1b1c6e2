"""The chapter's preprocessing steps as small functions.

The chapter casts MNIST to float32, scales pixels to [0, 1] (divide by 255) for dense
models or to [-1, 1] (``np.interp``) for CNNs, flattens images to rows of 784 for
dense models or reshapes them for convolutions, and one-hot encodes the labels.

A correction: the chapter's CNN listings pass ``input_shape=(1, 28, 28)`` (channels
first, from Keras 1 with Theano ordering). Keras 3 is channels-last by default, so the
image shape is ``(28, 28, 1)`` and :func:`to_images` returns ``(n, 28, 28, 1)``.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

import numpy as np

from keraslab.errors import KeraslabValueError

__all__ = ["to_float32", "scale", "to_flat", "to_images", "one_hot"]


def to_float32(x: np.ndarray) -> np.ndarray:
    """Return ``x`` as a float32 array (no copy when it already is one).

    Examples
    --------
    >>> to_float32(np.array([0, 255], dtype=np.uint8)).dtype
    dtype('float32')
    """
    return np.asarray(x, dtype=np.float32)


def scale(
    x: np.ndarray,
    range: tuple[float, float] = (0.0, 1.0),  # noqa: A002  (the name the issue and users expect)
    *,
    source_range: tuple[float, float] = (0.0, 255.0),
) -> np.ndarray:
    """Map values linearly from ``source_range`` to ``range``, as float32.

    ``range=(0, 1)`` is the chapter's ``x / 255``; ``range=(-1, 1)`` is its
    ``np.interp(x, [0, 255], [-1, 1])``. Values outside ``source_range`` are clipped,
    as ``np.interp`` does.

    Parameters
    ----------
    x : array-like
        Pixel values, usually uint8 in [0, 255].
    range : (float, float)
        Target interval ``(low, high)``.
    source_range : (float, float)
        Interval the input values live in.

    Returns
    -------
    numpy.ndarray
        float32 array of the same shape as ``x``.

    Examples
    --------
    >>> scale(np.array([0, 51, 255], dtype=np.uint8), range=(-1, 1)).tolist()
    [-1.0, -0.6000000238418579, 1.0]
    """
    low, high = (float(v) for v in range)
    src_low, src_high = (float(v) for v in source_range)
    if not high > low:
        raise KeraslabValueError(f"range must be (low, high) with high > low. Received: range={range!r}")
    if not src_high > src_low:
        raise KeraslabValueError(
            f"source_range must be (low, high) with high > low. Received: source_range={source_range!r}"
        )
    values = np.clip(np.asarray(x, dtype=np.float32), src_low, src_high)
    # Divide first so that the default is exactly the chapter's ``x / 255``.
    unit = (values - np.float32(src_low)) / np.float32(src_high - src_low)
    if (low, high) == (0.0, 1.0):
        return unit
    return unit * np.float32(high - low) + np.float32(low)


def to_flat(x: np.ndarray) -> np.ndarray:
    """Flatten each sample to one row: ``(n, 28, 28)`` or ``(n, 28, 28, 1)`` -> ``(n, 784)``.

    Examples
    --------
    >>> to_flat(np.zeros((5, 28, 28))).shape
    (5, 784)
    """
    x = np.asarray(x)
    if x.ndim < 2:
        raise KeraslabValueError(
            f"x must hold samples along its first axis (at least 2-D). Received: x with shape {x.shape}"
        )
    return x.reshape(x.shape[0], -1)


def to_images(x: np.ndarray, image_shape: Sequence[int] | None = None) -> np.ndarray:
    """Reshape samples to channels-last images ``(n, height, width, channels)``.

    Parameters
    ----------
    x : array-like
        ``(n, height, width)``, ``(n, height, width, channels)`` or flat rows ``(n, pixels)``.
    image_shape : (int, int) or (int, int, int), optional
        Needed for flat rows that are not square single-channel images, e.g. ``(32, 32, 3)``.
        By default flat rows of ``k * k`` pixels become ``(k, k, 1)`` and 3-D input gets a
        channel axis.

    Returns
    -------
    numpy.ndarray
        ``(n, height, width, channels)``; for MNIST ``(n, 28, 28, 1)``, matching
        ``keras.Input(shape=(28, 28, 1))`` (not the chapter's ``(1, 28, 28)``).

    Examples
    --------
    >>> to_images(np.zeros((5, 784))).shape
    (5, 28, 28, 1)
    """
    x = np.asarray(x)
    n = x.shape[0] if x.ndim else 0
    if image_shape is not None:
        shape = tuple(int(v) for v in image_shape)
        if len(shape) == 2:
            shape += (1,)
        if len(shape) != 3 or int(np.prod(shape)) * n != x.size:
            raise KeraslabValueError(
                "image_shape must be (height, width) or (height, width, channels) whose product is the "
                f"number of values per sample ({x.size // max(n, 1)}). Received: image_shape={image_shape!r}"
            )
        return x.reshape((n,) + shape)
    if x.ndim == 4:
        return x
    if x.ndim == 3:
        return x[..., np.newaxis]
    if x.ndim == 2:
        side = int(round(x.shape[1] ** 0.5))
        if side * side == x.shape[1]:
            return x.reshape(n, side, side, 1)
    raise KeraslabValueError(
        "x must be (n, height, width), (n, height, width, channels) or flat rows of a square image; "
        f"pass image_shape for anything else. Received: x with shape {x.shape}"
    )


def one_hot(y: np.ndarray | Sequence[object]) -> tuple[np.ndarray, np.ndarray]:
    """One-hot encode labels, keeping the original labels.

    Parameters
    ----------
    y : array-like of shape (n,)
        Labels of any sortable type (integers, strings).

    Returns
    -------
    Y : numpy.ndarray
        float32 ``(n, n_classes)`` with a single 1 per row.
    classes : numpy.ndarray
        The sorted distinct labels; ``classes[Y.argmax(axis=1)]`` gives ``y`` back.

    Examples
    --------
    >>> Y, classes = one_hot([5, 0, 4, 0])
    >>> Y.shape, classes.tolist()
    ((4, 3), [0, 4, 5])
    """
    labels = np.asarray(y)
    if labels.ndim != 1:
        raise KeraslabValueError(
            f"y must be a 1-D array of labels. Received: y with shape {labels.shape}"
        )
    classes, codes = np.unique(labels, return_inverse=True)
    encoded = np.zeros((labels.shape[0], classes.shape[0]), dtype=np.float32)
    encoded[builtins.range(labels.shape[0]), codes] = 1.0
    return encoded, classes
