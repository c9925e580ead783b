"""Arithmetic expressions over named variables, parsed into a ``Value`` graph.

>>> from autograd_mini import Value
>>> x = Value(2.0, label="x")
>>> f = parse("x**2 + 3*x", {"x": x})
>>> f.data
10.0
>>> f.backward(); x.grad
7.0

The grammar, loosest binding first. Precedence and associativity are
Python's, so ``-2**2 == -4`` and ``2**3**2 == 2**9``:

    expr    := term   (("+" | "-") term)*
    term    := factor (("*" | "/") factor)*
    factor  := ("+" | "-")* power
    power   := atom ("**" factor)?          (right-associative)
    atom    := NUMBER | CONSTANT | NAME | FUNCTION "(" expr ")" | "(" expr ")"

FUNCTION is one of ``exp log tanh sigmoid relu sqrt abs sin cos``;
CONSTANT is ``e`` or ``pi``: numbers like any other (``check_name`` refuses
them as variable names; a ``variables`` mapping that has them anyway wins). Nothing is ever
handed to Python's ``eval``: this module reads the text character by
character, and anything outside the grammar (attribute access, other calls,
subscripts, keywords, ``__dunder__`` names, ...) is an ``ExprError`` that
gives the column where the problem starts.

Numbers are constants, not nodes: ``x * 2`` is one node, and an operation
on constants alone (``2 * 3``) is folded into one number by the engine's own
arithmetic, so ``10**10**10**10`` overflows to ``inf`` instead of asking
Python for an integer with ten billion digits.
"""

from __future__ import annotations

import keyword
import math
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from typing import NamedTuple

from .engine import Value, no_grad

__all__ = ["CONSTANTS", "FUNCTIONS", "MAX_DEPTH", "ExprError", "check_name", "parse"]

FUNCTIONS: dict[str, Callable[[Value], Value]] = {
    "exp": Value.exp,
    "log": Value.log,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "relu": Value.relu,
    "sqrt": Value.sqrt,
    "abs": Value.__abs__,
    "sin": Value.sin,
    "cos": Value.cos,
}

CONSTANTS: dict[str, float] = {"e": math.e, "pi": math.pi}

# Parentheses and function calls nest by recursion; this bound keeps the
# parser far below Python's recursion limit, so absurd nesting is an
# ExprError, not a RecursionError. Signs and ** chains are read in loops and
# may be as long as the text.
MAX_DEPTH = 50

_BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul,
           "/": operator.truediv, "**": operator.pow}


class ExprError(ValueError):
    """An expression outside the grammar; ``.column`` (1-based) says where.

    >>> try:
    ...     parse("x + foo(x)", {"x": 1.0})
    ... except ExprError as e:
    ...     print(e.column, e)
    5 col 5: unknown function 'foo' (functions: exp, log, tanh, sigmoid, relu, sqrt, abs, sin, cos)
    """

    def __init__(self, column: int, reason: str) -> None:
        super().__init__(f"col {column}: {reason}")
        self.column = column
        self.reason = reason


class _Token(NamedTuple):
    kind: str  # "number", "name", "op" or "end"
    text: str
    column: int  # 1-based


_TOKEN = re.compile(r"""
    (?P<space>  [ \t\r\n]+ )
  | (?P<number> (?: [0-9]+ \.? [0-9]* | \. [0-9]+ ) (?: [eE] [+-]? [0-9]+ )? )
  | (?P<name>   [A-Za-z_] [A-Za-z0-9_]* )
  | (?P<op>     \*\* | [-+*/(),] )
""", re.VERBOSE)

_NUMBER_TAIL = re.compile(r"[A-Za-z0-9_.]*")

# Characters a Python user might try, each with what to write instead.
_FORBIDDEN = {
    ".": "attribute access is not allowed",
    "[": "subscripts are not allowed",
    "]": "subscripts are not allowed",
    "^": "'^' is not a power here; write **",
    "'": "strings are not allowed",
    '"': "strings are not allowed",
    ":": "':' is not allowed (no lambdas, no slices)",
    "=": "'=' is not allowed: give values as NAME=VALUE outside the expression",
}
_OPERATORS = "use + - * / ** and parentheses"


