"""MLP.to_torch / MLP.from_torch: the same network in PyTorch, with the same numbers.

Random networks and inputs are run in both, for every activation and for every
loss PyTorch has a match for (mse, binary cross-entropy, cross-entropy; hinge and
the quadratic cost written out with torch operations): the outputs, the loss
and every parameter's gradient agree to 1e-12, relative to the largest number
compared (the two sum in different orders, so a sum that nearly cancels is not
held to 1e-12 of itself). A trained model goes to PyTorch and back unchanged,
and every module the bridge cannot represent is refused with the layer named.

Without torch these tests are skipped on a developer's machine, but never in
CI, where torch is part of the dev extra: there a missing torch is a failure.
"""

from __future__ import annotations

import math
import os
import random
import sys
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_mini import Value, data, grad, losses, optim
from autograd_mini import sum as vsum
from autograd_mini.bridge import INSTALL
from autograd_mini.nn import ACTIVATIONS, MLP


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


try:
    import torch
    import torch.nn.functional as F
except ImportError:
    if _in_ci():
        raise RuntimeError("CI must run the PyTorch bridge tests, but torch is not "
                           "installed (the dev extra pins it)") from None
    torch = None  # type: ignore[assignment]

needs_torch = pytest.mark.skipif(torch is None, reason=f"torch is not installed ({INSTALL})")

TOLERANCE = 1e-12


def assert_same(ours: Sequence[float], theirs: Sequence[float], what: str,
                scale: float | None = None) -> None:
    """Equal to ``TOLERANCE`` relative to ``scale``, by default the largest of ``theirs``."""
    assert len(ours) == len(theirs), what
    if scale is None:
        scale = max((abs(t) for t in theirs), default=0.0)
    worst = max((abs(a - b) for a, b in zip(ours, theirs)), default=0.0)
    assert worst <= TOLERANCE * scale, f"{what}: {list(ours)} vs {list(theirs)}"


def flat(rows: Any) -> list[float]:
    """A nested list of numbers (or a tensor's tolist()) as one flat list."""
    if isinstance(rows, (list, tuple)):
        return [x for row in rows for x in flat(row)]
    return [float(rows)]


def as_list(out: Value | list[Value]) -> list[Value]:
    return out if isinstance(out, list) else [out]


def linears(seq: Any) -> list[Any]:
    return [m for m in seq if isinstance(m, torch.nn.Linear)]


@st.composite
def networks(draw: st.DrawFn, activation: str | None = None,
             output_activation: str | None = None, min_out: int = 1) -> MLP:
    """A random MLP of 1-3 layers of 1-4 neurons, its biases random too (they start at 0)."""
    nin = draw(st.integers(1, 4))
    sizes = [*draw(st.lists(st.integers(1, 4), max_size=2)), draw(st.integers(min_out, 4))]
    acts = sorted(ACTIVATIONS)
    seed = draw(st.integers(0, 2**32 - 1))
    net = MLP(nin, sizes, activation=activation or draw(st.sampled_from(acts)),
              output_activation=output_activation or draw(st.sampled_from(acts)), seed=seed)
    rng = random.Random(seed)
    for layer in net.layers:
        for neuron in layer.neurons:
            neuron.b.data = rng.uniform(-1.0, 1.0)
    return net


def inputs(draw: st.DrawFn, net: MLP) -> list[list[float]]:
    """A batch of 1-3 inputs for ``net``, each number in [-2, 2]."""
    nin = len(net.layers[0].neurons[0].w)
    row = st.lists(st.floats(-2.0, 2.0), min_size=nin, max_size=nin)
    return draw(st.lists(row, min_size=1, max_size=3))


Loss = Callable[[list[Value], Any], Value]
TorchLoss = Callable[[Any, Any], Any]
# The size of the terms that make a loss's derivative by each output, given
# the outputs and the target: what rounding is relative to where they cancel.
TermSize = Callable[[list[float], Any], list[float]]


