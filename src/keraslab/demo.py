"""``keraslab demo``: the chapter's improvement loop in about a minute, with no files and no network.

On scikit-learn's bundled 8x8 digits (1,797 images) it runs, as the chapter does on
MNIST: a dense baseline with its training curves, a small batch-size sweep with
timings, 5-fold cross-validation of a ``MinMaxScaler`` pipeline, and a coarse-to-fine
search (the chapter's advice after its three hand-made grids) with its rounds and
zoom path; then it writes the HTML report and returns its path.
Runs go to the default store (``./keraslab-runs/runs.sqlite``) like any other run.
The four experiments are ordinary specs (see :data:`DEMO_SPECS`), run by the same
runner as the catalogue.

Examples
--------
>>> from keraslab.demo import run_demo
>>> report = run_demo()  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

__all__ = ["DEMO_SPECS", "demo_specs", "run_demo"]

_DATA = {"dataset": "digits", "layout": "flat", "scaling": "unit", "validation_split": 0.25}
_MODEL = {"build": "keraslab.zoo.dense:make_model", "number_of_layers": 2, "neurons_per_layer": 32,
          "dropout_ratio": 0.2}

#: The demo's experiments as spec tables (the same keys as a TOML spec).
DEMO_SPECS: dict[str, dict[str, Any]] = {
    "demo-1-baseline": {
        "experiment": {"title": "Baseline: two dense layers of 32 with dropout",
                       "description": "make_model on 8x8 digits scaled to [0, 1], a quarter held out for validation."},
        "data": _DATA,
        "model": _MODEL,
        "train": {"epochs": 40, "batch_size": 32},
    },
    "demo-2-batch-size": {
        "experiment": {"title": "Batch-size sweep: curves and time per epoch",
                       "description": "The same model trained with batch sizes 8 to 512 (cf. Figures B3-1..B3-5)."},
        "data": _DATA,
        "model": _MODEL,
        "train": {"epochs": 15, "batch_size": 32},
        "explore": {"kind": "sweep", "parameter": "train.batch_size", "values": [8, 32, 128, 512],
                    "curves": [8, 512]},
    },
    "demo-3-cv": {
        "experiment": {"title": "5-fold cross-validation of a MinMaxScaler pipeline",
                       "description": "make_pipeline(MinMaxScaler(), KerasClassifier(make_model)) on raw pixel "
                                      "values 0-16, StratifiedKFold(5, shuffle=True, random_state=42)."},
        "data": {"dataset": "digits", "layout": "flat", "scaling": "none"},
        "model": _MODEL,
        "train": {"epochs": 20, "batch_size": 32},
        "explore": {"kind": "cv", "folds": 5, "scaler": "minmax"},
    },
    "demo-4-coarse-to-fine": {
        "experiment": {"title": "Coarse-to-fine search: layers x neurons",
                       "description": "MultiResolutionSearchCV, 3 folds, MinMaxScaler pipeline: a 2 x 2 grid over "
                                      "1-3 layers and 8-64 neurons, then a finer grid around the best, moving "
                                      "outward (up to 128 neurons) when the best sits on an edge (cf. B3-16..B3-19 "
                                      "and the chapter's grids 1-3)."},
        "data": {"dataset": "digits", "layout": "flat", "scaling": "none"},
        "model": {"build": "keraslab.zoo.dense:make_model", "dropout_ratio": 0.2},
        "train": {"epochs": 10, "batch_size": 32},
        "explore": {"kind": "multires", "folds": 3, "shuffle": False, "scaler": "minmax", "resolution": 2,
                    "rounds": 2, "keep": "best",  # two rounds keep the demo under 2 minutes on 2 cores
                    "params": {"model.number_of_layers": {"int": [1, 3]},
                               "model.neurons_per_layer": {"int": [8, 64], "log": True, "bounds": [4, 128]}}},
    },
}


def demo_specs(overrides: list[str] | None = None) -> list[Any]:
    """The demo's validated specs, in order, with optional ``section.key=value`` overrides."""
    from keraslab.experiments.spec import spec_from_dict

    specs = [spec_from_dict(table, name=name) for name, table in DEMO_SPECS.items()]
    return [s.with_overrides(overrides) for s in specs] if overrides else specs


def run_demo(
    store: str | os.PathLike[str] | None = None,
    report: str | os.PathLike[str] | None = None,
    *,
    progress: bool = True,
    overrides: list[str] | None = None,
    on_result: Callable[[Any], None] | None = None,
) -> Path:
    """Run the four demo experiments and write the HTML report of these runs.

    Parameters
    ----------
    store : path, optional
        The result store; default ``./keraslab-runs/runs.sqlite``, so that
        ``keraslab runs`` and ``keraslab report`` show the demo's runs too. Figures go
        to ``run-NNNN`` folders next to it.
    report : path, optional
        The HTML file; default ``demo-report.html`` next to the store.
    progress : bool
        Draw progress bars.
    overrides : list of str, optional
        Applied to every demo spec, e.g. ``["train.epochs=2"]`` for a smoke test.
    on_result : callable, optional
        Called with each run's :class:`~keraslab.experiments.runner.RunResult` as it
        finishes (``keraslab demo`` prints its summary).

    Returns
    -------
    Path
        The HTML report (covering this demo's runs only).
    """
    from keraslab.experiments.runner import run
    from keraslab.report import write_report
    from keraslab.store import ResultStore

    run_ids = []
    with ResultStore(store) as db:
        for spec in demo_specs(overrides):
            # restart: the demo always computes afresh (its journals would otherwise be read back)
            result = run(spec, store=db, progress=progress, restart=True)
            run_ids.append(result.run_id)
            if on_result is not None:
                on_result(result)
            if result.status != "finished":
                break
        target = Path(report) if report is not None else db.folder / "demo-report.html"
        return write_report(db, target, run_ids=run_ids, title="keraslab demo: improving a dense model on 8x8 digits")
