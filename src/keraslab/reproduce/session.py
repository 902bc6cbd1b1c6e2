"""Run catalogue entries at the chapter's settings, reusing what the store already holds.

A reproduction can take hours on a small machine, so it is built to be run over several
sittings: an entry whose newest finished run in the store used exactly the same spec
(settings, overrides and backend) is read back, not rerun; searches and cross-validations
that were cut off resume from their journals (see :func:`keraslab.experiments.run`); and
a ``budget`` in seconds stops *starting* entries once it is spent (an entry already
running is finished, so nothing is half-recorded).
"""

from __future__ import annotations

import logging
import os
import platform
import time
from typing import Any, Callable, Iterable, Mapping, Sequence

from keraslab.reproduce.explained import (EXPLANATIONS, GENERAL_EXPLANATIONS, OBSERVATIONS, TOLERANCES,
                                          VARIANT_REASONS, VARIANTS)
from keraslab.reproduce.outcome import EntryOutcome, Reproduction, newest_finished
from keraslab.reproduce.textgen import TEXT_ENTRY, run_text_entry, text_settings
from keraslab.reproduce.verdict import DIFFERS, EXPLAINED, MATCHES, Verdict, judge

__all__ = ["EntryOutcome", "Reproduction", "reproduce", "machine_description"]

log = logging.getLogger(__name__)


def machine_description() -> str:
    """"Linux x86_64, 2 CPU cores, keras 3.15.1 on jax 0.10.2", for the page's header."""
    import keras

    backend = keras.backend.backend()
    try:
        version = __import__(backend).__version__
    except (ImportError, AttributeError):
        version = "?"
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 0
    return (f"{platform.system()} {platform.machine()}, {cores} CPU cores, "
            f"keras {keras.__version__} on {backend} {version}")


def _settings(spec: Any) -> dict[str, Any]:
    out = {"epochs": spec.train.epochs, "batch_size": spec.train.batch_size}
    if spec.data.subset:
        out["rows"] = spec.data.subset
    explore = spec.raw.get("explore", {})
    if explore.get("folds"):
        out["folds"] = explore["folds"]
    return out


def _histories(record: Any) -> dict[str, dict[str, list[float]]]:
    return {f.label: f.history for f in getattr(record, "fits", []) if f.history}


def _evidence(outcome: EntryOutcome, histories: Mapping[str, Any]) -> dict:
    return {**(outcome.summary or {}), "histories": dict(histories), "reference": dict(outcome.reference),
            "overrides": list(outcome.overrides)}


def _judge(name: str, outcome: EntryOutcome, histories: Mapping[str, Any]) -> Verdict:
    if outcome.summary is None:
        return Verdict(outcome.status)
    evidence = _evidence(outcome, histories)
    explain = EXPLANATIONS.get(name)
    reasons = ([explain] if explain else []) + list(GENERAL_EXPLANATIONS)
    reason = next((text for text in (r(evidence) for r in reasons) if text), "")
    return judge(outcome.reference, evidence, explanation=reason,
                 observations=OBSERVATIONS.get(name, ()), tolerances=TOLERANCES.get(name))


def _same_settings(stored: str, spec_text: str) -> bool:
    # Compared as TOML values, not text: a newer keraslab may write the same spec differently.
    import tomllib

    try:
        return tomllib.loads(stored) == tomllib.loads(spec_text)
    except tomllib.TOMLDecodeError:
        return stored == spec_text


def _reusable(db: Any, name: str, spec_text: str, backend: str) -> Any:
    return newest_finished(db, name, backend, lambda stored: _same_settings(stored, spec_text))


def _run_one(spec: Any, db: Any, *, restart: bool, progress: bool, stream: Any) -> tuple[Any, bool]:
    import keras

    from keraslab.experiments import run

    found = None if restart else _reusable(db, spec.name, spec.to_toml(), keras.backend.backend())
    if found is not None:
        log.info("%s: read back run %d from the store", spec.name, found.id)
        return found, True
    result = run(spec, store=db, progress=progress, stream=stream, restart=restart)
    return db.run(result.run_id), False


def _outcome(name: str, spec: Any, record: Any, reused: bool) -> EntryOutcome:
    out = EntryOutcome(name, spec.title, spec.kind, tuple(spec.overrides), dict(spec.reference),
                       run_id=record.id, status=record.status, seconds=record.seconds, reused=reused,
                       summary=dict(record.summary), settings=_settings(spec))
    out.verdict = _judge(name, out, _histories(record))
    return out


