"""Small data and a small chapter MLP for the vectorised-fit tests."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.metrics import check_scoring

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


def fold_tasks(est, X, y, params) -> list[tuple]:
    """``run_fits`` tasks: one per parameter dict, task ``i`` on the ``i % 3``-th of three
    interleaved folds (row ``r`` is tested in fold ``r % 3``), estimators kept in the results."""
    idx = np.arange(len(X))
    folds = [(idx[idx % 3 != f], idx[idx % 3 == f]) for f in range(3)]
    kwargs = dict(scorer=check_scoring(est), fit_params={}, score_params={}, return_train_score=False,
                  return_n_test_samples=True, return_times=True, return_parameters=False,
                  error_score="raise", verbose=0, return_estimator=True)
    return [(i, clone(est), X, y, *folds[i % 3], p, kwargs) for i, p in enumerate(params)]
