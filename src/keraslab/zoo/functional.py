"""The chapter's Functional API examples as tested building blocks.

* :func:`mnist_or_not` — Input 784 -> Dense 1000 -> Dense 500 -> Dense 1 sigmoid.
* :func:`reuse_hidden_layers` — a second model calling the first one's hidden
  layers: the weights are shared, training either model trains both.
* :func:`branching_model` — two convolution branches from one layer, merged by
  ``Add`` (Listing B3-83 / Figure B3-99, repaired so that it runs; see its doc).
* :func:`set_trainable` — freeze / unfreeze layers *and* recompile every model
  that uses them (Keras 3 needs the recompile; see its doc).
* :func:`feature_extractor`, :func:`nested_model` — a model used as a layer.
* :func:`pretrain_then_finetune` — the chapter's pre-training idea, end to end.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import keras
import numpy as np
from keras import layers

from keraslab.errors import KeraslabTypeError, KeraslabValueError
from keraslab.zoo._common import (
    OptimizerLike,
    check_int_tuple,
    check_positive_int,
    check_shape,
    compile_model,
)

__all__ = [
    "mnist_or_not",
    "reuse_hidden_layers",
    "branching_model",
    "set_trainable",
    "feature_extractor",
    "nested_model",
    "PretrainResult",
    "pretrain_then_finetune",
]


def mnist_or_not(
    hidden_units: int | Sequence[int] = (1000, 500),
    *,
    input_shape: Sequence[int] = (784,),
    optimizer: OptimizerLike = "adam",
    learning_rate: float | None = None,
) -> keras.Model:
    """"Is this an MNIST digit?": Input 784 -> Dense 1000 relu -> Dense 500 relu -> Dense 1 sigmoid.

    Binary cross-entropy, Adam, accuracy. Hidden layers are named ``hidden_1``,
    ``hidden_2``, ... so other models can pick them up.

    Examples
    --------
    >>> mnist_or_not().count_params()
    1286001
    """
    inputs = keras.Input(shape=check_shape("input_shape", input_shape), name="pixels")
    x = inputs
    for index, width in enumerate(check_int_tuple("hidden_units", hidden_units), start=1):
        x = layers.Dense(width, activation="relu", name=f"hidden_{index}")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="is_digit")(x)
    model = keras.Model(inputs, outputs, name="mnist_or_not")
    return compile_model(
        model, optimizer=optimizer, learning_rate=learning_rate, loss="binary_crossentropy", metrics=("accuracy",)
    )


def reuse_hidden_layers(
    model: keras.Model,
    n_classes: int = 10,
    *,
    optimizer: OptimizerLike = "adam",
    learning_rate: float | None = None,
) -> keras.Model:
    """A new classifier that calls ``model``'s hidden layers (every layer but its input and output).

    The layers are the same objects, so their weights are shared: fitting the
    returned model changes ``model``'s predictions too, and vice versa.

    Examples
    --------
    >>> first = mnist_or_not()
    >>> second = reuse_hidden_layers(first)
    >>> second.get_layer("hidden_1") is first.get_layer("hidden_1")
    True
    """
    check_positive_int("n_classes", n_classes)
    hidden = [layer for layer in model.layers[:-1] if not isinstance(layer, keras.layers.InputLayer)]
    if not hidden:
        raise KeraslabValueError(
            f"model must have at least one hidden layer between its input and output. Received: model={model.name!r}"
        )
    inputs = keras.Input(shape=model.input_shape[1:])
    x = inputs
    for layer in hidden:
        x = layer(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="digit")(x)
    second = keras.Model(inputs, outputs, name=f"{model.name}_reused")
    return compile_model(
        second,
        optimizer=optimizer,
        learning_rate=learning_rate,
        loss="categorical_crossentropy",
        metrics=("accuracy",),
    )


def branching_model(
    filters: int = 16,
    kernel_sizes: Sequence[int] = (3, 5),
    *,
    input_shape: Sequence[int] = (784,),
    image_shape: Sequence[int] = (28, 28, 1),
    n_classes: int = 10,
    optimizer: OptimizerLike = "adam",
    learning_rate: float | None = None,
) -> keras.Model:
    """Two convolution branches from one layer, merged by ``Add`` (Listing B3-83, Figure B3-99).

    Input -> Dense (one unit per pixel) -> Reshape to an image -> two Conv2D
    branches (``kernel_sizes``, ``filters`` each, ``padding="same"``) -> Add ->
    Flatten -> softmax.

    What was repaired in the chapter's listing: it mixes the names ``c2_`` and
    ``C2_`` for the same tensor (a NameError), and feeds the 2-D output of a Dense
    layer straight into Conv2D, which needs (height, width, channels): a
    ``Reshape(image_shape)`` now sits between them. Both branches use
    ``padding="same"`` and the same number of filters, so their outputs have the
    same shape, which ``Add`` requires.

    Examples
    --------
    >>> model = branching_model()
    >>> model.count_params()
    741466
    >>> sorted(type(layer).__name__ for layer in model.layers)[:3]
    ['Add', 'Conv2D', 'Conv2D']
    """
    check_positive_int("filters", filters)
    kernel_sizes = check_int_tuple("kernel_sizes", kernel_sizes)
    if len(kernel_sizes) != 2:
        raise KeraslabValueError(f"kernel_sizes must name the two branches. Received: kernel_sizes={kernel_sizes!r}")
    image_shape = check_shape("image_shape", image_shape, rank=3)
    check_positive_int("n_classes", n_classes)
    inputs = keras.Input(shape=check_shape("input_shape", input_shape))
    x = layers.Flatten()(inputs) if len(inputs.shape) > 2 else inputs
    x = layers.Dense(math.prod(image_shape), activation="relu", name="d1")(x)
    image = layers.Reshape(image_shape, name="to_image")(x)
    branch_a = layers.Conv2D(filters, kernel_sizes[0], padding="same", activation="relu", name="c2_a")(image)
    branch_b = layers.Conv2D(filters, kernel_sizes[1], padding="same", activation="relu", name="c2_b")(image)
    merged = layers.Add(name="merge")([branch_a, branch_b])
    outputs = layers.Dense(n_classes, activation="softmax", name="digit")(layers.Flatten()(merged))
    model = keras.Model(inputs, outputs, name="branching_model")
    return compile_model(
        model, optimizer=optimizer, learning_rate=learning_rate, loss="categorical_crossentropy", metrics=("accuracy",)
    )


def set_trainable(
    layers_to_change: keras.Layer | Iterable[keras.Layer],
    trainable: bool,
    models: Iterable[keras.Model] = (),
) -> None:
    """Freeze (``trainable=False``) or unfreeze layers, then recompile every given model.

    Why the recompile: a Keras 3 optimizer is built for one fixed list of
    trainable variables. On the JAX backend (Keras 3.15), changing ``trainable``
    and fitting without recompiling raises "Argument `optimizer_variables` must be
    a list of tensors corresponding 1:1 to the trainable variables" — and the
    failed ``fit`` has already detached the model's variables, so even
    ``predict`` fails afterwards. (On PyTorch it happens to work; in Keras 2 the
    change silently took effect only at the next compile.) Recompiling every
    model that uses the layers is right on every backend.

    Each compiled model in ``models`` is recompiled with its own compile settings
    (loss, metrics, optimizer class and hyper-parameters such as the learning
    rate); the optimizer's accumulated state (moments, iteration count) restarts.

    Parameters
    ----------
    layers_to_change : Layer or iterable of Layer
        Layers (or whole models, which are layers too) to change.
    trainable : bool
    models : iterable of Model
        Every compiled model that contains those layers and will be fitted.

    Examples
    --------
    >>> first = mnist_or_not()
    >>> second = reuse_hidden_layers(first)
    >>> set_trainable([first.get_layer("hidden_1")], False, models=[first, second])
    >>> len(second.trainable_weights)   # hidden_2 and the new head only
    4
    """
    if not isinstance(trainable, bool):
        raise KeraslabTypeError(f"trainable must be True or False. Received: trainable={trainable!r}")
    if isinstance(layers_to_change, keras.Layer):
        layers_to_change = [layers_to_change]
    for layer in layers_to_change:
        if not isinstance(layer, keras.Layer):
            raise KeraslabTypeError(f"set_trainable changes Keras layers only. Received: {layer!r}")
        layer.trainable = trainable
    for model in models:
        if getattr(model, "compiled", False):
            # Deserialising the compile config gives a fresh optimizer with the
            # same class and hyper-parameters, built for the new variable list.
            model.compile_from_config(model.get_compile_config())


def feature_extractor(
    hidden_units: int | Sequence[int] = (256, 128),
    *,
    input_shape: Sequence[int] = (784,),
    name: str = "features",
) -> keras.Model:
    """An uncompiled stack of Dense relu layers, meant to be used as a layer of other models.

    Examples
    --------
    >>> feature_extractor().output_shape
    (None, 128)
    """
    inputs = keras.Input(shape=check_shape("input_shape", input_shape))
    x = inputs
    for width in check_int_tuple("hidden_units", hidden_units):
        x = layers.Dense(width, activation="relu")(x)
    return keras.Model(inputs, x, name=name)


def nested_model(
    inner: keras.Model | None = None,
    n_classes: int = 10,
    *,
    input_shape: Sequence[int] = (784,),
    optimizer: OptimizerLike = "adam",
    learning_rate: float | None = None,
) -> keras.Model:
    """A classifier whose first layer is a whole model (``inner``, default :func:`feature_extractor`).

    Examples
    --------
    >>> model = nested_model()
    >>> type(model.layers[1]).__name__, model.count_params()
    ('Functional', 235146)
    """
    check_positive_int("n_classes", n_classes)
    if inner is None:
        inner = feature_extractor(input_shape=input_shape)
    inputs = keras.Input(shape=inner.input_shape[1:])
    outputs = layers.Dense(n_classes, activation="softmax", name="digit")(inner(inputs))
    model = keras.Model(inputs, outputs, name=f"{inner.name}_classifier")
    return compile_model(
        model, optimizer=optimizer, learning_rate=learning_rate, loss="categorical_crossentropy", metrics=("accuracy",)
    )


@dataclass
class PretrainResult:
    """What :func:`pretrain_then_finetune` returns.

    Attributes
    ----------
    model : the final classifier (trunk + head), compiled, everything trainable.
    trunk : the pre-trained sub-network, a layer of ``model`` (shared weights).
    histories : ``{"pretrain": ..., "head": ..., "finetune": ...}``, each a Keras history dict.
    """

    model: keras.Model
    trunk: keras.Model
    histories: dict[str, dict[str, list[float]]] = field(default_factory=dict)


def _n_classes(name: str, y: np.ndarray) -> int:
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or y.size == 0 or y.min() < 0:
        raise KeraslabValueError(
            f"{name} must be a non-empty 1-D array of integer labels 0..k-1. "
            f"Received: {name} with shape {y.shape} and dtype {y.dtype}"
        )
    return int(y.max()) + 1


def _classifier(trunk: keras.Model, n_classes: int, learning_rate: float, name: str) -> keras.Model:
    inputs = keras.Input(shape=trunk.input_shape[1:])
    outputs = layers.Dense(n_classes, activation="softmax", name=f"{name}_head")(trunk(inputs))
    model = keras.Model(inputs, outputs, name=name)
    return compile_model(
        model, optimizer="adam", learning_rate=learning_rate, loss="sparse_categorical_crossentropy",
        metrics=("accuracy",),
    )  # fmt: skip


def pretrain_then_finetune(
    x: np.ndarray,
    y: np.ndarray,
    *,
    x_pretrain: np.ndarray | None = None,
    y_pretrain: np.ndarray | None = None,
    hidden_units: int | Sequence[int] = (256, 128),
    pretrain_epochs: int = 1,
    head_epochs: int = 1,
    finetune_epochs: int = 1,
    batch_size: int = 256,
    learning_rate: float = 1e-3,
    finetune_learning_rate: float = 1e-4,
    verbose: int = 0,
) -> PretrainResult:
    """Pre-train a sub-network alone, then train the whole model: the chapter's pre-training idea.

    1. *pretrain*: the trunk (:func:`feature_extractor`) with a temporary head
       learns ``(x_pretrain, y_pretrain)`` — a related task, or the same one.
    2. *head*: a new head on the trunk learns ``(x, y)`` with the trunk frozen, so
       the random head cannot wreck the pre-trained features.
    3. *finetune*: everything unfrozen, trained at ``finetune_learning_rate``.

    Labels are integers ``0..k-1``; the losses are sparse categorical
    cross-entropy. Seed with ``keras.utils.set_random_seed`` for repeatable runs.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.random((64, 20), dtype="float32"), rng.integers(0, 3, 64)
    >>> result = pretrain_then_finetune(x, y, hidden_units=(8,), batch_size=32)
    >>> sorted(result.histories), result.model.output_shape
    (['finetune', 'head', 'pretrain'], (None, 3))
    """
    for name, value in (("pretrain_epochs", pretrain_epochs), ("head_epochs", head_epochs),
                        ("finetune_epochs", finetune_epochs), ("batch_size", batch_size)):  # fmt: skip
        check_positive_int(name, value)
    if (x_pretrain is None) != (y_pretrain is None):
        raise KeraslabValueError(
            "Give both x_pretrain and y_pretrain, or neither (then the pre-training uses x and y). "
            f"Received: x_pretrain is {'not ' if x_pretrain is not None else ''}None, "
            f"y_pretrain is {'not ' if y_pretrain is not None else ''}None"
        )
    if x_pretrain is None:
        x_pretrain, y_pretrain = x, y
    n_classes, n_pretrain_classes = _n_classes("y", y), _n_classes("y_pretrain", y_pretrain)
    fit = dict(batch_size=batch_size, verbose=verbose)

    trunk = feature_extractor(hidden_units, input_shape=np.shape(x)[1:], name="trunk")
    pretrain_model = _classifier(trunk, n_pretrain_classes, learning_rate, "pretrain")
    histories = {"pretrain": pretrain_model.fit(x_pretrain, y_pretrain, epochs=pretrain_epochs, **fit).history}

    model = _classifier(trunk, n_classes, learning_rate, "finetuned")
    set_trainable(trunk, False, models=[model])
    histories["head"] = model.fit(x, y, epochs=head_epochs, **fit).history

    set_trainable(trunk, True, models=[model])
    model.optimizer.learning_rate = finetune_learning_rate
    histories["finetune"] = model.fit(x, y, epochs=finetune_epochs, **fit).history
    return PretrainResult(model=model, trunk=trunk, histories=histories)
