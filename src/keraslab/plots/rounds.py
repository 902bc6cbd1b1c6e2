"""Figures of a :class:`~keraslab.search.MultiResolutionSearchCV`: what each round
tried, where the search zoomed, and whether small subsets ranked candidates as the
full data did.

Each figure is a data function (plain dicts and lists, tested) plus a render
function returning a :class:`matplotlib.figure.Figure` built without ``pyplot``
(matplotlib is imported inside the render functions only). Save with
``fig.savefig(path)`` or :func:`keraslab.plots.save_figure`.

=========================  ======================================================
``plot_search_rounds``     candidate mean scores (± one standard error) per round
``plot_zoom_path``         per round, the candidates over two numeric parameters,
                           coloured by score, with the zoom windows drawn
``plot_rank_agreement``    scores on the smaller vs the larger subset, per step
=========================  ======================================================

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from keraslab.search import MultiResolutionSearchCV, Real
>>> X = np.random.default_rng(0).normal(size=(90, 3)); y = (X[:, 0] > 0).astype(int)
>>> s = MultiResolutionSearchCV(LogisticRegression(), {"C": Real(1e-3, 1e3, log=True)}, cv=3).fit(X, y)
>>> [r["round"] for r in search_rounds_data(s)][:2]
[1, 2]
>>> fig = plot_search_rounds(s)
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from keraslab.errors import KeraslabValueError
from keraslab.plots._figure import new_figure
from keraslab.plots.search import short_name

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "numeric_names",
    "plot_rank_agreement",
    "plot_search_rounds",
    "plot_zoom_path",
    "rank_agreement_data",
    "search_rounds_data",
    "zoom_path_data",
]


def _fitted(search: Any) -> None:
    if not hasattr(search, "rounds_") or not hasattr(search, "cv_results_"):
        raise KeraslabValueError(
            "These plots need a fitted MultiResolutionSearchCV (with rounds_ and cv_results_); "
            f"call fit first. Received: {type(search).__name__}"
        )


def _metric(search: Any) -> str:
    r = search.cv_results_
    if "mean_test_score" in r:
        return "score"
    if isinstance(search.refit, str):
        return search.refit
    return next(k[len("mean_test_"):] for k in r if k.startswith("mean_test_"))


def search_rounds_data(search: Any) -> list[dict[str, Any]]:
    """One dict per round: its candidates' mean scores, standard errors and which
    ones led (were refined next).

    Parameters
    ----------
    search : MultiResolutionSearchCV
        Fitted.

    Returns
    -------
    list of dict
        Keys ``round``, ``subset``, ``n_samples``, ``means``, ``ses``, ``params``,
        ``leader`` (bool per candidate), ``best`` (index into the round's lists or None).
    """
    _fitted(search)
    r, m = search.cv_results_, _metric(search)
    n = search.n_splits_
    means = np.asarray(r[f"mean_test_{m}"], dtype=float)
    ses = np.asarray(r[f"std_test_{m}"], dtype=float) / math.sqrt(max(1, n - 1))
    rounds = np.asarray(r["round"])
    out = []
    for info in search.rounds_:
        idx = np.flatnonzero(rounds == info["round"])
        leaders = info.get("leaders") or []
        params = [r["params"][i] for i in idx]
        finite = [k for k, i in enumerate(idx) if math.isfinite(means[i])]
        best = max(finite, key=lambda k: means[idx[k]]) if finite else None
        out.append({
            "round": int(info["round"]),
            "subset": float(info["subset"]),
            "n_samples": int(info["n_samples"]),
            "means": means[idx].tolist(),
            "ses": ses[idx].tolist(),
            "params": params,
            "leader": [any(p == q for q in leaders) for p in params],
            "best": best,
        })
    return out


def plot_search_rounds(search: Any, *, title: str | None = None) -> "Figure":
    """Mean CV score (± one standard error) of every candidate, one column per round.

    Leaders (within one standard error of that round's best, refined next) are
    filled; the others hollow. Rounds on a subset of the data are labelled with it.

    Parameters
    ----------
    search : MultiResolutionSearchCV
        Fitted.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    data = search_rounds_data(search)
    fig = new_figure(max(4.0, 1.2 * len(data) + 2), 3.6)
    ax = fig.add_subplot()
    rng = np.random.default_rng(0)  # a fixed jitter so the figure is reproducible
    for k, rd in enumerate(data):
        x = k + rng.uniform(-0.18, 0.18, size=len(rd["means"]))
        for xi, mean, se, lead in zip(x, rd["means"], rd["ses"], rd["leader"]):
            ax.errorbar(xi, mean, yerr=se, fmt="o", ms=5, color="C0" if lead else "0.55",
                        mfc="C0" if lead else "white", elinewidth=0.8, capsize=2)
        if rd["best"] is not None:
            ax.plot(x[rd["best"]], rd["means"][rd["best"]], marker="*", ms=13, color="C3", zorder=5)
    labels = [f"round {rd['round']}" + (f"\n{rd['subset']:.0%} data" if rd["subset"] < 1 else "") for rd in data]
    ax.set_xticks(range(len(data)), labels)
    ax.set_ylabel(f"mean CV {_metric(search)}")
    ax.grid(axis="y", alpha=0.3)
    from matplotlib.lines import Line2D

    ax.legend(handles=[
        Line2D([], [], marker="o", ls="", color="C0", label="leader (within 1 SE)"),
        Line2D([], [], marker="o", ls="", color="0.55", mfc="white", label="other"),
        Line2D([], [], marker="*", ls="", color="C3", ms=12, label="round best"),
    ], fontsize=8, loc="lower right")
    ax.set_title(title or "Candidates per round")
    return fig


def numeric_names(search: Any) -> list[str]:
    from keraslab.search.space import Categorical, as_space

    return [n for n, d in as_space(search.param_space).items() if not isinstance(d, Categorical)]


def zoom_path_data(search: Any, x: str | None = None, y: str | None = None) -> dict[str, Any]:
    """Per round, the candidates over two numeric parameters and the zoom windows.

    Where several candidates share an (x, y) point (other parameters differ), the
    best score of them is kept.

    Parameters
    ----------
    search : MultiResolutionSearchCV
        Fitted; needs at least two numeric (Integer/Real) parameters.
    x, y : str, optional
        The parameters on the axes (default: the first two numeric ones).

    Returns
    -------
    dict
        ``x``, ``y`` (names), ``log_x``, ``log_y``, ``integer_x``, ``integer_y`` (an
        :class:`~keraslab.search.Integer` dimension: whole-number ticks) and ``rounds``: a list of dicts with
        ``round``, ``points`` (list of (x, y, score)), ``windows`` (list of
        (x_low, x_high, y_low, y_high)) and ``best`` ((x, y, score) or None).
    """
    _fitted(search)
    from keraslab.search.space import Integer, as_space

    names = numeric_names(search)
    x = x or (names[0] if names else None)
    y = y or next((n for n in names if n != x), None)
    if x not in names or y not in names or x == y:
        raise KeraslabValueError(
            "zoom_path_data needs two different numeric (Integer/Real) parameters of the search. "
            f"Numeric parameters: {names}. Received: x={x!r}, y={y!r}"
        )
    space = as_space(search.param_space)
    r, m = search.cv_results_, _metric(search)
    means = np.asarray(r[f"mean_test_{m}"], dtype=float)
    rounds = np.asarray(r["round"])
    out_rounds = []
    for info in search.rounds_:
        pts: dict[tuple[float, float], float] = {}
        for i in np.flatnonzero(rounds == info["round"]):
            key = (float(r["params"][i][x]), float(r["params"][i][y]))
            if math.isfinite(means[i]) and (key not in pts or means[i] > pts[key]):
                pts[key] = float(means[i])
        windows = [(*w[x], *w[y]) for w in info.get("windows", []) if x in w and y in w]
        points = [(a, b, s) for (a, b), s in pts.items()]
        best = max(points, key=lambda p: p[2]) if points else None
        out_rounds.append({"round": int(info["round"]), "subset": float(info["subset"]),
                           "points": points, "windows": windows, "best": best})
    return {"x": x, "y": y, "log_x": bool(getattr(space[x], "log", False)),
            "log_y": bool(getattr(space[y], "log", False)), "integer_x": isinstance(space[x], Integer),
            "integer_y": isinstance(space[y], Integer), "rounds": out_rounds}


def plot_zoom_path(search: Any, x: str | None = None, y: str | None = None, *,
                   title: str | None = None) -> "Figure":
    """One panel per round over two numeric parameters: earlier candidates in grey,
    this round's as squares coloured by mean score (one colour scale for all panels),
    its zoom windows as dashed rectangles and its best as a red star.

    Parameters
    ----------
    search : MultiResolutionSearchCV
        Fitted, with at least two numeric parameters.
    x, y : str, optional
        Parameters on the axes (default: the first two numeric ones).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.colors import Normalize
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import MaxNLocator

    data = zoom_path_data(search, x, y)
    rounds = data["rounds"]
    all_scores = [p[2] for rd in rounds for p in rd["points"]]
    norm = Normalize(min(all_scores), max(all_scores)) if all_scores else Normalize(0, 1)
    fig = new_figure(3.2 * len(rounds) + 0.8, 3.4)
    axes = fig.subplots(1, len(rounds), sharex=True, sharey=True, squeeze=False)[0]
    seen: list[tuple[float, float, float]] = []
    sc = None
    for ax, rd in zip(axes, rounds):
        if seen:
            ax.scatter([p[0] for p in seen], [p[1] for p in seen], s=14, color="0.8", zorder=1)
        for x0, x1, y0, y1 in rd["windows"]:
            ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ls="--", lw=0.9,
                                   ec="0.35", zorder=2))
        if rd["points"]:
            pts = np.asarray(rd["points"])
            sc = ax.scatter(pts[:, 0], pts[:, 1], c=pts[:, 2], cmap="viridis", norm=norm, marker="s",
                            s=70, edgecolors="k", linewidths=0.4, zorder=3)
        if rd["best"] is not None:
            ax.plot(rd["best"][0], rd["best"][1], marker="*", ms=14, color="C3", mec="k", mew=0.5, zorder=4)
        label = f"round {rd['round']}" + (f" ({rd['subset']:.0%} data)" if rd["subset"] < 1 else "")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel(short_name(data["x"]))
        if data["log_x"]:
            ax.set_xscale("log")
        if data["log_y"]:
            ax.set_yscale("log")
        seen.extend(rd["points"])
    axes[0].set_ylabel(short_name(data["y"]))
    # Shared axes: one locator per axis covers every panel; an Integer dimension has no 1.5.
    if data["integer_x"] and not data["log_x"]:
        axes[0].xaxis.set_major_locator(MaxNLocator(integer=True))
    if data["integer_y"] and not data["log_y"]:
        axes[0].yaxis.set_major_locator(MaxNLocator(integer=True))
    if sc is not None:
        fig.colorbar(sc, ax=list(axes), label=f"mean CV {_metric(search)}", shrink=0.9)
    if title:
        fig.suptitle(title)
    return fig


def rank_agreement_data(search: Any) -> list[dict[str, Any]]:
    """Per step up in subset size: the carried candidates' scores on both sizes and
    their Spearman rank correlation.

    Returns
    -------
    list of dict
        ``round``, ``small``, ``large`` (fractions), ``pairs`` (list of
        (score_small, score_large)) and ``rho``. Empty when the search used no subsets.
    """
    _fitted(search)
    out = []
    prev = None
    for info in search.rounds_:
        if prev is not None and info["subset"] != prev["subset"] and "rank_pairs" in info:
            out.append({"round": int(info["round"]), "small": float(prev["subset"]),
                        "large": float(info["subset"]), "pairs": [tuple(p) for p in info["rank_pairs"]],
                        "rho": float(info["rank_correlation"])})
        prev = info
    return out


def plot_rank_agreement(search: Any, *, title: str | None = None) -> "Figure":
    """Scores of the same candidates on the smaller vs the larger subset, one panel per
    step, with the Spearman correlation (below 0.6 the proxy is not representative).

    Returns
    -------
    matplotlib.figure.Figure
    """
    data = rank_agreement_data(search)
    if not data:
        raise KeraslabValueError(
            "plot_rank_agreement needs a search fitted with subsets=(...). Received: subsets=None"
        )
    fig = new_figure(3.4 * len(data) + 0.4, 3.4)
    axes = fig.subplots(1, len(data), squeeze=False)[0]
    for ax, step in zip(axes, data):
        pts = np.asarray(step["pairs"], dtype=float)
        ax.scatter(pts[:, 0], pts[:, 1], s=30, color="C0", edgecolors="k", linewidths=0.4)
        order = np.argsort(pts[:, 0])
        ax.plot(pts[order, 0], pts[order, 1], color="C0", alpha=0.3)
        ok = "" if not math.isfinite(step["rho"]) or step["rho"] >= 0.6 else "  (not representative)"
        rho = "n/a" if not math.isfinite(step["rho"]) else f"{step['rho']:.2f}"
        ax.set_title(f"Spearman {rho}{ok}", fontsize=10)
        ax.set_xlabel(f"score on {step['small']:.0%} of the data")
        ax.set_ylabel(f"score on {step['large']:.0%} of the data")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig
