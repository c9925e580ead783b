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

A primitive made with :func:`primitive` (a ``Custom``, and a few of the
engine's own below) has the user's shape: ``d(*inputs, out)`` returns one
number for one input, a tuple with one entry per input otherwise; any input
may be a plain number. Every primitive is called like a function, on floats
(giving a float) or on ``Value``s (recording one node): ``EXP(1.0)``,
``EXP(x)``.
"""

from __future__ import annotations

import builtins
import inspect
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, Protocol, SupportsFloat, TypeAlias

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

    def __call__(self, *args: Any) -> Any:
        """The operation on numbers (a float) or, with a ``Value`` among them, a new node."""
        for k, a in enumerate(args):
            if type(a) is not float:
                # A Value records the node itself (ops knows nothing of Value);
                # anything else that is not a real number is refused.
                record = getattr(type(a), "_record", None)
                if record is not None:
                    return record(self, args)
                _real(a, f"{self.name}: operand {k}")
        return self._on_floats([float(a) for a in args])

    def _on_floats(self, xs: list[float]) -> float:
        if len(xs) != 2:
            raise TypeError(f"{self.name} takes 2 inputs, got {len(xs)}")
        return self.forward(*xs)

    def at(self, node: Any, xs: Sequence[float]) -> float:
        """The node's output recomputed with its parents' data replaced by ``xs``."""
        return self.forward(*xs)

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

    def _on_floats(self, xs: list[float]) -> float:
        if self.symbol:  # x * 2, 2 ** x, ...: made by the operators only
            raise TypeError(f"primitive {self.name!r} with a number operand is applied by its "
                            "operator, not called")
        if len(xs) != 1:
            raise TypeError(f"{self.name} takes 1 input, got {len(xs)}")
        return self.forward(xs[0])

    def at(self, node: Any, xs: Sequence[float]) -> float:
        c = node._arg
        return self.forward(xs[0]) if c is None else self.forward(xs[0], c)

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

    def __call__(self, *args: Any) -> Any:
        raise TypeError(f"{self.name} is made by autograd_mini.{self.name}(...), "
                        "not by calling the primitive")

    def at(self, node: Any, xs: Sequence[float]) -> float:
        return self.forward(xs, node._arg)


class DerivativeError(RuntimeError):
    """A primitive's derivative rule raised, or did not return one number per input.

    ``backward()`` stops at that node; the gradients it had added stay added.
    """


class Custom(Primitive):
    """A primitive in the user's shape: ``forward(*inputs)``, ``d(*inputs, out)``.

    Any input may be a plain number: only the ``Value`` inputs become the
    node's parents, and ``node._arg`` is then the full argument list with
    ``None`` where a parent goes (``None`` when every input is a parent).
    """

    __slots__ = ("arity",)

    def __init__(self, name: str, forward: Callable[..., float], d: Callable[..., Any],
                 arity: int) -> None:
        super().__init__(name, forward, d)
        self.arity = arity

    def _on_floats(self, xs: list[float]) -> float:
        self._check_count(xs)
        return self.run(xs)

    def _check_count(self, args: Sequence[object]) -> None:
        if len(args) != self.arity:
            s = "" if self.arity == 1 else "s"
            raise TypeError(f"{self.name} takes {self.arity} input{s}, got {len(args)}")

    def run(self, xs: Sequence[float]) -> float:
        """``forward(*xs)`` as a float; its errors name the primitive and the operands."""
        try:
            y = self.forward(*xs)
        except (ArithmeticError, ValueError) as e:
            raise _same_kind(e, f"{self.name}{_operands(xs)}: {e}") from None
        if type(y) is float:
            return y
        if isinstance(y, numbers.Real) and not isinstance(y, bool):
            return _real(y, f"forward of {self.name!r}")
        raise TypeError(f"forward of {self.name!r} must return a real number, "
                        f"returned {_shown(y)} at {_operands(xs)}")

    def inputs(self, node: Node, parents: Sequence[Operand]) -> list[Operand]:
        """Every argument of forward at this node: the parents (data or Values) and numbers."""
        template = node._arg
        if template is None:
            return list(parents)
        given = iter(parents)
        return [next(given) if c is None else c for c in template]

    def at(self, node: Any, xs: Sequence[float]) -> float:
        return self.run(self.inputs(node, xs))

    def floats(self, node: Node) -> list[float]:
        return self._locals(node, self.inputs(node, [p.data for p in node.parents]),
                            node.data, True)

    def values(self, node: Node) -> list[Operand]:
        return self._locals(node, self.inputs(node, node.parents), node, False)

    def _locals(self, node: Node, xs: list[Operand], out: Operand,
                as_floats: bool) -> list[Operand]:
        """The rule's entries for the parents, each checked to be a number (or a Value)."""
        try:
            ds = self.d(*xs, out)
        except Exception as e:
            raise DerivativeError(
                f"the derivative of {self.name!r} raised {type(e).__name__}: {e} "
                f"(at {self.name}{_operands(xs)})") from e
        if self.arity == 1 and not isinstance(ds, (tuple, list)):
            ds = (ds,)
        if not isinstance(ds, (tuple, list)) or len(ds) != self.arity:
            raise DerivativeError(
                f"the derivative of {self.name!r} must return {_entries(self.arity)}, "
                f"returned {_shown(ds)}")
        template = node._arg
        picked = []
        for k, entry in enumerate(ds):
            if template is not None and template[k] is not None:
                continue  # a number operand: not a parent, nothing to pass to
            if type(entry) is not float:
                if isinstance(entry, numbers.Real) and not isinstance(entry, bool):
                    entry = float(entry)
                elif getattr(type(entry), "_record", None) is not None:  # a Value
                    if as_floats:
                        entry = entry.data
                else:
                    raise DerivativeError(
                        f"the derivative of {self.name!r} returned {_shown(entry)} "
                        f"for input {k}, not a number")
            picked.append(entry)
        return picked


def _entries(n: int) -> str:
    return "one number" if n == 1 else f"a tuple of {n} numbers (one per input)"


def _shown(x: object) -> str:
    text = repr(x)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(x).__name__})"


