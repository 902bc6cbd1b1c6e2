"""What a search will cost before it starts, and how far it has got while it runs.

The chapter's warning, "Fitting 3 folds for each of 18 candidates, totalling 54
fits", becomes a number of seconds here: :func:`estimate_search_cost` times one
probe fit on one fold and scales it by the number of fits and workers. It works on
scikit-learn's own ``GridSearchCV`` and ``RandomizedSearchCV`` as well as keraslab's
searches. :class:`~keraslab._console.ProgressBar` (re-exported here) is the bar keraslab
searches draw on stderr.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from sklearn.model_selection import GridSearchCV
>>> X, y = np.random.default_rng(0).normal(size=(60, 3)), np.arange(60) % 2
>>> cost = estimate_search_cost(GridSearchCV(LogisticRegression(), {"C": [0.1, 1, 10]}, cv=3), X, y)
>>> cost.line.startswith("Fitting 3 folds for each of 3 candidates, totalling 9 fits")
True
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from keraslab._console import ProgressBar, fits_line, format_seconds
from keraslab.errors import KeraslabTypeError

__all__ = ["ProgressBar", "SearchCost", "estimate_search_cost", "fits_line", "format_seconds"]


@dataclass(frozen=True)
class SearchCost:
    """The size of a search and its estimated duration.

    Attributes
    ----------
    n_candidates, n_splits, n_fits : int
        Candidates, CV folds and their product.
    probe_seconds : float or None
        Seconds one probe fit (fit plus scoring, one fold) took; ``None`` without a probe.
    estimated_seconds : float or None
        ``probe_seconds * n_fits / n_workers``.
    n_workers : int
        Parallel workers the fits are spread over (``n_jobs`` under the active joblib backend).
    """

    n_candidates: int
    n_splits: int
    n_fits: int
    probe_seconds: float | None = None
    estimated_seconds: float | None = None
    n_workers: int = 1

    @property
    def line(self) -> str:
        """The chapter's line plus the estimate, e.g. ``'Fitting 3 folds for each of 18
        candidates, totalling 54 fits; estimated 2 min 10 s (probe fit 2.4 s, 1 worker)'``."""
        text = fits_line(self.n_splits, self.n_candidates)
        if self.estimated_seconds is not None and self.probe_seconds is not None:
            workers = f"{self.n_workers} worker" + ("s" if self.n_workers != 1 else "")
            text += (
                f"; estimated {format_seconds(self.estimated_seconds)} "
                f"(probe fit {format_seconds(self.probe_seconds)}, {workers})"
            )
        return text

    def __str__(self) -> str:
        return self.line


def n_workers_for(n_jobs: int | None, n_fits: int) -> int:
    """Workers joblib will use for ``n_jobs`` under the active backend, at most ``n_fits``."""
    from joblib import effective_n_jobs

    return max(1, min(int(effective_n_jobs(n_jobs)), max(1, n_fits)))


def _candidates_of(search: Any) -> list[dict]:
    from sklearn.model_selection import ParameterGrid, ParameterSampler

    from sklearn.model_selection._search_successive_halving import BaseSuccessiveHalving

    if isinstance(search, BaseSuccessiveHalving):
        pass  # its fits per round depend on the data size: fall through to the error
    elif hasattr(search, "initial_candidates"):  # keraslab's MultiResolutionSearchCV
        return list(search.initial_candidates())
    elif hasattr(search, "param_grid"):
        return list(ParameterGrid(search.param_grid))
    elif hasattr(search, "param_distributions") and hasattr(search, "n_iter"):
        return list(
            ParameterSampler(
                search.param_distributions, search.n_iter, random_state=search.random_state
            )
        )
    raise KeraslabTypeError(
        "estimate_search_cost supports GridSearchCV, RandomizedSearchCV, their keraslab "
        "Journaled* equivalents and MultiResolutionSearchCV (whose estimate covers round 1). "
        f"Received: {type(search).__name__}"
    )


def estimate_search_cost(
    search: Any, X: Any, y: Any = None, *, probe: bool = True, groups: Any = None, **fit_params: Any
) -> SearchCost:
    """Count a search's fits and estimate its duration from one timed probe fit.

    Parameters
    ----------
    search : GridSearchCV, RandomizedSearchCV or a keraslab search
        An unfitted search; it is not modified.
    X, y : array-like
        The data the search will be fitted on.
    probe : bool, default=True
        Fit and score the first candidate on the first fold to time it. With
        ``False`` only the counts are returned.
    groups : array-like, optional
        Groups for group-aware splitters.
    **fit_params
        Passed to the probe's ``fit``.

    Returns
    -------
    SearchCost
        ``n_candidates``, ``n_splits``, ``n_fits``, ``probe_seconds``,
        ``estimated_seconds``, ``n_workers`` and the printable ``line``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.model_selection import RandomizedSearchCV
    >>> X, y = np.random.default_rng(0).normal(size=(40, 2)), np.arange(40.0)
    >>> estimate_search_cost(RandomizedSearchCV(Ridge(), {"alpha": [1, 2, 3, 4]}, n_iter=2, cv=4), X, y).n_fits
    8
    """
    from sklearn.base import clone, is_classifier
    from sklearn.model_selection import check_cv
    from sklearn.utils import indexable
    from sklearn.utils.validation import _check_method_params

    from sklearn.utils import _safe_indexing

    candidates = _candidates_of(search)
    X, y = indexable(X, y)
    cv = check_cv(search.cv, y, classifier=is_classifier(search.estimator))
    n_splits = cv.get_n_splits(X, y, groups)
    n_fits = len(candidates) * n_splits
    n_workers = n_workers_for(getattr(search, "n_jobs", None), n_fits)
    if not probe or not candidates:
        return SearchCost(len(candidates), n_splits, n_fits, None, None, n_workers)
    train, test = next(iter(cv.split(X, y, groups)))
    estimator = clone(search.estimator).set_params(**clone(candidates[0], safe=False))
    scorer, _ = search._get_scorers()
    train_params = _check_method_params(X, params=fit_params, indices=train)
    start = time.perf_counter()
    y_train = None if y is None else _safe_indexing(y, train)
    estimator.fit(_safe_indexing(X, train), y_train, **train_params)
    y_test = None if y is None else _safe_indexing(y, test)
    scorer(estimator, _safe_indexing(X, test), y_test)
    probe_seconds = time.perf_counter() - start
    estimated = probe_seconds * n_fits / n_workers
    return SearchCost(len(candidates), n_splits, n_fits, probe_seconds, estimated, n_workers)
