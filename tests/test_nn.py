"""Neurons, layers and MLPs: structure, activations, errors, state dicts and files.

A network is checked against the same arithmetic written out with ``math``,
and its gradients against finite differences. Saving is checked for an exact
float round-trip, for atomic replacement (by making the write fail part-way)
and for a clear error on every kind of bad file.
"""

from __future__ import annotations

import json
import math
import os
import random
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_mini import Value, numerical_grad
from autograd_mini import nn as nn_module
from autograd_mini.nn import ACTIVATIONS, MLP, Layer, Module, Neuron

ACTS = {
    "sigmoid": lambda z: 1.0 / (1.0 + math.exp(-z)),
    "tanh": math.tanh,
    "relu": lambda z: max(0.0, z),
    "linear": lambda z: z,
}


def snapshot(model: Module) -> list[tuple[Value, float]]:
    """Every parameter with its current number (by identity, not by copy)."""
    return [(p, p.data) for p in model.parameters()]


def assert_untouched(model: Module, before: list[tuple[Value, float]]) -> None:
    now = model.parameters()
    assert len(now) == len(before)
    for p, (q, x) in zip(now, before):
        assert p is q
        assert bits(p.data) == bits(x)


def bits(x: float) -> bytes:
    """A float's exact bit pattern, so -0.0 and 0.0 or two nans are told apart."""
    return struct.pack("<d", x)


def forward_by_hand(net: MLP, x: list[float]) -> list[float]:
    """The network's output computed with floats and ``math``, no ``Value``s."""
    acts = [net.activation] * (len(net.layers) - 1) + [net.output_activation]
    for layer, act in zip(net.layers, acts):
        x = [ACTS[act](sum(w.data * xi for w, xi in zip(n.w, x)) + n.b.data)
             for n in layer.neurons]
    return x


# --- construction and parameters


def test_neuron_has_one_weight_per_input_and_a_zero_bias():
    n = Neuron(4, seed=0)
    assert len(n.w) == 4
    assert all(isinstance(w, Value) and -1.0 <= w.data <= 1.0 for w in n.w)
    assert len({w.data for w in n.w}) == 4  # drawn, not all alike
    assert n.b.data == 0.0
    params = n.parameters()
    assert len(params) == 5
    assert all(p is q for p, q in zip(params, [*n.w, n.b]))


def test_layer_parameters_go_neuron_by_neuron():
    layer = Layer(3, 4, seed=0)
    assert len(layer.neurons) == 4
    assert all(len(n.w) == 3 for n in layer.neurons)
    expected = [p for n in layer.neurons for p in [*n.w, n.b]]
    got = layer.parameters()
    assert len(got) == 16
    assert all(p is q for p, q in zip(got, expected))


@pytest.mark.parametrize("nin, nouts", [(2, [3, 1]), (1, [1]), (3, [4, 4, 2]), (5, [1, 1, 1])])
def test_mlp_parameters_count_and_order(nin, nouts):
    net = MLP(nin, nouts, seed=0)
    sizes = [nin, *nouts]
    count = sum((sizes[i] + 1) * sizes[i + 1] for i in range(len(nouts)))
    expected = [p for layer in net.layers for n in layer.neurons for p in [*n.w, n.b]]
    got = net.parameters()
    assert len(got) == count == len({id(p) for p in got})
    assert all(p is q for p, q in zip(got, expected))
    assert [len(layer.neurons) for layer in net.layers] == nouts
    assert [len(layer.neurons[0].w) for layer in net.layers] == sizes[:-1]


def test_parameters_returns_the_same_values_each_time():
    net = MLP(2, [2, 1], seed=0)
    assert all(p is q for p, q in zip(net.parameters(), net.parameters()))


def test_zero_grad_clears_every_parameter():
    net = MLP(3, [4, 2], seed=1)
    for module in (net, net.layers[0], net.layers[1].neurons[0]):
        out = net([0.3, -0.2, 0.9])
        (out[0] * out[1]).backward()
        assert any(p.grad != 0.0 for p in module.parameters())
        module.zero_grad()
        assert all(p.grad == 0.0 for p in module.parameters())


# --- what a neuron computes


