"""Recording the fits of a search or cross-validation run in the result store.

:class:`SearchRecorder` is the fit listener (see :mod:`keraslab.search.listen`) of
every search-backed run (``cv``, ``grid``, ``random``, ``multires``, ``halving``,
``optuna``): it gives each (candidate, subset) an index in the order of
``cv_results_``, writes each fold to the store as its fit ends (``finished`` with
its score, ``failed`` with the error and *no* score, ``interrupted``), counts fits
computed and fits read back from the journal, and drives the progress bar.

Per-epoch metrics come from :class:`SearchEpochs`, a stateless Keras callback put
on the estimator: it finds the active recorder through module state (the estimator
is cloned and fingerprinted by the search, so it must not hold a store). Fits that
run in other processes (``n_jobs > 1``, Dask) record their folds, not their epochs.

A stop request (the first Ctrl-C) cuts the current fit short after its batch; the
recorder then raises :class:`SearchStopped` *before* the search journals that fit,
so a resumed run computes it again rather than reading back a partial training.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import keras
import numpy as np

from keraslab.experiments import interrupt
from keraslab.experiments.training import EpochRecorder
from keraslab.store import ResultStore

__all__ = ["FoldResult", "CandidateResult", "SearchRecorder", "SearchEpochs", "SearchStopped", "cv_results"]


class SearchStopped(Exception):
    """Raised by the recorder to end a search after a stop request (not a user-facing error)."""


@dataclass
class FoldResult:
    fold: int
    status: str
    score: float | None
    seconds: float
    error: str = ""
    resumed: bool = False


@dataclass
class CandidateResult:
    idx: int
    params: dict[str, Any]
    folds: list[FoldResult] = field(default_factory=list)
    subset: str = "full"

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


def cv_results(candidates: list[CandidateResult]) -> dict[str, Any]:
    """A ``cv_results_``-like dict (params with short names, mean/std; NaN where no score) for the plots."""
    return {
        "params": [{k.split(".", 1)[-1]: v for k, v in c.params.items()} for c in candidates],
        "mean_test_score": [c.mean if c.status == "finished" else math.nan for c in candidates],
        "std_test_score": [c.std if c.status == "finished" else math.nan for c in candidates],
    }


_ACTIVE: "SearchRecorder | None" = None


class SearchEpochs(keras.callbacks.Callback):
    """Forwards a fit's epochs to the active :class:`SearchRecorder`; does nothing without one."""

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._delegate = _ACTIVE.open_fit() if _ACTIVE is not None else None
        if self._delegate is not None:
            self._delegate.set_model(self.model)
            self._delegate.set_params(self.params)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if getattr(self, "_delegate", None) is not None:
            self._delegate.on_epoch_begin(epoch, logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if getattr(self, "_delegate", None) is not None:
            self._delegate.on_train_batch_end(batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if getattr(self, "_delegate", None) is not None:
            self._delegate.on_epoch_end(epoch, logs)

    def __deepcopy__(self, memo: dict) -> "SearchEpochs":
        return SearchEpochs()  # stateless: a clone never carries a fit's delegate

    def __repr__(self) -> str:
        return "SearchEpochs()"


def _params_of(key: str) -> dict[str, Any]:
    """Parameters back from a journal key (``stable_repr`` of a dict of plain TOML values)."""
    try:
        value = ast.literal_eval(key)
    except (ValueError, SyntaxError):
        return {"candidate": key}
    return value if isinstance(value, dict) else {"candidate": key}


def _score(result: dict) -> float | None:
    s = result.get("test_scores")
    if isinstance(s, dict):
        s = next(iter(s.values()), None)
    try:
        value = float(s)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _error_line(fit_error: Any) -> str:
    text = str(fit_error or "").strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else text


class SearchRecorder:
    """Fit listener of one run: folds and candidates into the store, progress, counts.

    Parameters
    ----------
    store : ResultStore
    run_id : int
    spec_name : callable
        Search parameter name -> the spec's name (``model_step__neurons_per_layer`` ->
        ``model.neurons_per_layer``).
    progress : object with ``add(n)`` and ``advance(best=..., reused=...)``
    """

    def __init__(self, store: ResultStore, run_id: int, spec_name: Callable[[str], str], progress: Any) -> None:
        self.store, self.run_id, self.spec_name, self.progress = store, run_id, spec_name, progress
        self.candidates: list[CandidateResult] = []
        self._index: dict[tuple[str, str], int] = {}
        self._folds_planned: dict[int, set[int]] = {}
        self._open: EpochRecorder | None = None
        self.n_planned = self.n_computed = self.n_resumed = 0
        self.best: float | None = None

    # -- activation (for SearchEpochs) ---------------------------------------------
    def __enter__(self) -> "SearchRecorder":
        global _ACTIVE
        _ACTIVE = self
        return self

    def __exit__(self, *exc: object) -> None:
        global _ACTIVE
        _ACTIVE = None
        if self._open is not None:  # a fit that never reached the listener (the search stopped)
            self.store.end_fit(self._open.fit_id, "interrupted")
            self._open = None

    def open_fit(self) -> EpochRecorder:
        """A new fit record for the training that is starting in this process."""
        if self._open is not None:  # its training ended without a result (should not happen): close it
            self.store.end_fit(self._open.fit_id, "interrupted")
        self._open = EpochRecorder(self.store, self.store.begin_fit(self.run_id, "search fit"))
        return self._open

    # -- the listener protocol ------------------------------------------------------------
    def on_planned(self, key: str, fold: int, subset: str) -> None:
        if interrupt.requested():
            raise SearchStopped
        idx = self._index.get((key, subset))
        if idx is None:
            idx = self._index[(key, subset)] = len(self.candidates)
            params = {self.spec_name(k): v for k, v in _params_of(key).items()}
            self.candidates.append(CandidateResult(idx, params, subset=subset))
            self._folds_planned[idx] = set()
            self.store.record_candidate(self.run_id, idx, params, status="running")
        self._folds_planned[idx].add(fold)
        self.n_planned += 1
        self.progress.add(1)

    def on_resumed(self, key: str, fold: int, subset: str, result: dict) -> None:
        self.n_resumed += 1
        self._record(key, fold, subset, result, fit_id=None, resumed=True)

    def on_fit(self, key: str, fold: int, subset: str, result: dict) -> None:
        fitted, self._open = self._open, None
        idx = self._index[(key, subset)]
        label = f"candidate {idx} fold {fold + 1}" + ("" if subset == "full" else f" subset {subset}")
        fit_id = fitted.fit_id if fitted is not None else self.store.begin_fit(self.run_id, label)
        self.store.describe_fit(fit_id, label, self.candidates[idx].params)
        if fitted is not None and fitted.cut_short:
            seconds = float(result.get("fit_time") or 0.0)
            self.store.end_fit(fit_id, "interrupted", seconds=seconds)
            self.store.record_fold(self.run_id, idx, fold + 1, status="interrupted", fit_id=fit_id, seconds=seconds)
            self.candidates[idx].folds.append(FoldResult(fold + 1, "interrupted", None, seconds))
            raise SearchStopped
        self.n_computed += 1
        self._record(key, fold, subset, result, fit_id=fit_id, resumed=False)

    # -- writing --------------------------------------------------------------------------
    def _record(self, key: str, fold: int, subset: str, result: dict, *, fit_id: int | None, resumed: bool) -> None:
        idx = self._index[(key, subset)]
        candidate = self.candidates[idx]
        seconds = float(result.get("fit_time") or 0.0) + float(result.get("score_time") or 0.0)
        score = _score(result)
        if result.get("fit_error"):
            status, error, score = "failed", _error_line(result["fit_error"]), None
        elif score is None:
            status, error = "failed", f"the score is {result.get('test_scores')}"
        else:
            status, error = "finished", ""
        if fit_id is not None:
            self.store.end_fit(fit_id, status, seconds=seconds, error=error)
        self.store.record_fold(self.run_id, idx, fold + 1, status=status, score=score, seconds=seconds,
                               error=error, fit_id=fit_id)
        candidate.folds.append(FoldResult(fold + 1, status, score, seconds, error, resumed))
        candidate.folds.sort(key=lambda f: f.fold)
        if len(candidate.folds) == len(self._folds_planned[idx]):
            self.store.record_candidate(self.run_id, idx, candidate.params, status=candidate.status,
                                        mean_score=candidate.mean, std_score=candidate.std)
            if candidate.status == "finished" and subset == "full":
                self.best = candidate.mean if self.best is None else max(self.best, candidate.mean)
        self.progress.advance(best=self.best, reused=resumed)

    @property
    def fits_line(self) -> str:
        """``fits: N computed, M resumed of T``: what this run did, what it read back."""
        return f"fits: {self.n_computed} computed, {self.n_resumed} resumed of {self.n_planned}"
