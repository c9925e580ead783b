"""Compile a graph into straight-line Python: the program that backpropagation is.

A training loop rebuilds the same graph every step. ``compile(output, inputs)``
records it once and writes it out as one Python function over plain floats:
one line per node forward, then the backward pass, node by node in the order
``grad()`` visits them, one ``+=`` per edge. Calling the result runs that code
at new input values, with no graph at all.

No derivative is written here. Each node's rule from :mod:`autograd_mini.ops`
is *called* with stand-in symbols whose arithmetic writes code (so ``MUL``'s
rule ``(b, a)`` yields the code ``b`` and ``a``); a rule that needs an actual
number (``float(x)``, a library function) is called at run time instead, on
floats, exactly as ``grad()`` calls it. Forwards likewise. Branches on a
comparison (``relu``, ``abs``) are followed both ways and become ``if``s, so
kinks are decided at run time. Labels become identifiers only after
sanitising; numbers are written with ``repr``; nothing a user typed is
evaluated.

Where a factor known only at run time is 0, ``grad()`` passes nothing on (so
0 · inf counts as 0). The program skips that test on every edge, which adds
0 and changes nothing, except where an infinite or nan gradient meets the
zero: a nan shows in the result, and an exact twin that tests every factor,
as ``grad()`` does, runs instead (compiled the first time it is needed).
Gradients start at 0.0 and are added to, so the one bit that can differ is
the sign of a zero: an input whose every contribution underflowed to -0.0
gets 0.0 here, -0.0 from ``grad()``.
"""

from __future__ import annotations

import builtins
import dis
import keyword
import math
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import ops
from .engine import Value, _backward_order, _gc_paused, _real, walk

# --- symbols: numbers that write code --------------------------------------------

# Precedence, as Python parses: a subexpression binding looser than its place
# needs is put in parentheses.
_ATOM, _POW, _UNARY, _MUL, _ADD, _CMP, _IF = 100, 15, 14, 13, 12, 9, 1
_MAX_DECISIONS = 12  # branches followed on one path through a rule
_MAX_PATHS = 32


class _Untraceable(Exception):
    """A rule or forward needs a real number: it runs at run time instead."""


class _Tracer:
    """Replays one path through a function: which way each comparison went."""

    __slots__ = ("prefix", "taken", "memo")

    def __init__(self, prefix: tuple[bool, ...]) -> None:
        self.prefix = prefix
        self.taken: list[tuple[str, bool]] = []
        self.memo: dict[str, bool] = {}

    def decide(self, cond: str) -> bool:
        if cond in self.memo:  # the same test again on this path: same answer
            return self.memo[cond]
        k = len(self.taken)
        if k >= _MAX_DECISIONS:
            raise _Untraceable("too many branches")
        choice = self.prefix[k] if k < len(self.prefix) else True
        self.taken.append((cond, choice))
        self.memo[cond] = choice
        return choice


def _untraceable(*_: object, **__: object) -> Any:
    raise _Untraceable


