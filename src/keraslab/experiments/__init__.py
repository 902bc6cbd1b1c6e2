"""Declarative runs of the chapter's experiments: a TOML spec in, a stored and plotted result out.

Examples
--------
>>> from keraslab.experiments import catalog_names, load_spec
>>> "b3-32-pooling-cnn" in catalog_names()
True
>>> load_spec("b3-32-pooling-cnn", ["train.epochs=1"]).train.epochs
1
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from keraslab.experiments.catalog import catalog_entries, catalog_names, catalog_path, resolve_spec_path
from keraslab.experiments.spec import ExperimentSpec, SpecError, spec_from_dict
from keraslab.experiments.spec import load_spec as _load_spec_file

__all__ = [
    "ExperimentSpec",
    "SpecError",
    "RunResult",
    "catalog_entries",
    "catalog_names",
    "catalog_path",
    "load_spec",
    "run",
    "spec_from_dict",
]


def load_spec(name_or_file: str | Path, overrides: Iterable[str] = ()) -> ExperimentSpec:
    """A spec from a catalogue name (``"b3-32-pooling-cnn"``) or a ``.toml`` file, with overrides."""
    return _load_spec_file(resolve_spec_path(name_or_file), overrides)


def __getattr__(name: str):
    # The runner imports Keras and matplotlib-using modules; load it only when asked for.
    if name in ("run", "RunResult"):
        from keraslab.experiments import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
