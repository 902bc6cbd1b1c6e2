"""Successive halving on keraslab's search engine: many candidates on a small budget, few on a large one.

Round 1 scores every point of a grid over the space with ``min_resource`` of the
resource; each next round keeps the best ``1 / factor`` of the candidates and gives
them ``factor`` times the resource; the last round uses ``max_resource``. The
resource is ``"epochs"`` (the estimator's ``epochs`` parameter, nested ones too) or
``"n_samples"`` (nested, stratified subsets of the training rows, so a later round's
rows contain the earlier ones).

Why our own loop rather than scikit-learn's ``HalvingGridSearchCV``: that class is
experimental, its ``resource=`` argument is proposed for removal, and it has no
journal. Here every fit goes through :class:`~keraslab.search._engine.SearchEngineMixin`:
journaled, resumable, with per-fit seeds, ``n_jobs`` and the Dask backend.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import SGDClassifier
>>> from keraslab.search import Real
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(300, 4)); y = (X[:, 0] > 0).astype(int)
>>> s = SuccessiveHalvingSearchCV(SGDClassifier(tol=None), {"alpha": Real(1e-5, 1e-1, log=True)},
...                               resource="n_samples", factor=2, resolution=4, cv=3, random_state=0).fit(X, y)
>>> s.n_candidates_, s.n_resources_
([4, 2, 1], [75, 150, 300])
"""

from __future__ import annotations

import math
import numbers
import os
from itertools import product
from typing import Any

import numpy as np
from sklearn.base import is_classifier
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils._param_validation import Interval, StrOptions

from keraslab.errors import KeraslabValueError
from keraslab.search._engine import SearchEngineMixin
from keraslab.search.space import as_space
from keraslab.search.subsets import nested_subsets

__all__ = ["SuccessiveHalvingSearchCV"]


def _epochs_name(estimator: Any) -> str:
    names = [n for n in estimator.get_params(deep=True) if n == "epochs" or n.endswith("__epochs")]
    if len(names) != 1:
        raise KeraslabValueError(
            "resource='epochs' needs an estimator with exactly one epochs parameter (a KerasClassifier, "
            f"alone or in a pipeline). Received: epochs parameters {names}"
        )
    return names[0]


