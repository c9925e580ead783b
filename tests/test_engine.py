"""The engine's promises, one by one: closed forms, conventions, accumulation,
grad(), deep graphs, no_grad, and what a node looks like from outside."""

from __future__ import annotations

import math
import sys
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_mini import Value, dot, grad, is_grad_enabled, no_grad
from autograd_mini import sum as vsum
from autograd_mini.engine import walk

# --- closed forms at named points


def d(f, *xs: float) -> list[float]:
    """The engine's gradient of f at xs, through backward()."""
    vs = [Value(x) for x in xs]
    f(*vs).backward()
    return [v.grad for v in vs]


CLOSED_FORMS = [
    # name, f, point, exact gradient
    ("a * b + b ** 2", lambda a, b: a * b + b**2, (2.0, -3.0), [-3.0, -4.0]),
    ("a / b", lambda a, b: a / b, (3.0, 4.0), [0.25, -3 / 16]),
    ("a - b", lambda a, b: a - b, (3.0, 4.0), [1.0, -1.0]),
    ("x ** 3", lambda x: x**3, (2.0,), [12.0]),
    ("x ** -2", lambda x: x**-2, (2.0,), [-0.25]),
    ("x ** 0.5", lambda x: x**0.5, (4.0,), [0.25]),
    ("2 ** x", lambda x: 2**x, (3.0,), [8 * math.log(2)]),
    ("v ** w", lambda v, w: v**w, (2.0, 3.0), [12.0, 8 * math.log(2)]),
    ("(-2) ** 3 along the base", lambda x: x**3, (-2.0,), [12.0]),
    ("1 / x", lambda x: 1 / x, (4.0,), [-1 / 16]),
    ("5 - x", lambda x: 5 - x, (4.0,), [-1.0]),
    ("-x", lambda x: -x, (4.0,), [-1.0]),
    ("abs at -3", lambda x: abs(x), (-3.0,), [-1.0]),
    ("abs at 3", lambda x: abs(x), (3.0,), [1.0]),
    ("exp at 1", lambda x: x.exp(), (1.0,), [math.e]),
    ("log at 2", lambda x: x.log(), (2.0,), [0.5]),
    ("sqrt at 4", lambda x: x.sqrt(), (4.0,), [0.25]),
    ("tanh at 0", lambda x: x.tanh(), (0.0,), [1.0]),
    ("tanh at ln 2", lambda x: x.tanh(), (math.log(2),), [1 - 0.6**2]),  # tanh(ln 2) = 3/5
    ("sigmoid at 0", lambda x: x.sigmoid(), (0.0,), [0.25]),
    ("sigmoid at ln 3", lambda x: x.sigmoid(), (math.log(3),), [0.75 * 0.25]),  # σ = 3/4
    ("relu at 2", lambda x: x.relu(), (2.0,), [1.0]),
    ("relu at -2", lambda x: x.relu(), (-2.0,), [0.0]),
    ("sum", lambda a, b: vsum([a, b, a, 4.0]), (1.0, 2.0), [2.0, 1.0]),
    ("dot", lambda a, b: dot([a, b], [b, 3.0], bias=a), (2.0, 5.0), [6.0, 5.0]),
    ("x * x", lambda x: x * x, (3.0,), [6.0]),
]


@pytest.mark.parametrize(("name", "f", "xs", "expected"), CLOSED_FORMS,
                         ids=[c[0] for c in CLOSED_FORMS])
def test_gradient_at_a_named_point(name, f, xs, expected):
    assert d(f, *xs) == pytest.approx(expected, rel=1e-15, abs=1e-15)
    vs = [Value(x) for x in xs]
    assert grad(f(*vs), vs) == pytest.approx(expected, rel=1e-15, abs=1e-15)


def test_micrograd_readme_example():
    """The example every scalar engine is first checked with."""
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    e = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    e += e * 2 + (b + a).relu()
    e += 3 * e + (b - a).relu()
    f = c - e
    g = f**2
    h = g / 2.0
    h += 10.0 / g
    h.backward()
    assert h.data == pytest.approx(24.70408163265306, rel=1e-14)
    assert a.grad == pytest.approx(138.83381924198252, rel=1e-14)
    assert b.grad == pytest.approx(645.5772594752186, rel=1e-14)


