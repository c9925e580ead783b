"""The ``autograd-mini`` command (also ``python -m autograd_mini``).

    autograd-mini grad "x*y + exp(x)" x=2 y=-3 [--steps] [--exact] [--svg FILE] [--html FILE]
    autograd-mini demo [--svg FILE] [--html FILE] [--epochs N]
    autograd-mini train {xor,moons,spirals} [--epochs N] [--lr X] [--seed S]
                        [--hidden 16,16] [--save FILE]

Bad input of any kind is one line on stderr, ``autograd-mini: error: ...``,
and exit status 2; a file is written completely or not at all, and where it
cannot be written is found before any work. Writing onto a symbolic link
replaces the file it points to; the link stays. A device or a pipe
(``/dev/null``, ``/dev/stdout``) is written into. An answer that is inf or nan
is printed, with ``autograd-mini: note: ...`` saying why, and exit status 0.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import os
import re
import shlex
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, TextIO

from . import __version__
from .compile import Compiled, compile
from .engine import Value, no_grad, walk
from .engine import sum as vsum
from .expr import FUNCTIONS, ExprError, check_name, parse
from .files import check_target, write_atomic
from .trace import backward_steps, fmt, formula, node_names

PROG = "autograd-mini"
TASK_NAMES = ("xor", "moons", "spirals")  # the data sets `train` knows, see _tasks()
DEMO_SVG = "worked-example.svg"  # where `demo` draws its graph unless --svg says otherwise
MAX_WIDTH = 1000  # neurons per hidden layer: wider is hours per epoch on a scalar engine
# The whole network, checked before it is built: at the limits an epoch of spirals takes
# about a minute and a few hundred MB; forty layers of 1000 would exhaust any memory.
MAX_PARAMETERS = 100_000  # weights and biases
MAX_NEURONS = 2_000  # in all hidden layers: each is a few nodes per data point per epoch


class CliError(Exception):
    """Bad input: its message is printed as one line, and the exit status is 2."""


class _ArgumentParser(argparse.ArgumentParser):
    # argparse prints the usage and an error over several lines; one line,
    # like every other error of this command, with a pointer to --help.
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message, self.prog)


class _UsageError(CliError):
    def __init__(self, message: str, prog: str) -> None:
        super().__init__(f"{message} (see '{prog} --help')")
        self.message = message


# --- grad

# A VALUE: a number as EXPR writes it, with a sign, or inf or nan (as Python spells them).
# Each character has one place in the pattern (never "[0-9]+\.?[0-9]*", where a run of
# digits splits between two groups in n ways), so a failed match is linear, not quadratic.
_NUMBER = re.compile(r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
                     r"|(?i:inf|infinity|nan))")


def _variables(assignments: Sequence[str]) -> dict[str, Value]:
    """``["x=2", "y=-3"]`` -> leaves labelled x and y."""
    variables: dict[str, Value] = {}
    for item in assignments:
        name, equals, text = item.partition("=")
        if not equals:
            raise CliError(f"expected NAME=VALUE, got {item!r} (missing '=')")
        try:
            check_name(name)
        except ValueError as e:
            raise CliError(f"{item!r}: {e}") from None
        if name in variables:
            raise CliError(f"variable {name!r} is given twice")
        # Written as in the expression (no "1_000", spaces or other scripts' digits), or
        # inf and nan: IEEE numbers, judged by the result.
        if not _NUMBER.fullmatch(text):
            raise CliError(f"{item!r}: {text!r} is not a number (write it like 2, -0.5, "
                           "1e-3 or inf)")
        variables[name] = Value(float(text), label=name)
    return variables


def _grad(args: argparse.Namespace) -> None:
    if args.svg is not None:
        _check_output(args.svg)
    if args.html is not None:
        _check_output(args.html)
    variables = _variables(args.assignments)
    try:
        # An overflow is IEEE arithmetic, not an error: inf is the true answer, and said so.
        root = parse(args.expr, variables)
    except ExprError as e:
        raise CliError(str(e)) from None
    if root not in variables.values():
        root.label = _unused_name("f", variables)
    if args.svg is not None or args.html is not None:
        _check_drawable(root, "--svg" if args.html is None else "--html")

    number = repr if args.exact else fmt  # every digit that round-trips, or 9 significant
    steps = [step.explain(number) for step in backward_steps(root)] if args.steps else []
    if not args.steps:
        root.backward()

    name = root.label
    note = _not_finite_note(root, variables, args.expr)
    to_stdout = any(path is not None and _is_stdout(path) for path in (args.svg, args.html))
    if args.svg is not None:
        _write_svg(root, args.svg)  # before printing: a failure prints nothing but the error
    if args.html is not None:
        _write_html(root, args.html)

    # With the drawing on standard output (--svg /dev/stdout), the numbers go
    # to stderr, so that what stdout receives is one valid SVG file.
    out = sys.stderr if to_stdout else sys.stdout
    print(f"{name} = {number(root.data)}", file=out)
    if steps:  # the names the steps use, first: v1 = x * y = -6
        names = node_names(root)
        for v, what in names.items():
            if v.parents:
                print(f"  {what} = {formula(v, names)} = {number(v.data)}", file=out)
    for line in steps:
        print(f"  {line}", file=out)
    for var, leaf in variables.items():
        print(f"d{name}/d{var} = {number(leaf.grad)}", file=out)
    if args.svg is not None and not to_stdout:
        print(f"graph written to {args.svg}")
    if args.html is not None and not to_stdout:
        print(f"step-by-step player written to {args.html} (open it in a browser)")
    if note:
        sys.stdout.flush()  # the note comes after the numbers it is about
        print(f"{PROG}: note: {note}", file=sys.stderr)


def _not_finite_note(root: Value, variables: dict[str, Value], expr: str) -> str | None:
    """Which printed numbers are inf or nan, and where each first became so; None if none.

    An infinite or undefined number is a true answer (sqrt'(0), an overflow,
    d/dy of a negative base ** y): printed, and explained on one line.
    """
    name = root.label
    bad = [f"{name} = {root.data!r}"] if not math.isfinite(root.data) else []
    bad += [f"d{name}/d{var} = {leaf.grad!r}" for var, leaf in variables.items()
            if not math.isfinite(leaf.grad)]
    if not bad:
        return None
    names = node_names(root)
    causes = []
    # The value: the first node (inputs first) that is not finite.
    first = next((v for v in names if not math.isfinite(v.data)), None)
    if first is not None:
        causes.append(_why_value(first, names, variables, expr))
    # The gradients: replayed edge by edge (the same sums again), each edge where
    # a finite gradient meets a derivative or a product that is not finite.
    root.zero_grad()
    for step in backward_steps(root):
        if math.isfinite(step.upstream) and not math.isfinite(step.contribution) \
                and _finite_inputs(step.node):  # else the value's cause is the cause
            n, p = names[step.node], names[step.parent]
            if not math.isfinite(step.local):
                cause = (f"∂{n}/∂{p} of {n} = {formula(step.node, names)} at "
                         f"{_inputs(step.node, names)} is {step.local!r}")
            else:
                cause = (f"∂{names[root]}/∂{n} · ∂{n}/∂{p} = {fmt(step.upstream)} × "
                         f"{fmt(step.local)} overflows")
            if cause not in causes:
                causes.append(cause)
    verb = "is" if len(bad) == 1 else "are"
    return f"{' and '.join(bad)} {verb} not finite: {'; '.join(causes)}"


def _why_value(v: Value, names: dict[Value, str], variables: dict[str, Value], expr: str
               ) -> str:
    """Why the first non-finite value in the graph is so: given, an overflow, or nan."""
    name = names[v]
    if v in variables.values():
        return f"{name} = {v.data!r} was given"
    if not v.parents or not _finite_inputs(v):
        # Constants that overflowed were folded into one number as EXPR was read:
        # the parser names the operation and its column when asked to.
        try:
            parse(expr, {var: leaf.data for var, leaf in variables.items()}, finite=True)
        except ExprError as e:
            return str(e)
    what = "overflows" if math.isinf(v.data) else f"is {v.data!r}"
    return f"{name} = {formula(v, names)} {what} at {_inputs(v, names)}"


def _finite_inputs(v: Value) -> bool:
    """Whether every input of ``v``, constants too, is a finite number."""
    return all(math.isfinite(q.data) for q in v.parents) and \
        not (isinstance(v._arg, float) and not math.isfinite(v._arg))


def _inputs(v: Value, names: dict[Value, str]) -> str:
    """``v``'s inputs with their values: "x = -2, y = 2"."""
    return ", ".join(f"{names[q]} = {fmt(q.data)}" for q in dict.fromkeys(v.parents))


