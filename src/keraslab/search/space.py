"""Search-space dimensions: ``Integer``, ``Real`` and ``Categorical``.

A dimension knows two things a coarse-to-fine search needs: how to lay a grid of a
given resolution over its range (:meth:`grid`), and how to zoom in around a point
(:meth:`zoom`), moving outward instead when the point sits on an edge of the range
and the dimension's hard ``bounds`` leave room. Numeric dimensions work in log
space when ``log=True`` (learning rates, layer widths), so "halfway" between 20 and
600 neurons is 110, not 310.

Examples
--------
>>> from keraslab.search import Integer, Real, Categorical
>>> Integer(20, 600, log=True).grid(3)
[20, 110, 600]
>>> Real(0.0, 1.0).zoom(0.5, 0.5).grid(3)
[0.25, 0.5, 0.75]
>>> Categorical(["adam", "adadelta"]).grid(3)
['adam', 'adadelta']
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, Union

import numpy as np

from keraslab.errors import KeraslabTypeError, KeraslabValueError

__all__ = ["Categorical", "Dimension", "Integer", "Real", "as_space"]

# Relative tolerance when deciding that a point lies on an edge of a range.
_EDGE_TOL = 1e-9


class Dimension:
    """Base class of the search-space dimensions (see :class:`Integer`, :class:`Real`,
    :class:`Categorical`)."""

    def grid(self, resolution: int) -> list:  # pragma: no cover - abstract
        raise NotImplementedError

    def contains(self, value: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError


class _Numeric(Dimension):
    """A numeric range ``[low, high]`` inside hard ``bounds``, linear or log-spaced."""

    _kind = "numeric"

    def __init__(
        self,
        low: float,
        high: float,
        log: bool = False,
        *,
        bounds: tuple[float | None, float | None] | None = None,
    ) -> None:
        name = type(self).__name__
        for label, value in (("low", low), ("high", high)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise KeraslabTypeError(
                    f"{name} {label} must be a finite number. Received: {label}={value!r}"
                )
        if low > high:
            raise KeraslabValueError(
                f"{name} needs low <= high; swap them. Received: low={low!r}, high={high!r}"
            )
        if log and low <= 0:
            raise KeraslabValueError(
                f"{name}(log=True) needs low > 0 because the grid is spaced in log space. "
                f"Received: low={low!r}"
            )
        if bounds is None:
            bounds = (low, high)
        if not (isinstance(bounds, Sequence) and len(bounds) == 2):
            raise KeraslabTypeError(
                f"{name} bounds must be a pair (lower, upper); use None for no limit. "
                f"Received: bounds={bounds!r}"
            )
        lo_b, hi_b = bounds
        if (lo_b is not None and lo_b > low) or (hi_b is not None and hi_b < high):
            raise KeraslabValueError(
                f"{name} bounds must contain [low, high]={[low, high]}. Received: bounds={bounds!r}"
            )
        if log and lo_b is not None and lo_b <= 0:
            raise KeraslabValueError(
                f"{name}(log=True) needs a positive lower bound. Received: bounds={bounds!r}"
            )
        self.low = low
        self.high = high
        self.log = bool(log)
        self.bounds = (lo_b, hi_b)

    # -- coordinates: the grid is evenly spaced in "t" (log(x) when log=True) --
    def _t(self, x: float) -> float:
        return math.log(x) if self.log else float(x)

    def _x(self, t: float) -> float:
        return math.exp(t) if self.log else t

    def _cast(self, x: float) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _t_bounds(self) -> tuple[float, float]:
        lo, hi = self.bounds
        t_lo = -math.inf if lo is None else self._t(lo)
        t_hi = math.inf if hi is None else self._t(hi)
        return t_lo, t_hi

    def grid(self, resolution: int) -> list:
        """``resolution`` points evenly spaced (in log space when ``log=True``) from
        ``low`` to ``high``, cast to the dimension's type, duplicates removed.

        Parameters
        ----------
        resolution : int
            Number of points (at least 1; 1 gives the midpoint).

        Returns
        -------
        list
            Sorted values.
        """
        resolution = _check_resolution(resolution)
        t0, t1 = self._t(self.low), self._t(self.high)
        if resolution == 1 or t0 == t1:
            ts = [(t0 + t1) / 2.0]
        else:
            ts = list(np.linspace(t0, t1, resolution))
        out: list = []
        for t in ts:
            v = self._cast(self._x(float(t)))
            v = min(max(v, self._cast_in(self.low)), self._cast_in(self.high))
            if v not in out:
                out.append(v)
        return sorted(out)

    def _cast_in(self, x: float) -> Any:
        return self._cast(x)

    def width(self) -> float:
        """Width of ``[low, high]`` in grid coordinates (log units when ``log=True``)."""
        return self._t(self.high) - self._t(self.low)

    def on_edge(self, point: float) -> int:
        """-1 when ``point`` is at ``low`` and the bounds leave room below, +1 at ``high``
        with room above, 0 otherwise (inside, or pinned at a hard bound)."""
        t, t0, t1 = self._t(point), self._t(self.low), self._t(self.high)
        tol = _EDGE_TOL * max(1.0, abs(t0), abs(t1))
        b0, b1 = self._t_bounds()
        if t1 - t0 <= tol:
            return 0
        if abs(t - t1) <= tol and t1 + tol < b1:
            return 1
        if abs(t - t0) <= tol and t0 - tol > b0:
            return -1
        return 0

    def zoom(self, point: float, factor: float) -> "_Numeric":
        """A narrower range of the same kind centred on ``point``.

        The new width is ``factor`` times the current width (in log units when
        ``log=True``), clipped to the hard ``bounds``. When ``point`` sits on an edge
        of the current range and the bounds leave room beyond it, the range keeps its
        width and is centred on ``point`` instead: the search moves outward, as the
        chapter moves from neurons 50-170 to 180-580 once 170 came out best.

        Parameters
        ----------
        point : number
            The centre, usually a leading candidate's value.
        factor : float
            Zoom factor in (0, 1].

        Returns
        -------
        Integer or Real
            The zoomed dimension (same ``log`` and ``bounds``).
        """
        if not (isinstance(factor, numbers.Real) and 0 < factor <= 1):
            raise KeraslabValueError(f"zoom factor must be in (0, 1]. Received: factor={factor!r}")
        if not isinstance(point, numbers.Real) or isinstance(point, bool):
            raise KeraslabTypeError(
                f"{type(self).__name__}.zoom needs a numeric point. Received: point={point!r}"
            )
        width = self.width()
        if self.on_edge(point) == 0:
            width *= factor
        t = self._t(point)
        b0, b1 = self._t_bounds()
        t0, t1 = max(t - width / 2.0, b0), min(t + width / 2.0, b1)
        return self._like(self._x(t0), self._x(t1))

    def _like(self, low: float, high: float) -> "_Numeric":
        lo_b, hi_b = self.bounds
        # exp(log(x)) is not always x: clamp so round-off never leaves the bounds.
        low = low if lo_b is None else max(low, lo_b)
        high = high if hi_b is None else min(high, hi_b)
        return type(self)(low, max(low, high), self.log, bounds=self.bounds)

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a number inside the hard bounds."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        lo, hi = self.bounds
        return (lo is None or value >= lo) and (hi is None or value <= hi)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and (
            (self.low, self.high, self.log, self.bounds)
            == (other.low, other.high, other.log, other.bounds)  # type: ignore[attr-defined]
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.low, self.high, self.log, self.bounds))

    def __repr__(self) -> str:
        extra = ", log=True" if self.log else ""
        if self.bounds != (self.low, self.high):
            extra += f", bounds={self.bounds!r}"
        return f"{type(self).__name__}({self.low!r}, {self.high!r}{extra})"


class Integer(_Numeric):
    """Integers from ``low`` to ``high`` (inclusive).

    Parameters
    ----------
    low, high : int
        The range the first, coarse grid covers.
    log : bool, default=False
        Space grid points evenly in log space (needs ``low > 0``).
    bounds : (int or None, int or None), optional
        Hard limits a search may move out to when the best value sits on an edge of
        the range; ``None`` for no limit on that side. Default: ``(low, high)``, i.e.
        the search never leaves the range.

    Examples
    --------
    >>> Integer(1, 4).grid(3)
    [1, 3, 4]
    >>> Integer(1, 4).zoom(1, 0.5).grid(3)
    [1, 2]
    >>> Integer(50, 170, bounds=(1, None)).zoom(170, 0.5).grid(3)
    [110, 170, 230]
    """

    def __init__(
        self,
        low: int,
        high: int,
        log: bool = False,
        *,
        bounds: tuple[int | None, int | None] | None = None,
    ) -> None:
        super().__init__(low, high, log, bounds=bounds)

    def _cast(self, x: float) -> int:
        # Round half up (not Python's banker's rounding) so grids are predictable.
        return int(math.floor(x + 0.5))

    def _like(self, low: float, high: float) -> "Integer":
        # Round outward so a zoomed window always reaches the nearest integer
        # neighbours: zooming on 1 in [1, 4] gives [1, 2], not the useless [1, 1].
        lo_i, hi_i = int(math.floor(low + 1e-9)), int(math.ceil(high - 1e-9))
        lo_b, hi_b = self.bounds
        lo_i = lo_i if lo_b is None else max(lo_i, int(math.ceil(lo_b)))
        hi_i = hi_i if hi_b is None else min(hi_i, int(math.floor(hi_b)))
        if self.log:
            lo_i = max(lo_i, 1)
        return Integer(lo_i, hi_i, self.log, bounds=self.bounds)


class Real(_Numeric):
    """Real numbers from ``low`` to ``high``.

    Parameters
    ----------
    low, high : float
        The range the first, coarse grid covers.
    log : bool, default=False
        Space grid points evenly in log space (needs ``low > 0``).
    bounds : (float or None, float or None), optional
        Hard limits a search may move out to (``None``: no limit on that side).
        Default: ``(low, high)``.

    Examples
    --------
    >>> Real(1e-4, 1e-2, log=True).grid(3)
    [0.0001, 0.001, 0.01]
    """

    def _cast(self, x: float) -> float:
        # Round to 12 significant digits so log-space grids give 0.001, not 0.0009999999.
        return float(f"{x:.12g}")


class Categorical(Dimension):
    """An unordered set of values (strings, numbers, None, objects).

    A plain list in a parameter space means ``Categorical(list)``.

    Parameters
    ----------
    values : sequence
        The choices, in the order grids list them. Must be non-empty and distinct.

    Examples
    --------
    >>> Categorical(["adam", "adadelta"]).narrow(["adam"]).grid(3)
    ['adam']
    """

    def __init__(self, values: Sequence) -> None:
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
            raise KeraslabValueError(
                f"Categorical needs a non-empty list of values. Received: values={values!r}"
            )
        values = list(values)
        for i, v in enumerate(values):
            if any(_same(v, w) for w in values[:i]):
                raise KeraslabValueError(
                    f"Categorical values must be distinct. Received: values={values!r}"
                )
        self.values = values

    def grid(self, resolution: int) -> list:
        """All values (the resolution does not apply to categories)."""
        _check_resolution(resolution)
        return list(self.values)

    def narrow(self, keep: Sequence) -> "Categorical":
        """The values that survive, in the original order (at least one)."""
        kept = [v for v in self.values if any(_same(v, k) for k in keep)]
        if not kept:
            raise KeraslabValueError(
                f"Categorical.narrow must keep at least one of {self.values!r}. Received: keep={list(keep)!r}"
            )
        return Categorical(kept)

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is one of the values."""
        return any(_same(value, v) for v in self.values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Categorical) and len(self.values) == len(other.values) and all(
            _same(a, b) for a, b in zip(self.values, other.values)
        )

    def __hash__(self) -> int:
        return hash(("Categorical", len(self.values)))

    def __repr__(self) -> str:
        return f"Categorical({self.values!r})"


