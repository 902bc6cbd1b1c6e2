"""``keraslab demo``: the chapter's improvement loop in about a minute, with no files and no network.

On scikit-learn's bundled 8x8 digits (1,797 images) it runs, as the chapter does on
MNIST: a dense baseline with its training curves, a small batch-size sweep with
timings, 5-fold cross-validation of a ``MinMaxScaler`` pipeline, and a coarse-to-fine
search (the chapter's advice after its three hand-made grids) with its rounds and
zoom path; then it writes the HTML report and returns its path.
Runs go to the default store (``./keraslab-runs/runs.sqlite``) like any other run.
The four experiments are ordinary TOML specs in ``keraslab/demo_specs/`` (see
:data:`DEMO_DIR`), run by the same runner as the catalogue.

Examples
--------
>>> from keraslab.demo import run_demo
>>> report = run_demo()  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

__all__ = ["DEMO_DIR", "DEMO_SPECS", "demo_specs", "run_demo"]

#: The folder of the demo's spec files (``demo-1-baseline.toml`` ...), run in name order. Not
#: catalogue entries (``keraslab list`` shows the chapter's experiments only), but the same format.
DEMO_DIR = Path(__file__).resolve().parent / "demo_specs"


def _demo_files() -> list[Path]:
    return sorted(DEMO_DIR.glob("demo-*.toml"))


def demo_specs(overrides: list[str] | None = None) -> list[Any]:
    """The demo's validated specs, in order, with optional ``section.key=value`` overrides.

    Each is read from its file in :data:`DEMO_DIR` like a catalogue spec (its name is
    the file's stem; a bad override names the file and line).
    """
    from keraslab.experiments.spec import load_spec

    return [load_spec(path, overrides or ()) for path in _demo_files()]


def __getattr__(name: str) -> Any:
    # DEMO_SPECS (the spec tables by name) is read from the files when first asked for.
    if name == "DEMO_SPECS":
        from keraslab.experiments.tomlio import tomllib

        return {path.stem: tomllib.loads(path.read_text(encoding="utf-8")) for path in _demo_files()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
