"""Every route to a label-keyed or stateful argument is handled one way (issue #11, faults 1 and 5).

Fault 1: ``fit__class_weight`` / ``fit__validation_data`` must mean exactly what
``class_weight`` / ``validation_data`` mean (keys and labels in the user's format), keys
that are not classes are refused by name, and the arguments the wrapper passes itself
cannot be set twice. Fault 5: stateful Keras objects given as parameters are copied for
every fresh fit, so a hand-written loop over folds equals fresh clones.
"""

import keras
import numpy as np
import pytest
from keras.layers import Dense
from sklearn.base import clone
from sklearn.model_selection import KFold

from chapter_models import regression_model, small_model
from keraslab import KerasClassifier, KerasRegressor

RNG = np.random.RandomState(0)
X = RNG.rand(80, 4).astype("float32")
Y12 = np.where(X[:, 0] + X[:, 1] > 1, 2, 1)            # labels {1, 2}
PETS = np.array(["cat", "dog"])[(Y12 == 2).astype(int)]  # labels {"cat", "dog"}


def _proba(**params):
    return KerasClassifier(build_fn=small_model, epochs=3, random_state=1, **params).fit(X, Y12).predict_proba(X)


def test_fit_prefixed_class_weight_is_keyed_by_labels_like_class_weight():
    plain = _proba()
    own = _proba(class_weight={1: 1.0, 2: 20.0})
    prefixed = _proba(fit__class_weight={1: 1.0, 2: 20.0})
    np.testing.assert_allclose(prefixed, own, atol=1e-6)
    # The weights took effect (unencoded, Keras ignored them: the same as no weights).
    assert own[:, 1].mean() > plain[:, 1].mean() and not np.allclose(prefixed, plain, atol=1e-4)
    np.testing.assert_allclose(_proba(fit__class_weight="balanced"), _proba(class_weight="balanced"), atol=1e-6)


@pytest.mark.parametrize("class_weight, named", [
    ({"Dog": 20}, "'Dog'"),          # a near miss of a string label
    ({0: 1, 1: 20}, "[0, 1]"),       # encoded indices instead of the labels
    ({"dog": 20, "bird": 3}, "'bird'"),
])
@pytest.mark.parametrize("route", ["class_weight", "fit__class_weight"])
def test_class_weight_keys_that_are_not_classes_are_refused_by_name(class_weight, named, route):
    clf = KerasClassifier(build_fn=small_model, epochs=1, **{route: class_weight})
    with pytest.raises(ValueError, match="not classes") as info:
        clf.fit(X, PETS)
    assert named in str(info.value) and "['cat', 'dog']" in str(info.value)


@pytest.mark.parametrize("class_weight", [[1, 20], np.array([1.0, 20.0]), "heavy", 3])
def test_class_weight_of_another_type_is_refused_with_an_example(class_weight):
    clf = KerasClassifier(build_fn=small_model, epochs=1, fit__class_weight=class_weight)
    with pytest.raises(ValueError, match=r"dict keyed by class label.*\{'cat': 1.0, 'dog': 1.0\}"):
        clf.fit(X, PETS)


def test_bad_class_weight_values_and_regressor_class_weight_are_refused():
    with pytest.raises(ValueError, match="non-negative"):
        KerasClassifier(build_fn=small_model, class_weight={"cat": -1}).fit(X, PETS)
    with pytest.raises(ValueError, match="classifiers only"):
        KerasRegressor(build_fn=regression_model, fit__class_weight={0: 2.0}).fit(X, X.sum(axis=1))


def test_fit_prefixed_validation_data_is_encoded_like_validation_data():
    val = (X[:20], PETS[:20])

    def val_loss(**params):
        clf = KerasClassifier(build_fn=small_model, epochs=2, random_state=0, **params).fit(X, PETS)
        return clf.history_["val_loss"]

    own, prefixed = val_loss(validation_data=val), val_loss(fit__validation_data=val)
    np.testing.assert_allclose(prefixed, own, rtol=1e-6)
    # The loss Keras reports for the *encoded* labels (cat -> 0, dog -> 1) after the last epoch.
    clf = KerasClassifier(build_fn=small_model, epochs=2, random_state=0, fit__validation_data=val).fit(X, PETS)
    encoded = (PETS[:20] == "dog").astype("int32")
    expected = clf.model_.evaluate(X[:20], encoded, verbose=0, return_dict=True)["loss"]
    assert clf.history_["val_loss"][-1] == pytest.approx(expected, rel=1e-5)
    weighted = val_loss(fit__validation_data=(X[:20], PETS[:20], np.ones(20)))
    np.testing.assert_allclose(weighted, own, rtol=1e-5)


