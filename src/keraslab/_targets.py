"""Classification targets: learn the classes, encode for the model's loss, decode predictions.

Users hand in integer, string or boolean labels, or one-hot / multilabel indicator
matrices. The model wants whatever its loss wants. :class:`ClassTargets` keeps the
two apart: ``classes_`` and the user's format on one side, the encoding chosen
from the compiled loss and output width on the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import column_or_1d

from keraslab._keras_compile import BINARY, CATEGORICAL, SPARSE
from keraslab.errors import KeraslabValueError

#: How the user gave labels.
LABELS, ONE_HOT, MULTILABEL = "labels", "one-hot", "multilabel"


def target_format(y: np.ndarray) -> str:
    """``labels``, ``one-hot`` or ``multilabel``; raises for regression targets."""
    if np.ndim(y) > 2:
        raise KeraslabValueError(
            "A classifier takes one label per sample (y of shape (n_samples,)) or one row of indicators "
            "(n_samples, n_classes); per-element labels such as segmentation masks are not supported: "
            "train the Keras model directly, or use KerasRegressor on the flattened targets. "
            f"Received: y of shape {np.shape(y)}"
        )
    kind = type_of_target(y)
    if kind in ("binary", "multiclass"):
        return LABELS
    if kind == "multilabel-indicator":
        return ONE_HOT if np.all(np.asarray(y).sum(axis=1) == 1) else MULTILABEL
    raise KeraslabValueError(
        f"Unknown label type: {kind}. A classifier needs class labels (integers, strings, "
        "booleans) or a one-hot / multilabel indicator matrix; for continuous targets use "
        f"KerasRegressor. Received: y of type '{kind}'"
    )


def check_targets(X, y) -> np.ndarray:
    """Checks every target kind shares: column vectors flattened (with scikit-learn's
    warning), one target per sample, no NaN or infinity."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = column_or_1d(y, warn=True)
    if y.shape[0] != np.shape(X)[0]:
        raise KeraslabValueError(
            f"X and y have different numbers of samples: X has {np.shape(X)[0]}, y has {y.shape[0]}."
        )
    if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
        raise KeraslabValueError("Input y contains NaN or infinity; remove or impute those samples.")
    return y


