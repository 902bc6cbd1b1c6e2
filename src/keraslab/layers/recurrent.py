"""Recurrent layers whose ``stateful=True`` really carries state on every backend.

Why this module exists: in Keras 3 a stateful RNN keeps its carried state in
variables that it deliberately hides from the layer's variable tracking. On the
JAX backend, ``fit``, ``evaluate`` and ``predict`` run a compiled *stateless*
step that only threads the model's tracked variables through; the hidden state
variables are read as constants and their updates are dropped. The result: a
``stateful=True`` LSTM silently behaves as a stateless one inside ``fit`` and
``predict`` (measured on Keras 3.15.1 / JAX 0.10.2), and the chapter's stateful
training trains a stateless model without any error. On the PyTorch backend the
same layer is stateful in ``predict`` but ``fit`` fails with an autograd
"modified by an inplace operation" error, because the state variable the forward
pass read is overwritten in place before the backward pass.

The layers here differ from Keras' in two places only:

1. the carried state lives in tracked, non-trainable variables (created with
   ``add_weight``), exactly as BatchNormalization keeps its moving statistics, so
   every backend's compiled step threads them through and writes them back;
2. each batch starts from a detached copy of the carried state, so the backward
   pass of one batch never depends on a tensor the next assignment overwrites
   (truncated back-propagation at batch boundaries, as in Keras 2).

With ``stateful=False`` they are identical to the Keras layers. The carried state
is part of ``model.weights`` (and so of saved models and checkpoints), as the
moving statistics of BatchNormalization are.

Examples
--------
>>> import numpy as np, keras
>>> from keraslab.layers import LSTM
>>> inputs = keras.Input(batch_shape=(2, 3, 1))
>>> model = keras.Model(inputs, LSTM(4, stateful=True)(inputs))
>>> x = np.ones((2, 3, 1), "float32")
>>> first = model.predict(x, verbose=0)
>>> bool(np.allclose(first, model.predict(x, verbose=0)))   # the state moved on
False
>>> model.layers[1].reset_state()
>>> bool(np.allclose(first, model.predict(x, verbose=0)))   # back to the start
True
"""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["LSTM", "GRU", "SimpleRNN", "stateful_layers", "reset_stateful_layers"]


class _CarriedStateMixin:
    """Replace Keras' untracked state variables by tracked non-trainable ones."""

    def _create_state_variables(self, batch_size):
        initial = self.get_initial_state(batch_size)
        self.states = [
            self.add_weight(
                shape=tuple(int(d) for d in ops.shape(value)),
                initializer="zeros",
                trainable=False,
                dtype=self.variable_dtype,
                name=f"carried_state_{index}",
            )
            for index, value in enumerate(initial)
        ]

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if self.stateful and initial_state is None:
            # A detached copy: gradients stop at the batch boundary, and the
            # in-place update of the variable at the end of this call cannot
            # invalidate what the backward pass needs (PyTorch).
            initial_state = [ops.stop_gradient(ops.copy(state.value)) for state in self.states]
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)


@keras.saving.register_keras_serializable(package="keraslab")
class LSTM(_CarriedStateMixin, keras.layers.LSTM):
    """``keras.layers.LSTM`` whose ``stateful=True`` works inside ``fit`` and ``predict``.

    Takes exactly the arguments of :class:`keras.layers.LSTM`; see the module
    docstring for what differs and why.

    Examples
    --------
    >>> import keras
    >>> from keraslab.layers import LSTM
    >>> layer = LSTM(50, return_sequences=True, stateful=True)
    >>> outputs = layer(keras.Input(batch_shape=(10, 13, 1)))
    >>> [w.name for w in layer.non_trainable_weights if "carried" in w.name]
    ['carried_state_0', 'carried_state_1']
    """


@keras.saving.register_keras_serializable(package="keraslab")
class GRU(_CarriedStateMixin, keras.layers.GRU):
    """``keras.layers.GRU`` whose ``stateful=True`` works inside ``fit`` and ``predict``.

    Examples
    --------
    >>> import keras
    >>> from keraslab.layers import GRU
    >>> layer = GRU(8, stateful=True)
    >>> outputs = layer(keras.Input(batch_shape=(4, 5, 1)))
    >>> len([w for w in layer.non_trainable_weights if "carried" in w.name])
    1
    """


@keras.saving.register_keras_serializable(package="keraslab")
class SimpleRNN(_CarriedStateMixin, keras.layers.SimpleRNN):
    """``keras.layers.SimpleRNN`` whose ``stateful=True`` works inside ``fit`` and ``predict``.

    Examples
    --------
    >>> import keras
    >>> from keraslab.layers import SimpleRNN
    >>> outputs = SimpleRNN(3, stateful=True)(keras.Input(batch_shape=(2, 4, 1)))
    >>> tuple(outputs.shape)
    (2, 3)
    """


def stateful_layers(model: keras.Layer) -> list[keras.Layer]:
    """Every layer inside ``model`` (nested models included) with ``stateful=True``.

    Examples
    --------
    >>> import keras
    >>> from keraslab.layers import LSTM
    >>> inputs = keras.Input(batch_shape=(2, 3, 1))
    >>> model = keras.Model(inputs, LSTM(4, stateful=True)(inputs))
    >>> [type(layer).__name__ for layer in stateful_layers(model)]
    ['LSTM']
    """
    return [
        layer
        for layer in model._flatten_layers(include_self=True, recursive=True)
        if getattr(layer, "stateful", False) and hasattr(layer, "reset_state")
    ]


def reset_stateful_layers(model: keras.Layer) -> int:
    """Reset the carried state of every stateful layer in ``model``; return how many.

    Keras 3 removed ``Model.reset_states``; this is its replacement.

    Examples
    --------
    >>> import keras
    >>> from keraslab.layers import LSTM
    >>> inputs = keras.Input(batch_shape=(2, 3, 1))
    >>> reset_stateful_layers(keras.Model(inputs, LSTM(4, stateful=True)(inputs)))
    1
    """
    layers = stateful_layers(model)
    for layer in layers:
        layer.reset_state()
    return len(layers)
