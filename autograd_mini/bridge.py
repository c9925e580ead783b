"""The way out: an ``MLP`` as a ``torch.nn.Sequential`` and back, with the same numbers.

A layer of neurons is a ``torch.nn.Linear``: neuron j's weight ``w[k]`` (from
input k, Nielsen's layout) is ``weight[j, k]``, its bias is ``bias[j]``. Each
activation is its PyTorch module (``linear`` is none at all). Everything is
float64, so both compute the same numbers. ``torch`` is optional; it is
imported only when a conversion is asked for.

>>> from autograd_mini.nn import MLP
>>> net = MLP(2, [3, 1], activation="tanh", seed=0)
>>> seq = net.to_torch()
>>> seq
Sequential(
  (0): Linear(in_features=2, out_features=3, bias=True)
  (1): Tanh()
  (2): Linear(in_features=3, out_features=1, bias=True)
)
>>> MLP.from_torch(seq).state_dict() == net.state_dict()
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for the annotations: torch stays optional, nn is the layer above
    import torch

    from .nn import MLP

__all__ = ["INSTALL", "from_torch", "to_torch"]

INSTALL = "pip install 'autograd_mini[torch]'"

# autograd_mini's activation name -> the name of its torch.nn module (None: no module).
_MODULES = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "ReLU", "linear": None}
_KNOWN = ", ".join(m for m in _MODULES.values() if m) + ", Identity"


def _missing() -> ImportError:
    return ImportError("the PyTorch bridge needs torch, which is not installed; "
                       f"install it with: {INSTALL}")


def to_torch(model: MLP) -> torch.nn.Sequential:
    """``model`` as a float64 ``torch.nn.Sequential`` of ``Linear`` and activation modules.

    The torch network is new and independent: training one leaves the other as it was.
    """
    try:
        import torch
    except ImportError:
        raise _missing() from None
    modules: list[torch.nn.Module] = []
    for layer in model.layers:
        nin, nout = len(layer.neurons[0].w), len(layer.neurons)
        # Built on the meta device: no random initial weights to overwrite, and
        # torch's global random generator is left as it was.
        linear = torch.nn.Linear(nin, nout, device="meta", dtype=torch.float64)
        # A Python float is a float64: the copy is exact.
        linear.weight = torch.nn.Parameter(torch.tensor(
            [[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64))
        linear.bias = torch.nn.Parameter(torch.tensor(
            [n.b.data for n in layer.neurons], dtype=torch.float64))
        modules.append(linear)
        name = _MODULES[layer.activation]
        if name is not None:
            modules.append(getattr(torch.nn, name)())
    return torch.nn.Sequential(*modules)


def _describe(name: str, module: object) -> str:
    return f"layer {name} ({type(module).__name__})"


def _unsupported(name: str, module: object) -> ValueError:
    """The error for a module that is neither a Linear nor a known activation."""
    if type(module).__module__ == "torch.nn.modules.activation":
        return ValueError(f"from_torch: {_describe(name, module)} is an activation "
                          f"autograd_mini does not have; it has {_KNOWN}")
    return ValueError(f"from_torch: cannot represent {_describe(name, module)}; an MLP "
                      f"is Linear layers (with bias) each followed by one of {_KNOWN} "
                      "or by nothing")


def _weights(name: str, linear: torch.nn.Linear) -> tuple[list[list[float]], list[float]]:
    """A Linear's weight and bias as lists of Python floats, checked."""
    import torch

    where = _describe(name, linear)
    weight, bias = linear.weight, linear.bias
    if bias is None:
        raise ValueError(f"from_torch: {where} has no bias; every autograd_mini neuron "
                         "has one (build it with bias=True)")
    nin, nout = linear.in_features, linear.out_features
    if nin < 1 or nout < 1:
        raise ValueError(f"from_torch: {where} has {nin} inputs and {nout} outputs; "
                         "a layer needs at least one of each")
    if tuple(weight.shape) != (nout, nin) or tuple(bias.shape) != (nout,):
        raise ValueError(f"from_torch: {where} has a weight of shape {tuple(weight.shape)} "
                         f"and a bias of shape {tuple(bias.shape)}, expected "
                         f"{(nout, nin)} and {(nout,)}")
    for what, tensor in (("weight", weight), ("bias", bias)):
        if not tensor.dtype.is_floating_point:
            raise ValueError(f"from_torch: {where} has a {tensor.dtype} {what}; "
                             "expected floating point numbers")
        if tensor.is_meta:
            raise ValueError(f"from_torch: {where} has no {what} values (it is on the "
                             "meta device)")
    # Every float dtype converts to float64 exactly (float32 included).
    w = weight.detach().to(device="cpu", dtype=torch.float64)
    b = bias.detach().to(device="cpu", dtype=torch.float64)
    finite = torch.isfinite(w)
    if not bool(finite.all()):
        j, k = (int(i) for i in (~finite).nonzero()[0])
        raise ValueError(f"from_torch: {where} weight[{j}, {k}] is {float(w[j, k])!r}, "
                         "not a finite number")
    finite = torch.isfinite(b)
    if not bool(finite.all()):
        j = int((~finite).nonzero()[0, 0])
        raise ValueError(f"from_torch: {where} bias[{j}] is {float(b[j])!r}, "
                         "not a finite number")
    weights: list[list[float]] = w.tolist()
    biases: list[float] = b.tolist()
    return weights, biases


