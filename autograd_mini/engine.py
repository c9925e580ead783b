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
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from . import ops

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


LEAF = _Leaf()


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

    def __init__(self, data: Number, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__}")
        self.data = _real(data, "Value data")
        self.grad = 0.0
        self.label = label
        self._op = LEAF
        self.parents: tuple[Value, ...] = ()
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
        return _unary(ops.TANH, self)

    def sigmoid(self) -> Value:
        """1 / (1 + e^-self), computed without overflow."""
        return _unary(ops.SIGMOID, self)

    def relu(self) -> Value:
        """max(0, self); its derivative at 0 is taken to be 0, as in PyTorch."""
        return _unary(ops.RELU, self)

    # --- gradients
    def backward(self, grad: Number = 1.0) -> None:
        """Add ``grad * d(self)/d(node)`` into ``node.grad`` for every node below.

        Gradients accumulate: call ``zero_grad()`` between passes.

        >>> x = Value(3.0); y = x * x; y.backward(); x.grad
        6.0
        """
        seed = _real(grad, "backward grad")
        order = _backward_order(self)
        if not order:  # a leaf: d(self)/d(self) = 1
            self.grad += seed
            return
        # This pass's gradients of the inner nodes, kept apart from their .grad
        # so that a second backward() adds the same amounts again (PyTorch's
        # accumulation) instead of re-propagating what is already there.
        fresh = dict.fromkeys(order, 0.0)
        fresh[self] = seed
        with _gc_paused():
            for node in order:
                g = fresh[node]
                node.grad += g
                for parent, local in zip(node.parents, node._op.floats(node)):
                    if parent.parents:
                        fresh[parent] += g * local
                    else:
                        parent.grad += g * local

    def zero_grad(self) -> None:
        """Set ``.grad`` to 0 on this node and every node below it."""
        for node in walk(self):
            node.grad = 0.0


def _data(x: Value | Number) -> float:
    return x.data if type(x) is Value else _real(x, "operand")


# --- building nodes. One constructor, no validation: callers pass floats.
_new = object.__new__


def _make(data: float, op: object, parents: tuple, arg: object) -> Value:
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
    return _make(op.forward(x.data, None), op, (x,), None)


def _with_const(op: ops.Unary, x: Value, c: object) -> Value:
    if type(c) is not float:
        if type(c) is not int and not (isinstance(c, numbers.Real) and not isinstance(c, bool)):
            return NotImplemented  # Python then raises TypeError naming both types
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
    total = 0.0
    for v in values:
        if type(v) is Value:
            parents.append(v)
            total += v.data
        else:
            c = _real(v, "sum operand")
            const += c
            total += c
    if not parents:
        return Value(total)
    return _make(total, ops.SUM, tuple(parents), const)


def dot(ws: Sequence[Value | Number], xs: Sequence[Value | Number]) -> Value:
    """Σ wᵢ·xᵢ as ONE node; each operand may be a Value or a number.

    A neuron's pre-activation is ``dot([*w, b], [*x, 1.0])``: the bias is the
    weight of an input that is always 1.

    >>> from autograd_mini import Value, dot
    >>> dot([Value(2.0), Value(3.0)], [4.0, 5.0]).data
    23.0
    """
    if len(ws) != len(xs):
        raise ValueError(f"dot: lengths differ ({len(ws)} weights, {len(xs)} inputs)")
    wd = [w.data if type(w) is Value else _real(w, "dot operand") for w in ws]
    xd = [x.data if type(x) is Value else _real(x, "dot operand") for x in xs]
    total = builtins.sum(map(float.__mul__, wd, xd))
    # parents: the Value operands, ws first, then xs. partner[k]: what parent k
    # is multiplied by, as an index into parents or as the constant itself.
    w_is = [type(w) is Value for w in ws]
    x_is = [type(x) is Value for x in xs]
    parents = [w for w, is_v in zip(ws, w_is) if is_v]
    n_w = len(parents)
    parents += [x for x, is_v in zip(xs, x_is) if is_v]
    if not parents:
        return Value(total)
    # Where each pair's Value operands sit in parents.
    w_index, x_index = [], []
    k_w, k_x = 0, n_w
    for wv, xv in zip(w_is, x_is):
        w_index.append(k_w if wv else None)
        x_index.append(k_x if xv else None)
        k_w += wv
        k_x += xv
    partner = [None] * len(parents)
    for i in range(len(wd)):
        if w_is[i]:
            partner[w_index[i]] = x_index[i] if x_is[i] else xd[i]
        if x_is[i]:
            partner[x_index[i]] = w_index[i] if w_is[i] else wd[i]
    return _make(total, ops.DOT, tuple(parents), tuple(partner))


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
    """The inner (non-leaf) nodes below ``root``, each after all its consumers.

    Kahn's algorithm, iterative, so a graph a million nodes deep needs no
    recursion. Leaves are left out: they only receive gradient, and skipping
    them saves a dictionary operation on every edge into a parameter.
    """
    if not root.parents:
        return []
    # Pass 1: how many times each inner node is consumed inside this graph.
    consumers = {root: 0}
    stack = [root]
    with _gc_paused():
        while stack:
            for p in stack.pop().parents:
                if p.parents:
                    if p in consumers:
                        consumers[p] += 1
                    else:
                        consumers[p] = 1
                        stack.append(p)
        # Pass 2: a node is ready once every consumer has been visited.
        order = []
        ready = [root]
        while ready:
            node = ready.pop()
            order.append(node)
            for p in node.parents:
                if p.parents:
                    left = consumers[p] - 1
                    consumers[p] = left
                    if not left:
                        ready.append(p)
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


def grad(output: Value, inputs: Sequence[Value], create_graph: bool = False) -> list:
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
    inputs = list(inputs)
    for x in inputs:
        if type(x) is not Value:
            raise TypeError(f"grad: inputs must be Values, got {type(x).__name__}")
    wanted = set(inputs)
    acc: dict[Value, object] = {output: 1.0}
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


def _accumulate(order: list[Value], acc: dict, wanted: set, mode: str) -> None:
    """Chain rule into ``acc`` (node -> gradient) instead of ``.grad``.

    Leaves get gradient only if asked for. In "values" mode the rules are
    called with the nodes, so every product and sum below is itself recorded.
    """
    for node in order:
        g = acc.pop(node) if node not in wanted else acc[node]
        locals_ = getattr(node._op, mode)(node)
        for parent, local in zip(node.parents, locals_):
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
    """Whether operations in this thread record the graph right now."""
    return _recording.get()
