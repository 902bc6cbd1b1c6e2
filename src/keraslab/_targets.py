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

from keraslab._compiling import BINARY, CATEGORICAL, SPARSE
from keraslab.errors import KeraslabValueError

#: How the user gave labels.
LABELS, ONE_HOT, MULTILABEL = "labels", "one-hot", "multilabel"


def target_format(y: np.ndarray) -> str:
    """``labels``, ``one-hot`` or ``multilabel``; raises for regression targets."""
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
