"""``[explore] kind = "optuna"``: TPE over the spec's space, pruning per epoch, one shared study.

``OptunaSearchCV`` (``optuna-integration``) runs the trials; with
``enable_pruning=True`` each fold trains through ``partial_fit``, one epoch per call,
for ``train.epochs`` epochs, and reports its score after every epoch, so Optuna's
median pruner stops trials that trail. The study lives in ``explore.storage`` (a
``.sqlite``/``.db`` file, an Optuna journal file or a database URL; see
:func:`keraslab.search.shared_study`) or, by default, next to the store, so

* running the same command again continues the study: trials already finished are
  kept and only the missing ones run (``n_trials`` is the study's total);
* several ``keraslab run`` processes given the same ``storage`` work on one study.

Optuna is imported only when such a run starts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from keraslab.errors import KeraslabValueError
from keraslab.experiments import interrupt
from keraslab.experiments.inputs import Inputs
from keraslab.experiments.recorder import CandidateResult, record_trial
from keraslab.experiments.spec import ExperimentSpec
from keraslab.store import ResultStore

__all__ = ["run_study", "distributions_from_space"]


def distributions_from_space(space: dict) -> dict:
    """keraslab dimensions -> Optuna distributions (Integer/Real keep ``log``; lists are categorical)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    from keraslab.search.space import Categorical, Integer

    out = {}
    for name, dim in space.items():
        if isinstance(dim, Categorical):
            out[name] = CategoricalDistribution(list(dim.values))
        elif isinstance(dim, Integer):
            out[name] = IntDistribution(int(dim.low), int(dim.high), log=dim.log)
        else:
            out[name] = FloatDistribution(float(dim.low), float(dim.high), log=dim.log)
    return out


def run_study(spec: ExperimentSpec, inputs: Inputs, *, store: ResultStore, run_id: int, journal: Path,
              restart: bool = False) -> tuple[list[CandidateResult], Any, dict[str, int]]:
    """Run (or continue) the spec's study; record every complete trial as a candidate.

    Returns
    -------
    candidates, search, counts
        Complete trials in trial order (params in the spec's names, one fold per CV
        split); the fitted ``OptunaSearchCV`` (None when stopped); fit counts.
    """
    try:
        import optuna
        from optuna_integration import OptunaSearchCV
    except ImportError:
        raise KeraslabValueError('kind = "optuna" needs Optuna: pip install optuna optuna-integration pandas. '
                                 "Received: kind='optuna'") from None
    from keraslab.experiments.searching import _names, _scoring, _spec_name, _splitter, discard_journal
    from keraslab.experiments.spaces import space_from_toml
    from keraslab.experiments.training import make_estimator
    from keraslab.search.studies import shared_study

    from keraslab.experiments.searching import _check_identity, _identity

    e = spec.explore
    storage = e.storage or os.fspath(journal.with_suffix(".optuna.log"))
    if restart:
        discard_journal(journal)
        if not e.storage:
            discard_journal(Path(storage))
    identity = _identity(spec, inputs)
    identity.pop("explore.n_trials", None)  # asking for more trials continues the same study
    _check_identity(journal, identity)
    to_search, to_spec = _names(spec)
    space = space_from_toml({to_search[k]: v for k, v in e.params.items()})
    estimator = make_estimator(spec, inputs, scaler="none")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = shared_study(spec.name, storage, sampler=optuna.samplers.TPESampler(seed=e.random_state))
    done_before = {t.number for t in study.trials if t.state.is_finished()}
    remaining = max(0, e.n_trials - len(done_before))
    cv = _splitter(spec, inputs)

    folds = cv.get_n_splits(inputs.x_train, inputs.y_train)
    candidates: list[CandidateResult] = []
    recorded: set[int] = set()

    def record(trial: Any, resumed: bool) -> None:
        if trial.state != optuna.trial.TrialState.COMPLETE or trial.number in recorded:
            return
        recorded.add(trial.number)
        params = {to_spec.get(k) or _spec_name(k): v for k, v in trial.params.items()}
        scores = [trial.user_attrs.get(f"split{i}_test_score") for i in range(folds)]
        candidates.append(record_trial(store, run_id, len(candidates), params, scores, resumed=resumed))

    for trial in study.trials:
        if trial.number in done_before:
            record(trial, resumed=True)

    def record_and_stop(study: Any, trial: Any) -> None:
        record(trial, resumed=False)  # as each trial finishes, not at the end
        if interrupt.requested():
            study.stop()

    search = None
    if remaining:
        search = OptunaSearchCV(estimator, distributions_from_space(space), cv=cv, enable_pruning=True,
                                max_iter=spec.train.epochs, n_trials=remaining, study=study, refit=False,
                                random_state=e.random_state, scoring=_scoring(spec),
                                callbacks=[record_and_stop])
        search.fit(inputs.x_train, inputs.y_train)
    for trial in study.trials:  # trials other processes finished on a shared study meanwhile
        record(trial, resumed=False)
    finished_now = sum(1 for t in study.trials if t.state.is_finished()) - len(done_before)
    pruned = sum(1 for t in study.trials if t.state == optuna.trial.TrialState.PRUNED)
    counts = {"computed": finished_now * folds, "resumed": len(done_before) * folds,
              "planned": max(e.n_trials, len(done_before) + finished_now) * folds, "pruned_trials": pruned}
    return candidates, search, counts
