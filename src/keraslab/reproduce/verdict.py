"""Judge one run against the chapter's numbers: ``matches``, ``differs (explained)`` or ``differs``.

Each number the chapter reports becomes a :class:`Check` with the rule it is judged by.
The rules (stated once, here, and printed on the reproduction page):

* **accuracy** (``acc``, ``val_acc``, ``best_score``): within 0.5 percentage points,
  or a wider tolerance stated per entry where the chapter's number is read from a figure
  (:data:`keraslab.reproduce.explained.TOLERANCES`).
  Values the chapter gives per swept value (``acc = { "0.1" = 0.18 }``) are read from its
  text or figures and only approximate, so they get 5 points.
* **cross-validated mean** (``mean_score``): within 0.5 points or within the chapter's
  fold-to-fold standard deviation, whichever is larger (the chapter's ten folds of
  ``b3-cv`` spread 0.0037).
* **rank agreement** (``mean_scores`` of a grid): Spearman's rank correlation between the
  chapter's and this run's candidate means at least 0.7 (Spearman, 1904; as
  ``scipy.stats.spearmanr``).
* **losses** and **RMS errors**: within a factor of 2 (the chapter's losses are read from
  curves, "~0.02"); a supporting check wherever the entry also has an accuracy.
* **epoch seconds**, **fits** and **best parameters** are shown, never judged: the first
  depends on the machine, the others are what a search is free to find (rank agreement
  judges the search instead).

A *headline* check decides the verdict; a *supporting* one is listed beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from keraslab.experiments.reference import find_label, fit_value

__all__ = ["Check", "Verdict", "judge", "ACCURACY_POINTS", "SWEPT_ACCURACY_POINTS", "MIN_SPEARMAN",
           "LOSS_FACTOR"]

ACCURACY_POINTS = 0.005
SWEPT_ACCURACY_POINTS = 0.05
MIN_SPEARMAN = 0.7
LOSS_FACTOR = 2.0

_ACCURACY = ("acc", "val_acc", "best_score")
_LOSSES = ("loss", "val_loss")
_SHOWN_ONLY = ("epoch_seconds", "fits", "best_params", "path", "note", "fold_scores")

MATCHES = "matches"
EXPLAINED = "differs (explained)"
DIFFERS = "differs"
NO_NUMBERS = "no numbers"
NOT_RUN = "not run"


@dataclass(frozen=True)
class Check:
    """One chapter number against this run's: ``ok`` is None where the number is only shown."""

    metric: str
    chapter: Any
    this_run: Any
    ok: bool | None
    rule: str
    headline: bool = True


@dataclass(frozen=True)
class Verdict:
    """The outcome for one catalogue entry."""

    status: str
    checks: tuple[Check, ...] = ()
    reason: str = ""
    observations: tuple[str, ...] = field(default=())

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.headline and c.ok is False]


def _within(mine: Any, ref: float, points: float) -> bool | None:
    if not isinstance(mine, (int, float)) or isinstance(mine, bool) or math.isnan(mine):
        return None if mine is None else False
    return abs(mine - ref) <= points + 1e-12


