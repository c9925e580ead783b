"""The autograd-mini command: the real program in a subprocess, bad input in-process for speed."""

from __future__ import annotations

import io
import json
import math
import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_mini import example
from autograd_mini.cli import (
    DEMO_SVG,
    MAX_NEURONS,
    MAX_PARAMETERS,
    MAX_WIDTH,
    _Progress,
    _tasks,
    main,
)
from autograd_mini.data import xor
from autograd_mini.losses import quadratic
from autograd_mini.nn import MLP
from autograd_mini.trace import backward_steps

SVG = "{http://www.w3.org/2000/svg}"
ENV = {**os.environ, "PYTHONIOENCODING": "utf-8"}


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None
        ) -> subprocess.CompletedProcess:
    """The command as a user runs it: a fresh Python process."""
    return subprocess.run([sys.executable, "-m", "autograd_mini", *args], capture_output=True,
                          encoding="utf-8", env=env or ENV, cwd=cwd, timeout=300)


def cli(*args: str) -> tuple[int, str, str]:
    """The same command in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def numbers(stdout: str) -> dict[str, float]:
    """``name = number`` lines of the output, by name."""
    pairs = [line.split(" = ") for line in stdout.splitlines() if " = " in line
             and not line.startswith(" ")]
    return {name: float(value) for name, value in pairs}


BUG = "this is a bug in autograd-mini"  # how main() reports an exception it did not expect


def assert_one_line_error(code: int, stdout: str, stderr: str, fragment: str) -> None:
    """A clean refusal of bad input; an unexpected exception (a crash) fails it."""
    assert code == 2
    assert stdout == ""
    assert "Traceback" not in stderr
    assert BUG not in stderr, stderr
    assert stderr.count("\n") == 1 and stderr.endswith("\n")
    assert stderr.startswith("autograd-mini: error: ")
    assert fragment in stderr


# --- grad: values and gradients

def test_grad_prints_value_and_gradients() -> None:
    result = run("grad", "x*y + exp(x) + log(y*y)/2", "x=2", "y=-3", "--exact")
    assert (result.returncode, result.stderr) == (0, "")
    got = numbers(result.stdout)
    assert list(got) == ["f", "df/dx", "df/dy"]
    assert got["f"] == pytest.approx(-6 + math.exp(2) + math.log(3), rel=1e-15)
    assert got["df/dx"] == pytest.approx(-3 + math.exp(2), rel=1e-15)
    assert got["df/dy"] == pytest.approx(2 - 1 / 3, rel=1e-15)


@pytest.mark.parametrize(("args", "expected"), [
    (["--", "-2**2"], {"f": -4.0}),                            # no variables: just the value
    (["x", "x=1.5"], {"x": 1.5, "dx/dx": 1.0}),                # the root is a variable
    (["x*x", "x=3", "y=7"], {"f": 9.0, "df/dx": 6.0, "df/dy": 0.0}),  # y unused
    (["f*2", "f=3"], {"_f": 6.0, "d_f/df": 2.0}),              # a variable named f
    (["sigmoid(x)", "x=inf"], {"f": 1.0, "df/dx": 0.0}),       # IEEE inputs are numbers
    (["tanh(w)*w", "w=-0.5"], {"f": 0.5 * math.tanh(0.5),
                               "df/dw": math.tanh(-0.5) - 0.5 * (1 - math.tanh(0.5) ** 2)}),
    (["x**y", "y=3", "x=2"], {"f": 8.0, "df/dy": 8 * math.log(2), "df/dx": 12.0}),
])
def test_grad_known_results(args: list[str], expected: dict[str, float]) -> None:
    code, out, err = cli("grad", "--exact", *args)
    assert (code, err) == (0, "")
    got = numbers(out)
    assert list(got) == list(expected)  # in the order the variables were given
    assert got == pytest.approx(expected, rel=1e-15)


def test_grad_prints_9_significant_digits_or_every_digit() -> None:
    # One format for the value, the gradients and the steps: readable by default ...
    assert cli("grad", "x * 3", "x=0.1") == (0, "f = 0.3\ndf/dx = 3\n", "")
    _, out, _ = cli("grad", "x/3", "x=1", "--steps")
    assert out == ("f = 0.333333333\n"
                   "  f = x / 3 = 0.333333333\n"
                   "  ∂f/∂x += ∂f/∂f · ∂f/∂x = 1 × 0.333333333 = 0.333333333\n"
                   "df/dx = 0.333333333\n")
    # small and large: at least 6 significant digits
    assert cli("grad", "x * 1e-9", "x=123456.789")[1] == "f = 0.000123457\ndf/dx = 1e-09\n"
    assert cli("grad", "x * 1e6", "x=1.23456789")[1] == "f = 1234567.89\ndf/dx = 1000000\n"
    # ... and with --exact every digit, so the printed number reads back as the same float.
    _, out, _ = cli("grad", "x * 3", "x=0.1", "--exact", "--steps")
    assert out == ("f = 0.30000000000000004\n"
                   "  f = x * 3 = 0.30000000000000004\n"
                   "  ∂f/∂x += ∂f/∂f · ∂f/∂x = 1.0 × 3.0 = 3.0\n"
                   "df/dx = 3.0\n")
    assert numbers(cli("grad", "x/3", "x=1", "--exact")[1])["f"] == 1 / 3


def test_options_may_come_anywhere_and_dash_dash_allows_a_leading_minus() -> None:
    first = cli("grad", "x*y", "--steps", "x=2", "y=5")
    assert first == cli("grad", "--steps", "x*y", "x=2", "y=5")
    assert numbers(first[1]) == {"f": 10.0, "df/dx": 5.0, "df/dy": 2.0}
    code, out, _ = cli("grad", "--", "-x*y", "x=2", "y=5")
    assert (code, numbers(out)) == (0, {"f": -10.0, "df/dx": -5.0, "df/dy": -2.0})


# --- grad --steps and --svg: one real run

def test_grad_steps_and_svg(tmp_path: Path) -> None:
    svg = tmp_path / "graph.svg"
    result = run("grad", "a*b + b", "a=2", "b=-3", "--steps", "--svg", str(svg))
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[0] == "f = -9"
    # First what the steps' names stand for, in the order they were computed ...
    assert lines[1:3] == ["  v1 = a * b = -6", "  f = v1 + b = -9"]
    # ... then four edges, in backward()'s order: f -> (a*b), f -> b, then (a*b) -> a and b.
    steps = [line.strip() for line in lines[3:] if line.startswith("  ")]
    assert steps == [
        "∂f/∂v1 += ∂f/∂f · ∂f/∂v1 = 1 × 1 = 1",
        "∂f/∂b += ∂f/∂f · ∂f/∂b = 1 × 1 = 1",
        "∂f/∂a += ∂f/∂v1 · ∂v1/∂a = 1 × -3 = -3",
        "∂f/∂b += ∂f/∂v1 · ∂v1/∂b = 1 × 2 = 2",
    ]
    assert numbers(result.stdout) == {"f": -9.0, "df/da": -3.0, "df/db": 3.0}
    assert lines[-1] == f"graph written to {svg}"

    tree = ET.parse(svg).getroot()
    texts = [t.text for t in tree.iter(f"{SVG}text")]
    nodes = [g for g in tree.iter(f"{SVG}g") if g.get("class") == "node"]
    assert len(nodes) == 6  # a, b, a*b, f and the two operation nodes
    for name in ("a", "b", "f"):
        assert name in texts
    assert "data -9" in texts and "grad -3" in texts and "grad 3" in texts
    assert [p.name for p in tmp_path.iterdir()] == ["graph.svg"]  # no temporary left over


# --- bad input: one line on stderr, exit status 2, nothing written

BAD = [
    (["grad", "x +", "x=1"], "col 4: the expression ends too early"),
    (["grad", "foo(x)", "x=1"], "col 1: unknown function 'foo'"),
    (["grad", "x + z", "x=1"], "col 5: unknown variable 'z' (given: x)"),
    (["grad", "x.__class__", "x=1"], "col 2: attribute access is not allowed"),
    (["grad", "(" * 10_000 + "x" + ")" * 10_000, "x=1"], "nested too deeply"),
    (["grad", "x", "x=abc"], "'x=abc': 'abc' is not a number"),
    (["grad", "x", "x="], "'' is not a number"),
    (["grad", "x", "x"], "expected NAME=VALUE, got 'x' (missing '=')"),
    (["grad", "x", "x=1", "x=2"], "variable 'x' is given twice"),
    (["grad", "x", "exp=1"], "'exp' is a function, not a variable name"),
    (["grad", "x", "2x=1"], "'2x' is not a variable name"),
    (["grad", "log(x)", "x=0"], "col 1: log: operand must be > 0, got 0.0"),
    (["grad", "1/(x-1)", "x=1"], "col 2: division by zero"),
    (["grad", "x\x1b", "x=1"], "col 2: unexpected character '\\x1b'"),
    (["grad", "x", "x=1\n2"], "'x=1\\n2'"),
    (["grad", "-x*y", "x=1"], "unrecognized arguments: -x*y; an EXPR starting with '-' goes "
                              "after '--' (options before it): autograd-mini grad -- '-x*y' x=1"),
    (["grad"], "the following arguments are required: EXPR"),
    (["grad", "x", "x=1", "--bogus"], "unrecognized arguments: --bogus"),
    (["nope"], "invalid choice: 'nope'"),
    ([], "the following arguments are required: COMMAND"),
    (["grad", "+".join(["x*x"] * 300), "x=1", "--svg", "big.svg"], "too many to draw"),
    # demo: nothing printed, no graph written (its default file would land here)
    (["demo", "--epochs", "0"], "argument --epochs: must be at least 1, got 0"),
    (["demo", "--epochs", "many"], "'many' is not a whole number"),
    (["demo", "extra"], "unrecognized arguments: extra (see 'autograd-mini demo --help')"),
    # train: checked before any training, no model written
    (["train", "xor", "--hidden", "0", "--save", "m.json"], "got '0'"),
    (["train", "xor", "--hidden", "4,,4", "--save", "m.json"], "layer sizes like 16,16"),
    (["train", "xor", "--hidden", "4x4", "--save", "m.json"], "got '4x4'"),
    (["train", "xor", "--hidden", f"2,{MAX_WIDTH + 1}", "--save", "m.json"],
     f"at most {MAX_WIDTH} neurons per layer, got {MAX_WIDTH + 1}"),
    # The whole network is bounded before it is built: forty layers of 1000 used to run
    # out of memory (an error saying so would come after minutes and gigabytes).
    (["train", "xor", "--hidden", ",".join(["1000"] * 40), "--save", "m.json"],
     f"--hidden: at most {MAX_NEURONS:,} neurons in all hidden layers, got 40,000"),
    (["train", "xor", "--hidden", ",".join(["1"] * (MAX_NEURONS + 1)), "--save", "m.json"],
     f"at most {MAX_NEURONS:,} neurons in all hidden layers, got {MAX_NEURONS + 1:,}"),
    (["train", "spirals", "--hidden", "1000,100", "--save", "m.json"],
     f"--hidden: the network 2-1000-100-3 has 103,403 weights and biases; "
     f"at most {MAX_PARAMETERS:,}"),
    (["train", "xor", "--lr", "0", "--save", "m.json"], "--lr: must be a positive number"),
    (["train", "xor", "--lr", "-0.1", "--save", "m.json"], "got '-0.1'"),
    (["train", "xor", "--lr", "inf", "--save", "m.json"], "got 'inf'"),
    (["train", "xor", "--lr", "nan", "--save", "m.json"], "got 'nan'"),
    (["train", "xor", "--lr", "fast", "--save", "m.json"], "'fast' is not a number"),
    (["train", "xor", "--epochs", "0", "--save", "m.json"], "--epochs: must be at least 1"),
    (["train", "xor", "--epochs", "1.5", "--save", "m.json"], "'1.5' is not a whole number"),
    (["train", "xor", "--seed", "s", "--save", "m.json"], "--seed: invalid int value: 's'"),
    (["train", "circles", "--save", "m.json"], "invalid choice: 'circles'"),
    (["train", "--save", "m.json"], "the following arguments are required: dataset"),
    (["train", "xor", "--save", "missing/m.json"], "no such directory"),
]


@pytest.mark.parametrize(("args", "fragment"), BAD)
def test_bad_input_is_one_line_and_status_2(args: list[str], fragment: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(*cli(*args), fragment)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("value", "expected"), [
    ("2", 2.0), ("-0.5", -0.5), ("+3", 3.0), (".5", 0.5), ("5.", 5.0), ("1e3", 1000.0),
    ("1.5E-3", 1.5e-3), ("007", 7.0), ("inf", math.inf), ("-Infinity", -math.inf)])
def test_values_are_written_as_numbers_in_an_expression(value: str, expected: float) -> None:
    code, out, err = cli("grad", "sigmoid(x)", f"x={value}", "--exact")  # finite even at ±inf
    assert (code, err) == (0, "")
    assert numbers(out)["f"] == pytest.approx(1 / (1 + math.exp(-expected)), rel=1e-12)
    if math.isfinite(expected):
        assert numbers(cli("grad", "x", f"x={value}", "--exact")[1]) == {
            "x": expected, "dx/dx": 1.0}


@pytest.mark.parametrize("value", ["1_000", " 1", "1 ", "1\t", "\u0661", "\uff11", "0x10", "1e",
                                   "e3", "--1", "1e3.5", "infinit", "nan1", "1,5", "½"])
def test_values_python_would_read_but_an_expression_would_not_are_refused(value: str) -> None:
    # float() takes "1_000", " 1" and Arabic-Indic digits; a value is a number as EXPR writes it.
    assert_one_line_error(*cli("grad", "x", f"x={value}"),
                          f"{value!r} is not a number (write it like 2, -0.5, 1e-3 or inf)")


@pytest.mark.parametrize(("args", "suggestion"), [
    (["-x*y", "x=1", "y=2"], "autograd-mini grad -- '-x*y' x=1 y=2"),
    (["-2*3"], "autograd-mini grad -- '-2*3'"),  # argparse's "EXPR is required"
    (["x=1", "-exp(x)", "--steps"], "autograd-mini grad --steps -- '-exp(x)' x=1"),
    (["--svg", "my graph.svg", "-x", "x=1"], "autograd-mini grad --svg 'my graph.svg' -- -x x=1"),
    (["-x", "-y", "x=1"], "autograd-mini grad -- -x NAME=VALUE ..."),  # two: a pattern only
    (["-x", "y"], "autograd-mini grad -- -x NAME=VALUE ..."),
])
def test_an_expr_starting_with_minus_gets_the_command_that_works(
        args: list[str], suggestion: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("grad", *args)
    assert_one_line_error(code, out, err, "an EXPR starting with '-' goes after '--' "
                                          f"(options before it): {suggestion}\n")
    if "..." not in suggestion:  # the suggested command, as a shell reads it, works
        code, out, err = cli(*shlex.split(suggestion)[1:])
        assert (code, err) == (0, "")
        assert out.startswith("f = ")


@pytest.mark.parametrize("args", [["x", "--bogus"], ["--svg", "-x", "x=1"], ["x", "x=1", "-h2"]])
def test_no_dash_dash_suggestion_for_a_mistyped_option(args: list[str]) -> None:
    code, out, err = cli("grad", *args)
    assert_one_line_error(code, out, err, "(see 'autograd-mini grad --help')")
    assert "'--'" not in err


@pytest.mark.parametrize("command", [["grad", "x", "x=1", "--svg"], ["demo", "--svg"],
                                     ["train", "xor", "--save"]])
def test_output_to_a_directory_or_a_missing_folder(command: list[str], tmp_path: Path) -> None:
    assert_one_line_error(*cli(*command, str(tmp_path)),
                          f"{str(tmp_path)!r} is a directory, not a file name")
    missing = tmp_path / "no" / "g.svg"
    assert_one_line_error(*cli(*command, str(missing)), "no such directory")
    assert list(tmp_path.iterdir()) == []


OUTPUT_OPTIONS = [["grad", "x", "x=1", "--svg"], ["demo", "--svg"],
                  ["train", "xor", "--epochs", "2", "--save"]]


@pytest.mark.parametrize("command", OUTPUT_OPTIONS)
def test_a_path_that_cannot_be_a_file_is_refused_before_any_work(command: list[str],
                                                                 tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "plain").write_text("a file")
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    before = sorted(tmp_path.iterdir())
    for path, fragment in [
        (f"{tmp_path}/new/", f"'{tmp_path}/new/' ends in '/': expected a file name"),
        (f"{tmp_path}/folder/", "ends in '/'"),
        (f"{tmp_path}/folder/.", "is a directory, not a file name"),
        (f"{tmp_path}/plain/", "ends in '/'"),
        (f"{tmp_path}/plain/m.out", f"{str(tmp_path / 'plain')!r} is not a directory"),
        (f"{tmp_path}/plain/sub/m.out", f"{str(tmp_path / 'plain')!r} is not a directory"),
        (f"{tmp_path}/loop1", "Too many levels of symbolic links"),
        ("", "the file name is empty"),
    ]:
        # One line and nothing else: no demo text, no progress of training.
        assert_one_line_error(*cli(*command, path), fragment)
    assert sorted(tmp_path.iterdir()) == before
    assert (tmp_path / "plain").read_text() == "a file"
    assert list((tmp_path / "folder").iterdir()) == []


@pytest.mark.parametrize("command", OUTPUT_OPTIONS)
def test_writing_onto_a_symbolic_link_replaces_the_file_it_points_to(
        command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "old.out").write_text("old")
    Path("link.out").symlink_to(Path("elsewhere", "old.out"))  # relative, as ln -s makes
    Path("dangling.out").symlink_to(elsewhere / "new.out")
    Path("to-folder").symlink_to(elsewhere)
    for link, target in [("link.out", elsewhere / "old.out"),
                         ("dangling.out", elsewhere / "new.out")]:
        code, out, err = cli(*command, link)
        assert code == 0, err
        assert out.splitlines()[-1].endswith(f" to {link}")  # named as the user gave it
        assert Path(link).is_symlink() and Path(link).resolve() == target
        text = target.read_text()
        assert text.startswith("<?xml") if command[0] != "train" else json.loads(text)["state"]
    assert_one_line_error(*cli(*command, "to-folder"), "'to-folder' is a directory")
    assert sorted(p.name for p in elsewhere.iterdir()) == ["new.out", "old.out"]


def unwritable_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    if os.access(folder, os.W_OK):  # the superuser writes anywhere: use the proc file system
        return Path("/proc")
    return folder


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    old = tmp_path / "graph.svg"
    old.write_text("old")
    # A domain error: nothing is written, the old file stays.
    assert_one_line_error(*cli("grad", "log(x)", "x=0", "--svg", str(old)), "col 1: log")
    assert old.read_text() == "old"
    folder = unwritable_folder(tmp_path)
    target = folder / "graph.svg"
    code, out, err = cli("grad", "x", "x=1", "--svg", str(target))
    assert_one_line_error(code, out, err, f"cannot write {str(target)!r}: ")
    assert not target.exists()
    if folder != Path("/proc"):
        assert list(folder.iterdir()) == []


def test_missing_graphviz_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    svg = tmp_path / "graph.svg"
    svg.write_text("old")
    no_dot = {**ENV, "PATH": str(tmp_path)}  # a PATH without Graphviz's dot
    result = run("grad", "x*x", "x=2", "--svg", str(svg), env=no_dot)
    assert_one_line_error(result.returncode, result.stdout, result.stderr,
                          "needs the Graphviz program 'dot'")
    assert svg.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.svg"]


def test_real_process_errors_have_no_traceback() -> None:
    result = run("grad", "log(x) + 10**10**10**10", "x=0")
    assert_one_line_error(result.returncode, result.stdout, result.stderr, "col 1: log")


def test_a_closed_pipe_ends_quietly() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "autograd_mini", "grad", "--steps", "--", "-" * 20_000 + "x",
         "x=1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    proc.stdout.read(100)  # like `| head -c 100`: read a little, then hang up
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=300) == 1
    assert stderr == ""


# --- no input string makes a traceback

texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=40)
argument_texts = st.one_of(texts, st.lists(st.sampled_from(
    ["x", "y", "1", "e", "(", ")", "**", "*", "-", "/", "exp", "log", "sqrt", ".", "[", "99"]),
    max_size=25).map("".join))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argument_texts, texts)
def test_any_expression_or_value_in_process(expr: str, value: str) -> None:
    for args in (["grad", expr, "x=0.5", "y=-2"], ["grad", "x*y", "x=1", f"y={value}"],
                 ["grad", expr, value]):
        code, out, err = cli(*args)
        assert code in (0, 2)
        if code == 2:
            assert_one_line_error(code, out, err, "")
        elif err:  # an answer that is not finite, and why
            assert err.startswith("autograd-mini: note: ") and err.count("\n") == 1
            assert "inf" in out or "nan" in out


@settings(max_examples=5, deadline=None, derandomize=True)
@given(argument_texts)
def test_any_expression_in_a_real_process(expr: str) -> None:
    result = run("grad", expr, "x=0.5", "y=2")
    assert result.returncode in (0, 2)
    assert "Traceback" not in result.stderr
    if result.returncode == 2:
        assert_one_line_error(result.returncode, result.stdout, result.stderr, "")


def test_an_unexpected_exception_fails_the_error_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    # A crash in the code becomes one line with status 2, like bad input; the
    # checks above must still tell the two apart, or no fuzz test could fail.
    def crash(*args: object, **kwargs: object) -> None:
        raise TypeError("injected")

    monkeypatch.setattr("autograd_mini.cli.parse", crash)
    code, out, err = cli("grad", "x", "x=1")
    assert (code, out) == (2, "")
    assert err == f"autograd-mini: error: unexpected TypeError: injected ({BUG})\n"
    with pytest.raises(AssertionError):
        assert_one_line_error(code, out, err, "")
    with pytest.raises(AssertionError):
        test_any_expression_or_value_in_process()
    monkeypatch.setattr("autograd_mini.cli._fit", crash)
    with pytest.raises(AssertionError):
        test_any_train_option_in_process()


# --- help and the installed script

@pytest.mark.parametrize(("args", "mentions"), [
    (["--help"], ["grad", "demo", "train"]),
    (["grad", "--help"], ["EXPR", "NAME=VALUE", "--steps", "--svg", "exp, log, tanh, sigmoid"]),
    (["demo", "--help"], ["2-2-2", "--svg FILE", DEMO_SVG, "--epochs N", "Graphviz"]),
    (["train", "--help"], ["{xor,moons,spirals}", "--epochs N", "--lr X", "--seed S",
                           "--hidden SIZES", "--save FILE", "stderr"]),
])
def test_help_is_complete_and_short(args: list[str], mentions: list[str]) -> None:
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as done:
        main(args)
    assert done.value.code == 0
    text = out.getvalue()
    assert text.startswith("usage: autograd-mini")
    for word in mentions:
        assert word in text
    assert len(text.splitlines()) <= 30


def test_train_help_states_every_default() -> None:
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(out.getvalue().split())  # argparse wraps lines anywhere
    for name, task in _tasks().items():
        assert f"{name} {task.describe()}" in text
        assert f"lr {task.lr:g}, {task.epochs} epochs" in text


def test_the_installed_script_is_the_same_command() -> None:
    script = Path(sys.executable).with_name("autograd-mini")
    result = subprocess.run([str(script), "grad", "x*x", "x=3"], capture_output=True,
                            encoding="utf-8", env=ENV, timeout=300)
    assert (result.returncode, result.stdout, result.stderr) == (0, "f = 9\ndf/dx = 6\n", "")


# --- demo: the worked example

NUMBER = r"(-?[\d.]+(?:e-?\d+)?)"


def demo_output(stdout: str) -> dict:
    """The demo's output, parsed: forward values and formulas, steps, updates, errors, note."""
    blocks = [block.splitlines() for block in stdout.split("\n\n") if block.strip()]
    sections = {lines[0]: lines[1:] for lines in blocks}
    forward = next(lines for title, lines in sections.items() if title.startswith("Forward"))
    steps = next(lines for title, lines in sections.items() if title.startswith("Backward"))
    update = next(lines for title, lines in sections.items() if title.startswith("One step"))
    note = next([title, *lines] for title, lines in sections.items() if title.startswith("Note"))
    parsed: dict = {"forward": {}, "formula": {}, "update": {}, "documents": {}}
    for line in forward:
        name, value, formula = re.fullmatch(rf"  (\w+) += {NUMBER} +(.+)", line).groups()
        parsed["forward"][name], parsed["formula"][name] = float(value), formula
    parsed["steps"] = [line.strip() for line in steps]
    for line in update[:-1]:
        name, *numbers = re.fullmatch(
            rf"  (w\d) = {NUMBER} − 0.5 × {NUMBER} = {NUMBER}", line).groups()
        parsed["update"][name] = tuple(map(float, numbers))  # old, gradient, new
    after, before = re.fullmatch(rf"E after 1 step = {NUMBER} \(before: {NUMBER}\)",
                                 update[-1]).groups()
    parsed["E after 1"], parsed["E before"] = float(after), float(before)
    parsed["printed by the documents"] = re.search(
        rf"prints w6 = {NUMBER} and w7 = {NUMBER}\.", note[0]).groups()
    for line in note[2:]:
        if line.startswith("The same slip"):
            parsed["printed by the documents"] += re.search(
                rf"prints w2 = {NUMBER} and w3 = {NUMBER}:", line).groups()
            continue
        name, value = re.fullmatch(rf"  (w\d) with (?:out_h\d in place of out_h\d|"
                                   rf"∂E/∂out_h\d · σ'\(net_h\d\) · i\d): .* = {NUMBER}",
                                   line).groups()
        parsed["documents"][name] = float(value)
    for line in stdout.splitlines():
        if m := re.fullmatch(rf"E after (\d+) steps = {NUMBER}", line):
            parsed[f"E after {m[1]}"] = float(m[2])
    parsed["last line"] = stdout.splitlines()[-1]
    return parsed


