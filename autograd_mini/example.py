"""The documents' worked example: one step of backpropagation through a 2-2-2 network.

Two inputs, two sigmoid hidden neurons, two sigmoid outputs, the quadratic
cost E = ½·Σ(target − out)², learning rate 0.5; the weights are trained and
the two biases (one per layer, shared by its neurons) are not. Every node is
labelled as the documents name it: ``i1 i2``, ``w1 … w8``, ``b1 b2``,
``net_h1 out_h1 … net_o2 out_o2``, ``E_o1 E_o2`` and ``E``.

The documents' code multiplies element-wise where the output-layer update
needs an outer product (∂E/∂w_jk = δ_j · out_h_k), so it prints
w6 = 0.40891648 and w7 = 0.51137012: those two use the wrong hidden output.
Computed by the chain rule they are 0.408666186 and 0.51130127
(``SEED_CODE_W6_W7`` keeps the printed values for comparison). The same
broadcasting slip swaps indices in its hidden-layer update, so it also
prints w2 = 0.19975043 and w3 = 0.24956268 where the chain rule gives
0.199561432 and 0.249751144 (``SEED_CODE_W2_W3``); w1, w4, w5 and w8 come
out right either way.

>>> net = network()
>>> round(loss(net).data, 15)
0.298371108760003
>>> _ = step(net)
>>> [round(w.data, 9) for w in weights(net)][4:]
[0.35891648, 0.408666186, 0.51130127, 0.561370121]
"""

from __future__ import annotations

from .engine import Value
from .losses import quadratic
from .nn import MLP
from .optim import SGD

__all__ = ["INPUTS", "LEARNING_RATE", "SEED_CODE_W2_W3", "SEED_CODE_W6_W7", "TARGETS",
           "loss", "network", "step", "weights"]

INPUTS = (0.05, 0.10)
TARGETS = (0.01, 0.99)
HIDDEN_WEIGHTS = ((0.15, 0.20), (0.25, 0.30))  # w1 w2 into h1, w3 w4 into h2
HIDDEN_BIAS = 0.35  # b1
OUTPUT_WEIGHTS = ((0.40, 0.45), (0.50, 0.55))  # w5 w6 into o1, w7 w8 into o2
OUTPUT_BIAS = 0.60  # b2
LEARNING_RATE = 0.5

# What the documents' code prints for w6 and w7 after one step (see above).
SEED_CODE_W6_W7 = (0.40891648, 0.51137012)
SEED_CODE_W2_W3 = (0.19975043, 0.24956268)


def network() -> MLP:
    """The 2-2-2 sigmoid network with the documents' starting weights and names.

    As in the documents, each layer has ONE bias, shared by its neurons: both
    hidden neurons hold the same ``Value`` b1, both outputs the same b2. Its
    gradient gathers one share from each neuron it feeds, so ∂E/∂b1 is the
    sum of ∂E/∂net_h1 and ∂E/∂net_h2 (the biases are never trained).

    >>> net = network()
    >>> net.layers[0].neurons[0].b is net.layers[0].neurons[1].b
    True
    """
    net = MLP(2, [2, 2], activation="sigmoid", output_activation="sigmoid")
    k = 1
    for layer, ws, b, bias_name in ((net.layers[0], HIDDEN_WEIGHTS, HIDDEN_BIAS, "b1"),
                                    (net.layers[1], OUTPUT_WEIGHTS, OUTPUT_BIAS, "b2")):
        shared = layer.neurons[0].b
        shared.data, shared.label = b, bias_name
        for neuron, row in zip(layer.neurons, ws):
            for w, x in zip(neuron.w, row):
                w.data, w.label = x, f"w{k}"
                k += 1
            neuron.b = shared
    return net


def weights(net: MLP) -> list[Value]:
    """w1 … w8: the parameters the example trains (the biases stay fixed)."""
    return [w for layer in net.layers for neuron in layer.neurons for w in neuron.w]


def loss(net: MLP) -> Value:
    """The forward pass: total error E, every node on the way labelled.

    >>> E = loss(network())
    >>> [p.label for p in E.parents]
    ['E_o1', 'E_o2']
    """
    inputs = [Value(x, label=f"i{k}") for k, x in enumerate(INPUTS, 1)]
    hidden = net.layers[0](inputs)
    outputs = net.layers[1](hidden)
    for prefix, values in (("h", hidden), ("o", outputs)):
        for k, out in enumerate(values, 1):
            out.label = f"out_{prefix}{k}"
            if out.parents:  # (under no_grad() no graph is kept to label)
                out.parents[0].label = f"net_{prefix}{k}"  # the dot node under the sigmoid
    total = quadratic(outputs, list(TARGETS))
    total.label = "E"
    for k, term in enumerate(total.parents, 1):
        term.label = f"E_o{k}"
    return total


def step(net: MLP, lr: float = LEARNING_RATE) -> Value:
    """One step of gradient descent on w1 … w8; returns E from before the step."""
    params = weights(net)
    optimizer = SGD(params, lr)
    total = loss(net)
    net.zero_grad()
    total.backward()
    optimizer.step()
    return total
