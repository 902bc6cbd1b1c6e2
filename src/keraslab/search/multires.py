"""``MultiResolutionSearchCV``: coarse-to-fine, noise-aware search on growing subsets.

The chapter's advice, as an estimator: search a coarse grid first, then denser
grids around the region that did best, and try ideas on small representative
subsets of the data before the whole of it.

How it differs from what exists: pybear's ``AutoGridSearchCV`` zooms on the single
``best_params_`` and ignores cross-validation noise; here every candidate whose
mean score is within one standard error of the best is a *leader* and gets a finer
grid around it. scikit-learn's halving searches subsample uniformly, judge only the
last round and cannot resume; here subsets are nested and stratified, the best is
chosen among all full-data candidates, and fits are journaled (``journal=``).

Design: the search subclasses ``BaseSearchCV`` (scoring, ``cv_results_``, refit,
predict delegation) and uses keraslab's fit loop (:mod:`keraslab.search._engine`),
which adds what ``BaseSearchCV``'s closure cannot: skipping journaled fits,
committing each fit as it ends, per-fit seeds and evaluating a round on a subset of
rows while indexing the full ``X`` (no copies).
"""

from __future__ import annotations

import math
import numbers
import os
import warnings
from itertools import product
from typing import Any

import numpy as np
from scipy.stats import rankdata
from sklearn.base import is_classifier
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils._param_validation import Interval, StrOptions

from keraslab.errors import KeraslabValueError
from keraslab.search._engine import SearchEngineMixin
from keraslab.search.journal import candidate_key
from keraslab.search.space import Categorical, Dimension, as_space
from keraslab.search.subsets import check_fractions, nested_subsets, rank_agreement

__all__ = ["MultiResolutionSearchCV", "ProxyNotRepresentativeWarning"]

# Below this Spearman correlation between consecutive subset sizes the proxy is
# considered unrepresentative (the threshold).
RANK_WARNING_THRESHOLD = 0.6
# Candidates carried from one subset size to the next: the leaders plus candidates
# spread over the ranks, at least this many, so the rank correlation means something.
_MIN_CARRY = 5


class ProxyNotRepresentativeWarning(UserWarning):
    """Scores on a small subset rank candidates differently from a larger one."""


