"""Checks of an [explore] table that its keys' own type checks cannot see.

Split from :mod:`keraslab.experiments.spec` (kept under 600 lines): the sweep's
parameter, the searched parameters' names and values, the search-space kinds'
settings. Each check receives the spec's checker ``c`` and raises ``c.fail(...)``,
which names the key, the file and the line.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Mapping

from keraslab.errors import KeraslabValueError

__all__ = ["SPACE_KINDS", "check_explore"]

#: Kinds whose [explore.params] may hold numeric ranges ({ int = [1, 4] }), not only lists.
SPACE_KINDS = ("multires", "halving", "optuna")


def check_explore(c: Any, e: dict[str, Any], func: Callable[..., Any], params: Mapping[str, Any]) -> None:
    kind = e["kind"]
    if kind == "sweep":
        if not e["parameter"] or "." not in e["parameter"]:
            raise c.fail("A sweep names the parameter it changes, e.g. parameter = \"train.batch_size\". "
                         f"Received: parameter={e['parameter']!r}", "explore", "parameter")
        if not e["values"]:
            raise c.fail("A sweep needs a non-empty list of values. Received: values=[]", "explore", "values")
        table = e["parameter"].split(".", 1)[0]
        if table not in ("data", "model", "train"):
            raise c.fail("A sweep changes a data, model or train setting. "
                         f"Received: parameter={e['parameter']!r}", "explore", "parameter")
        missing = [v for v in e["curves"] if v not in e["values"]]
        if missing:
            raise c.fail(f"explore.curves must be a subset of explore.values. Received: curves={e['curves']!r}",
                         "explore", "curves")
    if kind in SPACE_KINDS:
        _check_space_kind(c, e)
    if kind in ("grid", "random") + SPACE_KINDS:
        if not e["params"]:
            raise c.fail(f"A {kind} search needs [explore.params], e.g. \"model.number_of_layers\" = [2, 3, 4].",
                         "explore", "params")
        accepted = set(inspect.signature(func).parameters) if callable(func) else set()
        for key, values in e["params"].items():
            table, _, name = key.partition(".")
            if table not in ("model", "train") or not name:
                raise c.fail("Search parameters are written \"model.<build parameter>\" or \"train.<epochs|batch_size|"
                             f"optimizer|learning_rate>\". Received: {key!r}", "explore.params", key)
            if table == "model" and accepted and name not in accepted:
                raise c.fail(f"{key} is not a parameter of the build function. Received: {key!r}",
                             "explore.params", key)
            if table == "train" and name not in ("epochs", "batch_size", "optimizer", "learning_rate"):
                raise c.fail(f"Only train.epochs, batch_size, optimizer and learning_rate can be searched. "
                             f"Received: {key!r}", "explore.params", key)
            if kind in SPACE_KINDS:
                _check_dimension(c, key, values)
            elif not isinstance(values, list) or not values:
                raise c.fail(f"explore.params {key} must be a non-empty list of values. Received: {values!r}",
                             "explore.params", key)
    if e["backend"] == "dask" and not e["dask_scheduler"]:
        raise c.fail('backend = "dask" needs dask_scheduler = "tcp://host:8786" (a running scheduler). '
                     "Received: dask_scheduler=''", "explore", "backend")


def _check_dimension(c: Any, key: str, value: Any) -> None:
    from keraslab.experiments.spaces import dimension_from_toml

    try:
        dimension_from_toml(value)
    except KeraslabValueError as exc:
        raise c.fail(f"explore.params {key}: {exc}", "explore.params", key) from None


def _check_space_kind(c: Any, e: dict[str, Any]) -> None:
    """Settings of the coarse-to-fine, halving and Optuna kinds that each key's own check cannot see."""
    if e["kind"] == "optuna" and e["scaler"] != "none":
        raise c.fail('kind = "optuna" prunes per epoch through partial_fit, which a scaler pipeline does not offer; '
                     f'scale in [data] (scaling = "minmax") instead. Received: scaler={e["scaler"]!r}',
                     "explore", "scaler")
    if e["subsets"]:
        from keraslab.search.subsets import check_fractions

        if not all(isinstance(f, (int, float)) and not isinstance(f, bool) for f in e["subsets"]):
            raise c.fail(f"explore.subsets must be fractions such as [0.1, 0.3, 1.0]. Received: subsets={e['subsets']!r}",
                         "explore", "subsets")
        try:
            check_fractions([float(f) for f in e["subsets"]])
        except ValueError as exc:
            raise c.fail(f"explore.{exc}", "explore", "subsets") from None
        if e["rounds"] < len(e["subsets"]):
            raise c.fail(f"explore.rounds must be at least the number of subsets ({len(e['subsets'])}). "
                         f"Received: rounds={e['rounds']}", "explore", "rounds")
