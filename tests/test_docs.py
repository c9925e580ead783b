"""The documentation site: it builds with warnings as errors, shows every notebook
with its outputs, documents every public name, has no link that leads nowhere,
and works in a real browser opened on the files (no server, no network).

The site is built once per test session into a temporary folder, exactly as
``make docs`` builds it but with ``-W --keep-going``. The browser tests drive
the system's Chromium through Playwright; without Chromium they are skipped
locally with a message, and fail when the environment variable ``CI`` is set.
"""

from __future__ import annotations

import functools
import html
import inspect
import os
import re
import shutil
import subprocess
import sys
import types
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
import autograd_docs  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PAGES = ["index.html", "install.html", "tour.html", "api.html",
         *(f"notebooks/{nb.stem}.html" for nb in NOTEBOOKS)]
BUILD_SECONDS = 600


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    """The site built as ``make docs`` builds it, with warnings as errors."""
    out = tmp_path_factory.mktemp("site")
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
           "-d", str(out / "doctrees"), str(DOCS), str(out / "html")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_SECONDS, cwd=ROOT)
    return proc, out / "html"


@pytest.fixture(scope="session")
def site(build: tuple[subprocess.CompletedProcess, Path]) -> Path:
    proc, out = build
    if proc.returncode != 0:
        pytest.fail(f"the site did not build:\n{proc.stderr}")
    return out


