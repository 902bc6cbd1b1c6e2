"""Listening to a search's fits as they happen, without changing the search's parameters.

A listener is set for the duration of one ``fit`` with :func:`listening`; the search
engine picks it up when a ``fit`` starts and tells it, in the search process:

``on_planned(key, fold, subset)``
    a (candidate, fold, subset) fit the search needs, in the order of ``cv_results_``;
``on_resumed(key, fold, subset, result)``
    that fit was read back from the journal, not computed;
``on_fit(key, fold, subset, result)``
    that fit was computed. Called *after* the fit is journaled, so a listener that
    raises (to stop the search) loses no finished fit: a resumed search reads it back.

``key`` is :func:`keraslab.search.journal.candidate_key` of the candidate's
parameters; ``result`` has ``test_scores``, ``fit_time``, ``score_time``,
``n_test_samples``, ``fit_error`` (a traceback text, or None) and ``history``
(the fit's per-epoch ``{metric: [floats]}``; ``{}`` when unknown). A listener
needs no callback on the estimator, so fits stay eligible for vectorised training.

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
import sys
from typing import Any, Iterator, Protocol

__all__ = ["FitListener", "listening", "current_listener"]


class FitListener(Protocol):
    """What the search engine calls; see the module docstring."""

    def on_planned(self, key: str, fold: int, subset: str) -> None: ...

    def on_resumed(self, key: str, fold: int, subset: str, result: dict) -> None: ...

    def on_fit(self, key: str, fold: int, subset: str, result: dict) -> None: ...


def _shared_variable() -> contextvars.ContextVar[Any]:
    # One variable per process, kept on the parent package: pytest's importlib import mode
    # (--doctest-modules) executes this file a second time as a new module object, whose
    # own variable the search engine (bound to the first) would never read.
    home = sys.modules.get(__name__.rpartition(".")[0]) or sys.modules[__name__]
    variable = getattr(home, "_fit_listener_variable", None)
    if variable is None:
        variable = contextvars.ContextVar("keraslab_fit_listener", default=None)
        setattr(home, "_fit_listener_variable", variable)
    return variable


_LISTENER: contextvars.ContextVar[Any] = _shared_variable()


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