class _Sym:
    """A float at run time, its code now. ``is_float``: surely a float then."""

    __slots__ = ("code", "prec", "is_float", "tracer", "const")

    def __init__(self, code: str, prec: int, is_float: bool, tracer: _Tracer | None,
                 const: float | int | None = None) -> None:
        self.code, self.prec, self.is_float, self.tracer = code, prec, is_float, tracer
        self.const = const  # the number, when this is a literal

    # Anything that would need the number itself: isinstance (through __class__),
    # float(), hashing, formatting, methods such as .exp().
    @property  # type: ignore[misc]
    def __class__(self) -> type:
        raise _Untraceable

    __float__ = __int__ = __index__ = __round__ = __trunc__ = __floor__ = __ceil__ = _untraceable
    __repr__ = __str__ = __format__ = __iter__ = __len__ = __getitem__ = _untraceable
    __hash__ = None  # type: ignore[assignment]

    def __getattr__(self, name: str) -> Any:
        raise _Untraceable(name)

    def __bool__(self) -> bool:
        return self.tracer.decide(_wrap(self, _IF + 1))  # type: ignore[union-attr]

    def __add__(self, o: object) -> _Sym:
        return _binop(self, "+", o, _ADD)

    def __radd__(self, o: object) -> _Sym:
        return _binop(o, "+", self, _ADD)

    def __sub__(self, o: object) -> _Sym:
        return _binop(self, "-", o, _ADD)

    def __rsub__(self, o: object) -> _Sym:
        return _binop(o, "-", self, _ADD)

    def __mul__(self, o: object) -> _Sym:
        return _binop(self, "*", o, _MUL)

    def __rmul__(self, o: object) -> _Sym:
        return _binop(o, "*", self, _MUL)

    def __truediv__(self, o: object) -> _Sym:
        return _binop(self, "/", o, _MUL)

    def __rtruediv__(self, o: object) -> _Sym:
        return _binop(o, "/", self, _MUL)

    def __floordiv__(self, o: object) -> _Sym:
        return _binop(self, "//", o, _MUL)

    def __rfloordiv__(self, o: object) -> _Sym:
        return _binop(o, "//", self, _MUL)

    def __mod__(self, o: object) -> _Sym:
        return _binop(self, "%", o, _MUL)

    def __rmod__(self, o: object) -> _Sym:
        return _binop(o, "%", self, _MUL)

    def __pow__(self, o: object) -> _Sym:
        return _binop(self, "**", o, _POW)

    def __rpow__(self, o: object) -> _Sym:
        return _binop(o, "**", self, _POW)

    def __neg__(self) -> _Sym:
        return _Sym("-" + _wrap(self, _UNARY), _UNARY, self.is_float, self.tracer)

    def __pos__(self) -> _Sym:
        return _Sym("+" + _wrap(self, _UNARY), _UNARY, self.is_float, self.tracer)

    def __abs__(self) -> _Sym:
        return _Sym(f"abs({self.code})", _ATOM, self.is_float, self.tracer)

    def __lt__(self, o: object) -> _Sym:
        return _binop(self, "<", o, _CMP)

    def __le__(self, o: object) -> _Sym:
        return _binop(self, "<=", o, _CMP)

    def __gt__(self, o: object) -> _Sym:
        return _binop(self, ">", o, _CMP)

    def __ge__(self, o: object) -> _Sym:
        return _binop(self, ">=", o, _CMP)

    def __eq__(self, o: object) -> _Sym:  # type: ignore[override]
        return _binop(self, "==", o, _CMP)

    def __ne__(self, o: object) -> _Sym:  # type: ignore[override]
        return _binop(self, "!=", o, _CMP)


def _literal(x: object, tracer: _Tracer | None) -> _Sym:
    """A number the rule used, as code (``repr`` round-trips every float)."""
    if type(x) is _Sym:
        return x
    if type(x) is float or type(x) is int or type(x) is bool:
        text = "nan" if x != x else repr(x)  # 'inf', '-inf', '-0.0', '1e-300', ...
        prec = _UNARY if text[0] == "-" else _ATOM
        return _Sym(text, prec, type(x) is float, tracer, x)
    raise _Untraceable(type(x).__name__)


def _wrap(s: _Sym, need: int) -> str:
    return s.code if s.prec >= need else f"({s.code})"


def _binop(a: object, op: str, b: object, prec: int) -> _Sym:
    tracer = a.tracer if type(a) is _Sym else b.tracer  # type: ignore[attr-defined]
    if prec != _CMP and _inside_try(sys._getframe(2)):
        # On floats this may raise (1 / 0.0, an overflowing **) and the function
        # catches it: only the function itself, at run time, does the same.
        raise _Untraceable("inside try")
    sa, sb = _literal(a, tracer), _literal(b, tracer)
    if prec == _POW:  # right-associative, and -x ** y is -(x ** y)
        left, right = _wrap(sa, _ATOM), _wrap(sb, _UNARY)
    elif prec == _CMP:  # comparisons chain: never leave one bare inside another
        left, right = _wrap(sa, _CMP + 1), _wrap(sb, _CMP + 1)
    else:
        left, right = _wrap(sa, prec), _wrap(sb, prec + 1)
    # float op number is a float, except ** (a negative base can give a complex)
    is_float = prec in (_ADD, _MUL) and (sa.is_float or sb.is_float)
    return _Sym(f"{left} {op} {right}", prec, is_float, tracer)


