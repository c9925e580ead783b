"""Backpropagation one edge at a time, each step a chain-rule statement.

``backward_steps(root)`` does what ``root.backward()`` does, but stops after
every edge (node -> parent) to report it: how much gradient reached the node
(``upstream``), the node's local derivative with respect to that parent
(``local``, from the same rule in :mod:`autograd_mini.ops` that ``backward()``
uses) and their product (``contribution``), which it has just added to the
parent's ``.grad``.

>>> from autograd_mini import Value
>>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
>>> c = a * b; c.label = "c"
>>> for step in backward_steps(c):
...     print(step.explain())
∂c/∂a += ∂c/∂c · ∂c/∂a = 1 × -3 = -3
∂c/∂b += ∂c/∂c · ∂c/∂b = 1 × 2 = 2
>>> a.grad, b.grad
(-3.0, 2.0)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .engine import Value, _backward_order, _real

__all__ = ["Step", "backward_steps", "fmt", "formula", "node_names"]


def fmt(x: float, digits: int = 9) -> str:
    """``x`` with ``digits`` significant digits but at most 9 decimals, zeros dropped.

    The documents print 9 decimals, so 0.08216704056 shows as 0.082167041;
    very small or large numbers switch to scientific notation.

    >>> fmt(0.08216704056423078), fmt(0.5932699921071872, 4), fmt(2.0), fmt(-1.5e-7)
    ('0.082167041', '0.5933', '2', '-1.5e-07')
    """
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return repr(x)
    e = math.floor(math.log10(abs(x)))
    if e < -4 or e >= digits:
        return f"{x:.{digits}g}"
    text = f"{x:.{min(9, max(0, digits - 1 - e))}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def node_names(root: Value) -> dict[Value, str]:
    """A display name for every node below ``root``, in forward order (inputs first).

    A node's label, or for an unlabeled node ``v1``, ``v2``, ... numbered in
    the order the values were computed, so a trace and a drawing of the same
    graph call a node by the same name. A generated name that is some node's
    label is skipped, so two different nodes never share a generated name.

    >>> x = Value(3.0, label="x")
    >>> list(node_names((x * 2).exp()).values())
    ['x', 'v1', 'v2']
    >>> list(node_names(Value(2.0, label="v1") * 3).values())
    ['v1', 'v2']
    """
    inner = _backward_order(root)[::-1] or [root]  # inputs come before outputs
    nodes = dict.fromkeys(v for node in inner for v in (*node.parents, node))
    taken = {v.label for v in nodes if v.label}  # all labels first: v1 may come late
    names: dict[Value, str] = {}
    unlabeled = 0
    for v in nodes:
        if v.label:
            names[v] = v.label
            continue
        unlabeled += 1
        while f"v{unlabeled}" in taken:
            unlabeled += 1
        names[v] = f"v{unlabeled}"
    return names


def formula(v: Value, names: dict[Value, str]) -> str:
    """How ``v`` was computed, in its inputs' names: "sigmoid(net_h1)", "w1·i1 + w2·i2 + b1".

    >>> x = Value(3.0, label="x")
    >>> y = (x * 2).exp()
    >>> [formula(v, node_names(y)) for v in (y.parents[0], y)]
    ['x * 2', 'exp(v1)']
    """
    op, c = v._op, v._arg
    args = [names[p] for p in v.parents]
    if op.name == "dot" and len(args) % 2 == 1:  # weights, then inputs, then the bias
        n = len(args) // 2
        return " + ".join([f"{w}·{x}" for w, x in zip(args[:n], args[n:2 * n])] + args[2 * n:])
    if op.name == "sum":
        return " + ".join(args + ([fmt(c)] if c else []))
    if op.symbol and len(args) == 1:
        return op.symbol.format(x=args[0], c=fmt(c) if isinstance(c, float) else "")
    if len(args) == 2:
        return f"{args[0]} {op.name} {args[1]}"
    return f"{op.name}({', '.join(args)})"


@dataclass(frozen=True)
class Step:
    """One edge of backpropagation: ``parent.grad += upstream · local``.

    >>> from autograd_mini import Value
    >>> x = Value(3.0, label="x")
    >>> y = x * x; y.label = "y"
    >>> [(s.position, s.upstream, s.local, s.contribution) for s in backward_steps(y)]
    [(0, 1.0, 3.0, 3.0), (1, 1.0, 3.0, 3.0)]
    """

    index: int  #: 0 for the first edge backward() visits, then 1, 2, ...
    node: Value  #: the output of the operation
    parent: Value  #: the input receiving gradient
    position: int  #: where parent sits in node.parents (x * x has two edges)
    upstream: float  #: d root / d node
    local: float  #: d node / d parent
    contribution: float  #: upstream · local, added to parent.grad
    root: Value = field(repr=False)
    names: dict[Value, str] = field(repr=False, compare=False)

    def explain(self, number: Callable[[float], str] = fmt) -> str:
        """The chain rule for this edge, with names and numbers, on one line.

        ``number`` writes each number: ``fmt`` (9 significant digits), or ``repr`` for all.
        """
        r, n, p = self.names[self.root], self.names[self.node], self.names[self.parent]
        return (f"∂{r}/∂{p} += ∂{r}/∂{n} · ∂{n}/∂{p} = "
                f"{number(self.upstream)} × {number(self.local)} = {number(self.contribution)}")

    def __str__(self) -> str:
        return self.explain()


def backward_steps(root: Value, grad: float = 1.0) -> Iterator[Step]:
    """``root.backward(grad)`` one edge at a time, yielding a ``Step`` per edge.

    The order and the arithmetic are backward()'s own, so consuming the whole
    iterator leaves exactly the gradients ``root.backward(grad)`` would. Each
    step's contribution is already in ``parent.grad`` when it is yielded. A
    node whose gradient is 0, or an edge whose local derivative is 0, passes
    nothing on (as in backward()): such a step reports a contribution of 0.

    >>> x = Value(3.0, label="x")
    >>> y = x * x; y.label = "y"
    >>> [str(s) for s in backward_steps(y)]
    ['∂y/∂x += ∂y/∂y · ∂y/∂x = 1 × 3 = 3', '∂y/∂x += ∂y/∂y · ∂y/∂x = 1 × 3 = 3']
    >>> x.grad
    6.0
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward_steps: root must be a Value, got {type(root).__name__}")
    return _steps(root, _real(grad, "backward_steps grad"))


