"""Drawing graphs: the SVG is parsed and its nodes, edges, names and numbers counted."""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET

import graphviz
import pytest

from autograd_mini import Value, dot, grad
from autograd_mini import sum as vsum
from autograd_mini.engine import walk
from autograd_mini.losses import mse
from autograd_mini.nn import MLP
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
    with pytest.raises(TypeError, match="highlight must be a Value, a Step or a Mismatch, got str"):
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


# --- a network collapsed to one node per neuron or per layer


def mlp_loss(nouts: list[int], inputs: list[list[Value | float]], targets: list[float],
             output_activation: str = "linear") -> tuple[MLP, list[Value], Value]:
    net = MLP(2, nouts, activation="tanh", output_activation=output_activation, seed=3)
    preds = [net(x) for x in inputs]
    loss = mse(preds, targets)
    loss.backward()
    return net, preds, loss


def loss_part(preds: list[Value], targets: list[float]) -> int:
    """How many values the loss alone computes: the same loss over fresh leaves.

    Each is drawn as a record and an operation; the leaves stand for the
    network's outputs, drawn as part of the network.
    """
    return sum(1 for v in walk(mse([Value(p.data) for p in preds], targets)) if v.parents)


def groups_of(drawing: Drawing) -> dict[str, str]:
    """Drawn id -> the group's title ("L1 N2 · tanh", "layer 1 · 3 × tanh")."""
    return {name: ts[0] for name, ts in drawing.texts.items() if name.startswith("g")}


def group_edges(drawing: Drawing) -> set[tuple[str, str]]:
    titles = groups_of(drawing)
    pairs = [t.split("->") for t in drawing.edge_titles()]
    return {(titles[a], titles[b]) for a, b in pairs if a in titles and b in titles}


def norm_field(drawing: Drawing, title: str) -> float:
    (name,) = [n for n, t in groups_of(drawing).items() if t == title]
    (field,) = [t for t in drawing.texts[name] if t.startswith("‖∇params‖ ")]
    return float(field.split()[-1])


def test_collapsed_by_neuron_one_record_per_neuron_and_the_loss_as_usual():
    inputs = [[1.0, -2.0], [0.5, 0.3]]
    net, preds, loss = mlp_loss([3, 2, 1], inputs, [1.0, -1.0])
    drawing = Drawing(render_svg(loss, collapse="neuron", model=net))
    titles = groups_of(drawing)
    expected = [f"L{li} N{ni} · {act}" for li, n, act in [(1, 3, "tanh"), (2, 2, "tanh"),
                                                          (3, 1, "linear")]
                for ni in range(1, n + 1)]
    assert sorted(titles.values()) == sorted(expected)
    loss_values = loss_part(preds, [1.0, -1.0])
    ops = [n for n in drawing.nodes if n.endswith("_op")]
    assert len(ops) == loss_values
    assert len(drawing.nodes) == len(expected) + 2 * loss_values
    assert not {"dot", "tanh"} & {t for n in ops for t in drawing.texts[n]}
    # every neuron of a layer feeds every neuron of the next, never backwards
    assert group_edges(drawing) == {(a, b) for a in expected for b in expected
                                    if int(b[1]) == int(a[1]) + 1}
    # the output neuron feeds the loss: one edge per sample into a loss operation
    out_id = next(n for n, t in titles.items() if t.startswith("L3"))
    into_loss = [t for t in drawing.edge_titles() if t.startswith(f"{out_id}->")]
    assert len(into_loss) == len(inputs) and all(t.endswith("_op") for t in into_loss)
    # the inputs are numbers: nothing but neurons feeds a neuron
    pairs = [t.split("->") for t in drawing.edge_titles()]
    assert all(a in titles for a, b in pairs if b in titles)
    # each neuron's ‖∇params‖ is the norm of its own parameters' gradients
    for li, layer in enumerate(net.layers, 1):
        for ni, neuron in enumerate(layer.neurons, 1):
            g = grad(loss, [*neuron.w, neuron.b])
            title = f"L{li} N{ni} · {'linear' if li == 3 else 'tanh'}"
            assert norm_field(drawing, title) == pytest.approx(math.hypot(*g), rel=5e-4)
            assert math.hypot(*g) > 0