def test_demo_prints_the_worked_example_and_draws_it(tmp_path: Path) -> None:
    result = run("demo", "--epochs", "9999", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    out = demo_output(result.stdout)
    # It says where the example comes from: the document and the original it retells.
    first = " ".join(result.stdout.split("\n\n")[0].split())
    title = "《一文弄懂神经网络中的反向传播法——BackPropagation》"
    assert first.startswith(f"The worked example of {title}, after Matt Mazur's "
                            '"A Step by Step Backpropagation Example"')
    # The documents' forward pass, to the 9 decimals they print.
    assert out["forward"] == pytest.approx({
        "net_h1": 0.3775, "out_h1": 0.593269992, "net_h2": 0.3925, "out_h2": 0.596884378,
        "net_o1": 1.105905967, "out_o1": 0.75136507, "v1": 0.74136507, "v2": 0.549622166,
        "E_o1": 0.274811083, "net_o2": 1.224921404, "out_o2": 0.772928465, "v3": -0.217071535,
        "v4": 0.047120051, "E_o2": 0.023560026, "E": 0.298371109}, abs=6e-10)
    assert out["formula"]["net_o1"] == "w5·out_h1 + w6·out_h2 + b2"
    assert out["formula"]["out_h2"] == "sigmoid(net_h2)"
    assert out["formula"]["v3"] == "out_o2 - 0.99"
    assert out["formula"]["E"] == "E_o1 + E_o2"
    # Every chain-rule step, as the trace states it.
    traced = [step.explain() for step in backward_steps(example.loss(example.network()))]
    assert out["steps"] == traced and len(traced) == 32
    assert ("∂E/∂w5 += ∂E/∂net_o1 · ∂net_o1/∂w5 = 0.138498562 × 0.593269992 = 0.082167041"
            in out["steps"])
    # The updated weights by the chain rule, each new = old − 0.5 × gradient.
    new = {name: numbers[2] for name, numbers in out["update"].items()}
    assert new == pytest.approx({
        "w1": 0.149780716, "w2": 0.199561432, "w3": 0.249751144, "w4": 0.299502287,
        "w5": 0.35891648, "w6": 0.408666186, "w7": 0.51130127, "w8": 0.561370121}, abs=6e-10)
    for old, grad, updated in out["update"].values():
        assert old - 0.5 * grad == pytest.approx(updated, abs=1e-9)
    assert out["E before"] == out["forward"]["E"]
    assert out["E after 1"] == pytest.approx(0.291027774, abs=6e-10)
    assert out["E after 9999"] == pytest.approx(3.5108548e-05, rel=1e-7)
    # The documents' two wrong numbers, recomputed from what their code multiplies.
    assert tuple(map(float, out["printed by the documents"])) == (
        *example.SEED_CODE_W6_W7, *example.SEED_CODE_W2_W3)
    assert [out["documents"][w] for w in ("w6", "w7", "w2", "w3")] == pytest.approx(
        [*example.SEED_CODE_W6_W7, *example.SEED_CODE_W2_W3], abs=6e-9)
    for w in ("w2", "w3", "w6", "w7"):
        assert abs(out["documents"][w] - new[w]) > 5e-5  # visibly not the chain rule's

    # The graph: every weight, every named node and the error, with its value.
    svg = tmp_path / DEMO_SVG
    assert out["last line"] == f"graph with values and gradients written to {DEMO_SVG}"
    texts = [t.text for t in ET.parse(svg).getroot().iter(f"{SVG}text")]
    for name in [f"w{k}" for k in range(1, 9)] + ["E", "E_o1", "net_h1", "out_o2", "i1", "b2"]:
        assert name in texts
    assert "data 0.2984" in texts and "grad 0.08217" in texts  # E, and ∂E/∂w5
    assert [p.name for p in tmp_path.iterdir()] == [DEMO_SVG]  # no temporary left over


def test_demo_svg_goes_where_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "sub" / "net.svg"
    target.parent.mkdir()
    code, out, err = cli("demo", "--svg", str(target))
    assert (code, err) == (0, "")
    assert out.splitlines()[-1].endswith(str(target))
    assert "E after 1 step = 0.291027774" in out and "steps =" not in out  # one step only
    assert ET.parse(target).getroot().tag == f"{SVG}svg"
    assert [p.name for p in tmp_path.iterdir()] == ["sub"]  # not the default file too


def test_demo_without_graphviz_prints_everything_then_a_note(tmp_path: Path) -> None:
    empty, work = tmp_path / "bin", tmp_path / "work"
    empty.mkdir()
    work.mkdir()
    result = run("demo", env={**ENV, "PATH": str(empty)}, cwd=work)
    assert result.returncode == 0  # the demo is the text; the drawing is a bonus
    out = demo_output(result.stdout)
    assert out["E after 1"] == pytest.approx(0.291027774, abs=6e-10)
    assert len(out["steps"]) == 32
    assert "written" not in result.stdout
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("autograd-mini: note: the graph was not drawn: rendering a "
                                    "graph needs the Graphviz program 'dot'")
    assert list(work.iterdir()) == []


def test_demo_asked_for_a_graph_without_graphviz_says_so_first(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    result = run("demo", "--svg", "graph.svg", env={**ENV, "PATH": str(empty)}, cwd=tmp_path)
    assert_one_line_error(result.returncode, result.stdout, result.stderr,
                          "rendering a graph needs the Graphviz program 'dot'")
    assert list(tmp_path.iterdir()) == [empty]


def test_demo_refuses_an_unwritable_graph_before_printing(tmp_path: Path) -> None:
    target = unwritable_folder(tmp_path) / "graph.svg"
    assert_one_line_error(*cli("demo", "--svg", str(target)), f"cannot write {str(target)!r}: ")
    assert not target.exists()


# --- train

RESULT = r"final loss (\S+), accuracy [\d.]+% \((\d+) of (\d+) training points\)"


def accuracy(stdout: str) -> tuple[float, float]:
    """(final loss, fraction right) from train's output."""
    loss, correct, total = re.search(RESULT, stdout).groups()
    return float(loss), int(correct) / int(total)


def test_train_xor_reaches_100_percent_and_saves_a_model_that_loads(tmp_path: Path) -> None:
    path = tmp_path / "xor.json"
    result = run("train", "xor", "--save", str(path))
    assert result.returncode == 0
    loss, right = accuracy(result.stdout)
    assert right == 1.0
    assert result.stdout.splitlines() == [result.stdout.splitlines()[0], f"model saved to {path}"]
    progress = result.stderr.splitlines()  # not a terminal: the first epoch and every quarter
    assert [line.split()[1] for line in progress] == [
        "1/2000", "500/2000", "1000/2000", "1500/2000", "2000/2000"]
    assert float(progress[-1].split()[-1]) < float(progress[0].split()[-1])
    assert progress[-1].endswith(f"loss {loss:.6g}")  # the bar ends on the final loss

    model = MLP.load(path)
    assert model.state_dict() == json.loads(path.read_text())["state"]
    points, labels = xor()
    outputs = [model(x) for x in points]
    assert [float(out.data > 0.5) for out in outputs] == labels
    recomputed = sum(quadratic(out, t).data for out, t in zip(outputs, labels)) / len(points)
    assert recomputed == pytest.approx(loss, rel=1e-5)  # printed to 6 digits
    # The same seed in this process: the same model, parameter for parameter.
    again = tmp_path / "again.json"
    assert cli("train", "xor", "--save", str(again))[0] == 0
    assert MLP.load(again).state_dict() == model.state_dict()


@pytest.mark.parametrize(("dataset", "least"), [("moons", 0.97), ("spirals", 0.90)])
def test_train_defaults_learn_the_data(dataset: str, least: float) -> None:
    code, out, _ = cli("train", dataset)
    assert code == 0
    assert accuracy(out)[1] >= least


def test_a_short_moons_run_with_every_option(tmp_path: Path) -> None:
    path = tmp_path / "moons.json"
    code, out, err = cli("train", "moons", "--epochs", "10", "--lr", "0.1", "--seed", "3",
                         "--hidden", "8", "--save", str(path))
    assert code == 0
    assert [line.split()[1] for line in err.splitlines()] == [
        "1/10", "3/10", "5/10", "8/10", "10/10"]
    losses = [float(line.split()[-1]) for line in err.splitlines()]
    assert losses[-1] < losses[0]
    assert 0.0 <= accuracy(out)[1] <= 1.0
    model = MLP.load(path)
    assert [len(layer.neurons) for layer in model.layers] == [8, 1]
    assert (model.activation, model.output_activation) == ("relu", "linear")
    other_seed = cli("train", "moons", "--epochs", "10", "--lr", "0.1", "--seed", "4",
                     "--hidden", "8")
    assert other_seed[2] != err  # the seed picks the data and the weights


def test_unwritable_save_fails_before_training(tmp_path: Path) -> None:
    target = unwritable_folder(tmp_path) / "model.json"
    code, out, err = cli("train", "spirals", "--save", str(target))
    assert_one_line_error(code, out, err, f"cannot write {str(target)!r}: ")  # no progress
    assert not target.exists()


@pytest.mark.parametrize("dataset", ["xor", "moons", "spirals"])
def test_divergence_is_an_error_and_saves_nothing(dataset: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("train", dataset, "--lr", "1e300", "--epochs", "3", "--save", "m.json")
    if code == 0:  # sigmoid saturates instead of overflowing: a bad model, but a finite one
        assert dataset == "xor" and accuracy(out)[1] < 1.0
        return
    assert (code, out) == (2, "")
    assert "Traceback" not in err
    last = err.splitlines()[-1]
    assert re.fullmatch(r"autograd-mini: error: training diverged at epoch \d.*; "
                        r"try a smaller --lr", last)
    assert list(tmp_path.iterdir()) == []


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_on_a_terminal() -> None:
    stream = Terminal()
    bar = _Progress(4, stream)
    bar.update(1, 0.5)
    bar.update(2, 0.4)  # within a tenth of a second: not redrawn
    bar.update(4, 0.25)  # the last epoch always is, and ends the line
    assert stream.getvalue() == (f"\r[{'#' * 7}{'.' * 23}] epoch 1/4  loss 0.5"
                                 f"\r[{'#' * 30}] epoch 4/4  loss 0.25\n")
    # A shorter line blanks out what is left of the longer one before it.
    stream = Terminal()
    bar = _Progress(4, stream)
    bar.update(1, 0.25835)
    bar.drawn = 0.0  # as if a tenth of a second had passed
    bar.update(2, 0.25)
    first, second = stream.getvalue().split("\r")[1:]
    assert second == f"[{'#' * 15}{'.' * 15}] epoch 2/4  loss 0.25   "
    assert len(second) == len(first)
    stopped = Terminal()
    bar = _Progress(4, stopped)
    bar.update(1, 0.5)
    bar.close()  # an error or Ctrl-C: the message after it gets a line of its own
    assert stopped.getvalue().endswith("loss 0.5\n")
    bar.close()
    assert stopped.getvalue().count("\n") == 1


option_texts = st.one_of(
    texts,
    st.lists(st.sampled_from(["0", "1", "2", "7", ",", ".", "-", "e", "nan", "inf", " ", "_"]),
             max_size=6).map("".join),
    # Mostly valid: small layer sizes, numbers with a fraction or an exponent.
    st.from_regex(r"-?[0-9]{1,2}(,[0-9]{1,2}){0,2}|[0-9]{0,2}\.?[0-9]{1,2}(e-?[0-9])?",
                  fullmatch=True))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["--hidden", "--lr", "--seed"]), option_texts)
def test_any_train_option_in_process(option: str, text: str) -> None:
    # One option at a time, so valid values (and a real epoch of training) come up too.
    code, out, err = cli("train", "xor", "--epochs", "1", option, text)
    assert code in (0, 2)
    if code == 2:
        assert_one_line_error(code, out, err, "")
    else:
        assert re.search(RESULT, out)


# --- answers that are not finite, and what the system refuses

@pytest.mark.parametrize(("args", "expected", "note"), [
    # sqrt'(0): the true one-sided limit.
    (["sqrt(x)", "x=0"], {"f": 0.0, "df/dx": math.inf},
     "df/dx = inf is not finite: ∂f/∂x of f = sqrt(x) at x = 0 is inf"),
    # d/dy of a negative base: undefined (PyTorch says nan too); d/dx is an ordinary number.
    (["x ** y", "x=-2", "y=2"], {"f": 4.0, "df/dx": -4.0, "df/dy": math.nan},
     "df/dy = nan is not finite: ∂f/∂y of f = x ** y at x = -2, y = 2 is nan"),
    # An overflow: IEEE arithmetic says inf.
    (["exp(x)", "x=1000"], {"f": math.inf, "df/dx": math.inf},
     "f = inf and df/dx = inf are not finite: f = exp(x) overflows at x = 1000"),
    (["x*y + 10**10**10", "x=1", "y=2"], {"f": math.inf, "df/dx": 2.0, "df/dy": 1.0},
     "f = inf is not finite: col 9: 10.0 ** 10000000000.0 overflows to inf"),
    (["x*y", "x=inf", "y=0"], {"f": math.nan, "df/dx": 0.0, "df/dy": math.inf},
     "f = nan and df/dy = inf are not finite: x = inf was given"),
])
def test_an_answer_that_is_not_finite_is_printed_with_a_note(
        args: list[str], expected: dict[str, float], note: str) -> None:
    result = run("grad", *args)
    assert result.returncode == 0
    got = numbers(result.stdout)
    assert list(got) == list(expected)
    for name, number in expected.items():
        assert got[name] == number or (math.isnan(got[name]) and math.isnan(number)), name
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"autograd-mini: note: {note}")