def test_weight_k_connects_input_k():
    n = Neuron(3, activation="linear", seed=0)
    for w, x in zip(n.w, [2.0, -3.0, 5.0]):
        w.data = x
    n.b.data = 0.5
    xs = [Value(7.0), Value(11.0), Value(13.0)]
    out = n(xs)
    assert out.data == 2.0 * 7.0 - 3.0 * 11.0 + 5.0 * 13.0 + 0.5
    out.backward()
    assert [w.grad for w in n.w] == [7.0, 11.0, 13.0]  # d out / d w[k] = x[k]
    assert [x.grad for x in xs] == [2.0, -3.0, 5.0]  # d out / d x[k] = w[k]
    assert n.b.grad == 1.0


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("inputs_are_values", [False, True])
def test_pre_activation_is_one_dot_node(activation, inputs_are_values):
    n = Neuron(3, activation=activation, seed=2)
    xs = [0.5, -1.5, 2.0]
    x_in = [Value(x) for x in xs] if inputs_are_values else xs
    out = n(x_in)
    if activation == "linear":
        z = out
    else:
        assert out.op == activation
        assert len(out.parents) == 1
        (z,) = out.parents
    assert z.op == "dot"
    expected_parents = [*n.w, *x_in, n.b] if inputs_are_values else [*n.w, n.b]
    assert len(z.parents) == len(expected_parents)
    assert all(p is q for p, q in zip(z.parents, expected_parents))
    assert all(p.op == "" for p in z.parents)  # no + or * nodes below the dot
    pre = sum(w.data * x for w, x in zip(n.w, xs)) + n.b.data
    assert z.data == pytest.approx(pre, rel=1e-15)
    assert out.data == pytest.approx(ACTS[activation](pre), rel=1e-15)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("bias", [-3.0, 3.0])  # relu both switched off and on
def test_activation_values(activation, bias):
    n = Neuron(2, activation=activation, seed=0)
    n.w[0].data, n.w[1].data, n.b.data = 0.5, -0.25, bias
    z = 0.5 * 1.0 - 0.25 * 2.0 + bias
    assert n([1.0, 2.0]).data == pytest.approx(ACTS[activation](z), rel=1e-15)


def test_activation_names_are_the_four_of_the_contract():
    assert set(ACTIVATIONS) == {"sigmoid", "tanh", "relu", "linear"}


def test_mlp_hidden_layers_use_activation_and_the_last_output_activation():
    net = MLP(2, [3, 3, 2], activation="relu", output_activation="sigmoid", seed=0)
    outs = net([0.4, -0.7])
    assert isinstance(outs, list) and len(outs) == 2
    assert [o.op for o in outs] == ["sigmoid", "sigmoid"]
    second = outs[0].parents[0].parents  # dot(w, hidden2, b): w…, hidden2…, b
    hidden2 = second[3:6]
    assert all(h.op == "relu" for h in hidden2)
    hidden1 = hidden2[0].parents[0].parents[3:6]
    assert all(h.op == "relu" for h in hidden1)
    assert MLP(2, [3, 1], seed=0)([0.4, -0.7]).op == "dot"  # linear output by default
    assert MLP(2, [3, 1], seed=0)([0.4, -0.7]).parents[3].op == "tanh"  # tanh hidden


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("output_activation", sorted(ACTIVATIONS))
def test_mlp_matches_the_same_network_written_with_math(activation, output_activation):
    net = MLP(3, [4, 3, 2], activation=activation, output_activation=output_activation, seed=5)
    rng = random.Random(0)
    for layer in net.layers:  # non-zero biases, so a bias in the wrong place shows
        for n in layer.neurons:
            n.b.data = rng.uniform(-0.5, 0.5)
    x = [0.3, -1.2, 0.8]
    got = [o.data for o in net(x)]
    assert got == pytest.approx(forward_by_hand(net, x), rel=1e-12, abs=1e-15)


def test_mlp_gradients_match_finite_differences():
    net = MLP(2, [3, 2], activation="tanh", output_activation="sigmoid", seed=3)
    params = net.parameters()
    x = [0.7, -0.4]

    def loss_of(*values: float) -> float:
        for p, v in zip(params, values):
            p.data = v
        a, b = net(x)
        return (a * b + b).data

    start = [p.data for p in params]
    a, b = net(x)
    (a * b + b).backward()
    analytic = [p.grad for p in params]
    numeric = numerical_grad(loss_of, start)
    assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-8)


def test_layer_always_returns_a_list():
    one = Layer(2, 1, seed=0)([1.0, 2.0])
    assert isinstance(one, list) and len(one) == 1 and isinstance(one[0], Value)
    three = Layer(2, 3, seed=0)([Value(1.0), 2.0])
    assert isinstance(three, list) and len(three) == 3


def test_mlp_with_one_output_returns_one_value():
    out = MLP(2, [3, 1], seed=0)([1.0, 2.0])
    assert isinstance(out, Value)
    out.backward()  # a Value one can backpropagate from directly


