"""The ``[explore]`` table as a pydantic model: a sweep, cross-validation or search.

Its keys' types, defaults and ranges are the fields; the rules between keys (a sweep's
parameter and values, the searched parameters' names and value lists or ranges, the
search-space kinds' settings) are its validator. Whether ``model.<name>`` is a parameter
of the build function is checked by the whole file (:class:`keraslab.experiments.spec.SpecFile`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from keraslab.errors import KeraslabValueError
from keraslab.experiments.schema import Table, fail

__all__ = ["SPACE_KINDS", "ExploreSpec"]

#: Kinds whose [explore.params] may hold numeric ranges ({ int = [1, 4] }), not only lists.
SPACE_KINDS = ("multires", "halving", "optuna")
_SEARCHABLE_TRAIN = ("epochs", "batch_size", "optimizer", "learning_rate")


class ExploreSpec(Table):
    """A sweep, cross-validation or search around the base experiment (see :mod:`keraslab.experiments.spaces`)."""

    kind: Literal["sweep", "cv", "grid", "random", "multires", "halving", "optuna"] = "sweep"
    parameter: str = ""
    values: list[Any] = []
    curves: list[Any] = []
    folds: int = Field(5, ge=2)
    stratified: bool = True
    shuffle: bool = True
    random_state: int = 42
    scaler: Literal["none", "minmax", "standard"] = "none"
    params: dict[str, Any] = {}
    n_iter: int = Field(10, gt=0)
    scoring: str = ""
    # coarse-to-fine (multires)
    resolution: int = Field(3, gt=0)
    rounds: int = Field(4, gt=0)
    zoom: float = Field(0.5, gt=0, le=1)
    keep: Any = "one-se"
    subsets: list[Any] = []
    # successive halving
    resource: Literal["epochs", "n_samples"] = "epochs"
    factor: float = Field(3.0, gt=1)
    min_resource: int = Field(0, ge=0)
    # optuna
    n_trials: int = Field(20, gt=0)
    storage: str = ""
    # where fits run
    n_jobs: int = 1
    backend: Literal["loky", "dask"] = "loky"
    dask_scheduler: str = ""

    @field_validator("keep")
    @classmethod
    def _keep(cls, value: Any) -> Any:
        if value in ("one-se", "best") or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            return value
        raise ValueError('"one-se", "best" or an integer >= 1')

    @field_validator("n_jobs")
    @classmethod
    def _n_jobs(cls, value: int) -> int:
        if value >= 1 or value == -1:
            return value
        raise ValueError("a positive integer or -1")

    @model_validator(mode="after")
    def _settings(self) -> "ExploreSpec":
        if self.kind == "sweep":
            self._check_sweep()
        if self.kind in SPACE_KINDS:
            self._check_space_kind()
        if self.kind in ("grid", "random") + SPACE_KINDS:
            self._check_params()
        if self.backend == "dask" and not self.dask_scheduler:
            raise fail("backend", 'backend = "dask" needs dask_scheduler = "tcp://host:8786" (a running scheduler). '
                                  "Received: dask_scheduler=''")
        return self

    def _check_sweep(self) -> None:
        if not self.parameter or "." not in self.parameter:
            raise fail("parameter", "A sweep names the parameter it changes, e.g. parameter = \"train.batch_size\". "
                                    f"Received: parameter={self.parameter!r}")
        if not self.values:
            raise fail("values", "A sweep needs a non-empty list of values. Received: values=[]")
        if self.parameter.split(".", 1)[0] not in ("data", "model", "train"):
            raise fail("parameter", f"A sweep changes a data, model or train setting. Received: parameter={self.parameter!r}")
        if any(v not in self.values for v in self.curves):
            raise fail("curves", f"explore.curves must be a subset of explore.values. Received: curves={self.curves!r}")

    def _check_params(self) -> None:
        from keraslab.experiments.spaces import dimension_from_toml

        if not self.params:
            raise fail("params", f"A {self.kind} search needs [explore.params], e.g. \"model.number_of_layers\" = [2, 3, 4].")
        for key, values in self.params.items():
            table, _, name = key.partition(".")
            where = ("params", key)
            if table not in ("model", "train") or not name:
                raise fail(where, "Search parameters are written \"model.<build parameter>\" or \"train.<epochs|"
                                  f"batch_size|optimizer|learning_rate>\". Received: {key!r}")
            if table == "train" and name not in _SEARCHABLE_TRAIN:
                raise fail(where, f"Only train.epochs, batch_size, optimizer and learning_rate can be searched. "
                                  f"Received: {key!r}")
            if self.kind in SPACE_KINDS:
                try:
                    dimension_from_toml(values)
                except KeraslabValueError as exc:
                    raise fail(where, f"explore.params {key}: {exc}") from None
            elif not isinstance(values, list) or not values:
                raise fail(where, f"explore.params {key} must be a non-empty list of values. Received: {values!r}")

    def _check_space_kind(self) -> None:
        """Settings of the coarse-to-fine, halving and Optuna kinds that each key's own check cannot see."""
        if self.kind == "optuna" and self.scaler != "none":
            raise fail("scaler", 'kind = "optuna" prunes per epoch through partial_fit, which a scaler pipeline does '
                                 f'not offer; scale in [data] (scaling = "minmax") instead. Received: scaler={self.scaler!r}')
        if not self.subsets:
            return
        from keraslab.search.subsets import check_fractions

        if not all(isinstance(f, (int, float)) and not isinstance(f, bool) for f in self.subsets):
            raise fail("subsets", f"explore.subsets must be fractions such as [0.1, 0.3, 1.0]. "
                                  f"Received: subsets={self.subsets!r}")
        try:
            check_fractions([float(f) for f in self.subsets])
        except ValueError as exc:
            raise fail("subsets", f"explore.{exc}") from None
        if self.rounds < len(self.subsets):
            raise fail("rounds", f"explore.rounds must be at least the number of subsets ({len(self.subsets)}). "
                                 f"Received: rounds={self.rounds}")