_handlers: dict[object, bool] = {}


def _inside_try(frame: Any) -> bool:
    """Whether a frame between the operation and this module can catch an exception."""
    here = globals()
    while frame is not None and frame.f_globals is not here:
        code = frame.f_code
        has = _handlers.get(code)
        if has is None:
            if hasattr(code, "co_exceptiontable"):  # Python 3.11+
                has = bool(code.co_exceptiontable)
            else:
                has = any(i.opname.startswith(("SETUP_FINALLY", "SETUP_WITH", "SETUP_ASYNC"))
                          for i in dis.get_instructions(code))
            _handlers[code] = has
        if has:
            return True
        frame = frame.f_back
    return False


# A path's outcome: code for each value, or _CALL when it must run for real.
_CALL = "call"


def _explore(run: Callable[[_Tracer], Any], freeze: Callable[[Any, _Tracer], Any]) -> Any:
    """Every path through ``run`` (each comparison taken both ways), as a tree.

    A tree is ``("leaf", outcome)`` or ``("if", cond, tree_if_true, tree_if_false)``;
    an outcome is ``freeze(result)`` or ``_CALL`` where the path met something
    only a real number can answer.
    """
    paths: list[tuple[list[tuple[str, bool]], Any]] = []
    pending: list[tuple[bool, ...]] = [()]
    while pending:
        prefix = pending.pop()
        tracer = _Tracer(prefix)
        try:
            outcome = freeze(run(tracer), tracer)
        except Exception:  # _Untraceable, or the error the real numbers may raise
            outcome = _CALL
        taken = tracer.taken
        for k in range(len(prefix), len(taken)):
            pending.append((*(d for _, d in taken[:k]), not taken[k][1]))
        paths.append((taken, outcome))
        if len(paths) > _MAX_PATHS:
            return ("leaf", _CALL)
    return _tree(paths, 0)


def _tree(paths: list[Any], depth: int) -> Any:
    ends = [p for p in paths if len(p[0]) == depth]
    if ends:
        return ("leaf", ends[0][1])
    cond = paths[0][0][depth][0]
    yes = [p for p in paths if p[0][depth][1]]
    no = [p for p in paths if not p[0][depth][1]]
    return ("if", cond, _tree(yes, depth + 1), _tree(no, depth + 1))


def _leaves(tree: Any) -> list[Any]:
    if tree[0] == "leaf":
        return [tree[1]]
    return _leaves(tree[2]) + _leaves(tree[3])


def _freeze_one(result: Any, tracer: _Tracer) -> _Sym:
    return _literal(result, tracer)


def _freezer(n: int) -> Callable[[Any, _Tracer], tuple[Any, ...]]:
    def freeze(result: Any, tracer: _Tracer) -> tuple[Any, ...]:
        if type(result) is _Sym or not isinstance(result, (tuple, list)):
            raise _Untraceable("not a sequence")
        items = tuple(_literal(r, tracer) for r in result)
        # zip() in grad() stops at the shorter; an odd count runs for real
        if len(items) != n:
            raise _Untraceable("count")
        return items

    return freeze


def _expression(tree: Any, call: str) -> _Sym:
    """One expression for a forward's tree; paths that need numbers call ``call``."""
    if tree[0] == "leaf":
        out = tree[1]
        return _Sym(call, _ATOM, False, None) if out is _CALL else out
    _, cond, yes, no = tree
    a, b = _expression(yes, call), _expression(no, call)
    if a.code == b.code:  # both ways the same: the test is not needed
        return a
    code = f"{_wrap(a, _IF + 1)} if {cond} else {_wrap(b, _IF)}"
    return _Sym(code, _IF, a.is_float and b.is_float, None)


# --- the op conventions -----------------------------------------------------------
# How grad() calls an op in float mode is its class's ``floats(node)``. For the
# three built-in classes the call is written out directly (a stand-in node per
# call would be slow); any other Primitive subclass is handed a stand-in node.


def _convention(op: object) -> str:
    floats = getattr(type(op), "floats", None)
    if floats is ops.Unary.floats:
        return "unary"
    if floats is ops.Binary.floats:
        return "binary"
    if floats is ops.Nary.floats:
        return "nary"
    return "node"


