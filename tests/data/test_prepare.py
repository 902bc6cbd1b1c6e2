"""The chapter's preprocessing: float32 casts, [0,1] and [-1,1] scaling, flat rows, channels-last images, one-hot."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from keraslab.data import prepare
from keraslab.data.prepare import one_hot, scale, to_flat, to_float32, to_images
from keraslab.errors import KeraslabValueError


def test_scale_to_unit_interval_is_exactly_divide_by_255(mnist_arrays):
    x = mnist_arrays["x_train"][:500]
    scaled = scale(x)
    assert scaled.dtype == np.float32
    np.testing.assert_array_equal(scaled, x.astype("float32") / 255.0)
    assert scaled.min() == 0.0 and scaled.max() == 1.0


def test_scale_to_minus_one_one_matches_the_chapters_interp(mnist_arrays):
    x = mnist_arrays["x_train"][:500]
    scaled = scale(x, range=(-1, 1))
    np.testing.assert_allclose(scaled, np.interp(x, [0, 255], [-1, 1]), atol=1e-6)
    assert scaled.dtype == np.float32 and scaled.min() == -1.0 and scaled.max() == 1.0


def test_scale_clips_like_interp_and_validates_ranges():
    values = np.array([-10.0, 0.0, 127.5, 300.0])
    np.testing.assert_allclose(scale(values, range=(-1, 1)), np.interp(values, [0, 255], [-1, 1]), atol=1e-6)
    np.testing.assert_allclose(scale([0, 5, 10], source_range=(0, 10)), [0, 0.5, 1])
    with pytest.raises(KeraslabValueError, match="range=\\(1, 0\\)"):
        scale(values, range=(1, 0))
    with pytest.raises(KeraslabValueError, match="source_range=\\(3, 3\\)"):
        scale(values, source_range=(3, 3))


def test_to_float32_does_not_copy_float32():
    x = np.zeros(3, dtype=np.float32)
    assert to_float32(x) is x
    assert to_float32(np.zeros(3, dtype=np.uint8)).dtype == np.float32


def test_flat_and_image_shapes(mnist_arrays):
    x = mnist_arrays["x_train"][:10]
    flat = to_flat(x)
    assert flat.shape == (10, 784)
    images = to_images(flat)
    assert images.shape == (10, 28, 28, 1)  # channels last, not the chapter's (1, 28, 28)
    np.testing.assert_array_equal(images[..., 0], x)
    assert to_images(x).shape == (10, 28, 28, 1)
    assert to_images(images) is images
    assert to_flat(images).shape == (10, 784)
    assert to_images(np.zeros((2, 32 * 32 * 3)), image_shape=(32, 32, 3)).shape == (2, 32, 32, 3)
    assert to_images(np.zeros((2, 12)), image_shape=(3, 4)).shape == (2, 3, 4, 1)


def test_shape_errors_name_what_was_received():
    with pytest.raises(KeraslabValueError, match="shape \\(2, 10\\)"):
        to_images(np.zeros((2, 10)))
    with pytest.raises(KeraslabValueError, match="image_shape=\\(3, 3\\)"):
        to_images(np.zeros((2, 10)), image_shape=(3, 3))
    with pytest.raises(KeraslabValueError, match="shape \\(5,\\)"):
        to_flat(np.zeros(5))


def test_one_hot_keeps_the_original_labels():
    labels = np.array(["cat", "dog", "ant", "dog"])
    encoded, classes = one_hot(labels)
    assert encoded.dtype == np.float32 and encoded.shape == (4, 3)
    assert classes.tolist() == ["ant", "cat", "dog"]
    np.testing.assert_array_equal(encoded.sum(axis=1), 1)
    np.testing.assert_array_equal(classes[encoded.argmax(axis=1)], labels)


def test_one_hot_of_mnist_labels(mnist_arrays):
    y = mnist_arrays["y_train"][:1000]
    encoded, classes = one_hot(y)
    assert encoded.shape == (1000, 10)
    assert classes.tolist() == list(range(10))
    np.testing.assert_array_equal(encoded.argmax(axis=1), y)
    with pytest.raises(KeraslabValueError, match="shape \\(2, 2\\)"):
        one_hot(np.zeros((2, 2)))


def test_docstring_examples_run():
    assert doctest.testmod(prepare).failed == 0
