"""What runs leave behind: one training (:class:`FitResult`), one fold and one candidate
of a search (:class:`FoldResult`, :class:`CandidateResult`) and a whole run (:class:`RunResult`).

Plain data with no behaviour beyond describing itself, in a module of their own so
that the modules that produce them (training, recorder, searching, runner) and those
that read them (figures, report, CLI) import this one and not each other.

Examples
--------
>>> fit = FitResult("model", {}, "finished", {"loss": [0.5, 0.25]}, [2.0, 1.5], 3.5, 2)
>>> fit.final_line
'Epoch 2/2 - 2s - loss: 0.2500'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from keraslab._console import format_seconds

if TYPE_CHECKING:
    from keraslab.experiments.spec import ExperimentSpec

__all__ = ["CandidateResult", "FitResult", "FoldResult", "RunResult", "final_line"]

#: Keras 3 names -> the chapter's (Keras 2) names in the final line.
_SHORT = {"accuracy": "acc", "val_accuracy": "val_acc"}


@dataclass
class FitResult:
    """What one training left behind."""

    label: str
    params: dict[str, Any]
    status: str
    history: dict[str, list[float]]
    epoch_seconds: list[float]
    seconds: float
    epochs_planned: int
    error: str = ""
    predictions: np.ndarray | None = None  # sequence experiments: predictions on the test curve
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def final_line(self) -> str:
        return final_line(self.history, self.epoch_seconds, self.epochs_planned)

    def final_metrics(self) -> dict[str, float]:
        """Last-epoch metrics under the chapter's names (``acc``, ``val_acc``), plus epoch seconds."""
        out = {_SHORT.get(k, k): v[-1] for k, v in self.history.items() if v}
        if self.epoch_seconds:
            out["epoch_seconds"] = self.epoch_seconds[-1]
        return out


def _format_number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.4e}"


def final_line(history: dict[str, list[float]], epoch_seconds: list[float], epochs_planned: int) -> str:
    """The last epoch in the chapter's style.

    Examples
    --------
    >>> final_line({"loss": [0.1, 0.0062], "accuracy": [0.9, 0.9978], "val_loss": [0.2, 0.04],
    ...             "val_accuracy": [0.9, 0.9912]}, [40.0, 36.2], 100)
    'Epoch 2/100 - 36s - loss: 0.0062 - acc: 0.9978 - val_loss: 0.0400 - val_acc: 0.9912'
    """
    done = len(history.get("loss", []))
    if not done:
        return f"Epoch 0/{epochs_planned} (no epoch finished)"
    train_keys = ["loss"] + [k for k in history if k != "loss" and not k.startswith("val_")]
    val_keys = [f"val_{k}" for k in train_keys if f"val_{k}" in history]
    parts = [f"Epoch {done}/{epochs_planned}"]
    if epoch_seconds:
        parts.append(f"{epoch_seconds[-1]:.0f}s")
    parts += [f"{_SHORT.get(k, k)}: {_format_number(history[k][-1])}" for k in train_keys + val_keys]
    return " - ".join(parts)


@dataclass
class FoldResult:
    """One fold of one candidate: ``finished`` with its score, ``failed`` with the error and no score,
    or ``interrupted``; ``resumed`` when it was read back from the journal."""

    fold: int
    status: str
    score: float | None
    seconds: float
    error: str = ""
    resumed: bool = False


@dataclass
class CandidateResult:
    """One candidate of a search (index in ``cv_results_`` order, its parameters, its folds, its subset)."""

    idx: int
    params: dict[str, Any]
    folds: list[FoldResult] = field(default_factory=list)
    subset: str = "full"

    @property
    def scores(self) -> list[float]:
        return [f.score for f in self.folds if f.status == "finished" and f.score is not None]

    @property
    def failed(self) -> list[FoldResult]:
        return [f for f in self.folds if f.status == "failed"]

    @property
    def status(self) -> str:
        if self.failed:
            return "failed"
        return "finished" if self.folds and all(f.status == "finished" for f in self.folds) else "interrupted"

    @property
    def mean(self) -> float | None:
        return float(np.mean(self.scores)) if self.scores else None

    @property
    def std(self) -> float | None:
        return float(np.std(self.scores)) if self.scores else None


@dataclass
class RunResult:
    """The outcome of :func:`run`: fits, folds, candidates, figures and the summary stored with them."""

    run_id: int
    spec: ExperimentSpec
    status: str
    seconds: float
    store_path: Path
    fits: list[FitResult] = field(default_factory=list)
    candidates: list[CandidateResult] = field(default_factory=list)
    figures: dict[str, Path] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    search: Any = None  # the fitted keraslab search (cv and search kinds that ran to the end)
    fit_counts: dict[str, int] = field(default_factory=dict)  # computed / resumed / planned fits

    @property
    def final_line(self) -> str:
        return self.summary.get("final_line", "")

    def describe(self) -> str:
        """What the CLI prints after a run: final line(s), chapter comparison, figure paths."""
        s = self.spec
        figures = f" (Figs {', '.join(s.figures)})" if s.figures else ""
        lines = [f"{s.name} · {s.title}{figures} · run {self.run_id} · {self.status} in {format_seconds(self.seconds)}"]
        lines += self.summary.get("lines", [])
        lines += [f"  {c}" for c in self.summary.get("comparisons", [])]
        if self.error:
            lines.append(f"  error: {self.error}")
        lines += [f"  figure: {p}" for p in self.figures.values()]
        lines.append(f"  store: {self.store_path} (run {self.run_id})")
        if self.summary.get("fits_line"):  # last, so a resumed run says at once what it reused
            lines.append(self.summary["fits_line"])
        return "\n".join(lines)
