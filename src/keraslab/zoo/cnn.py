"""The chapter's convolutional networks (notebook 3) and the synthetic-shapes convnet.

All are channels-last with ``input_shape=(28, 28, 1)`` by default (the chapter's
listings say ``(1, h, w)``, which is channels-first and wrong for the default
channels-last Conv2D), take ``n_classes`` by name and return a model compiled
with categorical cross-entropy, Adam and accuracy.

=============================  ====================================  ==========
chapter model                  call                                  parameters
=============================  ====================================  ==========
simple CNN (Figs 27-28)        ``simple_cnn()``                      251,722
bigger CNN (Figs 29-30)        ``bigger_cnn()``                      64,890
pooling CNN (Figs 31-32)       ``pooling_cnn()``                     114,502
striding CNN (Figs 33-34)      ``striding_cnn()``                    114,502
striding + batchnorm (35-36)   ``striding_batchnorm_cnn()``          114,686
VGG-like, pooling (37-38)      ``vgg_like()``                        204,282
VGG-like, striding (39-40)     ``vgg_like(downsample="stride")``     204,282
shapes convnet (Fig 44)        ``shapes_cnn()``                      37,765
=============================  ====================================  ==========

MaxNorm on a convolution: ``MaxNorm(3)`` with its default ``axis=0`` bounds the
norm of each *kernel row* (a slice over one spatial row), not of each filter, so
the chapter's constraint is much weaker than it reads. Here convolutions use
``MaxNorm(3, axis=[0, 1, 2])``: the norm of each filter's whole kernel is at most 3.

``pool="reshape"`` swaps ``MaxPooling2D`` for :class:`keraslab.layers.ReshapeMaxPooling2D`
(same forward result, much faster gradient on the JAX CPU backend).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import layers

from keraslab.errors import KeraslabValueError
from keraslab.layers.pooling import ReshapeMaxPooling2D
from keraslab.zoo._common import (
    OptimizerLike,
    check_fraction,
    check_int_tuple,
    check_positive_int,
    check_shape,
    compile_model,
)

__all__ = [
    "filter_max_norm",
    "simple_cnn",
    "bigger_cnn",
    "pooling_cnn",
    "striding_cnn",
    "striding_batchnorm_cnn",
    "vgg_like",
    "shapes_cnn",
]

_LOSS = "categorical_crossentropy"
_METRICS = ("accuracy",)


def filter_max_norm(max_value: float = 3.0) -> keras.constraints.MaxNorm:
    """A MaxNorm that bounds the norm of each Conv2D filter (axes height, width, input channels).

    Examples
    --------
    >>> filter_max_norm(3).axis
    [0, 1, 2]
    """
    return keras.constraints.MaxNorm(max_value, axis=[0, 1, 2])


def _image_input(input_shape: Any) -> keras.KerasTensor:
    shape = check_shape("input_shape", input_shape, rank=3)
    if shape[0] in (1, 3) and shape[-1] not in (1, 3):
        raise KeraslabValueError(
            "input_shape must be channels-last (height, width, channels), e.g. (28, 28, 1); "
            f"this one looks channels-first. Received: input_shape={input_shape!r}"
        )
    return keras.Input(shape=shape)


def _pool(kind: str) -> layers.Layer:
    if kind == "max":
        return layers.MaxPooling2D(pool_size=2, padding="same")
    if kind == "reshape":
        return ReshapeMaxPooling2D(2, padding="same")
    raise KeraslabValueError(f'pool must be "max" or "reshape". Received: pool={kind!r}')


def _constraint(max_norm: float | None) -> keras.constraints.Constraint | None:
    return filter_max_norm(max_norm) if max_norm is not None else None


def _classify(inputs, x, n_classes: int, name: str, optimizer, learning_rate, dense_units=()) -> keras.Model:
    check_positive_int("n_classes", n_classes)
    x = layers.Flatten()(x)
    for width in dense_units:
        x = layers.Dense(width, activation="relu")(x)
    outputs = layers.Dense(n_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name=name)
    return compile_model(model, optimizer=optimizer, learning_rate=learning_rate, loss=_LOSS, metrics=_METRICS)


def simple_cnn(
    filters: int = 32,
    kernel_size: int = 5,
    *,
    input_shape: Sequence[int] = (28, 28, 1),
    n_classes: int = 10,
    optimizer: OptimizerLike = "adam",
    learning_rate: float | None = None,
) -> keras.Model:
    """Conv2D 32 5x5 same relu, Flatten, softmax (Figs 27-28).

    Examples
    --------
    >>> simple_cnn().count_params()
    251722
    """
    inputs = _image_input(input_shape)
    x = layers.Conv2D(check_positive_int("filters", filters), kernel_size, padding="same", activation="relu")(inputs)
    return _classify(inputs, x, n_classes, "simple_cnn", optimizer, learning_rate)


def bigger_cnn(
    filters: Sequence[int] = (16, 8, 8),
    kernel_sizes: Sequence[int] = (5, 3, 3),
    dropout_ratio: float = 0.2,
    max_norm: float | None = 3.0,
    *,
    input_shape: Sequence[int] = (28, 28, 1),
    n_classes: int = 10,
    optimizer: OptimizerLike = "adam",
    learning_rate: float | None = None,
) -> keras.Model:
    """Conv 16 5x5, Conv 8 3x3, Conv 8 3x3, each same/relu/MaxNorm(3) and Dropout 0.2 (Figs 29-30).

    Examples
    --------
    >>> bigger_cnn().count_params()
    64890
    """
    filters = check_int_tuple("filters", filters)
    kernel_sizes = check_int_tuple("kernel_sizes", kernel_sizes)
    if len(filters) != len(kernel_sizes):
        raise KeraslabValueError(
            "filters and kernel_sizes must have one entry per convolution. "
            f"Received: filters={filters!r}, kernel_sizes={kernel_sizes!r}"
        )
    dropout_ratio = check_fraction("dropout_ratio", dropout_ratio)
    inputs = _image_input(input_shape)
    x = inputs
    for count, size in zip(filters, kernel_sizes):
        x = layers.Conv2D(count, size, padding="same", activation="relu", kernel_constraint=_constraint(max_norm))(x)
        x = layers.Dropout(dropout_ratio)(x)
    return _classify(inputs, x, n_classes, "bigger_cnn", optimizer, learning_rate)


def _two_conv_cnn(
    name: str,
    downsample: str,
    filters: Sequence[int],
    dense_units: Sequence[int],
    dropout_ratio: float,
    max_norm: float | None,
    pool: str,
    input_shape,
    n_classes,
    optimizer,
    learning_rate,
) -> keras.Model:
    filters = check_int_tuple("filters", filters)
    if len(filters) != 2:
        raise KeraslabValueError(f"filters must name the two convolutions, e.g. (30, 16). Received: filters={filters!r}")
    dense_units = check_int_tuple("dense_units", dense_units, allow_empty=True)
    dropout_ratio = check_fraction("dropout_ratio", dropout_ratio)
    inputs = _image_input(input_shape)
    x = inputs
    strides = 2 if downsample in ("stride", "stride_batchnorm") else 1
    for count, size in zip(filters, (5, 3)):
        if downsample == "stride_batchnorm":
            # No activation in the convolution: BatchNormalization sits between
            # the linear convolution and its ReLU, as in Figs 35-36.
            x = layers.Conv2D(count, size, strides=strides, padding="same")(x)
            x = layers.BatchNormalization()(x)
            x = layers.Activation("relu")(x)
            continue
        x = layers.Conv2D(
            count, size, strides=strides, padding="same", activation="relu", kernel_constraint=_constraint(max_norm)
        )(x)
        if dropout_ratio:
            x = layers.Dropout(dropout_ratio)(x)
        if downsample == "pool":
            x = _pool(pool)(x)
    return _classify(inputs, x, n_classes, name, optimizer, learning_rate, dense_units)


def pooling_cnn(
    filters: Sequence[int] = (30, 16),
    dense_units: Sequence[int] = (128, 64),
    dropout_ratio: float = 0.2,
    max_norm: float | None = 3.0,
    pool: str = "max",
    *,
    input_shape: Sequence[int] = (28, 28, 1),
    n_classes: int = 10,
    optimizer: OptimizerLike = "adam",
    learning_rate: float | None = None,
) -> keras.Model:
    """Conv 30 5x5 + Dropout + MaxPool 2x2; Conv 16 3x3 + Dropout + MaxPool; Dense 128, 64; softmax.

    ``pool="reshape"`` uses :class:`~keraslab.layers.ReshapeMaxPooling2D` (same
    forward result; faster on JAX CPU).

    Examples
    --------
    >>> pooling_cnn().count_params()
    114502
    """
    return _two_conv_cnn(
        "pooling_cnn", "pool", filters, dense_units, dropout_ratio, max_norm, pool,
        input_shape, n_classes, optimizer, learning_rate,
    )  # fmt: skip


def striding_cnn(
    filters: Sequence[int] = (30, 16),
    dense_units: Sequence[int] = (128, 64),
    dropout_ratio: float = 0.2,
    max_norm: float | None = 3.0,
    *,
    input_shape: Sequence[int] = (28, 28, 1),
    n_classes: int = 10,
    optimizer: OptimizerLike = "adam",
    learning_rate: float | None = None,
) -> keras.Model:
    """The pooling CNN with its pools removed and both convolutions striding 2 (Figs 33-34).

    Same parameter count as :func:`pooling_cnn`, a quarter of the convolution work.

    Examples
    --------
    >>> striding_cnn().count_params()
    114502
    """
    return _two_conv_cnn(
        "striding_cnn", "stride", filters, dense_units, dropout_ratio, max_norm, "max",
        input_shape, n_classes, optimizer, learning_rate,
    )  # fmt: skip


def striding_batchnorm_cnn(
    filters: Sequence[int] = (30, 16),
    dense_units: Sequence[int] = (128, 64),
    *,
    input_shape: Sequence[int] = (28, 28, 1),
    n_classes: int = 10,
    optimizer: OptimizerLike = "adam",
    learning_rate: float | None = None,
) -> keras.Model:
    """Striding CNN with Conv (no activation) -> BatchNormalization -> ReLU, no dropout (Figs 35-36).

    Examples
    --------
    >>> striding_batchnorm_cnn().count_params()
    114686
    """
    return _two_conv_cnn(
        "striding_batchnorm_cnn", "stride_batchnorm", filters, dense_units, 0.0, None, "max",
        input_shape, n_classes, optimizer, learning_rate,
    )  # fmt: skip


def vgg_like(
    blocks: int = 3,
    convs_per_block: int = 2,
    filters: int | Sequence[int] = (16, 32, 64),
    dense_units: Sequence[int] = (128,),
    downsample: str = "pool",
    pool: str = "max",
    *,
    input_shape: Sequence[int] = (28, 28, 1),
    n_classes: int = 10,
    optimizer: OptimizerLike = "adam",
    learning_rate: float | None = None,
) -> keras.Model:
    """Repeated blocks of 3x3 convolutions, each block halving the image (Figs 37-40).

    Parameters
    ----------
    blocks : int
        Number of repeats (chapter: 3).
    convs_per_block : int
        3x3 same/relu convolutions per block.
    filters : int or sequence of int
        Filters of every convolution in each block: one int for all blocks, or one
        entry per block.
    dense_units : sequence of int
        Dense relu layers between the last block and the softmax.
    downsample : {"pool", "stride"}
        ``"pool"``: a 2x2 max-pool ends each block (Figs 37-38). ``"stride"``: the
        block's last convolution strides 2 instead, no pools (Figs 39-40).
    pool : {"max", "reshape"}
        Pooling implementation when ``downsample="pool"``.

    Examples
    --------
    >>> vgg_like().count_params()
    204282
    >>> vgg_like(downsample="stride").count_params()
    204282
    """
    check_positive_int("blocks", blocks)
    check_positive_int("convs_per_block", convs_per_block)
    per_block = check_int_tuple("filters", filters)
    if len(per_block) == 1:
        per_block = per_block * blocks
    if len(per_block) != blocks:
        raise KeraslabValueError(
            f"filters must be one int or one entry per block ({blocks}). Received: filters={filters!r}"
        )
    if downsample not in ("pool", "stride"):
        raise KeraslabValueError(f'downsample must be "pool" or "stride". Received: downsample={downsample!r}')
    dense_units = check_int_tuple("dense_units", dense_units, allow_empty=True)
    inputs = _image_input(input_shape)
    x = inputs
    for count in per_block:
        for index in range(convs_per_block):
            last = index == convs_per_block - 1
            strides = 2 if (downsample == "stride" and last) else 1
            x = layers.Conv2D(count, 3, strides=strides, padding="same", activation="relu")(x)
        if downsample == "pool":
            x = _pool(pool)(x)
    return _classify(inputs, x, n_classes, f"vgg_like_{downsample}", optimizer, learning_rate, dense_units)


def shapes_cnn(
    filters: Sequence[int] = (16, 16, 16),
    dense_units: Sequence[int] = (32,),
    *,
    input_shape: Sequence[int] = (64, 64, 1),
    n_classes: int = 5,
    optimizer: OptimizerLike = "adam",
    learning_rate: float | None = None,
) -> keras.Model:
    """A tiny striding convnet for the 64x64 synthetic shapes (five classes, Fig 44).

    Each 3x3 convolution strides 2 (64 -> 32 -> 16 -> 8), then Dense 32 and softmax.

    Examples
    --------
    >>> shapes_cnn().count_params()
    37765
    """
    filters = check_int_tuple("filters", filters)
    dense_units = check_int_tuple("dense_units", dense_units, allow_empty=True)
    inputs = _image_input(input_shape)
    x = inputs
    for count in filters:
        x = layers.Conv2D(count, 3, strides=2, padding="same", activation="relu")(x)
    return _classify(inputs, x, n_classes, "shapes_cnn", optimizer, learning_rate, dense_units)
