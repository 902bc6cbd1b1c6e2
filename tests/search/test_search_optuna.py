"""Bayesian search: OptunaSearchCV with KerasClassifier (pruning on epochs), shared studies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")
optuna_integration = pytest.importorskip("optuna_integration")
pytest.importorskip("pandas")  # OptunaSearchCV needs it

from optuna.trial import TrialState  # noqa: E402

from keraslab.search import shared_study  # noqa: E402

HERE = Path(__file__).parent


class EveryOtherPruner(optuna.pruners.BasePruner):
    """Prunes odd-numbered trials at their first reported epoch (deterministic)."""

    def prune(self, study, trial):
        return trial.number % 2 == 1 and len(trial.intermediate_values) >= 1


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning", "ignore::FutureWarning")
def test_optuna_search_cv_tunes_a_keras_classifier_and_prunes_on_epochs(mnist_small):
    from optuna.distributions import IntDistribution
    from optuna_integration import OptunaSearchCV

    from keraslab import KerasClassifier
    from keraslab.zoo.dense import make_model

    x, y = mnist_small
    x, y = x[:240], y[:240]
    clf = KerasClassifier(build_fn=make_model, number_of_layers=1, neurons_per_layer=16, batch_size=64,
                          epochs=1, verbose=0, random_state=0)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", pruner=EveryOtherPruner(),
                                sampler=optuna.samplers.TPESampler(seed=0))
    search = OptunaSearchCV(clf, {"neurons_per_layer": IntDistribution(8, 32, log=True)}, cv=2, n_trials=2,
                            max_iter=2, enable_pruning=True, study=study, refit=False, random_state=0)
    search.fit(x, y)
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE, TrialState.PRUNED]
    # One intermediate score per epoch (partial_fit call): two for the finished trial,
    # one for the trial pruned after its first epoch.
    assert sorted(study.trials[0].intermediate_values) == [0, 1]
    assert sorted(study.trials[1].intermediate_values) == [0]
    assert 0.0 < search.best_score_ <= 1.0
    assert 8 <= search.best_params_["neurons_per_layer"] <= 32


WORKER = textwrap.dedent(
    """
    import os, sys, time
    import optuna
    from optuna.distributions import FloatDistribution
    from optuna_integration import OptunaSearchCV
    from sklearn.linear_model import LogisticRegression
    sys.path.insert(0, {helpers!r})
    from search_helpers import classification_data
    from keraslab.search import shared_study

    storage, worker, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = shared_study("shared", storage, sampler=optuna.samplers.TPESampler(seed=worker))
    open(os.path.join(folder, f"ready-{{worker}}"), "w").close()
    deadline = time.monotonic() + 120
    while not all(os.path.exists(os.path.join(folder, f"ready-{{i}}")) for i in (0, 1)):
        time.sleep(0.01)  # start together, so the two processes really write concurrently
        if time.monotonic() > deadline:
            sys.exit("the other worker never became ready")
    X, y = classification_data()
    search = OptunaSearchCV(LogisticRegression(), {{"C": FloatDistribution(1e-3, 1e2, log=True)}}, cv=3,
                            n_trials=8, study=study, refit=False, random_state=worker)
    search.fit(X, y)
    print("done", worker)
    """
)


def _launch(args, env=None):
    return subprocess.Popen([sys.executable, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env or dict(os.environ))


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
@pytest.mark.parametrize("storage_name", ["study.sqlite", "study.log"])
def test_two_processes_share_one_study(tmp_path, storage_name):
    script = tmp_path / "worker.py"
    script.write_text(WORKER.format(helpers=str(HERE)))
    storage = tmp_path / storage_name
    procs = [_launch([script, storage, i, tmp_path]) for i in (0, 1)]
    try:
        outputs = [p.communicate(timeout=240) for p in procs]
    finally:
        for p in procs:  # never leave a worker behind when something failed
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err.decode()[-3000:]
        assert b"locked" not in err.lower()
    study = shared_study("shared", storage)
    trials = study.trials
    assert len(trials) == 16 and all(t.state == TrialState.COMPLETE for t in trials)
    assert sorted(t.number for t in trials) == list(range(16))
    assert 0.5 < study.best_value <= 1.0


HANGING = textwrap.dedent(
    """
    import sys, time
    import optuna
    from keraslab.search import shared_study
    study = shared_study("hb", sys.argv[1], heartbeat_interval=1)
    def objective(trial):
        trial.suggest_float("x", 0, 1)
        print("running", flush=True)
        time.sleep(600)
    study.optimize(objective, n_trials=1)
    """
)


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_a_killed_trial_is_failed_and_retried_thanks_to_heartbeats(tmp_path):
    script = tmp_path / "hang.py"
    script.write_text(HANGING)
    storage = tmp_path / "hb.sqlite"
    proc = _launch([script, storage])
    try:
        assert proc.stdout.readline().strip() == b"running", proc.stderr.read().decode()[-2000:]
        time.sleep(1.5)  # let at least one heartbeat land
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    study = shared_study("hb", storage, heartbeat_interval=1)
    assert [t.state for t in study.trials] == [TrialState.RUNNING]  # what Optuna shows without help
    time.sleep(2.5)  # past the grace period (2 x interval) with no heartbeat
    optuna.storages.fail_stale_trials(study)
    states = [t.state for t in study.trials]
    assert states[0] == TrialState.FAIL and TrialState.WAITING in states  # re-queued by the retry callback
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    assert study.trials[-1].state == TrialState.COMPLETE
    assert np.isclose(study.trials[-1].params["x"], study.trials[0].params["x"])  # same params retried
