"""Small data sets, generated in pure Python from a seed: ``(points, labels)``.

Points are lists of floats; labels are floats (``xor``, ``moons``) or class
indices (``spirals``). The same seed always gives the same data.

>>> from autograd_mini.data import xor
>>> xor()
([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0.0, 1.0, 1.0, 0.0])
"""

from __future__ import annotations

import math
import random

from . import arguments

__all__ = ["moons", "spirals", "xor"]

Points = list[list[float]]


def _noise(noise: object, what: str) -> float:
    # Any real number will do (a numpy float32, a Fraction), but not True.
    sd = arguments.real(noise)
    if sd is None or not (math.isfinite(sd) and sd >= 0):
        raise ValueError(f"{what}: noise must be a finite number >= 0, got {noise!r}")
    return sd


def _rng(seed: object, what: str) -> random.Random:
    # Only ints (and None: fresh randomness) seed the data sets, so a seed
    # given by mistake, say 0.5 or "1", is an error rather than another data set.
    return random.Random(arguments.seed(seed, what))


def xor() -> tuple[Points, list[float]]:
    """The four points of exclusive-or, labels 0 and 1 (the documents' XOR task).

    >>> xor()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0.0, 1.0, 1.0, 0.0])
    """
    return [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0.0, 1.0, 1.0, 0.0]


def moons(n: int = 100, noise: float = 0.1, seed: int | None = 0) -> tuple[Points, list[float]]:
    """Two interleaving half circles, ``n`` points in all, labels +1 (upper) and −1 (lower).

    The labels suit ``hinge``; for ``binary_cross_entropy`` use (y + 1) / 2.
    ``noise`` is the standard deviation of Gaussian noise added to each coordinate.

    >>> points, labels = moons(4, noise=0.0, seed=0)
    >>> labels
    [1.0, -1.0, 1.0, -1.0]
    """
    n = arguments.whole_number(n, "moons: n")
    sd = _noise(noise, "moons")
    rng = _rng(seed, "moons")
    points, labels = [], []
    for i in range(n):
        t = math.pi * rng.random()
        if i % 2 == 0:
            x, y, label = math.cos(t), math.sin(t), 1.0
        else:
            x, y, label = 1.0 - math.cos(t), 0.5 - math.sin(t), -1.0
        points.append([x + rng.gauss(0.0, sd), y + rng.gauss(0.0, sd)])
        labels.append(label)
    return points, labels


def spirals(n: int = 100, classes: int = 3, seed: int | None = 0,
            noise: float = 0.2) -> tuple[Points, list[int]]:
    """``classes`` spiral arms of ``n`` points EACH, labels 0 … classes − 1.

    Arm k winds from the centre out to radius 1 through one full turn; ``noise``
    jitters each point's angle (in radians).

    >>> points, labels = spirals(5, classes=2, seed=0)
    >>> len(points), labels.count(1)
    (10, 5)
    """
    n = arguments.whole_number(n, "spirals: n", low=2)
    classes = arguments.whole_number(classes, "spirals: classes")
    sd = _noise(noise, "spirals")
    rng = _rng(seed, "spirals")
    points, labels = [], []
    for k in range(classes):
        for i in range(n):
            r = i / (n - 1)
            t = 2 * math.pi * (k / classes + r) + rng.gauss(0.0, sd)
            points.append([r * math.sin(t), r * math.cos(t)])
            labels.append(k)
    return points, labels
