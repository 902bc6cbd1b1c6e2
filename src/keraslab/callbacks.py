"""Keras callbacks for the chapter's experiments.

* :class:`EpochTimer` — seconds per epoch into the history (``history["seconds"]``),
  for the chapter's timing figures.
* :class:`ResetStatesEachEpoch` — Keras 3 removed ``Model.reset_states``; this
  resets every stateful layer at the end of each epoch, so the chapter's "fit one
  epoch, reset, repeat" loop is one ``fit(..., shuffle=False)`` call.
* :class:`BestCheckpoints` — keep the best ``keep`` checkpoints by a monitored
  value, as the chapter recommends for noisy validation curves.
"""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path

import keras

from keraslab.errors import KeraslabValueError
from keraslab.layers.recurrent import _CarriedStateMixin, reset_stateful_layers, stateful_layers

__all__ = ["EpochTimer", "ResetStatesEachEpoch", "BestCheckpoints"]


class EpochTimer(keras.callbacks.Callback):
    """Record the wall-clock seconds of each epoch in the logs (and so in the history).

    The time runs from ``on_epoch_begin`` to ``on_epoch_end`` and includes the
    validation pass, as Keras' own per-epoch timing does. The first epoch also
    includes compilation; compare later epochs when timing models.

    Parameters
    ----------
    key : str
        Name of the entry added to the logs.

    Attributes
    ----------
    seconds : list of float
        Seconds of each epoch of the latest ``fit``.

    Examples
    --------
    >>> import numpy as np, keras
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> model.compile("adam", "mse")
    >>> history = model.fit(np.zeros((8, 3)), np.zeros(8), epochs=2, verbose=0, callbacks=[EpochTimer()])
    >>> len(history.history["seconds"])
    2
    """

    def __init__(self, key: str = "seconds") -> None:
        super().__init__()
        self.key = key
        self.seconds: list[float] = []
        self._start: float | None = None

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if self._start is None:
            return
        elapsed = time.perf_counter() - self._start
        self.seconds.append(elapsed)
        if logs is not None:
            # The History callback runs after user callbacks and reads this same
            # dict, so the entry lands in ``history.history[key]``.
            logs[self.key] = elapsed


class ResetStatesEachEpoch(keras.callbacks.Callback):
    """Reset the carried state of every stateful layer when each epoch ends.

    Within an epoch, batch ``k+1`` continues from the state batch ``k`` left;
    each epoch starts from zero. Use with ``shuffle=False`` and a sample count that
    is a multiple of the batch size, e.g.
    ``model.fit(x, y, batch_size=10, epochs=100, shuffle=False, callbacks=[ResetStatesEachEpoch()])``.

    Use :mod:`keraslab.layers` recurrent layers (as :func:`keraslab.zoo.rnn.stateful_regressor`
    does): a plain Keras 3 ``stateful=True`` layer is not stateful inside ``fit``
    on the JAX backend, and this callback warns when it sees one there.

    Parameters
    ----------
    reset_before_validation : bool
        Also reset when an evaluation begins (the validation pass of ``fit``
        included), so validation sequences start from zero state rather than from
        where the training data left off.

    Examples
    --------
    >>> import numpy as np, keras
    >>> from keraslab.zoo.rnn import stateful_regressor
    >>> model = stateful_regressor(batch_size=2, units=(4,))
    >>> _ = model.fit(np.ones((4, 3, 1)), np.ones((4, 1)), batch_size=2, shuffle=False, verbose=0,
    ...               callbacks=[ResetStatesEachEpoch()])
    >>> float(np.abs(keras.ops.convert_to_numpy(model.layers[1].states[0])).max())
    0.0
    """

    def __init__(self, reset_before_validation: bool = True) -> None:
        super().__init__()
        self.reset_before_validation = reset_before_validation

    def on_train_begin(self, logs=None):
        found = stateful_layers(self.model)
        if not found:
            warnings.warn(
                "ResetStatesEachEpoch found no stateful layer in the model; it will do nothing. "
                "Build recurrent layers with stateful=True (see keraslab.zoo.rnn.stateful_regressor).",
                stacklevel=2,
            )
        plain = [layer.name for layer in found if not isinstance(layer, _CarriedStateMixin)]
        if plain and keras.backend.backend() == "jax":
            warnings.warn(
                f"Layers {plain} are Keras stateful layers, whose state does not carry across batches "
                "inside fit/predict on the JAX backend (Keras 3 does not thread it through the "
                "compiled step). Use keraslab.layers.LSTM / GRU / SimpleRNN instead.",
                stacklevel=2,
            )

    def on_test_begin(self, logs=None):
        if self.reset_before_validation:
            reset_stateful_layers(self.model)

    def on_epoch_end(self, epoch, logs=None):
        reset_stateful_layers(self.model)


