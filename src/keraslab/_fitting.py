"""What every fit of a Keras model through keraslab shares: seeding, the divergence guard, batches.

:class:`keraslab.KerasClassifier` and :class:`keraslab.KerasRegressor` are the only
road to ``model.fit`` in keraslab (the experiments' ``train``/``sweep`` kinds, cross-
validation and searches all go through them); this module holds the pieces of that
road that are not about parameters or targets:

* :func:`seeded` — seed Python, NumPy and Keras for one fit and give the caller's
  global random state back afterwards;
* :class:`DivergenceGuard` — stop at the first epoch whose loss is not finite;
* batches given as a ``keras.utils.PyDataset`` (the augmentation flow of
  :mod:`keraslab.data`, :class:`keraslab.data.shapes.ShapesDataset`, any user
  ``Sequence``): :func:`is_batches`, :func:`first_batch`, :func:`batch_targets`,
  :func:`unbatch` and :class:`EncodedBatches`, which hands Keras each batch with its
  targets encoded the way the compiled loss wants them.
"""

from __future__ import annotations

import contextlib
import random
from typing import Any, Callable, Iterator

import keras
import numpy as np

from keraslab.errors import KeraslabValueError

__all__ = ["seeded", "DivergenceGuard", "is_batches", "first_batch", "batch_targets", "batches_sample", "unbatch",
           "scoring_data", "EncodedBatches"]


@contextlib.contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Seed Python, NumPy and Keras for one fit, then give the caller's global RNG state back."""
    if seed is None:
        yield
        return
    py_state, np_state = random.getstate(), np.random.get_state()
    keras.utils.set_random_seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


class _DivergenceGuard(keras.callbacks.Callback):
    """Stop at the first epoch whose loss is not finite, and remember it for a clear error.

    (Its class name is what the vectorised fits look for to leave it out of a group.)

    Checked per epoch, not per batch: reading a batch loss forces a device sync on
    every step, and a NaN in any batch already makes the epoch's mean loss NaN.
    """

    def __init__(self) -> None:
        super().__init__()
        self.diverged_at: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(float(loss)):
            self.diverged_at = epoch
            self.model.stop_training = True


DivergenceGuard = _DivergenceGuard


def is_batches(X: Any) -> bool:
    """True when ``X`` is a ``keras.utils.PyDataset`` (batches of ``(x, y)``), not an array."""
    return isinstance(X, keras.utils.PyDataset)


def _split(batch: Any, owner: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(batch, (tuple, list)) or len(batch) < 2 or batch[1] is None:
        raise KeraslabValueError(
            f"{owner} trains on a PyDataset whose batches are (x, y) tuples; this one gives "
            f"{type(batch).__name__} batches without targets. Return (x, y) from __getitem__. "
            f"Received: a batch of type {type(batch).__name__}"
        )
    if len(batch) > 2 and batch[2] is not None:
        raise KeraslabValueError(
            f"{owner} does not take per-sample weights from a PyDataset's batches; return (x, y) "
            f"and use class_weight on array data. Received: batches of {len(batch)} items"
        )
    return np.asarray(batch[0]), np.asarray(batch[1])


def first_batch(batches: keras.utils.PyDataset, owner: str) -> tuple[np.ndarray, np.ndarray]:
    """The first ``(x, y)`` batch: the sample shape and the target format come from it."""
    if len(batches) == 0:
        raise KeraslabValueError(f"{owner} got a PyDataset with no batches. Received: len(X)=0")
    return _split(batches[0], owner)


def batch_targets(batches: keras.utils.PyDataset, owner: str) -> np.ndarray:
    """Every target of one pass, to learn the classes (or the output width) from.

    Read from the dataset's ``y`` array when it has one (the augmentation flow), as
    ``arange(num_classes)`` when it says how many classes it draws from
    (:class:`~keraslab.data.shapes.ShapesDataset`), else by reading every batch once.
    """
    y = getattr(batches, "y", None)
    if isinstance(y, np.ndarray) and len(y):
        return y
    n = getattr(batches, "num_classes", None)
    if isinstance(n, (int, np.integer)) and n >= 2:
        return np.arange(int(n))
    return np.concatenate([_split(batches[i], owner)[1] for i in range(len(batches))])


def batches_sample(batches: keras.utils.PyDataset, owner: str, *, fresh: bool,
                   **not_with_batches: Any) -> tuple[np.ndarray, np.ndarray]:
    """What a fit on batches is set up from: the first batch's inputs and the targets to learn.

    ``not_with_batches`` (``y``, ``sample_weight``, ``class_weight``,
    ``validation_split``) must all be unset: a PyDataset brings its own targets and
    cannot be cut. A warm (not ``fresh``) fit needs only the first batch's targets.
    """
    for name, value in not_with_batches.items():
        if value is not None and value is not False and not (name == "validation_split" and not value):
            fix = ("pass validation_data=(X_val, y_val)" if name == "validation_split"
                   else "use array data, or return what you need from the batches")
            raise KeraslabValueError(
                f"{owner}.fit takes a PyDataset's targets from its batches; {name} cannot be used with it "
                f"({fix}). Received: X of type {type(batches).__name__}, {name}={_short(value)}")
    x0, y0 = first_batch(batches, owner)
    targets = batch_targets(batches, owner) if fresh else y0
    if targets.ndim == 1 and y0.ndim > 1:  # one-hot or multi-output targets: keep their shape
        targets = y0
    return x0, targets


def _short(value: Any) -> str:
    return repr(value) if np.ndim(value) == 0 else f"<{type(value).__name__} of shape {np.shape(value)}>"


def unbatch(batches: keras.utils.PyDataset, owner: str) -> tuple[np.ndarray, np.ndarray]:
    """All ``(x, y)`` of one pass, concatenated (for ``predict`` and ``score``).

    Both come from the same pass, so a dataset that reshuffles or re-draws between
    epochs still pairs each input with its own target.
    """
    xs, ys = zip(*(_split(batches[i], owner) for i in range(len(batches))))
    return np.concatenate(xs), np.concatenate(ys)


def scoring_data(X: Any, y: Any, owner: str) -> tuple[Any, Any]:
    """``(X, y)`` for ``score``: a PyDataset gives both, from one pass over its batches."""
    if not is_batches(X):
        return X, y
    if y is not None:
        raise KeraslabValueError(f"{owner}.score takes a PyDataset's targets from its batches; pass y=None. "
                                 f"Received: y of type {type(y).__name__}")
    return unbatch(X, owner)


class EncodedBatches(keras.utils.PyDataset):
    """``inner``'s batches with inputs as float arrays and targets through ``encode``.

    Parameters
    ----------
    inner : keras.utils.PyDataset
        Gives ``(x, y)`` batches with targets in the user's format.
    encode : callable
        User targets -> what the compiled loss wants (one-hot, integer indices, 0/1).
    dtype : str
        The inputs' dtype (Keras' ``floatx``).
    """

    def __init__(self, inner: keras.utils.PyDataset, encode: Callable[[np.ndarray], np.ndarray],
                 dtype: str, owner: str) -> None:
        super().__init__()
        self.inner, self.encode, self.dtype, self.owner = inner, encode, dtype, owner

    def __len__(self) -> int:
        return len(self.inner)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        x, y = _split(self.inner[index], self.owner)
        return np.asarray(x, dtype=self.dtype), self.encode(y)

    def on_epoch_end(self) -> None:
        # The inner dataset reshuffles or re-draws its augmentations here.
        self.inner.on_epoch_end()
