"""The README's Python examples run as written and print what the README shows."""

import re
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
    assert all(target["met"] for target in results["targets"])
