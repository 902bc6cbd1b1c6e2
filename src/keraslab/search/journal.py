"""A crash-safe record of finished fits, so an interrupted search resumes where it stopped.

Every finished ``(candidate, fold, subset)`` fit is one row of an SQLite table
(stdlib :mod:`sqlite3`, WAL mode), committed the moment the fit's result reaches
the search process. Re-running the same search after a crash, a ``SIGKILL`` or
Ctrl-C reads those rows back instead of fitting again, and the assembled
``cv_results_`` equals an uninterrupted run's.

A journal belongs to one search *identity*: the estimator's fixed parameters, the
scorer, the CV splitter (its description and the exact splits it produces) and a
fingerprint of the data. Opening a journal with a different identity raises
:class:`JournalMismatchError` instead of silently mixing results.

Examples
--------
>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "search.sqlite")
>>> with Journal(path) as j:
...     j.bind({"data": "abc", "cv": "KFold(3)"})
...     j.record("{'C': 1.0}", 0, "full", {"test_scores": 0.9, "fit_time": 0.1})
...     j.lookup("{'C': 1.0}", 0, "full")["test_scores"]
0.9
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from keraslab._fingerprint import derive_seed, fingerprint_data, stable_repr  # re-exported: public here before
from keraslab._sqlite import connect
from keraslab.errors import KeraslabValueError

__all__ = [
    "Journal",
    "JournalMismatchError",
    "candidate_key",
    "derive_seed",
    "fingerprint_data",
    "stable_repr",
]

_SCHEMA_VERSION = "1"


class JournalMismatchError(KeraslabValueError):
    """A journal was written for a different search (data, splitter, estimator or scorer)."""


def candidate_key(params: Mapping[str, Any]) -> str:
    """The journal's key for one candidate: its parameters, sorted, in :func:`stable_repr`.

    Examples
    --------
    >>> candidate_key({"b": 2, "a": "x"})
    "{'a': 'x', 'b': 2}"
    """
    return stable_repr(dict(params))


def _dumps(value: Any) -> str:
    return json.dumps(_plain(value))


def _plain(value: Any) -> Any:
    """Scores as JSON-able Python values (NaN stays NaN: json round-trips it)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


# ---------------------------------------------------------------------------
# The journal itself.
# ---------------------------------------------------------------------------
class Journal:
    """An SQLite file of finished fits (one row per fit, committed immediately).

    Parameters
    ----------
    path : str or os.PathLike
        The database file; created with its folder if missing.

    Notes
    -----
    Only the search process writes (workers return results to it), so there is one
    writer. WAL mode lets readers (a progress monitor, a test) look while it writes;
    ``synchronous=NORMAL`` in WAL mode survives a killed process (not a power loss).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        self._conn = connect(self.path, timeout=60, autocommit=True)
        self._conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._conn.execute(
            """CREATE TABLE IF NOT EXISTS fits (
                   candidate TEXT NOT NULL,
                   fold INTEGER NOT NULL,
                   subset TEXT NOT NULL,
                   result TEXT NOT NULL,
                   fit_time REAL,
                   score_time REAL,
                   finished_at REAL NOT NULL,
                   PRIMARY KEY (candidate, fold, subset))"""
        )

    # -- identity -----------------------------------------------------------
    def bind(self, identity: Mapping[str, str]) -> None:
        """Tie the journal to a search identity, or check it matches the stored one.

        Parameters
        ----------
        identity : dict of str -> str
            E.g. ``{"data": ..., "cv": ..., "estimator": ..., "scoring": ...}``.

        Raises
        ------
        JournalMismatchError
            When the journal holds fits of a search with a different identity.
        """
        stored = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
        wanted = {f"identity.{k}": str(v) for k, v in identity.items()}
        wanted["schema"] = _SCHEMA_VERSION
        if not any(k.startswith("identity.") for k in stored):
            with self._conn:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.executemany(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", sorted(wanted.items())
                )
            return
        differing = [
            k.split(".", 1)[-1]
            for k in sorted(set(stored) | set(wanted))
            if stored.get(k) != wanted.get(k)
        ]
        if differing:
            details = "; ".join(
                _difference(k, stored.get("identity." + k, stored.get(k)), wanted.get("identity." + k, wanted.get(k)))
                for k in differing
            )
            raise JournalMismatchError(
                f"The journal was written for a different search ({', '.join(differing)} differ: "
                f"{details}). Its fits cannot be reused without mixing results. Use a new journal "
                f"file for this search, or delete this one to start over. Received: journal={self.path!r}"
            )

    # -- rows -----------------------------------------------------------------
    def lookup(self, candidate: str, fold: int, subset: str) -> dict | None:
        """The stored result of one fit, or ``None`` when it has not finished."""
        row = self._conn.execute(
            "SELECT result FROM fits WHERE candidate = ? AND fold = ? AND subset = ?",
            (candidate, int(fold), subset),
        ).fetchone()
        return None if row is None else json.loads(row[0])

    def load(self, subset: str | None = None) -> dict[tuple[str, int, str], dict]:
        """All stored results (optionally of one subset), keyed by (candidate, fold, subset)."""
        query, args = "SELECT candidate, fold, subset, result FROM fits", ()
        if subset is not None:
            query, args = query + " WHERE subset = ?", (subset,)
        return {(c, f, s): json.loads(r) for c, f, s, r in self._conn.execute(query, args)}

    def record(self, candidate: str, fold: int, subset: str, result: Mapping[str, Any]) -> None:
        """Store one finished fit and commit at once (an existing row is replaced)."""
        payload = {k: _plain(v) for k, v in result.items() if k in _STORED_KEYS}
        self._conn.execute(
            "INSERT OR REPLACE INTO fits (candidate, fold, subset, result, fit_time, score_time, finished_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                candidate,
                int(fold),
                subset,
                json.dumps(payload),
                _float_or_none(payload.get("fit_time")),
                _float_or_none(payload.get("score_time")),
                time.time(),
            ),
        )

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM fits").fetchone()[0])

    def close(self) -> None:
        """Close the connection (rows are already committed)."""
        self._conn.close()

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Journal({self.path!r})"


_STORED_KEYS = frozenset(
    {"test_scores", "train_scores", "n_test_samples", "fit_time", "score_time", "fit_error", "history"}
)


def _float_or_none(v: Any) -> float | None:
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


def _difference(key: str, old: str | None, new: str | None, context: int = 60) -> str:
    """``key: journal has ..., this search has ...``, showing where two long descriptions
    first differ (an edited ``build_fn`` shows as its name and code hash)."""
    if old is None or new is None or (len(old) <= 80 and len(new) <= 80):
        return f"{key}: journal has {_short(old)}, this search has {_short(new)}"
    at = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
    start = max(0, at - context)
    return (f"{key} first differs at character {at}: journal has {_short(old[start:at + 30], 200)}, "
            f"this search has {_short(new[start:at + 30], 200)}")


def _short(value: str | None, limit: int = 80) -> str:
    if value is None:
        return "nothing"
    return repr(value if len(value) <= limit else value[: limit - 3] + "...")