# --- conventions where a derivative is undefined or infinite (README table)


@pytest.mark.parametrize("create_graph", [False, True])
def test_relu_and_abs_have_derivative_zero_at_the_kink(create_graph):
    for f in (Value.relu, abs):
        x = Value(0.0)
        (g,) = grad(f(x), [x], create_graph=create_graph)
        assert float(g) == 0.0
        y = f(x)
        y.backward()
        assert x.grad == 0.0


def test_sqrt_has_infinite_derivative_at_zero():
    x = Value(0.0)
    x.sqrt().backward()
    assert x.grad == math.inf
    assert grad(x.sqrt(), [x]) == [math.inf]
    assert grad(x**0.5, [x]) == [math.inf]


def test_power_with_negative_base_has_nan_derivative_along_the_exponent():
    v, w = Value(-2.0), Value(3.0)
    y = v**w
    y.backward()
    assert y.data == -8.0
    assert v.grad == 12.0  # along the base it is fine: w · v^(w-1)
    assert math.isnan(w.grad)
    dv, dw = grad(v**w, [v, w])
    assert dv == 12.0 and math.isnan(dw)
    dv, dw = grad(v**w, [v, w], create_graph=True)
    assert dv.data == 12.0 and math.isnan(dw.data)


def test_power_of_zero_base_has_zero_derivative_along_the_exponent():
    v, w = Value(0.0), Value(2.0)
    assert grad(v**w, [v, w]) == [0.0, 0.0]
    x = Value(2.0)
    assert grad(0**x, [x]) == [0.0]


@pytest.mark.parametrize(("base", "exponent"), [(0.0, 0.0), (0.0, 2.0), (0.0, 0.5), (0.0, 1.0),
                                                (-2.0, 3.0), (-2.0, 0.0), (2.0, 0.0)])
def test_both_modes_agree_on_powers_at_the_edges(base, exponent):
    """One rule serves floats and Values: the same numbers at 0 ** 0 and friends."""
    for make in (lambda v, w: v**w, lambda v, w: v**exponent):
        v, w = Value(base), Value(exponent)
        floats = grad(make(v, w), [v, w])
        values = [g.data for g in grad(make(v, w), [v, w], create_graph=True)]
        for f, g in zip(floats, values):
            assert f == g or (math.isnan(f) and math.isnan(g)), (base, exponent, floats, values)


def test_zero_to_the_power_zero_has_zero_derivative_along_the_base():
    """x ** 0 is 1 for every x, so its derivative along the base is 0, at x = 0 too."""
    v, w = Value(0.0), Value(0.0)
    assert grad(v**w, [v, w]) == [0.0, 0.0]
    assert [g.data for g in grad(v**w, [v, w], create_graph=True)] == [0.0, 0.0]


def test_nothing_flows_through_a_node_whose_gradient_is_zero():
    """0 · ∞ counts as 0: relu(sqrt(x) - 1) at 0 has derivative 0, not nan."""
    x = Value(0.0)
    y = (x.sqrt() - 1).relu()
    y.backward()
    assert x.grad == 0.0
    assert grad((x.sqrt() - 1).relu(), [x]) == [0.0]
    assert grad((x.sqrt() - 1).relu(), [x], create_graph=True)[0].data == 0.0
    assert grad(0 * x.sqrt(), [x], create_graph=True)[0].data == 0.0


def test_nothing_flows_along_an_edge_whose_local_derivative_is_zero():
    """The other factor of 0 · ∞: a switched-off relu blocks even an infinite gradient,
    as PyTorch's relu does, in every mode and in the trace."""
    from autograd_mini.trace import backward_steps

    for make in (lambda x: x.relu() * math.inf, lambda x: (x * math.inf).relu()):
        x = Value(-1.0)
        make(x).backward()
        assert x.grad == 0.0
        assert grad(make(x), [x]) == [0.0]
        assert grad(make(x), [x], create_graph=True)[0].data == 0.0
        x.grad = 0.0
        steps = list(backward_steps(make(x)))
        assert x.grad == 0.0 and steps[-1].contribution == 0.0


