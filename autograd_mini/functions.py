"""The built-in one-input operations as functions of a float or a ``Value``.

Each is the engine's own primitive (the same object that ``Value.exp()`` and
the other methods use), called like a function: on a number it returns a
float, on a ``Value`` it records one node. A primitive made with
:func:`autograd_mini.primitive` is called the same way, and its derivative
rule may use these.

>>> from autograd_mini import Value
>>> from autograd_mini.functions import exp, sin
>>> exp(0.0)
1.0
>>> y = sin(Value(0.0)); y.op, y.data
('sin', 0.0)
"""

from __future__ import annotations

from . import ops

__all__ = ["abs", "cos", "exp", "log", "relu", "sigmoid", "sin", "sqrt", "tanh"]

#: e ** x; overflows to inf, never raises.
exp = ops.EXP
#: Natural logarithm; ValueError for x <= 0.
log = ops.LOG
#: Square root; ValueError for x < 0.
sqrt = ops.SQRT
#: Hyperbolic tangent.
tanh = ops.TANH
#: 1 / (1 + e^-x), computed without overflow.
sigmoid = ops.SIGMOID
#: max(0, x); its derivative at 0 is 0, as in PyTorch.
relu = ops.RELU
#: \|x\|; its derivative at 0 is 0, as in PyTorch.
abs = ops.ABS
#: Sine (of x in radians); nan for an infinite x.
sin = ops.SIN
#: Cosine (of x in radians); nan for an infinite x.
cos = ops.COS