def compare(net: MLP, xs: list[list[float]], targets: list[Any],
            ours: Loss, theirs: TorchLoss, term_size: TermSize) -> None:
    """Run the batch through ``net`` and its torch copy; outputs, loss, gradients agree.

    The loss is the mean over the batch of ``ours`` (autograd_mini) and of
    ``theirs`` (torch, applied to one row of outputs at a time).

    Both round differently (they add in different orders), so a number that is
    a sum nearly cancelling to 0 differs by more than 1e-12 of itself. A
    gradient is held to 1e-12 of the size of the terms it is made of:
    Σ over samples and outputs of (term size of ∂loss/∂output) · |∂output/∂θ|,
    or of itself where that is larger. Outputs (sums of terms of order 1) are
    held to 1e-12 of the largest output or 1; the loss (a sum of positive
    terms) to 1e-12 of itself.
    """
    seq = net.to_torch()
    params = net.parameters()
    size = [0.0] * len(params)
    for x, t in zip(xs, targets):
        outs = as_list(net(x))
        for out, k in zip(outs, term_size([o.data for o in outs], t)):
            for i, g in enumerate(grad(out, params)):
                size[i] += k * abs(g) / len(xs)
    sizes = {id(p): s for p, s in zip(params, size)}
    net.zero_grad()
    outs = [as_list(net(x)) for x in xs]
    loss = vsum([ours(out, t) for out, t in zip(outs, targets)]) * (1.0 / len(xs))
    loss.backward()

    batch = seq(torch.tensor(xs, dtype=torch.float64))
    assert batch.dtype == torch.float64
    torch_loss = torch.stack([theirs(batch[i], t) for i, t in enumerate(targets)]).mean()
    torch_loss.backward()

    outputs = flat(batch.tolist())
    assert_same(flat([[o.data for o in out] for out in outs]), outputs, "outputs",
                max(1.0, *map(abs, outputs)))
    assert_same([loss.data], [torch_loss.item()], "loss")
    for i, (layer, linear) in enumerate(zip(net.layers, linears(seq))):
        for what, ps, tensor in (("weight", [w for n in layer.neurons for w in n.w],
                                  linear.weight),
                                 ("bias", [n.b for n in layer.neurons], linear.bias)):
            theirs_grads = flat(tensor.grad.tolist())
            scale = max(*(sizes[id(p)] for p in ps), *map(abs, theirs_grads))
            assert_same([p.grad for p in ps], theirs_grads, f"layer {i} {what} gradients",
                        scale)


# --- the same numbers in both


@needs_torch
def test_to_torch_layout() -> None:
    """Neuron j's w[k] is weight[j, k]; its b is bias[j]; float64; the modules in order."""
    net = MLP(3, [2, 2, 1], activation="relu", output_activation="sigmoid", seed=4)
    seq = net.to_torch()
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear", "ReLU",
                                               "Linear", "Sigmoid"]
    for layer, linear in zip(net.layers, linears(seq)):
        assert linear.weight.dtype == linear.bias.dtype == torch.float64
        for j, neuron in enumerate(layer.neurons):
            assert [w.data for w in neuron.w] == linear.weight[j].tolist()
            assert neuron.b.data == linear.bias[j].item()
    tanh = MLP(2, [3, 2], activation="tanh", seed=0).to_torch()  # "linear": no module
    assert [type(m).__name__ for m in tanh] == ["Linear", "Tanh", "Linear"]


@needs_torch
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@given(data=st.data())
def test_outputs_and_gradients_match_for_every_activation(activation: str,
                                                          data: st.DataObject) -> None:
    """Every activation, in the hidden and in the output layer; the loss is Σ outputs²."""
    net = data.draw(networks(activation, activation))
    xs = inputs(data.draw, net)
    compare(net, xs, [None] * len(xs), lambda out, _: vsum([o * o for o in out]),
            lambda row, _: (row * row).sum(), lambda out, _: [2 * abs(a) for a in out])


