"""Search figures from scikit-learn's ``cv_results_``: candidate scores in order, the 2-D search space."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from keraslab.errors import KeraslabValueError
from keraslab.plots._figure import TRAIN_COLOR, VAL_COLOR, new_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["search_score_points", "plot_search_scores", "numeric_parameters", "search_space_points",
           "plot_search_space", "short_name"]


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


def short_name(name: str) -> str:
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
        "names": [short_name(n) for n in names],
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
    fig = new_figure(max(6.0, 0.45 * n + 2.0), 4.8)
    ax = fig.add_subplot(1, 1, 1)
    ax.errorbar(data["index"], data["mean"], yerr=data["std"], fmt="o-", color=TRAIN_COLOR, capsize=3)
    if data["best"] is not None:
        b = data["best"]
        ax.plot([b], [data["mean"][b]], marker="*", markersize=16, color=VAL_COLOR, linestyle="none",
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
    fig = new_figure(6.0, 4.8)
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
