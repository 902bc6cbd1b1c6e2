"""Scale-out: keraslab searches run their fits through joblib, so the Dask backend spreads them."""

from __future__ import annotations

import joblib
import numpy as np
import pytest
from sklearn.linear_model import SGDClassifier

from keraslab.search import JournaledGridSearchCV, MultiResolutionSearchCV, Real
from search_helpers import classification_data

distributed = pytest.importorskip("distributed")

X, Y = classification_data()
SPACE = {"alpha": Real(1e-5, 1e-1, log=True), "penalty": ["l2", "l1"]}


def _search(journal=None):
    # random_state=None on the estimator: each fit gets a seed derived from
    # (7, candidate, fold), so where a fit runs does not change its result.
    return MultiResolutionSearchCV(SGDClassifier(max_iter=30, tol=None), SPACE, rounds=2, cv=3,
                                   random_state=7, journal=journal)


def test_fits_run_on_a_local_dask_cluster_with_the_same_results(tmp_path):
    local = _search().fit(X, Y)
    # Two single-threaded workers talking TCP over loopback; threads in this process
    # (processes=False) keep start-up under a second.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp://",
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
            remote = _search(journal=str(tmp_path / "dask.sqlite")).fit(X, Y)
            grid = JournaledGridSearchCV(SGDClassifier(max_iter=30, tol=None), {"alpha": [1e-4, 1e-2]},
                                         cv=3, random_state=7).fit(X, Y)
        workers = {task["worker"] for task in stream.data}
    assert stream.data  # joblib batches fits into Dask tasks, so fewer tasks than fits
    assert len(workers) == 2  # both workers did fits
    assert remote.cv_results_["params"] == local.cv_results_["params"]
    np.testing.assert_array_equal(remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])
    assert remote.best_params_ == local.best_params_
    assert len(grid.cv_results_["params"]) == 2