class MultiResolutionSearchCV(SearchEngineMixin, BaseSearchCV):
    """Coarse-to-fine hyperparameter search that zooms on every statistically tied leader.

    Round 1 evaluates a coarse grid over ``param_space``. Each next round places a
    finer grid (``zoom`` times narrower) around every candidate whose mean CV score
    is within one standard error of the best, moving outward instead when a leader
    sits on an edge of its range and the dimension's ``bounds`` leave room.
    Categorical dimensions are narrowed to the values the leaders have. The search
    stops when a round brings no candidate that beats the previous best by more
    than its standard error, when no new candidate is left, or after ``rounds``.

    Parameters
    ----------
    estimator : estimator
        Any scikit-learn estimator (a pipeline, a keraslab ``KerasClassifier``...).
    param_space : dict
        Name -> :class:`~keraslab.search.Integer`, :class:`~keraslab.search.Real`,
        :class:`~keraslab.search.Categorical` or a plain list (categorical).
    resolution : int, default=3
        Points per numeric dimension in each grid.
    rounds : int, default=4
        Maximum number of rounds (at least ``len(subsets)``).
    zoom : float, default=0.5
        Each finer grid spans ``zoom`` times its parent's range.
    keep : {"one-se", "best"} or int, default="one-se"
        Leaders refined in the next round: all within one standard error of the
        best, only the best, or the top ``k``.
    subsets : sequence of float, optional
        E.g. ``(0.1, 0.3, 1.0)``: round ``i`` runs on the ``i``-th fraction of the
        training rows (nested, stratified for classifiers); later rounds on all. On
        each step up, the leaders plus candidates spread over the ranks are
        re-evaluated, the Spearman correlation of their scores on the two sizes is
        reported in ``rounds_`` and a ``ProxyNotRepresentativeWarning`` is issued
        below 0.6. The best is chosen among full-data candidates only.
    scoring, cv, n_jobs, refit, verbose, pre_dispatch, error_score, return_train_score
        As in :class:`sklearn.model_selection.GridSearchCV`.
    journal : str or os.PathLike, optional
        SQLite file recording every finished (candidate, fold, subset) fit, to
        resume after a crash (see :mod:`keraslab.search.journal`).
    random_state : int, optional
        Seeds the subsets and the per-fit seeds (default 0 for both).
    estimate : bool, default=True
        With ``verbose > 0``, time the first fit and print each round's expected duration.

    Attributes
    ----------
    cv_results_ : dict
        As ``GridSearchCV``'s, plus ``round``, ``subset`` (fraction) and
        ``n_samples`` per candidate. Ranks put full-data candidates first.
    best_params_, best_score_, best_index_, best_estimator_, refit_time_, scorer_, n_splits_
        As ``GridSearchCV``'s (chosen among candidates on the largest subset).
    rounds_ : list of dict
        Per round: ``round``, ``subset``, ``n_samples``, ``n_candidates``, ``n_fits``,
        ``best_score``, ``best_se``, ``best_params``, ``leaders``, ``windows``,
        ``rank_correlation`` (on a subset step, else None), ``stop`` (reason or None).
    stop_reason_ : str
        Why the search ended: ``"rounds"``, ``"no improvement"`` or ``"converged"``.
    n_fits_computed_, n_fits_reused_ : int
        Fits run in this call and fits read back from the journal.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from keraslab.search import MultiResolutionSearchCV, Real
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(120, 4)); y = (X[:, 0] + 0.5 * rng.normal(size=120) > 0).astype(int)
    >>> s = MultiResolutionSearchCV(LogisticRegression(), {"C": Real(1e-3, 1e3, log=True)}, cv=3).fit(X, y)
    >>> len(s.rounds_) >= 2 and bool(s.best_score_ > 0.7)
    True
    """

    _parameter_constraints: dict = {
        **BaseSearchCV._parameter_constraints,
        "param_space": [dict],
        "resolution": [Interval(numbers.Integral, 1, None, closed="left")],
        "rounds": [Interval(numbers.Integral, 1, None, closed="left")],
        "zoom": [Interval(numbers.Real, 0, 1, closed="right")],
        "keep": [StrOptions({"one-se", "best"}), Interval(numbers.Integral, 1, None, closed="left")],
        "subsets": [list, tuple, None],
        "journal": [str, os.PathLike, None],
        "random_state": ["random_state"],
        "estimate": ["boolean"],
    }

    def __init__(
        self,
        estimator: Any,
        param_space: dict,
        *,
        resolution: int = 3,
        rounds: int = 4,
        zoom: float = 0.5,
        keep: str | int = "one-se",
        subsets: tuple[float, ...] | None = None,
        scoring: Any = None,
        cv: Any = None,
        n_jobs: int | None = None,
        refit: Any = True,
        journal: str | os.PathLike | None = None,
        random_state: int | None = None,
        verbose: int = 0,
        estimate: bool = True,
        pre_dispatch: Any = "2*n_jobs",
        error_score: Any = np.nan,
        return_train_score: bool = False,
    ) -> None:
        super().__init__(
            estimator,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            error_score=error_score,
            return_train_score=return_train_score,
        )
        self.param_space = param_space
        self.resolution = resolution
        self.rounds = rounds
        self.zoom = zoom
        self.keep = keep
        self.subsets = subsets
        self.journal = journal
        self.random_state = random_state
        self.estimate = estimate

    # -- hooks of the engine -------------------------------------------------------
    def _searched_names(self) -> list[str]:
        return list(self.param_space)

    def initial_candidates(self) -> list[dict]:
        """Round 1's coarse grid (what ``estimate_search_cost`` counts)."""
        space = as_space(self.param_space)
        return [p for p, _ in _grid(space, self.resolution)]

    def _run_search(self, evaluate: Any, **_: Any) -> None:
        run = _Run(self, evaluate)
        run.execute()
        self.rounds_ = run.rounds
        self.stop_reason_ = run.stop_reason

    def _finalize_results(self, results: dict) -> dict:
        """Rank full-data (largest-subset) candidates first; smaller-subset ones after them."""
        n_rows = np.asarray(results["n_samples"])
        final = n_rows == n_rows.max()
        for key in [k for k in results if k.startswith("rank_test_")]:
            means = np.asarray(results["mean_test_" + key[len("rank_test_"):]], dtype=float)
            rank = np.empty(len(means), dtype=np.int32)
            rank[final] = _rank_desc(means[final])
            if (~final).any():
                rank[~final] = final.sum() + _rank_desc(means[~final])
            results[key] = rank
        return results


def _rank_desc(means: np.ndarray) -> np.ndarray:
    if len(means) == 0:
        return np.zeros(0, dtype=np.int32)
    if np.isnan(means).all():
        return np.ones(len(means), dtype=np.int32)
    filled = np.where(np.isnan(means), np.nanmin(means) - 1, means)
    return rankdata(-filled, method="min").astype(np.int32)


def _grid(space: dict[str, Dimension], resolution: int) -> list[tuple[dict, dict]]:
    """All points of a grid over ``space``: (params, window) pairs; the window is ``space``."""
    names = list(space)
    axes = [space[n].grid(resolution) for n in names]
    return [(dict(zip(names, values)), space) for values in product(*axes)]


