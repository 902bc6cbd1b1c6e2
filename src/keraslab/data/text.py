"""Text generation data: vocabularies, fragments, one-hot batches made on demand, sampling.

The chapter cuts a corpus into windows of 40 characters (step 3), one-hot encodes all of
them into a boolean tensor of shape (fragments, 40, characters) and trains an LSTM to
predict the next character. For the full Sherlock Holmes corpus that tensor needs about
3.5 GB. :class:`OneHotFragments` stores only the integer-encoded text and builds each
batch's one-hot block when Keras asks for it.
"""

from __future__ import annotations

import math
import numbers
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import keras
import numpy as np

from keraslab._checks import positive_int
from keraslab.errors import KeraslabTypeError, KeraslabValueError

__all__ = [
    "Vocabulary",
    "CharVocabulary",
    "WordVocabulary",
    "fragments",
    "OneHotFragments",
    "sample_with_temperature",
]

# A word is letters/digits with optional inner apostrophes ("don't", "holmes's"); every
# other visible character (punctuation) is a token of its own, as in the chapter.
_WORD_TOKEN = re.compile(r"\w+(?:'\w+)*|[^\w\s]")
_NO_SPACE_BEFORE = frozenset(".,;:!?)]}%")
_NO_SPACE_AFTER = frozenset("([{$")
# Hyphens and slashes bind on both sides ("red-headed"); never apostrophes, which would
# merge with the neighbouring words into a different token.
_TIGHT = frozenset("-/")


class Vocabulary:
    """Base class: an ordered list of tokens, their ids, and conversion between text and ids.

    Subclasses define how text splits into tokens (:meth:`tokenize`) and how tokens join
    back into text (:meth:`join`). Every vocabulary serialises to a JSON-friendly dict,
    so it can be saved next to a ``.keras`` model and restored with :meth:`from_dict`.
    """

    kind: ClassVar[str] = ""
    tokens: tuple[str, ...]

    def _set_tokens(self, tokens: Iterable[str]) -> None:
        self.tokens = tuple(tokens)
        self._ids = {token: i for i, token in enumerate(self.tokens)}

    @property
    def size(self) -> int:
        """Number of distinct tokens (the width of a one-hot vector)."""
        return len(self.tokens)

    def __len__(self) -> int:
        return self.size

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.to_dict() == self.to_dict()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"

    def tokenize(self, text: str) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def join(self, tokens: Sequence[str]) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def encode(self, text: str) -> np.ndarray:
        """Token ids of ``text`` as an int32 array."""
        return np.fromiter((self._id_of(t) for t in self.tokenize(text)), dtype=np.int32)

    def _id_of(self, token: str) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def decode(self, ids: Iterable[int] | np.ndarray) -> str:
        """Text for a sequence of token ids."""
        return self.join([self.tokens[i] for i in self._check_ids(ids)])

    def _check_ids(self, ids: Iterable[int] | np.ndarray) -> np.ndarray:
        array = np.asarray(ids if isinstance(ids, np.ndarray) else list(ids))
        if array.size == 0:
            return array.astype(np.int64).reshape(0)
        if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
            raise KeraslabTypeError(
                f"ids must be a 1-D sequence of integers. Received: array of dtype {array.dtype}, shape {array.shape}"
            )
        bad = array[(array < 0) | (array >= self.size)]
        if bad.size:
            raise KeraslabValueError(
                f"ids must be between 0 and size - 1 = {self.size - 1}. Received: id {int(bad[0])}"
            )
        return array

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description; :meth:`Vocabulary.from_dict` restores it."""
        return {"kind": self.kind, "tokens": list(self.tokens)}

    @classmethod
    def from_dict(cls, config: dict[str, Any]) -> Vocabulary:
        """Rebuild a vocabulary saved with :meth:`to_dict` (any subclass, by its ``kind``)."""
        kinds = {sub.kind: sub for sub in (CharVocabulary, WordVocabulary)}
        kind = config.get("kind") if isinstance(config, dict) else None
        target = kinds.get(kind)
        if target is None or not issubclass(target, cls):
            raise KeraslabValueError(
                f"config must come from {cls.__name__}.to_dict() with kind in {sorted(kinds)}. Received: kind={kind!r}"
            )
        vocabulary = target.__new__(target)
        vocabulary._restore(config)
        return vocabulary

    def _restore(self, config: dict[str, Any]) -> None:
        self._set_tokens(config["tokens"])


class CharVocabulary(Vocabulary):
    """Every distinct character of a text, sorted, as in the chapter (``sorted(set(text))``).

    Parameters
    ----------
    text : str
        The corpus whose characters make the vocabulary.

    Examples
    --------
    >>> vocab = CharVocabulary("hello world")
    >>> vocab.size, vocab.encode("low").tolist()
    (8, [4, 5, 7])
    >>> vocab.decode(vocab.encode("hello"))
    'hello'
    """

    kind: ClassVar[str] = "char"

    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or not text:
            raise KeraslabValueError(f"text must be a non-empty string. Received: text={text!r:.40}")
        self._set_tokens(sorted(set(text)))

    def _set_tokens(self, tokens: Iterable[str]) -> None:
        super()._set_tokens(tokens)
        # Sorted code points let encode() look up a whole corpus at once with searchsorted.
        self._codes = np.array([ord(c) for c in self.tokens], dtype=np.uint32)

    def tokenize(self, text: str) -> list[str]:
        return list(text)

    def join(self, tokens: Sequence[str]) -> str:
        return "".join(tokens)

    def encode(self, text: str) -> np.ndarray:
        """Character ids of ``text`` (int32); raises for a character not in the vocabulary."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        ids = np.searchsorted(self._codes, codes)
        unknown = codes != self._codes[np.minimum(ids, self.size - 1)]
        if unknown.any():
            missing = sorted({chr(c) for c in codes[unknown][:1000]})
            raise KeraslabValueError(
                "text contains characters that are not in the vocabulary; build the vocabulary from a text "
                f"that includes them. Received: characters {missing[:10]!r}"
            )
        return ids.astype(np.int32)

    def decode(self, ids: Iterable[int] | np.ndarray) -> str:
        return self._codes[self._check_ids(ids)].tobytes().decode("utf-32-le")


