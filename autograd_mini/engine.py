"""The engine: ``Value`` records every operation; ``backward`` runs the chain rule.

Each ``Value`` is one node of a graph: its number (``data``), the nodes it was
computed from (``parents``) and the primitive that combined them (``op``, whose
forward and derivative rule live in :mod:`autograd_mini.ops`). ``backward()``
visits the nodes once each, every node after all the nodes that consume it,
and pushes each node's gradient to its parents:

    parent.grad += node.grad * d(node)/d(parent)

Nothing here knows a derivative; it asks the primitive's rule.
"""

from __future__ import annotations

import builtins
import gc
import numbers
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from operator import itemgetter
from typing import Any, Literal, overload

from . import ops
from .ops import Unary, _relu

Number = int | float

# Whether operations record the graph. A ContextVar is per thread and per
# asyncio task, so ``no_grad()`` in one thread never leaks into another.
_recording: ContextVar[bool] = ContextVar("autograd_mini_recording", default=True)
_is_recording = _recording.get


class _Leaf:
    """Stands in for a primitive on leaves: nothing to differentiate."""

    __slots__ = ()
    name = ""
    symbol = ""


# Typed as a primitive: a leaf's op answers name and symbol like any other,
# and no rule is ever asked of it (backward visits only the inner nodes).
LEAF: ops.Primitive = _Leaf()  # type: ignore[assignment]


def _real(x: object, what: str) -> float:
    """``x`` as a float if it is a real number (not a bool), else TypeError."""
    if type(x) is float:
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        try:
            return float(x)
        except OverflowError:
            raise OverflowError(f"{what}: {type(x).__name__} too large for a float") from None
    raise TypeError(f"{what} must be a real number (int or float), got {type(x).__name__}")


