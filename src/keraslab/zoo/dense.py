"""Dense MNIST classifiers of the chapter's first two notebooks.

All take ``input_shape`` and ``n_classes`` by name (defaults: flat MNIST, 10
digits), so a scikit-learn wrapper can fill them from the data, and return a model
compiled with the chapter's settings: categorical cross-entropy, Adam, accuracy.

=====================  ==============================================  ==========
chapter model          call                                            parameters
=====================  ==============================================  ==========
baseline 784           ``one_hidden_layer()``                          623,290
two layers of 784      ``two_hidden_layers()``                         1,238,730
one layer of 64        ``one_hidden_layer(64)``                        50,890
two layers of 32       ``two_hidden_layers(32)``                       26,506
2x32 with dropout      ``two_layers_with_dropout()``                   26,506
Listing B3-6           ``make_model(number_of_layers=2, ...)``         26,506
=====================  ==============================================  ==========

A non-flat ``input_shape`` such as ``(28, 28)`` gets a ``Flatten`` in front, so the
same functions accept images.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import layers

from keraslab.zoo._common import (
    OptimizerLike,
    check_fraction,
    check_int_tuple,
    check_positive_int,
    check_shape,
    compile_model,
)

__all__ = ["dense_classifier", "one_hidden_layer", "two_hidden_layers", "two_layers_with_dropout", "make_model"]

_LOSS = "categorical_crossentropy"
_METRICS = ("accuracy",)


def _inputs(input_shape: Any) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    shape = check_shape("input_shape", input_shape)
    inputs = keras.Input(shape=shape)
    return inputs, (layers.Flatten()(inputs) if len(shape) > 1 else inputs)


def dense_classifier(
    hidden_units: int | Sequence[int] = (784,),
    *,
    input_shape: Sequence[int] = (784,),
    n_classes: int = 10,
    activation: str = "relu",
    optimizer: OptimizerLike = "adam",
    learning_rate: float | None = None,
    loss: Any = _LOSS,
    metrics: Sequence[Any] | None = _METRICS,
) -> keras.Model:
    """Dense layers of the given widths, then a softmax over ``n_classes``.

    Parameters
    ----------
    hidden_units : int or sequence of int
        Width of each hidden layer, e.g. ``(784,)`` (the baseline) or ``(32, 32)``.
    input_shape, n_classes : filled by the scikit-learn wrappers from the data.
    activation : str
        Activation of the hidden layers.
    optimizer, learning_rate : optimizer name or instance; ``None`` keeps its default rate.
    loss, metrics : the compile arguments (chapter: categorical cross-entropy, accuracy).

    Returns
    -------
    keras.Model
        A compiled model.

    Examples
    --------
    >>> dense_classifier((64,)).count_params()
    50890
    """
    widths = check_int_tuple("hidden_units", hidden_units)
    check_positive_int("n_classes", n_classes)
    inputs, x = _inputs(input_shape)
    for width in widths:
        x = layers.Dense(width, activation=activation)(x)
    outputs = layers.Dense(n_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name="dense_classifier")
    return compile_model(model, optimizer=optimizer, learning_rate=learning_rate, loss=loss, metrics=metrics)


def one_hidden_layer(
    units: int = 784,
    *,
    input_shape: Sequence[int] = (784,),
    n_classes: int = 10,
    optimizer: OptimizerLike = "adam",
    learning_rate: float | None = None,
) -> keras.Model:
    """The chapter's baseline: Dense ``units`` relu, softmax (784 = one unit per pixel; also 64).

    Examples
    --------
    >>> one_hidden_layer().count_params()
    623290
    """
    return dense_classifier(
        (check_positive_int("units", units),),
        input_shape=input_shape,
        n_classes=n_classes,
        optimizer=optimizer,
        learning_rate=learning_rate,
    )


def two_hidden_layers(
    units: int = 784,
    *,
    input_shape: Sequence[int] = (784,),
    n_classes: int = 10,
    optimizer: OptimizerLike = "adam",
    learning_rate: float | None = None,
) -> keras.Model:
    """Two Dense relu layers of ``units`` each, softmax (the chapter's 784+784 and 32+32).

    Examples
    --------
    >>> two_hidden_layers(32).count_params()
    26506
    """
    check_positive_int("units", units)
    return dense_classifier(
        (units, units),
        input_shape=input_shape,
        n_classes=n_classes,
        optimizer=optimizer,
        learning_rate=learning_rate,
    )


def _regularised_stack(
    x: keras.KerasTensor, number_of_layers: int, neurons_per_layer: int, dropout_ratio: float, max_norm: float | None
) -> keras.KerasTensor:
    for _ in range(number_of_layers):
        constraint = keras.constraints.MaxNorm(max_norm) if max_norm is not None else None
        x = layers.Dense(neurons_per_layer, activation="relu", kernel_constraint=constraint)(x)
        x = layers.Dropout(dropout_ratio)(x)
    return x


def two_layers_with_dropout(
    units: int = 32,
    dropout_ratio: float = 0.2,
    max_norm: float | None = 3.0,
    *,
    input_shape: Sequence[int] = (784,),
    n_classes: int = 10,
    optimizer: OptimizerLike = "adam",
    learning_rate: float | None = None,
) -> keras.Model:
    """Twice (Dense ``units`` relu with MaxNorm(3), Dropout 0.2), then softmax (Figs 12-15).

    The chapter's learning-rate experiments are ``learning_rate=0.1`` and ``0.01``.

    Examples
    --------
    >>> model = two_layers_with_dropout(learning_rate=0.01)
    >>> model.count_params(), round(float(model.optimizer.learning_rate), 4)
    (26506, 0.01)
    """
    check_positive_int("units", units)
    dropout_ratio = check_fraction("dropout_ratio", dropout_ratio)
    check_positive_int("n_classes", n_classes)
    inputs, x = _inputs(input_shape)
    x = _regularised_stack(x, 2, units, dropout_ratio, max_norm)
    outputs = layers.Dense(n_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name="two_layers_with_dropout")
    return compile_model(model, optimizer=optimizer, learning_rate=learning_rate, loss=_LOSS, metrics=_METRICS)


def make_model(
    number_of_layers: int = 2,
    neurons_per_layer: int = 32,
    dropout_ratio: float = 0.2,
    optimizer: OptimizerLike = "adam",
    learning_rate: float | None = None,
    *,
    input_shape: Sequence[int] = (784,),
    n_classes: int = 10,
) -> keras.Model:
    """Listing B3-6: the model function the chapter hands to scikit-learn.

    ``number_of_layers`` times (Dense ``neurons_per_layer`` relu with MaxNorm(3),
    Dropout ``dropout_ratio``), then a softmax with ``kernel_initializer="normal"``;
    categorical cross-entropy, accuracy. The chapter reads the input size and the
    number of classes from globals; here they are parameters the wrapper fills.

    Note: Keras 3's Adadelta defaults to ``learning_rate=0.001`` (Keras 2: 1.0), so
    the chapter's Adam-vs-Adadelta grid needs ``learning_rate`` to be comparable.

    Examples
    --------
    >>> from keraslab import KerasClassifier
    >>> clf = KerasClassifier(build_fn=make_model, number_of_layers=3, epochs=1, verbose=0)
    >>> make_model(number_of_layers=3, neurons_per_layer=40).count_params()
    35090
    """
    check_positive_int("number_of_layers", number_of_layers)
    check_positive_int("neurons_per_layer", neurons_per_layer)
    dropout_ratio = check_fraction("dropout_ratio", dropout_ratio)
    check_positive_int("n_classes", n_classes)
    inputs, x = _inputs(input_shape)
    x = _regularised_stack(x, number_of_layers, neurons_per_layer, dropout_ratio, 3.0)
    outputs = layers.Dense(n_classes, activation="softmax", kernel_initializer="normal")(x)
    model = keras.Model(inputs, outputs, name="make_model")
    return compile_model(model, optimizer=optimizer, learning_rate=learning_rate, loss=_LOSS, metrics=_METRICS)
