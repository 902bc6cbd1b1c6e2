"""Vectorised fits of different hidden widths: one zero-padded program, results of sequential fits."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from sklearn import model_selection as ms

from keraslab.search import JournaledGridSearchCV, parallel_fits
from keraslab.search.vectorized import run_fits
from keraslab.search.vectorized.grouping import _sequential_default
from keraslab.search.vectorized.members import hidden_widths
from keraslab.zoo.dense import make_model
from vectorized_helpers import fold_tasks, small_mlp, three_class_data

LOGGER = "keraslab.search.parallel_fits"


def _data(n=240, d=12, seed=1):
    return three_class_data(n, d, seed)


def _clf(**kw):
    return small_mlp(**{"neurons_per_layer": 8, **kw})


def test_members_of_different_widths_equal_their_sequential_fits(caplog):
    """Widths 5, 9 and 3 (MaxNorm, no dropout), each its own seed and learning rate: trained
    as one program zero-padded to width 9, weights and scores equal the sequential fits'."""
    X, y = _data()
    params = [{"neurons_per_layer": w, "random_state": 20 + i, "learning_rate": lr}
              for i, (w, lr) in enumerate([(5, 0.01), (9, 0.003), (3, 0.02)])]
    with caplog.at_level(logging.INFO, logger=LOGGER):
        par = dict(run_fits(fold_tasks(_clf(), X, y, params)))
    assert "Trained 3 fits as one program (zero-padded to the widest member)" in caplog.text
    seq = dict(_sequential_default(fold_tasks(_clf(), X, y, params)))
    for i, width in enumerate([5, 9, 3]):
        a, b = par[i]["estimator"], seq[i]["estimator"]
        assert a.model_.layers[1].units == width and hidden_widths(a.model_) == (width, width)
        for wa, wb in zip(a.model_.get_weights(), b.model_.get_weights()):
            assert wa.shape == wb.shape
            np.testing.assert_allclose(wa, wb, rtol=1e-4, atol=1e-5)
        for key in ("loss", "accuracy"):
            np.testing.assert_allclose(a.history_[key], b.history_[key], rtol=1e-4)
        assert par[i]["test_scores"] == pytest.approx(seq[i]["test_scores"], abs=1e-6)
        np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-5)


def test_a_grid_over_neurons_trains_one_program_per_depth(caplog, tmp_path):
    """Grid 1's shape (layers x neurons) on tiny data: 2 depths x 3 widths x 2 folds form two
    programs of 6, and cv_results_ equal the sequential engine's."""
    X, y = _data(160)
    grid = {"number_of_layers": [1, 2], "neurons_per_layer": [4, 6, 8]}

    def search(journal):
        return JournaledGridSearchCV(_clf(epochs=2, random_state=0), grid, cv=ms.KFold(2), journal=journal)

    with caplog.at_level(logging.INFO, logger=LOGGER):
        vec = search(str(tmp_path / "vec.sqlite")).fit(X, y)
    assert caplog.text.count("Trained 6 fits as one program (zero-padded to the widest member)") == 2
    with parallel_fits(False):
        seq = search(str(tmp_path / "seq.sqlite")).fit(X, y)
    np.testing.assert_allclose(vec.cv_results_["mean_test_score"], seq.cv_results_["mean_test_score"], atol=1e-6)
    assert vec.best_params_ == seq.best_params_


def test_only_zero_at_zero_activations_and_plain_chains_are_padded():
    import keras

    assert hidden_widths(make_model(number_of_layers=3, neurons_per_layer=7)) == (7, 7, 7)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="sigmoid"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    assert hidden_widths(model) is None  # sigmoid(0) = 0.5: a padded unit would not stay silent
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="relu"),
                              keras.layers.BatchNormalization(), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    assert hidden_widths(model) is None


def test_members_with_the_same_layers_share_one_predict_program_across_optimizers():
    """Adam's and SGD's programs differ, their models' predict program does not: one compiled
    predict per layer architecture, and each member still predicts from its own weights."""
    X, y = _data(120)
    params = [{"optimizer": opt, "random_state": 5} for opt in ("adam", "adam", "sgd", "sgd")]
    folds = [t[4:6] for t in fold_tasks(_clf(), X, y, params)[:2]]  # two folds per optimizer
    tasks = [(i, *t[1:4], *folds[i % 2], *t[6:]) for i, t in enumerate(fold_tasks(_clf(), X, y, params))]
    par = dict(run_fits(tasks))
    models = [par[i]["estimator"].model_ for i in range(4)]
    assert len({id(m.predict_function) for m in models}) == 1
    assert type(models[0].optimizer).__name__ == "Adam" and type(models[2].optimizer).__name__ == "SGD"
    seq = dict(_sequential_default(tasks))
    for i in range(4):
        np.testing.assert_allclose(par[i]["estimator"].predict_proba(X), seq[i]["estimator"].predict_proba(X),
                                   atol=1e-5)
        assert par[i]["test_scores"] == pytest.approx(seq[i]["test_scores"], abs=1e-6)
