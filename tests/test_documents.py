"""The numbers of the source documents, reproduced by the engine.

* The worked 2-2-2 example: every number the documents print on the way
  through one step of backpropagation, the weights after it, and the error
  after 9,999 steps. The documents' code prints a few weights that the chain
  rule does not give; a plain-float replay of the code's array slips
  reproduces exactly those prints, which pins down why they differ.
* BP1–BP4 on random sigmoid networks, against the four equations evaluated in
  plain floats.
* XOR with a 2-4-1 sigmoid network; batch, mini-batch and stochastic gradient
  descent; moons and spirals.

Nothing here trusts the engine to check itself: each reference is written in
plain Python floats in this file.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from autograd_mini import example, grad, no_grad
from autograd_mini import sum as vsum
from autograd_mini.data import moons, spirals, xor
from autograd_mini.engine import Value, walk
from autograd_mini.losses import cross_entropy, hinge, quadratic
from autograd_mini.nn import MLP
from autograd_mini.optim import SGD, Adam
from autograd_mini.trace import backward_steps


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def assert_printed(x: float, printed: str, what: str) -> None:
    """``x`` rounds to the digits the documents print (half a unit in the last place)."""
    decimals = len(printed.partition(".")[2].partition("e")[0])
    exponent = int(printed.partition("e")[2] or 0)
    half_unit = 0.5 * 10.0 ** (exponent - decimals)
    assert abs(x - float(printed)) <= half_unit * (1 + 1e-9), \
        f"{what}: engine {x!r}, documents print {printed}"


# --- the worked example (2-2-2, sigmoid, E = ½Σ(target − out)², rate 0.5)

# One hand pass of the documents' loop in plain floats: the forward pass, the
# errors, then the update of the weights (the biases are never trained).
#
# With ``slip=True`` it makes the two mistakes of the documents' array code.
# Output layer: the code multiplies δ (a column) element-wise by out_h (a
# column), so row j uses out_h_j for every weight, where the chain rule needs
# the outer product δ·out_hᵀ (∂E/∂w_jk = δ_j·out_h_k). Hidden layer: a row of
# ∂E/∂out_h times a column of σ'(net_h) times a column of inputs broadcasts to
# ∂E/∂out_h_k·σ'(net_h_j)·i_j, where the chain rule needs
# ∂E/∂out_h_j·σ'(net_h_j)·i_k.

Matrix = list[list[float]]


def hand_pass(w_hidden: Matrix, w_out: Matrix,
              slip: bool = False) -> tuple[list[float], Matrix, Matrix]:
    """(E_o1, E_o2) before the update and the two weight matrices after it."""
    i, t, lr = example.INPUTS, example.TARGETS, example.LEARNING_RATE
    h = [sigmoid(row[0] * i[0] + row[1] * i[1] + example.HIDDEN_BIAS) for row in w_hidden]
    o = [sigmoid(row[0] * h[0] + row[1] * h[1] + example.OUTPUT_BIAS) for row in w_out]
    errors = [0.5 * (t[j] - o[j]) ** 2 for j in range(2)]
    delta_o = [(o[j] - t[j]) * o[j] * (1.0 - o[j]) for j in range(2)]
    de_dh = [w_out[0][k] * delta_o[0] + w_out[1][k] * delta_o[1] for k in range(2)]
    dh = [h[j] * (1.0 - h[j]) for j in range(2)]
    if slip:
        g_out = [[delta_o[j] * h[j] for k in range(2)] for j in range(2)]
        g_hidden = [[de_dh[k] * dh[j] * i[j] for k in range(2)] for j in range(2)]
    else:
        g_out = [[delta_o[j] * h[k] for k in range(2)] for j in range(2)]
        g_hidden = [[de_dh[j] * dh[j] * i[k] for k in range(2)] for j in range(2)]
    new_hidden = [[w_hidden[j][k] - lr * g_hidden[j][k] for k in range(2)] for j in range(2)]
    new_out = [[w_out[j][k] - lr * g_out[j][k] for k in range(2)] for j in range(2)]
    return errors, new_hidden, new_out


def hand_run(passes: int, slip: bool = False) -> tuple[list[float], list[float]]:
    """The errors of the last pass (so after passes − 1 updates) and w1 … w8 after all."""
    w_hidden = [list(row) for row in example.HIDDEN_WEIGHTS]
    w_out = [list(row) for row in example.OUTPUT_WEIGHTS]
    errors: list[float] = []
    for _ in range(passes):
        errors, w_hidden, w_out = hand_pass(w_hidden, w_out, slip)
    return errors, [*w_hidden[0], *w_hidden[1], *w_out[0], *w_out[1]]


def labelled(root: Value) -> dict[str, Value]:
    return {node.label: node for node in walk(root) if node.label}


def test_forward_pass_prints() -> None:
    nodes = labelled(example.loss(example.network()))
    assert abs(nodes["E"].data - 0.2983711087600027) <= 1e-15
    assert abs(nodes["net_h1"].data - 0.3775) <= 1e-15  # 0.15·0.05 + 0.2·0.1 + 0.35
    for name, printed in [("out_h1", "0.59326999"), ("out_h2", "0.59688438"),
                          ("out_o1", "0.75136507"), ("out_o2", "0.772928465"),
                          ("E_o1", "0.27481108"), ("E_o2", "0.02356003")]:
        assert_printed(nodes[name].data, printed, name)


def test_backward_pass_prints() -> None:
    E = example.loss(example.network())
    E.backward()
    n = labelled(E)
    # Output layer: ∂E/∂out_o, ∂out_o/∂net_o = σ'(net_o), their product δ_o.
    output_layer = {1: ("0.74136507", "0.18681560", "0.13849856"),  # numpy drops the 0
                    2: ("-0.21707153", "0.17551005", "-0.03809824")}
    for k, (de_dout, dsig, delta) in output_layer.items():
        out, net = n[f"out_o{k}"], n[f"net_o{k}"]
        assert_printed(out.grad, de_dout, f"dE/dout_o{k}")
        assert_printed(net.grad / out.grad, dsig, f"dout_o{k}/dnet_o{k}")
        assert_printed(net.grad, delta, f"delta_o{k}")
    assert_printed(n["w5"].grad, "0.082167041", "dE/dw5")
    assert_printed(n["w8"].grad, "-0.02274024", "dE/dw8")

    # out_h1 receives error from both outputs: one part along each path, summed.
    paths = [("E_o1", "0.05539942", "0.06232435"), ("E_o2", "-0.01904912", "-0.02095403")]
    for error, *printed in paths:
        parts = grad(n[error], [n["out_h1"], n["out_h2"]])
        for k in range(2):
            assert_printed(parts[k], printed[k], f"dE_{error}/dout_h{k + 1}")
    hidden_layer = {1: ("0.03635031", "0.24130071"), 2: ("0.04137032", "0.24061342")}
    for k, (total, dsig) in hidden_layer.items():
        out, net = n[f"out_h{k}"], n[f"net_h{k}"]
        by_path = [grad(n[error], [out])[0] for error in ("E_o1", "E_o2")]
        assert math.isclose(out.grad, by_path[0] + by_path[1], rel_tol=1e-14)
        assert_printed(out.grad, total, f"dE/dout_h{k}")
        assert_printed(net.grad / out.grad, dsig, f"dout_h{k}/dnet_h{k}")
    # w1 and w4 are the two hidden gradients the documents' code gets right.
    assert_printed(n["w1"].grad, "0.00043857", "dE/dw1")
    assert_printed(n["w4"].grad, "0.00099543", "dE/dw4")


def test_one_step_weights_and_error() -> None:
    net = example.network()
    before = example.step(net)
    assert abs(before.data - 0.2983711087600027) <= 1e-15
    expected = ["0.149780716", "0.199561432", "0.249751144", "0.299502287",
                "0.35891648", "0.408666186", "0.51130127", "0.561370121"]
    got = [w.data for w in example.weights(net)]
    for k, (w, printed) in enumerate(zip(got, expected), 1):
        assert abs(w - float(printed)) <= 1e-9, f"w{k}: {w!r}, expected {printed}"
    # The same step by hand, with the chain rule's outer product.
    _, by_hand = hand_run(1)
    for k, (w, h) in enumerate(zip(got, by_hand), 1):
        assert abs(w - h) <= 1e-15, f"w{k}: engine {w!r}, by hand {h!r}"
    assert abs(example.loss(net).data - 0.291027773693599) <= 1e-15


def test_biases_get_gradients_but_stay_fixed() -> None:
    net = example.network()
    example.step(net)
    for layer, value in ((net.layers[0], example.HIDDEN_BIAS),
                         (net.layers[1], example.OUTPUT_BIAS)):
        for neuron in layer.neurons:
            assert neuron.b.grad != 0.0  # backpropagation reached them ...
            assert neuron.b.data == value  # ... but the step trains only w1 … w8


def test_seed_code_w6_w7_come_from_an_element_wise_product() -> None:
    net = example.network()
    example.step(net)
    w5, w6, w7, w8 = (w.data for w in example.weights(net)[4:])
    printed_w6, printed_w7 = example.SEED_CODE_W6_W7
    # The engine does not give the printed numbers ...
    assert abs(w6 - printed_w6) > 1e-5 and abs(w7 - printed_w7) > 1e-5
    # ... the chain rule's outer product gives the engine's ...
    _, chain = hand_run(1, slip=False)
    for engine, by_hand in zip((w5, w6, w7, w8), chain[4:]):
        assert abs(engine - by_hand) <= 1e-15
    # ... and the element-wise product gives exactly the printed ones.
    _, slipped = hand_run(1, slip=True)
    assert_printed(slipped[5], f"{printed_w6:.8f}", "w6 with the element-wise slip")
    assert_printed(slipped[6], f"{printed_w7:.8f}", "w7 with the element-wise slip")
    # On the diagonal (w5: δ_o1·out_h1, w8: δ_o2·out_h2) the two products agree.
    assert slipped[4] == chain[4] and slipped[7] == chain[7]
    assert_printed(w5, "0.35891648", "w5")
    assert_printed(w8, "0.56137012", "w8")


def test_seed_code_hidden_weights_come_from_a_broadcast() -> None:
    # The documents' code prints w1 … w4 = 0.14978072 0.19975043 0.24956268
    # 0.29950229 after the step: w2 and w3 are off the same way.
    printed = ["0.14978072", "0.19975043", "0.24956268", "0.29950229"]
    assert [f"{w:.8f}" for w in example.SEED_CODE_W2_W3] == printed[1:3]
    net = example.network()
    example.step(net)
    engine = [w.data for w in example.weights(net)[:4]]
    _, slipped = hand_run(1, slip=True)
    for k in range(4):
        assert_printed(slipped[k], printed[k], f"w{k + 1} with the broadcast slip")
    assert_printed(engine[0], printed[0], "w1")
    assert_printed(engine[3], printed[3], "w4")
    assert abs(engine[1] - float(printed[1])) > 1e-5
    assert abs(engine[2] - float(printed[2])) > 1e-5


def test_seed_code_final_errors_come_from_the_slips() -> None:
    # The code's last printout: its loop of 100 passes ends with the errors
    # of the last pass, E_o1 = 0.01405175 and E_o2 = 0.00634091.
    slipped, _ = hand_run(100, slip=True)
    assert_printed(slipped[0], "0.01405175", "E_o1 with the slips")
    assert_printed(slipped[1], "0.00634091", "E_o2 with the slips")
    net = example.network()
    for _ in range(99):
        example.step(net)
    E = example.loss(net)
    engine = [p.data for p in E.parents]
    chain, _ = hand_run(100, slip=False)
    for got, by_hand, printed in zip(engine, chain, slipped):
        assert math.isclose(got, by_hand, rel_tol=1e-12)
        assert abs(got - printed) > 1e-5


def test_error_after_9999_steps() -> None:
    net = example.network()
    for _ in range(9_999):
        example.step(net)
    error = example.loss(net).data
    by_hand, _ = hand_run(10_000)  # the 10,000th pass measures after 9,999 updates
    assert math.isclose(error, by_hand[0] + by_hand[1], rel_tol=1e-12)
    assert math.isclose(error, 3.510854812251263e-05, rel_tol=1e-12)
    assert_printed(error, "3.5108548e-05", "E after 9,999 steps")


# --- BP1–BP4 on random sigmoid networks, in plain floats

Weights = list[Matrix]  # weights[l][j][k]: from neuron k of layer l − 1 to neuron j of layer l
Biases = list[list[float]]


def snapshot(net: MLP) -> tuple[Weights, Biases]:
    return ([[[w.data for w in n.w] for n in layer.neurons] for layer in net.layers],
            [[n.b.data for n in layer.neurons] for layer in net.layers])


def backprop(weights: Weights, biases: Biases, x: Sequence[float],
             y: Sequence[float]) -> tuple[list[list[float]], Weights]:
    """δ of every layer and ∂C/∂w, for C = ½·Σ(a^L − y)² and sigmoid everywhere.

    BP1: δ^L = (a^L − y) ⊙ σ'(z^L)       BP2: δ^l = ((W^{l+1})ᵀ δ^{l+1}) ⊙ σ'(z^l)
    BP3: ∂C/∂w^l_jk = a^{l−1}_k · δ^l_j  BP4: ∂C/∂b^l_j = δ^l_j
    """
    activations, zs = [list(x)], []
    for w, b in zip(weights, biases):
        z = [math.fsum([w_jk * a_k for w_jk, a_k in zip(row, activations[-1])]) + b_j
             for row, b_j in zip(w, b)]
        zs.append(z)
        activations.append([sigmoid(z_j) for z_j in z])
    dsig = [[sigmoid(z_j) * (1.0 - sigmoid(z_j)) for z_j in z] for z in zs]
    deltas = [[(a - t) * s for a, t, s in zip(activations[-1], y, dsig[-1])]]
    for layer in range(len(weights) - 1, 0, -1):
        upper, w = deltas[0], weights[layer]
        back = [math.fsum([w[j][k] * upper[j] for j in range(len(upper))])
                for k in range(len(w[0]))]
        deltas.insert(0, [b_k * s_k for b_k, s_k in zip(back, dsig[layer - 1])])
    dw = [[[a_k * d_j for a_k in activations[layer]] for d_j in deltas[layer]]
          for layer in range(len(weights))]
    return deltas, dw


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)


@given(nin=st.integers(1, 5), sizes=st.lists(st.integers(1, 5), min_size=1, max_size=4),
       seed=st.integers(0, 2**32 - 1))
def test_bp1_to_bp4_on_random_networks(nin: int, sizes: list[int], seed: int) -> None:
    rng = random.Random(seed)
    net = MLP(nin, sizes, activation="sigmoid", output_activation="sigmoid", seed=seed)
    for p in net.parameters():  # biases start at 0; give them values that matter too
        p.data = rng.uniform(-1.5, 1.5)
    x = [rng.uniform(-2.0, 2.0) for _ in range(nin)]
    y = [rng.random() for _ in range(sizes[-1])]

    a: list = x
    z_nodes = []  # each neuron's pre-activation node: its .grad is δ = ∂C/∂z
    for layer in net.layers:
        a = layer(a)
        z_nodes.append([out.parents[0] for out in a])
    quadratic(a, y).backward()

    deltas, dw = backprop(*snapshot(net), x, y)
    for li, layer in enumerate(net.layers):
        for j, neuron in enumerate(layer.neurons):
            where = f"layer {li + 1} neuron {j + 1}"
            assert close(z_nodes[li][j].grad, deltas[li][j]), f"BP1/BP2 δ at {where}"
            assert close(neuron.b.grad, deltas[li][j]), f"BP4 at {where}"
            for k, w in enumerate(neuron.w):
                assert close(w.grad, dw[li][j][k]), f"BP3 w{k + 1} at {where}"


# --- XOR with a 2-4-1 sigmoid network; batch, mini-batch, stochastic descent

def xor_net(seed: int | None) -> MLP:
    return MLP(2, [4, 1], activation="sigmoid", output_activation="sigmoid", seed=seed)


def fit(net: MLP, points: list, labels: list, batch_size: int, lr: float, epochs: int) -> int:
    """Gradient descent on the mean quadratic cost of each batch; returns the number of steps."""
    optimizer = SGD(net.parameters(), lr)
    steps = 0
    for _ in range(epochs):
        for start in range(0, len(points), batch_size):
            batch = range(start, min(start + batch_size, len(points)))
            cost = vsum([quadratic(net(points[i]), labels[i]) for i in batch]) * (1.0 / len(batch))
            optimizer.zero_grad()
            cost.backward()
            optimizer.step()
            steps += 1
    return steps


def xor_outputs(net: MLP) -> list[float]:
    with no_grad():
        return [net(x).data for x in xor()[0]]


def solves_xor(net: MLP) -> bool:
    return all((out > 0.5) == (label > 0.5) for out, label in zip(xor_outputs(net), xor()[1]))


def mean_cost(net: MLP) -> float:
    with no_grad():
        return sum(quadratic(net(x), y).data for x, y in zip(*xor())) / 4


def test_xor_is_learned() -> None:
    net = xor_net(seed=0)
    fit(net, *xor(), batch_size=4, lr=4.0, epochs=2000)
    outputs = xor_outputs(net)
    assert solves_xor(net), outputs
    assert max(abs(out - label) for out, label in zip(outputs, xor()[1])) < 0.1, outputs


def test_xor_is_learned_from_most_starts() -> None:
    solved = 0
    for seed in range(10):
        net = xor_net(seed)
        fit(net, *xor(), batch_size=4, lr=4.0, epochs=1000)
        solved += solves_xor(net)
    assert solved >= 9


def flat(weights: Weights, biases: Biases) -> list[float]:
    """In the order of ``net.parameters()``: each neuron's weights, then its bias."""
    return [p for w, b in zip(weights, biases) for row, b_j in zip(w, b) for p in (*row, b_j)]


