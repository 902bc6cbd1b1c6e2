"""Turn a spec's ``[data]`` table into arrays (or batch generators) ready for training.

The chapter's preprocessing, in one place: load, take a subset, scale ([0, 1] for
dense models, [-1, 1] for CNNs, MinMaxScaler for sequences), lay out (flat rows,
channels-last images, windows), and hold out validation data. Validation split is
done here rather than by Keras' ``validation_split`` so that it also works for
augmented and generated data; it takes the *last* fraction of the rows, exactly as
Keras does.

Examples
--------
>>> from keraslab.experiments.spec import spec_from_dict
>>> spec = spec_from_dict({"data": {"dataset": "digits", "validation_split": 0.25},
...                        "model": {"build": "keraslab.zoo.dense:make_model"}}, name="d")
>>> inputs = load_inputs(spec.data)
>>> inputs.x_train.shape[1], inputs.n_classes, inputs.x_val is not None
(64, 10, True)
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from keraslab.errors import KeraslabValueError
from keraslab.experiments.spec import DataSpec

__all__ = ["Inputs", "SequenceView", "load_inputs"]

_SOURCE_RANGE = {"mnist": (0.0, 255.0), "fashion_mnist": (0.0, 255.0), "digits": (0.0, 16.0), "shapes": (0.0, 1.0)}


@dataclass
class SequenceView:
    """What is needed to draw predictions of a sequence model against the truth."""

    truth: np.ndarray  # the test sequence in original units
    x: np.ndarray  # its windows, scaled, as the model takes them
    window: int
    inverse: Callable[[np.ndarray], np.ndarray]  # scaled model outputs -> original units


@dataclass
class Inputs:
    """Prepared data of one experiment.

    ``train_flow`` is set instead of ``x_train``/``y_train`` being the only source
    when batches are generated (augmentation, synthetic shapes): it is called with
    ``(batch_size, seed)`` and returns a ``keras.utils.PyDataset``.
    """

    task: str  # "classification" or "regression"
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    input_shape: tuple[int, ...]
    n_classes: int | None = None
    n_outputs: int | None = None
    fingerprint: str = ""
    train_flow: Callable[[int, int], Any] | None = None
    sequence: SequenceView | None = None
    preview: tuple[np.ndarray, list[str], str] | None = None
    notes: list[str] = field(default_factory=list)

    def trimmed_to(self, multiple: int) -> "Inputs":
        """The same data with train and validation lengths cut to a multiple of ``multiple``.

        Stateful models see a fixed batch size, so every array they get must divide evenly.
        """
        def cut(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[: len(a) - len(a) % multiple]

        if len(self.x_train) < multiple:
            raise KeraslabValueError(
                f"A stateful model needs at least batch_size={multiple} training samples. "
                f"Received: {len(self.x_train)} samples"
            )
        x_val, y_val = cut(self.x_val), cut(self.y_val)
        if x_val is not None and len(x_val) == 0:
            x_val = y_val = None
        return dataclasses.replace(self, x_train=cut(self.x_train), y_train=cut(self.y_train), x_val=x_val, y_val=y_val)


def _fingerprint(*arrays: np.ndarray | None) -> str:
    import joblib

    # joblib hashes dtype, shape and bytes; contiguous copies make it a hash of the content, not the layout.
    return joblib.hash([None if a is None else np.ascontiguousarray(a) for a in arrays])[:16]


def _split_last(x: np.ndarray, y: np.ndarray, fraction: float) -> tuple[np.ndarray, ...]:
    if not fraction:
        return x, y, None, None
    cut = int(len(x) * (1.0 - fraction))
    if cut < 1 or cut >= len(x):
        raise KeraslabValueError(
            f"validation_split={fraction} leaves no training or no validation rows of {len(x)}; "
            f"use a larger data.subset or another split. Received: validation_split={fraction}"
        )
    return x[:cut], y[:cut], x[cut:], y[cut:]


def _scale(x: np.ndarray, scaling: str, source: tuple[float, float], fitted_on: np.ndarray) -> np.ndarray:
    from keraslab.data.prepare import scale

    if scaling == "unit":
        return scale(x, (0.0, 1.0), source_range=source)
    if scaling == "symmetric":
        return scale(x, (-1.0, 1.0), source_range=source)
    if scaling == "minmax":
        low, high = float(fitted_on.min()), float(fitted_on.max())
        return scale(x, (0.0, 1.0), source_range=(low, high if high > low else low + 1.0))
    return np.asarray(x, dtype=np.float32)


def _layout(x: np.ndarray, layout: str) -> np.ndarray:
    from keraslab.data.prepare import to_flat, to_images

    return to_flat(x) if layout == "flat" else to_images(x)


def load_inputs(data: DataSpec) -> Inputs:
    """Load and prepare the data a spec asks for.

    Parameters
    ----------
    data : DataSpec
        The validated ``[data]`` table.

    Returns
    -------
    Inputs
    """
    if data.dataset in ("sines", "upsloping_sines"):
        return _sequence_inputs(data)
    if data.dataset == "shapes":
        return _shapes_inputs(data)
    return _image_inputs(data)


@functools.lru_cache(maxsize=2)
def _image_set(dataset: str) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    # Cached: sweeps over data settings and test suites load the same file again and again.
    # Callers only slice and scale, never write into these arrays.
    from keraslab.data.datasets import load_fashion_mnist, load_mnist

    return (load_mnist if dataset == "mnist" else load_fashion_mnist)()


def _image_inputs(data: DataSpec) -> Inputs:
    if data.dataset == "digits":
        from sklearn.model_selection import train_test_split

        from keraslab.data.datasets import load_digits

        X, y = load_digits()
        images = X.reshape(-1, 8, 8)
        x_tr, x_te, y_tr, y_te = train_test_split(
            images, y, test_size=data.options["test_size"], stratify=y, random_state=data.seed
        )
    else:
        (x_tr, y_tr), (x_te, y_te) = _image_set(data.dataset)
    n_classes = int(max(y_tr.max(), y_te.max())) + 1
    if data.subset:
        x_tr, y_tr = x_tr[: data.subset], y_tr[: data.subset]
    if data.test_subset:
        x_te, y_te = x_te[: data.test_subset], y_te[: data.test_subset]
    source = _SOURCE_RANGE[data.dataset]
    x_tr_s = _layout(_scale(x_tr, data.scaling, source, x_tr), data.layout)
    x_te_s = _layout(_scale(x_te, data.scaling, source, x_tr), data.layout)
    y_tr, y_te = y_tr.astype("int64"), y_te.astype("int64")
    x_train, y_train, x_val, y_val = _split_last(x_tr_s, y_tr, data.validation_split)
    if data.validation_data == "test":
        x_val, y_val = x_te_s, y_te
    inputs = Inputs(
        task="classification",
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        input_shape=tuple(x_train.shape[1:]),
        n_classes=n_classes,
        fingerprint=_fingerprint(x_train, y_train, x_val, y_val),
    )
    if data.augment:
        _add_augmentation(inputs, data)
    return inputs


def _add_augmentation(inputs: Inputs, data: DataSpec) -> None:
    from keraslab.data.augment import ImageAugmenter

    settings = {k: v for k, v in data.augment.items() if k != "seed"}
    augmenter = ImageAugmenter(**settings)
    seed = data.augment.get("seed", 0)
    x, y = inputs.x_train, inputs.y_train

    def flow(batch_size: int, run_seed: int) -> Any:
        return augmenter.flow(x, y, batch_size=batch_size, shuffle=True, seed=seed + run_seed)

    inputs.train_flow = flow
    # The chapter shows variants of one MNIST "2".
    sample = x[int(np.argmax(y == 2))] if (y == 2).any() else x[0]
    variants = [sample] + [augmenter.random_transform(sample, seed=seed + i) for i in range(1, 16)]
    labels = ["original"] + [f"variant {i}" for i in range(1, 16)]
    shown = ", ".join(f"{k}={v}" for k, v in settings.items())
    inputs.preview = (np.stack(variants), labels, f"augmented variants of one training image ({shown})")
    inputs.fingerprint = _fingerprint(x, y, inputs.x_val, inputs.y_val) + "+aug"


def _shapes_inputs(data: DataSpec) -> Inputs:
    from keraslab.data.shapes import SHAPES, ShapesDataset

    size = data.options["image_size"]
    n_train = data.subset or data.options["train_samples"]
    n_test = data.test_subset or data.options["test_samples"]

    def materialise(seed: int, n: int, batch: int = 128) -> tuple[np.ndarray, np.ndarray]:
        ds = ShapesDataset(batch_size=batch, batches_per_epoch=-(-n // batch), image_size=size, seed=seed)
        xs, ys = zip(*(ds[i] for i in range(len(ds))))
        return np.concatenate(xs)[:n].astype("float32"), np.concatenate(ys)[:n].astype("int64")

    x_test, y_test = materialise(data.seed + 1_000_003, n_test)
    names = [str(s) for s in SHAPES]

    def flow(batch_size: int, run_seed: int) -> Any:
        # Generated batch by batch (the chapter's Sequence subclass); integer labels.
        return ShapesDataset(batch_size=batch_size, batches_per_epoch=max(1, n_train // batch_size),
                             image_size=size, seed=data.seed + run_seed)

    x_first, y_first = materialise(data.seed, min(n_train, 256))
    x_val, y_val = (x_test, y_test) if data.validation_data == "test" else (None, None)
    if data.validation_split:
        _, _, x_val, y_val = _split_last(x_first, y_first, data.validation_split)
    inputs = Inputs(
        task="classification",
        x_train=x_first,
        y_train=y_first,
        x_val=x_val,
        y_val=y_val,
        input_shape=tuple(x_first.shape[1:]),
        n_classes=len(names),
        fingerprint=_fingerprint(x_first, y_first, x_val, y_val) + "+gen",
        train_flow=flow,
    )
    order = np.argsort(y_first[:20], kind="stable")
    inputs.preview = (x_first[:20][order], [names[i] for i in y_first[:20][order]], "synthetic shapes")
    return inputs


def _sequence_inputs(data: DataSpec) -> Inputs:
    from sklearn.preprocessing import MinMaxScaler

    from keraslab.data.sequences import sum_of_sines, sum_of_upsloping_sines, windows

    o = data.options
    make = sum_of_sines if data.dataset == "sines" else sum_of_upsloping_sines
    train = make(o["steps"], o["d_theta"], 0, o["freqs"], o["amps"], o["phases"])
    test = make(o["test_steps"] or o["steps"], o["d_theta"], o["test_skip"], o["freqs"], o["amps"], o["phases"])
    # Fitted on the training curve only, as the chapter does; test values may fall outside [0, 1].
    scaler = MinMaxScaler().fit(train.reshape(-1, 1))
    train_s = scaler.transform(train.reshape(-1, 1))[:, 0]
    test_s = scaler.transform(test.reshape(-1, 1))[:, 0]
    if data.window >= len(train) or data.window >= len(test):
        raise KeraslabValueError(
            f"data.window must be shorter than the sequences ({len(train)} and {len(test)} steps). "
            f"Received: window={data.window}"
        )

    def cut(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = windows(series, data.window)
        if data.targets == "sequence":  # each window's target is the window one step later
            return x[:-1].astype("float32"), x[1:].astype("float32")
        return x.astype("float32"), y.reshape(-1, 1).astype("float32")

    x_train, y_train = cut(train_s)
    x_test, y_test = cut(test_s)
    if data.subset:
        x_train, y_train = x_train[: data.subset], y_train[: data.subset]
    x_train, y_train, x_val, y_val = _split_last(x_train, y_train, data.validation_split)
    if data.validation_data == "test":
        x_val, y_val = x_test, y_test
    return Inputs(
        task="regression",
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        input_shape=tuple(x_train.shape[1:]),
        n_outputs=int(y_train.shape[-1]),
        fingerprint=_fingerprint(x_train, y_train, x_val, y_val),
        sequence=SequenceView(
            truth=test,
            x=x_test,
            window=data.window,
            inverse=lambda values: scaler.inverse_transform(np.asarray(values).reshape(-1, 1))[:, 0],
        ),
        notes=[f"{len(x_train)} training windows of {data.window} steps; test curve starts at step {o['test_skip']}"],
    )
