"""K same-architecture Keras models trained as one vmapped JAX program.

Each member's state -- trainable and non-trainable variables (BatchNormalization
statistics, dropout seed state), optimizer variables (including its learning rate,
so members may differ in it) and metric accumulators -- is stacked along a leading
member axis. One member's step is the model's own stateless
:meth:`keras.Model.train_step` (the JAX trainer's, so losses, constraints such as
``MaxNorm`` and metric updates are exactly what ``model.fit`` does);
:func:`jax.vmap` runs it for all members at once.

Batches, padding and masking
----------------------------
Member ``k`` has ``n_k`` training rows. Every epoch it walks its own row order in
``n_k // batch_size`` full batches and then one partial batch of ``n_k % batch_size``
rows, as ``model.fit`` does. Full batches of all members run in one ``lax.scan``;
a member with fewer full batches is *inactive* on the missing steps: its step is
computed on padding rows and discarded (``where(active, new, old)``), so its state,
optimizer iteration count and metrics do not change. Partial batches run once per
distinct partial size, again with the other members inactive. No loss is ever
computed over padding, so results equal sequential fits up to float32 rounding.

Width padding
-------------
Members whose models differ only in the widths of hidden Dense layers (e.g. a grid
over ``neurons_per_layer``) train in the widest member's shapes: a narrower member's
weights and optimizer slots sit in the leading corner of zeros. The padded units
output zero (their activations are zero at zero, see
:func:`keraslab.search.vectorized.members.hidden_widths`), so every weight that
reads them gets a zero gradient and stays zero: without dropout the result equals
the member's sequential fit up to float32 rounding. With dropout, a padded member
draws its masks at the wider shape, so they differ from its sequential fit's
masks (drawn from the same seed state; equally random).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from keras.src import backend as _keras_backend

__all__ = ["GroupData", "GroupResult", "train_group"]


@dataclass
class GroupData:
    """What a group trains on.

    Attributes
    ----------
    x : ndarray of shape (n_x_rows, ...)
        Inputs of all members in one array: X itself when members train on rows of X,
        else the members' own inputs (e.g. after a per-fold scaler) one after another.
    y : ndarray of shape (K, n_rows, ...)
        Encoded targets per member, padded.
    sample_weight : ndarray of shape (K, n_rows) or None
    orders : list of K lists of ``epochs`` int arrays
        Row positions (into ``y``) each member visits in each epoch.
    x_offsets : ndarray of shape (K,)
        Member ``k``'s row ``i`` is ``x[x_offsets[k] + i]``. One array indexed with
        offsets, rather than a (K, rows, ...) array indexed per member: XLA's CPU
        gather is several times faster on the former.
    x_scale : ndarray of shape (K, ...) or None
        Per-member factors each gathered row is multiplied by (a MinMaxScaler fitted on
        the member's fold, see :func:`~keraslab.search.vectorized.members.exact_scale`),
        so the members share one unscaled ``x``; None: rows are used as they are.
    """

    x: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray | None
    orders: list[list[np.ndarray]]
    x_offsets: np.ndarray
    x_scale: np.ndarray | None = None


@dataclass
class GroupResult:
    """Per-member outcome: final stacked state, per-epoch logs, the epoch a member diverged at."""

    state: tuple
    history: list[dict[str, list[float]]]
    diverged_at: list[int | None] = field(default_factory=list)


def _pad_to(value: Any, shape: tuple) -> np.ndarray:
    """``value`` in the leading corner of zeros of ``shape`` (a narrower member in a wider template)."""
    value = np.asarray(value)
    if value.shape == shape:
        return value
    out = np.zeros(shape, dtype=value.dtype)
    out[tuple(slice(0, n) for n in value.shape)] = value
    return out


def _stack(per_member: Sequence[Sequence[Any]]) -> list:
    # Stacked in NumPy and moved once: eager jnp.stack would compile a small program per shape.
    # Every member is zero-padded to the first member's shapes (the widest, see grouping).
    return [jnp.asarray(np.stack([_pad_to(m[i], np.shape(per_member[0][i])) for m in per_member]))
            for i in range(len(per_member[0]))]


def stacked_state(models: Sequence[Any]) -> tuple:
    """(trainable, non_trainable, optimizer, metrics) values of each model, stacked on axis 0."""
    def values(vs):
        return [v.value for v in vs]

    return (
        _stack([values(m.trainable_variables) for m in models]),
        _stack([values(m.non_trainable_variables) for m in models]),
        _stack([values(m.optimizer.variables) for m in models]),
        _stack([values(m.metrics_variables) for m in models]),
    )


def _select(active, new, old):
    return jax.tree_util.tree_map(lambda n, o: jnp.where(active, n, o), new, old)


def _make_step(template: Any, weighted: bool, scaled: bool):
    """The vmapped, masked train step of one batch position for all members."""

    def one(state, x_all, y_all, w_all, idx, active, offset, scale):
        x = x_all[idx + offset]
        if scaled:  # a product alone rounds as NumPy's does (no fused multiply-add to differ)
            x = x * scale
        data = (x, y_all[idx]) + ((w_all[idx],) if weighted else ())
        _, new_state = template.train_step(state, data)
        return _select(active, new_state, state)

    in_axes = (0, None, 0, 0 if weighted else None, 0, 0, 0, 0 if scaled else None)
    return jax.vmap(one, in_axes=in_axes)


def _make_functions(template: Any, weighted: bool, scaled: bool):
    step = _make_step(template, weighted, scaled)

    # ``alive``: members whose loss has stayed finite. A member that diverged stops updating
    # (it is inactive on every later step), decided on the device, so no epoch waits for the host.
    def full_batches(state, x_all, y_all, w_all, idx, active, offsets, scales, alive):
        def body(carry, inputs):
            i, a = inputs
            return step(carry, x_all, y_all, w_all, i, a & alive, offsets, scales), None

        state, _ = jax.lax.scan(body, state, (idx, active))
        return state

    def partial_batch(state, x_all, y_all, w_all, idx, active, offsets, scales, alive):
        return step(state, x_all, y_all, w_all, idx, active & alive, offsets, scales)

    def metrics(metrics_variables):
        mapping = list(zip(template.metrics_variables, metrics_variables))
        with _keras_backend.StatelessScope(state_mapping=mapping):
            return {k: jnp.asarray(v) for k, v in template.get_metrics_result().items()}

    def epoch_end(metrics_variables, alive):
        logs = jax.vmap(metrics)(metrics_variables)
        if "loss" in logs:
            alive = alive & jnp.isfinite(logs["loss"])
        return logs, alive

    return (jax.jit(full_batches, donate_argnums=0), jax.jit(partial_batch, donate_argnums=0),
            jax.jit(epoch_end))


def _epoch_plan(orders: list[np.ndarray], batch_size: int):
    """Full-batch index/active arrays (steps, K, batch) and the partial batches by size."""
    k = len(orders)
    full = [len(o) // batch_size for o in orders]
    steps = max(full) if full else 0
    idx = np.zeros((steps, k, batch_size), dtype=np.int32)
    act = np.zeros((steps, k), dtype=bool)
    for m, order in enumerate(orders):
        n = full[m] * batch_size
        idx[: full[m], m] = np.asarray(order[:n], dtype=np.int32).reshape(full[m], batch_size)
        act[: full[m], m] = True
    partial: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for m, order in enumerate(orders):
        rest = len(order) - full[m] * batch_size
        if rest == 0:
            continue
        if rest not in partial:
            partial[rest] = (np.zeros((k, rest), dtype=np.int32), np.zeros(k, dtype=bool))
        partial[rest][0][m] = order[full[m] * batch_size:]
        partial[rest][1][m] = True
    return idx, act, partial


def _histories(logs: list[dict[str, np.ndarray]], k: int) -> tuple[list[dict[str, list[float]]], list]:
    """Per-member histories, each up to and including the epoch its loss became non-finite
    (model.fit's guard stops there; the program froze the member from the next step on)."""
    history: list[dict[str, list[float]]] = [{} for _ in range(k)]
    diverged: list[int | None] = [None] * k
    for m in range(k):
        for epoch, values in enumerate(logs):
            for name, per_member in values.items():
                history[m].setdefault(name, []).append(float(per_member[m]))
            if "loss" in values and not np.isfinite(values["loss"][m]):
                diverged[m] = epoch
                break
    return history, diverged


def train_group(models: Sequence[Any], data: GroupData, *, epochs: int, batch_size: int) -> GroupResult:
    """Train ``models`` (same architecture, built and compiled, optimizer built) together.

    Every epoch is dispatched at once: which members are still alive (finite loss) is
    decided on the device, so no epoch waits for the host to read its metrics.

    Parameters
    ----------
    models : sequence of K keras.Model
        ``models[0]`` serves as the stateless template; the others only give their
        initial state. Their variables are not changed here (see ``adopt``).
    data : GroupData
    epochs : int
    batch_size : int

    Returns
    -------
    GroupResult
        Stacked final state (leading axis K), per-member history (``loss`` and the
        compiled metrics per epoch, as ``model.fit`` reports them) and, per member,
        the 0-based epoch its loss became NaN or infinite (it stopped there), else None.
    """
    template = models[0]
    k = len(models)
    weighted = data.sample_weight is not None
    scaled = data.x_scale is not None
    full_fn, partial_fn, epoch_end_fn = _make_functions(template, weighted, scaled)
    state = tuple(stacked_state(models))
    metrics_init = [np.asarray(v) for v in state[3]]
    x_all = jnp.asarray(data.x)
    y_all = jnp.asarray(data.y)
    w_all = jnp.asarray(data.sample_weight) if weighted else None
    offsets = jnp.asarray(data.x_offsets, dtype=jnp.int32)
    scales = jnp.asarray(data.x_scale) if scaled else None
    alive = jnp.ones(k, dtype=bool)
    logs: list[dict] = []
    for epoch in range(epochs):
        # model.fit resets its metric accumulators at every epoch's start.
        state = (state[0], state[1], state[2], [jnp.asarray(v) for v in metrics_init])
        idx, act, partial = _epoch_plan([data.orders[m][epoch] for m in range(k)], batch_size)
        if idx.shape[0]:
            state = full_fn(state, x_all, y_all, w_all, jnp.asarray(idx), jnp.asarray(act), offsets, scales,
                            alive)
        for size in sorted(partial):
            p_idx, p_act = partial[size]
            state = partial_fn(state, x_all, y_all, w_all, jnp.asarray(p_idx), jnp.asarray(p_act), offsets,
                               scales, alive)
        epoch_logs, alive = epoch_end_fn(state[3], alive)
        logs.append(epoch_logs)
    history, diverged = _histories([{name: np.asarray(v) for name, v in e.items()} for e in logs], k)
    # One transfer to host memory per stacked variable; members are sliced from NumPy arrays.
    state = tuple([np.asarray(v) for v in part] for part in state)
    return GroupResult(state=state, history=history, diverged_at=diverged)