def _f64(t: Any) -> Any:
    return torch.tensor(t, dtype=torch.float64)


def _bce_terms(out: list[float], ys: list[float]) -> list[float]:
    # ∂/∂p of −[y·log p + (1 − y)·log(1 − p)] is −y/p + (1 − y)/(1 − p)
    return [(y / max(p, 1e-300) + (1 - y) / max(1 - p, 1e-300)) / len(out)
            for p, y in zip(out, ys)]


LOSSES: dict[str, tuple[Loss, TorchLoss, TermSize]] = {
    "mse": (lambda out, t: losses.mse(out, t),
            lambda row, t: F.mse_loss(row, _f64(t)),
            lambda out, t: [2 * (abs(a) + abs(y)) / len(out) for a, y in zip(out, t)]),
    "binary_cross_entropy": (lambda out, t: losses.binary_cross_entropy(out, t),
                             lambda row, t: F.binary_cross_entropy(row, _f64(t)),
                             _bce_terms),
    # softmax(z) − onehot(target): terms of size at most 1 each
    "cross_entropy": (lambda out, t: losses.cross_entropy(out, t),
                      lambda row, t: F.cross_entropy(row.unsqueeze(0), torch.tensor([t])),
                      lambda out, t: [2.0] * len(out)),
    # hinge written out: the mean of max(0, 1 − y·s)
    "hinge": (lambda out, t: losses.hinge(out, t),
              lambda row, t: torch.relu(1.0 - _f64(t) * row).mean(),
              lambda out, t: [1.0 / len(out)] * len(out)),
    # the quadratic cost written out: ½ Σ (a − y)²
    "quadratic": (lambda out, t: losses.quadratic(out, t),
                  lambda row, t: 0.5 * ((row - _f64(t)) ** 2).sum(),
                  lambda out, t: [abs(a) + abs(y) for a, y in zip(out, t)]),
}


def targets_for(name: str, nout: int, n: int) -> st.SearchStrategy[list[Any]]:
    one = {
        "mse": st.lists(st.floats(-2.0, 2.0), min_size=nout, max_size=nout),
        "quadratic": st.lists(st.floats(-2.0, 2.0), min_size=nout, max_size=nout),
        "binary_cross_entropy": st.lists(st.one_of(st.sampled_from([0.0, 1.0]),
                                                   st.floats(0.0, 1.0)),
                                         min_size=nout, max_size=nout),
        "hinge": st.lists(st.sampled_from([-1.0, 1.0]), min_size=nout, max_size=nout),
        "cross_entropy": st.integers(0, nout - 1),
    }[name]
    return st.lists(one, min_size=n, max_size=n)


@needs_torch
@pytest.mark.parametrize("name", sorted(LOSSES))
@given(data=st.data())
def test_every_loss_matches_pytorch(name: str, data: st.DataObject) -> None:
    """Each loss on a random network: the same loss and the same parameter gradients."""
    # binary cross-entropy takes probabilities: the output layer is a sigmoid.
    net = data.draw(networks(output_activation="sigmoid" if name == "binary_cross_entropy"
                             else None, min_out=2 if name == "cross_entropy" else 1))
    xs = inputs(data.draw, net)
    targets = data.draw(targets_for(name, len(net.layers[-1].neurons), len(xs)))
    compare(net, xs, targets, *LOSSES[name])


@needs_torch
def test_training_goes_on_in_pytorch_with_the_same_numbers() -> None:
    """Train here, hand over, take the same SGD steps in both: the weights stay together."""
    points, labels = data.xor()
    net = MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=3)
    opt = optim.SGD(net.parameters(), lr=0.5)
    for _ in range(50):
        opt.zero_grad()
        vsum([losses.mse(net(x), y) for x, y in zip(points, labels)]).backward()
        opt.step()
    seq = net.to_torch()
    torch_opt = torch.optim.SGD(seq.parameters(), lr=0.5)
    X = torch.tensor(points, dtype=torch.float64)
    Y = torch.tensor(labels, dtype=torch.float64).reshape(-1, 1)
    for _ in range(50):
        opt.zero_grad()
        vsum([losses.mse(net(x), y) for x, y in zip(points, labels)]).backward()
        opt.step()
        torch_opt.zero_grad()
        ((seq(X) - Y) ** 2).sum().backward()
        torch_opt.step()
    assert_same(flat(list(net.state_dict().values())),
                flat(list(MLP.from_torch(seq).state_dict().values())), "weights after training")