def reference_epoch(weights: Weights, biases: Biases, batch_size: int, lr: float) -> list[float]:
    """One epoch over XOR in plain floats: each step subtracts lr × the batch's mean gradient."""
    points, labels = xor()
    for start in range(0, len(points), batch_size):
        batch = range(start, min(start + batch_size, len(points)))
        per_sample = [backprop(weights, biases, points[i], [labels[i]]) for i in batch]
        for li, (w, b) in enumerate(zip(weights, biases)):
            for j in range(len(w)):
                b[j] -= lr * sum(deltas[li][j] for deltas, _ in per_sample) / len(batch)
                for k in range(len(w[j])):
                    w[j][k] -= lr * sum(dw[li][j][k] for _, dw in per_sample) / len(batch)
    return flat(weights, biases)


def test_batch_minibatch_and_stochastic_epochs() -> None:
    lr, start = 2.0, xor_net(seed=0).state_dict()
    after = {}
    for batch_size, steps in ((4, 1), (2, 2), (1, 4)):
        net = xor_net(seed=None)
        net.load_state_dict(start)  # the same initial weights for all three
        expected = reference_epoch(*snapshot(net), batch_size, lr)
        assert fit(net, *xor(), batch_size=batch_size, lr=lr, epochs=1) == steps
        got = [p.data for p in net.parameters()]
        assert all(close(a, b) for a, b in zip(got, expected)), batch_size
        after[batch_size] = got
    # The three ways really differ: one mean step is not four single steps.
    assert after[4] != after[2] != after[1] != after[4]