def test_a_finite_answer_has_no_note() -> None:
    assert cli("grad", "x ** y", "x=2", "y=2")[2] == ""


def test_a_long_bad_value_is_refused_at_once(tmp_path: Path) -> None:
    # The number pattern used to backtrack quadratically: 100,000 digits took minutes.
    # Refused in a real process, under a timeout far above the milliseconds it takes.
    for bad in ["1" * 100_000 + "x", "1." + "1" * 100_000 + "x", "1e" + "1" * 100_000 + "e"]:
        result = subprocess.run([sys.executable, "-m", "autograd_mini", "grad", "x", f"x={bad}"],
                                capture_output=True, encoding="utf-8", env=ENV, timeout=60)
        assert result.returncode == 2
        assert result.stderr.endswith(f"{bad[-20:]}' is not a number (write it like 2, -0.5, "
                                      "1e-3 or inf)\n")


def test_svg_to_standard_output_is_the_drawing_alone(tmp_path: Path) -> None:
    # The numbers go to stderr, so stdout is one SVG file, ready for a pipe or a redirect.
    result = run("grad", "x*x", "x=3", "--svg", "/dev/stdout")
    assert result.returncode == 0
    assert ET.fromstring(result.stdout.encode()).tag == f"{SVG}svg"
    assert numbers(result.stderr) == {"f": 9.0, "df/dx": 6.0}
    # Standard output redirected to a file: the file holds the drawing, as the user asked.
    out = tmp_path / "out.svg"
    with out.open("w") as f:
        code = subprocess.run([sys.executable, "-m", "autograd_mini", "demo", "--svg",
                               "/dev/stdout"], stdout=f, stderr=subprocess.PIPE, env=ENV,
                              cwd=tmp_path, timeout=300).returncode
    assert code == 0
    assert ET.parse(out).getroot().tag == f"{SVG}svg"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.svg"]
    # Both sent to /dev/null: silence, not the numbers moved to stderr.
    with open(os.devnull, "w") as null:
        result = subprocess.run([sys.executable, "-m", "autograd_mini", "grad", "x*x", "x=3",
                                 "--svg", os.devnull], stdout=null, stderr=subprocess.PIPE,
                                encoding="utf-8", env=ENV, timeout=300)
    assert (result.returncode, result.stderr) == (0, "")


