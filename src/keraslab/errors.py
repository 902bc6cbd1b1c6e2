"""The one exception hierarchy of keraslab.

Every error keraslab raises on purpose derives from :class:`KeraslabError`, so the
CLI can turn it into exit code 2 with a one-line message. Subclasses also inherit
the matching built-in or scikit-learn error, so ``except ValueError`` in user code
(and scikit-learn's ``error_score`` machinery) keeps working.
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SkNotFittedError

__all__ = [
    "KeraslabError",
    "KeraslabValueError",
    "KeraslabTypeError",
    "KeraslabNotFittedError",
    "DataNotFoundError",
    "CorruptDataError",
    "TrainingDivergedError",
]


class KeraslabError(Exception):
    """Base class of every error keraslab raises on purpose."""


class KeraslabValueError(KeraslabError, ValueError):
    """A value has the right type but is not acceptable."""


class KeraslabTypeError(KeraslabError, TypeError):
    """A value has the wrong type."""


class KeraslabNotFittedError(KeraslabError, _SkNotFittedError):
    """An estimator was used before ``fit``."""


class DataNotFoundError(KeraslabError, FileNotFoundError):
    """A dataset file is neither where the user said nor in any known place."""


class CorruptDataError(KeraslabValueError):
    """A dataset file exists but is truncated, has the wrong checksum, shape or dtype."""


class TrainingDivergedError(KeraslabError, FloatingPointError):
    """The training loss became NaN or infinite."""