class _Parent:
    __slots__ = ("data",)

    def __init__(self, data: float) -> None:
        self.data = data


class _Node:
    """Stands in for a node when an op's own ``floats(node)`` runs at run time."""

    __slots__ = ("data", "parents", "_arg", "_op", "label", "grad")

    def __init__(self, data: float, parents: Sequence[float], arg: object) -> None:
        self.data = data
        self.parents = tuple(map(_Parent, parents))
        self._arg = arg
        self.label = ""
        self.grad = 0.0


def _reads(op: Any, xs: list[str], c: object) -> str:
    """How a node reads in a comment: ``x * y``, ``x + 1.0``, ``tanh(x)``."""
    symbol = getattr(op, "symbol", "")
    if symbol and len(xs) == 1:
        shown = _literal(c, None).code if type(c) is float else ""
        return _comment(symbol.format(x=xs[0], c=shown))
    if op.name in _WORDS and len(xs) == 2:
        return f"{xs[0]} {op.name} {xs[1]}"
    return f"{_comment(op.name)}({', '.join(xs)})"


# Helper names for ops whose name is a symbol.
_WORDS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow"}

# --- names ----------------------------------------------------------------------------

_RESERVED = {*keyword.kwlist, *keyword.softkwlist, *dir(builtins), "inf", "nan",
             "compiled", "compiled_exact"}


def _identifier(text: str) -> str:
    """A label as a Python identifier: ASCII letters, digits and _, no leading _."""
    name = re.sub(r"[^0-9A-Za-z_]", "_", text)[:40].lstrip("_")
    if not name or name[0].isdigit():
        name = "v_" + name
    return name


class _Names:
    """Unique identifiers; everything the code itself adds starts with '_'."""

    def __init__(self) -> None:
        self.taken = set(_RESERVED)

    def new(self, base: str) -> str:
        name, k = base, 1
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name


def _comment(text: str) -> str:
    """Text safe inside a comment: one line, ASCII, escapes visible."""
    return ascii(text)[1:-1]


# --- the compiler ---------------------------------------------------------------------


class Compiled:
    """A graph compiled to Python: ``compiled(*numbers) -> (value, grads)``.

    >>> from autograd_mini import Value, compile
    >>> x, y = Value(2.0, label="x"), Value(3.0, label="y")
    >>> f = compile(x * y + x, [x, y])
    >>> f(2.0, 3.0)
    (8.0, [4.0, 2.0])
    >>> f(5.0, -1.0)
    (0.0, [0.0, 5.0])

    ``f.source`` is the code; ``f.backward()`` runs it at the inputs' current
    values and adds the gradients into their ``.grad``, as ``Value.backward``
    does, so an optimizer's ``step()`` works unchanged.
    """

    def __init__(self, program: Any, inputs: tuple[Value, ...]) -> None:
        self.source = program.source
        self.inputs = inputs
        self._program = program
        self._fn = program.load(program.source, "compiled")
        self._exact: Callable[..., tuple[float, list[float]]] | None = None
        self._names = program.names

    def __call__(self, *numbers: float) -> tuple[float, list[float]]:
        n = len(self.inputs)
        if len(numbers) != n:
            shown = ", ".join(self._names[:6]) + (", ..." if n > 6 else "")
            raise TypeError(f"compiled function takes {n} number{'s' * (n != 1)} "
                            f"({shown}), got {len(numbers)}")
        xs = [x if type(x) is float else _real(x, f"input {self._names[k]}")
              for k, x in enumerate(numbers)]
        return self._run(xs)

    def _run(self, xs: list[float]) -> tuple[float, list[float]]:
        try:
            value, grads = self._fn(*xs)
        except Exception as e:
            if self._program.twin is None or self._in_forward(e):
                raise  # a domain error, as building the graph raises it
            return self._exact_fn()(*xs)
        if self._program.twin is not None:
            total = builtins.sum(grads)
            if total != total:  # a nan: perhaps an inf met a zero factor
                return self._exact_fn()(*xs)
        return value, grads

    def _in_forward(self, e: Exception) -> bool:
        tb = e.__traceback__
        line = None
        while tb is not None:
            if tb.tb_frame.f_code is self._fn.__code__:
                line = tb.tb_lineno
            tb = tb.tb_next
        return line is not None and line < self._program.backward_line

    def _exact_fn(self) -> Callable[..., tuple[float, list[float]]]:
        """The twin that tests every factor for zero, as grad() does."""
        if self._exact is None:
            self._exact = self._program.load(self._program.exact_source(), "compiled_exact")
        return self._exact

    def backward(self) -> float:
        """Run at the inputs' current ``.data``; add the gradients into their ``.grad``.

        Returns the output's value. Like ``Value.backward()`` it accumulates.
        """
        value, grads = self._run([x.data for x in self.inputs])
        for x, g in zip(self.inputs, grads):
            x.grad += g
        return value

    def __repr__(self) -> str:
        return f"<compiled {self.source.count(chr(10))}-line function of {len(self.inputs)} inputs>"