def _factor(mine: Any, ref: float, factor: float = LOSS_FACTOR) -> bool | None:
    if mine is None:
        return None
    if not isinstance(mine, (int, float)) or math.isnan(mine) or mine <= 0 or ref <= 0:
        return False
    return 1.0 / factor <= mine / ref <= factor


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation of two equally long sequences (ties get mean ranks)."""
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def _scalar_checks(key: str, ref: Any, summary: Mapping[str, Any], has_accuracy: bool,
                   tolerances: Mapping[str, tuple[float, str]]) -> list[Check]:
    if key in _ACCURACY:
        mine = summary.get(key) if key == "best_score" else fit_value(summary, key, None)
        # Training accuracy supports the validation accuracy where both exist.
        headline = not (key == "acc" and has_accuracy)
        points, why = tolerances.get(key, (ACCURACY_POINTS, ""))
        rule = f"within {points * 100:g} point{'' if points == 0.01 else 's'}" + (f" ({why})" if why else "")
        return [Check(key, ref, mine, _within(mine, ref, points), rule, headline)]
    if key in _LOSSES:
        mine = fit_value(summary, key, None)
        return [Check(key, ref, mine, _factor(mine, ref), f"within a factor of {LOSS_FACTOR:g}", not has_accuracy)]
    if key == "mean_score":
        spread = ACCURACY_POINTS
        folds = summary.get("reference_fold_std")
        if isinstance(folds, (int, float)):
            spread = max(spread, folds)
        mine = summary.get("mean_score")
        return [Check(key, ref, mine, _within(mine, ref, spread), f"within {spread * 100:.2f} points "
                      "(0.5 or the chapter's fold std)")]
    if key == "mean_scores":
        mine = summary.get("cv_results", {}).get("mean_test_score")
        if not mine or len(mine) != len(ref) or any(v is None for v in mine):
            return [Check("rank agreement", "chapter's order", "incomplete", None if not mine else False,
                          f"Spearman >= {MIN_SPEARMAN}")]
        rho = spearman(ref, mine)
        return [Check("rank agreement", f"{len(ref)} candidates", round(rho, 3), rho >= MIN_SPEARMAN,
                      f"Spearman >= {MIN_SPEARMAN}")]
    if key == "rms_error":
        values = summary.get("rms_error", {})
        mine = next(iter(values.values())) if len(values) == 1 else None
        return [Check(key, ref, mine, _factor(mine, ref), f"within a factor of {LOSS_FACTOR:g}")]
    if key in ("fits",):
        return [Check(key, ref, summary.get("fits", {}).get("planned"), None, "shown")]
    if key == "best_params":
        return [Check(key, ref, summary.get("best_params"), None, "shown")]
    if key == "epoch_seconds":
        return [Check(key, ref, fit_value(summary, "epoch_seconds", None), None, "shown (machine-dependent)")]
    return []


def _swept_checks(key: str, ref: Mapping[str, Any], summary: Mapping[str, Any]) -> list[Check]:
    out = []
    for swept, value in ref.items():
        label = find_label(summary, str(swept))
        mine = fit_value(summary, key, label) if label else None
        name = f"{key} [{label or swept}]"
        if key in ("acc", "val_acc"):
            out.append(Check(name, value, mine, _within(mine, value, SWEPT_ACCURACY_POINTS), "within 5 points"))
        elif key in _LOSSES:
            out.append(Check(name, value, mine, _factor(mine, value), f"within a factor of {LOSS_FACTOR:g}"))
        else:
            out.append(Check(name, value, mine, None, "shown (machine-dependent)"))
    return out


def checks_for(reference: Mapping[str, Any], summary: Mapping[str, Any],
               tolerances: Mapping[str, tuple[float, str]] | None = None) -> list[Check]:
    """Every check the chapter's ``[reference]`` numbers allow against a run's summary.

    ``tolerances`` maps a metric to ``(points, why)`` where an entry's number is less
    precise than the default rule assumes (e.g. read from a figure).
    """
    summary = dict(summary)
    folds = reference.get("fold_scores")
    if isinstance(folds, list) and len(folds) > 1:
        mean = sum(folds) / len(folds)
        summary["reference_fold_std"] = math.sqrt(sum((f - mean) ** 2 for f in folds) / len(folds))
    has_accuracy = any(k in reference and not isinstance(reference[k], Mapping) for k in ("val_acc", "best_score"))
    out: list[Check] = []
    for key, ref in reference.items():
        if key in ("note", "path", "fold_scores"):
            continue
        if isinstance(ref, Mapping) and key != "best_params":
            out += _swept_checks(key, ref, summary)
        else:
            out += _scalar_checks(key, ref, summary, has_accuracy, tolerances or {})
    return out


Observation = Callable[[Mapping[str, Any]], "tuple[bool, str] | None"]


def judge(
    reference: Mapping[str, Any],
    summary: Mapping[str, Any] | None,
    *,
    explanation: str = "",
    observations: Sequence[Observation] = (),
    tolerances: Mapping[str, tuple[float, str]] | None = None,
) -> Verdict:
    """The verdict for one entry.

    Parameters
    ----------
    reference : mapping
        The spec's ``[reference]`` table.
    summary : mapping or None
        The run's stored summary (``RunResult.summary``); None when it was not run.
    explanation : str
        A known reason why this entry differs (see :mod:`keraslab.reproduce.explained`);
        used only when a headline check fails.
    observations : sequence of callables
        Checks of what the chapter says in words, each ``summary -> (ok, text)`` or None
        when it cannot tell; they decide the verdict of entries without numbers.
    tolerances : mapping, optional
        Metric -> ``(points, why)`` replacing the default accuracy tolerance for this entry.

    Examples
    --------
    >>> judge({"val_acc": 0.9939}, {"finals": {"training": {"val_acc": 0.9921}}}).status
    'matches'
    >>> judge({"val_acc": 0.9939}, {"finals": {"training": {"val_acc": 0.9800}}}).status
    'differs'
    """
    if summary is None:
        return Verdict(NOT_RUN)
    checks = checks_for(reference, summary, tolerances)
    seen = [o(summary) for o in observations]
    seen = [s for s in seen if s is not None]
    texts = tuple(f"{'yes' if ok else 'NO'}: {text}" for ok, text in seen)
    judged = [c for c in checks if c.headline and c.ok is not None]
    if not judged and not seen:
        return Verdict(NO_NUMBERS, tuple(checks), observations=texts)
    failed = [c for c in judged if not c.ok] + [s for s in seen if not s[0]]
    if not failed:
        return Verdict(MATCHES, tuple(checks), observations=texts)
    if explanation:
        return Verdict(EXPLAINED, tuple(checks), explanation, texts)
    return Verdict(DIFFERS, tuple(checks), observations=texts)
