"""Inspect and (re)compile the model a ``build_fn`` returned; shared by the zoo and the wrappers.

Ground floor (see docs/house.md): imports nothing of keraslab but :mod:`keraslab.errors`,
so the model-making functions of :mod:`keraslab.zoo` and the scikit-learn bridge
can both use it.

The wrapper decides how to encode targets *after* the model is built, from what the
model will actually be trained with: its compiled loss and its output width. This is
the bug that breaks SciKeras on the chapter's own cross-validation (a compiled
``categorical_crossentropy`` with integer labels): it never looks at the loss.
"""

from __future__ import annotations

import copy
import inspect
import logging
import re
from typing import Any

import keras
import numpy as np

from keraslab.errors import KeraslabTypeError

_log = logging.getLogger(__name__)

#: How a loss wants its classification targets.
SPARSE, CATEGORICAL, BINARY, OTHER = "sparse", "categorical", "binary", "other"


def loss_name(loss: Any) -> str:
    """A snake_case name for a loss given as string, function, ``Loss`` object, list or dict."""
    if loss is None:
        return ""
    if isinstance(loss, (list, tuple)):
        return loss_name(loss[0]) if loss else ""
    if isinstance(loss, dict):
        return loss_name(next(iter(loss.values()))) if loss else ""
    if isinstance(loss, str):
        name = loss
    else:
        name = getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__
    # CategoricalCrossentropy -> categorical_crossentropy
    return re.sub(r"(?<!^)(?=[A-Z])", "_", str(name)).lower()


def loss_kind(loss: Any) -> str:
    """``sparse``, ``categorical``, ``binary`` or ``other``: the target format a loss wants."""
    name = loss_name(loss)
    if "sparse" in name:
        return SPARSE
    if "binary" in name or name in ("hinge", "squared_hinge"):
        return BINARY
    if "categorical" in name or name in ("kl_divergence", "kld", "kullback_leibler_divergence", "poisson"):
        return CATEGORICAL
    return OTHER


def loss_from_logits(loss: Any) -> bool:
    """Whether the loss expects raw scores (so predictions need a softmax / sigmoid)."""
    if isinstance(loss, (list, tuple)):
        return loss_from_logits(loss[0]) if loss else False
    if isinstance(loss, dict):
        return loss_from_logits(next(iter(loss.values()))) if loss else False
    if hasattr(loss, "get_config"):
        try:
            return bool(loss.get_config().get("from_logits", False))
        except Exception:  # a user loss with a broken get_config: assume probabilities
            return False
    return bool(getattr(loss, "from_logits", False))


def output_width(model: keras.Model, x_sample: np.ndarray) -> int:
    """Units of the model's (first) output's last axis, building the model if needed."""
    try:
        shape = tuple(model.outputs[0].shape)
    except (AttributeError, ValueError, IndexError, TypeError):
        # Subclassed models and Sequential without Input have no symbolic outputs
        # until called once.
        out = model(x_sample[:1])
        if isinstance(out, (list, tuple)):
            out = out[0]
        shape = tuple(out.shape)
    return int(shape[-1]) if len(shape) > 1 else 1


def output_shapes(model: keras.Model, x_sample: np.ndarray) -> list[tuple[int, ...]]:
    """Shape of each of the model's outputs without the batch axis, building the model if needed."""
    try:
        shapes = [tuple(o.shape) for o in model.outputs]
    except (AttributeError, ValueError, TypeError):
        shapes = []
    if not shapes:
        out = model(x_sample[:1])
        shapes = [tuple(o.shape) for o in (out if isinstance(out, (list, tuple)) else
                                            list(out.values()) if isinstance(out, dict) else [out])]
    return [tuple(int(d) for d in s[1:]) for s in shapes]


def last_activation(model: keras.Model) -> str:
    """The name of the last layer's activation ("softmax", "sigmoid", "linear", ...)."""
    layer = model.layers[-1] if model.layers else None
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", str(activation) if activation else "linear")


def default_classifier_loss(model: keras.Model, width: int, multilabel: bool) -> keras.losses.Loss:
    """A loss matching an uncompiled classifier's output layer."""
    activation = last_activation(model)
    logits = activation not in ("softmax", "sigmoid")
    if width == 1 or multilabel:
        return keras.losses.BinaryCrossentropy(from_logits=logits)
    return keras.losses.SparseCategoricalCrossentropy(from_logits=logits)


def make_optimizer(optimizer: Any, learning_rate: float | None) -> Any:
    """An optimizer instance for ``optimizer`` (name, dict or instance), with ``learning_rate`` if given.

    A fresh instance is always returned for instances too: an optimizer is bound to
    the variables it was built for, so reusing one across models or recompiles fails.
    """
    if isinstance(optimizer, keras.optimizers.Optimizer):
        config = optimizer.get_config()
        if learning_rate is not None:
            config["learning_rate"] = learning_rate
        return type(optimizer).from_config(config)
    instance = keras.optimizers.get(optimizer)
    if learning_rate is not None:
        config = instance.get_config()
        config["learning_rate"] = learning_rate
        instance = type(instance).from_config(config)
    return instance


