"""Targets: labels of every kind in, the loss's encoding chosen after the model is built, labels out."""

import numpy as np
import pytest
import keras

from chapter_models import make_model, sigmoid_model, small_model
from keraslab import KerasClassifier

RNG = np.random.RandomState(0)
X = RNG.rand(60, 4).astype("float32")
IDX = (X[:, 0] * 3).astype(int)  # three learnable classes


@pytest.mark.parametrize("labels", [
    IDX, np.array(["cat", "dog", "emu"])[IDX], (IDX == 1), IDX.astype(float) * 10,
])
def test_label_types_round_trip(labels):
    clf = KerasClassifier(build_fn=small_model, epochs=2, random_state=0).fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, np.unique(labels))
    pred = clf.predict(X)
    assert pred.dtype == np.asarray(labels).dtype and set(pred) <= set(labels)
    proba = clf.predict_proba(X)
    assert proba.shape == (60, len(np.unique(labels)))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)


def test_one_hot_targets_predict_one_hot():
    Y = np.eye(3)[IDX]
    clf = KerasClassifier(build_fn=small_model, epochs=1).fit(X, Y)
    assert clf.predict(X).shape == (60, 3) and set(clf.predict(X).sum(axis=1)) == {1}


def test_multilabel_targets_with_the_default_model():
    Y = np.column_stack([X[:, 0] > 0.5, X[:, 1] > 0.5, X[:, 2] > 0.3]).astype(int)
    clf = KerasClassifier(epochs=2).fit(X, Y)
    assert clf.model_.loss == "binary_crossentropy"
    assert clf.predict(X).shape == (60, 3) and clf.predict_proba(X).shape == (60, 3)


@pytest.mark.parametrize("loss, expected", [
    ("categorical_crossentropy", (8, 3)), ("sparse_categorical_crossentropy", (8,)),
])
def test_encoding_follows_the_compiled_loss(loss, expected):
    def build(input_shape, n_classes):
        model = small_model(input_shape, n_classes)
        model.compile(loss=loss, optimizer="adam")
        return model

    clf = KerasClassifier(build_fn=build, epochs=1).fit(X, IDX)
    assert clf._targets.encode(IDX[:8]).shape == expected


def test_single_sigmoid_unit_gives_two_probability_columns():
    y = np.where(X[:, 0] > 0.5, "yes", "no")
    clf = KerasClassifier(build_fn=sigmoid_model, epochs=20, learning_rate=0.05, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (60, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.score(X, y) > 0.7


def test_uncompiled_logits_model_gets_a_from_logits_loss():
    def build(input_shape, n_classes):
        return keras.Sequential([keras.Input(input_shape), keras.layers.Dense(n_classes)])

    clf = KerasClassifier(build_fn=build, epochs=1).fit(X, IDX)
    assert clf.model_.loss.get_config()["from_logits"] is True
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)


def test_output_width_mismatch_states_both_shapes():
    with pytest.raises(ValueError, match=r"10 output unit\(s\).*3 classes.*\(None, 3\).*\(None, 10\)"):
        KerasClassifier(build_fn=make_model, epochs=1).fit(np.zeros((6, 784), "float32"), [0, 1, 2] * 2)


def test_data_derived_arguments_fill_only_what_build_fn_asks_and_user_did_not_set():
    seen = {}

    def build(input_shape, n_classes, hidden=4):
        seen.update(input_shape=input_shape, n_classes=n_classes)
        return small_model(input_shape, n_classes, hidden)

    KerasClassifier(build_fn=build, epochs=1).fit(X, IDX)
    assert seen == {"input_shape": (4,), "n_classes": 3}
    images = RNG.rand(12, 5, 5, 1).astype("float32")
    KerasClassifier(build_fn=lambda input_shape, n_classes: keras.Sequential(
        [keras.Input(input_shape), keras.layers.Flatten(), keras.layers.Dense(n_classes, activation="softmax")]),
        epochs=1).fit(images, np.arange(12) % 2)


def test_unseen_labels_at_partial_fit_are_rejected():
    clf = KerasClassifier(build_fn=small_model).partial_fit(X, IDX, classes=[0, 1, 2, 3])
    assert clf.classes_.tolist() == [0, 1, 2, 3] and clf.predict_proba(X).shape == (60, 4)
    with pytest.raises(ValueError, match="not seen"):
        clf.partial_fit(X[:2], [0, 7])
