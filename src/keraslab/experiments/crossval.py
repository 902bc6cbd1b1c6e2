"""Cross-validation and grid / random searches, one recorded fit at a time.

Why not call ``cross_val_score`` or ``GridSearchCV`` directly: they return only when
every fit is done, so there is no progress to show, nothing to keep after Ctrl-C, and
a failed fit becomes a number (the chapter printed 0.0 for a fold without comment).
Here the same splits (``StratifiedKFold`` / ``KFold``), the same candidate order
(``ParameterGrid`` / ``ParameterSampler``, so results line up with scikit-learn's
``cv_results_``) and the same scores (``estimator.score`` or a named scorer) are
computed fit by fit through the scikit-learn wrapper, and each fold is written to the
store as it ends: ``finished`` with its score, or ``failed`` with the error and *no*
score.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from keraslab.errors import KeraslabValueError
from keraslab.experiments import interrupt
from keraslab.experiments.inputs import Inputs
from keraslab.experiments.spec import ExperimentSpec
from keraslab.experiments.training import EpochRecorder, make_estimator
from keraslab.store import ResultStore

__all__ = ["FoldResult", "CandidateResult", "candidate_settings", "evaluate_candidates", "cv_results"]


@dataclass
class FoldResult:
    fold: int
    status: str
    score: float | None
    seconds: float
    error: str = ""


@dataclass
class CandidateResult:
    idx: int
    params: dict[str, Any]
    folds: list[FoldResult] = field(default_factory=list)

    @property
    def scores(self) -> list[float]:
        return [f.score for f in self.folds if f.status == "finished" and f.score is not None]

    @property
    def failed(self) -> list[FoldResult]:
        return [f for f in self.folds if f.status == "failed"]

    @property
    def status(self) -> str:
        if self.failed:
            return "failed"
        return "finished" if self.folds and all(f.status == "finished" for f in self.folds) else "interrupted"

    @property
    def mean(self) -> float | None:
        return float(np.mean(self.scores)) if self.scores else None

    @property
    def std(self) -> float | None:
        return float(np.std(self.scores)) if self.scores else None


def candidate_settings(spec: ExperimentSpec) -> list[dict[str, Any]]:
    """The parameter settings to evaluate, in scikit-learn's order (plain CV: one, empty)."""
    from sklearn.model_selection import ParameterGrid, ParameterSampler

    e = spec.explore
    if e is None or e.kind == "cv":
        return [{}]
    if e.kind == "grid":
        return [dict(p) for p in ParameterGrid(e.params)]
    return [dict(p) for p in ParameterSampler(e.params, n_iter=e.n_iter, random_state=e.random_state)]


def _splits(spec: ExperimentSpec, inputs: Inputs) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold, StratifiedKFold

    e = spec.explore
    seed = e.random_state if e.shuffle else None
    if e.stratified and inputs.task == "classification":
        splitter = StratifiedKFold(e.folds, shuffle=e.shuffle, random_state=seed)
    else:
        splitter = KFold(e.folds, shuffle=e.shuffle, random_state=seed)
    try:
        return list(splitter.split(inputs.x_train, inputs.y_train))
    except ValueError as exc:
        raise KeraslabValueError(
            f"Cannot make {e.folds} folds from {len(inputs.x_train)} samples ({exc}); "
            f"lower explore.folds or raise data.subset. Received: folds={e.folds}"
        ) from None


def evaluate_candidates(
    spec: ExperimentSpec,
    inputs: Inputs,
    *,
    store: ResultStore,
    run_id: int,
    progress: Any,
) -> list[CandidateResult]:
    """Fit and score every candidate on every fold; record each fold as it ends.

    Stops early (keeping what finished) when a stop is requested. ``progress`` has
    ``advance(best=...)`` (see :class:`keraslab.search.cost.ProgressBar`).
    """
    e = spec.explore
    if e.scaler != "none" and inputs.x_train.ndim != 2:
        raise KeraslabValueError(
            f"explore.scaler works on flat rows; set data.layout = \"flat\". Received: layout={spec.data.layout!r}"
        )
    scorer = None
    if e.scoring:
        from sklearn.metrics import get_scorer

        try:
            scorer = get_scorer(e.scoring)
        except ValueError:
            raise KeraslabValueError(f"explore.scoring must be a scikit-learn scorer name. "
                                     f"Received: scoring={e.scoring!r}") from None
    X, y = inputs.x_train, inputs.y_train
    splits = _splits(spec, inputs)
    results: list[CandidateResult] = []
    best: float | None = None
    for idx, params in enumerate(candidate_settings(spec)):
        if interrupt.requested():
            break
        candidate = CandidateResult(idx, params)
        results.append(candidate)
        store.record_candidate(run_id, idx, params, status="running")
        for fold, (train, test) in enumerate(splits, start=1):
            if interrupt.requested():
                break
            result = _fit_fold(spec, inputs, params, X, y, train, test, scorer, store, run_id, idx, fold)
            candidate.folds.append(result)
            if result.status == "interrupted":
                break
            if candidate.mean is not None and len(candidate.scores) == len(candidate.folds):
                best = candidate.mean if best is None else max(best, candidate.mean)
            progress.advance(best=best)
        store.record_candidate(run_id, idx, params, status=candidate.status,
                               mean_score=candidate.mean, std_score=candidate.std)
    return results


def _fit_fold(spec, inputs, params, X, y, train, test, scorer, store, run_id, idx, fold) -> FoldResult:
    fit_id = store.begin_fit(run_id, f"candidate {idx} fold {fold}", params)
    recorder = EpochRecorder(store, fit_id)
    from keraslab.callbacks import EpochTimer

    estimator = make_estimator(spec, inputs, params, callbacks=[EpochTimer("seconds"), recorder],
                               scaler=spec.explore.scaler)
    start = time.perf_counter()
    status, score, error = "finished", None, ""
    try:
        estimator.fit(X[train], y[train])
        if recorder.cut_short:
            status = "interrupted"
        else:
            value = scorer(estimator, X[test], y[test]) if scorer else estimator.score(X[test], y[test])
            score = float(value)
            if not math.isfinite(score):
                status, score, error = "failed", None, f"the score is {value}"
    except KeyboardInterrupt:
        store.end_fit(fit_id, "interrupted", seconds=time.perf_counter() - start)
        store.record_fold(run_id, idx, fold, status="interrupted", fit_id=fit_id)
        raise
    except Exception as exc:  # a fold that fails is recorded as failed, never scored
        status, error = "failed", f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    store.end_fit(fit_id, status, seconds=seconds, error=error)
    store.record_fold(run_id, idx, fold, status=status, score=score, seconds=seconds, error=error, fit_id=fit_id)
    return FoldResult(fold, status, score, seconds, error)


def cv_results(candidates: list[CandidateResult]) -> dict[str, Any]:
    """A ``cv_results_``-like dict (params with short names, mean/std; NaN where no score) for the plots."""
    return {
        "params": [{k.split(".", 1)[-1]: v for k, v in c.params.items()} for c in candidates],
        "mean_test_score": [c.mean if c.status == "finished" else math.nan for c in candidates],
        "std_test_score": [c.std if c.status == "finished" else math.nan for c in candidates],
    }