class Value:
    """A number that remembers how it was computed, so it can be differentiated.

    >>> x = Value(2.0, label="x")
    >>> y = x * x + 3 * x
    >>> y.backward()
    >>> x.grad
    7.0
    """

    # No __dict__: a node is a few pointers, which is most of the speed and
    # memory of a scalar engine.
    __slots__ = ("data", "grad", "label", "_op", "parents", "_arg")
    data: float
    grad: float
    label: str
    _op: ops.Primitive  # LEAF for a leaf
    parents: tuple[Value, ...]
    _arg: Any  # the op's constant (None, a float, or dot's (pick, *constants))

    def __init__(self, data: Number, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__}")
        self.data = _real(data, "Value data")
        self.grad = 0.0
        self.label = label
        self._op = LEAF
        self.parents = ()
        self._arg = None

    @property
    def op(self) -> str:
        """The primitive's name (``"+"``, ``"tanh"``, ...); ``""`` for a leaf."""
        return self._op.name

    def __repr__(self) -> str:
        label = f"{self.label!r}, " if self.label else ""
        return f"Value({label}data={self.data!r}, grad={self.grad!r})"

    def __float__(self) -> float:
        return self.data

    # Ordering compares the numbers, as tensors do; == and hash stay identity,
    # so nodes can live in sets and dicts.
    def __lt__(self, other: Value | Number) -> bool:
        return self.data < _data(other)

    def __le__(self, other: Value | Number) -> bool:
        return self.data <= _data(other)

    def __gt__(self, other: Value | Number) -> bool:
        return self.data > _data(other)

    def __ge__(self, other: Value | Number) -> bool:
        return self.data >= _data(other)

    # --- arithmetic: a Value operand makes a two-input node, a number a constant
    def __add__(self, other: Value | Number) -> Value:
        if type(other) is Value:
            return _binary(ops.ADD, self, other)
        return _with_const(ops.ADD_C, self, other)

    __radd__ = __add__

    def __sub__(self, other: Value | Number) -> Value:
        if type(other) is Value:
            return _binary(ops.SUB, self, other)
        return _with_const(ops.SUB_C, self, other)

    def __rsub__(self, other: Number) -> Value:
        return _with_const(ops.RSUB_C, self, other)

    def __mul__(self, other: Value | Number) -> Value:
        if type(other) is Value:
            return _binary(ops.MUL, self, other)
        return _with_const(ops.MUL_C, self, other)

    __rmul__ = __mul__

    def __truediv__(self, other: Value | Number) -> Value:
        if type(other) is Value:
            return _binary(ops.DIV, self, other)
        return _with_const(ops.DIV_C, self, other)

    def __rtruediv__(self, other: Number) -> Value:
        return _with_const(ops.RDIV_C, self, other)

    def __pow__(self, other: Value | Number) -> Value:
        if type(other) is Value:
            return _binary(ops.POW, self, other)
        return _with_const(ops.POW_C, self, other)

    def __rpow__(self, other: Number) -> Value:
        return _with_const(ops.RPOW_C, self, other)

    def __neg__(self) -> Value:
        return _unary(ops.NEG, self)

    def __abs__(self) -> Value:
        return _unary(ops.ABS, self)

    # --- functions
    def exp(self) -> Value:
        """e ** self; overflows to inf, never raises."""
        return _unary(ops.EXP, self)

    def log(self) -> Value:
        """Natural logarithm; ValueError for self <= 0."""
        return _unary(ops.LOG, self)

    def sqrt(self) -> Value:
        """Square root; ValueError for self < 0."""
        return _unary(ops.SQRT, self)

    def tanh(self) -> Value:
        """Hyperbolic tangent; never raises on a finite input."""
        return _unary(ops.TANH, self)

    def sigmoid(self) -> Value:
        """1 / (1 + e^-self), computed without overflow."""
        return _unary(ops.SIGMOID, self)

    def relu(self) -> Value:
        """max(0, self); its derivative at 0 is taken to be 0, as in PyTorch."""
        return _make(_relu(self.data), ops.RELU, (self,), None)  # _unary inlined: hot

    def sin(self) -> Value:
        """Sine of self (in radians).

        >>> Value(0.0).sin().data
        0.0
        """
        return _unary(ops.SIN, self)

    def cos(self) -> Value:
        """Cosine of self (in radians).

        >>> Value(0.0).cos().data
        1.0
        """
        return _unary(ops.COS, self)

    # --- what Python's protocols do with a Value
    def __pos__(self) -> Value:
        """``+x`` is ``x`` itself, as for numbers and tensors: no node."""
        return self

    def __round__(self, ndigits: int | None = None) -> int | float:
        """``round(x)`` rounds the number, as ``round(x.data)``: a plain int or float.

        Rounding is flat almost everywhere (derivative 0), so its result
        leaves the graph, like ``float(x)``.
        """
        return round(self.data, ndigits)

    def __reduce__(self) -> tuple[Callable[[float, str, float], Value], tuple[float, str, float]]:
        """Pickling (and copying) keeps a leaf's data, grad and label.

        A computed node is refused, as PyTorch refuses a non-leaf tensor: its
        graph does not cross pickling. Pickle ``Value(v.data)`` or ``v.data``.
        """
        if self.parents:
            raise TypeError(f"cannot pickle or copy a computed Value (op {self.op!r}, data "
                            f"{self.data!r}): only leaves can be; pickle Value(v.data) "
                            "or v.data instead")
        return (_leaf, (self.data, self.label, self.grad))

    @staticmethod
    def _record(op: ops.Primitive, args: tuple[Value | Number, ...]) -> Value:
        """One node of ``op`` over ``args`` (Values and numbers): how primitives are called."""
        cls = op.__class__
        if cls is Unary and not op.symbol and len(args) == 1:
            return _unary(op, args[0])  # type: ignore[arg-type]  # Unary: checked above
        if cls is ops.Binary and len(args) == 2 and type(args[0]) is Value is type(args[1]):
            return _binary(op, *args)  # type: ignore[arg-type]  # Binary of two Values
        if not isinstance(op, ops.Custom):
            raise TypeError(f"primitive {op.name!r} is applied by its operator or method "
                            f"(x.exp(), x * y, ...), not called with {len(args)} argument(s)")
        op._check_count(args)
        parents = []
        xs = []
        template: list[Value | Number | None] | None = None
        for k, a in enumerate(args):
            if type(a) is Value:
                parents.append(a)
                xs.append(a.data)
            else:  # a number operand: a constant, kept in the node's argument list
                if template is None:
                    template = [None] * len(args)
                template[k] = c = _real(a, f"{op.name}: operand {k}")
                xs.append(c)
        return _make(op.run(xs), op, tuple(parents),
                     None if template is None else tuple(template))

    # --- gradients
    def backward(self, grad: Number = 1.0) -> None:
        """Add ``grad * d(self)/d(node)`` into ``node.grad`` for every node below.

        Gradients accumulate, as in PyTorch: call ``zero_grad()`` between
        passes. A node whose gradient is exactly 0 passes nothing on, so a
        switched-off relu costs nothing and 0·∞ counts as 0, not nan.

        >>> x = Value(3.0); y = x * x; y.backward(); x.grad
        6.0
        """
        seed = _real(grad, "backward grad")
        with _gc_paused():
            order = _backward_order(self)
            if not order:  # a leaf: d(self)/d(self) = 1
                self.grad += seed
                return
            # Gather this pass's gradient of each inner node in its .grad, the
            # earlier total set aside: a second backward() then adds the same
            # amounts again instead of re-propagating what is already there.
            earlier = [node.grad for node in order]
            if any(earlier):
                for node in order:
                    node.grad = 0.0
            self.grad = seed
            for node, before in zip(order, earlier):
                g = node.grad  # complete: every consumer came earlier in order
                node.grad = before + g
                if g == 0.0:
                    continue
                op = node._op
                # A zero local derivative passes nothing either (a switched-off
                # relu input, a zero weight), so 0 · inf counts as 0 both ways.
                if op.__class__ is Unary:  # the commonest node, without the adapter
                    parent = node.parents[0]
                    local = op.d(parent.data, node.data, node._arg)
                    if local:
                        parent.grad += g * local
                else:
                    for parent, local in zip(node.parents, op.floats(node)):
                        if local:
                            parent.grad += g * local

    def zero_grad(self) -> None:
        """Set ``.grad`` to 0 on this node and every node below it."""
        for node in walk(self):
            node.grad = 0.0


