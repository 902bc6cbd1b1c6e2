"""The batches of :meth:`keraslab.data.ImageAugmenter.flow`: a ``keras.utils.PyDataset`` of augmented images.

Kept apart from :mod:`keraslab.data.augment` (which re-exports :class:`ImageFlow`) so each
module holds one concept: the augmenter draws and applies transforms, the flow orders
batches, caches them on disk and feeds ``model.fit``.
"""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from keraslab._checks import positive_int
from keraslab.data import _affine
from keraslab.errors import KeraslabTypeError, KeraslabValueError

if TYPE_CHECKING:
    from keraslab.data.augment import ImageAugmenter, TransformParameters

__all__ = ["ImageFlow"]


def _as_batch(x: np.ndarray, name: str = "x") -> np.ndarray:
    """View ``(n, h, w)`` or ``(n, h, w, c)`` images as ``(n, h, w, c)``."""
    array = np.asarray(x)
    if array.ndim == 3:
        return array[..., np.newaxis]
    if array.ndim != 4:
        raise KeraslabValueError(
            f"{name} must hold images shaped (n, height, width) or (n, height, width, channels). "
            f"Received: {name} with shape {array.shape}"
        )
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise KeraslabTypeError(f"{name} must be an integer or float array. Received: dtype {array.dtype}")
    return array