def _is_stdout(path: str) -> bool:
    """Whether ``path`` is the file standard output writes to (``/dev/stdout``, say)."""
    try:
        mine, theirs = os.stat(path), os.fstat(sys.stdout.fileno())
        null = os.stat(os.devnull)
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is an OSError
        return False
    same = (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino)
    # `--svg /dev/null > /dev/null` is two ways of saying "nothing", not a drawing on stdout.
    return same and (mine.st_dev, mine.st_ino) != (null.st_dev, null.st_ino)


def _unused_name(name: str, taken: dict[str, Value]) -> str:
    while name in taken:
        name = "_" + name
    return name


def _write_svg(root: Value, path: str, **kw: Any) -> None:
    """Draw ``root`` into ``path`` (checked by ``_check_output``); errors name ``path``."""
    from .viz import GraphvizNotFound, render_svg  # imported late: graphviz costs start-up time

    try:
        svg = render_svg(root, **kw)
    except GraphvizNotFound as e:
        raise CliError(str(e)) from None
    _write_out(path, svg)


def _write_html(root: Value, path: str) -> None:
    """Write the step-by-step player of ``root`` into ``path``, as ``_write_svg`` does."""
    from .viz import GraphvizNotFound, player

    try:
        page = player(root).html
    except GraphvizNotFound as e:
        raise CliError(str(e)) from None
    _write_out(path, page)