def _same(a: Any, b: Any) -> bool:
    """Equality that treats 1 and True (and 1 and 1.0) as different choices."""
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except Exception:  # objects whose == is odd (arrays): fall back to identity
        return a is b


def _check_resolution(resolution: int) -> int:
    if isinstance(resolution, bool) or not isinstance(resolution, numbers.Integral) or resolution < 1:
        raise KeraslabValueError(
            f"resolution must be a positive integer (points per numeric dimension). "
            f"Received: resolution={resolution!r}"
        )
    return int(resolution)


SpaceLike = Mapping[str, Union[Dimension, list]]


def as_space(param_space: SpaceLike) -> dict[str, Dimension]:
    """Check a parameter space and turn plain lists into :class:`Categorical`.

    Parameters
    ----------
    param_space : dict
        Parameter name -> :class:`Integer`, :class:`Real`, :class:`Categorical` or list.

    Returns
    -------
    dict
        Name -> dimension, in the given order.

    Examples
    --------
    >>> as_space({"C": Real(0.01, 100, log=True), "penalty": ["l2"]})["penalty"]
    Categorical(['l2'])
    """
    if not isinstance(param_space, Mapping) or not param_space:
        raise KeraslabTypeError(
            "param_space must be a non-empty dict of name -> Integer/Real/Categorical/list. "
            f"Received: param_space={param_space!r}"
        )
    space: dict[str, Dimension] = {}
    for name, dim in param_space.items():
        if not isinstance(name, str):
            raise KeraslabTypeError(f"param_space keys must be parameter names. Received: {name!r}")
        if isinstance(dim, list):
            dim = Categorical(dim)
        if not isinstance(dim, Dimension):
            raise KeraslabTypeError(
                f"param_space[{name!r}] must be Integer, Real, Categorical or a list of values "
                f"(tuples, ranges and distributions are not accepted). Received: {dim!r}"
            )
        space[name] = dim
    return space
