"""The rows :class:`keraslab.store.ResultStore` hands back, and how it tells a dead run's process.

Kept apart from ``store.py`` so that module is only SQL in and rows out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["RunSummary", "FitRecord", "FoldRecord", "CandidateRecord", "FigureRecord", "RunRecord",
           "process_start_token", "process_alive"]


@dataclass(frozen=True)
class RunSummary:
    """One line of ``keraslab runs``."""

    id: int
    experiment: str
    kind: str
    status: str
    started_at: float
    seconds: float | None
    final_line: str
    dataset_fingerprint: str
    backend: str


@dataclass(frozen=True)
class FitRecord:
    """One training: its per-epoch metrics as Keras' ``History.history`` dict."""

    id: int
    label: str
    params: dict[str, Any]
    status: str
    seconds: float | None
    error: str
    history: dict[str, list[float]]
    epoch_seconds: list[float]


@dataclass(frozen=True)
class FoldRecord:
    candidate: int
    fold: int
    status: str
    score: float | None
    seconds: float | None
    error: str


@dataclass(frozen=True)
class CandidateRecord:
    idx: int
    params: dict[str, Any]
    status: str
    mean_score: float | None
    std_score: float | None


@dataclass(frozen=True)
class FigureRecord:
    name: str
    path: str
    caption: str


@dataclass(frozen=True)
class RunRecord:
    """Everything the store knows about one run."""

    id: int
    experiment: str
    title: str
    figure_numbers: list[str]
    reference: dict[str, Any]
    kind: str
    status: str
    spec: str
    parameters: dict[str, Any]
    dataset_fingerprint: str
    backend: str
    versions: dict[str, str]
    started_at: float
    finished_at: float | None
    seconds: float | None
    summary: dict[str, Any]
    error: str
    fits: list[FitRecord] = field(default_factory=list)
    candidates: list[CandidateRecord] = field(default_factory=list)
    folds: list[FoldRecord] = field(default_factory=list)
    figures: list[FigureRecord] = field(default_factory=list)


def process_start_token(pid: int) -> str:
    """Start time of a process (Linux ``/proc``), so a reused pid is not mistaken for ours."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # Field 22 (starttime) counted after the parenthesised command name, which may hold spaces.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""


def process_alive(pid: int, start_token: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return not start_token or process_start_token(pid) in ("", start_token)
