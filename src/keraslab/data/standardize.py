"""Feature-wise and sample-wise standardisation of images, as Keras 2's ``ImageDataGenerator`` had it.

:class:`ImageAugmenter` owns one :class:`Standardization`; its ``fit(x)`` computes the
statistics here and its flows apply them to every augmented batch. The order of the
steps is Keras 2's: rescale, sample-wise centring, sample-wise scaling, feature-wise
centring, feature-wise scaling, ZCA whitening.

Feature-wise statistics are per channel (mean and standard deviation over images, rows
and columns), as in Keras 2; ZCA whitening works on whole flattened images, so its
matrix is ``(h*w*c, h*w*c)``: 784 x 784 for MNIST (2.4 MB, one SVD of well under a
second), but 12,288 x 12,288 for 64 x 64 RGB images (600 MB), which is why it is
opt-in and refuses images above :data:`ZCA_MAX_FEATURES` features.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from keraslab.errors import KeraslabNotFittedError, KeraslabValueError

__all__ = ["Standardization", "ZCA_MAX_FEATURES"]

# 64 x 64 x 1 images: a 4096 x 4096 float32 matrix (64 MB) whose SVD takes seconds.
ZCA_MAX_FEATURES = 4096
# Keras 2's guard against dividing by a zero standard deviation.
_EPSILON = 1e-6


@dataclasses.dataclass
class Standardization:
    """Settings and fitted statistics of image standardisation.

    Attributes
    ----------
    rescale : float or None
        Multiply pixels by this first (``1 / 255`` maps uint8 images to [0, 1]).
    samplewise_center, samplewise_std_normalization : bool
        Subtract each image's mean / divide by its standard deviation.
    featurewise_center, featurewise_std_normalization : bool
        Subtract the per-channel mean / divide by the per-channel standard deviation
        of the data given to :meth:`fit`.
    zca_whitening : bool
        Decorrelate pixels with the ZCA matrix of the data given to :meth:`fit`.
    zca_epsilon : float
        Added to the eigenvalues before inverting their square roots.
    mean_, std_ : numpy.ndarray or None
        Fitted per-channel statistics, shape ``(1, 1, channels)``.
    zca_matrix_ : numpy.ndarray or None
        Fitted ``(h*w*c, h*w*c)`` whitening matrix.
    """

    rescale: float | None = None
    samplewise_center: bool = False
    samplewise_std_normalization: bool = False
    featurewise_center: bool = False
    featurewise_std_normalization: bool = False
    zca_whitening: bool = False
    zca_epsilon: float = 1e-6
    mean_: np.ndarray | None = dataclasses.field(default=None, repr=False)
    std_: np.ndarray | None = dataclasses.field(default=None, repr=False)
    zca_matrix_: np.ndarray | None = dataclasses.field(default=None, repr=False)

    @property
    def active(self) -> bool:
        """Whether :meth:`apply` changes anything (otherwise images keep their dtype)."""
        return bool(
            (self.rescale not in (None, 1, 1.0)) or self.samplewise_center or self.samplewise_std_normalization
            or self.needs_fit
        )

    @property
    def needs_fit(self) -> bool:
        """Whether a setting needs statistics of the training data."""
        return self.featurewise_center or self.featurewise_std_normalization or self.zca_whitening

    @property
    def fitted(self) -> bool:
        return self.mean_ is not None

    def settings(self) -> dict:
        """The settings (not the statistics), for configs and fingerprints."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if not f.name.endswith("_")}

    def fit(self, batch: np.ndarray) -> None:
        """Compute the statistics of ``batch`` ``(n, h, w, c)``.

        Unlike Keras 2, the statistics are those of the data the feature-wise steps will
        see: after ``rescale`` and the sample-wise steps (Keras 2 fitted the raw pixels and
        then applied them to rescaled ones, so ``rescale=1/255`` with feature-wise centring
        subtracted a mean 255 times too large).
        """
        x = self._before_featurewise(batch.astype(np.float32))
        self.mean_ = x.mean(axis=(0, 1, 2), keepdims=True)[0]
        self.std_ = x.std(axis=(0, 1, 2), keepdims=True)[0]
        self.zca_matrix_ = None
        if self.zca_whitening:
            features = int(np.prod(x.shape[1:]))
            if features > ZCA_MAX_FEATURES:
                raise KeraslabValueError(
                    f"zca_whitening needs a {features} x {features} matrix for these images, more than the "
                    f"{ZCA_MAX_FEATURES} features keraslab allows; whiten smaller images or crops, or turn "
                    f"zca_whitening off. Received: images of shape {x.shape[1:]}"
                )
            # Whiten what apply() will whiten: the data after the feature-wise steps.
            if self.featurewise_center:
                x = x - self.mean_
            if self.featurewise_std_normalization:
                x = x / (self.std_ + _EPSILON)
            flat = x.reshape(x.shape[0], features).astype(np.float64)
            sigma = flat.T @ flat / flat.shape[0]
            u, s, _ = np.linalg.svd(sigma)
            self.zca_matrix_ = ((u / np.sqrt(s + self.zca_epsilon)) @ u.T).astype(np.float32)

    def _before_featurewise(self, x: np.ndarray) -> np.ndarray:
        if self.rescale not in (None, 1, 1.0):
            x = x * np.float32(self.rescale)
        axes = tuple(range(1, x.ndim))
        if self.samplewise_center:
            x = x - x.mean(axis=axes, keepdims=True)
        if self.samplewise_std_normalization:
            x = x / (x.std(axis=axes, keepdims=True) + _EPSILON)
        return x

    def check_fitted(self) -> None:
        """Raise when a feature-wise setting is on but :meth:`fit` has not run."""
        if self.needs_fit and not self.fitted:
            on = [name for name in ("featurewise_center", "featurewise_std_normalization", "zca_whitening")
                  if getattr(self, name)]
            raise KeraslabNotFittedError(
                f"{', '.join(on)} need statistics of the training images: call augmenter.fit(x_train) "
                f"before flow() or standardize(). Received: an augmenter that was never fitted"
            )

    def apply(self, batch: np.ndarray) -> np.ndarray:
        """Standardise a batch ``(n, h, w, c)``; returns float32."""
        self.check_fitted()
        x = self._before_featurewise(batch.astype(np.float32))
        if self.featurewise_center:
            x = x - self.mean_
        if self.featurewise_std_normalization:
            x = x / (self.std_ + _EPSILON)
        if self.zca_whitening:
            if self.zca_matrix_ is None or self.zca_matrix_.shape[0] != int(np.prod(x.shape[1:])):
                raise KeraslabValueError(
                    "images must have the shape of those given to fit() for ZCA whitening. "
                    f"Received: images of shape {x.shape[1:]}"
                )
            x = (x.reshape(x.shape[0], -1) @ self.zca_matrix_).reshape(x.shape)
        return x.astype(np.float32, copy=False)
