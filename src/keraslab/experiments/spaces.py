"""Search spaces written in TOML: ``{ int = [1, 4] }``, ``{ real = [1e-4, 1e-1], log = true }``, lists.

=====================================================  =======================================
TOML value                                             dimension
=====================================================  =======================================
``["adam", "adadelta"]``                               ``Categorical(["adam", "adadelta"])``
``{ int = [1, 4] }``                                   ``Integer(1, 4)``
``{ int = [20, 600], log = true, bounds = [1, 2000] }``  ``Integer(20, 600, log=True, bounds=(1, 2000))``
``{ real = [1e-4, 1e-1], log = true }``                ``Real(1e-4, 1e-1, log=True)``
=====================================================  =======================================

``bounds`` are the hard limits a coarse-to-fine search may move out to when the best
value sits on an edge; ``bounds = [1, "none"]`` leaves the upper side open (TOML has
no null). Without ``bounds`` the search stays inside the range.

Examples
--------
>>> dimension_from_toml({"int": [20, 40], "bounds": [1, 2000]})
Integer(20, 40, bounds=(1, 2000))
>>> dimension_from_toml(["adam", "adadelta"])
Categorical(['adam', 'adadelta'])
"""

from __future__ import annotations

import numbers
from typing import Any, Mapping

from keraslab.errors import KeraslabValueError
from keraslab.search.space import Categorical, Dimension, Integer, Real

__all__ = ["dimension_from_toml", "space_from_toml"]

_KEYS = {"int", "real", "log", "bounds"}


def _number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def dimension_from_toml(value: Any) -> Dimension:
    """One dimension from its TOML form (see the module docstring).

    Raises
    ------
    KeraslabValueError
        An empty list, an unknown key, a range that is not two numbers, ``low > high``,
        ``log`` with a non-positive bound; the message says which and what was received.
    """
    if isinstance(value, list):
        if not value:
            raise KeraslabValueError("a categorical dimension needs at least one value. Received: []")
        return Categorical(value)
    if not isinstance(value, Mapping):
        raise KeraslabValueError(
            "a dimension is a list of values or a table such as { int = [1, 4] } or "
            f"{{ real = [1e-4, 1e-1], log = true }}. Received: {value!r}"
        )
    unknown = sorted(set(value) - _KEYS)
    kinds = [k for k in ("int", "real") if k in value]
    if unknown or len(kinds) != 1:
        raise KeraslabValueError(
            "a numeric dimension has exactly one of int = [low, high] or real = [low, high], and optionally "
            f"log = true and bounds = [lower, upper]. Received: {dict(value)!r}"
        )
    kind = kinds[0]
    span = value[kind]
    if not (isinstance(span, list) and len(span) == 2 and all(_number(v) for v in span)):
        raise KeraslabValueError(f"{kind} must be [low, high], two numbers. Received: {kind}={span!r}")
    if kind == "int" and not all(float(v).is_integer() for v in span):
        raise KeraslabValueError(f"int = [low, high] needs whole numbers; use real for fractions. Received: {span!r}")
    log = value.get("log", False)
    if not isinstance(log, bool):
        raise KeraslabValueError(f"log must be true or false. Received: log={log!r}")
    bounds = value.get("bounds")
    if bounds is not None:
        if not (isinstance(bounds, list) and len(bounds) == 2
                and all(_number(b) or b == "none" for b in bounds)):
            raise KeraslabValueError(
                f'bounds must be [lower, upper], numbers or "none" for no limit. Received: bounds={bounds!r}'
            )
        bounds = tuple(None if b == "none" else b for b in bounds)
    try:
        if kind == "int":
            return Integer(int(span[0]), int(span[1]), log, bounds=bounds)
        return Real(float(span[0]), float(span[1]), log, bounds=bounds)
    except (ValueError, TypeError) as exc:
        raise KeraslabValueError(str(exc)) from None


def space_from_toml(params: Mapping[str, Any]) -> dict[str, Dimension]:
    """``{name: TOML value}`` -> ``{name: Dimension}``, in the given order.

    Raises
    ------
    KeraslabValueError
        Naming the first bad dimension: ``"model.neurons_per_layer: ..."``.
    """
    out = {}
    for name, value in params.items():
        try:
            out[name] = dimension_from_toml(value)
        except KeraslabValueError as exc:
            raise KeraslabValueError(f"{name}: {exc}") from None
    return out
