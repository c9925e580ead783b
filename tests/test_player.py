"""The step-by-step player: its positions in Python, then the saved page in a real browser.

The browser is the system's Chromium driven by playwright. Without Chromium
the browser tests are skipped here with a message; in CI (env CI set) a
missing Chromium fails them instead, so they never silently stop running.
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from autograd_mini import Value, example
from autograd_mini import sum as vsum
from autograd_mini.engine import walk
from autograd_mini.player import Player
from autograd_mini.trace import backward_steps, fmt, node_names
from autograd_mini.viz import HIGHLIGHT, player

ROOT = Path(__file__).resolve().parent.parent

# --- graphs, each built fresh on every call (the player and the reference never share one)


def small() -> Value:
    """e = tanh(a·b + a): a receives gradient along two paths."""
    a, b = Value(2.0, label="a"), Value(-1.5, label="b")
    c = a * b
    c.label = "c"
    d = c + a
    d.label = "d"
    e = d.tanh()
    e.label = "e"
    return e


def squared() -> Value:
    x = Value(3.0, label="x")
    y = x * x + x.exp()
    y.label = "y"
    return y


def worked() -> Value:
    return example.loss(example.network())


GRAPHS: dict[str, Callable[[], Value]] = {"small": small, "squared": squared, "worked": worked}


def reference(build: Callable[[], Value], k: int) -> dict[str, float]:
    """Every node's gradient after consuming k steps of backward_steps on a fresh graph."""
    root = build()
    names = node_names(root)
    steps = backward_steps(root)
    for _ in range(k):
        next(steps)
    return {name: v.grad for v, name in names.items()}


# --- in Python


def test_refuses_a_non_value() -> None:
    with pytest.raises(TypeError, match="player: root must be a Value, got float"):
        player(2.0)  # type: ignore[arg-type]


def test_positions_are_the_forward_pass_then_every_step() -> None:
    p = player(small())
    steps = list(backward_steps(small()))
    inner = [v for v in node_names(small()) if v.parents]
    assert p.positions == 1 + len(inner) + len(steps)
    assert p.texts[1:4] == ["c = a * b = -3", "d = c + a = -1",
                            f"e = tanh(d) = {fmt(math.tanh(-1.0))}"]
    assert p.texts[4:] == [s.explain() for s in steps]


@pytest.mark.parametrize("graph", GRAPHS)
def test_every_position_holds_the_true_snapshot(graph: str) -> None:
    build = GRAPHS[graph]
    p = player(build())
    start = p.positions - len(p.steps)
    assert all(g is None for g in p.grads[:start])
    for k in range(1, len(p.steps) + 1):
        assert p.grads[start + k - 1] == reference(build, k), f"after step {k}"


def test_the_graph_keeps_its_gradients() -> None:
    e = small()
    e.backward()
    before = {v: v.grad for v in walk(e)}
    player(e)
    assert {v: v.grad for v in walk(e)} == before


def test_running_sum_where_two_paths_meet() -> None:
    root = worked()
    p = player(root)
    names = node_names(root)
    out_h1 = next(v for v, n in names.items() if n == "out_h1")
    shares = [s.contribution for s in backward_steps(worked()) if s.parent.label == "out_h1"]
    assert len(shares) == 2 and shares[0] < 0 < shares[1]
    line = next(t for t in p.sums if t.startswith("∂E/∂out_h1 =") and "+" in t)
    assert line.startswith(f"∂E/∂out_h1 = (−{fmt(-shares[0], 4)}) + {fmt(shares[1], 4)} = "
                           f"{fmt(shares[0] + shares[1], 4)}")
    assert "all 2 paths" in line
    assert out_h1.grad == 0.0  # the player left the graph alone


def test_a_leaf_is_one_position() -> None:
    p = player(Value(2.0, label="x"))
    assert p.positions == 1 and not p.steps
    assert "x = 2 is a leaf" in p.texts[0]
    assert p.grads == [{"x": 1.0}]


def test_a_large_graph_is_refused_as_draw_dot_refuses_it() -> None:
    x = Value(1.0, label="x")
    deep = x
    for _ in range(300):
        deep = deep * 1.0001 + x
    with pytest.raises(ValueError, match=r"player: the graph has more than max_nodes=500 "
                                         r"values.*collapse='neuron'"):
        player(deep)
    with pytest.raises(ValueError, match=r"player: the graph has more than 2000 edges"):
        player(vsum([x] * 10_000))


