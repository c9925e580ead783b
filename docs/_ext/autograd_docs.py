"""Two things the site needs that Sphinx does not do by itself.

``{player} NAME`` — a MyST directive that puts the step-by-step player of one
of the graphs in ``GRAPHS`` into the page, generated at build time from the
package itself (``viz.player(root)``: inline SVG, style and script, nothing
fetched), with a link to the same player as a page of its own in ``_players/``
of the built site. Both work from ``file://``, with no server and no network.

The docstring check — every public name (each ``__all__`` of ``PUBLIC_MODULES``
and every name of the API contract in ``CONTRACT``) must have a docstring and
appear in the API reference; public methods of public classes must have one
too. Anything missing is a Sphinx warning, so ``-W`` turns it into a failed
build.
"""

from __future__ import annotations

import importlib
import inspect
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from html import escape
from pathlib import Path
from types import ModuleType
from typing import ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.pycode import ModuleAnalyzer
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

# --- the graphs the pages play ------------------------------------------------


def _worked_example():
    """E of the documents' 2-2-2 network, before backpropagation."""
    from autograd_mini.example import loss, network

    return loss(network())


def _quickstart():
    """e = tanh(a·b + a) at a = 2, b = −1.5: notebook 01's expression, named as there."""
    from autograd_mini import Value

    a = Value(2.0, label="a")
    b = Value(-1.5, label="b")
    c = a * b
    c.label = "c"
    d = c + a
    d.label = "d"
    e = d.tanh()
    e.label = "e"
    return e


GRAPHS: dict[str, Callable] = {"worked-example": _worked_example, "quickstart": _quickstart}
PLAYER_DIR = "_players"


def player_html(name: str, page: bool) -> str:
    """The player of graph ``name``: a whole page, or the piece a page embeds."""
    from autograd_mini import viz

    player = viz.player(GRAPHS[name]())
    return player.html if page else player._repr_html_()


