"""ExperimentSpec: one experiment described in a TOML file, validated by the pydantic models of
:mod:`keraslab.experiments.schema` and :mod:`keraslab.experiments.explore_checks`.

A spec has up to six tables::

    [experiment]   name, title, figures, description
    [data]         dataset, layout, scaling, subset, validation, window... (+ [data.options], [data.augment])
    [model]        build = "keraslab.zoo.dense:make_model" plus that function's parameters
    [train]        epochs, batch_size, optimizer, learning_rate, shuffle, stateful (+ [train.early_stopping])
    [explore]      kind = "sweep" | "cv" | "grid" | "random" | "multires" | "halving" | "optuna"
                   and its settings (+ [explore.params]; see keraslab.experiments.spaces)
    [reference]    the chapter's reported numbers, e.g. val_acc = 0.9939

Every key is checked: an unknown key, a wrong type, an unknown build function or
build parameter is a :class:`SpecError` naming the key and the file and line.
``--set train.epochs=5`` style overrides are applied before validation, so they are
checked the same way.

Examples
--------
>>> spec = spec_from_dict({"model": {"build": "keraslab.zoo.dense:make_model"}}, name="tiny")
>>> spec.kind, spec.train.epochs, spec.data.dataset
('train', 100, 'mnist')
>>> spec.with_overrides(["train.epochs=5"]).train.epochs
5
"""

from __future__ import annotations

import copy
import difflib
import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

from pydantic import ConfigDict, ValidationError, create_model, field_validator, model_validator

from keraslab.experiments.explore_checks import SPACE_KINDS, ExploreSpec
from keraslab.experiments.schema import (DATASETS, REFERENCE_KEYS, DataSpec, ExperimentTable, ModelSpec, SpecError,
                                         Table, TrainSpec, fail, resolve_build)
from keraslab.experiments.tomlio import dumps_toml, line_of, tomllib

__all__ = [
    "SpecError", "DataSpec", "ModelSpec", "TrainSpec", "ExploreSpec", "ExperimentSpec", "SpecFile", "load_spec",
    "spec_from_dict", "parse_override", "resolve_build", "DATASETS", "REFERENCE_KEYS",
]

Reference = create_model("Reference", __base__=Table, **{key: (Any, None) for key in REFERENCE_KEYS})