def test_site_builds_with_warnings_as_errors(build: tuple[subprocess.CompletedProcess, Path]
                                             ) -> None:
    proc, out = build
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" not in proc.stderr and "ERROR" not in proc.stderr, proc.stderr
    for page in PAGES:
        assert (out / page).is_file(), page
    for name in autograd_docs.GRAPHS:
        assert (out / autograd_docs.PLAYER_DIR / f"{name}.html").is_file(), name


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_every_notebook_is_a_page_with_its_outputs(site: Path, notebook: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    page = (site / "notebooks" / f"{notebook.stem}.html").read_text(encoding="utf-8")
    shown = html.unescape(re.sub(r"<[^>]+>", "", page))
    title = next(line[2:].strip() for c in nb.cells if c.cell_type == "markdown"
                 for line in c.source.splitlines() if line.startswith("# "))
    assert title.replace("`", "") in shown
    # Every printed line and every picture of the committed notebook is on the page.
    outputs = page.split('class="cell_output')[1:]
    pictures = sum(1 for chunk in outputs if "<img" in chunk or "<svg" in chunk)
    expected_pictures = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if any(k.startswith("image/") for o in cell.outputs for k in o.get("data", {})):
            expected_pictures += 1
        for out in cell.outputs:
            if out.output_type == "stream":
                for line in out.text.splitlines():
                    if line.strip():
                        assert line.strip() in shown, (notebook.stem, line)
    assert pictures >= expected_pictures >= 0
    assert "cell_output" in page or not any(c.get("outputs") for c in nb.cells)


def test_api_page_documents_every_public_name(site: Path) -> None:
    page = (site / "api.html").read_text(encoding="utf-8")
    anchors = set(re.findall(r'<dt class="sig sig-object py" id="([^"]+)"', page))
    again = autograd_docs.aliases()  # one object exported twice is described once
    anchors |= {alias for alias, first in again.items() if first in anchors}
    for modname in autograd_docs.PUBLIC_MODULES:
        try:
            module = __import__(modname, fromlist=["__all__"])
        except ImportError:
            assert modname not in autograd_docs.CONTRACT
            continue
        for name in module.__all__:
            assert f"{modname}.{name}" in anchors, f"{modname}.{name}"
    for modname, names in autograd_docs.CONTRACT.items():
        for name in names:
            assert f"{modname}.{name}" in anchors, f"{modname}.{name}"
    # Each public function and class of the contract shows its runnable example.
    starts = [m.start() for m in re.finditer(r'<dt class="sig sig-object py" id=', page)]
    for modname, names in autograd_docs.CONTRACT.items():
        module = __import__(modname, fromlist=["__all__"])
        for name in names:
            obj = getattr(module, name)
            if isinstance(obj, type) and issubclass(obj, BaseException):
                continue
            if not (inspect.isclass(obj) or inspect.isroutine(obj)):
                continue  # a primitive listed as data (functions.exp): the module's example
            start = page.index(f'id="{modname}.{name}"')
            end = next((i for i in starts if i > start), len(page))
            assert 'class="doctest' in page[start:end], f"{modname}.{name}: no example shown"


def test_the_docstring_check_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A public name without a docstring, or left out of the reference, fails the build."""
    fake = types.ModuleType("fake_public", "A module of the test.")

    def documented() -> None:
        """Has a docstring and an example.

        >>> documented()
        """

    def bare() -> None:
        pass

    class Thing:
        """A class whose method has no docstring."""

        def method(self) -> None:
            pass

    for obj in (documented, bare, Thing):
        obj.__module__ = "fake_public"
    fake.documented, fake.bare, fake.Thing = documented, bare, Thing
    fake.__all__ = ["documented", "bare", "Thing"]
    monkeypatch.setitem(sys.modules, "fake_public", fake)
    found = autograd_docs.problems(
        ["fake_public"], {"fake_public": ["documented", "promised"]},
        documented={"fake_public.bare", "fake_public.Thing"})
    assert sorted(found) == [
        "fake_public.Thing: the docstring has no example (a '>>>' doctest)",
        "fake_public.bare: no docstring",
        "fake_public.documented: not in the API reference",
        "fake_public.promised: in the contract but not in __all__",
    ]
    Thing.__module__ = "autograd_mini.fake"  # methods are checked on the package's classes
    found = autograd_docs.problems(["fake_public"], {}, documented={
        "fake_public.documented", "fake_public.bare", "fake_public.Thing"},
        without_example=["fake_public.Thing"])
    assert sorted(found) == ["fake_public.Thing.method: no docstring",
                             "fake_public.bare: no docstring"]
    # The package itself: nothing missing.
    assert autograd_docs.problems(autograd_docs.PUBLIC_MODULES, autograd_docs.CONTRACT,
                                  documented=_documented_names(),
                                  without_example=autograd_docs.WITHOUT_EXAMPLE) == []


def _documented_names() -> set[str]:
    """Every name of every public module, as if the reference described them all."""
    names = set()
    for modname in autograd_docs.PUBLIC_MODULES:
        try:
            module = __import__(modname, fromlist=["__all__"])
        except ImportError:
            continue
        names |= {f"{modname}.{n}" for n in module.__all__}
    return names


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []  # everything a reader can follow or the page loads
        self.loads: list[str] = []  # what the browser fetches to show the page
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key == "id" and value:
                self.ids.add(value)
            if value and ((key == "href" and tag in ("a", "link"))
                          or (key == "src" and tag in ("img", "script", "iframe"))):
                self.links.append(value)
                if tag != "a":
                    self.loads.append(value)


@functools.cache
def _parsed(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_every_internal_link_resolves_to_a_file(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= len(PAGES)
    checked = 0
    for page in pages:
        for link in _parsed(page).links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("//"):
                assert parts.scheme in ("http", "https", "mailto", "data"), (page, link)
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            assert target.is_file(), f"{page.relative_to(site)}: {link} leads nowhere"
            assert site in target.parents, f"{page.relative_to(site)}: {link} leaves the site"
            if parts.fragment and target.suffix == ".html":
                assert unquote(parts.fragment) in _parsed(target).ids, \
                    f"{page.relative_to(site)}: {link}: no such anchor"
            checked += 1
    assert checked > 100


def test_pages_load_nothing_from_the_network(site: Path) -> None:
    """Scripts, styles, pictures and frames all come from the site's own files."""
    for page in sorted(site.rglob("*.html")):
        loads = _parsed(page).loads
        assert loads or page.parent.name == "_players"
        for link in loads:
            assert not urlsplit(link).scheme and not link.startswith("//"), (page, link)


def test_readme_links_to_built_pages(site: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((docs/_build/html/[^)]+)\)", readme)
    assert {"docs/_build/html/index.html", "docs/_build/html/api.html"} <= set(links)
    for link in links:
        assert (site / link.removeprefix("docs/_build/html/")).is_file(), link


# --- the examples on the pages run -------------------------------------------

MD_PAGES = sorted(DOCS.glob("*.md"))
EXAMPLE = re.compile(r"```python\n(.*?)```\n\n```text\n(.*?)```", re.S)


def test_pages_have_examples() -> None:
    assert sum(len(EXAMPLE.findall(p.read_text(encoding="utf-8"))) for p in MD_PAGES) >= 5


@pytest.mark.parametrize("md", MD_PAGES, ids=[p.stem for p in MD_PAGES])
def test_page_examples_print_what_they_show(md: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture) -> None:
    """A page's examples run in order in one namespace, as a reader runs them."""
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}
    for k, (code, shown) in enumerate(EXAMPLE.findall(md.read_text(encoding="utf-8"))):
        exec(compile(code, f"{md.name} example {k}", "exec"), namespace)
        assert capsys.readouterr().out == shown, f"{md.name}, example {k}"


# --- in a real browser --------------------------------------------------------

CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "Chromium is not installed (tools/install-chromium.sh installs it)"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(message + "; CI must run the browser tests")
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page that records console errors, page errors and non-file requests."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.errors = []
    tab.requests = []
    tab.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: tab.errors.append(str(e)))
    tab.on("request", lambda r: tab.requests.append(r.url)
           if not r.url.startswith(("file:", "data:", "about:")) else None)
    yield tab
    context.close()


