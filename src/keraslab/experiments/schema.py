"""The spec's schema: every table's keys with their type, default and check, and the known names.

One table per ``[section]`` of a spec file; :mod:`keraslab.experiments.spec` validates
a parsed file against these tables (unknown keys, wrong types, out-of-range values)
and builds its dataclasses from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["Field", "TABLES", "DATASETS", "SEARCH_KINDS", "REFERENCE_KEYS"]

DATASETS = ("mnist", "fashion_mnist", "digits", "shapes", "sines", "upsloping_sines")
#: Explore kinds that run through keraslab.search (journaled, resumable); "sweep" trains once per value.
SEARCH_KINDS = ("cv", "grid", "random", "multires", "halving", "optuna")
#: Numbers the chapter reports that a run can be compared with; ``note`` is free text.
REFERENCE_KEYS = (
    "loss", "acc", "val_loss", "val_acc", "epoch_seconds", "mean_score", "fold_scores",
    "best_score", "best_params", "mean_scores", "fits", "path", "rms_error", "note",
)


@dataclass(frozen=True)
class Field:
    """One key of a table: its kind, default, allowed values and an extra check."""

    kind: str  # "int", "float", "str", "bool", "list", "table", "any"
    default: Any
    choices: tuple[Any, ...] | None = None
    check: Callable[[Any], str | None] | None = None  # returns what was expected, or None


def positive(v: Any) -> str | None:
    return None if v > 0 else "a positive number"


def non_negative(v: Any) -> str | None:
    return None if v >= 0 else "a number >= 0"


def fraction(v: Any) -> str | None:
    return None if 0 <= v < 1 else "a number in [0, 1)"


EXPERIMENT = {
    "name": Field("str", ""),
    "title": Field("str", ""),
    "figures": Field("list", []),
    "description": Field("str", ""),
    "mlflow": Field("str", ""),  # an MLflow tracking URI, e.g. "sqlite:///mlflow.db" (keraslab[mlflow])
}
DATA = {
    "dataset": Field("str", "mnist", DATASETS),
    "layout": Field("str", "flat", ("flat", "image", "sequence")),
    "scaling": Field("str", "unit", ("unit", "symmetric", "none", "minmax")),
    "subset": Field("int", 0, check=non_negative),
    "test_subset": Field("int", 0, check=non_negative),
    "validation_split": Field("float", 0.0, check=fraction),
    "validation_data": Field("str", "none", ("none", "test")),
    "window": Field("int", 0, check=non_negative),
    "targets": Field("str", "next", ("next", "sequence")),
    "seed": Field("int", 0),
    "options": Field("table", {}),
    "augment": Field("table", {}),
}
TRAIN = {
    "epochs": Field("int", 100, check=positive),
    "batch_size": Field("int", 256, check=positive),
    "optimizer": Field("str", ""),
    "learning_rate": Field("float", 0.0, check=non_negative),
    "shuffle": Field("bool", True),
    "stateful": Field("bool", False),
    "seed": Field("int", 0),
    "early_stopping": Field("table", {}),
}
EARLY_STOPPING = {
    "monitor": Field("str", "val_loss"),
    "patience": Field("int", 5, check=non_negative),
    "min_delta": Field("float", 0.0, check=non_negative),
    "restore_best_weights": Field("bool", False),
}
EXPLORE = {
    "kind": Field("str", "sweep", ("sweep",) + SEARCH_KINDS),
    "parameter": Field("str", ""),
    "values": Field("list", []),
    "curves": Field("list", []),
    "folds": Field("int", 5, check=lambda v: None if v >= 2 else "an integer >= 2"),
    "stratified": Field("bool", True),
    "shuffle": Field("bool", True),
    "random_state": Field("int", 42),
    "scaler": Field("str", "none", ("none", "minmax", "standard")),
    "params": Field("table", {}),
    "n_iter": Field("int", 10, check=positive),
    "scoring": Field("str", ""),
    # coarse-to-fine (multires)
    "resolution": Field("int", 3, check=positive),
    "rounds": Field("int", 4, check=positive),
    "zoom": Field("float", 0.5, check=lambda v: None if 0 < v <= 1 else "a number in (0, 1]"),
    "keep": Field("any", "one-se", check=lambda v: None if v in ("one-se", "best") or (
        isinstance(v, int) and not isinstance(v, bool) and v >= 1) else '"one-se", "best" or an integer >= 1'),
    "subsets": Field("list", []),
    # successive halving
    "resource": Field("str", "epochs", ("epochs", "n_samples")),
    "factor": Field("float", 3.0, check=lambda v: None if v > 1 else "a number > 1"),
    "min_resource": Field("int", 0, check=non_negative),
    # optuna
    "n_trials": Field("int", 20, check=positive),
    "storage": Field("str", ""),
    # where fits run
    "n_jobs": Field("int", 1, check=lambda v: None if v >= 1 or v == -1 else "a positive integer or -1"),
    "backend": Field("str", "loky", ("loky", "dask")),
    "dask_scheduler": Field("str", ""),
}
SEQUENCE_OPTIONS = {
    "steps": Field("int", 200, check=positive),
    "d_theta": Field("float", 0.057, check=positive),
    "freqs": Field("list", [1.0, 2.0]),
    "amps": Field("list", [1.0, 2.0]),
    "phases": Field("list", [0.0, 0.0]),
    "test_skip": Field("int", 400, check=non_negative),
    "test_steps": Field("int", 0, check=non_negative),
}
DATASET_OPTIONS = {
    "mnist": {},
    "fashion_mnist": {},
    "digits": {"test_size": Field("float", 0.25, check=fraction)},
    "shapes": {
        "image_size": Field("int", 64, check=positive),
        "train_samples": Field("int", 6400, check=positive),
        "test_samples": Field("int", 1024, check=positive),
    },
    "sines": SEQUENCE_OPTIONS,
    "upsloping_sines": SEQUENCE_OPTIONS,
}
AUGMENT = {
    "rotation_range": Field("float", 0.0, check=non_negative),
    "width_shift_range": Field("float", 0.0, check=non_negative),
    "height_shift_range": Field("float", 0.0, check=non_negative),
    "zoom_range": Field("float", 0.0, check=non_negative),
    "shear_range": Field("float", 0.0, check=non_negative),
    "horizontal_flip": Field("bool", False),
    "vertical_flip": Field("bool", False),
    "fill_mode": Field("str", "nearest", ("nearest", "constant", "reflect", "wrap")),
    "cval": Field("float", 0.0),
    "seed": Field("int", 0),
}
TABLES = {"experiment": EXPERIMENT, "data": DATA, "model": None, "train": TRAIN, "explore": EXPLORE, "reference": None}
