"""Random graphs grown node by node, backpropagated from random nodes, and every
``.grad`` compared with a naive reference kept by the test itself.

The reference knows nothing of the engine's backward: for each node it records
the local derivative along each edge, written here from calculus, and a
gradient is the sum over all paths of the products of those locals (a
memoised recursion over the graph). It also keeps the ``.grad`` every node
should have, so accumulation over several ``backward()`` calls, ``grad()``
leaving ``.grad`` alone, ``zero_grad()`` and ``no_grad()`` are all checked
after every step.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
)

from autograd_mini import Value, dot, grad, no_grad
from autograd_mini import sum as vsum

numbers = st.floats(-3.0, 3.0, allow_nan=False)
# Locals and values beyond this are left out: the reference would lose the
# digits the comparison needs, and products of many would overflow.
BIG = 1e4


def _d_tanh(x: float) -> float:
    # sech²(x) = 4e/(1 + e)² with e = exp(−2|x|): no 1 − (nearly 1) cancellation.
    e = math.exp(-2.0 * abs(x))
    return 4.0 * e / (1.0 + e) ** 2


def _sigmoid(x: float) -> float:
    # Each branch is accurate to the last digit (no 1 − (nearly 1) cancellation).
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


# name -> (build on the engine, reference: (x, c) -> (value, d value/dx), or
# None outside the domain). c is a number drawn with each use.
Rule = Callable[[float, float], "tuple[float, float] | None"]
UNARY: dict[str, tuple[Callable[[Value, float], Value], Rule]] = {
    "-x": (lambda a, c: -a, lambda x, c: (-x, -1.0)),
    "abs": (lambda a, c: abs(a), lambda x, c: (abs(x), 1.0 if x > 0 else -1.0 if x < 0 else 0.0)),
    "exp": (lambda a, c: a.exp(), lambda x, c: (math.exp(x), math.exp(x)) if x < 9 else None),
    "log": (lambda a, c: a.log(), lambda x, c: (math.log(x), 1 / x) if x > 0 else None),
    "sqrt": (lambda a, c: a.sqrt(),
             lambda x, c: (math.sqrt(x), 0.5 / math.sqrt(x)) if x > 0 else None),
    "tanh": (lambda a, c: a.tanh(), lambda x, c: (math.tanh(x), _d_tanh(x))),
    "sigmoid": (lambda a, c: a.sigmoid(),
                lambda x, c: (_sigmoid(x), _sigmoid(x) * _sigmoid(-x))),
    "relu": (lambda a, c: a.relu(), lambda x, c: (x, 1.0) if x > 0 else (0.0, 0.0)),
    "x + c": (lambda a, c: a + c, lambda x, c: (x + c, 1.0)),
    "c + x": (lambda a, c: c + a, lambda x, c: (c + x, 1.0)),
    "x - c": (lambda a, c: a - c, lambda x, c: (x - c, 1.0)),
    "c - x": (lambda a, c: c - a, lambda x, c: (c - x, -1.0)),
    "x * c": (lambda a, c: a * c, lambda x, c: (x * c, c)),
    "c * x": (lambda a, c: c * a, lambda x, c: (c * x, c)),
    "x / c": (lambda a, c: a / c, lambda x, c: (x / c, 1 / c) if c != 0 else None),
    "c / x": (lambda a, c: c / a, lambda x, c: (c / x, -c / (x * x)) if x != 0 else None),
    "x ** n": (lambda a, c: a ** round(c),
               lambda x, c: (x ** round(c), round(c) * x ** (round(c) - 1) if round(c) else 0.0)
               if x != 0 else None),
    "x ** c": (lambda a, c: a**c, lambda x, c: (x**c, c * x ** (c - 1)) if x > 0 else None),
    "c ** x": (lambda a, c: (abs(c) + 0.5) ** a,
               lambda x, c: ((abs(c) + 0.5) ** x, (abs(c) + 0.5) ** x * math.log(abs(c) + 0.5))),
}

# name -> (build, reference: (x, y) -> (value, d/dx, d/dy) or None)
BINARY: dict[str, tuple[Callable[[Value, Value], Value], Callable]] = {
    "+": (lambda a, b: a + b, lambda x, y: (x + y, 1.0, 1.0)),
    "-": (lambda a, b: a - b, lambda x, y: (x - y, 1.0, -1.0)),
    "*": (lambda a, b: a * b, lambda x, y: (x * y, y, x)),
    "/": (lambda a, b: a / b, lambda x, y: (x / y, 1 / y, -x / (y * y)) if y != 0 else None),
    "**": (lambda a, b: a**b,
           lambda x, y: (x**y, y * x ** (y - 1), x**y * math.log(x)) if x > 0 else None),
}


def _ok(*xs: float) -> bool:
    return all(math.isfinite(x) and abs(x) <= BIG for x in xs)


def _try(reference: Callable, *args: float) -> tuple | None:
    """The reference's numbers if they are all moderate, else None (no node is made)."""
    try:
        r = reference(*args)
    except ArithmeticError:  # overflow, or a division by an underflowed square
        return None
    return r if r is not None and _ok(*r) else None