def _tokens(text: str) -> Iterator[_Token]:
    """The tokens of ``text`` one at a time, so errors come in reading order."""
    pos = 0
    while pos < len(text):
        if text.startswith("//", pos):  # before "/" would match
            raise ExprError(pos + 1, f"operator '//' is not supported; {_OPERATORS}")
        m = _TOKEN.match(text, pos)
        if m is None:
            ch = text[pos]
            if ch in _FORBIDDEN:
                raise ExprError(pos + 1, _FORBIDDEN[ch])
            if ch in "%@&|~<>!":
                raise ExprError(pos + 1, f"operator {ch!r} is not supported; {_OPERATORS}")
            raise ExprError(pos + 1, f"unexpected character {ch!r}")
        kind = m.lastgroup
        if kind == "number":
            # "2x", "1e", "1.2.3", "0x10": one malformed number, not a number
            # followed by something that happens to parse.
            tail = _NUMBER_TAIL.match(text, m.end()).group()  # type: ignore[union-attr]  # matches ""
            if tail:
                raise ExprError(pos + 1, f"malformed number {m.group() + tail!r}")
        if kind != "space":
            yield _Token(kind, m.group(), pos + 1)  # type: ignore[arg-type]  # all groups named
        pos = m.end()
    yield _Token("end", "", len(text) + 1)


