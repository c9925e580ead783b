"""The README's Python examples run as written and print what the README shows."""

import io
import re
import shlex
import subprocess
from contextlib import redirect_stdout
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
# A python block, and the text block right after it when the README shows its output.
EXAMPLES = re.findall(r"```python\n(.*?)```\n(?:\n```text\n(.*?)```)?", README, re.S)


def test_readme_has_examples_with_their_output() -> None:
    assert len(EXAMPLES) >= 3
    assert all(shown for _, shown in EXAMPLES), "every example shows its output"


@pytest.mark.parametrize(("code", "shown"), EXAMPLES,
                         ids=[f"example{i}" for i in range(len(EXAMPLES))])
def test_readme_example_prints_what_it_shows(code: str, shown: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})
    assert capsys.readouterr().out == shown


def test_readme_images_exist() -> None:
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert images
    for image in images:
        assert (ROOT / image).is_file(), image


def test_readme_graph_is_the_worked_example() -> None:
    """The drawn graph is the project's own SVG of the worked example, with its numbers."""
    import xml.etree.ElementTree as ET

    svg = ET.parse(ROOT / "docs" / "worked-example.svg").getroot()
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    for name in ["i1", "i2", *(f"w{k}" for k in range(1, 9)), "net_o1", "out_o2", "E"]:
        assert name in texts
    assert "data 0.2984" in texts and "grad 0.08217" in texts  # E, and ∂E/∂w5


def test_readme_performance_table_is_the_committed_benchmark_run() -> None:
    """The numbers quoted are those of benchmarks/results.json, and they meet the targets."""
    import json

    results = json.loads((ROOT / "benchmarks" / "results.json").read_text(encoding="utf-8"))
    assert not results["quick"]
    step = results["training_step"]
    assert f"**{step['micrograd_over_ours']:.1f}×** faster than micrograd" in README
    assert f"**{step['ours_over_handwritten']:.2f}×** the hand-written floor" in README
    assert f"| {step['autograd_mini']['median'] * 1e3:.1f} ms |" in README
    assert f"| {results['memory']['autograd_mini']:.0f} B |" in README
    assert step["micrograd_over_ours"] >= 25 and step["ours_over_handwritten"] <= 3
    # the compiled step, its compile time and when compiling pays off
    assert f"| {step['compiled']['median'] * 1e3:.2f} ms |" in README
    assert f"| {step['compile']['median']:.2f} s |" in README
    assert f"**{step['compiled_over_handwritten']:.2f}×** the hand-written floor" in README
    assert f"**{step['micrograd_over_compiled']:.0f}×** faster than micrograd" in README
    assert f"pays for itself after **{step['break_even_steps']} steps**" in README
    assert step["compiled_over_handwritten"] <= 0.7 and step["micrograd_over_compiled"] >= 150
    assert step["compile"]["median"] <= 1.5
    assert all(target["met"] for target in results["targets"])


# --- what a new user types: the set-up, the command, the targets

COMMANDS = re.findall(r"```console\n(.*?)```", README, re.S)


def test_readme_shows_how_to_reach_what_make_installed() -> None:
    assert "source .venv/bin/activate" in README
    assert ".venv/bin/autograd-mini" in README  # or without activating
    assert "make lab" in README


def test_every_make_target_the_readme_names_exists() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([\w.-]+):", makefile, re.M))
    named = set(re.findall(r"`make (\w+)`|^make (\w+)", README, re.M))
    named = {a or b for a, b in named}
    assert {"demo", "test", "lab", "notebooks", "docs", "bench", "clean"} <= named
    assert named <= targets, named - targets


