"""The gradient checker is itself checked: it passes correct rules and catches
a rule that is wrong by as little as 1 %, at first and at second order.

Wrong rules are made by patching one primitive's derivative in the table
(``ops.<PRIMITIVE>.d``) for the length of one test.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest

from autograd_mini import (
    GradcheckError,
    Value,
    dot,
    gradcheck,
    gradgradcheck,
    numerical_grad,
    ops,
)
from autograd_mini import sum as vsum

# --- numerical_grad


def test_numerical_grad_of_a_float_function():
    got = numerical_grad(lambda a, b: a * a * b + math.sin(b), [1.5, -0.5])
    assert got == pytest.approx([2 * 1.5 * -0.5, 1.5**2 + math.cos(-0.5)], rel=1e-8)


def test_numerical_grad_accepts_a_function_returning_a_value():
    def f(a: float, b: float) -> Value:
        return (Value(a) * b).tanh()

    t = math.tanh(0.3 * 1.2)
    expected = [(1 - t * t) * 1.2, (1 - t * t) * 0.3]
    assert numerical_grad(f, [0.3, 1.2]) == pytest.approx(expected, rel=1e-8)
    as_float = numerical_grad(lambda a, b: f(a, b).data, [0.3, 1.2])
    assert numerical_grad(f, [0.3, 1.2]) == as_float


def test_numerical_grad_uses_eps():
    # for x³ the central difference is exact up to eps²: 3x² + eps²
    (coarse,) = numerical_grad(lambda x: x**3, [1.0], eps=0.1)
    assert coarse == pytest.approx(3.0 + 0.01, rel=1e-12)
    assert numerical_grad(lambda: 1.0, []) == []


# --- gradcheck and gradgradcheck pass correct functions

CORRECT = [
    (lambda x, y: (x * y).tanh(), [0.3, -0.7]),
    (lambda x, y: x / y + y**x, [1.3, 0.7]),
    (lambda x: (x.exp() + 1).log().sqrt(), [0.4]),
    (lambda x, y, z: dot([x, y], [z, x], bias=y).sigmoid() * vsum([x, z, 2.0]), [0.2, -0.4, 1.1]),
    (lambda x: abs(x) + x.relu() - 2**x, [-0.6]),
]


@pytest.mark.parametrize(("f", "xs"), CORRECT)
def test_gradcheck_and_gradgradcheck_return_true_on_correct_functions(f, xs):
    assert gradcheck(f, xs) is True
    assert gradgradcheck(f, xs) is True


def test_gradcheck_needs_f_to_return_a_value():
    with pytest.raises(TypeError, match="float"):
        gradcheck(lambda x: 1.0, [0.5])


# --- wrong rules are caught


def off_by(factor: float, rule: Callable) -> Callable:
    """``rule`` with every derivative it returns multiplied by ``factor``."""

    def wrong(*args: object) -> object:
        result = rule(*args)
        if isinstance(result, (tuple, list)):
            return type(result)(r * factor for r in result)
        return result * factor

    return wrong


def wrong_only_at_second_order(factor: float, rule: Callable) -> Callable:
    """``rule`` giving the right numbers, but a graph whose derivative is ``factor`` times off.

    Float derivatives (first order) are untouched. A derivative built as a
    Value d becomes factor·d − (factor − 1)·d.data: the same number (to
    rounding), yet differentiating it gives factor times the truth.
    """

    def fudge(d: object) -> object:
        return factor * d - (factor - 1) * d.data if isinstance(d, Value) else d

    def wrong(*args: object) -> object:
        result = rule(*args)
        if isinstance(result, (tuple, list)):
            return type(result)(fudge(r) for r in result)
        return fudge(result)

    return wrong


# (primitive in the table, a function using it, a point where its first and
# second derivatives are both well away from 0)
USES = [
    ("TANH", lambda x: x.tanh(), [0.6]),
    ("SIGMOID", lambda x: x.sigmoid(), [0.9]),
    ("EXP", lambda x: x.exp(), [0.5]),
    ("LOG", lambda x: x.log(), [1.7]),
    ("SQRT", lambda x: x.sqrt(), [2.0]),
    ("MUL", lambda x, y: x * y, [0.8, -1.3]),
    ("DIV", lambda x, y: x / y, [0.8, 1.3]),
    ("POW", lambda x, y: x**y, [1.5, 2.5]),
    ("POW_C", lambda x: x**3, [1.2]),
    ("RPOW_C", lambda x: 2**x, [0.7]),
    ("RDIV_C", lambda x: 3 / x, [1.4]),
    ("DOT", lambda x, y, z: dot([x, y], [z, x], bias=y), [0.5, -1.5, 2.0]),
]
# Derivatives that are constants: wrong at first order only, nothing to get
# wrong at second order.
FIRST_ORDER_ONLY = [
    ("ADD", lambda x, y: x + y, [0.5, 1.5]),
    ("SUB", lambda x, y: x - y, [0.5, 1.5]),
    ("MUL_C", lambda x: x * 2.5, [0.5]),
    ("NEG", lambda x: -x, [0.5]),
    ("ABS", lambda x: abs(x), [-0.5]),
    ("RELU", lambda x: x.relu(), [0.5]),
    ("SUM", lambda x, y: vsum([x, y, x, 1.0]), [0.5, 1.5]),
]


def ids(cases: list) -> list[str]:
    return [c[0] for c in cases]


@pytest.mark.parametrize(("name", "f", "xs"), USES + FIRST_ORDER_ONLY,
                         ids=ids(USES + FIRST_ORDER_ONLY))
def test_gradcheck_catches_a_rule_off_by_one_percent(monkeypatch, name, f, xs):
    primitive = getattr(ops, name)
    assert gradcheck(f, xs)
    monkeypatch.setattr(primitive, "d", off_by(1.01, primitive.d))
    with pytest.raises(GradcheckError):
        gradcheck(f, xs)


@pytest.mark.parametrize(("name", "f", "xs"), USES, ids=ids(USES))
def test_gradgradcheck_catches_a_rule_wrong_only_at_second_order(monkeypatch, name, f, xs):
    """gradgradcheck differentiates the engine's first derivatives numerically (as
    PyTorch's does), so it is the check for the derivative *of* a rule; gradcheck
    is the check for the rule itself."""
    primitive = getattr(ops, name)
    assert gradgradcheck(f, xs)
    monkeypatch.setattr(primitive, "d", wrong_only_at_second_order(1.01, primitive.d))
    assert gradcheck(f, xs)  # the first derivatives are still right ...
    with pytest.raises(GradcheckError):
        gradgradcheck(f, xs)  # ... their derivatives are not


# --- the error message


NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def numbers_in(line: str) -> list[float]:
    return [float(n) for n in NUMBER.findall(line)]


def mentions(line: str, x: float) -> bool:
    return any(math.isclose(n, x, rel_tol=1e-6) for n in numbers_in(line))


def test_gradcheck_error_lists_each_mismatching_input_with_both_numbers(monkeypatch):
    # f = x·y + 0.37·z at (0.3, -0.7, 1.9): with d(x·y) 1 % off, x and y are wrong, z is right
    monkeypatch.setattr(ops.MUL, "d", off_by(1.01, ops.MUL.d))
    with pytest.raises(GradcheckError) as e:
        gradcheck(lambda x, y, z: x * y + 0.37 * z, [0.3, -0.7, 1.9])
    assert isinstance(e.value, AssertionError)  # pytest shows it like a failed assert
    lines = str(e.value).splitlines()
    for engine, numeric in [(1.01 * -0.7, -0.7), (1.01 * 0.3, 0.3)]:
        assert any(mentions(line, engine) and mentions(line, numeric) for line in lines), (
            engine, numeric, str(e.value))
    assert not any(mentions(line, 0.37) for line in lines)  # the right one is not listed


def test_gradgradcheck_error_names_the_second_derivative(monkeypatch):
    monkeypatch.setattr(ops.TANH, "d", wrong_only_at_second_order(1.01, ops.TANH.d))
    with pytest.raises(GradcheckError) as e:
        gradgradcheck(lambda x: x.tanh(), [0.6])
    t = math.tanh(0.6)
    true_second = -2 * t * (1 - t * t)
    message = str(e.value)
    assert any(mentions(line, 1.01 * true_second) and mentions(line, true_second)
               for line in message.splitlines()), message


@pytest.mark.parametrize("eps", [0, 0.0, -1e-6, float("inf"), float("nan"), True, "1e-6"])
def test_a_bad_eps_is_named(eps) -> None:
    with pytest.raises(ValueError, match="numerical_grad: eps must be a positive finite number"):
        numerical_grad(lambda x: x, [1.0], eps=eps)


@pytest.mark.parametrize(("checker", "name"), [(gradcheck, "gradcheck"),
                                              (gradgradcheck, "gradgradcheck")])
def test_a_function_that_leaves_the_graph_is_named(checker, name) -> None:
    with pytest.raises(TypeError, match=f"{name}: f must return a Value, got float"):
        checker(lambda x: x.data * 2.0, [1.0])
