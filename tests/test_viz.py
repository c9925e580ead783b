"""Drawing graphs: the SVG is parsed and its nodes, edges, names and numbers counted."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import graphviz
import pytest

from autograd_mini import Value, dot
from autograd_mini import sum as vsum
from autograd_mini.engine import walk
from autograd_mini.trace import backward_steps
from autograd_mini.viz import HIGHLIGHT, GraphvizNotFound, draw_dot, render_svg

SVG = "{http://www.w3.org/2000/svg}"


class Drawing:
    """What a reader sees in an SVG: nodes with their texts, edges, highlighted parts."""

    def __init__(self, svg: str) -> None:
        tree = ET.fromstring(svg)
        groups = list(tree.iter(f"{SVG}g"))
        self.nodes = {self._title(g): g for g in groups if g.get("class") == "node"}
        self.edges = [g for g in groups if g.get("class") == "edge"]
        self.texts = {name: [t.text for t in g.iter(f"{SVG}text")]
                      for name, g in self.nodes.items()}

    @staticmethod
    def _title(g: ET.Element) -> str:
        return g.find(f"{SVG}title").text

    def marked_nodes(self) -> set[str]:
        return {name for name, g in self.nodes.items() if _is_marked(g)}

    def marked_edges(self) -> list[int]:
        return [i for i, g in enumerate(self.edges) if _is_marked(g)]

    def edge_titles(self) -> list[str]:
        return [self._title(g) for g in self.edges]

    def node_with_text(self, text: str) -> str:
        (name,) = [n for n, texts in self.texts.items() if text in texts]
        return name


def _is_marked(g: ET.Element) -> bool:
    return any(e.get("stroke") == HIGHLIGHT for e in g if e.tag != f"{SVG}text")


def named(v: Value, label: str) -> Value:
    v.label = label
    return v


def expression() -> tuple[Value, dict[str, Value]]:
    """Every kind of op node: binary, with a constant on either side, sum, dot, unary."""
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(0.5, label="c")
    d = named(a * b, "d")
    e = named(2 - c, "e")
    f = named(d * 3, "f")
    g = named(vsum([f, e, a]), "g")
    h = named(dot([a, b], [c, 4.0]), "h")
    out = named((g + h).tanh(), "out")
    return out, {v.label: v for v in walk(out) if v.label}


def test_one_record_per_value_one_node_per_operation_edges_along_the_data():
    out, _ = expression()
    out.backward()
    drawing = Drawing(render_svg(out))
    values = list(walk(out))
    inner = [x for x in values if x.parents]
    assert len(drawing.nodes) == len(values) + len(inner)
    assert len(drawing.edges) == len(inner) + sum(len(x.parents) for x in inner)
    # each record reads: name | data | grad
    for x in values:
        name = drawing.node_with_text(x.label or "v1")
        assert drawing.texts[name][1:] == [f"data {x.data:.4g}", f"grad {x.grad:.4g}"]
    op_texts = sorted(t for name, ts in drawing.texts.items() if name.endswith("_op") for t in ts)
    assert op_texts == sorted(["*", "2 - x", "* 3", "Σ", "dot", "+", "tanh"])
    # data flows from inputs to outputs: a -> (its ops) and the op -> d
    titles = drawing.edge_titles()
    a_id, d_id = drawing.node_with_text("a"), drawing.node_with_text("d")
    assert f"{a_id}->{d_id}_op" in titles and f"{d_id}_op->{d_id}" in titles
    assert f"{d_id}->{a_id}_op" not in titles


def test_without_grad_the_records_show_only_name_and_data():
    out, _ = expression()
    drawing = Drawing(render_svg(out, show_grad=False))
    records = [ts for name, ts in drawing.texts.items() if not name.endswith("_op")]
    assert records and all(len(ts) == 2 and ts[1].startswith("data ") for ts in records)
    assert not any("grad" in t for ts in records for t in ts)


def test_highlighting_a_value_marks_that_node_only():
    out, v = expression()
    drawing = Drawing(render_svg(out, highlight=v["d"]))
    assert drawing.marked_nodes() == {drawing.node_with_text("d")}
    assert drawing.marked_edges() == []


@pytest.mark.parametrize(("node", "parent"), [("d", "b"), ("f", "d")])
def test_highlighting_a_step_marks_the_edge_receiving_gradient_and_both_ends(node, parent):
    out, v = expression()
    steps = list(backward_steps(out))
    step = next(s for s in steps if s.node is v[node] and s.parent is v[parent])
    drawing = Drawing(render_svg(out, highlight=step))
    node_id, parent_id = drawing.node_with_text(node), drawing.node_with_text(parent)
    assert drawing.marked_nodes() == {node_id, parent_id, f"{node_id}_op"}
    (edge,) = drawing.marked_edges()
    assert drawing.edge_titles()[edge] == f"{parent_id}->{node_id}_op"
    label = [t.text for t in drawing.edges[edge].iter(f"{SVG}text")]
    assert label == [f"+= {step.contribution:.4g}"]
    # the parent's grad already holds this step's contribution
    assert f"grad {v[parent].grad:.4g}" in drawing.texts[parent_id]


def test_x_times_x_highlights_the_edge_of_each_step():
    x = Value(3.0, label="x")
    y = x * x
    first, second = backward_steps(y)
    marked = [Drawing(render_svg(y, highlight=s)).marked_edges() for s in (first, second)]
    assert len(marked[0]) == len(marked[1]) == 1
    assert marked[0] != marked[1]  # two parallel edges, one per operand


def test_unlabeled_values_are_named_as_in_the_trace():
    a = Value(1.0)
    y = (a * 2).exp()
    steps = list(backward_steps(y))
    drawing = Drawing(render_svg(y))
    shown = {ts[0] for name, ts in drawing.texts.items() if not name.endswith("_op")}
    assert shown == {"v1", "v2", "v3"}
    assert steps[0].explain().startswith("∂v3/∂v2 += ")


def test_labels_with_record_syntax_are_shown_as_written():
    x = Value(1.0, label="w{1|2} <in> \\ \"q\"")
    drawing = Drawing(render_svg(x * 2))
    assert "w{1|2} <in> \\ \"q\"" in drawing.texts[drawing.node_with_text("data 1")]


def test_draw_dot_is_a_digraph_that_displays_inline_in_jupyter():
    graph = draw_dot(Value(2.0, label="x") * 3, rankdir="TB")
    assert isinstance(graph, graphviz.Digraph)
    assert "rankdir=TB" in graph.source
    bundle = graph._repr_mimebundle_()
    svg = bundle["image/svg+xml"]
    assert len(Drawing(svg).nodes) == 3


def test_render_svg_writes_the_file_it_returns(tmp_path):
    path = tmp_path / "graph.svg"
    path.write_text("old")
    svg = render_svg(Value(1.5, label="x").tanh(), path)
    assert path.read_text(encoding="utf-8") == svg
    assert "data 1.5" in Drawing(svg).texts["n0"]
    assert sorted(os.listdir(tmp_path)) == ["graph.svg"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "graph.svg"
    path.write_text("old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space left"):
        render_svg(Value(1.0) * 2, path)
    assert path.read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["graph.svg"]


def test_paths_that_cannot_be_written_give_clear_errors(tmp_path):
    x = Value(1.0) * 2
    with pytest.raises(IsADirectoryError, match="is a directory"):
        render_svg(x, tmp_path)
    with pytest.raises(FileNotFoundError, match=r"cannot write .*missing.*No such file"):
        render_svg(x, tmp_path / "missing" / "g.svg")
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError, match="cannot write"):
        render_svg(x, tmp_path / "file" / "g.svg")


def test_without_graphviz_rendering_says_how_to_install_and_the_rest_works(tmp_path,
                                                                           monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    x = Value(2.0, label="x")
    y = x * x + 1
    y.backward()  # the engine needs no Graphviz
    assert x.grad == 4.0
    graph = draw_dot(y)  # nor does building the drawing
    assert "data 2" in graph.source
    target = tmp_path / "g.svg"
    target.write_text("old")
    calls = [lambda: render_svg(y), lambda: render_svg(y, target), graph._repr_mimebundle_,
             lambda: graph.pipe(format="svg"), lambda: graph.render(tmp_path / "g")]
    for call in calls:
        with pytest.raises(GraphvizNotFound) as info:
            call()
        message = str(info.value)
        assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert isinstance(info.value, RuntimeError)
    assert target.read_text() == "old"


def test_bad_arguments_are_named():
    x = Value(1.0, label="x")
    y = x * 2
    with pytest.raises(TypeError, match="root must be a Value, got float"):
        draw_dot(1.0)
    with pytest.raises(ValueError, match="rankdir must be"):
        draw_dot(y, rankdir="sideways")
    with pytest.raises(TypeError, match="highlight must be a Value or a Step, got str"):
        draw_dot(y, highlight="x")
    with pytest.raises(ValueError, match="not in the graph"):
        draw_dot(y, highlight=Value(3.0))
    with pytest.raises(ValueError, match="collapse must be 'neuron' or 'layer'"):
        draw_dot(y, collapse="neurons", model=object())


def test_a_graph_too_large_to_read_is_refused_with_a_suggestion():
    x = Value(0.1, label="x")
    y = x
    for _ in range(100_000):  # counted only up to the limit, however big the graph
        y = y * 1.0
    with pytest.raises(ValueError, match=r"collapse='neuron'.*max_nodes"):
        draw_dot(y)
    chain = x
    for _ in range(600):
        chain = chain + 1.0
    graph = draw_dot(chain, max_nodes=1000)
    assert graph.source.count("shape=record") == 601
