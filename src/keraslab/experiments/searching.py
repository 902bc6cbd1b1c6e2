"""Cross-validation and searches of a spec, run on :mod:`keraslab.search` with a journal.

Every ``[explore]`` kind but ``sweep`` becomes one keraslab search over the spec's
estimator (:func:`keraslab.experiments.training.make_estimator`):

==========  ===========================================================================
``cv``      ``JournaledGridSearchCV`` over the single empty candidate ``[{}]`` (so
            ``cross_val_score``'s folds and scores, with a journal)
``grid``    ``JournaledGridSearchCV`` (``ParameterGrid`` order, as ``GridSearchCV``)
``random``  ``JournaledRandomizedSearchCV`` (``ParameterSampler`` draws, as scikit-learn)
``multires`` ``MultiResolutionSearchCV`` over the space in ``[explore.params]``
``halving`` :class:`keraslab.search.halving.SuccessiveHalvingSearchCV` (epochs or samples)
==========  ===========================================================================

Splits are ``StratifiedKFold`` (classification) or ``KFold`` with the spec's
``folds``, ``shuffle`` and ``random_state``. The journal lives next to the store
(``<store folder>/journals/<name>-<hash>.sqlite``): running the same spec, overrides
and data again reads finished fits back instead of computing them; another setting
is refused with one line that says what differs and how to start afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from keraslab.errors import KeraslabValueError
from keraslab.experiments.inputs import Inputs
from keraslab.experiments.recorder import CandidateResult, SearchRecorder, SearchStopped
from keraslab.experiments.spec import ExperimentSpec
from keraslab.store import ResultStore

__all__ = ["SearchOutcome", "run_search", "journal_path", "build_search", "planned_candidates", "JournalConflict"]


class JournalConflict(KeraslabValueError):
    """The run's journal holds fits of another setting of the experiment."""


@dataclass
class SearchOutcome:
    """What a search-backed run leaves: candidates in ``cv_results_`` order, the fitted search, counts."""

    candidates: list[CandidateResult]
    search: Any | None  # None when the search was stopped before it ended
    fits_line: str
    n_computed: int
    n_resumed: int
    n_planned: int
    stopped: bool
    journal: Path


def journal_path(spec: ExperimentSpec, store: ResultStore) -> Path:
    """``<store folder>/journals/<name>-<hash of where the spec came from>.sqlite``."""
    origin = os.path.abspath(spec.source) if spec.source else f"<dict>:{spec.name}"
    digest = hashlib.sha256(origin.encode()).hexdigest()[:8]
    return store.folder / "journals" / f"{spec.name}-{digest}.sqlite"


# ------------------------------------------------------------------ identity of a run
def _flatten(raw: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(raw, dict):
        out: dict[str, str] = {}
        for k, v in raw.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: json.dumps(raw, sort_keys=True, default=str)}


def _identity(spec: ExperimentSpec, inputs: Inputs) -> dict[str, str]:
    """What must match for finished fits to be reused: every setting but titles and the chapter's numbers."""
    raw = {k: v for k, v in spec.raw.items() if k not in ("experiment", "reference")}
    out = _flatten(raw)
    out["data rows"] = inputs.fingerprint
    return out


