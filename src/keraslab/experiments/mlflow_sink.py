"""Write a run to MLflow as it goes (:class:`MlflowLive`), or copy a closed one (:func:`log_run_to_mlflow`).

The store is the record; MLflow is an optional second home for it (``pip install
"keraslab[mlflow]"``), asked for with ``keraslab run ... --mlflow URI`` or
``[experiment] mlflow = "sqlite:///mlflow.db"``. One MLflow run per keraslab run
(experiment = the spec's name) with

* parameters: the spec's effective settings (``train.epochs``, ``model.*``...) and overrides;
* metrics: every epoch of every training (``step`` = epoch, one series per fit label
  when there are several), and the final numbers (``best_score``, ``mean_score``...);
* tags: status, backend, dataset fingerprint, keraslab run id, versions;
* artifacts: the run's figures and its effective spec (``spec.toml``);
* one nested child run per search candidate: its parameters, fold scores and mean.

``keraslab run`` writes live through :class:`MlflowLive`, driven by the recorder
(:mod:`keraslab.experiments.recorder`): parameters when the run starts, each epoch of
a training as it ends, each candidate's child run when its last fold (or its Optuna
trial) finishes, final scores, figures and status when the run closes.
:func:`log_run_to_mlflow` copies a run already in the store. MLflow is imported only here.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from keraslab.errors import KeraslabValueError
from keraslab.store import ResultStore

__all__ = ["MlflowLive", "log_run_to_mlflow"]


def _metric_name(text: str) -> str:
    # MLflow names allow letters, digits, _ - . / and spaces; labels such as "batch_size=8" do not fit.
    return re.sub(r"[^\w\-./ ]", "_", text)


def _flat(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flat(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = str(value)[:500]


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _artifact_root(tracking_uri: str) -> str | None:
    """Artifacts next to an SQLite tracking file, not in ``./mlruns`` of whatever folder the run started in."""
    if not tracking_uri.startswith("sqlite:///"):
        return None  # a server or file store has its own artifact root
    return (Path(tracking_uri[len("sqlite:///"):]).resolve().parent / "mlartifacts").as_uri()


def log_run_to_mlflow(store: ResultStore, run_id: int, tracking_uri: str) -> str:
    """Write keraslab run ``run_id`` to the MLflow tracking server at ``tracking_uri``.

    Returns
    -------
    str
        The MLflow run id of the parent run.

    Raises
    ------
    KeraslabValueError
        MLflow is not installed.
    """
    try:
        import mlflow
    except ImportError:
        raise KeraslabValueError('--mlflow needs MLflow: pip install "keraslab[mlflow]". '
                                 f"Received: mlflow={tracking_uri!r}") from None
    from keraslab.experiments.tomlio import tomllib

    record = store.run(run_id)
    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name(record.experiment)
    if experiment:
        experiment_id = experiment.experiment_id
    else:
        experiment_id = client.create_experiment(record.experiment, artifact_location=_artifact_root(tracking_uri))
    tags = {"keraslab.run_id": str(run_id), "keraslab.status": record.status, "keraslab.kind": record.kind,
            "keraslab.backend": record.backend, "keraslab.dataset_fingerprint": record.dataset_fingerprint,
            **{f"version.{k}": v for k, v in record.versions.items()}}
    parent = client.create_run(experiment_id, run_name=f"{record.experiment} #{run_id}", tags=tags).info.run_id
    params: dict[str, str] = {}
    raw = tomllib.loads(record.spec)
    _flat("", {k: v for k, v in raw.items() if k not in ("experiment", "reference")}, params)
    params["overrides"] = " ".join(record.parameters.get("overrides", [])) or "-"
    for key, value in sorted(params.items()):
        client.log_param(parent, key, value)
    several = len(record.fits) > 1 and record.kind in ("sweep", "train")
    for fit in record.fits if record.kind in ("train", "sweep") else []:
        for name, values in fit.history.items():
            metric = _metric_name(f"{fit.label}/{name}" if several else name)
            for epoch, value in enumerate(values, start=1):
                if _finite(value):
                    client.log_metric(parent, metric, float(value), step=epoch)
    for key in ("best_score", "mean_score", "std_score"):
        if _finite(record.summary.get(key)):
            client.log_metric(parent, key, float(record.summary[key]))
    for figure in record.figures:
        path = Path(figure.path)
        path = path if path.is_absolute() else store.folder / path
        if path.is_file():
            client.log_artifact(parent, str(path), artifact_path="figures")
    client.log_text(parent, record.spec, "spec.toml")
    folds: dict[int, list] = {}
    for fold in record.folds:
        folds.setdefault(fold.candidate, []).append(fold)
    if record.kind != "cv":
        for candidate in record.candidates:
            child = client.create_run(experiment_id, run_name=f"candidate {candidate.idx}",
                                      tags={"mlflow.parentRunId": parent, "keraslab.status": candidate.status})
            for key, value in candidate.params.items():
                client.log_param(child.info.run_id, key, str(value))
            for fold in folds.get(candidate.idx, []):
                if _finite(fold.score):
                    client.log_metric(child.info.run_id, "fold_score", float(fold.score), step=fold.fold)
            if _finite(candidate.mean_score):
                client.log_metric(child.info.run_id, "mean_score", float(candidate.mean_score))
            client.set_terminated(child.info.run_id, "FINISHED" if candidate.status == "finished" else "FAILED")
    status = {"finished": "FINISHED", "interrupted": "KILLED"}.get(record.status, "FAILED")
    client.set_terminated(parent, status)
    return parent


class MlflowLive:
    """One keraslab run written to MLflow while it runs (the recorder calls it).

    Parameters
    ----------
    tracking_uri : str
        E.g. ``sqlite:///mlflow.db``.
    store : ResultStore
        Holds the run (opened with its spec); parameters and tags are read from it.
    run_id : int
        The keraslab run.
    """

    def __init__(self, tracking_uri: str, store: ResultStore, run_id: int) -> None:
        import mlflow

        from keraslab.experiments.tomlio import tomllib

        record = store.run(run_id)
        self.client = mlflow.MlflowClient(tracking_uri=tracking_uri)
        experiment = self.client.get_experiment_by_name(record.experiment)
        self.experiment_id = experiment.experiment_id if experiment else self.client.create_experiment(
            record.experiment, artifact_location=_artifact_root(tracking_uri))
        tags = {"keraslab.run_id": str(run_id), "keraslab.status": "running", "keraslab.kind": record.kind,
                "keraslab.backend": record.backend, **{f"version.{k}": v for k, v in record.versions.items()}}
        self.kind = record.kind
        self.parent = self.client.create_run(self.experiment_id, run_name=f"{record.experiment} #{run_id}",
                                             tags=tags).info.run_id
        params: dict[str, str] = {}
        _flat("", {k: v for k, v in tomllib.loads(record.spec).items() if k not in ("experiment", "reference")},
              params)
        params["overrides"] = " ".join(record.parameters.get("overrides", [])) or "-"
        for key, value in sorted(params.items()):
            self.client.log_param(self.parent, key, value)
        self.client.log_text(self.parent, record.spec, "spec.toml")

    def epoch(self, label: str, epoch: int, metrics: dict[str, float]) -> None:
        """One finished epoch of a training (a sweep's series are named after each value)."""
        for name, value in metrics.items():
            if _finite(value):
                metric = _metric_name(f"{label}/{name}" if self.kind == "sweep" else name)
                self.client.log_metric(self.parent, metric, float(value), step=epoch)

    def candidate(self, idx: int, params: dict[str, Any], status: str, mean: float | None,
                  fold_scores: list[tuple[int, float | None]]) -> None:
        """A finished candidate of a search as a child run: parameters, fold scores, mean."""
        if self.kind == "cv":
            return
        child = self.client.create_run(self.experiment_id, run_name=f"candidate {idx}",
                                       tags={"mlflow.parentRunId": self.parent, "keraslab.status": status})
        run = child.info.run_id
        for key, value in params.items():
            self.client.log_param(run, key, str(value))
        for fold, score in fold_scores:
            if _finite(score):
                self.client.log_metric(run, "fold_score", float(score), step=fold)
        if _finite(mean):
            self.client.log_metric(run, "mean_score", float(mean))
        self.client.set_terminated(run, "FINISHED" if status == "finished" else "FAILED")

    def discard(self) -> None:
        """Delete the MLflow run: the keraslab run was refused before any fit and recorded nothing."""
        self.client.delete_run(self.parent)

    def finish(self, store: ResultStore, run_id: int) -> str:
        """Final scores, figures, status; returns the MLflow run id of the parent run."""
        record = store.run(run_id)
        for key in ("best_score", "mean_score", "std_score"):
            if _finite(record.summary.get(key)):
                self.client.log_metric(self.parent, key, float(record.summary[key]))
        for figure in record.figures:
            path = Path(figure.path)
            path = path if path.is_absolute() else store.folder / path
            if path.is_file():
                self.client.log_artifact(self.parent, str(path), artifact_path="figures")
        self.client.set_tag(self.parent, "keraslab.status", record.status)
        self.client.set_tag(self.parent, "keraslab.dataset_fingerprint", record.dataset_fingerprint)
        status = {"finished": "FINISHED", "interrupted": "KILLED"}.get(record.status, "FAILED")
        self.client.set_terminated(self.parent, status)
        return self.parent
