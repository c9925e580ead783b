"""The autograd-mini command: the real program in a subprocess, bad input in-process for speed."""

from __future__ import annotations

import io
import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_mini.cli import main

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


def assert_one_line_error(code: int, stdout: str, stderr: str, fragment: str) -> None:
    assert code == 2
    assert stdout == ""
    assert "Traceback" not in stderr
    assert stderr.count("\n") == 1 and stderr.endswith("\n")
    assert stderr.startswith("autograd-mini: error: ")
    assert fragment in stderr


# --- grad: values and gradients

def test_grad_prints_value_and_gradients() -> None:
    result = run("grad", "x*y + exp(x) + log(y*y)/2", "x=2", "y=-3")
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
    code, out, err = cli("grad", *args)
    assert (code, err) == (0, "")
    got = numbers(out)
    assert list(got) == list(expected)  # in the order the variables were given
    assert got == pytest.approx(expected, rel=1e-15)


def test_grad_prints_full_precision() -> None:
    _, out, _ = cli("grad", "x/3", "x=1")
    assert numbers(out)["f"] == 1 / 3  # repr: every digit, the float round-trips


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
    assert lines[0] == "f = -9.0"
    # Three edges, in backward()'s order: f -> (a*b), f -> b, then (a*b) -> a and b.
    steps = [line.strip() for line in lines if line.startswith("  ")]
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
    (["grad", "10**10**10**10"], "col 7: 10.0 ** 10000000000.0 overflows to inf"),
    (["grad", "x**x", "x=1e3"], "col 2: 1000.0 ** 1000.0 overflows to inf"),
    (["grad", "exp(x)", "x=710"], "col 1: exp(710.0) overflows to inf"),
    (["grad", "sqrt(x)", "x=0"], "the gradient df/dx = inf is not a finite number"),
    (["grad", "x", "x=nan"], "the value x = nan is not a finite number"),
    (["grad", "x*y", "x=inf", "y=0"], "the value f = nan is not a finite number"),
    (["grad", "x\x1b", "x=1"], "col 2: unexpected character '\\x1b'"),
    (["grad", "x", "x=1\n2"], "'x=1\\n2'"),
    (["grad", "-x*y", "x=1"], "unrecognized arguments: -x*y (see 'autograd-mini grad --help')"),
    (["grad"], "the following arguments are required: EXPR"),
    (["grad", "x", "x=1", "--bogus"], "unrecognized arguments: --bogus"),
    (["nope"], "invalid choice: 'nope'"),
    ([], "the following arguments are required: COMMAND"),
    (["grad", "+".join(["x*x"] * 300), "x=1", "--svg", "big.svg"], "too many to draw"),
]


@pytest.mark.parametrize(("args", "fragment"), BAD)
def test_bad_input_is_one_line_and_status_2(args: list[str], fragment: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(*cli(*args), fragment)
    assert list(tmp_path.iterdir()) == []


def test_svg_to_a_directory_or_a_missing_folder(tmp_path: Path) -> None:
    assert_one_line_error(*cli("grad", "x", "x=1", "--svg", str(tmp_path)),
                          f"{str(tmp_path)!r} is a directory, not a file name")
    missing = tmp_path / "no" / "g.svg"
    assert_one_line_error(*cli("grad", "x", "x=1", "--svg", str(missing)), "no such directory")
    assert list(tmp_path.iterdir()) == []


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
    # A non-finite gradient: nothing is written, the old file stays.
    assert_one_line_error(*cli("grad", "sqrt(x)", "x=0", "--svg", str(old)), "not a finite")
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
        else:
            assert err == ""


@settings(max_examples=5, deadline=None, derandomize=True)
@given(argument_texts)
def test_any_expression_in_a_real_process(expr: str) -> None:
    result = run("grad", expr, "x=0.5", "y=2")
    assert result.returncode in (0, 2)
    assert "Traceback" not in result.stderr
    if result.returncode == 2:
        assert_one_line_error(result.returncode, result.stdout, result.stderr, "")


# --- help and the installed script

@pytest.mark.parametrize(("args", "mentions"), [
    (["--help"], ["grad"]),
    (["grad", "--help"], ["EXPR", "NAME=VALUE", "--steps", "--svg", "exp, log, tanh, sigmoid"]),
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


def test_the_installed_script_is_the_same_command() -> None:
    script = Path(sys.executable).with_name("autograd-mini")
    result = subprocess.run([str(script), "grad", "x*x", "x=3"], capture_output=True,
                            encoding="utf-8", env=ENV, timeout=300)
    assert (result.returncode, result.stdout, result.stderr) == (0, "f = 9.0\ndf/dx = 6.0\n", "")
