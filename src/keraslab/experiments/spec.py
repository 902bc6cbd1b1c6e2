"""ExperimentSpec: one experiment described in a TOML file, validated into dataclasses.

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
import importlib
import inspect
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from keraslab._routing import DATA_DERIVED
from keraslab.errors import KeraslabValueError

from keraslab.experiments.explore_checks import check_explore
from keraslab.experiments.schema import AUGMENT as _AUGMENT
from keraslab.experiments.schema import DATA as _DATA
from keraslab.experiments.schema import DATASET_OPTIONS as _DATASET_OPTIONS
from keraslab.experiments.schema import DATASETS, REFERENCE_KEYS
from keraslab.experiments.schema import EARLY_STOPPING as _EARLY_STOPPING
from keraslab.experiments.schema import EXPERIMENT as _EXPERIMENT
from keraslab.experiments.schema import EXPLORE as _EXPLORE
from keraslab.experiments.schema import TABLES as _TABLES
from keraslab.experiments.schema import TRAIN as _TRAIN
from keraslab.experiments.schema import Field as _Field
from keraslab.experiments.tomlio import dumps_toml, line_of, tomllib

__all__ = [
    "SpecError",
    "DataSpec",
    "ModelSpec",
    "TrainSpec",
    "ExploreSpec",
    "ExperimentSpec",
    "load_spec",
    "spec_from_dict",
    "parse_override",
    "resolve_build",
    "DATASETS",
    "REFERENCE_KEYS",
]


class SpecError(KeraslabValueError):
    """A spec that cannot be used; the message names the key and, when known, file and line."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None) -> None:
        where = ""
        if source:
            where = f"{source}, line {line}: " if line else f"{source}: "
        super().__init__(where + message)
        self.source = source
        self.line = line


# --------------------------------------------------------------------------- dataclasses
@dataclass(frozen=True)
class DataSpec:
    """Where the data comes from and how it is prepared (see the module docstring)."""

    dataset: str = "mnist"
    layout: str = "flat"
    scaling: str = "unit"
    subset: int = 0
    test_subset: int = 0
    validation_split: float = 0.0
    validation_data: str = "none"
    window: int = 0
    targets: str = "next"
    seed: int = 0
    options: dict[str, Any] = field(default_factory=dict)
    augment: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelSpec:
    """``build = "module:function"`` and the keyword arguments it is called with."""

    build: str
    params: dict[str, Any] = field(default_factory=dict)

    def function(self) -> Callable[..., Any]:
        """The imported build function."""
        return resolve_build(self.build)


@dataclass(frozen=True)
class TrainSpec:
    """How one training runs. ``optimizer=""`` and ``learning_rate=0`` keep the model's own."""

    epochs: int = 100
    batch_size: int = 256
    optimizer: str = ""
    learning_rate: float = 0.0
    shuffle: bool = True
    stateful: bool = False
    seed: int = 0
    early_stopping: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExploreSpec:
    """A sweep, cross-validation or search around the base experiment."""

    kind: str = "sweep"
    parameter: str = ""
    values: list[Any] = field(default_factory=list)
    curves: list[Any] = field(default_factory=list)
    folds: int = 5
    stratified: bool = True
    shuffle: bool = True
    random_state: int = 42
    scaler: str = "none"
    params: dict[str, list[Any]] = field(default_factory=dict)
    n_iter: int = 10
    scoring: str = ""
    resolution: int = 3
    rounds: int = 4
    zoom: float = 0.5
    keep: Any = "one-se"
    subsets: list[float] = field(default_factory=list)
    resource: str = "epochs"
    factor: float = 3.0
    min_resource: int = 0
    n_trials: int = 20
    storage: str = ""
    n_jobs: int = 1
    backend: str = "loky"
    dask_scheduler: str = ""


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


