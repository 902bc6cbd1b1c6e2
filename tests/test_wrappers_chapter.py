"""The chapter's scikit-learn flows (Listings B3-6..B3-20) on a few thousand MNIST rows, plus the
meta-estimators a scikit-learn user reaches for next."""

import numpy as np
import pytest
from scipy.stats import randint
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (GridSearchCV, HalvingGridSearchCV, RandomizedSearchCV, StratifiedKFold,
                                     cross_val_score)
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler

from chapter_models import make_model, small_model
from keraslab import KerasClassifier


@pytest.fixture(scope="module")
def mnist_1500(mnist_arrays):
    # Raw 0..255 pixels: the chapter's pipeline scales them with MinMaxScaler.
    X = mnist_arrays["x_train"][:1500].reshape(1500, -1).astype("float32")
    return X, mnist_arrays["y_train"][:1500].astype(int)


def chapter_classifier(**overrides):
    params = dict(build_fn=make_model, number_of_layers=2, neurons_per_layer=32, optimizer="adam",
                  epochs=4, batch_size=64, verbose=0, random_state=0)
    params.update(overrides)
    return KerasClassifier(**params)


def test_listing_b3_11_cross_validation_with_categorical_loss_and_integer_labels(mnist_1500):
    X, y = mnist_1500
    scores = cross_val_score(chapter_classifier(), X / 255.0, y, cv=StratifiedKFold(3, shuffle=True, random_state=42))
    assert scores.shape == (3,) and scores.min() > 0.6  # chance is 0.1; SciKeras fails here with a shape error


def test_minmax_pipeline_and_named_grid_search(mnist_1500):
    X, y = mnist_1500
    scores = cross_val_score(make_pipeline(MinMaxScaler(), chapter_classifier()), X, y,
                             cv=StratifiedKFold(2, shuffle=True, random_state=42))
    assert scores.min() > 0.45  # chance is 0.1
    grid = GridSearchCV(Pipeline([("normalize_step", MinMaxScaler()), ("model_step", chapter_classifier())]),
                        dict(model_step__number_of_layers=[1, 2], model_step__optimizer=["adam", "adadelta"]),
                        cv=2, refit=False)
    grid.fit(X, y)
    scores = dict(zip(map(str, grid.cv_results_["params"]), grid.cv_results_["mean_test_score"]))
    assert len(scores) == 4
    # Keras 3's Adadelta (learning rate 0.001) barely moves in 4 epochs: the optimizer really changed.
    for layers in (1, 2):
        adam = scores[str({"model_step__number_of_layers": layers, "model_step__optimizer": "adam"})]
        adadelta = scores[str({"model_step__number_of_layers": layers, "model_step__optimizer": "adadelta"})]
        assert adam > adadelta + 0.2
    assert grid.best_params_["model_step__optimizer"] == "adam"


def test_randomized_search_over_a_build_fn_default(mnist_1500):
    X, y = mnist_1500
    search = RandomizedSearchCV(chapter_classifier(), {"neurons_per_layer": randint(8, 64), "dropout_ratio": [0.0, 0.2]},
                                n_iter=2, cv=2, random_state=0)
    search.fit(X / 255.0, y)
    assert len(search.cv_results_["params"]) == 2
    assert search.best_estimator_.model_.layers[0].units == search.best_params_["neurons_per_layer"]


@pytest.mark.parametrize("resource, params", [
    ("n_samples", {"neurons_per_layer": [8, 32]}),
    ("epochs", {"neurons_per_layer": [8, 32]}),
])
def test_halving_grid_search(mnist_1500, resource, params):
    X, y = mnist_1500
    kwargs = dict(resource=resource, factor=2, cv=2, random_state=0)
    if resource == "epochs":
        kwargs.update(max_resources=4, min_resources=2)
    search = HalvingGridSearchCV(chapter_classifier(epochs=2), params, **kwargs).fit(X / 255.0, y)
    assert search.n_iterations_ == 2 and search.best_params_["neurons_per_layer"] in (8, 32)
    if resource == "epochs":
        assert set(search.cv_results_["param_epochs"]) == {2, 4}


def test_ensembles_and_calibration(mnist_1500):
    X, y = mnist_1500[0][:900] / 255.0, mnist_1500[1][:900]
    voting = VotingClassifier([("a", chapter_classifier(neurons_per_layer=16)), ("b", LogisticRegression(max_iter=200))],
                              voting="soft").fit(X, y)
    assert voting.score(X, y) > 0.7
    calibrated = CalibratedClassifierCV(chapter_classifier(), cv=2).fit(X, y)
    np.testing.assert_allclose(calibrated.predict_proba(X[:10]).sum(axis=1), 1.0)
    stack = StackingClassifier([("keras", chapter_classifier(epochs=2))], LogisticRegression(max_iter=200), cv=2)
    assert stack.fit(X, y).predict(X[:10]).shape == (10,)


def test_stratified_cv_on_label_sorted_data():
    # scikit-learn only stratifies for classifiers; a wrapper it does not recognise scores [0, 0, 0] here.
    from sklearn.base import is_classifier

    rng = np.random.RandomState(0)
    y = np.repeat([0, 1, 2], 30)
    X = (rng.rand(90, 4) + y[:, None]).astype("float32")
    clf = KerasClassifier(build_fn=small_model, epochs=20, learning_rate=0.05, random_state=0)
    assert is_classifier(clf)
    assert cross_val_score(clf, X, y, cv=3).min() > 0.5
