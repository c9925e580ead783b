"""The floor: an MLP's hinge-loss gradient written by hand, with no graph at all.

This is what the benchmark's engines are measured against. The network is a
list of layers ``(W, b)``: ``W[j]`` is the weight row of neuron ``j`` (its
weight ``W[j][k]`` connects input ``k``) and ``b[j]`` its bias. Hidden layers
use ReLU and the last layer is linear with one output, the score. The loss is
the averaged hinge loss plus an L2 penalty:

    loss = mean(max(0, 1 - y·score)) + alpha · Σ p²

Forward and backward are plain loops over Python floats and lists: the
practical floor for scalar Python, against which an engine's bookkeeping
(nodes, topological order, derivative dispatch) is the overhead.

>>> net = [([[1.0, -1.0]], [0.5]), ([[2.0]], [0.0])]   # 2-1-1
>>> loss, grads = loss_and_grads(net, [[1.0, 0.0]], [-1.0], alpha=0.0)
>>> loss, grads[1]
(4.0, ([[1.5]], [1.0]))
"""

from __future__ import annotations

from operator import mul

Layer = tuple[list[list[float]], list[float]]


def loss_and_grads(
    net: list[Layer], xs: list[list[float]], ys: list[float], alpha: float
) -> tuple[float, list[Layer]]:
    """The loss and its gradient, shaped like ``net``: ``[(dW, db), ...]``."""
    last = len(net) - 1
    grads = [([[0.0] * len(row) for row in W], [0.0] * len(b)) for W, b in net]
    scale = 1.0 / len(xs)
    data_loss = 0.0
    for x, y in zip(xs, ys):
        # Forward, keeping each layer's input for the backward pass.
        inputs = []
        a = x
        for i, (W, b) in enumerate(net):
            inputs.append(a)
            z = [sum(map(mul, row, a)) + bj for row, bj in zip(W, b)]
            a = z if i == last else [v if v > 0.0 else 0.0 for v in z]
        margin = 1.0 - y * a[0]
        if margin <= 0.0:
            continue  # max(0, margin) is flat here: no loss, no gradient
        data_loss += margin
        # Backward: delta holds d(loss)/d(pre-activation) of layer i's neurons.
        delta = [-y * scale]
        for i in range(last, -1, -1):
            W = net[i][0]
            dW, db = grads[i]
            a_in = inputs[i]
            for j, d in enumerate(delta):
                dW[j] = [g + d * ak for g, ak in zip(dW[j], a_in)]
                db[j] += d
            if i:
                # Through W (transposed), then through the ReLU that made a_in.
                back = [0.0] * len(a_in)
                for d, row in zip(delta, W):
                    back = [s + d * w for s, w in zip(back, row)]
                delta = [s if ak > 0.0 else 0.0 for s, ak in zip(back, a_in)]
    # The L2 penalty and its gradient 2·alpha·p.
    penalty = 0.0
    two_alpha = 2.0 * alpha
    for (W, b), (dW, db) in zip(net, grads):
        for row, drow in zip(W, dW):
            penalty += sum(map(mul, row, row))
            drow[:] = [g + two_alpha * w for g, w in zip(drow, row)]
        penalty += sum(map(mul, b, b))
        db[:] = [g + two_alpha * bj for g, bj in zip(db, b)]
    return data_loss * scale + alpha * penalty, grads


def sgd_step(net: list[Layer], grads: list[Layer], lr: float) -> None:
    """``p -= lr · dp`` for every parameter, in place."""
    for (W, b), (dW, db) in zip(net, grads):
        for row, drow in zip(W, dW):
            row[:] = [w - lr * g for w, g in zip(row, drow)]
        b[:] = [bj - lr * g for bj, g in zip(b, db)]


def train_step(
    net: list[Layer], xs: list[list[float]], ys: list[float], alpha: float, lr: float
) -> float:
    """One step of gradient descent on the full batch; returns the loss before it."""
    loss, grads = loss_and_grads(net, xs, ys, alpha)
    sgd_step(net, grads, lr)
    return loss
