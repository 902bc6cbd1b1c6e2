"""Small data and a small chapter MLP for the vectorised-fit tests."""

from __future__ import annotations

import numpy as np

from keraslab import KerasClassifier
from keraslab.zoo.dense import make_model


def three_class_data(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` rows of ``d`` uniform features; three classes from the first three features."""
    rng = np.random.RandomState(seed)
    X = rng.rand(n, d).astype("float32")
    y = (X[:, 0] + X[:, 1] > 1).astype(int) + (X[:, 2] > 0.5)
    return X, y


def small_mlp(**kw) -> KerasClassifier:
    """The chapter's ``make_model`` wrapped without dropout, 3 epochs of batch 32 (``kw`` overrides)."""
    base = dict(build_fn=make_model, number_of_layers=2, neurons_per_layer=16, dropout_ratio=0.0,
                epochs=3, batch_size=32, verbose=0)
    return KerasClassifier(**{**base, **kw})
