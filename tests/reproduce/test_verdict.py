"""Verdicts: each rule on the numbers the chapter reports, and the observations of its words."""

from __future__ import annotations

import pytest

from keraslab.reproduce import judge
from keraslab.reproduce.explained import ADADELTA_REASON, EXPLANATIONS, OBSERVATIONS
from keraslab.reproduce.verdict import checks_for, spearman


def test_accuracy_is_judged_within_half_a_point():
    ref = {"val_acc": 0.9939, "acc": 0.9988, "val_loss": 0.0304, "epoch_seconds": 147}
    close = {"finals": {"training": {"val_acc": 0.9895, "acc": 0.95, "val_loss": 0.1, "epoch_seconds": 9.0}}}
    v = judge(ref, close)
    # val_acc within 0.0044: matches, though the supporting training accuracy and loss differ.
    assert v.status == "matches"
    by = {c.metric: c for c in v.checks}
    assert by["acc"].ok is False and by["acc"].headline is False
    assert by["val_loss"].ok is False and by["val_loss"].headline is False
    assert by["epoch_seconds"].ok is None  # machine-dependent: shown only
    assert judge(ref, {"finals": {"training": {"val_acc": 0.9880}}}).status == "differs"


def test_cross_validated_mean_uses_the_chapters_fold_spread():
    folds = [0.9522, 0.9502, 0.9562, 0.9525, 0.9512, 0.9617, 0.9600, 0.9542, 0.9580, 0.9535]
    ref = {"fold_scores": folds, "mean_score": 0.9550}
    # The folds' standard deviation is 0.0036: 0.5 points is the larger tolerance here.
    assert judge(ref, {"mean_score": 0.9501}).status == "matches"
    assert judge(ref, {"mean_score": 0.9499}).status == "differs"
    wide = {"fold_scores": [0.90, 0.96, 0.93, 0.99], "mean_score": 0.945}  # std 0.0335
    assert judge(wide, {"mean_score": 0.92}).status == "matches"


def test_grid_rank_agreement_by_spearman():
    ref = {"mean_scores": [0.93, 0.92, 0.95, 0.91], "best_score": 0.95}
    same_order = {"cv_results": {"mean_test_score": [0.931, 0.921, 0.951, 0.90]}, "best_score": 0.951}
    assert judge(ref, same_order).status == "matches"
    reversed_order = {"cv_results": {"mean_test_score": [0.91, 0.92, 0.90, 0.95]}, "best_score": 0.95}
    v = judge(ref, reversed_order)
    assert v.status == "differs"
    rank = next(c for c in v.checks if c.metric == "rank agreement")
    assert rank.this_run == pytest.approx(spearman([0.93, 0.92, 0.95, 0.91], [0.91, 0.92, 0.90, 0.95]), abs=1e-3)
    assert rank.ok is False
    incomplete = {"cv_results": {"mean_test_score": [0.93, None, 0.95, 0.91]}, "best_score": 0.95}
    assert next(c for c in checks_for(ref, incomplete) if c.metric == "rank agreement").ok is False


def test_swept_values_and_losses():
    ref = {"acc": {"0.1": 0.18}, "loss": {"[3, 3]": 0.02}}
    run = {"finals": {"learning_rate=0.1": {"acc": 0.21}, "units=[3, 3]": {"loss": 0.035}}}
    v = judge(ref, run)
    assert v.status == "matches", v.checks  # 3 points from 0.18; loss within a factor of 2
    run["finals"]["units=[3, 3]"]["loss"] = 0.05
    assert judge(ref, run).status == "differs"


def test_no_numbers_not_run_and_explained():
    assert judge({"note": "it works"}, {"finals": {}}).status == "no numbers"
    assert judge({"val_acc": 0.99}, None).status == "not run"
    v = judge({"best_score": 0.9557}, {"best_score": 0.93}, explanation=ADADELTA_REASON)
    assert v.status == "differs (explained)" and "learning_rate=0.001" in v.reason


def test_observations_decide_entries_without_numbers():
    dropout = OBSERVATIONS["b3-13-dropout"]
    ok = judge({"note": "..."}, {"finals": {"t": {"acc": 0.96, "val_acc": 0.975}}}, observations=dropout)
    assert ok.status == "matches" and ok.observations[0].startswith("yes: validation accuracy 0.9750")
    bad = judge({"note": "..."}, {"finals": {"t": {"acc": 0.99, "val_acc": 0.975}}}, observations=dropout)
    assert bad.status == "differs" and bad.observations[0].startswith("NO:")
    windows = OBSERVATIONS["b3-sines-0-windows"]
    run = {"rms_error": {"window=1": 0.20, "window=3": 0.05, "window=5": 0.06}}
    assert judge({}, run, observations=windows).status == "matches"
    grid2 = OBSERVATIONS["b3-grid-2"]
    params = [{"model.number_of_layers": n, "model.neurons_per_layer": w} for n in (1, 2) for w in (50, 90)]
    run = {"candidate_params": params, "cv_results": {"mean_test_score": [0.95, 0.96, 0.955, 0.962]}}
    assert judge({}, run, observations=grid2).observations == ("yes: 2 layers beat 1 layer at 2 of 2 widths",)


