"""ResultStore: round-trip of runs, fits, epochs, folds, candidates and figures; crash recovery."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from keraslab.errors import KeraslabValueError
from keraslab.store import ResultStore


@pytest.fixture()
def store(tmp_path):
    with ResultStore(tmp_path / "runs.sqlite") as s:
        yield s


def test_round_trip_of_a_run(store):
    store.save_experiment("b3-32", title="Pooling CNN", figures=["B3-31"], reference={"val_acc": 0.9939})
    run_id = store.begin_run("b3-32", kind="train", spec_text="[train]\nepochs = 2\n", parameters={"epochs": 2},
                             dataset_fingerprint="abc", backend="jax", versions={"keras": "3"})
    fit_id = store.begin_fit(run_id, "training", {"x": 1})
    store.record_epoch(fit_id, 1, {"loss": 0.5, "accuracy": 0.8}, seconds=1.5)
    store.record_epoch(fit_id, 2, {"loss": 0.25, "accuracy": 0.9}, seconds=1.25)
    store.end_fit(fit_id, "finished", seconds=3.0)
    store.add_figure(run_id, "history", "/tmp/h.png", "curves")
    store.finish_run(run_id, "finished", summary={"final_line": "Epoch 2/2 - loss: 0.2500"})

    record = store.run(run_id)
    assert record.status == "finished" and record.kind == "train"
    assert record.title == "Pooling CNN" and record.reference == {"val_acc": 0.9939}
    assert record.figure_numbers == ["B3-31"]
    assert record.parameters == {"epochs": 2} and record.versions == {"keras": "3"}
    assert record.dataset_fingerprint == "abc" and record.backend == "jax"
    assert record.spec.startswith("[train]")
    (fit,) = record.fits
    assert fit.label == "training" and fit.params == {"x": 1} and fit.status == "finished"
    assert fit.history == {"loss": [0.5, 0.25], "accuracy": [0.8, 0.9]}
    assert fit.epoch_seconds == [1.5, 1.25]
    assert [(f.name, f.path, f.caption) for f in record.figures] == [("history", "/tmp/h.png", "curves")]
    assert record.seconds is not None and record.seconds >= 0
    (summary,) = store.runs()
    assert summary.final_line == "Epoch 2/2 - loss: 0.2500" and summary.experiment == "b3-32"


def test_folds_and_candidates(store):
    run_id = store.begin_run("cv", kind="cv", spec_text="")
    store.record_candidate(run_id, 0, {"model.n": 1})
    store.record_fold(run_id, 0, 1, status="finished", score=0.95, seconds=2.0)
    store.record_fold(run_id, 0, 2, status="failed", error="ValueError: boom")
    store.record_candidate(run_id, 0, {"model.n": 1}, status="failed", mean_score=0.95, std_score=0.0)
    store.finish_run(run_id, "finished")
    record = store.run(run_id)
    assert [(f.fold, f.status, f.score, f.error) for f in record.folds] == [
        (1, "finished", 0.95, ""), (2, "failed", None, "ValueError: boom")]
    (cand,) = record.candidates
    assert cand.status == "failed" and cand.mean_score == 0.95 and cand.params == {"model.n": 1}


def test_a_failed_fold_cannot_carry_a_score(store):
    run_id = store.begin_run("cv", kind="cv", spec_text="")
    with pytest.raises(KeraslabValueError, match="failed fold has no score"):
        store.record_fold(run_id, 0, 1, status="failed", score=0.0)


def test_filters_latest_and_unknown_ids(store):
    a = store.begin_run("a", kind="train", spec_text="")
    b = store.begin_run("b", kind="train", spec_text="")
    a2 = store.begin_run("a", kind="train", spec_text="")
    for run_id in (a, b, a2):
        store.finish_run(run_id, "finished")
    assert [r.id for r in store.runs(experiment="a")] == [a, a2]
    assert store.latest_run_ids() == [a2, b]
    with pytest.raises(KeraslabValueError, match="No run with this id"):
        store.run(999)
    with pytest.raises(KeraslabValueError, match="A run ends as one of"):
        store.finish_run(a, "running")


def test_wal_mode_and_store_folder(tmp_path):
    with ResultStore(tmp_path / "deep" / "runs.sqlite") as s:
        assert s._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s.run_folder(3) == tmp_path / "deep" / "run-0003" and s.run_folder(3).is_dir()


def test_not_a_store_is_a_clear_error(tmp_path):
    bad = tmp_path / "notes.sqlite"
    bad.write_text("this is not a database" * 100)
    with pytest.raises(KeraslabValueError, match="not a keraslab result store"):
        ResultStore(bad)
    with pytest.raises(KeraslabValueError, match="must be a file"):
        ResultStore(tmp_path)


def test_runs_of_dead_processes_are_marked_interrupted(tmp_path):
    path = tmp_path / "runs.sqlite"
    # A child process opens a run and a fit, records one epoch, and exits without closing them.
    code = (
        "import sys; from keraslab.store import ResultStore\n"
        "s = ResultStore(sys.argv[1]); r = s.begin_run('x', kind='train', spec_text='')\n"
        "f = s.begin_fit(r, 'training'); s.record_epoch(f, 1, {'loss': 1.0}, 0.1)\n"
        "import os; os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, env={**os.environ, "KERAS_BACKEND": "jax"})
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT status FROM runs").fetchone()[0] == "running"
    raw.close()
    with ResultStore(path) as s:
        (record,) = [s.run(r.id) for r in s.runs()]
        assert record.status == "interrupted"
        assert "ended before it finished" in record.error
        assert record.fits[0].status == "interrupted" and record.fits[0].history == {"loss": [1.0]}


def test_runs_of_live_processes_are_left_alone(store):
    run_id = store.begin_run("x", kind="train", spec_text="")  # this very process: alive
    assert store.recover() == []
    assert store.run(run_id).status == "running"


def test_figures_inside_the_store_folder_are_kept_relative(tmp_path):
    with ResultStore(tmp_path / "a" / "runs.sqlite") as s:
        run_id = s.begin_run("x", kind="train", spec_text="")
        figure = s.run_folder(run_id) / "history.png"
        figure.write_bytes(b"png")
        s.add_figure(run_id, "history", figure)
        s.finish_run(run_id, "finished")
        assert s._conn.execute("SELECT path FROM figures").fetchone()[0] == "run-0001/history.png"
    (tmp_path / "a").rename(tmp_path / "b")  # the whole folder moves; its figures are still found
    with ResultStore(tmp_path / "b" / "runs.sqlite") as s:
        (fig,) = s.run(1).figures
        assert open(fig.path, "rb").read() == b"png"
