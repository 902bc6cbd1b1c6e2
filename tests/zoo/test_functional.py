"""keraslab.zoo.functional: the chapter's Functional API examples."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sklearn.model_selection import cross_val_score

from keraslab import KerasClassifier
from keraslab.zoo import functional as fn


def dense(n_in, n_out):
    return n_in * n_out + n_out


def weights_of(layer):
    return [keras.ops.convert_to_numpy(w).copy() for w in layer.weights]


def unchanged(before, layer):
    return all(np.array_equal(a, b) for a, b in zip(before, weights_of(layer)))


@pytest.fixture(scope="module")
def digits_or_noise(mnist_tiny):
    """MNIST rows (label 1) and uniform noise (label 0), interleaved."""
    x, _ = mnist_tiny
    noise = np.random.default_rng(0).random(x.shape, dtype="float32")
    both = np.empty((2 * len(x), x.shape[1]), "float32")
    both[0::2], both[1::2] = x, noise
    return both, np.tile([1, 0], len(x)).astype("float32")


def test_mnist_or_not_builds_counts_trains_predicts(digits_or_noise, trains):
    x, y = digits_or_noise
    model = fn.mnist_or_not()
    assert model.count_params() == dense(784, 1000) + dense(1000, 500) + dense(500, 1)  # 1,286,001
    assert model.loss == "binary_crossentropy"
    trains(model, x[:128], y[:128])
    assert model.predict(x[:4], verbose=0).shape == (4, 1)


def test_second_model_shares_the_first_models_layers(mnist_tiny):
    x, y = mnist_tiny
    first = fn.mnist_or_not(hidden_units=(32, 16))
    second = fn.reuse_hidden_layers(first, n_classes=10)
    assert second.get_layer("hidden_1") is first.get_layer("hidden_1")
    assert second.count_params() == dense(784, 32) + dense(32, 16) + dense(16, 10)
    kernel_before = weights_of(first.get_layer("hidden_1"))
    first_before = first.predict(x[:8], verbose=0)
    second.fit(x, keras.utils.to_categorical(y, 10), batch_size=32, epochs=1, verbose=0)
    # Training the second model changed the first one's weights and predictions.
    assert not unchanged(kernel_before, first.get_layer("hidden_1"))
    assert not np.allclose(first.predict(x[:8], verbose=0), first_before)
    # And the head of the first model was not touched.
    assert first.get_layer("is_digit") not in second.layers


def test_branching_model_merges_two_convolutions_with_add(mnist_tiny, trains):
    x, y = mnist_tiny
    model = fn.branching_model()
    image = 28 * 28
    assert model.count_params() == dense(784, image) + (9 * 16 + 16) + (25 * 16 + 16) + dense(image * 16, 10)
    merge = model.get_layer("merge")
    assert isinstance(merge, keras.layers.Add)
    assert {node.operation.name for node in merge._inbound_nodes[0].parent_nodes} == {"c2_a", "c2_b"}
    small = fn.branching_model(filters=4)
    trains(small, x[:64], keras.utils.to_categorical(y[:64], 10))
    assert small.predict(x[:2], verbose=0).shape == (2, 10)


def test_frozen_layers_do_not_move_and_unfrozen_ones_do(mnist_tiny):
    x, y = mnist_tiny
    y = keras.utils.to_categorical(y, 10)
    first = fn.mnist_or_not(hidden_units=(32, 16))
    second = fn.reuse_hidden_layers(first)
    frozen = first.get_layer("hidden_1")
    fn.set_trainable(frozen, False, models=[first, second])
    before, head_before = weights_of(frozen), weights_of(second.get_layer("digit"))
    second.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert unchanged(before, frozen)
    assert not unchanged(head_before, second.get_layer("digit"))
    fn.set_trainable(frozen, True, models=[first, second])
    second.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert not unchanged(before, frozen)


def test_keras3_needs_the_recompile_that_set_trainable_does(mnist_tiny):
    """Why set_trainable recompiles: Keras 3 on JAX refuses a changed trainable set."""
    if keras.backend.backend() != "jax":
        pytest.skip("the optimizer-variables error is what the JAX trainer raises")
    x, y = mnist_tiny
    model = fn.mnist_or_not(hidden_units=(8,))
    y = (y > 4).astype("float32")
    model.fit(x, y, epochs=1, verbose=0)
    model.get_layer("hidden_1").trainable = False
    with pytest.raises(ValueError, match="optimizer"):
        model.fit(x, y, epochs=1, verbose=0)


def test_set_trainable_keeps_the_learning_rate():
    model = fn.mnist_or_not(hidden_units=(4,), input_shape=(3,), learning_rate=0.05)
    fn.set_trainable(model.get_layer("hidden_1"), False, models=[model])
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)
    assert len(model.trainable_weights) == 2


def test_model_nested_as_a_layer_shares_weights_with_the_inner_model(mnist_tiny, trains):
    x, y = mnist_tiny
    inner = fn.feature_extractor((16, 8))
    model = fn.nested_model(inner)
    assert model.layers[1] is inner
    assert fn.nested_model().count_params() == dense(784, 256) + dense(256, 128) + dense(128, 10)
    before = inner.predict(x[:4], verbose=0)
    trains(model, x, keras.utils.to_categorical(y, 10))
    assert not np.allclose(inner.predict(x[:4], verbose=0), before)
    assert model.predict(x[:4], verbose=0).shape == (4, 10)


def test_pretrain_then_finetune(mnist_tiny):
    x, y = mnist_tiny
    # Pre-train on a related, easier task (digit parity), then learn the ten digits.
    result = fn.pretrain_then_finetune(
        x, y, x_pretrain=x, y_pretrain=y % 2, hidden_units=(16,), batch_size=32,
        pretrain_epochs=2, head_epochs=2, finetune_epochs=2,
    )  # fmt: skip
    assert set(result.histories) == {"pretrain", "head", "finetune"}
    assert all(len(h["loss"]) == 2 for h in result.histories.values())
    assert result.model.get_layer("trunk") is result.trunk
    assert all(layer.trainable for layer in result.trunk.layers)
    assert float(result.model.optimizer.learning_rate) == pytest.approx(1e-4)
    assert result.histories["finetune"]["loss"][-1] < result.histories["head"]["loss"][0]
    assert result.model.predict(x[:3], verbose=0).shape == (3, 10)


def test_pretrain_needs_both_or_neither_pretraining_arrays(mnist_tiny):
    x, y = mnist_tiny
    with pytest.raises(ValueError, match="Give both x_pretrain and y_pretrain"):
        fn.pretrain_then_finetune(x, y, x_pretrain=x)


def test_mnist_or_not_as_build_fn_cross_validates(digits_or_noise):
    x, y = digits_or_noise
    classifier = KerasClassifier(build_fn=fn.mnist_or_not, hidden_units=(16,), epochs=10, batch_size=32, verbose=0,
                                 random_state=0)  # fmt: skip
    scores = cross_val_score(classifier, x, y.astype(int), cv=2)
    assert np.all(scores > 0.9), scores  # digits vs noise is easy
