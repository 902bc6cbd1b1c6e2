"""MultiResolutionSearchCV on cheap estimators: rounds, leaders, zooming, stopping, subsets."""

from __future__ import annotations

import math
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import StratifiedKFold
from sklearn.utils._param_validation import InvalidParameterError

from keraslab.errors import KeraslabValueError
from keraslab.search import (
    Categorical,
    Integer,
    MultiResolutionSearchCV,
    ProxyNotRepresentativeWarning,
    Real,
)
from keraslab.search.subsets import check_fractions, nested_subsets, rank_agreement
from search_helpers import Landscape, ProxyTrap, classification_data

X, Y = classification_data()
SPACE = {"x": Real(0.0, 1.0), "y": Real(0.0, 1.0), "opt": ["a", "b"]}


def _se(search, i):
    return search.cv_results_["std_test_score"][i] / math.sqrt(search.n_splits_ - 1)


def test_round_one_is_the_coarse_grid_and_results_follow_the_sklearn_contract():
    s = MultiResolutionSearchCV(Landscape(), SPACE, resolution=3, rounds=1, cv=3).fit(X, Y)
    r = s.cv_results_
    assert len(r["params"]) == 3 * 3 * 2 == len(s.initial_candidates())
    assert s.rounds_[0]["n_fits"] == 54 and s.stop_reason_ == "rounds"
    for key in ("mean_test_score", "std_test_score", "rank_test_score", "split2_test_score",
                "mean_fit_time", "param_x", "round", "subset", "n_samples"):
        assert len(r[key]) == 18, key
    assert s.best_params_ == {"x": 0.5, "y": 0.5, "opt": "a"}
    assert s.best_score_ == r["mean_test_score"][s.best_index_] == r["mean_test_score"].max()
    assert r["rank_test_score"][s.best_index_] == 1
    assert s.predict(X[:3]).shape == (3,) and s.best_estimator_.x == 0.5
    assert clone(s).get_params()["resolution"] == 3


def test_zooms_in_on_the_optimum_and_narrows_categoricals():
    s = MultiResolutionSearchCV(Landscape(), SPACE, resolution=3, rounds=5, cv=3).fit(X, Y)
    assert s.best_params_["opt"] == "a"
    assert abs(s.best_params_["x"] - 0.3) <= 0.07 and abs(s.best_params_["y"] - 0.7) <= 0.07
    later = [p for p, rd in zip(s.cv_results_["params"], s.cv_results_["round"]) if rd > 1]
    assert later and {p["opt"] for p in later} == {"a"}  # "b" is 0.1 worse: it does not survive
    # Each refinement grid is zoom (0.5) times narrower than its parent window.
    widths = [w["x"][1] - w["x"][0] for w in s.rounds_[1]["windows"]]
    assert all(wd <= 0.5 + 1e-9 for wd in widths)


def test_every_candidate_within_one_standard_error_is_refined():
    # Noise of 0.15 per fold makes several candidates statistically tied with the best.
    s = MultiResolutionSearchCV(Landscape(noise=0.15), SPACE, rounds=2, cv=3).fit(X, Y)
    r = s.cv_results_
    first = np.flatnonzero(r["round"] == 1)
    best = first[np.argmax(r["mean_test_score"][first])]
    tied = [r["params"][i] for i in first if r["mean_test_score"][i] >= r["mean_test_score"][best] - _se(s, best)]
    assert len(tied) >= 2
    assert s.rounds_[0]["leaders"] == sorted(tied, key=lambda p: -r["mean_test_score"][r["params"].index(p)])
    # Round 2 holds a finer grid around each tied leader: every leader has a new neighbour.
    new = [r["params"][i] for i in np.flatnonzero(r["round"] == 2)]
    for leader in tied:
        assert any(abs(p["x"] - leader["x"]) <= 0.25 + 1e-9 and abs(p["y"] - leader["y"]) <= 0.25 + 1e-9
                   for p in new)


@pytest.mark.parametrize("keep, n_leaders", [("best", 1), (2, 2)])
def test_keep_best_or_top_k(keep, n_leaders):
    s = MultiResolutionSearchCV(Landscape(noise=0.15), SPACE, rounds=2, keep=keep, cv=3).fit(X, Y)
    assert len(s.rounds_[0]["leaders"]) == n_leaders


