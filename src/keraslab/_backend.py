"""Pick Keras' backend before Keras is imported: JAX, unless the user chose one.

Why JAX: it was the fastest backend measured on CPU for the chapter's models (see
``benchmarks/``). Why only "unless the user chose": a user who set ``KERAS_BACKEND``
or wrote ``"backend"`` in ``keras.json`` must get what they asked for.

One subtlety: Keras writes ``keras.json`` with ``"backend": "tensorflow"`` the first
time it is imported without a configuration. That file is not a user's choice when
TensorFlow is not even installed, so in that case we still pick JAX rather than let
``import keras`` fail.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

DEFAULT_BACKEND = "jax"


def _keras_config_backend() -> str | None:
    home = os.environ.get("KERAS_HOME") or str(Path.home() / ".keras")
    path = Path(home) / "keras.json"
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    backend = config.get("backend") if isinstance(config, dict) else None
    return backend if isinstance(backend, str) and backend else None


def choose_backend() -> str | None:
    """Set ``KERAS_BACKEND=jax`` when nobody chose a backend; return what was set.

    Returns ``None`` when nothing was changed (Keras already imported, or the user
    chose a backend).
    """
    if "keras" in sys.modules or os.environ.get("KERAS_BACKEND"):
        return None
    configured = _keras_config_backend()
    if configured is not None:
        untouched_default = configured == "tensorflow" and importlib.util.find_spec("tensorflow") is None
        if not untouched_default:
            return None
    os.environ["KERAS_BACKEND"] = DEFAULT_BACKEND
    return DEFAULT_BACKEND
