"""Recurrent regressors for the chapter's sine experiments (notebooks 5-6).

=====================================  ===============================================  ==========
chapter model                          call                                             parameters
=====================================  ===============================================  ==========
LSTM(3) + Dense(1), window 3           ``lstm_regressor(3)``                            64
LSTM 3-3                               ``lstm_regressor(3, units=(3, 3))``              148
LSTM 9-6-3, window 13                  ``lstm_regressor(13, units=(9, 6, 3))``          904
stateful LSTM 50-50                    ``stateful_regressor(batch_size=10)``            30,651 (*)
LSTM(4) + TimeDistributed(Dense(5))    ``time_distributed_model()``                     121
=====================================  ===============================================  ==========

(*) trainable; ``count_params()`` says 32,651 because the carried state (two
10x50 variables per layer, non-trainable, like BatchNormalization's statistics)
is part of the model's weights.

Every recurrent layer that feeds another gets ``return_sequences=True``; the output
is a linear Dense; the loss is mean squared error and the optimizer Adam.

Stateful models use :mod:`keraslab.layers` recurrent layers, because a Keras 3
``stateful=True`` layer is silently stateless inside ``fit``/``predict`` on the JAX
backend (and fails to train on PyTorch). Train them as the chapter does, in one
call: ``model.fit(x, y, batch_size=B, shuffle=False, epochs=E,
callbacks=[keraslab.callbacks.ResetStatesEachEpoch()])``, with ``len(x)`` a
multiple of ``B`` (also for ``predict``).

``input_shape``, when given (the scikit-learn wrappers fill it from the data),
overrides ``window_size`` and ``n_features``. A flat ``input_shape=(w,)`` — windows
stored as the columns of a 2-D array, as scikit-learn likes them — is reshaped to
``(w, 1)`` inside the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import layers

from keraslab import layers as lab_layers
from keraslab.errors import KeraslabValueError
from keraslab.zoo._common import OptimizerLike, check_int_tuple, check_positive_int, check_shape, compile_model

__all__ = ["lstm_regressor", "stateful_regressor", "time_distributed_model"]

_CELLS = {
    "lstm": (layers.LSTM, lab_layers.LSTM),
    "gru": (layers.GRU, lab_layers.GRU),
    "simple_rnn": (layers.SimpleRNN, lab_layers.SimpleRNN),
}


def _cell_class(cell: str, stateful: bool) -> type[layers.Layer]:
    try:
        plain, carried = _CELLS[cell]
    except (KeyError, TypeError):
        raise KeraslabValueError(f"cell must be one of {sorted(_CELLS)}. Received: cell={cell!r}") from None
    return carried if stateful else plain


def _sequence_shape(window_size: int, n_features: int, input_shape: Any) -> tuple[int, ...]:
    if input_shape is None:
        return (check_positive_int("window_size", window_size), check_positive_int("n_features", n_features))
    shape = check_shape("input_shape", input_shape)
    if len(shape) not in (1, 2):
        raise KeraslabValueError(
            "input_shape must be (window_size, n_features) or (window_size,). "
            f"Received: input_shape={input_shape!r}"
        )
    return shape


def _recurrent_stack(
    x: keras.KerasTensor, units: tuple[int, ...], cell: str, stateful: bool, return_sequences: bool = False
) -> keras.KerasTensor:
    layer_class = _cell_class(cell, stateful)
    for index, width in enumerate(units):
        feeds_another = index < len(units) - 1
        x = layer_class(width, return_sequences=feeds_another or return_sequences, stateful=stateful)(x)
    return x


def _build_regressor(
    name, shape, batch_size, units, cell, stateful, n_outputs, optimizer, learning_rate, loss
) -> keras.Model:
    units = check_int_tuple("units", units)
    check_positive_int("n_outputs", n_outputs)
    inputs = keras.Input(batch_shape=(batch_size, *shape))
    x = layers.Reshape((shape[0], 1))(inputs) if len(shape) == 1 else inputs
    x = _recurrent_stack(x, units, cell, stateful)
    outputs = layers.Dense(n_outputs)(x)
    model = keras.Model(inputs, outputs, name=name)
    return compile_model(model, optimizer=optimizer, learning_rate=learning_rate, loss=loss, metrics=None)


def lstm_regressor(
    window_size: int = 3,
    units: int | Sequence[int] = (3,),
    cell: str = "lstm",
    *,
    n_features: int = 1,
    input_shape: Sequence[int] | None = None,
    n_outputs: int = 1,
    optimizer: OptimizerLike = "adam",
    learning_rate: float | None = None,
    loss: Any = "mean_squared_error",
) -> keras.Model:
    """Stacked recurrent layers then Dense(``n_outputs``) linear; MSE, Adam.

    Parameters
    ----------
    window_size : int
        Time steps per sample (the chapter tries 1, 3, 5 and 13).
    units : int or sequence of int
        Width of each recurrent layer, e.g. ``(3,)``, ``(3, 3)`` or ``(9, 6, 3)``.
    cell : {"lstm", "gru", "simple_rnn"}
    n_features : int
        Values per time step.
    input_shape : tuple, optional
        Filled by the scikit-learn wrappers; overrides ``window_size``/``n_features``.
    n_outputs : int
        Values predicted per sample (filled by ``KerasRegressor``).

    Examples
    --------
    >>> lstm_regressor(13, units=(9, 6, 3)).count_params()
    904
    >>> lstm_regressor(3, cell="gru").count_params()
    58
    """
    shape = _sequence_shape(window_size, n_features, input_shape)
    return _build_regressor(
        f"{cell}_regressor", shape, None, units, cell, False, n_outputs, optimizer, learning_rate, loss
    )


def stateful_regressor(
    batch_size: int,
    window_size: int = 3,
    units: int | Sequence[int] = (50, 50),
    cell: str = "lstm",
    *,
    n_features: int = 1,
    input_shape: Sequence[int] | None = None,
    n_outputs: int = 1,
    optimizer: OptimizerLike = "adam",
    learning_rate: float | None = None,
    loss: Any = "mean_squared_error",
) -> keras.Model:
    """A stateful recurrent regressor: fixed ``batch_size`` in the Input, state kept across batches.

    The chapter's stateful model is LSTM(50, return_sequences) + LSTM(50) +
    Dense(1), every recurrent layer ``stateful=True``. Sample ``i`` of one batch
    continues from where sample ``i`` of the previous batch left off, so feed the
    data unshuffled with a length that is a multiple of ``batch_size``, and reset
    with :class:`keraslab.callbacks.ResetStatesEachEpoch`.

    Examples
    --------
    >>> model = stateful_regressor(batch_size=10)
    >>> model.count_params(), model.input_shape   # 30,651 trainable + 2,000 carried state
    (32651, (10, 3, 1))
    """
    check_positive_int("batch_size", batch_size)
    shape = _sequence_shape(window_size, n_features, input_shape)
    return _build_regressor(
        f"stateful_{cell}_regressor", shape, batch_size, units, cell, True, n_outputs, optimizer, learning_rate, loss
    )


def time_distributed_model(
    window_size: int = 5,
    units: int = 4,
    outputs_per_step: int = 5,
    *,
    n_features: int = 1,
    input_shape: Sequence[int] | None = None,
    optimizer: OptimizerLike = "adam",
    learning_rate: float | None = None,
    loss: Any = "mean_squared_error",
) -> keras.Model:
    """Listing B3-71: LSTM(4, return_sequences=True) then TimeDistributed(Dense(5)).

    The recurrent layer maps (samples, steps, features) to (samples, steps, 4);
    the one Dense layer is applied to every time step, giving (samples, steps, 5).

    Examples
    --------
    >>> model = time_distributed_model()
    >>> model.output_shape, model.count_params()
    ((None, 5, 5), 121)
    """
    shape = _sequence_shape(window_size, n_features, input_shape)
    inputs = keras.Input(shape=shape)
    x = layers.Reshape((shape[0], 1))(inputs) if len(shape) == 1 else inputs
    x = layers.LSTM(check_positive_int("units", units), return_sequences=True)(x)
    outputs = layers.TimeDistributed(layers.Dense(check_positive_int("outputs_per_step", outputs_per_step)))(x)
    model = keras.Model(inputs, outputs, name="time_distributed_model")
    return compile_model(model, optimizer=optimizer, learning_rate=learning_rate, loss=loss, metrics=None)
