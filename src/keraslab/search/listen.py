"""Listening to a search's fits as they happen, without changing the search's parameters.

A listener is set for the duration of one ``fit`` with :func:`listening`; the search
engine picks it up when a ``fit`` starts and tells it, in the search process:

``on_planned(key, fold, subset)``
    a (candidate, fold, subset) fit the search needs, in the order of ``cv_results_``;
``on_resumed(key, fold, subset, result)``
    that fit was read back from the journal, not computed;
``on_fit(key, fold, subset, result)``
    that fit was computed. Called *before* the fit is journaled, so a listener that
    raises (to stop the search) keeps a cut-short fit out of the journal.

``key`` is :func:`keraslab.search.journal.candidate_key` of the candidate's
parameters; ``result`` has ``test_scores``, ``fit_time``, ``score_time``,
``n_test_samples`` and ``fit_error`` (a traceback text, or None).

Why a context variable rather than a constructor argument: a listener (a result
store, an MLflow client) is not a hyperparameter; as one it would be cloned,
pickled and fingerprinted with the estimator.

Examples
--------
>>> class Count:
...     def __init__(self): self.n = 0
...     def on_planned(self, key, fold, subset): self.n += 1
...     def on_resumed(self, key, fold, subset, result): pass
...     def on_fit(self, key, fold, subset, result): pass
>>> import numpy as np
>>> from sklearn.linear_model import Ridge
>>> from keraslab.search import JournaledGridSearchCV
>>> from keraslab.search.listen import listening
>>> X, y = np.random.default_rng(0).normal(size=(30, 2)), np.arange(30.0)
>>> counter = Count()
>>> with listening(counter):
...     _ = JournaledGridSearchCV(Ridge(), {"alpha": [0.1, 1.0]}, cv=3).fit(X, y)
>>> counter.n
6
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Any, Iterator, Protocol

__all__ = ["FitListener", "listening", "current_listener"]


class FitListener(Protocol):
    """What the search engine calls; see the module docstring."""

    def on_planned(self, key: str, fold: int, subset: str) -> None: ...

    def on_resumed(self, key: str, fold: int, subset: str, result: dict) -> None: ...

    def on_fit(self, key: str, fold: int, subset: str, result: dict) -> None: ...


_LISTENER: contextvars.ContextVar[Any] = contextvars.ContextVar("keraslab_fit_listener", default=None)


def current_listener() -> FitListener | None:
    """The listener set by the innermost active :func:`listening` block, or None."""
    return _LISTENER.get()


@contextlib.contextmanager
def listening(listener: FitListener | None) -> Iterator[None]:
    """Within the block, searches report their fits to ``listener``."""
    token = _LISTENER.set(listener)
    try:
        yield
    finally:
        _LISTENER.reset(token)