class SuccessiveHalvingSearchCV(SearchEngineMixin, BaseSearchCV):
    """Successive halving over a grid of a search space, with epochs or samples as the resource.

    Parameters
    ----------
    estimator : estimator
        A scikit-learn estimator; for ``resource="epochs"`` one with an ``epochs``
        parameter (a keraslab ``KerasClassifier`` or a pipeline ending in one).
    param_space : dict
        Name -> :class:`~keraslab.search.Integer`, :class:`~keraslab.search.Real`,
        :class:`~keraslab.search.Categorical` or a list; round 1 scores the grid of
        ``resolution`` points per numeric dimension.
    resource : {"epochs", "n_samples"}, default="epochs"
    factor : float, default=3
        Keep ``1 / factor`` of the candidates per round, give them ``factor`` times the resource.
    min_resource : int, optional
        Round 1's epochs or rows. Default: ``max_resource / factor ** (rounds - 1)``
        (at least 1 epoch, or ``2 * n_splits * n_classes`` rows for classifiers).
    max_resource : int, optional
        The last round's epochs or rows. Default: the estimator's ``epochs``, or all rows.
    resolution : int, default=3
    scoring, cv, n_jobs, refit, verbose, pre_dispatch, error_score, return_train_score
        As in :class:`sklearn.model_selection.GridSearchCV`.
    journal : str or os.PathLike, optional
        SQLite file of finished fits, to resume after a crash.
    random_state : int, optional
        Seeds the subsets and the per-fit seeds.
    estimate : bool, default=True

    Attributes
    ----------
    cv_results_ : dict
        As ``GridSearchCV``'s plus ``iter`` (round, from 0) and ``n_resources`` per row.
    n_candidates_, n_resources_ : list of int
        Per round.
    best_index_, best_params_, best_score_
        The best of the last round (the most resource).
    """

    _parameter_constraints: dict = {
        **BaseSearchCV._parameter_constraints,
        "param_space": [dict],
        "resource": [StrOptions({"epochs", "n_samples"})],
        "factor": [Interval(numbers.Real, 1, None, closed="neither")],
        "min_resource": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "max_resource": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "resolution": [Interval(numbers.Integral, 1, None, closed="left")],
        "journal": [str, os.PathLike, None],
        "random_state": ["random_state"],
        "estimate": ["boolean"],
    }

    def __init__(self, estimator: Any, param_space: dict, *, resource: str = "epochs", factor: float = 3,
                 min_resource: int | None = None, max_resource: int | None = None, resolution: int = 3,
                 scoring: Any = None, cv: Any = None, n_jobs: int | None = None, refit: Any = True,
                 journal: str | os.PathLike | None = None, random_state: int | None = None, verbose: int = 0,
                 estimate: bool = True, pre_dispatch: Any = "2*n_jobs", error_score: Any = np.nan,
                 return_train_score: bool = False) -> None:
        super().__init__(estimator, scoring=scoring, n_jobs=n_jobs, refit=refit, cv=cv, verbose=verbose,
                         pre_dispatch=pre_dispatch, error_score=error_score, return_train_score=return_train_score)
        self.param_space = param_space
        self.resource = resource
        self.factor = factor
        self.min_resource = min_resource
        self.max_resource = max_resource
        self.resolution = resolution
        self.journal = journal
        self.random_state = random_state
        self.estimate = estimate

    def _searched_names(self) -> list[str]:
        extra = [_epochs_name(self.estimator)] if self.resource == "epochs" else []
        return list(self.param_space) + extra

    def _budget(self, n_candidates: int, max_resource: int, floor: int) -> list[int]:
        rounds = 1 + int(math.floor(math.log(max(1, n_candidates)) / math.log(self.factor) + 1e-9))
        low = self.min_resource or max(floor, int(max_resource / self.factor ** (rounds - 1)))
        if low > max_resource:
            raise KeraslabValueError(f"min_resource must not exceed max_resource ({max_resource}). "
                                     f"Received: min_resource={low}")
        budget = [low]
        while len(budget) < rounds and budget[-1] * self.factor < max_resource:
            budget.append(int(round(budget[-1] * self.factor)))
        if budget[-1] < max_resource:
            budget.append(max_resource)  # the survivors end on the full budget
        return budget

    def _run_search(self, evaluate: Any, **_: Any) -> None:
        space = as_space(self.param_space)
        names = list(space)
        candidates = [dict(zip(names, values)) for values in product(*(space[n].grid(self.resolution) for n in names))]
        n_rows = evaluate.n_samples
        if self.resource == "epochs":
            name = _epochs_name(self.estimator)
            top = self.max_resource or int(self.estimator.get_params()[name])
            budget = self._budget(len(candidates), top, 1)
        else:
            classes = len(np.unique(evaluate.y)) if is_classifier(self.estimator) else 1
            budget = self._budget(len(candidates), self.max_resource or n_rows, 2 * self.n_splits_ * classes)
        self.n_candidates_, self.n_resources_ = [], []
        survivors = candidates
        for i, amount in enumerate(budget):
            k = len(survivors)
            self.n_candidates_.append(k)
            self.n_resources_.append(int(amount))
            more = {"iter": [i] * k, "n_resources": [int(amount)] * k}
            if self.resource == "epochs":
                results = evaluate([{**p, name: int(amount)} for p in survivors], more_results=more,
                                   label=f"round {i + 1}")
            else:
                subset = None if amount >= n_rows else nested_subsets(
                    evaluate.y, [amount / n_rows], random_state=self.random_state,
                    stratify=is_classifier(self.estimator), n_samples=n_rows)[0]
                results = evaluate(survivors, subset=subset, more_results=more, label=f"round {i + 1}")
            if i == len(budget) - 1:
                break
            means = np.asarray(results[f"mean_test_{_metric(self.refit, results)}"][-k:], dtype=float)
            keep = max(1, int(math.ceil(k / self.factor)))
            order = np.argsort(-np.where(np.isnan(means), -np.inf, means), kind="stable")[:keep]
            survivors = [survivors[j] for j in sorted(order)]

    def _best_index(self, results: dict, refit_metric: str) -> int:
        last = np.asarray(results["iter"]) == max(results["iter"])
        means = np.asarray(results[f"mean_test_{refit_metric}"], dtype=float)
        means = np.where(last & ~np.isnan(means), means, -np.inf)
        return int(np.argmax(means))


def _metric(refit: Any, results: dict) -> str:
    if isinstance(refit, str) and f"mean_test_{refit}" in results:
        return refit
    return "score" if "mean_test_score" in results else next(
        k[len("mean_test_"):] for k in results if k.startswith("mean_test_"))