@dataclass
class ClassTargets:
    """The classes seen at fit and how they are encoded for one model."""

    classes: np.ndarray
    fmt: str
    encoding: str = SPARSE  # sparse | categorical | binary-column | multilabel
    from_logits: bool = False

    @classmethod
    def learn(cls, y: np.ndarray, classes: np.ndarray | None = None) -> "ClassTargets":
        fmt = target_format(y)
        if fmt == LABELS:
            found = np.unique(y)
            if classes is not None:
                classes = np.asarray(classes)
                unseen = np.setdiff1d(found, classes)
                if unseen.size:
                    raise KeraslabValueError(
                        f"y contains labels not listed in classes: {unseen.tolist()}. Pass every "
                        f"label in `classes=` on the first partial_fit. Received: classes={classes.tolist()}"
                    )
                found = np.unique(classes)
        else:
            found = np.arange(np.asarray(y).shape[1])
        if fmt == LABELS and found.size < 2:
            raise KeraslabValueError(
                "A classifier needs at least 2 classes in y; only one class is present. "
                f"Received: classes={found.tolist()}"
            )
        return cls(classes=found, fmt=fmt)

    @property
    def n_classes(self) -> int:
        return int(self.classes.size)

    def choose_encoding(self, kind: str, width: int, model_name: str, from_logits: bool) -> None:
        """Decide the encoding from the loss kind and output width; error on a mismatch."""
        k = self.n_classes
        self.from_logits = from_logits
        if self.fmt == MULTILABEL:
            if kind in (SPARSE, CATEGORICAL):
                raise KeraslabValueError(
                    f"Multilabel targets need one sigmoid unit per label and binary cross-entropy, but the "
                    f"model built by {model_name} is compiled with a {kind} loss. Compile it with "
                    f"loss='binary_crossentropy'. Received: loss kind '{kind}'"
                )
            if width != k:
                raise self._mismatch(model_name, width, f"{k} labels (multilabel targets)", k)
            self.encoding = "multilabel"
            return
        if width == 1 and k == 2 and kind in (BINARY, CATEGORICAL, "other"):
            self.encoding = "binary-column"
            return
        if width != k:
            raise self._mismatch(model_name, width, f"{k} classes {self.classes.tolist()[:10]}", k)
        self.encoding = "sparse" if kind == SPARSE else "categorical"

    @staticmethod
    def _mismatch(model_name: str, width: int, what: str, k: int) -> KeraslabValueError:
        return KeraslabValueError(
            f"The model built by {model_name} has {width} output unit(s) but the training targets "
            f"have {what}: expected an output of shape (None, {k})"
            f"{' or (None, 1) with a sigmoid' if k == 2 else ''}, received (None, {width}). "
            f"Make the output layer Dense({k}), or ask for `n_classes` in build_fn's signature "
            "and keraslab fills it from the data."
        )

    def indices(self, y: np.ndarray) -> np.ndarray:
        """Class indices (n,) for label targets; argmax for one-hot."""
        if self.fmt == LABELS:
            idx = np.searchsorted(self.classes, y)
            idx = np.clip(idx, 0, self.classes.size - 1)
            bad = self.classes[idx] != y
            if np.any(bad):
                raise KeraslabValueError(
                    f"y contains labels not seen when the model was first fitted: "
                    f"{np.unique(np.asarray(y)[bad]).tolist()[:10]}. Known classes: {self.classes.tolist()[:20]}"
                )
            return idx
        return np.asarray(y).argmax(axis=1)

    def class_weights(self, class_weight, y: np.ndarray) -> np.ndarray | None:
        """Per-sample weights (n,) from ``class_weight`` keyed by the user's labels, or ``None``.

        ``class_weight`` is ``None``, ``"balanced"`` or a dict from class label (for
        one-hot targets: column index) to a non-negative weight; classes left out weigh 1.

        Raises
        ------
        KeraslabValueError
            For keys that are not classes (named, as scikit-learn does), negative or
            non-finite weights, multilabel targets, or any other type (a list is refused:
            it would be ambiguous between class order and label values).
        """
        if class_weight is None:
            return None
        if self.fmt == MULTILABEL:
            raise KeraslabValueError("class_weight is not supported for multilabel targets. Received: "
                                     f"class_weight={class_weight!r}")
        idx = self.indices(y)
        classes = self.classes.tolist()
        example = {c: 1.0 for c in classes[:3]}
        if isinstance(class_weight, str) and class_weight == "balanced":
            from sklearn.utils.class_weight import compute_class_weight

            per_class = compute_class_weight("balanced", classes=np.arange(self.n_classes), y=idx)
            return per_class[idx]
        if not isinstance(class_weight, dict):
            raise KeraslabValueError(
                f"class_weight must be a dict keyed by class label, 'balanced' or None, e.g. "
                f"class_weight={example!r} for classes {classes[:20]}. "
                f"Received: class_weight={class_weight!r}"
            )
        position = {c: i for i, c in enumerate(classes)}
        per_class = np.ones(self.n_classes)
        unknown = []
        for key, weight in class_weight.items():
            key = key.item() if isinstance(key, np.generic) else key
            if key not in position:
                unknown.append(key)
                continue
            weight = float(weight)
            if not np.isfinite(weight) or weight < 0:
                raise KeraslabValueError(f"class weights must be finite and non-negative. "
                                         f"Received: class_weight[{key!r}]={weight}")
            per_class[position[key]] = weight
        if unknown:
            missing = [c for c in classes if not any(c == k for k in class_weight)]
            raise KeraslabValueError(
                f"class_weight has keys that are not classes: {unknown}. The classes are {classes[:20]}"
                f"{f'; the classes, {missing[:20]}, are not in class_weight' if missing else ''}. "
                f"Key class_weight by the labels as given in y, e.g. {example!r}. "
                f"Received: class_weight={class_weight!r}"
            )
        return per_class[idx]

    def encode(self, y: np.ndarray) -> np.ndarray:
        """Targets in the form the model's loss wants."""
        if self.encoding == "multilabel":
            return np.asarray(y, dtype="float32")
        idx = self.indices(y)
        if self.encoding == "binary-column":
            return idx.astype("float32").reshape(-1, 1)
        if self.encoding == "categorical":
            return np.eye(self.n_classes, dtype="float32")[idx]
        return idx.astype("int32")

    def probabilities(self, raw: np.ndarray) -> np.ndarray:
        """(n_samples, n_classes) probabilities from the model's raw output."""
        raw = np.asarray(raw, dtype="float64")
        if raw.ndim == 1:
            raw = raw.reshape(-1, 1)
        if self.encoding in ("binary-column", "multilabel"):
            p = 1.0 / (1.0 + np.exp(-raw)) if self.from_logits else np.clip(raw, 0.0, 1.0)
            if self.encoding == "multilabel":
                return p
            p = p[:, 0]
            return np.column_stack([1.0 - p, p])
        if self.from_logits:
            raw = np.exp(raw - raw.max(axis=1, keepdims=True))
        raw = np.clip(raw, 0.0, None)
        total = raw.sum(axis=1, keepdims=True)
        # A degenerate all-zero row would divide by zero: spread it evenly instead.
        total[total == 0] = 1.0
        return raw / total

    def decode(self, proba: np.ndarray) -> np.ndarray:
        """Predictions in the user's format, from probabilities."""
        if self.fmt == MULTILABEL:
            return (proba > 0.5).astype(int)
        idx = proba.argmax(axis=1)
        if self.fmt == ONE_HOT:
            return np.eye(self.n_classes, dtype=int)[idx]
        return self.classes[idx]


