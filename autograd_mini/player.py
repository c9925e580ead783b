"""Watching backpropagation: a web page that steps through a graph's two passes.

``player(root)`` draws the graph below ``root`` once (with Graphviz) and
records what happens to it: the forward pass, one position per computed
value, then the backward pass, one position per ``Step`` of
``backward_steps(root)``. Every number on the page comes from the engine: the
gradients shown at each position are a snapshot of every ``.grad`` taken
after that step, while the steps run on the real graph. The page is one
self-contained piece of HTML (the SVG, the style and a small script inline;
nothing is fetched from anywhere), shown inline in Jupyter or saved as a file
to open in a browser.

>>> from autograd_mini import Value
>>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
>>> c = a * b; c.label = "c"
>>> p = player(c)
>>> p.positions  # the inputs, c computed, then one step per edge
4
>>> p.texts[-1] == list(backward_steps(c))[-1].explain()
True
>>> p.grads[-1]  # the gradients after the last step
{'a': -3.0, 'b': 2.0, 'c': 1.0}
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re

from .engine import Value
from .files import write_atomic
from .trace import Step, backward_steps, fmt, formula, node_names

__all__ = ["Player", "player"]

DEEP = 4  # operations in a row: deeper graphs are drawn top to bottom
DIGITS = 4  # significant digits on the drawing, as draw_dot prints them
_made = 0  # players made so far in this process: part of each player's id


class Player:
    """A graph's forward and backward pass as a page: ``.html``, ``.save(path)``, Jupyter.

    ``texts[k]`` is what the page says at position ``k`` (during the backward
    pass, exactly that step's ``explain()``); ``grads[k]`` maps every node's
    name to its gradient at that position (``None`` before backward starts).

    >>> x = Value(2.0, label="x")
    >>> page = Player(x * 3)
    >>> page.texts[:2], page.grads[-1]
    (['The inputs: x = 2', 'v1 = x * 3 = 6'], {'x': 3.0, 'v1': 1.0})
    """

    def __init__(self, root: Value, rankdir: str | None = None,
                 max_nodes: int | None = None, collapse: str | None = None,
                 model: object = None) -> None:
        global _made
        from .viz import MAX_NODES, _check_size, _dot_needed, _draw  # viz offers this module

        max_nodes = MAX_NODES if max_nodes is None else max_nodes
        if not isinstance(root, Value):
            raise TypeError(f"player: root must be a Value, got {type(root).__name__}")
        if collapse is not None or model is not None:
            raise ValueError(
                "player: a collapsed graph cannot be played: backpropagation passes gradient "
                "one edge at a time between values, and a neuron or layer box hides most of "
                "those edges (its weights, bias, dot product and activation are one box); "
                "draw it with draw_dot(root, collapse=..., model=...) and play a smaller "
                "network in full")
        _check_size(root, max_nodes, "player")  # before any work
        _made += 1
        self.root = root
        names = node_names(root)
        self.names = list(names.values())
        nodes = list(names)
        self.steps, snapshots = _record(root, nodes)
        self.texts, self.sums, self.hot, self.born = _positions(root, names, self.steps,
                                                                 snapshots)
        forward = len(self.texts) - len(self.steps)
        self.grads: list[dict[str, float] | None] = (
            [None] * forward + [dict(zip(self.names, snap)) for snap in snapshots[1:]])
        if not self.steps:  # a leaf: its one position shows d root/d root = 1
            self.grads[-1] = {self.names[0]: snapshots[0][0]}
        # The boxes are drawn as wide as the longest number they will show.
        widest = [max((s[i] for s in snapshots), key=lambda g: len(fmt(g, DIGITS)))
                  for i in range(len(nodes))]
        saved = [v.grad for v in nodes]
        digest = hashlib.sha1(("\0".join(self.names) + str(_made)).encode()).hexdigest()
        self.id = f"agm{digest[:10]}"
        try:
            for v, g in zip(nodes, widest):
                v.grad = g
            graph = _draw(root, rankdir=rankdir or _direction(names), max_nodes=max_nodes,
                          svg_ids=self.id + "_", caller="player")
            with _dot_needed():
                svg = graph.pipe(format="svg", encoding="utf-8")
        finally:
            for v, g in zip(nodes, saved):
                v.grad = g
        self._svg = _mark_nodes(svg, self.id, self.names)

    @property
    def positions(self) -> int:
        """How many positions the page steps through (forward and backward)."""
        return len(self.texts)

    @property
    def html(self) -> str:
        """The whole page, to save as a file and open in any browser."""
        title = html.escape(f"Backpropagation through {self.names[-1]}")
        return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                # Nothing may be fetched: the browser itself refuses every request.
                "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                f"<title>{title}</title>\n</head>\n<body>\n{self._fragment(page=True)}\n"
                "</body>\n</html>\n")

    def _repr_html_(self) -> str:
        return self._fragment(page=False)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the page to ``path``, replaced whole or not at all."""
        try:
            write_atomic(path, self.html)
        except OSError as e:  # say which file was meant
            raise type(e)(e.errno, f"player: cannot write {os.fspath(path)!r}: "
                                   f"{e.strerror}") from None

    def __repr__(self) -> str:
        return (f"<player of {self.names[-1]}: {self.positions} positions, "
                f"{len(self.steps)} backward steps>")

    def _fragment(self, page: bool) -> str:
        data = {"prefix": self.id + "_", "page": page, "texts": self.texts,
                "sums": self.sums, "hot": self.hot, "born": self.born,
                "backward": self.positions - len(self.steps),
                "grads": _grad_changes(self.grads, self.names)}
        # Inside <script>, "</script>" or "<!--" in a label must not end or bend it.
        blob = (json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
                .replace(">", "\\u003e").replace("&", "\\u0026")
                .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
        n = self.positions
        first = html.escape(self.texts[0])
        return f"""<div class="agm-player" id="{self.id}" tabindex="0">
<style>{_CSS}</style>
<div class="agm-bar">
<button type="button" data-role="first" title="first position (Home)">&#xAB; first</button>
<button type="button" data-role="prev" title="previous (&#x2190;)">&#x25C0; prev</button>
<button type="button" data-role="play" title="play / pause">&#x25B6; play</button>
<button type="button" data-role="next" title="next (&#x2192;)">next &#x25B6;</button>
<button type="button" data-role="last" title="last position (End)">last &#xBB;</button>
<input type="range" data-role="slider" min="0" max="{n - 1}" value="0" step="1"
 aria-label="position">
<span data-role="position">1 / {n}</span>
<label>speed <select data-role="speed">
<option value="0.5">0.5&#xD7;</option><option value="1" selected>1&#xD7;</option>
<option value="2">2&#xD7;</option><option value="4">4&#xD7;</option></select></label>
</div>
<div class="agm-phase" data-role="phase">forward pass</div>
<div class="agm-text" data-role="step-text">{first}</div>
<div class="agm-sum" data-role="sum"></div>
<div class="agm-graph">{self._svg}</div>
<script type="application/json" data-role="data">{blob}</script>
<script>{_JS.replace("PLAYER_ID", self.id)}</script>
</div>"""


def player(root: Value, rankdir: str | None = None, max_nodes: int | None = None,
           collapse: str | None = None, model: object = None) -> Player:
    """A ``Player`` stepping through the forward and backward pass of the graph below ``root``.

    ``rankdir`` as in ``draw_dot``; by default left to right for a shallow
    graph and top to bottom for a deep one (which would be too wide otherwise).

    The graph's gradients are left as they were: the steps run from zero
    gradients, and every ``.grad`` is put back afterwards. A graph of more
    than ``max_nodes`` values (default ``viz.MAX_NODES``) is refused with a
    ``ValueError``, and so is
    ``collapse=`` (a collapsed drawing hides the edges the steps run along).

    >>> x = Value(3.0, label="x")
    >>> player(x * x)
    <player of v1: 4 positions, 2 backward steps>
    """
    return Player(root, rankdir=rankdir, max_nodes=max_nodes, collapse=collapse, model=model)


# --- what the page shows, position by position


def _record(root: Value, nodes: list[Value]) -> tuple[list[Step], list[list[float]]]:
    """Run ``backward_steps(root)`` from zero gradients; the steps and a snapshot after each.

    ``snapshots[0]`` is every gradient before the first step, ``snapshots[k]``
    after step k. The gradients the graph had are put back at the end.
    """
    saved = [v.grad for v in nodes]
    steps: list[Step] = []
    try:
        for v in nodes:
            v.grad = 0.0
        snapshots = [[0.0] * len(nodes)]
        for step in backward_steps(root):
            steps.append(step)
            snapshots.append([v.grad for v in nodes])
        if not steps:  # a leaf: backward_steps only seeds it
            snapshots = [[v.grad for v in nodes]]
    finally:
        for v, g in zip(nodes, saved):
            v.grad = g
    return steps, snapshots


def _positions(root: Value, names: dict[Value, str], steps: list[Step],
               snapshots: list[list[float]]
               ) -> tuple[list[str], list[str], list[list[str]], list[int]]:
    """Per position: the text, the running sum, the ids to highlight; per node: its birth."""
    ids = {v: f"n{k}" for k, v in enumerate(names)}
    r = names[root]
    if not root.parents:
        return ([f"{r} = {fmt(root.data)} is a leaf: there is no operation to "
                 f"backpropagate through, and ∂{r}/∂{r} = 1"], [""], [[ids[root]]], [0])
    inner = [v for v in names if v.parents]
    leaves = ", ".join(f"{names[v]} = {fmt(v.data)}" for v in names if not v.parents)
    texts = [f"The inputs: {leaves}" if leaves else "No inputs"]
    sums = [""]
    hot: list[list[str]] = [[ids[v] for v in names if not v.parents]]
    born = [0] * len(names)
    for k, v in enumerate(inner, 1):
        born[list(names).index(v)] = k
        texts.append(f"{names[v]} = {formula(v, names)} = {fmt(v.data)}")
        sums.append("")
        op = ids[v] + "_op"
        hot.append([ids[v], op, op + "_out"] + [f"{op}_in{i}" for i in range(len(v.parents))])
    index = {v: k for k, v in enumerate(names)}
    paths: dict[Value, int] = {}  # parent -> how many edges bring it gradient
    for s in steps:
        paths[s.parent] = paths.get(s.parent, 0) + 1
    received: dict[Value, list[float]] = {}
    for s, after in zip(steps, snapshots[1:]):
        texts.append(s.explain())
        parts = received.setdefault(s.parent, [])
        parts.append(s.contribution)
        total = fmt(after[index[s.parent]], DIGITS)
        line = f"∂{r}/∂{names[s.parent]} = "
        if len(parts) > 1:
            line += " + ".join(_term(c) for c in parts) + f" = {total}"
        else:
            line += total
        count = paths[s.parent]
        line += (f"   (all {count} paths)" if len(parts) == count > 1 else
                 f"   ({len(parts)} of {count} paths so far)" if count > 1 else "")
        sums.append(line)
        op = ids[s.node] + "_op"
        hot.append([ids[s.node], op, op + "_out", f"{op}_in{s.position}", ids[s.parent]])
    return texts, sums, hot, born


def _direction(names: dict[Value, str]) -> str:
    """ "TB" for a graph more than a few operations deep, "LR" otherwise."""
    depth: dict[Value, int] = {}
    for v in names:  # inputs come first
        depth[v] = 1 + max((depth[p] for p in v.parents), default=-1)
    return "TB" if max(depth.values()) > DEEP else "LR"


def _term(x: float) -> str:
    """A share in a running sum: negative ones in parentheses, with a real minus sign."""
    text = fmt(x, DIGITS)
    return f"(−{text[1:]})" if text.startswith("-") else text


def _grad_changes(grads: list[dict[str, float] | None], names: list[str]
                  ) -> list[list[list[int | str]]]:
    """Per position, the nodes whose shown gradient changed: [index, text, exact]."""
    changes: list[list[list[int | str]]] = []
    shown: list[str | None] = [None] * len(names)
    for snap in grads:
        now = [None if snap is None or name not in snap else repr(snap[name])
               for name in names]
        changes.append([[i, "grad" if g is None else f"grad {fmt(float(g), DIGITS)}",
                         "" if g is None else g]
                        for i, g in enumerate(now) if g != shown[i] or not changes])
        shown = now
    return changes


def _mark_nodes(svg: str, prefix: str, names: list[str]) -> str:
    """Graphviz's SVG, inline-ready, each value's group carrying ``data-node`` and roles."""
    svg = svg[svg.index("<svg"):]  # no XML prolog inside HTML
    pattern = re.compile(rf'<g id="{re.escape(prefix)}_n(\d+)" class="node">(.*?)</g>', re.S)

    def mark(m: re.Match[str]) -> str:
        k, body = int(m.group(1)), m.group(2)
        count = len(re.findall(r"<text[ >]", body))
        if count >= 3:  # name | data | grad
            body = _role(_role(body, "grad", count - 1), "data", count - 2)
        node = html.escape(names[k], quote=True)
        return f'<g id="{prefix}_n{k}" class="node" data-node="{node}">{body}</g>'

    return pattern.sub(mark, svg)


def _role(body: str, role: str, which: int) -> str:
    """Give the ``which``-th <text> element of ``body`` the attribute data-role=role."""
    found = list(re.finditer(r"<text(?=[ >])", body))
    at = found[which].end()
    return body[:at] + f' data-role="{role}"' + body[at:]


_CSS = """
.agm-player{font-family:Helvetica,Arial,sans-serif;font-size:14px;margin:.5em 0;outline:none}
.agm-player .agm-bar{display:flex;flex-wrap:wrap;gap:.4em;align-items:center}
.agm-player button{font-size:13px;padding:.2em .6em;cursor:pointer}
.agm-player input[type=range]{flex:1 1 12em;min-width:8em}
.agm-player [data-role=position]{font-variant-numeric:tabular-nums;min-width:5em}
.agm-player .agm-phase{margin-top:.4em;font-size:12px;color:#666;text-transform:uppercase}
.agm-player .agm-text{font-family:Menlo,Consolas,monospace;font-size:14px;min-height:1.4em;
 white-space:pre-wrap}
.agm-player .agm-sum{font-family:Menlo,Consolas,monospace;font-size:13px;color:#8c2d04;
 min-height:1.3em;white-space:pre-wrap}
.agm-player .agm-graph{overflow:auto;margin-top:.3em}
.agm-player .agm-graph svg{max-width:100%;height:auto}
.agm-player g.agm-dim{opacity:.2}
.agm-player g.agm-hot path,.agm-player g.agm-hot ellipse,
.agm-player g.agm-hot polygon[fill=none]{stroke:#d62728;stroke-width:2.5px}
.agm-player g.node.agm-hot polygon:not([fill=none]){fill:#fde0dd}
.agm-player g.edge.agm-hot polygon{fill:#d62728;stroke:#d62728}
.agm-player text.agm-new{fill:#d62728;font-weight:bold}
"""

_JS = r"""
(function () {
  "use strict";
  // This player's own element: the script's parent where the script runs in place;
  // by id where it is evaluated elsewhere (some notebook front ends do that).
  var here = document.currentScript, root = here && here.parentNode;
  if (!root || !root.classList || !root.classList.contains("agm-player")) {
    root = document.getElementById("PLAYER_ID");
  }
  if (!root || root.getAttribute("data-ready")) { return; }
  root.setAttribute("data-ready", "1");
  var D = JSON.parse(root.querySelector("script[data-role=data]").textContent);
  function role(name) { return root.querySelector("[data-role=" + name + "]"); }
  function byId(id) { return root.querySelector("[id='" + D.prefix + id + "']"); }
  var n = D.texts.length, at = 0, timer = null;
  var nodes = D.born.map(function (_, i) {
    var g = byId("n" + i);
    return {g: g, grad: g && g.querySelector("[data-role=grad]"),
            data: g && g.querySelector("[data-role=data]")};
  });
  nodes.forEach(function (x, i) {
    if (x.data) { x.full = x.data.textContent; }
    // the operation that computes node i, and the edges into and out of it
    x.op = Array.prototype.slice.call(
      root.querySelectorAll("[id^='" + D.prefix + "n" + i + "_op']"));
  });
  var hot = [];
  function show(k) {
    at = Math.max(0, Math.min(n - 1, k));
    var grads = [], exact = [], fresh = {};
    for (var j = 0; j <= at; j++) {
      D.grads[j].forEach(function (c) {
        grads[c[0]] = c[1]; exact[c[0]] = c[2]; if (j === at && at > 0) { fresh[c[0]] = 1; }
      });
    }
    nodes.forEach(function (x, i) {
      if (!x.g) { return; }
      var seen = at >= D.born[i];
      x.g.classList.toggle("agm-dim", !seen);
      x.op.forEach(function (g) { g.classList.toggle("agm-dim", !seen); });
      if (x.data) { x.data.textContent = seen ? x.full : "data"; }
      if (x.grad) {
        x.grad.textContent = grads[i];
        x.grad.setAttribute("data-value", exact[i]);
        x.grad.classList.toggle("agm-new", !!fresh[i] && at >= D.backward);
      }
    });
    hot.forEach(function (g) { g.classList.remove("agm-hot"); });
    hot = D.hot[at].map(byId).filter(Boolean);
    hot.forEach(function (g) { g.classList.add("agm-hot"); });
    role("step-text").textContent = D.texts[at];
    role("sum").textContent = D.sums[at];
    role("phase").textContent = at < D.backward ? "forward pass" :
      "backward pass, step " + (at - D.backward + 1) + " of " + (n - D.backward);
    role("position").textContent = (at + 1) + " / " + n;
    role("slider").value = String(at);
  }
  function stop() {
    if (timer !== null) { clearTimeout(timer); timer = null; }
    role("play").innerHTML = "&#x25B6; play";
  }
  function tick() {
    show(at + 1);
    if (at >= n - 1) { stop(); return; }  // paused at the end
    timer = setTimeout(tick, 1000 / Number(role("speed").value));
  }
  function play() {
    if (timer !== null) { stop(); return; }
    if (at >= n - 1) { show(0); }
    role("play").innerHTML = "&#x23F8; pause";
    timer = setTimeout(tick, 1000 / Number(role("speed").value));
  }
  role("next").addEventListener("click", function () { stop(); show(at + 1); });
  role("prev").addEventListener("click", function () { stop(); show(at - 1); });
  role("first").addEventListener("click", function () { stop(); show(0); });
  role("last").addEventListener("click", function () { stop(); show(n - 1); });
  role("play").addEventListener("click", play);
  role("slider").addEventListener("input", function () { stop(); show(Number(this.value)); });
  var moves = {ArrowRight: function () { return at + 1; },
               ArrowLeft: function () { return at - 1; },
               Home: function () { return 0; }, End: function () { return n - 1; }};
  function key(e) {
    var t = e.target;
    if (!moves[e.key] || e.altKey || e.ctrlKey || e.metaKey) { return; }
    if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA")) {
      return;  // the slider moves itself, and says so with an input event
    }
    e.preventDefault(); e.stopPropagation();
    stop(); show(moves[e.key]());
  }
  // A page has one player: the keys work wherever the focus is. In a notebook
  // there may be several: each listens only when it (or a button in it) has focus.
  (D.page ? document : root).addEventListener("keydown", key);
  show(0);
})();
"""
