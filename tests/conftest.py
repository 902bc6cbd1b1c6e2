"""Shared test fixtures: every test starts seeded, on small data, in a clean Keras session."""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import numpy as np
import pytest

# Test modules are imported with --import-mode=importlib (several folders hold a
# test_text.py); helpers shared by tests live here and are imported by name.
sys.path.insert(0, str(Path(__file__).parent))

if os.environ.get("KERASLAB_TEST_NO_CACHE") == "1":  # no cache at all, not even keraslab's default folder
    os.environ["KERASLAB_COMPILATION_CACHE"] = "0"

import keraslab  # noqa: F401  (chooses the backend before anything imports keras)
import keras

# Many tests fit models of the same architecture: let JAX reuse their compiled steps.
# A fresh folder per run keeps runs independent of each other.
if os.environ.get("KERASLAB_TEST_NO_CACHE") != "1":
    import atexit
    import shutil
    import tempfile

    _cache = tempfile.mkdtemp(prefix="keraslab-jax-cache-")
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)
    keraslab.enable_compilation_cache(_cache)


@pytest.fixture(autouse=True)
def _seed_everything():
    random.seed(0)
    np.random.seed(0)
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()


def data_dir() -> Path:
    """Where test data lives: ``$KERASLAB_DATA`` (CI sets ``../shared/data``)."""
    value = os.environ.get("KERASLAB_DATA")
    if not value:
        pytest.skip("KERASLAB_DATA is not set; set it to the folder holding mnist.npz and sherlock.txt")
    return Path(value)


@pytest.fixture(scope="session")
def mnist_arrays():
    """The full MNIST arrays (uint8), read once per session."""
    with np.load(data_dir() / "mnist.npz") as f:
        return {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test")}


@pytest.fixture(scope="session")
def mnist_small(mnist_arrays):
    """3,000 flat MNIST training rows scaled to [0, 1] and their integer labels."""
    x = mnist_arrays["x_train"][:3000].reshape(3000, -1).astype("float32") / 255.0
    y = mnist_arrays["y_train"][:3000].astype("int64")
    return x, y
