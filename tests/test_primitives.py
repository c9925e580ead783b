"""Your own operations: ``primitive``, ``functions``, and ``check_graph`` pointing at a wrong rule.

A user-made primitive must work wherever a built-in works (backward, grad in
both modes and to any order, the trace, drawings, the checkers, no_grad);
its mistakes (a rule that raises or returns the wrong thing, a forward
outside its domain) must be reported naming the primitive. Random user-made
primitives are checked against central differences and against the same
expression written with built-ins, at first and second order.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_mini import (
    DerivativeError,
    GradcheckError,
    Mismatch,
    Value,
    check_graph,
    dot,
    grad,
    gradcheck,
    gradgradcheck,
    no_grad,
    numerical_grad,
    ops,
    primitive,
)
from autograd_mini import functions as F
from autograd_mini import sum as vsum
from autograd_mini.trace import backward_steps
from autograd_mini.viz import HIGHLIGHT, draw_dot, render_svg


def _sig(x: float) -> float:
    return 0.5 * (1 + math.tanh(x / 2))


softplus = primitive("softplus", lambda x: math.log1p(math.exp(x)), lambda x, out: F.sigmoid(x))
# two and three inputs, derivatives written with arithmetic and functions
hypot = primitive("hypot", lambda a, b: math.hypot(a, b), lambda a, b, out: (a / out, b / out))
fma = primitive("fma", lambda a, b, c: a * b + c, lambda a, b, c, out: (b, a, 1.0))
wave = primitive("wave", lambda x, y: math.sin(x) * y, lambda x, y, out: (F.cos(x) * y, F.sin(x)))


# --- making and calling


def test_on_numbers_a_float_on_values_one_node_named_after_it():
    assert softplus(0.0) == math.log(2.0) and type(softplus(0)) is float
    x = Value(0.5, label="x")
    y = softplus(x)
    assert (y.op, y.parents, y.data) == ("softplus", (x,), math.log1p(math.exp(0.5)))
    assert repr(softplus) == "<primitive 'softplus'>"
    assert isinstance(softplus, ops.Primitive)  # the same kind of object as the built-ins
    assert (softplus.name, softplus.symbol) == ("softplus", "")
    assert softplus.floats(y) == [_sig(0.5)] or softplus.floats(y)[0] == pytest.approx(_sig(0.5))


def test_the_number_of_inputs_comes_from_forwards_signature():
    a, b, c = Value(2.0), Value(3.0), Value(-1.0)
    z = fma(a, b, c)
    assert (z.op, z.parents, z.data) == ("fma", (a, b, c), 5.0)
    z.backward()
    assert (a.grad, b.grad, c.grad) == (3.0, 2.0, 1.0)
    with pytest.raises(TypeError, match=r"^fma takes 3 inputs, got 2$"):
        fma(a, b)
    with pytest.raises(TypeError, match=r"^softplus takes 1 input, got 2$"):
        softplus(1.0, 2.0)


def test_number_operands_are_constants_not_nodes():
    b = Value(3.0)
    z = fma(2.0, b, 1)
    assert z.parents == (b,) and z.data == 7.0
    assert z._arg == (2.0, None, 1.0)
    z.backward()
    assert b.grad == 2.0
    assert grad(wave(0.3, b), [b]) == [math.sin(0.3)]
    assert grad(wave(b, 2.0), [b]) == [math.cos(3.0) * 2.0]


def test_no_grad_records_nothing():
    x = Value(1.0)
    with no_grad():
        y = softplus(x)
        z = hypot(x, 2.0)
    assert y.parents == () and y.op == "" and z.parents == ()


def test_backward_grad_and_higher_derivatives():
    x, y = Value(0.3), Value(-1.2)
    out = hypot(softplus(x), y) * wave(x, y)
    out.backward()
    num = numerical_grad(lambda a, b: math.hypot(math.log1p(math.exp(a)), b) * math.sin(a) * b,
                         [0.3, -1.2])
    assert [x.grad, y.grad] == pytest.approx(num, rel=1e-7)
    assert grad(out, [x, y]) == [x.grad, y.grad]
    # d/dx softplus = sigmoid, d²/dx² = σ(1 - σ), d³/dx³ = σ(1 - σ)(1 - 2σ)
    v = Value(0.8)
    d1 = grad(softplus(v), [v], create_graph=True)[0]
    d2 = grad(d1, [v], create_graph=True)[0]
    d3 = grad(d2, [v])[0]
    s = _sig(0.8)
    assert d1.data == pytest.approx(s, rel=1e-14)
    assert d2.data == pytest.approx(s * (1 - s), rel=1e-14)
    assert d3 == pytest.approx(s * (1 - s) * (1 - 2 * s), rel=1e-12)


def test_gradcheck_and_gradgradcheck_pass_user_primitives():
    assert gradcheck(lambda a, b: hypot(softplus(a), b) * wave(a, b), [0.4, 0.9])
    assert gradgradcheck(lambda a, b, c: fma(wave(a, b), softplus(c), a), [0.4, 0.9, -0.3])


def test_the_trace_and_the_drawing_show_a_user_primitive():
    x = Value(0.0, label="x")
    y = softplus(x)
    y.label = "y"
    (step,) = backward_steps(y)
    assert step.explain() == "∂y/∂x += ∂y/∂y · ∂y/∂x = 1 × 0.5 = 0.5"
    graph = draw_dot(y)
    assert 'label=softplus' in graph.source
    assert "softplus" in render_svg(y)


def test_builtins_are_primitives_called_the_same_way():
    for f, reference in [(F.exp, math.exp), (F.log, math.log), (F.sqrt, math.sqrt),
                         (F.tanh, math.tanh), (F.sigmoid, _sig), (F.sin, math.sin),
                         (F.cos, math.cos), (F.abs, math.fabs), (F.relu, lambda t: max(t, 0.0))]:
        assert f(0.7) == pytest.approx(reference(0.7), rel=1e-15), f.name
        x = Value(0.7)
        y = f(x)
        assert (y.op, y.parents) == (f.name, (x,))
        method = abs(x) if f.name == "abs" else getattr(x, f.name)()
        assert (method.op, method.data) == (y.op, y.data)
    assert (F.relu(-2), F.abs(-2)) == (0.0, 2.0)
    assert F.exp(1000.0) == math.inf and math.isnan(F.sin(math.inf))
    with pytest.raises(ValueError, match=r"^log: operand must be > 0, got 0\.0$"):
        F.log(0)
    with pytest.raises(TypeError, match=r"^exp: operand 0 must be a real number or a Value, "
                                        r"got str$"):
        F.exp("1")
    with pytest.raises(TypeError, match=r"^exp takes 1 input, got 2$"):
        F.exp(1.0, 2.0)
    # the engine's other primitives are applied by their operators
    with pytest.raises(TypeError, match=r"^primitive '\*' with a number operand is applied "
                                        r"by its operator, not called$"):
        ops.MUL_C(2.0)
    with pytest.raises(TypeError, match=r"^primitive '\+' is applied by its operator or method "
                                        r"\(x\.exp\(\), x \* y, \.\.\.\), not called with 2 "
                                        r"argument\(s\)$"):
        ops.ADD(Value(1.0), 2.0)
    with pytest.raises(TypeError, match=r"^sum is made by autograd_mini\.sum\(\.\.\.\), "
                                        r"not by calling the primitive$"):
        ops.SUM(1.0)
    assert ops.ADD(1.0, 2) == 3.0 and ops.ADD(Value(1.0), Value(2.0)).op == "+"


@given(st.floats(-20, 20))
def test_sin_and_cos_derivatives(x0):
    x = Value(x0)
    d1 = grad(x.sin() + 2 * x.cos(), [x], create_graph=True)[0]
    d2 = grad(d1, [x])[0]
    assert d1.data == pytest.approx(math.cos(x0) - 2 * math.sin(x0), abs=1e-15)
    assert d2 == pytest.approx(-math.sin(x0) - 2 * math.cos(x0), abs=1e-15)


# --- mistakes, each named


@pytest.mark.parametrize(("args", "kind", "message"), [
    (("", abs, abs), ValueError, r"^primitive: name must be a non-empty one-line str, got ''$"),
    ((3, abs, abs), ValueError, r"^primitive: name must be a non-empty one-line str, got 3$"),
    (("a\nb", abs, abs), ValueError, r"one-line"),
    (("f", 1.0, abs), TypeError, r"^primitive 'f': forward must be callable, got float$"),
    (("f", abs, None), TypeError, r"^primitive 'f': derivative must be callable, got NoneType$"),
    (("f", lambda: 1.0, abs), TypeError, r"^primitive 'f': forward must take at least one input$"),
    (("f", lambda *xs: 1.0, abs), TypeError, r"^primitive 'f': forward must take a fixed number "
                                              r"of inputs, not \*args$"),
    (("f", lambda x, *, k: x, abs), TypeError, r"keyword-only"),
    (("f", math.log, abs), TypeError, r"^primitive 'f': cannot read forward's parameters; "
                                      r"wrap it, e\.g\. lambda x: math\.log\(x\)$"),
    (("f", lambda a, b: a, lambda a, b: a), TypeError,
     r"^primitive 'f': derivative must take 3 arguments \(a, b, out\): "
     r"the inputs and then the output$"),
])
def test_a_bad_primitive_is_refused_when_made(args, kind, message):
    with pytest.raises(kind, match=message):
        primitive(*args)


def test_a_default_parameter_is_not_an_input():
    scaled = primitive("scaled", lambda x, k=3.0: k * x, lambda x, out: 3.0)
    x = Value(1.0)
    assert scaled(2.0) == 6.0 and grad(scaled(x), [x]) == [3.0]


def test_a_forward_outside_its_domain_is_reported_like_a_builtin():
    mylog = primitive("mylog", lambda x: math.log(x), lambda x, out: 1 / x)
    with pytest.raises(ValueError, match=r"^mylog\(-1\.0\): math domain error$"):
        mylog(Value(-1.0))
    with pytest.raises(ValueError, match=r"^mylog\(0\.0\): math domain error$"):
        mylog(0)
    ratio = primitive("ratio", lambda a, b: a / b, lambda a, b, out: (1 / b, -out / b))
    with pytest.raises(ZeroDivisionError, match=r"^ratio\(1\.0, 0\.0\): float division by zero$"):
        ratio(1.0, Value(0.0))
    big = primitive("big", lambda x: math.exp(x), lambda x, out: out)
    with pytest.raises(OverflowError, match=r"^big\(1000\.0\): math range error$"):
        big(1000.0)


def test_a_forward_that_returns_something_else_is_named():
    bad = primitive("bad", lambda x: None, lambda x, out: 1.0)
    with pytest.raises(TypeError, match=r"^forward of 'bad' must return a real number, "
                                        r"returned None \(NoneType\) at \(1\.0\)$"):
        bad(Value(1.0))
    cplx = primitive("cplx", lambda x: complex(x, 1), lambda x, out: 1.0)
    with pytest.raises(TypeError, match=r"returned \(2\+1j\) \(complex\) at \(2\.0\)$"):
        cplx(2.0)
    with pytest.raises(TypeError, match=r"^softplus: operand 0 must be a real number or a "
                                        r"Value, got str$"):
        softplus("x")
    with pytest.raises(TypeError, match=r"^hypot: operand 1 must be a real number \(int or "
                                        r"float\), got bool$"):
        hypot(Value(1.0), True)


@pytest.mark.parametrize(("rule", "message"), [
    (lambda a, b, out: 1 / 0,
     r"^the derivative of 'r' raised ZeroDivisionError: division by zero \(at r\(2\.0, 3\.0\)\)$"),
    (lambda a, b, out: 1.0,
     r"^the derivative of 'r' must return a tuple of 2 numbers \(one per input\), "
     r"returned 1\.0 \(float\)$"),
    (lambda a, b, out: (1.0, 2.0, 3.0),
     r"^the derivative of 'r' must return a tuple of 2 numbers \(one per input\), "
     r"returned \(1\.0, 2\.0, 3\.0\) \(tuple\)$"),
    (lambda a, b, out: (1.0, None),
     r"^the derivative of 'r' returned None \(NoneType\) for input 1, not a number$"),
    (lambda a, b, out: ("1", 2.0),
     r"^the derivative of 'r' returned '1' \(str\) for input 0, not a number$"),
    (lambda a, b, out: (True, 2.0),
     r"^the derivative of 'r' returned True \(bool\) for input 0, not a number$"),
])
def test_a_bad_rule_is_an_error_naming_the_primitive(rule, message):
    r = primitive("r", lambda a, b: a * b, rule)
    a, b = Value(2.0), Value(3.0)
    for run in (lambda: r(a, b).backward(), lambda: grad(r(a, b), [a]),
                lambda: grad(r(a, b), [a], create_graph=True),
                lambda: list(backward_steps(r(a, b))), lambda: check_graph(r(a, b))):
        with pytest.raises(DerivativeError, match=message):
            run()


def test_a_rule_for_one_input_returns_a_number_or_a_one_tuple():
    one = primitive("one", lambda x: 2 * x, lambda x, out: (2,))
    x = Value(1.0)
    assert grad(one(x), [x]) == [2.0]
    none = primitive("none", lambda x: x, lambda x, out: None)
    with pytest.raises(DerivativeError, match=r"^the derivative of 'none' returned None "
                                              r"\(NoneType\) for input 0, not a number$"):
        none(x).backward()


# --- random primitives: compositions with known derivatives

# name: (on floats, derivative written with functions and arithmetic)
UNARY: dict[str, tuple[Callable, Callable]] = {
    "sin": (math.sin, lambda u: F.cos(u)),
    "cos": (math.cos, lambda u: -F.sin(u)),
    "tanh": (math.tanh, lambda u: 1 - F.tanh(u) * F.tanh(u)),
    "sigmoid": (_sig, lambda u: F.sigmoid(u) * (1 - F.sigmoid(u))),
    "exp": (math.exp, lambda u: F.exp(u)),
    "square": (lambda t: t * t, lambda u: 2 * u),
}
BINARY = ["+", "-", "*"]


def expressions(n_inputs: int) -> st.SearchStrategy:
    leaf = st.integers(0, n_inputs - 1)
    return st.recursive(leaf, lambda sub: st.one_of(
        st.tuples(st.sampled_from(sorted(UNARY)), sub),
        st.tuples(st.sampled_from(BINARY), sub, sub)), max_leaves=6)


def evaluate(tree: object, xs: list, on_floats: bool) -> object:
    """The expression at ``xs``: with math on floats, or with functions (built-in nodes)."""
    if isinstance(tree, int):
        return xs[tree]
    if len(tree) == 2:
        name, sub = tree
        u = evaluate(sub, xs, on_floats)
        if name == "square":
            return u * u
        return UNARY[name][0](u) if on_floats else getattr(F, name)(u)
    op, a, b = tree
    u, v = evaluate(a, xs, on_floats), evaluate(b, xs, on_floats)
    return u + v if op == "+" else u - v if op == "-" else u * v


def derivative(tree: object, xs: list, i: int) -> object:
    """d expression / d xs[i] by the chain rule, in arithmetic on floats or Values."""
    if isinstance(tree, int):
        return 1.0 if tree == i else 0.0
    if len(tree) == 2:
        name, sub = tree
        return UNARY[name][1](evaluate(sub, xs, False)) * derivative(sub, xs, i)
    op, a, b = tree
    da, db = derivative(a, xs, i), derivative(b, xs, i)
    if op == "+":
        return da + db
    if op == "-":
        return da - db
    return da * evaluate(b, xs, False) + evaluate(a, xs, False) * db


def made(tree: object, n: int) -> ops.Primitive:
    """The expression as ONE user primitive with n inputs."""
    names = ", ".join(f"x{k}" for k in range(n))
    forward = eval(f"lambda {names}: evaluate(tree, [{names}], True)",
                   {"evaluate": evaluate, "tree": tree})

    def rule(*args: object) -> object:
        xs = list(args[:n])
        ds = tuple(derivative(tree, xs, i) for i in range(n))
        return ds[0] if n == 1 else ds

    return primitive("composed", forward, rule)


INPUTS = st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3)


def close(a: float, b: float, scale: float) -> bool:
    return abs(a - b) <= 1e-6 * (1 + abs(scale)) + 1e-4 * abs(b)


@given(st.integers(1, 3).flatmap(lambda n: st.tuples(st.just(n), expressions(n))), INPUTS)
def test_random_primitives_first_order(case, inputs):
    n, tree = case
    p, x0 = made(tree, n), inputs[:n]
    vs = [Value(x) for x in x0]
    out = p(*vs)
    engine = grad(out, vs)
    refs = [Value(x) for x in x0]
    builtin = grad(evaluate(tree, refs, False) + 0 * refs[0], refs)  # the same, with built-ins
    numeric = numerical_grad(lambda *a: p(*a), x0)
    for e, b, m in zip(engine, builtin, numeric):
        assert e == pytest.approx(b, rel=1e-12, abs=1e-12)
        assert close(e, m, out.data)


@given(st.integers(1, 3).flatmap(lambda n: st.tuples(st.just(n), expressions(n))), INPUTS)
def test_random_primitives_second_order(case, inputs):
    n, tree = case
    p, x0 = made(tree, n), inputs[:n]
    vs = [Value(x) for x in x0]
    firsts = grad(p(*vs), vs, create_graph=True)
    refs = [Value(x) for x in x0]
    ref_firsts = grad(evaluate(tree, refs, False) + 0 * refs[0], refs, create_graph=True)
    for i, (first, ref_first) in enumerate(zip(firsts, ref_firsts)):
        engine = grad(first, vs)
        builtin = grad(ref_first, refs)
        numeric = numerical_grad(
            lambda *a, i=i: grad(p(*(w := [Value(t) for t in a])), w)[i], x0)
        for e, b, m in zip(engine, builtin, numeric):
            assert e == pytest.approx(b, rel=1e-9, abs=1e-9)
            assert close(e, m, first.data)


# --- check_graph: nothing on correct graphs, exactly the planted node otherwise


def big_graph(rng: random.Random, planted: Callable | None = None, kinks: bool = False
              ) -> tuple[Value, Value | None]:
    """A few hundred nodes of every built-in and the user primitives above.

    With ``planted``, one node (somewhere in the middle) is made by it; that
    node is returned too. With ``kinks``, relu and abs also meet exact zeros.
    """
    xs = [Value(rng.uniform(-1, 1), label=f"x{k}") for k in range(8)]
    if kinks:
        xs.append(Value(0.0, label="zero"))
    pool = list(xs)
    target = None
    makers = [
        lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
        lambda a, b: a / (1.5 + b.tanh()), lambda a, b: (a * a + 0.5) ** b.sigmoid(),
        lambda a, b: 2.0 * a, lambda a, b: 0.5 - a, lambda a, b: 1.0 / (2 + a.cos()),
        lambda a, b: (0.1 * a).exp(), lambda a, b: (1 + a * a).log(),
        lambda a, b: (1 + b * b).sqrt(), lambda a, b: a.relu(), lambda a, b: abs(a),
        lambda a, b: a.sin(), lambda a, b: a.tanh(), lambda a, b: b.sigmoid(),
        lambda a, b: 1.5 ** a, lambda a, b: a ** 2, lambda a, b: -a,
        lambda a, b: a / 4.0 - 1.0, lambda a, b: a + 0.5,
        lambda a, b: vsum([a, b, 0.25]), lambda a, b: dot([a, b], [b, 0.5], bias=0.1),
        lambda a, b: dot([a, b], [0.5, -0.25], bias=b), lambda a, b: dot([a], [b]),
        lambda a, b: softplus(a), lambda a, b: hypot(a, b), lambda a, b: wave(a, 0.7),
        lambda a, b: fma(a, b, 0.2),
    ]
    for step in range(400):
        a, b = rng.choice(pool[-30:]), rng.choice(pool)
        if planted is not None and step == 150:
            v = target = planted(a, b)
        else:
            v = rng.choice(makers)(a, b)
        if abs(v.data) > 1e3:
            v = v.tanh()
        pool.append(v)
    return vsum(pool), target


# every primitive of the table (the three IEEE helpers appear only in gradient graphs)
BUILTINS = {p for p in vars(ops).values() if isinstance(p, ops.Primitive)} - {
    ops.QUOTIENT, ops.POWER, ops.LOGARITHM}


@pytest.mark.parametrize("seed", range(6))
def test_check_graph_finds_nothing_on_correct_graphs(seed):
    root, _ = big_graph(random.Random(seed), kinks=seed % 2 == 1)
    ops_seen = {v._op for v in _all(root)}
    assert not BUILTINS - ops_seen, BUILTINS - ops_seen
    assert check_graph(root) == []
    # the rules' own graphs (grad with create_graph) are correct too
    leaves = [v for v in _all(root) if not v.parents]
    assert check_graph(vsum(grad(root, leaves, create_graph=True))) == []


def test_check_graph_skips_kinks_and_poles_by_the_domain_table():
    z = Value(0.0)
    for y in (z.relu(), abs(z), z.sqrt(), z ** 0.5, Value(1e-7) ** -1.0, (z + 1e-8).log(),
              1.0 / Value(1e-8), Value(2.0) / Value(1e-8), 0.0 ** Value(0.0)):
        assert check_graph(y) == [], y.op
    assert check_graph(Value(3.0)) == []


def _all(root: Value) -> list[Value]:
    from autograd_mini.engine import walk
    return list(walk(root))


WRONG = {
    "times 1.01": primitive("wave", lambda x, y: math.sin(x) * y,
                            lambda x, y, out: (1.01 * F.cos(x) * y, F.sin(x))),
    "wrong sign": primitive("softplus", lambda x: math.log1p(math.exp(x)),
                            lambda x, out: -F.sigmoid(x)),
    "swapped inputs": primitive("wave", lambda x, y: math.sin(x) * y,
                                lambda x, y, out: (F.sin(x), F.cos(x) * y)),
}


@pytest.mark.parametrize("slip", WRONG)
@pytest.mark.parametrize("seed", range(3))
def test_check_graph_points_at_exactly_the_planted_wrong_rule(slip, seed):
    bad = WRONG[slip]
    root, target = big_graph(random.Random(seed),
                             lambda a, b: bad(a + 0.5, b + 2.0) if bad.arity == 2 else bad(a))
    assert sum(1 for _ in _all(root)) > 300
    found = check_graph(root)
    assert found, slip
    assert {m.node for m in found} == {target}
    if slip == "swapped inputs":
        assert {m.input for m in found} == {0, 1}
    m = found[0]
    x, y = (p.data for p in target.parents) if bad.arity == 2 else (target.parents[0].data, 0)
    right = ([math.cos(x) * y, math.sin(x)] if bad.arity == 2 else [_sig(x)])[m.input]
    assert m.numeric == pytest.approx(right, rel=1e-6)
    assert m.engine == bad.floats(target)[m.input]
    at = ", ".join(f"{p.data:.10g}" for p in target.parents)
    assert str(m) == (f"{bad.name!r} node at ({at}), input {m.input}: "
                      f"its derivative rule gives {m.engine!r}, "
                      f"finite differences {m.numeric!r}")


def test_gradcheck_names_the_op_whose_rule_is_wrong():
    bad = WRONG["wrong sign"]
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda a, b: (bad(a) * b).tanh(), [0.4, -0.8])
    text = str(caught.value)
    assert text.startswith("gradient mismatch at 1 input(s):\n  input 0: engine ")
    assert re.search(r"\nlocal derivatives that disagree \(check_graph\):\n  'softplus' node "
                     r"at \(0\.4\), input 0: its derivative rule gives -0\.598\d+, "
                     r"finite differences 0\.598\d+$", text)
    # gradgradcheck: the first derivative's own graph is searched too
    cube = primitive("cube", lambda x: x**3, lambda x, out: 3 * x * x)
    slipped = primitive("twice", lambda x: 3 * x * x, lambda x, out: 3 * x)  # should be 6x
    cube_with_slip = primitive("cube", lambda x: x**3, lambda x, out: slipped(x))
    assert gradgradcheck(lambda a: cube(a) * a, [0.7])
    with pytest.raises(GradcheckError, match=r"(?s)second derivative d/dx0 mismatch.*'twice' "
                                             r"node at \(0\.7\), input 0"):
        gradgradcheck(lambda a: cube_with_slip(a) * a, [0.7])


def test_check_graph_arguments():
    with pytest.raises(TypeError, match=r"^check_graph: root must be a Value, got float$"):
        check_graph(1.0)
    with pytest.raises(ValueError, match=r"^check_graph: eps must be a positive finite number"):
        check_graph(Value(1.0) * 2, eps=0)


def test_draw_dot_highlights_the_mismatching_edge():
    bad = WRONG["wrong sign"]
    x = Value(0.4, label="x")
    y = bad(x) * 2
    y.label = "y"
    (m,) = check_graph(y)
    assert isinstance(m, Mismatch) and m.node is y.parents[0] and m.input == 0
    source = draw_dot(y, highlight=m).source
    hot = [line for line in source.splitlines() if HIGHLIGHT in line]
    assert any("->" in line and "rule -0.5987 ≠ 0.5987" in line for line in hot)
    assert sum("->" in line for line in hot) == 1
    with pytest.raises(ValueError, match="highlighted mismatch is not in the graph"):
        draw_dot(Value(1.0) * 3, highlight=m)


def test_compile_runs_user_primitives_with_their_constants_and_errors():
    from autograd_mini import compile

    mylog = primitive("mylog", lambda x: math.log(x), lambda x, out: 1 / x)
    x, y = Value(0.5, label="x"), Value(-1.0, label="y")
    out = softplus(x) * hypot(y, 3.0) + wave(x, y) + fma(2.0, x, y) + mylog(x)
    fn = compile(out, [x, y])
    for a, b in [(0.5, -1.0), (1.5, 0.25)]:
        xa, yb = Value(a), Value(b)
        again = softplus(xa) * hypot(yb, 3.0) + wave(xa, yb) + fma(2.0, xa, yb) + mylog(xa)
        assert fn(a, b) == (again.data, grad(again, [xa, yb]))
    with pytest.raises(ValueError, match=r"^mylog\(-1\.0\): math domain error$"):
        fn(-1.0, 0.0)
