"""The chapter's model-making functions, transcribed for the wrapper tests (Listing B3-6 style).

Kept here, not imported from keraslab.zoo, so the wrapper tests stand on their own.
"""

import keras
from keras.constraints import MaxNorm
from keras.layers import Dense, Dropout


def make_model(number_of_layers=2, neurons_per_layer=32, dropout_ratio=0.2, optimizer="adam"):
    """Listing B3-6: compiled with categorical cross-entropy, trained on integer labels."""
    model = keras.Sequential([keras.Input((784,))])
    for _ in range(number_of_layers):
        model.add(Dense(neurons_per_layer, activation="relu", kernel_constraint=MaxNorm(3)))
        model.add(Dropout(dropout_ratio))
    model.add(Dense(10, activation="softmax", kernel_initializer="normal"))
    model.compile(loss="categorical_crossentropy", optimizer=optimizer, metrics=["accuracy"])
    return model


def small_model(input_shape, n_classes, hidden=16):
    """Uncompiled: the wrapper picks loss and optimizer from the softmax output."""
    return keras.Sequential([keras.Input(input_shape), Dense(hidden, activation="relu"),
                             Dense(n_classes, activation="softmax")])


def sigmoid_model(input_shape, hidden=8):
    """One sigmoid unit, binary cross-entropy."""
    model = keras.Sequential([keras.Input(input_shape), Dense(hidden, activation="relu"),
                              Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer="adam")
    return model


def regression_model(input_shape, n_outputs, hidden=16, learning_rate=0.01):
    model = keras.Sequential([keras.Input(input_shape), Dense(hidden, activation="relu"), Dense(n_outputs)])
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate))
    return model
