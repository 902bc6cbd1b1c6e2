"""One Optuna study shared by several worker processes, without "database is locked".

Optuna scales out by letting many processes run ``study.optimize`` against one
storage. Two storages work on a single machine or a shared file system:

* a ``.sqlite`` / ``.db`` path uses :class:`optuna.storages.RDBStorage` with a 60 s
  SQLite busy timeout (``engine_kwargs={"connect_args": {"timeout": 60}}``), so a
  writer waits for the lock instead of failing, plus heartbeats: a trial whose
  process died (``SIGKILL``, a lost machine) is marked FAILED after the grace
  period and retried, instead of staying RUNNING for ever;
* any other path uses :class:`optuna.storages.JournalStorage` over a
  :class:`~optuna.storages.journal.JournalFileBackend`: an append-only log file
  designed for many processes, no database at all.

Optuna is imported when :func:`shared_study` is called, never by ``import keraslab``.

Examples
--------
>>> import os, tempfile
>>> study = shared_study("demo", os.path.join(tempfile.mkdtemp(), "demo.log"))  # doctest: +SKIP
>>> study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 2) ** 2, n_trials=5)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
import warnings
from typing import Any

from keraslab.errors import KeraslabValueError

__all__ = ["shared_study", "storage_for"]

_SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")


def storage_for(storage_path: str | os.PathLike, *, heartbeat_interval: int | None = 60,
                grace_period: int | None = None, max_retry: int = 2) -> Any:
    """The Optuna storage :func:`shared_study` uses for ``storage_path``.

    Parameters
    ----------
    storage_path : str or os.PathLike
        ``*.sqlite``, ``*.sqlite3`` or ``*.db``: SQLite through ``RDBStorage``; any other
        file: ``JournalStorage(JournalFileBackend(path))``. A URL with ``://`` (e.g.
        ``postgresql://...``) is passed to ``RDBStorage`` unchanged.
    heartbeat_interval : int or None, default=60
        Seconds between a running trial's heartbeats (RDB storages only); ``None``
        turns heartbeats off.
    grace_period : int, optional
        Seconds without a heartbeat after which a trial counts as dead (default:
        twice the interval).
    max_retry : int, default=2
        Times a dead trial is re-queued (``RetryFailedTrialCallback``).

    Returns
    -------
    optuna.storages.BaseStorage
    """
    import optuna
    from optuna.storages import JournalStorage, RDBStorage
    from optuna.storages.journal import JournalFileBackend

    path = os.fspath(storage_path)
    is_url = "://" in path
    if is_url or path.lower().endswith(_SQLITE_SUFFIXES):
        url = path if is_url else "sqlite:///" + os.path.abspath(path)
        engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else None
        heartbeat = {}
        if heartbeat_interval is not None:
            heartbeat = dict(heartbeat_interval=heartbeat_interval,
                             grace_period=grace_period or 2 * heartbeat_interval,
                             **_retry_callback(optuna, max_retry))

        def make() -> Any:
            with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna's terms
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return RDBStorage(url, engine_kwargs=engine_kwargs, **heartbeat)

        return _retry_locked(make, optuna)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    return JournalStorage(JournalFileBackend(path))


def _retry_callback(optuna: Any, max_retry: int) -> dict[str, Any]:
    """Re-queue a dead trial with the same parameters (Optuna >= 4.9 renamed the hook)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if hasattr(optuna.storages, "RetryHeartbeatStaleTrialCallback"):
            cb = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry)
            return {"heartbeat_stale_trial_callback": cb}
        return {"failed_trial_callback": optuna.storages.RetryFailedTrialCallback(max_retry=max_retry)}


def shared_study(
    name: str,
    storage_path: str | os.PathLike,
    *,
    direction: str = "maximize",
    sampler: Any = None,
    pruner: Any = None,
    heartbeat_interval: int | None = 60,
) -> Any:
    """Create or join the Optuna study ``name`` in ``storage_path``.

    Every worker process calls this with the same arguments and then
    ``study.optimize(...)`` (or hands the study to ``OptunaSearchCV(study=...)``);
    the first creates the study, the others load it.

    Parameters
    ----------
    name : str
        Study name.
    storage_path : str or os.PathLike
        See :func:`storage_for`: ``.sqlite``/``.db`` for SQLite, anything else for a
        journal file, or a database URL.
    direction : {"maximize", "minimize"}, default="maximize"
        Scores (accuracy) are maximised; losses minimised.
    sampler, pruner : optional
        Optuna sampler (default TPE) and pruner (default median).
    heartbeat_interval : int or None, default=60
        See :func:`storage_for`.

    Returns
    -------
    optuna.Study

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "study.log")
    >>> a = shared_study("s", path); b = shared_study("s", path)
    >>> a.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    >>> len(b.trials)
    2
    """
    import optuna

    if direction not in ("maximize", "minimize"):
        raise KeraslabValueError(
            f"direction must be 'maximize' or 'minimize'. Received: direction={direction!r}"
        )
    storage = storage_for(storage_path, heartbeat_interval=heartbeat_interval)

    def create() -> Any:
        return optuna.create_study(
            study_name=name, storage=storage, direction=direction, sampler=sampler,
            pruner=pruner, load_if_exists=True,
        )

    # Two workers starting together can both try to create the study; the loser
    # gets DuplicatedStudyError and simply loads the winner's study.
    try:
        return _retry_locked(create, optuna)
    except optuna.exceptions.DuplicatedStudyError:
        return optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)


# Errors two processes get when they create the same SQLite schema at the same moment:
# a lock, or the loser's INSERT of the schema version hitting the winner's row.
_RACE_MESSAGES = ("locked", "unique constraint failed", "already exists")


def _retry_locked(make: Any, optuna: Any, attempts: int = 8) -> Any:
    """Retry ``make()`` when concurrent schema creation collides (the second try finds
    the tables made and simply uses them)."""
    for attempt in range(attempts):
        try:
            return make()
        except Exception as err:  # sqlalchemy OperationalError/IntegrityError, wrapped or not
            message = str(err).lower()
            if not any(m in message for m in _RACE_MESSAGES) or attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover
