"""run(spec) -> RunResult: train, sweep, cross-validate or search, and keep everything.

A run is opened in the store before any data is loaded and closed exactly once:
``finished``, ``interrupted`` (Ctrl-C; what finished is kept and drawn) or
``failed`` (the error is stored, then raised). Figures are written as PNG files into
the run's folder next to the store and registered with the run.

Examples
--------
>>> from keraslab.experiments import load_spec, run          # doctest: +SKIP
>>> result = run(load_spec("b3-32-pooling-cnn", ["train.epochs=1", "data.subset=2000"]))  # doctest: +SKIP
>>> print(result.describe())                                 # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import platform
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from keraslab.experiments import interrupt
from keraslab.experiments.recorder import RunRecorder, cv_results, sinking
from keraslab.experiments.figures import draw_figures
from keraslab.experiments.inputs import Inputs, load_inputs
from keraslab.experiments.reference import compare
from keraslab.experiments.spec import ExperimentSpec
from keraslab.experiments.results import RunResult  # public here before results.py
from keraslab.experiments.training import train_model
from keraslab.store import ResultStore

__all__ = ["RunResult", "run"]


def _versions() -> dict[str, str]:
    import keras
    import numpy
    import sklearn

    import keraslab

    out = {"python": platform.python_version(), "keras": keras.__version__, "numpy": numpy.__version__,
           "scikit-learn": sklearn.__version__, "keraslab": keraslab.__version__}
    backend = keras.backend.backend()
    try:
        out[backend] = __import__(backend).__version__
    except (ImportError, AttributeError):
        pass
    return out


def run(
    spec: ExperimentSpec,
    *,
    store: ResultStore | str | Path | None = None,
    progress: bool = True,
    stream: TextIO | None = None,
    restart: bool = False,
    mlflow: str | None = None,
) -> RunResult:
    """Run one experiment and record it.

    Parameters
    ----------
    spec : ExperimentSpec
        From :func:`keraslab.experiments.load_spec` (a file or a catalogue name).
    store : ResultStore or path, optional
        Where results go; default ``./keraslab-runs/runs.sqlite``.
    progress : bool
        Keras' own bar for a single training; a bar with fits done/total, elapsed and
        ETA for sweeps, cross-validation and searches.
    stream : file-like, default sys.stderr
        Where the progress bar of sweeps and searches is drawn.
    restart : bool
        Cross-validation and searches keep a journal next to the store and resume
        from it when the same spec, overrides and data run again; ``restart=True``
        discards it first. A journal of other settings raises
        :class:`~keraslab.experiments.searching.JournalConflict` unless restarting.
    mlflow : str, optional
        An MLflow tracking URI (default: ``[experiment] mlflow`` of the spec, if set):
        the run is also written there as it goes (see
        :mod:`keraslab.experiments.mlflow_sink`).

    Returns
    -------
    RunResult
        Also for an interrupted run (``status="interrupted"``). A run that fails is
        stored as ``failed`` and its exception re-raised.
    """
    import keras

    tracking = mlflow or spec.raw.get("experiment", {}).get("mlflow") or None
    if tracking:
        import importlib.util

        if importlib.util.find_spec("mlflow") is None:
            from keraslab.errors import KeraslabValueError

            raise KeraslabValueError('MLflow tracking needs MLflow: pip install "keraslab[mlflow]". '
                                     f"Received: mlflow={tracking!r}")
    owns_store = not isinstance(store, ResultStore)
    db = store if isinstance(store, ResultStore) else ResultStore(store)
    db.save_experiment(spec.name, title=spec.title, figures=spec.figures, reference=spec.reference)
    parameters = {"overrides": list(spec.overrides), "epochs": spec.train.epochs,
                  "batch_size": spec.train.batch_size, "subset": spec.data.subset}
    record = RunRecorder.begin(db, spec.name, kind=spec.kind, spec_text=spec.to_toml(), parameters=parameters,
                               backend=keras.backend.backend(), versions=_versions())
    run_id = record.run_id
    result = RunResult(run_id, spec, "running", 0.0, db.path)
    start = time.perf_counter()
    stream = stream if stream is not None else sys.stderr
    sink = None
    try:
        if tracking:  # written as the run goes: parameters now, epochs and candidates as they finish
            from keraslab.experiments.mlflow_sink import MlflowLive

            sink = MlflowLive(tracking, db, run_id)
        with interrupt.stop_on_ctrl_c(), sinking(sink):
            try:
                inputs = load_inputs(spec.data)
                record.set_fingerprint(inputs.fingerprint)
                _dispatch(spec, inputs, db, result, progress, stream, restart)
                result.status = "interrupted" if interrupt.requested() else "finished"
            except KeyboardInterrupt:
                result.status = "interrupted"
                inputs = None
            result.summary = _summarise(spec, result)
            result.figures = draw_figures(spec, result, inputs, db.run_folder(run_id))
        for name, path in result.figures.items():
            record.add_figure(name, path)
        result.seconds = time.perf_counter() - start
        record.finish(result.status, summary=result.summary)
        if sink is not None:
            result.summary["mlflow_run_id"] = sink.finish(db, run_id)
        return result
    except BaseException as exc:
        from keraslab.experiments.searching import JournalConflict

        if isinstance(exc, JournalConflict):  # refused before any fit: nothing to keep, nothing recorded
            record.discard()
            if sink is not None:
                sink.discard()
            raise
        result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"
        if isinstance(exc, KeyboardInterrupt):
            result.status = "interrupted"
        result.summary = _summarise(spec, result)
        record.finish(result.status, summary=result.summary, error=result.error)
        if sink is not None:
            with contextlib.suppress(Exception):  # the run's own error matters more than MLflow's
                sink.finish(db, run_id)
        raise
    finally:
        if owns_store:
            db.close()


def _dispatch(spec: ExperimentSpec, inputs: Inputs, db: ResultStore, result: RunResult,
              progress: bool, stream: TextIO, restart: bool) -> None:
    from keraslab.experiments.searching import run_search
    from keraslab._console import ProgressBar

    kind = spec.kind
    if kind == "train":
        result.fits.append(train_model(spec, inputs, store=db, run_id=result.run_id, label="training",
                                       verbose=1 if progress else 0))
        return
    if kind == "sweep":
        values = spec.explore.values
        bar = ProgressBar(len(values), stream=stream, enabled=progress)
        try:
            for value in values:
                if interrupt.requested():
                    break
                derived = spec.with_value(spec.explore.parameter, value)
                data = load_inputs(derived.data) if spec.explore.parameter.startswith("data.") else inputs
                label = f"{spec.explore.parameter.split('.')[-1]}={value}"
                result.fits.append(train_model(derived, data, store=db, run_id=result.run_id, label=label,
                                               params={spec.explore.parameter: value}))
                bar.advance()
        finally:
            bar.close()
        return
    bar = ProgressBar(0, stream=stream, enabled=progress)
    if progress and spec.kind in ("cv", "grid", "random"):  # the chapter's line; adaptive kinds learn their size
        from keraslab.experiments.searching import planned_candidates
        from keraslab._console import fits_line

        stream.write(fits_line(spec.explore.folds, planned_candidates(spec)) + "\n")
    if spec.kind == "optuna":
        from keraslab.experiments.searching import journal_path
        from keraslab.experiments.studying import run_study

        bar.close()
        result.candidates, _, result.fit_counts = run_study(spec, inputs, store=db, run_id=result.run_id,
                                                            journal=journal_path(spec, db), restart=restart)
        return
    try:
        outcome = run_search(spec, inputs, store=db, run_id=result.run_id, progress=bar, restart=restart)
    finally:
        bar.close()
    result.candidates, result.search = outcome.candidates, outcome.search
    result.fit_counts = {"computed": outcome.n_computed, "resumed": outcome.n_resumed, "planned": outcome.n_planned}
    if outcome.stopped:
        interrupt.request_stop()  # the run ends as interrupted, like a training cut short


def _summarise(spec: ExperimentSpec, result: RunResult) -> dict[str, Any]:
    """The numbers a run is remembered by, the lines the CLI prints, and the chapter comparison."""
    summary: dict[str, Any] = {}
    lines: list[str] = []
    if result.fits:
        finals = {f.label: f.final_metrics() for f in result.fits}
        summary["finals"] = finals
        summary["final_lines"] = {f.label: f.final_line for f in result.fits}
        summary["final_line"] = result.fits[-1].final_line
        for f in result.fits:
            prefix = f"[{f.label}] " if len(result.fits) > 1 else ""
            status = "" if f.status == "finished" else f"  ({f.status}{': ' + f.error if f.error else ''})"
            lines.append(f"{prefix}{f.final_line}{status}")
            if f.predictions is not None:
                summary.setdefault("rms_error", {})[f.label] = f.extras.get("rms_error")
        if len(result.fits) > 1:
            summary["fit_seconds"] = {f.label: f.seconds for f in result.fits}
    if result.candidates:
        _summarise_candidates(spec, result, summary, lines)
    if "final_line" not in summary and lines:  # CV and searches: the mean, or the best candidate
        summary["final_line"] = next((line for line in lines if line.startswith(("mean ", "best "))), lines[0])
    summary["lines"] = lines
    summary["comparisons"] = compare(spec.reference, summary)
    return summary


def _summarise_candidates(spec: ExperimentSpec, result: RunResult, summary: dict, lines: list) -> None:
    candidates = result.candidates
    if result.fit_counts:
        c = result.fit_counts
        summary["fits"] = dict(c)
        summary["fits_line"] = f"fits: {c['computed']} computed, {c['resumed']} resumed of {c['planned']}"
        if "pruned_trials" in c:
            summary["fits_line"] += f" ({c['pruned_trials']} trial(s) pruned)"
    if spec.kind == "cv":
        c = candidates[0]
        summary["fold_scores"] = [f.score for f in c.folds]
        summary["failed_folds"] = [{"fold": f.fold, "error": f.error} for f in c.failed]
        summary["mean_score"] = c.mean
        summary["std_score"] = c.std
        scores = " ".join("FAILED" if f.score is None else f"{f.score:.4f}" for f in c.folds)
        lines.append(f"fold scores: {scores}")
        if c.mean is not None:
            lines.append(f"mean {c.mean:.4f} (std {c.std:.4f}) over {len(c.scores)} of {len(c.folds)} folds")
        lines += [f"fold {f.fold} FAILED (not counted as a score): {f.error}" for f in c.failed]
        return
    results = cv_results(candidates)
    summary["cv_results"] = results
    summary["candidate_params"] = [c.params for c in candidates]
    if any(c.subset != "full" for c in candidates):
        summary["candidate_subsets"] = [c.subset for c in candidates]
    # The best is chosen on all the data: candidates scored on a subset only guided the search.
    complete = [c for c in candidates if c.status == "finished" and c.subset == "full"]
    best = max(complete, key=lambda c: c.mean) if complete else None
    chosen = getattr(result.search, "best_index_", None)
    if chosen is not None and len(result.search.cv_results_["params"]) == len(candidates):
        best = candidates[chosen]  # the search's own choice (halving: among the most-resourced)
    if best is not None and best.mean is not None:
        summary["best_score"] = best.mean
        summary["best_params"] = best.params
        lines.append(f"best mean score {best.mean:.4f} with {best.params} "
                     f"({len(complete)} of {len(candidates)} candidates complete)")
    rounds = getattr(result.search, "rounds_", None) or getattr(result.search, "n_candidates_", None)
    if rounds:  # adaptive searches: how they got there
        reason = getattr(result.search, "stop_reason_", None)
        summary["rounds"] = len(rounds)
        lines.append(f"{len(rounds)} round(s){f' (stopped: {reason})' if reason else ''}; "
                     f"ended at {best.params if best is not None else 'no complete candidate'}")
    for c in candidates:
        if c.failed:
            lines.append(f"candidate {c.idx} {c.params}: {len(c.failed)} fold(s) FAILED: {c.failed[0].error}")