@pytest.mark.parametrize("nouts", [[1, 1], [1, 3, 1], [2, 1, 2]])
def test_a_hidden_layer_of_one_neuron_works(nouts):
    net = MLP(2, nouts, activation="tanh", seed=4)
    out = net([0.5, -0.5])
    outs = [out] if isinstance(out, Value) else out
    assert len(outs) == nouts[-1]
    assert [o.data for o in outs] == pytest.approx(forward_by_hand(net, [0.5, -0.5]), rel=1e-12)
    outs[0].backward()
    assert all(n.w[0].grad != 0.0 for n in net.layers[0].neurons)


def test_sizes_may_be_numpy_integers_and_the_model_still_saves(tmp_path):
    net = MLP(np.int64(2), np.array([3, 1]), seed=0)
    assert [len(layer.neurons) for layer in net.layers] == [3, 1]
    net.save(tmp_path / "net.json")
    assert MLP.load(tmp_path / "net.json").state_dict() == net.state_dict()
    assert len(Layer(np.int32(2), np.int32(4), seed=0).neurons) == 4
    assert len(MLP(2, (n for n in [2, 2, 1]), seed=0).layers) == 3  # any iterable of sizes


def test_inputs_may_be_ints_tuples_or_values():
    net = MLP(2, [2, 1], seed=0)
    expected = net([1.0, 2.0]).data
    assert net((1, 2)).data == expected
    assert net([Value(1.0), 2]).data == expected


# --- reproducible weights


def test_the_same_seed_gives_the_same_weights():
    assert MLP(3, [4, 2], seed=7).state_dict() == MLP(3, [4, 2], seed=7).state_dict()
    assert Neuron(5, seed=7).state_dict() == Neuron(5, seed=7).state_dict()
    assert Layer(2, 3, seed=7).state_dict() == Layer(2, 3, seed=7).state_dict()


def test_a_different_seed_gives_different_weights():
    a = [p.data for p in MLP(3, [4, 2], seed=7).parameters()]
    b = [p.data for p in MLP(3, [4, 2], seed=8).parameters()]
    weights_differ = [x != y for x, y in zip(a, b) if x or y]  # biases are 0 in both
    assert all(weights_differ) and weights_differ


def test_no_seed_gives_fresh_weights():
    a = [p.data for p in MLP(3, [4, 2]).parameters()]
    b = [p.data for p in MLP(3, [4, 2]).parameters()]
    assert a != b


def test_a_numpy_integer_seed_is_the_same_seed():
    assert MLP(2, [2, 1], seed=np.int64(3)).state_dict() == MLP(2, [2, 1], seed=3).state_dict()
    assert Layer(2, 3, seed=np.int32(3)).state_dict() == Layer(2, 3, seed=3).state_dict()
    assert Neuron(4, seed=np.uint8(3)).state_dict() == Neuron(4, seed=3).state_dict()
    assert type(MLP(2, [1], seed=np.int64(3)).seed) is int


@pytest.mark.parametrize("make, who", [
    (lambda s: Neuron(2, seed=s), "Neuron"),
    (lambda s: Layer(2, 2, seed=s), "Layer"),
    (lambda s: MLP(2, [2, 1], seed=s), "MLP"),
])
@pytest.mark.parametrize("bad", [True, False, "abc", 1.5, 3.0, [1], np.float64(2.0)])
def test_a_seed_that_is_not_an_int_is_a_value_error(make, who, bad):
    with pytest.raises(ValueError, match=rf"^{who}: seed must be an int or None, got "):
        make(bad)


def test_neurons_of_a_network_get_different_weights():
    net = MLP(2, [3, 1], seed=0)
    rows = [tuple(w.data for w in n.w) for n in net.layers[0].neurons]
    assert len(set(rows)) == 3


# --- bad arguments


@pytest.mark.parametrize("make", [
    lambda a: Neuron(2, activation=a),
    lambda a: Layer(2, 2, activation=a),
    lambda a: MLP(2, [2, 1], activation=a),
    lambda a: MLP(2, [2, 1], output_activation=a),
])
@pytest.mark.parametrize("bad", ["softmax", "Tanh", "", None, 3])
def test_an_unknown_activation_lists_the_valid_ones(make, bad):
    with pytest.raises(ValueError, match="unknown activation") as info:
        make(bad)
    message = str(info.value)
    assert repr(bad) in message
    for name in ("sigmoid", "tanh", "relu", "linear"):
        assert repr(name) in message


