"""A failed fit or predict never leaves a broken or fitted-looking estimator (issue #11, faults 2 and 3).

On JAX, Keras detaches the weights while its loop runs; an exception inside ``predict``
or the first training step used to leave every variable empty. Fitted attributes are
committed only by a fit that succeeds; a failed warm fit keeps the model it started from.
"""

import keras
import numpy as np
import pytest
from keras.layers import Dense
from sklearn.exceptions import NotFittedError

from chapter_models import regression_model, small_model
from keraslab import KerasClassifier, KerasRegressor
from keraslab._intact import intact
from keraslab.layers import LSTM, reset_stateful_layers
from keraslab.errors import TrainingDivergedError

RNG = np.random.RandomState(0)
X = RNG.rand(80, 4).astype("float32")
Y = (X[:, 0] + X[:, 1] > 1).astype(int)
SEQ = RNG.rand(200, 3, 1).astype("float32")
SEQ_Y = SEQ.sum(axis=(1, 2))


class RaiseAt(keras.callbacks.Callback):
    """Raises in the hook ``hook`` at batch ``at``."""

    def __init__(self, hook, at=0):
        super().__init__()
        setattr(self, hook, self._maybe_raise)
        self.at = at

    def _maybe_raise(self, batch, logs=None):
        if batch >= self.at:
            raise RuntimeError("raised inside the Keras loop")


def stateful_lstm(batch_size):
    model = keras.Sequential([keras.Input((3, 1), batch_size=batch_size), LSTM(4, stateful=True), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def _usable(model, x):
    model.predict(x, verbose=0)
    model.get_weights()


# ----- fault 2: the model stays usable ---------------------------------------------------
@pytest.mark.parametrize("at", [0, 2])
def test_an_exception_inside_predict_or_evaluate_leaves_the_model_intact(at):
    model = keras.Sequential([keras.Input((4,)), Dense(3), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(RuntimeError), intact(model):
        model.predict(X, batch_size=8, verbose=0, callbacks=[RaiseAt("on_predict_batch_end", at)])
    with pytest.raises(RuntimeError), intact(model):
        model.evaluate(X, Y, batch_size=8, verbose=0, callbacks=[RaiseAt("on_test_batch_end", at)])
    _usable(model, X)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_an_exception_in_a_wrapper_predict_leaves_the_estimator_usable():
    clf = KerasClassifier(build_fn=small_model, epochs=1, random_state=0).fit(X, Y)
    expected = clf.predict_proba(X)
    clf.set_params(predict__callbacks=[RaiseAt("on_predict_batch_end", 1)])
    with pytest.raises(RuntimeError):
        clf.predict(X)
    clf.set_params(predict__callbacks=None)
    np.testing.assert_allclose(clf.predict_proba(X), expected, atol=1e-6)


def test_stateful_predict_on_a_partial_batch_pads_and_trims():
    reg = KerasRegressor(build_fn=stateful_lstm, batch_size=10, epochs=1, shuffle=False, random_state=0)
    reg.fit(SEQ[:190], SEQ_Y[:190])
    reset_stateful_layers(reg.model_)  # the state carries across calls: start both from zero
    whole = reg.predict(SEQ[:30])
    reset_stateful_layers(reg.model_)
    part = reg.predict(SEQ[:25])       # Keras alone refuses this and loses the weights on JAX
    assert part.shape == (25,) and part.dtype == np.float32
    np.testing.assert_allclose(part, whole[:25], atol=1e-6)
    assert reg.score(SEQ[:25], SEQ_Y[:25]) < 1.0
    reg.model_.get_weights()


@pytest.mark.parametrize("rows, params, what", [
    (195, {}, "fit needs a multiple of 10"),
    (200, {"validation_split": 0.33}, "validation_split part needs a multiple of 10"),
    (200, {"fit__validation_data": (SEQ[:15], SEQ_Y[:15])}, "validation_data needs a multiple of 10"),
    (200, {"fit__batch_size": 20}, "set batch_size=10"),
])
def test_stateful_fits_that_cannot_work_are_refused_before_keras_runs(rows, params, what):
    reg = KerasRegressor(build_fn=stateful_lstm, batch_size=10, epochs=1, shuffle=False, **params)
    with pytest.raises(ValueError, match=what):
        reg.fit(SEQ[:rows], SEQ_Y[:rows])
    with pytest.raises(NotFittedError):
        reg.predict(SEQ[:10])


# ----- fault 3: fitted state only from a fit that succeeds -------------------------------
def test_a_failed_fresh_fit_leaves_the_estimator_unfitted():
    clf = KerasClassifier(build_fn=small_model, epochs=2, callbacks=[RaiseAt("on_train_batch_end", 0)])
    with pytest.raises(RuntimeError):
        clf.fit(X, Y)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    assert not hasattr(clf, "classes_") and not hasattr(clf, "history_")
    # A refit that fails forgets the earlier fit too: its state would not match the new data.
    clf.set_params(callbacks=None).fit(X, Y)
    clf.set_params(callbacks=[RaiseAt("on_train_batch_end", 0)])
    with pytest.raises(RuntimeError):
        clf.fit(X, Y)
    with pytest.raises(NotFittedError):
        clf.predict_proba(X)


def test_divergence_leaves_no_nan_model_behind():
    def exploding(input_shape, n_outputs):
        model = regression_model(input_shape, n_outputs)
        model.compile(optimizer=keras.optimizers.SGD(1e6), loss="mse")
        return model

    reg = KerasRegressor(build_fn=exploding, epochs=3)
    with pytest.raises(TrainingDivergedError):
        reg.fit(X, 1e3 * X.sum(axis=1))
    with pytest.raises(NotFittedError):
        reg.predict(X)


def test_a_failed_warm_fit_keeps_the_model_and_history_it_started_from():
    clf = KerasClassifier(build_fn=small_model, epochs=2, warm_start=True, random_state=0).fit(X, Y)
    model, expected, history = clf.model_, clf.predict_proba(X), dict(clf.history_)
    for hook, at in [("on_train_batch_end", 0), ("on_train_batch_end", 2), ("on_epoch_end", 1)]:
        clf.set_params(callbacks=[RaiseAt(hook, at)])
        with pytest.raises(RuntimeError):
            clf.fit(X, Y)
        assert clf.model_ is model and clf.history_ == history
        np.testing.assert_allclose(clf.predict_proba(X), expected, atol=1e-6)
    clf.set_params(callbacks=None)
    with pytest.raises(ValueError):  # a different shape is refused before training
        clf.fit(X[:, :3], Y)
    np.testing.assert_allclose(clf.predict_proba(X), expected, atol=1e-6)
