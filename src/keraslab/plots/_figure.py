"""What every plot shares: a pyplot-free figure, the two colours, saving to a file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["new_figure", "save_figure", "TRAIN_COLOR", "VAL_COLOR"]

TRAIN_COLOR, VAL_COLOR = "#1f77b4", "#d62728"


def new_figure(width: float, height: float) -> "Figure":
    """A constrained-layout figure of ``width`` x ``height`` inches at 100 dpi, without pyplot's global state."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def save_figure(fig: "Figure", path: str | os.PathLike[str]) -> Path:
    """Write ``fig`` as a PNG (creating folders) and return the path.

    Examples
    --------
    >>> save_figure(plot_timing([8, 16], [2.0, 1.0]), "/tmp/keraslab-doctest-timing.png")
    PosixPath('/tmp/keraslab-doctest-timing.png')
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, format="png")
    return target
