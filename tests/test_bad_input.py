"""Bad input gets a clear error that names the problem.

Non-numbers are a TypeError naming their type; operations outside their
domain are a ValueError or ZeroDivisionError naming the operation and the
operand, never Python's bare "math domain error".
"""

from __future__ import annotations

import operator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_mini import Value, dot, grad
from autograd_mini import sum as vsum

NOT_NUMBERS = ["x", None, True, False, 1j, [1], (1.0,), {"a": 1}, b"1", object()]


@pytest.mark.parametrize("bad", NOT_NUMBERS, ids=lambda b: type(b).__name__)
def test_value_of_a_non_number_is_a_type_error_naming_the_type(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


def test_numpy_bool_is_rejected_like_bool():
    import numpy as np

    with pytest.raises(TypeError, match="bool"):
        Value(np.bool_(True))


def test_an_int_too_large_for_a_float_says_so():
    with pytest.raises(OverflowError, match="int"):
        Value(10**400)


def test_a_label_that_is_not_a_string_is_a_type_error():
    with pytest.raises(TypeError, match="int"):
        Value(1.0, label=3)


OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow]


@pytest.mark.parametrize("op", OPERATORS, ids=lambda o: o.__name__)
@pytest.mark.parametrize("bad", ["a", None, [1.0], 1j], ids=lambda b: type(b).__name__)
def test_an_operator_with_a_non_number_operand_is_a_type_error(op, bad):
    v = Value(2.0)
    with pytest.raises(TypeError):
        op(v, bad)
    with pytest.raises(TypeError):
        op(bad, v)


def test_bool_operand_is_a_type_error():
    # bool is an int to Python, but True * x is almost always a bug
    with pytest.raises(TypeError):
        Value(2.0) * True


def test_reductions_name_a_non_number_operand():
    a = Value(1.0)
    with pytest.raises(TypeError, match="str"):
        vsum([a, "b"])
    with pytest.raises(TypeError, match="NoneType"):
        dot([a, None], [a, a])
    with pytest.raises(TypeError, match="str"):
        dot([a], [a], bias="b")


def test_dot_of_different_lengths_says_both():
    a = Value(1.0)
    with pytest.raises(ValueError, match=r"2.*1|1.*2"):
        dot([a, a], [a])


def test_backward_and_grad_reject_non_numbers_and_non_values():
    x = Value(1.0)
    with pytest.raises(TypeError, match="str"):
        (x * 2).backward("1")
    with pytest.raises(TypeError, match="float"):
        grad(1.0, [x])
    with pytest.raises(TypeError, match="float"):
        grad(x * 2, [1.0])


# --- domain errors: the message names the operation and the operand


def assert_clear(excinfo: pytest.ExceptionInfo, *words: str) -> None:
    message = str(excinfo.value)
    assert "math domain error" not in message
    for w in words:
        assert w in message, (w, message)


@given(st.floats(max_value=0.0, allow_nan=False))
def test_log_of_a_non_positive_number(x):
    with pytest.raises(ValueError) as e:
        Value(x).log()
    assert_clear(e, "log", repr(x))


@given(st.floats(max_value=-1e-300, allow_nan=False))
def test_sqrt_of_a_negative_number(x):
    with pytest.raises(ValueError) as e:
        Value(x).sqrt()
    assert_clear(e, "sqrt", repr(x))


non_integers = st.floats(-1e6, 1e6, allow_nan=False).filter(lambda y: not y.is_integer())


@given(st.floats(max_value=-1e-300, allow_nan=False, allow_infinity=False), non_integers)
def test_negative_base_with_a_non_integer_exponent(base, exponent):
    for make in (lambda: Value(base) ** exponent, lambda: Value(base) ** Value(exponent),
                 lambda: base ** Value(exponent)):
        with pytest.raises(ValueError) as e:
            make()
        assert_clear(e, repr(base), repr(exponent))
        assert "power" in str(e.value) or "**" in str(e.value)


DIVISIONS = [
    ("Value / 0", lambda a: Value(a) / 0),
    ("Value / -0.0", lambda a: Value(a) / -0.0),
    ("number / Value(0)", lambda a: a / Value(0.0)),
    ("Value / Value(0)", lambda a: Value(a) / Value(0.0)),
]


@pytest.mark.parametrize(("name", "divide"), DIVISIONS, ids=[d[0] for d in DIVISIONS])
@given(a=st.floats(allow_nan=False))
def test_division_by_zero(name, divide, a):
    with pytest.raises(ZeroDivisionError) as e:
        divide(a)
    assert_clear(e, repr(a), "0.0")
    assert "division" in str(e.value) or "/" in str(e.value)


@pytest.mark.parametrize("make", [lambda e: Value(0.0) ** e, lambda e: Value(0.0) ** Value(e),
                                  lambda e: 0 ** Value(e)])
@pytest.mark.parametrize("exponent", [-1, -1.0, -0.5, -3.0])
def test_zero_to_a_negative_power(make, exponent):
    with pytest.raises(ZeroDivisionError) as e:
        make(exponent)
    assert_clear(e, "0.0", repr(float(exponent)))


def test_domain_errors_are_raised_before_a_node_is_made():
    # a failed operation leaves nothing half-built: its inputs are unchanged
    x = Value(-1.0)
    with pytest.raises(ValueError):
        x.log()
    assert x.grad == 0.0 and x.parents == ()
    assert (x * x).log().data == 0.0


def test_grad_of_one_value_instead_of_a_list_says_so() -> None:
    x = Value(2.0)
    with pytest.raises(TypeError, match=r"grad: inputs must be a list of Values, e.g."):
        grad(x * x, x)


def test_dot_takes_iterables_and_names_what_is_not_one() -> None:
    w = [Value(2.0), Value(3.0)]
    assert dot(iter(w), (x for x in [4.0, 5.0])).data == 23.0
    with pytest.raises(TypeError, match="dot: weights and inputs must be sequences, got int"):
        dot(3, [1.0])
