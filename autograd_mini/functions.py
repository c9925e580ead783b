"""The built-in one-input operations as functions of a float or a ``Value``.

Each is the engine's own primitive (the same object ``Value.exp()`` and the
others use), called like a function: on a number it returns a float, on a
``Value`` it records one node. A primitive made with
:func:`autograd_mini.primitive` is called the same way.

>>> from autograd_mini import Value
>>> from autograd_mini.functions import exp, sin
>>> exp(0.0)
1.0
>>> y = sin(Value(0.0)); y.op, y.data
('sin', 0.0)
"""

from __future__ import annotations

from .ops import ABS, COS, EXP, LOG, RELU, SIGMOID, SIN, SQRT, TANH

__all__ = ["abs", "cos", "exp", "log", "relu", "sigmoid", "sin", "sqrt", "tanh"]

exp = EXP  # e ** x; overflows to inf, never raises
log = LOG  # natural logarithm; ValueError for x <= 0
sqrt = SQRT  # ValueError for x < 0
tanh = TANH
sigmoid = SIGMOID  # 1 / (1 + e^-x), without overflow
relu = RELU  # max(0, x); derivative 0 at 0, as in PyTorch
abs = ABS  # |x|; derivative 0 at 0, as in PyTorch
sin = SIN
cos = COS