def test_batch_minibatch_and_stochastic_each_learn_xor() -> None:
    start = xor_net(seed=0).state_dict()
    costs = {}
    for batch_size in (4, 2, 1):
        net = xor_net(seed=None)
        net.load_state_dict(start)
        fit(net, *xor(), batch_size=batch_size, lr=2.0, epochs=500)
        costs[batch_size] = mean_cost(net)
        fit(net, *xor(), batch_size=batch_size, lr=2.0, epochs=1000)
        assert solves_xor(net), (batch_size, xor_outputs(net))
        assert mean_cost(net) < 0.005, batch_size
    # With the same number of epochs, more (smaller) steps per epoch get further.
    assert costs[1] < costs[2] < costs[4], costs


# --- moons and spirals

def test_moons_with_hinge_loss() -> None:
    points, labels = moons(100, 0.1, seed=0)
    net = MLP(2, [16, 16, 1], activation="relu", output_activation="linear", seed=0)
    params = net.parameters()
    optimizer = SGD(params, lr=1.0)
    epochs = 60
    for epoch in range(epochs):
        optimizer.lr = 1.0 - 0.9 * epoch / (epochs - 1)  # linear decay from 1.0 to 0.1
        cost = hinge([net(x) for x in points], labels) + 1e-4 * vsum([p * p for p in params])
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
    with no_grad():
        correct = sum((net(x).data > 0) == (y > 0) for x, y in zip(points, labels))
    assert correct / len(points) >= 0.97


