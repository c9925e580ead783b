"""compile: the generated program gives what grad() gives, to the last bit.

Every check builds the graph afresh at the numbers the compiled function is
called with and compares with ``grad(output, inputs)``: the value and every
gradient bit for bit (nan equal to nan), or the same error, same type and
message.
"""

from __future__ import annotations

import ast
import math
import struct
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd_mini as am
from autograd_mini import Value, compile, dot, grad, no_grad, ops
from autograd_mini import sum as vsum
from autograd_mini.nn import MLP
from autograd_mini.optim import SGD

compile_module = sys.modules["autograd_mini.compile"]


def bits(x: float) -> tuple:
    """A float's identity: equal bits, any nan equal to any nan."""
    return ("nan",) if x != x else struct.pack("<d", x)


def outcome(fn):
    """``fn()``'s (value, grads) as bits, or its error's type and message."""
    try:
        value, grads = fn()
    except Exception as e:  # the point is to compare errors too
        return (type(e), str(e))
    return bits(value), [bits(g) for g in grads]


def reference(build, numbers):
    """Build the graph at ``numbers`` and ask grad()."""
    def run():
        inputs, out = build(numbers)
        return out.data, grad(out, inputs)
    return outcome(run)


def check(build, at, *others):
    """Compile at ``at``; at ``at`` and each of ``others`` compiled == grad()."""
    inputs, out = build(at)
    f = compile(out, inputs)
    for numbers in (at, *others):
        assert outcome(lambda n=numbers: f(*n)) == reference(build, numbers), numbers
    return f


# --- every primitive, at ordinary points, kinks and domain edges ---------------------

UNARY = {
    "neg": lambda x: -x, "abs": abs, "exp": lambda x: x.exp(), "log": lambda x: x.log(),
    "sqrt": lambda x: x.sqrt(), "tanh": lambda x: x.tanh(), "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(),
    "x+c": lambda x: x + 2.5, "c+x": lambda x: 2.5 + x, "x-c": lambda x: x - 2.5,
    "c-x": lambda x: 2.5 - x, "x*c": lambda x: x * -3.0, "x*0": lambda x: x * 0.0,
    "x/c": lambda x: x / 4.0, "c/x": lambda x: 3.0 / x, "x**2": lambda x: x ** 2,
    "x**0.5": lambda x: x ** 0.5, "x**-1": lambda x: x ** -1, "x**0": lambda x: x ** 0,
    "x**3.5": lambda x: x ** 3.5, "2**x": lambda x: 2 ** x, "(-2)**x": lambda x: (-2.0) ** x,
    "0**x": lambda x: 0.0 ** x,
}
BINARY = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "**": lambda a, b: a ** b,
}
POINTS = [0.0, -0.0, 1.0, -1.0, 0.5, -2.0, 3.0, 1e-3, 40.0, -800.0, 800.0,
          math.inf, -math.inf, math.nan]


@pytest.mark.parametrize("name", UNARY)
def test_every_unary_primitive(name):
    fn = UNARY[name]

    def build(n):
        x = Value(n[0], label="x")
        return [x], fn(x) * 1.5  # one node above it, so its gradient is passed on

    for start in (1.0, 0.5, -1.0, 2.0):
        try:
            build([start])
        except (ValueError, ZeroDivisionError):
            continue
        check(build, [start], *([p] for p in POINTS))
        break
    else:
        pytest.fail("no start point builds")


@pytest.mark.parametrize("name", BINARY)
def test_every_binary_primitive(name):
    fn = BINARY[name]

    def build(n):
        a, b = Value(n[0], label="a"), Value(n[1], label="b")
        return [a, b], fn(a, b)

    check(build, [2.0, 3.0], *([p, q] for p in POINTS[:10] for q in POINTS[:10]))


def test_sum_and_dot_in_every_shape():
    def build(n):
        a, b, c = (Value(v, label=k) for v, k in zip(n, "abc"))
        terms = [
            vsum([a, b, c]), vsum([a, 2.0, b, -0.5, a]), vsum([a]),
            dot([a, b], [c, a]), dot([a, b], [c, a], b), dot([a, b], [0.5, -2.0]),
            dot([a, b], [0.5, -2.0], c), dot([a, b], [0.5, -2.0], 7.25),
            dot([a, 3.0, b], [2.0, c, 4.0], -1.5), dot([2.0, a], [b, 1.0], c),
            dot([a], [b], 0.0), dot([a, b], [c, a], 3.0),
        ]
        return [a, b, c], vsum([t * (k + 1) for k, t in enumerate(terms)])

    check(build, [1.0, 2.0, 3.0], [-1.0, 0.0, 0.5], [0.0, -0.0, 0.0], [math.inf, 1.0, 0.0],
          [1e308, 1e308, -1e308], [math.nan, 1.0, 2.0])


def test_forward_of_sum_and_dot_gives_the_engines_number():
    # compile reads a sum's or dot's number off ops.SUM/ops.DOT's forward
    nodes = [vsum([Value(1.5), 2.0, Value(-0.25), 1e16, Value(3.0)]),
             dot([Value(0.1), Value(0.2)], [0.3, 0.7]),
             dot([Value(0.1), 2.0], [3.0, Value(5.0)], 1.1),
             dot([Value(1e16), Value(1.0)], [Value(1.0), Value(1.0)], -1e16),
             dot([Value(0.1)] * 3, [0.3] * 3, Value(0.5))]
    for node in nodes:
        assert bits(node._op.forward([p.data for p in node.parents], node._arg)) == \
            bits(node.data)


def test_kinks_are_decided_at_run_time():
    def build(n):
        x, y = Value(n[0], label="x"), Value(n[1], label="y")
        return [x, y], (x * y).relu() + abs(x - y) + (x - 1).relu() * y

    f = check(build, [2.0, 3.0], [-2.0, 3.0], [3.0, 3.0], [0.0, 0.0], [5.0, -1.0])
    assert "if " in f.source


def test_domain_errors_are_the_engines():
    def build(n):
        x, y = Value(n[0], label="x"), Value(n[1], label="y")
        return [x, y], (x.log() + y.sqrt()) / (x - y) + (x ** y)

    check(build, [4.0, 2.0], [-1.0, 2.0], [1.0, -1.0], [2.0, 2.0], [-8.0, 0.5], [0.0, -1.0])
    inputs, out = build([4.0, 2.0])
    f = compile(out, inputs)
    with pytest.raises(ValueError, match=r"log: operand must be > 0, got -1\.0"):
        f(-1.0, 2.0)
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        f(2.0, 2.0)


def test_an_infinite_gradient_meeting_a_zero_factor_is_skipped_as_in_grad():
    # sqrt'(0) = inf; relu switched off gives 0: grad() passes nothing, not nan
    def build(n):
        x, w = Value(n[0], label="x"), Value(n[1], label="w")
        return [x, w], (x.sqrt() * w).relu() + (x * 0.0).exp() * w

    check(build, [4.0, 1.0], [0.0, -1.0], [0.0, 0.0], [0.0, 1.0], [math.inf, 0.0])


# --- random graphs with shared sub-expressions --------------------------------------

NUMBERS = st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -3.0, 0.25, 7.0, 1e-3,
                           -40.0, 100.0, 1e10])
UNARY_NAMES = sorted(UNARY)
BINARY_NAMES = sorted(BINARY)


@st.composite
def programs(draw):
    """Instructions that build a graph; operands index earlier nodes (so they share)."""
    n_leaves = draw(st.integers(1, 4))
    steps = []
    for _ in range(draw(st.integers(1, 14))):
        kind = draw(st.sampled_from(["unary", "binary", "binary", "sum", "dot"]))
        pick = st.integers(0, 10_000)
        if kind == "unary":
            steps.append(("unary", draw(st.sampled_from(UNARY_NAMES)), draw(pick)))
        elif kind == "binary":
            steps.append(("binary", draw(st.sampled_from(BINARY_NAMES)), draw(pick), draw(pick)))
        elif kind == "sum":
            steps.append(("sum", draw(st.lists(st.one_of(pick, NUMBERS.map(lambda c: ("c", c))),
                                               min_size=1, max_size=5))))
        else:
            k = draw(st.integers(1, 4))
            operand = st.one_of(pick, NUMBERS.map(lambda c: ("c", c)))
            steps.append(("dot", draw(st.lists(operand, min_size=k, max_size=k)),
                          draw(st.lists(operand, min_size=k, max_size=k)),
                          draw(st.one_of(st.none(), operand))))
    inputs = draw(st.lists(st.booleans(), min_size=n_leaves, max_size=n_leaves))
    return n_leaves, steps, inputs