def test_collapsed_by_layer_one_record_per_layer_in_a_chain():
    net, preds, loss = mlp_loss([3, 2, 1], [[1.0, -2.0], [0.5, 0.3]], [1.0, -1.0])
    drawing = Drawing(render_svg(loss, collapse="layer", model=net))
    titles = ["layer 1 · 3 × tanh", "layer 2 · 2 × tanh", "layer 3 · 1 × linear"]
    assert sorted(groups_of(drawing).values()) == titles
    assert len(drawing.nodes) == len(titles) + 2 * loss_part(preds, [1.0, -1.0])
    assert group_edges(drawing) == {(titles[0], titles[1]), (titles[1], titles[2])}
    for title, layer in zip(titles, net.layers):
        g = grad(loss, [p for n in layer.neurons for p in (*n.w, n.b)])
        assert norm_field(drawing, title) == pytest.approx(math.hypot(*g), rel=5e-4)
    # a layer is a summary: no one output's data to show
    assert not any(t.startswith("data ") for t in drawing.texts["g0"])


def test_a_hidden_layer_of_one_neuron_and_a_linear_output_with_input_values():
    x = [Value(0.4, label="x1"), Value(-0.7, label="x2")]
    net, (pred,), loss = mlp_loss([3, 1, 1], [x], [0.25])
    drawing = Drawing(render_svg(loss, collapse="neuron", model=net))
    titles = groups_of(drawing)
    assert sorted(titles.values()) == ["L1 N1 · tanh", "L1 N2 · tanh", "L1 N3 · tanh",
                                       "L2 N1 · tanh", "L3 N1 · linear"]
    hidden = [math.tanh(sum(w.data * xi.data for w, xi in zip(n.w, x)) + n.b.data)
              for n in net.layers[0].neurons]
    (middle,) = net.layers[1].neurons
    h2 = math.tanh(sum(w.data * h for w, h in zip(middle.w, hidden)) + middle.b.data)
    (last,) = net.layers[2].neurons
    out = last.w[0].data * h2 + last.b.data  # linear: no activation
    one = {t: drawing.texts[n] for n, t in titles.items()}
    assert one["L2 N1 · tanh"][1] == f"data {h2:.4g}"
    assert one["L3 N1 · linear"][1] == f"data {out:.4g}"
    assert one["L3 N1 · linear"][2] == f"grad {2 * (out - 0.25):.4g}"  # d(a - y)² / da
    assert pred.data == pytest.approx(out)
    edges = group_edges(drawing)
    assert edges == {(f"L1 N{i} · tanh", "L2 N1 · tanh") for i in (1, 2, 3)} | {
        ("L2 N1 · tanh", "L3 N1 · linear")}
    # the inputs, drawn as usual, feed each first-layer neuron
    ids = {v: drawing.node_with_text(v.label) for v in x}
    firsts = {n for n, t in titles.items() if t.startswith("L1")}
    assert {tuple(t.split("->")) for t in drawing.edge_titles()
            if t.split("->")[0] in ids.values()} == {(i, g) for i in ids.values() for g in firsts}
    layers = Drawing(render_svg(loss, collapse="layer", model=net))
    assert group_edges(layers) == {("layer 1 · 3 × tanh", "layer 2 · 1 × tanh"),
                                   ("layer 2 · 1 × tanh", "layer 3 · 1 × linear")}


def test_collapsing_needs_the_model_the_graph_was_built_with():
    net, _, loss = mlp_loss([3, 1], [[1.0, 2.0]], [0.0])
    other = MLP(2, [3, 1], seed=3)  # the same numbers, other Values
    for collapse in ("neuron", "layer"):
        with pytest.raises(ValueError, match="none of the model's parameters are in this graph"):
            draw_dot(loss, collapse=collapse, model=other)
        with pytest.raises(TypeError, match=f"collapse='{collapse}' needs model=.*got no model"):
            draw_dot(loss, collapse=collapse)
        with pytest.raises(TypeError, match=r"needs model=.*got list"):
            draw_dot(loss, collapse=collapse, model=[net])
    assert "g0" in draw_dot(loss, collapse="neuron", model=net).source


