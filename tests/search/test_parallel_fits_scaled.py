"""Members after a MinMaxScaler share one unscaled X and scale the rows they gather,
bit for bit as the scaler does; other preprocessing keeps a scaled copy per member."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from keraslab.search.vectorized import run_fits
from keraslab.search.vectorized.grouping import _sequential_default
from keraslab.search.vectorized.members import exact_scale
from vectorized_helpers import fold_tasks, small_mlp, three_class_data

LOGGER = "keraslab.search.parallel_fits"


def _pixels(n=240, d=12, seed=0):
    """Features in [0, 255] whose minimum is 0 in every column (as MNIST pixels)."""
    X, y = three_class_data(n, d, seed)
    X = np.round(X * 255).astype("float32")
    X[:6] = 0.0  # every fold keeps a zero row in every column
    return X, y


def test_exact_scale_only_for_a_multiplying_float32_min_max_scaler():
    X, _ = _pixels()
    fitted = MinMaxScaler().fit(X)
    rows = np.arange(len(X))
    scale = exact_scale([fitted], X, rows)
    np.testing.assert_array_equal(X * scale, fitted.transform(X))
    shifted = X + 1.0  # minimum 1: transform adds a non-zero min_, which XLA would fuse
    assert exact_scale([MinMaxScaler().fit(shifted)], shifted, rows) is None
    assert exact_scale([MinMaxScaler(clip=True).fit(X)], X, rows) is None
    assert exact_scale([StandardScaler(with_mean=False).fit(X)], X, rows) is None  # float64
    X64 = X.astype("float64")
    assert exact_scale([MinMaxScaler().fit(X64)], X64, rows) is None
    assert exact_scale([fitted, fitted], X, rows) is None

    class Shifted(MinMaxScaler):  # a subclass may transform otherwise: not assumed
        pass

    assert exact_scale([Shifted().fit(X)], X, rows) is None


@pytest.mark.parametrize("shift, layout", [(0.0, "one shared X"), (1.0, "per-member inputs")])
def test_pipeline_members_equal_their_sequential_fits(caplog, shift, layout):
    X, y = _pixels()
    X = X + np.float32(shift)
    est = make_pipeline(MinMaxScaler(), small_mlp())
    params = [{"kerasclassifier__random_state": 10 + i} for i in range(3)]
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        par = dict(run_fits(fold_tasks(est, X, y, params)))
    assert "Trained 3 fits as one program" in caplog.text
    assert layout in caplog.text
    seq = dict(_sequential_default(fold_tasks(est, X, y, params)))
    for i in range(3):
        a, b = par[i]["estimator"][-1], seq[i]["estimator"][-1]
        for wa, wb in zip(a.model_.get_weights(), b.model_.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)
        for key in a.history_:
            np.testing.assert_allclose(a.history_[key], b.history_[key], rtol=1e-5)
        assert par[i]["test_scores"] == pytest.approx(seq[i]["test_scores"], abs=1e-6)
        # The member's pipeline is fitted as Pipeline.fit leaves it: its scaler too.
        np.testing.assert_array_equal(par[i]["estimator"][0].scale_, seq[i]["estimator"][0].scale_)
        np.testing.assert_allclose(par[i]["estimator"].predict_proba(X), seq[i]["estimator"].predict_proba(X),
                                   atol=1e-5)


def test_folds_given_as_boolean_masks_train_on_shared_x(caplog):
    X, y = _pixels()
    est = make_pipeline(MinMaxScaler(), small_mlp())
    tasks = fold_tasks(est, X, y, [{"kerasclassifier__random_state": 10 + i} for i in range(3)])
    masks = []
    for t in tasks:
        train = np.zeros(len(X), dtype=bool)
        train[t[4]] = True
        masks.append((*t[:4], train, ~train, *t[6:]))
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        par = dict(run_fits(masks))
    assert "one shared X" in caplog.text
    seq = dict(_sequential_default(tasks))
    for i in range(3):
        assert par[i]["test_scores"] == pytest.approx(seq[i]["test_scores"], abs=1e-6)