def builder(program, frozen):
    n_leaves, steps, chosen = program

    def build(numbers):
        it = iter(numbers)
        leaves = [Value(next(it) if chosen[k] else frozen[k], label=f"x{k}")
                  for k in range(n_leaves)]
        nodes = list(leaves)

        def get(o):
            return o[1] if type(o) is tuple else nodes[o % len(nodes)]

        for step in steps:
            if step[0] == "unary":
                nodes.append(UNARY[step[1]](nodes[step[2] % len(nodes)]))
            elif step[0] == "binary":
                nodes.append(BINARY[step[1]](nodes[step[2] % len(nodes)],
                                             nodes[step[3] % len(nodes)]))
            elif step[0] == "sum":
                nodes.append(vsum([get(o) for o in step[1]]))
            else:
                ws, xs = [get(o) for o in step[1]], [get(o) for o in step[2]]
                nodes.append(dot(ws, xs) if step[3] is None else dot(ws, xs, get(step[3])))
        # every node in the graph: each one built is each one computed
        out = vsum(nodes[n_leaves:]) if len(nodes) > n_leaves + 1 else nodes[-1]
        inputs = [leaf for leaf, c in zip(leaves, chosen) if c]
        graph = set(am.engine.walk(out))
        if any(x not in graph for x in inputs):  # in the graph, but with gradient 0
            out = vsum([out, *(x * 0.0 for x in inputs if x not in graph)])
        return inputs, out

    return build


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.data())
def test_random_graphs_equal_grad_bit_for_bit(program, data):
    n_leaves, _, chosen = program
    frozen = data.draw(st.lists(NUMBERS, min_size=n_leaves, max_size=n_leaves))
    build = builder(program, frozen)
    n_inputs = sum(chosen)
    at = data.draw(st.lists(NUMBERS, min_size=n_inputs, max_size=n_inputs))
    try:
        inputs, out = build(at)
    except (ValueError, ZeroDivisionError, OverflowError):
        return  # nothing to compile at this point
    if not out.parents and out not in inputs:
        return  # a leaf: nothing to compile
    others = data.draw(st.lists(st.lists(NUMBERS, min_size=n_inputs, max_size=n_inputs),
                                min_size=1, max_size=4))
    check(build, at, *others)


# --- what compile refuses ------------------------------------------------------------


def test_bad_input_is_a_clear_error():
    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    out = x * y
    with pytest.raises(TypeError, match="output must be a Value, got float"):
        compile(2.0, [x])
    with pytest.raises(TypeError, match="list of Values"):
        compile(out, x)
    with pytest.raises(TypeError, match=r"inputs\[1\] must be a Value, got float"):
        compile(out, [x, 2.0])
    with pytest.raises(ValueError, match=r"inputs\[1\] is inputs\[0\] again \('x'\)"):
        compile(out, [x, x])
    with pytest.raises(ValueError, match=r"inputs\[0\] is not a leaf"):
        compile(out * 2, [out])
    with pytest.raises(ValueError, match=r"inputs\[1\] \('z'\) is not in the output's graph"):
        compile(out, [x, Value(3.0, label="z")])
    with no_grad():
        frozen = x * y
    with pytest.raises(ValueError, match=r"no graph to compile.*no_grad"):
        compile(frozen, [x])
    f = compile(out, [x, y])
    with pytest.raises(TypeError, match=r"takes 2 numbers \(x, y\), got 3"):
        f(1.0, 2.0, 3.0)
    with pytest.raises(TypeError, match=r"takes 2 numbers \(x, y\), got 0"):
        f()
    with pytest.raises(TypeError, match=r"input y must be a real number.*got str"):
        f(1.0, "2")
    with pytest.raises(TypeError, match="got Value"):
        f(1.0, Value(2.0))