def _leaf(data: float, label: str, grad: float) -> Value:
    v = Value(data, label)
    v.grad = grad
    return v


def _data(x: Value | Number) -> float:
    return x.data if type(x) is Value else _real(x, "operand")


# --- building nodes. One constructor, no validation: callers pass floats.
_new = object.__new__


def _make(data: float, op: ops.Primitive, parents: tuple[Value, ...], arg: Any) -> Value:
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    if _is_recording():
        out._op = op
        out.parents = parents
        out._arg = arg
    else:
        out._op = LEAF
        out.parents = ()
        out._arg = None
    return out


def _binary(op: ops.Binary, a: Value, b: Value) -> Value:
    return _make(op.forward(a.data, b.data), op, (a, b), None)


def _unary(op: ops.Unary, x: Value) -> Value:
    return _make(op.forward(x.data), op, (x,), None)


def _with_const(op: ops.Unary, x: Value, c: object) -> Value:
    if type(c) is not float:
        if type(c) is not int and not (isinstance(c, numbers.Real) and not isinstance(c, bool)):
            # Python then raises TypeError naming both types.
            return NotImplemented  # type: ignore[no-any-return]
        c = _real(c, f"operand of {op.name}")
    return _make(op.forward(x.data, c), op, (x,), c)


# --- n-ary nodes


def sum(values: Iterable[Value | Number]) -> Value:
    """The sum of many values as ONE node (not a chain of ``+``).

    >>> from autograd_mini import Value, sum
    >>> sum([Value(1.0), Value(2.0), 3]).data
    6.0
    """
    parents = []
    const = 0.0
    for v in values:
        if type(v) is Value:
            parents.append(v)
        else:
            const += _real(v, "sum operand")
    if not parents:
        return Value(const)
    # The numbers first, then the Values in order: what ops.SUM's forward does.
    total = const
    for v in parents:
        total += v.data
    return _make(total, ops.SUM, tuple(parents), const)


