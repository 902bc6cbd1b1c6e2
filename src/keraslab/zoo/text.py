"""Text generators of the chapter's notebooks 7-8: next-character and next-word models.

==========================================  =================================================  ==========
chapter model                               call                                               parameters
==========================================  =================================================  ==========
char level, 89 characters, windows of 40    ``char_generator(89, 40)``                         254,681
word level, 8,000 words                     ``word_generator(8000, 10)``                       1,774,400
==========================================  =================================================  ==========

Both take the vocabulary size and window length as integers (from
``keraslab.data.text`` vocabularies: ``vocabulary.size``), and ``units`` so tests
can build tiny models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import layers

from keraslab.zoo._common import OptimizerLike, check_int_tuple, check_positive_int, compile_model

__all__ = ["char_generator", "word_generator"]


def _lstm_stack(x: keras.KerasTensor, units: tuple[int, ...]) -> keras.KerasTensor:
    for index, width in enumerate(units):
        x = layers.LSTM(width, return_sequences=index < len(units) - 1)(x)
    return x


def char_generator(
    vocab_size: int,
    window_length: int = 40,
    units: int | Sequence[int] = (128, 128),
    *,
    optimizer: OptimizerLike = "rmsprop",
    learning_rate: float | None = 0.01,
    loss: Any = "categorical_crossentropy",
) -> keras.Model:
    """One-hot windows of characters -> LSTM 128 (sequences) -> LSTM 128 -> softmax over characters.

    Input shape ``(window_length, vocab_size)`` (one-hot, as
    ``keraslab.data.OneHotFragments`` yields); the target is the one-hot next
    character; RMSprop with learning rate 0.01, categorical cross-entropy.

    Examples
    --------
    >>> char_generator(89, 40).count_params()
    254681
    >>> char_generator(30, 10, units=8).output_shape
    (None, 30)
    """
    check_positive_int("vocab_size", vocab_size)
    check_positive_int("window_length", window_length)
    inputs = keras.Input(shape=(window_length, vocab_size))
    x = _lstm_stack(inputs, check_int_tuple("units", units))
    outputs = layers.Dense(vocab_size, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name="char_generator")
    return compile_model(model, optimizer=optimizer, learning_rate=learning_rate, loss=loss, metrics=None)


def word_generator(
    vocab_size: int = 8000,
    window_length: int = 10,
    units: int | Sequence[int] = (128, 128),
    embedding_dim: int = 64,
    *,
    optimizer: OptimizerLike = "rmsprop",
    learning_rate: float | None = 0.01,
    loss: Any = "sparse_categorical_crossentropy",
) -> keras.Model:
    """Word ids -> Embedding -> LSTM stack -> softmax over the vocabulary.

    Departure from the chapter: the chapter one-hot encodes 8,000 words per time
    step (a window of 10 words is an 80,000-value input per sample); an Embedding
    of the integer ids does the same job with ``embedding_dim`` values per word,
    and the integer targets use sparse categorical cross-entropy instead of
    one-hot targets.

    Examples
    --------
    >>> word_generator(8000, 10).count_params()
    1774400
    >>> word_generator(50, 6, units=8, embedding_dim=4).output_shape
    (None, 50)
    """
    check_positive_int("vocab_size", vocab_size)
    check_positive_int("window_length", window_length)
    inputs = keras.Input(shape=(window_length,), dtype="int32")
    x = layers.Embedding(vocab_size, check_positive_int("embedding_dim", embedding_dim))(inputs)
    x = _lstm_stack(x, check_int_tuple("units", units))
    outputs = layers.Dense(vocab_size, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name="word_generator")
    return compile_model(model, optimizer=optimizer, learning_rate=learning_rate, loss=loss, metrics=None)