def test_numbers_of_any_real_type_and_non_finite_ones():
    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    f = compile(x * y + y, [x, y])
    assert f(3, 4) == f(3.0, 4.0) == (16.0, [4.0, 4.0])
    value, grads = f(math.inf, 0.0)
    assert math.isnan(value) and grads == [0.0, math.inf]


def test_leaves_outside_inputs_are_frozen_and_an_unused_input_gets_zero():
    x, w = Value(2.0, label="x"), Value(5.0, label="w")
    f = compile(x * w + x * 0.0, [x])
    w.data = 100.0  # frozen at compile time
    assert f(3.0) == (15.0, [5.0])
    g = compile((x * w) * 0.0 + w, [x, w])
    assert g(2.0, 5.0) == (5.0, [0.0, 1.0])


def test_the_output_may_be_an_input():
    x = Value(2.0, label="x")
    assert compile(x, [x])(7.0) == (7.0, [1.0])


# --- the source ----------------------------------------------------------------------


def test_the_source_reads_as_the_backward_pass():
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    z = (x * y).tanh()
    z.label = "z"
    f = compile(z + x, [x, y])
    src = f.source
    assert src.startswith("def compiled(x, y):")
    assert "= x * y  # *" in src and "# tanh" in src
    assert "g_x += " in src and "g_y += " in src
    forward = src.split("# backward")[0]
    assert forward.count("\n") == 2 + 3  # def, comment, one line per node


def test_labels_cannot_inject_code(capsys):
    evil = ["__import__('os').system('echo pwned')", "x); print(1", "a\nprint('pwned')",
            "class", "sum", "g_x", "", "1x", "é", "x" * 500, "compiled", "_d0", "inf"]
    xs = [Value(float(k + 1), label=label) for k, label in enumerate(evil)]
    out = vsum([x * x for x in xs])
    out.label = "\r\nimport os"
    f = compile(out, xs)
    value, grads = f(*[1.0] * len(xs))
    assert value == len(xs) and grads == [2.0] * len(xs)
    assert "pwned" not in capsys.readouterr().out
    tree = ast.parse(f.source)  # valid Python, as shown
    assert [type(node) for node in tree.body] == [ast.FunctionDef]
    for node in ast.walk(tree):
        assert not isinstance(node, (ast.Import, ast.ImportFrom, ast.Attribute, ast.Lambda))
        if isinstance(node, ast.Call):  # only the code's own helpers are called
            assert node.func.id in {"sum", "abs", "type"} or node.func.id.startswith("_")
    names = tree.body[0].args.args
    assert len({a.arg for a in names}) == len(xs) and "compiled" not in {a.arg for a in names}


# --- big graphs and training ------------------------------------------------------------


def moons_loss(model, points, labels):
    scores = [model(x) for x in points]
    return am.losses.hinge(scores, labels) + 1e-4 * vsum([p * p for p in model.parameters()])


def test_the_moons_training_step_compiles_and_equals_grad():
    from autograd_mini import data, losses  # noqa: F401
    points, labels = data.moons(100, 0.1, 1)
    model = MLP(2, [16, 16, 1], activation="relu", seed=1)
    params = model.parameters()
    loss = moons_loss(model, points, labels)
    f = compile(loss, params)
    value, grads = f(*[p.data for p in params])
    assert bits(value) == bits(loss.data)
    assert [bits(g) for g in grads] == [bits(g) for g in grad(loss, params)]


def test_a_compiled_training_loop_takes_the_same_steps():
    from autograd_mini import data
    points, labels = data.moons(30, 0.1, 2)

    def run(compiled: bool) -> list[float]:
        model = MLP(2, [8, 1], activation="tanh", seed=3)
        opt = SGD(model.parameters(), lr=0.1)
        step = compile(moons_loss(model, points, labels), model.parameters()) if compiled else None
        losses = []
        for _ in range(5):
            opt.zero_grad()
            if step is not None:
                losses.append(step.backward())
            else:
                loss = moons_loss(model, points, labels)
                loss.backward()
                losses.append(loss.data)
            opt.step()
        return losses

    assert run(True) == run(False)


