"""Every derivative the engine computes, against central differences.

Each primitive is checked over a domain that keeps clear of its poles and
kinks (the table ``PRIMITIVES``); random graphs whose nodes are shared by
several paths are checked the same way; second derivatives from
``grad(create_graph=True)`` are checked against central differences of the
first derivatives, and third derivatives against closed forms.

The finite differences run on plain-float reference functions written with
``math`` in this file, so the engine's forward is not trusted to check its
own backward.

Tolerances. A central difference at eps = 1e-6 has a truncation error of
eps²·f'''/6 (below 1e-8 on these domains) and a rounding error of about
ulp(f)/eps ≈ 1e-10·|f|, so the comparison allows rtol 1e-4 plus an atol of
1e-9·(1 + |f|): a derivative off by 1 % fails wherever it is larger than
1e-7·|f|.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from autograd_mini import Value, dot, grad, numerical_grad
from autograd_mini import sum as vsum

EPS = 1e-6
RTOL = 1e-4
ATOL = 1e-9


def assert_close(engine: list, numeric: list, scale: float, what: str = "") -> None:
    """Engine derivatives agree with finite differences of a function of size ``scale``."""
    atol = ATOL * (1.0 + abs(scale))
    for i, (a, n) in enumerate(zip(engine, numeric, strict=True)):
        assert abs(a - n) <= atol + RTOL * abs(n), f"{what} input {i}: engine {a!r}, numeric {n!r}"


# --- domains: each keeps a clear margin from a pole, a kink or a domain edge


def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def _away_from_zero(margin: float, hi: float) -> st.SearchStrategy[float]:
    return st.one_of(_floats(-hi, -margin), _floats(margin, hi))


REAL = _floats(-5.0, 5.0)
WIDE = _floats(-10.0, 10.0)  # exp and sigmoid: no pole, only growth
POSITIVE = _floats(0.05, 20.0)  # log, a real power's base, a positive base of c ** x
NONZERO = _away_from_zero(0.1, 5.0)  # a divisor, a base raised to a negative power
OFF_KINK = _away_from_zero(1e-3, 5.0)  # relu, abs: 1e-3 >> eps, so no difference straddles 0
EXPONENT = _floats(-3.0, 3.0)
INT_EXPONENT = st.integers(-3, 4)


@dataclass(frozen=True)
class Primitive:
    """One primitive: the engine's version, a plain-float reference, a domain per input."""

    name: str
    engine: Callable[..., Value]  # (*Values, c) -> Value
    reference: Callable[..., float]  # (*floats, c) -> float
    domains: tuple[st.SearchStrategy, ...]
    const: st.SearchStrategy = field(default_factory=st.none)


