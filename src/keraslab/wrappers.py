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

from typing import Any, Callable

import keras
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from keraslab import _fitting, _intact, _routing
from keraslab._defaults import default_classifier, default_regressor
from keraslab._keras_compile import (build_model, clone_compiled, default_classifier_loss, ensure_compiled,
                                  fresh_copy, last_activation, loss_from_logits, loss_kind, output_shapes)
from keraslab._targets import MULTILABEL, ClassTargets, RegressionTargets, check_targets
from keraslab.errors import KeraslabTypeError, KeraslabValueError, TrainingDivergedError

__all__ = ["KerasClassifier", "KerasRegressor"]


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

    def _model_name(self) -> str:
        if self.build_fn is None:
            return "the default model"
        return getattr(self.build_fn, "__name__", type(self.build_fn).__name__)

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
            return clone_compiled(self.build_fn)
        return build_model(self._effective_build_fn(), routed.build, self._data_derived(X))

    def _fit(self, X, y, sample_weight, *, fresh: bool, epochs: int, classes=None) -> "BaseWrapper":
        # Fitted state is committed only by a fit that succeeds: a failed fresh fit leaves
        # the estimator unfitted (NotFittedError, not a half-trained model), a failed warm
        # fit leaves the weights and history it started from.
        if fresh:
            self._forget_fit()
        try:
            return self._fit_or_raise(X, y, sample_weight, fresh=fresh, epochs=epochs, classes=classes)
        except BaseException:
            if fresh:
                self._forget_fit()
            raise

    def _forget_fit(self) -> None:
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")] + ["_targets"]:
            self.__dict__.pop(name, None)

    def _fit_or_raise(self, X, y, sample_weight, *, fresh: bool, epochs: int, classes=None) -> "BaseWrapper":
        routed = self._routed()
        batches = X if _fitting.is_batches(X) else None
        if batches is not None:
            X, y = self._batches_sample(batches, y, sample_weight, routed, fresh)
        else:
            X = self._validate_X(X, reset=fresh)
        if y is None:
            raise KeraslabValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        # With batches, X is the first batch and y one pass of targets: only y's rows are checked.
        y = self._validate_y(X if batches is None else np.empty((len(y), 0)), y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        with _fitting.seeded(self._seed() if fresh else None):
            if fresh:
                keras.backend.clear_session()
                self._learn_targets(y, classes)
                routed.build, routed.compile = fresh_copy(routed.build), fresh_copy(routed.compile)
                model = self._compile(self._build_model(routed, X), routed, X)
            else:
                model = self.model_
            fit_kwargs = {"epochs": epochs, **{k: v for k, v in routed.fit.items() if k != "epochs"}}
            validation = self._validation(self._managed(routed, "validation_data"))
            if validation is not None:
                fit_kwargs["validation_data"] = validation
            if batches is not None:
                # Batches carry their own size and targets; shuffle (of the batch order) still applies.
                fit_kwargs.pop("batch_size", None)
                fit_kwargs.pop("validation_split", None)
                data = dict(x=_fitting.EncodedBatches(batches, self._encode, keras.config.floatx(),
                                                      type(self).__name__))
            else:
                weights = self._sample_weights(y, sample_weight, self._managed(routed, "class_weight"))
                data = dict(x=X, y=self._encode(y), sample_weight=weights)
                _intact.check_fit_rows(model, len(X), fit_kwargs)
            guard = _fitting.DivergenceGuard()
            callbacks = fresh_copy(list(self.callbacks or []) + list(routed.managed.get("callbacks") or []))
            with _intact.intact(model, rollback_on_error=not fresh) as saved:
                history = model.fit(**data, callbacks=callbacks + [guard], **fit_kwargs)
        if guard.diverged_at is not None:
            if not fresh:
                _intact.rollback(model, saved)
            raise TrainingDivergedError(
                f"The training loss became NaN or infinite at epoch {guard.diverged_at + 1}. "
                "Lower the learning rate, scale the inputs, or clip gradients "
                "(e.g. optimizer=keras.optimizers.Adam(1e-4, clipnorm=1.0))."
            )
        self.model_ = model
        if fresh:
            self.history_ = {}
        for key, values in history.history.items():
            self.history_.setdefault(key, []).extend(float(v) for v in values)
        return self

    def _batches_sample(self, batches, y, sample_weight, routed: _routing.Routed, fresh: bool):
        """A PyDataset ``X``: its first batch's inputs (sample shape) and one pass of targets."""
        x0, targets = _fitting.batches_sample(
            batches, type(self).__name__, fresh=fresh, y=y, sample_weight=sample_weight,
            class_weight=self._managed(routed, "class_weight"), validation_split=routed.fit.get("validation_split"))
        return self._validate_X(x0, reset=fresh), targets

    def _managed(self, routed: _routing.Routed, name: str) -> Any:
        """``name`` set as the wrapper's own parameter or as ``fit__name``: one value, handled one way."""
        own, prefixed = getattr(self, name), routed.managed.get(name)
        if own is not None and prefixed is not None:
            raise KeraslabValueError(f"{name} is set twice, as {name}= and as fit__{name}=; keep one. "
                                     f"Received: {name}={own!r}, fit__{name}={prefixed!r}")
        return prefixed if own is None else own

    def _validation(self, data) -> tuple | None:
        """``validation_data`` in the user's format, checked and encoded like the training data."""
        if data is None:
            return None
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise KeraslabValueError(f"validation_data must be a tuple (X_val, y_val) or (X_val, y_val, "
                                     f"sample_weight_val). Received: validation_data of type {type(data).__name__}")
        x_val = self._check_sample_shape(np.asarray(data[0]), reset=False)
        out = (x_val, self._encode(self._validate_y(x_val, data[1])))
        if len(data) == 3 and data[2] is not None:
            out += (_check_sample_weight(data[2], x_val, dtype=np.float32),)
        return out

    def fit(self, X, y=None, sample_weight=None, **fit_params) -> "BaseWrapper":
        """Build a fresh model (unless ``warm_start``) and train it for ``epochs`` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...) or keras.utils.PyDataset
            A PyDataset (e.g. the augmentation flow of :mod:`keraslab.data`, or
            :class:`~keraslab.data.shapes.ShapesDataset`) gives ``(x, y)`` batches that are
            trained on as they come (new augmentations every epoch); ``y`` and
            ``sample_weight`` must then be None, ``batch_size`` and ``validation_split``
            do not apply, and the classes are learned from the dataset's ``y`` array,
            its ``num_classes``, or one pass over its batches.
        y : array-like, or None with a PyDataset
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

    def _sample_weights(self, y, sample_weight, class_weight):
        if class_weight is not None:
            raise KeraslabValueError(f"class_weight applies to classifiers only; weight samples with "
                                     f"fit(X, y, sample_weight=...). Received: class_weight={class_weight!r}")
        return None if sample_weight is None else sample_weight.astype("float32")

    # ----- predicting -------------------------------------------------------------
    def _raw_predict(self, X):
        """The model's raw output(s) for X; a stateful model's fixed batch is padded and trimmed."""
        check_is_fitted(self)
        if _fitting.is_batches(X):  # every batch's inputs, in order (their targets are not needed)
            X = _fitting.unbatch(X, type(self).__name__)[0]
        X = self._validate_X(X, reset=False)
        kwargs = dict(self._routed().predict)
        kwargs.setdefault("verbose", 0)
        n, size = len(X), _intact.stateful_batch_size(self.model_)
        if size is not None:
            # Padding rows come last, so the state the real rows see is unchanged.
            kwargs["batch_size"] = size
            X = np.concatenate([X, np.zeros((-n % size, *X.shape[1:]), X.dtype)])
        with _intact.intact(self.model_):
            out = self.model_.predict(X, **kwargs)
        trim = (lambda a: np.asarray(a)[:n])
        if isinstance(out, dict):
            return [trim(v) for v in out.values()]
        return [trim(v) for v in out] if isinstance(out, (list, tuple)) else trim(out)



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
        # Multilabel targets need one sigmoid unit per label: the default model adapts, a
        # build_fn can only if it asks for `multilabel`; a Model instance if it ends in a sigmoid.
        build_fn = self._effective_build_fn()
        if isinstance(self.build_fn, keras.Model):
            tags.classifier_tags.multi_label = last_activation(self.build_fn) == "sigmoid"
        else:
            tags.classifier_tags.multi_label = "multilabel" in _routing.signature_names(build_fn)[0]
        tags.classifier_tags.poor_score = True
        return tags

    def _validate_y(self, X, y) -> np.ndarray:
        return check_targets(X, y)

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
        shapes, name = output_shapes(model, X), self._model_name()
        if len(shapes) != 1 or len(shapes[0]) > 1:
            raise KeraslabValueError(
                f"KerasClassifier needs a model with one output of shape (None, n_classes) or (None, 1); "
                f"the model built by {name} has {len(shapes)} output(s) of shape(s) "
                f"{[(None, *s) for s in shapes]}. Use one output layer (several tasks: one classifier each, "
                f"or KerasRegressor on the stacked targets). Received: {len(shapes)} output(s)"
            )
        width = shapes[0][0] if shapes[0] else 1
        ensure_compiled(model, routed.compile, default_classifier_loss(model, width, multilabel), ["accuracy"])
        loss = model.loss
        self._targets.choose_encoding(loss_kind(loss), width, name, loss_from_logits(loss))
        return model

    def _encode(self, y) -> np.ndarray:
        return self._targets.encode(y)

    def _sample_weights(self, y, sample_weight, class_weight):
        weights = self._targets.class_weights(class_weight, y)
        if weights is None:
            return super()._sample_weights(y, sample_weight, None)
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

    def score(self, X, y=None, sample_weight=None) -> float:
        """Mean accuracy of :meth:`predict` on ``(X, y)``, or on a PyDataset's batches (``y=None``)."""
        X, y = _fitting.scoring_data(X, y, type(self).__name__)
        return super().score(X, y, sample_weight=sample_weight)


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
        return check_targets(X, y).astype(keras.config.floatx())

    def _learn_targets(self, y, classes=None) -> None:
        self._targets = RegressionTargets.learn(y)
        self.n_outputs_ = self._targets.n_outputs

    def _data_derived(self, X) -> dict[str, Any]:
        return {"input_shape": tuple(X.shape[1:]), "n_features_in": X.shape[1], "n_outputs": self.n_outputs_}

    def _compile(self, model, routed, X) -> keras.Model:
        self._targets.fit_to(output_shapes(model, X), self._model_name())
        ensure_compiled(model, routed.compile, "mse", None)
        return model

    def _encode(self, y):
        return self._targets.encode(y)

    def partial_fit(self, X, y, sample_weight=None) -> "KerasRegressor":
        """Train one epoch (building the model on the first call)."""
        return self._partial_fit(X, y, sample_weight)

    def predict(self, X) -> np.ndarray:
        """Predictions in the model's dtype (float32): (n_samples,) when the model was fitted
        on a 1-D ``y``, else (n_samples, n_outputs), whatever the shape of the model's output(s)."""
        out = self._raw_predict(X)
        return self._targets.decode(out)

    def score(self, X, y=None, sample_weight=None) -> float:
        """R^2 of :meth:`predict` against ``y`` (or a PyDataset's targets, ``y=None``); targets of more
        than two dimensions are flattened per sample."""
        check_is_fitted(self)
        X, y = _fitting.scoring_data(X, y, type(self).__name__)
        return super().score(X, self._targets.flat(y), sample_weight=sample_weight)
