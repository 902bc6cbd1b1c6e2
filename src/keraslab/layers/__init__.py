"""Custom Keras layers: recurrent layers with working ``stateful=True``, fast pooling.

Examples
--------
>>> from keraslab.layers import LSTM, GRU, SimpleRNN, ReshapeMaxPooling2D
"""

from keraslab.layers.pooling import ReshapeMaxPooling2D
from keraslab.layers.recurrent import GRU, LSTM, SimpleRNN, reset_stateful_layers, stateful_layers

__all__ = ["LSTM", "GRU", "SimpleRNN", "ReshapeMaxPooling2D", "reset_stateful_layers", "stateful_layers"]
