"""Saving a text generator: the ``.keras`` model with its vocabulary inside the same file.

A ``.keras`` file is a zip archive; :func:`save_generator` adds one entry,
``keraslab_textgen.json`` (vocabulary and training settings), after Keras has written
its own. Keras ignores entries it does not know, so the file still opens with plain
``keras.models.load_model``; one file travels, and the vocabulary cannot get lost or
mixed up with another model's.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keraslab.data.text import Vocabulary
from keraslab.errors import DataNotFoundError, KeraslabTypeError, KeraslabValueError
from keraslab.textgen.generate import generate

__all__ = ["TextGenerator", "save_generator", "load_generator", "prepare_seed"]

ENTRY = "keraslab_textgen.json"
_FORMAT = 1


def prepare_seed(seed_text: str, lower: bool = True) -> str:
    """Prepare a seed the way :func:`keraslab.data.load_corpus` prepares a corpus.

    Examples
    --------
    >>> prepare_seed("Mr.  Sherlock\\nHolmes")
    'mr. sherlock holmes'
    """
    text = seed_text.lower() if lower else seed_text
    text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return re.sub(" {2,}", " ", text)


@dataclass
class TextGenerator:
    """A next-token model, its vocabulary and how its corpus was prepared.

    Attributes
    ----------
    model : keras.Model
    vocabulary : Vocabulary
    metadata : dict
        Training settings saved with the model (``level``, ``window_length``, ``step``,
        ``lower``, ``corpus``, ``epochs``, ...).

    Examples
    --------
    >>> from keraslab.data import CharVocabulary
    >>> from keraslab.zoo.text import char_generator
    >>> vocab = CharVocabulary("abc ")
    >>> gen = TextGenerator(char_generator(vocab.size, 5, units=4), vocab, {"lower": True})
    >>> len(gen.generate("ABC", length=4, rng=0))
    4
    """

    model: keras.Model
    vocabulary: Vocabulary
    metadata: dict[str, Any] = field(default_factory=dict)

    def generate(
        self,
        seed_text: str,
        length: int = 1000,
        temperature: float = 1.0,
        rng: np.random.Generator | int | None = None,
        *,
        greedy: bool = False,
    ) -> str:
        """:func:`keraslab.textgen.generate` after preparing the seed like the corpus was (lower-cased etc.)."""
        seed = prepare_seed(seed_text, lower=bool(self.metadata.get("lower", False)))
        return generate(self.model, self.vocabulary, seed, length, temperature, rng, greedy=greedy)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model and vocabulary to one ``.keras`` file (see :func:`save_generator`)."""
        return save_generator(path, self.model, self.vocabulary, self.metadata)


def _check_keras_path(path: str | os.PathLike[str]) -> Path:
    target = Path(path).expanduser()
    if target.suffix != ".keras":
        raise KeraslabValueError(
            f"A text generator is saved as a .keras file; name the path *.keras. Received: path={str(path)!r}"
        )
    return target


def save_generator(
    path: str | os.PathLike[str],
    model: keras.Model,
    vocabulary: Vocabulary,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Save ``model`` as a ``.keras`` file that also holds ``vocabulary`` and ``metadata``.

    Parameters
    ----------
    path : str or Path
        Ends in ``.keras``; its folder is created if missing; an existing file is replaced.
    model : keras.Model
    vocabulary : Vocabulary
    metadata : dict, optional
        JSON-serialisable training settings, returned by :func:`load_generator`.

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from keraslab.data import CharVocabulary
    >>> from keraslab.zoo.text import char_generator
    >>> vocab = CharVocabulary("abc ")
    >>> path = save_generator(pathlib.Path(tempfile.mkdtemp()) / "m.keras", char_generator(4, 5, units=4), vocab)
    >>> load_generator(path, compile=False).vocabulary == vocab
    True
    """
    target = _check_keras_path(path)
    if not isinstance(vocabulary, Vocabulary):
        raise KeraslabTypeError(
            f"vocabulary must be a CharVocabulary or WordVocabulary. Received: {type(vocabulary).__name__}"
        )
    payload = {"format": _FORMAT, "vocabulary": vocabulary.to_dict(), "metadata": dict(metadata or {})}
    try:
        text = json.dumps(payload, ensure_ascii=False)
    except TypeError as error:
        raise KeraslabValueError(f"metadata must be JSON-serialisable ({error}). Received: metadata={metadata!r}")
    target.parent.mkdir(parents=True, exist_ok=True)
    model.save(target, overwrite=True)
    with zipfile.ZipFile(target, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(ENTRY, text)
    return target


def load_generator(path: str | os.PathLike[str], compile: bool = True) -> TextGenerator:
    """Load a file written by :func:`save_generator` (or ``train_text_generator(save_to=...)``).

    Parameters
    ----------
    path : str or Path
    compile : bool
        Passed to ``keras.models.load_model``; ``False`` skips restoring the optimizer
        (enough for generating).

    Returns
    -------
    TextGenerator
        Its greedy text is identical to that of the model that was saved.
    """
    target = _check_keras_path(path)
    if not target.is_file():
        raise DataNotFoundError(f"No saved model at this path; check it. Received: path={str(path)!r}")
    try:
        with zipfile.ZipFile(target) as archive:
            raw = archive.read(ENTRY) if ENTRY in archive.namelist() else None
    except zipfile.BadZipFile as error:
        raise KeraslabValueError(f"{target} is not a .keras archive ({error}). Received: path={str(path)!r}") from None
    if raw is None:
        raise KeraslabValueError(
            f"{target} holds a Keras model but no vocabulary; save text generators with "
            f"keraslab.textgen.save_generator (or train_text_generator(save_to=...)). Received: path={str(path)!r}"
        )
    payload = json.loads(raw.decode("utf-8"))
    vocabulary = Vocabulary.from_dict(payload["vocabulary"])
    model = keras.models.load_model(target, compile=compile)
    return TextGenerator(model, vocabulary, payload.get("metadata", {}))
