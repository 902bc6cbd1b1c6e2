"""run(spec) on tiny data: dense, CNN, RNN, sweeps, CV (with a failing fold), grid, stop requests, failures."""

from __future__ import annotations

import math
import re
import sys
import textwrap

import numpy as np
import pytest

from keraslab.experiments import interrupt, load_spec, spec_from_dict
from keraslab.experiments.runner import run
from keraslab.experiments.recorder import EpochRecorder
from keraslab.experiments.training import final_line
from keraslab.store import ResultStore

FINAL = re.compile(r"^Epoch (\d+)/(\d+) - \d+s - loss: \S+( - \w+: \S+)*$")
DIGITS = {"dataset": "digits", "layout": "flat", "scaling": "unit"}
MAKE_MODEL = {"build": "keraslab.zoo.dense:make_model", "number_of_layers": 1, "neurons_per_layer": 16}


@pytest.fixture()
def store(tmp_path):
    with ResultStore(tmp_path / "runs.sqlite") as s:
        yield s


def test_dense_training_is_recorded_with_curves_and_the_chapter_comparison(store):
    spec = load_spec("b3-13-dropout", ["train.epochs=2", "data.subset=400"])
    result = run(spec, store=store, progress=False)
    assert result.status == "finished"
    (fit,) = result.fits
    assert len(fit.history["loss"]) == 2 and set(fit.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(fit.epoch_seconds) == 2 and all(s > 0 for s in fit.epoch_seconds)
    assert FINAL.match(result.final_line) and " - acc: " in result.final_line and " - val_acc: " in result.final_line
    assert result.summary["comparisons"][-1].startswith("chapter says:")
    assert set(result.figures) == {"history"} and result.figures["history"].is_file()
    record = store.run(result.run_id)
    assert record.status == "finished" and record.fits[0].history == fit.history
    assert record.fits[0].epoch_seconds == pytest.approx(fit.epoch_seconds)
    assert [f.name for f in record.figures] == ["history"]
    assert record.dataset_fingerprint and record.backend and "keras" in record.versions
    assert "epochs = 2" in record.spec and record.parameters["overrides"] == ["train.epochs=2", "data.subset=400"]
    assert "chapter says" in result.describe() and f"run {result.run_id}" in result.describe()


def test_cnn_with_reference_numbers(store):
    result = run(load_spec("b3-34-striding-cnn", ["train.epochs=1", "data.subset=300"]), store=store, progress=False)
    assert result.status == "finished"
    comparisons = result.summary["comparisons"]
    assert any(c.startswith("val_acc: chapter: 0.9912 · this run: ") for c in comparisons)
    assert any(c.startswith("epoch_seconds: chapter: 36 s · this run: ") for c in comparisons)


def test_rnn_on_sines_draws_predictions_against_truth(store):
    result = run(load_spec("b3-47-sines-0", ["train.epochs=1", "data.options.steps=40"]), store=store,
                 progress=False)
    (fit,) = result.fits
    assert fit.predictions is not None and len(fit.predictions) == 40 - 3  # test curve as long as training
    assert math.isfinite(fit.extras["rms_error"]) and fit.extras["rms_error"] > 0
    assert set(result.figures) == {"history", "predictions"}
    assert list(result.summary["rms_error"]) == ["training"]
    assert "acc" not in result.final_line and "val_loss" in result.final_line


def test_stateful_and_time_distributed_models_train(store):
    stateful = run(load_spec("b3-stateful", ["train.epochs=1", "data.options.steps=47"]), store=store, progress=False)
    assert stateful.status == "finished"
    assert len(stateful.fits[0].predictions) == 40  # 44 test windows cut to a multiple of the batch size 10
    seq = run(load_spec("b3-time-distributed", ["train.epochs=1", "data.options.steps=40"]), store=store,
              progress=False)
    assert seq.status == "finished" and len(seq.fits[0].predictions) == 40 - 5 - 1


def test_generated_batches_shapes_and_augmentation(store):
    shapes = run(load_spec("b3-45-shapes", ["train.epochs=1", "data.options.train_samples=64",
                                            "data.options.test_samples=32"]), store=store, progress=False)
    assert shapes.status == "finished" and set(shapes.figures) == {"images", "history"}
    assert shapes.fits[0].history["val_accuracy"]
    aug = run(load_spec("b3-42-augmentation", ["train.epochs=1", "data.subset=256"]), store=store, progress=False)
    assert aug.status == "finished" and "images" in aug.figures


def test_sweep_trains_once_per_value_and_draws_timing(store):
    spec = spec_from_dict({"data": {**DIGITS, "validation_split": 0.25}, "model": MAKE_MODEL,
                           "train": {"epochs": 2, "batch_size": 32},
                           "explore": {"kind": "sweep", "parameter": "train.batch_size", "values": [16, 128],
                                       "curves": [16]}}, name="sweep")
    result = run(spec, store=store, progress=False)
    assert [f.label for f in result.fits] == ["batch_size=16", "batch_size=128"]
    assert set(result.figures) == {"history-batch-size-16", "timing"}
    record = store.run(result.run_id)
    assert [f.params for f in record.fits] == [{"train.batch_size": 16}, {"train.batch_size": 128}]
    assert len(result.summary["final_lines"]) == 2


def test_learning_rate_sweep_compares_per_value(store):
    result = run(load_spec("b3-14-adam-lr", ["train.epochs=1", "data.subset=300"]), store=store, progress=False)
    assert [f.label for f in result.fits] == ["learning_rate=0.1", "learning_rate=0.01"]
    assert any(c.startswith("acc [learning_rate=0.1]: chapter: 0.1800 · this run: ")
               for c in result.summary["comparisons"])
    assert "timing" not in result.figures  # time against a learning rate says nothing


FLAKY = '''
import keras
from keraslab.zoo.dense import make_model
CALLS = []

def flaky_model(number_of_layers=1, neurons_per_layer=8, input_shape=(64,), n_classes=10):
    CALLS.append(1)
    if len(CALLS) == 2:
        raise RuntimeError("out of memory (simulated)")
    return make_model(number_of_layers, neurons_per_layer, input_shape=input_shape, n_classes=n_classes)
'''


def test_cv_records_a_failed_fold_as_failed_never_as_a_score(store, tmp_path, monkeypatch):
    (tmp_path / "flaky_builds.py").write_text(textwrap.dedent(FLAKY))
    # Fits one after another, so "the second build" is fold 2's (vectorised fits build members ahead).
    monkeypatch.setenv("KERASLAB_PARALLEL_FITS", "0")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("flaky_builds", None)
    spec = spec_from_dict({"data": {**DIGITS, "scaling": "none", "subset": 300},
                           "model": {"build": "flaky_builds:flaky_model"}, "train": {"epochs": 1, "batch_size": 64},
                           "explore": {"kind": "cv", "folds": 3, "scaler": "minmax"}}, name="cv")
    result = run(spec, store=store, progress=False)
    assert result.status == "finished"
    (cand,) = result.candidates
    assert [f.status for f in cand.folds] == ["finished", "failed", "finished"]
    assert cand.folds[1].score is None and "out of memory (simulated)" in cand.folds[1].error
    assert result.summary["fold_scores"][1] is None
    assert result.summary["mean_score"] == pytest.approx(np.mean([cand.folds[0].score, cand.folds[2].score]))
    assert "mean" in result.summary["lines"][1] and "over 2 of 3 folds" in result.summary["lines"][1]
    assert any("fold 2 FAILED (not counted as a score)" in line for line in result.summary["lines"])
    record = store.run(result.run_id)
    assert [(f.fold, f.status, f.score is None) for f in record.folds] == [
        (1, "finished", False), (2, "failed", True), (3, "finished", False)]
    assert record.candidates[0].status == "failed"
    assert "folds" in result.figures


def test_grid_search_in_scikit_learn_order_with_plots(store):
    spec = spec_from_dict({"data": {**DIGITS, "scaling": "none", "subset": 300},
                           "model": {"build": "keraslab.zoo.dense:make_model"},
                           "train": {"epochs": 1, "batch_size": 64},
                           "explore": {"kind": "grid", "folds": 2, "shuffle": False, "scaler": "minmax",
                                       "params": {"model.number_of_layers": [1, 2],
                                                  "model.neurons_per_layer": [8, 16]}}}, name="grid")
    result = run(spec, store=store, progress=False)
    params = [c.params for c in result.candidates]
    # ParameterGrid's order: sorted keys, the last varying fastest
    assert params == [{"model.neurons_per_layer": n, "model.number_of_layers": l} for n in (8, 16) for l in (1, 2)]
    assert all(len(c.folds) == 2 and c.status == "finished" for c in result.candidates)
    best = max(result.candidates, key=lambda c: c.mean)
    assert result.summary["best_params"] == best.params and result.summary["best_score"] == best.mean
    assert set(result.figures) == {"search-scores", "search-space"}
    assert len(store.run(result.run_id).candidates) == 4


def test_random_search_samples_n_iter_candidates(store):
    spec = spec_from_dict({"data": {**DIGITS, "subset": 200}, "model": {"build": "keraslab.zoo.dense:make_model"},
                           "train": {"epochs": 1, "batch_size": 64},
                           "explore": {"kind": "random", "n_iter": 2, "folds": 2, "random_state": 0,
                                       "params": {"model.neurons_per_layer": [4, 8, 16, 32]}}}, name="random")
    result = run(spec, store=store, progress=False)
    assert len(result.candidates) == 2 and result.status == "finished"


def test_a_stop_request_keeps_finished_epochs_and_ends_interrupted(store, monkeypatch):
    original = EpochRecorder.on_epoch_end

    def stop_after_two(self, epoch, logs=None):
        original(self, epoch, logs)
        if epoch == 1:
            interrupt.request_stop()  # what the first Ctrl-C does

    monkeypatch.setattr(EpochRecorder, "on_epoch_end", stop_after_two)
    spec = spec_from_dict({"data": {**DIGITS, "validation_split": 0.25}, "model": MAKE_MODEL,
                           "train": {"epochs": 20, "batch_size": 64},
                           "explore": {"kind": "sweep", "parameter": "train.batch_size", "values": [64, 128]}},
                          name="stopped")
    result = run(spec, store=store, progress=False)
    assert result.status == "interrupted"
    (fit,) = result.fits  # the second value never started
    assert fit.status == "interrupted" and len(fit.history["loss"]) == 2  # epoch 3 was cut short: not recorded
    record = store.run(result.run_id)
    assert record.status == "interrupted" and len(record.fits[0].history["loss"]) == 2
    assert "history-batch-size-64" in result.figures
    assert not interrupt.requested()  # cleared when the run ends


def test_a_failing_run_is_stored_as_failed_and_raised(store):
    spec = spec_from_dict({"data": DIGITS, "model": {**MAKE_MODEL, "neurons_per_layer": -1},
                           "train": {"epochs": 1}}, name="broken")
    with pytest.raises(ValueError, match="neurons_per_layer must be a positive integer"):
        run(spec, store=store, progress=False)
    (summary,) = store.runs()
    record = store.run(summary.id)
    assert record.status == "failed" and "neurons_per_layer" in record.error
    assert record.fits[0].status == "failed"


def test_progress_bar_for_cross_validation(store, capsys):
    import io

    stream = io.StringIO()
    spec = spec_from_dict({"data": {**DIGITS, "subset": 200}, "model": MAKE_MODEL, "train": {"epochs": 1},
                           "explore": {"kind": "cv", "folds": 2}}, name="cvbar")
    run(spec, store=store, progress=True, stream=stream)
    text = stream.getvalue()
    assert "Fitting 2 folds for each of 1 candidates, totalling 2 fits" in text
    assert "2/2 fits" in text and "elapsed" in text and "ETA" in text


def test_final_line_formats_tiny_numbers_like_keras_2():
    line = final_line({"loss": [2.7e-4], "accuracy": [1.0], "val_loss": [0.1016], "val_accuracy": [0.9862]},
                      [66.2], 100)
    assert line == "Epoch 1/100 - 66s - loss: 2.7000e-04 - acc: 1.0000 - val_loss: 0.1016 - val_acc: 0.9862"
