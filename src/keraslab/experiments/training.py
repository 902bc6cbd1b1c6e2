"""One training of one model: build from the spec, fit through the scikit-learn wrapper, record.

Two ways in, one road to ``model.fit``: :func:`train_model` trains the spec's model
once (arrays, or generated batches as a ``keras.utils.PyDataset``; Keras' own
progress bar) and :func:`make_estimator` builds the wrapper for cross-validation and
searches. Both go through :class:`keraslab.KerasClassifier` /
:class:`keraslab.KerasRegressor`, so seeding, target encoding, data-derived build
arguments and the NaN guard are the wrapper's (:mod:`keraslab._fitting`). Epochs
are written by the recorder's callback (:class:`keraslab.experiments.recorder.EpochRecorder`).
"""

from __future__ import annotations

import inspect
from typing import Any

import keras
import numpy as np

from keraslab.callbacks import EpochTimer, ResetStatesEachEpoch
from keraslab.experiments import interrupt
from keraslab.experiments.inputs import Inputs
from keraslab.experiments.recorder import TIMER_KEY, EpochRecorder
from keraslab.experiments.results import FitResult, final_line  # re-exported: public here before
from keraslab.experiments.spec import ExperimentSpec
from keraslab.store import ResultStore

__all__ = ["FitResult", "train_model", "make_estimator", "final_line", "build_kwargs"]

def build_kwargs(spec: ExperimentSpec, inputs: Inputs, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Arguments for the build function: the spec's, the train table's and the data's."""
    func = spec.model.function()
    accepted = inspect.signature(func).parameters
    kwargs = dict(spec.model.params)
    if spec.train.optimizer and "optimizer" in accepted:
        kwargs.setdefault("optimizer", spec.train.optimizer)
    if spec.train.learning_rate and "learning_rate" in accepted:
        kwargs.setdefault("learning_rate", spec.train.learning_rate)
    derived = {"input_shape": inputs.input_shape, "n_classes": inputs.n_classes, "n_outputs": inputs.n_outputs,
               "batch_size": spec.train.batch_size if spec.train.stateful else None}
    for name, value in derived.items():
        if name in accepted and name not in kwargs and value is not None:
            kwargs[name] = value
    kwargs.update(extra or {})
    return kwargs


def _compile_overrides(spec: ExperimentSpec) -> dict[str, Any]:
    """Optimizer settings the build function does not take; applied by recompiling."""
    accepted = inspect.signature(spec.model.function()).parameters
    out: dict[str, Any] = {}
    if spec.train.optimizer and "optimizer" not in accepted:
        out["optimizer"] = spec.train.optimizer
    if spec.train.learning_rate and "learning_rate" not in accepted:
        out["learning_rate"] = spec.train.learning_rate
    return out


def _flat(y: np.ndarray) -> np.ndarray:
    """One target per window as a 1-D array (the wrapper predicts the same shape back)."""
    return y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y


def _callbacks(spec: ExperimentSpec, recorder: EpochRecorder) -> list[keras.callbacks.Callback]:
    callbacks: list[keras.callbacks.Callback] = []
    if spec.train.stateful:
        callbacks.append(ResetStatesEachEpoch())
    if spec.train.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(**spec.train.early_stopping))
    # The timer writes "seconds" into the logs that the recorder then reads.
    return callbacks + [EpochTimer(TIMER_KEY), recorder]


def train_model(
    spec: ExperimentSpec,
    inputs: Inputs,
    *,
    store: ResultStore,
    run_id: int,
    label: str,
    params: dict[str, Any] | None = None,
    verbose: int = 0,
) -> FitResult:
    """Build the spec's model and train it once through the wrapper, recording epochs as they finish.

    A loss that becomes NaN or infinite ends the fit as ``failed`` (kept, with its
    finished epochs); a stop request ends it as ``interrupted``.
    """
    from keraslab.errors import TrainingDivergedError

    if spec.train.stateful:
        inputs = inputs.trimmed_to(spec.train.batch_size)
    recorder = EpochRecorder.open(store, run_id, label, params)
    estimator = make_estimator(spec, inputs, callbacks=_callbacks(spec, recorder))
    validation = (inputs.x_val, _flat(inputs.y_val)) if inputs.x_val is not None else None
    estimator.set_params(verbose=verbose, validation_data=validation)
    status, error, predictions, extras = "finished", "", None, {}
    with recorder.closing() as outcome:
        try:
            if inputs.train_flow is not None:  # generated batches: augmentation, synthetic shapes
                estimator.fit(inputs.train_flow(spec.train.batch_size, spec.train.seed))
            else:
                estimator.fit(inputs.x_train, _flat(inputs.y_train))
        except TrainingDivergedError:
            losses = recorder.history.get("loss", [])
            status = "failed"
            error = f"the training loss became {losses[-1] if losses else 'nan'} at epoch {len(losses)}"
        else:
            if recorder.cut_short or interrupt.requested():
                status = "interrupted"
            elif inputs.sequence is not None:
                predictions = _predict_sequence(estimator.model_, inputs, spec)
                view = inputs.sequence
                truth = view.truth[view.window: view.window + len(predictions)]
                extras = {"window": view.window, "truth": view.truth,
                          "rms_error": float(np.sqrt(np.mean((predictions - truth) ** 2)))}
        outcome.update(status=status, error=error)
    return FitResult(label, dict(params or {}), status, recorder.history, recorder.epoch_seconds,
                     recorder.seconds, spec.train.epochs, error, predictions, extras)


def _predict_sequence(model: keras.Model, inputs: Inputs, spec: ExperimentSpec) -> np.ndarray:
    view = inputs.sequence
    x = view.x
    if spec.train.stateful:
        x = x[: len(x) - len(x) % spec.train.batch_size]
    raw = np.asarray(model.predict(x, batch_size=spec.train.batch_size, verbose=0))
    if raw.ndim == 3:  # one output per time step: the last step predicts the next value
        raw = raw[:, -1, :]
    return view.inverse(raw[:, 0])


def make_estimator(
    spec: ExperimentSpec,
    inputs: Inputs,
    params: dict[str, Any] | None = None,
    *,
    callbacks: list[keras.callbacks.Callback] | None = None,
    scaler: str = "none",
) -> Any:
    """The spec's model as a scikit-learn estimator (optionally behind a scaler), for CV and searches.

    ``params`` uses the spec's names: ``{"model.number_of_layers": 3, "train.epochs": 5}``.
    With a scaler the pipeline's steps are named as in the chapter: ``normalize_step``
    and ``model_step``.
    """
    from keraslab.wrappers import KerasClassifier, KerasRegressor

    settings = build_kwargs(spec, inputs)
    for name in ("input_shape", "n_classes", "n_outputs"):
        settings.pop(name, None)  # the wrapper fills them from each fold's data
    settings.update(_compile_overrides(spec))
    settings.update(epochs=spec.train.epochs, batch_size=spec.train.batch_size, verbose=0,
                    shuffle=spec.train.shuffle and not spec.train.stateful, random_state=spec.train.seed)
    for key, value in (params or {}).items():
        settings[key.split(".", 1)[1]] = value
    cls = KerasClassifier if inputs.task == "classification" else KerasRegressor
    estimator = cls(build_fn=spec.model.function(), callbacks=callbacks, **settings)
    if scaler == "none":
        return estimator
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    step = MinMaxScaler() if scaler == "minmax" else StandardScaler()
    return Pipeline([("normalize_step", step), ("model_step", estimator)])
