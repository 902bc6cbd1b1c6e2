"""What every zoo module shares: argument checks and the compile step.

Every model-making function of the zoo ends with :func:`compile_model`, so the
optimizer / learning-rate handling is written once: ``optimizer`` is a name
("adam", "adadelta", "rmsprop", ...) or an optimizer instance, and
``learning_rate=None`` keeps the optimizer's own default (the chapter's
``Adam(lr=0.1)`` is ``optimizer="adam", learning_rate=0.1``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from keraslab._checks import positive_int
from keraslab._keras_compile import make_optimizer as _shared_make_optimizer
from keraslab.errors import KeraslabTypeError, KeraslabValueError

OptimizerLike = str | keras.optimizers.Optimizer


check_positive_int = positive_int  # the zoo's name for the shared check


def check_int_tuple(name: str, value: Any, *, allow_empty: bool = False) -> tuple[int, ...]:
    """Accept an int or a sequence of positive ints (layer widths); return a tuple."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise KeraslabTypeError(
            f"{name} must be a positive integer or a sequence of them, e.g. (32, 32). Received: {name}={value!r}"
        )
    if not value and not allow_empty:
        raise KeraslabValueError(f"{name} must name at least one layer. Received: {name}={value!r}")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or item < 1:
            raise KeraslabValueError(
                f"{name} must contain only positive integers. Received: {name}={value!r}"
            )
    return tuple(value)


def check_fraction(name: str, value: Any) -> float:
    """Return ``value`` if it lies in [0, 1), as dropout ratios must."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise KeraslabValueError(f"{name} must be a number in [0, 1). Received: {name}={value!r}")
    return float(value)


def check_shape(name: str, value: Any, rank: int | None = None) -> tuple[int, ...]:
    """Normalise an input shape (an int is a 1-D shape) and check its rank."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    try:
        shape = tuple(int(d) for d in value)
    except (TypeError, ValueError):
        raise KeraslabTypeError(
            f"{name} must be a tuple of positive integers, e.g. (28, 28, 1). Received: {name}={value!r}"
        ) from None
    if any(d < 1 for d in shape) or not shape:
        raise KeraslabValueError(f"{name} must hold positive integers only. Received: {name}={value!r}")
    if rank is not None and len(shape) != rank:
        raise KeraslabValueError(f"{name} must have {rank} dimensions. Received: {name}={value!r}")
    return shape


def make_optimizer(optimizer: OptimizerLike, learning_rate: float | None = None) -> keras.optimizers.Optimizer:
    """A fresh optimizer from a name or instance, with ``learning_rate`` applied when given.

    Checks the arguments and explains what is wrong, then defers to
    :func:`keraslab._keras_compile.make_optimizer` (shared with the wrappers), which
    always returns a new instance: an optimizer is bound to the variables it was
    built for, so one instance cannot serve two models.

    Examples
    --------
    >>> round(float(make_optimizer("adam", 0.1).learning_rate), 6)
    0.1
    """
    if learning_rate is not None:
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) or learning_rate <= 0:
            raise KeraslabValueError(
                f"learning_rate must be a positive number or None. Received: learning_rate={learning_rate!r}"
            )
    if not isinstance(optimizer, (str, keras.optimizers.Optimizer)):
        raise KeraslabTypeError(
            "optimizer must be a name such as 'adam' or a keras.optimizers.Optimizer. "
            f"Received: optimizer={optimizer!r}"
        )
    if isinstance(optimizer, str):
        try:
            keras.optimizers.get(optimizer)
        except ValueError:
            raise KeraslabValueError(
                "optimizer must be a Keras optimizer name: adam, adamw, adadelta, adagrad, adamax, nadam, "
                f"rmsprop, sgd, ftrl, lion. Received: optimizer={optimizer!r}"
            ) from None
    return _shared_make_optimizer(optimizer, learning_rate)


def compile_model(
    model: keras.Model,
    *,
    optimizer: OptimizerLike,
    learning_rate: float | None,
    loss: Any,
    metrics: Sequence[Any] | None,
) -> keras.Model:
    """Compile ``model`` with a fresh optimizer; return it (so builders can end with it)."""
    model.compile(
        optimizer=make_optimizer(optimizer, learning_rate),
        loss=loss,
        metrics=list(metrics) if metrics else None,
    )
    return model
