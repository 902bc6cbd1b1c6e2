"""The fit loop shared by keraslab's searches: journal, derived seeds, subsets, cost, progress.

scikit-learn's ``BaseSearchCV.fit`` keeps its evaluation loop in a closure that
fits every (candidate, fold) pair it is given and returns results only when all are
done, so it can neither skip fits a journal already holds nor commit each fit as
it finishes. :class:`SearchEngineMixin` replaces ``fit`` and keeps everything else
of ``BaseSearchCV``: scoring, ``cv_results_`` (through ``_format_results``),
refit, ``best_*`` and the predict/score delegation. Fits still go through
:func:`sklearn.model_selection._validation._fit_and_score` under joblib, so
``n_jobs`` and ``joblib.parallel_backend('dask')`` work as they do for
``GridSearchCV``; results come back with ``return_as="generator_unordered"`` and
are journaled one by one in the search process (a single SQLite writer).
"""

from __future__ import annotations

import hashlib
import logging
import numbers
import time
from collections import defaultdict
from itertools import product
from typing import Any, Sequence

import numpy as np
from sklearn.base import _fit_context, clone, is_classifier
from sklearn.model_selection import check_cv
from sklearn.model_selection._split import _yields_constant_splits
from sklearn.model_selection._validation import (
    _insert_error_scores,
    _warn_or_raise_about_fit_failures,
)
from sklearn.utils import _safe_indexing, indexable
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _check_method_params, _num_samples

from keraslab._console import say
from keraslab._fingerprint import derive_seed, fingerprint_data, stable_repr
from keraslab.errors import KeraslabValueError
from keraslab.search.cost import ProgressBar, SearchCost, fits_line, format_seconds, n_workers_for
from keraslab.search.journal import Journal, candidate_key
from keraslab.search.listen import current_listener
from keraslab.search.subsets import subset_key
from keraslab.search.vectorized import current_setting, fit_task, run_fits

__all__ = ["SearchEngineMixin"]

#: The "Fitting N folds ..." lines (INFO); shown on stdout with ``verbose > 0`` (see :func:`keraslab._console.say`).
logger = logging.getLogger("keraslab.search")

_OUT_KEYS = ("fit_error", "test_scores", "n_test_samples", "fit_time", "score_time")


def _fit_task(index: int, estimator: Any, X: Any, y: Any, train: Any, test: Any,
              parameters: dict, kwargs: dict) -> tuple[int, dict]:
    """One fit, tagged with its position so unordered results can be put back in place.

    The result carries the fit's per-epoch ``"history"`` (see :func:`fit_task`).
    """
    return fit_task(index, estimator, X, y, train, test, parameters, kwargs)


def seed_param_names(estimator: Any, searched: Sequence[str]) -> list[str]:
    """The ``random_state`` parameters (nested ones too) a search should seed per fit."""
    try:
        names = estimator.get_params(deep=True)
    except Exception:  # an estimator without get_params: nothing to seed
        return []
    return sorted(
        n for n in names if (n == "random_state" or n.endswith("__random_state")) and n not in searched
    )