@dataclass
class RegressionTargets:
    """Regression targets of any shape, fitted to the model's output(s) and flattened back.

    The contract: ``fit`` accepts ``y`` of shape (n_samples,), (n_samples, n_outputs) or the
    model's own output shape (an autoencoder's (n, 8, 8, 1)); the targets are reshaped to
    what the model outputs (split column-wise across several outputs, in order), and
    predictions come back as (n_samples,) for a 1-D ``y``, else (n_samples, n_outputs), so
    that ``score`` and every scikit-learn scorer work.
    """

    ndim: int
    n_outputs: int
    out_shapes: tuple = ()

    @classmethod
    def learn(cls, y: np.ndarray) -> "RegressionTargets":
        return cls(ndim=y.ndim, n_outputs=1 if y.ndim == 1 else int(np.prod(y.shape[1:])))

    def fit_to(self, shapes: list[tuple[int, ...]], model_name: str) -> None:
        """Remember the model's output shapes; refuse when their sizes do not add up to ``n_outputs``."""
        sizes = [int(np.prod(s)) for s in shapes]
        if sum(sizes) != self.n_outputs:
            raise KeraslabValueError(
                f"The model built by {model_name} has {len(shapes)} output(s) of shape(s) {shapes}, "
                f"{sum(sizes)} value(s) per sample in all, but y has {self.n_outputs} value(s) per sample. "
                "Make the outputs match y (several outputs take y's columns in order), or ask for "
                f"`n_outputs` in build_fn's signature. Received: {self.n_outputs} target value(s) per sample"
            )
        self.out_shapes = tuple(shapes)

    def encode(self, y: np.ndarray):
        """``y`` reshaped to the model's output(s): one array, or a list for several outputs."""
        flat = np.asarray(y).reshape(len(y), -1)
        parts, start = [], 0
        for shape in self.out_shapes:
            size = int(np.prod(shape))
            parts.append(flat[:, start:start + size].reshape((len(y), *shape)))
            start += size
        return parts[0] if len(parts) == 1 else parts

    def decode(self, raw) -> np.ndarray:
        """Predictions (n_samples,) or (n_samples, n_outputs) in the model's dtype."""
        outs = list(raw.values()) if isinstance(raw, dict) else raw if isinstance(raw, (list, tuple)) else [raw]
        outs = [np.asarray(o) for o in outs]
        flat = np.concatenate([o.reshape(len(o), -1) for o in outs], axis=1)
        return flat[:, 0] if self.ndim == 1 and flat.shape[1] == 1 else flat

    def flat(self, y) -> np.ndarray:
        """User targets in the shape :meth:`decode` returns, for scoring."""
        y = np.asarray(y)
        return y.reshape(len(y), -1) if y.ndim > 2 else y