def _steps(root: Value, seed: float) -> Iterator[Step]:
    names = node_names(root)
    order = _backward_order(root)
    if not order:  # a leaf: d(root)/d(root) = 1, and no edges
        root.grad += seed
        return
    # The same bookkeeping as Value.backward: this pass's gradient of each inner
    # node is gathered in its .grad, the earlier total set aside until the node
    # is reached (then the node's gradient is complete: its consumers came first).
    earlier = [node.grad for node in order]
    cleared = any(earlier)
    if cleared:
        for node in order:
            node.grad = 0.0
    root.grad = seed
    done = 0
    index = 0
    try:
        for node, before in zip(order, earlier):
            g = node.grad
            node.grad = before + g
            done += 1
            for position, (parent, local) in enumerate(zip(node.parents, node._op.floats(node))):
                if g == 0.0 or local == 0.0:
                    contribution = 0.0  # nothing flows; 0 · inf counts as 0
                else:
                    contribution = g * local
                    parent.grad += contribution
                yield Step(index, node, parent, position, g, local, contribution, root, names)
                index += 1
    finally:
        # Stopped early: the nodes not reached yet get their earlier total back,
        # plus whatever has flowed into them so far.
        if cleared:
            for node, before in zip(order[done:], earlier[done:]):
                node.grad = before + node.grad
