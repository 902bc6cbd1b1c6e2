"""Random image augmentation that replaces Keras 2's removed ``ImageDataGenerator``.

:class:`ImageAugmenter` keeps the old constructor arguments and semantics (rotation in
degrees, shifts as fractions of the size or in pixels, zoom factors, shear in degrees,
random flips, the four fill modes). Parameter sampling and application are separate
steps: :meth:`ImageAugmenter.sample_parameters` draws one set of numbers per image,
:meth:`ImageAugmenter.apply` resamples a whole batch at once with a per-image affine
matrix (see :mod:`keraslab.data._affine`), so there is no Python loop over images.

:meth:`ImageAugmenter.flow` returns a ``keras.utils.PyDataset``: the chapter's
``model.fit_generator(datagen.flow(X, y, batch_size), samples_per_epoch=len(X))``
becomes ``model.fit(augmenter.flow(X, y, batch_size), epochs=...)`` (optionally with
``steps_per_epoch=len(X) // batch_size``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import numbers
import os
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keraslab.data import _affine
from keraslab.errors import KeraslabTypeError, KeraslabValueError

__all__ = ["ImageAugmenter", "TransformParameters", "ImageFlow"]


@dataclasses.dataclass(frozen=True)
class TransformParameters:
    """Random transform parameters for ``n`` images, one entry per image.

    Attributes
    ----------
    rotation : numpy.ndarray
        Degrees, counter-clockwise.
    shift_rows, shift_cols : numpy.ndarray
        Pixels.
    shear : numpy.ndarray
        Degrees.
    zoom_rows, zoom_cols : numpy.ndarray
        Factors; above 1 zooms out (Keras' convention).
    flip_horizontal, flip_vertical : numpy.ndarray
        Booleans.
    """

    rotation: np.ndarray
    shift_rows: np.ndarray
    shift_cols: np.ndarray
    shear: np.ndarray
    zoom_rows: np.ndarray
    zoom_cols: np.ndarray
    flip_horizontal: np.ndarray
    flip_vertical: np.ndarray

    def __len__(self) -> int:
        return int(self.rotation.shape[0])

    def take(self, indices: np.ndarray) -> TransformParameters:
        """The parameters of a subset of the images."""
        return TransformParameters(**{f.name: getattr(self, f.name)[indices] for f in dataclasses.fields(self)})


def _non_negative(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0 or math.isinf(value):
        raise KeraslabValueError(f"{name} must be a finite number >= 0. Received: {name}={value!r}")
    return float(value)


def _zoom_interval(zoom_range: float | tuple[float, float]) -> tuple[float, float]:
    if isinstance(zoom_range, numbers.Real) and not isinstance(zoom_range, bool):
        zoom = _non_negative("zoom_range", zoom_range)
        if zoom >= 1:
            raise KeraslabValueError(
                "zoom_range as one number z means factors in [1 - z, 1 + z], so it must be below 1; "
                f"pass (low, high) for other intervals. Received: zoom_range={zoom_range!r}"
            )
        return 1.0 - zoom, 1.0 + zoom
    try:
        low, high = (float(v) for v in zoom_range)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        low = high = float("nan")
    if not 0 < low <= high < math.inf:
        raise KeraslabValueError(
            f"zoom_range must be a number in [0, 1) or a pair (low, high) with 0 < low <= high. Received: zoom_range={zoom_range!r}"
        )
    return low, high


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


class ImageAugmenter:
    """Random affine augmentation of image batches, with the arguments of Keras 2's ``ImageDataGenerator``.

    Parameters
    ----------
    rotation_range : float
        Rotate by a uniform angle in [-rotation_range, rotation_range] degrees.
    width_shift_range, height_shift_range : float
        Shift by a uniform amount in [-r, r]: a fraction of the width/height when r < 1,
        pixels otherwise.
    zoom_range : float or (float, float)
        Zoom factors drawn in [1 - z, 1 + z] (or [low, high]) for each axis independently.
    shear_range : float
        Shear angle drawn in [-shear_range, shear_range] degrees.
    horizontal_flip, vertical_flip : bool
        Flip half of the images left-right / top-bottom.
    fill_mode : {"nearest", "constant", "reflect", "wrap"}
        How to fill pixels that come from outside the image: repeat the edge; ``cval``;
        mirror (``dcba|abcd|dcba``); tile (``abcd|abcd|abcd``).
    cval : float
        Fill value for ``fill_mode="constant"``.

    Notes
    -----
    Output images have the input's shape and dtype; interpolation is bilinear, and
    integer images are rounded. Unlike ``ImageDataGenerator``, float32 output is not
    forced: uint8 stays uint8 (which is what makes PNG caching exact).

    Examples
    --------
    >>> augmenter = ImageAugmenter(rotation_range=15, width_shift_range=0.1, zoom_range=0.1)
    >>> images = np.zeros((4, 28, 28, 1), dtype=np.uint8)
    >>> augmenter.random_transform(images[0], seed=0).shape
    (28, 28, 1)
    >>> flow = augmenter.flow(images, np.arange(4), batch_size=2, seed=0)
    >>> len(flow), flow[0][0].shape
    (2, (2, 28, 28, 1))
    """

    def __init__(
        self,
        rotation_range: float = 0,
        width_shift_range: float = 0,
        height_shift_range: float = 0,
        zoom_range: float | tuple[float, float] = 0,
        shear_range: float = 0,
        horizontal_flip: bool = False,
        vertical_flip: bool = False,
        fill_mode: str = "nearest",
        cval: float = 0.0,
    ) -> None:
        self.rotation_range = _non_negative("rotation_range", rotation_range)
        self.width_shift_range = _non_negative("width_shift_range", width_shift_range)
        self.height_shift_range = _non_negative("height_shift_range", height_shift_range)
        self.zoom_range = _zoom_interval(zoom_range)
        self.shear_range = _non_negative("shear_range", shear_range)
        self.horizontal_flip = bool(horizontal_flip)
        self.vertical_flip = bool(vertical_flip)
        if fill_mode not in _affine.FILL_MODES:
            raise KeraslabValueError(f"fill_mode must be one of {_affine.FILL_MODES}. Received: fill_mode={fill_mode!r}")
        self.fill_mode = fill_mode
        if isinstance(cval, bool) or not isinstance(cval, numbers.Real) or not math.isfinite(cval):
            raise KeraslabValueError(f"cval must be a finite number. Received: cval={cval!r}")
        self.cval = float(cval)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (``ImageAugmenter(**config)`` rebuilds it)."""
        return {
            "rotation_range": self.rotation_range,
            "width_shift_range": self.width_shift_range,
            "height_shift_range": self.height_shift_range,
            "zoom_range": list(self.zoom_range),
            "shear_range": self.shear_range,
            "horizontal_flip": self.horizontal_flip,
            "vertical_flip": self.vertical_flip,
            "fill_mode": self.fill_mode,
            "cval": self.cval,
        }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"ImageAugmenter({args})"

    def sample_parameters(self, n: int, image_shape: tuple[int, int], rng: np.random.Generator) -> TransformParameters:
        """Draw transform parameters for ``n`` images of ``image_shape = (height, width)``.

        Every parameter is drawn even when its range is zero (it is then exactly the
        identity), so the random stream, and hence the result for a given seed, does not
        depend on which transforms are enabled.
        """
        height, width = image_shape

        def shift(fraction: float, size: int) -> np.ndarray:
            limit = fraction * size if fraction < 1 else fraction
            return rng.uniform(-limit, limit, n)

        return TransformParameters(
            rotation=rng.uniform(-self.rotation_range, self.rotation_range, n),
            shift_rows=shift(self.height_shift_range, height),
            shift_cols=shift(self.width_shift_range, width),
            shear=rng.uniform(-self.shear_range, self.shear_range, n),
            zoom_rows=rng.uniform(*self.zoom_range, n),
            zoom_cols=rng.uniform(*self.zoom_range, n),
            flip_horizontal=(rng.random(n) < 0.5) & self.horizontal_flip,
            flip_vertical=(rng.random(n) < 0.5) & self.vertical_flip,
        )

    def matrices(self, parameters: TransformParameters, image_shape: tuple[int, int]) -> np.ndarray:
        """The ``(n, 2, 3)`` output-to-input affine matrices that ``parameters`` describe."""
        return _affine.transform_matrices(
            parameters.rotation,
            parameters.shift_rows,
            parameters.shift_cols,
            parameters.shear,
            parameters.zoom_rows,
            parameters.zoom_cols,
            flip_rows=parameters.flip_vertical,
            flip_cols=parameters.flip_horizontal,
            image_shape=image_shape,
        )

    def apply(self, images: np.ndarray, parameters: TransformParameters) -> np.ndarray:
        """Transform a batch ``(n, h, w[, c])`` with one set of parameters per image.

        Returns an array of the same shape and dtype.
        """
        batch = _as_batch(images, "images")
        if len(parameters) != batch.shape[0]:
            raise KeraslabValueError(
                f"parameters must have one entry per image ({batch.shape[0]}). Received: {len(parameters)} entries"
            )
        matrices = self.matrices(parameters, batch.shape[1:3])
        return _affine.affine_resample(batch, matrices, self.fill_mode, self.cval).reshape(np.shape(images))

    def random_transform(self, image: np.ndarray, seed: int | np.random.Generator | None = None) -> np.ndarray:
        """One randomly transformed copy of a single image ``(h, w)`` or ``(h, w, c)``.

        Examples
        --------
        >>> image = np.arange(16, dtype=np.uint8).reshape(4, 4)
        >>> flipped = ImageAugmenter(horizontal_flip=True).random_transform(image, seed=1)
        >>> flipped.shape, flipped.dtype
        ((4, 4), dtype('uint8'))
        """
        array = np.asarray(image)
        if array.ndim not in (2, 3):
            raise KeraslabValueError(
                f"image must be one image shaped (height, width) or (height, width, channels). Received: shape {array.shape}"
            )
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        parameters = self.sample_parameters(1, array.shape[:2], rng)
        return self.apply(array[np.newaxis], parameters)[0]

    def flow(
        self,
        x: np.ndarray,
        y: np.ndarray | None = None,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        save_to_dir: str | os.PathLike | None = None,
        save_prefix: str = "",
        save_format: str = "png",
        **kwargs: Any,
    ) -> ImageFlow:
        """Batches of augmented images (and their labels) for ``model.fit``.

        Keras 2's ``fit_generator(flow, samples_per_epoch=len(x))`` is now
        ``model.fit(flow, epochs=...)``; ``steps_per_epoch`` counts batches, at most
        ``len(flow)``. See :class:`ImageFlow` for the parameters.
        """
        return ImageFlow(self, x, y, batch_size, shuffle, seed, save_to_dir, save_prefix, save_format, **kwargs)


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
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise KeraslabValueError(f"batch_size must be a positive integer. Received: batch_size={batch_size!r}")
        self.batch_size = int(batch_size)
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
        digest = hashlib.sha256()
        settings = {"augmenter": self.augmenter.get_config(), "seed": self.seed, "shape": self.x.shape, "dtype": str(self.x.dtype)}
        digest.update(json.dumps(settings, sort_keys=True).encode())
        digest.update(np.ascontiguousarray(self.x).data)
        return digest.hexdigest()[:12]

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