def test_spirals_with_cross_entropy() -> None:
    points, labels = spirals(50, 3, seed=0)
    net = MLP(2, [16, 16, 3], activation="relu", output_activation="linear", seed=0)
    optimizer = Adam(net.parameters(), lr=0.05)
    for _ in range(60):
        cost = vsum([cross_entropy(net(x), y) for x, y in zip(points, labels)]) * (1 / len(points))
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
    with no_grad():
        scores = [[s.data for s in net(x)] for x in points]
    correct = sum(s.index(max(s)) == y for s, y in zip(scores, labels))
    assert correct / len(points) >= 0.9


def test_the_worked_example_evaluates_under_no_grad() -> None:
    from autograd_mini import no_grad

    with no_grad():
        E = example.loss(example.network())
    assert E.parents == () and E.label == "E"
    assert abs(E.data - 0.298371108760003) <= 1e-15


def test_each_layer_shares_one_bias_whose_gradient_sums_both_neurons() -> None:
    """The documents give each layer one bias (b1, b2); both its neurons use that one Value."""
    E = example.loss(example.network())
    steps = list(backward_steps(E))
    n = labelled(E)
    biases = [v for v in walk(E) if v.label in ("b1", "b2")]
    assert sorted(b.label for b in biases) == ["b1", "b2"]  # one node each, not two
    for bias, layer in (("b1", "h"), ("b2", "o")):
        shares = [s.contribution for s in steps if s.parent is n[bias]]
        nets = [n[f"net_{layer}1"].grad, n[f"net_{layer}2"].grad]
        assert sorted(shares) == sorted(nets)  # one share through each neuron, ∂net/∂b = 1
        assert n[bias].grad == nets[0] + nets[1]
    # δ_o1 + δ_o2, the documents' two printed deltas: 0.13849856 − 0.03809824
    assert abs(n["b2"].grad - (0.13849856 - 0.03809824)) < 1e-8
