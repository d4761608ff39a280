"""Device graph: declarations, builder checks, deterministic order, JSON, DOT, functions."""

import json
import math
import re

import numpy as np
import pytest

import devices
from hwsim import functions
from hwsim.cells import DifferentialPair, ReferenceCell
from hwsim.errors import ConfigError, GraphError
from hwsim.graph import (Add, Copy, Delay, DeviceGraph, Elementwise, LearningUpdate, Multiply,
                         Signal, TileMVM, TileMVMT, TileSpec)
from hwsim.io import IOConfig
from hwsim.tile import UpdateConfig


def chain_graph():
    """x -> W1 -> a -> tanh -> h -> W2 -> y."""
    g = DeviceGraph("mlp")
    g.add_input("x", 3)
    g.add_signal("a", 4)
    g.add_signal("h", 4)
    g.add_output("y", 2)
    g.add_tile("W1", 4, 3)
    g.add_tile("W2", 2, 4)
    g.add(TileMVM("W1", "x", "a", name="l1"))
    g.add(Elementwise("tanh", "a", "h", name="act"))
    g.add(TileMVM("W2", "h", "y", name="l2"))
    return g


def zoo_graph():
    """One graph with every operator kind, a Delay cycle and partial sums."""
    rng = np.random.default_rng(5)
    g = DeviceGraph("zoo")
    g.add_input("x", 3)
    g.add_input("u", 2)
    for name, size in (("a", 4), ("b", 2), ("ta", 4), ("ub", 2), ("m", 2), ("mc", 2),
                       ("a2", 4), ("prev", 4), ("z", 4)):
        g.add_signal(name, size)
    g.add_output("y", 4)
    g.add_tile("A", 4, 3, device=devices.PowStep(pow_gamma=1.3, dw_min=0.003),
               io=IOConfig(inp_res=1 / 3, out_noise=0.1), update=UpdateConfig(desired_bl=7))
    g.add_tile("B", 3, 2, device="ecram", backward_io=IOConfig.perfect(), init="normal")
    g.add_tile("C", 4, 2, device=DifferentialPair(devices.ConstantStep(dw_min=0.01)),
               init=rng.normal(size=(4, 2)) / 3)
    g.add_tile("D", 4, 2, device=ReferenceCell("reram-es", reference=0.125), init="zeros")
    g.add(TileMVM("A", "x", "a"))
    g.add(TileMVMT("B", "x", "b"))
    g.add(Elementwise("tanh", "a", "ta"))
    g.add(Add(["u", "b"], "ub", coefficients=[0.5, -1 / 3]))
    g.add(Multiply("ub", "b", "m"))
    g.add(Copy("m", "mc"))
    g.add(TileMVM("C", "mc", "a2", inc=True))
    g.add(TileMVM("D", "u", "a2", inc=True))
    g.add(Delay("ta", "prev", init=[0.1, -0.2, 0.3, 1 / 7]))
    g.add(Add(["a2", "prev"], "z"))
    g.add(Elementwise("sin", "z", "y"))
    g.add(LearningUpdate("C", "mc", "y"))
    return g


def names(ops):
    return [op.name for op in ops]


# --------------------------------------------------------------------------- signals, specs
def test_signal_and_tile_spec_validation():
    assert Signal("x", 3).size == 3
    with pytest.raises(ConfigError, match="size"):
        Signal("x", 0)
    with pytest.raises(ConfigError, match="name"):
        Signal("", 2)
    with pytest.raises(ConfigError, match="init"):
        TileSpec("W", 2, 3, init=np.zeros((3, 2)))
    with pytest.raises(ConfigError, match="init"):
        TileSpec("W", 2, 3, init="glorot")
    with pytest.raises(ConfigError, match="no-such-device"):
        TileSpec("W", 2, 3, device="no-such-device")
    with pytest.raises(TypeError, match="device"):
        TileSpec("W", 2, 3, device=3.0)
    with pytest.raises(TypeError, match="io must be None or IOConfig"):
        TileSpec("W", 2, 3, io=UpdateConfig())


def test_initial_weights_are_deterministic_per_seed():
    spec = TileSpec("W", 5, 4)
    w = spec.initial_weights(7)
    np.testing.assert_array_equal(w, spec.initial_weights(7))
    assert not np.array_equal(w, spec.initial_weights(8))
    assert np.all(np.abs(w) <= 0.5)  # uniform in +-1/sqrt(4)
    assert np.all(TileSpec("Z", 2, 2, init="zeros").initial_weights(1) == 0)
    given = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(TileSpec("G", 2, 3, init=given).initial_weights(0), given)


