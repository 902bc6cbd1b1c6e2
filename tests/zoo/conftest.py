"""Fixtures for the zoo tests: tiny MNIST slices and a 'trains and moves its loss' check."""

from __future__ import annotations

import math

import numpy as np
import pytest


@pytest.fixture(scope="session")
def mnist_tiny(mnist_small):
    """128 flat MNIST rows in [0, 1] and their integer labels."""
    x, y = mnist_small
    return x[:128], y[:128]


@pytest.fixture(scope="session")
def mnist_tiny_images(mnist_tiny):
    """The same rows as (28, 28, 1) images scaled to [-1, 1], as the chapter's CNNs use them."""
    x, y = mnist_tiny
    return x.reshape(-1, 28, 28, 1) * 2.0 - 1.0, y


@pytest.fixture
def trains():
    """Fit two tiny epochs without shuffling; assert the loss is finite and went down."""

    def check(model, x, y, batch_size=32, epochs=2):
        losses = model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0).history["loss"]
        assert all(math.isfinite(loss) for loss in losses), losses
        assert losses[-1] < losses[0], f"loss did not move down: {losses}"
        return losses

    return check


def _sine_windows(n_samples: int = 96, window: int = 3):
    """Windows of a scaled sum of sines (set 0 of the chapter) and the next value."""
    t = np.arange(n_samples + window) * 0.057
    series = (np.sin(t) + 2 * np.sin(2 * t) + 3) / 6
    x = np.stack([series[i : i + window] for i in range(n_samples)])[..., None].astype("float32")
    return x, series[window : window + n_samples, None].astype("float32")


@pytest.fixture(scope="session")
def sine_windows():
    """``sine_windows(n_samples, window) -> (x (n, window, 1), y (n, 1))`` in [0, 1]."""
    return _sine_windows
