"""Drawing computation graphs: every value with its data and gradient.

``draw_dot(root)`` builds a Graphviz graph (it displays inline in Jupyter):
one record per ``Value`` (name | data | grad) and one small node per
operation, edges in the direction the data flows. ``render_svg`` turns it
into SVG text or an SVG file. Building the graph needs only the ``graphviz``
Python package; rendering needs Graphviz's ``dot`` program, and without it
every rendering call raises ``GraphvizNotFound``, which says how to install it.

>>> from autograd_mini import Value
>>> x = Value(2.0, label="x")
>>> y = (x * 3).tanh(); y.label = "y"
>>> graph = draw_dot(y)
>>> "tanh" in graph.source and "data 2" in graph.source
True
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from typing import Any

import graphviz

from .check import Mismatch
from .engine import Value, walk
from .files import write_atomic
from .trace import Step, fmt, node_names

__all__ = ["GraphvizNotFound", "Player", "draw_dot", "player", "render_svg"]

MAX_NODES = 500  # beyond this a drawing is unreadable and its SVG tens of megabytes
EDGES_PER_NODE = 4  # a drawing may have this many edges per allowed node: sum([x] * 10**5)
#                     is two values, and a drawing of megabytes

LEAF_FILL = "#e8f0fe"
GROUP_FILL = "#fff4d6"
HIGHLIGHT = "#d62728"
HIGHLIGHT_FILL = "#fde0dd"


class GraphvizNotFound(graphviz.ExecutableNotFound):
    """Rendering needs Graphviz's ``dot`` program, and it is not installed."""

    def __init__(self) -> None:
        RuntimeError.__init__(
            self,
            "rendering a graph needs the Graphviz program 'dot', which is not on PATH. "
            "Install it: 'sudo apt-get install graphviz' (Debian/Ubuntu), "
            "'brew install graphviz' (macOS), or see https://graphviz.org/download/ "
            "(everything else in autograd_mini works without it)",
        )


@contextlib.contextmanager
def _dot_needed() -> Iterator[None]:
    try:
        yield
    except graphviz.ExecutableNotFound as e:
        if isinstance(e, GraphvizNotFound):
            raise
        raise GraphvizNotFound() from None