def _write_out(path: str, text: str) -> None:
    if _is_stdout(path):  # after what was printed before, not over it
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        _write_text(path, text)


def _write_text(path: str, text: str) -> None:
    """``files.write_atomic`` with its errors as CliErrors naming ``path``."""
    try:
        write_atomic(path, text)  # through a symbolic link; into a device or a pipe
    except IsADirectoryError:
        raise CliError(f"{path!r} is a directory, not a file name") from None
    except OSError as e:
        raise CliError(f"cannot write {path!r}: {_reason(e)}") from None


def _check_drawable(root: Value, option: str = "--svg") -> None:
    from .viz import MAX_NODES, _check_size

    try:
        _check_size(root, MAX_NODES)
    except ValueError:
        raise CliError(f"the graph has more than {MAX_NODES} values (or too many edges), too "
                       f"many to draw readably; leave out {option}") from None


def _reason(e: OSError) -> str:
    """What went wrong ("Permission denied"), without the file name."""
    return e.strerror or (os.strerror(e.errno) if e.errno else str(e))


def _check_output(path: str) -> None:
    """Check that ``path`` can be written, before a long computation rather than after.

    A symbolic link is followed, as the writing will (``files.write_atomic``):
    the file it points to is checked, and later replaced.
    """
    if not path:
        raise CliError("the file name is empty")
    if path.endswith(tuple(filter(None, (os.sep, os.altsep)))):
        raise CliError(f"{path!r} ends in {path[-1]!r}: expected a file name, not a folder")
    try:
        st = check_target(path)  # a read-only file, a block device: refused as writing would
    except IsADirectoryError:
        raise CliError(f"{path!r} is a directory, not a file name") from None
    except OSError as e:
        raise CliError(f"cannot write {path!r}: {_reason(e)}") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        return  # a device or a pipe (/dev/null, /dev/stdout): written into, not replaced
    try:
        real = os.path.realpath(path, strict=True)
    except (FileNotFoundError, NotADirectoryError):
        real = os.path.realpath(path)  # a new file, or a folder on the way is missing
    except OSError as e:  # a loop of links
        raise CliError(f"cannot write {path!r}: {_reason(e)}") from None
    if os.path.isdir(real) or os.path.basename(path) in (".", ".."):
        raise CliError(f"{path!r} is a directory, not a file name")
    folder = os.path.dirname(real)
    if not os.path.isdir(folder):
        # The nearest folder on the way that exists says what is wrong.
        above = folder
        while not os.path.lexists(above):
            above = os.path.dirname(above)
        if os.path.isdir(above):
            raise CliError(f"cannot write {path!r}: no such directory {folder!r}")
        raise CliError(f"cannot write {path!r}: {above!r} is not a directory")
    # Permissions alone do not tell (the superuser, read-only mounts, /proc):
    # create and remove a file where the real one will be written.
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".probe-")
    except OSError as e:
        raise CliError(f"cannot write {path!r}: {_reason(e)}") from None
    os.close(fd)
    os.unlink(probe)


# --- demo


