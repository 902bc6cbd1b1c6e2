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

import functools
import hashlib
import json
import math
import numbers
import os
import re
import time
import types
from collections.abc import Mapping
from typing import Any

import numpy as np

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
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_KERAS_AUTO_NAME = re.compile(r"'([A-Za-z][A-Za-z0-9_]*?)_\d+'")


class JournalMismatchError(KeraslabValueError):
    """A journal was written for a different search (data, splitter, estimator or scorer)."""


# ---------------------------------------------------------------------------
# Canonical, process-independent descriptions of parameters and data.
# ---------------------------------------------------------------------------
def stable_repr(obj: Any) -> str:
    """A description of ``obj`` that is the same in every process.

    Plain ``repr`` is not: functions print their memory address. Estimators are
    described by class and parameters, arrays by a hash of their contents, Keras
    objects (models, layers, optimizers, losses, metrics) by their config, and Python
    functions by module, qualified name and a hash of their code: bytecode, constants
    (nested functions and lambdas included), names used, defaults and the values of
    closure variables (``functools.partial`` adds its arguments). So editing the body of
    a ``build_fn`` changes the description, and a journal written for the old code is
    refused rather than reused.

    What cannot be seen: a global variable or another module's function that the code
    reads at run time (only its *name* is part of the code), data read from files,
    classes (described by name only) and objects without a stable description (the
    memory address is dropped from their ``repr``).

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> stable_repr(Ridge(alpha=2.0))
    "sklearn.linear_model._ridge.Ridge(alpha=2.0, copy_X=True, fit_intercept=True, max_iter=None, positive=False, random_state=None, solver='auto', tol=0.0001)"
    """
    if obj is None or isinstance(obj, (bool, str)):
        return repr(obj)
    if isinstance(obj, numbers.Integral):
        return repr(int(obj))
    if isinstance(obj, numbers.Real):
        value = float(obj)
        return repr(value) if math.isfinite(value) else f"float({str(value)!r})"
    if isinstance(obj, np.ndarray):
        return f"ndarray({obj.dtype.str}, {obj.shape}, {_hash_array(obj)})"
    if hasattr(obj, "get_params") and not isinstance(obj, type):
        cls = type(obj)
        params = obj.get_params(deep=False)
        inner = ", ".join(f"{k}={stable_repr(params[k])}" for k in sorted(params))
        return f"{cls.__module__}.{cls.__qualname__}({inner})"
    if isinstance(obj, Mapping):
        items = sorted((stable_repr(k), stable_repr(v)) for k, v in obj.items())
        return "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"
    if isinstance(obj, (list, tuple)):
        inner = ", ".join(stable_repr(v) for v in obj)
        return f"[{inner}]" if isinstance(obj, list) else f"({inner},)"
    if type(obj).__module__.startswith("keras") and hasattr(obj, "get_config"):
        try:
            config = obj.get_config()
        except Exception:  # a custom object without a config: fall back to its repr
            config = None
        if config is not None:
            # Keras numbers auto-generated names per process ("adam_3", "dense_12"): drop the number.
            text = _KERAS_AUTO_NAME.sub(r"'\1'", stable_repr(config))
            return f"{type(obj).__module__}.{type(obj).__qualname__}({text})"
    if isinstance(obj, functools.partial):
        return f"partial({stable_repr(obj.func)}, {stable_repr(obj.args)}, {stable_repr(obj.keywords)})"
    if callable(obj) and hasattr(obj, "__qualname__"):
        name = f"{getattr(obj, '__module__', '?')}.{obj.__qualname__}"
        function = getattr(obj, "__func__", obj)  # bound methods: their function
        if isinstance(function, types.FunctionType):
            return f"{name}#code={_code_digest(function)}"
        return name
    return _ADDRESS.sub("", repr(obj))


def _code_digest(function: types.FunctionType) -> str:
    """A hash of what a Python function does: its code objects, defaults and closure values."""
    h = hashlib.sha256()

    def code(c: types.CodeType) -> None:
        h.update(c.co_code)
        h.update(repr((c.co_names, c.co_varnames, c.co_freevars, c.co_argcount, c.co_kwonlyargcount)).encode())
        for const in c.co_consts:
            if isinstance(const, types.CodeType):
                code(const)  # nested functions, lambdas, comprehensions
            elif isinstance(const, frozenset):  # `x in {"a", "b"}`: set order varies per process
                h.update(repr(sorted(map(repr, const))).encode())
            else:
                h.update(repr(const).encode())

    code(function.__code__)
    h.update(stable_repr(function.__defaults__).encode())
    h.update(stable_repr(function.__kwdefaults__).encode())
    for cell in function.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell (a name not yet bound)
            value = None
        # A closure may hold the function itself (recursion): name it instead of descending.
        h.update((repr(value.__qualname__) if value is function else stable_repr(value)).encode())
    return h.hexdigest()[:12]


def candidate_key(params: Mapping[str, Any]) -> str:
    """The journal's key for one candidate: its parameters, sorted, in :func:`stable_repr`.

    Examples
    --------
    >>> candidate_key({"b": 2, "a": "x"})
    "{'a': 'x', 'b': 2}"
    """
    return stable_repr(dict(params))


def _hash_array(a: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(str((a.dtype.str, a.shape)).encode())
    if a.dtype == object:
        h.update(repr(a.tolist()).encode())
    else:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def fingerprint_data(*arrays: Any) -> str:
    """A short hash of the contents of ``X``, ``y`` (and any other arrays), so a journal
    written for other data is recognised.

    Sparse matrices, pandas objects and lists are supported; ``None`` is allowed.

    Examples
    --------
    >>> import numpy as np
    >>> fingerprint_data(np.zeros((2, 2)), np.array([0, 1])) == fingerprint_data(np.zeros((2, 2)), np.array([0, 1]))
    True
    """
    import joblib

    def content(a: Any) -> Any:
        # What the data is, not how it sits in memory: contiguous arrays, CSR matrices, column names.
        if a is None:
            return None
        if hasattr(a, "tocsr"):  # scipy.sparse
            m = a.tocsr()
            return ("csr", m.shape, *(np.ascontiguousarray(p) for p in (m.data, m.indices, m.indptr)))
        columns = list(a.columns) if hasattr(a, "columns") else None  # pandas: column names matter too
        values = np.asarray(a)
        return (columns, values.tolist() if values.dtype == object else np.ascontiguousarray(values))

    return joblib.hash([content(a) for a in arrays])[:16]


def derive_seed(base: int, cand_key: str, fold: int, subset_key: str = "full") -> int:
    """A seed for one fit from (base seed, candidate, fold, subset), independent of the
    order fits run in and of ``n_jobs``.

    Examples
    --------
    >>> derive_seed(0, "{'C': 1.0}", 2) == derive_seed(0, "{'C': 1.0}", 2)
    True
    """
    digest = hashlib.sha256(f"{int(base)}|{cand_key}|{int(fold)}|{subset_key}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


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