PRIMITIVES = [
    # two Value inputs
    Primitive("a + b", lambda a, b, c: a + b, lambda a, b, c: a + b, (REAL, REAL)),
    Primitive("a - b", lambda a, b, c: a - b, lambda a, b, c: a - b, (REAL, REAL)),
    Primitive("a * b", lambda a, b, c: a * b, lambda a, b, c: a * b, (REAL, REAL)),
    Primitive("a / b", lambda a, b, c: a / b, lambda a, b, c: a / b, (REAL, NONZERO)),
    Primitive("a ** b", lambda a, b, c: a**b, lambda a, b, c: math.pow(a, b), (POSITIVE, EXPONENT)),
    # a Value and a number, on either side
    Primitive("x + c", lambda x, c: x + c, lambda x, c: x + c, (REAL,), REAL),
    Primitive("c + x", lambda x, c: c + x, lambda x, c: c + x, (REAL,), REAL),
    Primitive("x - c", lambda x, c: x - c, lambda x, c: x - c, (REAL,), REAL),
    Primitive("c - x", lambda x, c: c - x, lambda x, c: c - x, (REAL,), REAL),
    Primitive("x * c", lambda x, c: x * c, lambda x, c: x * c, (REAL,), REAL),
    Primitive("c * x", lambda x, c: c * x, lambda x, c: c * x, (REAL,), REAL),
    Primitive("x / c", lambda x, c: x / c, lambda x, c: x / c, (REAL,), NONZERO),
    Primitive("c / x", lambda x, c: c / x, lambda x, c: c / x, (NONZERO,), REAL),
    Primitive("x ** c (real c)", lambda x, c: x**c, lambda x, c: math.pow(x, c),
              (POSITIVE,), EXPONENT),
    Primitive("x ** n (integer n, any sign of x)", lambda x, c: x**c,
              lambda x, c: math.pow(x, c), (NONZERO,), INT_EXPONENT),
    Primitive("c ** x", lambda x, c: c**x, lambda x, c: math.pow(c, x), (REAL,),
              _floats(0.1, 10.0)),
    # one Value input
    Primitive("-x", lambda x, c: -x, lambda x, c: -x, (REAL,)),
    Primitive("abs", lambda x, c: abs(x), lambda x, c: math.fabs(x), (OFF_KINK,)),
    Primitive("exp", lambda x, c: x.exp(), lambda x, c: math.exp(x), (WIDE,)),
    Primitive("log", lambda x, c: x.log(), lambda x, c: math.log(x), (POSITIVE,)),
    Primitive("sqrt", lambda x, c: x.sqrt(), lambda x, c: math.sqrt(x), (_floats(0.01, 100.0),)),
    Primitive("tanh", lambda x, c: x.tanh(), lambda x, c: math.tanh(x), (REAL,)),
    # sigmoid's reference goes through tanh: a formula the engine does not use
    Primitive("sigmoid", lambda x, c: x.sigmoid(), lambda x, c: 0.5 * (1 + math.tanh(x / 2)),
              (WIDE,)),
    Primitive("relu", lambda x, c: x.relu(), lambda x, c: max(x, 0.0), (OFF_KINK,)),
]


def _engine_grad(p: Primitive, xs: list[float], c: object) -> list[float]:
    vs = [Value(x) for x in xs]
    return grad(p.engine(*vs, c), vs)


# One property per primitive, so each gets the profile's full number of examples.
by_primitive = pytest.mark.parametrize("p", PRIMITIVES, ids=lambda p: p.name)


@by_primitive
@given(data=st.data())
def test_first_derivative_of_every_primitive_matches_central_differences(p, data):
    xs = list(data.draw(st.tuples(*p.domains), label="xs"))
    c = data.draw(p.const, label="c")
    vs = [Value(x) for x in xs]
    out = p.engine(*vs, c)
    fx = p.reference(*xs, c)
    assert math.isclose(out.data, fx, rel_tol=1e-12, abs_tol=1e-300)
    numeric = numerical_grad(lambda *a: p.reference(*a, c), xs, EPS)
    engine = grad(out, vs)
    assert_close(engine, numeric, fx, p.name)
    # backward() and grad(create_graph=True) use the same rule: the same numbers
    out.backward()
    as_values = grad(out, vs, create_graph=True)
    for v, g, gv in zip(vs, engine, as_values):
        assert v.grad == pytest.approx(g, rel=1e-12, abs=1e-300)
        assert gv.data == pytest.approx(g, rel=1e-12, abs=1e-300)


@by_primitive
@given(data=st.data())
def test_second_derivative_of_every_primitive_matches_differences_of_the_first(p, data):
    xs = list(data.draw(st.tuples(*p.domains), label="xs"))
    c = data.draw(p.const, label="c")
    vs = [Value(x) for x in xs]
    firsts = grad(p.engine(*vs, c), vs, create_graph=True)
    for i, first in enumerate(firsts):
        engine = grad(first, vs)
        numeric = numerical_grad(lambda *a, i=i: _engine_grad(p, list(a), c)[i], xs, EPS)
        assert_close(engine, numeric, first.data, f"{p.name} d/dx{i}")


# --- sum and dot: n-ary nodes, numbers among the operands, operands repeated

# An operand is ("v", k), the k-th variable (the same k may come back), or
# ("c", number), a plain number that is not differentiated.
operands = st.one_of(
    st.tuples(st.just("v"), st.integers(0, 3)),
    st.tuples(st.just("c"), REAL),
)


def _resolve(operand: tuple, xs: list) -> object:
    kind, a = operand
    return xs[a % len(xs)] if kind == "v" else a