class _Digraph(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose rendering raises ``GraphvizNotFound`` without dot.

    Jupyter's inline display goes through ``pipe``, so it is covered too.
    """

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        with _dot_needed():
            return super().pipe(*args, **kwargs)

    def render(self, *args: Any, **kwargs: Any) -> Any:
        with _dot_needed():
            return super().render(*args, **kwargs)

    def __repr__(self) -> str:
        # No memory address: a notebook's saved output stays the same run to run.
        return f"<graph: {len(self.body)} lines of dot source>"


def draw_dot(root: Value, rankdir: str = "LR", show_grad: bool = True,
             highlight: Value | Step | Mismatch | None = None, collapse: str | None = None,
             model: object = None, max_nodes: int = MAX_NODES) -> graphviz.Digraph:
    """The graph below ``root`` as a ``graphviz.Digraph`` (shown inline in Jupyter).

    ``highlight``: a ``Value`` to mark, a ``Step`` of ``backward_steps`` (the
    edge receiving gradient and both of its ends), or a ``Mismatch`` of
    ``check_graph`` (the edge whose local derivative is wrong). ``collapse="neuron"`` or
    ``"layer"`` with ``model=`` an ``MLP`` draws one node per neuron or per
    layer of that model; whatever is not part of the model (the loss) is drawn
    as usual. A graph of more than ``max_nodes`` values is refused with a
    ``ValueError`` that suggests collapsing.

    >>> from autograd_mini import Value
    >>> a = Value(1.5, label="a")
    >>> b = a * 2; b.label = "b"
    >>> for line in draw_dot(b, show_grad=False).body:
    ...     print(line.strip())
    n0 [label="{a | data 1.5}" fillcolor="#e8f0fe" shape=record style=filled]
    n1 [label="{b | data 3}" fillcolor=white shape=record style=filled]
    n1_op [label="* 2" fontsize=10 height=0.3 shape=ellipse]
    n1_op -> n1
    n0 -> n1_op
    """
    return _draw(root, rankdir, show_grad, highlight, collapse, model, max_nodes)


def _draw(root: Value, rankdir: str = "LR", show_grad: bool = True,
          highlight: Value | Step | Mismatch | None = None, collapse: str | None = None,
          model: object = None, max_nodes: int = MAX_NODES, svg_ids: str | None = None,
          caller: str = "draw_dot") -> graphviz.Digraph:
    """``draw_dot``; with ``svg_ids`` a prefix, every node and edge also gets an SVG id.

    The ids, for a page's script to find them: ``{svg_ids}n3`` for a value's
    record, ``{svg_ids}n3_op`` for its operation, ``{svg_ids}n3_op_in0`` for the
    edge from its first input into the operation, ``{svg_ids}n3_op_out`` for the
    operation's edge into the record.
    """
    if not isinstance(root, Value):
        raise TypeError(f"{caller}: root must be a Value, got {type(root).__name__}")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_dot: rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    if collapse is None and model is not None:
        raise ValueError("draw_dot: model= is only used to collapse the graph; "
                         "pass collapse='neuron' or collapse='layer' with it")
    if collapse is None:
        _check_size(root, max_nodes, caller)
        groups: dict[Value, _Group] = {}
    else:
        groups = _model_groups(root, collapse, model)
    names = node_names(root)
    ids = {v: f"n{k}" for k, v in enumerate(names)}
    keys = sorted(set(groups.values()), key=lambda group: group.rank)  # as in the model
    group_ids = {key: f"g{k}" for k, key in enumerate(keys)}
    drawn = len(names) - len(groups) + len(keys)
    if collapse is not None and drawn > max_nodes:
        raise ValueError(f"draw_dot: even collapsed by {collapse}, the graph has {drawn} "
                         f"nodes (max_nodes={max_nodes}); draw a smaller part of it, "
                         "or pass a larger max_nodes")

    def where(v: Value) -> str:  # the drawn node standing for v
        return group_ids[groups[v]] if v in groups else ids[v]

    marked, marked_edge, edge_label = _highlight_targets(highlight, names)
    marked_ids = {where(v) for v in marked}

    # Top to bottom, a row holds many boxes side by side: packed closer, the
    # drawing stays narrow enough to read in a page column.
    spacing = {"nodesep": "0.15"} if rankdir in ("TB", "BT") else {}
    g = _Digraph(graph_attr={"rankdir": rankdir, **spacing},
                 node_attr={"fontname": "Helvetica", "fontsize": "11"},
                 edge_attr={"color": "#555555", "fontname": "Helvetica", "fontsize": "10"})

    def tag(name: str) -> dict[str, str]:
        return {} if svg_ids is None else {"id": svg_ids + name}

    def record(node_id: str, fields: list[str], fill: str) -> None:
        style = {"color": HIGHLIGHT, "penwidth": "2.5"} if node_id in marked_ids else {}
        g.node(node_id, label="{" + " | ".join(map(_escape, fields)) + "}", shape="record",
               style="filled", fillcolor=HIGHLIGHT_FILL if style else fill, **style,
               **tag(node_id))

    def edge(src: str, dst: str, hot: bool, name: str = "") -> None:
        if hot:
            g.edge(src, dst, color=HIGHLIGHT, penwidth="2.5", label=edge_label,
                   fontcolor=HIGHLIGHT, **tag(name))
        else:
            g.edge(src, dst, **(tag(name) if name else {}))

    for v, name in names.items():
        if v in groups:
            continue
        fields = [name, f"data {fmt(v.data, 4)}"]
        if show_grad:
            fields.append(f"grad {fmt(v.grad, 4)}")
        record(ids[v], fields, "white" if v.parents else LEAF_FILL)
        if v.parents:
            op_id = ids[v] + "_op"
            hot_op = marked_edge is not None and marked_edge[0] is v
            g.node(op_id, label=_plain(_op_text(v)), shape="ellipse", fontsize="10",
                   height="0.3", **({"color": HIGHLIGHT, "penwidth": "2.5"} if hot_op else {}),
                   **tag(op_id))
            g.edge(op_id, ids[v], **tag(op_id + "_out"))
            for position, p in enumerate(v.parents):
                edge(where(p), op_id, (v, position) == marked_edge, f"{op_id}_in{position}")

    # Collapsed parts: one node per neuron or layer, one edge per pair of drawn nodes.
    seen_edges: dict[tuple[str, str], bool] = {}
    for v, key in groups.items():
        for position, p in enumerate(v.parents):
            if groups.get(p) is not key:
                pair = (where(p), group_ids[key])
                seen_edges[pair] = seen_edges.get(pair, False) or (v, position) == marked_edge
    for key in keys:
        record(group_ids[key], _group_fields(key, show_grad), GROUP_FILL)
    # A layer's neurons in the model's order (Graphviz would reorder them to cross
    # fewer edges): each node's edges out are kept in the order they are given.
    if keys:
        g.graph_attr["ordering"] = "out"
        rank = {group_ids[key]: key.rank for key in keys}
        seen_edges = dict(sorted(seen_edges.items(), key=lambda e: rank.get(e[0][1], -1)))
    for (src, dst), hot in seen_edges.items():
        edge(src, dst, hot)
    return g


def render_svg(root: Value, path: str | os.PathLike[str] | None = None,
               **kw: object) -> str:
    """The drawing of ``draw_dot(root, **kw)`` as SVG text, also written to ``path`` if given.

    The file is replaced atomically: it is either the old one or the complete
    new one, never half written. Raises ``GraphvizNotFound`` without ``dot``.

    >>> from autograd_mini import Value
    >>> svg = render_svg(Value(2.0, label="x") * 3)
    >>> svg.lstrip().startswith("<?xml") and "data 6" in svg
    True
    """
    if path is not None:
        path = os.fspath(path)
        if os.path.isdir(path):
            raise IsADirectoryError(f"render_svg: {path!r} is a directory, not a file name")
    svg: str = draw_dot(root, **kw).pipe(format="svg", encoding="utf-8")  # type: ignore[arg-type]
    if path is not None:
        _write_atomic(path, svg)
    return svg


def _write_atomic(path: str, text: str) -> None:
    try:
        write_atomic(path, text)
    except OSError as e:  # say which file was meant
        raise type(e)(e.errno, f"render_svg: cannot write {path!r}: {e.strerror}") from None


# --- pieces


def _escape(text: str) -> str:
    """Text for a record field: these characters would otherwise split the record."""
    text = _plain(text)
    for ch in "\\{}|<>":
        text = text.replace(ch, "\\" + ch)
    return text


def _plain(text: str) -> str:
    """Text that Graphviz shows as it is.

    Graphviz reads "&amp;" as an entity (so "&" is written as one), and a NUL
    or another control character in a label makes ``dot`` fail: those are
    shown escaped, as Python writes them ("\\x00", "\\n").
    """
    text = text.replace("&", "&amp;")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _op_text(v: Value) -> str:
    """The operation as a short formula: "tanh", "* 2", "2 - x", "Σ", "dot"."""
    op, c = v._op, v._arg
    if op.name == "sum":
        return "Σ" if not c else f"Σ {'-' if c < 0 else '+'} {fmt(abs(c), 4)}"
    if not op.symbol:
        return op.name
    text = op.symbol.format(x="x", c=fmt(c, 4) if isinstance(c, float) else "")
    return text[2:] if text.startswith("x ") else text  # "x * 2" reads as "* 2"


def _check_size(root: Value, max_nodes: int, caller: str = "draw_dot") -> None:
    """Refuse a graph of more than ``max_nodes`` values or ``EDGES_PER_NODE`` × as many edges.

    Counting stops at the limit, so a huge graph is refused as fast as a small one.
    """
    if caller == "player":
        advice = ("a player shows every edge, so play a smaller graph (to see a network's "
                  "structure, draw it with draw_dot(root, collapse='neuron', model=your MLP)), "
                  "or raise max_nodes")
    else:
        advice = ("for a network pass collapse='neuron' or collapse='layer' with model=your "
                  "MLP, or raise max_nodes")
    max_edges = EDGES_PER_NODE * max_nodes
    edges = 0
    for count, v in enumerate(walk(root), 1):
        edges += len(v.parents)
        if count > max_nodes:
            raise ValueError(f"{caller}: the graph has more than max_nodes={max_nodes} values, "
                             f"too many to draw readably; {advice}")
        if edges > max_edges:
            raise ValueError(f"{caller}: the graph has more than {max_edges} edges "
                             f"({EDGES_PER_NODE} × max_nodes={max_nodes}), too many to draw "
                             f"readably; {advice}")


def _highlight_targets(highlight: Value | Step | Mismatch | None, names: dict[Value, str]
                       ) -> tuple[set[Value], tuple[Value, int] | None, str]:
    """The values to mark, the (node, position) edge to mark, and its label."""
    if highlight is None:
        return set(), None, ""
    if isinstance(highlight, Step):
        if highlight.node not in names:
            raise ValueError("draw_dot: the highlighted step is not in the graph below root")
        return ({highlight.node, highlight.parent}, (highlight.node, highlight.position),
                f"+= {fmt(highlight.contribution, 4)}")
    if isinstance(highlight, Value):
        if highlight not in names:
            raise ValueError("draw_dot: the highlighted Value is not in the graph below root")
        return {highlight}, None, ""
    if isinstance(highlight, Mismatch):  # the edge whose local derivative is wrong
        if highlight.node not in names:
            raise ValueError("draw_dot: the highlighted mismatch is not in the graph below root")
        return ({highlight.node, highlight.node.parents[highlight.input]},
                (highlight.node, highlight.input),
                f"rule {fmt(highlight.engine, 4)} ≠ {fmt(highlight.numeric, 4)}")
    raise TypeError("draw_dot: highlight must be a Value, a Step or a Mismatch, "
                    f"got {type(highlight).__name__}")


# --- collapsing a network

ACTIVATIONS = ("tanh", "sigmoid", "relu")  # the nodes a neuron may put above its dot


class _Group:
    """One drawn node standing for a neuron or a layer of a model."""

    def __init__(self, rank: int, title: str, activation: str, params: list[Value],
                 layer: int = 0) -> None:
        self.rank = rank  # its place in the model: layer by layer, neuron by neuron
        self.layer = layer  # 1 for the first layer
        self.title = title
        self.activation = activation
        self.params = params
        self.outputs: list[Value] = []  # the values leaving the group, one per call


def _model_groups(root: Value, collapse: str, model: object) -> dict[Value, _Group]:
    """Map every value inside ``model`` (parameters, dot and activation nodes) to its group.

    A neuron is recognised by its parameters: its ``dot`` node is the one whose
    inputs include the neuron's weights, and its activation node is the one
    right above that dot node.
    """
    if collapse not in ("neuron", "layer"):
        raise ValueError(f"draw_dot: collapse must be 'neuron' or 'layer', got {collapse!r}")
    layers = getattr(model, "layers", None)
    if layers is None:
        got = "no model" if model is None else type(model).__name__
        raise TypeError(f"draw_dot: collapse={collapse!r} needs model= the MLP the graph was "
                        f"built with, got {got}")
    owner: dict[Value, tuple[_Group, str]] = {}  # parameter -> its group, its activation
    shared: set[Value] = set()
    for li, layer in enumerate(layers, 1):
        neurons = layer.neurons
        acts = [_activation(n) for n in neurons]
        group = _Group(len(owner), f"layer {li}", f"{len(neurons)} × {acts[0]}",
                       [p for n in neurons for p in (*n.w, n.b)], li)
        for ni, (neuron, act) in enumerate(zip(neurons, acts), 1):
            if collapse == "neuron":
                group = _Group(len(owner), f"L{li} N{ni}", act, [*neuron.w, neuron.b], li)
            for p in (*neuron.w, neuron.b):
                if p in owner and owner[p][0] is not group:
                    shared.add(p)
                owner[p] = (group, act)
    for p in shared:  # one Value in two groups (a bias shared by a layer): drawn on its own
        del owner[p]
    groups: dict[Value, _Group] = {}
    dots: dict[Value, str] = {}  # a neuron's dot node -> the activation expected above it
    nodes = list(walk(root))
    for v in nodes:
        if v in owner:
            groups[v] = owner[v][0]
        elif v.op == "dot":
            found = next((owner[p] for p in v.parents if p in owner), None)
            if found is not None:
                groups[v], dots[v] = found
    activated = set()
    for v in nodes:
        if len(v.parents) == 1 and v.op == dots.get(v.parents[0]):
            groups[v] = groups[v.parents[0]]
            groups[v].outputs.append(v)
            activated.add(v.parents[0])
    for d in dots.keys() - activated:  # linear neurons: the dot node is the output
        groups[d].outputs.append(d)
    if not groups:  # drawing the whole graph instead would hide the mistake
        raise ValueError("draw_dot: none of the model's parameters are in this graph "
                         "— was it built with this model?")
    return groups


def _activation(neuron: object) -> str:
    """The op name of the neuron's activation node ("linear": none)."""
    act = getattr(neuron, "activation", "")
    name = act if isinstance(act, str) else getattr(act, "__name__", "")
    return name if name in (*ACTIVATIONS, "linear") else "?"


def _group_fields(group: _Group, show_grad: bool) -> list[str]:
    fields = [f"{group.title} · {group.activation}"]
    if len(group.outputs) == 1 and not group.title.startswith("layer"):
        out = group.outputs[0]
        fields.append(f"data {fmt(out.data, 4)}")
        if show_grad:
            fields.append(f"grad {fmt(out.grad, 4)}")
    if show_grad:
        norm = math.sqrt(sum(p.grad * p.grad for p in group.params))
        fields.append(f"‖∇params‖ {fmt(norm, 4)}")
    return fields


# The step-by-step player draws with this module; it is offered here too, as
# viz.player, beside the other ways of showing a graph.
from .player import Player, player  # noqa: E402