def dot(ws: Sequence[Value | Number], xs: Sequence[Value | Number],
        bias: Value | Number = 0.0) -> Value:
    """Σ wᵢ·xᵢ + bias as ONE node; every operand may be a Value or a number.

    This is a neuron's pre-activation: ``dot(w, x, b)``.

    >>> from autograd_mini import Value, dot
    >>> dot([Value(2.0), Value(3.0)], [4.0, 5.0], bias=Value(1.0)).data
    24.0
    """
    try:
        n, m = len(ws), len(xs)
    except TypeError:  # iterators and generators: take them as lists
        if not (isinstance(ws, Iterable) and isinstance(xs, Iterable)):
            raise TypeError("dot: weights and inputs must be sequences, got "
                            f"{type(ws).__name__} and {type(xs).__name__}") from None
        return dot(list(ws), list(xs), bias)
    if m != n:
        raise ValueError(f"dot: lengths differ ({n} weights, {m} inputs)")
    b_is_value = type(bias) is Value
    b = bias.data if b_is_value else _real(bias, "dot bias")  # type: ignore[union-attr]
    # The two shapes a network makes, each in one checked pass instead of a
    # per-operand dispatch: weights times numbers (the input layer) and
    # weights times Values (the layers above).
    if n and type(xs[0]) is float:
        products = [w.data * x for w, x in zip(ws, xs) if type(w) is Value and type(x) is float]
        if len(products) == n:
            parents = (*ws, bias) if b_is_value else tuple(ws)
            # Each weight's multiplier is its input, the bias's is 1: the
            # local derivatives are the constants themselves (no picker).
            if b_is_value:
                form = _bias_forms.get(n) or _form(n, n + 1, n)
                arg = (None, form, *xs, 1.0)
            else:
                arg = (None, _form(n, n, b), *xs)
            # (Every operand in parents is a Value: the pass above checked.)
            return _make(builtins.sum(products) + b, ops.DOT, parents,  # type: ignore[arg-type]
                         arg)
    elif n:  # (with no pairs the general path below makes a leaf or a bias-only node)
        products = [w.data * x.data for w, x in zip(ws, xs) if type(w) is Value is type(x)]
        if len(products) == n:
            parents = (*ws, *xs, bias) if b_is_value else (*ws, *xs)
            arg = _swapped(n, b_is_value)
            if not b_is_value:  # the bias is a number: the forward keeps it
                arg = (arg[0], _form(n, n, b))
            return _make(builtins.sum(products) + b, ops.DOT, parents,  # type: ignore[arg-type]
                         arg)
    return _dot_general(ws, xs, bias, b_is_value, b)


# [*parents, *constants] -> each parent's partner: Values or floats (ops.Operand).
Picker = Callable[[Sequence[ops.Operand]], Sequence[ops.Operand]]
_pickers: dict[tuple[int, ...], Picker] = {}


def _picker(partner: tuple[int, ...]) -> Picker:
    """A function from [*parents, *constants] to each parent's partner, in one C call."""
    pick = _pickers.get(partner)
    if pick is None:
        pick = itemgetter(*partner) if len(partner) > 1 else _one_picker(partner[0])
        if len(_pickers) < 4096:  # networks reuse a few shapes; odd calls don't grow it
            _pickers[partner] = pick
    return pick


def _one_picker(j: int) -> Picker:
    return lambda table: (table[j],)  # itemgetter of one index returns a bare item


# A DOT node's argument: (picker or None, *constants).
DotArg = tuple[Any, ...]
_swaps: dict[tuple[int, bool], DotArg] = {}