@given(st.lists(REAL, min_size=1, max_size=4), st.lists(operands, min_size=1, max_size=7))
def test_sum_matches_central_differences(xs, terms):
    def reference(*a: float) -> float:
        return math.fsum(float(_resolve(t, list(a))) for t in terms)

    vs = [Value(x) for x in xs]
    out = vsum([_resolve(t, vs) for t in terms])
    assert out.data == pytest.approx(reference(*xs), rel=1e-12, abs=1e-12)
    assert_close(grad(out, vs), numerical_grad(reference, xs, EPS), out.data, "sum")
    # exactly: each variable counts once per appearance
    counts = [sum(1 for t in terms if t[0] == "v" and t[1] % len(xs) == k) for k in range(len(xs))]
    assert grad(out, vs) == [float(n) for n in counts]


@given(
    st.lists(REAL, min_size=1, max_size=4),
    st.lists(st.tuples(operands, operands), min_size=0, max_size=6),
    st.one_of(st.none(), operands),
)
def test_dot_matches_central_differences(xs, pairs, bias):
    def reference(*a: float) -> float:
        a = list(a)
        b = 0.0 if bias is None else _resolve(bias, a)
        return math.fsum([*(_resolve(w, a) * _resolve(x, a) for w, x in pairs), b])

    vs = [Value(x) for x in xs]
    ws = [_resolve(w, vs) for w, _ in pairs]
    inputs = [_resolve(x, vs) for _, x in pairs]
    out = dot(ws, inputs) if bias is None else dot(ws, inputs, bias=_resolve(bias, vs))
    # rounding errors scale with the terms, not with their (maybe cancelling) sum
    terms = [abs(float(w) * float(x)) for w, x in zip(ws, inputs)]
    size = math.fsum([*terms, 0.0 if bias is None else abs(float(_resolve(bias, vs)))])
    assert out.data == pytest.approx(reference(*xs), rel=1e-12, abs=1e-15 * size)
    assert_close(grad(out, vs), numerical_grad(reference, xs, EPS), size, "dot")
    # second derivatives: d²/dxᵢdxⱼ counts the products pairing xᵢ with xⱼ
    firsts = grad(out, vs, create_graph=True)
    for i, first in enumerate(firsts):
        for j, second in enumerate(grad(first, vs)):
            expected = 0.0
            for w, x in pairs:
                if w[0] == x[0] == "v":
                    a, b = w[1] % len(xs), x[1] % len(xs)
                    expected += (a == i and b == j) + (a == j and b == i)
            assert second == expected, (i, j)


# --- random expression graphs whose nodes are shared by several paths


def _sigmoid(x: object) -> object:
    return x.sigmoid() if isinstance(x, Value) else 0.5 * (1 + math.tanh(x / 2))


def _fn(name: str) -> Callable[[object], object]:
    return lambda x: getattr(x, name)() if isinstance(x, Value) else getattr(math, name)(x)


_tanh, _exp, _log, _sqrt = _fn("tanh"), _fn("exp"), _fn("log"), _fn("sqrt")


def _vdot(ws: list, xs: list, bias: object) -> object:
    if any(isinstance(o, Value) for o in [*ws, *xs, bias]):
        return dot(ws, xs, bias=bias)
    return math.fsum([*(w * x for w, x in zip(ws, xs)), bias])


def _vsum(xs: list) -> object:
    return vsum(xs) if any(isinstance(o, Value) for o in xs) else math.fsum(xs)