def resolve_build(build: str) -> Callable[..., Any]:
    """Import ``"package.module:function"``; a clear error when either part is missing.

    Examples
    --------
    >>> resolve_build("keraslab.zoo.dense:make_model").__name__
    'make_model'
    """
    if not isinstance(build, str) or build.count(":") != 1:
        raise SpecError(
            f'model.build must be "module:function", e.g. "keraslab.zoo.dense:make_model". Received: build={build!r}'
        )
    module_name, func_name = build.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise SpecError(f"unknown build function: module {exc.name!r} not found. Received: build={build!r}") from None
    func = getattr(module, func_name, None)
    if not callable(func):
        public = sorted(n for n in getattr(module, "__all__", dir(module)) if not n.startswith("_"))
        near = difflib.get_close_matches(func_name, public, n=1)
        hint = f" Did you mean {module_name}:{near[0]}?" if near else f" {module_name} offers: {', '.join(public)}."
        raise SpecError(f"unknown build function {func_name!r} in {module_name}.{hint} Received: build={build!r}")
    return func


# --------------------------------------------------------------------------- validation
class _Checker:
    def __init__(self, source: str | None, text: str | None) -> None:
        self.source, self.text = source, text

    def fail(self, message: str, table: str, key: str | None = None) -> SpecError:
        return SpecError(message, source=self.source, line=line_of(self.text, table, key))

    def table(self, raw: Any, table: str) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise self.fail(f"[{table}] must be a table. Received: {table}={raw!r}", table)
        return raw

    def fields(self, raw: Any, table: str, schema: Mapping[str, _Field]) -> dict[str, Any]:
        values = self.table(raw, table)
        out = {}
        for key, value in values.items():
            if key not in schema:
                near = difflib.get_close_matches(key, list(schema), n=1)
                hint = f" Did you mean {near[0]!r}?" if near else f" Known keys: {', '.join(schema)}."
                raise self.fail(f"unknown key {key!r} in [{table}].{hint}", table, key)
            out[key] = self.value(value, schema[key], table, key)
        for key, spec_field in schema.items():
            out.setdefault(key, copy.deepcopy(spec_field.default))
        return out

    def value(self, value: Any, spec_field: _Field, table: str, key: str) -> Any:
        kind = spec_field.kind
        ok = {
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, (int, float)) and not isinstance(value, bool),
            "str": isinstance(value, str),
            "bool": isinstance(value, bool),
            "list": isinstance(value, list),
            "table": isinstance(value, dict),
            "any": True,
        }[kind]
        names = {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false",
                 "list": "a list", "table": "a table", "any": "a value"}
        if not ok:
            raise self.fail(f"{table}.{key} must be {names[kind]}. Received: {key}={value!r}", table, key)
        if kind == "float":
            value = float(value)
            if not math.isfinite(value):
                raise self.fail(f"{table}.{key} must be a finite number. Received: {key}={value!r}", table, key)
        if spec_field.choices is not None and value not in spec_field.choices:
            choices = ", ".join(repr(c) for c in spec_field.choices)
            raise self.fail(f"{table}.{key} must be one of {choices}. Received: {key}={value!r}", table, key)
        if spec_field.check is not None:
            expected = spec_field.check(value)
            if expected:
                raise self.fail(f"{table}.{key} must be {expected}. Received: {key}={value!r}", table, key)
        return value