class ImageFlow(keras.utils.PyDataset):
    """Augmented batches of ``x`` (with rows of ``y``), produced on demand; made by :meth:`ImageAugmenter.flow`.

    Each epoch draws a fresh order and fresh transforms from ``(seed, epoch)``, so the same
    seed gives the same batches, and any batch can be computed alone (in any order, by any
    worker). Images keep their shape and dtype.

    Parameters
    ----------
    augmenter : ImageAugmenter
    x : numpy.ndarray
        Images ``(n, h, w)`` or ``(n, h, w, c)``.
    y : array-like, optional
        Targets with ``n`` rows; without them batches hold images only.
    batch_size : int
    shuffle : bool
    seed : int, optional
        ``None`` draws one at construction.
    save_to_dir : path, optional
        The chapter's disk cache. Every augmented image is written there the first time it
        is made and read back afterwards instead of being recomputed, so later epochs (and
        new flows with the same settings) do no transform work. Each image keeps one
        transform, the one epoch 0 gives it; only the order still changes between epochs. Files are named
        ``{save_prefix}{key}_{index:07d}.{save_format}``, where ``key`` fingerprints the
        augmenter, the seed and the data, so a changed setting never reads stale images.
    save_prefix : str
    save_format : {"png", "npy"}
        PNG (lossless) for uint8 images with 1, 3 or 4 channels; NPY for anything else,
        e.g. float images already scaled to [0, 1] or [-1, 1], which PNG cannot hold exactly.
    **kwargs
        ``workers``, ``use_multiprocessing``, ``max_queue_size`` of ``keras.utils.PyDataset``.
    """

    def __init__(
        self,
        augmenter: ImageAugmenter,
        x: np.ndarray,
        y: np.ndarray | None = None,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        save_to_dir: str | os.PathLike | None = None,
        save_prefix: str = "",
        save_format: str = "png",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.augmenter = augmenter
        self.x = _as_batch(x)
        self._squeeze = np.ndim(x) == 3
        self.y = None if y is None else np.asarray(y)
        if self.y is not None and self.y.shape[0] != self.x.shape[0]:
            raise KeraslabValueError(
                f"x and y must have the same number of rows. Received: {self.x.shape[0]} images, {self.y.shape[0]} targets"
            )
        self.batch_size = positive_int("batch_size", batch_size)
        self.shuffle = bool(shuffle)
        self.seed = int(np.random.SeedSequence().entropy % 2**63) if seed is None else int(seed)
        self.epoch = 0
        self._state: tuple[int, np.ndarray | None, TransformParameters, np.ndarray] | None = None
        self.save_to_dir = None if save_to_dir is None else Path(save_to_dir)
        self.save_prefix = str(save_prefix)
        self.save_format = save_format
        if self.save_to_dir is not None:
            self._check_format()
            self.save_to_dir.mkdir(parents=True, exist_ok=True)
            self._cache_key = self._fingerprint()

    # ------------------------------------------------------------------ batches

    def __len__(self) -> int:
        return math.ceil(self.x.shape[0] / self.batch_size)

    def on_epoch_end(self) -> None:
        self.epoch += 1

    def _epoch_state(self) -> tuple[np.ndarray | None, TransformParameters, np.ndarray]:
        """Order, parameters and matrices of the current epoch, drawn once from ``(seed, epoch)``.

        Drawing and converting the whole epoch's parameters at once keeps per-batch work
        to the resampling itself.
        """
        if self._state is None or self._state[0] != self.epoch:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(self.x.shape[0]) if self.shuffle else None
            # With a cache, an image's transform is fixed: the one it gets in epoch 0. Separate
            # streams for order and parameters make a cached flow's first epoch equal an uncached one's.
            parameter_epoch = 0 if self.save_to_dir is not None else self.epoch
            parameter_rng = np.random.default_rng([self.seed, parameter_epoch, 1])
            parameters = self.augmenter.sample_parameters(self.x.shape[0], self.x.shape[1:3], parameter_rng)
            self._state = (self.epoch, order, parameters, self.augmenter.matrices(parameters, self.x.shape[1:3]))
        return self._state[1:]

    def sample_indices(self, index: int) -> np.ndarray:
        """Row numbers of ``x`` in batch ``index`` of the current epoch."""
        if not 0 <= index < len(self):
            raise IndexError(f"batch index must be from 0 to {len(self) - 1}. Received: index={index}")
        order = self._epoch_state()[0]
        stop = min((index + 1) * self.batch_size, self.x.shape[0])
        return np.arange(index * self.batch_size, stop) if order is None else order[index * self.batch_size : stop]

    def __getitem__(self, index: int) -> tuple[np.ndarray, ...] | np.ndarray:
        indices = self.sample_indices(index)
        if self.save_to_dir is None:
            images = self._transform(indices)
        else:
            images = self._cached_images(indices)
        images = self.augmenter.standardize(images)
        if self._squeeze:
            images = images[..., 0]
        return images if self.y is None else (images, self.y[indices])

    def _transform(self, indices: np.ndarray) -> np.ndarray:
        matrices = self._epoch_state()[2]
        augmenter = self.augmenter
        return _affine.affine_resample(self.x[indices], matrices[indices], augmenter.fill_mode, augmenter.cval)

    # ------------------------------------------------------------------ disk cache

    def _check_format(self) -> None:
        if self.save_format == "npy":
            return
        if self.save_format != "png":
            raise KeraslabValueError(f"save_format must be 'png' or 'npy'. Received: save_format={self.save_format!r}")
        if self.x.dtype != np.uint8 or self.x.shape[3] not in (1, 3, 4):
            raise KeraslabValueError(
                "PNG caching keeps images exactly only for uint8 images with 1, 3 or 4 channels; use "
                "save_format='npy' for other images (or cache the uint8 images and scale afterwards). "
                f"Received: dtype {self.x.dtype} with {self.x.shape[3]} channels"
            )

    def _fingerprint(self) -> str:
        import joblib

        # Content, not memory layout: a Fortran-ordered copy of the same images shares the cache.
        settings = {"augmenter": self.augmenter.get_config(), "seed": self.seed}
        return joblib.hash((settings, np.ascontiguousarray(self.x)))[:12]

    def cache_path(self, sample: int) -> Path:
        """Where the augmented copy of ``x[sample]`` is cached."""
        if self.save_to_dir is None:
            raise KeraslabValueError("This flow has no cache; pass save_to_dir to flow(). Received: save_to_dir=None")
        return self.save_to_dir / f"{self.save_prefix}{self._cache_key}_{sample:07d}.{self.save_format}"

    def _cached_images(self, indices: np.ndarray) -> np.ndarray:
        images = np.empty((indices.shape[0],) + self.x.shape[1:], dtype=self.x.dtype)
        missing = []
        for position, sample in enumerate(indices):
            path = self.cache_path(int(sample))
            if path.is_file():
                images[position] = self._read(path)
            else:
                missing.append(position)
        if missing:
            rows = indices[missing]
            fresh = self._transform(rows)
            images[missing] = fresh
            for sample, image in zip(rows, fresh):
                self._write(self.cache_path(int(sample)), image)
        return images

    def _read(self, path: Path) -> np.ndarray:
        if self.save_format == "npy":
            return np.load(path, allow_pickle=False)
        from PIL import Image

        with Image.open(path) as picture:
            return np.asarray(picture).reshape(self.x.shape[1:])

    def _write(self, path: Path, image: np.ndarray) -> None:
        # Write to a temporary name and rename: a reader (another worker) never sees half a file.
        partial = path.with_name(path.name + ".part")
        if self.save_format == "npy":
            with open(partial, "wb") as f:
                np.save(f, image, allow_pickle=False)
        else:
            from PIL import Image

            Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(partial, format="PNG")
        os.replace(partial, path)
