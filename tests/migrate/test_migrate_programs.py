"""Whole Keras 2-style programs of our own, migrated by keraslab and then run on small data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import data_dir
from keraslab.migrate import migrate_source

PROGRAMS = Path(__file__).parent / "programs"


def run_migrated(name: str, **namespace):
    data_dir()  # the programs load MNIST / text from $KERASLAB_DATA
    code, result = migrate_source((PROGRAMS / name).read_text(), name)
    assert result.error is None and "tensorflow." not in code and ".fit_generator(" not in code
    scope = {"__name__": "__main__", **namespace}
    exec(compile(code, name, "exec"), scope)
    return scope, result


def test_mlp_with_keras1_arguments_numpy_sizes_and_decay_trains():
    scope, result = run_migrated("mlp_keras2.py")
    assert {"tf-keras", "keras-submodules", "cast-to-floatx", "int-layer-sizes", "keras1-layers", "optimizer-lr",
            "nb-epoch", "load-mnist"} <= set(result.rules_fired())
    loss = scope["history"].history["loss"]
    assert len(loss) == 2 and loss[1] < loss[0]  # nb_epoch=2 became epochs=2 and it learns
    assert scope["model"].layers[-1].units == 10


def test_cnn_with_augmentation_through_fit_generator_trains_on_standardised_batches():
    scope, result = run_migrated("cnn_augment_keras2.py")
    assert result.rules_fired()["fit-generator"] == 3
    assert len(scope["history"].history["loss"]) == 1 and np.isfinite(scope["score"]).all()
    assert scope["model"].layers[0].kernel.shape == (3, 3, 1, 8)  # Convolution2D(8, 3, 3) -> Conv2D(8, (3, 3))
    batch = scope["datagen"].flow(scope["x"], scope["y"], batch_size=256, shuffle=False)[0][0]
    assert abs(float(batch.mean())) < 0.2  # featurewise statistics from datagen.fit


def test_stateful_lstm_carries_state_and_resets():
    scope, result = run_migrated("stateful_lstm_keras2.py")
    assert {"batch-input-shape", "stateful-layers", "reset-states"} <= set(result.rules_fired())
    assert not np.allclose(scope["first"], scope["second"])  # state carried between predict calls
    np.testing.assert_allclose(scope["first"], scope["third"], rtol=1e-5, atol=1e-6)  # and reset


def test_char_level_text_generator_trains_and_generates():
    scope, _ = run_migrated("text_generator_keras2.py", TEXT_PATH=str(data_dir() / "sherlock.txt"))
    assert len(scope["generated"]) == 10 and set(scope["generated"]) <= set(scope["chars"])


def test_grid_search_over_a_build_fn_runs_with_keraslab_wrapper():
    scope, result = run_migrated("grid_search_keras2.py")
    assert result.rules_fired()["sklearn-wrapper"] == 1
    search = scope["search"]
    assert search.best_params_["neurons"] in (4, 8) and len(search.cv_results_["mean_test_score"]) == 2
    assert search.best_estimator_.get_params()["epochs"] == 2
