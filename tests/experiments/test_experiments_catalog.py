"""Every catalogue spec parses, builds its model and carries the chapter's settings; the slow test runs them all."""

from __future__ import annotations

import time

import keras
import pytest

from keraslab.experiments import catalog_entries, catalog_names, load_spec
from keraslab.experiments.inputs import load_inputs
from keraslab.experiments.training import build_kwargs, make_estimator

NAMES = catalog_names()
REQUIRED = [
    "b3-01-batch-size", "b3-13-dropout", "b3-14-adam-lr", "b3-cv", "b3-grid-1", "b3-grid-2", "b3-grid-3",
    "b3-28-simple-cnn", "b3-30-bigger-cnn", "b3-32-pooling-cnn", "b3-34-striding-cnn", "b3-36-batchnorm-cnn",
    "b3-38-vgg-pooling", "b3-40-vgg-striding", "b3-42-augmentation", "b3-45-shapes", "b3-47-sines-0",
    "b3-48-sines-1", "b3-69-upsloping", "b3-72-deep-rnn", "b3-77-more-data", "b3-stateful", "b3-time-distributed",
]


def test_the_catalogue_covers_the_chapter():
    assert set(REQUIRED) <= set(NAMES)
    assert any("windows" in n for n in NAMES)  # the window-size variants
    kinds = {e.name: e.kind for e in catalog_entries()}
    assert kinds["b3-cv"] == "cv" and kinds["b3-grid-1"] == "grid" and kinds["b3-01-batch-size"] == "sweep"


@pytest.mark.parametrize("name", NAMES)
def test_spec_parses_and_builds_its_model(name):
    spec = load_spec(name, ["data.subset=64", "data.test_subset=64"] if name != "b3-45-shapes" else
                     ["data.options.train_samples=32", "data.options.test_samples=32"])
    inputs = load_inputs(spec.data)
    variants = [spec]
    if spec.kind == "sweep" and spec.explore.parameter.startswith("model."):
        variants = [spec.with_value(spec.explore.parameter, v) for v in spec.explore.values]
    for variant in variants:
        keras.backend.clear_session()
        model = variant.model.function()(**build_kwargs(variant, inputs))
        assert isinstance(model, keras.Model) and model.compiled
        expected = inputs.input_shape if not variant.train.stateful else (variant.train.batch_size,) + inputs.input_shape
        assert tuple(model.input_shape[1 if not variant.train.stateful else 0:]) == expected
    if spec.kind in ("grid", "random"):
        estimator = make_estimator(spec, inputs, scaler=spec.explore.scaler)
        for key, values in spec.explore.params.items():  # every searched name is a parameter of the estimator
            prefix = "model_step__" if spec.explore.scaler != "none" else ""
            estimator.set_params(**{prefix + key.split(".", 1)[1]: values[0]})


@pytest.mark.parametrize("name", NAMES)
def test_spec_keeps_the_chapters_settings(name):
    spec = load_spec(name)
    if spec.data.dataset == "mnist":
        assert spec.train.batch_size == 256 and spec.train.epochs == 100
        if spec.kind in ("train", "sweep"):
            assert spec.data.validation_split == 0.25
    if spec.data.layout == "sequence":
        assert spec.train.epochs == 100
        assert spec.train.batch_size == (10 if spec.train.stateful else 1)
    assert spec.reference, "every experiment records what the chapter reports (numbers or a note)"


def test_reference_numbers_of_the_cnn_chapter():
    assert load_spec("b3-32-pooling-cnn").reference["val_acc"] == 0.9939
    assert load_spec("b3-34-striding-cnn").reference["val_acc"] == 0.9912
    assert load_spec("b3-34-striding-cnn").reference["epoch_seconds"] == 36
    cv = load_spec("b3-cv").reference
    assert cv["mean_score"] == 0.9550 and len(cv["fold_scores"]) == 10
    grid = load_spec("b3-grid-1")
    assert len(grid.reference["mean_scores"]) == 18 and grid.reference["best_score"] == 0.9557


@pytest.mark.slow
def test_every_catalogue_experiment_runs(tmp_path, capsys):
    """The whole catalogue with --set train.epochs=1 --set data.subset=2000 (run under the CPU flock)."""
    from keraslab.experiments.runner import run
    from keraslab.store import ResultStore

    timings = {}
    with ResultStore(tmp_path / "runs.sqlite") as store:
        for name in NAMES:
            start = time.perf_counter()
            result = run(load_spec(name, ["train.epochs=1", "data.subset=2000"]), store=store, progress=False)
            timings[name] = time.perf_counter() - start
            assert result.status == "finished", (name, result.error)
            assert result.figures and all(p.is_file() for p in result.figures.values()), name
    with capsys.disabled():
        for name, seconds in timings.items():
            print(f"{name:<24} {seconds:7.1f} s")
        print(f"{'total':<24} {sum(timings.values()):7.1f} s")