def _swapped(n: int, with_bias: bool) -> DotArg:
    """The DOT argument of n Value·Value pairs (parents w₀…, x₀…[, b]): wᵢ ↔ xᵢ, b ↔ 1.

    Shared by every node of that shape, so a hidden neuron allocates nothing for it.
    """
    arg = _swaps.get((n, with_bias))
    if arg is None:
        pick = _picker((*range(n, 2 * n), *range(n), *((2 * n + 1,) if with_bias else ())))
        form = _form(n, n, 2 * n if with_bias else 0.0)
        arg = (pick, form, 1.0) if with_bias else (pick, form)
        if len(_swaps) < 4096:
            _swaps[n, with_bias] = arg
    return arg


# (where the firsts are, where the seconds are, the bias's index or the bias)
Form = tuple[tuple[int, ...], tuple[int, ...], int | float]
_forms: dict[tuple[int, int, int], Form] = {}
_bias_forms: dict[int, Form] = {}  # _form(n, n + 1, n) by n: the input layer's, looked up fast


def _form(n: int, second: int, bias: int | float) -> Form:
    """How ops.DOT's forward finds n pairs: firsts at 0…n−1, seconds from ``second`` on.

    ``bias``: the bias's index (a Value) or the bias itself (a number).
    """
    if type(bias) is not int:
        return (*_form(n, second, -1)[:2], bias)
    form = _forms.get((n, second, bias))
    if form is None:
        form = (tuple(range(n)), tuple(range(second, second + n)), bias)
        if len(_forms) < 4096:
            _forms[n, second, bias] = form
            if second == n + 1 and bias == n:  # a neuron's: weights, then its bias
                _bias_forms[n] = form
    return form


def _dot_general(ws: Sequence[Value | Number], xs: Sequence[Value | Number],
                 bias: Value | Number, b_is_value: bool, b: float) -> Value:
    """Any mix of Value and number operands.

    parents: the Value operands, ws first, then xs, then the bias; constants:
    the number operands. partner[k]: where parent k's multiplier sits in
    [*parents, *constants].
    """
    operands = [*ws, *xs]
    data = [o.data if type(o) is Value else _real(o, "dot operand") for o in operands]
    is_value = [type(o) is Value for o in operands]
    parents = [o for o, v in zip(operands, is_value) if v]
    constants = [d for d, v in zip(data, is_value) if not v]
    n_parents = len(parents) + b_is_value
    place, k_parent, k_const = [], 0, n_parents
    for v in is_value:
        place.append(k_parent if v else k_const)
        if v:
            k_parent += 1
        else:
            k_const += 1
    n = len(ws)
    partner = [place[(i + n) % (2 * n)] for i, v in enumerate(is_value) if v]
    if b_is_value:
        parents.append(bias)
        partner.append(n_parents + len(constants))
        constants.append(1.0)
    total = builtins.sum(map(float.__mul__, data[:n], data[n:])) + b
    if not parents:
        return Value(total)
    form = (tuple(place[:n]), tuple(place[n:]), n_parents - 1 if b_is_value else b)
    return _make(total, ops.DOT, tuple(parents),  # type: ignore[arg-type]  # Values only
                 (_picker(tuple(partner)), form, *constants))


# --- walking the graph


def walk(root: Value) -> Iterator[Value]:
    """Every node reachable from ``root`` (itself included), each once."""
    seen = {root}
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        for p in node.parents:
            if p not in seen:
                seen.add(p)
                stack.append(p)


def _backward_order(root: Value) -> list[Value]:
    """The inner (non-leaf) nodes below ``root``, each before all of its inputs.

    An iterative depth-first search (no recursion, so a graph a million nodes
    deep works) whose post-order, reversed, is a topological order. Leaves
    are left out: they only receive gradient, and skipping them saves a set
    lookup on every edge into a parameter.
    """
    if not root.parents:
        return []
    seen = {root}
    order: list[Value] = []
    stack = [(root, iter(root.parents))]
    with _gc_paused():
        while stack:
            node, parents = stack[-1]
            for p in parents:
                if p.parents and p not in seen:
                    seen.add(p)
                    stack.append((p, iter(p.parents)))
                    break
            else:  # every input of node is placed: node goes after them
                stack.pop()
                order.append(node)
    order.reverse()
    return order


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while walking a graph.

    Walking allocates many short-lived containers and creates no cycles, yet
    each allocation burst can trigger a collection that traverses the whole
    graph: on a million-node chain that made backward several times slower.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# --- gradients without touching .grad


