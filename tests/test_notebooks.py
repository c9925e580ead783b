"""The notebooks: committed executed, run headless without an error, and say what they should.

Each notebook is run once (in a fresh kernel, by ``tools/run_notebooks.py``),
then its outputs are searched for the numbers it exists to show. The same
checks run on the committed copy, and the committed outputs must be what the
run shows, so a stale or blank notebook is caught too.
"""

from __future__ import annotations

import functools
import html
import math
import re
import sys
from pathlib import Path

import nbformat
import pytest

from autograd_mini.trace import fmt
from autograd_mini.viz import HIGHLIGHT

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import run_notebooks  # noqa: E402

PATHS = run_notebooks.notebook_paths()
IDS = [p.stem for p in PATHS]
MAX_BYTES = 1_000_000  # a notebook is read on a code host: keep it light


@functools.cache
def executed(stem: str) -> nbformat.NotebookNode:
    """The notebook run now, in a fresh kernel (once per test session)."""
    return run_notebooks.execute(run_notebooks.NOTEBOOKS / f"{stem}.ipynb")


def committed(stem: str) -> nbformat.NotebookNode:
    return nbformat.read(run_notebooks.NOTEBOOKS / f"{stem}.ipynb", as_version=4)


VERSIONS = {"executed": executed, "committed": committed}