@pytest.mark.parametrize("model, who, n", [
    (Neuron(3, seed=0), "Neuron", 3),
    (Layer(3, 2, seed=0), "Layer", 3),
    (MLP(3, [2, 1], seed=0), "MLP", 3),
])
@pytest.mark.parametrize("length", [0, 2, 4])
def test_a_wrong_input_length_says_expected_and_got(model, who, n, length):
    before = snapshot(model)
    with pytest.raises(ValueError, match=rf"{who} expected {n} inputs, got {length}"):
        model([0.5] * length)
    assert_untouched(model, before)


@pytest.mark.parametrize("model", [Neuron(1, seed=0), Layer(1, 2, seed=0), MLP(1, [1], seed=0)])
@pytest.mark.parametrize("bad", [0.5, Value(0.5), None])
def test_a_single_number_instead_of_a_list_is_a_clear_type_error(model, bad):
    expected = r"expected a list of 1 inputs, got a (float|Value|NoneType)"
    with pytest.raises(TypeError, match=expected):
        model(bad)


@pytest.mark.parametrize("make, what", [
    (lambda: Neuron(0), "nin"),
    (lambda: Neuron(2.0), "nin"),
    (lambda: Neuron(True), "nin"),
    (lambda: Layer(0, 2), "nin"),
    (lambda: Layer(2, 0), "nout"),
    (lambda: Layer(2, -1), "nout"),
    (lambda: MLP(0, [1]), "nin"),
    (lambda: MLP(2, []), "nouts"),
    (lambda: MLP(2, 3), "nouts"),
    (lambda: MLP(2, "21"), "nouts"),
    (lambda: MLP(2, None), "nouts"),
    (lambda: MLP(2, [3, 0]), "layer size"),
    (lambda: MLP(2, [3, 1.0]), "layer size"),
])
def test_bad_sizes_are_value_errors_naming_the_argument(make, what):
    with pytest.raises(ValueError, match=what):
        make()


def test_repr_shows_the_shape():
    assert repr(MLP(2, [3, 1], activation="relu")) == \
        "MLP(2-3-1, activation='relu', output_activation='linear')"
    assert repr(Layer(2, 3)) == "Layer(2, 3, activation='tanh')"
    assert repr(Neuron(4, activation="sigmoid")) == "Neuron(4, activation='sigmoid')"


# --- state dicts


def test_state_dict_is_json_ready_with_one_float_per_parameter():
    net = MLP(2, [3, 2], seed=0)
    state = net.state_dict()
    assert json.loads(json.dumps(state, allow_nan=False)) == state
    flat = [x for v in state.values() for x in (v if isinstance(v, list) else [v])]
    assert all(type(x) is float for x in flat)
    assert flat == [p.data for p in net.parameters()]


def test_state_dict_keys_name_layer_and_neuron():
    assert list(Neuron(2, seed=0).state_dict()) == ["w", "b"]
    assert list(Layer(2, 2, seed=0).state_dict()) == \
        ["neurons.0.w", "neurons.0.b", "neurons.1.w", "neurons.1.b"]
    state = MLP(2, [1, 1], seed=0).state_dict()
    assert list(state) == ["layers.0.neurons.0.w", "layers.0.neurons.0.b",
                           "layers.1.neurons.0.w", "layers.1.neurons.0.b"]
    assert len(state["layers.0.neurons.0.w"]) == 2


def test_state_dict_is_a_copy():
    net = Neuron(2, seed=0)
    state = net.state_dict()
    state["w"][0] = 123.0
    state["b"] = 9.0
    assert net.w[0].data != 123.0 and net.b.data == 0.0


def test_load_state_dict_round_trip_keeps_the_same_values_objects():
    a, b = MLP(3, [4, 2], seed=1), MLP(3, [4, 2], seed=2)
    params = b.parameters()
    b.load_state_dict(a.state_dict())
    assert b.state_dict() == a.state_dict()
    # an optimizer holding b's parameters still holds b's parameters
    assert all(p is q for p, q in zip(params, b.parameters()))
    assert [o.data for o in b([0.1, 0.2, 0.3])] == [o.data for o in a([0.1, 0.2, 0.3])]


def test_load_state_dict_accepts_ints_and_numpy_numbers_and_stores_floats():
    n = Neuron(2, seed=0)
    n.load_state_dict({"w": [1, np.float32(-2.5)], "b": np.int64(3)})
    assert [type(p.data) for p in n.parameters()] == [float] * 3
    assert [p.data for p in n.parameters()] == [1.0, -2.5, 3.0]


LAST_W = "layers.1.neurons.0.w"  # the last entries: all the others would be loaded first