def forbid_replacing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make renaming fail loudly, so a test against a real device can never replace it."""
    def refuse(src: object, dst: object) -> None:
        raise AssertionError(f"renamed over {dst}")

    monkeypatch.setattr(os, "replace", refuse)
    monkeypatch.setattr(os, "rename", refuse)


def test_a_device_is_written_into_never_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_replacing(monkeypatch)
    code, out, err = cli("grad", "x*x", "x=2", "--svg", "/dev/null")
    assert (code, err) == (0, "")
    assert out.endswith("graph written to /dev/null\n")
    code, out, err = cli("train", "xor", "--epochs", "2", "--save", "/dev/full")
    assert_one_line_error(code, out, err.splitlines(keepends=True)[-1],
                          "cannot write '/dev/full': No space left on device")
    for device in ("/dev/null", "/dev/full"):
        assert Path(device).is_char_device()


def test_a_fifo_gets_the_drawing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader is there: no waiting
    try:
        forbid_replacing(monkeypatch)
        code, _out, err = cli("grad", "x*x", "x=2", "--svg", str(fifo))
        received = os.read(reader, 1 << 20)
    finally:
        os.close(reader)
    assert (code, err) == (0, "")
    assert ET.fromstring(received).tag == f"{SVG}svg"
    assert fifo.is_fifo() and sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_files_that_cannot_be_written_say_why(tmp_path: Path) -> None:
    # /proc/version exists: "No such file or directory" was untrue.
    assert_one_line_error(*cli("grad", "x", "x=1", "--svg", "/proc/version"),
                          "cannot write '/proc/version': Permission denied (the file is "
                          "read-only, mode 0444)")
    ro = tmp_path / "ro.json"
    ro.write_text("keep")
    ro.chmod(0o444)  # refused even for the superuser, who may write anything
    assert_one_line_error(*cli("train", "xor", "--save", str(ro)), "read-only, mode 0444")
    assert ro.read_text() == "keep"


def test_os_errors_are_ordinary_messages(tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "autograd_mini", "grad", "x*x", "x=2"],
                                stdout=full, stderr=subprocess.PIPE, encoding="utf-8", env=ENV,
                                timeout=300)
    assert result.returncode == 2
    assert result.stderr == "autograd-mini: error: cannot write the output: " \
                            "No space left on device\n"


def test_out_of_memory_is_an_ordinary_message(monkeypatch: pytest.MonkeyPatch) -> None:
    import autograd_mini.cli as cli_module

    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(cli_module, "parse", exhausted)
    assert_one_line_error(*cli("grad", "x", "x=1"), "out of memory")


def test_train_with_stderr_closed_trains() -> None:
    result = subprocess.run(["sh", "-c", 'exec "$0" -m autograd_mini train xor --epochs 5 2>&-',
                             sys.executable], capture_output=True, encoding="utf-8", env=ENV,
                            timeout=300)
    assert result.returncode == 0
    assert result.stdout.startswith("final loss ")


# --- train compiles its step: the same losses, printed the same

@pytest.mark.parametrize("dataset", ["xor", "moons", "spirals"])
def test_train_prints_the_same_losses_compiled_or_not(dataset: str) -> None:
    compiled = cli("train", dataset, "--epochs", "12")
    plain = cli("train", dataset, "--epochs", "12", "--no-compile")
    assert compiled[0] == plain[0] == 0
    assert compiled == plain
    assert "epoch 12/12" in compiled[2]


@pytest.mark.parametrize("dataset", ["xor", "moons"])
def test_a_compiled_epoch_is_the_uncompiled_one_to_the_last_bit(dataset: str) -> None:
    from autograd_mini.cli import _fit

    task = _tasks()[dataset]
    seen: dict[bool, list[float]] = {True: [], False: []}
    for compiled in seen:
        _fit(task, 12, task.lr, 0, task.hidden, lambda _, loss, c=compiled: seen[c].append(loss),
             compiled=compiled)
    assert seen[True] == seen[False] and len(seen[True]) == 12
