"""Data sets: the right shapes and labels, on the curves they claim, the same for a seed."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from autograd_mini.data import moons, spirals, xor


def test_xor_is_the_four_points_of_exclusive_or():
    points, labels = xor()
    assert points == [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    assert labels == [float(int(a) ^ int(b)) for a, b in points]
    assert all(type(x) is float for p in points for x in p)


def test_xor_gives_fresh_lists():
    points, labels = xor()
    points[0][0], labels[0] = 9.0, 9.0
    assert xor() == ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0.0, 1.0, 1.0, 0.0])


# --- moons


@pytest.mark.parametrize("n", [1, 2, 7, 100])
def test_moons_shape_and_labels(n):
    points, labels = moons(n, 0.1, seed=0)
    assert len(points) == len(labels) == n
    assert all(len(p) == 2 and all(type(x) is float for x in p) for p in points)
    assert all(type(y) is float for y in labels)
    assert set(labels) <= {1.0, -1.0}
    assert labels.count(1.0) == (n + 1) // 2  # alternating, upper moon first
    assert labels.count(-1.0) == n // 2


def test_moons_without_noise_lie_on_their_half_circles():
    points, labels = moons(200, noise=0.0, seed=3)
    for (x, y), label in zip(points, labels):
        if label == 1.0:  # the upper moon: the unit circle's top half
            assert x * x + y * y == pytest.approx(1.0, rel=1e-12)
            assert y >= 0.0
        else:  # the lower moon: the same, flipped and moved to (1, 0.5)
            assert (x - 1.0) ** 2 + (y - 0.5) ** 2 == pytest.approx(1.0, rel=1e-12)
            assert y <= 0.5


def test_moons_noise_moves_points_off_the_circles_by_about_its_size():
    points, labels = moons(400, noise=0.1, seed=3)
    off = [math.hypot(x, y) - 1.0 for (x, y), label in zip(points, labels) if label == 1.0]
    spread = math.sqrt(sum(d * d for d in off) / len(off))
    assert 0.05 < spread < 0.2


def test_moons_are_reproducible_for_a_seed_and_differ_for_another():
    assert moons(50, 0.1, seed=1) == moons(50, 0.1, seed=1)
    assert moons(50, 0.1, seed=1)[0] != moons(50, 0.1, seed=2)[0]
    assert moons(50, 0.1, seed=None)[0] != moons(50, 0.1, seed=None)[0]  # fresh randomness
    assert moons() == moons(100, 0.1, 0)  # the defaults


@pytest.mark.parametrize("kwargs, message", [
    ({"n": 0}, "moons: n must be a whole number >= 1, got 0"),
    ({"n": -5}, "moons: n must be"),
    ({"n": 10.0}, "moons: n must be"),
    ({"n": True}, "moons: n must be"),
    ({"n": "10"}, "moons: n must be"),
    ({"noise": -0.1}, "moons: noise must be a finite number >= 0, got -0.1"),
    ({"noise": math.nan}, "moons: noise"),
    ({"noise": math.inf}, "moons: noise"),
    ({"noise": "0.1"}, "moons: noise"),
    ({"noise": True}, "moons: noise"),
    ({"seed": 0.5}, "moons: seed must be an int or None, got 0.5"),
    ({"seed": "1"}, "moons: seed must be an int or None"),
    ({"seed": True}, "moons: seed must be an int or None"),
])
def test_moons_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        moons(**kwargs)


def test_numpy_integers_give_the_same_pure_python_data():
    assert moons(np.int64(20), 0.1, np.int64(4)) == moons(20, 0.1, 4)
    points, labels = spirals(np.int64(5), np.int32(2), seed=np.int64(1))
    assert (points, labels) == spirals(5, 2, seed=1)
    assert all(type(x) is float for p in points for x in p)
    assert all(type(y) is int for y in labels)


@pytest.mark.parametrize("noise", [np.float32(0.25), Fraction(1, 4), np.float64(0.25)])
def test_noise_may_be_any_real_number(noise):
    assert moons(20, noise, seed=4) == moons(20, 0.25, seed=4)
    assert spirals(5, 2, seed=4, noise=noise) == spirals(5, 2, seed=4, noise=0.25)


@pytest.mark.parametrize("noise", [Fraction(10**400, 3), Fraction(-1, 4), np.float32("nan")])
def test_a_real_noise_out_of_range_is_a_value_error(noise):
    with pytest.raises(ValueError, match="moons: noise must be a finite number >= 0"):
        moons(10, noise)
    with pytest.raises(ValueError, match="spirals: noise must be a finite number >= 0"):
        spirals(10, noise=noise)


# --- spirals


@pytest.mark.parametrize("n, classes", [(2, 1), (5, 2), (50, 3), (10, 7)])
def test_spirals_shape_and_labels(n, classes):
    points, labels = spirals(n, classes, seed=0)
    assert len(points) == len(labels) == n * classes
    assert all(len(p) == 2 and all(type(x) is float for x in p) for p in points)
    assert sorted(set(labels)) == list(range(classes))
    assert all(labels.count(k) == n for k in range(classes))
    assert all(type(y) is int for y in labels)


def test_spiral_points_go_from_the_centre_out_to_radius_one():
    points, labels = spirals(11, 3, seed=4)
    for k in range(3):
        arm = [p for p, y in zip(points, labels) if y == k]
        radii = [math.hypot(x, y) for x, y in arm]
        assert radii == pytest.approx([i / 10 for i in range(11)], abs=1e-12)


def test_spiral_arms_without_noise_are_turned_copies_of_each_other():
    points, labels = spirals(20, 4, seed=0, noise=0.0)
    arm = {k: [p for p, y in zip(points, labels) if y == k] for k in range(4)}
    for k in range(4):
        for (x0, y0), (x, y) in zip(arm[0], arm[k]):
            turn = 2 * math.pi * k / 4  # arm k starts a quarter turn after arm k − 1
            expected = (x0 * math.cos(turn) + y0 * math.sin(turn),
                        -x0 * math.sin(turn) + y0 * math.cos(turn))
            assert (x, y) == (pytest.approx(expected[0], abs=1e-12),
                              pytest.approx(expected[1], abs=1e-12))
    assert spirals(20, 4, seed=0, noise=0.0) == spirals(20, 4, seed=9, noise=0.0)


def test_spirals_are_reproducible_for_a_seed_and_differ_for_another():
    assert spirals(30, 3, seed=1) == spirals(30, 3, seed=1)
    assert spirals(30, 3, seed=1)[0] != spirals(30, 3, seed=2)[0]
    assert spirals(30, 3, seed=None)[0] != spirals(30, 3, seed=None)[0]
    assert spirals() == spirals(100, 3, 0)


@pytest.mark.parametrize("kwargs, message", [
    ({"n": 1}, "spirals: n must be a whole number >= 2, got 1"),
    ({"n": 0}, "spirals: n must be"),
    ({"n": 2.5}, "spirals: n must be"),
    ({"classes": 0}, "spirals: classes must be a whole number >= 1, got 0"),
    ({"classes": 2.0}, "spirals: classes"),
    ({"classes": None}, "spirals: classes"),
    ({"noise": -1.0}, "spirals: noise must be a finite number >= 0"),
    ({"noise": math.inf}, "spirals: noise"),
    ({"seed": 1.5}, "spirals: seed must be an int or None, got 1.5"),
    ({"seed": [1]}, "spirals: seed must be an int or None"),
])
def test_spirals_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        spirals(**kwargs)
