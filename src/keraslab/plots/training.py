"""Training figures: accuracy and loss per epoch, seconds per swept value, cross-validation fold scores."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from keraslab.errors import KeraslabValueError
from keraslab.plots._figure import TRAIN_COLOR, VAL_COLOR, new_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["ACCURACY_KEYS", "history_panels", "plot_history", "timing_points", "plot_timing", "fold_score_bars",
           "plot_fold_scores"]

#: Accuracy names Keras 2 and 3 write into a history, in order of preference.
ACCURACY_KEYS = ("accuracy", "acc", "categorical_accuracy", "sparse_categorical_accuracy", "binary_accuracy")


def _as_history(history: Any) -> Mapping[str, Sequence[float]]:
    # Accept keras.callbacks.History, a wrapper's history_ dict or a FitRecord alike.
    inner = getattr(history, "history", history)
    if not isinstance(inner, Mapping):
        raise KeraslabValueError(
            "Expected a history: a dict of per-epoch metric lists or a keras History. "
            f"Received: history={type(history).__name__}"
        )
    return inner


def history_panels(history: Any) -> list[dict[str, Any]]:
    """The panels of a training-curve figure: accuracy (when recorded), then loss.

    Each panel is ``{"metric", "epochs", "train", "validation"}`` with 1-based epochs
    and ``validation=None`` when the run had no validation data.

    Examples
    --------
    >>> history_panels({"loss": [1.0, 0.5]})
    [{'metric': 'loss', 'epochs': [1, 2], 'train': [1.0, 0.5], 'validation': None}]
    """
    h = _as_history(history)
    metrics = [k for k in ACCURACY_KEYS if k in h][:1] + (["loss"] if "loss" in h else [])
    if not metrics:
        raise KeraslabValueError(
            f"A history needs a 'loss' or accuracy entry to plot. Received keys: {sorted(h)}"
        )
    panels = []
    for name in metrics:
        train = [float(v) for v in h[name]]
        val = h.get(f"val_{name}")
        panels.append(
            {
                "metric": name,
                "epochs": list(range(1, len(train) + 1)),
                "train": train,
                "validation": [float(v) for v in val] if val is not None else None,
            }
        )
    return panels


def plot_history(history: Any, *, title: str | None = None) -> "Figure":
    """Training curves as the chapter draws them: accuracy and loss, training vs validation.

    Parameters
    ----------
    history : dict or keras.callbacks.History
        Per-epoch metrics (``loss``, ``val_loss``, ``accuracy``, ``val_accuracy``...).
    title : str, optional
        Shown above both panels.

    Examples
    --------
    >>> fig = plot_history({"loss": [0.4, 0.2], "val_loss": [0.5, 0.45]})
    >>> len(fig.axes)
    1
    """
    from matplotlib.ticker import MaxNLocator

    panels = history_panels(history)
    fig = new_figure(5.0 * len(panels), 3.8)
    for i, panel in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        ax.plot(panel["epochs"], panel["train"], color=TRAIN_COLOR, label="training")
        if panel["validation"] is not None:
            ax.plot(panel["epochs"], panel["validation"], color=VAL_COLOR, label="validation")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(panel["metric"])
        ax.set_title(panel["metric"])
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right" if panel["metric"] != "loss" else "upper right")
        if len(panel["epochs"]) == 1:  # a lone point draws no line; show it
            for line in ax.lines:
                line.set_marker("o")
    if title:
        fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------- timing
def timing_points(values: Sequence[float], seconds: Sequence[float | None]) -> dict[str, list[float]]:
    """Pairs of (swept value, seconds) sorted by value, dropping fits that did not finish.

    Examples
    --------
    >>> timing_points([512, 8, 64], [10.0, 90.0, None])
    {'values': [8.0, 512.0], 'seconds': [90.0, 10.0]}
    """
    if len(values) != len(seconds):
        raise KeraslabValueError(
            f"values and seconds must have the same length. Received: {len(values)} values, {len(seconds)} seconds"
        )
    pairs = sorted((float(v), float(s)) for v, s in zip(values, seconds) if s is not None)
    return {"values": [p[0] for p in pairs], "seconds": [p[1] for p in pairs]}


def plot_timing(
    values: Sequence[float],
    seconds: Sequence[float | None],
    *,
    parameter: str = "batch size",
    log_x: bool = True,
    title: str | None = None,
    ylabel: str = "seconds",
) -> "Figure":
    """Training time against a swept value (Figure B3-5: seconds vs batch size).

    Examples
    --------
    >>> fig = plot_timing([8, 64, 512], [120.0, 30.0, 9.0])
    >>> fig.axes[0].get_xscale()
    'log'
    """
    data = timing_points(values, seconds)
    fig = new_figure(6.0, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(data["values"], data["seconds"], marker="o", color=TRAIN_COLOR)
    if log_x and data["values"] and min(data["values"]) > 0:
        ax.set_xscale("log", base=2)
        ax.set_xticks(data["values"], [f"{v:g}" for v in data["values"]])
    ax.set_xlabel(parameter)
    ax.set_ylabel(ylabel)
    ax.set_title(title or f"training time vs {parameter}")
    ax.grid(alpha=0.3, which="both")
    return fig


# --------------------------------------------------------------------------- CV folds
def fold_score_bars(scores: Sequence[float | None]) -> dict[str, Any]:
    """Bars for fold scores; a failed fold (``None`` or NaN) is listed apart, never as 0.

    Examples
    --------
    >>> fold_score_bars([0.95, None, 0.96])
    {'folds': [1, 3], 'scores': [0.95, 0.96], 'failed': [2], 'mean': 0.955}
    """
    folds, values, failed = [], [], []
    for i, score in enumerate(scores, start=1):
        if score is None or not math.isfinite(float(score)):
            failed.append(i)
        else:
            folds.append(i)
            values.append(float(score))
    return {"folds": folds, "scores": values, "failed": failed, "mean": float(np.mean(values)) if values else None}


def plot_fold_scores(scores: Sequence[float | None], *, title: str | None = None) -> "Figure":
    """Cross-validation scores per fold, with the mean; failed folds are marked "failed".

    Examples
    --------
    >>> fig = plot_fold_scores([0.95, 0.96, None])
    """
    data = fold_score_bars(scores)
    fig = new_figure(6.0, 3.8)
    ax = fig.add_subplot(1, 1, 1)
    ax.bar(data["folds"], data["scores"], color=TRAIN_COLOR, label="fold score")
    low = min(data["scores"]) if data["scores"] else 0.0
    high = max(data["scores"]) if data["scores"] else 1.0
    pad = max((high - low) * 0.5, 0.005)
    bottom, top = max(0.0, low - pad), min(1.0, high + pad) if high <= 1 else high + pad
    ax.set_ylim(bottom, top)
    for fold in data["failed"]:
        ax.axvspan(fold - 0.4, fold + 0.4, color="#bbbbbb", hatch="//", alpha=0.6)
        ax.text(fold, (bottom + top) / 2, "failed", rotation=90, ha="center", va="center", color="#b00000")
    if data["mean"] is not None:
        ax.axhline(data["mean"], color=VAL_COLOR, linestyle="--", label=f"mean {data['mean']:.4f}")
    ax.set_xticks(range(1, len(scores) + 1))
    ax.set_xlabel("fold")
    ax.set_ylabel("score")
    ax.set_title(title or "cross-validation scores")
    ax.legend(loc="lower right")
    return fig
