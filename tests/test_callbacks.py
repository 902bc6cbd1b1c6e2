"""keraslab.callbacks: EpochTimer, ResetStatesEachEpoch, BestCheckpoints."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

from keraslab import layers as lab_layers
from keraslab.callbacks import BestCheckpoints, EpochTimer, ResetStatesEachEpoch
from keraslab.errors import KeraslabValueError


def tiny_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.random((16, 3), dtype="float32"), rng.random((16, 1), dtype="float32")


def test_epoch_timer_adds_seconds_to_the_history(data):
    timer = EpochTimer()
    history = tiny_model().fit(*data, epochs=3, verbose=0, callbacks=[timer])
    seconds = history.history["seconds"]
    assert len(seconds) == 3 and all(s > 0 for s in seconds)
    assert seconds == timer.seconds


def test_epoch_timer_key_is_configurable_and_restarts_each_fit(data):
    timer = EpochTimer(key="epoch_time")
    model = tiny_model()
    model.fit(*data, epochs=2, verbose=0, callbacks=[timer])
    history = model.fit(*data, epochs=1, verbose=0, callbacks=[timer])
    assert len(history.history["epoch_time"]) == 1 and len(timer.seconds) == 1


def stateful_model(layer_class=lab_layers.LSTM):
    inputs = keras.Input(batch_shape=(2, 3, 1))
    model = keras.Model(inputs, keras.layers.Dense(1)(layer_class(4, stateful=True)(inputs)))
    model.compile(optimizer="adam", loss="mse")
    return model


def state(model):
    return keras.ops.convert_to_numpy(model.layers[1].states[0])


@pytest.mark.torch
def test_reset_states_each_epoch_leaves_zero_state():
    model = stateful_model()
    x, y = np.ones((4, 3, 1), "float32"), np.ones((4, 1), "float32")
    model.fit(x, y, batch_size=2, shuffle=False, epochs=1, verbose=0)
    assert np.abs(state(model)).max() > 0
    model.fit(x, y, batch_size=2, shuffle=False, epochs=2, verbose=0, callbacks=[ResetStatesEachEpoch()])
    assert np.abs(state(model)).max() == 0.0


@pytest.mark.torch
def test_reset_before_validation():
    """Validation starts from zero state, not from where the training batches left off."""
    x, y = np.ones((4, 3, 1), "float32"), np.ones((4, 1), "float32")
    seen = []

    class Spy(keras.callbacks.Callback):
        def on_test_batch_begin(self, batch, logs=None):
            if batch == 0:
                seen.append(np.abs(state(self.model)).max())

    model = stateful_model()
    model.fit(x, y, batch_size=2, shuffle=False, verbose=0, validation_data=(x, y),
              callbacks=[ResetStatesEachEpoch(), Spy()])  # fmt: skip
    assert seen == [0.0]


def test_reset_states_warns_when_there_is_nothing_to_reset(data):
    with pytest.warns(UserWarning, match="no stateful layer"):
        tiny_model().fit(*data, epochs=1, verbose=0, callbacks=[ResetStatesEachEpoch()])


def test_reset_states_warns_about_plain_keras_stateful_layers_on_jax():
    if keras.backend.backend() != "jax":
        pytest.skip("the warning is about the JAX backend")
    model = stateful_model(keras.layers.LSTM)
    with pytest.warns(UserWarning, match="keraslab.layers.LSTM"):
        model.fit(np.ones((2, 3, 1)), np.ones((2, 1)), batch_size=2, verbose=0, callbacks=[ResetStatesEachEpoch()])


def feed(keeper, model, values, key="val_loss"):
    """Drive a BestCheckpoints with given monitored values, one per epoch."""
    keeper.set_model(model)
    keeper.on_train_begin()
    for epoch, value in enumerate(values):
        keeper.on_epoch_end(epoch, {key: value})


def test_best_checkpoints_keeps_the_best_n(tmp_path):
    keeper = BestCheckpoints(tmp_path / "ckpt", keep=2)
    feed(keeper, tiny_model(), [0.5, 0.3, 0.4, 0.1, 0.6])
    assert [(value, epoch) for value, epoch, _ in keeper.best_] == [(0.1, 4), (0.3, 2)]
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == sorted(p.name for _, _, p in keeper.best_)
    assert keeper.best_path.name == "epoch0004-val_loss0.1000.keras"


def test_best_checkpoints_maximises_accuracy_and_skips_nan(tmp_path):
    keeper = BestCheckpoints(tmp_path, monitor="val_accuracy", keep=1)
    feed(keeper, tiny_model(), [0.8, float("nan"), 0.9, 0.85], key="val_accuracy")
    assert [(value, epoch) for value, epoch, _ in keeper.best_] == [(0.9, 3)]
    assert len(list(tmp_path.iterdir())) == 1


def test_best_checkpoint_loads_back_with_the_same_predictions(tmp_path, data):
    x, y = data
    model = tiny_model()
    keeper = BestCheckpoints(tmp_path, monitor="loss", keep=1)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[keeper])
    assert keeper.best_[0][1] == 3  # SGD on a linear model: the loss falls every epoch
    loaded = keras.models.load_model(keeper.best_path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_best_checkpoints_weights_only(tmp_path, data):
    model = tiny_model()
    keeper = BestCheckpoints(tmp_path, monitor="loss", keep=2, save_weights_only=True)
    model.fit(*data, epochs=2, verbose=0, callbacks=[keeper])
    assert all(path.name.endswith(".weights.h5") for _, _, path in keeper.best_)
    fresh = tiny_model()
    fresh.load_weights(keeper.best_path)
    np.testing.assert_allclose(fresh.get_weights()[0], model.get_weights()[0])


def test_best_checkpoints_warns_once_when_the_monitor_is_missing(tmp_path):
    keeper = BestCheckpoints(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        feed(keeper, tiny_model(), [0.1, 0.2], key="loss")
    assert sum("val_loss" in str(w.message) for w in caught) == 1
    assert keeper.best_ == []


@pytest.mark.parametrize(("kwargs", "message"), [({"keep": 0}, "Received: keep=0"), ({"mode": "up"}, "mode=")])
def test_best_checkpoints_checks_its_arguments(tmp_path, kwargs, message):
    with pytest.raises(KeraslabValueError, match=message):
        BestCheckpoints(tmp_path, **kwargs)