def corrupt(state: dict, how: str) -> dict:
    state = dict(state)
    if how == "missing":
        del state[LAST_W]
    elif how == "extra":
        state["layers.2.neurons.0.b"] = 0.0
    elif how == "short":
        state[LAST_W] = state[LAST_W][:-1]
    elif how == "long":
        state[LAST_W] = [*state[LAST_W], 0.5]
    elif how == "number for list":
        state[LAST_W] = 0.5
    elif how == "list for number":
        state["layers.1.neurons.0.b"] = [0.5]
    elif how in ("str", "none", "bool", "nan", "inf", "-inf", "huge int", "nested"):
        bad = {"str": "0.5", "none": None, "bool": True, "nan": math.nan, "inf": math.inf,
               "-inf": -math.inf, "huge int": 10**400, "nested": [0.5]}[how]
        state[LAST_W] = [*state[LAST_W][:-1], bad]
    return state


BAD_STATES = {
    "missing": r"missing 'layers\.1\.neurons\.0\.w'",
    "extra": r"unexpected 'layers\.2\.neurons\.0\.b'",
    "short": r"'layers\.1\.neurons\.0\.w': expected a list of 3 numbers, got a list of 2",
    "long": r"'layers\.1\.neurons\.0\.w': expected a list of 3 numbers, got a list of 4",
    "number for list": r"'layers\.1\.neurons\.0\.w': expected a list of 3 numbers, got float",
    "list for number": r"'layers\.1\.neurons\.0\.b': expected a number, got list",
    "str": r"'layers\.1\.neurons\.0\.w\[2\]': expected a number, got str",
    "none": r"'layers\.1\.neurons\.0\.w\[2\]': expected a number, got NoneType",
    "bool": r"'layers\.1\.neurons\.0\.w\[2\]': expected a number, got bool",
    "nested": r"'layers\.1\.neurons\.0\.w\[2\]': expected a number, got list",
    "nan": r"'layers\.1\.neurons\.0\.w\[2\]': nan is not a finite number",
    "inf": r"'layers\.1\.neurons\.0\.w\[2\]': inf is not a finite number",
    "-inf": r"'layers\.1\.neurons\.0\.w\[2\]': -inf is not a finite number",
    "huge int": r"'layers\.1\.neurons\.0\.w\[2\]': int too large for a float",
}


@pytest.mark.parametrize("how", sorted(BAD_STATES))
def test_a_bad_state_dict_is_a_clear_error_and_changes_nothing(how):
    source = MLP(2, [3, 1], seed=1)
    net = MLP(2, [3, 1], seed=2)
    before = snapshot(net)
    with pytest.raises(ValueError, match=BAD_STATES[how]):
        net.load_state_dict(corrupt(source.state_dict(), how))
    assert_untouched(net, before)


@pytest.mark.parametrize("bad", [None, [], [1.0, 2.0], "w"])
def test_a_state_dict_that_is_not_a_dict(bad):
    net = Neuron(2, seed=0)
    before = snapshot(net)
    with pytest.raises(ValueError, match="state dict must be a dict"):
        net.load_state_dict(bad)
    assert_untouched(net, before)


def test_a_module_that_only_defines_parameters_has_a_state_dict():
    class Pair(Module):  # written as in micrograd: parameters() and nothing else
        def __init__(self) -> None:
            self.a, self.b = Value(1.5), Value(-2.0)

        def parameters(self) -> list[Value]:
            return [self.a, self.b]

    m = Pair()
    assert m.state_dict() == {"params": [1.5, -2.0]}
    m.load_state_dict({"params": [3.0, 4.0]})
    assert (m.a.data, m.b.data) == (3.0, 4.0)
    m.a.grad = 5.0
    m.zero_grad()
    assert m.a.grad == 0.0
    with pytest.raises(NotImplementedError, match="Pair must define _config"):
        m.save(os.devnull)
    with pytest.raises(NotImplementedError, match="Pair must define __call__"):
        m([1.0])


def test_a_bare_module_says_what_is_missing():
    with pytest.raises(NotImplementedError, match="must define parameters"):
        Module().parameters()


# --- files

AWKWARD = [0.1 + 0.2, 1e-300, -5e-324, 1 / 3, -0.0, 1.7976931348623157e308, 2.0**-1074,
           math.pi, -math.e, 123456789.123456789, 1e16 + 1, 0.1]


def set_params(model: Module, values: list[float]) -> None:
    for p, x in zip(model.parameters(), values):
        p.data = x