def printed(nb: nbformat.NotebookNode) -> str:
    """Everything the code cells showed as text: printed lines and plain-text results."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                parts.append(out.text)
            elif "text/plain" in out.get("data", {}):
                parts.append(out.data["text/plain"])
    return "\n".join(parts)


def images(nb: nbformat.NotebookNode, mime: str) -> list[str]:
    """The images of one type; SVG text unescaped (Graphviz writes '-' as '&#45;')."""
    return [html.unescape(out.data[mime]) for cell in nb.cells for out in cell.get("outputs", [])
            if mime in out.get("data", {})]


def markdown(nb: nbformat.NotebookNode) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def number_after(text: str, prefix: str) -> float:
    """The number printed right after ``prefix`` (exactly one such line)."""
    found = re.findall(re.escape(prefix) + r"\s*(\S+)", text)
    assert len(found) == 1, f"expected one line with {prefix!r}, found {len(found)}"
    return float(found[0])


# --- every notebook


def test_all_eight_are_there() -> None:
    assert IDS == ["01-quickstart", "02-worked-example", "03-four-equations",
                   "04-xor-gradient-descent", "05-moons-and-spirals", "06-gradient-checking",
                   "07-your-own-operation", "08-compile"]


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_committed_with_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code"
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name} was not saved from one run top to bottom (execution counts {counts}): "
        "run `make notebooks`")
    errors = [out.ename for c in code for out in c.outputs if out.output_type == "error"]
    assert not errors, f"{path.name} was saved with errors: {errors}"
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size:,} bytes"


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_runs_headless_without_stderr(path: Path) -> None:
    nb = executed(path.stem)  # raises NotebookError naming the cell that failed
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    stderr = [out.text for c in code for out in c.outputs
              if out.output_type == "stream" and out.name == "stderr"]
    assert not stderr, f"{path.name} writes to stderr (a warning?): {stderr}"


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_committed_outputs_are_what_it_shows_now(path: Path) -> None:
    stale = run_notebooks.differences(committed(path.stem), executed(path.stem))
    assert not stale, f"{path.name} is stale: {stale}; run `make notebooks`"


# --- what each notebook shows; checked on the fresh run and on the committed copy


@pytest.mark.parametrize("version", VERSIONS)
def test_quickstart(version: str) -> None:
    nb = VERSIONS[version]("01-quickstart")
    text = printed(nb)
    e = math.tanh(2.0 * -1.5 + 2.0)  # e = tanh(a·b + a) at a = 2, b = -1.5
    assert f"∂e/∂a = {fmt((1 - e * e) * (-1.5 + 1))}" in text
    assert f"∂e/∂b = {fmt((1 - e * e) * 2.0)}" in text
    # a receives two shares, one per path, and the trace names both
    assert f"∂e/∂a += ∂e/∂d · ∂d/∂a = {fmt(1 - e * e)} × 1" in text
    assert f"∂e/∂a += ∂e/∂c · ∂c/∂a = {fmt(1 - e * e)} × -1.5" in text
    assert "identical: True" in text
    assert "gradcheck: True" in text
    assert "gradient mismatch at 1 input(s)" in text and "engine 0.0" in text
    before, after, *stepped = images(nb, "image/svg+xml")
    assert "grad 0<" in before and f"grad {fmt((1 - e * e) * -0.5, 4)}<" in after
    assert HIGHLIGHT not in before + after
    share = f"+= {fmt((1 - e * e) * -1.5, 4)}<"  # the edge from a into c, labelled
    assert any(HIGHLIGHT in svg and share in svg for svg in stepped)


@pytest.mark.parametrize("version", VERSIONS)
def test_worked_example(version: str) -> None:
    nb = VERSIONS[version]("02-worked-example")
    text = printed(nb)
    assert "E to full precision: 0.29837110876" in text
    # the updated weights, as the chain rule gives them
    for name, updated in [("w1", "0.149780716"), ("w2", "0.199561432"),
                          ("w3", "0.249751144"), ("w4", "0.299502287"),
                          ("w5", "0.35891648"), ("w6", "0.408666186"),
                          ("w7", "0.51130127"), ("w8", "0.561370121")]:
        assert re.search(rf"^{name} = .* = {re.escape(updated)}$", text, re.M), name
    # the documents' w6, w7 reproduced by the element-wise update, and told apart
    assert "the documents print: (0.40891648, 0.51137012)  same: True" in text
    assert "the documents print: (0.19975043, 0.24956268)  same: True" in text
    assert text.count("outer product equals the engine: True") == 2  # both layers
    assert re.search(r"^w6 +0\.408666186 +0\.40891648 +0\.408666186$", text, re.M)
    assert re.search(r"^w7 +0\.51130127 +0\.51137012 +0\.51130127$", text, re.M)
    assert re.search(r"^w2 +0\.199561432 +0\.19975043 +0\.199561432$", text, re.M)
    assert "broadcast (documents):  ['0.01405175', '0.00634091']" in text
    chain = re.search(r"chain rule, plain: +(\[.*\])", text).group(1)
    assert f"engine:                 {chain}" in text
    after = number_after(text, "E at step 10,000 (after 9,999 updates):")
    assert abs(after - 3.5108548e-05) < 5e-13
    words = markdown(nb)
    assert "outer product" in words and "element-wise" in words
    assert r"\delta_j \cdot \text{out}_{h_k}" in words
    svgs = images(nb, "image/svg+xml")
    assert any(HIGHLIGHT in svg and "net_o1" in svg for svg in svgs)
    assert images(nb, "image/png"), "the training curve is missing"


@pytest.mark.parametrize("version", VERSIONS)
def test_four_equations(version: str) -> None:
    nb = VERSIONS[version]("03-four-equations")
    text = printed(nb)
    rows = re.findall(r"^(BP[1-4]) .* (\S+)$", text, re.M)
    assert [name for name, _ in rows] == ["BP1", "BP2", "BP3", "BP4"]
    assert all(float(diff) < 1e-12 for _, diff in rows), rows
    assert number_after(text, "max abs difference, all four equations:") < 1e-12
    assert number_after(text, "max abs difference over all networks:") < 1e-12
    assert "∂E/∂w6 = δ_o1 · out_h2 = 0.082667628" in text
    words = markdown(nb)
    for name in ["BP1", "BP2", "BP3", "BP4"]:
        assert f"**{name}**" in words or rf"\textbf{{{name}}}" in words
    # where the equations and the worked network come from, by name
    assert "《第二节,神经网络中反向传播四个基本公式证明——BackPropagation》" in words
    assert "Michael Nielsen's *Neural Networks and Deep Learning*" in words
    assert "《一文弄懂神经网络中的反向传播法——BackPropagation》" in words and "Mazur" in words
    assert "the documents'" not in words  # not without saying which


@pytest.mark.parametrize("version", VERSIONS)
def test_xor_gradient_descent(version: str) -> None:
    nb = VERSIONS[version]("04-xor-gradient-descent")
    text = printed(nb)
    assert "with 17 parameters" in text
    finals = {}
    for method, updates in (("batch", 2000), ("mini-batch", 4000), ("stochastic", 8000)):
        row = re.search(rf"^{method} +\d+ +\d+ +{updates} +(\S+) +(\S+)$", text, re.M)
        assert row, method
        start, finals[method] = map(float, row.groups())
        assert finals[method] < start / 100  # each way learns XOR from the same start
    assert finals["stochastic"] < finals["mini-batch"] < finals["batch"]
    assert "every output is on the correct side of 0.5" in text
    words = markdown(nb)  # the network and the three methods, credited by name
    assert "the XOR network of\n《BP神经网络——从原理到实现》" in words
    assert "《神经网络的反向传播是什么》" in words and "《反向传播算法(过程及公式推导)》" in words
    assert images(nb, "image/png"), "the loss curves are missing"


@pytest.mark.parametrize("version", VERSIONS)
def test_moons_and_spirals(version: str) -> None:
    nb = VERSIONS[version]("05-moons-and-spirals")
    text = printed(nb)
    moons = re.search(r"moons: training accuracy ([\d.]+)%", text)
    spirals = re.search(r"spirals: training accuracy ([\d.]+)%", text)
    assert moons and float(moons.group(1)) >= 97.0
    assert spirals and float(spirals.group(1)) >= 90.0
    assert "with 337 parameters" in text and "with 371 parameters" in text
    assert len(images(nb, "image/png")) >= 2, "the decision boundaries are missing"
    collapsed = [svg for svg in images(nb, "image/svg+xml") if "16 × relu" in svg]
    assert collapsed and "‖∇params‖" in collapsed[0]


@pytest.mark.parametrize("version", VERSIONS)
def test_compile(version: str) -> None:
    nb = VERSIONS[version]("08-compile")
    text = printed(nb)
    # the generated program of the small graph, beside its drawing
    assert "def compiled(w, b):" in text and "g_w += g_v1 * x" in text
    side_by_side = [h for h in images(nb, "text/html") if "<svg" in h and "<pre" in h]
    assert side_by_side and "def compiled(w, b):" in side_by_side[0]
    assert text.count(") True") == 3  # equal to grad() at three points
    assert "elif v3 < 0:" in text  # abs's kink, decided when it runs
    assert "the same losses, to the last bit: True" in text
    assert "compiled steps faster: True" in text
    assert images(nb, "image/png"), "the timing chart is missing"


@pytest.mark.parametrize("version", VERSIONS)
def test_gradient_checking(version: str) -> None:
    nb = VERSIONS[version]("06-gradient-checking")
    text = printed(nb)
    assert "my_sigmoid passes: True" in text
    assert "buggy_sigmoid fails: gradient mismatch at 2 input(s)" in text
    assert "leaky_square fails: gradient mismatch at 1 input(s)" in text
    assert "second order: second derivative d/dx0 mismatch" in text
    for order in ("tanh'(0.6)", "tanh''(0.6)", "tanh'''(0.6)"):
        engine, closed = re.search(
            rf"^{re.escape(order)} +engine (\S+) +closed form (\S+)$", text, re.M).groups()
        assert engine == closed, order
    assert "Hessian  [[-1.0, 3.0], [3.0, -3.0]]  expected [[-1.0, 3.0], [3.0, -3.0]]" in text
    assert re.search(r"^ +\d +2\.250000000000000 ", text, re.M)  # Newton reaches 9/4
    assert "1.414213562373095" in text  # and √2
    assert images(nb, "image/png"), "the error-versus-eps plot is missing"


@pytest.mark.parametrize("version", VERSIONS)
def test_your_own_operation(version: str) -> None:
    nb = VERSIONS[version]("07-your-own-operation")
    text = printed(nb)
    assert "on a Value:  Value(data=1.3132616875182228, grad=0.0)  op: softplus" in text
    # gradcheck fails on the slip and its message names the softplus nodes
    assert "gradient mismatch at 9 input(s):" in text
    assert re.search(r"local derivatives that disagree \(check_graph\):\n  'softplus' node", text)
    # check_graph: exactly the three hidden units, σ(-z) against σ(z)
    assert "check_graph found 3 mismatching local derivative(s):" in text
    assert "the nodes: ['h1', 'h2', 'h3']" in text
    z = -0.49
    s_minus, s_plus = 1 / (1 + math.exp(z)), 1 / (1 + math.exp(-z))
    assert f"σ(-z) = {fmt(s_minus)},  σ(z) = {fmt(s_plus)},  sum 1" in text
    drawn = [svg for svg in images(nb, "image/svg+xml") if HIGHLIGHT in svg]
    assert len(drawn) == 1 and f"rule {fmt(s_minus, 4)} ≠ {fmt(s_plus, 4)}" in drawn[0]
    # the fix, and the second derivative through the rule
    assert "gradcheck: True\ncheck_graph: []" in text
    s07 = 1 / (1 + math.exp(-0.7))
    engine, closed = re.search(r"^softplus''\(0\.7\) +engine (\S+) +closed form (\S+)$",
                               text, re.M).groups()
    assert engine == closed == fmt(s07 * (1 - s07))
    assert "gradgradcheck: True" in text


# --- the runner itself


def write_notebook(path: Path, *sources: str) -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)
    return path.read_bytes()


def test_runner_writes_outputs_and_runs_in_the_notebooks_folder(tmp_path: Path) -> None:
    path = tmp_path / "t.ipynb"
    write_notebook(path, "import os\nprint(os.getcwd())", "6 * 7")
    assert run_notebooks.main(["--write", str(path)]) == 0
    nb = nbformat.read(path, as_version=4)
    assert [c.execution_count for c in nb.cells] == [1, 2]
    assert nb.cells[0].outputs[0].text.strip() == str(tmp_path)
    assert nb.cells[1].outputs[0].data["text/plain"] == "42"
    assert [p.name for p in tmp_path.iterdir()] == ["t.ipynb"]  # no temporary file left


def test_runner_gives_the_same_outputs_on_every_run(tmp_path: Path) -> None:
    path = tmp_path / "t.ipynb"
    # each flush sends a piece of text of its own; a default repr has an address
    write_notebook(path, "import sys\nfor k in range(4):\n    print(k)\n    sys.stdout.flush()",
                   "class Thing:\n    pass\n\nThing()")
    nb = run_notebooks.execute(path)
    assert [(o.name, o.text) for o in nb.cells[0].outputs] == [("stdout", "0\n1\n2\n3\n")]
    assert nb.cells[1].outputs[0].data["text/plain"] == "<__main__.Thing>"


def test_runner_reports_a_stale_notebook_and_leaves_it(tmp_path: Path, capsys) -> None:
    path = tmp_path / "t.ipynb"
    write_notebook(path, "print('same')", "print(6 * 7)")
    assert run_notebooks.main(["--write", str(path)]) == 0
    assert run_notebooks.main([str(path)]) == 0  # just written: current
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source = "print(6 * 9)"  # edited, not run again
    nbformat.write(nb, path)
    before = path.read_bytes()
    capsys.readouterr()
    assert run_notebooks.main([str(path)]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("STALE ") and "cell 2 of 2 ('print(6 * 9)')" in line
    assert "saved 'stdout: 42" in line and "now 'stdout: 54" in line and "make notebooks" in line
    assert path.read_bytes() == before  # checking never writes


def svg(version: str, x: float, label: str) -> str:
    return (f'<?xml version="1.0"?>\n<!-- Generated by graphviz version {version} -->\n'
            f'<svg><title>%{version[0]}</title><g id="n0"><text x="{x}">{label}</text>'
            f"<text x=\"{x}\">grad &#45;0.5</text></g></svg>")


def test_stale_means_different_words_or_numbers_not_another_renderer() -> None:
    def notebook(*outputs: dict) -> nbformat.NotebookNode:
        cell = nbformat.v4.new_code_cell("show()")
        cell.outputs = [nbformat.v4.new_output("display_data", data=d) for d in outputs]
        return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# t"), cell])

    saved = notebook({"image/svg+xml": svg("2.43.0", 1.5, "x"), "text/plain": "<Digraph>"},
                     {"image/png": "iVBORw0KGgoAAAA"})
    # another Graphviz (coordinates, comment, title) and other PNG bytes: the same
    same = notebook({"image/svg+xml": svg("9.0.0", 7.25, "x"), "text/plain": "<Digraph>"},
                    {"image/png": "iVBORw0KGgoBBBB"})
    assert run_notebooks.differences(saved, same) == ""
    relabelled = notebook({"image/svg+xml": svg("2.43.0", 1.5, "y"), "text/plain": "<Digraph>"},
                          {"image/png": "iVBORw0KGgoAAAA"})
    assert "cell 2 of 2 ('show()')" in run_notebooks.differences(saved, relabelled)
    no_picture = notebook({"image/svg+xml": svg("2.43.0", 1.5, "x"), "text/plain": "<Digraph>"})
    assert "image/png" in run_notebooks.differences(saved, no_picture)


def test_runner_reports_each_failing_notebook_on_one_line(tmp_path: Path, capsys) -> None:
    bad, worse = tmp_path / "bad.ipynb", tmp_path / "worse.ipynb"
    before = write_notebook(bad, "x = 1", "x / 0", "print('never')")
    write_notebook(worse, "raise ValueError('first line\\nsecond line')")
    assert run_notebooks.main(["--write", str(bad), str(worse)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and all(line.startswith("FAILED ") for line in lines)
    assert lines[0].endswith("bad.ipynb: cell 2 of 3 ('x / 0'): "
                             "ZeroDivisionError: division by zero")
    assert lines[1].endswith("ValueError: first line (...)")
    assert bad.read_bytes() == before  # a failed notebook is never written


def test_runner_refuses_an_unknown_name(capsys) -> None:
    assert run_notebooks.main(["no-such-notebook"]) == 2
    err = capsys.readouterr().err
    assert "no notebook 'no-such-notebook'" in err and "01-quickstart" in err


def test_runner_names_a_cell_that_runs_too_long(tmp_path: Path) -> None:
    path = tmp_path / "slow.ipynb"
    write_notebook(path, "import time\ntime.sleep(60)")
    with pytest.raises(run_notebooks.NotebookError, match=r"cell 1 of 1 .*still running after 1 s"):
        run_notebooks.execute(path, timeout=1)
