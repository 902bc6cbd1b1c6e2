"""Specs on keraslab.search: the same folds and scores as scikit-learn, new kinds, resume, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from keraslab.experiments import interrupt, spec_from_dict
from keraslab.experiments.runner import run
from keraslab.experiments.searching import build_search
from keraslab.experiments.spec import SpecError
from keraslab.experiments.recorder import EpochRecorder, SearchRecorder
from keraslab.store import ResultStore

DIGITS = {"dataset": "digits", "layout": "flat", "scaling": "none", "subset": 240}
MODEL = {"build": "keraslab.zoo.dense:make_model"}
TRAIN = {"epochs": 1, "batch_size": 64}
GRID = {"kind": "grid", "folds": 2, "shuffle": False, "scaler": "minmax",
        "params": {"model.number_of_layers": [1, 2], "model.neurons_per_layer": [8]}}


def _spec(explore, name="s", train=TRAIN, data=DIGITS):
    return spec_from_dict({"data": data, "model": MODEL, "train": train, "explore": explore}, name=name)


@pytest.fixture()
def store(tmp_path):
    with ResultStore(tmp_path / "runs.sqlite") as s:
        yield s


def test_cv_gives_cross_val_scores_folds_and_seeds(store):
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    from keraslab.experiments.inputs import load_inputs
    from keraslab._fingerprint import derive_seed
    from keraslab.search.journal import candidate_key

    spec = _spec({"kind": "cv", "folds": 2, "shuffle": True, "random_state": 3, "scaler": "minmax"})
    result = run(spec, store=store, progress=False)
    assert result.status == "finished" and result.summary["fits"] == {"computed": 2, "resumed": 0, "planned": 2}
    # What cross_val_score computes with the same splitter and each fold's seed.
    inputs = load_inputs(spec.data)
    X, y = inputs.x_train, inputs.y_train
    estimator = build_search(spec, inputs, None).estimator
    splits = list(StratifiedKFold(2, shuffle=True, random_state=3).split(X, y))
    expected = []
    for fold, (train, test) in enumerate(splits):
        seed = derive_seed(spec.train.seed, candidate_key({}), fold, "full")
        model = clone(estimator).set_params(model_step__random_state=seed).fit(X[train], y[train])
        expected.append(model.score(X[test], y[test]))
    np.testing.assert_allclose(result.summary["fold_scores"], expected, rtol=1e-6)


def test_a_stopped_search_ends_after_the_fit_in_progress_and_resumes_from_it(store, monkeypatch):
    original = SearchRecorder.on_fit
    calls = []

    def stop_during_second_fit(self, key, fold, subset, result):
        calls.append(fold)
        if len(calls) == 2:
            interrupt.request_stop()  # what the first Ctrl-C does, while the second fit trains
        original(self, key, fold, subset, result)

    monkeypatch.setattr(SearchRecorder, "on_fit", stop_during_second_fit)
    stopped = run(_spec(GRID), store=store, progress=False)
    assert stopped.status == "interrupted"
    assert [f.status for c in stopped.candidates for f in c.folds] == ["finished", "finished"]
    record = store.run(stopped.run_id)
    # Epochs come from each fit's history (no callback on the estimator).
    assert [len(f.history["loss"]) for f in record.fits] == [1, 1] and "val_loss" not in record.fits[0].history
    monkeypatch.setattr(SearchRecorder, "on_fit", original)
    resumed = run(_spec(GRID), store=store, progress=False)
    assert resumed.summary["fits"] == {"computed": 2, "resumed": 2, "planned": 4}
    assert resumed.status == "finished" and len(resumed.summary["cv_results"]["params"]) == 2 * 1


def test_multires_zooms_and_draws_rounds(store):
    # One numeric dimension keeps it quick; the demo's slow test draws the zoom path of two.
    spec = _spec({"kind": "multires", "folds": 2, "shuffle": False, "scaler": "minmax", "resolution": 2,
                  "rounds": 2, "subsets": [0.5, 1.0], "keep": "best",
                  "params": {"model.neurons_per_layer": {"int": [4, 16], "log": True, "bounds": [2, 64]}}})
    result = run(spec, store=store, progress=False)
    assert result.status == "finished"
    assert result.summary["rounds"] == 2 and result.search.rounds_[0]["subset"] == 0.5
    assert result.summary["candidate_subsets"][0] != "full"
    assert result.summary["best_params"] == {
        "model." + k.split("__")[-1]: v for k, v in result.search.best_params_.items()}
    assert result.summary["fits"]["planned"] == 2 * len(result.candidates)
    assert {"search-scores", "search-rounds"} <= set(result.figures)
    assert any(line.startswith("2 round(s)") for line in result.summary["lines"])


def test_halving_on_epochs_keeps_the_best_third(store):
    spec = _spec({"kind": "halving", "folds": 2, "shuffle": False, "resource": "epochs", "factor": 2,
                  "resolution": 2, "params": {"model.neurons_per_layer": {"int": [4, 16]},
                                              "model.optimizer": ["adam"]}},
                 train={"epochs": 2, "batch_size": 64})
    result = run(spec, store=store, progress=False)
    assert result.search.n_candidates_ == [2, 1] and result.search.n_resources_ == [1, 2]
    assert [c.params["train.epochs"] for c in result.candidates] == [1, 1, 2]
    assert result.summary["best_params"] == result.candidates[2].params


@pytest.mark.parametrize("explore, message", [
    ({"kind": "bayes"}, "explore.kind must be one of"),
    ({"kind": "multires", "params": {"model.number_of_layers": {"int": [4, 1]}}}, "low <= high"),
    ({"kind": "multires", "params": {"model.neurons_per_layer": {"int": [0, 8], "log": True}}}, "low > 0"),
    ({"kind": "multires", "params": {"model.optimizer": []}}, "at least one value"),
    ({"kind": "multires", "params": {"model.optimizer": ["adam"]}, "subsets": [0.5, 0.2, 1.0]}, "must increase"),
    ({"kind": "multires", "params": {"model.optimizer": ["adam"]}, "subsets": [0.5, 1.5]}, r"in \(0, 1\]"),
    ({"kind": "halving", "params": {"model.optimizer": ["adam"]}, "factor": 1}, "factor must be a number > 1"),
])
def test_bad_explore_settings_name_the_key_file_and_line(tmp_path, explore, message):
    from keraslab.experiments import load_spec
    from keraslab.experiments.tomlio import dumps_toml

    path = tmp_path / "bad.toml"
    path.write_text(dumps_toml({"model": MODEL, "explore": explore}))
    with pytest.raises(SpecError, match=message) as info:
        load_spec(path)
    assert str(path) in str(info.value) and ", line " in str(info.value) and "\n" not in str(info.value)


@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::UserWarning")
def test_optuna_study_runs_and_continues_next_to_the_store(store):
    pytest.importorskip("optuna_integration")
    pytest.importorskip("pandas")
    spec = _spec({"kind": "optuna", "folds": 2, "n_trials": 2, "random_state": 0,
                  "params": {"model.neurons_per_layer": {"int": [4, 16], "log": True}}},
                 data={**DIGITS, "scaling": "unit"}, train={"epochs": 2, "batch_size": 64})
    first = run(spec, store=store, progress=False)
    assert first.status == "finished" and first.summary["fits"]["computed"] == 4
    complete = first.candidates
    assert complete and all(4 <= c.params["model.neurons_per_layer"] <= 16 for c in complete)
    more = run(spec.with_overrides(["explore.n_trials=3"]), store=store, progress=False)
    assert more.summary["fits"]["resumed"] == 4 and more.summary["fits"]["computed"] == 2


def test_a_search_is_recorded_in_mlflow_with_a_child_run_per_candidate(store, tmp_path):
    mlflow = pytest.importorskip("mlflow")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = run(_spec(GRID, name="mlflow-grid"), store=store, progress=False, mlflow=uri)
    client = mlflow.MlflowClient(tracking_uri=uri)
    parent = client.get_run(result.summary["mlflow_run_id"])
    assert parent.info.status == "FINISHED" and parent.data.params["train.epochs"] == "1"
    assert parent.data.metrics["best_score"] == pytest.approx(result.summary["best_score"])
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id, "figures")}
    assert artifacts == {f"figures/{name}.png" for name in result.figures}
    experiment = client.get_experiment_by_name("mlflow-grid")
    children = client.search_runs([experiment.experiment_id],
                                  f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert len(children) == 2
    means = sorted(c.data.metrics["mean_score"] for c in children)
    assert means == pytest.approx(sorted(c.mean for c in result.candidates))
    child = children[0]
    folds = client.get_metric_history(child.info.run_id, "fold_score")
    assert [m.step for m in folds] == [1, 2]


def test_a_training_sends_its_epochs_to_mlflow_as_they_end(store, tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    spec = spec_from_dict({"experiment": {"mlflow": uri}, "data": {**DIGITS, "validation_split": 0.25},
                           "model": {**MODEL, "number_of_layers": 1, "neurons_per_layer": 8},
                           "train": {"epochs": 2, "batch_size": 64}}, name="mlflow-train")
    client = mlflow.MlflowClient(tracking_uri=uri)
    seen = []
    original = EpochRecorder.on_epoch_end

    def look_at_mlflow(self, epoch, logs=None):
        original(self, epoch, logs)
        (live,) = client.search_runs([client.get_experiment_by_name("mlflow-train").experiment_id])
        seen.append((live.info.status, live.data.params.get("train.epochs"),
                     len(client.get_metric_history(live.info.run_id, "loss"))))

    monkeypatch.setattr(EpochRecorder, "on_epoch_end", look_at_mlflow)
    result = run(spec, store=store, progress=False)
    # Written as the run goes: parameters from the start, each epoch as it ends.
    assert seen == [("RUNNING", "2", 1), ("RUNNING", "2", 2)]
    history = client.get_metric_history(result.summary["mlflow_run_id"], "val_loss")
    assert [m.step for m in history] == [1, 2]
    assert [m.value for m in history] == pytest.approx(result.fits[0].history["val_loss"])
    assert client.get_run(result.summary["mlflow_run_id"]).info.status == "FINISHED"


def test_a_journal_of_other_settings_is_refused_and_leaves_no_run(store):
    from keraslab.experiments.searching import JournalConflict

    small = {**GRID, "params": {"model.number_of_layers": [1], "model.neurons_per_layer": [8]}}
    first = run(_spec(small), store=store, progress=False)
    with pytest.raises(JournalConflict, match="train.batch_size: 64 there, 32 here.*--restart"):
        run(_spec(small, train={"epochs": 1, "batch_size": 32}), store=store, progress=False)
    assert [r.id for r in store.runs()] == [first.run_id]  # nothing recorded for the refused run
    assert run(_spec(small), store=store, progress=False).summary["fits"]["resumed"] == 2  # journal intact


def test_spec_searches_are_eligible_for_vectorised_fits_and_record_their_epochs(store, monkeypatch):
    from keraslab.experiments.inputs import load_inputs
    from keraslab.search.vectorized.members import static_reason

    spec = _spec({**GRID, "params": {"model.number_of_layers": [1], "model.neurons_per_layer": [8]}},
                 train={"epochs": 2, "batch_size": 64})
    search = build_search(spec, load_inputs(spec.data), None)
    assert static_reason(search.estimator, {}) is None  # no callbacks on the estimator
    monkeypatch.setenv("KERASLAB_PARALLEL_FITS", "auto")
    result = run(spec, store=store, progress=False)
    record = store.run(result.run_id)
    assert [f.status for f in record.fits] == ["finished", "finished"]
    assert all(len(f.history["loss"]) == 2 and len(f.history["accuracy"]) == 2 for f in record.fits)
