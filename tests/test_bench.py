"""The benchmark measures honest work: its hand-written floor computes exactly the
engine's loss and gradients, and its smoke run produces a complete report.

No timing is asserted here; the benchmark reports speed, the tests check correctness.
"""

import doctest
import json
import math
import platform
import subprocess
import sys
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH_DIR))

import bench  # noqa: E402
import handwritten  # noqa: E402


def engine_loss_and_grads(net: list) -> tuple[float, list]:
    """autograd_mini's loss and gradients on the benchmark's network and data."""
    xs, ys = bench.moons_data()
    model = bench.ours_model()
    bench.set_weights(model, net)
    loss = bench.ours_loss(model, xs, ys)
    loss.backward()
    grads = [
        ([[w.grad for w in n.w] for n in layer.neurons], [n.b.grad for n in layer.neurons])
        for layer in model.layers
    ]
    return loss.data, grads


def active_points(net: list) -> int:
    """How many points have a nonzero hinge loss under ``net``."""
    xs, ys = bench.moons_data()
    count = 0
    for x, y in zip(xs, ys):
        a = x
        for i, (W, b) in enumerate(net):
            z = [sum(w * ak for w, ak in zip(row, a)) + bj for row, bj in zip(W, b)]
            a = z if i == len(net) - 1 else [max(v, 0.0) for v in z]
        count += 1 - y * a[0] > 0
    return count


def start_weights() -> list:
    return bench.get_weights(bench.ours_model())


def trained_weights() -> list:
    """Weights after some hand-written training: many points then lie beyond the
    margin, so the floor's shortcut for them is exercised too."""
    xs, ys = bench.moons_data()
    net = start_weights()
    for _ in range(60):
        handwritten.train_step(net, xs, ys, bench.ALPHA, 0.5)
    return net


@pytest.mark.parametrize("weights", [start_weights, trained_weights])
def test_handwritten_floor_equals_engine(weights) -> None:
    net = weights()
    xs, ys = bench.moons_data()
    hand_loss, hand_grads = handwritten.loss_and_grads(net, xs, ys, bench.ALPHA)
    loss, grads = engine_loss_and_grads(net)
    assert hand_loss == pytest.approx(loss, rel=1e-12, abs=1e-12)
    hand_flat, flat = bench.flat(hand_grads), bench.flat(grads)
    assert len(hand_flat) == len(flat) == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    for h, g in zip(hand_flat, flat):
        assert h == pytest.approx(g, rel=1e-12, abs=1e-12)
    assert max(map(abs, flat)) > 1e-3  # a real gradient, not all zeros


def test_trained_weights_leave_some_points_beyond_the_margin() -> None:
    # Without this, the parametrized test above would not reach the floor's
    # "no loss, no gradient" branch.
    assert 0 < active_points(trained_weights()) < bench.N_POINTS
    assert active_points(start_weights()) > 0


def test_handwritten_step_is_gradient_descent() -> None:
    xs, ys = bench.moons_data()
    net = start_weights()
    before = bench.flat(net)
    loss, grads = handwritten.loss_and_grads(net, xs, ys, bench.ALPHA)
    assert handwritten.train_step(net, xs, ys, bench.ALPHA, 0.1) == loss
    for p0, g, p1 in zip(before, bench.flat(grads), bench.flat(net)):
        assert p1 == p0 - 0.1 * g


def test_handwritten_doctest() -> None:
    assert doctest.testmod(handwritten).failed == 0


def test_quick_run_writes_a_complete_report(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    run = subprocess.run(
        [sys.executable, str(BENCH_DIR / "bench.py"), "--quick", "--json", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "training step" in run.stdout and "met" in run.stdout
    # what it is measuring, as it goes (a full run is silent for a minute otherwise)
    assert run.stderr.splitlines() == ["[1/4] training step ...", "[2/4] chain of 10,000 nodes ...",
                                       "[3/4] memory per node ...", "[4/4] inference ..."]
    r = json.loads(out.read_text())
    assert r["quick"] is True and r["python"] == platform.python_version()

    t = r["training_step"]
    for name in ("autograd_mini", "hand-written"):
        assert t[name]["median"] > 0 and len(t[name]["samples"]) >= 1
    assert t["ours_over_handwritten"] == pytest.approx(
        t["autograd_mini"]["median"] / t["hand-written"]["median"])
    assert 0 < t["active_points"] <= bench.N_POINTS

    d = r["deep_graph"]
    ours = d["autograd_mini"]
    assert ours["outcome"] == "works"  # the chain's gradients were checked in closed form
    assert ours["build_us_per_node"] > 0 and ours["backward_us_per_node"] > 0
    assert d["recursion_limit"] == sys.getrecursionlimit()

    m = r["memory"]
    assert m["nodes"] > 0 and 0 < m["autograd_mini"] < 10_000
    assert m["autograd_mini"] < m["autograd_mini_after_backward"] < 10_000  # grads take room

    i = r["inference"]
    assert i["recording"]["median"] > 0 and i["no_grad"]["median"] > 0
    assert math.isfinite(i["recording_over_no_grad"])

    # micrograd is an optional extra: when it is there, it is measured, and its
    # recursive topological sort fails on the deep chain.
    if r["micrograd"] is None:
        assert t["micrograd"] is None and t["micrograd_over_ours"] is None
        assert d["micrograd"] is None and m["micrograd"] is None
    else:
        assert t["micrograd"]["median"] > 0 and t["micrograd_over_ours"] > 0
        assert d["micrograd"]["outcome"].startswith("RecursionError")
        assert d["micrograd"]["backward_us_per_node"] is None
        assert m["micrograd"] > 0

    # the compiled step: the same work (checked against the others before timing)
    assert t["compiled"]["median"] > 0
    assert t["compiled_over_handwritten"] == pytest.approx(
        t["compiled"]["median"] / t["hand-written"]["median"])
    assert t["compile"]["median"] > 0 and t["compile"]["nodes"] > 5000
    assert t["break_even_steps"] is None or t["break_even_steps"] >= 1

    targets = r["targets"]
    assert len(targets) == 8
    assert all(v["met"] in (True, False, None) and v["target"] and v["measured"]
               for v in targets)
    assert targets[2]["met"] is True  # the chain works at the default recursion limit


def test_bad_repeat_is_a_clear_error(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        bench.main(["--repeat", "0"])
    assert exit_.value.code == 2
    assert "--repeat must be at least 1, got 0" in capsys.readouterr().err