@overload
def grad(output: Value, inputs: Sequence[Value],
         create_graph: Literal[False] = False) -> list[float]: ...
@overload
def grad(output: Value, inputs: Sequence[Value], create_graph: Literal[True]) -> list[Value]: ...
@overload
def grad(output: Value, inputs: Sequence[Value],
         create_graph: bool) -> list[float] | list[Value]: ...
def grad(output: Value, inputs: Sequence[Value],
         create_graph: bool = False) -> list[float] | list[Value]:
    """d(output)/d(input) for each input, leaving every ``.grad`` as it was.

    With ``create_graph=True`` the results are ``Value``s with their own graph,
    so they can be differentiated again.

    >>> from autograd_mini import Value, grad
    >>> x = Value(3.0)
    >>> grad(x ** 3, [x])
    [27.0]
    >>> dx = grad(x ** 3, [x], create_graph=True)[0]   # 3x²
    >>> grad(dx, [x])                                  # 6x
    [18.0]
    """
    if type(output) is not Value:
        raise TypeError(f"grad: output must be a Value, got {type(output).__name__}")
    if type(inputs) is Value:  # type: ignore[comparison-overlap]  # a slip
        raise TypeError("grad: inputs must be a list of Values, e.g. grad(y, [x]), "
                        "got one Value")
    inputs = list(inputs)
    for x in inputs:
        if type(x) is not Value:
            raise TypeError(f"grad: inputs must be Values, got {type(x).__name__}")
    wanted = set(inputs)
    acc: dict[Value, ops.Operand] = {output: 1.0}
    order = _backward_order(output)
    if create_graph:
        token = _recording.set(True)  # the gradient graph must be recorded
        try:
            _accumulate(order, acc, wanted, "values")
        finally:
            _recording.reset(token)
        results = [acc.get(x, 0.0) for x in inputs]
        return [r if type(r) is Value else Value(r) for r in results]
    with _gc_paused():
        _accumulate(order, acc, wanted, "floats")
    return [float(acc.get(x, 0.0)) for x in inputs]


def _accumulate(order: list[Value], acc: dict[Value, ops.Operand], wanted: set[Value],
                mode: str) -> None:
    """Chain rule into ``acc`` (node -> gradient) instead of ``.grad``.

    Leaves get gradient only if asked for. In "values" mode the rules are
    called with the nodes, so every product and sum below is itself recorded.
    """
    for node in order:
        # A node whose consumers all passed nothing has no entry: gradient 0.
        g = acc.pop(node, 0.0) if node not in wanted else acc.get(node, 0.0)
        # As in backward(), a zero factor passes nothing. With create_graph a
        # zero *Value* still flows: its derivatives need not be zero. A plain
        # number 0 is a constant, zero to every order.
        if type(g) is float and g == 0.0:
            continue
        locals_ = getattr(node._op, mode)(node)
        for parent, local in zip(node.parents, locals_):
            if type(local) is float and local == 0.0:
                continue
            if parent.parents or parent in wanted:
                contribution = g * local
                if parent in acc:
                    acc[parent] = acc[parent] + contribution
                else:
                    acc[parent] = contribution


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block operations record no graph (for updates and evaluation).

    It affects only the current thread (or asyncio task).

    >>> from autograd_mini import Value, no_grad
    >>> w = Value(1.0)
    >>> with no_grad():
    ...     w2 = w * 2
    >>> w2.parents
    ()
    """
    token = _recording.set(False)
    try:
        yield
    finally:
        _recording.reset(token)


def is_grad_enabled() -> bool:
    """Whether operations in this thread record the graph right now.

    >>> with no_grad():
    ...     is_grad_enabled()
    False
    """
    return _recording.get()
