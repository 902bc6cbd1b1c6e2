"""Sequence predictions against the truth, and grids of images."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from keraslab._checks import positive_int
from keraslab.errors import KeraslabValueError
from keraslab.plots._figure import VAL_COLOR, new_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["sequence_prediction_series", "plot_sequence_predictions", "grid_shape", "image_grid"]


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
    window_size = positive_int("window_size", window_size)
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
    fig = new_figure(8.0, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(d["truth_steps"], d["truth"], color="#555555", linewidth=1.5, label="truth")
    ax.plot(d["prediction_steps"], d["predictions"], color=VAL_COLOR, linewidth=1.2, label="prediction")
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
    cols = positive_int("ncols", ncols) if ncols is not None else math.ceil(math.sqrt(n))
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
    fig = new_figure(1.6 * cols, 1.6 * rows + (0.4 if title else 0.0))
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