# Each operation takes two earlier nodes a, b and a number c. Written once and
# run twice: on Values (the engine) and on floats (the reference). Every one is
# defined everywhere, so any program is in its domain.
OPERATIONS: dict[str, Callable[[object, object, float], object]] = {
    "a + b": lambda a, b, c: a + b,
    "a - b": lambda a, b, c: a - b,
    "a * b": lambda a, b, c: a * b,
    "a * a": lambda a, b, c: a * a,  # one node along two edges of one node
    "a / (1 + b²)": lambda a, b, c: a / (1 + b * b),
    "(1 + a²) ** b": lambda a, b, c: (1 + a * a) ** (0.5 * b),
    "a ** 3": lambda a, b, c: a**3,
    "a ** 2 - c": lambda a, b, c: a**2 - c,
    "1.5 ** a": lambda a, b, c: 1.5**a,
    "c * a + c": lambda a, b, c: c * a + c,
    "c - a": lambda a, b, c: c - a,
    "c / (1 + a²)": lambda a, b, c: c / (1 + a * a),
    "-a": lambda a, b, c: -a,
    "tanh": lambda a, b, c: _tanh(a),
    "sigmoid": lambda a, b, c: _sigmoid(a),
    "exp": lambda a, b, c: _exp(0.5 * a),
    "log(1 + a²)": lambda a, b, c: _log(1 + a * a),
    "sqrt(1 + a²)": lambda a, b, c: _sqrt(1 + a * a),
    "sum": lambda a, b, c: _vsum([a, b, a, c]),  # a twice, and a number
    "dot": lambda a, b, c: _vdot([a, b, c], [b, a, a], bias=a),  # repeats, numbers, a bias
}

# Keeps every intermediate modest so the finite differences stay accurate.
BOUND = 1e3

programs = st.tuples(
    st.lists(_floats(-2.0, 2.0), min_size=1, max_size=3),
    st.lists(
        st.tuples(st.sampled_from(sorted(OPERATIONS)), st.integers(0, 20), st.integers(0, 20),
                  _floats(-2.0, 2.0)),
        min_size=1, max_size=10,
    ),
)


class OutOfBounds(Exception):
    pass


def run(program: list, inputs: list) -> tuple[object, float]:
    """Evaluate on ``inputs`` (Values or floats): the last node and the largest |node|."""
    pool = list(inputs)
    biggest = max(abs(float(x)) for x in inputs)
    for name, i, j, c in program:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        if name == "exp" and abs(float(a)) > 2 * BOUND:
            raise OutOfBounds  # a float exp would overflow
        out = OPERATIONS[name](a, b, c)
        biggest = max(biggest, abs(float(out)))
        if not biggest <= BOUND:
            raise OutOfBounds
        pool.append(out)
    return pool[-1], biggest


def _run_floats(program: list, xs: list[float]) -> tuple[float, float]:
    try:
        return run(program, xs)
    except OutOfBounds:
        assume(False)
        raise


@given(programs)
def test_random_graphs_with_shared_nodes_match_central_differences(prog):
    xs, program = prog
    fx, biggest = _run_floats(program, xs)
    vs = [Value(x) for x in xs]
    out, _ = run(program, vs)
    assert out.data == pytest.approx(fx, rel=1e-9, abs=1e-12 * biggest)
    numeric = numerical_grad(lambda *a: _run_floats(program, list(a))[0], xs, EPS)
    assert_close(grad(out, vs), numeric, biggest, "graph")
    out.backward()
    assert_close([v.grad for v in vs], numeric, biggest, "graph via backward()")


@given(programs)
def test_random_graphs_second_derivatives_match_differences_of_the_first(prog):
    xs, program = prog
    _, biggest = _run_floats(program, xs)
    vs = [Value(x) for x in xs]
    out, _ = run(program, vs)
    firsts = grad(out, vs, create_graph=True)

    def first(i: int, *a: float) -> float:
        ws = [Value(x) for x in a]
        return grad(run(program, ws)[0], ws)[i]

    for i, d in enumerate(firsts):
        numeric = numerical_grad(lambda *a, i=i: first(i, *a), xs, EPS)
        scale = biggest + max(abs(f.data) for f in firsts)
        assert_close(grad(d, vs), numeric, scale, f"d/dx{i}")


# --- third derivatives against closed forms


def _third(f: Callable[[Value], Value], x: float) -> float:
    v = Value(x)
    d1 = grad(f(v), [v], create_graph=True)[0]
    d2 = grad(d1, [v], create_graph=True)[0]
    return grad(d2, [v])[0]


def _sig(x: float) -> float:
    return 1 / (1 + math.exp(-x))


