"""Model-making functions for every model of the chapter, on Keras 3.

One module per chapter section: :mod:`~keraslab.zoo.dense`, :mod:`~keraslab.zoo.cnn`,
:mod:`~keraslab.zoo.rnn`, :mod:`~keraslab.zoo.text`, :mod:`~keraslab.zoo.functional`.
Each function takes keyword parameters with the chapter's defaults, asks for
``input_shape`` / ``n_classes`` / ``n_outputs`` by name (so the scikit-learn
wrappers fill them from the data and every parameter is searchable) and returns a
compiled model.

Examples
--------
>>> from keraslab.zoo import make_model, striding_cnn
>>> make_model(number_of_layers=2, neurons_per_layer=32).count_params()
26506
"""

from keraslab.zoo.cnn import (
    bigger_cnn,
    pooling_cnn,
    shapes_cnn,
    simple_cnn,
    striding_batchnorm_cnn,
    striding_cnn,
    vgg_like,
)
from keraslab.zoo.dense import dense_classifier, make_model, one_hidden_layer, two_hidden_layers, two_layers_with_dropout
from keraslab.zoo.functional import (
    branching_model,
    feature_extractor,
    mnist_or_not,
    nested_model,
    pretrain_then_finetune,
    reuse_hidden_layers,
    set_trainable,
)
from keraslab.zoo.rnn import lstm_regressor, stateful_regressor, time_distributed_model
from keraslab.zoo.text import char_generator, word_generator

__all__ = [
    "dense_classifier", "one_hidden_layer", "two_hidden_layers", "two_layers_with_dropout", "make_model",
    "simple_cnn", "bigger_cnn", "pooling_cnn", "striding_cnn", "striding_batchnorm_cnn", "vgg_like", "shapes_cnn",
    "lstm_regressor", "stateful_regressor", "time_distributed_model",
    "char_generator", "word_generator",
    "mnist_or_not", "reuse_hidden_layers", "branching_model", "set_trainable", "feature_extractor",
    "nested_model", "pretrain_then_finetune",
]  # fmt: skip
