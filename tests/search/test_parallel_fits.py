"""Vectorised fits (keraslab.search.vectorized): exact agreement with sequential fits,
per-member failure, fallbacks, the setting, and their use by cross_validate and the engine."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn import model_selection as ms
from sklearn.base import clone
from sklearn.metrics import check_scoring
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import keraslab
from keraslab.errors import KeraslabValueError
from keraslab.search import JournaledGridSearchCV, cross_val_score, cross_validate, parallel_fits
from keraslab.search.vectorized import run_fits
from keraslab.search.vectorized.grouping import _sequential_default
from vectorized_helpers import small_mlp, three_class_data

LOGGER = "keraslab.search.parallel_fits"


def _data(n=300, d=20, seed=0):
    return three_class_data(n, d, seed)


_clf = small_mlp


def _kwargs(est, error_score="raise"):
    return dict(scorer=check_scoring(est), fit_params={}, score_params={}, return_train_score=False,
                return_n_test_samples=True, return_times=True, return_parameters=False,
                error_score=error_score, verbose=0, return_estimator=True)


def _tasks(est, X, y, folds, params, error_score="raise"):
    return [(i, clone(est), X, y, tr, te, p, _kwargs(est, error_score))
            for i, ((tr, te), p) in enumerate(zip(folds, params))]


def _folds(n):
    idx = np.arange(n)
    folds = [(idx[idx % 3 != f], idx[idx % 3 == f]) for f in range(3)]
    folds[2] = (folds[2][0][:-7], folds[2][1])  # members of different lengths (padding, masking)
    return folds


def test_three_members_equal_three_sequential_fits(caplog):
    """The gate: dropout 0, each member its own seed, learning rate, rows and batch order;
    the MaxNorm constraint applied as Keras applies it. Weights, histories and scores equal."""
    X, y = _data()
    params = [{"random_state": 10 + i, "learning_rate": lr} for i, lr in enumerate([0.001, 0.01, 0.003])]
    est = _clf()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        par = dict(run_fits(_tasks(est, X, y, _folds(len(X)), params)))
    assert "Trained 3 fits as one program" in caplog.text
    seq = dict(_sequential_default(_tasks(est, X, y, _folds(len(X)), params)))
    for i in range(3):
        a, b = par[i]["estimator"], seq[i]["estimator"]
        for wa, wb in zip(a.model_.get_weights(), b.model_.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)
        assert a.history_.keys() == b.history_.keys() == {"loss", "accuracy"}
        for key in a.history_:
            np.testing.assert_allclose(a.history_[key], b.history_[key], rtol=1e-5)
            # the per-fit result carries the same history (what listeners and journals get)
            np.testing.assert_allclose(par[i]["history"][key], seq[i]["history"][key], rtol=1e-5)
        assert par[i]["history"].keys() == seq[i]["history"].keys() == {"loss", "accuracy"}
        assert par[i]["test_scores"] == pytest.approx(seq[i]["test_scores"], abs=1e-6)
        assert par[i]["n_test_samples"] == seq[i]["n_test_samples"]
        assert par[i]["fit_error"] is None and par[i]["fit_time"] > 0
        np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-5)
    # Each member is a normal fitted estimator with its own model.
    assert len({id(par[i]["estimator"].model_) for i in range(3)}) == 3


def test_cross_val_score_with_dropout_and_pipeline_matches_scikit_learn(mnist_small):
    """The chapter's pipeline, dropout 0.2, 10 folds: per-fold scores equal scikit-learn's
    sequential cross_val_score (dropout masks come from each member's own seed state), so
    the mean is certainly within one standard error."""
    X, y = mnist_small
    X, y = (X[:1000] * 255.0), y[:1000]
    pipe = make_pipeline(MinMaxScaler(), _clf(neurons_per_layer=32, dropout_ratio=0.2, epochs=2,
                                              batch_size=64, random_state=0))
    cv = ms.StratifiedKFold(10, shuffle=True, random_state=42)
    vec = cross_val_score(pipe, X, y, cv=cv)
    seq = ms.cross_val_score(pipe, X, y, cv=cv)
    se = seq.std(ddof=1) / np.sqrt(len(seq))
    assert abs(vec.mean() - seq.mean()) <= se
    np.testing.assert_allclose(vec, seq, atol=1e-6)
    assert vec.mean() > 0.3  # well above chance (0.1) after 2 short epochs


def test_cross_validate_returns_scikit_learns_keys_and_fitted_estimators():
    X, y = _data(240)
    cv = ms.KFold(3)
    out = cross_validate(_clf(random_state=0), X, y, cv=cv, scoring=["accuracy", "neg_log_loss"],
                         return_train_score=True, return_estimator=True, return_indices=True)
    ref = ms.cross_validate(_clf(random_state=0), X, y, cv=cv, scoring=["accuracy", "neg_log_loss"],
                            return_train_score=True, return_indices=True)
    assert set(out) == set(ref) | {"estimator"}
    for key in ("test_accuracy", "train_accuracy", "test_neg_log_loss", "train_neg_log_loss"):
        np.testing.assert_allclose(out[key], ref[key], atol=1e-5)
    assert all(e.predict(X[:5]).shape == (5,) for e in out["estimator"])


def test_a_diverging_member_fails_alone_as_its_sequential_fit_does():
    X, y = _data()
    params = [{"random_state": 1, "learning_rate": 0.001}, {"random_state": 2, "learning_rate": 1e38},
              {"random_state": 3, "learning_rate": 0.003}]
    est = _clf()
    par = dict(run_fits(_tasks(est, X, y, _folds(len(X)), params, error_score=np.nan)))
    seq = dict(_sequential_default(_tasks(est, X, y, _folds(len(X)), params, error_score=np.nan)))
    assert "TrainingDivergedError" in seq[1]["fit_error"]
    assert "TrainingDivergedError" in par[1]["fit_error"] and np.isnan(par[1]["test_scores"])
    for i in (0, 2):
        assert par[i]["fit_error"] is None
        assert par[i]["test_scores"] == pytest.approx(seq[i]["test_scores"], abs=1e-6)


def test_fallbacks_are_sequential_with_the_reason_logged_once(caplog):
    import keras

    X, y = _data(120)
    est = _clf(epochs=1, callbacks=[keras.callbacks.TerminateOnNaN()])
    params = [{"random_state": i} for i in range(3)]
    with caplog.at_level(logging.INFO, logger=LOGGER):
        out = dict(run_fits(_tasks(est, X, y, _folds(len(X)), params)))
    assert sorted(out) == [0, 1, 2] and all(r["fit_error"] is None for r in out.values())
    assert caplog.text.count("callbacks need a live model") <= 1
    assert "as one program" not in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        dict(run_fits(_tasks(_clf(epochs=1), X, y, _folds(len(X)), params), setting=False))
    assert "as one program" not in caplog.text


def test_setting_is_checked():
    X, y = _data(60)
    with pytest.raises(KeraslabValueError, match=r"parallel_fits must be 'auto', False or a positive int"):
        cross_val_score(_clf(), X, y, cv=3, parallel_fits="fast")
    with pytest.raises(KeraslabValueError, match="Received: parallel_fits=0"):
        with parallel_fits(0):
            pass


def test_grid_search_groups_candidates_that_differ_only_in_learning_rate(caplog, tmp_path):
    """Two learning rates x 2 folds: one program of 4 members; cv_results_ equal the
    sequential engine's, and the journal holds every fit."""
    X, y = _data(200)
    grid = {"learning_rate": [0.001, 0.01]}
    cv = ms.KFold(2)

    def search(journal):
        return JournaledGridSearchCV(_clf(epochs=2, random_state=0), grid, cv=cv, journal=journal)

    with caplog.at_level(logging.INFO, logger=LOGGER):
        vec = search(str(tmp_path / "vec.sqlite")).fit(X, y)
    assert "Trained 4 fits as one program" in caplog.text
    with parallel_fits(False):
        seq = search(str(tmp_path / "seq.sqlite")).fit(X, y)
    np.testing.assert_allclose(vec.cv_results_["mean_test_score"], seq.cv_results_["mean_test_score"], atol=1e-6)
    assert vec.best_params_ == seq.best_params_
    assert vec.n_fits_computed_ == 4
    np.testing.assert_allclose(vec.predict_proba(X), seq.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize("setting, expected", [("0", "None"), ("{tmp}", "{tmp}")])
def test_compilation_cache_is_on_by_default_with_an_opt_out(tmp_path, setting, expected):
    env = {k: v for k, v in os.environ.items() if k not in ("JAX_COMPILATION_CACHE_DIR", "KERASLAB_JAX_CACHE")}
    env["KERASLAB_COMPILATION_CACHE"] = setting.format(tmp=tmp_path)
    env["KERAS_BACKEND"] = "jax"
    code = ("import keraslab, jax; print(jax.config.jax_compilation_cache_dir, "
            "jax.config.jax_persistent_cache_min_compile_time_secs)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    directory, min_secs = out.stdout.split()
    assert directory == expected.format(tmp=tmp_path)
    if expected != "None":
        assert float(min_secs) == 0.0


def test_member_preparation_skips_gc_but_restores_clear_session(monkeypatch):
    """Members reset Keras' state without a full gc.collect (0.13 s each); afterwards
    keras.backend.clear_session is Keras' own again."""
    import keras

    from keraslab.search.vectorized import members

    calls = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda free_memory=True: calls.append(free_memory))
    patched = keras.backend.clear_session
    with members._no_gc_in_clear_session():
        keras.backend.clear_session()
    keras.backend.clear_session()
    assert calls == [False, True]
    assert keras.backend.clear_session is patched
