"""Max pooling by reshape and element-wise maximum, for non-overlapping pools (stride == pool size).

Why: on the JAX CPU backend, ``keras.layers.MaxPooling2D`` lowers to
``reduce_window`` whose gradient (``select_and_scatter``) is slow; the chapter's
pooling CNN runs much slower per epoch than its striding twin partly for that
reason (see ``benchmarks/bench_cnn.py``). When the pool does not overlap, max
pooling is a reshape to ``(batch, H/p, p, W/p, p, C)`` followed by the element-wise
maximum of the ``p * p`` window slices. Element-wise ``maximum`` is used instead of
a ``max`` reduction over the window axes because its gradient is a plain select
that fuses well: for a (256, 28, 28, 30) batch with 2x2 pools on JAX CPU the
forward+backward pass measured 118 ms with ``reduce_window``, 43 ms with a
reshape and ``max`` reduction, and 10 ms with the slices and ``maximum``.

The forward result equals ``MaxPooling2D(pool_size=p, strides=p, padding=...)``
(``"same"`` pads with ``-inf`` exactly where Keras pads). The gradient is a valid
subgradient of the same function; when several inputs of a window tie for the
maximum (e.g. all-zero windows after a ReLU), it may be shared among them
instead of given to one, so training curves can differ slightly from
``MaxPooling2D``'s.
"""

from __future__ import annotations

import keras
from keras import ops

from keraslab._checks import positive_int
from keraslab.errors import KeraslabValueError

__all__ = ["ReshapeMaxPooling2D"]


def _same_padding(size: int, pool: int) -> tuple[int, int]:
    out = -(-size // pool)
    total = max((out - 1) * pool + pool - size, 0)
    return total // 2, total - total // 2


@keras.saving.register_keras_serializable(package="keraslab")
class ReshapeMaxPooling2D(keras.layers.Layer):
    """2-D max pooling with stride equal to the pool size, by reshape and element-wise maximum.

    Parameters
    ----------
    pool_size : int
        Side of the square, non-overlapping pooling window (also the stride).
    padding : {"valid", "same"}
        As in :class:`keras.layers.MaxPooling2D`: ``"valid"`` drops the rows and
        columns that do not fill a window, ``"same"`` pads them with ``-inf``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(2 * 7 * 7 * 3, dtype="float32").reshape(2, 7, 7, 3)
    >>> ReshapeMaxPooling2D(2, padding="same")(x).shape
    (2, 4, 4, 3)
    """

    def __init__(self, pool_size: int = 2, padding: str = "valid", **kwargs):
        super().__init__(**kwargs)
        if isinstance(pool_size, (tuple, list)):
            if len(set(pool_size)) != 1:
                raise KeraslabValueError(
                    "ReshapeMaxPooling2D supports square pools only; use keras.layers.MaxPooling2D "
                    f"for other shapes. Received: pool_size={pool_size!r}"
                )
            pool_size = pool_size[0]
        pool_size = positive_int("pool_size", pool_size)
        if padding not in ("valid", "same"):
            raise KeraslabValueError(f'padding must be "valid" or "same". Received: padding={padding!r}')
        self.pool_size = pool_size
        self.padding = padding

    def _output_hw(self, height: int, width: int) -> tuple[int, int]:
        p = self.pool_size
        if self.padding == "same":
            return -(-height // p), -(-width // p)
        return height // p, width // p

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        out_h, out_w = self._output_hw(height, width)
        return (batch, out_h, out_w, channels)

    def call(self, inputs):
        _, height, width, channels = inputs.shape
        if height is None or width is None or channels is None:
            raise KeraslabValueError(
                "ReshapeMaxPooling2D needs static height, width and channels (channels-last). "
                f"Received: input shape={tuple(inputs.shape)}"
            )
        p = self.pool_size
        out_h, out_w = self._output_hw(height, width)
        if self.padding == "same":
            (top, bottom), (left, right) = _same_padding(height, p), _same_padding(width, p)
            if top or bottom or left or right:
                inputs = ops.pad(
                    inputs, [[0, 0], [top, bottom], [left, right], [0, 0]], constant_values=float("-inf")
                )
        else:
            inputs = inputs[:, : out_h * p, : out_w * p, :]
        windows = ops.reshape(inputs, (-1, out_h, p, out_w, p, channels))
        slices = [windows[:, :, i, :, j, :] for i in range(p) for j in range(p)]
        # Pairwise maxima as a balanced tree: log-depth, and every step fuses.
        while len(slices) > 1:
            paired = [ops.maximum(a, b) for a, b in zip(slices[0::2], slices[1::2])]
            slices = paired + slices[len(paired) * 2 :]
        return slices[0]

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "padding": self.padding})
        return config
