"""Checking gradients against finite differences.

``numerical_grad`` estimates derivatives by central differences;
``gradcheck`` and ``gradgradcheck`` compare the engine with those estimates
and raise ``GradcheckError`` naming every input where they disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import SupportsFloat

from .engine import Value, grad


class GradcheckError(AssertionError):
    """The engine's derivative and the finite-difference estimate disagree."""


def _as_float(y: SupportsFloat) -> float:  # a float, or a Value (which has __float__)
    return y.data if isinstance(y, Value) else float(y)


def _check_eps(eps: object, what: str) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not 0 < eps < float("inf"):
        raise ValueError(f"{what}: eps must be a positive finite number, got {eps!r}")
    return float(eps)


def _output(f: Callable[..., SupportsFloat], values: list[Value], what: str) -> Value:
    out = f(*values)
    if not isinstance(out, Value):
        raise TypeError(f"{what}: f must return a Value, got {type(out).__name__} "
                        "(did it compute with .data or plain floats?)")
    return out


def numerical_grad(f: Callable[..., SupportsFloat], xs: Sequence[float],
                   eps: float = 1e-6) -> list[float]:
    """Central differences (f(x+eps) - f(x-eps)) / 2eps for each argument.

    ``f`` takes floats and returns a float (or a ``Value``).

    >>> [round(d, 6) for d in numerical_grad(lambda a, b: a * b, [2.0, 3.0])]
    [3.0, 2.0]
    """
    eps = _check_eps(eps, "numerical_grad")
    xs = [float(x) for x in xs]
    out = []
    for i in range(len(xs)):
        up = list(xs)
        down = list(xs)
        up[i] += eps
        down[i] -= eps
        out.append((_as_float(f(*up)) - _as_float(f(*down))) / (2 * eps))
    return out


def _compare(what: str, analytic: Sequence[float], numeric: Sequence[float],
             atol: float, rtol: float) -> None:
    bad = [
        f"  input {i}: engine {a!r}, finite differences {n!r}"
        for i, (a, n) in enumerate(zip(analytic, numeric))
        if not abs(a - n) <= atol + rtol * abs(n)
    ]
    if bad:
        raise GradcheckError(f"{what} mismatch at {len(bad)} input(s):\n" + "\n".join(bad))


def gradcheck(f: Callable[..., Value], xs: Sequence[float], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Check the engine's first derivatives of ``f`` at ``xs``; True or GradcheckError.

    >>> gradcheck(lambda x, y: (x * y).tanh(), [0.3, -0.7])
    True
    """
    values = [Value(x) for x in xs]
    analytic = grad(_output(f, values, "gradcheck"), values)
    numeric = numerical_grad(lambda *a: f(*(Value(x) for x in a)), xs, eps)
    _compare("gradient", analytic, numeric, atol, rtol)
    return True


def gradgradcheck(f: Callable[..., Value], xs: Sequence[float], eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Check the engine's second derivatives of ``f`` at ``xs`` (the Hessian).

    Each column d²f/dxᵢdxⱼ from ``grad(create_graph=True)`` is compared with
    central differences of the engine's first derivative.

    >>> gradgradcheck(lambda x: x ** 3, [2.0])
    True
    """
    values = [Value(x) for x in xs]
    firsts = grad(_output(f, values, "gradgradcheck"), values, create_graph=True)
    for i, first in enumerate(firsts):
        analytic = grad(first, values)

        def d_i(*a: float, i: int = i) -> float:
            vs = [Value(x) for x in a]
            return grad(f(*vs), vs)[i]

        numeric = numerical_grad(d_i, xs, eps)
        _compare(f"second derivative d/dx{i}", analytic, numeric, atol, rtol)
    return True
