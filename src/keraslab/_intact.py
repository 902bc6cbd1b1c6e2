"""Keep a Keras model usable when something raises inside its training or prediction loop.

Keras' JAX trainer detaches every variable's value while its loop runs (the loop passes
the weights through a stateless, buffer-donating step) and reattaches them only when
the loop ends normally or from ``fit``'s ``finally``. An exception raised inside
``predict``/``evaluate``, or inside the first step of a ``fit`` epoch, leaves the
variables empty: every later ``predict``, ``get_weights`` or ``save`` then fails with
``TypeError: 'NoneType' object is not callable`` and the trained weights are gone.

:func:`intact` wraps one such call: it keeps a copy of the variables' values, and on
any exception puts back the newest values the loop still holds (or the copy), then
re-raises. Stateful recurrent models are the common trigger (a row count that is not a
multiple of the fixed batch size); :func:`stateful_batch_size` and :func:`check_rows`
catch that case before Keras is entered.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import keras

from keraslab.errors import KeraslabValueError


def _variables(model: keras.Model) -> list:
    """Every variable Keras' JAX loops detach: the model's, its optimizer's and its metrics'."""
    found, seen = [], set()
    optimizer = getattr(model, "optimizer", None)
    groups = (model.variables, getattr(optimizer, "variables", []) if optimizer is not None else [],
              getattr(model, "metrics_variables", []))
    for variable in (v for group in groups for v in group):
        if id(variable) not in seen:
            seen.add(id(variable))
            found.append(variable)
    return found


def _values(model: keras.Model) -> list:
    # Donated buffers are deleted by the next step, so a reference is not enough: copy.
    # Pairs, not positions: a first fit creates the optimizer's variables after this copy.
    return [(v, None if v._value is None else keras.ops.copy(v._value)) for v in _variables(model)]


@contextlib.contextmanager
def intact(model: keras.Model, rollback_on_error: bool = False) -> Iterator[list]:
    """Run a ``fit``/``predict``/``evaluate`` call so that an exception leaves the model usable.

    With ``rollback_on_error`` an exception also puts every weight back to its value
    before the call (a failed warm fit keeps the model it started from).

    Only the JAX backend detaches variables, but the copy is taken on every backend:
    it is yielded, so that a caller can :func:`rollback` a fit it refuses afterwards
    (a diverged warm start). The cost is one on-device copy of the weights per call.

    Examples
    --------
    >>> with intact(model) as saved:  # doctest: +SKIP
    ...     model.predict(x)
    """
    saved = _values(model) if model.built else []
    try:
        yield saved
    except BaseException:
        (rollback if rollback_on_error else restore)(model, saved)
        raise


def restore(model: keras.Model, saved: list) -> None:
    """Reattach the loop's newest values if it holds any, then fill still-empty variables from ``saved``."""
    if keras.backend.backend() != "jax":
        return
    state = getattr(model, "_jax_state", None)
    if state and not getattr(model, "_jax_state_synced", True):
        with contextlib.suppress(Exception):  # a half-written state: fall back to the copy
            model.jax_state_sync()
    model._jax_state = None
    model._jax_state_synced = True
    for variable, value in saved:
        if variable._value is None and value is not None:
            variable._value = value


def rollback(model: keras.Model, saved: list) -> None:
    """Put every variable back to ``saved`` (a failed warm fit keeps the weights it started from)."""
    restore(model, saved)
    for variable, value in saved:
        if value is not None:
            variable.assign(value)


def stateful_batch_size(model: keras.Model) -> int | None:
    """The fixed batch size of a model with stateful layers, or ``None`` when it has none."""
    if not any(getattr(layer, "stateful", False) for layer in _layers(model)):
        return None
    try:
        size = model.inputs[0].shape[0]
    except (AttributeError, IndexError, TypeError, ValueError):
        return None
    return int(size) if size is not None else None


def _layers(model: keras.Model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _layers(layer)
        inner = getattr(layer, "layer", None)  # Bidirectional / TimeDistributed wrappers
        if isinstance(inner, keras.layers.Layer):
            yield inner
            yield getattr(layer, "backward_layer", inner)


def check_rows(n_rows: int, batch_size: int, what: str) -> None:
    """Refuse ``n_rows`` that a stateful model with fixed ``batch_size`` cannot take."""
    if n_rows % batch_size:
        lower, upper = n_rows - n_rows % batch_size, n_rows + batch_size - n_rows % batch_size
        raise KeraslabValueError(
            f"The model is stateful with a fixed batch size of {batch_size}, so {what} needs a multiple of "
            f"{batch_size} rows (e.g. {lower} or {upper}): a last partial batch cannot carry the state. "
            f"Trim or pad the data. Received: {n_rows} rows"
        )


def check_fit_rows(model: keras.Model, n_rows: int, fit_kwargs: dict) -> None:
    """For a stateful model: fix ``batch_size`` to its batch size and refuse row counts of the
    training part, the ``validation_split`` part and ``validation_data`` that are not whole
    batches (checked before Keras is entered; inside its loop the error comes late)."""
    size = stateful_batch_size(model)
    if size is None:
        return
    if fit_kwargs.get("batch_size") not in (None, size):
        raise KeraslabValueError(f"The model is stateful with a fixed batch size of {size}; set batch_size={size}. "
                                 f"Received: batch_size={fit_kwargs['batch_size']}")
    fit_kwargs["batch_size"] = size
    n_train = n_rows
    if fit_kwargs.get("validation_split"):
        n_train = int(n_rows * (1.0 - fit_kwargs["validation_split"]))  # Keras' own split point
        check_rows(n_rows - n_train, size, "the validation_split part")
    check_rows(n_train, size, "fit")
    if fit_kwargs.get("validation_data") is not None:
        check_rows(len(fit_kwargs["validation_data"][0]), size, "validation_data")
