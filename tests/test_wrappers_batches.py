"""The wrappers on a keras.utils.PyDataset: fit / predict / score with y=None, on the backend in use."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keraslab import KerasClassifier, KerasRegressor
from keraslab.data.augment import ImageAugmenter
from keraslab.data.shapes import ShapesDataset
from keraslab.errors import KeraslabValueError


def small_cnn(input_shape, n_classes):
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Conv2D(4, 3, strides=2, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(n_classes, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


class Pairs(keras.utils.PyDataset):
    """A plain user Sequence: no ``y`` attribute, no ``num_classes``; string labels."""

    def __init__(self, x, y, batch_size):
        super().__init__()
        self.x, self.labels, self.batch_size = x, y, batch_size

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, i):
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[s], self.labels[s]


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 96)
    x = rng.random((96, 12, 12, 1), dtype=np.float32) * 0.2
    for k in range(3):  # a bright band whose row tells the class
        x[y == k, 4 * k: 4 * k + 4, :, 0] += 0.8
    return x, y


def test_shapes_dataset_fit_predict_score():
    data = ShapesDataset(batch_size=16, batches_per_epoch=3, image_size=32, seed=1)
    clf = KerasClassifier(small_cnn, epochs=2, random_state=0).fit(data)
    assert clf.classes_.tolist() == [0, 1, 2, 3, 4]  # from num_classes, no pass over the batches
    assert clf.input_shape_ == (32, 32, 1) and clf.n_features_in_ == 32
    assert len(clf.history_["loss"]) == 2
    x, y = data[0][0], data[0][1]
    proba = clf.predict_proba(data)
    assert proba.shape == (48, 5)
    np.testing.assert_allclose(proba[:16], clf.predict_proba(x), atol=1e-5)
    expected = float(np.mean(np.concatenate([clf.predict(data[i][0]) for i in range(3)])
                             == np.concatenate([data[i][1] for i in range(3)])))
    assert clf.score(data) == pytest.approx(expected)
    assert set(np.unique(clf.predict(data))) <= set(range(5)) and y.dtype.kind == "i"


def test_augmentation_flow_is_repeatable_and_matches_array_targets(images):
    x, y = images
    flow = ImageAugmenter(width_shift_range=0.1).flow(x, y, batch_size=32, seed=3)
    a = KerasClassifier(small_cnn, epochs=3, random_state=0).fit(flow)
    flow2 = ImageAugmenter(width_shift_range=0.1).flow(x, y, batch_size=32, seed=3)
    b = KerasClassifier(small_cnn, epochs=3, random_state=0).fit(flow2)
    np.testing.assert_allclose(a.history_["loss"], b.history_["loss"], rtol=1e-5)
    assert a.classes_.tolist() == [0, 1, 2]
    assert a.history_["loss"][-1] < a.history_["loss"][0]  # it learns from the augmented batches
    assert a.predict(x).shape == (96,)


def test_plain_sequence_with_string_labels_and_validation(images):
    x, y = images
    names = np.array(["low", "mid", "top"])[y]
    clf = KerasClassifier(small_cnn, epochs=2, random_state=0, validation_data=(x[:20], names[:20]))
    clf.fit(Pairs(x, names, 32))
    assert clf.classes_.tolist() == ["low", "mid", "top"]  # one pass over the batches
    assert "val_loss" in clf.history_
    assert clf.predict(Pairs(x, names, 32)).dtype.kind == "U"
    assert 0.0 <= clf.score(Pairs(x, names, 32)) <= 1.0


def test_regressor_on_batches():
    rng = np.random.default_rng(0)
    x = rng.random((64, 3)).astype("float32")
    y = x.sum(axis=1)
    reg = KerasRegressor(epochs=2, random_state=0).fit(Pairs(x, y, 16))
    assert reg.predict(Pairs(x, y, 16)).shape == (64,)
    assert np.isfinite(reg.score(Pairs(x, y, 16)))


@pytest.mark.parametrize("kwargs, word", [
    ({"y": np.zeros(96)}, "y cannot"),
    ({"sample_weight": np.ones(96)}, "sample_weight cannot"),
])
def test_batches_refuse_separate_targets_and_weights(images, kwargs, word):
    x, y = images
    with pytest.raises(KeraslabValueError, match=word):
        KerasClassifier(small_cnn, epochs=1).fit(Pairs(x, y, 32), **kwargs)


def test_batches_refuse_validation_split_and_score_with_y(images):
    x, y = images
    with pytest.raises(KeraslabValueError, match="validation_data"):
        KerasClassifier(small_cnn, epochs=1, validation_split=0.2).fit(Pairs(x, y, 32))
    clf = KerasClassifier(small_cnn, epochs=1, random_state=0).fit(Pairs(x, y, 32))
    with pytest.raises(KeraslabValueError, match="y=None"):
        clf.score(Pairs(x, y, 32), y)
    assert not hasattr(KerasClassifier(small_cnn), "model_")
