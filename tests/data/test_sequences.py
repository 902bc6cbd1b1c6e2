"""Sine sums must equal the chapter's loops value for value; windows must pair each window with its next value."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from keraslab.data import sequences
from keraslab.data.sequences import sum_of_sines, sum_of_upsloping_sines, windows
from keraslab.errors import KeraslabTypeError, KeraslabValueError


# --- the chapter's definitions, transcribed as the reference --------------------------
def chapter_sum_of_sines(number_of_steps, d_theta, skip_steps, freqs, amps, phases):
    values = []
    for step_num in range(number_of_steps):
        angle = d_theta * (step_num + skip_steps)
        sum = 0
        for wave in range(len(freqs)):
            y = amps[wave] * math.sin(freqs[wave] * (phases[wave] + angle))
            sum += y
        values.append(sum)
    return np.array(values)


def chapter_sum_of_upsloping_sines(number_of_steps, d_theta, skip_steps, freqs, amps, phases):
    # The chapter's listing (notebook 5): a sample on a downward stretch is negated
    # ("flip the last"), comparing raw sums. keraslab implements this one; the issue's
    # in-place reflection is transcribed below and diverges (see its test).
    values = []
    prev_sum = 0
    for step_num in range(number_of_steps):
        angle = d_theta * (step_num + skip_steps)
        sum = 0
        for wave in range(len(freqs)):
            y = amps[wave] * math.sin(freqs[wave] * (phases[wave] + angle))
            sum += y
        values.append(sum)
        if step_num > 0:  # are we past the first sample?
            sum_change = sum - prev_sum  # find the direction we're headed in
            if sum_change < 0:  # are we going downward?
                values[-1] *= -1  # if so, flip the last
        prev_sum = sum
    return np.array(values)


def brief_sum_of_upsloping_sines(number_of_steps, d_theta, skip_steps, freqs, amps, phases):
    # The reading ("every downward step is reflected upward", in place): kept to
    # document why it was not adopted; it compares with already-reflected values and grows
    # without bound.
    values = chapter_sum_of_sines(number_of_steps, d_theta, skip_steps, freqs, amps, phases)
    for i in range(1, len(values)):
        if values[i] < values[i - 1]:
            values[i] = values[i - 1] + (values[i - 1] - values[i])
    return values


CHAPTER_SETS = [
    (200, 0.057, 0, [1, 2], [1, 2], [0, 0]),  # data set 0, training
    (200, 0.057, 400, [1, 2], [1, 2], [0, 0]),  # data set 0, test
    (200, 0.057, 0, [1.1, 1.7, 3.1, 7], [1, 2, 2, 3], [0, 0, 0, 0]),  # data set 1
    (2000, 0.057, 400, [1.1, 1.7, 3.1, 7], [1, 2, 2, 3], [0.3, 0, 1.2, 0]),
    (7, 0.5, 3, [2.5], [0.5], [0.25]),
]


@pytest.mark.parametrize("args", CHAPTER_SETS)
def test_sum_of_sines_equals_the_chapter_loop_exactly(args):
    np.testing.assert_array_equal(sum_of_sines(*args), chapter_sum_of_sines(*args))


@pytest.mark.parametrize("args", CHAPTER_SETS)
def test_upsloping_equals_the_chapter_loop_exactly(args):
    np.testing.assert_array_equal(sum_of_upsloping_sines(*args), chapter_sum_of_upsloping_sines(*args))


@settings(max_examples=60, deadline=None)
@given(
    steps=st.integers(0, 300),
    d_theta=st.floats(1e-3, 1.0),
    skip=st.integers(0, 1000),
    waves=st.lists(
        st.tuples(st.floats(0.1, 10), st.floats(-5, 5), st.floats(-3, 3)), min_size=1, max_size=5
    ),
)
def test_sines_match_the_loops_for_any_waves(steps, d_theta, skip, waves):
    freqs, amps, phases = (list(column) for column in zip(*waves))
    args = (steps, d_theta, skip, freqs, amps, phases)
    np.testing.assert_array_equal(sum_of_sines(*args), chapter_sum_of_sines(*args).reshape(-1))
    np.testing.assert_array_equal(sum_of_upsloping_sines(*args), chapter_sum_of_upsloping_sines(*args).reshape(-1))


def test_upsloping_curve_only_rises_between_turning_points():
    raw = sum_of_sines(*CHAPTER_SETS[2])
    flipped = sum_of_upsloping_sines(*CHAPTER_SETS[2])
    down = np.r_[False, np.diff(raw) < 0]
    np.testing.assert_array_equal(flipped[down], -raw[down])
    np.testing.assert_array_equal(flipped[~down], raw[~down])
    # Within every stretch where the original keeps its direction, the result ascends.
    same_direction = down[1:] == down[:-1]
    assert same_direction.sum() > 150
    assert np.all(np.diff(flipped)[same_direction] >= 0)


def test_the_briefs_in_place_reading_diverges_which_is_why_it_is_not_used():
    values = brief_sum_of_upsloping_sines(*CHAPTER_SETS[2])
    assert np.abs(values).max() > 1e40  # doubling every step once above the wave's maximum
    assert np.abs(sum_of_upsloping_sines(*CHAPTER_SETS[2])).max() <= 8


def test_mismatched_wave_lists_are_rejected():
    with pytest.raises(KeraslabValueError, match="len\\(freqs\\)=2, len\\(amps\\)=1"):
        sum_of_sines(10, 0.1, 0, [1, 2], [1], [0, 0])
    with pytest.raises(KeraslabValueError, match="number_of_steps=-1"):
        sum_of_sines(-1, 0.1, 0, [1], [1], [0])


def chapter_windows(sequence, window_size):
    # The chapter's samples_and_targets_from_sequence on a (length, 1) column.
    samples, targets = [], []
    for i in range(sequence.shape[0] - window_size):
        samples.append(sequence[i : i + window_size])
        targets.append(sequence[i + window_size][0])
    return np.array(samples), np.array(targets)


@settings(max_examples=80, deadline=None)
@given(data=st.data(), length=st.integers(2, 60), features=st.integers(1, 3))
def test_windows_properties(data, length, features):
    series = data.draw(hnp.arrays(np.float64, (length, features), elements=st.floats(-1e6, 1e6)))
    window = data.draw(st.integers(1, length - 1))
    samples, targets = windows(series, window)
    n = length - window
    assert samples.shape == (n, window, features)
    assert targets.shape == (n, features)
    for i in range(n):
        np.testing.assert_array_equal(samples[i], series[i : i + window])
        np.testing.assert_array_equal(targets[i], series[i + window])
    if features == 1:
        ref_samples, ref_targets = chapter_windows(series, window)
        np.testing.assert_array_equal(samples, ref_samples)
        flat_samples, flat_targets = windows(series[:, 0], window)
        np.testing.assert_array_equal(flat_samples, ref_samples)
        np.testing.assert_array_equal(flat_targets, ref_targets)
        assert flat_targets.shape == (n,)


def test_windows_are_independent_copies():
    series = np.arange(10.0)
    samples, targets = windows(series, 3)
    samples[0, 0, 0] = 99
    targets[0] = 99
    assert series[0] == 0 and series[3] == 3


@pytest.mark.parametrize("window", [0, -1, 5, 6])
def test_window_size_out_of_range_is_an_error(window):
    with pytest.raises(KeraslabValueError, match=f"from 1 to len\\(sequence\\) - 1 = 4.*window_size={window}"):
        windows(np.arange(5.0), window)


def test_window_size_must_be_an_integer_and_sequence_at_most_2d():
    with pytest.raises(KeraslabTypeError, match="window_size=2.5"):
        windows(np.arange(5.0), 2.5)
    with pytest.raises(KeraslabValueError, match="shape \\(2, 2, 2\\)"):
        windows(np.zeros((2, 2, 2)), 1)


def test_docstring_examples_run():
    assert doctest.testmod(sequences).failed == 0