def compile(output: Value, inputs: Sequence[Value]) -> Compiled:
    """Compile ``output``'s graph into a function of ``inputs``' values.

    ``inputs`` are leaves of the graph (each once); leaves not in ``inputs``
    are frozen at their current ``.data``. The result ``f(*numbers)`` returns
    ``(value, grads)``, the same floats that building the graph at those
    numbers and calling ``grad(output, inputs)`` gives, and raises the same
    domain errors. An input the output reaches only through a zero
    derivative gets 0.0; a Value the output does not reach at all is no
    input of its graph, and is refused.

    >>> from autograd_mini import Value, compile
    >>> x = Value(3.0, label="x")
    >>> f = compile((x * x).relu(), [x])
    >>> f(3.0), f(-2.0)
    ((9.0, [6.0]), (4.0, [-4.0]))
    """
    if type(output) is not Value:
        raise TypeError(f"compile: output must be a Value, got {type(output).__name__}")
    if type(inputs) is Value:  # type: ignore[comparison-overlap]  # a slip
        raise TypeError("compile: inputs must be a list of Values, e.g. compile(y, [x]), "
                        "got one Value")
    try:
        inputs = tuple(inputs)
    except TypeError:
        raise TypeError("compile: inputs must be a list of Values, "
                        f"got {type(inputs).__name__}") from None
    for k, x in enumerate(inputs):
        if type(x) is not Value:
            raise TypeError(f"compile: inputs[{k}] must be a Value, got {type(x).__name__}")
    seen: dict[Value, int] = {}
    for k, x in enumerate(inputs):
        if x in seen:
            raise ValueError(f"compile: inputs[{k}] is inputs[{seen[x]}] again{_called(x)}: "
                             "each input once")
        seen[x] = k
    for k, x in enumerate(inputs):
        if x.parents:
            raise ValueError(f"compile: inputs[{k}]{_called(x)} is not a leaf: it is "
                             f"computed ({x.op}) from other values; pass the leaves to vary")
    if not output.parents and output not in seen:
        raise ValueError("compile: the output is a leaf, there is no graph to compile "
                         "(was it computed under no_grad()?)")
    with _gc_paused():
        order = _backward_order(output)
        graph = set(walk(output))
        for k, x in enumerate(inputs):
            if x not in graph:
                raise ValueError(f"compile: inputs[{k}]{_called(x)} is not in the output's "
                                 "graph")
        program = _generate(output, order, inputs)
        return Compiled(program, inputs)


def _called(x: Value) -> str:
    return f" ({x.label!r})" if x.label else ""


