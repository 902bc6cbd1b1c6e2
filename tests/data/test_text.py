"""Vocabularies, fragments, on-demand one-hot batches and temperature sampling."""

from __future__ import annotations

import doctest
import json
import tracemalloc

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keraslab.data import text as text_module
from keraslab.data.text import (
    CharVocabulary,
    OneHotFragments,
    Vocabulary,
    WordVocabulary,
    fragments,
    sample_with_temperature,
)
from keraslab.errors import KeraslabTypeError, KeraslabValueError

SAMPLE = (
    'to sherlock holmes she is always the woman. i have seldom heard him mention her under any other name. '
    '"what is it?" said he, (quite) calmly; the red-headed league was dissolved! '
) * 3


# --------------------------------------------------------------------------- vocabularies
@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=200))
def test_char_round_trip_any_text(text):
    vocab = CharVocabulary(text)
    ids = vocab.encode(text)
    assert ids.dtype == np.int32 and ids.shape == (len(text),)
    assert vocab.decode(ids) == text
    assert vocab.tokens == tuple(sorted(set(text)))  # the chapter's sorted(set(text))


def test_char_vocabulary_errors_and_serialisation():
    vocab = CharVocabulary(SAMPLE)
    with pytest.raises(KeraslabValueError, match="\\['Z'\\]"):
        vocab.encode("Zeta")
    with pytest.raises(KeraslabValueError, match=f"size - 1 = {vocab.size - 1}.*id {vocab.size}"):
        vocab.decode([0, vocab.size])
    with pytest.raises(KeraslabTypeError):
        vocab.decode([0.5])
    with pytest.raises(KeraslabValueError):
        CharVocabulary("")
    restored = Vocabulary.from_dict(json.loads(json.dumps(vocab.to_dict())))
    assert isinstance(restored, CharVocabulary) and restored == vocab
    assert restored.decode(restored.encode(SAMPLE)) == SAMPLE
    assert vocab.decode([]) == ""


def test_word_vocabulary_splits_punctuation_and_counts():
    vocab = WordVocabulary(SAMPLE, max_words=12)
    assert vocab.tokenize('"what is it?" said he, (quite)') == ['"', "what", "is", "it", "?", '"', "said", "he", ",", "(", "quite", ")"]
    assert vocab.tokens[0] == "GLORP" and vocab.size == 13
    counts = {t: vocab.tokenize(SAMPLE).count(t) for t in vocab.tokens[1:]}
    assert list(counts.values()) == sorted(counts.values(), reverse=True)
    ids = vocab.encode("the mentioned zanzibar.")
    assert vocab.decode(ids) == "the GLORP GLORP."


def test_word_decode_reads_naturally():
    vocab = WordVocabulary(SAMPLE)
    for sentence in (
        'i have seldom heard him mention her. "what is it?" said he, (quite) calmly; the red-headed league was dissolved!',
        "to sherlock holmes she is always the woman.",
    ):
        assert vocab.decode(vocab.encode(sentence)) == sentence


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=60))
def test_word_ids_round_trip_through_text(ids):
    vocab = WordVocabulary(SAMPLE, max_words=40)
    ids = [i % vocab.size for i in ids]
    assert vocab.encode(vocab.decode(ids)).tolist() == ids


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(WordVocabulary(SAMPLE).tokens), max_size=40), st.sampled_from([" ", "  ", "\n"]))
def test_word_text_round_trip_keeps_every_token(tokens, separator):
    vocab = WordVocabulary(SAMPLE)
    text = separator.join(tokens)
    decoded = vocab.decode(vocab.encode(text))
    assert vocab.tokenize(decoded) == vocab.tokenize(text)


def test_word_vocabulary_serialises_and_validates():
    vocab = WordVocabulary(SAMPLE, max_words=20, oov_token="UNK")
    config = json.loads(json.dumps(vocab.to_dict()))
    assert config["kind"] == "word" and config["oov_token"] == "UNK" and config["max_words"] == 20
    restored = WordVocabulary.from_dict(config)
    assert restored == vocab and restored.encode("holmes zebra").tolist() == vocab.encode("holmes zebra").tolist()
    with pytest.raises(KeraslabValueError, match="kind"):
        CharVocabulary.from_dict(config)
    with pytest.raises(KeraslabValueError, match="max_words=0"):
        WordVocabulary(SAMPLE, max_words=0)
    with pytest.raises(KeraslabValueError, match="oov_token='<unk>'"):
        WordVocabulary(SAMPLE, oov_token="<unk>")