def _check_identity(path: Path, identity: dict[str, str]) -> None:
    """Compare with (or write) the identity kept in the journal file; one-line error on a mismatch."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=60, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE IF NOT EXISTS keraslab_run (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        stored = dict(conn.execute("SELECT key, value FROM keraslab_run").fetchall())
        if not stored:
            with conn:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany("INSERT OR REPLACE INTO keraslab_run VALUES (?, ?)", sorted(identity.items()))
            return
        differing = [k for k in sorted(set(stored) | set(identity)) if stored.get(k) != identity.get(k)]
        if differing:
            shown = "; ".join(f"{k}: {_show(stored.get(k))} there, {_show(identity.get(k))} here" for k in differing[:3])
            more = f" and {len(differing) - 3} more" if len(differing) > 3 else ""
            try:
                n = conn.execute("SELECT COUNT(*) FROM fits").fetchone()[0]
            except sqlite3.OperationalError:
                n = 0
            raise JournalConflict(
                f"{path} holds {n} finished fit(s) of this experiment with other settings ({shown}{more}); "
                "run the same settings to resume, or add --restart to discard them and start afresh."
            )
    finally:
        conn.close()


def _show(value: str | None) -> str:
    if value is None:
        return "unset"
    return value if len(value) <= 40 else value[:12] + "…"


def discard_journal(path: Path) -> None:
    """Delete a journal (``--restart``) with its SQLite side files."""
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{path}{suffix}")


# ------------------------------------------------------------------ the search
def planned_candidates(spec: ExperimentSpec) -> int:
    """Candidates of a ``cv``, ``grid`` or ``random`` run (what "Fitting k folds for each of n" says)."""
    from sklearn.model_selection import ParameterGrid, ParameterSampler

    e = spec.explore
    if e.kind == "cv":
        return 1
    if e.kind == "grid":
        return len(ParameterGrid(e.params))
    return min(e.n_iter, len(ParameterGrid(e.params)))


def _names(spec: ExperimentSpec) -> tuple[dict[str, str], dict[str, str]]:
    """Spec names (``model.neurons_per_layer``) <-> search parameter names (``model_step__neurons_per_layer``)."""
    prefix = "model_step__" if spec.explore.scaler != "none" else ""
    to_search = {key: prefix + key.split(".", 1)[1] for key in spec.explore.params}
    return to_search, {v: k for k, v in to_search.items()}


def _spec_name(search_name: str) -> str:
    """A parameter the search sets itself (halving's epochs) under the spec's name: ``train.epochs``."""
    from keraslab.experiments.spec import TrainSpec

    name = search_name.rsplit("__", 1)[-1]
    return f"train.{name}" if name in TrainSpec.model_fields else f"model.{name}"


def _splitter(spec: ExperimentSpec, inputs: Inputs) -> Any:
    from sklearn.model_selection import KFold, StratifiedKFold

    e = spec.explore
    seed = e.random_state if e.shuffle else None
    if e.stratified and inputs.task == "classification":
        splitter = StratifiedKFold(e.folds, shuffle=e.shuffle, random_state=seed)
    else:
        splitter = KFold(e.folds, shuffle=e.shuffle, random_state=seed)
    try:
        splitter.get_n_splits(inputs.x_train, inputs.y_train)
        next(iter(splitter.split(inputs.x_train, inputs.y_train)))
    except ValueError as exc:
        raise KeraslabValueError(
            f"Cannot make {e.folds} folds from {len(inputs.x_train)} samples ({exc}); "
            f"lower explore.folds or raise data.subset. Received: folds={e.folds}"
        ) from None
    return splitter


def _scoring(spec: ExperimentSpec) -> Any:
    if not spec.explore.scoring:
        return None
    from sklearn.metrics import get_scorer

    try:
        get_scorer(spec.explore.scoring)
    except ValueError:
        raise KeraslabValueError(f"explore.scoring must be a scikit-learn scorer name. "
                                 f"Received: scoring={spec.explore.scoring!r}") from None
    return spec.explore.scoring


def build_search(spec: ExperimentSpec, inputs: Inputs, journal: str | os.PathLike | None) -> Any:
    """The unfitted keraslab search that runs the spec's ``[explore]`` (any kind but ``sweep``)."""
    from keraslab.experiments.training import make_estimator

    e = spec.explore
    if e.scaler != "none" and inputs.x_train.ndim != 2:
        raise KeraslabValueError(
            f"explore.scaler works on flat rows; set data.layout = \"flat\". Received: layout={spec.data.layout!r}"
        )
    # No callbacks: epochs are recorded from each fit's history, so fits may be vectorised.
    estimator = make_estimator(spec, inputs, scaler=e.scaler)
    to_search, _ = _names(spec)
    common = dict(scoring=_scoring(spec), cv=_splitter(spec, inputs), n_jobs=e.n_jobs, refit=False,
                  journal=None if journal is None else os.fspath(journal))
    if e.kind in ("cv", "grid"):
        from keraslab.search import JournaledGridSearchCV

        grid = {to_search[k]: list(v) for k, v in e.params.items()} if e.kind == "grid" else {}
        return JournaledGridSearchCV(estimator, grid, random_state=spec.train.seed, **common)
    if e.kind == "random":
        from keraslab.search import JournaledRandomizedSearchCV

        dists = {to_search[k]: list(v) for k, v in e.params.items()}
        return JournaledRandomizedSearchCV(estimator, dists, n_iter=e.n_iter, random_state=e.random_state, **common)
    from keraslab.experiments.spaces import space_from_toml

    space = space_from_toml({to_search[k]: v for k, v in e.params.items()})
    if e.kind == "multires":
        from keraslab.search import MultiResolutionSearchCV

        return MultiResolutionSearchCV(estimator, space, resolution=e.resolution, rounds=e.rounds, zoom=e.zoom,
                                       keep=e.keep, subsets=tuple(e.subsets) or None,
                                       random_state=e.random_state, **common)
    if e.kind == "halving":
        from keraslab.search.halving import SuccessiveHalvingSearchCV

        return SuccessiveHalvingSearchCV(estimator, space, resource=e.resource, factor=e.factor,
                                         min_resource=e.min_resource or None, max_resource=None,
                                         resolution=e.resolution, random_state=e.random_state, **common)
    raise KeraslabValueError(f"explore.kind {e.kind!r} cannot run as a search yet. Received: kind={e.kind!r}")


@contextlib.contextmanager
def _backend(spec: ExperimentSpec) -> Iterator[None]:
    """``[explore] backend = "dask"``: connect before any fit starts; a dead address is one line."""
    e = spec.explore
    if e.backend != "dask":
        yield
        return
    try:
        import distributed
        import joblib
    except ImportError:
        raise KeraslabValueError('backend = "dask" needs the dask extra: pip install "keraslab[dask]". '
                                 "Received: backend='dask'") from None
    try:
        client = distributed.Client(e.dask_scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise KeraslabValueError(f"Cannot reach the Dask scheduler at {e.dask_scheduler} ({type(exc).__name__}); "
                                 "start it (dask scheduler) or fix explore.dask_scheduler. "
                                 f"Received: dask_scheduler={e.dask_scheduler!r}") from None
    try:
        with joblib.parallel_backend("dask"):
            yield
    finally:
        client.close()


def run_search(spec: ExperimentSpec, inputs: Inputs, *, store: ResultStore, run_id: int, progress: Any,
               restart: bool = False) -> SearchOutcome:
    """Run the spec's search with a journal next to the store; record every fold as it ends.

    Parameters
    ----------
    progress : object with ``add(n)`` and ``advance(best=..., reused=...)``
        E.g. :class:`keraslab.search.cost.ProgressBar` (started at 0 fits).
    restart : bool
        Discard the journal of an earlier run of this experiment first.

    Raises
    ------
    JournalConflict
        The journal holds fits of this experiment with other settings (and ``restart`` is False).
    """
    from sklearn.exceptions import FitFailedWarning

    from keraslab.search.journal import JournalMismatchError
    from keraslab.search.listen import listening

    path = journal_path(spec, store)
    if restart:
        discard_journal(path)
    search = build_search(spec, inputs, path)  # bad settings fail here, before the journal is touched
    _check_identity(path, _identity(spec, inputs))
    _, to_spec = _names(spec)
    recorder = SearchRecorder(store, run_id, lambda name: to_spec.get(name) or _spec_name(name), progress)
    stopped = False
    with _backend(spec), listening(recorder), warnings.catch_warnings():
        # Failed fits are recorded as failed folds with their error; scikit-learn's warnings would repeat them.
        warnings.filterwarnings("ignore", category=FitFailedWarning)
        warnings.filterwarnings("ignore", message="One or more of the test scores are non-finite")
        try:
            search.fit(inputs.x_train, inputs.y_train)
        except SearchStopped:
            stopped, search = True, None
        except JournalMismatchError as exc:
            raise JournalConflict(f"{exc} Add --restart to discard it and start afresh.") from None
    return SearchOutcome(recorder.candidates, search, recorder.fits_line, recorder.n_computed, recorder.n_resumed,
                         recorder.n_planned, stopped, path)
