"""scikit-learn estimators over Keras 3 models: :class:`KerasClassifier`, :class:`KerasRegressor`.

The chapter's code runs unchanged apart from imports::

    >>> from keraslab import KerasClassifier
    >>> from keraslab.zoo.dense import make_model
    >>> clf = KerasClassifier(build_fn=make_model, number_of_layers=2, neurons_per_layer=32,
    ...                       optimizer="adam", epochs=100, batch_size=256, verbose=0)
    >>> # cross_val_score(make_pipeline(MinMaxScaler(), clf), X, y, cv=StratifiedKFold(10))

Every keyword is a first-class scikit-learn parameter (``get_params``, ``set_params``,
``clone``, searchable by ``GridSearchCV``); ``build_fn``'s own parameters with defaults
are searchable even when not passed. See :mod:`keraslab._routing` for where each name
goes at fit time.
"""

from __future__ import annotations

import contextlib
import random
from typing import Any, Callable

import keras
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d, validate_data

from keraslab import _routing
from keraslab._compiling import (compiled_settings, default_classifier_loss, ensure_compiled, loss_from_logits,
                                  loss_kind, make_optimizer, output_width)
from keraslab._targets import MULTILABEL, ClassTargets
from keraslab.errors import KeraslabTypeError, KeraslabValueError, TrainingDivergedError

__all__ = ["KerasClassifier", "KerasRegressor"]