def test_grad_below_a_switched_off_node_is_zero_not_an_error():
    """Inner nodes whose only consumer passes 0 still get their (zero) share."""
    x = Value(0.0)
    assert grad(((x - 1) * 2).relu(), [x]) == [0.0]
    y = Value(1.0)
    assert grad(((y + 1) * 2) * 0.0 + y, [y]) == [1.0]
    # a second derivative that runs into the same situation
    a, b = Value(1.0), Value(0.0)
    da, db = grad(a**b, [a, b], create_graph=True)
    assert db.data == 0.0  # a^b · ln a at a = 1
    assert grad(da, [a, b]) == [0.0, 1.0]  # d/da(b·a^(b-1)) = 0, d/db = a^(b-1)(1 + b ln a)


# --- IEEE arithmetic: nan and infinities in, overflow out, no exceptions


def test_nan_and_infinities_are_accepted():
    assert math.isnan(Value(math.nan).data)
    assert Value(math.inf).data == math.inf
    assert (Value(-math.inf) + 1).data == -math.inf
    assert math.isnan((Value(math.nan) * 2).data)
    assert math.isnan(Value(math.nan).relu().data)


def test_overflow_gives_infinity():
    assert Value(1000.0).exp().data == math.inf
    assert Value(-1000.0).exp().data == 0.0
    assert (Value(1e308) * 10).data == math.inf
    assert (Value(10.0) ** 400).data == math.inf
    assert (Value(-10.0) ** 401).data == -math.inf
    assert (10 ** Value(400.0)).data == math.inf
    assert (Value(10.0) ** Value(400.0)).data == math.inf


def test_sigmoid_and_tanh_saturate_exactly():
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0
    assert Value(-1000.0).tanh().data == -1.0
    assert Value(1000.0).tanh().data == 1.0


finite = st.floats(allow_nan=False, allow_infinity=False)


@given(finite)
def test_sigmoid_tanh_exp_never_raise_on_finite_input(x):
    s, t, e = Value(x).sigmoid(), Value(x).tanh(), Value(x).exp()
    assert 0.0 <= s.data <= 1.0
    assert -1.0 <= t.data <= 1.0
    assert 0.0 <= e.data <= math.inf
    # their derivatives are finite numbers (exp's may overflow to inf, like exp)
    ds, dt, de = (grad(y, [y.parents[0]])[0] for y in (s, t, e))
    assert 0.0 <= ds <= 0.25 and 0.0 <= dt <= 1.0 and de == e.data


# --- accumulation


def _shared_graph() -> tuple[list[Value], Value]:
    """A graph where x and u are each reached along several paths."""
    x, y = Value(0.7, label="x"), Value(-1.3, label="y")
    u = x * y
    v = u.tanh() + u * x + vsum([u, x, u])
    w = dot([u, v], [x, 2.0], bias=y).sigmoid()
    return [x, y, u, v, w], w


def test_backward_twice_doubles_every_gradient_including_intermediates():
    _, root = _shared_graph()
    everything = list(walk(root))
    root.backward()
    first = {n: n.grad for n in everything}
    assert all(g != 0.0 for g in first.values())
    root.backward()
    for n in everything:
        assert n.grad == pytest.approx(2 * first[n], rel=1e-14), n


def test_backward_seed_scales_every_gradient():
    _, root = _shared_graph()
    everything = list(walk(root))
    root.backward()
    unit = {n: n.grad for n in everything}
    for n in everything:
        n.grad = 0.0
    root.backward(-2.5)
    for n in everything:
        assert n.grad == pytest.approx(-2.5 * unit[n], rel=1e-14)


def test_a_node_reached_along_several_paths_gets_the_sum():
    x = Value(0.5)
    y = x * x + x.tanh() + 3 * x
    y.backward()
    assert x.grad == pytest.approx(2 * 0.5 + (1 - math.tanh(0.5) ** 2) + 3, rel=1e-15)
    x = Value(1.5)
    u = x * 2
    z = u * u + u  # dz/du = 2u + 1
    z.backward()
    assert u.grad == 2 * 3.0 + 1
    assert x.grad == 2 * (2 * 3.0 + 1)


def test_zero_grad_resets_the_graph_below_and_nothing_else():
    x, y = Value(2.0), Value(3.0)
    u = x * y
    top = u + x
    other = Value(1.0)
    other.grad = 5.0
    top.backward()
    assert x.grad == 4.0 and y.grad == 2.0 and u.grad == 1.0 and top.grad == 1.0
    top.grad = 7.0  # nodes above the one we reset keep their gradient
    u.zero_grad()
    assert (x.grad, y.grad, u.grad) == (0.0, 0.0, 0.0)
    assert top.grad == 7.0 and other.grad == 5.0


