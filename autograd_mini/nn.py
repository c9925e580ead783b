"""Neurons, layers and multilayer perceptrons built from ``Value``s.

A neuron is Nielsen's: ``a = σ(Σₖ wₖ·xₖ + b)``, where ``w[k]`` connects input
k. Its pre-activation is ONE ``dot`` node, so a drawn network shows one node
per neuron sum instead of a ladder of ``+`` and ``*``.

>>> from autograd_mini.nn import MLP
>>> net = MLP(2, [3, 1], activation="tanh", seed=0)
>>> out = net([0.5, -1.0])          # one output neuron: one Value
>>> out.backward()
>>> len(net.parameters())
13
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

from . import arguments, bridge
from .engine import Value, dot
from .files import write_atomic

if TYPE_CHECKING:
    import torch

__all__ = ["ACTIVATIONS", "MLP", "Layer", "Module", "Neuron"]

#: Each activation's name and the Value method that applies it ("linear" is None, the identity).
ACTIVATIONS = {"sigmoid": Value.sigmoid, "tanh": Value.tanh, "relu": Value.relu, "linear": None}

FILE_FORMAT = "autograd_mini.nn"  # written into every saved model, checked on load
FILE_VERSION = 1


def _activation(name: object) -> Any:
    if not isinstance(name, str) or name not in ACTIVATIONS:
        valid = ", ".join(repr(k) for k in ACTIVATIONS)
        raise ValueError(f"unknown activation {name!r}; valid ones are {valid}")
    return ACTIVATIONS[name]


def _count(n: object, what: str) -> int:
    return arguments.whole_number(n, what)


def _size(n: object) -> int | None:
    """A layer size read from a file's config, or None where the constructor will object."""
    try:
        return arguments.whole_number(n, "size")
    except ValueError:
        return None


def _neuron_keys(nin: int, prefix: str = "") -> Iterator[tuple[str, int | None]]:
    yield f"{prefix}w", nin
    yield f"{prefix}b", None


def _layer_keys(nin: int, nout: int, prefix: str = "") -> Iterator[tuple[str, int | None]]:
    for j in range(nout):
        yield from _neuron_keys(nin, f"{prefix}neurons.{j}.")


def _pretty(name: str) -> str:
    """An internal parameter name as a user reads it: ``w#3`` -> ``w[3]``."""
    key, _, index = name.partition("#")
    return f"{key}[{index}]" if index else key


def _rng(value: object, who: str) -> random.Random:
    """The generator for initial weights: a ``random.Random`` passed down, or a checked seed's."""
    if isinstance(value, random.Random):
        return value
    return random.Random(arguments.seed(value, who))


def _length(x: object, expected: int, who: str) -> None:
    """Check that ``x`` is a list of ``expected`` inputs, naming both counts if not."""
    try:
        got = len(x)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{who} expected a list of {expected} inputs, "
                        f"got a {type(x).__name__}") from None
    if got != expected:
        raise ValueError(f"{who} expected {expected} inputs, got {got}")


def _state_number(name: str, x: object) -> float:
    """One state dict entry as a finite float, or a ValueError naming the parameter."""
    f = arguments.real(x)
    if f is None:
        raise ValueError(f"state dict entry {_pretty(name)!r}: "
                         f"expected a number, got {type(x).__name__}")
    if not math.isfinite(f):
        problem = f"{x!r} is not a finite number" if isinstance(x, float) else \
            f"{type(x).__name__} too large for a float"
        raise ValueError(f"state dict entry {_pretty(name)!r}: {problem}")
    return f


_SHOWN = 5  # keys named in a state dict error at most