def test_a_long_sum_and_a_deep_chain_compile():
    xs = [Value(float(k), label=f"x{k}") for k in range(3000)]
    s = vsum(xs)
    f = compile(s, xs)
    assert f(*[1.0] * 3000) == (3000.0, [1.0] * 3000)
    x = Value(1.0, label="x")
    y = x
    for _ in range(20000):
        y = y * 1.0001 + 0.0
    g = compile(y, [x])
    assert [bits(v) for v in [g(1.0)[0], *g(1.0)[1]]] == \
        [bits(v) for v in [y.data, *grad(y, [x])]]


# --- a primitive of another shape: compile asks its own floats() and at() ------------


class Softclip(ops.Primitive):
    """A two-input op with its own conventions, as a user-made primitive has."""

    __slots__ = ()

    def at(self, node, xs):
        return self.forward(*xs)

    def floats(self, node):
        a, b = (p.data for p in node.parents)
        return list(self.d(a, b, node.data))

    def values(self, node):
        a, b = node.parents
        return list(self.d(a, b, node))


def _softclip_forward(a: float, b: float) -> float:
    if b <= 0:
        raise ValueError(f"softclip: width must be > 0, got {b!r}")
    return b * math.tanh(a / b)


SOFTCLIP = Softclip("softclip", _softclip_forward,
                    lambda a, b, out: (1 - (out / b) ** 2, out / b - a / b * (1 - (out / b) ** 2)))


def softclip(a: Value, b: Value) -> Value:
    return am.engine._make(SOFTCLIP.forward(a.data, b.data), SOFTCLIP, (a, b), None)


def test_an_op_with_its_own_floats_compiles_through_them():
    def build(n):
        a, b = Value(n[0], label="a"), Value(n[1], label="b")
        return [a, b], softclip(a * a, b) * b + softclip(b, a + 3.0)

    f = check(build, [0.5, 2.0], [3.0, 0.5], [-1.0, 4.0], [1.0, -1.0], [0.0, 1.0])
    assert "_f_softclip" in f.source and "_d_softclip" in f.source
    with pytest.raises(ValueError, match=r"softclip: width must be > 0, got -1\.0"):
        f(1.0, -1.0)


# --- user-made primitives and sin/cos: compiled through their own rules -------------


def test_user_made_primitives_of_one_two_and_three_inputs_compile():
    from autograd_mini import primitive
    from autograd_mini.functions import sigmoid

    softplus = primitive("softplus", lambda x: math.log1p(math.exp(x)),
                         lambda x, out: sigmoid(x))
    hypot = primitive("hypot", lambda a, b: math.hypot(a, b), lambda a, b, out: (a / out, b / out))
    fma = primitive("fma", lambda a, b, c: a * b + c, lambda a, b, c, out: (b, a, 1.0))
    root = primitive("root", lambda x: math.sqrt(x), lambda x, out: 0.5 / out)

    def build(n):
        a, b, c = (Value(v, label=k) for v, k in zip(n, "abc"))
        y = softplus(a * b) + hypot(a, c) * fma(a, b, c) + fma(a, 2.0, b) + root(c * c + 1.0)
        return [a, b, c], y.sin() * b.cos() + y

    f = check(build, [0.5, -1.0, 2.0], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [-3.0, 0.5, -0.25],
              [40.0, -40.0, 1e3])
    assert "softplus" in f.source and "fma" in f.source


def test_a_user_primitives_domain_error_is_the_engines():
    from autograd_mini import primitive

    ln = primitive("ln", lambda x: math.log(x), lambda x, out: 1 / x)

    def build(n):
        x = Value(n[0], label="x")
        return [x], ln(x) * x

    check(build, [2.0], [-1.0], [0.0], [3.0])
