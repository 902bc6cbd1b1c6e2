"""keraslab.zoo.cnn (channels-last CNNs of notebook 3) and keraslab.layers.ReshapeMaxPooling2D."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sklearn.model_selection import cross_val_score

from keraslab import KerasClassifier
from keraslab.errors import KeraslabValueError
from keraslab.layers import ReshapeMaxPooling2D
from keraslab.zoo import cnn


def conv(k, c_in, c_out):
    return k * k * c_in * c_out + c_out


def dense(n_in, n_out):
    return n_in * n_out + n_out


CASES = [
    # Conv 32 5x5 same keeps 28x28: flatten 28*28*32.
    (cnn.simple_cnn, {}, conv(5, 1, 32) + dense(28 * 28 * 32, 10)),
    (cnn.bigger_cnn, {}, conv(5, 1, 16) + conv(3, 16, 8) + conv(3, 8, 8) + dense(28 * 28 * 8, 10)),
    # Two same-padded 2x2 pools (or two stride-2 convs): 28 -> 14 -> 7, flatten 7*7*16.
    (cnn.pooling_cnn, {}, conv(5, 1, 30) + conv(3, 30, 16) + dense(784, 128) + dense(128, 64) + dense(64, 10)),
    (cnn.pooling_cnn, {"pool": "reshape"},
     conv(5, 1, 30) + conv(3, 30, 16) + dense(784, 128) + dense(128, 64) + dense(64, 10)),
    (cnn.striding_cnn, {}, conv(5, 1, 30) + conv(3, 30, 16) + dense(784, 128) + dense(128, 64) + dense(64, 10)),
    # BatchNormalization: gamma, beta, moving mean, moving variance per channel.
    (cnn.striding_batchnorm_cnn, {},
     conv(5, 1, 30) + 4 * 30 + conv(3, 30, 16) + 4 * 16 + dense(784, 128) + dense(128, 64) + dense(64, 10)),
    # Three blocks of two 3x3 convs: 28 -> 14 -> 7 -> 4, flatten 4*4*64.
    (cnn.vgg_like, {},
     conv(3, 1, 16) + conv(3, 16, 16) + conv(3, 16, 32) + conv(3, 32, 32) + conv(3, 32, 64) + conv(3, 64, 64)
     + dense(4 * 4 * 64, 128) + dense(128, 10)),
    (cnn.vgg_like, {"downsample": "stride"},
     conv(3, 1, 16) + conv(3, 16, 16) + conv(3, 16, 32) + conv(3, 32, 32) + conv(3, 32, 64) + conv(3, 64, 64)
     + dense(4 * 4 * 64, 128) + dense(128, 10)),
]  # fmt: skip


@pytest.mark.parametrize(("build", "kwargs", "expected"), CASES)
def test_builds_counts_trains_predicts(build, kwargs, expected, mnist_tiny_images, trains):
    x, y = mnist_tiny_images
    x, y = x[:64], y[:64]
    model = build(**kwargs)
    assert model.count_params() == expected
    assert model.input_shape == (None, 28, 28, 1)
    trains(model, x, keras.utils.to_categorical(y, 10))
    assert model.predict(x[:3], verbose=0).shape == (3, 10)


def test_striding_and_pooling_cnns_differ_only_in_downsampling():
    pooling, striding = cnn.pooling_cnn(), cnn.striding_cnn()
    assert pooling.count_params() == striding.count_params() == 114_502
    assert sum(isinstance(layer, keras.layers.MaxPooling2D) for layer in pooling.layers) == 2
    assert not any(isinstance(layer, keras.layers.MaxPooling2D) for layer in striding.layers)
    assert [layer.strides for layer in striding.layers if isinstance(layer, keras.layers.Conv2D)] == [(2, 2)] * 2


def test_batchnorm_sits_between_linear_conv_and_relu():
    kinds = [type(layer).__name__ for layer in cnn.striding_batchnorm_cnn().layers]
    assert kinds[1:7] == ["Conv2D", "BatchNormalization", "Activation"] * 2
    convs = [layer for layer in cnn.striding_batchnorm_cnn().layers if isinstance(layer, keras.layers.Conv2D)]
    assert all(layer.activation.__name__ == "linear" for layer in convs)
    assert "Dropout" not in kinds


def test_vgg_striding_variant_strides_the_last_conv_of_each_block():
    model = cnn.vgg_like(blocks=2, convs_per_block=3, filters=8, downsample="stride")
    strides = [layer.strides[0] for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert strides == [1, 1, 2, 1, 1, 2]
    assert model.layers[-3].output.shape == (None, 7 * 7 * 8)  # the Flatten


def test_conv_max_norm_bounds_each_filter_not_each_kernel_row():
    """MaxNorm(3) on a Conv2D with the default axis=0 lets a 5x5 filter's norm reach 3*sqrt(5)."""
    model = cnn.bigger_cnn()
    constraints = [layer.kernel_constraint for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.axis for c in constraints] == [[0, 1, 2]] * 3
    kernel = np.full((5, 5, 1, 16), 2.0, dtype="float32")  # each filter's norm is 10
    bounded = keras.ops.convert_to_numpy(constraints[0](kernel))
    np.testing.assert_allclose(np.sqrt((bounded**2).sum(axis=(0, 1, 2))), 3.0, rtol=1e-5)
    default = keras.ops.convert_to_numpy(keras.constraints.MaxNorm(3)(kernel))
    assert np.sqrt((default**2).sum(axis=(0, 1, 2))).min() > 6.0  # 3 * sqrt(5) = 6.7: not bounded by 3