def _fit(layout: Iterable[tuple[str, int | None]], state: dict[str, Any], who: str) -> None:
    """Check that ``state`` has exactly the keys of ``layout``, lists of its lengths.

    ``layout`` is walked lazily and the walk stops a few keys after the state
    runs out, so the check costs no more than the state however large the
    layout is. Single numbers are checked later, one by one.
    """
    present, missing = [], []
    for key, n in layout:
        if key in state:
            present.append((key, n))
        else:
            missing.append(key)
            if len(missing) > _SHOWN:
                break
    parts = []
    if missing:
        more = ", ..." if len(missing) > _SHOWN else ""
        parts.append("missing " + ", ".join(map(repr, missing[:_SHOWN])) + more)
    if len(missing) <= _SHOWN:  # the walk was complete, so the rest are surplus
        known = {key for key, _ in present}
        extra = [k for k in state if k not in known]
        if extra:
            parts.append("unexpected " + ", ".join(map(repr, extra[:_SHOWN])))
    if parts:
        raise ValueError(f"state dict does not fit this {who}: " + "; ".join(parts))
    for key, n in present:
        got = state[key]
        if n is not None and (not isinstance(got, list) or len(got) != n):
            shape = f"a list of {len(got)}" if isinstance(got, list) else type(got).__name__
            raise ValueError(f"state dict entry {key!r}: expected a list of "
                             f"{n} numbers, got {shape}")


def _count_numbers(state: dict[str, Any]) -> int:
    """How many numbers a (not yet checked) state dict holds."""
    return sum(len(x) if isinstance(x, list) else 1 for x in state.values())


_SPARE_VALUES = 1000  # Values a constructor may make beyond its parameters
_budget = threading.local()  # .left: Values this thread may still make while loading
_budget_lock = threading.Lock()
_budget_users = 0  # loads going on; Value.__init__ counts while there are any
_plain_init = Value.__init__


def _counted_init(self: Value, data: float, label: str = "") -> None:
    left = getattr(_budget, "left", None)
    if left is not None:
        if left <= 0:
            _budget.exceeded = True
            raise ValueError(_budget.message)
        _budget.left = left - 1
    _plain_init(self, data, label)


@contextlib.contextmanager
def _values_at_most(limit: int, who: str) -> Iterator[None]:
    """Inside, this thread may make at most ``limit`` new ``Value`` leaves; one more is an error.

    The error is raised where the Value is made, and again on leaving, in case
    the constructor caught it. Counting means Value.__init__ is wrapped while
    any load is going on (other threads pass through uncounted); outside a
    load, making a Value costs what it always does.
    """
    global _budget_users
    with _budget_lock:
        if _budget_users == 0:
            Value.__init__ = _counted_init  # type: ignore[method-assign]
        _budget_users += 1
    outer = vars(_budget).copy()  # a load inside a constructor: the outer one's count resumes
    _budget.left, _budget.exceeded = limit, False
    _budget.message = message = (
        f"building the {who} from its config makes more than {limit:,} values, far more "
        "than the saved state holds (a config edited to a larger size?)")
    try:
        yield
    finally:
        exceeded = _budget.exceeded
        vars(_budget).clear()
        vars(_budget).update(outer)
        with _budget_lock:
            _budget_users -= 1
            if _budget_users == 0:
                Value.__init__ = _plain_init  # type: ignore[method-assign]
    if exceeded:
        raise ValueError(message)


