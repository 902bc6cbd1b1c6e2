"""keraslab.zoo.dense: the chapter's dense MNIST classifiers."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from keraslab import KerasClassifier
from keraslab.errors import KeraslabValueError
from keraslab.zoo import dense


def dense_params(*widths):
    """Weights + biases of a chain of Dense layers, e.g. dense_params(784, 64, 10)."""
    return sum(a * b + b for a, b in zip(widths, widths[1:]))


CASES = [
    (dense.one_hidden_layer, {}, dense_params(784, 784, 10)),
    (dense.two_hidden_layers, {}, dense_params(784, 784, 784, 10)),
    (dense.one_hidden_layer, {"units": 64}, dense_params(784, 64, 10)),
    (dense.two_hidden_layers, {"units": 32}, dense_params(784, 32, 32, 10)),
    (dense.two_layers_with_dropout, {}, dense_params(784, 32, 32, 10)),  # dropout adds no weights
    (dense.make_model, {"number_of_layers": 3, "neurons_per_layer": 40}, dense_params(784, 40, 40, 40, 10)),
]


def test_hand_counts_match_the_chapter_sizes():
    assert dense_params(784, 784, 10) == 623_290
    assert dense_params(784, 784, 784, 10) == 1_238_730
    assert dense_params(784, 32, 32, 10) == 26_506


@pytest.mark.parametrize(("build", "kwargs", "expected"), CASES)
def test_builds_counts_trains_predicts(build, kwargs, expected, mnist_tiny, trains):
    x, y = mnist_tiny
    model = build(**kwargs)
    assert model.count_params() == expected
    trains(model, x, keras.utils.to_categorical(y, 10))
    probabilities = model.predict(x[:5], verbose=0)
    assert probabilities.shape == (5, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_make_model_is_listing_b3_6():
    model = dense.make_model(number_of_layers=3, neurons_per_layer=20, dropout_ratio=0.3, input_shape=(20,))
    hidden = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)][:-1]
    assert [layer.units for layer in hidden] == [20, 20, 20]
    assert all(isinstance(layer.kernel_constraint, keras.constraints.MaxNorm) for layer in hidden)
    assert all(layer.kernel_constraint.max_value == 3 for layer in hidden)
    assert [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)] == [0.3] * 3
    output = model.layers[-1]
    assert output.activation.__name__ == "softmax"
    assert isinstance(output.kernel_initializer, keras.initializers.RandomNormal)
    assert model.loss == "categorical_crossentropy"
    assert isinstance(model.optimizer, keras.optimizers.Adam)


@pytest.mark.parametrize(("learning_rate", "expected"), [(None, 0.001), (0.1, 0.1), (0.01, 0.01)])
def test_learning_rate_is_a_parameter(learning_rate, expected):
    model = dense.two_layers_with_dropout(4, input_shape=(3,), learning_rate=learning_rate)
    assert float(model.optimizer.learning_rate) == pytest.approx(expected)


def test_optimizer_by_name():
    model = dense.make_model(neurons_per_layer=4, input_shape=(3,), optimizer="adadelta")
    assert isinstance(model.optimizer, keras.optimizers.Adadelta)


def test_image_input_gets_a_flatten():
    model = dense.one_hidden_layer(64, input_shape=(28, 28))
    assert isinstance(model.layers[1], keras.layers.Flatten)
    assert model.count_params() == dense_params(784, 64, 10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"number_of_layers": 0}, "Received: number_of_layers=0"),
        ({"dropout_ratio": 1.5}, "Received: dropout_ratio=1.5"),
        ({"optimizer": "adamm"}, "Received: optimizer='adamm'"),
        ({"learning_rate": -1}, "Received: learning_rate=-1"),
    ],
)
def test_bad_arguments_say_what_was_received(kwargs, message):
    with pytest.raises(KeraslabValueError, match=message):
        dense.make_model(input_shape=(3,), **kwargs)


def test_make_model_as_build_fn_cross_validates_with_integer_labels(mnist_tiny):
    """The chapter's notebook-2 call: pipeline with MinMaxScaler, integer labels, categorical CE."""
    x, y = mnist_tiny
    classifier = KerasClassifier(
        build_fn=dense.make_model, number_of_layers=1, neurons_per_layer=32, epochs=3, batch_size=16,
        verbose=0, random_state=0,
    )  # fmt: skip
    assert classifier.get_params()["neurons_per_layer"] == 32
    scores = cross_val_score(
        make_pipeline(MinMaxScaler(), classifier), x, y, cv=StratifiedKFold(2, shuffle=True, random_state=42)
    )
    assert scores.shape == (2,)
    assert np.all(scores > 0.3), scores  # chance is 0.1