def test_stops_when_a_round_brings_no_significant_improvement():
    flat = {"x": Real(0.0, 1.0)}
    est = Landscape(noise=0.05, x_opt=0.5)  # x barely matters next to fold noise
    s = MultiResolutionSearchCV(est, flat, rounds=6, cv=3).fit(X, Y)
    assert s.stop_reason_ == "no improvement"
    assert len(s.rounds_) == 2 and s.rounds_[-1]["stop"] == "no improvement"


def test_stops_when_no_new_candidate_is_left():
    s = MultiResolutionSearchCV(Landscape(), {"x": Integer(0, 2)}, rounds=6, cv=3).fit(X, Y)
    assert s.stop_reason_ == "converged"
    assert sorted(p["x"] for p in s.cv_results_["params"]) == [0, 1, 2]


def test_moves_outward_past_the_range_when_bounds_allow():
    # Optimum at x=25, initial range 1..10: the search walks out, as the chapter did
    # from neurons 50..170 to 180..580.
    est = Landscape(x_opt=25.0, y_opt=0.0)
    s = MultiResolutionSearchCV(est, {"x": Integer(1, 10, bounds=(1, 100))}, rounds=6, cv=3).fit(X, Y)
    assert max(p["x"] for p in s.cv_results_["params"]) > 10
    assert s.best_params_["x"] > 10
    pinned = MultiResolutionSearchCV(est, {"x": Integer(1, 10)}, rounds=6, cv=3).fit(X, Y)
    assert max(p["x"] for p in pinned.cv_results_["params"]) == 10


def test_works_with_a_real_estimator_and_pipeline_names():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    space = {"logisticregression__C": Real(1e-3, 1e2, log=True), "logisticregression__fit_intercept": [True, False]}
    s = MultiResolutionSearchCV(pipe, space, cv=3, rounds=3).fit(X, Y)
    assert 0.6 < s.best_score_ <= 1.0
    assert s.score(X, Y) > 0.6


def test_results_do_not_depend_on_n_jobs():
    space = {"alpha": Real(1e-5, 1e-1, log=True), "penalty": ["l2", "l1"]}

    def run(n_jobs):
        est = SGDClassifier(max_iter=30, tol=None)  # random_state=None: seeds are derived per fit
        return MultiResolutionSearchCV(est, space, rounds=2, cv=3, n_jobs=n_jobs, random_state=7).fit(X, Y)

    one = run(1)
    with joblib.parallel_backend("threading"):
        two = run(2)
    np.testing.assert_array_equal(one.cv_results_["split1_test_score"], two.cv_results_["split1_test_score"])
    assert one.cv_results_["params"] == two.cv_results_["params"]
    assert one.best_estimator_.random_state == two.best_estimator_.random_state is not None


def test_parameter_validation():
    with pytest.raises(InvalidParameterError):
        MultiResolutionSearchCV(Landscape(), SPACE, resolution=0).fit(X, Y)
    with pytest.raises(KeraslabValueError, match="rounds must be at least the number of subsets"):
        MultiResolutionSearchCV(Landscape(), SPACE, rounds=2, subsets=(0.2, 0.5, 1.0)).fit(X, Y)
    with pytest.raises(KeraslabValueError, match="end with 1.0"):
        MultiResolutionSearchCV(Landscape(), SPACE, subsets=(0.2, 0.5)).fit(X, Y)
    with pytest.raises(KeraslabValueError, match="refit=<scorer name>"):
        MultiResolutionSearchCV(LogisticRegression(), {"C": Real(0.1, 1)}, scoring=["accuracy", "f1"],
                                refit=False, cv=3).fit(X, Y)


def test_multimetric_with_refit_name():
    s = MultiResolutionSearchCV(LogisticRegression(), {"C": Real(0.01, 1, log=True)}, rounds=2,
                                scoring=["accuracy", "f1"], refit="f1", cv=3).fit(X, Y)
    assert s.best_score_ == s.cv_results_["mean_test_f1"].max()


