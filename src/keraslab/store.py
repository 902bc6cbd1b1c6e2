"""ResultStore: every run, epoch, fold and search candidate in one SQLite file.

Why SQLite (stdlib ``sqlite3``, WAL mode): results must survive a crash and be
queryable afterwards without a server. Every write is its own transaction, so a run
killed half-way leaves complete rows behind and never a half-written one; the run's
own row stays ``running`` until it is closed. When the store is opened again, a
``running`` run whose process no longer exists is marked ``interrupted``.

Layout of a run (one row each in ``runs``)::

    fits        one training (a sweep value, a CV fold, ...)  -> epochs (one row per epoch)
    candidates  one parameter setting of a search (plain CV: one candidate) -> folds
    figures     PNG files written next to the store

Examples
--------
>>> import tempfile, pathlib
>>> store = ResultStore(pathlib.Path(tempfile.mkdtemp()) / "runs.sqlite")
>>> run_id = store.begin_run("demo", kind="train", spec_text="")
>>> fit_id = store.begin_fit(run_id, "baseline")
>>> store.record_epoch(fit_id, 1, {"loss": 0.5, "val_loss": 0.6}, seconds=1.2)
>>> store.end_fit(fit_id, "finished")
>>> store.finish_run(run_id, "finished", summary={"final_line": "Epoch 1/1"})
>>> store.run(run_id).fits[0].history["loss"]
[0.5]
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable

from keraslab._store_rows import (CandidateRecord, FigureRecord, FitRecord, FoldRecord, RunRecord, RunSummary,
                                  process_alive, process_start_token)
from keraslab._sqlite import connect
from keraslab.errors import KeraslabValueError

__all__ = [
    "DEFAULT_STORE",
    "STATUSES",
    "ResultStore",
    "RunSummary",
    "RunRecord",
    "FitRecord",
    "CandidateRecord",
    "FoldRecord",
    "FigureRecord",
]

#: Where runs go unless told otherwise (relative to the working directory).
DEFAULT_STORE = Path("keraslab-runs") / "runs.sqlite"
#: The states of a run, a fit, a candidate or a fold.
STATUSES = ("running", "finished", "interrupted", "failed")

_SCHEMA_VERSION = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS experiments (
    name TEXT PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    figures TEXT NOT NULL DEFAULT '[]',
    reference TEXT NOT NULL DEFAULT '{}',
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    experiment TEXT NOT NULL REFERENCES experiments(name),
    kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'interrupted', 'failed')),
    spec TEXT NOT NULL,
    parameters TEXT NOT NULL DEFAULT '{}',
    dataset_fingerprint TEXT NOT NULL DEFAULT '',
    backend TEXT NOT NULL DEFAULT '',
    versions TEXT NOT NULL DEFAULT '{}',
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    pid_start TEXT NOT NULL DEFAULT '',
    started_at REAL NOT NULL,
    finished_at REAL,
    seconds REAL,
    summary TEXT NOT NULL DEFAULT '{}',
    error TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS fits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    label TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    seconds REAL,
    error TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS epochs (
    fit_id INTEGER NOT NULL REFERENCES fits(id),
    epoch INTEGER NOT NULL,
    seconds REAL,
    metrics TEXT NOT NULL,
    PRIMARY KEY (fit_id, epoch)
);
CREATE TABLE IF NOT EXISTS candidates (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    idx INTEGER NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    mean_score REAL,
    std_score REAL,
    PRIMARY KEY (run_id, idx)
);
CREATE TABLE IF NOT EXISTS folds (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    candidate INTEGER NOT NULL,
    fold INTEGER NOT NULL,
    status TEXT NOT NULL,
    score REAL,
    seconds REAL,
    error TEXT NOT NULL DEFAULT '',
    fit_id INTEGER REFERENCES fits(id),
    PRIMARY KEY (run_id, candidate, fold)
);
CREATE TABLE IF NOT EXISTS figures (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    caption TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, name)
);
CREATE INDEX IF NOT EXISTS runs_by_experiment ON runs (experiment, id);
CREATE INDEX IF NOT EXISTS fits_by_run ON fits (run_id);
"""


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=_json_default)


def _json_default(value: Any) -> Any:
    # NumPy scalars and arrays arrive from Keras logs and scikit-learn parameters.
    if hasattr(value, "tolist"):
        return value.tolist()
    return repr(value)


