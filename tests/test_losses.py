"""Losses: values against their closed forms, gradients against finite differences.

The edges are where a loss goes wrong in practice: cross-entropy at logits of
±1000 (finite value, gradient softmax − onehot), binary cross-entropy at a
saturated probability of exactly 0 or 1, labels of the wrong kind, and
predictions and targets of different lengths.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_mini import Value, gradcheck
from autograd_mini.losses import binary_cross_entropy, cross_entropy, hinge, mse, quadratic

floats = st.floats(-10.0, 10.0, allow_nan=False)
probs = st.floats(0.01, 0.99)


def values(xs: list[float]) -> list[Value]:
    return [Value(x) for x in xs]


def pairs(elements: st.SearchStrategy, targets: st.SearchStrategy) -> st.SearchStrategy:
    """Equal-length lists of predictions and targets."""
    return st.integers(1, 6).flatmap(
        lambda n: st.tuples(st.lists(elements, min_size=n, max_size=n),
                            st.lists(targets, min_size=n, max_size=n)))


def softmax(zs: list[float]) -> list[float]:
    m = max(zs)
    es = [math.exp(z - m) for z in zs]
    return [e / sum(es) for e in es]


# --- mse


@given(pairs(floats, floats))
def test_mse_is_the_mean_of_squared_errors(case):
    a, y = case
    preds = values(a)
    loss = mse(preds, y)
    n = len(a)
    assert loss.data == pytest.approx(sum((p - t) ** 2 for p, t in zip(a, y)) / n,
                                      rel=1e-12, abs=1e-12)
    loss.backward()
    assert [p.grad for p in preds] == pytest.approx(
        [2 * (p - t) / n for p, t in zip(a, y)], rel=1e-12, abs=1e-12)


@given(pairs(floats, floats))
def test_mse_gradcheck(case):
    a, y = case
    assert gradcheck(lambda *ps: mse(list(ps), y), a)


def test_mse_of_one_value():
    loss = mse(Value(3.0), 1.0)
    assert isinstance(loss, Value) and loss.data == 4.0
    assert mse(3.0, 1.0).data == 4.0  # plain numbers work too


# --- quadratic


def test_quadratic_on_the_worked_example_numbers():
    # the outputs and targets of the documents' 2-2-2 network
    outs = [Value(0.75136507), Value(0.772928465)]
    loss = quadratic(outs, [0.01, 0.99])
    e1, e2 = 0.5 * (0.01 - 0.75136507) ** 2, 0.5 * (0.99 - 0.772928465) ** 2
    assert loss.data == pytest.approx(e1 + e2, rel=1e-15)
    assert loss.data == pytest.approx(0.298371109, abs=1e-9)
    loss.backward()
    assert outs[0].grad == pytest.approx(0.74136507, rel=1e-12)
    assert outs[1].grad == pytest.approx(-0.217071535, rel=1e-9)


@given(pairs(floats, floats))
def test_quadratic_is_half_the_summed_squares_and_its_gradient_is_a_minus_y(case):
    a, y = case
    preds = values(a)
    loss = quadratic(preds, y)
    assert loss.data == pytest.approx(0.5 * sum((t - p) ** 2 for p, t in zip(a, y)),
                                      rel=1e-12, abs=1e-12)
    loss.backward()
    assert [p.grad for p in preds] == pytest.approx([p - t for p, t in zip(a, y)],
                                                    rel=1e-12, abs=1e-12)


def test_quadratic_is_one_term_node_per_output():
    outs = values([0.2, 0.4, 0.9])
    loss = quadratic(outs, [0.0, 1.0, 1.0])
    assert len(loss.parents) == 3
    assert [t.data for t in loss.parents] == pytest.approx([0.02, 0.18, 0.005], rel=1e-12)
    single = quadratic(Value(0.75), 1.0)
    assert single.data == 0.03125


@given(pairs(floats, floats))
def test_quadratic_gradcheck(case):
    a, y = case
    assert gradcheck(lambda *ps: quadratic(list(ps), y), a)


# --- binary cross-entropy


def bce_closed_form(p: list[float], y: list[float]) -> float:
    return -sum(t * math.log(q) + (1 - t) * math.log(1 - q) for q, t in zip(p, y)) / len(p)


@given(pairs(probs, st.sampled_from([0.0, 1.0, 0.3])))
def test_binary_cross_entropy_closed_form_and_gradient(case):
    p, y = case
    ps = values(p)
    loss = binary_cross_entropy(ps, y)
    assert loss.data == pytest.approx(bce_closed_form(p, y), rel=1e-12)
    loss.backward()
    n = len(p)
    expected = [(q - t) / (q * (1 - q)) / n for q, t in zip(p, y)]
    assert [q.grad for q in ps] == pytest.approx(expected, rel=1e-9)
    assert gradcheck(lambda *qs: binary_cross_entropy(list(qs), y), p)


def test_binary_cross_entropy_of_half_is_log_2():
    assert binary_cross_entropy(Value(0.5), 1.0).data == pytest.approx(math.log(2), rel=1e-15)
    assert binary_cross_entropy(Value(0.5), 0).data == pytest.approx(math.log(2), rel=1e-15)


@pytest.mark.parametrize("p, y, expected", [
    (0.0, 1.0, 100.0),  # log 0 clamped at −100, as PyTorch does
    (1.0, 0.0, 100.0),
    (0.0, 0.0, 0.0),
    (1.0, 1.0, 0.0),
    (1e-50, 1.0, 100.0),  # log(1e-50) ≈ −115 is clamped too
    (0.0, 0.25, 25.0),  # −[0.25·(−100) + 0.75·log 1]
])
def test_binary_cross_entropy_is_finite_at_saturated_probabilities(p, y, expected):
    q = Value(p)
    loss = binary_cross_entropy(q, y)
    assert loss.data == pytest.approx(expected, abs=1e-12)
    loss.backward()
    assert math.isfinite(q.grad)


@pytest.mark.parametrize("probs, targets", [
    (1.0, 1.0), (0.0, 0.0), ([1.0, 0.0], [1.0, 0.0]), ([0.0, 1.0, 1.0], [0, 1, 1]),
])
def test_a_perfect_binary_prediction_costs_plus_zero(probs, targets):
    ps = values(probs) if isinstance(probs, list) else Value(probs)
    loss = binary_cross_entropy(ps, targets)
    assert loss.data == 0.0
    assert math.copysign(1.0, loss.data) == 1.0  # not -0.0, which prints as "-0.0"


def test_binary_cross_entropy_through_a_saturated_sigmoid():
    for z, y in ((-1000.0, 1.0), (1000.0, 0.0)):
        score = Value(z)
        loss = binary_cross_entropy(score.sigmoid(), y)
        assert loss.data == 100.0
        loss.backward()
        assert math.isfinite(score.grad)


def test_binary_cross_entropy_just_inside_the_clamp_is_the_true_log():
    p = 1e-40  # above e^−100 ≈ 3.7e−44
    assert binary_cross_entropy(Value(p), 1.0).data == pytest.approx(-math.log(p), rel=1e-15)


@pytest.mark.parametrize("p", [-0.1, 1.1, math.nan, math.inf, -1e-300])
def test_binary_cross_entropy_rejects_a_probability_outside_0_1(p):
    with pytest.raises(ValueError, match=r"probabilities must be in \[0, 1\].*sigmoid"):
        binary_cross_entropy(Value(p), 1.0)


@pytest.mark.parametrize("y", [-1.0, 2.0, 1.5, math.nan])
def test_binary_cross_entropy_rejects_a_target_outside_0_1(y):
    with pytest.raises(ValueError, match=r"targets must be in \[0, 1\]"):
        binary_cross_entropy(Value(0.5), y)


@pytest.mark.parametrize("y", ["1", None, True, Value(1.0)])
def test_targets_that_are_not_numbers_are_type_errors(y):
    for loss in (binary_cross_entropy, mse, quadratic):
        with pytest.raises(TypeError, match="targets must be numbers"):
            loss(Value(0.5), y)


# --- cross-entropy


@given(st.lists(floats, min_size=1, max_size=6), st.data())
def test_cross_entropy_is_minus_log_softmax_with_gradient_softmax_minus_onehot(zs, data):
    k = data.draw(st.integers(0, len(zs) - 1))
    logits = values(zs)
    loss = cross_entropy(logits, k)
    s = softmax(zs)
    assert loss.data == pytest.approx(-math.log(s[k]), rel=1e-9, abs=1e-12)
    loss.backward()
    expected = [q - (j == k) for j, q in enumerate(s)]
    assert [z.grad for z in logits] == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert gradcheck(lambda *vs: cross_entropy(list(vs), k), zs)


@pytest.mark.parametrize("zs, k, value, grads", [
    ([1000.0, -1000.0], 0, 0.0, [0.0, 0.0]),
    ([1000.0, -1000.0], 1, 2000.0, [1.0, -1.0]),
    ([1000.0, 1000.0], 0, math.log(2), [-0.5, 0.5]),
    ([-1000.0, -1000.0, -1000.0], 2, math.log(3), [1 / 3, 1 / 3, -2 / 3]),
    ([1000.0, 0.0, -1000.0], 2, 2000.0, [1.0, 0.0, -1.0]),
    ([-1000.0, 1000.0, 999.0], 2, None, None),  # checked against the logits minus 1000
])
def test_cross_entropy_is_stable_at_huge_logits(zs, k, value, grads):
    logits = values(zs)
    loss = cross_entropy(logits, k)
    assert math.isfinite(loss.data)
    loss.backward()
    got = [z.grad for z in logits]
    assert all(math.isfinite(g) for g in got)
    if grads is None:  # the same logits shifted down to small numbers, by hand
        shifted = softmax([z - 1000.0 for z in zs])
        value = -math.log(shifted[k])
        grads = [q - (j == k) for j, q in enumerate(shifted)]
    assert loss.data == pytest.approx(value, rel=1e-12, abs=1e-12)
    assert got == pytest.approx(grads, rel=1e-12, abs=1e-12)


@given(st.lists(floats, min_size=2, max_size=5), st.floats(-1000.0, 1000.0))
def test_cross_entropy_does_not_change_when_every_logit_moves_together(zs, c):
    assert cross_entropy([z + c for z in zs], 0).data == \
        pytest.approx(cross_entropy(zs, 0).data, rel=1e-9, abs=1e-9)


def test_cross_entropy_of_a_ruled_out_class():
    logits = values([0.0, -math.inf, 0.0])
    loss = cross_entropy(logits, 0)
    assert loss.data == pytest.approx(math.log(2), rel=1e-15)
    loss.backward()
    assert [z.grad for z in logits] == [-0.5, 0.0, 0.5]


def test_cross_entropy_accepts_numbers_and_numpy_integers():
    assert cross_entropy([0.0, 0.0], 1).data == pytest.approx(math.log(2), rel=1e-15)
    assert cross_entropy(values([0.0, 0.0]), np.int64(1)).data == \
        pytest.approx(math.log(2), rel=1e-15)


@pytest.mark.parametrize("k", [-1, 3, 100])
def test_cross_entropy_target_out_of_range(k):
    with pytest.raises(ValueError, match=rf"target_index {k} is out of range for 3 classes"):
        cross_entropy(values([1.0, 2.0, 3.0]), k)


@pytest.mark.parametrize("k", [1.0, "0", True, None])
def test_cross_entropy_target_must_be_an_int(k):
    with pytest.raises(TypeError, match="target_index must be an int"):
        cross_entropy(values([1.0, 2.0, 3.0]), k)


@pytest.mark.parametrize("logits", [[], Value(1.0), 1.0, None])
def test_cross_entropy_needs_a_list_of_logits(logits):
    with pytest.raises(ValueError, match="logits must be a non-empty list"):
        cross_entropy(logits, 0)


@pytest.mark.parametrize("zs", [[1.0, math.nan], [math.nan, 1.0], [math.inf, 0.0],
                                [-math.inf, -math.inf]])
def test_cross_entropy_rejects_logits_without_a_softmax(zs):
    with pytest.raises(ValueError, match="logits must be finite"):
        cross_entropy(values(zs), 0)


# --- hinge


@given(pairs(floats, st.sampled_from([1, -1, 1.0, -1.0])))
def test_hinge_is_the_mean_margin_violation(case):
    s, y = case
    scores = values(s)
    loss = hinge(scores, y)
    n = len(s)
    assert loss.data == pytest.approx(sum(max(0.0, 1 - t * q) for q, t in zip(s, y)) / n,
                                      rel=1e-12, abs=1e-12)
    loss.backward()
    expected = [(-t / n if 1 - t * q > 0 else 0.0) for q, t in zip(s, y)]
    assert [q.grad for q in scores] == pytest.approx(expected, rel=1e-12)


def test_hinge_averages():
    loss = hinge(values([2.0, 0.5, -3.0, 0.0]), [1, -1, 1, -1])
    assert loss.data == (0.0 + 1.5 + 4.0 + 1.0) / 4
    assert hinge(Value(0.25), 1).data == 0.75  # one sample: its own margin
    assert hinge([0.5, -0.5], [1.0, 1.0]).data == 1.0  # plain numbers


@pytest.mark.parametrize("bad", [0, 2, 0.5, -0.999, math.nan, True, False, "1", None])
def test_hinge_labels_must_be_plus_or_minus_one(bad):
    with pytest.raises(ValueError, match=r"labels must be \+1 or -1"):
        hinge([Value(0.5), Value(1.0)], [1, bad])


def test_a_nan_score_is_not_silently_a_zero_loss():
    assert math.isnan(hinge([math.nan], [1]).data)
    assert math.isnan(hinge([Value(math.nan)], [-1]).data)


# --- shapes


ALL = [mse, quadratic, binary_cross_entropy, hinge]


@pytest.mark.parametrize("loss", ALL)
@pytest.mark.parametrize("preds, targets, message", [
    ([0.5, 0.5], [1.0], "2 predictions but 1 targets"),
    ([0.5], [1.0, 1.0], "1 predictions but 2 targets"),
    ([0.5, 0.5], 1.0, "2 predictions but one target"),
    (0.5, [1.0, 1.0], "one prediction but 2 targets"),
    ([], [], "no predictions"),
])
def test_a_length_mismatch_is_a_value_error(loss, preds, targets, message):
    with pytest.raises(ValueError, match=rf"{loss.__name__}: {message}"):
        loss([Value(p) for p in preds] if isinstance(preds, list) else Value(preds), targets)


@pytest.mark.parametrize("loss", ALL)
def test_every_loss_takes_a_value_or_a_list_and_returns_a_value(loss):
    assert isinstance(loss(Value(0.5), 1), Value)
    assert isinstance(loss([Value(0.5)], [1]), Value)
    assert isinstance(loss((Value(0.5), Value(0.25)), (1, 1)), Value)
    assert loss(Value(0.5), 1).data == loss([Value(0.5)], [1]).data