class WordVocabulary(Vocabulary):
    """The most frequent words and punctuation marks; every other word becomes ``oov_token``.

    Words and punctuation are separate tokens (``"holmes, come!"`` is ``holmes``, ``,``,
    ``come``, ``!``), as in the chapter's word-level model. Id 0 is ``oov_token``, followed
    by the ``max_words`` most frequent tokens (ties broken by first appearance).
    :meth:`decode` joins tokens with spaces but attaches punctuation to the preceding
    word (``"holmes, come!"``), opens and closes double quotes alternately, and keeps
    brackets, hyphens and slashes tight (``"red-headed"``).

    Parameters
    ----------
    text : str
        The corpus to count words in.
    max_words : int
        How many distinct tokens to keep besides ``oov_token``.
    oov_token : str
        Stand-in for words outside the vocabulary (the chapter's ``GLORP``).

    Examples
    --------
    >>> vocab = WordVocabulary("the cat sat. the dog sat.", max_words=3)
    >>> vocab.tokens
    ('GLORP', 'the', 'sat', '.')
    >>> vocab.decode(vocab.encode("the cat sat."))
    'the GLORP sat.'
    """

    kind: ClassVar[str] = "word"

    def __init__(self, text: str, max_words: int = 8000, oov_token: str = "GLORP") -> None:
        if not isinstance(text, str):
            raise KeraslabTypeError(f"text must be a string. Received: {type(text).__name__}")
        positive_int("max_words", max_words)
        if not isinstance(oov_token, str) or _WORD_TOKEN.fullmatch(oov_token) is None:
            raise KeraslabValueError(
                "oov_token must be a single word (letters, digits, underscores) so that decoded text "
                f"encodes back to the same ids. Received: oov_token={oov_token!r}"
            )
        self.max_words = int(max_words)
        self.oov_token = oov_token
        counts = Counter(self.tokenize(text))
        counts.pop(oov_token, None)
        self._set_tokens([oov_token] + [token for token, _ in counts.most_common(self.max_words)])

    def tokenize(self, text: str) -> list[str]:
        """Split into words and single punctuation marks."""
        return _WORD_TOKEN.findall(text)

    def _id_of(self, token: str) -> int:
        return self._ids.get(token, 0)

    def join(self, tokens: Sequence[str]) -> str:
        """Readable text: spaces between words, none before closing punctuation."""
        pieces: list[str] = []
        glue_next = True  # no space before the very first token
        quote_open = False
        for token in tokens:
            if token == '"':
                space = not quote_open and not glue_next
                glue_after = not quote_open
                quote_open = not quote_open
            else:
                space = not glue_next and token not in _NO_SPACE_BEFORE and token not in _TIGHT
                glue_after = token in _NO_SPACE_AFTER or token in _TIGHT
            pieces.append(" " + token if space else token)
            glue_next = glue_after
        return "".join(pieces)

    def to_dict(self) -> dict[str, Any]:
        config = super().to_dict()
        config.update(max_words=self.max_words, oov_token=self.oov_token)
        return config

    def _restore(self, config: dict[str, Any]) -> None:
        self.max_words = int(config["max_words"])
        self.oov_token = config["oov_token"]
        super()._restore(config)