def _demo(args: argparse.Namespace) -> None:
    from . import example
    from .viz import GraphvizNotFound, render_svg

    svg = DEMO_SVG if args.svg is None else args.svg
    # Drawn first, from its own forward and backward pass (the step shown changes the
    # weights under the traced graph): a missing Graphviz is known before anything is
    # printed. Asked for by name, the drawing is required; by default it is a bonus.
    drawn = example.loss(example.network())
    drawn.backward()
    try:
        drawing: str | None = render_svg(drawn, rankdir="TB")  # reads down the page
    except GraphvizNotFound as e:
        if args.svg is not None:
            raise CliError(str(e)) from None
        drawing, missing = None, e
    to_stdout = drawing is not None and _is_stdout(svg)
    if drawing is not None and not to_stdout:
        _check_output(svg)
    if args.html is not None:
        if drawing is None:
            raise CliError(str(missing))
        _check_output(args.html)
    # With the drawing on standard output, the text goes to stderr (as for grad).
    with contextlib.redirect_stdout(sys.stderr) if to_stdout else contextlib.nullcontext():
        _demo_text(args)
    if drawing is None:
        sys.stdout.flush()
        print(f"{PROG}: note: the graph was not drawn: {missing}", file=sys.stderr)
    elif to_stdout:
        sys.stdout.write(drawing)
    else:
        _write_text(svg, drawing)
        print(f"\ngraph with values and gradients written to {svg}")
    if args.html is not None:
        _write_html(example.loss(example.network()), args.html)
        if not _is_stdout(args.html):
            print(f"step-by-step player written to {args.html} (open it in a browser)")


def _demo_text(args: argparse.Namespace) -> None:
    """The worked example in words and numbers."""
    from . import example  # imported late: only `demo` needs it

    lr = example.LEARNING_RATE
    net = example.network()
    total = example.loss(net)
    names = node_names(total)
    print("The worked example of 《一文弄懂神经网络中的反向传播法——BackPropagation》, after Matt "
          "Mazur's\n\"A Step by Step Backpropagation Example\" "
          "(see the README, \"The documents\"):\na 2-2-2 sigmoid network, inputs i1, i2 = "
          f"{', '.join(map(fmt, example.INPUTS))}, targets {', '.join(map(fmt, example.TARGETS))},"
          f"\nerror E = ½·Σ (target − out)², learning rate {fmt(lr)}; the weights w1 … w8 learn, "
          "the biases b1, b2 stay.")

    print("\nForward pass:")
    width = max(len(name) for name in names.values())
    for v, name in names.items():
        if v.parents:  # 9 decimals, as the documents print them (1.105905967, not 1.10590597)
            print(f"  {name:<{width}} = {fmt(v.data, 10):<12} {formula(v, names)}")

    print("\nBackward pass, one chain-rule step per edge (∂E/∂x gathers every path to x):")
    for step in backward_steps(total):
        print(f"  {step.explain()}")

    ws = example.weights(net)
    before = [(w.data, w.grad) for w in ws]
    example.step(net, lr)
    print(f"\nOne step of gradient descent, w ← w − {fmt(lr)} · ∂E/∂w:")
    for w, (old, g) in zip(ws, before):
        print(f"  {w.label} = {fmt(old)} − {fmt(lr)} × {fmt(g)} = {fmt(w.data)}")
    print(f"E after 1 step = {fmt(example.loss(net).data)} (before: {fmt(total.data)})")

    # The documents' code takes δ_o · out_h element-wise; ∂E/∂w needs δ_j · out_h_k for
    # every pair. Recomputing its two wrong updates shows where their numbers come from.
    node = {name: v for v, name in names.items()}
    wrong = [(5, "net_o1", "out_h1", "out_h2"), (6, "net_o2", "out_h2", "out_h1")]
    print(f"\nNote: the example's NumPy code prints w6 = {example.SEED_CODE_W6_W7[0]!r} and "
          f"w7 = {example.SEED_CODE_W6_W7[1]!r}. It multiplies ∂E/∂net_o\nby out_h "
          "element-wise where the update needs every pair (an outer product), so it updates")
    for k, delta, used, right in wrong:
        d, h = node[delta].grad, node[used].data
        print(f"  w{k + 1} with {used} in place of {right}: {fmt(before[k][0])} − {fmt(lr)} × "
              f"{fmt(d)} × {fmt(h)} = {fmt(before[k][0] - lr * d * h)}")
    # Its hidden layer broadcasts the same way: w_jk gets ∂E/∂out_h_k · σ'(net_h_j) · i_j
    # in place of ∂E/∂out_h_j · σ'(net_h_j) · i_k, which differs for w2 and w3.
    print(f"The same slip in its hidden layer prints w2 = {example.SEED_CODE_W2_W3[0]!r} "
          f"and w3 = {example.SEED_CODE_W2_W3[1]!r}:")
    for k, j, other in ((1, 1, 2), (2, 2, 1)):
        out_j = node[f"out_h{j}"].data
        d, slope, i = node[f"out_h{other}"].grad, out_j * (1 - out_j), node[f"i{j}"].data
        print(f"  w{k + 1} with ∂E/∂out_h{other} · σ'(net_h{j}) · i{j}: {fmt(before[k][0])} − "
              f"{fmt(lr)} × {fmt(d)} × {fmt(slope)} × {fmt(i)} = "
              f"{fmt(before[k][0] - lr * d * slope * i)}")

    if args.epochs > 1:
        for _ in range(args.epochs - 1):
            example.step(net, lr)
        print(f"\nE after {args.epochs} steps = {fmt(example.loss(net).data)}")



