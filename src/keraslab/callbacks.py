"""Keras callbacks for the chapter's experiments.

* :class:`EpochTimer` — seconds per epoch into the history (``history["seconds"]``),
  for the chapter's timing figures.
* :class:`ResetStatesEachEpoch` — Keras 3 removed ``Model.reset_states``; this
  resets every stateful layer at the end of each epoch, so the chapter's "fit one
  epoch, reset, repeat" loop is one ``fit(..., shuffle=False)`` call.
* :class:`BestCheckpoints` — keep the best ``keep`` checkpoints by a monitored
  value, as the chapter recommends for noisy validation curves.
"""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path

import keras

from keraslab._checks import positive_int
from keraslab.errors import KeraslabValueError
from keraslab.layers.recurrent import _CarriedStateMixin, reset_stateful_layers, stateful_layers

__all__ = ["EpochTimer", "ResetStatesEachEpoch", "BestCheckpoints"]


class EpochTimer(keras.callbacks.Callback):
    """Record the wall-clock seconds of each epoch in the logs (and so in the history).

    The time runs from ``on_epoch_begin`` to ``on_epoch_end`` and includes the
    validation pass, as Keras' own per-epoch timing does. The first epoch also
    includes compilation; compare later epochs when timing models.

    Parameters
    ----------
    key : str
        Name of the entry added to the logs.

    Attributes
    ----------
    seconds : list of float
        Seconds of each epoch of the latest ``fit``.

    Examples
    --------
    >>> import numpy as np, keras
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> model.compile("adam", "mse")
    >>> history = model.fit(np.zeros((8, 3)), np.zeros(8), epochs=2, verbose=0, callbacks=[EpochTimer()])
    >>> len(history.history["seconds"])
    2
    """

    def __init__(self, key: str = "seconds") -> None:
        super().__init__()
        self.key = key
        self.seconds: list[float] = []
        self._start: float | None = None

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if self._start is None:
            return
        elapsed = time.perf_counter() - self._start
        self.seconds.append(elapsed)
        if logs is not None:
            # The History callback runs after user callbacks and reads this same
            # dict, so the entry lands in ``history.history[key]``.
            logs[self.key] = elapsed


class ResetStatesEachEpoch(keras.callbacks.Callback):
    """Reset the carried state of every stateful layer when each epoch ends.

    Within an epoch, batch ``k+1`` continues from the state batch ``k`` left;
    each epoch starts from zero. Use with ``shuffle=False`` and a sample count that
    is a multiple of the batch size, e.g.
    ``model.fit(x, y, batch_size=10, epochs=100, shuffle=False, callbacks=[ResetStatesEachEpoch()])``.

    Use :mod:`keraslab.layers` recurrent layers (as :func:`keraslab.zoo.rnn.stateful_regressor`
    does): a plain Keras 3 ``stateful=True`` layer is not stateful inside ``fit``
    on the JAX backend, and this callback warns when it sees one there.

    Parameters
    ----------
    reset_before_validation : bool
        Also reset when an evaluation begins (the validation pass of ``fit``
        included), so validation sequences start from zero state rather than from
        where the training data left off.

    Examples
    --------
    >>> import numpy as np, keras
    >>> from keraslab.zoo.rnn import stateful_regressor
    >>> model = stateful_regressor(batch_size=2, units=(4,))
    >>> _ = model.fit(np.ones((4, 3, 1)), np.ones((4, 1)), batch_size=2, shuffle=False, verbose=0,
    ...               callbacks=[ResetStatesEachEpoch()])
    >>> float(np.abs(keras.ops.convert_to_numpy(model.layers[1].states[0])).max())
    0.0
    """

    def __init__(self, reset_before_validation: bool = True) -> None:
        super().__init__()
        self.reset_before_validation = reset_before_validation

    def on_train_begin(self, logs=None):
        found = stateful_layers(self.model)
        if not found:
            warnings.warn(
                "ResetStatesEachEpoch found no stateful layer in the model; it will do nothing. "
                "Build recurrent layers with stateful=True (see keraslab.zoo.rnn.stateful_regressor).",
                stacklevel=2,
            )
        plain = [layer.name for layer in found if not isinstance(layer, _CarriedStateMixin)]
        if plain and keras.backend.backend() == "jax":
            warnings.warn(
                f"Layers {plain} are Keras stateful layers, whose state does not carry across batches "
                "inside fit/predict on the JAX backend (Keras 3 does not thread it through the "
                "compiled step). Use keraslab.layers.LSTM / GRU / SimpleRNN instead.",
                stacklevel=2,
            )

    def on_test_begin(self, logs=None):
        if self.reset_before_validation:
            reset_stateful_layers(self.model)

    def on_epoch_end(self, epoch, logs=None):
        reset_stateful_layers(self.model)


