"""Cost estimate before a search, progress while it runs."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn.linear_model import LogisticRegression
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV, RandomizedSearchCV

from keraslab.errors import KeraslabTypeError
from keraslab.search import (
    JournaledGridSearchCV,
    MultiResolutionSearchCV,
    ProgressBar,
    Real,
    estimate_search_cost,
)
from keraslab.search.cost import fits_line, format_seconds
from search_helpers import Landscape, classification_data

X, Y = classification_data()

# The chapter's 3 x 3 x 2 grid, on the fake Landscape (best: x=0.3, y=0.7, opt="a": 1.1).
CHAPTER_GRID = {"x": [0.1, 0.3, 0.5], "y": [0.5, 0.7, 0.9], "opt": ["a", "b"]}


def test_the_chapter_line():
    assert fits_line(3, 18) == "Fitting 3 folds for each of 18 candidates, totalling 54 fits"


def test_estimate_for_scikit_learns_own_grid_search():
    cost = estimate_search_cost(GridSearchCV(Landscape(), CHAPTER_GRID, cv=3), X, Y)
    assert (cost.n_candidates, cost.n_splits, cost.n_fits) == (18, 3, 54)
    assert cost.probe_seconds > 0
    assert cost.estimated_seconds == pytest.approx(cost.probe_seconds * 54)
    assert cost.line.startswith("Fitting 3 folds for each of 18 candidates, totalling 54 fits; estimated ")
    assert re.search(r"\(probe fit [\d.]+ s, 1 worker\)$", cost.line)
    assert str(cost) == cost.line


def test_estimate_for_randomized_multires_and_without_probe():
    rs = RandomizedSearchCV(LogisticRegression(), {"C": loguniform(1e-3, 1e3)}, n_iter=7, cv=4, random_state=0)
    cost = estimate_search_cost(rs, X, Y, probe=False)
    assert (cost.n_fits, cost.probe_seconds, cost.estimated_seconds) == (28, None, None)
    assert cost.line == "Fitting 4 folds for each of 7 candidates, totalling 28 fits"
    mr = MultiResolutionSearchCV(Landscape(), {"x": Real(0, 1), "opt": ["a", "b"]}, resolution=5, cv=3)
    assert estimate_search_cost(mr, X, Y, probe=False).n_candidates == 10  # round 1's grid


def test_estimate_spreads_over_workers():
    cost = estimate_search_cost(GridSearchCV(Landscape(), CHAPTER_GRID, cv=3, n_jobs=2), X, Y)
    assert cost.n_workers == 2
    assert cost.estimated_seconds == pytest.approx(cost.probe_seconds * 27)


def test_unsupported_search_is_named():
    halving = HalvingGridSearchCV(LogisticRegression(), {"C": [1.0]})
    with pytest.raises(KeraslabTypeError, match="Received: HalvingGridSearchCV"):
        estimate_search_cost(halving, X, Y)


def test_verbose_search_prints_the_line_with_an_estimate_and_draws_progress(capsys):
    JournaledGridSearchCV(Landscape(), CHAPTER_GRID, cv=3, verbose=1).fit(X, Y)
    out, err = capsys.readouterr()
    assert re.match(
        r"Fitting 3 folds for each of 18 candidates, totalling 54 fits; estimated .+ \(probe fit .+, 1 worker\)\n", out
    )
    assert "54/54 fits" in err and "best 1.1000" in err and "ETA" in err


def test_estimate_false_prints_the_plain_line(capsys):
    MultiResolutionSearchCV(Landscape(), {"x": Real(0, 1)}, rounds=2, cv=3, verbose=1, estimate=False).fit(X, Y)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Round 1: Fitting 3 folds for each of 3 candidates, totalling 9 fits"
    assert out[1].startswith("Round 2: Fitting 3 folds for each of")


def test_silent_by_default(capsys):
    MultiResolutionSearchCV(Landscape(), {"x": Real(0, 1)}, rounds=2, cv=3).fit(X, Y)
    assert capsys.readouterr() == ("", "")


def test_progress_bar_counts_eta_and_best():
    stream = io.StringIO()
    bar = ProgressBar(4, stream=stream)
    bar.advance(best=0.5)
    bar.advance(best=0.7)
    bar.advance(best=0.6, reused=True)
    assert (bar.done, bar.computed, bar.best) == (3, 2, 0.7)
    assert np.isfinite(bar.eta_seconds())
    bar.add(4)
    assert bar.total == 8 and "3/8 fits" in bar.text() and "best 0.7000" in bar.text()
    lines = stream.getvalue().splitlines()  # not a terminal: one line per tenth, no \r
    assert lines and all("\r" not in line for line in lines)
    silent = io.StringIO()
    ProgressBar(2, stream=silent, enabled=False).advance(best=1.0)
    assert silent.getvalue() == ""


@pytest.mark.parametrize("seconds, text", [(0.42, "0.42 s"), (4.25, "4.2 s"), (42, "42 s"),
                                           (185, "3 min 05 s"), (7620, "2 h 07 min")])
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text
