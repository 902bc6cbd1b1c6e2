"""Search plots: data functions exactly, render functions as smoke tests."""

from __future__ import annotations

import math

import pytest

from keraslab.errors import KeraslabValueError
from keraslab.plots import (
    plot_rank_agreement,
    plot_search_rounds,
    plot_zoom_path,
    rank_agreement_data,
    search_rounds_data,
    zoom_path_data,
)
from keraslab.search import Integer, MultiResolutionSearchCV, Real
from search_helpers import Landscape, classification_data

X, Y = classification_data()
SPACE = {"x": Real(0.0, 1.0), "y": Real(0.0, 1.0), "opt": ["a", "b"]}


@pytest.fixture(scope="module")
def search():
    return MultiResolutionSearchCV(Landscape(noise=0.02), SPACE, rounds=3, cv=3).fit(X, Y)


@pytest.fixture(scope="module")
def subset_search():
    return MultiResolutionSearchCV(Landscape(noise=0.02), SPACE, rounds=3, subsets=(0.5, 1.0), cv=3).fit(X, Y)


def test_rounds_data_matches_cv_results(search):
    data = search_rounds_data(search)
    assert [d["round"] for d in data] == [r["round"] for r in search.rounds_]
    assert sum(len(d["means"]) for d in data) == len(search.cv_results_["params"])
    first = data[0]
    assert len(first["means"]) == 18 and first["params"][first["best"]] == {"x": 0.5, "y": 0.5, "opt": "a"}
    assert sum(first["leader"]) == len(search.rounds_[0]["leaders"])
    i = search.cv_results_["params"].index(first["params"][0])
    assert math.isclose(first["ses"][0], search.cv_results_["std_test_score"][i] / math.sqrt(2))


def test_zoom_path_data_points_windows_and_best(search):
    data = zoom_path_data(search)
    assert (data["x"], data["y"], data["log_x"]) == ("x", "y", False)
    r1 = data["rounds"][0]
    assert len(r1["points"]) == 9  # 18 candidates, the best optimizer kept per (x, y)
    assert r1["windows"] == [(0.0, 1.0, 0.0, 1.0)]
    assert r1["best"][:2] == (0.5, 0.5)
    for x0, x1, y0, y1 in data["rounds"][1]["windows"]:
        assert math.isclose(x1 - x0, 0.5) or x0 == 0.0 or x1 == 1.0
    with pytest.raises(KeraslabValueError, match="two different numeric"):
        zoom_path_data(search, "x", "opt")


def test_rank_agreement_data(search, subset_search):
    assert rank_agreement_data(search) == []
    steps = rank_agreement_data(subset_search)
    assert len(steps) == 1 and (steps[0]["small"], steps[0]["large"]) == (0.5, 1.0)
    assert len(steps[0]["pairs"]) >= 5 and steps[0]["rho"] == subset_search.rounds_[1]["rank_correlation"]


def test_figures_render(search, subset_search, tmp_path):
    for name, fig in [("rounds", plot_search_rounds(search)), ("zoom", plot_zoom_path(search, title="zoom")),
                      ("agreement", plot_rank_agreement(subset_search))]:
        path = tmp_path / f"{name}.png"
        fig.savefig(path)
        assert path.stat().st_size > 5000
    assert len(plot_zoom_path(search).axes) == len(search.rounds_) + 1  # panels + colour bar
    with pytest.raises(KeraslabValueError, match="subsets"):
        plot_rank_agreement(search)
    with pytest.raises(KeraslabValueError, match="call fit first"):
        search_rounds_data(MultiResolutionSearchCV(Landscape(), SPACE))


def test_zoom_path_of_a_pipeline_labels_parameters_without_the_step_and_integer_ticks_are_whole(tmp_path):
    from sklearn.pipeline import Pipeline

    space = {"model_step__x": Integer(1, 8), "model_step__y": Real(0.0, 1.0)}
    search = MultiResolutionSearchCV(Pipeline([("model_step", Landscape(x_opt=3))]), space, rounds=2, cv=3)
    search.fit(X, Y)
    data = zoom_path_data(search)
    assert (data["integer_x"], data["integer_y"]) == (True, False)
    fig = plot_zoom_path(search)
    fig.savefig(tmp_path / "zoom.png")  # draws the ticks
    panel = fig.axes[0]
    assert (panel.get_xlabel(), panel.get_ylabel()) == ("x", "y")
    ticks = [t for t in panel.get_xticks() if 1 <= t <= 8]
    assert ticks and all(float(t).is_integer() for t in ticks)