def test_shapes_cnn_for_64x64_images_and_five_classes(trains):
    rng = np.random.default_rng(0)
    x = rng.random((32, 64, 64, 1), dtype="float32")
    y = keras.utils.to_categorical(np.arange(32) % 5, 5)
    model = cnn.shapes_cnn()
    assert model.count_params() == conv(3, 1, 16) + 2 * conv(3, 16, 16) + dense(8 * 8 * 16, 32) + dense(32, 5)
    trains(model, x, y, batch_size=16)
    assert model.predict(x[:2], verbose=0).shape == (2, 5)


def test_channels_first_shape_is_refused_with_a_hint():
    with pytest.raises(KeraslabValueError, match=r"channels-last.*Received: input_shape=\(1, 28, 28\)"):
        cnn.simple_cnn(input_shape=(1, 28, 28))


@pytest.mark.parametrize(("size", "pool", "padding"), [(28, 2, "same"), (7, 2, "same"), (7, 2, "valid"), (7, 3, "same")])
def test_reshape_max_pooling_equals_keras_max_pooling(size, pool, padding):
    x = np.random.default_rng(1).normal(size=(2, size, size, 3)).astype("float32")
    expected = keras.layers.MaxPooling2D(pool, padding=padding)(x)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(ReshapeMaxPooling2D(pool, padding=padding)(x)), keras.ops.convert_to_numpy(expected)
    )


def test_reshape_max_pooling_gradient_matches_without_ties():
    if keras.backend.backend() != "jax":
        pytest.skip("gradient check written with jax.grad")
    import jax

    x = np.random.default_rng(2).normal(size=(1, 7, 7, 2)).astype("float32")
    weights = np.random.default_rng(3).normal(size=(1, 4, 4, 2)).astype("float32")
    keras_pool, reshape_pool = keras.layers.MaxPooling2D(2, padding="same"), ReshapeMaxPooling2D(2, padding="same")
    grad_keras = jax.grad(lambda v: (keras_pool(v) * weights).sum())(x)
    grad_reshape = jax.grad(lambda v: (reshape_pool(v) * weights).sum())(x)
    np.testing.assert_allclose(np.asarray(grad_reshape), np.asarray(grad_keras), rtol=1e-6)


def test_reshape_max_pooling_round_trips_through_saving(tmp_path):
    inputs = keras.Input((6, 6, 1))
    model = keras.Model(inputs, ReshapeMaxPooling2D(2, padding="same")(inputs))
    model.save(tmp_path / "pool.keras")
    loaded = keras.models.load_model(tmp_path / "pool.keras")
    assert loaded.layers[1].get_config()["pool_size"] == 2


def test_striding_cnn_as_build_fn_cross_validates(mnist_tiny_images):
    x, y = mnist_tiny_images
    classifier = KerasClassifier(
        build_fn=cnn.striding_cnn, filters=(8, 4), dense_units=(16,), learning_rate=0.01, epochs=10, batch_size=16,
        verbose=0, random_state=0,
    )  # fmt: skip
    scores = cross_val_score(classifier, x, y, cv=2)
    assert scores.shape == (2,)
    assert np.all(scores > 0.5), scores  # chance is 0.1; measured 0.64-0.78 on JAX and PyTorch
