"""The ``autograd-mini`` command (also ``python -m autograd_mini``).

    autograd-mini grad "x*y + exp(x)" x=2 y=-3 [--steps] [--svg FILE]
    autograd-mini demo [--svg FILE]
    autograd-mini train {xor,moons,spirals} [--epochs N] [--lr X] [--seed S]
                        [--hidden 16,16] [--save FILE]

Bad input of any kind is one line on stderr, ``autograd-mini: error: ...``,
and exit status 2; a file is written completely or not at all.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, TextIO

from . import __version__
from .engine import Value, walk
from .expr import FUNCTIONS, ExprError, check_name, parse
from .trace import backward_steps

PROG = "autograd-mini"


class CliError(Exception):
    """Bad input: its message is printed as one line, and the exit status is 2."""


class _ArgumentParser(argparse.ArgumentParser):
    # argparse prints the usage and an error over several lines; one line,
    # like every other error of this command, with a pointer to --help.
    def error(self, message: str) -> NoReturn:
        raise CliError(f"{message} (see '{self.prog} --help')")


# --- grad


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
        try:
            value = float(text)  # nan and inf too: IEEE numbers, judged by the result
        except ValueError:
            raise CliError(f"{item!r}: {text!r} is not a number") from None
        variables[name] = Value(value, label=name)
    return variables


def _grad(args: argparse.Namespace) -> None:
    if args.svg is not None:
        _check_writable_later(args.svg)
    variables = _variables(args.assignments)
    try:
        root = parse(args.expr, variables, finite=True)
    except ExprError as e:
        raise CliError(str(e)) from None
    if root not in variables.values():
        root.label = _unused_name("f", variables)
    if args.svg is not None:
        _check_drawable(root)

    steps = [step.explain() for step in backward_steps(root)] if args.steps else []
    if not args.steps:
        root.backward()

    name = root.label
    if not math.isfinite(root.data):
        raise CliError(f"the value {name} = {root.data!r} is not a finite number")
    for var, leaf in variables.items():
        if not math.isfinite(leaf.grad):
            raise CliError(f"the gradient d{name}/d{var} = {leaf.grad!r} is not a finite number")
    if args.svg is not None:
        _write_svg(root, args.svg)  # before printing: a failure prints nothing but the error

    print(f"{name} = {root.data!r}")
    for line in steps:
        print(f"  {line}")
    for var, leaf in variables.items():
        print(f"d{name}/d{var} = {leaf.grad!r}")
    if args.svg is not None:
        print(f"graph written to {args.svg}")


def _unused_name(name: str, taken: dict[str, Value]) -> str:
    while name in taken:
        name = "_" + name
    return name


def _write_svg(root: Value, path: str) -> None:
    from .viz import GraphvizNotFound, render_svg  # imported late: graphviz costs start-up time

    try:
        render_svg(root, path)
    except GraphvizNotFound as e:
        raise CliError(str(e)) from None
    except IsADirectoryError:
        raise CliError(f"{path!r} is a directory, not a file name") from None
    except OSError as e:
        raise CliError(f"cannot write {path!r}: {_reason(e)}") from None


def _check_drawable(root: Value) -> None:
    from .viz import MAX_NODES

    for count, _ in enumerate(walk(root), 1):  # stops counting at the limit
        if count > MAX_NODES:
            raise CliError(f"the graph has more than {MAX_NODES} values, too many to draw "
                           "readably; leave out --svg")


def _reason(e: OSError) -> str:
    """What the system says went wrong ("Permission denied"), without the file name."""
    return os.strerror(e.errno) if e.errno else str(e)


def _check_writable_later(path: str) -> None:
    """Fail before a long computation, not after, when ``path`` cannot be a file."""
    if os.path.isdir(path):
        raise CliError(f"{path!r} is a directory, not a file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CliError(f"cannot write {path!r}: no such directory {folder!r}")


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
                      help="a value for each variable, e.g. x=2 y=-3")
    grad.add_argument("--steps", action="store_true",
                      help="print every chain-rule step of backpropagation")
    grad.add_argument("--svg", metavar="FILE", help="write the graph with values and gradients")

    return top, {"grad": grad}


def _dispatch(argv: list[str]) -> None:
    top, commands = _parser()
    if argv and argv[0] in commands:
        # Each command parses its own arguments, so options may come between
        # positionals (`grad EXPR --steps x=1`), which argparse's subcommands
        # cannot do. After "--" everything is positional (an EXPR starting
        # with "-"); intermixed parsing mishandles that, plain parsing does not.
        parser, rest = commands[argv[0]], argv[1:]
        args = parser.parse_args(rest) if "--" in rest else parser.parse_intermixed_args(rest)
        _RUN[argv[0]](args)
    else:
        top.parse_args(argv)  # --help, --version, or a one-line error


_RUN: dict[str, Callable[[argparse.Namespace], None]] = {"grad": _grad}


def _error(message: str, stream: TextIO) -> None:
    # One line, whatever the message holds: newlines and other control
    # characters from the input are shown escaped.
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    print(f"{PROG}: error: {text}", file=stream)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    >>> main(["grad", "x*x", "x=3"])
    f = 9.0
    df/dx = 6.0
    0
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if hasattr(sys.stdout, "reconfigure"):
        # The steps print ∂ and ×; a terminal that cannot show them gets escapes, not a crash.
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        _dispatch(argv)
    except CliError as e:
        _error(str(e), sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader left (`... | head`): stop quietly, as other Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as e:  # the last resort: a bug, still reported on one line
        _error(f"unexpected {type(e).__name__}: {e} (this is a bug in {PROG})", sys.stderr)
        return 2
    return 0
