"""Plot data functions (numbers) and a smoke test of every render function."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from keraslab import plots
from keraslab.errors import KeraslabValueError

HISTORY = {
    "loss": [0.9, 0.5, 0.3],
    "accuracy": [0.7, 0.85, 0.9],
    "val_loss": [1.0, 0.6, 0.5],
    "val_accuracy": [0.65, 0.8, 0.82],
    "seconds": [3.0, 2.0, 2.0],
}
RESULTS = {
    "params": [{"model_step__layers": l, "model_step__neurons": n, "model_step__optimizer": o}
               for n in (20, 40) for l in (2, 3) for o in ("adam", "adadelta")],
    "mean_test_score": [0.93, 0.91, 0.92, 0.90, 0.955, 0.94, 0.95, float("nan")],
    "std_test_score": [0.01] * 8,
}


def test_history_panels_pair_training_with_validation():
    panels = plots.history_panels(HISTORY)
    assert [p["metric"] for p in panels] == ["accuracy", "loss"]
    acc, loss = panels
    assert acc["epochs"] == [1, 2, 3] and acc["train"] == [0.7, 0.85, 0.9] and acc["validation"] == [0.65, 0.8, 0.82]
    assert loss["validation"] == [1.0, 0.6, 0.5]


def test_history_panels_without_validation_or_accuracy():
    (panel,) = plots.history_panels({"loss": [1.0, 0.5]})
    assert panel == {"metric": "loss", "epochs": [1, 2], "train": [1.0, 0.5], "validation": None}
    # Keras 2 names are understood too
    assert plots.history_panels({"acc": [0.5], "loss": [1.0]})[0]["metric"] == "acc"
    with pytest.raises(KeraslabValueError, match="needs a 'loss'"):
        plots.history_panels({"mae": [1.0]})
    with pytest.raises(KeraslabValueError, match="Expected a history"):
        plots.history_panels([1, 2])


def test_timing_points_sorted_and_skipping_unfinished():
    data = plots.timing_points([2048, 8, 64, 512], [10.0, 95.0, None, 12.5])
    assert data == {"values": [8.0, 512.0, 2048.0], "seconds": [95.0, 12.5, 10.0]}
    with pytest.raises(KeraslabValueError, match="same length"):
        plots.timing_points([1, 2], [1.0])


def test_fold_score_bars_never_turn_a_failure_into_zero():
    data = plots.fold_score_bars([0.95, None, 0.97, float("nan")])
    assert data["folds"] == [1, 3] and data["scores"] == [0.95, 0.97]
    assert data["failed"] == [2, 4]
    assert data["mean"] == pytest.approx(0.96)
    assert plots.fold_score_bars([None])["mean"] is None


def test_search_score_points_keep_order_and_mark_best_and_failed():
    data = plots.search_score_points(RESULTS)
    assert data["index"] == list(range(8))
    assert data["best"] == 4
    assert data["failed"] == [7]
    assert data["names"] == ["layers", "neurons", "optimizer"]
    assert data["labels"][0] == "2, 20, adam" and data["labels"][4] == "2, 40, adam"
    with pytest.raises(KeraslabValueError, match="cv_results_"):
        plots.search_score_points({"params": []})


def test_search_space_points_choose_numeric_axes_and_hue():
    data = plots.search_space_points(RESULTS)
    assert (data["x_name"], data["y_name"], data["hue_name"]) == (
        "model_step__layers", "model_step__neurons", "model_step__optimizer")
    assert data["x"][:4] == [2, 2, 3, 3] and data["y"][:4] == [20, 20, 20, 20]
    # the best score gets the largest bubble, the worst finite one the smallest, a failed one none
    finite = [s for s, m in zip(data["size"], data["score"]) if math.isfinite(m)]
    assert data["size"][4] == max(finite) == pytest.approx(400.0)
    assert min(finite) == pytest.approx(40.0) and data["size"][7] == 0.0
    with pytest.raises(KeraslabValueError, match="Unknown parameter"):
        plots.search_space_points(RESULTS, x="model_step__layers", y="nope")
    with pytest.raises(KeraslabValueError, match="two numeric parameters"):
        plots.search_space_points({"params": [{"o": "a"}, {"o": "b"}], "mean_test_score": [1, 2]})


def test_sequence_series_are_offset_by_the_window():
    truth = np.arange(10.0)
    preds = np.arange(3.0, 10.0) + 0.5
    data = plots.sequence_prediction_series(truth, preds, window_size=3)
    assert data["prediction_steps"] == list(range(3, 10))
    assert data["truth_steps"] == list(range(10))
    assert data["rms_error"] == pytest.approx(0.5)
    with pytest.raises(KeraslabValueError, match="one prediction per step"):
        plots.sequence_prediction_series(truth, preds[:-1], window_size=3)
    with pytest.raises(KeraslabValueError, match="window_size must be a positive integer"):
        plots.sequence_prediction_series(truth, preds, window_size=0)


def test_grid_shape():
    assert plots.grid_shape(16) == (4, 4)
    assert plots.grid_shape(5, ncols=8) == (1, 5)
    assert plots.grid_shape(17, ncols=8) == (3, 8)
    with pytest.raises(KeraslabValueError):
        plots.grid_shape(0)


@pytest.mark.parametrize(
    "name, make",
    [
        ("history", lambda: plots.plot_history(HISTORY, title="t")),
        ("history-one-epoch", lambda: plots.plot_history({"loss": [1.0], "val_loss": [1.1]})),
        ("timing", lambda: plots.plot_timing([8, 64, 512, 2048], [95.0, 30.0, 12.0, 10.0])),
        ("folds", lambda: plots.plot_fold_scores([0.95, None, 0.96])),
        ("scores", lambda: plots.plot_search_scores(RESULTS)),
        ("space", lambda: plots.plot_search_space(RESULTS)),
        ("sequence", lambda: plots.plot_sequence_predictions(np.sin(np.arange(50) / 5),
                                                               np.sin(np.arange(3, 50) / 5), 3)),
        ("grid", lambda: plots.image_grid(np.random.default_rng(0).random((10, 8, 8, 1)),
                                          labels=list("abcdefghij"), title="grid")),
    ],
)
def test_every_figure_draws_and_saves(tmp_path, name, make):
    path = plots.save_figure(make(), tmp_path / "sub" / f"{name}.png")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > 300 and image.height > 200


def test_timing_uses_a_log_axis_with_the_swept_values_as_ticks():
    fig = plots.plot_timing([8, 64, 512], [90.0, 30.0, 10.0])
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["8", "64", "512"]


def test_plot_history_has_two_panels_with_both_curves():
    fig = plots.plot_history(HISTORY)
    assert [ax.get_title() for ax in fig.axes] == ["accuracy", "loss"]
    assert all(len(ax.lines) == 2 for ax in fig.axes)


def test_image_grid_rejects_bad_shapes():
    with pytest.raises(KeraslabValueError, match="images must have shape"):
        plots.image_grid(np.zeros((8, 8)))
    with pytest.raises(KeraslabValueError, match="one label per image"):
        plots.image_grid(np.zeros((2, 8, 8)), labels=["a"])
