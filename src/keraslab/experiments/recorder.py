"""Recording a run in the result store: one module for every kind of run.

* :class:`EpochRecorder` — the Keras callback of one live training (``train`` and
  ``sweep`` kinds): opens the fit, writes each finished epoch as it ends, stops
  after the current batch on a stop request (Ctrl-C), and closes the fit as
  ``finished``, ``failed`` or ``interrupted``.
* :class:`SearchRecorder` — the fit listener (see :mod:`keraslab.search.listen`) of
  every search-backed run (``cv``, ``grid``, ``random``, ``multires``, ``halving``):
  it gives each (candidate, subset) an index in the order of ``cv_results_``,
  writes each fold as its fit ends (``finished`` with its score, ``failed`` with the
  error and *no* score) together with the fit's per-epoch metrics, which the search
  engine hands over in the result's ``"history"`` — no callback on the estimator,
  so fits may run vectorised, in other processes or on Dask and still have their
  epochs recorded. It counts fits computed and fits read back from the journal,
  and drives the progress bar.
* :func:`record_trial` — one finished Optuna trial (``optuna`` kind), as it finishes.
* :func:`sinking` — within the block, epochs and finished candidates also go to a
  live sink (:class:`keraslab.experiments.mlflow_sink.MlflowLive`).

A stop request (the first Ctrl-C) during a search ends it after the fit in
progress: that fit is journaled and recorded first, then the recorder raises
:class:`SearchStopped`, so a resumed run reads it back.
"""

from __future__ import annotations

import ast
import contextlib
import contextvars
import math
import time
from typing import Any, Callable, Iterator

import keras

from keraslab.experiments import interrupt
from keraslab.experiments.results import CandidateResult, FoldResult  # re-exported: public here before
from keraslab.store import ResultStore

__all__ = ["TIMER_KEY", "sinking", "EpochRecorder", "RunRecorder", "FoldResult", "CandidateResult",
           "SearchRecorder", "SearchStopped", "record_trial", "cv_results"]


#: Where a run is also written as it goes (an :class:`~keraslab.experiments.mlflow_sink.MlflowLive`), if anywhere.
_SINK: contextvars.ContextVar[Any] = contextvars.ContextVar("keraslab_record_sink", default=None)


@contextlib.contextmanager
def sinking(sink: Any) -> Iterator[None]:
    """Within the block, the recorders also send epochs and candidates to ``sink`` (e.g. MLflow)."""
    token = _SINK.set(sink)
    try:
        yield
    finally:
        _SINK.reset(token)


#: The log key :class:`keraslab.callbacks.EpochTimer` writes an epoch's seconds under.
TIMER_KEY = "seconds"


class EpochRecorder(keras.callbacks.Callback):
    """One fit's record: each finished epoch into the store as it ends; stop after the batch when asked.

    An epoch cut short by a stop request is not recorded: its numbers would describe
    part of an epoch under a whole epoch's name. Open one with :meth:`open` and end
    it with :meth:`closing` (or let a :class:`SearchRecorder` end it with its fold).
    """

    def __init__(self, store: ResultStore, fit_id: int, label: str = "") -> None:
        super().__init__()
        self.store = store
        self.fit_id = fit_id
        self.label = label
        self.history: dict[str, list[float]] = {}
        self.epoch_seconds: list[float] = []
        self.cut_short = False
        self.seconds = 0.0
        self._batches = 0
        self._start = time.perf_counter()

    @classmethod
    def open(cls, store: ResultStore, run_id: int, label: str, params: dict[str, Any] | None = None
             ) -> "EpochRecorder":
        """A new ``running`` fit of run ``run_id``, recorded by the returned callback."""
        return cls(store, store.begin_fit(run_id, label, params), label)

    @contextlib.contextmanager
    def closing(self) -> Iterator[dict[str, str]]:
        """End the fit when the block ends: the status the block set (``finished`` by default),
        ``interrupted`` on Ctrl-C, ``failed`` with the error on any other exception (re-raised)."""
        outcome = {"status": "finished", "error": ""}
        try:
            yield outcome
        except KeyboardInterrupt:
            self._end("interrupted", "")
            raise
        except Exception as exc:
            self._end("failed", f"{type(exc).__name__}: {exc}")
            raise
        self._end(outcome["status"], outcome["error"])

    def _end(self, status: str, error: str) -> None:
        self.seconds = time.perf_counter() - self._start
        self.store.end_fit(self.fit_id, status, seconds=self.seconds, error=error)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._batches = 0

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._batches = batch + 1
        if interrupt.requested():
            self.model.stop_training = True
            steps = (self.params or {}).get("steps")
            self.cut_short = steps is None or self._batches < steps

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.cut_short:
            return
        metrics = {k: float(v) for k, v in (logs or {}).items() if k != TIMER_KEY}
        seconds = (logs or {}).get(TIMER_KEY)
        self.store.record_epoch(self.fit_id, epoch + 1, metrics, seconds=seconds)
        if _SINK.get() is not None:
            _SINK.get().epoch(self.label, epoch + 1, metrics)
        for key, value in metrics.items():
            self.history.setdefault(key, []).append(value)
        self.epoch_seconds.append(float(seconds) if seconds is not None else float("nan"))