def test_save_is_atomic_and_names_the_file(tmp_path: Path) -> None:
    target = tmp_path / "steps.html"
    target.write_text("old")
    p = player(small())
    p.save(target)
    assert target.read_text() == p.html and os.listdir(tmp_path) == ["steps.html"]
    with pytest.raises(IsADirectoryError):
        p.save(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"player: cannot write .*missing"):
        p.save(tmp_path / "missing" / "steps.html")
    assert os.listdir(tmp_path) == ["steps.html"]


def test_the_page_is_self_contained() -> None:
    page = player(small()).html
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    for outside in ("http://", "https://", "src=", "href=", "@import", "url("):
        # the SVG's own namespace declarations are names, not requests
        assert outside not in page.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
            'xmlns:xlink="http://www.w3.org/1999/xlink"', ""), outside


def test_each_player_has_its_own_ids() -> None:
    first, second = player(small())._repr_html_(), player(small())._repr_html_()
    assert first != second
    assert player(small()).id != player(small()).id


# --- CLI


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograd_mini", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_cli_writes_the_page(tmp_path: Path) -> None:
    done = cli("grad", "tanh(x*y + x)", "x=2", "y=-1.5", "--html", "steps.html", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "player written to steps.html" in done.stdout
    page = (tmp_path / "steps.html").read_text()
    assert 'data-role="step-text"' in page and 'data-node="x"' in page
    done = cli("demo", "--html", "demo.html", "--svg", "g.svg", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert 'data-node="out_h1"' in (tmp_path / "demo.html").read_text()


def test_cli_refuses_a_bad_path_in_one_line(tmp_path: Path) -> None:
    for args in (["grad", "x*2", "x=1", "--html", "no/such/dir/a.html"],
                 ["grad", "x*2", "x=1", "--html", "."],
                 ["demo", "--html", "no/such/dir/a.html"]):
        done = cli(*args, cwd=tmp_path)
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("autograd-mini: error:")
    assert os.listdir(tmp_path) == []


# --- in a browser


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    path = _chromium()
    if path is None:
        message = ("Chromium is not installed: the player's browser tests need it "
                   "(sh tools/install-chromium.sh)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright  # in the dev extra

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=path,
            args=["--no-sandbox", "--headless", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


class Page:
    """One opened player page, with its requests and errors recorded."""

    def __init__(self, browser: object, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1000, "height": 800})
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                     else None)
        self.page.goto(path.as_uri())

    def text(self, role: str) -> str:
        return self.page.inner_text(f"[data-role={role}]")

    def grads(self) -> dict[str, str]:
        """Each node's shown gradient: the exact number behind the text."""
        return self.page.eval_on_selector_all(
            "[data-node]", "els => Object.fromEntries(els.map(g => [g.dataset.node, "
            "g.querySelector('[data-role=grad]').getAttribute('data-value')]))")

    def shown(self) -> dict[str, str]:
        return self.page.eval_on_selector_all(
            "[data-node]", "els => Object.fromEntries(els.map(g => [g.dataset.node, "
            "g.querySelector('[data-role=grad]').textContent]))")

    def state(self) -> tuple:
        hot = self.page.eval_on_selector_all(".agm-hot", "els => els.map(e => e.id)")
        return (self.text("position"), self.text("step-text"), self.text("sum"),
                json.dumps(self.grads(), sort_keys=True), tuple(sorted(hot)))

    def click(self, role: str, times: int = 1) -> None:
        for _ in range(times):
            self.page.click(f"[data-role={role}]")

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def open_page(browser: object, tmp_path: Path) -> Iterator[Callable[[Player], Page]]:
    pages: list[Page] = []

    def opener(p: Player) -> Page:
        path = tmp_path / f"page{len(pages)}.html"
        p.save(path)
        pages.append(Page(browser, path))
        return pages[-1]

    yield opener
    for page in pages:
        assert page.errors == [], page.errors
        page.close()


@pytest.mark.parametrize("graph", GRAPHS)
def test_browser_text_and_gradients_at_every_position(open_page, graph: str) -> None:
    build = GRAPHS[graph]
    p = player(build())
    page = open_page(p)
    steps = [s.explain() for s in backward_steps(build())]
    start = p.positions - len(steps)
    for k in range(p.positions):
        assert page.text("position") == f"{k + 1} / {p.positions}"
        if k < start:
            assert page.text("step-text") == p.texts[k]
            assert set(page.shown().values()) == {"grad"}  # blank before backward
        else:
            done = k - start + 1
            assert page.text("step-text") == steps[done - 1]
            expected = reference(build, done)
            assert {n: float(g) for n, g in page.grads().items()} == expected, f"step {done}"
            assert page.shown() == {n: f"grad {fmt(g, 4)}" for n, g in expected.items()}
        page.click("next")
    assert page.text("position") == f"{p.positions} / {p.positions}"  # stays at the end


def test_browser_prev_undoes_next(open_page) -> None:
    page = open_page(player(worked()))
    states = [page.state()]
    for _ in range(20):
        page.click("next")
        states.append(page.state())
    assert len(set(states)) == len(states)
    for k in range(20, 0, -1):
        page.click("prev")
        assert page.state() == states[k - 1]
    page.click("prev")  # at the first position already
    assert page.state() == states[0]


def test_browser_slider_and_keys_agree_with_the_buttons(open_page) -> None:
    p = player(small())
    page = open_page(p)
    by_buttons = [page.state()]
    for _ in range(p.positions - 1):
        page.click("next")
        by_buttons.append(page.state())
    page.click("first")
    assert page.state() == by_buttons[0]
    for k in (5, 2, 8, 0):
        page.page.eval_on_selector("[data-role=slider]", "(s, k) => { s.value = k; "
                                   "s.dispatchEvent(new Event('input', {bubbles: true})); }", k)
        assert page.state() == by_buttons[k]
    page.page.click("[data-role=step-text]")  # nothing focused that takes keys itself
    for k in range(1, p.positions):
        page.page.keyboard.press("ArrowRight")
        assert page.state() == by_buttons[k]
    page.page.keyboard.press("ArrowLeft")
    assert page.state() == by_buttons[-2]
    page.page.keyboard.press("Home")
    assert page.state() == by_buttons[0]
    page.page.keyboard.press("End")
    assert page.state() == by_buttons[-1]
    page.page.focus("[data-role=slider]")  # the slider's own keys move it once, not twice
    page.page.keyboard.press("Home")
    page.page.keyboard.press("ArrowRight")
    assert page.state() == by_buttons[1]


def test_browser_play_walks_to_the_end(open_page) -> None:
    p = player(small())
    page = open_page(p)
    page.page.select_option("[data-role=speed]", "4")
    page.click("play")
    page.page.wait_for_function(
        "n => document.querySelector('[data-role=position]').textContent === n + ' / ' + n",
        arg=p.positions, timeout=20_000)
    assert "play" in page.text("play")  # paused itself at the end


def test_browser_makes_no_network_request(open_page, tmp_path: Path) -> None:
    page = open_page(player(worked()))
    page.click("last")
    page.click("play")
    page.page.wait_for_timeout(300)
    page.click("play")
    assert page.requests == [(tmp_path / "page0.html").as_uri()]


def test_browser_screenshot_shows_the_highlighted_edge(open_page) -> None:
    image = pytest.importorskip("matplotlib.image")
    page = open_page(player(worked()))
    page.click("next", 25)  # in the backward pass
    hot = page.page.eval_on_selector_all(
        "g.agm-hot", "els => els.map(g => [g.getAttribute('class'), "
        "getComputedStyle(g.querySelector('path, polygon, ellipse')).stroke])")
    kinds = sorted(cls.split()[0] for cls, _ in hot)
    assert kinds == ["edge", "edge", "node", "node", "node"]  # 2 edges, op, both ends
    red = "rgb(214, 39, 40)"
    assert HIGHLIGHT.lower() == "#d62728"
    assert all(stroke == red for cls, stroke in hot if cls.startswith("edge"))
    pixels = image.imread(io.BytesIO(page.page.screenshot(full_page=True)), format="png")
    colours = {tuple(px) for px in pixels.reshape(-1, pixels.shape[-1])[::7].tolist()}
    assert len(colours) > 20, "the screenshot is blank"
    reddish = ((pixels[..., 0] > 0.75) & (pixels[..., 1] < 0.3) & (pixels[..., 2] < 0.3)).sum()
    assert reddish > 100, "no highlighted edge to be seen"


def test_browser_escapes_labels(open_page) -> None:
    label = "</script><script>window.hacked = 1</script><b>&amp;\"'"
    x = Value(2.0, label=label)
    y = x * 3
    y.label = "y<&>"
    page = open_page(player(y))
    assert page.page.evaluate("window.hacked") is None
    assert page.page.eval_on_selector_all("[data-node]", "els => els.map(g => g.dataset.node)"
                                          ) == [label, "y<&>"]
    names = page.page.eval_on_selector_all(
        "[data-node] text", "els => els.map(t => t.textContent)")
    assert label in names and "y<&>" in names
    page.click("next", 2)
    assert page.text("step-text") == f"∂y<&>/∂{label} += ∂y<&>/∂y<&> · ∂y<&>/∂{label} = " \
                                     "1 × 3 = 3"
    assert page.page.evaluate("document.querySelectorAll('b').length") == 0


def test_browser_non_finite_gradients(open_page) -> None:
    x = Value(0.0, label="x")
    y = x.sqrt() + (Value(-2.0, label="base") ** x)
    y.label = "y"
    page = open_page(player(y))
    page.click("last")
    shown = page.shown()
    assert shown["x"] == "grad nan" and shown["base"] == "grad 0"
    z = Value(0.0, label="z").sqrt()
    z.label = "s"
    other = open_page(player(z))
    other.click("last")
    assert other.shown()["z"] == "grad inf"


def test_browser_a_leaf(open_page) -> None:
    page = open_page(player(Value(5.0, label="x")))
    assert page.text("position") == "1 / 1"
    page.click("next")
    assert page.text("position") == "1 / 1"
    assert page.shown() == {"x": "grad 1"}


def test_browser_two_players_on_one_page_do_not_clash(browser, tmp_path: Path) -> None:
    first, second = player(small()), player(worked())
    path = tmp_path / "two.html"
    path.write_text(f"<!DOCTYPE html><html><body>{first._repr_html_()}<p>text</p>"
                    f"{second._repr_html_()}</body></html>")
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    players = page.query_selector_all(".agm-player")
    assert len(players) == 2
    players[1].query_selector("[data-role=next]").click()
    players[1].query_selector("[data-role=next]").click()
    positions = [p.query_selector("[data-role=position]").inner_text() for p in players]
    assert positions == [f"1 / {first.positions}", f"3 / {second.positions}"]
    page.keyboard.press("ArrowRight")  # the focused player (the second) moves, only it
    positions = [p.query_selector("[data-role=position]").inner_text() for p in players]
    assert positions == [f"1 / {first.positions}", f"4 / {second.positions}"]
    assert errors == []
    page.close()


# --- Jupyter


def test_a_notebook_cell_shows_the_player(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from autograd_mini import Value\nfrom autograd_mini.viz import player\n"
        "x = Value(3.0, label='x')\ny = x * x; y.label = 'y'\nplayer(y)")]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    (out,) = nb.cells[0].outputs
    page = out["data"]["text/html"]
    assert 'class="agm-player"' in page and 'data-role="step-text"' in page
    assert 'data-node="x"' in page and "<script>" in page
    assert "player of y" in out["data"]["text/plain"]


def test_a_collapsed_network_is_refused_saying_why() -> None:
    from autograd_mini.nn import MLP

    net = MLP(2, [3, 1], seed=0)
    out = net([1.0, 2.0])
    with pytest.raises(ValueError, match=r"collapsed graph cannot be played: .* one edge at a "
                                         r"time .*draw_dot\(root, collapse="):
        player(out, collapse="neuron", model=net)


@pytest.mark.parametrize("stem", ["01-quickstart", "02-worked-example"])
def test_the_committed_notebooks_step_with_the_player(stem: str) -> None:
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    pages = [out["data"]["text/html"] for cell in nb.cells for out in cell.get("outputs", [])
             if "text/html" in out.get("data", {})]
    assert len(pages) == 1 and 'class="agm-player"' in pages[0]
    assert 'data-role="step-text"' in pages[0]


def test_browser_a_player_whose_script_is_evaluated_elsewhere(browser, tmp_path: Path) -> None:
    """Some notebook front ends insert the HTML, then evaluate its scripts apart from it."""
    p = player(small())
    path = tmp_path / "host.html"
    path.write_text("<!DOCTYPE html><html><body><div id='out'></div></body></html>")
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.evaluate("""html => {
        const out = document.getElementById('out');
        out.innerHTML = html;  // scripts inserted this way do not run by themselves
        for (const s of out.querySelectorAll('script:not([type])')) { (0, eval)(s.textContent); }
    }""", p._repr_html_())
    assert page.inner_text("[data-role=position]") == f"1 / {p.positions}"
    page.click("[data-role=next]")
    assert page.inner_text("[data-role=position]") == f"2 / {p.positions}"
    assert page.inner_text("[data-role=step-text]") == p.texts[1]
    assert errors == []
    page.close()