# --- grad()


def test_grad_leaves_every_grad_untouched():
    _, root = _shared_graph()
    everything = list(walk(root))
    for k, n in enumerate(everything):
        n.grad = 0.25 * k - 1.0
    before = [n.grad for n in everything]
    leaves = [n for n in everything if not n.parents]
    floats = grad(root, everything)
    values = grad(root, leaves, create_graph=True)
    assert [n.grad for n in everything] == before
    # and it agrees with what backward() then leaves
    for n in everything:
        n.grad = 0.0
    root.backward()
    assert floats == pytest.approx([n.grad for n in everything], rel=1e-14)
    assert [v.data for v in values] == pytest.approx([n.grad for n in leaves], rel=1e-14)


def test_grad_of_an_unrelated_input_is_zero():
    x, unrelated = Value(2.0), Value(3.0)
    y = x * x
    assert grad(y, [x, unrelated]) == [4.0, 0.0]
    dx, du = grad(y, [x, unrelated], create_graph=True)
    assert dx.data == 4.0
    assert isinstance(du, Value) and du.data == 0.0
    assert grad(y, [y]) == [1.0]


def test_grad_with_create_graph_returns_differentiable_values():
    x, y = Value(1.5), Value(-0.5)
    f = x * x * y + (x * y).tanh()
    results = grad(f, [x, y], create_graph=True)
    assert all(isinstance(r, Value) for r in results)
    dx, dy = results
    t = math.tanh(1.5 * -0.5)
    assert dx.data == pytest.approx(2 * 1.5 * -0.5 + (1 - t * t) * -0.5, rel=1e-14)
    assert dy.data == pytest.approx(1.5 * 1.5 + (1 - t * t) * 1.5, rel=1e-14)
    # d²f/dx² = 2y + (-2t(1-t²))·y²
    assert grad(dx, [x])[0] == pytest.approx(2 * -0.5 + -2 * t * (1 - t * t) * 0.25, rel=1e-13)
    # constant derivatives come back as Values too
    (c,) = grad(3 * x + 1, [x], create_graph=True)
    assert isinstance(c, Value) and c.data == 3.0
    assert grad(c, [x]) == [0.0]


def test_grad_with_create_graph_records_even_under_no_grad():
    x = Value(2.0)
    y = x**3
    with no_grad():
        (dx,) = grad(y, [x], create_graph=True)
        assert not is_grad_enabled()
    assert dx.data == 12.0
    assert grad(dx, [x]) == [12.0]


# --- deep graphs


def test_million_node_chain_with_the_default_recursion_limit():
    limit = sys.getrecursionlimit()
    x = Value(1.0)
    y = x
    for _ in range(500_000):  # two nodes per step: a binary one and a unary one
        y = (y + x) * 1.0
    assert len(y.parents) == 1
    y.backward()
    assert x.grad == 500_001.0
    assert y.data == 500_001.0
    assert sys.getrecursionlimit() == limit


# --- no_grad


def test_no_grad_records_nothing_for_any_operation():
    a, b = Value(2.0), Value(3.0)
    with no_grad():
        assert not is_grad_enabled()
        made = [a + b, a - 1, 2 - a, a * b, a / b, 1 / a, a**b, 2**a, a**2, -a, abs(a),
                a.exp(), a.log(), a.sqrt(), a.tanh(), a.sigmoid(), a.relu(),
                vsum([a, b]), dot([a, b], [b, 1.0])]
    assert is_grad_enabled()
    for v in made:
        assert v.parents == () and v.op == ""
    assert made[0].data == 5.0 and made[-1].data == 9.0
    assert (a * b).parents == (a, b)  # recording again after the block


