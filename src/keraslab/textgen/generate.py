"""Generating text with a trained next-token model, the chapter's way.

The model sees the last ``window_length`` tokens, predicts a distribution over the
next one, a token is drawn at a temperature (:func:`keraslab.data.sample_with_temperature`),
appended, and the window moves on by one. Several temperatures run side by side as
the rows of one batch, so the per-epoch samples of :class:`keraslab.textgen.TextSampler`
cost one model call per generated token, not one per token and temperature.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import keras
import numpy as np

from keraslab._checks import positive_int
from keraslab.data.text import CharVocabulary, Vocabulary, sample_with_temperature
from keraslab.errors import KeraslabTypeError, KeraslabValueError

__all__ = ["generate", "check_temperature", "check_temperatures", "encode_seed"]


def check_temperature(temperature: object) -> float:
    """``temperature`` as a float, or a clear error unless it is a finite number > 0.

    Examples
    --------
    >>> check_temperature(0.5)
    0.5
    """
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise KeraslabTypeError(f"temperature must be a number > 0. Received: temperature={temperature!r}")
    if not math.isfinite(temperature) or temperature <= 0:
        raise KeraslabValueError(
            "temperature must be a finite number > 0 (below 1: safer, more repetitive text; 1: the model's own "
            "distribution; above 1: more surprising text; for always-the-most-likely-token text use greedy=True). "
            f"Received: temperature={temperature!r}"
        )
    return float(temperature)


def check_temperatures(temperatures: Sequence[float] | float) -> tuple[float, ...]:
    """A non-empty tuple of valid temperatures (a single number is accepted too).

    Examples
    --------
    >>> check_temperatures([0.5, 1, 1.5])
    (0.5, 1.0, 1.5)
    """
    if isinstance(temperatures, numbers.Real) and not isinstance(temperatures, bool):
        temperatures = (temperatures,)
    if isinstance(temperatures, (str, bytes)) or not isinstance(temperatures, Sequence) or not temperatures:
        raise KeraslabValueError(
            f"temperatures must be a non-empty list of numbers > 0, e.g. (0.5, 1.0, 1.5). Received: {temperatures!r}"
        )
    return tuple(check_temperature(t) for t in temperatures)


def _check_length(length: object) -> int:
    return positive_int("length", length, hint=" (tokens to generate)")


def encode_seed(vocabulary: Vocabulary, seed_text: str) -> np.ndarray:
    """Token ids of a seed text, with errors that name what the vocabulary lacks.

    A character-level vocabulary holds only the characters of its training corpus
    (lower-cased, if the corpus was); a word-level one maps unknown words to its
    out-of-vocabulary marker, so only a seed without any word is refused.

    Examples
    --------
    >>> encode_seed(CharVocabulary("abc "), "a cab").tolist()
    [1, 0, 3, 1, 2]
    """
    if not isinstance(seed_text, str):
        raise KeraslabTypeError(f"seed_text must be a string. Received: {type(seed_text).__name__}")
    if isinstance(vocabulary, CharVocabulary):
        missing = sorted(set(seed_text) - set(vocabulary.tokens))
        if missing:
            hint = " (the corpus was probably lower-cased: try a lower-case seed)" if any(
                c.lower() != c and c.lower() in vocabulary.tokens for c in missing
            ) else ""
            raise KeraslabValueError(
                f"seed_text has characters the vocabulary lacks: {missing!r}{hint}. Use only characters of the "
                f"training corpus ({vocabulary.size} distinct). Received: seed_text={seed_text!r:.80}"
            )
    ids = vocabulary.encode(seed_text)
    if ids.size == 0:
        raise KeraslabValueError(
            f"seed_text must contain at least one {'character' if isinstance(vocabulary, CharVocabulary) else 'word'}"
            f". Received: seed_text={seed_text!r}"
        )
    return ids


def _input_layout(model: keras.Model, vocabulary: Vocabulary) -> tuple[int | None, bool]:
    """(window length or None, whether the model takes one-hot rows rather than ids)."""
    try:
        shape = model.input_shape
        output_width = model.output_shape[-1]
    except (AttributeError, ValueError) as error:
        raise KeraslabValueError(
            f"model must be a built Keras model with one input; build it with keras.Input. Received: {model!r}"
        ) from error
    if not isinstance(shape, tuple) or len(shape) not in (2, 3):
        raise KeraslabValueError(
            "model must take (batch, window) token ids or (batch, window, vocabulary size) one-hot rows. "
            f"Received: input shape {shape}"
        )
    one_hot = len(shape) == 3
    for what, width in (("one-hot input", shape[-1] if one_hot else vocabulary.size), ("output", output_width)):
        if width != vocabulary.size:
            raise KeraslabValueError(
                f"The model's {what} has width {width} but the vocabulary has {vocabulary.size} tokens; "
                f"use the vocabulary the model was trained with. Received: {vocabulary!r}"
            )
    return shape[1], one_hot


def _generate_ids(
    model: keras.Model,
    vocabulary: Vocabulary,
    seed_ids: np.ndarray,
    length: int,
    temperatures: Sequence[float],
    rng: np.random.Generator,
    greedy: bool = False,
) -> np.ndarray:
    """``(len(temperatures), length)`` generated ids, one row per temperature, one model call per step."""
    window, one_hot = _input_layout(model, vocabulary)
    window = window or len(seed_ids)
    rows = len(temperatures)
    # A seed shorter than the window is padded on the left: with all-zero one-hot rows
    # (no character), or with id 0 (the word vocabulary's out-of-vocabulary marker).
    pad = vocabulary.size if one_hot else 0
    history = np.full((rows, window + length), pad, dtype=np.int64)
    context = np.asarray(seed_ids[-window:], dtype=np.int64)
    history[:, window - len(context) : window] = context
    for step in range(length):
        ids = history[:, step : step + window]
        if one_hot:
            # One extra column takes the padding's 1s and is cut off: padded rows are all zero.
            # (No identity-matrix lookup table: for 8,000 words that alone would be 256 MB.)
            batch = np.zeros((rows, window, vocabulary.size + 1), dtype="float32")
            np.put_along_axis(batch, ids[..., np.newaxis], 1.0, axis=-1)
            batch = batch[..., : vocabulary.size]
        else:
            batch = ids.astype("int32")
        probabilities = np.asarray(model.predict_on_batch(batch))
        for row, temperature in enumerate(temperatures):
            history[row, window + step] = sample_with_temperature(
                probabilities[row], 0 if greedy else temperature, rng
            )
    return history[:, window:]


def generate(
    model: keras.Model,
    vocabulary: Vocabulary,
    seed_text: str,
    length: int = 1000,
    temperature: float = 1.0,
    rng: np.random.Generator | int | None = None,
    *,
    greedy: bool = False,
) -> str:
    """Continue ``seed_text`` by ``length`` tokens (characters or words) drawn from ``model``.

    Parameters
    ----------
    model : keras.Model
        A next-token model: one-hot windows ``(batch, window, vocabulary.size)`` (the
        chapter's char model) or id windows ``(batch, window)`` (an Embedding model),
        softmax over the vocabulary.
    vocabulary : Vocabulary
        The vocabulary the model was trained with.
    seed_text : str
        The start; its last ``window`` tokens are the first context. A shorter seed is
        padded on the left (no-character rows, or the out-of-vocabulary id for words).
    length : int
        Tokens to generate.
    temperature : float
        ``> 0``; low values repeat the likeliest tokens, high values surprise.
    rng : numpy.random.Generator or int, optional
        Randomness of the draws (a seed makes the text reproducible).
    greedy : bool
        Always take the likeliest token (ignores ``temperature``); reproducible text.

    Returns
    -------
    str
        The generated continuation only (without the seed); words are joined into
        readable text by ``vocabulary.join``.

    Examples
    --------
    >>> from keraslab.data import CharVocabulary
    >>> from keraslab.zoo.text import char_generator
    >>> vocab = CharVocabulary("abc ")
    >>> text = generate(char_generator(vocab.size, 5, units=4), vocab, "abc", length=7, rng=0)
    >>> len(text), set(text) <= set("abc ")
    (7, True)
    """
    temperature = check_temperature(temperature)
    length = _check_length(length)
    seed_ids = encode_seed(vocabulary, seed_text)
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    ids = _generate_ids(model, vocabulary, seed_ids, length, [temperature], generator, greedy=greedy)
    return vocabulary.decode(ids[0])
