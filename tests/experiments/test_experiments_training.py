"""train and sweep fit through the scikit-learn wrapper (one road to model.fit), arrays and generated batches."""

from __future__ import annotations

import keras
import pytest

from keraslab.experiments import load_spec, spec_from_dict
from keraslab.experiments.runner import run
from keraslab.store import ResultStore
from keraslab.wrappers import BaseWrapper

DIGITS = {"dataset": "digits", "layout": "flat", "scaling": "unit"}


@pytest.fixture()
def fits(monkeypatch):
    """Every wrapper fit of the test: (wrapper class, type of X, y is None)."""
    seen = []
    original = BaseWrapper.fit

    def spy(self, X, y=None, sample_weight=None, **kw):
        seen.append((type(self).__name__, X, y is None))
        return original(self, X, y, sample_weight, **kw)

    monkeypatch.setattr(BaseWrapper, "fit", spy)
    return seen


def test_a_sweep_trains_each_value_through_the_wrapper(tmp_path, fits):
    spec = spec_from_dict({"data": {**DIGITS, "validation_split": 0.25},
                           "model": {"build": "keraslab.zoo.dense:make_model", "number_of_layers": 1,
                                     "neurons_per_layer": 8},
                           "train": {"epochs": 2, "batch_size": 64},
                           "explore": {"kind": "sweep", "parameter": "train.batch_size", "values": [64, 128]}},
                          name="sweep")
    with ResultStore(tmp_path / "runs.sqlite") as store:
        result = run(spec, store=store, progress=False)
        record = store.run(result.run_id)
    assert [name for name, _, _ in fits] == ["KerasClassifier", "KerasClassifier"]
    assert [f.status for f in result.fits] == ["finished", "finished"]
    assert all(len(f.history["val_accuracy"]) == 2 for f in result.fits)
    assert [f.history for f in record.fits] == [f.history for f in result.fits]
    # The same seed gives the same training as the wrapper fitted by hand.
    again = run(spec, store=tmp_path / "again.sqlite", progress=False)
    assert again.fits[0].history["loss"] == pytest.approx(result.fits[0].history["loss"], rel=1e-5)


def test_generated_shapes_are_batches_given_to_the_wrapper(tmp_path, fits):
    spec = load_spec("b3-45-shapes", ["train.epochs=1", "data.options.train_samples=64",
                                      "data.options.test_samples=32", "train.batch_size=32"])
    result = run(spec, store=tmp_path / "runs.sqlite", progress=False)
    ((name, X, no_y),) = fits
    assert name == "KerasClassifier" and isinstance(X, keras.utils.PyDataset) and no_y
    assert result.status == "finished" and len(result.fits[0].history["val_accuracy"]) == 1