# --- train


class _Progress:
    """A progress bar with the running loss on ``stream``.

    On a terminal it is one line, redrawn at most ten times a second; in a
    log or a pipe it is a few plain lines (the first epoch and every quarter).
    The loss shown for an epoch is the loss after that epoch's update, so the
    last one is the final loss.
    """

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.stream = stream
        self.tty = stream.isatty()
        self.marks = {1, *(math.ceil(k * total / 4) for k in range(1, 5))}
        self.drawn = 0.0
        self.open = False  # a bar is on the terminal line without its newline
        self.length = 0  # of the line drawn last: a shorter one must cover it

    def update(self, epoch: int, loss: float) -> None:
        last = epoch == self.total
        if self.tty:
            now = time.monotonic()
            if now - self.drawn < 0.1 and not last:
                return
            self.drawn = now
            filled = self.WIDTH * epoch // self.total
            bar = "#" * filled + "." * (self.WIDTH - filled)
            end = "\n" if last else ""
            line = f"[{bar}] epoch {epoch}/{self.total}  loss {loss:.6g}"
            # Blanks over the rest of a longer line drawn before (loss 0.25835, then 0.25).
            self.stream.write(f"\r{line:<{self.length}}{end}")
            self.length = len(line)
            self.stream.flush()
            self.open = not last
        elif epoch in self.marks:
            self.stream.write(f"epoch {epoch}/{self.total}  loss {loss:.6g}\n")

    def close(self) -> None:
        """End a bar left unfinished (an error, Ctrl-C), so the next message has its own line."""
        if self.open:
            self.stream.write("\n")
            self.open = False


@dataclass(frozen=True)
class _Task:
    """A data set and how to learn it: the network, the loss, what counts as right."""

    load: Callable[[int], tuple[list[list[float]], list[float] | list[int]]]  # seed -> data
    outputs: int
    activation: str  # of the hidden layers
    output_activation: str
    loss: Callable[[Any, Any], Value]  # (network output, label) -> one point's loss
    predict: Callable[[Any], Any]  # network output -> predicted label
    optimizer: str  # "sgd" or "adam"
    hidden: tuple[int, ...]
    epochs: int
    lr: float
    about: str  # for --help: the activations and the loss
    l2: float = 0.0  # weight decay: l2 · Σ w²

    def describe(self) -> str:
        """"2-4-1 sigmoid, quadratic cost, SGD lr 2, 2000 epochs"."""
        sizes = "-".join(map(str, (2, *self.hidden, self.outputs)))
        optimizer = "SGD" if self.optimizer == "sgd" else "Adam"
        return f"{sizes} {self.about}, {optimizer} lr {self.lr:g}, {self.epochs} epochs"


def _tasks() -> dict[str, _Task]:
    from . import data, losses  # imported late: only `train` needs them

    return {
        # The documents' network: sigmoid everywhere, the quadratic cost, plain SGD.
        "xor": _Task(lambda seed: data.xor(), 1, "sigmoid", "sigmoid",
                     lambda out, t: losses.quadratic(out, t), lambda out: int(out.data > 0.5),
                     "sgd", hidden=(4,), epochs=2000, lr=2.0, about="sigmoid, quadratic cost"),
        # A max-margin classifier: scores with labels ±1, as in micrograd's demo.
        "moons": _Task(lambda seed: data.moons(100, 0.1, seed), 1, "relu", "linear",
                       lambda out, t: losses.hinge(out, t), lambda out: 1 if out.data > 0 else -1,
                       "sgd", hidden=(16, 16), epochs=100, lr=0.5, l2=1e-4,
                       about="relu, hinge loss + L2"),
        "spirals": _Task(lambda seed: data.spirals(50, 3, seed), 3, "relu", "linear",
                         lambda out, t: losses.cross_entropy(out, t),
                         lambda out: max(range(len(out)), key=lambda k: out[k].data),
                         "adam", hidden=(16, 16), epochs=100, lr=0.05,
                         about="relu, cross-entropy"),
    }