# --------------------------------------------------------------------------- fragments
def chapter_fragments(tokens, maxlen, step):
    sentences, next_chars = [], []
    for i in range(0, len(tokens) - maxlen, step):
        sentences.append(tokens[i : i + maxlen])
        next_chars.append(tokens[i + maxlen])
    return np.array(sentences).reshape(-1, maxlen), np.array(next_chars)


@settings(max_examples=100, deadline=None)
@given(length=st.integers(2, 120), window=st.integers(1, 40), step=st.integers(1, 7))
def test_fragments_match_the_chapter_loop(length, window, step):
    tokens = np.arange(length) * 7 % 11
    if length <= window:
        with pytest.raises(KeraslabValueError, match=f"window_length={window}"):
            fragments(tokens, window, step)
        return
    inputs, targets = fragments(tokens, window, step)
    expected_inputs, expected_targets = chapter_fragments(list(tokens), window, step)
    np.testing.assert_array_equal(inputs, expected_inputs)
    np.testing.assert_array_equal(targets, expected_targets)
    assert not inputs.flags.writeable  # a view of the tokens, not a copy
    assert np.shares_memory(inputs, tokens)


def test_fragment_arguments_are_validated():
    with pytest.raises(KeraslabValueError, match="step=0"):
        fragments(np.arange(10), 3, 0)
    with pytest.raises(KeraslabValueError, match="window_length=-1"):
        fragments(np.arange(10), -1, 1)
    with pytest.raises(KeraslabValueError, match="shape \\(2, 5\\)"):
        fragments(np.zeros((2, 5)), 2, 1)


# --------------------------------------------------------------------------- one-hot batches
def chapter_one_hot(text, vocab, maxlen, step):
    sentences, next_chars = chapter_fragments(text, maxlen, step)
    index = {c: i for i, c in enumerate(vocab.tokens)}
    x = np.zeros((len(sentences), maxlen, vocab.size), dtype=bool)
    y = np.zeros((len(sentences), vocab.size), dtype=bool)
    for i, sentence in enumerate(sentences):
        for t, char in enumerate(sentence):
            x[i, t, index[char]] = 1
        y[i, index[next_chars[i]]] = 1
    return x, y


def test_unshuffled_batches_equal_the_chapters_materialised_tensor():
    vocab = CharVocabulary(SAMPLE)
    x_ref, y_ref = chapter_one_hot(list(SAMPLE), vocab, 40, 3)
    data = OneHotFragments(SAMPLE, vocab, window_length=40, step=3, batch_size=32, shuffle=False, dtype="bool")
    assert len(data) == -(-len(x_ref) // 32) and data.n_fragments == len(x_ref)
    batches = [data[i] for i in range(len(data))]
    assert batches[0][0].dtype == np.bool_ and batches[-1][0].shape[0] == len(x_ref) - 32 * (len(data) - 1)
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x_ref)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y_ref)


def test_shuffled_epochs_cover_every_fragment_once_and_are_reproducible():
    vocab = CharVocabulary(SAMPLE)
    ids = vocab.encode(SAMPLE)
    kwargs = dict(window_length=10, step=2, batch_size=16, seed=3, one_hot=False, sparse_targets=True)
    data = OneHotFragments(SAMPLE, vocab, **kwargs)
    inputs, targets = fragments(ids, 10, 2)

    def epoch():
        return [data[i] for i in range(len(data))]

    first = epoch()
    x = np.concatenate([b[0] for b in first])
    y = np.concatenate([b[1] for b in first])
    assert x.dtype == np.int32 and x.shape == (data.n_fragments, 10) and y.shape == (data.n_fragments,)
    expected = sorted(map(tuple, np.column_stack([inputs, targets]).tolist()))
    assert sorted(map(tuple, np.column_stack([x, y]).tolist())) == expected
    again = OneHotFragments(ids, vocab, **kwargs)  # already-encoded text works too
    for (xa, ya), (xb, yb) in zip(first, [again[i] for i in range(len(again))]):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    data.on_epoch_end()
    second = epoch()
    assert not np.array_equal(first[0][0], second[0][0])  # a new order each epoch