def test_validation_data_for_the_regressor_and_bad_tuples():
    reg = KerasRegressor(build_fn=regression_model, epochs=1, fit__validation_data=(X[:10], X[:10].sum(axis=1)))
    assert len(reg.fit(X, X.sum(axis=1)).history_["val_loss"]) == 1
    with pytest.raises(ValueError, match=r"tuple \(X_val, y_val\)"):
        KerasClassifier(build_fn=small_model, fit__validation_data=X[:10]).fit(X, PETS)
    with pytest.raises(ValueError, match="not seen"):
        KerasClassifier(build_fn=small_model, validation_data=(X[:4], ["cat", "cow", "dog", "cat"])).fit(X, PETS)


@pytest.mark.parametrize("name, hint", [
    ("fit__sample_weight", "sample_weight="), ("fit__x", "pass X to fit"), ("fit__y", "pass y to fit"),
    ("fit__epochs", "epochs="), ("predict__x", "pass X to predict"),
])
def test_arguments_the_wrapper_passes_itself_are_refused_with_the_right_spelling(name, hint):
    clf = KerasClassifier(build_fn=small_model, epochs=1, **{name: np.ones(80)})
    with pytest.raises(ValueError, match=hint):
        clf.fit(X, PETS).predict(X)


def test_the_same_argument_on_two_routes_is_refused():
    clf = KerasClassifier(build_fn=small_model, class_weight={"cat": 2}, fit__class_weight={"cat": 3})
    with pytest.raises(ValueError, match="set twice"):
        clf.fit(X, PETS)


def test_fit_prefixed_callbacks_run_alongside_callbacks():
    seen = []

    class Spy(keras.callbacks.Callback):
        def __init__(self, tag):
            super().__init__()
            self.tag = tag

        def on_epoch_end(self, epoch, logs=None):
            seen.append(self.tag)

    KerasClassifier(build_fn=small_model, epochs=2, callbacks=[Spy("own")], fit__callbacks=[Spy("fit")]).fit(X, PETS)
    assert sorted(seen) == ["fit", "fit", "own", "own"]


# ----- fault 5: fresh copies of stateful Keras objects ----------------------------------
def compiled_with(input_shape, n_classes, optimizer):
    """Compiles with the optimizer *instance* it is given (the issue's build)."""
    model = keras.Sequential([keras.Input(input_shape), Dense(8, activation="relu"),
                              Dense(n_classes, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    return model


def test_a_manual_loop_over_folds_equals_fresh_clones():
    optimizer = keras.optimizers.Adam(0.02)
    est = KerasClassifier(build_fn=compiled_with, optimizer=optimizer, epochs=2, batch_size=16, random_state=0)
    for train, test in KFold(3).split(X):
        reused = est.fit(X[train], Y12[train]).predict_proba(X[test])
        fresh = clone(est).fit(X[train], Y12[train]).predict_proba(X[test])
        np.testing.assert_allclose(reused, fresh, atol=1e-6)
        assert int(est.model_.optimizer.iterations) == 8  # 2 epochs x 4 batches, not 8, 16, 24
    assert int(optimizer.iterations) == 0 and optimizer.built is False  # the parameter itself is unused


def test_metric_loss_and_keras_callbacks_given_as_parameters_are_copied_per_fit():
    acc = keras.metrics.SparseCategoricalAccuracy(name="acc")
    loss = keras.losses.SparseCategoricalCrossentropy()
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=1)
    est = KerasClassifier(build_fn=small_model, metrics=[acc], loss=loss, callbacks=[stop], epochs=2, random_state=0)
    first = est.fit(X, Y12).history_["acc"]
    second = est.fit(X, Y12).history_["acc"]
    assert first == second
    assert float(acc.result()) == 0.0 and stop.model is None  # the user's objects were never used


def test_a_users_own_callback_is_used_as_given_so_it_can_be_read_after_fit():
    class Collect(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.losses = []

        def on_epoch_end(self, epoch, logs=None):
            self.losses.append(logs["loss"])

    collect = Collect()
    est = KerasClassifier(build_fn=small_model, callbacks=[collect], epochs=3).fit(X, Y12)
    assert collect.losses == pytest.approx(est.history_["loss"])