def _fragment_count(length: int, window_length: int, step: int) -> int:
    if length <= window_length:
        raise KeraslabValueError(
            f"The text must be longer than window_length={window_length} tokens to give at least one "
            f"fragment with a next token. Received: {length} tokens"
        )
    return math.ceil((length - window_length) / step)


def fragments(tokens: Sequence[int] | np.ndarray, window_length: int, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping windows of token ids and the id that follows each, as the chapter builds them.

    Fragment ``k`` starts at ``k * step``; there is one for every start before
    ``len(tokens) - window_length``.

    Parameters
    ----------
    tokens : array-like of int
        An encoded text.
    window_length, step : int
        Tokens per fragment, and the distance between fragment starts.

    Returns
    -------
    inputs : numpy.ndarray
        ``(n_fragments, window_length)``; a read-only strided view of ``tokens`` (no copy).
    next_tokens : numpy.ndarray
        ``(n_fragments,)``.

    Examples
    --------
    >>> inputs, targets = fragments(np.arange(10), window_length=4, step=3)
    >>> inputs.tolist(), targets.tolist()
    ([[0, 1, 2, 3], [3, 4, 5, 6]], [4, 7])
    """
    window_length = positive_int("window_length", window_length)
    step = positive_int("step", step)
    ids = np.asarray(tokens)
    if ids.ndim != 1:
        raise KeraslabValueError(f"tokens must be 1-D. Received: tokens with shape {ids.shape}")
    count = _fragment_count(ids.shape[0], window_length, step)
    view = np.lib.stride_tricks.sliding_window_view(ids, window_length)
    return view[: count * step : step], ids[window_length::step][:count]


class OneHotFragments(keras.utils.PyDataset):
    """Batches of text fragments for next-token training, built on demand.

    Holds only the encoded text (one small integer per token) and, when shuffling, one
    permutation of fragment numbers; each batch's windows are gathered and one-hot
    encoded in ``__getitem__``. Same ``seed``, same batches; the order changes every epoch.

    Parameters
    ----------
    text : str or array-like of int
        The corpus, or its ids from ``vocabulary.encode``.
    vocabulary : Vocabulary
        Maps text to ids and fixes the one-hot width.
    window_length, step : int
        Fragment length and the distance between fragment starts (the chapter: 40, 3).
    batch_size : int
        Fragments per batch (the chapter: 100).
    shuffle : bool
        Visit fragments in a new random order every epoch.
    seed : int, optional
        Makes the order reproducible; ``None`` draws one at construction.
    one_hot : bool
        ``True``: inputs ``(batch, window_length, vocabulary.size)``; ``False``: integer ids
        ``(batch, window_length)`` for a model that starts with an ``Embedding`` layer.
    sparse_targets : bool
        ``True``: targets are ids ``(batch,)`` (for ``sparse_categorical_crossentropy``);
        ``False``: one-hot ``(batch, vocabulary.size)``.
    dtype : str
        dtype of one-hot arrays: ``"float32"`` or ``"bool"`` (the chapter's choice).
    **kwargs
        ``workers``, ``use_multiprocessing``, ``max_queue_size`` of ``keras.utils.PyDataset``.

    Examples
    --------
    >>> text = "the quick brown fox jumps over the lazy dog " * 20
    >>> vocab = CharVocabulary(text)
    >>> data = OneHotFragments(text, vocab, window_length=10, step=3, batch_size=16, seed=0)
    >>> x, y = data[0]
    >>> x.shape, y.shape
    ((16, 10, 27), (16, 27))
    """

    def __init__(
        self,
        text: str | Sequence[int] | np.ndarray,
        vocabulary: Vocabulary,
        window_length: int = 40,
        step: int = 3,
        batch_size: int = 100,
        shuffle: bool = True,
        seed: int | None = None,
        *,
        one_hot: bool = True,
        sparse_targets: bool = False,
        dtype: str = "float32",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(vocabulary, Vocabulary):
            raise KeraslabTypeError(
                f"vocabulary must be a CharVocabulary or WordVocabulary. Received: {type(vocabulary).__name__}"
            )
        if np.dtype(dtype) not in (np.dtype("float32"), np.dtype("bool")):
            raise KeraslabValueError(f"dtype must be 'float32' or 'bool'. Received: dtype={dtype!r}")
        self.vocabulary = vocabulary
        self.window_length = positive_int("window_length", window_length)
        self.step = positive_int("step", step)
        self.batch_size = positive_int("batch_size", batch_size)
        self.shuffle = bool(shuffle)
        self.seed = int(np.random.SeedSequence().entropy % 2**63) if seed is None else int(seed)
        self.one_hot = bool(one_hot)
        self.sparse_targets = bool(sparse_targets)
        self.dtype = np.dtype(dtype)
        ids = vocabulary.encode(text) if isinstance(text, str) else vocabulary._check_ids(text)
        # The smallest integer type that holds every id: one byte per character for a char corpus.
        self._ids = ids.astype(np.min_scalar_type(vocabulary.size - 1))
        self.n_fragments = _fragment_count(self._ids.shape[0], self.window_length, self.step)
        self._offsets = np.arange(self.window_length)
        self.epoch = 0
        self._order: tuple[int, np.ndarray] | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input sample, for ``keras.Input(shape=...)``."""
        return (self.window_length, self.vocabulary.size) if self.one_hot else (self.window_length,)

    def __len__(self) -> int:
        return math.ceil(self.n_fragments / self.batch_size)

    def _fragment_numbers(self, index: int) -> np.ndarray:
        stop = min((index + 1) * self.batch_size, self.n_fragments)
        if not self.shuffle:
            return np.arange(index * self.batch_size, stop)
        if self._order is None or self._order[0] != self.epoch:
            rng = np.random.default_rng([self.seed, self.epoch])
            self._order = (self.epoch, rng.permutation(self.n_fragments))
        return self._order[1][index * self.batch_size : stop]

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if not 0 <= index < len(self):
            raise IndexError(f"batch index must be from 0 to {len(self) - 1}. Received: index={index}")
        starts = self._fragment_numbers(index) * self.step
        windows = self._ids[starts[:, np.newaxis] + self._offsets]
        following = self._ids[starts + self.window_length]
        inputs = self._one_hot(windows) if self.one_hot else windows.astype(np.int32)
        targets = following.astype(np.int32) if self.sparse_targets else self._one_hot(following)
        return inputs, targets

    def _one_hot(self, ids: np.ndarray) -> np.ndarray:
        # Scatter into a zero batch instead of indexing an identity matrix: np.eye over an
        # 8,000-word vocabulary alone would hold 256 MB for the whole run.
        out = np.zeros(ids.shape + (self.vocabulary.size,), dtype=self.dtype)
        np.put_along_axis(out, ids[..., np.newaxis].astype(np.intp), 1, axis=-1)
        return out

    def on_epoch_end(self) -> None:
        self.epoch += 1


def sample_with_temperature(
    probabilities: Sequence[float] | np.ndarray,
    temperature: float,
    rng: np.random.Generator | int | None = None,
) -> int:
    """Draw a token id from a predicted distribution sharpened or flattened by ``temperature``.

    The chapter's recipe: ``p ** (1 / temperature)``, renormalised, then one draw.
    Temperature 1 samples the model's distribution; lower values favour likely tokens and
    ``temperature=0`` is exactly the argmax (greedy); higher values flatten the
    distribution. Computed in log space, so tiny temperatures neither overflow nor divide
    by zero.

    Parameters
    ----------
    probabilities : array-like
        1-D, non-negative, finite, with a positive sum (it need not be exactly 1, as
        float32 softmax outputs rarely are).
    temperature : float
        ``>= 0``.
    rng : numpy.random.Generator or int, optional
        Source of randomness (or a seed for one).

    Returns
    -------
    int

    Examples
    --------
    >>> sample_with_temperature([0.1, 0.6, 0.3], 0)
    1
    >>> sample_with_temperature([0.1, 0.6, 0.3], 1.0, rng=np.random.default_rng(0)) in (0, 1, 2)
    True
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 1 or p.size == 0:
        raise KeraslabValueError(
            f"probabilities must be a non-empty 1-D array (one model output row). Received: shape {p.shape}"
        )
    if not np.all(np.isfinite(p)) or np.any(p < 0) or not p.sum() > 0:
        raise KeraslabValueError(
            "probabilities must be finite, non-negative and not all zero. "
            f"Received: min={p.min()!r}, max={p.max()!r}, sum={p.sum()!r}"
        )
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise KeraslabTypeError(f"temperature must be a number. Received: temperature={temperature!r}")
    if not math.isfinite(temperature) or temperature < 0:
        raise KeraslabValueError(
            "temperature must be a finite number >= 0 (0 means always pick the most likely token). "
            f"Received: temperature={temperature!r}"
        )
    if temperature == 0:
        return int(np.argmax(p))
    # log(0) = -inf and exp underflowing to 0 are the intended results for impossible/unlikely tokens.
    with np.errstate(divide="ignore", under="ignore"):
        logits = np.log(p) / temperature
        weights = np.exp(logits - logits.max())  # the largest weight is exactly 1: no overflow
    cumulative = np.cumsum(weights)
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    # side="right" never lands on a zero-weight token: its cumulative value equals its predecessor's.
    index = int(np.searchsorted(cumulative, generator.random() * cumulative[-1], side="right"))
    # Guards the rounding case u * total == total, which would step past the last token.
    return min(index, int(np.flatnonzero(weights)[-1]))
