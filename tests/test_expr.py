"""The expression parser: Python's precedence, the engine's arithmetic, errors with columns."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_mini import Value, grad
from autograd_mini.expr import FUNCTIONS, MAX_DEPTH, ExprError, check_name, parse


def leaves(**values: float) -> dict[str, Value]:
    return {name: Value(v, label=name) for name, v in values.items()}


# --- values: precedence and associativity as in Python

@pytest.mark.parametrize(("text", "expected"), [
    ("-2**2", -4.0),            # ** binds tighter than unary minus
    ("(-2)**2", 4.0),
    ("2**3**2", 512.0),         # right-associative
    ("(2**3)**2", 64.0),
    ("2**-1", 0.5),             # a sign in the exponent
    ("2**-3**2", 2.0**-9),      # ... applies to the whole power on its right
    ("-x**2", -9.0),
    ("x-y-4", 3 - 5 - 4),       # left-associative
    ("x/y/4", 3 / 5 / 4),
    ("2*3+4*5", 26.0),
    ("2+3*4**2", 50.0),
    ("--x", 3.0),
    ("+-+x", -3.0),
    ("- - -x", -3.0),
    ("-x*y", -15.0),
    ("x**y", 243.0),
    ("1e-3 + .5 + 5. + 1E+2", 105.501),
    (" x\t*\n2 ", 6.0),
    ("exp(0)+log(1)+tanh(0)+sigmoid(0)+relu(-x)+sqrt(4)+abs(-y)", 1 + 0.5 + 2 + 5),
    ("sqrt(sqrt(x*y+1))", 2.0),
])
def test_values_follow_python_precedence(text: str, expected: float) -> None:
    assert parse(text, leaves(x=3.0, y=5.0)).data == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_each_function_is_the_engines(name: str) -> None:
    x = Value(0.7, label="x")
    f = parse(f"{name}(x)", {"x": x})
    expected = abs(x) if name == "abs" else getattr(x, name)()
    assert f.op == expected.op
    assert f.data == expected.data
    assert f.parents == (x,)


# --- the graph

def test_variables_are_the_given_leaves_and_gradients_flow_to_them() -> None:
    xs = leaves(x=2.0, y=-3.0)
    f = parse("x*y + exp(x) + x*x", xs)
    f.backward()
    assert xs["x"].grad == pytest.approx(-3.0 + math.exp(2.0) + 4.0, rel=1e-15)
    assert xs["y"].grad == 2.0


def test_numbers_in_the_mapping_become_labelled_leaves() -> None:
    f = parse("a * b", {"a": 2, "b": 4.5})
    assert [(p.label, p.data, p.op) for p in f.parents] == [("a", 2.0, ""), ("b", 4.5, "")]


def test_constants_fold_and_stay_out_of_the_graph() -> None:
    x = Value(1.5, label="x")
    f = parse("2*3*x", {"x": x})
    assert f.data == 9.0
    assert f.parents == (x,)           # one node: x times the folded constant 6
    g = parse("2 ** 3", {})
    assert (g.data, g.parents) == (8.0, ())


def test_second_derivative_through_a_parsed_graph() -> None:
    x = Value(0.3, label="x")
    f = parse("x**3 - 2*x", {"x": x})
    (d1,) = grad(f, [x], create_graph=True)
    (d2,) = grad(d1, [x])
    assert d1.data == pytest.approx(3 * 0.09 - 2, rel=1e-15)
    assert d2 == pytest.approx(6 * 0.3, rel=1e-15)


# --- fully parenthesised random expressions against the same ones built by hand

BINARY = ["+", "-", "*", "/", "**"]
UNARY = ["-", *FUNCTIONS]


def trees(depth: int = 4) -> st.SearchStrategy:
    atoms = st.one_of(st.sampled_from(["x", "y"]),
                      st.floats(0.25, 4.0).map(lambda c: round(c, 3)))
    return st.recursive(atoms, lambda sub: st.one_of(
        st.tuples(st.sampled_from(UNARY), sub),
        st.tuples(st.sampled_from(BINARY), sub, sub)), max_leaves=2 ** depth)


def render(tree: object) -> str:
    if isinstance(tree, tuple):
        if len(tree) == 2:
            op, a = tree
            return f"-({render(a)})" if op == "-" else f"{op}({render(a)})"
        op, a, b = tree
        return f"({render(a)}) {op} ({render(b)})"
    return str(tree)


def build(tree: object, xs: dict[str, Value]) -> Value | float:
    """The reference: the same tree built directly with Value arithmetic."""
    if isinstance(tree, tuple):
        if len(tree) == 2:
            op, a = tree
            v = build(a, xs)
            v = v if isinstance(v, Value) else Value(v)
            return -v if op == "-" else FUNCTIONS[op](v)
        op, a, b = tree
        va, vb = build(a, xs), build(b, xs)
        if not isinstance(va, Value) and not isinstance(vb, Value):
            va = Value(va)
        if op == "+":
            return va + vb
        if op == "-":
            return va - vb
        if op == "*":
            return va * vb
        return va / vb if op == "/" else va**vb
    return xs[tree] if isinstance(tree, str) else tree


@settings(max_examples=300, deadline=None)
@given(trees(), st.floats(0.1, 2.0), st.floats(0.1, 2.0))
def test_random_expressions_match_the_same_graph_built_by_hand(tree, x0, y0) -> None:
    text = render(tree)
    xs, ref_xs = leaves(x=x0, y=y0), leaves(x=x0, y=y0)
    try:
        reference = build(tree, ref_xs)
    except (ArithmeticError, ValueError) as e:  # a domain error: the parser says so too
        with pytest.raises(ExprError) as caught:
            parse(text, xs)
        assert str(e) in str(caught.value)
        return
    reference = reference if isinstance(reference, Value) else Value(reference)
    f = parse(text, xs)
    assert f.data == reference.data or (math.isnan(f.data) and math.isnan(reference.data))
    reference.backward()
    f.backward()
    for name in "xy":
        assert xs[name].grad == pytest.approx(ref_xs[name].grad, rel=1e-12, nan_ok=True)


# --- errors: the column and the reason

@pytest.mark.parametrize(("text", "column", "reason"), [
    ("", 1, "empty"),
    ("   ", 1, "empty"),
    ("x +", 4, "ends too early"),
    ("x + * y", 5, "expected a number, a name or '('"),
    ("x y", 3, "expected an operator, got 'y'"),
    ("2(x)", 2, "expected an operator, got '('"),
    ("(x + y", 1, "never closed"),
    ("x + y)", 6, "unmatched ')'"),
    ("()", 2, "got ')'"),
    ("x + foo(y)", 5, "unknown function 'foo'"),
    ("x + z", 5, "unknown variable 'z' (given: x, y)"),
    ("x(2)", 1, "'x' is a variable, not a function"),
    ("exp", 1, "needs its argument in parentheses"),
    ("exp x", 1, "needs its argument in parentheses"),
    ("exp(x, y)", 6, "'exp' takes exactly one argument"),
    ("x, y", 2, "unexpected ','"),
    ("x.real", 2, "attribute access is not allowed"),
    ("x.__class__", 2, "attribute access is not allowed"),
    ("y[0]", 2, "subscripts are not allowed"),
    ("lambda: x", 1, "'lambda' is a Python keyword"),
    ("x if y else 1", 3, "expected an operator, got 'if'"),
    ("__import__('os')", 1, "names starting with '__' are not allowed"),
    ("x + __class__", 5, "names starting with '__'"),
    ("'x'", 1, "strings are not allowed"),
    ("x ^ 2", 3, "write **"),
    ("x // 2", 3, "'//' is not supported"),
    ("x % 2", 3, "'%' is not supported"),
    ("x == 2", 3, "'=' is not allowed"),
    ("2x", 1, "malformed number '2x'"),
    ("1e", 1, "malformed number '1e'"),
    ("1.2.3", 1, "malformed number '1.2.3'"),
    ("0x1F", 1, "malformed number '0x1F'"),
    ("x + 1e400", 5, "number 1e400 is too large"),
    ("x + π", 5, "unexpected character 'π'"),
    ("x\x00", 2, "unexpected character '\\x00'"),
    ("log(x - 3)", 1, "log: operand must be > 0, got 0.0"),
    ("x + sqrt(-y)", 5, "sqrt: operand must be >= 0, got -5.0"),
    ("x / (y - 5)", 3, "division by zero"),
    ("1 / 0", 3, "division by zero"),
    ("0 ** -1", 3, "divides by zero"),
    ("(-x) ** 0.5", 6, "negative base -3.0 with non-integer exponent 0.5"),
])
def test_errors_name_the_column_and_the_problem(text: str, column: int, reason: str) -> None:
    with pytest.raises(ExprError) as caught:
        parse(text, leaves(x=3.0, y=5.0))
    assert caught.value.column == column
    assert reason in caught.value.reason
    assert str(caught.value) == f"col {column}: {caught.value.reason}"
    assert isinstance(caught.value, ValueError)


def test_errors_come_in_reading_order() -> None:
    with pytest.raises(ExprError, match="col 1: unknown function 'foo'"):
        parse("foo(x) + 'a'", leaves(x=1.0))


# --- overflow: IEEE by default, an error with finite=True

def test_absurd_exponent_overflows_to_inf_without_hanging() -> None:
    assert parse("10**10**10**10").data == math.inf
    with pytest.raises(ExprError, match=r"col 7: 10\.0 \*\* 10000000000\.0 overflows to inf"):
        parse("10**10**10**10", finite=True)


@pytest.mark.parametrize(("text", "column"), [("exp(x * 1000)", 1), ("x ** 2000", 3),
                                              ("1 + x ** 1e6", 7)])
def test_finite_names_the_operation_that_overflows(text: str, column: int) -> None:
    xs = leaves(x=3.0)
    assert not math.isfinite(parse(text, xs).data)
    with pytest.raises(ExprError, match=f"col {column}: .* overflows to inf"):
        parse(text, xs, finite=True)


def test_finite_lets_infinite_inputs_through() -> None:
    # Not an overflow: the input was infinite already; the caller judges the result.
    assert parse("sigmoid(x)", leaves(x=math.inf), finite=True).data == 1.0
    assert parse("x + 1", leaves(x=math.inf), finite=True).data == math.inf


# --- size and depth: clean errors or results, never RecursionError

def test_nesting_deeper_than_the_limit_is_an_error() -> None:
    inner = "(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH
    assert parse(inner, leaves(x=2.0)).data == 2.0
    with pytest.raises(ExprError, match=f"col {MAX_DEPTH + 1}: nested too deeply"):
        parse("(" + inner + ")", leaves(x=2.0))
    with pytest.raises(ExprError, match="nested too deeply"):
        parse("(" * 10_000 + "1" + ")" * 10_000)
    with pytest.raises(ExprError, match="nested too deeply"):
        parse("exp(" * 10_000 + "1" + ")" * 10_000)


def test_long_chains_of_signs_powers_and_sums_need_no_recursion() -> None:
    x = Value(2.0, label="x")
    f = parse("-" * 100_001 + "x", {"x": x})
    f.backward()
    assert (f.data, x.grad) == (-2.0, -1.0)
    assert parse("+".join(["x"] * 50_000), {"x": x}).data == 100_000.0
    assert parse("1**" * 50_000 + "x", {"x": x}).data == 1.0


# --- names

@pytest.mark.parametrize("name", ["x", "w1", "net_h1", "_x", "X"])
def test_good_names(name: str) -> None:
    check_name(name)
    assert parse(name, {name: 1.5}).data == 1.5


@pytest.mark.parametrize(("name", "reason"), [
    ("1x", "not a variable name"), ("", "not a variable name"), ("x-y", "not a variable name"),
    ("π", "not a variable name"), ("exp", "is a function"), ("lambda", "keyword"),
    ("__x", "'__'"),
])
def test_bad_names(name: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check_name(name)


def test_text_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="bytes"):
        parse(b"x")  # type: ignore[arg-type]


# --- anything at all: a Value or an ExprError, nothing else

GRAMMARISH = st.lists(st.sampled_from(
    ["x", "y", "z", "0", "1", "2.5", "1e3", "1e308", ".5", "+", "-", "*", "/", "**", "(", ")",
     " ", *FUNCTIONS, "foo", ",", ".", "[", "__class__", "'", "%", "e", "0"]), max_size=30
).map("".join)


def survives(text: str, finite: bool) -> None:
    try:
        result = parse(text, leaves(x=0.5, y=-2.0), finite=finite)
    except ExprError as e:
        assert 1 <= e.column <= len(text) + 1
        assert "\n" not in str(e)
    else:
        assert isinstance(result, Value)


@settings(max_examples=1000, deadline=None)
@given(st.one_of(st.text(max_size=40), GRAMMARISH), st.booleans())
def test_any_text_gives_a_value_or_an_expr_error(text: str, finite: bool) -> None:
    survives(text, finite)


# --- sin, cos and the constants e and pi


def test_sin_cos_e_and_pi() -> None:
    x = Value(0.5, label="x")
    f = parse("sin(pi * x) + cos(x) * e", {"x": x})
    assert f.data == pytest.approx(math.sin(math.pi * 0.5) + math.cos(0.5) * math.e, rel=1e-15)
    f.backward()
    assert x.grad == pytest.approx(math.pi * math.cos(math.pi * 0.5) - math.sin(0.5) * math.e,
                                   rel=1e-14)
    assert parse("e").data == math.e and parse("pi").parents == ()  # numbers, not nodes


@pytest.mark.parametrize("name", ["e", "pi"])
def test_constants_are_not_variable_names(name: str) -> None:
    with pytest.raises(ValueError, match=rf"^'{name}' is the constant .*, not a variable name$"):
        check_name(name)
    with pytest.raises(ExprError, match=rf"^col 1: '{name}' is a constant, not a function$"):
        parse(f"{name}(1)")
    assert parse(f"{name} * 2", {name: 3.0}).data == 6.0  # a mapping that has it wins
