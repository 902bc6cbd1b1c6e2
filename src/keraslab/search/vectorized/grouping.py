"""Which fits run together, how many at once, and the dispatcher that runs them.

:func:`run_fits` takes the (candidate, fold) fits a search or a cross-validation
would hand to ``_fit_and_score`` and yields the same per-fit result dicts. Fits
whose models have the same architecture (same layers, optimizer apart from its
learning rate, loss, metrics, shapes, epochs and batch size) are trained as one
vectorised program; the rest run sequentially, each reason logged once.

The ``parallel_fits`` setting: ``"auto"`` (groups as large as memory allows),
``False`` (always sequential) or an int (the largest group). Memory: a group is
limited to half the RAM available when it is formed.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import time
from collections import defaultdict
from typing import Any, Callable, Iterable, Iterator

import numpy as np
from sklearn.base import clone
from sklearn.model_selection._validation import _fit_and_score, _safe_split
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import _check_method_params

from keraslab.errors import KeraslabValueError
from keraslab.search.vectorized.adopt import adopt, diverged_error, failure_result, score_member
from keraslab.search.vectorized.members import Ineligible, Member, prepare_member, static_reason

__all__ = ["available_memory", "check_setting", "current_setting", "fit_task", "parallel_fits", "run_fits"]

logger = logging.getLogger("keraslab.search.parallel_fits")
_logged_reasons: set[str] = set()

#: One fit as the search engine describes it: (index, estimator, X, y, train, test, parameters, kwargs).
Task = tuple


def check_setting(value: Any) -> int | None:
    """The largest group allowed by a ``parallel_fits`` value; None means "as memory allows".

    Returns 1 for ``False`` (every fit sequential).
    """
    if value is False or value is None:
        return 1
    if value is True or value == "auto":
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1:
        return int(value)
    raise KeraslabValueError(
        "parallel_fits must be 'auto', False or a positive int (the largest group of fits trained "
        f"together). Received: parallel_fits={value!r}"
    )


_setting: contextvars.ContextVar[Any] = contextvars.ContextVar("keraslab_parallel_fits", default=None)


@contextlib.contextmanager
def parallel_fits(setting: Any):
    """Set ``parallel_fits`` for the searches run inside the ``with`` block.

    Searches take their setting from their own ``parallel_fits`` attribute when they
    have one, else from this context, else from ``$KERASLAB_PARALLEL_FITS`` ("auto",
    "0"/"false", or an int), else ``"auto"``.

    Examples
    --------
    >>> from keraslab.search import parallel_fits
    >>> with parallel_fits(False):  # every fit of this search sequential
    ...     pass  # search.fit(X, y)
    """
    check_setting(setting)
    token = _setting.set(setting)
    try:
        yield setting
    finally:
        _setting.reset(token)


def current_setting(search: Any = None) -> Any:
    """The ``parallel_fits`` setting that applies to ``search`` now (see :func:`parallel_fits`)."""
    own = getattr(search, "parallel_fits", None)
    if own is not None:
        return own
    if _setting.get() is not None:
        return _setting.get()
    env = os.environ.get("KERASLAB_PARALLEL_FITS", "auto").strip().lower()
    if env in ("0", "false", "no", "off"):
        return False
    if env.isdigit():
        return int(env)
    return "auto"


def available_memory() -> int:
    """Bytes of RAM available now (psutil when installed, else the OS's count of free pages)."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        try:
            return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            return 2**33


def member_bytes(member: Member) -> int:
    """A generous estimate of one member's share of a group program's memory."""
    model = member.model
    variables = (list(model.trainable_variables) + list(model.non_trainable_variables)
                 + list(model.optimizer.variables) + list(model.metrics_variables))
    state = sum(int(np.prod(v.shape)) for v in variables) * 4
    activations = 0
    for layer in model._flatten_layers(include_self=False):
        try:
            activations += int(np.prod([d or 1 for d in layer.output.shape[1:]]))
        except (AttributeError, ValueError, TypeError):
            activations += 0
    data = (0 if member.x is None else member.x.nbytes) + member.y.nbytes
    # state, new state, gradients and optimizer temporaries; activations forward and backward.
    return 4 * state + 3 * activations * 4 * member.batch_size + 2 * data


def _log_once(reason: str) -> None:
    if reason not in _logged_reasons:
        _logged_reasons.add(reason)
        logger.info("Fitting sequentially: %s.", reason)


def fit_task(index: int, estimator: Any, X: Any, y: Any, train: Any, test: Any, parameters: dict | None,
             kwargs: dict) -> tuple[int, dict]:
    """One sequential fit through scikit-learn's ``_fit_and_score``, tagged with its index.

    The result also carries ``"history"``: the fit's per-epoch ``{metric: [floats]}``
    (empty for an estimator without ``history_``, or a fit that failed). It is read
    here, in the process that fitted, so the fitted model never travels back.
    """
    kwargs = {k: v for k, v in kwargs.items() if k != "parameters"}
    keep = bool(kwargs.get("return_estimator"))
    kwargs["return_estimator"] = True
    result = _fit_and_score(estimator, X, y, train=train, test=test, parameters=parameters, **kwargs)
    fitted = result.get("estimator") if keep else result.pop("estimator", None)
    result["history"] = history_of(fitted) if result.get("fit_error") is None else {}
    return index, result


def history_of(estimator: Any) -> dict[str, list[float]]:
    """The per-epoch history ``{metric: [floats]}`` of a fitted estimator (or pipeline), else {}."""
    last = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    history = getattr(last, "history_", None)
    if not isinstance(history, dict):
        return {}
    return {str(name): [float(v) for v in values] for name, values in history.items()}


def _sequential_default(tasks: list[Task]) -> Iterator[tuple[int, dict]]:
    for task in tasks:
        yield fit_task(*task)


def run_fits(tasks: Iterable[Task], setting: Any = "auto",
             sequential: Callable[[list[Task]], Iterable[tuple[int, dict]]] | None = None,
             ) -> Iterator[tuple[int, dict]]:
    """Run fits, vectorising same-architecture ones; yield ``(index, result)`` as they finish.

    Parameters
    ----------
    tasks : iterable of (index, estimator, X, y, train, test, parameters, kwargs)
        ``kwargs`` are ``_fit_and_score``'s keyword arguments (scorer, fit_params, ...).
    setting : "auto", False or int
        See :func:`check_setting`.
    sequential : callable, optional
        Runs a list of tasks the usual way (e.g. under joblib); default in-process.
    """
    tasks = list(tasks)
    sequential = sequential or _sequential_default
    limit = check_setting(setting)
    if limit == 1 or len(tasks) < 2:
        yield from sequential(tasks)
        return
    fallback: list[Task] = []
    eligible: list[Task] = []
    for task in tasks:
        estimator, parameters, kwargs = task[1], task[6], task[7]
        probe = clone(estimator)
        try:
            if parameters:
                probe.set_params(**clone(parameters, safe=False))
            reason = static_reason(probe, kwargs.get("fit_params") or {})
        except Exception as err:  # a bad parameter: the sequential fit reports it properly
            reason = f"the parameters could not be set ({type(err).__name__})"
        if reason:
            _log_once(reason)
            fallback.append(task)
        else:
            eligible.append(task)
    yield from _run_eligible(eligible, limit, fallback)
    if fallback:
        yield from sequential(fallback)


def _likely_group(task: Task) -> str:
    """Tasks whose parameters differ only in seeds and learning rates probably share a program.

    Preparing a member builds its model and holds its data, so members are prepared one
    likely group at a time (e.g. one grid candidate's folds), not the whole search at once.
    """
    params = task[6] or {}
    return repr(sorted((k, repr(v)) for k, v in params.items()
                       if not k.endswith(("random_state", "learning_rate"))))


def _run_eligible(tasks: list[Task], limit: int | None, fallback: list[Task]) -> Iterator[tuple[int, dict]]:
    buckets: dict[str, list[Task]] = defaultdict(list)
    for task in tasks:
        buckets[_likely_group(task)].append(task)
    # Buckets whose models differ only in hidden Dense widths (a grid over neurons_per_layer)
    # can train as one zero-padded program: each bucket's first fit is prepared now to learn
    # its key, while the members held ahead stay within a quarter of the available memory.
    prepared: dict[int, Member] = {}
    merged: dict[str, list[Task]] = {}
    predictors: dict[str, Any] = {}  # one model per predict key whose predict program members share
    budget, held = available_memory() * 0.25, 0
    for name, bucket in buckets.items():
        key = "bucket:" + name
        if held < budget:
            member = _prepare(bucket[0], fallback)
            if member is None:
                bucket = bucket[1:]
            else:
                prepared[bucket[0][0]] = member
                held += member_bytes(member)
                key = "padded:" + member.pad_key if member.pad_key else key
        merged.setdefault(key, []).extend(bucket)
    for bucket in merged.values():
        yield from _run_bucket(bucket, limit, fallback, prepared, predictors)


def _form_groups(pairs: list[tuple[Member, Task]]) -> list[list[tuple[Member, Task]]]:
    """Members with one architecture key, or with one width-free key when a member is at least
    as wide as every other in every hidden layer (it comes first: the padded template)."""
    by_key: dict[str, list[tuple[Member, Task]]] = defaultdict(list)
    for pair in pairs:
        by_key[pair[0].pad_key or pair[0].key].append(pair)
    groups = []
    for group in by_key.values():
        if len({m.key for m, _ in group}) == 1:
            groups.append(group)
            continue
        widest = next((p for p in group if all(all(a >= b for a, b in zip(p[0].widths, q[0].widths))
                                                for q in group)), None)
        if widest is None:  # no member covers all the others: one program per exact architecture
            exact: dict[str, list[tuple[Member, Task]]] = defaultdict(list)
            for pair in group:
                exact[pair[0].key].append(pair)
            groups.extend(exact.values())
            continue
        groups.append([widest] + [p for p in group if p is not widest])
    return groups


def _run_bucket(tasks: list[Task], limit: int | None, fallback: list[Task],
                prepared: dict[int, Member], predictors: dict[str, Any]) -> Iterator[tuple[int, dict]]:
    pending = list(tasks)
    while pending:
        first = pending[0]
        member = prepared.pop(first[0], None) or _prepare(first, fallback)
        if member is None:
            pending.pop(0)
            continue
        cap = max(1, int(available_memory() * 0.5 // max(1, member_bytes(member))))
        if limit is not None:
            cap = min(cap, limit)
        if cap < 2:
            _log_once("not enough memory for two fits at once")
        chunk, pending = pending[:cap], pending[cap:]
        pairs: list[tuple[Member, Task]] = [(member, first)]
        for task in chunk[1:]:
            m = prepared.pop(task[0], None) or _prepare(task, fallback)
            if m is not None:
                pairs.append((m, task))
        for group in _form_groups(pairs):
            if len(group) == 1:  # nothing to share: run it exactly as a sequential fit would
                fallback.append(group[0][1])
                continue
            # Scored as soon as trained. Preparing the next group while a program runs was
            # measured slower on 2 CPU cores: the next members' eager Keras ops queue behind
            # the running program, and Python competes with XLA's threads for the cores.
            yield from _train_and_score(group, fallback, predictors)


def _prepare(task: Task, fallback: list[Task]) -> Member | None:
    try:
        return prepare_member(*task[:7])
    except Ineligible as err:
        _log_once(str(err))
    except Exception as err:  # e.g. a bad parameter: the sequential fit reports it as usual
        _log_once(f"preparing the fit raised {type(err).__name__}")
    fallback.append(task)
    return None


def _scatter(values: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """Per-row values of a member placed at their positions in X (other rows zero, never visited)."""
    out = np.zeros((n,) + values.shape[1:], dtype=values.dtype)
    out[rows] = values
    return out


def _train(group: list[tuple[Member, Task]]):
    """Train a group as one program; returns (result, wall seconds)."""
    from keraslab.search.vectorized.program import GroupData, train_group  # imports JAX

    members = [m for m, _ in group]
    k = len(members)
    n_max = max(m.n_rows for m in members)

    def padded(arrays):
        out = np.zeros((k, n_max) + arrays[0].shape[1:], dtype=arrays[0].dtype)
        for i, a in enumerate(arrays):
            out[i, : a.shape[0]] = a
        return out

    weighted = members[0].sample_weight is not None
    X = group[0][1][2]
    shared = all(m.rows is not None for m in members) and all(t[2] is X for _, t in group)
    if shared:  # one copy of X (scaled in the program where x_scale is set); epoch orders become positions in X
        n_max = max(n_max, len(X))
        x, orders, offsets = X, [[m.rows[o] for o in m.orders] for m in members], np.zeros(k, dtype=np.int64)
        ys = [_scatter(m.y, m.rows, len(X)) for m in members]
        ws = [_scatter(m.sample_weight, m.rows, len(X)) for m in members] if weighted else None
    else:  # the members' own inputs, one after another
        x = np.concatenate([m.x for m in members])
        offsets = np.cumsum([0] + [m.n_rows for m in members[:-1]])
        orders = [m.orders for m in members]
        ys = [m.y for m in members]
        ws = [m.sample_weight for m in members] if weighted else None
    scales = None
    if shared and any(m.x_scale is not None for m in members):  # members after a MinMaxScaler
        ones = np.ones(X.shape[1:], dtype=X.dtype)
        scales = np.stack([ones if m.x_scale is None else m.x_scale for m in members])
    data = GroupData(x=x, y=padded(ys), sample_weight=padded(ws) if weighted else None,
                     orders=orders, x_offsets=offsets, x_scale=scales)
    for m in members:
        m.x = None  # the member's copy is no longer needed
    logger.debug("Group of %d: %s, %.0f MB of inputs", k, "one shared X" if shared else "per-member inputs",
                 np.asarray(data.x).nbytes / 2**20)
    start = time.time()
    result = train_group([m.model for m in members], data, epochs=members[0].epochs,
                         batch_size=members[0].batch_size)
    wall = time.time() - start
    padded = len({m.key for m in members}) > 1
    logger.info("Trained %d fits as one program%s in %.2f s; each fit_time is its preparation plus "
                "an apportioned 1/%d of that.", k, " (zero-padded to the widest member)" if padded else "",
                wall, k)
    return result, wall


def _share_predict_function(template: Any, model: Any) -> None:
    """Let ``model`` predict with the template's compiled predict step.

    Keras' JAX predict function is pure in the state it is given (the caller's own
    variable values), so members with the same layers can share it whatever their
    optimizer: one compilation instead of one per member (measured: 20 compilations,
    2.9 s, for 10 folds).
    """
    shared = getattr(template, "predict_function", None)
    if model is not template and shared is not None and getattr(model, "predict_function", None) is None:
        model.predict_function = shared


def _train_and_score(group: list[tuple[Member, Task]], fallback: list[Task],
                     predictors: dict[str, Any]) -> Iterator[tuple[int, dict]]:
    try:
        result, wall = _train(group)
    except Exception as err:  # a layer or optimizer the vmapped step cannot run: fit them one by one
        _log_once(f"the vectorised program failed ({type(err).__name__}: {err})")
        fallback.extend(task for _, task in group)
        return
    k = len(group)
    for i, (member, task) in enumerate(group):
        kwargs = dict(task[7], parameters=task[6])  # _fit_and_score returns the parameters it set
        # one predict program per layer architecture, across groups (Adam's and Adadelta's models alike)
        _share_predict_function(predictors.setdefault(member.predict_key, member.model), member.model)
        fit_time = member.prep_time + wall / k
        adopt(member, result.state, i, result.history[i])
        if result.diverged_at[i] is not None:
            yield task[0], failure_result(member, diverged_error(result.diverged_at[i]), fit_time, kwargs)
            continue
        X, train, test = task[2], task[4], task[5]
        sp = kwargs.get("score_params") or {}
        params = (_check_method_params(X, params=sp, indices=test), _check_method_params(X, params=sp, indices=train))
        yield task[0], score_member(member, fit_time, kwargs, params,
                                    lambda: _safe_split(member.estimator, X, task[3], train))
