"""The journal: kill a search, resume it, lose and redo nothing; refuse foreign journals."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold

import search_helpers
from keraslab.errors import KeraslabValueError
from keraslab.search import (
    Journal,
    JournaledGridSearchCV,
    JournaledRandomizedSearchCV,
    JournalMismatchError,
    MultiResolutionSearchCV,
    Real,
)
from keraslab._fingerprint import derive_seed, fingerprint_data, stable_repr
from keraslab.search.journal import candidate_key
from search_helpers import SlowLogisticRegression, classification_data

X, Y = classification_data()
HERE = Path(__file__).parent


def _same_results(a: dict, b: dict) -> None:
    """cv_results_ equal in everything but timings."""
    assert set(a) == set(b)
    for key in a:
        if "time" in key:
            continue
        if key == "params":
            assert a[key] == b[key]
        else:
            np.testing.assert_array_equal(np.asarray(a[key]), np.asarray(b[key]), err_msg=key)


def _rows(path) -> dict:
    with sqlite3.connect(path) as conn:
        return {(c, f, s): (r, t) for c, f, s, r, t in
                conn.execute("SELECT candidate, fold, subset, result, finished_at FROM fits")}


def _multires(journal=None):
    space = {"C": Real(1e-3, 1e2, log=True), "fit_intercept": [True, False]}
    return MultiResolutionSearchCV(SlowLogisticRegression(), space, rounds=3, subsets=(0.5, 1.0),
                                   cv=StratifiedKFold(3, shuffle=True, random_state=0), journal=journal)


SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {helpers!r})
    from search_helpers import classification_data
    from test_search_journal import _multires
    X, y = classification_data()
    _multires(sys.argv[1]).fit(X, y)
    print("finished")
    """
)


