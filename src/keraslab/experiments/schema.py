"""The spec's schema as pydantic models: each key's type, default and range, defined once.

One model per ``[table]`` of a spec file. Unknown keys are errors (``extra="forbid"``),
types are strict (``epochs = "3"`` is not read as 3; an integer is accepted where a
number is expected), ``Literal`` lists the names a key accepts, and rules between keys
are validators. :mod:`keraslab.experiments.spec` validates a parsed file against
:class:`~keraslab.experiments.spec.SpecFile` and turns the first error into a :class:`SpecError` naming the key,
the file and the line; the models therefore raise errors that say what was expected
(``spec`` errors carrying the key's ``path`` below the table and an ``expected`` text,
the ``known`` keys, or a whole ``message``).

Examples
--------
>>> TrainSpec().epochs, DataSpec(dataset="shapes", layout="image").options["image_size"]
(100, 64)
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from typing import Any, Callable, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from keraslab._routing import DATA_DERIVED
from keraslab.errors import KeraslabValueError

__all__ = [
    "SpecError", "DATASETS", "SEARCH_KINDS", "REFERENCE_KEYS", "DataSpec", "ModelSpec", "TrainSpec",
    "Table", "fail", "resolve_build",
]

Dataset = Literal["mnist", "fashion_mnist", "digits", "shapes", "sines", "upsloping_sines"]
DATASETS = get_args(Dataset)
#: Explore kinds that run through keraslab.search (journaled, resumable); "sweep" trains once per value.
SEARCH_KINDS = ("cv", "grid", "random", "multires", "halving", "optuna")
#: Numbers the chapter reports that a run can be compared with; ``note`` is free text.
REFERENCE_KEYS = (
    "loss", "acc", "val_loss", "val_acc", "epoch_seconds", "mean_score", "fold_scores",
    "best_score", "best_params", "mean_scores", "fits", "path", "rms_error", "note",
)


class SpecError(KeraslabValueError):
    """A spec that cannot be used; the message names the key and, when known, file and line."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None) -> None:
        where = ""
        if source:
            where = f"{source}, line {line}: " if line else f"{source}: "
        super().__init__(where + message)
        self.source = source
        self.line = line


def fail(path: str | tuple[str, ...], message: str | None = None, **context: Any) -> PydanticCustomError:
    """An error at ``path`` (keys below the table being validated) with a ``message`` or ``expected``/``known``."""
    path = (path,) if isinstance(path, str) else tuple(path)
    return PydanticCustomError("spec", "spec error", {"path": path, "message": message, **context})


_TYPES = {"int_type": "an integer", "float_type": "a number", "string_type": "a string", "bool_type": "true or false",
          "list_type": "a list", "dict_type": "a table", "model_type": "a table", "finite_number": "a finite number"}
_OPS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def _range(field: Any) -> str:
    """``Field(ge=0, lt=1)`` as words: "a number in [0, 1)"."""
    bounds = {op: getattr(m, op) for m in field.metadata for op in _OPS if hasattr(m, op)}
    if len(bounds) == 2:
        (low_op, low), (high_op, high) = sorted(bounds.items(), key=lambda item: item[0][0] == "l")
        return f"a number in {'[' if low_op == 'ge' else '('}{low}, {high}{']' if high_op == 'le' else ')'}"
    (op, bound), = bounds.items()
    if bound == 0:
        return "a positive number" if op == "gt" else f"a number {_OPS[op]} 0"
    return f"{'an integer' if field.annotation is int else 'a number'} {_OPS[op]} {bound}"


