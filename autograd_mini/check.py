"""Checking gradients against finite differences.

``numerical_grad`` estimates derivatives by central differences;
``gradcheck`` and ``gradgradcheck`` compare the engine with those estimates
and raise ``GradcheckError`` naming every input where they disagree.
``check_graph`` goes one level down: it checks every node's local
derivatives (its primitive's rule) against central differences of that
primitive's forward, and so points at the very rule that is wrong.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import SupportsFloat

from . import ops
from .engine import Value, _backward_order, grad


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


def _agree(engine: float, numeric: float, atol: float, rtol: float) -> bool:
    return abs(engine - numeric) <= atol + rtol * abs(numeric)


def _compare(what: str, analytic: Sequence[float], numeric: Sequence[float],
             atol: float, rtol: float, graphs: Sequence[Value] = ()) -> None:
    bad = [
        f"  input {i}: engine {a!r}, finite differences {n!r}"
        for i, (a, n) in enumerate(zip(analytic, numeric))
        if not _agree(a, n, atol, rtol)
    ]
    if bad:
        lines = [f"{what} mismatch at {len(bad)} input(s):", *bad]
        culprits = [m for root in graphs for m in check_graph(root, atol=atol, rtol=rtol)]
        if culprits:  # say which rule is to blame
            lines.append("local derivatives that disagree (check_graph):")
            lines += [f"  {m}" for m in culprits]
        raise GradcheckError("\n".join(lines))


def gradcheck(f: Callable[..., Value], xs: Sequence[float], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Check the engine's first derivatives of ``f`` at ``xs``; True or GradcheckError.

    >>> gradcheck(lambda x, y: (x * y).tanh(), [0.3, -0.7])
    True
    """
    values = [Value(x) for x in xs]
    out = _output(f, values, "gradcheck")
    analytic = grad(out, values)
    numeric = numerical_grad(lambda *a: f(*(Value(x) for x in a)), xs, eps)
    _compare("gradient", analytic, numeric, atol, rtol, [out])
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
    out = _output(f, values, "gradgradcheck")
    firsts = grad(out, values, create_graph=True)
    for i, first in enumerate(firsts):
        analytic = grad(first, values)

        def d_i(*a: float, i: int = i) -> float:
            vs = [Value(x) for x in a]
            return grad(f(*vs), vs)[i]

        numeric = numerical_grad(d_i, xs, eps)
        _compare(f"second derivative d/dx{i}", analytic, numeric, atol, rtol, [out, first])
    return True


# --- one rule at a time

SAFE = 1000  # steps of eps: closer to a pole, differences are off by (eps/distance)²


def _kink(i: int) -> Callable[[Sequence[float], float], bool]:
    """Input i within one step of 0, where the function turns a corner."""
    return lambda xs, eps: abs(xs[i]) <= eps


def _pole(i: int) -> Callable[[Sequence[float], float], bool]:
    """Input i near 0, where the function or its derivative blows up or ends."""
    return lambda xs, eps: abs(xs[i]) < SAFE * eps


def _power_pole(xs: Sequence[float], eps: float) -> bool:
    """x ** y: near x = 0 unless y is a whole number >= 0 (then x ** y is a polynomial)."""
    x, y = xs
    return abs(x) < SAFE * eps and not (y.is_integer() and y >= 0)


def _rpower_pole(xs: Sequence[float], eps: float) -> bool:
    """c ** x with c = 0: 0 for x > 0, a pole for x < 0."""
    x, c = xs
    return c == 0 and abs(x) < SAFE * eps


# Where each built-in is not smooth enough for central differences: its kinks,
# poles and domain edges, as a test on the node's inputs (the arguments of its
# forward: parents' data, then the constant) and eps. A node found there is
# skipped; so is one whose forward is undefined a step away (a negative base
# with a perturbed exponent) or whose numbers are not finite.
SINGULAR: dict[ops.Primitive, Callable[[Sequence[float], float], bool]] = {
    ops.ABS: _kink(0),
    ops.RELU: _kink(0),
    ops.SQRT: _pole(0),
    ops.LOG: _pole(0),
    ops.LOGARITHM: _pole(0),
    ops.DIV: _pole(1),
    ops.QUOTIENT: _pole(1),
    ops.RDIV_C: _pole(0),
    ops.POW: _power_pole,
    ops.POW_C: _power_pole,
    ops.POWER: _power_pole,
    ops.RPOW_C: _rpower_pole,
}