def compiled_settings(model: keras.Model) -> dict[str, Any]:
    """What the model was compiled with (optimizer, loss, metrics, ...), or ``{}``."""
    if not getattr(model, "compiled", False):
        return {}
    config = getattr(getattr(model, "_compile_config", None), "config", None)
    if isinstance(config, dict):
        return dict(config)
    return {"optimizer": model.optimizer, "loss": model.loss}


def ensure_compiled(
    model: keras.Model,
    overrides: dict[str, Any],
    default_loss: Any,
    default_metrics: list[Any] | None,
) -> keras.Model:
    """Compile an uncompiled model with defaults; recompile when the user overrides settings.

    Parameters
    ----------
    model : keras.Model
        As returned by ``build_fn``.
    overrides : dict
        Routed compile settings (``optimizer``, ``loss``, ``metrics``, ``learning_rate``
        and ``compile__*`` names). Non-empty means: recompile so they take effect.
    default_loss, default_metrics
        Used when the model is uncompiled and the user gave none.
    """
    current = compiled_settings(model)
    if current and not overrides:
        return model
    settings = {k: v for k, v in current.items() if k in ("optimizer", "loss", "loss_weights", "metrics",
                                                            "weighted_metrics", "run_eagerly",
                                                            "steps_per_execution", "jit_compile")}
    overrides = dict(overrides)
    learning_rate = overrides.pop("learning_rate", None)
    settings.update(overrides)
    settings.setdefault("loss", default_loss)
    if settings.get("metrics") is None and default_metrics is not None and "metrics" not in overrides:
        settings["metrics"] = default_metrics
    settings["optimizer"] = make_optimizer(settings.get("optimizer") or "adam", learning_rate)
    model.compile(**settings)
    return model


#: Keras objects that carry state from one fit into the next when reused.
_STATEFUL = (keras.optimizers.Optimizer, keras.losses.Loss, keras.metrics.Metric, keras.callbacks.Callback)


def fresh_copy(value: Any) -> Any:
    """``value`` with every stateful Keras object in it replaced by an unused copy.

    An optimizer counts its iterations and holds slot variables, a metric its running
    totals, a callback its best-so-far and its model: reused across fits, the second
    fit starts where the first ended (a hand-written cross-validation loop then differs
    from ``cross_val_score``, which clones). Optimizers, losses and metrics are rebuilt
    from their config. Keras' own callbacks (``EarlyStopping``, ``ModelCheckpoint``,
    ``ReduceLROnPlateau``, ...) are deep-copied without the model they were attached to;
    callbacks of other modules are used as given, because their owners read what they
    collected after ``fit`` (they must reset themselves in ``on_train_begin``). Lists,
    tuples and dicts are copied element-wise; anything else is returned as is.
    """
    if isinstance(value, (list, tuple)):
        return type(value)(fresh_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: fresh_copy(v) for k, v in value.items()}
    if not isinstance(value, _STATEFUL):
        return value
    if isinstance(value, keras.callbacks.Callback):
        if not type(value).__module__.startswith("keras."):
            return value
        model = getattr(value, "_model", None)
        memo = {} if model is None else {id(model): None}
        try:
            return copy.deepcopy(value, memo)
        except Exception as exc:  # e.g. a callback holding a file handle or a lock
            _log.warning("callback %s could not be copied (%s); the same instance is reused across fits",
                         type(value).__name__, exc)
            return value
    return type(value).from_config(value.get_config())


def build_model(build_fn: Any, build_kwargs: dict[str, Any], data_derived: dict[str, Any]) -> keras.Model:
    """Call ``build_fn`` with its routed arguments plus the data-derived ones it asks for and
    the user did not set; refuse anything but a ``keras.Model``."""
    try:
        names = set(inspect.signature(build_fn).parameters)
    except (TypeError, ValueError):  # builtins, some C callables: nothing to inspect, nothing derived
        names = set()
    kwargs = dict(build_kwargs)
    for name, value in data_derived.items():
        if name in names and name not in kwargs:
            kwargs[name] = value
    model = build_fn(**kwargs)
    if not isinstance(model, keras.Model):
        raise KeraslabTypeError(
            f"build_fn must return a keras.Model; {getattr(build_fn, '__name__', build_fn)} returned "
            f"{type(model).__name__}. Received: {model!r}"
        )
    return model


def clone_compiled(model: keras.Model) -> keras.Model:
    """A fresh copy of a ``keras.Model`` given as ``build_fn``: new weights, compiled like the
    original with fresh optimizer, loss and metric objects."""
    clone = keras.models.clone_model(model)
    settings = fresh_copy(compiled_settings(model))
    if settings:
        clone.compile(**{**settings, "optimizer": make_optimizer(settings["optimizer"], None)})
    return clone
