"""The primitives: each one's forward and its derivative rule, side by side.

This table is the only place a derivative is written. A rule receives the
operation's inputs and output and returns d(output)/d(input) for each input
that is a ``Value``. The engine calls a rule with plain floats when it
backpropagates numbers (``backward()``, ``grad()``, the trace) and with the
``Value`` nodes themselves when it builds a differentiable gradient
(``grad(create_graph=True)``), so every rule is written in arithmetic that
works on both.

Three shapes of rule, by how many ``Value`` inputs an operation has:

* ``Unary``  ``d(x, out, c) -> dx``: one ``Value`` input ``x`` and, for the
  operations with a plain-number operand (``x * 2``, ``2 ** x``), that
  constant ``c`` (``None`` for the others). Constants never become nodes.
  The forward is ``f(x)``, or ``f(x, c)`` with a constant.
* ``Binary`` ``d(a, b, out) -> (da, db)``: two ``Value`` inputs.
* ``Nary``   ``d(xs, out, c) -> [dx for x in xs]``: ``sum`` and ``dot``; the
  forward is ``f(xs, c)``.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeAlias

inf = math.inf
nan = math.nan

# What a rule computes with: a float when the engine backpropagates numbers, a
# ``Value`` when it builds a differentiable gradient. Both do the same
# arithmetic, but no type says "float or Value, and the result is the same
# kind" without naming ``Value``, which lives in the engine above this table:
# so an operand is Any, under this name.
Operand: TypeAlias = Any


class Node(Protocol):
    """What a rule's adapter reads of a node (the engine's ``Value``)."""

    @property
    def data(self) -> float: ...
    @property
    def parents(self) -> tuple[Any, ...]: ...  # tuple[Node, ...], read by position
    @property
    def _arg(self) -> Any: ...


class Primitive:
    """One operation: its name, its forward on floats, its derivative rule."""

    __slots__ = ("name", "forward", "d", "symbol")

    def __init__(self, name: str, forward: Callable[..., float],
                 d: Callable[..., Any], symbol: str = "") -> None:
        self.name = name  # what ``Value.op`` reports
        self.forward = forward
        self.d = d
        # How the operation reads with its constant, for graphs and traces:
        # "{x} * {c}", "{c} - {x}", ... ("" when the name says it all).
        self.symbol = symbol

    def __repr__(self) -> str:
        return f"<primitive {self.name!r}>"

    def floats(self, node: Node) -> Sequence[float]:
        """d(node)/d(parent) for each parent, as numbers."""
        raise NotImplementedError

    def values(self, node: Node) -> Sequence[Operand]:
        """d(node)/d(parent) for each parent, as ``Value``s that record their graph."""
        raise NotImplementedError


class Unary(Primitive):
    """One ``Value`` input (and maybe a constant)."""

    __slots__ = ()
    forward: Callable[..., float]  # f(x), or f(x, c) with a constant
    d: Callable[[Operand, Operand, Any], Operand]  # (x, out, c) -> dx

    def floats(self, node: Node) -> tuple[float]:
        return (self.d(node.parents[0].data, node.data, node._arg),)

    def values(self, node: Node) -> tuple[Operand]:
        return (self.d(node.parents[0], node, node._arg),)


class Binary(Primitive):
    """Two ``Value`` inputs."""

    __slots__ = ()
    forward: Callable[[float, float], float]
    d: Callable[[Operand, Operand, Operand], tuple[Operand, Operand]]  # (a, b, out) -> (da, db)

    def floats(self, node: Node) -> tuple[float, float]:
        a, b = node.parents
        return self.d(a.data, b.data, node.data)

    def values(self, node: Node) -> tuple[Operand, Operand]:
        a, b = node.parents
        return self.d(a, b, node)


class Nary(Primitive):
    """Any number of ``Value`` inputs."""

    __slots__ = ()
    d: Callable[[Sequence[Operand], Operand, Any], Sequence[Operand]]  # (xs, out, c) -> [dx]

    def floats(self, node: Node) -> Sequence[float]:
        return self.d([p.data for p in node.parents], node.data, node._arg)

    def values(self, node: Node) -> Sequence[Operand]:
        return self.d(node.parents, node, node._arg)


# ---------------------------------------------------------------------------
# Forward functions on floats. They raise a clear error where the operation is
# undefined and follow IEEE arithmetic (inf, nan) everywhere else.


def _num(x: float) -> str:
    return repr(float(x))


def _div(a: float, b: float) -> float:
    if b == 0:
        raise ZeroDivisionError(f"division by zero: {_num(a)} / {_num(b)}")
    return a / b


def _pow(a: float, b: float) -> float:
    if a < 0 and math.isfinite(b) and not b.is_integer():
        raise ValueError(
            f"power: negative base {_num(a)} with non-integer exponent {_num(b)} "
            "has no real value"
        )
    if a == 0 and b < 0:
        raise ZeroDivisionError(f"power: {_num(a)} ** {_num(b)} divides by zero")
    try:
        # Typed Any (float ** float may be complex); the checks above make it real.
        power: float = a**b
        return power
    except OverflowError:  # Python raises where IEEE rounds to infinity
        odd = b.is_integer() and b % 2 == 1
        return -inf if (a < 0 and odd) else inf


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return inf


def _log(x: float) -> float:
    if x <= 0:
        raise ValueError(f"log: operand must be > 0, got {_num(x)}")
    return math.log(x)


def _sqrt(x: float) -> float:
    if x < 0:
        raise ValueError(f"sqrt: operand must be >= 0, got {_num(x)}")
    return math.sqrt(x)


def _sigmoid(x: float) -> float:
    # Two branches so that exp never overflows: sigmoid(-1000) == 0.0 exactly.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = _exp(x)
    return e / (1.0 + e)


def _relu(x: float) -> float:
    return x if x > 0 or x != x else 0.0  # x != x: nan stays nan


def _sign(x: Operand) -> float:
    # The derivative of abs; 0 at the kink, as in PyTorch.
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0


# Helpers the rules use, working on floats and on ``Value``s alike.


def _log_any(x: Operand) -> Operand:
    return _log(x) if isinstance(x, float) else x.log()


def _exp_any(x: Operand) -> Operand:
    return _exp(x) if isinstance(x, float) else x.exp()


def _sigmoid_any(x: Operand) -> Operand:
    return _sigmoid(x) if isinstance(x, float) else x.sigmoid()


def _d_sigmoid(x: Operand, out: Operand) -> Operand:
    """σ'(x) = σ(x)·σ(−x): the textbook σ(1 − σ) loses digits where σ is near 1
    (1 − 0.999999917 keeps only ~9 of them), σ(−x) keeps all."""
    return out * _sigmoid_any(-x)


def _d_tanh(x: Operand, out: Operand) -> Operand:
    """tanh'(x) = 1 − tanh²(x) near 0; further out, where tanh² is near 1 and the
    subtraction would cancel, the same number as 4e/(1 + e)² with e = exp(−2|x|)."""
    if abs(float(x)) < 1.0:
        return 1 - out * out
    e = _exp_any(-2.0 * abs(x))
    return 4 * e / ((1 + e) * (1 + e))


def _pow_any(a: Operand, b: Operand) -> Operand:
    return _pow(a, b) if isinstance(a, float) and isinstance(b, float) else a**b


def _d_power_base(x: Operand, c: Operand) -> Operand:
    """d(x ** c)/dx = c · x^(c−1); infinite at x = 0 when 0 < c < 1."""
    if float(c) == 0 and (type(c) is float or float(x) == 0):
        # x ** 0 is constant in x. A Value exponent keeps the general form
        # away from x = 0, so its derivative along c (1/x) survives.
        return 0.0
    if float(x) == 0 and float(c) < 1:
        return inf
    return c * _pow_any(x, c - 1)


def _d_power_exponent(base: Operand, out: Operand) -> Operand:
    """d(base ** y)/dy = base^y · ln(base); 0 where base is 0, nan where base < 0.

    A negative base has a real power only at integer exponents, so the
    derivative along the exponent is undefined there: nan, as in PyTorch.
    """
    b = float(base)
    if b > 0:
        return out * _log_any(base)
    return 0.0 if b == 0 else nan


# ---------------------------------------------------------------------------
# The table. ``x`` is the Value input, ``out`` the result, ``c`` the constant.

# Two Value inputs.
ADD = Binary("+", lambda a, b: a + b, lambda a, b, out: (1.0, 1.0))
SUB = Binary("-", lambda a, b: a - b, lambda a, b, out: (1.0, -1.0))
MUL = Binary("*", lambda a, b: a * b, lambda a, b, out: (b, a))
DIV = Binary("/", _div, lambda a, b, out: (1 / b, -out / b))
POW = Binary("**", _pow, lambda a, b, out: (_d_power_base(a, b), _d_power_exponent(a, out)))

# One Value input and a plain-number constant c.
ADD_C = Unary("+", lambda x, c: x + c, lambda x, out, c: 1.0, "{x} + {c}")
SUB_C = Unary("-", lambda x, c: x - c, lambda x, out, c: 1.0, "{x} - {c}")
RSUB_C = Unary("-", lambda x, c: c - x, lambda x, out, c: -1.0, "{c} - {x}")
MUL_C = Unary("*", lambda x, c: x * c, lambda x, out, c: c, "{x} * {c}")
DIV_C = Unary("/", _div, lambda x, out, c: 1 / c, "{x} / {c}")
RDIV_C = Unary("/", lambda x, c: _div(c, x), lambda x, out, c: -out / x, "{c} / {x}")
POW_C = Unary("**", _pow, lambda x, out, c: _d_power_base(x, c), "{x} ** {c}")
RPOW_C = Unary("**", lambda x, c: _pow(c, x), lambda x, out, c: _d_power_exponent(c, out),
               "{c} ** {x}")

# One Value input, no constant.
NEG = Unary("neg", float.__neg__, lambda x, out, c: -1.0, "-{x}")
ABS = Unary("abs", abs, lambda x, out, c: _sign(x))
EXP = Unary("exp", _exp, lambda x, out, c: out)
LOG = Unary("log", _log, lambda x, out, c: 1 / x)
SQRT = Unary("sqrt", _sqrt, lambda x, out, c: 0.5 / out if float(out) != 0 else inf)
TANH = Unary("tanh", math.tanh, lambda x, out, c: _d_tanh(x, out))
SIGMOID = Unary("sigmoid", _sigmoid, lambda x, out, c: _d_sigmoid(x, out))
RELU = Unary("relu", _relu, lambda x, out, c: 1.0 if x > 0 else 0.0)

def _d_dot(xs: Sequence[Operand], out: Operand,
           c: tuple[Any, ...]) -> Sequence[Operand]:
    """d(Σ aᵢ·bᵢ + bias)/d(aᵢ) = bᵢ: each operand's derivative is its partner.

    c = (pick, form, *constants): ``pick([*inputs, *constants])`` lists each
    input's partner (the bias's partner is a constant 1.0). ``pick`` is None
    when every partner is a constant — weights times numbers — and the local
    derivatives are just the constants. ``form`` is for the forward (``_dot``).
    (One flat tuple, often shared between nodes: a network allocates little for it.)
    """
    pick: Callable[[list[Operand]], Sequence[Operand]] | None = c[0]
    if pick is None:
        return c[2:]
    return pick([*xs, *c[2:]])


def _sum(xs: Any, c: float) -> float:
    """The number operands' sum c first, then each input in turn."""
    total = c
    for x in xs:
        total += x
    return total


def _dot(xs: Sequence[float], c: tuple[Any, ...]) -> float:
    """Σ aᵢ·bᵢ + bias, the operands read from ``[*xs, *constants]``.

    ``form = (a, b, bias)``: a[i] and b[i] are where the i-th pair's operands
    sit in that table; bias is its index there, or the bias itself (a float).
    The products are summed by Python's ``sum``, as ``dot`` computes them.
    """
    a, b, bias = c[1]
    table = [*xs, *c[2:]]
    total = builtins.sum([table[i] * table[j] for i, j in zip(a, b)])
    result: float = total + (table[bias] if type(bias) is int else bias)
    return result


# Any number of Value inputs. ``sum`` keeps the sum of its number operands in c.
SUM = Nary("sum", _sum, lambda xs, out, c: [1.0] * len(xs))
DOT = Nary("dot", _dot, _d_dot)

UNARY_BY_NAME = {op.name: op for op in (ABS, EXP, LOG, SQRT, TANH, SIGMOID, RELU)}