class _Run:
    """The rounds of one ``fit``: which candidates to evaluate on which subset, and when to stop."""

    def __init__(self, search: MultiResolutionSearchCV, evaluate: Any) -> None:
        self.search, self.evaluate = search, evaluate
        self.space = as_space(search.param_space)
        fractions = check_fractions(search.subsets) or (1.0,)
        if search.rounds < len(fractions):
            raise KeraslabValueError(
                f"rounds must be at least the number of subsets ({len(fractions)}) so the last "
                f"rounds run on all the data. Received: rounds={search.rounds}, subsets={search.subsets!r}"
            )
        self.fractions = fractions
        if len(fractions) > 1:
            rows = nested_subsets(
                evaluate.y, fractions, random_state=search._seed_base(),
                stratify=is_classifier(search.estimator) and evaluate.y is not None,
                n_samples=evaluate.n_samples,
            )
            self.rows = [None if len(r) == evaluate.n_samples else r for r in rows]
        else:
            self.rows = [None]
        self.entries: list[dict] = []  # one per evaluated (candidate, level)
        self.by_level: dict[int, dict[str, dict]] = {}
        self.refined: set[str] = set()
        self.rounds: list[dict] = []
        self.stop_reason = "rounds"
        self.metric: str | None = None

    # -- the loop -----------------------------------------------------------------------
    def execute(self) -> None:
        self._evaluate(_grid(self.space, self.search.resolution), level=0, round_no=1)
        for round_no in range(2, self.search.rounds + 1):
            prev, level = self._level(round_no - 1), self._level(round_no)
            if level == prev and self._stalled():
                self._stop("no improvement")
                return
            leaders = self._leaders(prev)
            batch = ([] if level == prev else self._carry(prev, leaders)) + self._refine(leaders, prev)
            seen = self.by_level.get(level, {})
            fresh, keys = [], set()
            for params, window in batch:
                key = candidate_key(params)
                if key not in seen and key not in keys:
                    keys.add(key)
                    fresh.append((params, window))
            if not fresh:
                self._stop("converged")
                return
            self._evaluate(fresh, level=level, round_no=round_no)
            if level != prev:
                self._compare_levels(prev, level)

    def _level(self, round_no: int) -> int:
        return min(round_no - 1, len(self.fractions) - 1)

    def _stop(self, reason: str) -> None:
        self.stop_reason = reason
        self.rounds[-1]["stop"] = reason

    def _evaluate(self, batch: list[tuple[dict, dict]], *, level: int, round_no: int) -> None:
        rows = self.rows[level]
        n_rows = self.evaluate.n_samples if rows is None else len(rows)
        frac = self.fractions[level]
        best_before = self._best(level)
        params = [p for p, _ in batch]
        label = f"Round {round_no}" + (f" ({frac:.0%} of the data, {n_rows} rows)" if frac < 1 else "")
        more = {"round": [round_no] * len(params), "subset": [frac] * len(params), "n_samples": [n_rows] * len(params)}
        start = len(self.entries)
        results = self.evaluate(params, subset=rows, more_results=more, label=label)
        self.metric = self.metric or _decision_metric(results, self.search.refit)
        level_map = self.by_level.setdefault(level, {})
        for offset, (p, window) in enumerate(batch):
            entry = {"params": p, "key": candidate_key(p), "level": level, "round": round_no,
                     "window": window, "index": start + offset}
            self.entries.append(entry)
            level_map[entry["key"]] = entry
        self.results = results
        best = self._best(level)
        leaders = self._leaders(level)
        self.rounds.append({
            "round": round_no,
            "subset": frac,
            "n_samples": n_rows,
            "n_candidates": len(params),
            "n_fits": len(params) * self.search.n_splits_,
            "best_score": best[0] if best else math.nan,
            "best_se": best[1] if best else math.nan,
            "best_params": best[2] if best else None,
            "previous_best": best_before[0] if best_before else None,
            "previous_se": best_before[1] if best_before else None,
            "leaders": [e["params"] for e in leaders],
            "windows": [_window_summary(w) for w in _unique_windows([w for _, w in batch])],
            "rank_correlation": None,
            "stop": None,
        })

    # -- statistics ---------------------------------------------------------------------
    def _stats(self, entry: dict) -> tuple[float, float]:
        r, m, i = self.results, self.metric, entry["index"]
        mean = float(r[f"mean_test_{m}"][i])
        n = self.search.n_splits_
        std = float(r[f"std_test_{m}"][i])
        # scikit-learn's std has ddof=0; the standard error of the mean of n folds is
        # std_ddof1 / sqrt(n) = std_ddof0 / sqrt(n - 1).
        se = std / math.sqrt(n - 1) if n > 1 else 0.0
        return mean, se

    def _ranked(self, level: int) -> list[tuple[float, float, dict]]:
        out = []
        for e in self.by_level.get(level, {}).values():
            mean, se = self._stats(e)
            if math.isfinite(mean):
                out.append((mean, se, e))
        out.sort(key=lambda t: (-t[0], t[2]["index"]))
        return out

    def _best(self, level: int) -> tuple[float, float, dict] | None:
        ranked = self._ranked(level)
        if not ranked:
            return None
        mean, se, e = ranked[0]
        return mean, se, e["params"]

    def _leaders(self, level: int) -> list[dict]:
        ranked = self._ranked(level)
        if not ranked:
            return []
        keep = self.search.keep
        if keep == "best":
            return [ranked[0][2]]
        if isinstance(keep, numbers.Integral):
            return [e for _, _, e in ranked[: int(keep)]]
        best_mean, best_se, _ = ranked[0]
        return [e for mean, _, e in ranked if mean >= best_mean - best_se]

    def _stalled(self) -> bool:
        """The last round did not beat the best before it by more than that best's SE."""
        last = self.rounds[-1]
        if last["previous_best"] is None:
            return False  # the first round on this subset size: nothing to compare
        return not last["best_score"] > last["previous_best"] + last["previous_se"]

    # -- new candidates -------------------------------------------------------------------
    def _refine(self, leaders: list[dict], level: int) -> list[tuple[dict, dict]]:
        survivors = {
            n: dim.narrow([e["params"][n] for e in leaders])
            for n, dim in self.space.items() if isinstance(dim, Categorical)
        }
        out = []
        for e in leaders:
            if e["key"] in self.refined:
                continue
            self.refined.add(e["key"])
            window = {}
            for name, dim in e["window"].items():
                if isinstance(dim, Categorical):
                    window[name] = survivors[name]
                else:
                    window[name] = dim.zoom(e["params"][name], self.search.zoom)
            out.extend(_grid(window, self.search.resolution))
        return out

    def _carry(self, level: int, leaders: list[dict]) -> list[tuple[dict, dict]]:
        """Leaders plus candidates spread over the ranks, re-evaluated on the next subset size."""
        ranked = [e for _, _, e in self._ranked(level)]
        chosen = list(leaders)
        rest = [e for e in ranked if all(e is not c for c in chosen)]
        want = min(len(ranked), max(_MIN_CARRY, len(chosen))) - len(chosen)
        if want > 0 and rest:
            picks = np.unique(np.round(np.linspace(0, len(rest) - 1, want)).astype(int))
            chosen.extend(rest[i] for i in picks)
        return [(e["params"], e["window"]) for e in chosen]

    def _compare_levels(self, small: int, large: int) -> None:
        common = [k for k in self.by_level[large] if k in self.by_level[small]]
        a = [self._stats(self.by_level[small][k])[0] for k in common]
        b = [self._stats(self.by_level[large][k])[0] for k in common]
        rho = rank_agreement(a, b)
        self.rounds[-1]["rank_correlation"] = rho
        self.rounds[-1]["rank_pairs"] = list(zip(a, b))
        if math.isfinite(rho) and rho < RANK_WARNING_THRESHOLD:
            warnings.warn(
                f"Candidates rank differently on {self.fractions[small]:.0%} and {self.fractions[large]:.0%} "
                f"of the data (Spearman {rho:.2f} over {len(common)} candidates, below "
                f"{RANK_WARNING_THRESHOLD}): the small subset is not a representative proxy. Use "
                "larger subset fractions, or subsets=None.",
                ProxyNotRepresentativeWarning,
                stacklevel=4,
            )


def _decision_metric(results: dict, refit: Any) -> str:
    if "mean_test_score" in results:
        return "score"
    if isinstance(refit, str) and f"mean_test_{refit}" in results:
        return refit
    raise KeraslabValueError(
        "With several scorers MultiResolutionSearchCV needs refit=<scorer name> to know which "
        f"score guides the zoom. Received: refit={refit!r}"
    )


def _unique_windows(windows: list[dict]) -> list[dict]:
    out: list[dict] = []
    for w in windows:
        if all(w is not o for o in out):
            out.append(w)
    return out


def _window_summary(window: dict) -> dict:
    """Numeric windows as (low, high); categorical as their value lists (for rounds_ and plots)."""
    return {
        n: (list(d.values) if isinstance(d, Categorical) else (d.low, d.high))  # type: ignore[attr-defined]
        for n, d in window.items()
    }