class BestCheckpoints(keras.callbacks.Callback):
    """Keep the ``keep`` best checkpoints of a training run, judged by ``monitor``.

    With noisy validation curves the last epoch is rarely the best and the single
    best one may be luck; keeping a few of the best lets you compare or average
    them. After each epoch whose value ranks among the best ``keep`` so far, the
    model (or only its weights) is saved to ``directory`` and the checkpoint that
    fell out of the top ``keep`` is deleted. Epoch numbers in file names are
    1-based and keep counting across several ``fit`` calls.

    Parameters
    ----------
    directory : str or Path
        Created if missing.
    monitor : str
        A key of the epoch logs, e.g. ``"val_loss"`` or ``"val_accuracy"``.
    mode : {"auto", "min", "max"}
        ``"auto"`` maximises names containing "acc" or "auc", minimises others.
    keep : int
        How many checkpoints to keep.
    save_weights_only : bool
        Save ``.weights.h5`` files instead of whole ``.keras`` models.

    Attributes
    ----------
    best_ : list of (value, epoch, Path)
        The kept checkpoints, best first.

    Examples
    --------
    >>> import numpy as np, keras, tempfile
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> keeper = BestCheckpoints(tempfile.mkdtemp(), monitor="loss", keep=2)
    >>> _ = model.fit(np.ones((8, 3)), np.ones(8), epochs=4, verbose=0, callbacks=[keeper])
    >>> [epoch for _, epoch, _ in keeper.best_]
    [4, 3]
    """

    def __init__(
        self,
        directory: str | Path,
        monitor: str = "val_loss",
        mode: str = "auto",
        keep: int = 3,
        save_weights_only: bool = False,
    ) -> None:
        super().__init__()
        positive_int("keep", keep)
        if mode not in ("auto", "min", "max"):
            raise KeraslabValueError(f'mode must be "auto", "min" or "max". Received: mode={mode!r}')
        self.directory = Path(directory)
        self.monitor = monitor
        self.mode = mode
        self.keep = keep
        self.save_weights_only = save_weights_only
        self.best_: list[tuple[float, int, Path]] = []
        self._epochs_seen = 0
        self._warned_missing = False

    @property
    def maximize(self) -> bool:
        if self.mode == "auto":
            return any(word in self.monitor for word in ("acc", "auc"))
        return self.mode == "max"

    @property
    def best_path(self) -> Path | None:
        """Path of the best checkpoint so far (``None`` before the first)."""
        return self.best_[0][2] if self.best_ else None

    def _better(self, a: float, b: float) -> bool:
        return a > b if self.maximize else a < b

    def on_train_begin(self, logs=None):
        self.directory.mkdir(parents=True, exist_ok=True)

    def on_epoch_end(self, epoch, logs=None):
        self._epochs_seen += 1
        value = (logs or {}).get(self.monitor)
        if value is None:
            if not self._warned_missing:
                warnings.warn(
                    f"BestCheckpoints monitors {self.monitor!r}, which is not in the epoch logs "
                    f"(available: {sorted(logs or {})}); nothing is saved. Did you forget validation data?",
                    stacklevel=2,
                )
                self._warned_missing = True
            return
        value = float(value)
        if math.isnan(value):
            return
        if len(self.best_) >= self.keep and not self._better(value, self.best_[-1][0]):
            return
        number = self._epochs_seen
        suffix = ".weights.h5" if self.save_weights_only else ".keras"
        path = self.directory / f"epoch{number:04d}-{self.monitor}{value:.4f}{suffix}"
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)
        self.best_.append((value, number, path))
        # Stable sort: among equal values the earlier epoch stays ahead.
        self.best_.sort(key=lambda item: -item[0] if self.maximize else item[0])
        for _, _, dropped in self.best_[self.keep :]:
            dropped.unlink(missing_ok=True)
        del self.best_[self.keep :]