def reproduce(
    names: Iterable[str] | None = None,
    *,
    overrides: Mapping[str, Sequence[str]] | None = None,
    budget: float | None = None,
    store: Any = None,
    restart: bool = False,
    variants: bool = True,
    progress: bool = False,
    stream: Any = None,
    on_entry: Callable[[EntryOutcome], None] | None = None,
) -> Reproduction:
    """Run catalogue entries at the chapter's settings and judge each against its numbers.

    Parameters
    ----------
    names : iterable of str, optional
        Catalogue names, in the order to run them, and ``b3-textgen-char`` for the chapter's
        letter-by-letter text generator (:mod:`keraslab.reproduce.textgen`); default all of them.
    overrides : mapping name -> list of "key=value", optional
        Settings that differ from the chapter's for an entry (e.g. fewer epochs for a CNN
        that plateaus early); they are shown on the page beside the entry.
    budget : float, optional
        Seconds: no entry is *started* after this much time has passed (entries that are
        read back from the store cost nothing). Entries left out are ``not run (budget
        spent)``; running again continues with them.
    store : ResultStore or path, optional
        Default ``./keraslab-runs/runs.sqlite``.
    restart : bool
        Rerun entries even when the store holds a finished run of the same spec.
    variants : bool
        Also run the variants that show an explained difference (e.g. grid 1's Adadelta at
        Keras 2's learning rate, see :data:`keraslab.reproduce.explained.VARIANTS`).
    on_entry : callable, optional
        Called with each :class:`EntryOutcome` as soon as it is judged (the CLI prints it).

    Returns
    -------
    Reproduction

    Raises
    ------
    keraslab.experiments.SpecError
        For an unknown name (before anything runs).
    """
    from keraslab.experiments import catalog_names, load_spec, spec_from_dict
    from keraslab.store import ResultStore

    chosen = list(names) if names else [*catalog_names(), TEXT_ENTRY]
    overrides = dict(overrides or {})
    # Every name and setting is checked before anything runs.
    specs = {n: load_spec(n, overrides.get(n, ())) for n in chosen if n != TEXT_ENTRY}
    if TEXT_ENTRY in chosen:
        text_settings(overrides.get(TEXT_ENTRY, ()))
    owns = not isinstance(store, ResultStore)
    db = store if isinstance(store, ResultStore) else ResultStore(store)
    start = time.perf_counter()
    entries = []
    try:
        for name in chosen:
            if name == TEXT_ENTRY:
                spent = budget is not None and time.perf_counter() - start >= budget
                outcome = run_text_entry(db, overrides.get(name, ()), restart=restart, run=not spent)
                entries.append(outcome)
                if on_entry is not None and outcome.run_id is not None:
                    on_entry(outcome)
                continue
            spec = specs[name]
            if budget is not None and time.perf_counter() - start >= budget:
                found = None if restart else _reusable_quiet(db, spec)
                if found is None:
                    entries.append(_skipped(name, spec))
                    continue
                outcome = _outcome(name, spec, found, True)
            else:
                record, reused = _run_one(spec, db, restart=restart, progress=progress, stream=stream)
                outcome = _outcome(name, spec, record, reused)
            if variants and name in VARIANTS:
                suffix, change = VARIANTS[name]
                vspec = spec_from_dict(change(dict(spec.raw)), name=f"{name}+{suffix}")
                if budget is None or time.perf_counter() - start < budget or _reusable_quiet(db, vspec):
                    record, reused = _run_one(vspec, db, restart=restart, progress=progress, stream=stream)
                    outcome.variant = _outcome(vspec.name, vspec, record, reused)
                    outcome.verdict = _explained_by_variant(name, outcome)
            entries.append(outcome)
            if on_entry is not None:
                on_entry(outcome)
        return Reproduction(entries, db.path, machine_description(), time.perf_counter() - start)
    finally:
        if owns:
            db.close()


def _explained_by_variant(name: str, outcome: EntryOutcome) -> Verdict:
    """``differs`` becomes ``differs (explained)`` when the variant that runs the entry as the
    chapter's notebook actually ran matches the chapter's numbers."""
    verdict, variant = outcome.verdict, outcome.variant
    if verdict.status != DIFFERS or variant is None or variant.verdict.status != MATCHES \
            or name not in VARIANT_REASONS:
        return verdict
    shown = "; ".join(f"{c.metric} {c.this_run:.4f}" for c in variant.verdict.checks
                      if c.headline and c.ok and isinstance(c.this_run, float))
    reason = f"{VARIANT_REASONS[name]} (variant {variant.name}): {shown}, which matches"
    return Verdict(EXPLAINED, verdict.checks, reason, verdict.observations)


def _reusable_quiet(db: Any, spec: Any) -> Any:
    import keras

    return _reusable(db, spec.name, spec.to_toml(), keras.backend.backend())


def _skipped(name: str, spec: Any) -> EntryOutcome:
    out = EntryOutcome(name, spec.title, spec.kind, tuple(spec.overrides), dict(spec.reference),
                       status="not run (budget spent)", settings=_settings(spec))
    out.verdict = Verdict(out.status)
    return out
