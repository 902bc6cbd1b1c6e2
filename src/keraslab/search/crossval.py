"""``cross_validate`` and ``cross_val_score`` whose folds train as one program.

Same signatures and return values as scikit-learn's, plus ``parallel_fits``: on
the JAX backend the folds of a keraslab Keras wrapper (alone or at the end of a
``Pipeline``) train together as one vectorised program (see
:mod:`keraslab.search.vectorized`); anything else runs exactly as scikit-learn runs it.

Examples
--------
>>> from keraslab.search import cross_val_score
>>> # scores = cross_val_score(make_pipeline(MinMaxScaler(), clf), X, y, cv=StratifiedKFold(10))
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import model_selection as _ms
from sklearn.base import clone, is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.model_selection._validation import (
    _aggregate_score_dicts,
    _insert_error_scores,
    _normalize_score_results,
    _warn_or_raise_about_fit_failures,
)
from sklearn.utils import indexable
from sklearn.utils.parallel import Parallel, delayed

from keraslab.search.vectorized import check_setting, run_fits
from keraslab.search.vectorized.grouping import _sequential_default, fit_task

__all__ = ["cross_validate", "cross_val_score"]


def cross_validate(estimator: Any, X: Any, y: Any = None, *, groups: Any = None, scoring: Any = None,
                   cv: Any = None, n_jobs: int | None = None, verbose: int = 0, params: dict | None = None,
                   pre_dispatch: str | int = "2*n_jobs", return_train_score: bool = False,
                   return_estimator: bool = False, return_indices: bool = False,
                   error_score: Any = np.nan, parallel_fits: Any = "auto") -> dict:
    """Evaluate metrics by cross-validation, training the folds together where possible.

    Parameters
    ----------
    estimator, X, y, groups, scoring, cv, n_jobs, verbose, params, pre_dispatch,
    return_train_score, return_estimator, return_indices, error_score
        As :func:`sklearn.model_selection.cross_validate`.
    parallel_fits : "auto", False or int, default="auto"
        ``"auto"``: folds of a keraslab Keras wrapper on the JAX backend train as one
        vectorised program, as many at once as half the available RAM allows;
        an int caps the group size; ``False`` fits one fold after another. Fits that
        cannot be vectorised (other backends, callbacks, ``validation_split``,
        stateful layers, ``PyDataset`` inputs, fit parameters) run sequentially and
        the reason is logged once (logger ``keraslab.search.parallel_fits``).

    Returns
    -------
    dict of str -> ndarray of shape (n_splits,)
        ``test_<scorer>``, ``fit_time``, ``score_time`` (and the optional keys), as
        scikit-learn returns them. In a vectorised group each fold's ``fit_time`` is
        its own preparation time plus 1/K of the group's training time.

    Raises
    ------
    KeraslabValueError
        When ``parallel_fits`` is not "auto", False or a positive int.
    """
    check_setting(parallel_fits)
    if params or groups is not None and _routing_on():
        # Metadata routing and fit parameters: scikit-learn's own implementation handles them.
        return _ms.cross_validate(estimator, X, y, groups=groups, scoring=scoring, cv=cv, n_jobs=n_jobs,
                                  verbose=verbose, params=params, pre_dispatch=pre_dispatch,
                                  return_train_score=return_train_score, return_estimator=return_estimator,
                                  return_indices=return_indices, error_score=error_score)
    X, y = indexable(X, y)
    cv = check_cv(cv, y, classifier=is_classifier(estimator))
    scorers = check_scoring(estimator, scoring=scoring, raise_exc=(error_score == "raise"))
    indices = list(cv.split(X, y, groups))
    kwargs = dict(scorer=scorers, fit_params={}, score_params={}, return_train_score=return_train_score,
                  return_times=True, return_estimator=return_estimator, error_score=error_score,
                  verbose=verbose, parameters=None)
    tasks = [(i, clone(estimator), X, y, train, test, None, kwargs) for i, (train, test) in enumerate(indices)]

    def sequential(rest):
        parallel = Parallel(n_jobs=n_jobs, verbose=verbose, pre_dispatch=pre_dispatch)
        return parallel(delayed(fit_task)(*task) for task in rest)

    by_index = dict(run_fits(tasks, parallel_fits, sequential if n_jobs not in (None, 1) else _sequential_default))
    results = [by_index[i] for i in range(len(tasks))]

    _warn_or_raise_about_fit_failures(results, error_score)
    if callable(scoring):
        _insert_error_scores(results, error_score)
    results = _aggregate_score_dicts(results)
    ret = {"fit_time": results["fit_time"], "score_time": results["score_time"]}
    if return_estimator:
        ret["estimator"] = results["estimator"]
    if return_indices:
        ret["indices"] = {}
        ret["indices"]["train"], ret["indices"]["test"] = zip(*indices)
    test_scores = _normalize_score_results(results["test_scores"])
    train_scores = _normalize_score_results(results["train_scores"]) if return_train_score else {}
    for name in test_scores:
        ret[f"test_{name}"] = test_scores[name]
        if return_train_score:
            ret[f"train_{name}"] = train_scores[name]
    return ret


def cross_val_score(estimator: Any, X: Any, y: Any = None, *, groups: Any = None, scoring: Any = None,
                    cv: Any = None, n_jobs: int | None = None, verbose: int = 0, params: dict | None = None,
                    pre_dispatch: str | int = "2*n_jobs", error_score: Any = np.nan,
                    parallel_fits: Any = "auto") -> np.ndarray:
    """Per-fold scores, as :func:`sklearn.model_selection.cross_val_score`, folds trained together.

    Parameters
    ----------
    As :func:`cross_validate` (one scorer only).

    Returns
    -------
    ndarray of shape (n_splits,)

    Examples
    --------
    >>> from keraslab.search import cross_val_score
    >>> # cross_val_score(clf, X, y, cv=StratifiedKFold(10, shuffle=True, random_state=42))
    """
    scorer = check_scoring(estimator, scoring=scoring)
    out = cross_validate(estimator, X, y, groups=groups, scoring={"score": scorer}, cv=cv, n_jobs=n_jobs,
                         verbose=verbose, params=params, pre_dispatch=pre_dispatch, error_score=error_score,
                         parallel_fits=parallel_fits)
    return out["test_score"]


def _routing_on() -> bool:
    from sklearn import get_config

    return bool(get_config().get("enable_metadata_routing", False))