class RunRecorder:
    """One run's record: opened ``running`` by :meth:`begin`, closed exactly once by :meth:`finish`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from keraslab.store import ResultStore
    >>> store = ResultStore(pathlib.Path(tempfile.mkdtemp()) / "runs.sqlite")
    >>> run = RunRecorder.begin(store, "demo", kind="train", spec_text="")
    >>> fit = run.fit("baseline")
    >>> with fit.closing():
    ...     fit.on_epoch_end(0, {"loss": 0.5, "seconds": 1.0})
    >>> run.finish("finished", summary={"final_line": "loss 0.5"})
    >>> store.run(run.run_id).fits[0].history, store.run(run.run_id).status
    ({'loss': [0.5]}, 'finished')
    """

    def __init__(self, store: ResultStore, run_id: int) -> None:
        self.store, self.run_id = store, run_id

    @classmethod
    def begin(cls, store: ResultStore, experiment: str, **details: Any) -> "RunRecorder":
        """Open a run (``details``: ``kind``, ``spec_text``, ``parameters``, ``backend``, ``versions``)."""
        return cls(store, store.begin_run(experiment, **details))

    def fit(self, label: str, params: dict[str, Any] | None = None) -> EpochRecorder:
        """A new fit of this run, recorded by the returned Keras callback."""
        return EpochRecorder.open(self.store, self.run_id, label, params)

    def set_fingerprint(self, fingerprint: str) -> None:
        """The data's fingerprint, once it is loaded."""
        self.store.set_fingerprint(self.run_id, fingerprint)

    def add_figure(self, name: str, path: Any) -> None:
        """A figure file of the run (drawn into ``store.run_folder(run_id)``)."""
        self.store.add_figure(self.run_id, name, path)

    def finish(self, status: str, *, summary: dict[str, Any] | None = None, error: str = "") -> None:
        """Close the run as ``finished``, ``interrupted`` or ``failed``."""
        self.store.finish_run(self.run_id, status, summary=summary, error=error)

    def discard(self) -> None:
        """Remove the run and all it recorded: it was refused before any fit started."""
        self.store.discard_run(self.run_id)


class SearchStopped(Exception):
    """Raised by the recorder to end a search after a stop request (not a user-facing error)."""


def cv_results(candidates: list[CandidateResult]) -> dict[str, Any]:
    """A ``cv_results_``-like dict (params with short names, mean/std; NaN where no score) for the plots."""
    return {
        "params": [{k.split(".", 1)[-1]: v for k, v in c.params.items()} for c in candidates],
        "mean_test_score": [c.mean if c.status == "finished" else math.nan for c in candidates],
        "std_test_score": [c.std if c.status == "finished" else math.nan for c in candidates],
    }


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
        self.n_planned = self.n_computed = self.n_resumed = 0
        self.best: float | None = None

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
        idx = self._index[(key, subset)]
        label = f"candidate {idx} fold {fold + 1}" + ("" if subset == "full" else f" subset {subset}")
        fit_id = self.store.begin_fit(self.run_id, label, self.candidates[idx].params)
        history = dict(result.get("history") or {})
        seconds = history.pop(TIMER_KEY, None)
        for epoch, metrics in enumerate(zip(*history.values()) if history else (), start=1):
            self.store.record_epoch(fit_id, epoch, dict(zip(history, metrics)),
                                    seconds=seconds[epoch - 1] if seconds and len(seconds) >= epoch else None)
        self.n_computed += 1
        self._record(key, fold, subset, result, fit_id=fit_id, resumed=False)
        if interrupt.requested():  # the fit is journaled (the engine journals before telling us): stop here
            raise SearchStopped

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
            _send_candidate(candidate)
            if candidate.status == "finished" and subset == "full":
                self.best = candidate.mean if self.best is None else max(self.best, candidate.mean)
        self.progress.advance(best=self.best, reused=resumed)

    @property
    def fits_line(self) -> str:
        """``fits: N computed, M resumed of T``: what this run did, what it read back."""
        return f"fits: {self.n_computed} computed, {self.n_resumed} resumed of {self.n_planned}"


def record_trial(store: ResultStore, run_id: int, idx: int, params: dict[str, Any], scores: list[float | None],
                 *, resumed: bool = False) -> CandidateResult:
    """One complete Optuna trial as candidate ``idx`` with one fold per CV split (``None``: no score).

    Called as each trial finishes, so a run killed mid-study keeps the trials it completed.
    """
    candidate = CandidateResult(idx, params)
    for i, score in enumerate(scores):
        status = "finished" if score is not None else "failed"
        value = None if score is None else float(score)
        candidate.folds.append(FoldResult(i + 1, status, value, 0.0, "" if value is not None else "no score",
                                          resumed))
        store.record_fold(run_id, idx, i + 1, status=status, score=value)
    store.record_candidate(run_id, idx, params, status=candidate.status, mean_score=candidate.mean,
                           std_score=candidate.std)
    _send_candidate(candidate)
    return candidate


def _send_candidate(candidate: CandidateResult) -> None:
    sink = _SINK.get()
    if sink is not None:
        sink.candidate(candidate.idx, candidate.params, candidate.status, candidate.mean,
                       [(f.fold, f.score) for f in candidate.folds])