def test_duplicate_names_are_rejected():
    g = chain_graph()
    with pytest.raises(GraphError, match="already has a signal 'a'"):
        g.add_signal("a", 4)
    with pytest.raises(GraphError, match="already has a tile 'W1'"):
        g.add_tile("W1", 1, 1)
    with pytest.raises(GraphError, match="already has an operator named 'act'"):
        g.add(Copy("h", "a", name="act"))


# --------------------------------------------------------------------------- builder checks
def test_signal_set_twice_names_both_operators():
    g = chain_graph()
    g.add(Copy("h", "a", name="intruder"))
    with pytest.raises(GraphError, match="set twice") as err:
        g.build()
    assert "'l1'" in str(err.value) and "'intruder'" in str(err.value)


def test_setting_an_input_is_an_error():
    g = chain_graph()
    g.add_signal("x2", 3)
    g.add(Copy("x2", "x", name="overwrite"))
    with pytest.raises(GraphError, match="graph input and is also set by Copy 'overwrite'"):
        g.build()


def test_read_but_never_set_names_signal_and_reader():
    g = DeviceGraph()
    g.add_input("x", 2)
    g.add_signal("orphan", 2)
    g.add_output("y", 2)
    g.add(Add(["x", "orphan"], "y", name="sum"))
    with pytest.raises(GraphError, match="'orphan' is read by Add 'sum'.*never set"):
        g.build()


def test_read_before_set_within_a_step_names_both_operators():
    # a reads b before b is set from a: a cycle without a Delay
    g = DeviceGraph()
    g.add_input("x", 2)
    g.add_signal("p", 2)
    g.add_signal("q", 2)
    g.add_output("y", 2)
    g.add(Add(["x", "q"], "p", name="first"))
    g.add(Elementwise("tanh", "p", "q", name="second"))
    g.add(Copy("p", "y"))
    with pytest.raises(GraphError, match="not broken by a Delay") as err:
        g.build()
    msg = str(err.value)
    assert "'q' is read by Add 'first'" in msg and "set by Elementwise 'second'" in msg


def test_cycle_through_tiles_without_delay_is_reported():
    g = DeviceGraph()
    g.add_input("x", 2)
    for s in ("h", "r", "z"):
        g.add_signal(s, 2)
    g.add_output("y", 2)
    g.add_tile("U", 2, 2)
    g.add(TileMVM("U", "h", "r", name="recur"))
    g.add(Add(["x", "r"], "z", name="mix"))
    g.add(Elementwise("tanh", "z", "h", name="act"))
    g.add(Copy("h", "y"))
    with pytest.raises(GraphError, match="cycle") as err:
        g.build()
    for op in ("recur", "mix", "act"):
        assert f"'{op}'" in str(err.value)


def test_self_loop_is_read_before_set():
    g = DeviceGraph()
    g.add_input("x", 2)
    g.add_output("h", 2)
    g.add(Add(["x", "h"], "h", name="acc"))
    with pytest.raises(GraphError, match="'h' is read by Add 'acc'.*same operator"):
        g.build()


def test_delay_breaks_the_cycle():
    g = DeviceGraph()
    g.add_input("x", 2)
    for s in ("h", "r", "z", "hp"):
        g.add_signal(s, 2)
    g.add_output("y", 2)
    g.add_tile("U", 2, 2)
    g.add(TileMVM("U", "hp", "r", name="recur"))
    g.add(Add(["x", "r"], "z", name="mix"))
    g.add(Elementwise("tanh", "z", "h", name="act"))
    g.add(Delay("h", "hp", name="state"))
    g.add(Copy("h", "y", name="out"))
    assert names(g.build().ops) == ["state", "recur", "mix", "act", "out"]


def test_update_errors():
    g = chain_graph()
    g.add(LearningUpdate("W9", "x", "a", name="upd"))
    with pytest.raises(GraphError, match="unknown tile 'W9'"):
        g.build()
    g = chain_graph()
    g.add(LearningUpdate("W1", "x", "a", name="u1"))
    g.add(LearningUpdate("W1", "x", "h", name="u2"))
    with pytest.raises(GraphError, match="updated twice") as err:
        g.build()
    assert "'u1'" in str(err.value) and "'u2'" in str(err.value)
    g = chain_graph()
    g.add(LearningUpdate("W1", "a", "x", name="swapped"))
    with pytest.raises(GraphError, match="'swapped'.*size"):
        g.build()