THIRD = [
    ("x ** 4", lambda v: v**4, lambda x: 24 * x),
    ("x ** 2.5", lambda v: v**2.5, lambda x: 2.5 * 1.5 * 0.5 * x**-0.5),
    ("exp(2x)", lambda v: (2 * v).exp(), lambda x: 8 * math.exp(2 * x)),
    ("log", lambda v: v.log(), lambda x: 2 / x**3),
    ("sqrt", lambda v: v.sqrt(), lambda x: 3 / 8 * x**-2.5),
    ("1 / x", lambda v: 1 / v, lambda x: -6 / x**4),
    ("tanh", lambda v: v.tanh(), lambda x: (1 - math.tanh(x) ** 2) * (6 * math.tanh(x) ** 2 - 2)),
    ("sigmoid", lambda v: v.sigmoid(),
     lambda x: _sig(x) * (1 - _sig(x)) * (1 - 6 * _sig(x) + 6 * _sig(x) ** 2)),
    ("3 ** x", lambda v: 3**v, lambda x: 3**x * math.log(3) ** 3),
    ("x ** x", lambda v: v**v,
     lambda x: x**x * ((math.log(x) + 1) ** 3 + 3 * (math.log(x) + 1) / x - 1 / x**2)),
    ("x * x * x via dot", lambda v: dot([v, v], [v * v, 0.0]), lambda x: 6.0),
]


@pytest.mark.parametrize(("name", "f", "closed_form"), THIRD, ids=[t[0] for t in THIRD])
@pytest.mark.parametrize("x", [0.3, 0.9, 1.7])
def test_third_derivative_matches_closed_form(name, f, closed_form, x):
    assert _third(f, x) == pytest.approx(closed_form(x), rel=1e-12, abs=1e-12)


# --- second derivatives where the first is infinite or undefined (as PyTorch gives them)


def _derivatives(f: Callable[[Value], Value], x: float, n: int) -> list[float]:
    v = Value(x)
    out, found = f(v), []
    for _ in range(n):
        (out,) = grad(out, [v], create_graph=True)
        found.append(out.data)
    return found


@pytest.mark.parametrize(("name", "f", "expected"), [
    # sqrt: x^½, ½x^-½, -¼x^-3/2, ⅜x^-5/2 at 0
    ("sqrt", lambda v: v.sqrt(), [math.inf, -math.inf, math.inf]),
    ("x ** 0.5", lambda v: v**0.5, [math.inf, -math.inf, math.inf]),
    ("x ** 1.5", lambda v: v**1.5, [0.0, math.inf, -math.inf]),
    ("x ** y, y = 0.5", lambda v: v ** Value(0.5), [math.inf, -math.inf, math.inf]),
    ("x ** 0.25 scaled", lambda v: 3 * v**0.25, [math.inf, -math.inf, math.inf]),
])
def test_derivatives_at_zero_stay_infinite_with_the_right_sign(name, f, expected):
    assert _derivatives(f, 0.0, 3) == expected


def test_a_negative_base_keeps_its_nan_derivative_in_the_graph():
    # (-2) ** x at x = 2: 4, d/dx = 4·ln(-2) = nan, and so is every further derivative
    first, second = _derivatives(lambda v: (-2.0) ** v, 2.0, 2)
    assert math.isnan(first) and math.isnan(second)
    base, y = Value(-2.0), Value(2.0)
    (dy,) = grad(base**y, [y], create_graph=True)
    assert math.isnan(dy.data)
    assert all(map(math.isnan, grad(dy, [base, y])))
    # along the base the derivative is finite: d/db b² = 2b, d²/db² = 2
    (db,) = grad(base**y, [base], create_graph=True)
    assert db.data == -4.0 and grad(db, [base]) == [2.0]


def test_first_derivatives_at_singular_points_are_unchanged():
    z = Value(0.0)
    assert grad(z.sqrt(), [z]) == [math.inf]
    assert grad(z**0.5, [z]) == [math.inf]
    assert grad(z**-0.0, [z]) == [0.0]
    x = Value(2.0)
    assert math.isnan(grad((-2.0) ** x, [x])[0])
    assert grad(0.0 ** x, [x]) == [0.0]
