"""Synthetic shapes: five recognisable kinds, never two identical images, batches reproducible per (seed, index)."""

from __future__ import annotations

import doctest

import keras
import numpy as np
import pytest

from keraslab.data import shapes
from keraslab.data.shapes import SHAPES, ShapesDataset, draw_shape
from keraslab.errors import KeraslabValueError


def test_five_named_shapes():
    assert SHAPES == ("z", "plus", "three_lines", "square_u", "circle")


@pytest.mark.parametrize("kind", SHAPES)
def test_each_shape_is_a_grayscale_stroke_drawing(kind):
    image = draw_shape(kind, np.random.default_rng(0))
    assert image.shape == (64, 64) and image.dtype == np.float32
    assert image.min() == 0.0 and image.max() == 1.0
    assert 0.03 < (image > 0.5).mean() < 0.3
    assert np.array_equal(image, draw_shape(SHAPES.index(kind), np.random.default_rng(0)))


def test_shapes_have_their_characteristic_geometry():
    rng = np.random.default_rng(1)
    for _ in range(20):
        plus, circle, lines = (draw_shape(k, rng) for k in ("plus", "circle", "three_lines"))
        lit = plus > 0.5  # a long horizontal and a long vertical bar near the middle
        assert lit[22:42].sum(axis=1).max() > 30 and lit[:, 22:42].sum(axis=0).max() > 30
        assert circle[30:34, 30:34].max() == 0.0  # a ring: empty middle
        columns = (lines[20:44] > 0.5).mean(axis=0)
        assert ((columns[1:] > 0.5) & (columns[:-1] <= 0.5)).sum() == 3  # three vertical bars


def test_no_two_images_are_the_same():
    rng = np.random.default_rng(2)
    images = [draw_shape(kind, rng).tobytes() for kind in SHAPES for _ in range(200)]
    assert len(set(images)) == len(images)


def test_classes_are_separable_by_a_nearest_mean_classifier():
    train, test = ShapesDataset(64, 4, seed=0), ShapesDataset(64, 2, seed=1)
    x_train = np.concatenate([train[i][0] for i in range(4)]).reshape(256, -1)
    y_train = np.concatenate([train[i][1] for i in range(4)])
    means = np.stack([x_train[y_train == k].mean(axis=0) for k in range(5)])
    x_test = np.concatenate([test[i][0] for i in range(2)]).reshape(128, -1)
    y_test = np.concatenate([test[i][1] for i in range(2)])
    predicted = ((x_test[:, None, :] - means[None]) ** 2).sum(axis=2).argmin(axis=1)
    assert (predicted == y_test).mean() > 0.8


def test_dataset_batches_depend_only_on_seed_and_index():
    data = ShapesDataset(batch_size=8, batches_per_epoch=5, seed=7)
    assert len(data) == 5 and data.num_classes == 5
    x3, y3 = data[3]
    assert x3.shape == (8, 64, 64, 1) and x3.dtype == np.float32
    assert y3.dtype == np.int32 and set(y3.tolist()) <= set(range(5))
    data[0]
    data.on_epoch_end()
    again = ShapesDataset(batch_size=8, batches_per_epoch=5, seed=7)[3]
    np.testing.assert_array_equal(x3, again[0])
    np.testing.assert_array_equal(y3, again[1])
    other = ShapesDataset(batch_size=8, batches_per_epoch=5, seed=8)[3]
    assert not np.array_equal(x3, other[0])
    with pytest.raises(IndexError):
        data[5]
    assert ShapesDataset(batch_size=2, batches_per_epoch=1, image_size=32, seed=0)[0][0].shape == (2, 32, 32, 1)


def test_invalid_arguments():
    with pytest.raises(KeraslabValueError, match="kind='star'"):
        draw_shape("star", np.random.default_rng(0))
    with pytest.raises(KeraslabValueError, match="kind=5"):
        draw_shape(5, np.random.default_rng(0))
    with pytest.raises(KeraslabValueError, match="size=4"):
        draw_shape("z", np.random.default_rng(0), size=4)
    with pytest.raises(KeraslabValueError, match="batch_size=0"):
        ShapesDataset(batch_size=0)
    with pytest.raises(KeraslabValueError, match="size=2"):
        ShapesDataset(image_size=2)


def test_a_tiny_convnet_trains_one_epoch_on_the_dataset():
    train = ShapesDataset(batch_size=16, batches_per_epoch=6, image_size=64, seed=0)
    model = keras.Sequential(
        [
            keras.Input(shape=(64, 64, 1)),
            keras.layers.Conv2D(4, 5, strides=4, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(len(SHAPES), activation="softmax"),
        ]
    )
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(train, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    loss, accuracy = model.evaluate(ShapesDataset(16, 2, seed=1), verbose=0)
    assert np.isfinite(loss) and 0 <= accuracy <= 1


def test_docstring_examples_run():
    assert doctest.testmod(shapes).failed == 0