def test_reference_and_size_errors():
    g = chain_graph()
    g.add(TileMVM("W3", "x", "a", name="bad"))
    with pytest.raises(GraphError, match="unknown tile 'W3'"):
        g.build()
    g = chain_graph()
    g.add_signal("wrong", 5)
    g.add(TileMVM("W1", "wrong", "a", inc=True, name="bad"))
    with pytest.raises(GraphError, match="'wrong' has size 5.*input size.*is 3"):
        g.build()
    g = chain_graph()
    g.add(Copy("nowhere", "h", name="bad"))
    with pytest.raises(GraphError, match="unknown signal 'nowhere'"):
        g.build()
    with pytest.raises(GraphError, match="coefficients"):
        Add(["a", "b"], "c", coefficients=[1.0])
    with pytest.raises(GraphError, match="unknown function 'tanhh'.*sigmoid"):
        Elementwise("tanhh", "a", "b")
    with pytest.raises(GraphError, match="init"):
        Delay("a", "b", init=float("nan"))


def test_output_never_set():
    g = chain_graph()
    g.add_output("dangling", 2)
    with pytest.raises(GraphError, match="output 'dangling' is never set"):
        g.build()


# --------------------------------------------------------------------------- ordering
def test_order_is_topological_and_insertion_stable():
    g = DeviceGraph()
    g.add_input("x", 2)
    for s in ("a", "b", "c", "d"):
        g.add_signal(s, 2)
    g.add_output("y", 2)
    # inserted consumers first: the builder must move producers ahead
    g.add(Add(["c", "d"], "y", name="join"))
    g.add(Elementwise("sin", "x", "d", name="sd"))
    g.add(Elementwise("tanh", "b", "c", name="tc"))
    g.add(Elementwise("relu", "x", "a", name="ra"))
    g.add(Copy("a", "b", name="cb"))
    order = names(g.build().ops)
    assert order == ["sd", "ra", "cb", "tc", "join"]
    # independent operators keep their insertion order
    g2 = DeviceGraph()
    g2.add_input("x", 2)
    for k in range(6):
        g2.add_output(f"y{k}", 2)
    for k in (3, 1, 4, 0, 5, 2):
        g2.add(Elementwise("sin", "x", f"y{k}", name=f"op{k}"))
    assert names(g2.build().ops) == ["op3", "op1", "op4", "op0", "op5", "op2"]
    # rebuilding and reloading give the same order
    assert names(DeviceGraph.from_json(g.to_json()).build().ops) == order
    assert names(g.build().ops) == order


def test_set_then_increments_then_reads():
    g = DeviceGraph()
    g.add_input("x", 2)
    g.add_signal("s", 2)
    g.add_output("y", 2)
    g.add_tile("P", 2, 2)
    g.add_tile("Q", 2, 2)
    g.add(Elementwise("tanh", "s", "y", name="reader"))
    g.add(TileMVM("P", "x", "s", inc=True, name="inc1"))
    g.add(Copy("x", "s", name="setter"))
    g.add(TileMVMT("Q", "x", "s", inc=True, name="inc2"))
    sched = g.build()
    assert names(sched.ops) == ["setter", "inc1", "inc2", "reader"]
    assert sched.inc_only == ()


def test_increment_only_signal_is_listed():
    sched = zoo_graph().build()
    assert sched.inc_only == ("a2",)
    order = names(sched.ops)
    assert order.index("TileMVM#6") < order.index("Add#9")
    assert order.index("Delay#8") < order.index("Add#9")


def test_mutation_invalidates_the_schedule():
    g = chain_graph()
    first = g.build()
    assert g.build() is first
    g.add_signal("extra", 2)
    assert g.build() is not first


# --------------------------------------------------------------------------- JSON
def test_json_round_trip_is_exact():
    g = zoo_graph()
    text = g.to_json()
    back = DeviceGraph.from_json(text)
    assert back.to_dict() == g.to_dict()
    assert back.to_json() == text
    for name, spec in g.tiles.items():
        other = back.tiles[name]
        assert other == spec
        assert type(other.device) is type(spec.device)
        assert other.device == spec.device
        assert other.io == spec.io and other.backward_io == spec.backward_io
        assert other.update == spec.update
        if not isinstance(spec.init, str):
            assert np.array_equal(other.init, spec.init)
            assert other.init.tobytes() == spec.init.tobytes()  # bit for bit
    assert back.tiles["A"].io.inp_res == 1 / 3
    assert back.op("Add#3").coefficients == (0.5, -1 / 3)
    assert back.op("Delay#8").init == (0.1, -0.2, 0.3, 1 / 7)
    assert names(back.build().ops) == names(g.build().ops)