def _operands(xs: Sequence[SupportsFloat]) -> str:
    return "(" + ", ".join(_num(float(x)) for x in xs) + ")"


def _same_kind(e: BaseException, message: str) -> BaseException:
    """An exception like ``e`` (ValueError, ZeroDivisionError, ...) with ``message``."""
    for kind in (ZeroDivisionError, OverflowError, ArithmeticError, ValueError):
        if isinstance(e, kind):
            return kind(message)
    return ValueError(message)


def _real(x: object, what: str) -> float:
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        try:
            return float(x)
        except OverflowError:
            raise OverflowError(f"{what}: {type(x).__name__} too large for a float") from None
    raise TypeError(f"{what} must be a real number or a Value, got {type(x).__name__}")


def primitive(name: str, forward: Callable[..., float], derivative: Callable[..., Any]) -> Custom:
    """A new operation: ``forward`` on floats, ``derivative(*inputs, out)`` its local derivatives.

    The number of ``forward``'s parameters is the number of inputs.
    ``derivative`` returns d out / d input: one number for one input, a tuple
    with one entry per input otherwise. It is called with floats in
    ``backward()`` and with ``Value``s under ``grad(create_graph=True)``, so
    write it with arithmetic, ``Value`` methods and primitives (such as
    :mod:`autograd_mini.functions`). The result is called like a function:
    on numbers it gives a float, with a ``Value`` among its arguments it
    records one node whose ``.op`` is ``name``.

    >>> import math
    >>> from autograd_mini import Value, primitive
    >>> from autograd_mini.functions import sigmoid
    >>> softplus = primitive("softplus", lambda x: math.log1p(math.exp(x)),
    ...                      lambda x, out: sigmoid(x))
    >>> x = Value(0.0)
    >>> y = softplus(x); y.backward()
    >>> y.op, round(y.data, 6), x.grad
    ('softplus', 0.693147, 0.5)
    """
    if not isinstance(name, str) or not name.strip() or not name.isprintable():
        raise ValueError(f"primitive: name must be a non-empty one-line str, got {name!r}")
    if not callable(forward):
        raise TypeError(f"primitive {name!r}: forward must be callable, "
                        f"got {type(forward).__name__}")
    if not callable(derivative):
        raise TypeError(f"primitive {name!r}: derivative must be callable, "
                        f"got {type(derivative).__name__}")
    arity = _arity(name, forward)
    try:
        inspect.signature(derivative).bind(*range(arity + 1))
    except ValueError:  # no signature to read (some built-in functions): find out when called
        pass
    except TypeError:
        args = ", ".join([*_names(forward, arity), "out"])
        raise TypeError(f"primitive {name!r}: derivative must take {arity + 1} arguments "
                        f"({args}): the inputs and then the output") from None
    return Custom(name, forward, derivative, arity)


def _arity(name: str, forward: Callable[..., Any]) -> int:
    """How many inputs ``forward`` takes: its positional parameters without defaults."""
    try:
        params = inspect.signature(forward).parameters.values()
    except ValueError:
        raise TypeError(f"primitive {name!r}: cannot read forward's parameters; "
                        "wrap it, e.g. lambda x: math.log(x)") from None
    kinds = [p.kind for p in params if p.default is p.empty]
    if inspect.Parameter.VAR_POSITIONAL in [p.kind for p in params]:
        raise TypeError(f"primitive {name!r}: forward must take a fixed number of inputs, "
                        "not *args")
    if inspect.Parameter.KEYWORD_ONLY in kinds:
        raise TypeError(f"primitive {name!r}: forward must not have keyword-only parameters "
                        "without defaults")
    arity = sum(k in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
                for k in kinds)
    if arity == 0:
        raise TypeError(f"primitive {name!r}: forward must take at least one input")
    return arity