def _generate(output: Value, order: list[Value], inputs: tuple[Value, ...]) -> _Program:
    """The source of ``compiled(*inputs)`` and of its exact twin, and their globals."""
    gen = _Generator(inputs)
    forward = order[::-1]
    leaves = dict.fromkeys(p for node in forward for p in node.parents if not p.parents)
    for x in inputs:
        gen.value_name(x)
    lines = [f"def compiled({', '.join(gen.names[x] for x in inputs)}):"]
    constants = [leaf for leaf in leaves if leaf not in gen.is_input]
    if constants:
        lines.append("    # leaves that are not inputs: constants")
        for leaf in constants:
            lines.append(f"    {gen.value_name(leaf)} = {_literal(leaf.data, None).code}")
    lines.append("    # forward: one line per node")
    for node in forward:
        lines.extend("    " + line for line in gen.forward(node))
    backward_line = len(lines) + 1  # line numbers count from 1
    twin: tuple[Any, ...] | None = None
    if not order:  # the output is one of the inputs: d output/d output = 1
        grads = ", ".join("1.0" if x is output else "0.0" for x in inputs)
        lines.append(f"    return {gen.names[output]}, [{grads}]")
    else:
        lines.append("    # backward: each node passes its gradient on to its inputs, "
                     "the output first")
        receivers = [*inputs, *order[1:]]
        for chunk in range(0, len(receivers), 100):
            names = " = ".join(gen.grad_name(v) for v in receivers[chunk:chunk + 100])
            lines.append(f"    {names} = 0.0")
        lines.append(f"    {gen.grad_name(output)} = 1.0")
        start = lines[:]
        recipes = []
        for node in order:
            recipe = gen.backward(node, node is output)
            recipes.append(recipe)
            lines.extend(_backward_lines(recipe, False))
        grads = ", ".join(gen.grad_name(x) for x in inputs)
        lines.append(f"    return {gen.names[output]}, [{grads}]")
        twin = (start, recipes, lines[-1])
    env = {"__builtins__": builtins, "inf": math.inf, "nan": math.nan, **gen.env}
    return _Program("\n".join(lines) + "\n", twin, env, [gen.names[x] for x in inputs],
                    backward_line)


class _Program:
    """Generated code: the fast function, its exact twin (compiled when first
    needed) and the globals both use."""

    def __init__(self, source: str, twin: tuple[Any, ...] | None, env: dict[str, Any],
                 names: list[str], backward_line: int) -> None:
        self.source, self.twin, self.env, self.names = source, twin, env, names
        self.backward_line = backward_line

    def exact_source(self) -> str:
        """The twin: the same code with each run-time factor tested for 0."""
        start, recipes, end = self.twin  # type: ignore[misc]
        lines = [start[0].replace("def compiled(", "def compiled_exact(", 1), *start[1:]]
        for recipe in recipes:
            lines.extend(_backward_lines(recipe, True))
        lines.append(end)
        return "\n".join(lines) + "\n"

    def load(self, source: str, name: str) -> Callable[..., Any]:
        code = builtins.compile(source, "<autograd_mini.compile>", "exec")
        namespace = dict(self.env)
        exec(code, namespace)  # our own generated text; no user text reaches it
        fn: Callable[..., Any] = namespace[name]
        return fn


