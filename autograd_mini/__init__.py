"""autograd_mini: a scalar reverse-mode automatic differentiation engine.

>>> from autograd_mini import Value
>>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
>>> c = a * b + b ** 2
>>> c.backward()
>>> a.grad, b.grad
(-3.0, -4.0)
"""

from .check import GradcheckError, Mismatch, check_graph, gradcheck, gradgradcheck, numerical_grad
from .compile import Compiled, compile
from .engine import Value, dot, grad, is_grad_enabled, no_grad, sum
from .ops import DerivativeError, primitive

__all__ = [
    "Compiled",
    "DerivativeError",
    "GradcheckError",
    "Mismatch",
    "Value",
    "check_graph",
    "compile",
    "dot",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_grad_enabled",
    "no_grad",
    "numerical_grad",
    "primitive",
    "sum",
]
__version__ = "0.1.0"