@dataclass(frozen=True, eq=False)
class Mismatch:
    """One local derivative that disagrees with finite differences (from ``check_graph``).

    ``node.parents[input]`` is the input; ``engine`` is what the node's
    primitive's rule gives, ``numeric`` the central difference of its forward.
    ``draw_dot(root, highlight=mismatch)`` marks that edge.

    >>> from autograd_mini import Value, primitive
    >>> twice = primitive("twice", lambda x: 2 * x, lambda x, out: -2.0)   # wrong sign
    >>> (m,) = check_graph(twice(Value(1.5)))
    >>> m.input, m.engine, round(m.numeric, 6)
    (0, -2.0, 2.0)
    """

    node: Value
    input: int
    engine: float
    numeric: float

    def __str__(self) -> str:
        node = self.node
        name = f" {node.label!r}" if node.label else ""
        at = ", ".join(f"{p.data:.10g}" for p in node.parents)
        return (f"{node.op!r} node{name} at ({at}), input {self.input}: its derivative "
                f"rule gives {self.engine!r}, finite differences {self.numeric!r}")


def check_graph(root: Value, eps: float = 1e-6, atol: float = 1e-5,
                rtol: float = 1e-3) -> list[Mismatch]:
    """Every node's local derivatives against central differences of its primitive.

    Returns the mismatches (empty when every rule agrees), in the order
    ``backward()`` meets the nodes. Nodes at a kink or pole of their primitive
    (the table ``SINGULAR``), or where the numbers are not finite, are skipped.

    >>> from autograd_mini import Value, primitive
    >>> cube = primitive("cube", lambda x: x ** 3, lambda x, out: 3 * x)   # slip: 3x, not 3x²
    >>> y = cube(Value(2.0)) + 1
    >>> for m in check_graph(y):
    ...     print(m)
    'cube' node at (2), input 0: its derivative rule gives 6.0, finite differences 12.0...
    """
    if not isinstance(root, Value):
        raise TypeError(f"check_graph: root must be a Value, got {type(root).__name__}")
    eps = _check_eps(eps, "check_graph")
    found = []
    for node in _backward_order(root):
        op = node._op
        xs = [p.data for p in node.parents]
        if not all(map(math.isfinite, xs)) or not math.isfinite(node.data):
            continue
        singular = SINGULAR.get(op)
        if singular is not None and singular(_forward_args(node, xs), eps):
            continue
        for i, local in enumerate(op.floats(node)):
            numeric = _local_difference(op, node, xs, i, eps)
            if numeric is not None and not _agree(local, numeric, atol, rtol):
                found.append(Mismatch(node, i, local, numeric))
    return found


def _forward_args(node: Value, xs: list[float]) -> list[float]:
    """The node's inputs as its forward takes them: parents' data and the constant."""
    if isinstance(node._op, ops.Custom):
        return node._op.inputs(node, xs)
    c = node._arg
    return [*xs, c] if type(c) is float else xs


def _local_difference(op: ops.Primitive, node: Value, xs: list[float], i: int,
                      eps: float) -> float | None:
    """(f(.., xᵢ + h, ..) - f(.., xᵢ - h, ..)) / 2h, None where f is undefined.

    h = eps·max(1, |xᵢ|): a step relative to a large input, so that it is not
    lost in the input's own rounding; the step actually taken is divided by.
    """
    up, down = list(xs), list(xs)
    h = eps * max(1.0, abs(xs[i]))
    up[i] += h
    down[i] -= h
    try:
        numeric = (op.at(node, up) - op.at(node, down)) / (up[i] - down[i])
    except (ArithmeticError, ValueError):
        return None  # a step off the domain: the rule cannot be checked here
    return numeric if math.isfinite(numeric) else None