def from_torch(module: torch.nn.Module, build: type[MLP]) -> MLP:
    """An ``MLP`` (of class ``build``) with the weights and activations of ``module``.

    ``module`` is a ``torch.nn.Sequential`` as ``to_torch`` makes it: ``Linear``
    layers with bias, each followed by ``Sigmoid``, ``Tanh``, ``ReLU``,
    ``Identity`` or nothing; every hidden layer with the same activation.
    Weights of any float dtype (float32 too) are converted to float64 exactly.
    Anything else is a ValueError naming the layer.
    """
    try:
        import torch
    except ImportError:
        raise _missing() from None
    if not isinstance(module, torch.nn.Sequential):
        raise TypeError("from_torch expects a torch.nn.Sequential of Linear and activation "
                        f"modules, got {type(module).__name__}")
    activations = {m: a for a, m in _MODULES.items() if m}
    activations["Identity"] = "linear"
    # Per layer: the Linear's name, the Linear, the activation, the activation's name.
    layers: list[tuple[str, torch.nn.Linear, str, str | None]] = []
    for name, child in module.named_children():
        if type(child) is torch.nn.Linear:  # exactly: a subclass may compute something else
            layers.append((name, child, "linear", None))
            continue
        kind = type(child)
        act = activations.get(kind.__name__)
        if act is None or kind is not getattr(torch.nn, kind.__name__):
            raise _unsupported(name, child)
        if not layers:
            raise ValueError(f"from_torch: {_describe(name, child)} comes before any "
                             "Linear layer; an MLP starts with a Linear")
        before, linear, _, after = layers[-1]
        if after is not None:
            raise ValueError(f"from_torch: {_describe(name, child)} is a second activation "
                             f"after layer {before}'s Linear; an MLP has one per layer")
        layers[-1] = (before, linear, act, name)
    if not layers:
        raise ValueError("from_torch: the Sequential has no Linear layer")
    for (name, linear, _, _), (_, previous, _, _) in zip(layers[1:], layers):
        if linear.in_features != previous.out_features:
            raise ValueError(f"from_torch: {_describe(name, linear)} takes "
                             f"{linear.in_features} inputs but the layer before gives "
                             f"{previous.out_features}")
    hidden = [(act, after or name) for name, _, act, after in layers[:-1]]
    for act, where in hidden[1:]:
        if act != hidden[0][0]:
            first = hidden[0][1]
            raise ValueError(f"from_torch: layer {where} is {act!r} but layer {first} is "
                             f"{hidden[0][0]!r}; an MLP has one activation for every hidden "
                             "layer (and its own for the output layer)")
    state: dict[str, Any] = {}
    for i, (name, linear, _, _) in enumerate(layers):
        weight, bias = _weights(name, linear)
        for j, (w, b) in enumerate(zip(weight, bias)):
            state[f"layers.{i}.neurons.{j}.w"] = w
            state[f"layers.{i}.neurons.{j}.b"] = b
    nouts = [linear.out_features for _, linear, _, _ in layers]
    model = build(layers[0][1].in_features, nouts,
                  activation=hidden[0][0] if hidden else "tanh",
                  output_activation=layers[-1][2])
    model.load_state_dict(state)
    return model