class SearchEngineMixin:
    """``fit`` for keraslab searches; put it before ``BaseSearchCV`` in the bases.

    Subclasses implement ``_run_search(evaluate)`` (``evaluate(candidates, *,
    subset=None, more_results=None, label=None)`` returns ``cv_results_`` so far)
    and ``_searched_names()``; they may override ``_finalize_results(results)`` and
    ``_best_index(results, refit_metric)``.
    """

    def _searched_names(self) -> list[str]:  # pragma: no cover - overridden
        return []

    def _finalize_results(self, results: dict) -> dict:
        return results

    def _best_index(self, results: dict, refit_metric: str) -> int:
        return int(self._select_best_index(self.refit, refit_metric, results))

    def _seed_base(self) -> int:
        rs = getattr(self, "random_state", None)
        if isinstance(rs, numbers.Integral) and not isinstance(rs, bool):
            return int(rs)
        est_rs = getattr(self.estimator, "random_state", None)
        if isinstance(est_rs, numbers.Integral) and not isinstance(est_rs, bool):
            return int(est_rs)
        return 0

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: Any, y: Any = None, **params: Any) -> "SearchEngineMixin":
        """Run the search: fit every candidate the strategy asks for on every fold.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), optional
        **params
            Passed to the estimator's ``fit``, the scorer and the splitter (``groups``).

        Returns
        -------
        self
        """
        scorers, refit_metric = self._get_scorers()
        X, y = indexable(X, y)
        params = _check_method_params(X, params=params)
        routed = self._get_routed_params_for_fit(params)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        self.n_splits_ = cv.get_n_splits(X, y, **routed.splitter.split)
        base_estimator = clone(self.estimator)

        evaluator = _Evaluator(self, base_estimator, X, y, cv, routed, scorers)
        try:
            with evaluator.parallel:
                self._run_search(evaluator)
        finally:
            evaluator.close()
        if not evaluator.all_out:
            raise KeraslabValueError(
                "The search evaluated no candidates; check the parameter space. "
                f"Received: {type(self).__name__} with no candidates"
            )
        first = evaluator.all_out[0]["test_scores"]
        self.multimetric_ = isinstance(first, dict)
        if callable(self.scoring) and self.multimetric_:
            self._check_refit_for_multimetric(first)
            refit_metric = self.refit
        results = self._finalize_results(evaluator.results)

        if self.refit or not self.multimetric_:
            self.best_index_ = self._best_index(results, refit_metric)
            if not callable(self.refit):
                self.best_score_ = results[f"mean_test_{refit_metric}"][self.best_index_]
            self.best_params_ = results["params"][self.best_index_]
        if self.refit:
            self._refit(base_estimator, X, y, routed.estimator.fit, evaluator)
        self.scorer_ = scorers._scorers if hasattr(scorers, "_scorers") else scorers
        self.cv_results_ = results
        self.n_fits_computed_ = evaluator.n_computed
        self.n_fits_reused_ = evaluator.n_reused
        return self

    def _refit(self, base_estimator: Any, X: Any, y: Any, fit_params: dict, evaluator: "_Evaluator") -> None:
        best = clone(self.best_params_, safe=False)
        # The refit gets its own derived seed ("fold" -1), so it is repeatable too.
        key = candidate_key(self.best_params_)
        seeds = {n: derive_seed(evaluator.seed_base, key, -1) for n in evaluator.seed_names}
        self.best_estimator_ = clone(base_estimator).set_params(**best, **seeds)
        start = time.time()
        if y is not None:
            self.best_estimator_.fit(X, y, **fit_params)
        else:
            self.best_estimator_.fit(X, **fit_params)
        self.refit_time_ = time.time() - start
        if hasattr(self.best_estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.best_estimator_.feature_names_in_


class _Evaluator:
    """Evaluates batches of candidates for one ``fit`` call and accumulates the results."""

    def __init__(self, search: Any, base_estimator: Any, X: Any, y: Any, cv: Any, routed: Any,
                 scorers: Any) -> None:
        self.search, self.base_estimator, self.X, self.y, self.cv = search, base_estimator, X, y, cv
        self.split_params = dict(routed.splitter.split)
        self.n_samples = _num_samples(X)
        self.kwargs = dict(
            scorer=scorers,
            fit_params=routed.estimator.fit,
            score_params=routed.scorer.score,
            return_train_score=search.return_train_score,
            return_n_test_samples=True,
            return_times=True,
            return_parameters=False,
            error_score=search.error_score,
            verbose=search.verbose,
        )
        self.parallel = Parallel(
            n_jobs=search.n_jobs, pre_dispatch=search.pre_dispatch, return_as="generator_unordered"
        )
        self.seed_base = search._seed_base()
        self.seed_names = seed_param_names(base_estimator, search._searched_names())
        self.progress = ProgressBar(0, enabled=search.verbose > 0)
        self.all_params: list[dict] = []
        self.all_out: list[dict] = []
        self.all_more: dict[str, list] = defaultdict(list)
        self.results: dict = {}
        self.n_computed = self.n_reused = 0
        self._splits: dict[str, list] = {}
        self._seconds_per_row: list[float] = []
        # Told about every planned, resumed and computed fit (see keraslab.search.listen).
        self.listener = current_listener()
        self.journal = self._open_journal(routed)

    # -- journal ----------------------------------------------------------------
    def _open_journal(self, routed: Any) -> Journal | None:
        path = getattr(self.search, "journal", None)
        if path is None:
            return None
        if not _yields_constant_splits(self.cv):
            raise KeraslabValueError(
                "A journal needs a splitter that gives the same folds every time, or resumed "
                "fits would belong to other folds. Give the splitter a seed, e.g. "
                f"cv=StratifiedKFold(3, shuffle=True, random_state=0). Received: cv={self.cv!r}"
            )
        journal = Journal(path)
        try:
            journal.bind(self._identity(routed))
        except Exception:
            journal.close()
            raise
        return journal

    def _identity(self, routed: Any) -> dict[str, str]:
        splits = self.splits_for(None)[0]
        h = hashlib.sha256()
        for _, test in splits:
            h.update(np.asarray(test, dtype=np.int64).tobytes() + b"|")
        masked = clone(self.base_estimator)
        searched = self.search._searched_names()
        try:  # the searched parameters' defaults do not matter: each candidate sets them
            masked.set_params(**{n: "<searched>" for n in searched})
        except Exception:
            pass
        data = fingerprint_data(self.X, self.y, *self.split_params.values())
        fit_params = stable_repr(dict(routed.estimator.fit))
        return {
            "data": data + ("" if fit_params == "{}" else "|" + hashlib.sha256(fit_params.encode()).hexdigest()[:16]),
            "cv": f"{stable_repr(self.cv)}|{len(splits)} folds|{h.hexdigest()[:16]}",
            "estimator": stable_repr(masked),
            "scoring": stable_repr(self.search.scoring),
            "seed": str(self.seed_base),
        }

    def close(self) -> None:
        self.progress.close()
        if self.journal is not None:
            self.journal.close()
            self.journal = None

    # -- splits ------------------------------------------------------------------
    def splits_for(self, subset: np.ndarray | None) -> tuple[list, str]:
        key = subset_key(subset, self.n_samples)
        if key not in self._splits:
            if key == "full":
                splits = list(self.cv.split(self.X, self.y, **self.split_params))
            else:
                splits = self._subset_splits(np.asarray(subset))
            self._splits[key] = splits
        return self._splits[key], key

    def _subset_splits(self, subset: np.ndarray) -> list:
        Xs = _safe_indexing(self.X, subset)
        ys = None if self.y is None else _safe_indexing(self.y, subset)
        sp = {
            k: (_safe_indexing(v, subset) if v is not None and _num_samples(v) == self.n_samples else v)
            for k, v in self.split_params.items()
        }
        try:
            local = list(self.cv.split(Xs, ys, **sp))
        except ValueError as err:
            raise KeraslabValueError(
                f"A subset of {len(subset)} rows is too small for the splitter ({err}). Use larger "
                f"subset fractions or fewer folds. Received: subset size={len(subset)}"
            ) from err
        # Map subset-local positions back to rows of the full data, so fits index X directly.
        return [(subset[tr], subset[te]) for tr, te in local]

    # -- evaluation ----------------------------------------------------------------
    def __call__(self, candidate_params: Any, *, subset: np.ndarray | None = None,
                 more_results: dict | None = None, label: str | None = None) -> dict:
        candidates = list(candidate_params)
        splits, skey = self.splits_for(subset)
        n_c, n_s = len(candidates), len(splits)
        keys = [candidate_key(p) for p in candidates]
        out: list[dict | None] = [None] * (n_c * n_s)
        pending = []
        for ci, fi in product(range(n_c), range(n_s)):
            row = self._lookup(keys[ci], fi, skey)
            if row is None:
                pending.append((ci, fi))
            else:
                out[ci * n_s + fi] = row
        self.progress.add(n_c * n_s)
        tracker = _BestTracker(n_s, self._metric_key())
        for i, row in enumerate(out):
            if row is not None:
                self.n_reused += 1
                self.progress.advance(tracker.add(i // n_s, row), reused=True)
        tasks = [self._task(ci, fi, n_c, candidates[ci], keys[ci], splits, skey) for ci, fi in pending]
        head = self._announce(n_c, n_s, len(pending), label, tasks, subset)
        for i, res in self._stream(head, tasks):
            ci, fi = divmod(i, n_s)
            out[i] = self._store(res, keys[ci], fi, skey, subset)
            self.progress.advance(tracker.add(ci, out[i]))
        return self._accumulate(candidates, out, more_results)

    def _stream(self, head: list, tasks: list):
        yield from head
        rest = tasks[len(head):]
        if rest:
            # Same-architecture fits train as one vectorised program; the rest go to joblib.
            yield from run_fits(rest, current_setting(self.search), self._sequential)

    def _sequential(self, tasks: list):
        return self.parallel(delayed(_fit_task)(*args) for args in tasks)

    def _task(self, ci: int, fi: int, n_c: int, params: dict, key: str, splits: list, skey: str):
        train, test = splits[fi]
        seeds = {n: derive_seed(self.seed_base, key, fi, skey) for n in self.seed_names}
        kwargs = dict(self.kwargs, split_progress=(fi, len(splits)), candidate_progress=(ci, n_c))
        return (ci * len(splits) + fi, clone(self.base_estimator), self.X, self.y, train, test,
                {**params, **seeds}, kwargs)

    def _lookup(self, key: str, fold: int, skey: str) -> dict | None:
        if self.listener is not None:
            self.listener.on_planned(key, fold, skey)
        if self.journal is None:
            return None
        row = self.journal.lookup(key, fold, skey)
        if row is None or (self.search.return_train_score and "train_scores" not in row):
            return None
        row = self._normalise(row)
        if self.listener is not None:
            self.listener.on_resumed(key, fold, skey, row)
        return row

    def _normalise(self, res: dict) -> dict:
        keys = _OUT_KEYS + (("train_scores",) if self.search.return_train_score else ())
        out = {k: res.get(k) for k in keys}
        # Per-epoch {metric: [floats]} for listeners and the journal; {} when not known
        # (a non-Keras estimator, a failed fit, a journal row written before histories).
        out["history"] = res.get("history") or {}
        return out

    def _store(self, res: dict, key: str, fold: int, skey: str, subset: np.ndarray | None) -> dict:
        res = self._normalise(res)
        self.n_computed += 1
        rows = self.n_samples if subset is None else len(subset)
        self._seconds_per_row.append((res["fit_time"] + res["score_time"]) / max(1, rows))
        if self.journal is not None:
            self.journal.record(key, fold, skey, res)
        if self.listener is not None:  # after the journal: a listener that stops the search loses no finished fit
            self.listener.on_fit(key, fold, skey, res)
        return res

    def _announce(self, n_c: int, n_s: int, n_pending: int, label: str | None, tasks: list,
                  subset: np.ndarray | None) -> list:
        """Report the chapter's line and a time estimate; returns the probe's result, if one ran."""
        if self.search.verbose <= 0:
            return []
        prefix = f"{label}: " if label else ""
        reused = n_c * n_s - n_pending
        note = f" ({reused} already in the journal)" if reused else ""
        workers = n_workers_for(self.search.n_jobs, max(1, n_pending))
        head: list = []
        rows = self.n_samples if subset is None else len(subset)
        if not getattr(self.search, "estimate", True) or n_pending == 0:
            line = fits_line(n_s, n_c)
        elif not self._seconds_per_row:
            # Time the first pending fit in-process; its result is kept, so the probe costs nothing.
            start = time.perf_counter()
            head = [_fit_task(*tasks[0])]
            probe = time.perf_counter() - start
            line = SearchCost(n_c, n_s, n_c * n_s, probe, probe * n_pending / workers, workers).line
        else:
            per_fit = float(np.mean(self._seconds_per_row)) * rows
            line = (f"{fits_line(n_s, n_c)}; estimated {format_seconds(per_fit * n_pending / workers)} "
                    f"(mean fit so far {format_seconds(per_fit)}, {workers} worker{'s' if workers != 1 else ''})")
        say(logger, self.search.verbose, "%s", prefix + line + note)
        return head

    def _metric_key(self) -> str | None:
        refit = self.search.refit
        return refit if isinstance(refit, str) else None

    def _accumulate(self, candidates: list, out: list, more_results: dict | None) -> dict:
        if callable(self.search.scoring):
            _insert_error_scores(out, self.search.error_score)
        _warn_or_raise_about_fit_failures(out, self.search.error_score)
        self.all_params.extend(candidates)
        self.all_out.extend(out)
        for key, value in (more_results or {}).items():
            self.all_more[key].extend(value)
        self.results = self.search._format_results(
            self.all_params, self.search.n_splits_, self.all_out, self.all_more
        )
        return self.results


class _BestTracker:
    """Best mean test score among candidates whose folds have all finished (for the bar)."""

    def __init__(self, n_splits: int, metric: str | None) -> None:
        self.n_splits, self.metric = n_splits, metric
        self.scores: dict[int, list[float]] = defaultdict(list)
        self.best: float | None = None

    def add(self, ci: int, res: dict) -> float | None:
        s = res.get("test_scores")
        if isinstance(s, dict):
            s = s.get(self.metric) if self.metric in s else next(iter(s.values()), None)
        try:
            self.scores[ci].append(float(s))
        except (TypeError, ValueError):
            self.scores[ci].append(float("nan"))
        if len(self.scores[ci]) == self.n_splits:
            mean = float(np.mean(self.scores[ci]))
            if np.isfinite(mean) and (self.best is None or mean > self.best):
                self.best = mean
        return self.best

