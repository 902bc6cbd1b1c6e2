"""Sums of sine waves and sliding windows: the chapter's RNN data (notebooks 5-6).

The chapter builds its series with Python loops over steps and waves; the functions
here compute the same values with NumPy (bit for bit: the waves are summed in the
same order, starting from zero, with the same float64 operations).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from keraslab.errors import KeraslabTypeError, KeraslabValueError

__all__ = ["sum_of_sines", "sum_of_upsloping_sines", "windows"]


def _check_waves(freqs: Sequence[float], amps: Sequence[float], phases: Sequence[float]) -> None:
    lengths = (len(freqs), len(amps), len(phases))
    if len(set(lengths)) != 1:
        raise KeraslabValueError(
            "freqs, amps and phases must have one entry per wave (the same length). "
            f"Received: len(freqs)={lengths[0]}, len(amps)={lengths[1]}, len(phases)={lengths[2]}"
        )


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise KeraslabValueError(f"{name} must be a non-negative integer. Received: {name}={value!r}")
    return int(value)


def sum_of_sines(
    number_of_steps: int,
    d_theta: float,
    skip_steps: int,
    freqs: Sequence[float],
    amps: Sequence[float],
    phases: Sequence[float],
) -> np.ndarray:
    """Sample a sum of sine waves at ``number_of_steps`` evenly spaced angles.

    Step ``i`` is taken at angle ``d_theta * (i + skip_steps)`` and its value is
    ``sum_w amps[w] * sin(freqs[w] * (phases[w] + angle))``.

    Parameters
    ----------
    number_of_steps : int
        How many samples to produce.
    d_theta : float
        Angle between consecutive samples (radians).
    skip_steps : int
        Steps skipped before the first sample; the chapter uses 0 for training data
        and 400 for test data taken further along the same curve.
    freqs, amps, phases : sequence of float
        One frequency, amplitude and phase per wave.

    Returns
    -------
    numpy.ndarray
        Shape ``(number_of_steps,)``, float64.

    Examples
    --------
    >>> values = sum_of_sines(200, 0.057, 0, [1, 2], [1, 2], [0, 0])
    >>> values.shape
    (200,)
    """
    number_of_steps = _check_count("number_of_steps", number_of_steps)
    _check_waves(freqs, amps, phases)
    angles = d_theta * (np.arange(number_of_steps) + skip_steps)
    total = np.zeros(number_of_steps)
    # One pass per wave, accumulating in the chapter's order, keeps results bit-identical.
    for freq, amp, phase in zip(freqs, amps, phases):
        total += amp * np.sin(freq * (phase + angles))
    return total


def sum_of_upsloping_sines(
    number_of_steps: int,
    d_theta: float,
    skip_steps: int,
    freqs: Sequence[float],
    amps: Sequence[float],
    phases: Sequence[float],
) -> np.ndarray:
    """A sum of sines in which every sample on a downward stretch is negated.

    This is the chapter's definition: walking along :func:`sum_of_sines`, whenever a
    sample is lower than the one before it (the curve is heading down) that sample's
    sign is flipped, so every descending stretch of the wave turns into an ascending
    one (a decreasing positive value becomes an increasing negative one) and the
    curve jumps where the original changes direction. The comparison uses the
    unflipped values. Parameters are those of :func:`sum_of_sines`.

    Returns
    -------
    numpy.ndarray
        Shape ``(number_of_steps,)``, float64.

    Examples
    --------
    >>> values = sum_of_upsloping_sines(200, 0.057, 0, [1.1, 1.7, 3.1, 7], [1, 2, 2, 3], [0, 0, 0, 0])
    >>> values.shape
    (200,)
    """
    values = sum_of_sines(number_of_steps, d_theta, skip_steps, freqs, amps, phases)
    heading_down = np.diff(values) < 0
    values[1:][heading_down] *= -1
    return values


def windows(sequence: np.ndarray | Sequence[float], window_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut a series into overlapping windows, each paired with the value that follows it.

    Parameters
    ----------
    sequence : array-like
        Shape ``(length,)`` or ``(length, n_features)``.
    window_size : int
        Samples per window, from 1 to ``length - 1``.

    Returns
    -------
    samples : numpy.ndarray
        Shape ``(length - window_size, window_size, n_features)`` (``n_features`` is 1
        for a 1-D series), ready for an RNN's ``input_shape=(window_size, n_features)``.
    targets : numpy.ndarray
        The value after each window: shape ``(length - window_size,)`` for a 1-D series,
        ``(length - window_size, n_features)`` otherwise.

    Examples
    --------
    >>> samples, targets = windows(np.arange(6.0), 3)
    >>> samples[:, :, 0].tolist(), targets.tolist()
    ([[0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [2.0, 3.0, 4.0]], [3.0, 4.0, 5.0])
    """
    series = np.asarray(sequence)
    if series.ndim not in (1, 2):
        raise KeraslabValueError(
            "sequence must be 1-D (length,) or 2-D (length, n_features). "
            f"Received: sequence with shape {series.shape}"
        )
    if isinstance(window_size, bool) or not isinstance(window_size, numbers.Integral):
        raise KeraslabTypeError(f"window_size must be an integer. Received: window_size={window_size!r}")
    length = series.shape[0]
    if not 1 <= window_size < length:
        raise KeraslabValueError(
            f"window_size must be from 1 to len(sequence) - 1 = {length - 1} so that at least one "
            f"window has a next value to predict. Received: window_size={window_size}"
        )
    features = series.reshape(length, -1)
    # A strided view, then one copy: each window is written once, no Python loop.
    view = np.lib.stride_tricks.sliding_window_view(features, window_size, axis=0)
    samples = np.ascontiguousarray(view[: length - window_size].transpose(0, 2, 1))
    targets = series[window_size:].copy()
    return samples, targets
