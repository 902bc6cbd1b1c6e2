"""Fitting lifecycle: partial_fit, warm_start, weights, validation, callbacks, history, pickling,
reproducibility, session hygiene, parallel fits and every bad-input error."""

import pickle

import numpy as np
import pytest
import keras
from sklearn.model_selection import GridSearchCV, cross_val_score

from chapter_models import small_model
from keraslab import KerasClassifier, KerasRegressor
from keraslab.errors import TrainingDivergedError

RNG = np.random.RandomState(0)
X = RNG.rand(80, 4).astype("float32")
Y = (X[:, 0] + X[:, 1] > 1).astype(int)


def test_partial_fit_trains_one_epoch_per_call_and_keeps_the_model():
    clf = KerasClassifier(build_fn=small_model, epochs=5)
    clf.partial_fit(X, Y, classes=[0, 1])
    model = clf.model_
    clf.partial_fit(X, Y)
    assert clf.model_ is model and len(clf.history_["loss"]) == 2


def test_warm_start_continues_training_and_cold_start_rebuilds():
    warm = KerasClassifier(build_fn=small_model, epochs=2, warm_start=True).fit(X, Y)
    model = warm.model_
    warm.fit(X, Y)
    assert warm.model_ is model and len(warm.history_["loss"]) == 4
    cold = KerasClassifier(build_fn=small_model, epochs=2).fit(X, Y)
    model = cold.model_
    assert cold.fit(X, Y).model_ is not model and len(cold.history_["loss"]) == 2


def test_validation_split_data_callbacks_and_history():
    class Count(keras.callbacks.Callback):
        epochs = 0

        def on_epoch_end(self, epoch, logs=None):
            Count.epochs += 1

    clf = KerasClassifier(build_fn=small_model, epochs=3, validation_split=0.25, callbacks=[Count()]).fit(X, Y)
    assert set(clf.history_) >= {"loss", "val_loss", "accuracy", "val_accuracy"}
    assert len(clf.history_["val_loss"]) == 3 and Count.epochs == 3
    labels = np.array(["a", "b"])[Y]
    clf = KerasClassifier(build_fn=small_model, epochs=1, validation_data=(X[:10], labels[:10])).fit(X, labels)
    assert len(clf.history_["val_loss"]) == 1


def test_sample_and_class_weight_change_the_fit():
    base = KerasClassifier(build_fn=small_model, epochs=3, random_state=1)
    plain = base.fit(X, Y).predict_proba(X)
    weighted = KerasClassifier(build_fn=small_model, epochs=3, random_state=1,
                               class_weight={0: 10.0, 1: 1.0}).fit(X, Y).predict_proba(X)
    assert weighted[:, 0].mean() > plain[:, 0].mean()
    by_sample = KerasClassifier(build_fn=small_model, epochs=3, random_state=1).fit(
        X, Y, sample_weight=np.where(Y == 0, 10.0, 1.0)).predict_proba(X)
    np.testing.assert_allclose(by_sample, weighted, atol=1e-5)
    balanced = KerasClassifier(build_fn=small_model, epochs=1, class_weight="balanced").fit(X, Y)
    assert balanced.predict(X).shape == (80,)


def test_random_state_makes_fits_repeatable():
    a = KerasClassifier(build_fn=small_model, epochs=2, random_state=3).fit(X, Y).predict_proba(X)
    b = KerasClassifier(build_fn=small_model, epochs=2, random_state=3).fit(X, Y).predict_proba(X)
    c = KerasClassifier(build_fn=small_model, epochs=2, random_state=4).fit(X, Y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_random_state_does_not_disturb_the_callers_global_rng():
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    KerasClassifier(build_fn=small_model, epochs=1, random_state=0).fit(X, Y)
    assert np.random.rand() == expected


def test_pickle_round_trip_gives_identical_predictions(tmp_path):
    clf = KerasClassifier(build_fn=small_model, epochs=2, random_state=0).fit(X, np.array(["n", "y"])[Y])
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))
    reg = KerasRegressor(epochs=1, random_state=0).fit(X, X.sum(1))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(reg)).predict(X), reg.predict(X))


def test_every_fresh_fit_starts_a_clean_keras_session():
    clf = KerasClassifier(build_fn=small_model, epochs=1)
    names = {clf.fit(X, Y).model_.layers[0].name for _ in range(3)}
    # Without clear_session Keras would name them dense, dense_2, dense_4, ...
    assert names == {"dense"}


def test_diverging_loss_raises_and_a_search_records_it_and_continues():
    def build(input_shape, n_classes):
        # Logits with an SGD step of 1e30: the weights overflow, the loss becomes NaN.
        return keras.Sequential([keras.Input(input_shape), keras.layers.Dense(n_classes)])

    big = X * 1e10
    with pytest.raises(TrainingDivergedError, match="NaN or infinite at epoch 1"):
        KerasClassifier(build_fn=build, epochs=2, optimizer="sgd", learning_rate=1e30).fit(big, Y)
    search = GridSearchCV(KerasClassifier(build_fn=build, epochs=1, optimizer="sgd"),
                          {"learning_rate": [1e30, 1e-12]}, cv=2, error_score=np.nan)
    with pytest.warns(Warning, match="fits failed"):
        search.fit(big, Y)
    scores = search.cv_results_["mean_test_score"]
    assert np.isnan(scores[0]) and np.isfinite(scores[1])


def test_parallel_cross_validation_with_two_jobs():
    clf = KerasClassifier(build_fn=small_model, epochs=2, random_state=0)
    parallel = cross_val_score(clf, X, Y, cv=2, n_jobs=2)
    serial = cross_val_score(clf, X, Y, cv=2, n_jobs=1)
    np.testing.assert_allclose(parallel, serial)


@pytest.mark.parametrize("bad_X, bad_y, message", [
    (np.full((10, 4), np.nan), np.arange(10) % 2, "NaN"),
    (np.full((10, 4), np.inf), np.arange(10) % 2, "infinity"),
    (np.zeros(10), np.arange(10) % 2, "Expected 2D array"),
    (np.zeros((10, 4)), np.arange(9) % 2, "different numbers of samples|inconsistent numbers"),
    (np.zeros((0, 4)), np.zeros(0), "0 sample"),
    (np.zeros((10, 4)), np.linspace(0, 1, 10), "Unknown label type"),
    (np.zeros((10, 4)), np.zeros(10), "at least 2 classes"),
])
def test_bad_input_is_rejected_before_training(bad_X, bad_y, message):
    clf = KerasClassifier(build_fn=small_model, epochs=1)
    with pytest.raises(ValueError, match=message):
        clf.fit(bad_X, bad_y)
    assert not hasattr(clf, "model_")


def test_changed_feature_count_or_sample_shape_at_predict():
    clf = KerasClassifier(build_fn=small_model, epochs=1).fit(X, Y)
    with pytest.raises(ValueError, match="X has 3 features, but KerasClassifier is expecting 4"):
        clf.predict(X[:, :3])
    images = KerasClassifier(epochs=1).fit(RNG.rand(10, 4, 3), np.arange(10) % 2)
    with pytest.raises(ValueError, match=r"samples of shape \(4, 2\).*\(4, 3\)"):
        images.predict(RNG.rand(2, 4, 2))


def test_predict_before_fit_and_extra_fit_arguments():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        KerasClassifier(build_fn=small_model).predict(X)
    with pytest.raises(TypeError, match="fit__epochs"):
        KerasClassifier(build_fn=small_model).fit(X, Y, epochs=3)