@needs_torch
def test_trained_model_round_trips_exactly() -> None:
    """autograd_mini → torch → autograd_mini: the same state_dict, bit for bit."""
    points, labels = data.moons(40, seed=1)
    labels = [(y + 1) / 2 for y in labels]  # ±1 -> 0/1
    net = MLP(2, [5, 3, 1], activation="relu", output_activation="sigmoid", seed=2)
    opt = optim.Adam(net.parameters(), lr=0.05)
    for _ in range(30):
        opt.zero_grad()
        vsum([losses.binary_cross_entropy(net(x), y) for x, y in zip(points, labels)]).backward()
        opt.step()
    back = MLP.from_torch(net.to_torch())
    assert type(back) is MLP
    assert back.state_dict() == net.state_dict()
    assert back._config() == net._config()
    assert [back(x).data for x in points] == [net(x).data for x in points]


@needs_torch
def test_round_trip_keeps_the_class_and_each_activation() -> None:
    class Wide(MLP):
        pass

    for act in sorted(ACTIVATIONS):
        for out_act in sorted(ACTIVATIONS):
            net = MLP(2, [3, 2], activation=act, output_activation=out_act, seed=5)
            back = Wide.from_torch(net.to_torch())
            assert type(back) is Wide
            assert (back.activation, back.output_activation) == (act, out_act)
            assert back.state_dict() == net.state_dict()


@needs_torch
def test_from_torch_reads_float32_and_identity() -> None:
    """float32 weights become the float64 numbers they are; Identity is "linear"."""
    torch.manual_seed(0)
    seq = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Sigmoid(),
                              torch.nn.Linear(4, 2), torch.nn.Identity())
    assert seq[0].weight.dtype == torch.float32
    net = MLP.from_torch(seq)
    assert (net.activation, net.output_activation) == ("sigmoid", "linear")
    for layer, linear in zip(net.layers, linears(seq)):
        weight = linear.weight.detach().double().tolist()
        assert [[w.data for w in n.w] for n in layer.neurons] == weight
        assert [n.b.data for n in layer.neurons] == linear.bias.detach().double().tolist()
    x = [0.25, -0.5, 1.0]
    assert_same([o.data for o in net(x)], seq.double()(torch.tensor(x, dtype=torch.float64))
                .tolist(), "outputs")


@needs_torch
def test_one_layer_network() -> None:
    """A single Linear (with or without an activation) is a one-layer MLP."""
    seq = torch.nn.Sequential(torch.nn.Linear(2, 1, dtype=torch.float64), torch.nn.Tanh())
    net = MLP.from_torch(seq)
    assert net.output_activation == "tanh" and len(net.layers) == 1
    assert MLP.from_torch(torch.nn.Sequential(seq[0])).output_activation == "linear"


@needs_torch
def test_the_copies_are_independent_and_torch_random_state_is_untouched() -> None:
    net = MLP(2, [2, 1], seed=0)
    before = [p.data for p in net.parameters()]
    rng = torch.get_rng_state()
    seq = net.to_torch()
    assert torch.equal(rng, torch.get_rng_state())
    with torch.no_grad():
        seq[0].weight.add_(1.0)
    assert [p.data for p in net.parameters()] == before
    back = MLP.from_torch(seq)
    back.layers[0].neurons[0].w[0].data = 99.0
    assert seq[0].weight[0, 0].item() == before[0] + 1.0


# --- what cannot be represented