class Module:
    """What every network part has: parameters, gradients to clear, saving.

    Subclasses define ``parameters()``, ``_named()`` (the parameters by name,
    for ``state_dict``) and ``_config()`` (the arguments that rebuild them).

    >>> net = MLP(2, [3, 1], seed=0)
    >>> len(net.parameters()), sorted(net.state_dict())[:2]
    (13, ['layers.0.neurons.0.b', 'layers.0.neurons.0.w'])
    """

    def parameters(self) -> list[Value]:
        """Every trainable ``Value`` of the module, in a fixed order."""
        return [p for _, p in self._named()]

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0 (gradients accumulate otherwise)."""
        for p in self.parameters():
            p.grad = 0.0

    def __call__(self, x: Sequence[Value | float]) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __call__")

    def _named(self) -> Iterator[tuple[str, Value]]:
        # A subclass written micrograd-style defines only parameters(): number them.
        if type(self).parameters is Module.parameters:
            raise NotImplementedError(f"{type(self).__name__} must define parameters()")
        for i, p in enumerate(self.parameters()):
            yield f"params#{i}", p

    def _config(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} must define _config() to be saved")

    # --- state: one float per parameter

    def state_dict(self) -> dict[str, float | list[float]]:
        """The parameters as JSON-ready numbers: each neuron's ``w`` list and ``b``.

        >>> Neuron(2, seed=0).state_dict().keys()
        dict_keys(['w', 'b'])
        """
        state: dict[str, Any] = {}
        for name, p in self._named():
            key, _, index = name.partition("#")
            if index:
                state.setdefault(key, []).append(p.data)
            else:
                state[key] = p.data
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Set the parameters from ``state``; checks it all first, so a bad one changes nothing.

        >>> a, b = Neuron(2, seed=0), Neuron(2, seed=1)
        >>> b.load_state_dict(a.state_dict())
        >>> b.w[0].data == a.w[0].data
        True
        """
        updates = self._check_state(state)
        for p, x in updates:
            p.data = x

    def _check_state(self, state: object) -> list[tuple[Value, float]]:
        if not isinstance(state, dict):
            raise ValueError(f"a state dict must be a dict, got {type(state).__name__}")
        mine = self.state_dict()
        _fit(((k, len(v) if isinstance(v, list) else None) for k, v in mine.items()),
             state, type(self).__name__)
        updates = []
        params = dict(self._named())
        for key, expected in mine.items():
            got = state[key]
            if isinstance(expected, list):
                pairs = [(f"{key}#{i}", x) for i, x in enumerate(got)]
            else:
                pairs = [(key, got)]
            updates += [(params[name], _state_number(name, x)) for name, x in pairs]
        return updates

    @classmethod
    def _layout(cls, config: dict[str, Any]) -> Iterator[tuple[str, int | None]] | None:
        """The state dict keys a model built from ``config`` would have, with list lengths.

        ``load`` compares them with the file's state BEFORE building the model,
        so a config edited to a huge size is an error instead of gigabytes of
        Values. None (the default, and for a config the constructor will
        reject anyway): no such check. A subclass whose config means something
        else overrides this.
        """
        return None

    # --- files

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model as JSON; an existing file is replaced atomically, keeping its mode.

        The file holds the architecture and every parameter with its exact
        float value, so ``type(model).load(path)`` rebuilds the same model. A
        read-only file is a PermissionError; ``/dev/null`` or a pipe is
        written into (see ``files.write_atomic``).
        """
        if os.path.isdir(path):  # said before any work, in the words of this method
            raise IsADirectoryError(f"cannot save the model: {os.fspath(path)} is a directory")
        document = {"format": FILE_FORMAT, "version": FILE_VERSION,
                    "class": type(self).__name__, "config": self._config(),
                    "state": self.state_dict()}
        try:
            text = json.dumps(document, allow_nan=False, indent=1)
        except ValueError:
            bad = next((n for n, p in self._named() if not math.isfinite(p.data)), "?")
            raise ValueError(f"cannot save: parameter {_pretty(bad)} is not finite "
                             "(the training diverged)") from None
        write_atomic(path, text + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Module:
        """Rebuild a model written by ``save``; a corrupt or mismatched file is a ValueError.

        >>> import os, tempfile
        >>> net = MLP(2, [2, 1], seed=0)
        >>> path = os.path.join(tempfile.mkdtemp(), "net.json")
        >>> net.save(path)
        >>> MLP.load(path).state_dict() == net.state_dict()
        True
        """
        path = os.fspath(path)
        with open(path, "rb") as f:
            raw = f.read()
        try:
            document = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise ValueError(f"{path}: not a saved model (not UTF-8 text)") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not a saved model (invalid JSON: {e})") from None
        except ValueError as e:  # Python's limit on an integer's digits, which JSON has not
            reason = str(e).partition(";")[0]  # without the advice to raise the limit
            raise ValueError(f"{path}: not a saved model ({reason})") from None
        except RecursionError:
            raise ValueError(f"{path}: not a saved model (JSON nested too deeply)") from None
        if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
            raise ValueError(f"{path}: not a saved model (no {FILE_FORMAT!r} format marker)")
        version = document.get("version")
        if type(version) is not int or version != FILE_VERSION:
            raise ValueError(f"{path}: saved model version {version!r}, "
                             f"this version reads {FILE_VERSION}")
        if document.get("class") != cls.__name__:
            raise ValueError(f"{path}: holds a {document.get('class')!r}, not a {cls.__name__}")
        config = document.get("config")
        if not isinstance(config, dict):
            raise ValueError(f"{path}: the model's config is missing")
        state = document.get("state")
        if not isinstance(state, dict):
            raise ValueError(f"{path}: a state dict must be a dict, got {type(state).__name__}")
        try:
            layout = cls._layout(config)
            if layout is not None:
                _fit(layout, state, cls.__name__)
            # A class without a _layout (a user's own) is built with at most as many
            # Values as the state could fill, and a few to spare: a config edited to
            # a huge size fails after a few, not gigabytes later.
            with _values_at_most(2 * _count_numbers(state) + _SPARE_VALUES, cls.__name__):
                model = cls(**config)
            model.load_state_dict(state)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{path}: {e}") from None
        return model


class Neuron(Module):
    """One neuron: ``activation(Σₖ w[k]·x[k] + b)``, weights uniform in [-1, 1], bias 0.

    >>> n = Neuron(2, activation="linear", seed=0)
    >>> n.w[0].data = 2.0; n.w[1].data = 3.0; n.b.data = 1.0
    >>> n([1.0, 1.0]).data
    6.0
    """

    def __init__(self, nin: int, activation: str = "tanh",
                 seed: int | random.Random | None = None) -> None:
        nin = _count(nin, "Neuron: nin")
        self.activation = activation
        self._act = _activation(activation)
        rng = _rng(seed, "Neuron")
        self.w = [Value(rng.uniform(-1.0, 1.0), label=f"w{k + 1}") for k in range(nin)]
        self.b = Value(0.0, label="b")

    def __call__(self, x: Sequence[Value | float]) -> Value:
        try:  # the common case checked inline: a neuron is called very often
            fits = len(x) == len(self.w)
        except TypeError:
            fits = False
        if not fits:
            _length(x, len(self.w), "Neuron")
        z = dot(self.w, x, self.b)
        return self._act(z) if self._act else z

    def _named(self) -> Iterator[tuple[str, Value]]:
        for k, w in enumerate(self.w):
            yield f"w#{k}", w
        yield "b", self.b

    def _config(self) -> dict[str, Any]:
        return {"nin": len(self.w), "activation": self.activation}

    @classmethod
    def _layout(cls, config: dict[str, Any]) -> Iterator[tuple[str, int | None]] | None:
        nin = _size(config.get("nin"))
        return None if nin is None else _neuron_keys(nin)

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """``nout`` neurons reading the same inputs; calling it returns a list of Values.

    >>> Layer(3, 2, activation="relu", seed=0)([1.0, 2.0, 3.0])[1].op in ("relu", "")
    True
    """

    def __init__(self, nin: int, nout: int, activation: str = "tanh",
                 seed: int | random.Random | None = None) -> None:
        nin = _count(nin, "Layer: nin")
        nout = _count(nout, "Layer: nout")
        _activation(activation)
        rng = _rng(seed, "Layer")
        self.neurons = [Neuron(nin, activation, rng) for _ in range(nout)]
        self.activation = activation

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        _length(x, len(self.neurons[0].w), "Layer")
        return [n(x) for n in self.neurons]

    def _named(self) -> Iterator[tuple[str, Value]]:
        for j, n in enumerate(self.neurons):
            for name, p in n._named():
                yield f"neurons.{j}.{name}", p

    def _config(self) -> dict[str, Any]:
        return {"nin": len(self.neurons[0].w), "nout": len(self.neurons),
                "activation": self.activation}

    @classmethod
    def _layout(cls, config: dict[str, Any]) -> Iterator[tuple[str, int | None]] | None:
        nin, nout = _size(config.get("nin")), _size(config.get("nout"))
        return None if nin is None or nout is None else _layer_keys(nin, nout)

    def __repr__(self) -> str:
        nin, nout = len(self.neurons[0].w), len(self.neurons)
        return f"Layer({nin}, {nout}, activation={self.activation!r})"


class MLP(Module):
    """A multilayer perceptron: hidden layers use ``activation``, the last ``output_activation``.

    Returns a list of Values, or one Value when the last layer has one neuron.
    ``seed`` makes the initial weights reproducible.

    >>> net = MLP(2, [4, 1], activation="sigmoid", output_activation="sigmoid", seed=1)
    >>> 0.0 < net([0.0, 1.0]).data < 1.0
    True
    """

    def __init__(self, nin: int, nouts: Sequence[int], activation: str = "tanh",
                 output_activation: str = "linear", seed: int | None = None) -> None:
        nin = _count(nin, "MLP: nin")
        bad_nouts = f"MLP: nouts must be a non-empty list of layer sizes, got {nouts!r}"
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Iterable):
            raise ValueError(bad_nouts)
        nouts = [_count(n, "MLP: every layer size") for n in nouts]
        if not nouts:
            raise ValueError(bad_nouts)
        _activation(activation)
        _activation(output_activation)
        if not isinstance(seed, random.Random):
            seed = arguments.seed(seed, "MLP")  # stored as a plain int, or None
        rng = _rng(seed, "MLP")
        sizes = [nin, *nouts]
        self.layers = [
            Layer(sizes[i], sizes[i + 1],
                  activation if i < len(nouts) - 1 else output_activation, rng)
            for i in range(len(nouts))
        ]
        self.activation = activation
        self.output_activation = output_activation
        self.seed = seed
        for li, layer in enumerate(self.layers, 1):  # names that read well on a graph
            for ni, neuron in enumerate(layer.neurons, 1):
                for k, w in enumerate(neuron.w, 1):
                    w.label = f"L{li}N{ni}.w{k}"
                neuron.b.label = f"L{li}N{ni}.b"

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        _length(x, len(self.layers[0].neurons[0].w), "MLP")
        for layer in self.layers:
            # Each neuron's __call__ inlined, its length check done once
            # above: the forward pass is most of a training step.
            neurons = layer.neurons
            act = neurons[0]._act
            if act is None:
                x = [dot(n.w, x, n.b) for n in neurons]
            else:
                x = [act(dot(n.w, x, n.b)) for n in neurons]
        return x[0] if len(x) == 1 else x  # type: ignore[return-value]  # Values by now

    def _named(self) -> Iterator[tuple[str, Value]]:
        for i, layer in enumerate(self.layers):
            for name, p in layer._named():
                yield f"layers.{i}.{name}", p

    def _config(self) -> dict[str, Any]:
        return {"nin": len(self.layers[0].neurons[0].w),
                "nouts": [len(layer.neurons) for layer in self.layers],
                "activation": self.activation, "output_activation": self.output_activation}

    @classmethod
    def _layout(cls, config: dict[str, Any]) -> Iterator[tuple[str, int | None]] | None:
        nouts = config.get("nouts")
        sizes = [_size(n) for n in [config.get("nin"), *(nouts if isinstance(nouts, list) else [])]]
        if len(sizes) < 2 or None in sizes:
            return None
        whole = cast("list[int]", sizes)  # no None: checked above
        return (key for i in range(len(whole) - 1)
                for key in _layer_keys(whole[i], whole[i + 1], f"layers.{i}."))

    def to_torch(self) -> torch.nn.Sequential:
        """The same network in PyTorch: float64 ``Linear`` + activation modules, same weights.

        Needs ``torch`` (``pip install 'autograd_mini[torch]'``); the mapping is
        described in ``autograd_mini/bridge.py``.
        """
        return bridge.to_torch(self)

    @classmethod
    def from_torch(cls, module: torch.nn.Module) -> MLP:
        """An MLP with the weights of a ``torch.nn.Sequential`` like ``to_torch`` makes.

        A layer it cannot represent (a conv layer, a Linear without bias, another
        activation, sizes that do not chain) is a ValueError naming the layer.
        """
        return bridge.from_torch(module, cls)

    def __repr__(self) -> str:
        sizes = [len(self.layers[0].neurons[0].w), *(len(la.neurons) for la in self.layers)]
        return (f"MLP({'-'.join(map(str, sizes))}, activation={self.activation!r}, "
                f"output_activation={self.output_activation!r})")
