"""One shape contract for targets and predictions (issue #11, faults 3, 4 and 7).

Regressor: ``fit`` takes ``y`` as (n,), (n, k) or the model's own output shape; several
outputs take ``y``'s columns in order; ``predict`` returns (n,) for a 1-D ``y``, else
(n, n_outputs), in float32; ``score`` works on all of them. Classifier: one output of
shape (None, n_classes) or (None, 1), one label per sample; anything else is refused
before training. The ``multi_label`` tag is derived from what ``build_fn`` can do.
"""

import keras
import numpy as np
import pytest
from keras import layers
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import check_estimator

from chapter_models import small_model
from keraslab import KerasClassifier, KerasRegressor

RNG = np.random.RandomState(0)
X = RNG.rand(120, 4).astype("float32")
Y2 = np.column_stack([X.sum(axis=1), X[:, 0] - X[:, 1]]).astype("float32")
IMAGES = RNG.rand(150, 8, 8, 1).astype("float32")


def two_heads(input_shape, loss="mse"):
    inputs = keras.Input(input_shape)
    hidden = layers.Dense(16, activation="relu")(inputs)
    model = keras.Model(inputs, [layers.Dense(1, name="a")(hidden), layers.Dense(1, name="b")(hidden)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss)
    return model


def autoencoder(input_shape, filters=4):
    inputs = keras.Input(input_shape)
    hidden = layers.Conv2D(filters, 3, padding="same", activation="relu")(inputs)
    return keras.Model(inputs, layers.Conv2D(1, 3, padding="same")(hidden))


def test_a_two_headed_regressor_trains_each_head_on_its_column():
    reg = KerasRegressor(build_fn=two_heads, epochs=40, batch_size=16, random_state=0).fit(X, Y2)
    pred = reg.predict(X)
    assert pred.shape == (120, 2) and pred.dtype == np.float32
    assert reg.score(X, Y2) > 0.8  # both heads learned: the untrained second head scores far below 0
    per_head = [np.corrcoef(pred[:, i], Y2[:, i])[0, 1] for i in range(2)]
    assert min(per_head) > 0.9
    three = np.column_stack([Y2, Y2[:, :1]])
    with pytest.raises(ValueError, match=r"2 output\(s\).*y has 3 value"):
        KerasRegressor(build_fn=two_heads, epochs=1).fit(X, three)


def test_a_multi_output_classifier_is_refused_before_training_naming_the_output_count():
    clf = KerasClassifier(build_fn=two_heads, loss="binary_crossentropy", epochs=1)
    with pytest.raises(ValueError, match=r"has 2 output\(s\)"):
        clf.fit(X, (X[:, 0] > 0.5).astype(int))
    assert not hasattr(clf, "model_")


@pytest.mark.parametrize("y_shape", [(150, 8, 8, 1), (150, 64), (150, 8, 8)])
def test_autoencoder_targets_in_any_layout_predict_n_by_n_outputs_and_score(y_shape):
    y = IMAGES.reshape(y_shape)
    reg = KerasRegressor(build_fn=autoencoder, epochs=2, batch_size=32, random_state=0).fit(IMAGES, y)
    pred = reg.predict(IMAGES)
    assert pred.shape == (150, 64) and pred.dtype == np.float32 and reg.n_outputs_ == 64
    score = reg.score(IMAGES, y)
    assert np.isfinite(score)
    flat = IMAGES.reshape(150, 64)
    np.testing.assert_allclose(score, reg.score(IMAGES, flat), rtol=1e-6)


def test_grid_search_over_an_autoencoder_scores_every_candidate():
    search = GridSearchCV(KerasRegressor(build_fn=autoencoder, epochs=1, random_state=0),
                          {"filters": [2, 4]}, cv=2, error_score="raise")
    search.fit(IMAGES[:60], IMAGES[:60])
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_a_regressor_whose_output_does_not_match_y_is_refused_before_training():
    with pytest.raises(ValueError, match=r"64 value\(s\) per sample in all, but y has 1"):
        KerasRegressor(build_fn=autoencoder, epochs=1).fit(IMAGES, IMAGES.mean(axis=(1, 2, 3)))


def test_classifier_shapes_that_have_no_meaning_are_refused():
    with pytest.raises(ValueError, match=r"one label per sample.*\(150, 8, 8, 1\)"):
        KerasClassifier(build_fn=autoencoder, epochs=1).fit(IMAGES, (IMAGES > 0.5).astype(int))

    def per_pixel(input_shape, n_classes):
        inputs = keras.Input(input_shape)
        return keras.Model(inputs, layers.Conv2D(n_classes, 1, activation="softmax")(inputs))

    with pytest.raises(ValueError, match=r"output\(s\) of shape\(s\) \[\(None, 8, 8, 2\)\]"):
        KerasClassifier(build_fn=per_pixel, epochs=1).fit(IMAGES, (IMAGES.mean(axis=(1, 2, 3)) > 0.5).astype(int))


def test_one_dimensional_and_column_targets_keep_their_contract():
    y = X.sum(axis=1)
    reg = KerasRegressor(epochs=1, random_state=0).fit(X, y)
    assert reg.predict(X).shape == (120,) and reg.predict(X).dtype == np.float32
    assert KerasRegressor(epochs=1).fit(X, Y2).predict(X).shape == (120, 2)


def test_the_multi_label_tag_is_derived_from_the_build_fn():
    def multilabel_model(input_shape, n_classes, multilabel=False):
        model = small_model(input_shape, n_classes)
        return model

    assert KerasClassifier().__sklearn_tags__().classifier_tags.multi_label is True
    assert KerasClassifier(build_fn=small_model).__sklearn_tags__().classifier_tags.multi_label is False
    assert KerasClassifier(build_fn=multilabel_model).__sklearn_tags__().classifier_tags.multi_label is True
    softmax = small_model((4,), 3)
    assert KerasClassifier(build_fn=softmax).__sklearn_tags__().classifier_tags.multi_label is False


@pytest.mark.slow
def test_check_estimator_passes_on_a_users_softmax_model():
    failed = check_estimator(KerasClassifier(build_fn=small_model, epochs=5, random_state=0),
                             expected_failed_checks={"check_sample_weight_equivalence_on_dense_data": "SGD"},
                             on_fail=None)
    assert [r["check_name"] for r in failed if r["status"] == "failed"] == []