# -- subsets -----------------------------------------------------------------------------
def test_nested_subsets_are_nested_stratified_and_full_at_one():
    y = np.array([0] * 700 + [1] * 200 + [2] * 100)
    a, b, c = nested_subsets(y, (0.1, 0.3, 1.0), random_state=0)
    assert set(a) <= set(b) <= set(c) and len(a) == 100 and len(b) == 300
    np.testing.assert_array_equal(c, np.arange(1000))  # full data in its original order
    for sub in (a, b):
        counts = np.bincount(y[sub], minlength=3) / len(sub)
        np.testing.assert_allclose(counts, [0.7, 0.2, 0.1], atol=0.011)
    again = nested_subsets(y, (0.1, 0.3, 1.0), random_state=0)
    np.testing.assert_array_equal(again[0], a)
    assert not np.array_equal(nested_subsets(y, (0.1, 1.0), random_state=1)[0], a)


def test_check_fractions_and_rank_agreement():
    assert check_fractions([0.1, 1]) == (0.1, 1.0) and check_fractions(None) is None
    with pytest.raises(KeraslabValueError, match="increase"):
        check_fractions((0.5, 0.2, 1.0))
    assert rank_agreement([1, 2, 3], [10, 20, 30]) == 1.0
    assert math.isnan(rank_agreement([1, 2], [1, 2]))


def test_subsets_grow_and_best_is_chosen_on_the_full_data():
    s = MultiResolutionSearchCV(Landscape(noise=0.01), SPACE, rounds=4, subsets=(0.25, 0.5, 1.0),
                                cv=StratifiedKFold(3)).fit(X, Y)
    r = s.cv_results_
    assert [rd["n_samples"] for rd in s.rounds_][:3] == [60, 120, 240]
    assert r["n_samples"][s.best_index_] == 240
    full = r["n_samples"] == 240
    assert set(r["rank_test_score"][full]) >= {1} and r["rank_test_score"][~full].min() > full.sum() - 1
    # The step up re-evaluates the leaders plus candidates spread over the ranks.
    step = s.rounds_[1]
    assert len(step["rank_pairs"]) >= 5 and step["rank_correlation"] > 0.6
    # Stratified subsets: each class keeps its share.
    sub = r["n_samples"] == 60
    assert sub.any()


def test_unrepresentative_proxy_warns():
    est = ProxyTrap(threshold=100)  # ranks reverse once the training set reaches 100 rows
    with pytest.warns(ProxyNotRepresentativeWarning, match="not a representative proxy"):
        s = MultiResolutionSearchCV(est, {"x": Real(0, 1)}, resolution=5, rounds=2, subsets=(0.25, 1.0),
                                    cv=3).fit(X, Y)
    assert s.rounds_[1]["rank_correlation"] < 0
    assert s.best_params_["x"] == 0.0  # chosen on the full data, where small x wins


def test_representative_proxy_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ProxyNotRepresentativeWarning)
        MultiResolutionSearchCV(Landscape(), {"x": Real(0, 1)}, resolution=5, rounds=2, subsets=(0.5, 1.0),
                                cv=3).fit(X, Y)


def test_too_small_subset_is_explained():
    with pytest.raises(KeraslabValueError, match="too small for the splitter"):
        MultiResolutionSearchCV(Landscape(), {"x": Real(0, 1)}, subsets=(0.01, 1.0), cv=3).fit(X, Y)


def test_categorical_only_space():
    s = MultiResolutionSearchCV(Landscape(), {"opt": Categorical(["a", "b"])}, cv=3).fit(X, Y)
    assert s.best_params_ == {"opt": "a"} and s.stop_reason_ == "converged"


# -- once with Keras ---------------------------------------------------------------------
def test_with_keras_classifier_and_a_journal(mnist_small, tmp_path):
    from keraslab import KerasClassifier
    from keraslab.search import Journal
    from keraslab.zoo.dense import make_model

    x, y = mnist_small
    x, y = x[:240], y[:240]
    clf = KerasClassifier(build_fn=make_model, number_of_layers=1, neurons_per_layer=16, batch_size=64,
                          epochs=1, verbose=0, random_state=0)
    journal = tmp_path / "keras.sqlite"
    s = MultiResolutionSearchCV(clf, {"neurons_per_layer": Integer(8, 32, log=True)}, resolution=2, rounds=2,
                                keep="best", cv=2, refit=False, journal=str(journal)).fit(x, y)
    values = [p["neurons_per_layer"] for p in s.cv_results_["params"]]
    assert values[:2] == [8, 32] and len(values) == 3 and len(set(values)) == 3
    assert 0.1 < s.best_score_ <= 1.0
    assert len(Journal(journal)) == s.n_fits_computed_ == 6