def _names(forward: Callable[..., Any], arity: int) -> list[str]:
    return list(inspect.signature(forward).parameters)[:arity]


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


def _sin(x: float) -> float:
    return math.sin(x) if math.isfinite(x) else nan  # sin(inf) is nan, as in IEEE


def _cos(x: float) -> float:
    return math.cos(x) if math.isfinite(x) else nan


def _div_ieee(a: float, b: float) -> float:
    if b == 0:
        if a == 0 or a != a:
            return nan
        return math.copysign(inf, a) * math.copysign(1.0, b)
    return a / b


def _pow_ieee(a: float, b: float) -> float:
    if a == 0 and b < 0:  # a pole: inf, signed as C's pow signs it
        odd = b.is_integer() and b % 2 == 1
        return math.copysign(inf, a) if odd else inf
    if a < 0 and math.isfinite(b) and not b.is_integer():
        return nan
    return _pow(a, b)


def _log_ieee(x: float) -> float:
    if x == 0:
        return -inf
    return nan if x < 0 or x != x else math.log(x)


def _sign(x: Any) -> float:
    # The derivative of abs; 0 at the kink, as in PyTorch.
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0


# Helpers the rules use, working on floats and on ``Value``s alike.


def _log_any(x: Operand) -> Operand:
    return _log(x) if isinstance(x, float) else x.log()


def _exp_any(x: Operand) -> Operand:
    return _exp(x) if isinstance(x, float) else x.exp()


def _sin_any(x: Any) -> Any:
    return _sin(x) if isinstance(x, float) else x.sin()


def _cos_any(x: Any) -> Any:
    return _cos(x) if isinstance(x, float) else x.cos()


def _half_over(out: Any) -> Any:
    """sqrt's derivative 0.5 / out where out = 0: inf, kept as a node for a Value."""
    return inf if type(out) is float else QUOTIENT(0.5, out)


def _sigmoid_any(x: Any) -> Any:
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


def _d_power_base(x: Any, c: Any) -> Any:
    """d(x ** c)/dx = c · x^(c−1); infinite at x = 0 when c < 1."""
    if float(c) == 0 and (type(c) is float or float(x) == 0):
        # x ** 0 is constant in x. A Value exponent keeps the general form
        # away from x = 0, so its derivative along c (1/x) survives.
        return 0.0
    if float(x) == 0 and float(c) < 1:
        # ±inf in IEEE arithmetic; with Values a node, so the next derivative sees it
        return c * POWER(x, c - 1)
    return c * _pow_any(x, c - 1)


def _d_power_exponent(base: Operand, out: Operand) -> Operand:
    """d(base ** y)/dy = base^y · ln(base); 0 where base is 0, nan where base < 0.

    A negative base has a real power only at integer exponents, so the
    derivative along the exponent is undefined there: nan, as in PyTorch.
    """
    b = float(base)
    if b > 0:
        return out * _log_any(base)
    if b == 0:
        return 0.0
    # nan; with Values, a node that is nan, so the next derivative is nan too
    return nan if type(base) is float is type(out) else out * LOGARITHM(base)


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
SQRT = Unary("sqrt", _sqrt, lambda x, out, c: 0.5 / out if float(out) != 0 else _half_over(out))
TANH = Unary("tanh", math.tanh, lambda x, out, c: _d_tanh(x, out))
SIGMOID = Unary("sigmoid", _sigmoid, lambda x, out, c: _d_sigmoid(x, out))
RELU = Unary("relu", _relu, lambda x, out, c: 1.0 if x > 0 else 0.0)
SIN = Unary("sin", _sin, lambda x, out, c: _cos_any(x))
COS = Unary("cos", _cos, lambda x, out, c: -_sin_any(x))

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

UNARY_BY_NAME = {op.name: op for op in (ABS, EXP, LOG, SQRT, TANH, SIGMOID, RELU, SIN, COS)}

# Where a first derivative is infinite or undefined (sqrt at 0, x ** 0.5 at 0,
# (-2) ** x), a differentiable gradient needs that inf or nan as a node, so
# that the next derivative is taken through it (sqrt''(0) = -inf, not 0).
# These three are the ordinary operations in IEEE arithmetic: 1 / 0 = inf,
# 0 ** -0.5 = inf, log(-2) = nan, instead of an error. Their rules are in the
# user's shape and use themselves, so every further derivative stays right.
QUOTIENT: Custom = Custom("/", lambda a, b: _div_ieee(a, b),
                  lambda a, b, out: (QUOTIENT(1.0, b), QUOTIENT(-out, b)), 2)
POWER = Custom("**", lambda a, b: _pow_ieee(a, b),
               lambda a, b, out: (_d_power_base(a, b), _d_power_exponent(a, out)), 2)
LOGARITHM = Custom("log", lambda x: _log_ieee(x), lambda x, out: QUOTIENT(1.0, x), 1)

