"""The chapter's figures: a data function (tested) plus a render function (drawn with matplotlib).

Every ``plot_*`` function returns a :class:`matplotlib.figure.Figure` built without
``pyplot`` (no global state, no GUI backend, safe in tests and worker threads); save
it with :func:`save_figure`. matplotlib is imported only inside the render functions,
so ``import keraslab.plots`` stays light.

=============================  ==========================================================
``plot_history``               accuracy and loss, training vs validation (Figs B3-1..15, 27-45)
``plot_timing``                seconds vs a swept value, log x axis (Fig B3-5)
``plot_fold_scores``           cross-validation fold scores, failed folds marked, not zero
``plot_search_scores``         candidate mean scores of a search, in order (Figs B3-17..19)
``plot_search_space``          2-D search space, bubble size = score (Fig B3-16)
``plot_sequence_predictions``  predictions vs truth, shifted by the window (Figs B3-59..80)
``image_grid``                 a grid of images (Figs B3-42, B3-43)
=============================  ==========================================================

Examples
--------
>>> history = {"loss": [0.5, 0.3], "val_loss": [0.6, 0.4], "accuracy": [0.8, 0.9], "val_accuracy": [0.7, 0.85]}
>>> [p["metric"] for p in history_panels(history)]
['accuracy', 'loss']
>>> fig = plot_history(history, title="baseline")
>>> save_figure(fig, "/tmp/keraslab-doctest-history.png")  # doctest: +ELLIPSIS
PosixPath('/tmp/keraslab-doctest-history.png')
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from keraslab.errors import KeraslabValueError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "history_panels",
    "plot_history",
    "timing_points",
    "plot_timing",
    "fold_score_bars",
    "plot_fold_scores",
    "search_score_points",
    "plot_search_scores",
    "numeric_parameters",
    "search_space_points",
    "plot_search_space",
    "sequence_prediction_series",
    "plot_sequence_predictions",
    "grid_shape",
    "image_grid",
    "save_figure",
]

#: Accuracy names Keras 2 and 3 write into a history, in order of preference.
ACCURACY_KEYS = ("accuracy", "acc", "categorical_accuracy", "sparse_categorical_accuracy", "binary_accuracy")
_TRAIN_COLOR, _VAL_COLOR = "#1f77b4", "#d62728"


# --------------------------------------------------------------------------- history
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


def _new_figure(width: float, height: float) -> "Figure":
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


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
    fig = _new_figure(5.0 * len(panels), 3.8)
    for i, panel in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        ax.plot(panel["epochs"], panel["train"], color=_TRAIN_COLOR, label="training")
        if panel["validation"] is not None:
            ax.plot(panel["epochs"], panel["validation"], color=_VAL_COLOR, label="validation")
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
    fig = _new_figure(6.0, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(data["values"], data["seconds"], marker="o", color=_TRAIN_COLOR)
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
    fig = _new_figure(6.0, 3.8)
    ax = fig.add_subplot(1, 1, 1)
    ax.bar(data["folds"], data["scores"], color=_TRAIN_COLOR, label="fold score")
    low = min(data["scores"]) if data["scores"] else 0.0
    high = max(data["scores"]) if data["scores"] else 1.0
    pad = max((high - low) * 0.5, 0.005)
    bottom, top = max(0.0, low - pad), min(1.0, high + pad) if high <= 1 else high + pad
    ax.set_ylim(bottom, top)
    for fold in data["failed"]:
        ax.axvspan(fold - 0.4, fold + 0.4, color="#bbbbbb", hatch="//", alpha=0.6)
        ax.text(fold, (bottom + top) / 2, "failed", rotation=90, ha="center", va="center", color="#b00000")
    if data["mean"] is not None:
        ax.axhline(data["mean"], color=_VAL_COLOR, linestyle="--", label=f"mean {data['mean']:.4f}")
    ax.set_xticks(range(1, len(scores) + 1))
    ax.set_xlabel("fold")
    ax.set_ylabel("score")
    ax.set_title(title or "cross-validation scores")
    ax.legend(loc="lower right")
    return fig


# --------------------------------------------------------------------------- searches
def _results_columns(cv_results: Mapping[str, Any]) -> tuple[list[dict[str, Any]], np.ndarray, np.ndarray | None]:
    try:
        params = list(cv_results["params"])
        means = np.asarray(cv_results["mean_test_score"], dtype=float)
    except KeyError as exc:
        raise KeraslabValueError(
            "Expected search results like scikit-learn's cv_results_, with 'params' and 'mean_test_score'. "
            f"Missing: {exc.args[0]!r}"
        ) from None
    std = cv_results.get("std_test_score")
    return params, means, (np.asarray(std, dtype=float) if std is not None else None)


def _short_name(name: str) -> str:
    # Pipelines prefix every name with their step ("model_step__neurons"); the step adds nothing here.
    return name.split("__")[-1]


def search_score_points(cv_results: Mapping[str, Any]) -> dict[str, Any]:
    """Candidates in the search's order with their mean score, spread and label; NaN = failed.

    Examples
    --------
    >>> d = search_score_points({"params": [{"n": 1}, {"n": 2}], "mean_test_score": [0.9, 0.95]})
    >>> d["best"], d["names"], d["labels"]
    (1, ['n'], ['1', '2'])
    """
    params, means, std = _results_columns(cv_results)
    finite = np.isfinite(means)
    names = list(dict.fromkeys(k for p in params for k in p))
    return {
        "index": list(range(len(params))),
        "mean": means.tolist(),
        "std": std.tolist() if std is not None else [0.0] * len(params),
        "names": [_short_name(n) for n in names],
        "labels": [", ".join(str(p.get(n, "-")) for n in names) for p in params],
        "best": int(np.nanargmax(np.where(finite, means, np.nan))) if finite.any() else None,
        "failed": [i for i in range(len(params)) if not finite[i]],
    }


def plot_search_scores(cv_results: Mapping[str, Any], *, title: str | None = None) -> "Figure":
    """Mean score of every candidate, in order, with the best marked (Figures B3-17..19).

    Examples
    --------
    >>> fig = plot_search_scores({"params": [{"n": 1}, {"n": 2}], "mean_test_score": [0.9, 0.95]})
    """
    data = search_score_points(cv_results)
    n = len(data["index"])
    fig = _new_figure(max(6.0, 0.45 * n + 2.0), 4.8)
    ax = fig.add_subplot(1, 1, 1)
    ax.errorbar(data["index"], data["mean"], yerr=data["std"], fmt="o-", color=_TRAIN_COLOR, capsize=3)
    if data["best"] is not None:
        b = data["best"]
        ax.plot([b], [data["mean"][b]], marker="*", markersize=16, color=_VAL_COLOR, linestyle="none",
                label=f"best: {data['labels'][b]} ({data['mean'][b]:.4f})")
    for i in data["failed"]:
        ax.axvline(i, color="#b00000", linestyle=":", alpha=0.7,
                   label="no score (failed or unfinished)" if i == data["failed"][0] else None)
    if data["best"] is not None or data["failed"]:
        ax.legend(loc="best", fontsize=8)
    ax.margins(y=0.15)
    ax.set_xticks(data["index"], data["labels"], rotation=60, ha="right", fontsize=8)
    ax.set_xlabel(f"candidate ({', '.join(data['names'])})")
    ax.set_ylabel("mean score")
    ax.set_title(title or "search candidates")
    ax.grid(alpha=0.3)
    return fig


def numeric_parameters(params: list[dict[str, Any]]) -> list[str]:
    """Names of the parameters that are numbers in every candidate and take several values.

    Examples
    --------
    >>> numeric_parameters([{"a": 1, "b": "x", "c": 5}, {"a": 2, "b": "y", "c": 5}])
    ['a']
    """
    names = []
    for key in params[0] if params else []:
        vals = [p.get(key) for p in params]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals) and len(set(vals)) > 1:
            names.append(key)
    return names


def search_space_points(
    cv_results: Mapping[str, Any], x: str | None = None, y: str | None = None, hue: str | None = None
) -> dict[str, Any]:
    """Points of a 2-D view of a search space; sizes grow with the score (Figure B3-16).

    ``x`` and ``y`` default to the two numeric parameters that vary; ``hue`` to a
    remaining parameter that varies. Several candidates at one (x, y) (differing in
    ``hue``) keep their own points.

    Examples
    --------
    >>> r = {"params": [{"a": 1, "b": 10}, {"a": 2, "b": 20}], "mean_test_score": [0.5, 0.9]}
    >>> d = search_space_points(r)
    >>> d["x_name"], d["y_name"], d["size"]
    ('a', 'b', [40.0, 400.0])
    """
    params, means, _ = _results_columns(cv_results)
    numeric = numeric_parameters(params)
    x = x or (numeric[0] if numeric else None)
    y = y or next((n for n in numeric if n != x), None)
    if x is None or y is None:
        raise KeraslabValueError(
            "A search-space plot needs two numeric parameters that vary; name them with x= and y=. "
            f"Received parameters: {sorted(params[0]) if params else []}"
        )
    for name in (x, y):
        if not params or name not in params[0]:
            raise KeraslabValueError(
                f"Unknown parameter for the search-space plot; choose one of {sorted(params[0]) if params else []}. "
                f"Received: {name!r}"
            )
    if hue is None:
        rest = [k for k in params[0] if k not in (x, y) and len({repr(p[k]) for p in params}) > 1]
        hue = rest[0] if rest else None
    finite = means[np.isfinite(means)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    span = hi - lo if hi > lo else 1.0
    sizes = [40.0 + 360.0 * (float(m) - lo) / span if math.isfinite(m) else 0.0 for m in means]
    return {
        "x_name": x,
        "y_name": y,
        "hue_name": hue,
        "x": [p[x] for p in params],
        "y": [p[y] for p in params],
        "hue": [str(p[hue]) for p in params] if hue else [""] * len(params),
        "score": means.tolist(),
        "size": sizes,
    }


def plot_search_space(
    cv_results: Mapping[str, Any],
    x: str | None = None,
    y: str | None = None,
    *,
    hue: str | None = None,
    title: str | None = None,
) -> "Figure":
    """The searched grid as bubbles: position = parameters, size = mean score (Figure B3-16).

    Examples
    --------
    >>> r = {"params": [{"a": 1, "b": 10}, {"a": 2, "b": 20}], "mean_test_score": [0.5, 0.9]}
    >>> fig = plot_search_space(r)
    """
    d = search_space_points(cv_results, x, y, hue)
    fig = _new_figure(6.0, 4.8)
    ax = fig.add_subplot(1, 1, 1)
    groups = list(dict.fromkeys(d["hue"]))
    # Offsets keep bubbles of different hue at one grid point side by side, not stacked.
    offsets = np.linspace(-0.12, 0.12, len(groups)) if len(groups) > 1 else [0.0]
    xs_all = sorted(set(d["x"]))
    step = min(np.diff(xs_all)) if len(xs_all) > 1 else 1.0
    for group, offset in zip(groups, offsets):
        idx = [i for i, h in enumerate(d["hue"]) if h == group]
        ax.scatter(
            [d["x"][i] + offset * step for i in idx],
            [d["y"][i] for i in idx],
            s=[d["size"][i] for i in idx],
            alpha=0.6,
            label=f"{d['hue_name'].split('__')[-1]}={group}" if d["hue_name"] else None,
        )
        for i in idx:
            if math.isfinite(d["score"][i]):
                ax.annotate(f"{d['score'][i]:.4f}", (d["x"][i] + offset * step, d["y"][i]),
                            fontsize=7, ha="center", va="bottom", xytext=(0, 7), textcoords="offset points")
    ax.set_xlabel(d["x_name"].split("__")[-1])
    ax.set_ylabel(d["y_name"].split("__")[-1])
    ax.set_xticks(xs_all)
    ax.set_yticks(sorted(set(d["y"])))
    ax.margins(0.2)
    if d["hue_name"]:
        ax.legend(loc="best", fontsize=8)
    ax.set_title(title or "search space (bubble size = mean score)")
    ax.grid(alpha=0.3)
    return fig


# --------------------------------------------------------------------------- sequences
def sequence_prediction_series(
    truth: Sequence[float], predictions: Sequence[float], window_size: int
) -> dict[str, list[float]]:
    """Truth at steps 0..n-1 and predictions at steps window_size..n-1.

    A model that sees ``window_size`` values predicts the next one, so its first
    prediction belongs to step ``window_size``, not 0 (the chapter's offset).

    Examples
    --------
    >>> d = sequence_prediction_series([0, 1, 2, 3, 4], [3.1, 3.9], window_size=3)
    >>> d["prediction_steps"], d["rms_error"]
    ([3, 4], 0.1)
    """
    truth_arr = np.asarray(truth, dtype=float).reshape(-1)
    pred_arr = np.asarray(predictions, dtype=float).reshape(-1)
    if not isinstance(window_size, (int, np.integer)) or window_size < 1:
        raise KeraslabValueError(f"window_size must be a positive integer. Received: window_size={window_size!r}")
    if len(pred_arr) != len(truth_arr) - window_size:
        raise KeraslabValueError(
            "There must be one prediction per step after the first window: "
            f"len(truth) - window_size = {len(truth_arr) - window_size}. Received: {len(pred_arr)} predictions"
        )
    target = truth_arr[window_size:]
    rms = float(np.sqrt(np.mean((pred_arr - target) ** 2))) if len(target) else float("nan")
    return {
        "truth_steps": list(range(len(truth_arr))),
        "truth": truth_arr.tolist(),
        "prediction_steps": list(range(window_size, len(truth_arr))),
        "predictions": pred_arr.tolist(),
        "rms_error": round(rms, 12),
    }


def plot_sequence_predictions(
    truth: Sequence[float], predictions: Sequence[float], window_size: int, *, title: str | None = None
) -> "Figure":
    """Predicted values on top of the true sequence, shifted by the window (Figs B3-59..80).

    Examples
    --------
    >>> fig = plot_sequence_predictions([0, 1, 2, 3, 4], [3.1, 3.9], window_size=3)
    """
    d = sequence_prediction_series(truth, predictions, window_size)
    fig = _new_figure(8.0, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(d["truth_steps"], d["truth"], color="#555555", linewidth=1.5, label="truth")
    ax.plot(d["prediction_steps"], d["predictions"], color=_VAL_COLOR, linewidth=1.2, label="prediction")
    ax.axvspan(0, window_size, color="#cccccc", alpha=0.4, label=f"first window ({window_size})")
    ax.set_xlabel("step")
    ax.set_ylabel("value")
    ax.set_title(title or f"predictions vs truth · RMS error {d['rms_error']:.4f}")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    return fig


# --------------------------------------------------------------------------- images
def grid_shape(n: int, ncols: int | None = None) -> tuple[int, int]:
    """Rows and columns for ``n`` images: ``ncols`` given, or as square as possible.

    Examples
    --------
    >>> grid_shape(10), grid_shape(10, ncols=5), grid_shape(1)
    ((3, 4), (2, 5), (1, 1))
    """
    if n < 1:
        raise KeraslabValueError(f"An image grid needs at least one image. Received: n={n}")
    cols = ncols if ncols is not None else math.ceil(math.sqrt(n))
    if cols < 1:
        raise KeraslabValueError(f"ncols must be a positive integer. Received: ncols={ncols!r}")
    cols = min(cols, n)
    return math.ceil(n / cols), cols


def image_grid(
    images: Any,
    *,
    labels: Sequence[Any] | None = None,
    ncols: int | None = None,
    title: str | None = None,
    cmap: str = "gray",
) -> "Figure":
    """A grid of images, e.g. augmented variants of one digit (Fig B3-42) or synthetic shapes (B3-43).

    ``images`` is ``(n, h, w)``, ``(n, h, w, 1)`` or ``(n, h, w, 3)``; ``labels``,
    when given, are written under each image.

    Examples
    --------
    >>> import numpy as np
    >>> fig = image_grid(np.zeros((6, 8, 8)), labels=list("abcdef"), ncols=3)
    >>> len(fig.axes)
    6
    """
    arr = np.asarray(images)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (3, 4):
        raise KeraslabValueError(
            f"images must have shape (n, h, w), (n, h, w, 1) or (n, h, w, 3). Received: shape={arr.shape}"
        )
    if labels is not None and len(labels) != len(arr):
        raise KeraslabValueError(f"Need one label per image ({len(arr)}). Received: {len(labels)} labels")
    rows, cols = grid_shape(len(arr), ncols)
    fig = _new_figure(1.6 * cols, 1.6 * rows + (0.4 if title else 0.0))
    for i, image in enumerate(arr):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.imshow(image, cmap=cmap if arr.ndim == 3 else None, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if labels is not None:
            ax.set_xlabel(str(labels[i]), fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def save_figure(fig: "Figure", path: str | os.PathLike[str]) -> Path:
    """Write ``fig`` as a PNG (creating folders) and return the path.

    Examples
    --------
    >>> save_figure(plot_timing([8, 16], [2.0, 1.0]), "/tmp/keraslab-doctest-timing.png")
    PosixPath('/tmp/keraslab-doctest-timing.png')
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, format="png")
    return target
