"""Drop-in ``GridSearchCV`` / ``RandomizedSearchCV`` that journal every fit and resume.

They are subclasses of scikit-learn's searches (``isinstance(s, GridSearchCV)``
holds) with three more keyword arguments: ``journal`` (an SQLite path, see
:mod:`keraslab.search.journal`), ``random_state`` (the base of the per-fit seeds)
and ``estimate`` (time a probe fit and print the expected duration when
``verbose > 0``).

Examples
--------
>>> import numpy as np, os, tempfile
>>> from sklearn.linear_model import LogisticRegression
>>> X, y = np.random.default_rng(0).normal(size=(60, 3)), np.arange(60) % 2
>>> path = os.path.join(tempfile.mkdtemp(), "grid.sqlite")
>>> s = JournaledGridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=3, journal=path).fit(X, y)
>>> s.n_fits_computed_, JournaledGridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=3, journal=path).fit(X, y).n_fits_reused_
(6, 6)
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from sklearn.model_selection import GridSearchCV, ParameterGrid, ParameterSampler, RandomizedSearchCV

from keraslab.errors import KeraslabValueError
from keraslab.search._engine import SearchEngineMixin

__all__ = ["JournaledGridSearchCV", "JournaledRandomizedSearchCV"]

_EXTRA_CONSTRAINTS = {
    "journal": [str, os.PathLike, None],
    "random_state": ["random_state"],
    "estimate": ["boolean"],
}


def _names(grid: Any) -> list[str]:
    grids = grid if isinstance(grid, (list, tuple)) else [grid]
    return sorted({name for g in grids for name in g})


class JournaledGridSearchCV(SearchEngineMixin, GridSearchCV):
    """``GridSearchCV`` that records each finished fit in a journal and resumes from it.

    Parameters are those of :class:`sklearn.model_selection.GridSearchCV`, plus:

    Parameters
    ----------
    journal : str or os.PathLike, optional
        SQLite file recording every finished (candidate, fold) fit. Re-running the
        same search skips the fits it holds; a journal of another search (other
        data, splitter, estimator or scorer) raises ``JournalMismatchError``.
    random_state : int, optional
        Base of the per-fit seeds: every ``random_state`` parameter of the estimator
        (nested ones too) is set, for each fit, to a hash of (base, candidate, fold),
        so results do not depend on ``n_jobs`` or on the order fits run in. Default:
        the estimator's own integer ``random_state``, else 0.
    estimate : bool, default=True
        With ``verbose > 0``, time the first fit and print the expected duration
        with the "Fitting 3 folds for each of 18 candidates, totalling 54 fits" line.

    Attributes
    ----------
    n_fits_computed_, n_fits_reused_ : int
        Fits run in this call, and fits read back from the journal.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> X = np.random.default_rng(0).normal(size=(40, 2)); y = X @ np.array([1.0, 2.0])
    >>> JournaledGridSearchCV(Ridge(), {"alpha": [0.1, 10.0]}, cv=4).fit(X, y).best_params_
    {'alpha': 0.1}
    """

    _parameter_constraints: dict = {**GridSearchCV._parameter_constraints, **_EXTRA_CONSTRAINTS}

    def __init__(
        self,
        estimator: Any,
        param_grid: Any,
        *,
        scoring: Any = None,
        n_jobs: int | None = None,
        refit: Any = True,
        cv: Any = None,
        verbose: int = 0,
        pre_dispatch: Any = "2*n_jobs",
        error_score: Any = np.nan,
        return_train_score: bool = False,
        journal: str | os.PathLike | None = None,
        random_state: int | None = None,
        estimate: bool = True,
    ) -> None:
        super().__init__(
            estimator,
            param_grid,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            error_score=error_score,
            return_train_score=return_train_score,
        )
        self.journal = journal
        self.random_state = random_state
        self.estimate = estimate

    def _searched_names(self) -> list[str]:
        return _names(self.param_grid)

    def _run_search(self, evaluate_candidates: Any, **_: Any) -> None:
        evaluate_candidates(list(ParameterGrid(self.param_grid)))


class JournaledRandomizedSearchCV(SearchEngineMixin, RandomizedSearchCV):
    """``RandomizedSearchCV`` that records each finished fit in a journal and resumes from it.

    Parameters are those of :class:`sklearn.model_selection.RandomizedSearchCV`, plus
    ``journal`` and ``estimate`` (see :class:`JournaledGridSearchCV`). ``random_state``
    draws the candidates, as in scikit-learn, and is also the base of the per-fit seeds.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import loguniform
    >>> from sklearn.linear_model import Ridge
    >>> X, y = np.random.default_rng(0).normal(size=(40, 2)), np.arange(40.0)
    >>> s = JournaledRandomizedSearchCV(Ridge(), {"alpha": loguniform(1e-3, 1e3)}, n_iter=3, cv=4, random_state=0)
    >>> len(s.fit(X, y).cv_results_["params"])
    3
    """

    _parameter_constraints: dict = {**RandomizedSearchCV._parameter_constraints, **_EXTRA_CONSTRAINTS}

    def __init__(
        self,
        estimator: Any,
        param_distributions: Any,
        *,
        n_iter: int = 10,
        scoring: Any = None,
        n_jobs: int | None = None,
        refit: Any = True,
        cv: Any = None,
        verbose: int = 0,
        pre_dispatch: Any = "2*n_jobs",
        random_state: Any = None,
        error_score: Any = np.nan,
        return_train_score: bool = False,
        journal: str | os.PathLike | None = None,
        estimate: bool = True,
    ) -> None:
        super().__init__(
            estimator,
            param_distributions,
            n_iter=n_iter,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            random_state=random_state,
            error_score=error_score,
            return_train_score=return_train_score,
        )
        self.journal = journal
        self.estimate = estimate

    def _searched_names(self) -> list[str]:
        return _names(self.param_distributions)

    def _run_search(self, evaluate_candidates: Any, **_: Any) -> None:
        if self.journal is not None and not isinstance(self.random_state, (int, np.integer)):
            raise KeraslabValueError(
                "A journaled randomized search needs an integer random_state, so a resumed run "
                f"draws the same candidates. Received: random_state={self.random_state!r}"
            )
        evaluate_candidates(
            list(ParameterSampler(self.param_distributions, self.n_iter, random_state=self.random_state))
        )