def make_plan(target: str, tmp_path: Path) -> str:
    """The commands ``make target`` would run on a fresh clone (no .venv yet), not run."""
    result = subprocess.run(["make", "-n", "-C", str(ROOT), target, f"VENV={tmp_path / 'venv'}"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_make_demo_installs_only_what_the_demo_needs(tmp_path: Path) -> None:
    plan = make_plan("demo", tmp_path)
    installs = [line for line in plan.splitlines() if "pip install" in line and "-e" in line]
    assert len(installs) == 1 and installs[0].endswith("pip install --quiet -e .")  # no extras
    assert "autograd-mini demo" in plan


def test_make_lab_installs_jupyterlab_and_opens_the_notebooks(tmp_path: Path) -> None:
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert any(req.startswith("jupyterlab") for req in extras["lab"])
    assert any(req.startswith("matplotlib") for req in extras["lab"])  # the notebooks plot
    plan = make_plan("lab", tmp_path)
    assert "pip install --quiet -e '.[lab]'" in plan
    assert re.search(r"bin/jupyter lab notebooks\b", plan)


def test_readme_commands_print_what_it_shows() -> None:
    from autograd_mini.cli import main

    runs = [chunk for block in COMMANDS for chunk in re.split(r"^(?=\$ )", block, flags=re.M)
            if chunk.strip()]
    assert len(runs) >= 2
    for run in runs:
        command, _, shown = run.partition("\n")
        prog, *args = shlex.split(command.removeprefix("$ "))
        assert prog == "autograd-mini"
        out = io.StringIO()
        with redirect_stdout(out):
            assert main(args) == 0
        assert out.getvalue() == shown, command


# --- coming from micrograd: autograd_mini's side of the table


def test_coming_from_micrograd_holds_for_autograd_mini() -> None:
    from autograd_mini import Value, dot, grad, no_grad
    from autograd_mini import sum as vsum
    from autograd_mini.nn import MLP, Layer, Neuron

    section = README.split("## Coming from micrograd")[1].split("\n## ")[0]
    x, y = Value(3.0, label="x"), Value(2.0)
    assert (x * x).parents == (x, x) and isinstance((x * y).parents, tuple)
    assert [v.op for v in (x + y, x * y, x ** 2, x.relu(), x)] == ["+", "*", "**", "relu", ""]
    assert (x * 2).parents == (x,)  # the number is no node
    assert (x - y).op == "-" and (x / y).op == "/" and (2 ** x).parents == (x,)
    assert len(vsum([x, y, x]).parents) == 3 and dot([x, y], [y, x], x).op == "dot"
    assert Neuron(2).activation == "tanh" and 'Neuron(nin, activation="tanh")' in section
    net = MLP(2, [3, 1])
    assert (net.activation, net.output_activation) == ("tanh", "linear")
    assert MLP(2, [3, 1], seed=5).state_dict() == MLP(2, [3, 1], seed=5).state_dict()
    assert isinstance(Layer(2, 1)([1.0, 2.0]), list) and isinstance(net([1.0, 2.0]), Value)
    z = x * y
    z.backward()
    z.backward()
    assert (z.grad, x.grad) == (2.0, 4.0)  # the root's .grad accumulates too
    deep = x
    for _ in range(5000):  # deeper than micrograd's recursive sort can go
        deep = deep * 1.0
    deep.backward()
    assert grad(x * x, [x]) == [6.0]
    with no_grad():
        assert (x * y).parents == ()


# --- "the documents": named, with the originals they draw on

DOCUMENTS = ["《一文弄懂神经网络中的反向传播法——BackPropagation》",
             "《第二节,神经网络中反向传播四个基本公式证明——BackPropagation》",
             "《BP神经网络——从原理到实现》", "《神经网络的反向传播是什么》",
             "《反向传播算法(过程及公式推导)》"]


def test_readme_names_the_documents_and_their_sources() -> None:
    section = README.split("\n## The documents\n")[1].split("\n## ")[0]
    for title in DOCUMENTS:
        assert title in section
    assert 'Matt Mazur, "A Step by Step Backpropagation Example"' in section
    assert "Michael Nielsen, *Neural Networks and Deep Learning*, chapter 2" in section
    for name in ("the step-by-step example", "the four equations", "the XOR network",
                 "the gradient descent notes"):
        assert f"| {name} |" in section
    assert "[the documents](#the-documents)" in README  # where the words are first used


def test_plain_make_says_what_the_targets_do() -> None:
    result = subprocess.run(["make", "-s", "-C", str(ROOT)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stderr == ""
    listed = re.findall(r"^make (\w+) ", result.stdout, re.M)
    assert listed == ["demo", "test", "lab", "notebooks", "docs", "bench", "clean"]
    assert "source .venv/bin/activate" in result.stdout


def test_make_bench_leaves_the_committed_run_alone(tmp_path: Path) -> None:
    # The README quotes benchmarks/results.json (tested above): `make bench` on
    # another machine must not change it, or the next `make test` fails.
    plan = make_plan("bench", tmp_path)
    installs = [line for line in plan.splitlines() if "pip install" in line and "-e" in line]
    assert installs[-1].endswith("-e '.[bench]'")  # micrograd; not the dev extras
    assert not any("[dev]" in line for line in installs)
    (run,) = [line for line in plan.splitlines() if "benchmarks/bench.py" in line]
    assert run.endswith("benchmarks/bench.py --json bench-results.json")
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "/bench-results.json" in ignored