def test_jupyter_display_without_graphviz_says_how_to_install(tmp_path, monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    net, _, loss = mlp_loss([2, 1], [[1.0, 2.0]], [0.0])
    for graph in (draw_dot(Value(2.0, label="x") * 3), draw_dot(loss, collapse="layer",
                                                                 model=net)):
        with pytest.raises(GraphvizNotFound, match="'dot', which is not on PATH") as info:
            graph._repr_mimebundle_()
        assert "apt-get install graphviz" in str(info.value)
        assert "https://graphviz.org/download/" in str(info.value)
        # code that catches graphviz's own error still catches this one
        assert isinstance(info.value, graphviz.ExecutableNotFound)


def test_unlabeled_values_never_take_a_label_already_in_the_graph():
    a, b = Value(2.0, label="v1"), Value(3.0)
    c = a * (b + 1)
    drawing = Drawing(render_svg(c))
    shown = [ts[0] for name, ts in drawing.texts.items() if not name.endswith("_op")]
    assert sorted(shown) == ["v1", "v2", "v3", "v4"]
    assert drawing.texts[drawing.node_with_text("v1")][1] == "data 2"
    assert drawing.texts[drawing.node_with_text("v2")][1] == "data 3"


def test_a_model_without_collapse_is_refused_not_ignored() -> None:
    from autograd_mini.nn import MLP

    net = MLP(2, [2, 1], seed=0)
    with pytest.raises(ValueError, match="model= is only used to collapse the graph"):
        draw_dot(net([1.0, 2.0]), model=net)


# --- what a label holds is what the drawing shows


def test_control_characters_and_entities_in_labels_are_shown_as_written():
    x = Value(1.0, label="a\x00b\n&amp; <c> \"q\" \x7f")
    y = x * 2
    y.label = "y&z"
    drawing = Drawing(render_svg(y))  # no error from dot
    texts = [ts[0] for name, ts in drawing.texts.items() if not name.endswith("_op")]
    assert sorted(texts) == ["a\\x00b\\n&amp; <c> \"q\" \\x7f", "y&z"]


def test_max_nodes_bounds_the_edges_too():
    x = Value(1.0, label="x")
    many = vsum([x] * 200_000)  # two values, 200,000 edges
    with pytest.raises(ValueError, match=r"more than 2000 edges \(4 × max_nodes=500\)"):
        draw_dot(many)
    with pytest.raises(ValueError, match="more than 2000 edges"):
        render_svg(many)
    assert draw_dot(vsum([x] * 40), max_nodes=10).source.count(" -> ") == 41


def _neuron_order(svg: str, across: str) -> dict[str, list[int]]:
    """Per layer, its neurons in the order drawn (top to bottom or left to right)."""
    drawing = Drawing(svg)
    order: dict[str, list[tuple[float, int]]] = {}
    for g in drawing.nodes.values():
        for t in g.iter(f"{SVG}text"):
            if t.text and t.text.startswith("L") and " N" in t.text:
                layer, neuron = t.text.split(" · ")[0].split()
                order.setdefault(layer, []).append((float(t.get(across)), int(neuron[1:])))
    return {layer: [n for _, n in sorted(found)] for layer, found in order.items()}


@pytest.mark.parametrize("rankdir, across", [("LR", "y"), ("TB", "x")])
def test_collapsed_neurons_keep_the_models_order(rankdir: str, across: str):
    net = MLP(2, [4, 4, 1], activation="tanh", seed=3)
    pred = net([Value(0.1, label="x1"), Value(-0.2, label="x2")])
    loss = mse([pred], [1.0])
    loss.backward()
    order = _neuron_order(render_svg(loss, collapse="neuron", model=net, rankdir=rankdir),
                          across)
    assert order == {"L1": [1, 2, 3, 4], "L2": [1, 2, 3, 4], "L3": [1]}


def test_a_bias_shared_by_a_layer_is_drawn_once_on_its_own():
    from autograd_mini import example

    net = example.network()
    loss = example.loss(net)
    loss.backward()
    drawing = Drawing(render_svg(loss))
    names = [ts[0] for name, ts in drawing.texts.items() if not name.endswith("_op")]
    assert names.count("b1") == 1 and names.count("b2") == 1
    collapsed = Drawing(render_svg(loss, collapse="neuron", model=net))
    titles = groups_of(collapsed)
    b1 = collapsed.node_with_text("b1")
    into = [t.split("->")[1] for t in collapsed.edge_titles() if t.split("->")[0] == b1]
    assert sorted(titles[g] for g in into) == ["L1 N1 · sigmoid", "L1 N2 · sigmoid"]


def test_the_readme_graph_reads_at_900_px():
    """docs/worked-example.svg, scaled to a 900 px column, keeps its text at least 11 px tall."""
    root = ET.parse(os.path.join(os.path.dirname(__file__), "..", "docs",
                                 "worked-example.svg")).getroot()
    width_px = float(root.get("width").removesuffix("pt")) * 4 / 3
    scale = min(1.0, 900 / width_px)
    sizes = {float(t.get("font-size")) for t in root.iter(f"{SVG}text")}
    assert min(sizes) * 4 / 3 * scale >= 11, f"{width_px:.0f} px wide: text too small at 900 px"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts.count("b1") == 1 and texts.count("b2") == 1  # one shared bias per layer