class BestCheckpoints(keras.callbacks.Callback):
    """Keep the ``keep`` best checkpoints of a training run, judged by ``monitor``.

    With noisy validation curves the last epoch is rarely the best and the single
    best one may be luck; keeping a few of the best lets you compare or average
    them. After each epoch whose value ranks among the best ``keep`` so far, the
    model (or only its weights) is saved to ``directory`` and the checkpoint that
    fell out of the top ``keep`` is deleted. Epoch numbers in file names are
    1-based and keep counting across several ``fit`` calls.

    Parameters
    ----------
    directory : str or Path
        Created if missing.
    monitor : str
        A key of the epoch logs, e.g. ``"val_loss"`` or ``"val_accuracy"``.
    mode : {"auto", "min", "max"}
        ``"auto"`` maximises names containing "acc" or "auc", minimises others.
    keep : int
        How many checkpoints to keep.
    save_weights_only : bool
        Save ``.weights.h5`` files instead of whole ``.keras`` models.

    Attributes
    ----------
    best_ : list of (value, epoch, Path)
        The kept checkpoints, best first.

    Examples
    --------
    >>> import numpy as np, keras, tempfile
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> keeper = BestCheckpoints(tempfile.mkdtemp(), monitor="loss", keep=2)
    >>> _ = model.fit(np.ones((8, 3)), np.ones(8), epochs=4, verbose=0, callbacks=[keeper])
    >>> [epoch for _, epoch, _ in keeper.best_]
    [4, 3]
    """

    def __init__(
        self,
        directory: str | Path,
        monitor: str = "val_loss",
        mode: str = "auto",
        keep: int = 3,
        save_weights_only: bool = False,
    ) -> None:
        super().__init__()
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
            raise KeraslabValueError(f"keep must be a positive integer. Received: keep={keep!r}")
        if mode not in ("auto", "min", "max"):
            raise KeraslabValueError(f'mode must be "auto", "min" or "max". Received: mode={mode!r}')
        self.directory = Path(directory)
        self.monitor = monitor
        self.mode = mode
        self.keep = keep
        self.save_weights_only = save_weights_only
        self.best_: list[tuple[float, int, Path]] = []
        self._epochs_seen = 0
        self._warned_missing = False

    @property
    def maximize(self) -> bool:
        if self.mode == "auto":
            return any(word in self.monitor for word in ("acc", "auc"))
        return self.mode == "max"

    @property
    def best_path(self) -> Path | None:
        """Path of the best checkpoint so far (``None`` before the first)."""
        return self.best_[0][2] if self.best_ else None

    def _better(self, a: float, b: float) -> bool:
        return a > b if self.maximize else a < b

    def on_train_begin(self, logs=None):
        self.directory.mkdir(parents=True, exist_ok=True)

    def on_epoch_end(self, epoch, logs=None):
        self._epochs_seen += 1
        value = (logs or {}).get(self.monitor)
        if value is None:
            if not self._warned_missing:
                warnings.warn(
                    f"BestCheckpoints monitors {self.monitor!r}, which is not in the epoch logs "
                    f"(available: {sorted(logs or {})}); nothing is saved. Did you forget validation data?",
                    stacklevel=2,
                )
                self._warned_missing = True
            return
        value = float(value)
        if math.isnan(value):
            return
        if len(self.best_) >= self.keep and not self._better(value, self.best_[-1][0]):
            return
        number = self._epochs_seen
        suffix = ".weights.h5" if self.save_weights_only else ".keras"
        path = self.directory / f"epoch{number:04d}-{self.monitor}{value:.4f}{suffix}"
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)
        self.best_.append((value, number, path))
        # Stable sort: among equal values the earlier epoch stays ahead.
        self.best_.sort(key=lambda item: -item[0] if self.maximize else item[0])
        for _, _, dropped in self.best_[self.keep :]:
            dropped.unlink(missing_ok=True)
        del self.best_[self.keep :]


class TextSampler(keras.callbacks.Callback):
    """After each epoch, generate text at several temperatures, print it and append it to a file.

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
        # Imported here: keraslab.textgen imports this module (train_text_generator uses TextSampler).
        import numpy as np

        from keraslab.data.text import Vocabulary
        from keraslab.textgen.generate import _check_length, check_temperatures, encode_seed

        if not isinstance(vocabulary, Vocabulary):
            raise KeraslabValueError(
                f"vocabulary must be a CharVocabulary or WordVocabulary. Received: {type(vocabulary).__name__}"
            )
        if (corpus is None) == (seed_text is None):
            raise KeraslabValueError(
                "Give exactly one of corpus (random seed fragments, as the chapter) and seed_text (a fixed seed). "
                f"Received: corpus={'None' if corpus is None else '...'}, seed_text={seed_text!r:.40}"
            )
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise KeraslabValueError(f"every must be a positive integer. Received: every={every!r}")
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
        from keraslab.textgen.generate import _input_layout

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
        from keraslab.textgen.generate import _generate_ids
        from keraslab.textgen.output import TextSample, append_samples, format_epoch

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
            print(format_epoch(new), end="", flush=True)
        if self.output is not None:
            append_samples(self.output, new)
        return new

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            self.sample(epoch + 1)


__all__ += ["TextSampler"]