@pytest.mark.filterwarnings("ignore::keraslab.search.ProxyNotRepresentativeWarning")
def test_sigkill_then_resume_recomputes_nothing_and_matches_an_uninterrupted_run(tmp_path):
    journal = tmp_path / "search.sqlite"
    script = tmp_path / "run_search.py"
    script.write_text(SCRIPT.format(helpers=str(HERE)))
    env = dict(os.environ, KERASLAB_TEST_FIT_DELAY="0.2", PYTHONPATH=str(HERE))
    proc = subprocess.Popen([sys.executable, str(script), str(journal)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 180
        n = 0
        while time.monotonic() < deadline and proc.poll() is None:
            if journal.exists():
                try:
                    n = len(_rows(journal))
                except sqlite3.OperationalError:  # tables not created yet
                    n = 0
            if n >= 8:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
        assert n >= 8, "the search did not get going in time"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    before = _rows(journal)
    resumed = _multires(str(journal)).fit(X, Y)
    after = _rows(journal)
    # Nothing finished was lost or recomputed: the same rows, untouched timestamps.
    assert all(after[k] == v for k, v in before.items())
    assert resumed.n_fits_reused_ == len(before)
    reference = _multires().fit(X, Y)
    total = sum(rd["n_fits"] for rd in reference.rounds_)
    assert resumed.n_fits_computed_ + resumed.n_fits_reused_ == total == len(after)
    _same_results(resumed.cv_results_, reference.cv_results_)
    assert resumed.best_params_ == reference.best_params_
    assert [rd["leaders"] for rd in resumed.rounds_] == [rd["leaders"] for rd in reference.rounds_]
    # A third run fits nothing at all.
    again = _multires(str(journal)).fit(X, Y)
    assert again.n_fits_computed_ == 0 and again.n_fits_reused_ == total


def test_ctrl_c_keeps_finished_fits_and_resume_completes(tmp_path, monkeypatch):
    journal = str(tmp_path / "grid.sqlite")
    grid = {"C": [0.01, 0.1, 1.0, 10.0]}

    def search(path):
        return JournaledGridSearchCV(SlowLogisticRegression(), grid, cv=3, journal=path)

    monkeypatch.setattr(search_helpers, "STOP_AT", 1.0)
    with pytest.raises(KeyboardInterrupt):
        search(journal).fit(X, Y)
    assert len(Journal(journal)) == 6  # C=0.01 and C=0.1 on 3 folds each
    monkeypatch.setattr(search_helpers, "STOP_AT", None)
    resumed = search(journal).fit(X, Y)
    assert (resumed.n_fits_reused_, resumed.n_fits_computed_) == (6, 6)
    plain = GridSearchCV(SlowLogisticRegression(), grid, cv=3).fit(X, Y)
    _same_results(resumed.cv_results_, plain.cv_results_)  # a drop-in GridSearchCV
    assert resumed.best_params_ == plain.best_params_


def test_journal_is_shared_between_search_kinds(tmp_path):
    journal = str(tmp_path / "shared.sqlite")
    JournaledGridSearchCV(LogisticRegression(), {"C": [0.001, 100.0]}, cv=3, journal=journal).fit(X, Y)
    s = MultiResolutionSearchCV(LogisticRegression(), {"C": Real(1e-3, 1e2, log=True)}, rounds=1, cv=3,
                                journal=journal).fit(X, Y)
    assert (s.n_fits_reused_, s.n_fits_computed_) == (6, 3)  # 0.001 and 100 were already fitted


@pytest.mark.parametrize(
    "change, part",
    [
        (dict(X=X + 1.0), "data"),
        (dict(y=1 - Y), "data"),
        (dict(cv=KFold(4)), "cv"),
        (dict(cv=KFold(3, shuffle=True, random_state=1)), "cv"),
        (dict(estimator=LogisticRegression(max_iter=50)), "estimator"),
        (dict(scoring="roc_auc"), "scoring"),
    ],
)
def test_a_journal_of_another_search_is_refused(tmp_path, change, part):
    journal = str(tmp_path / "j.sqlite")
    base = dict(estimator=LogisticRegression(), cv=KFold(3), scoring=None, X=X, y=Y)
    JournaledGridSearchCV(base["estimator"], {"C": [0.1, 1.0]}, cv=base["cv"], journal=journal).fit(X, Y)
    args = {**base, **change}
    other = JournaledGridSearchCV(args["estimator"], {"C": [0.1, 1.0]}, cv=args["cv"], scoring=args["scoring"],
                                  journal=journal)
    with pytest.raises(JournalMismatchError, match=rf"\({part} differ.*Use a new journal file.*Received: journal="):
        other.fit(args["X"], args["y"])
    assert isinstance(JournalMismatchError("x"), ValueError)


def test_searched_parameters_defaults_do_not_matter(tmp_path):
    journal = str(tmp_path / "j.sqlite")
    JournaledGridSearchCV(LogisticRegression(C=1.0), {"C": [0.1, 1.0]}, cv=3, journal=journal).fit(X, Y)
    s = JournaledGridSearchCV(LogisticRegression(C=5.0), {"C": [0.1, 1.0]}, cv=3, journal=journal).fit(X, Y)
    assert s.n_fits_reused_ == 6


def test_a_journal_needs_repeatable_folds_and_draws(tmp_path):
    journal = str(tmp_path / "j.sqlite")
    with pytest.raises(KeraslabValueError, match="same folds every time"):
        JournaledGridSearchCV(LogisticRegression(), {"C": [1.0]}, cv=KFold(3, shuffle=True),
                              journal=journal).fit(X, Y)
    with pytest.raises(KeraslabValueError, match="integer random_state"):
        JournaledRandomizedSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, n_iter=2, cv=3,
                                    journal=journal).fit(X, Y)
    s = JournaledRandomizedSearchCV(LogisticRegression(), {"C": [0.1, 1.0, 10.0]}, n_iter=2, cv=3,
                                    journal=journal, random_state=0).fit(X, Y)
    assert len(s.cv_results_["params"]) == 2


def test_seeds_are_derived_per_candidate_and_fold():
    s = JournaledGridSearchCV(search_helpers.Landscape(), {"x": [0.1, 0.3]}, cv=3, random_state=5).fit(X, Y)
    key = candidate_key(s.best_params_)
    assert s.best_estimator_.random_state == derive_seed(5, key, -1)
    seeds = {derive_seed(5, key, fold) for fold in range(3)}
    assert len(seeds) == 3 and all(0 <= v < 2**31 for v in seeds)


def test_stable_descriptions_do_not_depend_on_the_process():
    def build(units=3):
        return units

    r = stable_repr({"f": build, "arr": np.arange(3), "est": LogisticRegression(C=2.0)})
    assert "0x" not in r and "build" in r and "C=2.0" in r
    assert candidate_key({"b": np.int64(2), "a": 1.5}) == "{'a': 1.5, 'b': 2}"
    assert fingerprint_data(X, Y) == fingerprint_data(X.copy(), Y.copy()) != fingerprint_data(X, 1 - Y)


def test_journal_rows_round_trip(tmp_path):
    path = tmp_path / "deep" / "j.sqlite"
    with Journal(path) as j:
        j.bind({"data": "d"})
        j.record("k", 0, "full", {"test_scores": {"a": np.float64(0.5)}, "fit_time": 0.1, "other": 1})
        assert j.lookup("k", 0, "full") == {"test_scores": {"a": 0.5}, "fit_time": 0.1}
        assert j.lookup("k", 1, "full") is None and len(j) == 1
    with Journal(path) as j:
        with pytest.raises(JournalMismatchError, match="data: journal has 'd', this search has 'e'"):
            j.bind({"data": "e"})
        with sqlite3.connect(path) as c:
            assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