def test_no_grad_is_restored_after_an_exception_and_when_nested():
    with pytest.raises(RuntimeError), no_grad():
        raise RuntimeError
    assert is_grad_enabled()
    with no_grad():
        with no_grad():
            pass
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_no_grad_in_one_thread_does_not_stop_another_from_recording():
    x = Value(2.0)
    inside = threading.Event()  # the quiet thread is inside no_grad()
    recorded = threading.Event()  # the loud thread has recorded meanwhile
    results: dict[str, object] = {}
    errors: list[BaseException] = []

    def quiet() -> None:
        try:
            with no_grad():
                inside.set()
                assert recorded.wait(10)
                results["quiet"] = (x * 3).parents  # still inside, after the other recorded
                results["quiet enabled"] = is_grad_enabled()
        except BaseException as e:  # surfaced in the main thread below
            errors.append(e)
            inside.set()

    def loud() -> None:
        try:
            assert inside.wait(10)
            results["loud"] = (x * 2).parents
            results["loud enabled"] = is_grad_enabled()
        except BaseException as e:
            errors.append(e)
        finally:
            recorded.set()

    threads = [threading.Thread(target=quiet), threading.Thread(target=loud)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors, errors
    assert results == {"quiet": (), "quiet enabled": False, "loud": (x,), "loud enabled": True}
    assert is_grad_enabled()


def test_no_grad_in_the_main_thread_does_not_leak_into_a_new_thread():
    x = Value(2.0)
    seen: list[tuple] = []
    with no_grad():
        t = threading.Thread(target=lambda: seen.append((x * 2).parents))
        t.start()
        t.join(10)
        assert (x * 2).parents == ()
    assert seen == [(x,)]


# --- what a node looks like


def test_repr_shows_label_data_and_grad():
    v = Value(2.5, label="weight")
    v.grad = -1.25
    r = repr(v)
    assert "weight" in r and "2.5" in r and "-1.25" in r
    assert "grad" in r
    unlabeled = repr(Value(-0.75))
    assert "-0.75" in unlabeled and "0.0" in unlabeled


def test_hash_and_equality_are_identity():
    a, b = Value(1.0), Value(1.0)
    assert a == a and a != b
    assert a != 1.0  # equality does not compare numbers
    assert len({a, b, a}) == 2
    table = {a: "a", b: "b"}
    assert table[a] == "a" and table[b] == "b"
    assert a in [a] and a not in [b]


def test_leaf_attributes():
    v = Value(3, label="n")
    assert type(v.data) is float and v.data == 3.0
    assert v.grad == 0.0 and v.label == "n" and v.op == "" and v.parents == ()


def test_numbers_of_every_real_type_are_stored_as_floats():
    import fractions

    import numpy as np

    for x in (2, 2.0, np.float64(2.0), np.float32(2.0), np.int64(2), fractions.Fraction(4, 2)):
        v = Value(x)
        assert type(v.data) is float and v.data == 2.0, type(x)


def test_op_names():
    a, b = Value(2.0), Value(3.0)
    cases = {
        "+": [a + b, a + 1, 1 + a], "-": [a - b, a - 1, 1 - a], "*": [a * b, a * 2, 2 * a],
        "/": [a / b, a / 2, 2 / a], "**": [a**b, a**2, 2**a], "neg": [-a], "abs": [abs(a)],
        "exp": [a.exp()], "log": [a.log()], "sqrt": [a.sqrt()], "tanh": [a.tanh()],
        "sigmoid": [a.sigmoid()], "relu": [a.relu()], "sum": [vsum([a, b])],
        "dot": [dot([a], [b])],
    }
    for name, made in cases.items():
        assert [v.op for v in made] == [name] * len(made)


def test_parents_in_argument_order():
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    assert (a - b).parents == (a, b)
    assert (b - a).parents == (b, a)
    assert (b / a).parents == (b, a)
    assert (b**a).parents == (b, a)
    assert (a * a).parents == (a, a)
    assert (2 - a).parents == (a,)
    assert (2**a).parents == (a,)
    assert a.tanh().parents == (a,)
    assert vsum([c, a, 5.0, b, a]).parents == (c, a, b, a)
    assert dot([a, b], [c, a]).parents == (a, b, c, a)
    assert dot([a, b], [c, a], bias=b).parents == (a, b, c, a, b)
    assert dot([a, 2.0], [3.0, c], bias=b).parents == (a, c, b)  # numbers are not parents
    assert dot([a, b], [2.0, 3.0]).parents == (a, b)


@pytest.mark.parametrize("n", [1, 2, 10, 200])
def test_sum_and_dot_build_one_node(n):
    xs = [Value(float(k)) for k in range(n)]
    ws = [Value(0.5 * k) for k in range(n)]
    b = Value(1.0)
    for root, leaves in [(vsum(xs), xs), (dot(ws, xs, bias=b), [*ws, *xs, b]),
                         (dot(ws, [2.0] * n), ws)]:
        assert len(root.parents) == len(leaves)
        inner = [v for v in walk(root) if v.parents]
        assert inner == [root]  # no chain of binary nodes below
        root.backward()
    assert vsum(xs).data == sum(range(n))
    assert dot(ws, xs, bias=b).data == sum(0.5 * k * k for k in range(n)) + 1.0


def test_sum_and_dot_of_numbers_only_are_leaves():
    assert vsum([1.0, 2.0]).parents == () and vsum([1.0, 2.0]).data == 3.0
    assert vsum([]).data == 0.0
    assert dot([], []).data == 0.0
    assert dot([2.0], [3.0], bias=1.0).data == 7.0


@pytest.mark.parametrize("x", [-30.0, -20.0, 20.0, 30.0])
def test_sigmoid_derivative_keeps_its_digits_where_sigmoid_is_saturated(x):
    """σ'(x) = e^-|x| / (1 + e^-|x|)², to the last digits, on both sides (σ(1 − σ) loses them)."""
    e = math.exp(-abs(x))
    exact = e / (1.0 + e) ** 2
    v = Value(x)
    v.sigmoid().backward()
    assert abs(v.grad - exact) <= 1e-15 * exact
    u = Value(x)
    assert abs(grad(u.sigmoid(), [u])[0] - exact) <= 1e-15 * exact
    w = Value(x)
    assert abs(grad(w.sigmoid(), [w], create_graph=True)[0].data - exact) <= 1e-15 * exact


@pytest.mark.parametrize("x", [-20.0, -10.0, -1.0, -0.3, 0.3, 1.0, 10.0, 20.0])
def test_tanh_derivative_keeps_its_digits_where_tanh_is_saturated(x):
    """tanh'(x) = 4e/(1 + e)², e = exp(−2|x|), to the last digits (1 − tanh² loses them)."""
    e = math.exp(-2 * abs(x))
    exact = 4 * e / (1 + e) ** 2
    v = Value(x)
    v.tanh().backward()
    assert abs(v.grad - exact) <= 4e-16 * exact
    w = Value(x)
    first = grad(w.tanh(), [w], create_graph=True)[0]
    assert abs(first.data - exact) <= 4e-16 * exact
    # and the second derivative, −2·tanh·sech², from the same rule's graph
    assert grad(first, [w])[0] == pytest.approx(-2 * math.tanh(x) * exact, rel=1e-12)


# --- Python's protocols: +x, round(x), pickling and copying


def test_unary_plus_is_the_value_itself():
    x = Value(2.0)
    assert +x is x
    (+x * 3).backward()
    assert x.grad == 3.0


def test_round_rounds_the_number_like_a_float():
    x = Value(2.675, label="x")
    assert round(x) == 3 and type(round(x)) is int
    assert round(Value(2.5)) == 2  # banker's rounding, as round(2.5)
    assert round(x, 1) == round(2.675, 1) and type(round(x, 1)) is float


def test_a_leaf_pickles_and_copies_with_its_data_grad_and_label():
    import copy
    import pickle

    x = Value(1.5, label="w")
    x.grad = -0.25
    for back in (pickle.loads(pickle.dumps(x)), copy.copy(x), copy.deepcopy(x)):
        assert back is not x
        assert (back.data, back.grad, back.label) == (1.5, -0.25, "w")
        assert (back.op, back.parents) == ("", ())
        (back * 2).backward()
        assert back.grad == 1.75


def test_a_computed_value_refuses_pickling_with_a_clear_error():
    import copy
    import pickle

    y = Value(2.0) * 3
    message = (r"^cannot pickle or copy a computed Value \(op '\*', data 6\.0\): only leaves "
               r"can be; pickle Value\(v\.data\) or v\.data instead$")
    with pytest.raises(TypeError, match=message):
        pickle.dumps(y)
    with pytest.raises(TypeError, match=message):
        copy.deepcopy(y)
    with no_grad():
        z = Value(2.0) * 3  # no graph: a leaf, so it pickles
    assert pickle.loads(pickle.dumps(z)).data == 6.0
