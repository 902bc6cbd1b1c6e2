"""The chapter's per-epoch look at a text generator, as a Keras callback for any model's ``fit``."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from keraslab._checks import positive_int
from keraslab.data.text import Vocabulary
from keraslab.errors import KeraslabValueError
from keraslab.textgen.generate import _check_length, _generate_ids, _input_layout, check_temperatures, encode_seed
from keraslab.textgen.output import TextSample, append_samples, format_epoch

__all__ = ["TextSampler"]


class TextSampler(keras.callbacks.Callback):
    """After each epoch, generate text at several temperatures, show it and append it to a file.

    The chapter's per-epoch look at a text generator: a seed fragment of the model's
    window length, taken at random from the corpus (or a fixed ``seed_text``),
    continued by ``length`` tokens at each temperature. The temperatures run as rows
    of one batch, so a sample costs one model call per generated token. The printed
    and written format is described in :mod:`keraslab.textgen.output`.

    Parameters
    ----------
    vocabulary : keraslab.data.Vocabulary
        The vocabulary the model's inputs and outputs use.
    corpus : str or array-like of int, optional
        Text (or its ids) to draw a random seed fragment from at every sampled epoch.
    seed_text : str, optional
        A fixed seed instead (one of ``corpus`` and ``seed_text`` is required).
    temperatures : sequence of float
        Each ``> 0``.
    length : int
        Tokens (characters or words) to generate per temperature.
    output : str or Path, optional
        File the samples are appended to.
    every : int
        Sample after every ``every``-th epoch.
    seed : int, optional
        Makes the seed fragments and the draws reproducible.
    verbose : int
        ``0``: do not print.

    Attributes
    ----------
    samples : list of keraslab.textgen.TextSample
        Everything generated so far.

    Examples
    --------
    >>> from keraslab.data import CharVocabulary, OneHotFragments
    >>> from keraslab.zoo.text import char_generator
    >>> text = "the cat sat on the mat. " * 10
    >>> vocab = CharVocabulary(text)
    >>> data = OneHotFragments(text, vocab, window_length=8, step=2, batch_size=32, seed=0)
    >>> sampler = TextSampler(vocab, corpus=text, temperatures=[0.5], length=12, seed=0, verbose=0)
    >>> _ = char_generator(vocab.size, 8, units=8).fit(data, epochs=2, verbose=0, callbacks=[sampler])
    >>> [(s.epoch, len(s.text)) for s in sampler.samples]
    [(1, 12), (2, 12)]
    """

    def __init__(
        self,
        vocabulary,
        corpus=None,
        *,
        seed_text: str | None = None,
        temperatures=(0.5, 1.0, 1.5),
        length: int = 1000,
        output: str | Path | None = None,
        every: int = 1,
        seed: int | None = None,
        verbose: int = 1,
    ) -> None:
        super().__init__()
        if not isinstance(vocabulary, Vocabulary):
            raise KeraslabValueError(
                f"vocabulary must be a CharVocabulary or WordVocabulary. Received: {type(vocabulary).__name__}"
            )
        if (corpus is None) == (seed_text is None):
            raise KeraslabValueError(
                "Give exactly one of corpus (random seed fragments, as the chapter) and seed_text (a fixed seed). "
                f"Received: corpus={'None' if corpus is None else '...'}, seed_text={seed_text!r:.40}"
            )
        positive_int("every", every)
        self.vocabulary = vocabulary
        self.temperatures = check_temperatures(temperatures)
        self.length = _check_length(length)
        self.output = None if output is None else Path(output)
        self.every = every
        self.verbose = verbose
        self.seed_text = seed_text
        self._seed_ids = None if seed_text is None else encode_seed(vocabulary, seed_text)
        self._corpus_ids = None
        if corpus is not None:
            ids = vocabulary.encode(corpus) if isinstance(corpus, str) else np.asarray(corpus)
            if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer) or ids.size == 0:
                raise KeraslabValueError(
                    f"corpus must be a text or a 1-D array of token ids. Received: array of shape {ids.shape}"
                )
            if ids.min() < 0 or ids.max() >= vocabulary.size:
                raise KeraslabValueError(
                    f"corpus ids must be between 0 and {vocabulary.size - 1}. Received: ids from {ids.min()} to {ids.max()}"
                )
            self._corpus_ids = ids
        self._rng = np.random.default_rng(seed)
        self.samples: list = []

    def _window(self) -> int:
        window, _ = _input_layout(self.model, self.vocabulary)
        return window or 40

    def on_train_begin(self, logs=None):
        if self._corpus_ids is not None and len(self._corpus_ids) <= self._window():
            raise KeraslabValueError(
                f"TextSampler's corpus must be longer than the model's window of {self._window()} tokens "
                f"to give a seed fragment. Received: {len(self._corpus_ids)} tokens"
            )

    def sample(self, epoch: int) -> list:
        """Generate, print and write the samples of ``epoch`` (1-based) now; return them."""
        if self._seed_ids is not None:
            seed_ids = self._seed_ids
        else:
            window = self._window()
            start = int(self._rng.integers(0, len(self._corpus_ids) - window))
            seed_ids = self._corpus_ids[start : start + window]
        seed = self.seed_text if self.seed_text is not None else self.vocabulary.decode(seed_ids)
        rows = _generate_ids(self.model, self.vocabulary, seed_ids, self.length, self.temperatures, self._rng)
        new = [
            TextSample(epoch, temperature, seed, self.vocabulary.decode(row))
            for temperature, row in zip(self.temperatures, rows)
        ]
        self.samples.extend(new)
        if self.verbose:
            # Showing the samples is what verbose=1 asks of this callback, as Keras' progress bar
            # prints for verbose=1; verbose=0 keeps it silent (the samples stay in .samples and the file).
            print(format_epoch(new), end="", flush=True)
        if self.output is not None:
            append_samples(self.output, new)
        return new

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            self.sample(epoch + 1)

