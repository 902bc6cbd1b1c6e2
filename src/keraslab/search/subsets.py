"""Nested, stratified random subsets of the training data (the chapter's "small proxy
datasets"), and the rank agreement between searches on two subset sizes.

One random order of the rows is drawn per class; rows are then interleaved so that
every prefix of the order holds each class in proportion. A subset of fraction
``f`` is the first ``round(f * n)`` rows of that order, so subsets are nested
(the 10 % subset lies inside the 30 % one) and stratified at every size.

Examples
--------
>>> import numpy as np
>>> y = np.array([0] * 80 + [1] * 20)
>>> small, big = nested_subsets(y, (0.1, 0.5), random_state=0, stratify=True)
>>> len(small), int((y[small] == 1).sum()), set(small) <= set(big)
(10, 2, True)
"""

from __future__ import annotations

import hashlib
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from keraslab.errors import KeraslabValueError

__all__ = ["check_fractions", "nested_subsets", "rank_agreement", "subset_key"]


def check_fractions(subsets: Sequence[float] | None) -> tuple[float, ...] | None:
    """Validate ``subsets``: increasing fractions in (0, 1], the last one 1.0."""
    if subsets is None:
        return None
    if isinstance(subsets, (str, bytes)) or not isinstance(subsets, Sequence) or len(subsets) == 0:
        raise KeraslabValueError(
            f"subsets must be a sequence of fractions such as (0.1, 0.3, 1.0). Received: subsets={subsets!r}"
        )
    fr = []
    for f in subsets:
        if isinstance(f, bool) or not isinstance(f, numbers.Real) or not 0 < f <= 1:
            raise KeraslabValueError(
                f"each subset fraction must be in (0, 1]. Received: subsets={tuple(subsets)!r}"
            )
        fr.append(float(f))
    if any(b <= a for a, b in zip(fr, fr[1:])) or fr[-1] != 1.0:
        raise KeraslabValueError(
            "subsets must increase and end with 1.0 (the final rounds use all the data). "
            f"Received: subsets={tuple(subsets)!r}"
        )
    return tuple(fr)


def _stratified_order(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A permutation whose every prefix holds each class in proportion."""
    _, codes = np.unique(y, return_inverse=True)
    codes = codes.ravel()
    position = np.empty(len(y), dtype=float)
    for c in np.unique(codes):
        rows = np.flatnonzero(codes == c)
        rng.shuffle(rows)
        # Spread class c's rows evenly over [0, 1): the k-th of m sits at (k + u) / m,
        # with one random offset u per class so classes do not tie systematically.
        position[rows] = (np.arange(len(rows)) + rng.random()) / len(rows)
    return np.argsort(position, kind="stable")


def nested_subsets(
    y: Any,
    fractions: Sequence[float],
    *,
    random_state: int | None = None,
    stratify: bool = True,
    n_samples: int | None = None,
) -> list[np.ndarray]:
    """Row indices of nested random subsets, stratified by ``y`` when asked.

    Parameters
    ----------
    y : array-like or None
        Targets (used for stratification; may be None when ``stratify=False``).
    fractions : sequence of float
        Increasing fractions in (0, 1].
    random_state : int, optional
        Seed of the random order.
    stratify : bool, default=True
        Keep class proportions in every subset (classification).
    n_samples : int, optional
        Number of rows when ``y`` is None.

    Returns
    -------
    list of ndarray
        Sorted row indices, one array per fraction; the fraction 1.0 gives all rows
        in their original order, so the full-data CV splits match a plain search's.
    """
    n = len(y) if y is not None else int(n_samples or 0)
    rng = np.random.default_rng(random_state)
    if stratify and y is not None:
        order = _stratified_order(np.asarray(y), rng)
    else:
        order = rng.permutation(n)
    out = []
    for f in fractions:
        m = n if f >= 1.0 else max(1, int(round(f * n)))
        out.append(np.sort(order[:m]))
    return out


def subset_key(indices: np.ndarray | None, n_total: int) -> str:
    """A journal key for a subset: ``'full'`` for all rows, else its size and a content hash."""
    if indices is None or len(indices) == n_total:
        return "full"
    digest = hashlib.sha256(np.asarray(indices, dtype=np.int64).tobytes()).hexdigest()[:12]
    return f"n{len(indices)}:{digest}"


def rank_agreement(small: Sequence[float], large: Sequence[float]) -> float:
    """Spearman rank correlation of the same candidates' scores on two subset sizes
    (NaN with fewer than 3 candidates or constant scores).

    Examples
    --------
    >>> rank_agreement([0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.65])
    0.8
    """
    from scipy.stats import spearmanr

    a, b = np.asarray(small, dtype=float), np.asarray(large, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(round(spearmanr(a, b).statistic, 12))