class _Generator:
    def __init__(self, inputs: tuple[Value, ...]) -> None:
        self.taken = _Names()
        self.names: dict[Value, str] = {}
        self.grads: dict[Value, str] = {}
        self.is_input = set(inputs)
        self.env: dict[str, object] = {}
        self.helpers: dict[int, str] = {}
        self.unlabeled = 0

    # names
    def value_name(self, v: Value) -> str:
        name = self.names.get(v)
        if name is None:
            if v.label:
                base = _identifier(v.label)
            else:
                self.unlabeled += 1
                base = f"v{self.unlabeled}"
            name = self.names[v] = self.taken.new(base)
        return name

    def grad_name(self, v: Value) -> str:
        name = self.grads.get(v)
        if name is None:
            name = self.grads[v] = self.taken.new("g_" + self.names[v])
        return name

    def helper(self, obj: object, what: str) -> str:
        """A global of the generated code bound to ``obj`` (a function, a tuple)."""
        name = self.helpers.get(id(obj))
        if name is None:
            base = "_" + (re.sub(r"[^0-9A-Za-z_]", "", what) or "op")
            name, k = base, 1
            while name in self.env:
                k += 1
                name = f"{base}{k}"
            self.helpers[id(obj)] = name
            self.env[name] = obj
        return name

    def const(self, c: object, what: str) -> str:
        """A rule's constant argument as code: a number literal, None, or a global."""
        if c is None:
            return "None"
        if type(c) is float:
            return _literal(c, None).code
        return self.helper(c, what)

    # forward
    def forward(self, node: Value) -> list[str]:
        op = node._op
        out = self.value_name(node)
        xs = [self.names[p] for p in node.parents]
        what = _comment(op.name) or "op"
        word = _WORDS.get(op.name, op.name)
        kind = _convention(op)
        arg = node._arg
        if op is ops.SUM:
            return _sum_lines(out, xs, arg, what)
        elif op is ops.DOT:
            code = _dot_code(xs, arg)
        elif kind == "node" and not isinstance(op, ops.Custom) and callable(
                getattr(op, "at", None)):
            # An op of its own shape recomputes a node from its parents' numbers
            # itself (number operands, error messages and all): ask it, at run time.
            stand_in = _Node(node.data, (), arg)
            code = f"{self.helper(op.at, 'f_' + word)}({self.helper(stand_in, 'node')}, " \
                   f"[{', '.join(xs)}])"
        else:
            if kind == "unary":
                args: list[Any] = [*xs] if arg is None else [*xs, arg]
            elif kind == "binary":
                args = [*xs]
            elif kind == "nary":
                args = [xs, arg]
            else:
                args = [*xs]
            fn = op.forward
            if isinstance(op, ops.Custom):  # a user's: its number operands too, errors named
                args, fn = op.inputs(node, xs), op
            call = self._call(fn, word, args)

            def run(tracer: _Tracer) -> Any:
                return fn(*[_symbols(a, tracer) for a in args])

            code = _expression(_explore(run, _freeze_one), call).code
        return [f"{out} = {code}  # {what}"]

    def _call(self, fn: object, what: str, args: list[Any]) -> str:
        parts = []
        for a in args:
            if type(a) is str:
                parts.append(a)
            elif type(a) is list:
                parts.append("[" + ", ".join(a) + "]")
            else:
                parts.append(self.const(a, "c"))
        return f"{self.helper(fn, what)}({', '.join(parts)})"

    # backward
    def backward(self, node: Value, is_output: bool) -> tuple[Any, ...]:
        """How the node passes its gradient on: a recipe for ``_backward_lines``."""
        op = node._op
        g = self.grads[node]
        out = self.names[node]
        xs = [self.names[p] for p in node.parents]
        head = f"{out} = {_reads(op, xs, node._arg)}"
        accs = [self.grad_name(p) if (p.parents or p in self.is_input) else None
                for p in node.parents]
        if not any(accs):
            return (head, None, None, [], g, is_output)
        word = _WORDS.get(op.name, op.name)
        kind = _convention(op)
        arg = node._arg
        if kind == "unary":
            args: list[Any] = [xs[0], out, arg]
        elif kind == "binary":
            args = [xs[0], xs[1], out]
        elif kind == "nary":
            args = [xs, out, arg]
        else:
            args = []
        tree: Any = ("leaf", _CALL)
        if kind != "node":
            rule = op.d

            def run(tracer: _Tracer) -> Any:
                result = rule(*[_symbols(a, tracer) for a in args])
                return (result,) if kind == "unary" else result

            tree = _explore(run, _freezer(len(xs)))
        if _CALL not in _leaves(tree):
            return (head, None, tree, accs, g, is_output)
        # Ask the rule at run time, as grad() does, then pass on the same products.
        temps = [f"_d{k}" for k in range(len(xs))]
        if kind == "node":
            parents = "(" + ", ".join(xs) + ("," if len(xs) == 1 else "") + ")"
            call = (f"{self.helper(op.floats, 'd_' + word)}"
                    f"({self.helper(_Node, 'node')}({out}, {parents}, "
                    f"{self.const(arg, 'c')}))")
        else:
            call = self._call(op.d, "d_" + word, args)
        target = temps[0] if kind == "unary" else ", ".join(temps) + ("," if len(xs) == 1 else "")
        locals_ = tuple(_Sym(t, _ATOM, False, None) for t in temps)
        return (head, f"{target} = {call}", ("leaf", locals_), accs, g, is_output)