def test_json_round_trip_of_preset_and_all_families():
    g = DeviceGraph()
    for k, family in enumerate(devices.FAMILIES):
        g.add_tile(f"T{k}", 2, 2, device=family())
    g.add_tile("P", 2, 2, device="reram-sb")
    back = DeviceGraph.from_json(g.to_json())
    for name, spec in g.tiles.items():
        assert back.tiles[name].device == spec.device


def test_json_unknown_keys_and_ops_are_named():
    data = json.loads(chain_graph().to_json())
    bad = dict(data, colour="red")
    with pytest.raises(GraphError, match="unknown key.*'colour'"):
        DeviceGraph.from_dict(bad)
    bad = json.loads(json.dumps(data))
    bad["ops"].append({"op": "Teleport", "x": "a"})
    with pytest.raises(GraphError, match="unknown operator 'Teleport'.*TileMVM"):
        DeviceGraph.from_dict(bad)
    bad = json.loads(json.dumps(data))
    bad["ops"][0]["gain"] = 2
    with pytest.raises(GraphError, match="TileMVM: unknown key.*'gain'"):
        DeviceGraph.from_dict(bad)
    bad = json.loads(json.dumps(data))
    bad["tiles"][0]["colour"] = "red"
    with pytest.raises(GraphError, match="tile 'W1'.*unknown key.*'colour'"):
        DeviceGraph.from_dict(bad)
    bad = json.loads(json.dumps(data))
    bad["tiles"][0]["io"] = {"class": "IOConfig", "inp_bits": 4}
    with pytest.raises(GraphError, match="'inp_bits'"):
        DeviceGraph.from_dict(bad)
    bad = json.loads(json.dumps(data))
    bad["tiles"][0]["device"] = {"model": {"class": "NoSuchDevice"}}
    with pytest.raises(GraphError, match="NoSuchDevice"):
        DeviceGraph.from_dict(bad)
    bad = json.loads(json.dumps(data))
    bad["tiles"][0]["device"] = {"cell": {"type": "Triplet", "device": None}}
    with pytest.raises(GraphError, match="unknown unit cell 'Triplet'"):
        DeviceGraph.from_dict(bad)
    with pytest.raises(GraphError, match="format"):
        DeviceGraph.from_dict(dict(data, format="other"))
    with pytest.raises(GraphError, match="invalid JSON"):
        DeviceGraph.from_json("{not json")


# --------------------------------------------------------------------------- DOT
def test_dot_contains_every_node():
    g = zoo_graph()
    dot = g.to_dot()
    assert dot.startswith('digraph "zoo" {') and dot.rstrip().endswith("}")
    for s in g.signals:
        assert re.search(rf'"s:{s}" \[shape=ellipse', dot)
    for op in g.ops:
        assert re.search(rf'"o:{re.escape(op.name)}" \[shape=box,', dot)
    for t in g.tiles:
        assert re.search(rf'"t:{t}" \[shape=box3d, style=filled', dot)
    assert '"s:ta" -> "o:Delay#8" [style=dashed, label="t-1"]' in dot
    assert '"o:LearningUpdate#11" -> "t:C" [color=red' in dot
    assert '"o:TileMVM#6" -> "s:a2" [style=dashed, label="+="]' in dot
    assert dot.count("{") == dot.count("}")


def test_dot_escapes_quotes():
    g = DeviceGraph('say "hi"')
    g.add_input('x"1', 2)
    dot = g.to_dot()
    assert 'digraph "say \\"hi\\"" {' in dot and '"s:x\\"1"' in dot


# --------------------------------------------------------------------------- functions
@pytest.mark.parametrize("name", functions.names())
def test_function_derivatives_match_finite_differences(name):
    fn = functions.get(name)
    x = np.array([-2.3, -0.7, -0.1, 0.2, 0.9, 1.7])
    h = 1e-6
    numeric = (fn.f(x + h) - fn.f(x - h)) / (2 * h)
    np.testing.assert_allclose(fn.df(x, fn.f(x)), numeric, rtol=1e-6, atol=1e-8)


def test_function_registry():
    with pytest.raises(ConfigError, match="unknown elementwise function 'nope'.*tanh"):
        functions.get("nope")
    with pytest.raises(ConfigError, match="already registered"):
        functions.register("tanh", np.tanh, lambda x, y: 1 - y * y)
    assert {"identity", "tanh", "sigmoid", "relu", "sin", "square"} <= set(functions.names())
    big = functions.get("sigmoid").f(np.array([-800.0, 800.0]))
    assert big[0] == 0.0 and big[1] == 1.0
    assert math.isclose(functions.get("softplus").f(np.array([800.0]))[0], 800.0)