def test_save_and_load_round_trip_every_float_exactly(tmp_path):
    net = MLP(3, [4, 4, 2], activation="relu", output_activation="sigmoid", seed=0)
    rng = random.Random(11)
    values = [*AWKWARD, *(rng.uniform(-10, 10) * 10 ** rng.randint(-20, 20) for _ in range(100))]
    set_params(net, values)
    path = tmp_path / "net.json"
    net.save(path)
    loaded = MLP.load(path)
    assert type(loaded) is MLP and loaded is not net
    assert [bits(p.data) for p in loaded.parameters()] == [bits(p.data) for p in net.parameters()]
    assert repr(loaded) == repr(net)
    x = [0.2, -0.3, 0.4]
    assert [o.data for o in loaded(x)] == [o.data for o in net(x)]


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=4, max_size=4))
@settings(max_examples=50)
def test_any_finite_floats_survive_a_file(values):
    import tempfile

    n = Neuron(3, activation="relu")
    set_params(n, values)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "n.json")
        n.save(path)
        loaded = Neuron.load(path)
    assert [bits(p.data) for p in loaded.parameters()] == [bits(x) for x in values]
    assert loaded.activation == "relu"


@pytest.mark.parametrize("model", [Neuron(3, activation="sigmoid", seed=0),
                                   Layer(2, 3, activation="relu", seed=0),
                                   MLP(1, [1], seed=0)])
def test_every_module_kind_saves_and_loads(tmp_path, model):
    path = str(tmp_path / "m.json")
    model.save(path)
    loaded = type(model).load(path)
    assert type(loaded) is type(model)
    assert loaded.state_dict() == model.state_dict()
    assert repr(loaded) == repr(model)


def test_a_saved_file_is_readable_json_naming_format_class_and_config(tmp_path):
    path = tmp_path / "net.json"
    MLP(2, [3, 1], activation="relu", seed=0).save(path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "autograd_mini.nn"
    assert doc["version"] == 1
    assert doc["class"] == "MLP"
    assert doc["config"] == {"nin": 2, "nouts": [3, 1], "activation": "relu",
                             "output_activation": "linear"}
    assert len(doc["state"]) == 8


def test_saving_replaces_an_existing_file_and_leaves_nothing_else(tmp_path):
    path = tmp_path / "net.json"
    path.write_text("old contents", encoding="utf-8")
    net = MLP(2, [2, 1], seed=0)
    net.save(path)
    assert MLP.load(path).state_dict() == net.state_dict()
    assert os.listdir(tmp_path) == ["net.json"]


def test_saving_onto_a_directory_names_the_directory_and_writes_nothing(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match=rf"^cannot save the model: {folder} is a dir"):
        MLP(2, [2, 1], seed=0).save(folder)
    assert os.listdir(tmp_path) == ["models"]
    assert os.listdir(folder) == []


def test_a_file_name_as_long_as_the_system_allows(tmp_path):
    path = tmp_path / ("n" * 250 + ".json")  # 255 characters: no room for a longer temporary
    Neuron(2, seed=0).save(path)
    assert Neuron.load(path).state_dict() == Neuron(2, seed=0).state_dict()
    assert os.listdir(tmp_path) == [path.name]


def test_a_new_file_gets_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        Neuron(2, seed=0).save(tmp_path / "n.json")
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "n.json").st_mode & 0o777 == 0o644


class Interrupted(Exception):
    pass


def fail(*args: object, **kwargs: object) -> None:
    raise Interrupted("the write failed part-way")


@pytest.mark.parametrize("where", ["os.replace", "os.fsync", "json.dumps"])
def test_a_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch, where):
    path = tmp_path / "net.json"
    old = MLP(2, [2, 1], seed=0)
    old.save(path)
    old_bytes = path.read_bytes()
    module, name = where.split(".")
    monkeypatch.setattr(getattr(nn_module, module), name, fail)
    with pytest.raises(Interrupted):
        MLP(2, [2, 1], seed=1).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ["net.json"]
    assert MLP.load(path).state_dict() == old.state_dict()


