"""One (estimator, fold) fit prepared for a vectorised group, or the reason it cannot join one.

Preparing a member does everything a sequential ``fit`` does before its first
training step, with the same code and in the same order: set the candidate's
parameters, fit the preprocessing steps of a ``Pipeline`` on the fold, validate
and encode the data with the wrapper's own methods, and -- under the member's own
seed -- clear the Keras session, build and compile the model and draw each epoch's
row order the way ``model.fit`` draws it (``np.random.permutation``). So a member
starts from the weights and visits its rows in the order its sequential fit would.
One step is moved, not skipped: a ``MinMaxScaler`` that only multiplies is fitted
here and applied by the program to the rows it gathers (:func:`exact_scale`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
from sklearn.base import clone
from sklearn.model_selection._validation import _safe_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from keraslab import wrappers as _wrappers

__all__ = ["Ineligible", "Member", "prepare_member", "final_wrapper"]

#: The wrapper's fit settings the vectorised program reproduces; any other fit argument falls back.
_SUPPORTED_FIT = {"epochs", "batch_size", "verbose", "shuffle", "validation_split"}
#: Wrappers whose fit reads only the shape, dtype and finiteness of its inputs (not subclasses).
_PLAIN_WRAPPERS = (_wrappers.KerasClassifier, _wrappers.KerasRegressor)


class _Call:
    """What the wrapper handed to ``model.fit``, and the row order of each epoch."""

    def __init__(self, model, x, y, sample_weight, callbacks, settings):
        self.model, self.callbacks, self.settings = model, callbacks, settings
        self.x = np.asarray(x)
        self.y = np.asarray(y)
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight, dtype="float32")
        self.epochs = int(settings.get("epochs", 1))
        self.batch_size = int(settings.get("batch_size") or 32)
        self.shuffle = settings.get("shuffle", True)
        if self.shuffle == "batch":
            raise Ineligible("shuffle='batch'")
        n = self.x.shape[0]
        # model.fit draws one permutation per epoch from NumPy's global generator, which
        # the wrapper has just seeded, after one more for the batch it peeks at to build
        # the optimizer and metrics of a fresh model: drawn here, they give its order.
        if self.shuffle:
            np.random.permutation(n)
        self.orders = [np.random.permutation(n) if self.shuffle else np.arange(n) for _ in range(self.epochs)]


class _FitRecorder:
    """Stands in for ``model.fit`` of the model a wrapper builds: records instead of training."""

    def __init__(self):
        self.call: _Call | None = None

    @contextlib.contextmanager
    def attached(self, wrapper: Any):
        if not callable(getattr(wrapper, "_compile", None)):
            raise Ineligible(f"{type(wrapper).__name__} has no _compile step to attach to")
        original = wrapper._compile
        built: list = []

        def compile_and_record(model, *args, **kwargs):
            model = original(model, *args, **kwargs)
            built.append(model)
            recorder = self

            def fit(x=None, y=None, sample_weight=None, callbacks=None, **settings):
                if not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray):
                    raise Ineligible("the inputs are not NumPy arrays (e.g. a PyDataset)")
                own = [c for c in (callbacks or []) if type(c).__name__ != "_DivergenceGuard"]
                recorder.call = _Call(model, x, y, sample_weight, own, settings)
                return keras.callbacks.History()

            model.fit = fit
            return model

        wrapper._compile = compile_and_record
        try:
            yield self
        finally:
            del wrapper._compile
            for model in built:
                model.__dict__.pop("fit", None)


@contextlib.contextmanager
def _no_gc_in_clear_session():
    """Let the wrapper's ``clear_session`` reset Keras' global state without ``gc.collect()``.

    Why: a full collection costs ~0.13 s per member (half of a member's preparation,
    measured on 10-fold MNIST CV), and members are meant to stay alive together; the
    state reset (layer names, seed generator) is what makes a member match its
    sequential fit, and that still happens.
    """
    original = keras.backend.clear_session
    keras.backend.clear_session = functools.partial(original, free_memory=False)
    try:
        yield
    finally:
        keras.backend.clear_session = original


class Ineligible(Exception):
    """Raised while preparing a member that must be fitted sequentially; the message is the reason."""


@dataclass
class Member:
    """A prepared fit: the estimator (fitted up to its Keras step), its model, data and key."""

    index: int
    estimator: Any
    wrapper: Any
    model: Any
    x: np.ndarray | None  # the model's training inputs; None when ``rows`` index X instead
    n_rows: int
    y: np.ndarray
    sample_weight: np.ndarray | None
    rows: np.ndarray | None  # positions of the training rows in X, when the model trains on X itself
    orders: list[np.ndarray]
    epochs: int
    batch_size: int
    key: str
    prep_time: float
    x_test: Any
    y_test: Any
    widths: tuple[int, ...] | None = None  # hidden Dense units, when the model can be width-padded
    pad_key: str | None = None  # equal for members that can share one program zero-padded
    #: per-feature factors when the model's inputs are ``X[rows] * x_scale`` exactly (a MinMaxScaler
    #: whose offsets are all zero, e.g. on MNIST): the program scales the rows it gathers from X.
    x_scale: np.ndarray | None = None
    #: equal for members whose models predict with the same program (same layers and input)
    predict_key: str = ""


def final_wrapper(estimator: Any) -> tuple[Any, list]:
    """The keraslab wrapper at the end of ``estimator`` and the preprocessing steps before it."""
    if isinstance(estimator, Pipeline):
        steps = [s for _, s in estimator.steps[:-1]]
        last = estimator.steps[-1][1]
        if isinstance(last, Pipeline):
            raise Ineligible("the Keras step is a nested Pipeline")
        return last, steps
    return estimator, []


def static_reason(estimator: Any, fit_params: dict) -> str | None:
    """Why ``estimator`` cannot be vectorised, judged from its parameters alone (None: it may)."""
    if keras.backend.backend() != "jax":
        return f"the Keras backend is {keras.backend.backend()!r}, not 'jax'"
    try:
        wrapper, _ = final_wrapper(estimator)
    except Ineligible as err:
        return str(err)
    if not isinstance(wrapper, _wrappers.BaseWrapper):
        return f"the final estimator is a {type(wrapper).__name__}, not a keraslab Keras wrapper"
    if fit_params:
        return f"fit parameters {sorted(fit_params)} are passed to fit"
    if wrapper.callbacks:
        return "callbacks need a live model"
    if wrapper.validation_split:
        return "validation_split is set"
    if wrapper.validation_data is not None:
        return "validation_data is set"
    if wrapper.warm_start:
        return "warm_start continues an existing model"
    return None


def _model_reason(model: Any) -> str | None:
    from keras.src.backend.jax.trainer import JAXTrainer

    if getattr(model, "run_eagerly", False):
        return "the model is compiled with run_eagerly=True"
    if type(model).train_step is not JAXTrainer.train_step:
        return f"{type(model).__name__} overrides train_step"
    for layer in model._flatten_layers(include_self=False):
        if getattr(layer, "stateful", False):
            return f"layer {layer.name!r} is stateful"
    return None


def _json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=repr)


def _key_parts(model: Any, x: np.ndarray, y: np.ndarray, weighted: bool, epochs: int,
               batch_size: int, shuffle: Any) -> list:
    opt = model.optimizer
    opt_config = dict(opt.get_config())
    opt_config.pop("name", None)
    if isinstance(opt_config.get("learning_rate"), (int, float)):
        opt_config.pop("learning_rate")  # a variable: each member's own value is data
    compile_config = {k: v for k, v in (getattr(model, "_compile_config", None).config
                                        if getattr(model, "_compile_config", None) else {}).items()
                      if k != "optimizer"}
    return [type(model).__name__, model.get_config(), type(opt).__name__, opt_config,
            keras.saving.serialize_keras_object(compile_config), x.shape[1:], str(x.dtype),
            y.shape[1:], str(y.dtype), weighted, epochs, batch_size, shuffle]


def architecture_key(model: Any, x: np.ndarray, y: np.ndarray, weighted: bool, epochs: int,
                     batch_size: int, shuffle: Any) -> str:
    """Members with equal keys can share one program: same layers, optimizer (but its
    learning rate), loss, metrics, shapes and training schedule."""
    return _json(_key_parts(model, x, y, weighted, epochs, batch_size, shuffle))


#: Activations with f(0) = 0: a zero (padded) unit stays zero through them, so its gradient
#: and every weight that reads it stay zero too (see :func:`width_free_key`).
_ZERO_AT_ZERO = {"relu", "linear", "tanh", "elu", "selu", "gelu", "silu", "swish", "leaky_relu", "relu6",
                 "mish", "hard_silu", "hard_swish", "softsign"}
#: Layers a width-padded model may contain, and optimizers whose update of a zero gradient
#: from zero state is zero (so padded weights and slots stay exactly zero).
_PADDABLE_LAYERS = {"InputLayer", "Dense", "Dropout", "Flatten"}
_PADDABLE_OPTIMIZERS = {"Adam", "AdamW", "Adadelta", "SGD", "RMSprop", "Adagrad", "Adamax", "Nadam", "Lion"}


def _strip_shapes(obj: Any) -> Any:
    if isinstance(obj, dict):
        out = {k: _strip_shapes(v) for k, v in obj.items() if k != "build_config"}
        if obj.get("class_name") == "__keras_tensor__":
            out["config"] = {k: v for k, v in obj["config"].items() if k != "shape"}
        return out
    if isinstance(obj, (list, tuple)):
        return [_strip_shapes(v) for v in obj]
    return obj


def hidden_widths(model: Any) -> tuple[int, ...] | None:
    """The units of each hidden Dense layer when ``model`` can be trained zero-padded to a
    wider member of its group, else None.

    Padding is exact for a chain of Dense, Dropout and Flatten layers whose hidden Dense
    activations are zero at zero, trained by an optimizer that leaves a zero weight with a
    zero gradient at zero: the padded units output 0, so the weights that read them get a
    zero gradient, and their own weights (zero-initialised) get one too.
    """
    layers = list(model.layers)
    if len(model.outputs) != 1 or any(type(layer).__name__ not in _PADDABLE_LAYERS for layer in layers):
        return None
    if type(model.optimizer).__name__ not in _PADDABLE_OPTIMIZERS:
        return None
    dense = [layer for layer in layers if type(layer).__name__ == "Dense"]
    if len(dense) < 2 or dense[-1] is not layers[-1]:
        return None
    widths = []
    for layer in dense[:-1]:
        activation = layer.get_config().get("activation")
        if not isinstance(activation, str) or activation not in _ZERO_AT_ZERO:
            return None
        widths.append(int(layer.units))
    return tuple(widths)


def width_free_key(model: Any, key_parts: list) -> str:
    """:func:`architecture_key` with the hidden Dense widths left out (see :func:`hidden_widths`)."""
    config = _strip_shapes(model.get_config())
    hidden = {layer.name for layer in model.layers if type(layer).__name__ == "Dense"} - {model.layers[-1].name}
    for entry in config.get("layers", []):
        if entry.get("class_name") == "Dense" and entry.get("config", {}).get("name") in hidden:
            entry["config"] = {**entry["config"], "units": "*"}
    return _json(["padded", key_parts[0], config] + key_parts[2:])


def prepare_member(index: int, estimator: Any, X: Any, y: Any, train: Any, test: Any,
                   parameters: dict | None) -> Member:
    """Set parameters, fit preprocessing, build and compile the model for one fit.

    Raises
    ------
    Ineligible
        When this fit must run sequentially (the message says why).
    """
    start = time.time()
    estimator = clone(estimator)
    if parameters:
        estimator.set_params(**clone(parameters, safe=False))
    reason = static_reason(estimator, {})
    if reason:
        raise Ineligible(reason)
    wrapper, steps = final_wrapper(estimator)
    X_train, y_train = _safe_split(estimator, X, y, train)
    X_test, y_test = _safe_split(estimator, X, y, test, train)
    if y_train is None:
        raise Ineligible("no targets y")
    active_steps = [st for st in steps if st is not None and not (isinstance(st, str) and st == "passthrough")]
    shares_x = isinstance(X, np.ndarray) and isinstance(X_train, np.ndarray) and X.dtype == X_train.dtype
    xt, x_scale = X_train, None
    if shares_x and len(active_steps) == 1 and type(active_steps[0]) is MinMaxScaler \
            and type(wrapper) in _PLAIN_WRAPPERS:
        # A multiplying MinMaxScaler: fitted here, applied by the program to the rows it gathers
        # (exact_scale). The wrapper's fit reads only the inputs' shape, dtype and finiteness,
        # which scaling by finite factors keeps, so it is given the unscaled rows: no copy.
        active_steps[0].fit(X_train, y_train)
        x_scale = exact_scale(active_steps, X, _positions(train))
        if x_scale is None:
            xt = active_steps[0].transform(X_train)
    else:
        for step in active_steps:  # as Pipeline.fit does, on this fold's rows only
            xt = step.fit_transform(xt, y_train)
    recorder = _FitRecorder()
    with recorder.attached(wrapper), _no_gc_in_clear_session():
        # The wrapper's own fit runs every step a sequential fit runs -- validation, target
        # encoding, seeding, clear_session, build, compile -- up to model.fit, which records.
        wrapper.fit(xt, y_train)
    call = recorder.call
    if call is None:
        raise Ineligible("the wrapper did not call model.fit")
    model, xw, y_enc, weights, settings = call.model, call.x, call.y, call.sample_weight, call.settings
    extra = {k for k, v in settings.items() if k not in _SUPPORTED_FIT and v is not None}
    if settings.get("validation_split"):
        extra.add("validation_split")
    if extra:
        raise Ineligible(f"model.fit settings {sorted(extra)} are set")
    if call.callbacks:
        raise Ineligible("callbacks need a live model")
    reason = _model_reason(model)
    if reason:
        raise Ineligible(reason)
    epochs, batch_size, shuffle, orders = call.epochs, call.batch_size, call.shuffle, call.orders
    # Without preprocessing the model sees rows of X itself: the group can share one copy of X
    # and index it with these rows instead of stacking a copy per member. So it does after a
    # MinMaxScaler that only multiplies (the program scales the rows it gathers, see exact_scale).
    rows = None
    if (not active_steps or x_scale is not None) and shares_x and X.dtype == xw.dtype \
            and X.shape[1:] == xw.shape[1:]:
        rows = _positions(train)
    elif x_scale is not None:  # the wrapper changed the rows' dtype or shape: scale a copy after all
        xw, x_scale = np.asarray(active_steps[0].transform(X_train), dtype=xw.dtype).reshape(xw.shape), None
    data_batch = (xw[:1], y_enc[:1]) + ((weights[:1],) if weights is not None else ())
    model._symbolic_build(data_batch=data_batch)  # builds the optimizer and the compiled metrics
    parts = _key_parts(model, xw, y_enc, weights is not None, epochs, batch_size, bool(shuffle))
    widths = hidden_widths(model)
    return Member(index=index, estimator=estimator, wrapper=wrapper, model=model,
                  x=xw if rows is None else None, n_rows=xw.shape[0], y=y_enc,
                  sample_weight=weights, rows=rows, orders=orders, epochs=epochs, batch_size=batch_size,
                  key=_json(parts), prep_time=time.time() - start, x_test=X_test, y_test=y_test,
                  widths=widths, pad_key=None if widths is None else width_free_key(model, parts),
                  x_scale=x_scale, predict_key=_json(parts[:2] + parts[5:7]))  # class, layers, input


def _positions(train: Any) -> np.ndarray:
    """Row positions of a fold given as indices or as a boolean mask."""
    rows = np.asarray(train)
    return np.flatnonzero(rows) if rows.dtype == bool else rows


def exact_scale(steps: list, X: np.ndarray, rows: np.ndarray) -> np.ndarray | None:
    """Per-feature factors ``s`` with ``steps[0].transform(X[rows]) == X[rows] * s`` exactly, else None.

    ``steps`` are the fitted preprocessing steps before the Keras wrapper. Why only this
    case: scikit-learn's ``MinMaxScaler`` transforms float32 inputs with float32
    ``scale_`` and ``min_`` as ``X * scale_ + min_``. XLA's CPU compiler fuses a multiply
    and an add into one fused multiply-add, whose single rounding differs from NumPy's two
    in the last bit; a product alone rounds identically. So the program reproduces the
    scaler bit for bit when every ``min_`` is zero -- the data's minimum is 0 in every
    feature, as for image pixels -- and the member then needs no copy of its scaled rows
    (one shared X for the whole group). Anything else (other scalers, float64 statistics,
    ``clip=True``, non-zero offsets) keeps the member's own scaled copy.
    """
    if len(steps) != 1 or type(steps[0]) is not MinMaxScaler or steps[0].clip:
        return None
    scale, shift = getattr(steps[0], "scale_", None), getattr(steps[0], "min_", None)
    if scale is None or shift is None or X.dtype != np.float32 or scale.dtype != np.float32:
        return None
    if scale.shape != X.shape[1:] or np.any(shift != 0) or not np.all(np.isfinite(scale)):
        return None
    sample = X[np.asarray(rows)[:256]]  # a cheap guard on the reasoning above: the scaler's own output
    if not np.array_equal(sample * scale, steps[0].transform(sample)):
        return None
    return scale
