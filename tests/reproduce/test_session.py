"""A reproduction on tiny settings: runs, reads back, respects the budget and writes its pages."""

from __future__ import annotations

import pytest

from conftest import data_dir
from keraslab.experiments import SpecError, load_spec, spec_from_dict
from keraslab.reproduce import reproduce, write_html, write_markdown
from keraslab.reproduce.explained import VARIANTS
from keraslab.store import ResultStore

TINY = {
    "b3-13-dropout": ["train.epochs=2", "data.subset=600", "data.test_subset=200"],
    "b3-cv": ["train.epochs=1", "data.subset=600", "explore.folds=3"],
    "b3-10-two-layers-32": ["train.epochs=1", "data.subset=300", "data.test_subset=100"],
}


@pytest.fixture()
def store(tmp_path):
    data_dir()
    with ResultStore(tmp_path / "runs.sqlite") as db:
        yield db


def test_runs_then_reads_back_and_writes_the_pages(store, tmp_path):
    seen = []
    first = reproduce(["b3-13-dropout", "b3-cv"], overrides=TINY, store=store, on_entry=seen.append,
                      variants=False)
    assert [e.name for e in first.entries] == ["b3-13-dropout", "b3-cv"] == [e.name for e in seen]
    dropout, cv = first.entries
    assert dropout.status == cv.status == "finished" and not dropout.reused
    assert dropout.settings == {"epochs": 2, "batch_size": 256, "rows": 600}
    assert cv.settings["folds"] == 3 and len(cv.summary["fold_scores"]) == 3
    # Two epochs on 600 rows are far from the chapter's 0.9550: judged, and said to differ.
    assert cv.verdict.status == "differs"
    assert next(c for c in cv.verdict.checks if c.metric == "mean_score").this_run == cv.summary["mean_score"]
    # The dropout entry has no numbers, only words: its observation decides.
    assert dropout.verdict.observations and dropout.verdict.status in ("matches", "differs")

    again = reproduce(["b3-13-dropout", "b3-cv"], overrides=TINY, store=store, variants=False)
    assert [e.reused for e in again.entries] == [True, True]
    assert [e.run_id for e in again.entries] == [dropout.run_id, cv.run_id]
    assert len(store.runs()) == 2  # nothing rerun
    assert [e.verdict.status for e in again.entries] == [e.verdict.status for e in first.entries]

    md = write_markdown(again, tmp_path / "docs" / "reproduction.md").read_text()
    assert "| [b3-cv](#b3-cv) | mean_score 0.9550 |" in md
    assert f"mean_score {cv.summary['mean_score']:.4f}" in md
    assert "(earlier sitting)" in md and "### b3-13-dropout" in md and "observed " in md
    page = write_html(again, tmp_path / "reproduction.html", store=store).read_text()
    assert page.index("<h2>Verdicts</h2>") < page.index(f'id="run-{cv.run_id}"')
    assert page.count("data:image/png;base64,") >= 2  # the runs' figures are embedded


def test_budget_stops_starting_entries_but_reads_back_finished_ones(store):
    reproduce(["b3-10-two-layers-32"], overrides=TINY, store=store)
    rep = reproduce(["b3-10-two-layers-32", "b3-13-dropout"], overrides=TINY, store=store, budget=0)
    done, skipped = rep.entries
    assert done.reused and done.status == "finished"
    assert skipped.status == skipped.verdict.status == "not run (budget spent)" and skipped.run_id is None
    assert len(store.runs()) == 1


def test_unknown_names_fail_before_anything_runs(store):
    with pytest.raises(SpecError, match="b3-nope"):
        reproduce(["b3-10-two-layers-32", "b3-nope"], overrides=TINY, store=store)
    assert store.runs() == []


def test_grid_1_variant_is_adadelta_at_keras_2_rate():
    suffix, change = VARIANTS["b3-grid-1"]
    spec = load_spec("b3-grid-1")
    variant = spec_from_dict(change(dict(spec.raw)), name=f"b3-grid-1+{suffix}")
    assert variant.raw["model"]["learning_rate"] == 1.0
    assert variant.raw["explore"]["params"]["model.optimizer"] == ["adadelta"]
    assert spec.raw["explore"]["params"]["model.optimizer"] == ["adam", "adadelta"]  # the entry is untouched


def test_a_stored_spec_written_in_another_layout_is_still_the_same_settings():
    from keraslab.reproduce.session import _same_settings

    assert _same_settings('figures = ["B3-10", "B3-11"]\n[train]\nepochs = 100\n',
                          'figures = [\n    "B3-10",\n    "B3-11",\n]\n\n[train]\nepochs = 100\n')
    assert not _same_settings("[train]\nepochs = 100\n", "[train]\nepochs = 5\n")


def test_cross_validation_variant_runs_as_the_notebook_did():
    suffix, change = VARIANTS["b3-cv"]
    spec = load_spec("b3-cv")
    variant = spec_from_dict(change(dict(spec.raw)), name=f"b3-cv+{suffix}")
    assert (variant.train.epochs, variant.train.batch_size) == (1, 128)
    assert spec.train.epochs == 100 and "reference" not in variant.raw


def test_a_matching_notebook_variant_explains_a_difference():
    from keraslab.reproduce.session import EntryOutcome, _explained_by_variant
    from keraslab.reproduce.verdict import judge

    ref = {"val_acc": 0.9862}
    main = EntryOutcome("b3-28-simple-cnn", "Simple CNN", "train", (), ref,
                        summary={"finals": {"training": {"val_acc": 0.9787}}})
    main.verdict = judge(ref, main.summary)
    variant = EntryOutcome("b3-28-simple-cnn+notebook-60k", "Simple CNN", "train", (), ref,
                           summary={"finals": {"training": {"val_acc": 0.9841}}})
    variant.verdict = judge(ref, variant.summary)
    main.variant = variant
    verdict = _explained_by_variant("b3-28-simple-cnn", main)
    assert verdict.status == "differs (explained)" and "235 batches" in verdict.reason
    assert verdict.reason.endswith("(variant b3-28-simple-cnn+notebook-60k): val_acc 0.9841, which matches")
    # a variant that differs too explains nothing
    variant.verdict = judge(ref, {"finals": {"training": {"val_acc": 0.97}}})
    assert _explained_by_variant("b3-28-simple-cnn", main).status == "differs"