def _backward_lines(recipe: tuple[Any, ...], exact: bool) -> list[str]:
    """A node's backward pass as code; ``exact`` tests each run-time factor for 0."""
    head, call, tree, accs, g, is_output = recipe
    if tree is None:
        return [f"    # {head}: nothing to pass on (its inputs are constants)"]
    body = ([call] if call else []) + _branches(tree, accs, g, exact)
    lines = [f"    # {head}"]
    if is_output:
        lines.extend("    " + line for line in body)
    else:
        lines.append(f"    if {g}:")
        lines.extend("        " + line for line in (body or ["pass"]))
    return lines


def _branches(tree: Any, accs: list[Any], g: str, exact: bool) -> list[str]:
    if tree[0] == "leaf":
        out: list[str] = []
        for acc, local in zip(accs, tree[1]):
            if acc is not None:
                out.extend(_contribution(acc, g, local, exact))
        return out
    _, cond, yes, no = tree
    a = _branches(yes, accs, g, exact)
    b = _branches(no, accs, g, exact)
    if a == b:  # both ways the same: the test is not needed
        return a
    if not b:
        return [f"if {cond}:", *("    " + line for line in a)]
    if not a:
        return [f"if not ({cond}):", *("    " + line for line in b)]
    if no[0] == "if" and b[0].startswith("if ") and not b[0].startswith("if not "):
        return [f"if {cond}:", *("    " + line for line in a), "el" + b[0], *b[1:]]
    return [f"if {cond}:", *("    " + line for line in a),
            "else:", *("    " + line for line in b)]


def _contribution(acc: str, g: str, local: _Sym, exact: bool) -> list[str]:
    """``acc += g · local``.

    A local that is a number is decided now: zero passes nothing, as in
    grad(). One known only at run time is tested there in the ``exact``
    code; the fast code adds g · 0, which changes nothing unless g is
    infinite or nan (then a nan appears, and the exact code runs instead).
    """
    c = local.const
    if c is not None:
        if type(c) is float:
            if c == 0.0:
                return []
            if c == 1.0:
                return [f"{acc} += {g}"]
            if c == -1.0:  # g · −1 is −g exactly
                return [f"{acc} -= {g}"]
        return [f"{acc} += {g} * {_wrap(local, _MUL + 1)}"]
    if not exact:
        return [f"{acc} += {g} * {_wrap(local, _MUL + 1)}"]
    code = local.code
    if local.prec == _ATOM and code.isidentifier():
        test = code if local.is_float else f"{code} or type({code}) is not float"
        return [f"if {test}: {acc} += {g} * {code}"]
    test = "_d" if local.is_float else "_d or type(_d) is not float"
    return [f"_d = {code}", f"if {test}: {acc} += {g} * _d"]


def _symbols(a: object, tracer: _Tracer) -> object:
    """An argument as the rule sees it: names become symbols, constants stay."""
    if type(a) is str:
        return _Sym(a, _ATOM, True, tracer)
    if type(a) is list:
        return [_Sym(x, _ATOM, True, tracer) for x in a]
    return a


def _sum_lines(out: str, xs: list[str], c: float, what: str) -> list[str]:
    """ops.SUM's forward: the numbers' sum first, then each input, in turn.

    A long sum continues on further lines (one expression of thousands of
    terms nests too deep for Python's compiler).
    """
    terms = [_literal(c, None).code, *xs]
    lines = [f"{out} = {' + '.join(terms[:50])}  # {what}"]
    for k in range(50, len(terms), 50):
        lines.append(f"{out} = {out} + {' + '.join(terms[k:k + 50])}")
    return lines


def _dot_code(xs: list[str], c: tuple[Any, ...]) -> str:
    """ops.DOT's forward: Python's sum of the products, then the bias."""
    a, b, bias = c[1]
    table = [*xs, *(_literal(k, None).code for k in c[2:])]

    def term(i: int, j: int) -> str:
        left, right = table[i], table[j]
        right = f"({right})" if right.startswith("-") else right
        return f"{left} * {right}"

    products = ", ".join(term(i, j) for i, j in zip(a, b))
    if len(a) == 1:
        products += ","
    b_code = table[bias] if type(bias) is int else _literal(bias, None).code
    if b_code.startswith("-"):
        b_code = f"({b_code})"
    return f"sum(({products})) + {b_code}"