@dataclass
class _Trained:
    model: Any
    loss: float
    correct: int
    total: int


def _fit(task: _Task, epochs: int, lr: float, seed: int, hidden: Sequence[int],
         on_epoch: Callable[[int, float], None], compiled: bool = True) -> _Trained:
    """Full-batch training; raises CliError when the loss stops being finite.

    ``compiled``: the loss graph is built and compiled once (the data are fixed,
    so it is the same graph every epoch) and each epoch runs that program,
    unless compiling cannot pay for itself: a few epochs, or a graph so big
    that compiling it would take longer than the epochs it speeds up.
    """
    from .nn import MLP
    from .optim import SGD, Adam

    points, labels = task.load(seed)
    model = MLP(len(points[0]), [*hidden, task.outputs], activation=task.activation,
                output_activation=task.output_activation, seed=seed)
    params = model.parameters()
    optimizer = SGD(params, lr) if task.optimizer == "sgd" else Adam(params, lr)

    def loss_of(when: str) -> Value:
        # Weights blown up by too large a step make the arithmetic fail (cross_entropy
        # refuses infinite scores) or the loss not finite: both are divergence.
        try:
            total = vsum([task.loss(model(x), t) for x, t in zip(points, labels)])
            total = total * (1 / len(points))
            if task.l2:
                total = total + task.l2 * vsum([p * p for p in params])
        except (ArithmeticError, ValueError) as e:
            raise CliError(f"training diverged {when} ({e}); try a smaller --lr") from None
        if not math.isfinite(total.data):
            raise CliError(f"training diverged {when}: the loss is {total.data!r}; "
                           "try a smaller --lr")
        return total

    step = None
    if compiled and epochs >= _COMPILE_FROM_EPOCHS:
        first = loss_of("at epoch 1")
        if sum(len(v.parents) for v in walk(first)) <= _COMPILE_UP_TO_EDGES:
            step = compile(first, params)
    for epoch in range(1, epochs + 1):
        optimizer.zero_grad()
        if step is None:
            loss = loss_of(f"at epoch {epoch}")
            value = loss.data
            loss.backward()
        else:
            value = _compiled_step(step, f"at epoch {epoch}")
        if epoch > 1:  # the loss after the previous epoch's update
            on_epoch(epoch - 1, value)
        optimizer.step()
    with no_grad():
        final = loss_of("after the last epoch").data
        on_epoch(epochs, final)
        correct = sum(task.predict(model(x)) == t for x, t in zip(points, labels))
    return _Trained(model, final, correct, len(points))


# Compiling the moons graph (70,000 edges) costs as much as some tens of the
# epochs it speeds up (benchmarks/bench.py): short runs are not compiled, nor
# graphs much bigger than that.
_COMPILE_FROM_EPOCHS = 10
_COMPILE_UP_TO_EDGES = 1_000_000


def _compiled_step(step: Compiled, when: str) -> float:
    """One compiled forward and backward, failing as the uncompiled loop does."""
    try:
        value = step.backward()
    except (ArithmeticError, ValueError) as e:
        raise CliError(f"training diverged {when} ({e}); try a smaller --lr") from None
    if not math.isfinite(value):
        raise CliError(f"training diverged {when}: the loss is {value!r}; try a smaller --lr")
    return value


def _train(args: argparse.Namespace) -> None:
    task = _tasks()[args.dataset]
    if args.save is not None:
        _check_output(args.save)  # before training
    epochs = args.epochs or task.epochs
    _check_size(task, args.hidden or task.hidden)
    progress = _Progress(epochs, sys.stderr)
    try:
        result = _fit(task, epochs, args.lr or task.lr, args.seed, args.hidden or task.hidden,
                      progress.update, compiled=not args.no_compile)
    finally:
        progress.close()
    if args.save is not None:  # before printing: a failure prints nothing but the error
        try:
            result.model.save(args.save)
        except OSError as e:
            raise CliError(f"cannot write {args.save!r}: {_reason(e)}") from None
    print(f"final loss {result.loss:.6g}, accuracy {result.correct / result.total:.1%} "
          f"({result.correct} of {result.total} training points)")
    if args.save is not None:
        print(f"model saved to {args.save}")


