"""Loss functions: how wrong a network's output is, as one ``Value`` to backpropagate.

Each takes one sample — a ``Value`` (or number) or a list of them — and returns
a ``Value``. Averaging over a batch is the caller's ``sum(...) / n``, except
where a loss is a mean by definition (``mse``, ``binary_cross_entropy`` and
``hinge`` average over the list they are given).

>>> from autograd_mini import Value
>>> from autograd_mini.losses import quadratic
>>> a = Value(0.75)
>>> quadratic(a, 1.0).data     # ½·(1 − 0.75)²
0.03125
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

from .engine import Value
from .engine import sum as vsum

__all__ = ["binary_cross_entropy", "cross_entropy", "hinge", "mse", "quadratic"]

Operand = Value | float


def _pairs(preds: Operand | Sequence[Operand], targets: object,
           what: str) -> tuple[list[Operand], list[object]]:
    """One sample's predictions and targets as two lists of equal length."""
    if isinstance(preds, (list, tuple)):
        if not isinstance(targets, (list, tuple)):
            raise ValueError(f"{what}: {len(preds)} predictions but one target {targets!r}")
        if len(preds) != len(targets):
            raise ValueError(f"{what}: {len(preds)} predictions but {len(targets)} targets")
        if not preds:
            raise ValueError(f"{what}: no predictions")
        return list(preds), list(targets)
    if isinstance(targets, (list, tuple)):
        raise ValueError(f"{what}: one prediction but {len(targets)} targets")
    return [preds], [targets]  # type: ignore[list-item]  # a list or tuple went above


def _number(x: object, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what}: targets must be numbers, got {type(x).__name__}")
    return float(x)


def _value(x: Operand) -> Value:
    return x if isinstance(x, Value) else Value(x)


def mse(preds: Operand | Sequence[Operand], targets: float | Sequence[float]) -> Value:
    """Mean squared error: mean of (a − y)².

    >>> mse([Value(1.0), Value(3.0)], [0.0, 1.0]).data
    2.5
    """
    ps, ts = _pairs(preds, targets, "mse")
    return vsum([(p - _number(t, "mse")) ** 2 for p, t in zip(ps, ts)]) * (1.0 / len(ps))


def quadratic(preds: Operand | Sequence[Operand], targets: float | Sequence[float]) -> Value:
    """The documents' cost: C = ½·Σ (y − a)², one ``½(a − y)²`` node per output.

    Its derivative is simply ∂C/∂a = a − y, which is why the documents use it.

    >>> quadratic([Value(0.5), Value(0.5)], [0.0, 1.0]).data
    0.25
    """
    ps, ts = _pairs(preds, targets, "quadratic")
    terms = [0.5 * (p - _number(t, "quadratic")) ** 2 for p, t in zip(ps, ts)]
    return vsum(terms) if len(terms) > 1 else _value(terms[0])


# log(p) is clamped at -100 where p is (numerically) 0, as PyTorch does: a
# saturated sigmoid gives exactly 0.0 or 1.0 in floating point, and a loss of
# infinity would stop training rather than correct it.
_LOG_FLOOR = -100.0


def _log(p: Operand) -> Value:
    if float(p) > math.exp(_LOG_FLOOR):
        return _value(p).log()
    return Value(_LOG_FLOOR)


def binary_cross_entropy(probs: Operand | Sequence[Operand],
                         targets: float | Sequence[float]) -> Value:
    """Mean of −[y·log p + (1 − y)·log(1 − p)] for probabilities p in [0, 1].

    Each log is clamped at −100, as in PyTorch, so p = 0 or 1 is finite. Where
    the clamp holds (p ≤ e⁻¹⁰⁰) the loss is flat, so its gradient there is 0.

    >>> round(binary_cross_entropy(Value(0.5), 1.0).data, 6)
    0.693147
    """
    ps, ts = _pairs(probs, targets, "binary_cross_entropy")
    terms = []
    for p, t in zip(ps, ts):
        y = _number(t, "binary_cross_entropy")
        if not 0.0 <= float(p) <= 1.0:
            raise ValueError("binary_cross_entropy: probabilities must be in [0, 1], "
                             f"got {float(p)!r} (apply sigmoid to a score first)")
        if not 0.0 <= y <= 1.0:
            raise ValueError(f"binary_cross_entropy: targets must be in [0, 1], got {y!r}")
        # The minus goes into each term, not onto the sum: a perfect prediction
        # makes every term −0.0, their sum +0.0, and a mean loss of −0.0 would
        # print as "-0.0".
        if y:  # a term with weight 0 is left out, so log(0) is never taken for it
            terms.append(-y * _log(p))
        if y != 1.0:
            terms.append((y - 1.0) * _log(1.0 - p))
    return vsum(terms) * (1.0 / len(ps))


def cross_entropy(logits: Sequence[Operand], target_index: int) -> Value:
    """−log softmax(logits)[target_index], stable for any finite logits.

    Computed as log Σ exp(zⱼ − m) + m − z_target with m = max z a constant,
    so no exp overflows; the gradient is softmax(z) − onehot(target).

    >>> zs = [Value(1000.0), Value(-1000.0)]
    >>> cross_entropy(zs, 0).data, cross_entropy(zs, 1).data
    (0.0, 2000.0)
    """
    if isinstance(logits, Value) or not isinstance(logits, Sequence) or not logits:
        raise ValueError("cross_entropy: logits must be a non-empty list of scores, one per class")
    if isinstance(target_index, bool) or not isinstance(target_index, numbers.Integral):
        raise TypeError("cross_entropy: target_index must be an int, "
                        f"got {type(target_index).__name__}")
    target_index = int(target_index)
    if not 0 <= target_index < len(logits):
        raise ValueError(f"cross_entropy: target_index {target_index} is out of range "
                         f"for {len(logits)} classes")
    zs = [_value(z) for z in logits]
    # −inf is a class ruled out (its probability is 0); nan or +inf has no softmax.
    bad = [z.data for z in zs if math.isnan(z.data) or z.data == math.inf]
    m = max(z.data for z in zs)
    if bad or m == -math.inf:
        shown = bad[0] if bad else m
        raise ValueError(f"cross_entropy: logits must be finite, got {shown!r}")
    return vsum([(z - m).exp() for z in zs]).log() + (m - zs[target_index])


def hinge(scores: Operand | Sequence[Operand], labels: float | Sequence[float]) -> Value:
    """Max-margin loss: mean of max(0, 1 − y·s) with labels y = +1 or −1.

    >>> hinge([Value(2.0), Value(0.5)], [1, -1]).data   # (0 + 1.5) / 2
    0.75
    """
    ss, ys = _pairs(scores, labels, "hinge")
    margins = []
    for s, y in zip(ss, ys):
        # 1 − y·s with y = ±1 is 1 − s or 1 + s: one node instead of two.
        if y == 1 and y.__class__ is not bool:  # True == 1, but is no ±1 label
            margins.append((1.0 - _value(s)).relu())
        elif y == -1:
            margins.append((1.0 + _value(s)).relu())
        else:
            raise ValueError(f"hinge: labels must be +1 or -1, got {y!r} "
                             "(for labels 0/1 pass 2·y − 1)")
    return vsum(margins) * (1.0 / len(ss))
