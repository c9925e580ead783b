"""Checking what users pass in: whole numbers, seeds, real numbers.

One place, so ``nn``, ``optim`` and ``data`` accept the same things (a numpy
integer or float, a Fraction) and refuse the same things (True, "1", 0.5 as a
count) with the same words.

>>> whole_number(3, "n"), seed(None, "moons"), real(0.5)
(3, None, 0.5)
"""

from __future__ import annotations

import math
import numbers

__all__ = ["real", "seed", "whole_number"]


def whole_number(n: object, what: str, low: int = 1) -> int:
    """``n`` as an int if it is a whole number >= ``low`` (not a bool), else ValueError."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < low:
        raise ValueError(f"{what} must be a whole number >= {low}, got {n!r}")
    return int(n)  # a numpy integer becomes an int: a saved file can hold it


def seed(value: object, what: str) -> int | None:
    """A random seed: an int (or numpy integer) or None; anything else is a ValueError.

    ``random.Random`` itself would take 1.5, "abc" or True — another set of
    numbers instead of an error — and reject a numpy integer.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{what}: seed must be an int or None, got {value!r}")
    return int(value)


def real(x: object) -> float | None:
    """``x`` as a float if it is a real number (not a bool), else None.

    A number beyond the float range (a huge int or Fraction) becomes ±inf.
    """
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return None
    try:
        return float(x)
    except OverflowError:
        return -math.inf if x < 0 else math.inf