def _check_size(task: _Task, hidden: Sequence[int]) -> None:
    """Refuse a network too large to train here, before building any of it."""
    sizes = [2, *hidden, task.outputs]  # every data set has two inputs
    if sum(hidden) > MAX_NEURONS:
        raise CliError(f"--hidden: at most {MAX_NEURONS:,} neurons in all hidden layers, "
                       f"got {sum(hidden):,}")
    parameters = sum((a + 1) * b for a, b in itertools.pairwise(sizes))
    if parameters > MAX_PARAMETERS:
        raise CliError(f"--hidden: the network {'-'.join(map(str, sizes))} has {parameters:,} "
                       f"weights and biases; at most {MAX_PARAMETERS:,}")


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def _positive_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(x) and x > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return x


def _layer_sizes(text: str) -> list[int]:
    try:
        sizes = [_positive_int(part) for part in text.split(",")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected layer sizes like 16,16 (whole numbers >= 1), got {text!r}") from None
    if max(sizes) > MAX_WIDTH:
        raise argparse.ArgumentTypeError(
            f"at most {MAX_WIDTH} neurons per layer, got {max(sizes)}")
    return sizes


# --- the command line


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    top = _ArgumentParser(
        prog=PROG,
        description="Automatic differentiation you can watch: check a gradient, "
                    "step through backpropagation, train a small network.")
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", required=True)

    grad = sub.add_parser(
        "grad", help="value and gradient of an expression",
        description="Print the value of EXPR and its derivative with respect to each variable.",
        epilog=f"EXPR has numbers, variables, + - * / ** (as in Python: -2**2 is -4), "
               f"parentheses and the functions {', '.join(FUNCTIONS)}. "
               "An EXPR starting with '-' goes after '--': "
               f"{PROG} grad -- '-x*y' x=1 y=2")
    grad.add_argument("expr", metavar="EXPR", help='an expression, e.g. "x*y + exp(x)"')
    grad.add_argument("assignments", metavar="NAME=VALUE", nargs="*", default=[],
                      help="a value for each variable, e.g. x=2 y=-3 z=1e-3 "
                           "(decimal numbers as in EXPR, also inf and nan)")
    grad.add_argument("--steps", action="store_true",
                      help="print what each intermediate value (v1, v2, ...) stands for, then "
                           "every chain-rule step of backpropagation")
    grad.add_argument("--exact", action="store_true",
                      help="print every number with all its digits (it reads back as the same "
                           "float), not rounded to 9 significant digits")
    grad.add_argument("--svg", metavar="FILE",
                      help="write the graph with values and gradients (/dev/stdout: the "
                           "drawing alone on stdout, the numbers on stderr)")
    grad.add_argument("--html", metavar="FILE",
                      help="write a web page that steps through the forward and backward pass")

    demo = sub.add_parser(
        "demo", help="the worked 2-2-2 example, backpropagation step by step",
        description="One step of backpropagation through the documents' 2-2-2 sigmoid network: "
                    "the forward pass, every chain-rule step, the updated weights, and the "
                    "graph drawn as SVG (needs Graphviz).")
    demo.add_argument("--svg", metavar="FILE",
                      help=f"where to write the graph (default: {DEMO_SVG})")
    demo.add_argument("--html", metavar="FILE",
                      help="also write a web page that steps through both passes")
    demo.add_argument("--epochs", type=_positive_int, default=1, metavar="N",
                      help="keep training to N steps in all and print E (default: 1)")

    train = sub.add_parser(
        "train", help="train a small network on a toy data set",
        description="Train a multilayer perceptron and report its loss and accuracy. "
                    "The progress bar with the running loss goes to stderr.",
        epilog="Defaults: " + "; ".join(f"{name} {task.describe()}"
                                        for name, task in _tasks().items()) + ".")
    train.add_argument("dataset", choices=TASK_NAMES, help="the data set")
    train.add_argument("--epochs", type=_positive_int, metavar="N",
                       help="passes over the data (default: per data set)")
    train.add_argument("--lr", type=_positive_float, metavar="X",
                       help="learning rate (default: per data set)")
    train.add_argument("--seed", type=int, default=0, metavar="S",
                       help="seed for the data and the initial weights (default: 0)")
    train.add_argument("--hidden", type=_layer_sizes, metavar="SIZES",
                       help="hidden layer sizes, e.g. 16,16 (default: per data set)")
    train.add_argument("--save", metavar="FILE", help="save the trained model as JSON")
    train.add_argument("--no-compile", action="store_true",
                       help="build the graph every epoch instead of compiling it once "
                            "(the same losses, slower)")

    return top, {"grad": grad, "demo": demo, "train": train}


def _dispatch(argv: list[str]) -> None:
    top, commands = _parser()
    if argv and argv[0] in commands:
        # Each command parses its own arguments, so options may come between
        # positionals (`grad EXPR --steps x=1`), which argparse's subcommands
        # cannot do. After "--" everything is positional (an EXPR starting
        # with "-"); intermixed parsing mishandles that, plain parsing does not.
        parser, rest = commands[argv[0]], argv[1:]
        try:
            args = parser.parse_args(rest) if "--" in rest else parser.parse_intermixed_args(rest)
        except _UsageError as e:
            if argv[0] == "grad" and "--" not in rest:
                _suggest_dash_dash(parser, rest, e)
            raise
        _RUN[argv[0]](args)
    else:
        top.parse_args(argv)  # --help, --version, or a one-line error


def _looks_like_expr(arg: str) -> bool:
    """``-x*y`` or ``-2`` is an expression argparse takes for an option; ``--bogus`` is not."""
    return arg.startswith("-") and arg != "-" and not re.fullmatch(r"--[\w-]*(=.*)?", arg)


def _suggest_dash_dash(parser: argparse.ArgumentParser, rest: list[str], error: _UsageError
                       ) -> None:
    """Raise ``error`` with the command that works when an EXPR starting with '-' caused it."""
    expr = next((arg for arg in rest if _looks_like_expr(arg)), None)
    if expr is None or not error.message.startswith(("unrecognized", "the following")):
        return  # not a misread EXPR (`--svg -x` is a file name that is missing its option)
    # The other arguments, after a stand-in EXPR, give the options and the values.
    try:
        args = parser.parse_intermixed_args(["x", *(arg for arg in rest if arg is not expr)])
    except _UsageError:
        args = None
    if args is None or not all("=" in arg for arg in args.assignments):  # nothing sure
        example = [PROG, "grad", "--", expr, "NAME=VALUE", "..."]
    else:
        options = ((["--steps"] if args.steps else []) + (["--svg", args.svg] if args.svg else [])
                   + (["--html", args.html] if args.html else []))
        example = [PROG, "grad", *options, "--", expr, *args.assignments]
    raise CliError(f"{error.message}; an EXPR starting with '-' goes after '--' "
                   f"(options before it): {shlex.join(example)}") from None


_RUN: dict[str, Callable[[argparse.Namespace], None]] = {
    "grad": _grad, "demo": _demo, "train": _train}


def _error(message: str, stream: TextIO) -> None:
    # One line, whatever the message holds: newlines and other control
    # characters from the input are shown escaped.
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    with contextlib.suppress(OSError):  # stderr itself full: only the exit status is left
        print(f"{PROG}: error: {text}", file=stream, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    >>> main(["grad", "x*x", "x=3"])
    f = 9
    df/dx = 6
    0
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    # A closed stdout or stderr (`2>&-`) is None to Python: what would go there is dropped.
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (open for the whole run)
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    if hasattr(sys.stdout, "reconfigure"):
        # The steps print ∂ and ×; a terminal that cannot show them gets escapes, not a crash.
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        _dispatch(argv)
        sys.stdout.flush()  # a full disk says so here, not in a message at exit
    except CliError as e:
        _error(str(e), sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader left (`... | head`): stop quietly, as other Unix tools do.
        _drop_stdout()
        return 1
    except OSError as e:  # the system refused: a full disk, an I/O error
        if e.filename is None:
            # Files are named in their own errors (_write_text): this one is the output's.
            _error(f"cannot write the output: {_reason(e)}", sys.stderr)
            _drop_stdout()
        else:
            _error(f"{e.filename!r}: {_reason(e)}", sys.stderr)
        return 2
    except MemoryError:
        _error("out of memory: this needs more memory than the machine has", sys.stderr)
        return 2
    except Exception as e:  # the last resort: a bug, still reported on one line
        _error(f"unexpected {type(e).__name__}: {e} (this is a bug in {PROG})", sys.stderr)
        return 2
    return 0


def _drop_stdout() -> None:
    """Send what is left for standard output nowhere, so Python's flush at exit fails no more."""
    with contextlib.suppress(OSError, ValueError):  # not a real file (a test's StringIO)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