def test_an_interrupt_during_save_cleans_up_too(tmp_path, monkeypatch):
    def interrupt(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(nn_module.os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        Neuron(2, seed=0).save(tmp_path / "n.json")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_save_refuses_a_non_finite_parameter_and_writes_nothing(tmp_path, bad):
    net = MLP(2, [2, 1], seed=0)
    net.layers[0].neurons[1].w[0].data = bad
    path = tmp_path / "net.json"
    with pytest.raises(ValueError, match=r"parameter layers\.0\.neurons\.1\.w\[0\] is not finite"):
        net.save(path)
    assert os.listdir(tmp_path) == []
    path.write_text("keep me", encoding="utf-8")
    with pytest.raises(ValueError, match="not finite"):
        net.save(path)
    assert path.read_text(encoding="utf-8") == "keep me"
    assert os.listdir(tmp_path) == ["net.json"]


def saved(tmp_path, edit=None) -> str:
    """A saved 2-[2,1] MLP, its document changed by ``edit``; returns the path."""
    path = tmp_path / "net.json"
    MLP(2, [2, 1], seed=0).save(path)
    if edit is not None:
        doc = json.loads(path.read_text(encoding="utf-8"))
        edit(doc)
        path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def set_key(key, value):
    return lambda doc: doc.__setitem__(key, value)


BAD_FILES = {
    "wrong class": (set_key("class", "Layer"), r"holds a 'Layer', not a MLP"),
    "no class": (lambda d: d.pop("class"), r"holds a None, not a MLP"),
    "version 2": (set_key("version", 2), r"version 2, this version reads 1"),
    "version true": (set_key("version", True), r"version True"),
    "version text": (set_key("version", "1"), r"version '1'"),
    "no marker": (lambda d: d.pop("format"), r"not a saved model \(no 'autograd_mini.nn'"),
    "other marker": (set_key("format", "pytorch"), r"not a saved model"),
    "no config": (lambda d: d.pop("config"), r"config is missing"),
    "config a list": (set_key("config", [2, [2, 1]]), r"config is missing"),
    "config unknown key": (lambda d: d["config"].__setitem__("bias", 1), r"unexpected keyword"),
    "config bad size": (lambda d: d["config"].__setitem__("nouts", [2, 0]), r"layer size"),
    "config bad activation": (lambda d: d["config"].__setitem__("activation", "gelu"),
                              r"unknown activation 'gelu'"),
    "bigger shape": (lambda d: d["config"].__setitem__("nouts", [3, 1]), r"missing"),
    "smaller shape": (lambda d: d["config"].__setitem__("nin", 1),
                      r"expected a list of 1 numbers, got a list of 2"),
    "no state": (lambda d: d.pop("state"), r"state dict must be a dict"),
    "short weights": (lambda d: d["state"]["layers.1.neurons.0.w"].pop(),
                      r"expected a list of 2 numbers, got a list of 1"),
    "text weight": (lambda d: d["state"].__setitem__("layers.0.neurons.0.b", "0"),
                    r"expected a number, got str"),
    "not an object": (lambda d: (d.clear(), d.update({"format": None})), r"not a saved model"),
}


@pytest.mark.parametrize("how", sorted(BAD_FILES))
def test_a_mismatched_file_is_a_value_error_naming_the_path(tmp_path, how):
    edit, message = BAD_FILES[how]
    path = saved(tmp_path, edit)
    net = MLP(2, [2, 1], seed=5)
    before = snapshot(net)
    with pytest.raises(ValueError, match=message) as info:
        net.load(path)  # a classmethod: called on a model, it still leaves that model alone
    assert str(info.value).startswith(path + ": ")
    assert_untouched(net, before)


@pytest.mark.parametrize("cls, key, huge, message", [
    (MLP, "nouts", [4_000_000_000, 1], r"missing 'layers\.0\.neurons\.2\.w', .*, \.\.\.$"),
    (MLP, "nouts", [2, 4_000_000_000], r"missing 'layers\.1\.neurons\.1\.w'"),
    (MLP, "nin", 4_000_000_000, r"expected a list of 4000000000 numbers, got a list of 2"),
    (Layer, "nout", 10**12, r"missing 'neurons\.2\.w'"),
    (Neuron, "nin", 10**12, r"'w': expected a list of 1000000000000 numbers, got a list of 2"),
])
def test_a_config_edited_to_a_huge_size_is_refused_before_building(tmp_path, monkeypatch,
                                                                   cls, key, huge, message):
    path = tmp_path / "net.json"
    {MLP: MLP(2, [2, 1], seed=0), Layer: Layer(2, 2, seed=0), Neuron: Neuron(2, seed=0)}[
        cls].save(path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["config"][key] = huge
    path.write_text(json.dumps(doc), encoding="utf-8")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a neuron was built before the state was checked")

    monkeypatch.setattr(Neuron, "__init__", refuse)
    with pytest.raises(ValueError, match=message) as info:
        cls.load(path)
    assert str(info.value).startswith(f"{path}: state dict ")


def test_the_size_check_before_building_agrees_with_the_model_built(tmp_path):
    for model in (Neuron(3, seed=0), Layer(3, 2, seed=0), MLP(3, [4, 2, 1], seed=0)):
        layout = dict(type(model)._layout(model._config()))
        assert layout == {k: len(v) if isinstance(v, list) else None
                          for k, v in model.state_dict().items()}


def test_a_file_of_another_module_kind(tmp_path):
    path = tmp_path / "n.json"
    Neuron(2, seed=0).save(path)
    with pytest.raises(ValueError, match=r"holds a 'Neuron', not a MLP"):
        MLP.load(path)
    with pytest.raises(ValueError, match=r"holds a 'Neuron', not a Layer"):
        Layer.load(path)


def test_a_file_with_nan_in_it(tmp_path):
    def nan_bias(doc: dict) -> None:
        doc["state"]["layers.0.neurons.0.b"] = math.nan  # written as NaN, read back as nan

    path = saved(tmp_path, nan_bias)
    with pytest.raises(ValueError, match=r"'layers\.0\.neurons\.0\.b': nan is not a finite"):
        MLP.load(path)


@pytest.mark.parametrize("content, message", [
    (b"", "invalid JSON"),
    (b"{not json", "invalid JSON"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b"[" * 100_000, "(nested too deeply|invalid JSON)"),
    (b"[1.0, 2.0]", "not a saved model"),
    (b"null", "not a saved model"),
])
def test_a_corrupt_file_is_a_value_error_naming_the_path(tmp_path, content, message):
    path = tmp_path / "net.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as info:
        MLP.load(path)
    assert str(info.value).startswith(f"{path}: not a saved model")


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.99])
def test_a_truncated_file_is_a_value_error_naming_the_path(tmp_path, keep):
    path = saved(tmp_path)
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match="invalid JSON") as info:
        MLP.load(path)
    assert str(info.value).startswith(path + ": ")