def test_explanations_apply_only_when_they_fit_the_run():
    adadelta = EXPLANATIONS["b3-grid-1"]
    assert adadelta({"candidate_params": [{"model.optimizer": "adadelta"}]}) == ADADELTA_REASON
    assert adadelta({"candidate_params": [{"model.optimizer": "adam"}]}) == ""
    further = EXPLANATIONS["b3-multires"]
    assert further({"best_score": 0.97, "reference": {"best_score": 0.9557}}).startswith("the search found")
    assert further({"best_score": 0.94, "reference": {"best_score": 0.9557}}) == ""


def test_numbers_read_from_a_figure_get_the_stated_tolerance():
    from keraslab.reproduce.explained import TOLERANCES

    run = {"finals": {"training": {"val_acc": 0.9631}}}
    assert judge({"val_acc": 0.97}, run).status == "differs"
    v = judge({"val_acc": 0.97}, run, tolerances=TOLERANCES["b3-10-two-layers-32"])
    assert v.status == "matches" and v.checks[0].rule == "within 1 point (read from a figure)"


def test_fewer_epochs_explain_a_difference_only_while_the_curve_still_rises():
    from keraslab.reproduce.explained import fewer_epochs_still_improving

    rising = {"training": {"val_accuracy": [0.95, 0.97, 0.978, 0.980, 0.981, 0.982, 0.984, 0.985]}}
    flat = {"training": {"val_accuracy": [0.95, 0.985, 0.986, 0.986, 0.985, 0.986, 0.985, 0.9862]}}
    reason = fewer_epochs_still_improving({"overrides": ["train.epochs=8"], "histories": rising})
    assert reason.startswith("trained 8 epochs instead of the chapter's 100 (CPU time) and the curve was still")
    assert "best 0.9850 at epoch 8, 0.30 points above the best of epochs 1-6" in reason
    # the chapter's own epochs, or a curve that has flattened, explain nothing
    assert fewer_epochs_still_improving({"overrides": [], "histories": rising}) == ""
    assert fewer_epochs_still_improving({"overrides": ["train.epochs=8"], "histories": flat}) == ""


def test_fewer_epochs_of_a_sweep_explain_only_when_every_loss_still_falls():
    from keraslab.reproduce.explained import fewer_epochs_still_improving

    falling = {"loss": [0.05, 0.02, 0.012, 0.009, 0.008, 0.007, 0.0065, 0.006]}
    flat = {"loss": [0.05, 0.02, 0.012, 0.009, 0.008, 0.008, 0.008, 0.008]}
    both = {"steps=2000": falling, "steps=20000": falling}
    reason = fewer_epochs_still_improving({"overrides": ["train.epochs=8"], "histories": both})
    assert "the curves were still improving: steps=2000: loss 0.006 in the last quarter, 14 % below" in reason
    one_flat = {"steps=2000": falling, "steps=20000": flat}
    assert fewer_epochs_still_improving({"overrides": ["train.epochs=8"], "histories": one_flat}) == ""


def test_a_collapse_at_learning_rate_point_one_is_explained_only_when_both_collapsed():
    from keraslab.reproduce.explained import EXPLANATIONS

    explain = EXPLANATIONS["b3-14-adam-lr"]
    collapsed = {"finals": {"learning_rate=0.1": {"acc": 0.1085, "val_acc": 0.1076},
                            "learning_rate=0.01": {"acc": 0.97, "val_acc": 0.96}}}
    assert explain(collapsed).startswith("both runs collapsed at learning rate 0.1 (chapter ~0.18, this run 0.1085")
    learned = {"finals": {"learning_rate=0.1": {"acc": 0.85, "val_acc": 0.86}}}
    assert explain(learned) == ""


def test_a_subset_search_scoring_below_the_chapter_is_explained_by_its_rows():
    from keraslab.reproduce.explained import fewer_rows_scored_lower

    below = {"overrides": ["data.subset=12000"], "best_score": 0.9494, "reference": {"best_score": 0.9557}}
    assert fewer_rows_scored_lower(below).startswith("searched on 12000 of the chapter's 60,000 rows")
    assert fewer_rows_scored_lower({**below, "best_score": 0.96}) == ""
    assert fewer_rows_scored_lower({**below, "overrides": []}) == ""