def test_landing_page_renders(site: Path, page) -> None:
    page.goto((site / "index.html").as_uri())
    page.wait_for_load_state("load")
    assert page.title().startswith("autograd_mini")
    assert page.locator("h1").first.inner_text().startswith("autograd_mini")
    assert "make test" in page.locator("article").inner_text()
    picture = page.locator('div.graph-drawing[data-graph="quickstart"] svg')
    assert picture.is_visible() and picture.locator("g.node").count() > 5
    assert "grad 0.8399" in picture.text_content()  # de/db, drawn after backward()
    nav = page.locator(".sidebar-tree a").all_inner_texts()
    assert "A guided tour" in nav and "API reference" in nav
    assert len([t for t in nav if t]) >= 3 + len(NOTEBOOKS)  # install, tour, API
    assert page.errors == [] and page.requests == []


def test_api_page_renders(site: Path, page) -> None:
    page.goto((site / "api.html").as_uri())
    page.wait_for_load_state("load")
    assert page.title().startswith("API reference")
    value = page.locator('dt[id="autograd_mini.Value"]')
    assert value.is_visible() and "Value" in value.inner_text()
    assert page.locator("dt.sig").count() >= 40
    assert page.errors == [] and page.requests == []


def test_search_works_from_files(site: Path, page) -> None:
    page.goto((site / "search.html").as_uri() + "?q=gradcheck")
    results = page.locator("#search-results li")
    results.first.wait_for(timeout=20000)
    assert "autograd_mini.gradcheck" in page.locator("#search-results").inner_text()
    assert page.errors == [] and page.requests == []


def test_formulas_are_typeset_offline(site: Path, page) -> None:
    page.goto((site / "tour.html").as_uri())
    page.wait_for_function("document.querySelectorAll('mjx-container svg').length > 5",
                           timeout=20000)
    assert page.locator(".math").count() == page.locator(".math mjx-container").count()
    assert page.errors == [] and page.requests == []


def _steps(player) -> None:
    """Next moves a player's position on, prev brings it back, as the page shows it."""
    position = player.locator("[data-role=position]")
    before = position.inner_text().strip()
    assert re.fullmatch(r"1 / \d+", before), before
    player.locator("[data-role=next]").click()
    after = position.inner_text().strip()
    assert after == "2 / " + before.split(" / ")[1]
    assert player.locator("[data-role=step-text]").inner_text().strip()
    player.locator("[data-role=prev]").click()
    assert position.inner_text().strip() == before


def test_player_steps_inside_the_page(site: Path, page) -> None:
    page.goto((site / "tour.html").as_uri())
    page.wait_for_load_state("load")
    assert page.title().startswith("A guided tour")
    for name in autograd_docs.GRAPHS:
        figure = page.locator(f'figure[data-player="{name}"]')
        figure.scroll_into_view_if_needed()
        _steps(figure)
        # The keys work too, once the player has the focus.
        position = figure.locator("[data-role=position]")
        figure.locator(".agm-player").focus()
        page.keyboard.press("ArrowRight")
        assert position.inner_text().startswith("2 / ")
        page.keyboard.press("End")
        last = position.inner_text()
        assert last.split(" / ")[0] == last.split(" / ")[1]  # the end of the backward pass
        assert figure.locator("[data-role=step-text]").inner_text().startswith("∂")
    assert page.errors == [] and page.requests == []


def test_player_pages_of_their_own(site: Path, page) -> None:
    for name in autograd_docs.GRAPHS:
        page.goto((site / autograd_docs.PLAYER_DIR / f"{name}.html").as_uri())
        page.wait_for_load_state("load")
        _steps(page.locator(".agm-player"))
    assert page.errors == [] and page.requests == []


def test_notebook_players_step_in_their_pages(site: Path, page) -> None:
    """A notebook cell that shows a player shows a working one on its page."""
    with_players = [nb.stem for nb in NOTEBOOKS if any(
        "agm-player" in out.get("data", {}).get("text/html", "")
        for cell in nbformat.read(nb, as_version=4).cells for out in cell.get("outputs", []))]
    assert {"01-quickstart", "02-worked-example"} <= set(with_players)
    for stem in with_players:
        page.goto((site / "notebooks" / f"{stem}.html").as_uri())
        page.wait_for_load_state("load")
        players = page.locator(".agm-player")
        assert players.count() >= 1, stem
        players.first.scroll_into_view_if_needed()
        _steps(players.first)
    assert page.errors == [] and page.requests == []


def test_docstring_plurals_stay_literals() -> None:
    """``Value``s reads as the literal Value and an s; other literals are left alone."""
    lines = ["are ``Value``s with ``x`` and ``a = f(x)``, where ``w[k]`` connects",
             "``Step``'s text"]
    autograd_docs.plural_literals(None, "module", "m", None, None, lines)
    assert lines == ["are ``Value``\\ s with ``x`` and ``a = f(x)``, where ``w[k]`` connects",
                     "``Step``'s text"]