class PlayerDirective(SphinxDirective):
    """``{player} NAME``: the player itself in the page, a link to it on a page of its own."""

    required_arguments = 1
    option_spec: ClassVar = {"caption": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        if name not in GRAPHS:
            raise self.error(f"unknown player graph {name!r}; known: {', '.join(sorted(GRAPHS))}")
        here = posixpath.dirname(self.env.docname) or "."
        src = posixpath.relpath(f"{PLAYER_DIR}/{name}.html", here)
        caption = self.options.get("caption", "")
        html = (f'<figure class="player-embed" data-player="{name}">'
                f"{player_html(name, page=False)}"
                f'<figcaption><a href="{src}">Open the player on its own page</a>'
                f'{" — " + escape(caption) if caption else ""}</figcaption></figure>')
        return [nodes.raw("", html, format="html")]


class GraphDirective(SphinxDirective):
    """``{graph} NAME``: the drawing of one of ``GRAPHS`` after backward(), inline SVG."""

    required_arguments = 1
    option_spec: ClassVar = {"alt": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        from autograd_mini import viz

        name = self.arguments[0]
        if name not in GRAPHS:
            raise self.error(f"unknown graph {name!r}; known: {', '.join(sorted(GRAPHS))}")
        root = GRAPHS[name]()
        root.backward()
        svg = viz.render_svg(root)
        svg = svg[svg.index("<svg"):]
        alt = escape(self.options.get("alt", name))
        svg = svg.replace("<svg", f'<svg role="img" aria-label="{alt}"', 1)
        return [nodes.raw("", f'<div class="graph-drawing" data-graph="{name}">{svg}</div>',
                          format="html")]


def write_players(app: Sphinx, exception: Exception | None) -> None:
    """Write every player page into the built site (after a successful HTML build)."""
    if exception is not None or app.builder.format != "html":
        return
    folder = Path(app.outdir) / PLAYER_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for name in GRAPHS:
        (folder / f"{name}.html").write_text(player_html(name, page=True), encoding="utf-8")


# --- every public name documented ---------------------------------------------

# The public modules, in the order the API reference shows them, with a title
# each. A module that cannot be imported yet is left out of the page.
PUBLIC_MODULES = {
    "autograd_mini": "The engine",
    "autograd_mini.functions": "Operations as functions",
    "autograd_mini.nn": "Networks",
    "autograd_mini.losses": "Costs",
    "autograd_mini.optim": "Optimizers",
    "autograd_mini.data": "Data sets",
    "autograd_mini.viz": "Drawing graphs",
    "autograd_mini.trace": "Backpropagation step by step",
    "autograd_mini.player": "The step-by-step player",
}
API_MARKER = "<!-- the public modules -->"

# The public API contract: these names must exist (in their module's __all__)
# and be documented, with an example.
CONTRACT: dict[str, list[str]] = {
    "autograd_mini": ["Value", "grad", "no_grad", "gradcheck", "gradgradcheck",
                      "numerical_grad", "sum", "dot", "GradcheckError", "compile", "Compiled",
                      "primitive", "check_graph"],
    "autograd_mini.functions": ["exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs",
                                "sin", "cos"],
    "autograd_mini.nn": ["Module", "Neuron", "Layer", "MLP"],
    "autograd_mini.losses": ["mse", "quadratic", "binary_cross_entropy", "cross_entropy",
                             "hinge"],
    "autograd_mini.optim": ["SGD", "Adam"],
    "autograd_mini.data": ["xor", "moons", "spirals"],
    "autograd_mini.viz": ["draw_dot", "render_svg", "player", "Player"],
    "autograd_mini.trace": ["backward_steps", "Step"],
}
# Public functions and classes without an example of their own (exceptions
# never need one: their example is the call that raises them).
WITHOUT_EXAMPLE: set[str] = set()
CONTRACT_METHODS = {"autograd_mini.nn.MLP": ["to_torch", "from_torch"]}


def aliases() -> dict[str, str]:
    """Public names that are another public module's object again: alias -> first name.

    (``autograd_mini.player.Player`` is ``autograd_mini.viz.Player``.) The API
    page describes each object once, under the first module that exports it.
    """
    first: dict[int, str] = {}
    found = {}
    for modname in PUBLIC_MODULES:
        try:
            module = importlib.import_module(modname)
        except ImportError:
            continue
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name, None)
            if obj is None or not (inspect.isclass(obj) or inspect.isroutine(obj)):
                continue
            full = f"{modname}.{name}"
            if id(obj) in first:
                found[full] = first[id(obj)]
            else:
                first[id(obj)] = full
    return found


def api_sections(app: Sphinx, docname: str, source: list[str]) -> None:
    """Put one section per importable public module where the API page has its marker."""
    if API_MARKER not in source[0]:
        return
    again = aliases()
    sections = []
    for modname, title in PUBLIC_MODULES.items():
        try:
            importlib.import_module(modname)
        except ImportError:
            continue
        options = "   :members:\n" + ("   :imported-members:\n" if modname == "autograd_mini"
                                       else "")
        shown = {a.rpartition(".")[2]: o for a, o in again.items()
                 if a.rpartition(".")[0] == modname}
        if shown:
            options += f"   :exclude-members: {', '.join(sorted(shown))}\n"
        text = (f"## {title} — `{modname}`\n\n"
                f"```{{eval-rst}}\n.. automodule:: {modname}\n{options}```\n")
        if shown:
            text += "\nAlso here: " + ", ".join(
                f"`{n}` (see {{py:obj}}`{o} <{o}>`)" for n, o in sorted(shown.items())) + ".\n"
        sections.append(text)
    source[0] = source[0].replace(API_MARKER, "\n".join(sections))


def _members(cls: type) -> Iterator[tuple[str, object]]:
    """The public methods and properties a class defines itself."""
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if inspect.isfunction(member) or isinstance(member, property):
            yield name, member


def problems(module_names: Iterable[str], contract: dict[str, list[str]],
             documented: set[str], required_methods: dict[str, list[str]] | None = None,
             without_example: Iterable[str] = ()) -> list[str]:
    """Everything that keeps the public names of ``module_names`` from being documented.

    ``documented`` holds the full names the API reference describes. A module
    that cannot be imported is skipped unless ``contract`` names it. Public
    functions and classes (exceptions aside) need a ``>>>`` example, except
    the full names in ``without_example``.
    """
    without_example = set(without_example)
    found = []
    for modname in module_names:
        try:
            module = importlib.import_module(modname)
        except ImportError:
            if modname in contract:
                found.append(f"{modname}: cannot be imported")
            continue
        found += _module_problems(module, contract.get(modname, []), documented,
                                  without_example)
    for qualname, methods in (required_methods or {}).items():
        modname, _, clsname = qualname.rpartition(".")
        cls = getattr(importlib.import_module(modname), clsname)
        found += [f"{qualname}.{m}: missing" for m in methods if not hasattr(cls, m)]
    return found


def _module_problems(module: ModuleType, required: list[str], documented: set[str],
                     without_example: set[str]) -> list[str]:
    modname = module.__name__
    public = list(getattr(module, "__all__", []))
    found = [f"{modname}.{n}: in the contract but not in __all__" for n in required
             if n not in public]
    if not inspect.getdoc(module):
        found.append(f"{modname}: no module docstring")
    try:
        attr_docs = ModuleAnalyzer.for_module(modname).find_attr_docs()
    except Exception:  # a module without source: no '#:' comments to read
        attr_docs = {}
    for name in public:
        full = f"{modname}.{name}"
        obj = getattr(module, name, None)
        if obj is None:
            found.append(f"{full}: in __all__ but not defined")
            continue
        if inspect.isclass(obj) or inspect.isroutine(obj):
            if not (obj.__doc__ or "").strip():
                found.append(f"{full}: no docstring")
            elif full not in documented:
                found.append(f"{full}: not in the API reference")
            elif (">>>" not in obj.__doc__ and full not in without_example
                  and not (inspect.isclass(obj) and issubclass(obj, BaseException))):
                found.append(f"{full}: the docstring has no example (a '>>>' doctest)")
        elif ("", name) not in attr_docs:
            found.append(f"{full}: a public constant needs a '#:' comment")
        elif full not in documented:
            found.append(f"{full}: not in the API reference")
        if inspect.isclass(obj) and obj.__module__.startswith("autograd_mini"):
            for mname, member in _members(obj):
                doc = member.__doc__ if not isinstance(member, property) else member.fget.__doc__
                if not (doc or "").strip():
                    found.append(f"{full}.{mname}: no docstring")
    return found


def check_documented(app: Sphinx, env: BuildEnvironment) -> None:
    """Warn (an error under -W) for every public name without a docstring or reference."""
    if "api" not in env.found_docs:
        return
    documented = set(env.get_domain("py").objects)
    documented |= {alias for alias, first in aliases().items() if first in documented}
    for problem in problems(PUBLIC_MODULES, CONTRACT, documented, CONTRACT_METHODS,
                            WITHOUT_EXAMPLE):
        logger.warning("public API: %s", problem, type="autograd_mini", subtype="undocumented",
                       location="api")


# --- the docstrings' dialect -----------------------------------------------------

# The docstrings write plurals as ``Value``s, which reStructuredText reads as an
# unfinished literal; an escaped space between the two keeps the text as written.
# Literals are matched left to right, in pairs of ``, as the reader sees them.
_LITERAL = re.compile(r"``[^`\n]+?``(?=(\w)?)")


def plural_literals(app: Sphinx, what: str, name: str, obj: object, options: object,
                    lines: list[str]) -> None:
    """``Value``s -> ``Value``\\ s, in place (autodoc-process-docstring)."""
    lines[:] = [_LITERAL.sub(lambda m: m.group(0) + ("\\ " if m.group(1) else ""), line)
                for line in lines]


def offline_math(app: Sphinx, config: object) -> None:
    """MathJax's SVG output: the formulas need no web fonts, which file:// pages cannot load."""
    config.mathjax_path = "mathjax/tex-svg.js"


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("config-inited", offline_math)
    app.add_directive("player", PlayerDirective)
    app.add_directive("graph", GraphDirective)
    app.connect("autodoc-process-docstring", plural_literals)
    app.connect("source-read", api_sections)
    app.connect("build-finished", write_players)
    app.connect("env-check-consistency", check_documented)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
