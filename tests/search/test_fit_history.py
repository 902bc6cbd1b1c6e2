"""Per-epoch histories in the search engine's per-fit results: listeners and the journal
get ``{metric: [per-epoch floats]}`` for sequential and vectorised fits alike."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold

from keraslab import KerasClassifier
from keraslab.search import JournaledGridSearchCV, parallel_fits
from keraslab.search.journal import Journal
from keraslab.search.listen import listening
from keraslab.zoo.dense import make_model


class _Recorder:
    def __init__(self):
        self.fits, self.resumed = {}, {}

    def on_planned(self, key, fold, subset):
        pass

    def on_resumed(self, key, fold, subset, result):
        self.resumed[(key, fold)] = result

    def on_fit(self, key, fold, subset, result):
        self.fits[(key, fold)] = result


def _data(n=120, d=8, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.rand(n, d).astype("float32")
    return X, (X[:, 0] + X[:, 1] > 1).astype(int)


def _search(journal=None):
    est = KerasClassifier(build_fn=make_model, number_of_layers=1, neurons_per_layer=8, dropout_ratio=0.0,
                          epochs=2, batch_size=32, verbose=0, random_state=0)
    return JournaledGridSearchCV(est, {"learning_rate": [0.001, 0.01]}, cv=KFold(2, shuffle=True, random_state=0),
                                 journal=journal, refit=False)


def _assert_same_history(got, expected):
    # pytest >= 9.1 refuses approx() on dicts of lists, so compare metric by metric
    assert set(got) == set(expected)
    for name, values in expected.items():
        assert got[name] == pytest.approx(values), name


@pytest.mark.parametrize("setting", [False, "auto"], ids=["sequential", "vectorised"])
def test_listener_and_journal_get_per_epoch_history(tmp_path, setting):
    X, y = _data()
    recorder = _Recorder()
    path = tmp_path / "j.sqlite"
    with parallel_fits(setting), listening(recorder):
        _search(str(path)).fit(X, y)
    assert len(recorder.fits) == 4
    for result in recorder.fits.values():
        assert set(result["history"]) == {"loss", "accuracy"}
        assert all(len(v) == 2 and all(np.isfinite(v)) for v in result["history"].values())
    journal = Journal(str(path))
    try:
        stored = {(k, f): journal.lookup(k, f, "full") for k, f in recorder.fits}
    finally:
        journal.close()
    for key, row in stored.items():
        _assert_same_history(row["history"], recorder.fits[key]["history"])
    # resumed from the journal: the listener gets the stored history back
    again = _Recorder()
    with parallel_fits(setting), listening(again):
        _search(str(path)).fit(X, y)
    assert not again.fits and set(again.resumed) == set(recorder.fits)
    for key, row in again.resumed.items():
        _assert_same_history(row["history"], recorder.fits[key]["history"])


def test_estimator_without_history_gives_empty_history():
    X, y = _data()
    recorder = _Recorder()
    with listening(recorder):
        JournaledGridSearchCV(Ridge(), {"alpha": [0.1, 1.0]}, cv=2).fit(X, y.astype(float))
    assert [r["history"] for r in recorder.fits.values()] == [{}] * 4