def default_classifier(input_shape: tuple[int, ...], n_classes: int, hidden_units: int = 100,
                       learning_rate: float = 0.01, multilabel: bool = False) -> keras.Model:
    """The model used when no ``build_fn`` is given: one ReLU hidden layer, softmax output.

    For multilabel targets the output is one sigmoid unit per label with binary cross-entropy.
    """
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Flatten(),
        keras.layers.Dense(hidden_units, activation="relu"),
        keras.layers.Dense(n_classes, activation="sigmoid" if multilabel else "softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="binary_crossentropy" if multilabel else "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def default_regressor(input_shape: tuple[int, ...], n_outputs: int, hidden_units: int = 100,
                      learning_rate: float = 0.01) -> keras.Model:
    """The model used when no ``build_fn`` is given: one ReLU hidden layer, linear output, MSE."""
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Flatten(),
        keras.layers.Dense(hidden_units, activation="relu"),
        keras.layers.Dense(n_outputs),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    return model


@contextlib.contextmanager
def _seeded(seed: int | None):
    """Seed Python, NumPy and Keras for one fit, then give the caller's global RNG state back."""
    if seed is None:
        yield
        return
    py_state, np_state = random.getstate(), np.random.get_state()
    keras.utils.set_random_seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


class _DivergenceGuard(keras.callbacks.Callback):
    """Stop at the first epoch whose loss is not finite, and remember it for a clear error.

    Checked per epoch, not per batch: reading a batch loss forces a device sync on
    every step, and a NaN in any batch already makes the epoch's mean loss NaN.
    """

    def __init__(self):
        super().__init__()
        self.diverged_at: int | None = None

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(float(loss)):
            self.diverged_at = epoch
            self.model.stop_training = True


class BaseWrapper(BaseEstimator):
    """Shared machinery of :class:`KerasClassifier` and :class:`KerasRegressor`.

    Parameters
    ----------
    build_fn : callable or keras.Model, default=None
        Returns a (compiled or uncompiled) Keras model. Its parameters are filled from
        the wrapper's parameters of the same name; ``input_shape``, ``n_features_in``,
        ``n_classes`` and ``n_outputs`` are filled from the data when asked for and not
        set. A ``keras.Model`` instance is cloned for every fresh fit. ``None`` uses a
        one-hidden-layer default.
    epochs, batch_size, verbose, validation_split, shuffle
        Passed to ``model.fit`` (``batch_size`` and ``verbose`` also to ``predict``).
    validation_data : tuple (X_val, y_val), default=None
        Labels in the user's format; encoded like the training targets.
    callbacks : list of keras.callbacks.Callback, default=None
    class_weight : dict, "balanced" or None
        Applied as per-sample weights (keys are the original labels); classifier only.
    random_state : int, RandomState or None
        Seeds weight initialisation and shuffling so that a fit is repeatable on CPU.
    warm_start : bool, default=False
        When True, ``fit`` continues training the existing model instead of building a new one.
    **params
        Parameters of ``build_fn``, compile settings (``optimizer``, ``loss``, ``metrics``,
        ``learning_rate``) and ``model__``/``compile__``/``fit__``/``predict__`` names.
    """

    def __init__(self, build_fn: Callable[..., keras.Model] | keras.Model | None = None, *, epochs: int = 1,
                 batch_size: int | None = 32, verbose: int = 0, validation_split: float = 0.0,
                 validation_data: Any = None, shuffle: bool = True, callbacks: list | None = None,
                 class_weight: dict | str | None = None, random_state: int | None = None,
                 warm_start: bool = False, **params: Any):
        self.build_fn = build_fn
        self.epochs = epochs
        self.batch_size = batch_size
        self.verbose = verbose
        self.validation_split = validation_split
        self.validation_data = validation_data
        self.shuffle = shuffle
        self.callbacks = callbacks
        self.class_weight = class_weight
        self.random_state = random_state
        self.warm_start = warm_start
        for name, value in params.items():
            setattr(self, name, value)

    # ----- parameters -------------------------------------------------------------
    @classmethod
    def _own_names(cls) -> set[str]:
        return set(cls._get_param_names())

    def _extra_param_names(self) -> list[str]:
        # Keyword parameters are stored as plain attributes (``clf.number_of_layers``);
        # they are told apart from fitted state by the trailing underscore and from
        # bookkeeping by the leading one.
        own = self._own_names()
        return [k for k in vars(self) if k not in own and not k.startswith("_") and not k.endswith("_")]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        params = super().get_params(deep=deep)
        for name in self._extra_param_names():
            params[name] = getattr(self, name)
        return params

    def set_params(self, **params: Any) -> "BaseWrapper":
        if "build_fn" in params:
            self.build_fn = params.pop("build_fn")
        own = self._own_names()
        build_fn = self._effective_build_fn()
        for name, value in params.items():
            if not _routing.is_routable(name, build_fn, own):
                err = _routing.unknown_parameter_error(name, build_fn, own, type(self).__name__)
                raise KeraslabValueError(str(err).replace("{value}", repr(value)))
            setattr(self, name, value)
        return self

    def _effective_build_fn(self) -> Callable[..., keras.Model] | None:
        if self.build_fn is None:
            return self._default_build_fn
        if isinstance(self.build_fn, keras.Model):
            return None
        return self.build_fn

    def searchable_params(self) -> dict[str, Any]:
        """Every parameter a search can set: ``get_params()`` plus ``build_fn``'s defaults."""
        out = _routing.signature_defaults(self._effective_build_fn())
        for name in _routing.DATA_DERIVED:
            out.pop(name, None)
        out.update(self.get_params(deep=False))
        return out

    # ----- scikit-learn tags ------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        tags.input_tags.three_d_array = True  # images and sequences are accepted (allow_nd)
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")

    # ----- fitting ----------------------------------------------------------------
    def _validate_X(self, X, reset: bool) -> np.ndarray:
        X = validate_data(self, X, reset=reset, allow_nd=True, dtype="numeric", ensure_all_finite=True)
        return self._check_sample_shape(X, reset)

    def _check_sample_shape(self, X: np.ndarray, reset: bool) -> np.ndarray:
        if reset:
            self.input_shape_ = tuple(X.shape[1:])
        elif tuple(X.shape[1:]) != self.input_shape_:
            raise KeraslabValueError(
                f"X has samples of shape {tuple(X.shape[1:])}, but {type(self).__name__} was fitted "
                f"on samples of shape {self.input_shape_}. Received: X.shape={X.shape}"
            )
        return np.asarray(X, dtype=keras.config.floatx())

    def _routed(self) -> _routing.Routed:
        params = self.get_params(deep=False)
        params.pop("build_fn")
        for name in ("validation_data", "callbacks", "class_weight", "random_state", "warm_start"):
            params.pop(name)
        return _routing.route(params, self._effective_build_fn(), self._own_names(), type(self).__name__)

    def _seed(self) -> int | None:
        if self.random_state is None:
            return None
        if isinstance(self.random_state, (int, np.integer)):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    def _build_model(self, routed: _routing.Routed, X: np.ndarray) -> keras.Model:
        if isinstance(self.build_fn, keras.Model):
            model = keras.models.clone_model(self.build_fn)
            settings = compiled_settings(self.build_fn)
            if settings:
                model.compile(**{**settings, "optimizer": make_optimizer(settings["optimizer"], None)})
            return model
        build_fn = self._effective_build_fn()
        names, var_kw = _routing.signature_names(build_fn)
        kwargs = dict(routed.build)
        for name, value in self._data_derived(X).items():
            if name in names and name not in kwargs:
                kwargs[name] = value
        model = build_fn(**kwargs)
        if not isinstance(model, keras.Model):
            raise KeraslabTypeError(
                f"build_fn must return a keras.Model; {getattr(build_fn, '__name__', build_fn)} returned "
                f"{type(model).__name__}. Received: {model!r}"
            )
        return model

    def _fit(self, X, y, sample_weight, *, fresh: bool, epochs: int, classes=None) -> "BaseWrapper":
        routed = self._routed()
        X = self._validate_X(X, reset=fresh)
        if y is None:
            raise KeraslabValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        y = self._validate_y(X, y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        with _seeded(self._seed() if fresh else None):
            if fresh:
                keras.backend.clear_session()
                self._learn_targets(y, classes)
                model = self._build_model(routed, X)
                self.model_ = self._compile(model, routed, X)
                self.history_ = {}
            y_enc = self._encode(y)
            weights = self._sample_weights(y, sample_weight)
            fit_kwargs = {"epochs": epochs, **{k: v for k, v in routed.fit.items() if k != "epochs"}}
            if self.validation_data is not None:
                x_val, y_val = self.validation_data
                fit_kwargs["validation_data"] = (self._check_sample_shape(np.asarray(x_val), reset=False),
                                                 self._encode(self._validate_y(x_val, y_val)))
            guard = _DivergenceGuard()
            history = self.model_.fit(X, y_enc, sample_weight=weights,
                                      callbacks=list(self.callbacks or []) + [guard], **fit_kwargs)
        for key, values in history.history.items():
            self.history_.setdefault(key, []).extend(float(v) for v in values)
        if guard.diverged_at is not None:
            raise TrainingDivergedError(
                f"The training loss became NaN or infinite at epoch {guard.diverged_at + 1}. "
                "Lower the learning rate, scale the inputs, or clip gradients "
                "(e.g. optimizer=keras.optimizers.Adam(1e-4, clipnorm=1.0))."
            )
        return self

    def fit(self, X, y, sample_weight=None, **fit_params) -> "BaseWrapper":
        """Build a fresh model (unless ``warm_start``) and train it for ``epochs`` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        y : array-like
        sample_weight : array-like of shape (n_samples,), default=None
        **fit_params
            Not accepted: set ``fit__name`` parameters instead, so that clones keep them.
        """
        if fit_params:
            raise KeraslabTypeError(
                f"fit() takes X, y and sample_weight only; set other model.fit arguments as wrapper "
                f"parameters with the fit__ prefix so clones keep them, e.g. fit__{next(iter(fit_params))}=... "
                f"Received: {sorted(fit_params)}"
            )
        fresh = not (self.warm_start and hasattr(self, "model_"))
        return self._fit(X, y, sample_weight, fresh=fresh, epochs=self.epochs)

    def _partial_fit(self, X, y, sample_weight=None, classes=None) -> "BaseWrapper":
        fresh = not hasattr(self, "model_")
        return self._fit(X, y, sample_weight, fresh=fresh, epochs=1, classes=classes)

    def _sample_weights(self, y, sample_weight):
        return None if sample_weight is None else sample_weight.astype("float32")

    @staticmethod
    def _check_targets(X, y) -> np.ndarray:
        """Checks every target kind shares: column vectors flattened (with scikit-learn's
        warning), one target per sample, no NaN or infinity."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.shape[0] != np.shape(X)[0]:
            raise KeraslabValueError(
                f"X and y have different numbers of samples: X has {np.shape(X)[0]}, y has {y.shape[0]}."
            )
        if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
            raise KeraslabValueError("Input y contains NaN or infinity; remove or impute those samples.")
        return y

    # ----- predicting -------------------------------------------------------------
    def _raw_predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        kwargs = dict(self._routed().predict)
        kwargs.setdefault("verbose", 0)
        out = self.model_.predict(X, **kwargs)
        return out[0] if isinstance(out, (list, tuple)) else np.asarray(out)



class KerasClassifier(ClassifierMixin, BaseWrapper):
    """A scikit-learn classifier over a Keras model.

    Targets may be integers, strings, booleans, a one-hot matrix or a multilabel
    indicator matrix. How they are encoded for the model is decided after the model
    is built, from its compiled loss and output width (categorical cross-entropy ->
    one-hot, sparse -> integers, one sigmoid unit -> 0/1, several sigmoid units ->
    multilabel indicators). ``predict`` returns labels in the user's format and
    ``predict_proba`` an (n_samples, n_classes) array.

    Attributes
    ----------
    model_ : keras.Model
    classes_ : ndarray
    n_features_in_ : int
    input_shape_ : tuple
    history_ : dict of lists, one entry per epoch and metric

    Examples
    --------
    >>> import numpy as np
    >>> from keraslab import KerasClassifier
    >>> X = np.random.rand(60, 4).astype("float32"); y = (X[:, 0] > 0.5).astype(int)
    >>> clf = KerasClassifier(epochs=2, random_state=0).fit(X, y)
    >>> clf.predict_proba(X).shape
    (60, 2)
    """

    _default_build_fn = staticmethod(default_classifier)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.classifier_tags.poor_score = True
        return tags

    def _validate_y(self, X, y) -> np.ndarray:
        return self._check_targets(X, y)

    def _learn_targets(self, y, classes=None) -> None:
        self._targets = ClassTargets.learn(y, classes)
        self.classes_ = self._targets.classes
        self.n_classes_ = self._targets.n_classes

    def _data_derived(self, X) -> dict[str, Any]:
        n = self._targets.n_classes
        return {"input_shape": tuple(X.shape[1:]), "n_features_in": X.shape[1], "n_classes": n, "n_outputs": n,
                "multilabel": self._targets.fmt == MULTILABEL}

    def _compile(self, model, routed, X) -> keras.Model:
        multilabel = self._targets.fmt == MULTILABEL
        width = output_width(model, X)
        ensure_compiled(model, routed.compile, default_classifier_loss(model, width, multilabel), ["accuracy"])
        loss = model.loss
        name = getattr(self.build_fn, "__name__", type(self.build_fn).__name__) if self.build_fn is not None \
            else "the default model"
        self._targets.choose_encoding(loss_kind(loss), width, name, loss_from_logits(loss))
        return model

    def _encode(self, y) -> np.ndarray:
        return self._targets.encode(y)

    def _sample_weights(self, y, sample_weight):
        if self.class_weight is None:
            return super()._sample_weights(y, sample_weight)
        if self._targets.fmt == MULTILABEL:
            raise KeraslabValueError("class_weight is not supported for multilabel targets. Received: "
                                     f"class_weight={self.class_weight!r}")
        idx = self._targets.indices(y)
        if isinstance(self.class_weight, str):
            if self.class_weight != "balanced":
                raise KeraslabValueError(f"class_weight must be a dict, 'balanced' or None. "
                                         f"Received: class_weight={self.class_weight!r}")
            per_class = compute_class_weight("balanced", classes=np.arange(self.n_classes_), y=idx)
        else:
            per_class = np.array([float(self.class_weight.get(c, 1.0)) for c in self.classes_.tolist()])
        weights = per_class[idx]
        if sample_weight is not None:
            weights = weights * sample_weight
        return weights.astype("float32")

    def partial_fit(self, X, y, classes=None, sample_weight=None) -> "KerasClassifier":
        """Train one epoch; the first call builds the model and needs every class in ``classes``."""
        return self._partial_fit(X, y, sample_weight, classes)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes), columns in the order of ``classes_``."""
        check_is_fitted(self)
        return self._targets.probabilities(self._raw_predict(X))

    def predict(self, X) -> np.ndarray:
        """Predicted labels in the format ``y`` was given in."""
        proba = self.predict_proba(X)  # checks fitted before _targets is touched
        return self._targets.decode(proba)


class KerasRegressor(RegressorMixin, BaseWrapper):
    """A scikit-learn regressor over a Keras model (``score`` is R^2).

    ``build_fn`` may ask for ``n_outputs`` (1 for a 1-D ``y``). ``predict`` returns a
    1-D array for a 1-D ``y``, else (n_samples, n_outputs).

    Examples
    --------
    >>> import numpy as np
    >>> from keraslab import KerasRegressor
    >>> X = np.random.rand(60, 3).astype("float32"); y = X.sum(axis=1)
    >>> KerasRegressor(epochs=2, random_state=0).fit(X, y).predict(X).shape
    (60,)
    """

    _default_build_fn = staticmethod(default_regressor)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        tags.target_tags.multi_output = True
        return tags

    def _validate_y(self, X, y) -> np.ndarray:
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            raise KeraslabValueError(f"Unknown label type: KerasRegressor needs numeric targets. "
                                     f"Received: y of dtype {y.dtype}")
        return self._check_targets(X, y).astype(keras.config.floatx())

    def _learn_targets(self, y, classes=None) -> None:
        self.n_outputs_ = 1 if y.ndim == 1 else int(np.prod(y.shape[1:]))
        self._y_ndim = y.ndim

    def _data_derived(self, X) -> dict[str, Any]:
        return {"input_shape": tuple(X.shape[1:]), "n_features_in": X.shape[1], "n_outputs": self.n_outputs_}

    def _compile(self, model, routed, X) -> keras.Model:
        ensure_compiled(model, routed.compile, "mse", None)
        return model

    def _encode(self, y) -> np.ndarray:
        return y

    def partial_fit(self, X, y, sample_weight=None) -> "KerasRegressor":
        """Train one epoch (building the model on the first call)."""
        return self._partial_fit(X, y, sample_weight)

    def predict(self, X) -> np.ndarray:
        """Predictions, 1-D when the model was fitted on a 1-D ``y``."""
        out = self._raw_predict(X)
        if self._y_ndim == 1 and out.ndim == 2 and out.shape[1] == 1:
            out = out[:, 0]
        return out.astype("float64")
