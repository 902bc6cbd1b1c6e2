"""Compare a run with the numbers the chapter reports: "val_acc: chapter: 0.9939 · this run: 0.9921".

A spec's ``[reference]`` table holds the chapter's final numbers under the chapter's
names (``acc``, ``val_acc``, ``loss``, ``val_loss``, ``epoch_seconds``; ``mean_score``
and ``fold_scores`` for cross-validation; ``best_score`` and ``best_params`` for
searches, ``mean_scores`` in the search's candidate order, ``fits`` (how many fits the
chapter's search used) and ``path`` (the route it took, in words); ``rms_error`` for
sequences; ``note`` for what the chapter says in words).
For a sweep a value may be a table keyed by the swept value, e.g.
``acc = { "0.1" = 0.18, "0.01" = 0.93 }``.

Examples
--------
>>> compare({"val_acc": 0.9939}, {"finals": {"training": {"val_acc": 0.99214}}})
['val_acc: chapter: 0.9939 · this run: 0.9921']
"""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["compare", "find_label", "fit_value", "format_value"]

_PER_FIT = ("loss", "acc", "val_loss", "val_acc", "epoch_seconds")


def format_value(value: Any) -> str:
    """Numbers to 4 decimals (tiny ones in scientific notation), lists joined, ``None`` as "—".

    Examples
    --------
    >>> format_value(0.95527), format_value(2.7e-4), format_value([0.95, None]), format_value(147)
    ('0.9553', '2.7000e-04', '0.9500 FAILED', '147')
    """
    if value is None:
        return "FAILED"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return "nan"
        return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.4e}"
    if isinstance(value, (list, tuple)):
        return " ".join("FAILED" if v is None else format_value(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def _seconds(value: Any) -> str:
    return f"{value:.0f} s" if isinstance(value, (int, float)) else format_value(value)


def fit_value(summary: Mapping[str, Any], key: str, label: str | None) -> Any:
    """A final metric of the fit ``label`` (or of the only fit when ``label`` is None); None if absent."""
    finals = summary.get("finals", {})
    if label is None:
        if len(finals) != 1:
            return None
        label = next(iter(finals))
    return finals.get(label, {}).get(key)


def find_label(summary: Mapping[str, Any], swept: str) -> str | None:
    """The fit label of a swept value (``"batch_size=2048"`` for ``"2048"``); None if not run."""
    # Sweep fits are labelled "batch_size=2048"; the reference says "2048".
    for label in summary.get("finals", {}):
        value = label.split("=", 1)[-1]
        if value == swept:
            return label
        try:
            if float(value) == float(swept):
                return label
        except ValueError:
            continue
    return None


def compare(reference: Mapping[str, Any], summary: Mapping[str, Any]) -> list[str]:
    """One line per reference value that the run can be compared with (and one for the note)."""
    lines = []
    for key, ref in reference.items():
        if key in ("note", "path"):
            continue
        if key in _PER_FIT and isinstance(ref, Mapping):
            for swept, ref_value in ref.items():
                label = find_label(summary, str(swept))
                mine = fit_value(summary, key, label) if label else None
                shown = _seconds if key == "epoch_seconds" else format_value
                lines.append(f"{key} [{label or swept}]: chapter: {shown(ref_value)} · this run: "
                             f"{shown(mine) if mine is not None else 'not run'}")
            continue
        if key in _PER_FIT:
            mine = fit_value(summary, key, None)
        elif key == "mean_scores":
            mine = summary.get("cv_results", {}).get("mean_test_score")
        elif key == "fits":
            mine = summary.get("fits", {}).get("planned")
        elif key == "rms_error":
            values = summary.get("rms_error", {})
            mine = next(iter(values.values())) if len(values) == 1 else None
        else:
            mine = summary.get(key)
        shown = _seconds if key == "epoch_seconds" else format_value
        lines.append(f"{key}: chapter: {shown(ref)} · this run: {shown(mine) if mine is not None else 'not measured'}")
    if "path" in reference:
        lines.append(f"chapter's path: {reference['path']}")
    if "note" in reference:
        lines.append(f"chapter says: {reference['note']}")
    return lines
