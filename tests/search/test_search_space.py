"""Search-space dimensions: grids at a resolution, zooming, moving outward, validation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keraslab.errors import KeraslabTypeError, KeraslabValueError
from keraslab.search import Categorical, Integer, Real
from keraslab.search.space import as_space


def test_integer_grid_linear_and_log():
    assert Integer(1, 4).grid(3) == [1, 3, 4]  # 2.5 rounds half up
    assert Integer(1, 4).grid(4) == [1, 2, 3, 4]
    assert Integer(1, 4).grid(10) == [1, 2, 3, 4]  # duplicates removed
    assert Integer(20, 600, log=True).grid(3) == [20, 110, 600]
    assert Integer(5, 9).grid(1) == [7]


def test_real_grid_linear_and_log():
    assert Real(0.0, 1.0).grid(5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert Real(1e-4, 1e-2, log=True).grid(3) == [0.0001, 0.001, 0.01]


def test_categorical_grid_ignores_resolution_and_narrows_in_order():
    dim = Categorical(["adam", "adadelta", "sgd"])
    assert dim.grid(1) == ["adam", "adadelta", "sgd"]
    assert dim.narrow(["sgd", "adam"]).grid(3) == ["adam", "sgd"]
    with pytest.raises(KeraslabValueError, match="at least one"):
        dim.narrow(["rmsprop"])


def test_zoom_inside_range_halves_the_width():
    z = Real(0.0, 1.0).zoom(0.5, 0.5)
    assert (z.low, z.high) == (0.25, 0.75)
    assert z.grid(3) == [0.25, 0.5, 0.75]


def test_zoom_is_clipped_at_hard_bounds():
    z = Real(0.0, 1.0).zoom(1.0, 0.5)  # at the upper bound: no room outward, zoom in
    assert (z.low, z.high) == (0.75, 1.0)
    z = Integer(20, 600, log=True).zoom(600, 0.5)
    assert z.grid(3) == [256, 392, 600]


def test_zoom_moves_outward_when_bounds_leave_room():
    # The chapter: best at 170 on neurons 50..170 -> look beyond 170.
    dim = Integer(50, 170, bounds=(1, None))
    assert dim.on_edge(170) == 1
    z = dim.zoom(170, 0.5)
    assert (z.low, z.high) == (110, 230)  # same width, centred on the edge: moved outward
    assert z.grid(3) == [110, 170, 230]
    low = Real(1.0, 2.0, bounds=(0.0, None))
    assert low.on_edge(1.0) == -1 and low.zoom(1.0, 0.5).low == 0.5


def test_integer_zoom_rounds_outward_to_reach_neighbours():
    assert Integer(1, 4).zoom(1, 0.5).grid(3) == [1, 2]
    assert Integer(1, 4).zoom(3, 0.5).grid(3) == [2, 3, 4]
    # Repeated zooming converges on a point and its neighbours, never an empty range.
    d = Integer(1, 100)
    for _ in range(12):
        d = d.zoom(37, 0.5)
    assert d.low <= 37 <= d.high and d.high - d.low <= 2


def test_log_zoom_stays_inside_bounds_despite_round_off():
    d = Real(1e-5, 1e-1, log=True)
    for point in (1e-1, 1e-5, 3e-3):
        z = d.zoom(point, 0.5)
        assert d.bounds[0] <= z.low <= z.high <= d.bounds[1]


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Integer(5, 1), "low <= high"),
        (lambda: Real(0.0, 1.0, log=True), "low > 0"),
        (lambda: Integer(1, 10, bounds=(2, None)), "bounds must contain"),
        (lambda: Categorical([]), "non-empty"),
        (lambda: Categorical(["a", "a"]), "distinct"),
        (lambda: Integer(1, 4).grid(0), "resolution must be a positive integer"),
        (lambda: Real(0, 1).zoom(0.5, 1.5), "zoom factor"),
    ],
)
def test_invalid_dimensions_say_what_is_wrong(make, match):
    with pytest.raises(KeraslabValueError, match=match):
        make()


def test_type_errors_name_the_value():
    with pytest.raises(KeraslabTypeError, match="Received: low='a'"):
        Integer("a", 3)
    with pytest.raises(KeraslabTypeError, match="must be Integer, Real, Categorical"):
        as_space({"C": (0.1, 1.0)})


def test_as_space_turns_lists_into_categoricals():
    space = as_space({"C": Real(0.1, 10), "solver": ["lbfgs", "saga"]})
    assert space["solver"] == Categorical(["lbfgs", "saga"])
    assert isinstance(space["C"], Real)


def test_categorical_keeps_true_and_one_apart():
    assert Categorical([1, True]).grid(1) == [1, True]
    assert Categorical([1, True]).narrow([True]).values == [True]


@settings(max_examples=60, deadline=None)
@given(
    low=st.integers(1, 1000),
    span=st.integers(0, 1000),
    res=st.integers(1, 9),
    log=st.booleans(),
    frac=st.floats(0.0, 1.0),
    zoom=st.floats(0.05, 1.0),
)
def test_grid_and_zoom_stay_inside_bounds(low, span, res, log, frac, zoom):
    d = Integer(low, low + span, log=log)
    g = d.grid(res)
    assert g == sorted(set(g)) and all(low <= v <= low + span for v in g)
    assert len(g) <= res
    point = g[min(len(g) - 1, int(frac * len(g)))]
    z = d.zoom(point, zoom)
    assert low <= z.low <= point <= z.high <= low + span