class Graphs(RuleBasedStateMachine):
    nodes = Bundle("nodes")

    def __init__(self) -> None:
        super().__init__()
        self.made: list[Value] = []
        self.edges: dict[Value, list[tuple[Value, float]]] = {}  # (parent, local), engine order
        self.expected: dict[Value, float] = {}  # the .grad each node should now have
        self.scale: dict[Value, float] = {}  # Σ|terms| behind expected, for the tolerance

    def _keep(self, node: Value, value: float, edges: list[tuple[Value, float]],
              size: float | None = None) -> Value:
        """Check the engine's new node against the reference and remember it.

        ``size``: the sum of |terms| when the value is a sum that may cancel.
        """
        size = abs(value) if size is None else size
        assert abs(node.data - value) <= 1e-12 * size, (node, value)
        assert node.parents == tuple(p for p, _ in edges)  # in argument order
        assert node.grad == 0.0
        self.made.append(node)
        self.edges[node] = edges
        self.expected[node] = 0.0
        self.scale[node] = 0.0
        return node

    # --- growing the graph

    @initialize(target=nodes, x=numbers)
    def first_leaf(self, x: float) -> Value:
        return self.leaf(x)

    @rule(target=nodes, x=numbers)
    def leaf(self, x: float) -> Value:
        return self._keep(Value(x, label=f"x{len(self.made)}"), x, [])

    @rule(target=nodes, name=st.sampled_from(sorted(UNARY)), a=nodes, c=numbers,
          newest=st.booleans())
    def unary(self, name: str, a: Value, c: float, newest: bool):
        a = self.made[-1] if newest else a  # grows deep graphs as well as wide ones
        build, reference = UNARY[name]
        r = _try(reference, a.data, c)
        if r is None:
            return multiple()
        value, local = r
        return self._keep(build(a, c), value, [(a, local)])

    @rule(target=nodes, name=st.sampled_from(sorted(BINARY)), a=nodes, b=nodes,
          newest=st.booleans())
    def binary(self, name: str, a: Value, b: Value, newest: bool):
        a = self.made[-1] if newest else a
        build, reference = BINARY[name]
        r = _try(reference, a.data, b.data)
        if r is None:
            return multiple()
        value, da, db = r
        return self._keep(build(a, b), value, [(a, da), (b, db)])  # a may be b: two edges

    @rule(target=nodes, terms=st.lists(st.one_of(nodes, numbers), min_size=1, max_size=6))
    def sum(self, terms: list):
        values = [float(t) for t in terms]
        edges = [(t, 1.0) for t in terms if isinstance(t, Value)]
        return self._keep(vsum(terms), math.fsum(values), edges, sum(map(abs, values)))

    @rule(target=nodes,
          pairs=st.lists(st.tuples(st.one_of(nodes, numbers), st.one_of(nodes, numbers)),
                         max_size=4),
          bias=st.one_of(nodes, numbers))
    def dot(self, pairs: list, bias: object):
        ws, xs = [w for w, _ in pairs], [x for _, x in pairs]
        terms = [*(float(w) * float(x) for w, x in pairs), float(bias)]
        # the engine's parent order: Value weights, then Value inputs, then the bias
        edges = [(w, float(x)) for w, x in pairs if isinstance(w, Value)]
        edges += [(x, float(w)) for w, x in pairs if isinstance(x, Value)]
        edges += [(bias, 1.0)] if isinstance(bias, Value) else []
        if not _ok(*terms):
            return multiple()
        node = dot(ws, xs, bias=bias)
        return self._keep(node, math.fsum(terms), edges, sum(map(abs, terms)))

    @rule(target=nodes, name=st.sampled_from(["tanh", "x * c", "c - x"]), a=nodes, c=numbers)
    def without_recording(self, name: str, a: Value, c: float) -> Value:
        build, reference = UNARY[name]
        with no_grad():
            node = build(a, c)
        return self._keep(node, reference(a.data, c)[0], [])  # a leaf, cut off from a

    # --- the reference

    def paths(self, root: Value, target: Value) -> tuple[float, float]:
        """d root / d target as the sum over paths, and the sum of |path products|."""
        memo: dict[Value, tuple[float, float]] = {}

        def down(node: Value) -> tuple[float, float]:
            if node is target:
                return 1.0, 1.0
            if node not in memo:
                total, size = 0.0, 0.0
                for parent, local in self.edges[node]:
                    d, s = down(parent)
                    total += local * d
                    size += abs(local) * s
                memo[node] = (total, size)
            return memo[node]

        return down(root)

    def below(self, root: Value) -> set[Value]:
        seen, stack = {root}, [root]
        while stack:
            for parent, _ in self.edges[stack.pop()]:
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return seen

    # --- differentiating

    @rule(root=nodes, seed=st.sampled_from([1.0, -0.5, 2.0]))
    def backward(self, root: Value, seed: float) -> None:
        grads = {n: self.paths(root, n) for n in self.made}
        if not all(_ok(d, s) for d, s in grads.values()):
            return  # too large to compare closely; the next step tries another root
        root.backward(seed)
        for n, (d, s) in grads.items():
            self.expected[n] += seed * d
            self.scale[n] += abs(seed) * s

    @rule(seed=st.sampled_from([1.0, -0.5, 2.0]))
    def backward_from_the_newest(self, seed: float) -> None:
        """The newest node usually sits on the deepest graph."""
        self.backward(self.made[-1], seed)

    @rule(root=nodes, inputs=st.lists(nodes, min_size=1, max_size=5))
    def grad(self, root: Value, inputs: list[Value]) -> None:
        reference = [self.paths(root, x) for x in inputs]
        if not all(_ok(d, s) for d, s in reference):
            return
        floats = grad(root, inputs)
        values = grad(root, inputs, create_graph=True)
        for f, v, (d, s) in zip(floats, values, reference):
            assert isinstance(v, Value)
            assert abs(f - d) <= 1e-12 * s + 1e-300, (f, d)
            assert abs(v.data - d) <= 1e-12 * s + 1e-300, (v.data, d)

    @rule(node=nodes)
    def zero_grad(self, node: Value) -> None:
        node.zero_grad()
        for n in self.below(node):
            self.expected[n] = 0.0
            self.scale[n] = 0.0

    @invariant()
    def every_grad_is_as_the_reference_says(self) -> None:
        for n in self.made:
            assert abs(n.grad - self.expected[n]) <= 1e-12 * self.scale[n] + 1e-300, (
                n, self.expected[n])


Graphs.TestCase.settings = settings(settings(), stateful_step_count=50)
test_random_graphs_node_by_node = Graphs.TestCase
