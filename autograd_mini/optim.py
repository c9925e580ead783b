"""Optimizers: turn gradients into parameter updates.

An optimizer updates exactly the parameters it was given, so leaving some out
freezes them (the worked example trains its weights and keeps its biases).

>>> from autograd_mini import Value
>>> from autograd_mini.optim import SGD
>>> w = Value(1.0)
>>> opt = SGD([w], lr=0.1)
>>> (w * w).backward()          # d(w²)/dw = 2
>>> opt.step()
>>> w.data
0.8
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from . import arguments
from .engine import Value

__all__ = ["SGD", "Adam", "Optimizer"]


def _rate(x: object, what: str, low: float, high: float = math.inf,
          include_low: bool = False) -> float:
    # Any real number will do (a numpy float32, a Fraction), but not True.
    f = arguments.real(x)
    if f is None:
        raise TypeError(f"{what} must be a number, got {type(x).__name__}")
    ok = (low <= f if include_low else low < f) and f < high
    if not (ok and math.isfinite(f)):
        bound = f"{'[' if include_low else '('}{low:g}, {high:g})"
        raise ValueError(f"{what} must be in {bound}, got {x!r}")
    return f


class Optimizer:
    """The parameters to update, ``zero_grad()`` and an abstract ``step()``.

    A new optimizer defines ``step()``:

    >>> from autograd_mini import Value
    >>> class SignDescent(Optimizer):
    ...     def step(self):
    ...         for p in self.params:
    ...             p.data -= 0.1 * (p.grad > 0) - 0.1 * (p.grad < 0)
    >>> w = Value(1.0)
    >>> w.grad = 3.0
    >>> SignDescent([w]).step()
    >>> w.data
    0.9
    """

    def __init__(self, params: Iterable[Value]) -> None:
        name = type(self).__name__
        if isinstance(params, Value) or hasattr(params, "parameters"):
            hint = "model.parameters()" if hasattr(params, "parameters") else "[value]"
            raise TypeError(f"{name}: params must be a list of Values (pass {hint}), "
                            f"got {type(params).__name__}")
        self.params = list(params)
        for p in self.params:
            if not isinstance(p, Value):
                raise TypeError(f"{name}: parameters must be Values, got {type(p).__name__}")
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError(f"{name}: a parameter is listed twice")

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0 before the next backward pass."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter from its gradient; each optimizer defines how."""
        raise NotImplementedError


class SGD(Optimizer):
    """Gradient descent, with optional momentum: v ← μ·v + g;  p ← p − lr·v.

    With ``momentum=0`` this is the documents' update w ← w − η·∂C/∂w.

    >>> from autograd_mini import Value
    >>> w = Value(1.0)
    >>> w.grad = 0.5
    >>> SGD([w], lr=0.1).step()
    >>> w.data
    0.95
    """

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0) -> None:
        super().__init__(params)
        self.lr = _rate(lr, "SGD: lr", 0.0)
        self.momentum = _rate(momentum, "SGD: momentum", 0.0, 1.0, include_low=True)
        self.velocity = [0.0] * len(self.params)

    def step(self) -> None:
        """Move every parameter against its gradient."""
        lr, mu = self.lr, self.momentum
        if not mu:
            for p in self.params:
                p.data -= lr * p.grad
            return
        v = self.velocity
        for i, p in enumerate(self.params):
            v[i] = mu * v[i] + p.grad
            p.data -= lr * v[i]


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015): per-parameter steps from running gradient moments.

    >>> w = Value(1.0)
    >>> opt = Adam([w], lr=0.1)
    >>> (w * w).backward(); opt.step()
    >>> round(w.data, 6)              # the first step is lr in the gradient's sign
    0.9
    """

    def __init__(self, params: Iterable[Value], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        super().__init__(params)
        self.lr = _rate(lr, "Adam: lr", 0.0)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (_rate(betas[0], "Adam: betas[0]", 0.0, 1.0, include_low=True),
                      _rate(betas[1], "Adam: betas[1]", 0.0, 1.0, include_low=True))
        self.eps = _rate(eps, "Adam: eps", 0.0)
        self.t = 0
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def step(self) -> None:
        """One Adam update with bias-corrected first and second moments."""
        b1, b2 = self.betas
        self.t += 1
        c1 = 1.0 - b1 ** self.t
        c2 = 1.0 - b2 ** self.t
        m, v, lr, eps = self.m, self.v, self.lr, self.eps
        for i, p in enumerate(self.params):
            g = p.grad
            m[i] = b1 * m[i] + (1.0 - b1) * g
            v[i] = b2 * v[i] + (1.0 - b2) * g * g
            p.data -= lr * (m[i] / c1) / (math.sqrt(v[i] / c2) + eps)