def check_name(name: str) -> None:
    """Raise ``ValueError`` unless ``name`` can be a variable in an expression.

    >>> check_name("w1")
    >>> check_name("exp")
    Traceback (most recent call last):
    ...
    ValueError: 'exp' is a function, not a variable name
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"{name!r} is not a variable name (letters, digits and _, "
                         "not starting with a digit)")
    problem = _name_problem(name)
    if problem:
        raise ValueError(problem)
    if name in FUNCTIONS:
        raise ValueError(f"{name!r} is a function, not a variable name")
    if name in CONSTANTS:
        raise ValueError(f"{name!r} is the constant {CONSTANTS[name]!r}, not a variable name")


def _name_problem(name: str) -> str | None:
    """Why a well-formed name is never allowed, or None."""
    if name.startswith("__"):
        return f"names starting with '__' are not allowed: {name!r}"
    if keyword.iskeyword(name):
        return f"{name!r} is a Python keyword; expressions have only numbers, variables, " \
               f"+ - * / ** and the functions {', '.join(FUNCTIONS)}"
    return None


class _Parser:
    """Recursive descent over the token list; each method reads one grammar rule.

    A rule returns a ``Value`` or, for a sub-expression without variables, a
    float.
    """

    def __init__(self, text: str, variables: Mapping[str, Value], finite: bool) -> None:
        self.tokens = _tokens(text)
        self.next: _Token | None = None  # read on demand, so errors come in reading order
        self.depth = 0
        self.variables = variables
        self.finite = finite

    def peek(self) -> _Token:
        if self.next is None:
            self.next = next(self.tokens)
        return self.next

    def take(self) -> _Token:
        token = self.peek()
        if token.kind != "end":  # the end token repeats
            self.next = None
        return token

    # --- grammar rules
    def expr(self) -> Value | float:
        left = self.term()
        while self.peek().text in ("+", "-"):
            op = self.take()
            left = self.apply(op, _BINARY[op.text], left, self.term())
        return left

    def term(self) -> Value | float:
        left = self.factor()
        while self.peek().text in ("*", "/"):
            op = self.take()
            left = self.apply(op, _BINARY[op.text], left, self.factor())
        return left

    def signs(self) -> list[_Token]:
        signs = []
        while self.peek().text in ("+", "-"):
            signs.append(self.take())
        return signs

    def negate(self, signs: list[_Token], value: Value | float) -> Value | float:
        for sign in reversed(signs):  # the sign nearest the operand applies first
            if sign.text == "-":
                value = self.apply(sign, operator.neg, value)
        return value

    def factor(self) -> Value | float:
        signs = self.signs()
        return self.negate(signs, self.power())

    def power(self) -> Value | float:
        # Read "a ** -b ** c" as a list and fold it from the right, to
        # a ** (-(b ** c)), in a loop: a long chain needs no recursion.
        operands = [self.atom()]
        links = []
        while self.peek().text == "**":
            links.append((self.take(), self.signs()))
            operands.append(self.atom())
        value = operands.pop()
        while links:
            op, signs = links.pop()
            value = self.apply(op, operator.pow, operands.pop(), self.negate(signs, value))
        return value

    def atom(self) -> Value | float:
        token = self.take()
        if token.kind == "number":
            value = float(token.text)
            if math.isinf(value):
                raise ExprError(token.column, f"number {token.text} is too large")
            return value
        if token.kind == "name":
            return self.name(token)
        if token.text == "(":
            return self.inside_parentheses(token, None)
        if token.kind == "end":
            raise ExprError(token.column, "the expression ends too early: expected a number, "
                                          "a name or '('")
        raise ExprError(token.column, f"expected a number, a name or '(', got {token.text!r}")

    def name(self, token: _Token) -> Value | float:
        name = token.text
        problem = _name_problem(name)
        if problem:
            raise ExprError(token.column, problem)
        called = self.peek().text == "("
        if name in FUNCTIONS:
            if not called:
                raise ExprError(token.column, f"function '{name}' needs its argument in "
                                              f"parentheses: {name}(...)")
            argument = self.inside_parentheses(self.take(), name)
            return self.apply(token, FUNCTIONS[name], argument)
        if called:
            reason = (f"'{name}' is a variable, not a function" if name in self.variables
                      else f"'{name}' is a constant, not a function" if name in CONSTANTS
                      else f"unknown function '{name}' (functions: {', '.join(FUNCTIONS)})")
            raise ExprError(token.column, reason)
        if name in CONSTANTS and name not in self.variables:
            return CONSTANTS[name]
        if name not in self.variables:
            given = ", ".join(self.variables) or "none"
            raise ExprError(token.column, f"unknown variable '{name}' (given: {given})")
        return self.variables[name]

    def inside_parentheses(self, opening: _Token, function: str | None) -> Value | float:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(opening.column,
                            f"nested too deeply (more than {MAX_DEPTH} levels of parentheses)")
        value = self.expr()
        closing = self.take()
        if closing.text != ")":
            if closing.kind == "end":
                raise ExprError(opening.column, "this '(' is never closed")
            if closing.text == "," and function:
                raise ExprError(closing.column, f"'{function}' takes exactly one argument")
            raise ExprError(closing.column, f"expected ')' or an operator, got {closing.text!r}")
        self.depth -= 1
        return value

    # --- building the graph
    def apply(self, token: _Token, fn: Callable[..., Value], *args: Value | float) -> Value | float:
        """``fn(*args)`` through the engine; its errors become ExprErrors at ``token``."""
        try:
            if any(type(a) is Value for a in args):
                result: Value | float = fn(*args)
            else:  # constants only: fold them, with the engine's arithmetic
                with no_grad():
                    result = fn(Value(args[0]), *args[1:]).data  # type: ignore[arg-type]  # floats
        except (ArithmeticError, ValueError) as e:
            raise ExprError(token.column, str(e)) from None
        if self.finite:
            data = [a.data if type(a) is Value else a for a in args]
            out = result.data if type(result) is Value else result
            if not math.isfinite(out) and all(map(math.isfinite, data)):
                # Negation cannot overflow: the culprit is a function or a binary operator.
                shown = (f"{token.text}({data[0]!r})" if token.kind == "name" else
                         f"{data[0]!r} {token.text} {data[1]!r}")
                raise ExprError(token.column, f"{shown} overflows to {out!r}")
        return result


def parse(text: str, variables: Mapping[str, Value | float] | None = None, *,
          finite: bool = False) -> Value:
    """The ``Value`` graph of ``text`` over ``variables`` (name -> Value or number).

    A number in ``variables`` becomes a leaf labelled with its name; a
    ``Value`` is used as it is, so its ``.grad`` shows the gradient after
    ``backward()``. Raises ``ExprError`` for text outside the grammar, an
    unknown name or a domain error (``log(0)``), always with the column;
    with ``finite=True`` also for an operation that overflows (finite
    inputs, infinite or nan result).

    >>> parse("-2**2").data
    -4.0
    >>> y = Value(0.5, label="y")
    >>> parse("sigmoid(y) * 2", {"y": y}).op
    '*'
    >>> parse("log(y - 0.5)", {"y": y})
    Traceback (most recent call last):
    ...
    autograd_mini.expr.ExprError: col 1: log: operand must be > 0, got 0.0
    """
    if not isinstance(text, str):
        raise TypeError(f"parse: text must be a str, got {type(text).__name__}")
    leaves = {name: v if type(v) is Value else Value(v, label=name)  # type: ignore[arg-type]
              for name, v in (variables or {}).items()}
    parser = _Parser(text, leaves, finite)
    if parser.peek().kind == "end":
        raise ExprError(1, "the expression is empty")
    result = parser.expr()
    extra = parser.peek()
    if extra.kind != "end":
        if extra.text == ")":
            raise ExprError(extra.column, "unmatched ')'")
        if extra.text == ",":
            raise ExprError(extra.column, "unexpected ','")
        raise ExprError(extra.column, f"expected an operator, got {extra.text!r}")
    return result if type(result) is Value else Value(result)  # type: ignore[arg-type]
