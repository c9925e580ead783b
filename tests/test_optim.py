"""Optimizers against the update rules written out by hand, step after step.

SGD: p ← p − lr·v with v ← μ·v + g (v = g without momentum). Adam: Kingma &
Ba's algorithm 1 with bias correction. A parameter left out of the list is
never touched.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_mini import Value
from autograd_mini.losses import quadratic
from autograd_mini.nn import MLP
from autograd_mini.optim import SGD, Adam

finite = st.floats(-100.0, 100.0, allow_nan=False)

# gradients of three parameters over five steps, changing sign and size
GRADS = [
    [0.5, -2.0, 0.0],
    [0.25, 1.0, 3.0],
    [-1.0, 0.5, 3.0],
    [0.0, -0.125, -7.0],
    [2.0, 4.0, 0.001],
]
START = [1.0, -0.5, 2.0]


def run(opt_cls, steps=GRADS, **kwargs) -> list[float]:
    """Apply the optimizer to parameters whose gradients are set to ``steps``."""
    params = [Value(x) for x in START]
    opt = opt_cls(params, **kwargs)
    for grads in steps:
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()
    return [p.data for p in params]


# --- SGD


@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=5), st.floats(1e-4, 10.0))
def test_sgd_step_is_p_minus_lr_times_g(pg, lr):
    params = [Value(p) for p, _ in pg]
    for v, (_, g) in zip(params, pg):
        v.grad = g
    SGD(params, lr=lr).step()
    assert [v.data for v in params] == [p - lr * g for p, g in pg]
    assert [v.grad for v in params] == [g for _, g in pg]  # step leaves the gradients alone


def test_sgd_on_a_real_gradient():
    w = Value(3.0)
    loss = (w - 1.0) ** 2  # d/dw = 2(w − 1) = 4
    loss.backward()
    SGD([w], lr=0.25).step()
    assert w.data == 2.0
    assert w.op == "" and w.parents == ()  # an update is not part of any graph


@pytest.mark.parametrize("mu", [0.5, 0.9, 0.0])
def test_sgd_momentum_follows_the_recurrence(mu):
    lr = 0.1
    p, v = list(START), [0.0, 0.0, 0.0]
    for grads in GRADS:
        for i, g in enumerate(grads):
            v[i] = mu * v[i] + g
            p[i] = p[i] - lr * v[i]
    assert run(SGD, lr=lr, momentum=mu) == pytest.approx(p, rel=1e-14, abs=1e-15)


def test_sgd_momentum_by_hand_for_one_parameter():
    # g = 1 every step, mu = 0.5, lr = 1: v = 1, 1.5, 1.75 → p = 10 − 1 − 1.5 − 1.75
    w = Value(10.0)
    opt = SGD([w], lr=1.0, momentum=0.5)
    seen = []
    for _ in range(3):
        w.grad = 1.0
        opt.step()
        seen.append(w.data)
    assert seen == [9.0, 7.5, 5.75]


def test_sgd_momentum_keeps_going_with_zero_gradient():
    w = Value(0.0)
    opt = SGD([w], lr=1.0, momentum=0.5)
    w.grad = 1.0
    opt.step()
    w.grad = 0.0
    opt.step()
    assert w.data == -1.5  # the second step still moved by 0.5 · 1


def test_leaving_parameters_out_freezes_them():
    net = MLP(2, [3, 1], activation="sigmoid", seed=0)
    weights = [w for layer in net.layers for n in layer.neurons for w in n.w]
    biases = [n.b for layer in net.layers for n in layer.neurons]
    for opt in (SGD(weights, lr=0.5), SGD(weights, lr=0.5, momentum=0.9), Adam(weights, lr=0.1)):
        before_w = [w.data for w in weights]
        before_b = [b.data for b in biases]
        net.zero_grad()
        quadratic(net([0.3, 0.8]), 1.0).backward()
        assert all(b.grad != 0.0 for b in biases)  # they had gradients, and yet:
        opt.step()
        assert [b.data for b in biases] == before_b
        assert all(w.data != x for w, x in zip(weights, before_w))


# --- Adam


def adam_by_hand(lr: float, b1: float, b2: float, eps: float) -> list[float]:
    p = list(START)
    m, v = [0.0] * 3, [0.0] * 3
    for t, grads in enumerate(GRADS, 1):
        for i, g in enumerate(grads):
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g**2
            m_hat = m[i] / (1 - b1**t)
            v_hat = v[i] / (1 - b2**t)
            p[i] -= lr * m_hat / (math.sqrt(v_hat) + eps)
    return p


@pytest.mark.parametrize("lr, betas, eps", [
    (1e-3, (0.9, 0.999), 1e-8),
    (0.1, (0.5, 0.75), 1e-3),
    (0.01, (0.0, 0.0), 1e-8),  # no memory: each step is lr·g / (|g| + eps)
])
def test_adam_matches_the_algorithm_by_hand(lr, betas, eps):
    got = run(Adam, lr=lr, betas=betas, eps=eps)
    assert got == pytest.approx(adam_by_hand(lr, *betas, eps), rel=1e-13, abs=1e-15)


def test_adam_defaults_are_the_papers():
    opt = Adam([Value(0.0)])
    assert (opt.lr, opt.betas, opt.eps) == (1e-3, (0.9, 0.999), 1e-8)
    assert run(Adam) == pytest.approx(adam_by_hand(1e-3, 0.9, 0.999, 1e-8), rel=1e-13)


@given(finite.filter(lambda g: abs(g) > 1e-3), st.floats(1e-4, 1.0))
def test_adams_first_step_is_lr_in_the_gradients_direction(g, lr):
    w = Value(0.0)
    w.grad = g
    Adam([w], lr=lr).step()
    assert w.data == pytest.approx(-math.copysign(lr, g), rel=1e-4)


def test_adam_does_not_move_a_parameter_without_gradient():
    w, u = Value(1.0), Value(2.0)
    opt = Adam([w, u], lr=0.1)
    for _ in range(3):
        w.grad, u.grad = 1.0, 0.0
        opt.step()
    assert u.data == 2.0 and w.data < 1.0


@pytest.mark.parametrize("make", [
    lambda ps: SGD(ps, lr=0.1),
    lambda ps: SGD(ps, lr=0.05, momentum=0.9),
    lambda ps: Adam(ps, lr=0.1),
])
def test_each_optimizer_minimises_a_quadratic_bowl(make):
    x, y = Value(-2.0), Value(4.0)
    opt = make([x, y])
    for _ in range(300):
        loss = (x - 3.0) ** 2 + 2.0 * (y + 1.0) ** 2
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert (x.data, y.data) == (pytest.approx(3.0, abs=1e-2), pytest.approx(-1.0, abs=1e-2))


# --- zero_grad and bad arguments


@pytest.mark.parametrize("cls", [SGD, Adam])
def test_zero_grad_clears_only_the_optimizers_parameters(cls):
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    (a * b * c).backward()
    cls([a, b], lr=0.1).zero_grad()
    assert (a.grad, b.grad, c.grad) == (0.0, 0.0, 2.0)


def test_parameters_may_come_from_a_generator():
    net = MLP(2, [2, 1], seed=0)
    opt = SGD((p for p in net.parameters()), lr=0.1)
    assert len(opt.params) == len(net.parameters())


@pytest.mark.parametrize("number", [np.float32(0.25), np.float64(0.25), Fraction(1, 4), 0.25])
def test_any_real_number_is_a_rate_and_is_stored_as_a_float(number):
    sgd = SGD([Value(1.0)], lr=number, momentum=number)
    adam = Adam([Value(1.0)], lr=number, betas=(number, number), eps=number)
    for x in (sgd.lr, sgd.momentum, adam.lr, *adam.betas, adam.eps):
        assert type(x) is float and x == 0.25


def test_a_fraction_too_large_for_a_float_is_a_value_error():
    with pytest.raises(ValueError, match=r"SGD: lr must be in \(0, inf\)"):
        SGD([Value(1.0)], lr=Fraction(10**400, 3))


@pytest.mark.parametrize("make, error, message", [
    (lambda p: SGD(p, lr=0.0), ValueError, r"SGD: lr must be in \(0, inf\), got 0.0"),
    (lambda p: SGD(p, lr=-0.1), ValueError, r"SGD: lr must be in \(0, inf\)"),
    (lambda p: SGD(p, lr=math.nan), ValueError, "SGD: lr"),
    (lambda p: SGD(p, lr=math.inf), ValueError, "SGD: lr"),
    (lambda p: SGD(p, lr="0.1"), TypeError, "SGD: lr must be a number, got str"),
    (lambda p: SGD(p, lr=True), TypeError, "SGD: lr must be a number, got bool"),
    (lambda p: SGD(p, lr=0.1, momentum=1.0), ValueError, r"momentum must be in \[0, 1\)"),
    (lambda p: SGD(p, lr=0.1, momentum=-0.1), ValueError, r"momentum must be in \[0, 1\)"),
    (lambda p: SGD(p, lr=0.1, momentum=math.nan), ValueError, "momentum"),
    (lambda p: Adam(p, lr=0.0), ValueError, "Adam: lr"),
    (lambda p: Adam(p, betas=(1.0, 0.999)), ValueError, r"betas\[0\] must be in \[0, 1\)"),
    (lambda p: Adam(p, betas=(0.9, -0.5)), ValueError, r"betas\[1\] must be in \[0, 1\)"),
    (lambda p: Adam(p, betas=(0.9,)), ValueError, r"betas must be a pair"),
    (lambda p: Adam(p, betas=(0.9, 0.99, 0.999)), ValueError, r"betas must be a pair"),
    (lambda p: Adam(p, betas=0.9), ValueError, r"betas must be a pair"),
    (lambda p: Adam(p, eps=0.0), ValueError, r"eps must be in \(0, inf\)"),
    (lambda p: SGD([*p, 0.5], lr=0.1), TypeError, "parameters must be Values, got float"),
    (lambda p: SGD([*p, p[0]], lr=0.1), ValueError, "a parameter is listed twice"),
    (lambda p: Adam(p[0]), TypeError, r"pass \[value\]"),
    (lambda p: SGD(MLP(2, [1]), lr=0.1), TypeError, r"pass model\.parameters\(\)"),
])
def test_bad_arguments_are_clear_errors(make, error, message):
    with pytest.raises(error, match=message):
        make([Value(1.0), Value(2.0)])
