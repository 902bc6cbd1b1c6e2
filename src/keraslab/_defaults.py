"""The models the wrappers use when no ``build_fn`` is given (also importable from
:mod:`keraslab.wrappers`)."""

from __future__ import annotations

import keras

__all__ = ["default_classifier", "default_regressor"]


def default_classifier(input_shape: tuple[int, ...], n_classes: int, hidden_units: int = 100,
                       learning_rate: float = 0.01, multilabel: bool = False) -> keras.Model:
    """The model used when no ``build_fn`` is given: one ReLU hidden layer, softmax output.

    For multilabel targets the output is one sigmoid unit per label with binary cross-entropy.
    """
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Flatten(),
        keras.layers.Dense(hidden_units, activation="relu"),
        keras.layers.Dense(n_classes, activation="sigmoid" if multilabel else "softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="binary_crossentropy" if multilabel else "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def default_regressor(input_shape: tuple[int, ...], n_outputs: int, hidden_units: int = 100,
                      learning_rate: float = 0.01) -> keras.Model:
    """The model used when no ``build_fn`` is given: one ReLU hidden layer, linear output, MSE."""
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Flatten(),
        keras.layers.Dense(hidden_units, activation="relu"),
        keras.layers.Dense(n_outputs),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    return model
