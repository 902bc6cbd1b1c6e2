"""The figures of a run, drawn with :mod:`keraslab.plots` and saved as PNG in the run's folder.

=========  ==================================================================
train      ``history.png`` (+ ``predictions.png`` for sequences, ``images.png``
           for augmentation and synthetic shapes)
sweep      ``history-<value>.png`` per value (or per ``explore.curves``),
           ``timing.png`` (seconds vs value), ``predictions-<value>.png``
cv         ``folds.png``
grid       ``search-scores.png`` and, with two numeric parameters, ``search-space.png``
random     as grid
halving    as grid (every round's candidates)
multires   as grid, plus ``search-rounds.png`` (scores per round) and, with two
           numeric parameters, ``zoom-path.png`` (where each round looked)
=========  ==================================================================
"""

from __future__ import annotations

import math
import re
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keraslab import plots

if TYPE_CHECKING:  # pragma: no cover
    from keraslab.experiments.inputs import Inputs
    from keraslab.experiments.runner import RunResult
    from keraslab.experiments.spec import ExperimentSpec

__all__ = ["draw_figures"]

#: Sweeps whose training time is worth a figure (Figure B3-5: time vs batch size).
_TIMED = ("train.batch_size", "train.epochs", "data.subset", "data.options.steps", "data.options.train_samples")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-")


def _steady_epoch_seconds(epoch_seconds: list[float]) -> float | None:
    """Median seconds of an epoch, leaving out the first (it includes compiling the model).

    On small data the compilation takes longer than all other epochs together and would
    hide what the chapter's timing figure shows: small batches cost more time per epoch.
    """
    steady = [s for s in epoch_seconds[1:] if math.isfinite(s)] or [s for s in epoch_seconds if math.isfinite(s)]
    return float(statistics.median(steady)) if steady else None


def draw_figures(spec: "ExperimentSpec", result: "RunResult", inputs: "Inputs | None", folder: Path) -> dict[str, Path]:
    """Draw every figure the run has data for; return ``{name: path}`` in display order."""
    figures: dict[str, Any] = {}
    title = spec.title
    if inputs is not None and inputs.preview is not None:
        images, labels, caption = inputs.preview
        figures["images"] = plots.image_grid(images, labels=labels, ncols=8 if len(images) > 8 else None,
                                             title=caption)
    finished_fits = [f for f in result.fits if f.history.get("loss")]
    if spec.kind == "sweep":
        wanted = {str(v) for v in (spec.explore.curves or spec.explore.values)}
        for f in finished_fits:
            if f.label.split("=", 1)[-1] in wanted:
                figures[f"history-{_slug(f.label)}"] = plots.plot_history(f.history, title=f"{title} · {f.label}")
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in spec.explore.values)
        if numeric and len(result.fits) > 1 and spec.explore.parameter in _TIMED:
            values = [f.params[spec.explore.parameter] for f in result.fits]
            seconds = [_steady_epoch_seconds(f.epoch_seconds) if f.status == "finished" else None
                       for f in result.fits]
            positive = all(v > 0 for v in values)
            figures["timing"] = plots.plot_timing(
                values, seconds, parameter=spec.explore.parameter.split(".")[-1],
                log_x=positive and max(values) / min(values) >= 8, title=f"{title} · time per epoch",
                ylabel="seconds per epoch (median, first epoch excluded)",
            )
    elif finished_fits:
        figures["history"] = plots.plot_history(finished_fits[0].history, title=title)
    for f in result.fits:
        if f.predictions is not None and inputs is not None and inputs.sequence is not None:
            window = int(f.extras.get("window", inputs.sequence.window))
            truth = f.extras.get("truth", inputs.sequence.truth)[: window + len(f.predictions)]
            name = "predictions" if spec.kind == "train" else f"predictions-{_slug(f.label)}"
            figures[name] = plots.plot_sequence_predictions(
                truth, f.predictions, window,
                title=f"{title}{' · ' + f.label if spec.kind != 'train' else ''} · "
                      f"RMS error {f.extras.get('rms_error', float('nan')):.4f}",
            )
    if spec.kind == "cv" and result.candidates:
        figures["folds"] = plots.plot_fold_scores([fold.score for fold in result.candidates[0].folds],
                                                  title=f"{title} · fold scores")
    if spec.kind in ("grid", "random", "multires", "halving", "optuna") and result.candidates:
        from keraslab.experiments.recorder import cv_results

        results = cv_results(result.candidates)
        figures["search-scores"] = plots.plot_search_scores(results, title=f"{title} · mean score per candidate")
        if len(plots.numeric_parameters(results["params"])) >= 2 and any(map(math.isfinite, results["mean_test_score"])):
            figures["search-space"] = plots.plot_search_space(results, title=f"{title} · search space")
    if spec.kind == "multires" and getattr(result.search, "rounds_", None):
        from keraslab.plots import rounds as plots_search

        figures["search-rounds"] = plots_search.plot_search_rounds(result.search, title=f"{title} · rounds")
        if len(plots_search.numeric_names(result.search)) >= 2:
            figures["zoom-path"] = plots_search.plot_zoom_path(result.search, title=f"{title} · zoom path")
    return {name: plots.save_figure(fig, folder / f"{name}.png") for name, fig in figures.items()}