def _validate(raw: dict[str, Any], *, source: str | None, text: str | None, overrides: tuple[str, ...]) -> ExperimentSpec:
    c = _Checker(source, text)
    for table in raw:
        if table not in _TABLES:
            near = difflib.get_close_matches(table, list(_TABLES), n=1)
            hint = f" Did you mean [{near[0]}]?" if near else ""
            raise c.fail(f"unknown table [{table}]; a spec has {', '.join(f'[{t}]' for t in _TABLES)}.{hint}", table)
    experiment = c.fields(raw.get("experiment"), "experiment", _EXPERIMENT)
    if not experiment["name"]:
        raise c.fail("[experiment] name is missing; name the experiment (file specs take the file name).", "experiment")
    data = c.fields(raw.get("data"), "data", _DATA)
    data["options"] = c.fields(data["options"], "data.options", _DATASET_OPTIONS[data["dataset"]])
    given_augment = set(data["augment"])  # keep only what the spec sets: ImageAugmenter has the defaults
    data["augment"] = {k: v for k, v in c.fields(data["augment"], "data.augment", _AUGMENT).items()
                       if k in given_augment}
    _check_data(c, data)
    train = c.fields(raw.get("train"), "train", _TRAIN)
    if train["early_stopping"]:
        train["early_stopping"] = c.fields(train["early_stopping"], "train.early_stopping", _EARLY_STOPPING)
    model_raw = c.table(raw.get("model"), "model")
    if "build" not in model_raw:
        raise c.fail('[model] needs build = "module:function", e.g. "keraslab.zoo.dense:make_model".', "model")
    model_params = {k: v for k, v in model_raw.items() if k != "build"}
    try:
        func = resolve_build(model_raw["build"])
    except SpecError as exc:
        raise c.fail(str(exc), "model", "build") from None
    _check_build_params(c, func, model_raw["build"], model_params)
    explore = None
    if raw.get("explore") is not None:
        values = c.fields(raw.get("explore"), "explore", _EXPLORE)
        check_explore(c, values, func, model_params)
        explore = ExploreSpec(**values)
    reference = c.table(raw.get("reference"), "reference")
    for key, value in reference.items():
        if key not in REFERENCE_KEYS:
            near = difflib.get_close_matches(key, REFERENCE_KEYS, n=1)
            hint = f" Did you mean {near[0]!r}?" if near else f" Known keys: {', '.join(REFERENCE_KEYS)}."
            raise c.fail(f"unknown key {key!r} in [reference].{hint}", "reference", key)
    effective = copy.deepcopy(raw)
    return ExperimentSpec(
        name=experiment["name"],
        title=experiment["title"] or experiment["name"],
        figures=[str(f) for f in experiment["figures"]],
        description=experiment["description"],
        data=DataSpec(**data),
        model=ModelSpec(build=model_raw["build"], params=model_params),
        train=TrainSpec(**train),
        explore=explore,
        reference=dict(reference),
        raw=effective,
        source=source,
        overrides=overrides,
    )


def _check_data(c: _Checker, data: dict[str, Any]) -> None:
    sequence_data = data["dataset"] in ("sines", "upsloping_sines")
    if sequence_data != (data["layout"] == "sequence"):
        expected = "sequence" if sequence_data else "flat or image"
        raise c.fail(
            f"data.layout must be {expected} for dataset {data['dataset']!r}. Received: layout={data['layout']!r}",
            "data", "layout",
        )
    if sequence_data and data["window"] < 1:
        raise c.fail(f"data.window must be a positive integer for sequences. Received: window={data['window']}",
                     "data", "window")
    if data["validation_split"] and data["validation_data"] != "none":
        raise c.fail(
            "Use either data.validation_split or data.validation_data = \"test\", not both. "
            f"Received: validation_split={data['validation_split']}, validation_data={data['validation_data']!r}",
            "data", "validation_data",
        )
    if data["augment"] and data["layout"] != "image":
        raise c.fail("[data.augment] needs data.layout = \"image\". "
                     f"Received: layout={data['layout']!r}", "data", "layout")
    opts = data["options"]
    if sequence_data and not (len(opts["freqs"]) == len(opts["amps"]) == len(opts["phases"]) >= 1):
        raise c.fail(
            "data.options freqs, amps and phases need the same, non-zero length. "
            f"Received: freqs={opts['freqs']}, amps={opts['amps']}, phases={opts['phases']}",
            "data.options", "freqs",
        )


def _check_build_params(c: _Checker, func: Callable[..., Any], build: str, params: Mapping[str, Any]) -> None:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
        return
    accepted = [n for n in signature.parameters if n not in DATA_DERIVED]
    for key in params:
        if key not in signature.parameters:
            near = difflib.get_close_matches(key, accepted, n=1)
            hint = f" Did you mean {near[0]!r}?" if near else ""
            raise c.fail(
                f"{build} has no parameter {key!r}.{hint} It accepts: {', '.join(accepted)}.", "model", key
            )
