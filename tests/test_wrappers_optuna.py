"""The Optuna pruning recipe of docs/search.md refits with the epochs the best trial reached (issue #11)."""

import numpy as np
import pytest
from sklearn.base import clone

from chapter_models import small_model
from keraslab import KerasClassifier

optuna = pytest.importorskip("optuna")
optuna_integration = pytest.importorskip("optuna_integration")


def test_pruned_search_refit_trains_the_epochs_the_best_trial_was_scored_on():
    from optuna.distributions import IntDistribution

    rng = np.random.RandomState(0)
    X = rng.rand(60, 4).astype("float32")
    y = (X[:, 0] > 0.5).astype(int)
    clf = KerasClassifier(build_fn=small_model, batch_size=16, random_state=0)
    search = optuna_integration.OptunaSearchCV(
        clf, {"hidden": IntDistribution(2, 8)}, cv=2, n_trials=2, max_iter=3, enable_pruning=True, refit=False,
        study=optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0)),
        random_state=0, verbose=0,
    )
    search.fit(X, y)
    best = search.study_.best_trial
    epochs = best.last_step + 1 if best.last_step is not None else 3
    final = clone(clf).set_params(**search.best_params_, epochs=epochs).fit(X, y)
    assert epochs == 3 and len(best.intermediate_values) == 3
    assert len(final.history_["loss"]) == epochs  # the default refit would have trained 1 epoch
