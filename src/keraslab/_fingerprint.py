"""Ground floor: descriptions of parameters and data that are the same in every process, and seeds derived from them.

A search journal (:mod:`keraslab.search.journal`) recognises "the same search" by
these descriptions, and every fit of a search draws its seed from them, so the
helpers live below both the search and the workflows that reuse them.

Examples
--------
>>> derive_seed(0, "{'C': 1.0}", 2) == derive_seed(0, "{'C': 1.0}", 2)
True
"""

from __future__ import annotations

import functools
import hashlib
import math
import numbers
import re
import types
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["derive_seed", "fingerprint_data", "stable_repr"]

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_KERAS_AUTO_NAME = re.compile(r"'([A-Za-z][A-Za-z0-9_]*?)_\d+'")


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