def test_loading_a_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        MLP.load(tmp_path / "nothing.json")


class Wide(Module):
    """A user's own module, as a micrograd user writes one: parameters() and a config."""

    made = 0  # Values this class has made, to see how far a load let it go

    def __init__(self, n: int, careless: bool = False) -> None:
        self.units = []
        for _ in range(n):
            try:
                self.units.append(Value(0.5))
            except ValueError:
                if not careless:
                    raise
            Wide.made += 1

    def parameters(self) -> list[Value]:
        return self.units

    def _config(self) -> dict:
        return {"n": len(self.units)}

    def __call__(self, x):
        return x


class Pair(Module):
    """A user's module made of built-in ones."""

    def __init__(self, nin: int) -> None:
        self.a, self.b = MLP(nin, [3, 1], seed=0), MLP(nin, [2, 1], seed=1)

    def parameters(self) -> list[Value]:
        return self.a.parameters() + self.b.parameters()

    def _config(self) -> dict:
        return {"nin": len(self.a.layers[0].neurons[0].w)}


@pytest.mark.parametrize("careless", [False, True])
def test_a_users_module_edited_to_a_huge_size_is_refused_early(tmp_path, careless):
    path = tmp_path / "wide.json"
    Wide(3).save(path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["config"] = {"n": 1_000_000, "careless": careless}  # 20,000,000 in the attack
    path.write_text(json.dumps(doc), encoding="utf-8")
    Wide.made = 0
    with pytest.raises(ValueError, match="makes more than 1,006 values") as info:
        Wide.load(path)  # even when the constructor swallows the error (careless)
    assert str(info.value).startswith(f"{path}: building the Wide from its config")
    assert Wide.made <= (1_000_000 if careless else 1_006)
    Wide.made = 0
    Wide(4)  # outside a load, no limit: making Values costs what it always did
    assert Value.__init__ is nn_module._plain_init


def test_a_users_modules_load_as_before(tmp_path):
    for model in (Wide(2_000), Pair(3)):
        path = tmp_path / "m.json"
        model.save(path)
        loaded = type(model).load(path)
        assert loaded.state_dict() == model.state_dict()


def test_a_number_with_too_many_digits_names_the_file(tmp_path):
    path = saved(tmp_path)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    assert '"nin": 2' in text
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace('"nin": 2', '"nin": ' + "9" * 5_000))
    with pytest.raises(ValueError) as info:
        MLP.load(path)
    assert str(info.value).startswith(f"{path}: ")
    assert "set_int_max_str_digits" not in str(info.value)


@pytest.mark.parametrize("name", ["", "missing/m.json"])
def test_a_save_error_names_the_users_path(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as info:
        MLP(2, [1], seed=0).save(name)
    assert info.value.filename == name
    assert ".writing" not in str(info.value)
    assert os.listdir(tmp_path) == []
