"""Crash safety with real processes: a killed run is shown as interrupted, Ctrl-C stops cleanly."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from keraslab.store import ResultStore

SPEC = """\
[data]
dataset = "digits"
layout = "flat"
validation_split = 0.25

[model]
build = "keraslab.zoo.dense:make_model"
number_of_layers = 1
neurons_per_layer = 16

[train]
epochs = 5000
batch_size = 8
"""


def _start(tmp_path):
    spec = tmp_path / "long.toml"
    spec.write_text(SPEC)
    store = tmp_path / "runs.sqlite"
    process = subprocess.Popen(
        [sys.executable, "-m", "keraslab.cli", "run", str(spec), "--store", str(store), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "KERAS_BACKEND": "jax"},
    )
    return process, store


def _wait_for_epochs(process, store, n, timeout=120.0):
    """Poll the store (read-only, as another process would) until ``n`` epochs are recorded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the run ended early: {process.communicate()}")
        if store.exists():
            try:
                with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5) as conn:
                    if conn.execute("SELECT COUNT(*) FROM epochs").fetchone()[0] >= n:
                        return
            except sqlite3.OperationalError:  # schema not created yet
                pass
        time.sleep(0.2)
    process.kill()
    pytest.fail("no epochs were recorded in time")


def test_a_killed_run_is_marked_interrupted_and_keeps_its_epochs(tmp_path):
    process, store = _start(tmp_path)
    _wait_for_epochs(process, store, 2)
    process.kill()  # SIGKILL: no handler runs, no cleanup
    process.communicate(timeout=30)
    with ResultStore(store) as s:  # opens cleanly; sees that the process is gone
        (summary,) = s.runs()
        record = s.run(summary.id)
    assert record.status == "interrupted"
    assert "ended before it finished" in record.error
    (fit,) = record.fits
    assert fit.status == "interrupted"
    epochs = len(fit.history["loss"])
    assert epochs >= 2 and all(len(v) == epochs for v in fit.history.values())  # whole epochs only
    assert len(fit.epoch_seconds) == epochs


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX-only")
def test_ctrl_c_stops_after_the_batch_and_closes_the_run(tmp_path):
    process, store = _start(tmp_path)
    _wait_for_epochs(process, store, 2)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, (out, err)
    assert "Stopping after the current batch" in err
    assert "Traceback" not in err
    assert "interrupted" in out and "figure:" in out
    with ResultStore(store) as s:
        (summary,) = s.runs()
        record = s.run(summary.id)
    assert record.status == "interrupted" and record.error == ""
    assert record.fits[0].status == "interrupted" and len(record.fits[0].history["loss"]) >= 2
    assert [f.name for f in record.figures] == ["history"] and os.path.isfile(record.figures[0].path)
    assert record.summary["final_line"].startswith(f"Epoch {len(record.fits[0].history['loss'])}/5000 - ")


GRID_SPEC = """\
[data]
dataset = "digits"
layout = "flat"
subset = 200

[model]
build = "keraslab.zoo.dense:make_model"

[train]
epochs = 2
batch_size = 32

[explore]
kind = "grid"
folds = 2
shuffle = false

[explore.params]
"model.number_of_layers" = [1, 2]
"model.neurons_per_layer" = [8, 16]
"""


def _journal_rows(folder) -> int:
    paths = list((folder / "journals").glob("*.sqlite"))
    if not paths:
        return 0
    with sqlite3.connect(f"file:{paths[0]}?mode=ro", uri=True, timeout=5) as conn:
        return conn.execute("SELECT COUNT(*) FROM fits").fetchone()[0]


def test_a_killed_grid_search_resumes_without_recomputing_its_finished_fits(tmp_path):
    from keraslab.experiments import load_spec
    from keraslab.experiments.runner import run

    spec_path = tmp_path / "grid.toml"
    spec_path.write_text(GRID_SPEC)
    store = tmp_path / "killed" / "runs.sqlite"
    process = subprocess.Popen(
        [sys.executable, "-m", "keraslab.cli", "run", str(spec_path), "--store", str(store), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "KERAS_BACKEND": "jax"},
    )
    deadline = time.monotonic() + 120
    while _journal_rows(store.parent) < 3:  # kill it mid-way: 3 of 8 fits journaled
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the search ended or stalled before 3 fits: {process.communicate()}")
        time.sleep(0.1)
    process.kill()
    process.communicate(timeout=30)
    finished = _journal_rows(store.parent)
    assert 3 <= finished < 8

    with ResultStore(store) as s:
        resumed = run(load_spec(spec_path), store=s, progress=False)
    assert resumed.status == "finished"
    assert resumed.summary["fits"] == {"computed": 8 - finished, "resumed": finished, "planned": 8}
    with ResultStore(tmp_path / "whole" / "runs.sqlite") as s:
        whole = run(load_spec(spec_path), store=s, progress=False)
    assert whole.summary["fits"] == {"computed": 8, "resumed": 0, "planned": 8}
    assert resumed.summary["candidate_params"] == whole.summary["candidate_params"]
    assert resumed.summary["cv_results"]["mean_test_score"] == pytest.approx(
        whole.summary["cv_results"]["mean_test_score"], rel=1e-6)
