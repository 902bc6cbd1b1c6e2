"""Training a text generator the chapter's way, without materialising the one-hot tensor.

The chapter one-hot encodes every fragment of the corpus before training; for the
full Sherlock Holmes corpus at window 40, step 3 that is a million fragments times
40 times ~60 characters, gigabytes of memory. Here the corpus is encoded once to one
small integer per token and :class:`keraslab.data.OneHotFragments` builds each
batch's one-hot block when Keras asks for it; memory stays at the size of the text.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import numbers
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keraslab._console import say
from keraslab.textgen.sampler import TextSampler
from keraslab.data.datasets import load_corpus
from keraslab.data.text import CharVocabulary, OneHotFragments, Vocabulary, WordVocabulary
from keraslab.errors import KeraslabTypeError, KeraslabValueError
from keraslab.textgen.generate import _check_length, check_temperatures
from keraslab.textgen.output import TextSample
from keraslab.textgen.saving import TextGenerator, save_generator
from keraslab.zoo.text import char_generator, word_generator

__all__ = ["train_text_generator", "TextGenerationResult"]

LEVELS = ("char", "word")

#: One INFO line per epoch; shown on stdout with ``verbose=1`` (see :func:`keraslab._console.say`).
logger = logging.getLogger("keraslab.textgen")


@dataclass
class TextGenerationResult:
    """What :func:`train_text_generator` produced.

    Attributes
    ----------
    model : keras.Model
    vocabulary : Vocabulary
    history : dict of str to list of float
        Keras' ``History.history`` (``loss`` per epoch).
    samples : list of TextSample
        Every per-epoch sample, in order.
    metadata : dict
        The settings saved with the model.
    output : Path or None
        The file the samples were appended to.
    saved_to : Path or None
        The ``.keras`` file, when ``save_to`` was given.
    run_id : int or None
        The run in the result store, when one was given.
    """

    model: keras.Model
    vocabulary: Vocabulary
    history: dict[str, list[float]]
    samples: list[TextSample]
    metadata: dict[str, Any]
    output: Path | None = None
    saved_to: Path | None = None
    run_id: int | None = None
    seconds_per_epoch: list[float] = field(default_factory=list)

    @property
    def generator(self) -> TextGenerator:
        """The trained model with its vocabulary, ready to :meth:`~TextGenerator.generate` or save."""
        return TextGenerator(self.model, self.vocabulary, self.metadata)


class _EpochLog(keras.callbacks.Callback):
    """Time each epoch and report one line for it; the seconds go into the logs for the recorder.

    Put before the recorder (:class:`keraslab.experiments.recorder.EpochRecorder`) and
    the TextSampler in the callback list: the time is of training only.
    """

    def __init__(self, epochs: int, verbose: bool) -> None:
        super().__init__()
        self.epochs = epochs
        self.verbose = verbose
        self.seconds: list[float] = []
        self.losses: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self._start
        self.seconds.append(elapsed)
        self.losses.append(float((logs or {}).get("loss", math.nan)))
        if logs is not None:
            logs["seconds"] = elapsed  # read by the recorder, which comes next
        if self.verbose:
            # Shown here, before the TextSampler's samples of the same epoch.
            say(logger, int(self.verbose), "epoch %d/%d: loss %.4f, %.1f s",
                epoch + 1, self.epochs, self.losses[-1], elapsed)


class _FirstBatches(keras.utils.PyDataset):
    """The first ``steps`` batches of a reshuffled-every-epoch dataset: a new random subset each epoch.

    Keras' own ``steps_per_epoch`` continues the previous epoch's iterator and cuts an
    epoch short (with a warning) when the data runs out; this gives every epoch exactly
    ``steps`` batches.
    """

    def __init__(self, data: OneHotFragments, steps: int) -> None:
        super().__init__()
        self.data = data
        self.steps = min(steps, len(data))

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        return self.data[index]

    def on_epoch_end(self) -> None:
        self.data.on_epoch_end()


def _encode_compact(vocabulary: Vocabulary, text: str, chunk: int = 1 << 20) -> np.ndarray:
    """Token ids in the smallest integer type, encoded a chunk at a time.

    Encoding 3 MB of text at once makes int64 and UTF-32 temporaries ~20 times its
    size; chunks keep them small. Chunks end at a space, which never lies inside a
    token (a word vocabulary splits on whitespace), so the ids are those of the whole text.
    """
    dtype = np.min_scalar_type(vocabulary.size - 1)
    parts = []
    start = 0
    while start < len(text):
        stop = len(text) if start + chunk >= len(text) else text.rfind(" ", start + 1, start + chunk) + 1
        if stop <= start:  # no space in the chunk: a single huge token; take it whole
            stop = text.find(" ", start + chunk) + 1 or len(text)
        parts.append(vocabulary.encode(text[start:stop]).astype(dtype))
        start = stop
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise KeraslabValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


def _check_corpus(path: object, vocabulary: Vocabulary, ids: np.ndarray, window_length: int) -> None:
    unit = "characters" if isinstance(vocabulary, CharVocabulary) else "words and punctuation marks"
    if len(ids) <= window_length:
        raise KeraslabValueError(
            f"The corpus is shorter than one training fragment: window_length={window_length} needs at least "
            f"{window_length + 1} {unit} (a window and the token after it). Use a longer corpus or a smaller "
            f"window_length. Received: {len(ids)} {unit} in {str(path)!r}"
        )


def _last_samples(samples: Sequence[Any]) -> list[dict[str, Any]]:
    """The last epoch's samples as plain dicts, for the run's summary in the store."""
    if not samples:
        return []
    last = samples[-1].epoch
    return [dataclasses.asdict(s) for s in samples if s.epoch == last]


def _open_store(store: Any) -> tuple[Any, bool]:
    """(ResultStore or None, whether we opened it and must close it)."""
    if store is None:
        return None, False
    from keraslab.store import ResultStore  # the store is optional: only imported when asked for

    if isinstance(store, ResultStore):
        return store, False
    if isinstance(store, (str, os.PathLike)):
        return ResultStore(store), True
    raise KeraslabTypeError(f"store must be a ResultStore or a path to one. Received: {type(store).__name__}")


def train_text_generator(
    corpus_path: str | os.PathLike[str],
    level: str = "char",
    window_length: int = 40,
    step: int = 3,
    max_words: int = 8000,
    epochs: int = 1,
    batch_size: int = 100,
    temperatures: Sequence[float] = (0.5, 1.0, 1.5),
    generate_length: int = 1000,
    seed: int | None = None,
    output: str | os.PathLike[str] | None = None,
    *,
    seed_text: str | None = None,
    units: int | Sequence[int] = (128, 128),
    embedding_dim: int = 64,
    learning_rate: float = 0.01,
    lower: bool = True,
    steps_per_epoch: int | None = None,
    save_to: str | os.PathLike[str] | None = None,
    store: Any = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int = 1,
) -> TextGenerationResult:
    """Train the chapter's LSTM text generator, sampling text after every epoch.

    Loads and prepares the corpus (:func:`keraslab.data.load_corpus`), builds the
    vocabulary (characters, or the ``max_words`` most frequent words and punctuation
    marks plus the ``GLORP`` marker), streams batches of fragments, trains one epoch at
    a time and after each epoch continues a random corpus fragment at every
    temperature, printing the text and appending it to ``output``.

    Parameters
    ----------
    corpus_path : str or Path
        A UTF-8 text file; a relative name is also looked up in ``$KERASLAB_DATA``.
    level : {"char", "word"}
        Letter by letter (one-hot inputs, :func:`keraslab.zoo.text.char_generator`) or word by
        word (ids into an Embedding, :func:`keraslab.zoo.text.word_generator`).
    window_length, step : int
        Tokens per fragment and distance between fragment starts (the chapter: 40, 3).
    max_words : int
        Word level: vocabulary size besides the out-of-vocabulary marker.
    epochs, batch_size : int
        The chapter: batch 100.
    temperatures : sequence of float
        Each ``> 0``; checked before anything is loaded or trained.
    generate_length : int
        Tokens generated per temperature and epoch (the chapter: 1,000 characters).
    seed : int, optional
        Makes weights, batch order, seed fragments and draws reproducible (it seeds
        Python, NumPy and Keras globally, as ``keras.utils.set_random_seed`` does).
    output : str or Path, optional
        File the samples are appended to (see :mod:`keraslab.textgen.output`).
    seed_text : str, optional
        Use this seed every epoch instead of a random corpus fragment.
    units, embedding_dim, learning_rate :
        Model size and RMSprop learning rate (the chapter: (128, 128), -, 0.01).
    lower : bool
        Lower-case the corpus (the chapter does).
    steps_per_epoch : int, optional
        Train on this many (shuffled) batches per epoch instead of all fragments.
    save_to : str or Path, optional
        Save the trained model with its vocabulary to this ``.keras`` file.
    store : ResultStore or path, optional
        Record the run and the loss of every epoch there.
    callbacks : sequence of keras.callbacks.Callback
        More callbacks for ``fit``.
    verbose : int
        ``0``: silent; ``1``: one line per epoch and the samples; ``2``: a progress bar too.

    Returns
    -------
    TextGenerationResult

    Examples
    --------
    >>> import pathlib, tempfile
    >>> corpus = pathlib.Path(tempfile.mkdtemp()) / "tiny.txt"
    >>> _ = corpus.write_text("the cat sat on the mat. " * 20)
    >>> result = train_text_generator(corpus, window_length=8, step=2, epochs=2, batch_size=32,
    ...                               temperatures=[0.5], generate_length=20, seed=0, units=8, verbose=0)
    >>> len(result.history["loss"]), len(result.samples[-1].text)
    (2, 20)
    """
    # Every argument is checked before the corpus is read or a model is built, so a
    # typo fails in a second rather than after an epoch.
    if level not in LEVELS:
        raise KeraslabValueError(f"level must be 'char' or 'word'. Received: level={level!r}")
    window_length = _positive_int("window_length", window_length)
    step = _positive_int("step", step)
    epochs = _positive_int("epochs", epochs)
    batch_size = _positive_int("batch_size", batch_size)
    max_words = _positive_int("max_words", max_words)
    temperatures = check_temperatures(temperatures)
    generate_length = _check_length(generate_length)
    if steps_per_epoch is not None:
        steps_per_epoch = _positive_int("steps_per_epoch", steps_per_epoch)
    if save_to is not None and Path(save_to).suffix != ".keras":
        raise KeraslabValueError(f"save_to must name a .keras file. Received: save_to={str(save_to)!r}")

    text = load_corpus(corpus_path, lower=lower)
    if not text.strip():
        raise KeraslabValueError(
            f"The corpus is empty (no text after reading it and collapsing whitespace); "
            f"point to a file with text. Received: corpus_path={str(corpus_path)!r}"
        )
    vocabulary: Vocabulary = CharVocabulary(text) if level == "char" else WordVocabulary(text, max_words=max_words)
    ids = _encode_compact(vocabulary, text)
    del text  # the ids (one byte per character at char level) are all training needs
    _check_corpus(corpus_path, vocabulary, ids, window_length)
    if seed is not None:
        keras.utils.set_random_seed(seed)

    one_hot = level == "char"
    data = OneHotFragments(
        ids, vocabulary, window_length, step, batch_size, shuffle=True, seed=seed,
        one_hot=one_hot, sparse_targets=not one_hot,
    )
    if one_hot:
        model = char_generator(vocabulary.size, window_length, units, learning_rate=learning_rate)
    else:
        model = word_generator(vocabulary.size, window_length, units, embedding_dim, learning_rate=learning_rate)

    metadata: dict[str, Any] = {
        "level": level, "window_length": window_length, "step": step, "lower": bool(lower),
        "corpus": Path(corpus_path).name, "max_words": max_words if level == "word" else None,
        "units": list(units) if isinstance(units, Sequence) else [int(units)], "batch_size": batch_size,
        "learning_rate": learning_rate, "tokens": int(len(ids)), "fragments": int(data.n_fragments),
    }
    sampler = TextSampler(
        vocabulary, corpus=None if seed_text is not None else ids, seed_text=seed_text,
        temperatures=temperatures, length=generate_length, output=output, seed=seed, verbose=verbose,
    )

    opened_store, must_close = _open_store(store)
    timer = _EpochLog(epochs, verbose == 1)
    run = record = None
    if opened_store is not None:
        from keraslab.experiments.recorder import RunRecorder  # only when recording

        run = RunRecorder.begin(
            # Everything that changes the result is in the spec text, so a reproduction can tell
            # whether a stored run was made with the same settings (keraslab.reproduce.textgen).
            opened_store, f"textgen-{level}", kind="train", spec_text=json.dumps(
                {**metadata, "epochs": epochs, "steps_per_epoch": steps_per_epoch, "seed": seed,
                 "temperatures": list(temperatures), "generate_length": generate_length}, indent=1),
            parameters={**metadata, "epochs": epochs, "temperatures": list(temperatures)},
            backend=keras.backend.backend(), versions={"keras": keras.__version__},
        )
        record = run.fit(f"{level} LSTM {metadata['units']}", params=metadata)
    # The timer first (training time only, into the logs), then the recorder, then the samples.
    fit_callbacks = [timer, *([record] if record is not None else []), sampler, *callbacks]
    status, error = "failed", ""
    try:
        with record.closing() if record is not None else contextlib.nullcontext():
            history = model.fit(
                data if steps_per_epoch is None else _FirstBatches(data, steps_per_epoch), epochs=epochs,
                callbacks=fit_callbacks, verbose=1 if verbose >= 2 else 0,
            ).history
        history.pop("seconds", None)  # the timer's, kept in seconds_per_epoch
        status = "finished"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        if run is not None:
            last = (f"{level} level, {len(timer.losses)} epoch(s), loss {timer.losses[0]:.4f} -> "
                    f"{timer.losses[-1]:.4f}") if timer.losses else "no epoch finished"
            run.finish(status, summary={"final_line": last, "samples": _last_samples(sampler.samples)},
                       error=error)
            if must_close:
                opened_store.close()

    metadata["epochs"] = len(history.get("loss", []))
    saved = save_generator(save_to, model, vocabulary, metadata) if save_to is not None else None
    return TextGenerationResult(
        model=model, vocabulary=vocabulary, history={k: [float(v) for v in vs] for k, vs in history.items()},
        samples=list(sampler.samples), metadata=metadata, output=None if output is None else Path(output),
        saved_to=saved, run_id=None if run is None else run.run_id, seconds_per_epoch=list(timer.seconds),
    )
