"""keraslab.zoo.text: next-character and next-word generators."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sklearn.model_selection import cross_val_score

from keraslab import KerasClassifier
from keraslab.errors import KeraslabValueError
from keraslab.zoo import text


def lstm(n_in, units):
    return 4 * (units * (n_in + units) + units)


def dense(n_in, n_out):
    return n_in * n_out + n_out


def test_chapter_char_generator_size_and_settings():
    model = text.char_generator(89, 40)
    assert model.count_params() == lstm(89, 128) + lstm(128, 128) + dense(128, 89)  # 254,681
    assert model.input_shape == (None, 40, 89)
    assert [layer.return_sequences for layer in model.layers if isinstance(layer, keras.layers.LSTM)] == [True, False]
    assert isinstance(model.optimizer, keras.optimizers.RMSprop)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)
    assert model.loss == "categorical_crossentropy"


def test_word_generator_size_uses_an_embedding():
    model = text.word_generator(8000, 10)
    assert model.count_params() == 8000 * 64 + lstm(64, 128) + lstm(128, 128) + dense(128, 8000)
    assert model.loss == "sparse_categorical_crossentropy"


def _cyclic_ids(n_windows, window, vocab):
    """Windows of a repeating sequence 0, 1, ..., vocab-1: the next id is predictable."""
    ids = np.arange(n_windows + window) % vocab
    x = np.stack([ids[i : i + window] for i in range(n_windows)])
    return x, ids[window : window + n_windows]


def test_tiny_char_generator_trains_and_predicts_distributions(trains):
    ids, targets = _cyclic_ids(64, 5, 12)
    x, y = keras.utils.to_categorical(ids, 12), keras.utils.to_categorical(targets, 12)
    model = text.char_generator(12, 5, units=(8, 8))
    assert model.count_params() == lstm(12, 8) + lstm(8, 8) + dense(8, 12)
    trains(model, x, y)
    probabilities = model.predict(x[:3], verbose=0)
    assert probabilities.shape == (3, 12)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_tiny_word_generator_trains_on_integer_ids(trains):
    x, y = _cyclic_ids(64, 4, 30)
    model = text.word_generator(30, 4, units=(8,), embedding_dim=4)
    assert model.count_params() == 30 * 4 + lstm(4, 8) + dense(8, 30)
    trains(model, x, y)
    assert model.predict(x[:2], verbose=0).shape == (2, 30)


def test_sizes_must_be_positive():
    with pytest.raises(KeraslabValueError, match="Received: vocab_size=0"):
        text.char_generator(0)


def test_word_generator_as_build_fn_cross_validates():
    """Every id appears in each training fold, so the wrapper's classes are the vocabulary."""
    x, y = _cyclic_ids(80, 4, 10)
    classifier = KerasClassifier(build_fn=text.word_generator, vocab_size=10, window_length=4, units=(16,),
                                 embedding_dim=8, epochs=10, batch_size=16, verbose=0, random_state=0)  # fmt: skip
    scores = cross_val_score(classifier, x, y, cv=2)
    assert scores.shape == (2,)
    assert np.all(scores > 0.3), scores  # chance is 0.1