class ResultStore:
    """A SQLite file holding experiments, runs, epochs, folds, candidates and figures.

    Parameters
    ----------
    path : str or Path, optional
        The database file; created with its folder when missing. Default
        ``./keraslab-runs/runs.sqlite``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> store = ResultStore(pathlib.Path(tempfile.mkdtemp()) / "runs.sqlite")
    >>> store.runs()
    []
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else DEFAULT_STORE
        if self.path.exists() and self.path.is_dir():
            raise KeraslabValueError(
                "The result store must be a file, not a folder; pass the .sqlite file path. "
                f"Received: path={str(self.path)!r}"
            )
        self._conn = None
        try:
            self._conn = connect(self.path, timeout=30.0, rows=True, foreign_keys=True)
            with self._conn:
                self._conn.executescript(_SCHEMA)
                self._conn.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (_SCHEMA_VERSION,)
                )
        except sqlite3.DatabaseError as exc:
            if self._conn is not None:
                self._conn.close()
            raise KeraslabValueError(
                f"{self.path} is not a keraslab result store (SQLite said: {exc}); "
                f"choose another path. Received: path={str(self.path)!r}"
            ) from None
        self.recover()

    @property
    def folder(self) -> Path:
        """The folder the store lives in; figures of run N go to ``folder / "run-N"``."""
        return self.path.parent

    def run_folder(self, run_id: int) -> Path:
        """Where the figures of run ``run_id`` are written (created on demand)."""
        folder = self.folder / f"run-{run_id:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "ResultStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writing
    def recover(self) -> list[int]:
        """Mark runs whose process died (killed, crashed, power cut) as ``interrupted``.

        Returns the ids that were marked. Runs of live processes, and runs started on
        another host (whose processes we cannot see), are left alone.
        """
        host = socket.gethostname()
        rows = self._conn.execute(
            "SELECT id, host, pid, pid_start FROM runs WHERE status = 'running'"
        ).fetchall()
        dead = [r["id"] for r in rows if r["host"] == host and not process_alive(r["pid"], r["pid_start"])]
        if dead:
            now = time.time()
            with self._conn:
                for run_id in dead:
                    self._close_children(run_id, "interrupted")
                    self._conn.execute(
                        "UPDATE runs SET status = 'interrupted', finished_at = ?, "
                        "error = 'the process running it ended before it finished' WHERE id = ?",
                        (now, run_id),
                    )
        return dead

    def _close_children(self, run_id: int, status: str) -> None:
        self._conn.execute(
            "UPDATE fits SET status = ? WHERE run_id = ? AND status = 'running'", (status, run_id)
        )
        self._conn.execute(
            "UPDATE candidates SET status = ? WHERE run_id = ? AND status = 'running'", (status, run_id)
        )

    def save_experiment(
        self, name: str, *, title: str = "", figures: Iterable[str] = (), reference: dict[str, Any] | None = None
    ) -> None:
        """Insert or update what the store knows about an experiment of the catalogue."""
        with self._conn:
            self._conn.execute(
                "INSERT INTO experiments (name, title, figures, reference, updated_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET title = excluded.title, figures = excluded.figures, "
                "reference = excluded.reference, updated_at = excluded.updated_at",
                (name, title, _dumps(list(figures)), _dumps(reference or {}), time.time()),
            )

    def begin_run(
        self,
        experiment: str,
        *,
        kind: str,
        spec_text: str,
        parameters: dict[str, Any] | None = None,
        dataset_fingerprint: str = "",
        backend: str = "",
        versions: dict[str, str] | None = None,
    ) -> int:
        """Open a run in state ``running`` and return its id."""
        pid = os.getpid()
        with self._conn:
            self._conn.execute(
                "INSERT OR IGNORE INTO experiments (name, updated_at) VALUES (?, ?)", (experiment, time.time())
            )
            cursor = self._conn.execute(
                "INSERT INTO runs (experiment, kind, status, spec, parameters, dataset_fingerprint, backend, "
                "versions, host, pid, pid_start, started_at) VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (experiment, kind, spec_text, _dumps(parameters or {}), dataset_fingerprint, backend,
                 _dumps(versions or {}), socket.gethostname(), pid, process_start_token(pid), time.time()),
            )
        return int(cursor.lastrowid)

    def set_fingerprint(self, run_id: int, fingerprint: str) -> None:
        """Record the dataset fingerprint once the data is loaded."""
        with self._conn:
            self._conn.execute("UPDATE runs SET dataset_fingerprint = ? WHERE id = ?", (fingerprint, run_id))

    def finish_run(
        self, run_id: int, status: str, *, summary: dict[str, Any] | None = None, error: str = ""
    ) -> None:
        """Close a run: ``finished``, ``interrupted`` or ``failed``, with its summary."""
        if status not in STATUSES[1:]:
            raise KeraslabValueError(
                f"A run ends as one of {STATUSES[1:]}. Received: status={status!r}"
            )
        now = time.time()
        with self._conn:
            self._close_children(run_id, status if status != "finished" else "interrupted")
            self._conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, seconds = ? - started_at, summary = ?, error = ? "
                "WHERE id = ?",
                (status, now, now, _dumps(summary or {}), error, run_id),
            )

    def discard_run(self, run_id: int) -> None:
        """Remove a run and everything recorded under it (a run refused before any fit started)."""
        with self._conn:
            fits = "SELECT id FROM fits WHERE run_id = ?"
            self._conn.execute(f"DELETE FROM epochs WHERE fit_id IN ({fits})", (run_id,))
            for table in ("folds", "candidates", "figures", "fits"):
                self._conn.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
            self._conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    def begin_fit(self, run_id: int, label: str, params: dict[str, Any] | None = None) -> int:
        """Open one training of a run; its epochs follow with :meth:`record_epoch`."""
        with self._conn:
            cursor = self._conn.execute(
                "INSERT INTO fits (run_id, label, params, status) VALUES (?, ?, ?, 'running')",
                (run_id, label, _dumps(params or {})),
            )
        return int(cursor.lastrowid)

    def describe_fit(self, fit_id: int, label: str, params: dict[str, Any] | None = None) -> None:
        """Name a fit opened before it was known which candidate and fold it trains (searches)."""
        with self._conn:
            self._conn.execute("UPDATE fits SET label = ?, params = ? WHERE id = ?",
                               (label, _dumps(params or {}), fit_id))

    def record_epoch(self, fit_id: int, epoch: int, metrics: dict[str, float], seconds: float | None = None) -> None:
        """Store one finished epoch (1-based) of a fit."""
        clean = {k: float(v) for k, v in metrics.items() if k != "epoch_seconds"}
        with self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO epochs (fit_id, epoch, seconds, metrics) VALUES (?, ?, ?, ?)",
                (fit_id, int(epoch), seconds, _dumps(clean)),
            )

    def end_fit(self, fit_id: int, status: str, *, seconds: float | None = None, error: str = "") -> None:
        with self._conn:
            self._conn.execute(
                "UPDATE fits SET status = ?, seconds = ?, error = ? WHERE id = ?", (status, seconds, error, fit_id)
            )

    def record_candidate(
        self,
        run_id: int,
        idx: int,
        params: dict[str, Any],
        *,
        status: str = "running",
        mean_score: float | None = None,
        std_score: float | None = None,
    ) -> None:
        """Insert or update one candidate (parameter setting) of a search or CV run."""
        with self._conn:
            self._conn.execute(
                "INSERT INTO candidates (run_id, idx, params, status, mean_score, std_score) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(run_id, idx) DO UPDATE SET status = excluded.status, "
                "mean_score = excluded.mean_score, std_score = excluded.std_score",
                (run_id, idx, _dumps(params), status, mean_score, std_score),
            )

    def record_fold(
        self,
        run_id: int,
        candidate: int,
        fold: int,
        *,
        status: str,
        score: float | None = None,
        seconds: float | None = None,
        error: str = "",
        fit_id: int | None = None,
    ) -> None:
        """Store one fold's outcome. A failed fold has ``score=None``, never 0.0."""
        if status == "failed" and score is not None:
            raise KeraslabValueError(f"A failed fold has no score. Received: score={score!r}")
        with self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO folds (run_id, candidate, fold, status, score, seconds, error, fit_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, candidate, fold, status, score, seconds, error, fit_id),
            )

    def add_figure(self, run_id: int, name: str, path: str | os.PathLike[str], caption: str = "") -> None:
        """Register a figure file; a file inside the store's folder is kept relative to it,
        so that the folder can be moved or archived as a whole."""
        target = Path(path).resolve()
        try:
            stored = str(target.relative_to(self.folder.resolve()))
        except ValueError:
            stored = str(target)
        with self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO figures (run_id, name, path, caption) VALUES (?, ?, ?, ?)",
                (run_id, name, stored, caption),
            )

    # ------------------------------------------------------------------ reading
    def runs(self, experiment: str | None = None, status: str | None = None) -> list[RunSummary]:
        """Runs, oldest first, optionally of one experiment or in one state."""
        query = "SELECT * FROM runs"
        clauses, args = [], []
        if experiment is not None:
            clauses.append("experiment = ?")
            args.append(experiment)
        if status is not None:
            clauses.append("status = ?")
            args.append(status)
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        rows = self._conn.execute(query + " ORDER BY id", args).fetchall()
        return [
            RunSummary(
                id=r["id"],
                experiment=r["experiment"],
                kind=r["kind"],
                status=r["status"],
                started_at=r["started_at"],
                seconds=r["seconds"],
                final_line=json.loads(r["summary"]).get("final_line", ""),
                dataset_fingerprint=r["dataset_fingerprint"],
                backend=r["backend"],
            )
            for r in rows
        ]

    def latest_run_ids(self) -> list[int]:
        """The newest run of each experiment, in order of experiment name."""
        rows = self._conn.execute(
            "SELECT MAX(id) AS id FROM runs GROUP BY experiment ORDER BY experiment"
        ).fetchall()
        return [r["id"] for r in rows]

    def run(self, run_id: int) -> RunRecord:
        """Everything about one run; raises :class:`KeraslabValueError` for an unknown id."""
        r = self._conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if r is None:
            known = [row["id"] for row in self._conn.execute("SELECT id FROM runs ORDER BY id")]
            raise KeraslabValueError(
                f"No run with this id in {self.path} (known ids: {known[-10:] or 'none'}). Received: run_id={run_id!r}"
            )
        e = self._conn.execute("SELECT * FROM experiments WHERE name = ?", (r["experiment"],)).fetchone()
        return RunRecord(
            id=r["id"],
            experiment=r["experiment"],
            title=e["title"] if e else "",
            figure_numbers=json.loads(e["figures"]) if e else [],
            reference=json.loads(e["reference"]) if e else {},
            kind=r["kind"],
            status=r["status"],
            spec=r["spec"],
            parameters=json.loads(r["parameters"]),
            dataset_fingerprint=r["dataset_fingerprint"],
            backend=r["backend"],
            versions=json.loads(r["versions"]),
            started_at=r["started_at"],
            finished_at=r["finished_at"],
            seconds=r["seconds"],
            summary=json.loads(r["summary"]),
            error=r["error"],
            fits=self._fits(run_id),
            candidates=[
                CandidateRecord(c["idx"], json.loads(c["params"]), c["status"], c["mean_score"], c["std_score"])
                for c in self._conn.execute("SELECT * FROM candidates WHERE run_id = ? ORDER BY idx", (run_id,))
            ],
            folds=[
                FoldRecord(f["candidate"], f["fold"], f["status"], f["score"], f["seconds"], f["error"])
                for f in self._conn.execute(
                    "SELECT * FROM folds WHERE run_id = ? ORDER BY candidate, fold", (run_id,)
                )
            ],
            figures=[
                FigureRecord(f["name"], str(self.folder / f["path"]), f["caption"])
                for f in self._conn.execute("SELECT * FROM figures WHERE run_id = ? ORDER BY rowid", (run_id,))
            ],
        )

    def _fits(self, run_id: int) -> list[FitRecord]:
        fits = []
        for f in self._conn.execute("SELECT * FROM fits WHERE run_id = ? ORDER BY id", (run_id,)).fetchall():
            history: dict[str, list[float]] = {}
            seconds: list[float] = []
            for e in self._conn.execute("SELECT * FROM epochs WHERE fit_id = ? ORDER BY epoch", (f["id"],)):
                for key, value in json.loads(e["metrics"]).items():
                    history.setdefault(key, []).append(value)
                seconds.append(e["seconds"])
            fits.append(FitRecord(id=f["id"], label=f["label"], params=json.loads(f["params"]), status=f["status"],
                                  seconds=f["seconds"], error=f["error"], history=history, epoch_seconds=seconds))
        return fits
