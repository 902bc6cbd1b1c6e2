"""keraslab.zoo.rnn and the stateful recurrent layers of keraslab.layers.

The stateful tests are the point of keraslab.layers: on Keras 3.15 with the JAX
backend a plain ``keras.layers.LSTM(stateful=True)`` is stateless inside
``predict``/``fit`` (its state variables are not threaded through the compiled
step), and on PyTorch it cannot be trained (in-place update of a tensor autograd
still needs). Each check below fails on the plain Keras layer.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sklearn.model_selection import cross_val_score

from keraslab import KerasRegressor
from keraslab import layers as lab_layers
from keraslab.callbacks import ResetStatesEachEpoch
from keraslab.errors import KeraslabValueError
from keraslab.zoo import rnn


def lstm(n_in, units):
    """Four gates, each with input kernel, recurrent kernel and bias."""
    return 4 * (units * (n_in + units) + units)


def gru(n_in, units):
    """Keras 3 GRU (reset_after=True): three gates, two bias vectors each."""
    return 3 * (units * (n_in + units) + 2 * units)


def dense(n_in, n_out):
    return n_in * n_out + n_out


CASES = [
    ({"window_size": 3}, lstm(1, 3) + dense(3, 1)),  # 64
    ({"window_size": 3, "units": (3, 3)}, lstm(1, 3) + lstm(3, 3) + dense(3, 1)),
    ({"window_size": 13, "units": (9, 6, 3)}, lstm(1, 9) + lstm(9, 6) + lstm(6, 3) + dense(3, 1)),  # 904
    ({"window_size": 3, "cell": "gru"}, gru(1, 3) + dense(3, 1)),
]


@pytest.mark.parametrize(("kwargs", "expected"), CASES)
def test_regressors_build_count_train_predict(kwargs, expected, trains, sine_windows):
    x, y = sine_windows(64, kwargs["window_size"])
    model = rnn.lstm_regressor(**kwargs)
    assert model.count_params() == expected
    trains(model, x, y, batch_size=16)
    assert model.predict(x[:4], verbose=0).shape == (4, 1)


def test_every_recurrent_layer_that_feeds_another_returns_sequences():
    model = rnn.lstm_regressor(13, units=(9, 6, 3))
    recurrent = [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)]
    assert [layer.return_sequences for layer in recurrent] == [True, True, False]
    assert model.layers[-1].activation.__name__ == "linear"
    assert model.loss == "mean_squared_error"


def test_simple_rnn_cell_and_flat_windows():
    """A 2-D X (windows as columns, as scikit-learn likes) is reshaped to (window, 1) inside."""
    model = rnn.lstm_regressor(cell="simple_rnn", input_shape=(3,))
    assert model.count_params() == (3 * 1 + 3 * 3 + 3) + dense(3, 1)
    assert model.predict(np.zeros((2, 3), "float32"), verbose=0).shape == (2, 1)


def test_unknown_cell_is_an_error():
    with pytest.raises(KeraslabValueError, match="Received: cell='lstn'"):
        rnn.lstm_regressor(cell="lstn")


def test_time_distributed_model_is_listing_b3_71():
    model = rnn.time_distributed_model()
    assert model.count_params() == lstm(1, 4) + dense(4, 5)  # 121
    assert model.predict(np.zeros((2, 5, 1), "float32"), verbose=0).shape == (2, 5, 5)


# --- stateful recurrence --------------------------------------------------------


def tiny_stateful(layer_class, batch_size=2):
    keras.utils.set_random_seed(0)
    inputs = keras.Input(batch_shape=(batch_size, 3, 1))
    hidden = layer_class(4, stateful=True, return_sequences=True)(inputs)
    outputs = keras.layers.Dense(1)(layer_class(4, stateful=True)(hidden))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")  # weights never move
    return model


def carries_state_through_predict(model) -> None:
    """Assert the behaviour a stateful model must have (AssertionError otherwise)."""
    rng = np.random.default_rng(0)
    a, b = rng.random((2, 3, 1), dtype="float32"), rng.random((2, 3, 1), dtype="float32")
    lab_layers.reset_stateful_layers(model)
    first = model.predict(a, verbose=0)
    assert not np.allclose(first, model.predict(a, verbose=0)), "consecutive identical batches gave equal outputs"
    lab_layers.reset_stateful_layers(model)
    after_a = model.predict(np.concatenate([a, b]), batch_size=2, verbose=0)[2:]
    lab_layers.reset_stateful_layers(model)
    alone = model.predict(b, verbose=0)
    assert not np.allclose(after_a, alone), "the prediction for b did not depend on the batch before it"
    lab_layers.reset_stateful_layers(model)
    np.testing.assert_allclose(model.predict(a, verbose=0), first, rtol=1e-6, err_msg="reset did not restore")


@pytest.mark.torch
@pytest.mark.parametrize("layer_class", [lab_layers.LSTM, lab_layers.GRU, lab_layers.SimpleRNN])
def test_keraslab_layers_carry_state_through_predict(layer_class):
    carries_state_through_predict(tiny_stateful(layer_class))


def test_plain_keras_stateful_lstm_is_stateless_on_jax():
    """Documents the upstream behaviour keraslab.layers works around. If this starts
    failing, Keras fixed it and keraslab.layers.LSTM can become an alias again."""
    if keras.backend.backend() != "jax":
        pytest.skip("the silent failure is specific to the JAX backend")
    with pytest.raises(AssertionError, match="consecutive identical batches"):
        carries_state_through_predict(tiny_stateful(keras.layers.LSTM))


def _state(model):
    return keras.ops.convert_to_numpy(model.layers[2].states[0])


@pytest.mark.torch
def test_state_carries_across_batches_inside_fit_and_resets_each_epoch():
    rng = np.random.default_rng(1)
    x, y = rng.random((4, 3, 1), dtype="float32"), rng.random((4, 1), dtype="float32")
    model = tiny_stateful(lab_layers.LSTM)
    # The state the second batch leaves when it starts from the first batch's state...
    model.predict(x, batch_size=2, verbose=0)
    carried = _state(model)
    # ...and when it starts from zero.
    lab_layers.reset_stateful_layers(model)
    model.predict(x[2:], verbose=0)
    from_zero = _state(model)
    assert not np.allclose(carried, from_zero)

    lab_layers.reset_stateful_layers(model)
    model.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0)  # learning rate 0: only the state moves
    np.testing.assert_allclose(_state(model), carried, rtol=1e-5)

    lab_layers.reset_stateful_layers(model)
    history = model.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0, callbacks=[ResetStatesEachEpoch()])
    assert np.abs(_state(model)).max() == 0.0
    # Both epochs start from zero state with the same weights, so they see the same loss;
    # without the reset the second epoch would start from the first one's final state.
    assert history.history["loss"][0] == pytest.approx(history.history["loss"][1], rel=1e-6)
    no_reset = model.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0).history["loss"]
    assert no_reset[0] != pytest.approx(no_reset[1], rel=1e-6)


@pytest.mark.torch
def test_stateful_regressor_trains_with_the_reset_callback(sine_windows):
    x, y = sine_windows(40, 3)
    model = rnn.stateful_regressor(batch_size=10, units=(8, 8))
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == lstm(1, 8) + lstm(8, 8) + dense(8, 1)
    assert model.count_params() == trainable + 4 * 10 * 8  # h and c of two layers, batch 10
    assert model.input_shape == (10, 3, 1)
    assert all(layer.stateful for layer in lab_layers.stateful_layers(model))
    losses = model.fit(x, y, batch_size=10, epochs=3, shuffle=False, verbose=0,
                       callbacks=[ResetStatesEachEpoch()]).history["loss"]  # fmt: skip
    assert losses[-1] < losses[0]
    assert model.predict(x, batch_size=10, verbose=0).shape == (40, 1)


def test_chapter_stateful_model_parameter_count():
    model = rnn.stateful_regressor(batch_size=10)
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == lstm(1, 50) + lstm(50, 50) + dense(50, 1)


def test_stateful_model_saves_and_loads_with_its_state(tmp_path):
    model = tiny_stateful(lab_layers.LSTM)
    model.predict(np.ones((2, 3, 1), "float32"), verbose=0)
    model.save(tmp_path / "stateful.keras")
    loaded = keras.models.load_model(tmp_path / "stateful.keras")
    np.testing.assert_allclose(_state(loaded), _state(model))
    assert type(loaded.layers[1]) is lab_layers.LSTM


def test_lstm_regressor_as_build_fn_cross_validates(sine_windows):
    x, y = sine_windows(96, 3)
    regressor = KerasRegressor(build_fn=rnn.lstm_regressor, units=(8,), epochs=5, batch_size=16, verbose=0,
                               random_state=0)  # fmt: skip
    scores = cross_val_score(regressor, x, y.ravel(), cv=2, scoring="neg_mean_squared_error")
    assert scores.shape == (2,)
    assert np.all(np.isfinite(scores))