class SpecFile(Table):
    """A whole spec file; ``[model]``'s keys other than ``build`` are the build function's parameters."""

    model_config = ConfigDict(validate_default=True)

    experiment: ExperimentTable = {}  # type: ignore[assignment]  (validated: the name is required)
    data: DataSpec = {}  # type: ignore[assignment]
    model: ModelSpec = {}  # type: ignore[assignment]
    train: TrainSpec = {}  # type: ignore[assignment]
    explore: Optional[ExploreSpec] = None
    reference: Reference = {}  # type: ignore[valid-type]

    @field_validator("model", mode="before")
    @classmethod
    def _build_and_params(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        if "build" not in raw:
            raise fail((), '[model] needs build = "module:function", e.g. "keraslab.zoo.dense:make_model".')
        return {"build": raw["build"], "params": {k: v for k, v in raw.items() if k != "build"}}

    @model_validator(mode="after")
    def _searched_params_exist(self) -> "SpecFile":
        if self.explore is None or self.explore.kind not in ("grid", "random") + SPACE_KINDS:
            return self
        accepted = set(inspect.signature(self.model.function()).parameters)
        for key in self.explore.params:
            if key.startswith("model.") and key.split(".", 1)[1] not in accepted:
                raise fail(("explore", "params", key),
                           f"{key} is not a parameter of the build function. Received: {key!r}")
        return self


@dataclass(frozen=True)
class ExperimentSpec:
    """A validated experiment. ``raw`` is the effective TOML content (after overrides)."""

    name: str
    title: str
    figures: list[str]
    description: str
    data: DataSpec
    model: ModelSpec
    train: TrainSpec
    explore: ExploreSpec | None
    reference: dict[str, Any]
    raw: dict[str, Any]
    source: str | None = None
    overrides: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        """``"train"`` for a single training, else the explore kind."""
        return self.explore.kind if self.explore is not None else "train"

    def with_overrides(self, overrides: Iterable[str]) -> "ExperimentSpec":
        """A new spec with ``section.key=value`` settings applied and validated again."""
        overrides = tuple(overrides)
        raw = copy.deepcopy(self.raw)
        for item in overrides:
            key, value = parse_override(item)
            _assign(raw, key, value, source=self.source)
        return _validate(raw, source=self.source, text=None, overrides=self.overrides + overrides)

    def with_value(self, key: str, value: Any) -> "ExperimentSpec":
        """A new spec with one dotted key set to a Python value (used by sweeps)."""
        raw = copy.deepcopy(self.raw)
        _assign(raw, key, value, source=self.source)
        return _validate(raw, source=self.source, text=None, overrides=self.overrides)

    def to_toml(self) -> str:
        """The effective spec as TOML text (what the store and the report show)."""
        return dumps_toml(self.raw)


# --------------------------------------------------------------------------- loading
def load_spec(path: str | Path, overrides: Iterable[str] = ()) -> ExperimentSpec:
    """Read, override and validate a spec file.

    Parameters
    ----------
    path : str or Path
        A ``.toml`` file.
    overrides : iterable of str
        ``"section.key=value"`` settings, e.g. ``"train.epochs=5"``; values are read
        as TOML (``5``, ``0.01``, ``true``, ``[1, 2]``) or else taken as text.

    Examples
    --------
    >>> from keraslab.experiments.catalog import catalog_path
    >>> load_spec(catalog_path("b3-32-pooling-cnn"), ["train.epochs=1"]).train.epochs
    1
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"Cannot read the spec file ({exc.strerror}). Received: path={str(p)!r}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"not valid TOML: {exc}", source=str(p)) from None
    raw.setdefault("experiment", {})
    if isinstance(raw["experiment"], dict):
        raw["experiment"].setdefault("name", p.stem)
    overrides = tuple(overrides)
    for item in overrides:
        key, value = parse_override(item)
        _assign(raw, key, value, source=str(p))
    return _validate(raw, source=str(p), text=text, overrides=overrides)


def spec_from_dict(raw: Mapping[str, Any], *, name: str | None = None) -> ExperimentSpec:
    """Validate a spec given as a dict (the TOML tables as nested dicts).

    Examples
    --------
    >>> spec_from_dict({"model": {"build": "keraslab.zoo.dense:make_model"}, "explore": {"kind": "cv"}}, name="cv").kind
    'cv'
    """
    data = copy.deepcopy(dict(raw))
    data.setdefault("experiment", {})
    if name is not None:
        data["experiment"]["name"] = name
    return _validate(data, source=None, text=None, overrides=())


def parse_override(item: str) -> tuple[str, Any]:
    """Split ``"train.epochs=5"`` into ``("train.epochs", 5)``; TOML values, else text.

    Examples
    --------
    >>> parse_override("data.dataset=digits"), parse_override("explore.values=[8, 64]")
    (('data.dataset', 'digits'), ('explore.values', [8, 64]))
    """
    if "=" not in item:
        raise SpecError(f"An override is written section.key=value, e.g. train.epochs=5. Received: {item!r}")
    key, text = (s.strip() for s in item.split("=", 1))
    if not re.fullmatch(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)+", key):
        raise SpecError(
            f"An override key names a table and a key, e.g. train.epochs or model.neurons_per_layer. Received: {key!r}"
        )
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text  # bare words such as digits or adam
    return key, value


def _assign(raw: dict[str, Any], key: str, value: Any, *, source: str | None) -> None:
    parts = key.split(".")
    node = raw
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise SpecError(f"{'.'.join(parts[:-1])} is not a table, so {key} cannot be set.", source=source)
        node = child
    node[parts[-1]] = value


# --------------------------------------------------------------------------- validation
def _validate(raw: dict[str, Any], *, source: str | None, text: str | None, overrides: tuple[str, ...]) -> ExperimentSpec:
    try:
        spec = SpecFile.model_validate(raw)
    except ValidationError as exc:
        raise _spec_error(exc.errors()[0], source, text) from None
    experiment = spec.experiment
    return ExperimentSpec(
        name=experiment.name,
        title=experiment.title or experiment.name,
        figures=[str(f) for f in experiment.figures],
        description=experiment.description,
        data=spec.data,
        model=spec.model,
        train=spec.train,
        explore=spec.explore,
        reference=spec.reference.model_dump(exclude_unset=True),
        raw=copy.deepcopy(raw),
        source=source,
        overrides=overrides,
    )


def _spec_error(error: Mapping[str, Any], source: str | None, text: str | None) -> SpecError:
    """pydantic's first error as "<file>, line N: <key> must be <expected>. Received: ..."."""
    ctx = error.get("ctx") or {}
    if error["type"] != "spec":  # not explained by a table (a bug, but still say where)
        ctx = {"path": (), "message": error["msg"]}
    place = tuple(str(part) for part in error["loc"]) + tuple(ctx["path"])
    table, key = (".".join(place[:-1]), place[-1]) if len(place) > 1 else (".".join(place), None)
    value, message = ctx.get("value"), ctx.get("message")
    if "known" in ctx and key is None:  # a top-level key is a table
        near = difflib.get_close_matches(table, ctx["known"], n=1)
        hint = f" Did you mean [{near[0]}]?" if near else ""
        message = f"unknown table [{table}]; a spec has {', '.join(f'[{t}]' for t in ctx['known'])}.{hint}"
    elif "known" in ctx:
        near = difflib.get_close_matches(key, ctx["known"], n=1)
        hint = f" Did you mean {near[0]!r}?" if near else f" Known keys: {', '.join(ctx['known'])}."
        message = f"unknown key {key!r} in [{table}].{hint}"
    elif ctx.get("expected") == "a table":
        message = f"[{'.'.join(place)}] must be a table. Received: {place[-1]}={value!r}"
    elif "expected" in ctx:
        message = f"{'.'.join(place)} must be {ctx['expected']}. Received: {key}={value!r}"
    return SpecError(message, source=source, line=line_of(text, table, key))
