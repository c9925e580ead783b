"""backward_steps: the same gradients as backward(), one chain-rule step per edge."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_mini import Value, dot, grad
from autograd_mini import sum as vsum
from autograd_mini.engine import walk
from autograd_mini.trace import Step, backward_steps, fmt, node_names

# --- random graphs with shared sub-expressions, built twice from one program

UNARY = ["tanh", "sigmoid", "exp", "relu", "abs", "neg", "square", "cube", "add_c", "mul_c",
         "rsub_c", "rpow_c"]
BINARY = ["+", "-", "*", "x*x"]


def _apply(pool: list[Value], instr: tuple) -> Value:
    kind, i, j, k, c = instr
    a, b, d = pool[i % len(pool)], pool[j % len(pool)], pool[k % len(pool)]
    if kind == "tanh":
        return a.tanh()
    if kind == "sigmoid":
        return a.sigmoid()
    if kind == "exp":
        return (a * 0.1).exp()
    if kind == "relu":
        return a.relu()
    if kind == "abs":
        return abs(a)
    if kind == "neg":
        return -a
    if kind == "square":
        return a**2
    if kind == "cube":
        return a**3
    if kind == "add_c":
        return a + c
    if kind == "mul_c":
        return c * a
    if kind == "rsub_c":
        return c - a
    if kind == "rpow_c":
        return 1.5 ** (a * 0.1)
    if kind == "+":
        return a + b
    if kind == "-":
        return a - b
    if kind == "*":
        return a * b
    if kind == "x*x":
        return a * a  # the same operand twice: two edges into one node
    if kind == "sum":
        return vsum([a, b, a, c])  # a repeated, and a constant
    if kind == "dot_values":
        return dot([a, b], [d, a], bias=b)
    if kind == "dot_mixed":
        return dot([a, c, b], [2.0, d, a], bias=0.5)  # numbers among the operands
    raise AssertionError(kind)


instructions = st.tuples(
    st.sampled_from([*UNARY, *BINARY, "sum", "dot_values", "dot_mixed"]),
    st.integers(0, 50), st.integers(0, 50), st.integers(0, 50),
    st.floats(-2.0, 2.0, allow_nan=False),
)
programs = st.tuples(
    st.lists(st.floats(-1.5, 1.5, allow_nan=False), min_size=1, max_size=4),
    st.lists(instructions, min_size=0, max_size=25),
)


def build(program: tuple) -> list[Value]:
    """Leaves, then one node per instruction over everything built so far."""
    leaves, instrs = program
    pool = [Value(x, label=f"x{i}") for i, x in enumerate(leaves)]
    for instr in instrs:
        pool.append(_apply(pool, instr))
    return pool


def same(a: float, b: float) -> bool:
    """Bit for bit (repr tells -0.0 from 0.0 and matches nan with nan)."""
    return repr(a) == repr(b)


@settings(deadline=None)
@given(programs, st.randoms(use_true_random=False))
def test_steps_leave_the_gradients_backward_leaves(program, rnd):
    reference, traced = build(program), build(program)
    root_index = rnd.randrange(len(reference))  # any node, a leaf included
    reference[root_index].backward()
    steps = list(backward_steps(traced[root_index]))
    for r, t in zip(reference, traced):
        assert same(r.grad, t.grad), (r, t)
    inner = [v for v in walk(traced[root_index]) if v.parents]
    assert len(steps) == sum(len(v.parents) for v in inner)


@settings(deadline=None)
@given(programs, st.randoms(use_true_random=False), st.floats(-3, 3, allow_nan=False))
def test_steps_accumulate_onto_earlier_gradients_as_backward_does(program, rnd, seed):
    reference, traced = build(program), build(program)
    for r, t in zip(reference, traced):
        r.grad = t.grad = rnd.choice([0.0, -0.0, rnd.uniform(-2, 2)])
    root = rnd.randrange(len(reference))
    reference[root].backward(seed)
    reference[root].backward()
    for _ in backward_steps(traced[root], seed):
        pass
    for _ in backward_steps(traced[root]):
        pass
    for r, t in zip(reference, traced):
        assert same(r.grad, t.grad), (r, t)


@settings(deadline=None)
@given(programs)
def test_each_step_is_the_chain_rule_along_one_edge(program):
    pool = build(program)
    root = pool[-1]
    steps = list(backward_steps(root))
    finished: set[Value] = set()  # nodes that have passed their gradient on
    for i, s in enumerate(steps):
        assert s.index == i
        assert s.node.parents[s.position] is s.parent
        # a zero gradient or a zero local derivative passes nothing on: +0.0, never -0.0
        nothing = s.upstream == 0 or s.local == 0
        assert same(s.contribution, 0.0 if nothing else s.upstream * s.local)
        # a node passes gradient on only once all of it has arrived
        assert s.parent not in finished
        finished.add(s.node)
    if not any(math.isnan(v.grad) or math.isinf(v.grad) for v in pool):
        full = grad(root, [s.node for s in steps])
        for s, g in zip(steps, full):
            assert math.isclose(s.upstream, g, rel_tol=1e-12, abs_tol=1e-12)


def test_upstream_is_zero_and_nothing_flows_through_a_switched_off_relu():
    x = Value(0.0, label="x")
    y = (x.sqrt() - 1).relu()  # relu is off; sqrt'(0) = inf, and 0 · inf counts as 0
    steps = list(backward_steps(y))
    assert [s.upstream for s in steps] == [1.0, 0.0, 0.0]
    assert steps[-1].local == math.inf
    assert steps[-1].contribution == 0.0
    assert x.grad == 0.0


def test_the_worked_example_reads_as_in_the_documents():
    """The 2-2-2 sigmoid network: ∂E/∂w5 as the documents state it."""
    w = [Value(v, label=f"w{k}") for k, v in enumerate([.15, .2, .25, .3, .4, .45, .5, .55], 1)]
    b1, b2 = Value(.35, label="b1"), Value(.6, label="b2")
    net_h1 = dot(w[0:2], [.05, .10], b1)
    net_h2 = dot(w[2:4], [.05, .10], b1)
    out_h1, out_h2 = net_h1.sigmoid(), net_h2.sigmoid()
    out_h1.label, out_h2.label = "out_h1", "out_h2"
    net_o1 = dot(w[4:6], [out_h1, out_h2], b2)
    net_o2 = dot(w[6:8], [out_h1, out_h2], b2)
    net_o1.label = "net_o1"
    error = 0.5 * (0.01 - net_o1.sigmoid()) ** 2 + 0.5 * (0.99 - net_o2.sigmoid()) ** 2
    error.label = "E"
    lines = [s.explain() for s in backward_steps(error)]
    assert ("∂E/∂w5 += ∂E/∂net_o1 · ∂net_o1/∂w5 = 0.138498562 × 0.593269992 = 0.082167041"
            in lines)
    assert w[4].grad == pytest.approx(0.082167041, abs=5e-10)
    assert w[0].grad == pytest.approx(0.000438568, abs=5e-10)


def test_unlabeled_nodes_get_stable_names_in_forward_order():
    a = Value(2.0, label="a")
    b = Value(3.0)
    c = a * b  # v2 (b is v1)
    d = c.tanh()  # v3, also the root
    names = node_names(d)
    assert [names[v] for v in (a, b, c, d)] == ["a", "v1", "v2", "v3"]
    lines = [str(s) for s in backward_steps(d)]
    assert lines[0].startswith("∂v3/∂v2 += ∂v3/∂v3 · ∂v3/∂v2 = 1 × ")
    assert lines[1].startswith("∂v3/∂a += ∂v3/∂v2 · ∂v2/∂a = ")
    assert lines[2].startswith("∂v3/∂v1 += ∂v3/∂v2 · ∂v2/∂v1 = ")


def test_a_generated_name_never_repeats_a_label():
    a = Value(2.0, label="v1")
    b = Value(3.0)
    c = a * (b + 1)
    names = node_names(c)
    assert [names[v] for v in (a, b, c)] == ["v1", "v2", "v4"]  # b + 1 is v3
    assert len(set(names.values())) == len(names) == 4
    lines = [str(s) for s in backward_steps(c)]
    assert lines[0] == "∂v4/∂v1 += ∂v4/∂v4 · ∂v4/∂v1 = 1 × 4 = 4"
    assert lines[-1] == "∂v4/∂v2 += ∂v4/∂v3 · ∂v3/∂v2 = 2 × 1 = 2"


def test_labels_taken_anywhere_in_the_graph_are_skipped_and_kept():
    # v2 is the label of the root, computed last: still skipped by the first nodes
    x, y = Value(1.0), Value(2.0, label="v3")
    out = (x * y).exp()
    out.label = "v2"
    names = node_names(out)
    assert [names[v] for v in (x, y, out)] == ["v1", "v3", "v2"]
    assert names[out.parents[0]] == "v4"  # x * y: v2 and v3 are taken
    assert len(set(names.values())) == len(names)


@settings(deadline=None)
@given(programs, st.lists(st.integers(0, 30), max_size=6))
def test_names_are_unique_unless_two_labels_are_equal(program, relabel):
    pool = build(program)
    for k in relabel:  # some nodes take the names a generated one would have
        pool[k % len(pool)].label = f"v{k % 7 + 1}"
    names = node_names(pool[-1])
    labels = {v: v.label for v in names if v.label}
    assert all(names[v] == label for v, label in labels.items())
    generated = [n for v, n in names.items() if not v.label]
    assert len(set(generated)) == len(generated)
    assert not set(generated) & set(labels.values())
    numbers = [int(n[1:]) for n in generated]
    assert numbers == sorted(numbers)  # still numbered in forward order


def test_x_times_x_is_two_steps_each_with_its_own_position():
    x = Value(3.0, label="x")
    y = x * x
    steps = list(backward_steps(y))
    assert [(s.parent, s.position, s.local, s.contribution) for s in steps] == [
        (x, 0, 3.0, 3.0), (x, 1, 3.0, 3.0)]
    assert x.grad == 6.0


def test_a_leaf_root_has_no_steps_and_gets_its_seed():
    x = Value(4.0, label="x")
    x.grad = 0.5
    assert list(backward_steps(x, 2.0)) == []
    assert x.grad == 2.5


def test_each_contribution_is_in_the_parent_grad_when_the_step_is_seen():
    x = Value(0.5, label="x")
    y = x * x.tanh()
    seen = []
    for s in backward_steps(y):
        seen.append(s.parent.grad)
    assert seen[0] == pytest.approx(math.tanh(0.5))  # d y / d x along the first factor
    assert seen[-1] == x.grad


def test_stopping_early_keeps_what_has_flowed_and_the_earlier_totals():
    x = Value(0.7, label="x")
    h = (x * 2).tanh()
    y = h * h + h
    for v in walk(y):
        v.grad = 10.0  # earlier totals, set aside during the pass
    steps = backward_steps(y)
    first = [next(steps) for _ in range(3)]
    steps.close()
    received = {v: 0.0 for v in walk(y)}
    received[y] = 1.0
    for s in first:
        received[s.parent] += s.contribution
    for v, r in received.items():
        assert v.grad == pytest.approx(10.0 + r), v


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="root must be a Value, got float"):
        backward_steps(3.0)
    with pytest.raises(TypeError, match="grad must be a real number"):
        backward_steps(Value(1.0), "1")


def test_a_step_is_immutable():
    x = Value(1.0)
    step = next(backward_steps(x * 2))
    assert isinstance(step, Step)
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.local = 5.0  # type: ignore[misc]


@pytest.mark.parametrize(("x", "digits", "text"), [
    (0.08216704056423078, 9, "0.082167041"),  # 9 decimals, as the documents print
    (0.13849856162855698, 9, "0.138498562"),
    (0.00043856773447434685, 9, "0.000438568"),
    (0.35891648, 9, "0.35891648"),  # trailing zero dropped
    (-0.7413650695523157, 9, "-0.74136507"),
    (12345.678901234, 9, "12345.6789"),  # 9 significant digits
    (2.0, 9, "2"),
    (0.9999999999999, 9, "1"),
    (0.0, 9, "0"),
    (-1.5e-7, 9, "-1.5e-07"),
    (1.0e12, 9, "1e+12"),
    (math.inf, 9, "inf"),
    (math.nan, 9, "nan"),
    (0.5932699921071872, 4, "0.5933"),
    (0.00043856773447434685, 4, "0.0004386"),
    (12345.678, 4, "1.235e+04"),
])
def test_number_format(x, digits, text):
    assert fmt(x, digits) == text
