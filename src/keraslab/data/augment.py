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
import math
import numbers
import os
from typing import Any

import numpy as np

from keraslab.data import _affine
from keraslab.data.flow import ImageFlow, _as_batch
from keraslab.data.standardize import Standardization
from keraslab.errors import KeraslabValueError

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
    rescale : float, optional
        Multiply pixels by this before standardising (``1 / 255`` maps uint8 to [0, 1]).
    featurewise_center, featurewise_std_normalization : bool
        Subtract the per-channel mean / divide by the per-channel standard deviation of
        the images given to :meth:`fit`.
    samplewise_center, samplewise_std_normalization : bool
        Subtract each image's own mean / divide by its own standard deviation.
    zca_whitening : bool
        Decorrelate pixels with the ZCA matrix of the images given to :meth:`fit`
        (images of at most 4,096 values, e.g. 64 x 64 grey).
    zca_epsilon : float
        Added to the eigenvalues before the inverse square root.

    Notes
    -----
    Output images have the input's shape and dtype; interpolation is bilinear, and
    integer images are rounded. Unlike ``ImageDataGenerator``, float32 output is not
    forced: uint8 stays uint8 (which is what makes PNG caching exact). With any of the
    standardisation settings above, batches are float32, standardised after the random
    transform (as in Keras 2); the disk cache still holds the unstandardised images.

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
        rescale: float | None = None,
        featurewise_center: bool = False,
        samplewise_center: bool = False,
        featurewise_std_normalization: bool = False,
        samplewise_std_normalization: bool = False,
        zca_whitening: bool = False,
        zca_epsilon: float = 1e-6,
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
        if rescale is not None and (isinstance(rescale, bool) or not isinstance(rescale, numbers.Real)
                                    or not math.isfinite(rescale)):
            raise KeraslabValueError(f"rescale must be a finite number or None. Received: rescale={rescale!r}")
        self.standardization = Standardization(
            rescale=None if rescale is None else float(rescale),
            samplewise_center=bool(samplewise_center),
            samplewise_std_normalization=bool(samplewise_std_normalization),
            featurewise_center=bool(featurewise_center),
            featurewise_std_normalization=bool(featurewise_std_normalization),
            zca_whitening=bool(zca_whitening),
            zca_epsilon=_non_negative("zca_epsilon", zca_epsilon),
        )

    def fit(self, x: np.ndarray, augment: bool = False, rounds: int = 1, seed: int | None = None) -> ImageAugmenter:
        """Learn the feature-wise statistics (and ZCA matrix) of training images ``x``.

        Needed before :meth:`flow` when ``featurewise_center``,
        ``featurewise_std_normalization`` or ``zca_whitening`` is on; harmless otherwise
        (Keras 2 code calls it unconditionally).

        Parameters
        ----------
        x : numpy.ndarray
            Images ``(n, h, w)`` or ``(n, h, w, c)``.
        augment : bool
            Compute the statistics over ``rounds`` randomly transformed copies of ``x``.
        rounds : int
        seed : int, optional
            Seed of those transforms.

        Returns
        -------
        ImageAugmenter
            ``self``.

        Examples
        --------
        >>> images = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4, 1)
        >>> augmenter = ImageAugmenter(featurewise_center=True).fit(images)
        >>> float(augmenter.standardize(images).mean())
        0.0
        """
        batch = _as_batch(x)
        if augment:
            if isinstance(rounds, bool) or not isinstance(rounds, numbers.Integral) or rounds < 1:
                raise KeraslabValueError(f"rounds must be a positive integer. Received: rounds={rounds!r}")
            rng = np.random.default_rng(seed)
            batch = np.concatenate([
                self.apply(batch, self.sample_parameters(batch.shape[0], batch.shape[1:3], rng)) for _ in range(rounds)
            ])
        self.standardization.fit(batch)
        return self

    def standardize(self, x: np.ndarray) -> np.ndarray:
        """Apply the rescaling and standardisation settings to images ``(n, h, w[, c])``.

        Returns float32 images of the same shape, or ``x`` unchanged when no setting is on.
        """
        if not self.standardization.active:
            return x
        return self.standardization.apply(_as_batch(x)).reshape(np.shape(x))

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
            **self.standardization.settings(),
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
        self.standardization.check_fitted()
        return ImageFlow(self, x, y, batch_size, shuffle, seed, save_to_dir, save_prefix, save_format, **kwargs)