def test_float_one_hot_with_sparse_targets_and_input_shape():
    vocab = WordVocabulary(SAMPLE)
    data = OneHotFragments(SAMPLE, vocab, window_length=5, step=1, batch_size=8, seed=0, sparse_targets=True)
    x, y = data[0]
    assert x.dtype == np.float32 and x.shape == (8, 5, vocab.size) and data.input_shape == (5, vocab.size)
    np.testing.assert_array_equal(x.sum(axis=2), 1)
    assert y.dtype == np.int32 and y.shape == (8,)
    with pytest.raises(IndexError):
        data[len(data)]
    with pytest.raises(KeraslabValueError, match="dtype='int8'"):
        OneHotFragments(SAMPLE, vocab, dtype="int8")
    with pytest.raises(KeraslabTypeError):
        OneHotFragments(SAMPLE, {"a": 0})


def test_memory_stays_at_the_encoded_text_not_the_one_hot_tensor():
    corpus = (SAMPLE * 400)[:100_000]
    vocab = CharVocabulary(corpus)
    full_bytes = ((len(corpus) - 40 + 2) // 3) * 40 * vocab.size  # the chapter's bool tensor
    tracemalloc.start()
    data = OneHotFragments(corpus, vocab, window_length=40, step=3, batch_size=100, seed=0, dtype="bool")
    for i in range(0, len(data), 25):
        data[i]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert full_bytes > 30_000_000
    assert peak < full_bytes / 10, peak  # encoding temporaries, the ids, a permutation, one batch


def test_keras_trains_on_bool_one_hot_batches():
    vocab = CharVocabulary(SAMPLE)
    data = OneHotFragments(SAMPLE, vocab, window_length=12, step=3, batch_size=32, seed=0, dtype="bool")
    model = keras.Sequential(
        [keras.Input(shape=data.input_shape), keras.layers.Flatten(), keras.layers.Dense(vocab.size, activation="softmax")]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    history = model.fit(data, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    assert data.epoch >= 2  # Keras called on_epoch_end, so the next epoch reshuffles


# --------------------------------------------------------------------------- sampling
P = np.array([0.05, 0.6, 0.0, 0.3, 0.05])


def test_temperature_zero_and_tiny_are_argmax():
    assert sample_with_temperature(P, 0) == 1
    rng = np.random.default_rng(0)
    with np.errstate(all="raise"):
        assert {sample_with_temperature(P, 1e-12, rng) for _ in range(200)} == {1}
        assert sample_with_temperature(np.array([1e-300, 1.0]), 1e-300, rng) == 1


def test_temperature_one_samples_the_distribution_and_never_a_zero():
    rng = np.random.default_rng(0)
    draws = np.array([sample_with_temperature(P, 1.0, rng) for _ in range(20000)])
    frequencies = np.bincount(draws, minlength=5) / draws.size
    np.testing.assert_allclose(frequencies, P, atol=0.015)
    assert frequencies[2] == 0


def test_temperature_reshapes_like_the_chapters_formula():
    rng = np.random.default_rng(1)
    for temperature in (0.5, 1.5):
        expected = P ** (1 / temperature)
        expected /= expected.sum()
        draws = np.array([sample_with_temperature(P * 3.7, temperature, rng) for _ in range(20000)])
        np.testing.assert_allclose(np.bincount(draws, minlength=5) / draws.size, expected, atol=0.015)


def test_sampling_is_seeded():
    first = [sample_with_temperature(P, 1.0, 42) for _ in range(3)]
    assert first == [sample_with_temperature(P, 1.0, 42) for _ in range(3)]


@pytest.mark.parametrize(
    "probabilities, temperature, error, message",
    [
        (P, -0.5, KeraslabValueError, "temperature=-0.5"),
        (P, float("nan"), KeraslabValueError, "temperature=nan"),
        (P, float("inf"), KeraslabValueError, "temperature=inf"),
        (P, "hot", KeraslabTypeError, "temperature='hot'"),
        (np.ones((2, 2)) / 4, 1.0, KeraslabValueError, "shape \\(2, 2\\)"),
        ([0.5, -0.1, 0.6], 1.0, KeraslabValueError, "non-negative"),
        ([0.5, np.nan], 1.0, KeraslabValueError, "finite"),
        ([0.0, 0.0], 1.0, KeraslabValueError, "not all zero"),
        ([], 1.0, KeraslabValueError, "non-empty"),
    ],
)
def test_sampling_validates_inputs(probabilities, temperature, error, message):
    with pytest.raises(error, match=message):
        sample_with_temperature(probabilities, temperature)


def test_docstring_examples_run():
    assert doctest.testmod(text_module).failed == 0