def _refused(module: Any) -> str:
    with pytest.raises(ValueError) as info:
        MLP.from_torch(module)
    message = str(info.value)
    assert message.startswith("from_torch: ") and "\n" not in message
    return message


@needs_torch
def test_a_conv_layer_is_refused_by_name() -> None:
    nn = torch.nn
    message = _refused(nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Conv1d(1, 1, 1)))
    assert "layer 2 (Conv1d)" in message and "cannot represent" in message
    named = nn.Sequential(OrderedDict(hidden=nn.Linear(2, 3), image=nn.Conv2d(1, 1, 3)))
    assert "layer image (Conv2d)" in _refused(named)
    assert "layer 1 (Dropout)" in _refused(nn.Sequential(nn.Linear(2, 3), nn.Dropout()))


@needs_torch
def test_a_missing_bias_is_refused_by_name() -> None:
    nn = torch.nn
    message = _refused(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1, bias=False)))
    assert "layer 2 (Linear) has no bias" in message and "bias=True" in message


@needs_torch
def test_an_unknown_activation_is_refused_by_name() -> None:
    nn = torch.nn
    for act in (nn.LeakyReLU(), nn.GELU(), nn.Softmax(dim=-1)):
        message = _refused(nn.Sequential(nn.Linear(2, 3), act, nn.Linear(3, 1)))
        assert f"layer 1 ({type(act).__name__}) is an activation autograd_mini does " \
               "not have" in message
        assert "Sigmoid, Tanh, ReLU, Identity" in message

    class MyTanh(nn.Tanh):  # may compute anything: not taken for a Tanh
        pass

    assert "layer 1 (MyTanh)" in _refused(nn.Sequential(nn.Linear(2, 3), MyTanh()))


@needs_torch
def test_mismatched_sizes_are_refused_by_name() -> None:
    nn = torch.nn
    message = _refused(nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(4, 1)))
    assert "layer 2 (Linear) takes 4 inputs but the layer before gives 3" in message
    linear = nn.Linear(2, 3)
    linear.weight = nn.Parameter(torch.zeros(3, 5))  # in_features says 2
    assert "weight of shape (3, 5)" in _refused(nn.Sequential(linear))


@needs_torch
def test_other_shapes_that_are_no_mlp_are_refused() -> None:
    nn = torch.nn
    assert "no Linear layer" in _refused(nn.Sequential())
    assert "layer 0 (Tanh) comes before any Linear" in _refused(nn.Sequential(nn.Tanh()))
    message = _refused(nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.ReLU()))
    assert "layer 2 (ReLU) is a second activation after layer 0's Linear" in message
    message = _refused(nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 2), nn.ReLU(),
                                     nn.Linear(2, 1)))
    assert "layer 3 is 'relu' but layer 1 is 'tanh'" in message
    assert "layer 0 (Sequential)" in _refused(nn.Sequential(nn.Sequential(nn.Linear(2, 1))))
    assert "meta device" in _refused(nn.Sequential(nn.Linear(2, 1, device="meta")))
    with pytest.raises(TypeError, match=r"expects a torch\.nn\.Sequential .* got Linear"):
        MLP.from_torch(nn.Linear(2, 1))


@needs_torch
def test_a_weight_that_is_not_finite_is_refused_by_name() -> None:
    nn = torch.nn
    seq = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    with torch.no_grad():
        seq[2].weight[0, 1] = math.nan
    assert "layer 2 (Linear) weight[0, 1] is nan" in _refused(seq)
    with torch.no_grad():
        seq[2].weight[0, 1] = 0.5
        seq[0].bias[2] = -math.inf
    assert "layer 0 (Linear) bias[2] is -inf" in _refused(seq)


# --- without torch


def test_without_torch_both_say_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails
    net = MLP(2, [1], seed=0)
    for call in (net.to_torch, lambda: MLP.from_torch(object())):
        with pytest.raises(ImportError, match="pip install 'autograd_mini\\[torch\\]'"):
            call()
    assert INSTALL == "pip install 'autograd_mini[torch]'"
