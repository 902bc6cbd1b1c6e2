"""Synthetic 64x64 grayscale images of five shapes, generated batch by batch (notebook 4).

Each shape is a few strokes (or a ring) whose points, thickness and radius are randomly
perturbed, so no two images are alike. Strokes are rasterised from the exact distance of
every pixel centre to the geometry with a one-pixel soft edge: sub-pixel changes in the
points change the image, and drawing needs only NumPy.
"""

from __future__ import annotations

import numbers
from typing import Any

import keras
import numpy as np

from keraslab._checks import positive_int
from keraslab.errors import KeraslabValueError

__all__ = ["SHAPES", "draw_shape", "ShapesDataset"]

SHAPES: tuple[str, ...] = ("z", "plus", "three_lines", "square_u", "circle")
"""Shape names; a shape's label is its position in this tuple."""

# Polylines in unit coordinates (x to the right, y downwards), before perturbation.
_STROKES: dict[str, tuple[tuple[tuple[float, float], ...], ...]] = {
    "z": (((0.2, 0.2), (0.8, 0.2), (0.2, 0.8), (0.8, 0.8)),),
    "plus": (((0.5, 0.15), (0.5, 0.85)), ((0.15, 0.5), (0.85, 0.5))),
    "three_lines": (((0.25, 0.2), (0.25, 0.8)), ((0.5, 0.2), (0.5, 0.8)), ((0.75, 0.2), (0.75, 0.8))),
    "square_u": (((0.2, 0.2), (0.2, 0.8), (0.8, 0.8), (0.8, 0.2)),),
}
_JITTER = 0.06  # largest move of a point, as a fraction of the image size
_THICKNESS = (0.05, 0.08)  # stroke width range, as a fraction of the image size
_RADIUS = (0.22, 0.36)  # circle radius range, as a fraction of the image size


def _segment_distance(points: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Distance from each point (p, 2) to the nearest of the segments (k, 2)-(k, 2)."""
    direction = ends - starts
    lengths = np.maximum((direction**2).sum(axis=1), 1e-12)
    offsets = points[np.newaxis, :, :] - starts[:, np.newaxis, :]
    t = np.clip((offsets * direction[:, np.newaxis, :]).sum(axis=2) / lengths[:, np.newaxis], 0.0, 1.0)
    nearest = starts[:, np.newaxis, :] + t[:, :, np.newaxis] * direction[:, np.newaxis, :]
    return np.sqrt(((points[np.newaxis] - nearest) ** 2).sum(axis=2)).min(axis=0)


def draw_shape(kind: str | int, rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """Draw one randomly perturbed shape.

    Parameters
    ----------
    kind : str or int
        A name from :data:`SHAPES` or its index (the label).
    rng : numpy.random.Generator
        Source of the perturbations.
    size : int
        Width and height in pixels (at least 8).

    Returns
    -------
    numpy.ndarray
        float32 ``(size, size)``, background 0, strokes up to 1.

    Examples
    --------
    >>> image = draw_shape("circle", np.random.default_rng(0))
    >>> image.shape, image.dtype, float(image.max())
    ((64, 64), dtype('float32'), 1.0)
    """
    if isinstance(kind, numbers.Integral) and not isinstance(kind, bool) and 0 <= kind < len(SHAPES):
        kind = SHAPES[int(kind)]
    if kind not in SHAPES:
        raise KeraslabValueError(f"kind must be one of {SHAPES} or an index 0-{len(SHAPES) - 1}. Received: kind={kind!r}")
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 8:
        raise KeraslabValueError(f"size must be an integer of at least 8 pixels. Received: size={size!r}")
    centres = (np.indices((size, size))[::-1].reshape(2, -1).T + 0.5) / size  # (x, y) of every pixel
    half_width = rng.uniform(*_THICKNESS) / 2
    if kind == "circle":
        centre = 0.5 + rng.uniform(-_JITTER, _JITTER, 2)
        radius = rng.uniform(*_RADIUS)
        distance = np.abs(np.sqrt(((centres - centre) ** 2).sum(axis=1)) - radius)
    else:
        starts, ends = [], []
        for stroke in _STROKES[kind]:
            points = np.asarray(stroke) + rng.uniform(-_JITTER, _JITTER, (len(stroke), 2))
            starts.append(points[:-1])
            ends.append(points[1:])
        distance = _segment_distance(centres, np.concatenate(starts), np.concatenate(ends))
    # Full intensity inside the stroke, a linear ramp over the one pixel at its edge.
    intensity = np.clip((half_width - distance) * size + 0.5, 0.0, 1.0)
    return intensity.reshape(size, size).astype(np.float32)


class ShapesDataset(keras.utils.PyDataset):
    """Batches of shape images with integer labels 0-4, generated on demand.

    Batch ``i`` depends only on ``(seed, i)``, so every epoch sees the same images, any
    batch can be regenerated alone (in any order, by any worker), and a second dataset
    with another seed makes a disjoint validation or test set.

    Parameters
    ----------
    batch_size : int
        Images per batch.
    batches_per_epoch : int
        The dataset's length.
    image_size : int
        Width and height of the images.
    seed : int, optional
        ``None`` draws one at construction.
    **kwargs
        ``workers``, ``use_multiprocessing``, ``max_queue_size`` of ``keras.utils.PyDataset``.

    Examples
    --------
    >>> data = ShapesDataset(batch_size=8, batches_per_epoch=2, seed=0)
    >>> x, y = data[0]
    >>> x.shape, y.shape, len(data)
    ((8, 64, 64, 1), (8,), 2)
    """

    def __init__(
        self,
        batch_size: int = 32,
        batches_per_epoch: int = 100,
        image_size: int = 64,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.batch_size = positive_int("batch_size", batch_size)
        self.batches_per_epoch = positive_int("batches_per_epoch", batches_per_epoch)
        draw_shape(SHAPES[0], np.random.default_rng(0), image_size)  # validates image_size early
        self.image_size = int(image_size)
        self.seed = int(np.random.SeedSequence().entropy % 2**63) if seed is None else int(seed)

    @property
    def num_classes(self) -> int:
        return len(SHAPES)

    def __len__(self) -> int:
        return self.batches_per_epoch

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if not 0 <= index < self.batches_per_epoch:
            raise IndexError(f"batch index must be from 0 to {self.batches_per_epoch - 1}. Received: index={index}")
        rng = np.random.default_rng([self.seed, index])
        labels = rng.integers(0, len(SHAPES), self.batch_size)
        images = np.stack([draw_shape(int(label), rng, self.image_size) for label in labels])
        return images[..., np.newaxis], labels.astype(np.int32)