class Table(BaseModel):
    """A spec table: unknown keys and loose types are errors; errors say what was expected."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    @model_validator(mode="wrap")
    @classmethod
    def _explain(cls, data: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            error = exc.errors()[0]
            if error["type"] == "spec" or len(error["loc"]) != 1:
                raise  # explained by the table below, or by a validator of this one
            key, kind = str(error["loc"][0]), error["type"]
            if kind == "extra_forbidden":
                raise fail(key, known=tuple(cls.model_fields)) from None
            field = cls.model_fields[key]
            if kind == "literal_error":
                expected = "one of " + ", ".join(repr(c) for c in get_args(field.annotation))
            elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
                expected = _range(field)
            elif kind == "value_error":
                expected = str(error["ctx"]["error"])
            else:
                expected = _TYPES.get(kind, error["msg"])
            raise fail(key, expected=expected, value=error.get("input")) from None


# --------------------------------------------------------------------------- [experiment]
class ExperimentTable(Table):
    name: str = ""
    title: str = ""
    figures: list[Any] = []
    description: str = ""
    mlflow: str = ""  # an MLflow tracking URI, e.g. "sqlite:///mlflow.db" (keraslab[mlflow])

    @model_validator(mode="after")
    def _named(self) -> "ExperimentTable":
        if not self.name:
            raise fail((), "[experiment] name is missing; name the experiment (file specs take the file name).")
        return self


# --------------------------------------------------------------------------- [data]
class NoOptions(Table):
    pass


class DigitsOptions(Table):
    test_size: float = Field(0.25, ge=0, lt=1)


class ShapesOptions(Table):
    image_size: int = Field(64, gt=0)
    train_samples: int = Field(6400, gt=0)
    test_samples: int = Field(1024, gt=0)


class SequenceOptions(Table):
    steps: int = Field(200, gt=0)
    d_theta: float = Field(0.057, gt=0)
    freqs: list[Any] = [1.0, 2.0]
    amps: list[Any] = [1.0, 2.0]
    phases: list[Any] = [0.0, 0.0]
    test_skip: int = Field(400, ge=0)
    test_steps: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _one_length(self) -> "SequenceOptions":
        if not len(self.freqs) == len(self.amps) == len(self.phases) >= 1:
            raise fail("freqs", "data.options freqs, amps and phases need the same, non-zero length. "
                                f"Received: freqs={self.freqs}, amps={self.amps}, phases={self.phases}")
        return self


OPTIONS: dict[str, type[Table]] = {"mnist": NoOptions, "fashion_mnist": NoOptions, "digits": DigitsOptions,
                                   "shapes": ShapesOptions, "sines": SequenceOptions, "upsloping_sines": SequenceOptions}


class Augment(Table):
    rotation_range: float = Field(0.0, ge=0)
    width_shift_range: float = Field(0.0, ge=0)
    height_shift_range: float = Field(0.0, ge=0)
    zoom_range: float = Field(0.0, ge=0)
    shear_range: float = Field(0.0, ge=0)
    horizontal_flip: bool = False
    vertical_flip: bool = False
    fill_mode: Literal["nearest", "constant", "reflect", "wrap"] = "nearest"
    cval: float = 0.0
    seed: int = 0


class DataSpec(Table):
    """Where the data comes from and how it is prepared.

    ``options`` holds the dataset's own settings with their defaults filled in
    (:data:`OPTIONS`); ``augment`` only the keys the spec sets (``ImageAugmenter``
    has the defaults).
    """

    dataset: Dataset = "mnist"
    layout: Literal["flat", "image", "sequence"] = "flat"
    scaling: Literal["unit", "symmetric", "none", "minmax"] = "unit"
    subset: int = Field(0, ge=0)
    test_subset: int = Field(0, ge=0)
    validation_split: float = Field(0.0, ge=0, lt=1)
    validation_data: Literal["none", "test"] = "none"
    window: int = Field(0, ge=0)
    targets: Literal["next", "sequence"] = "next"
    seed: int = 0
    options: dict[str, Any] = Field(default_factory=dict, validate_default=True)
    augment: dict[str, Any] = {}

    @field_validator("options")
    @classmethod
    def _dataset_options(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if "dataset" not in info.data:  # the dataset's own error is reported
            return value
        return OPTIONS[info.data["dataset"]].model_validate(value).model_dump()

    @field_validator("augment")
    @classmethod
    def _augment(cls, value: dict[str, Any]) -> dict[str, Any]:
        return Augment.model_validate(value).model_dump(exclude_unset=True)

    @model_validator(mode="after")
    def _consistent(self) -> "DataSpec":
        sequence_data = self.dataset in ("sines", "upsloping_sines")
        if sequence_data != (self.layout == "sequence"):
            expected = "sequence" if sequence_data else "flat or image"
            raise fail("layout", f"data.layout must be {expected} for dataset {self.dataset!r}. "
                                 f"Received: layout={self.layout!r}")
        if sequence_data and self.window < 1:
            raise fail("window", f"data.window must be a positive integer for sequences. Received: window={self.window}")
        if self.validation_split and self.validation_data != "none":
            raise fail("validation_data", "Use either data.validation_split or data.validation_data = \"test\", not "
                       f"both. Received: validation_split={self.validation_split}, "
                       f"validation_data={self.validation_data!r}")
        if self.augment and self.layout != "image":
            raise fail("layout", f"[data.augment] needs data.layout = \"image\". Received: layout={self.layout!r}")
        return self


# --------------------------------------------------------------------------- [model]
class ModelSpec(Table):
    """``build = "module:function"`` and the keyword arguments it is called with."""

    build: str
    params: dict[str, Any] = {}

    def function(self) -> Callable[..., Any]:
        """The imported build function."""
        return resolve_build(self.build)

    @model_validator(mode="after")
    def _build_accepts_params(self) -> "ModelSpec":
        try:
            func = self.function()
        except SpecError as exc:
            raise fail("build", str(exc)) from None
        try:
            signature = inspect.signature(func)
        except (TypeError, ValueError):
            return self
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
            return self
        accepted = [n for n in signature.parameters if n not in DATA_DERIVED]
        for key in self.params:
            if key not in signature.parameters:
                near = difflib.get_close_matches(key, accepted, n=1)
                hint = f" Did you mean {near[0]!r}?" if near else ""
                raise fail(key, f"{self.build} has no parameter {key!r}.{hint} It accepts: {', '.join(accepted)}.")
        return self


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


# --------------------------------------------------------------------------- [train]
class EarlyStopping(Table):
    monitor: str = "val_loss"
    patience: int = Field(5, ge=0)
    min_delta: float = Field(0.0, ge=0)
    restore_best_weights: bool = False


class TrainSpec(Table):
    """How one training runs. ``optimizer=""`` and ``learning_rate=0`` keep the model's own.

    ``early_stopping`` is empty (no early stopping) or every setting of :class:`EarlyStopping`.
    """

    epochs: int = Field(100, gt=0)
    batch_size: int = Field(256, gt=0)
    optimizer: str = ""
    learning_rate: float = Field(0.0, ge=0)
    shuffle: bool = True
    stateful: bool = False
    seed: int = 0
    early_stopping: dict[str, Any] = {}

    @field_validator("early_stopping")
    @classmethod
    def _early_stopping(cls, value: dict[str, Any]) -> dict[str, Any]:
        return EarlyStopping.model_validate(value).model_dump() if value else value
