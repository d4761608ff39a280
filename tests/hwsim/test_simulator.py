"""Simulator: targets, seeds, batches and sequences, reverse mode, local signals, conformance."""

import numpy as np
import pytest

import devices
from hwsim.errors import ConfigError, SimulationError
from hwsim.graph import (Add, Copy, Delay, DeviceGraph, Elementwise, LearningUpdate, Multiply,
                         TileMVM, TileMVMT)
from hwsim.io import IOConfig
from hwsim.simulator import Simulator, tile_seed
from hwsim.tile import AnalogTile, IdealTile, UpdateConfig

#: A device that behaves like a float: no variation, no noise, bounds far away.
EXACT_DEVICE = devices.ConstantStep(dw_min_dtod=0, dw_min_std=0, up_down_dtod=0, w_min=-10,
                                    w_max=10, w_min_dtod=0, w_max_dtod=0)
EXACT = {"device": EXACT_DEVICE, "io": IOConfig.perfect(),
         "update": UpdateConfig(pulse_type="none")}


# --------------------------------------------------------------------------- graphs
def mlp_graph(n_in=3, n_hid=5, n_out=2, **tile_kw):
    g = DeviceGraph("mlp")
    g.add_input("x", n_in)
    g.add_signal("a", n_hid)
    g.add_signal("h", n_hid)
    g.add_output("y", n_out)
    g.add_tile("W1", n_hid, n_in, **tile_kw)
    g.add_tile("W2", n_out, n_hid, **tile_kw)
    g.add(TileMVM("W1", "x", "a"))
    g.add(Elementwise("tanh", "a", "h"))
    g.add(TileMVM("W2", "h", "y"))
    return g


def rnn_graph(n_in=2, n_hid=3, n_out=2, **tile_kw):
    """h_t = tanh(W x_t + U h_{t-1}), y_t = V h_t."""
    g = DeviceGraph("rnn")
    g.add_input("x", n_in)
    for s in ("wx", "uh", "z", "h", "hp"):
        g.add_signal(s, n_hid)
    g.add_output("y", n_out)
    g.add_tile("W", n_hid, n_in, **tile_kw)
    g.add_tile("U", n_hid, n_hid, **tile_kw)
    g.add_tile("V", n_out, n_hid, **tile_kw)
    g.add(TileMVM("W", "x", "wx"))
    g.add(TileMVM("U", "hp", "uh"))
    g.add(Add(["wx", "uh"], "z"))
    g.add(Elementwise("tanh", "z", "h"))
    g.add(Delay("h", "hp", init=[0.2, -0.1, 0.05]))
    g.add(TileMVM("V", "h", "y"))
    return g


def zoo_graph(**tile_kw):
    """Every operator kind: tile reads both ways, partial sums, gates, a Delay, an update."""
    g = DeviceGraph("zoo")
    g.add_input("x", 3)
    g.add_input("u", 2)
    for name, size in (("a", 4), ("b", 2), ("ta", 4), ("ub", 2), ("m", 2), ("mc", 2),
                       ("a2", 4), ("prev", 4), ("z", 4), ("s", 4)):
        g.add_signal(name, size)
    g.add_output("y", 4)
    g.add_output("m", 2)
    for name, out, inp in (("A", 4, 3), ("B", 3, 2), ("C", 4, 2), ("D", 4, 2)):
        g.add_tile(name, out, inp, **tile_kw)
    g.add(TileMVM("A", "x", "a"))
    g.add(TileMVMT("B", "x", "b"))
    g.add(Elementwise("tanh", "a", "ta"))
    g.add(Add(["u", "b"], "ub", coefficients=[0.5, -1.5]))
    g.add(Multiply("ub", "b", "m"))
    g.add(Copy("m", "mc"))
    g.add(TileMVM("C", "mc", "a2", inc=True))
    g.add(TileMVM("D", "u", "a2", inc=True))
    g.add(Delay("ta", "prev", init=0.1))
    g.add(Add(["a2", "prev"], "z"))
    g.add(Elementwise("sigmoid", "z", "s"))
    g.add(Elementwise("sin", "s", "y"))
    g.add(LearningUpdate("C", "mc", "y"))
    return g


def random_inputs(graph, batch, steps=None, seed=0):
    rng = np.random.default_rng(seed)
    shape = (batch,) if steps is None else (batch, steps)
    return {n: rng.normal(size=shape + (graph.signals[n].size,)) for n in graph.inputs}


# --------------------------------------------------------------------------- gradient helpers
def linear_loss(sim, inputs, weights):
    """sum over outputs of <c, y>: its gradient with respect to y is c."""
    outs = sim.run(inputs, record=False)
    return sum(float(np.sum(weights[n] * outs[n])) for n in weights)


def weight_gradients(sim):
    """dL/dW of every tile from the local signals (the update is dW = -lr d.T @ x)."""
    out = {}
    for name in sim.tiles:
        x, d = sim.local_signals(name, source="backward")
        out[name] = d.T @ x
    return out


def check_gradients(graph, inputs, h=1e-5, tol=1e-7):
    """Backward on the ideal target against central finite differences."""
    sim = Simulator(graph, target="ideal", seed=3)
    outs = sim.run(inputs)
    rng = np.random.default_rng(11)
    cw = {n: rng.normal(size=v.shape) for n, v in outs.items()}
    dinputs = sim.backward(cw)
    dweights = weight_gradients(sim)
    for name, value in inputs.items():
        numeric = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            plus, minus = value.copy(), value.copy()
            plus[idx] += h
            minus[idx] -= h
            numeric[idx] = (linear_loss(sim, {**inputs, name: plus}, cw)
                            - linear_loss(sim, {**inputs, name: minus}, cw)) / (2 * h)
        np.testing.assert_allclose(dinputs[name], numeric, atol=tol, err_msg=f"input {name}")
    for name, tile in sim.tiles.items():
        w = tile.weights()
        numeric = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            for sign in (1, -1):
                moved = w.copy()
                moved[idx] += sign * h
                tile.set_weights(moved)
                numeric[idx] += sign * linear_loss(sim, inputs, cw) / (2 * h)
            tile.set_weights(w)
        np.testing.assert_allclose(dweights[name], numeric, atol=tol, err_msg=f"tile {name}")


# --------------------------------------------------------------------------- construction
def test_unknown_target_lists_the_allowed_ones():
    with pytest.raises(ConfigError, match=r"target.*\['device', 'ideal'\].*'gpu'"):
        Simulator(mlp_graph(), target="gpu")


def test_targets_build_their_tiles_with_the_same_initial_weights():
    g = mlp_graph(**EXACT)
    ideal = Simulator(g, target="ideal", seed=4)
    device = Simulator(g, target="device", seed=4)
    assert all(isinstance(t, IdealTile) for t in ideal.tiles.values())
    assert all(isinstance(t, AnalogTile) for t in device.tiles.values())
    for name in g.tiles:
        w = g.tiles[name].initial_weights(tile_seed(4, name))
        np.testing.assert_array_equal(ideal.tiles[name].weights(), w)
        np.testing.assert_array_equal(device.tiles[name].weights(), w)
        assert device.tiles[name].seed == tile_seed(4, name)


def test_tile_seeds_are_stable_and_distinct():
    # a fixed value: derived by SHA-256, not Python's per-process salted hash()
    assert tile_seed(0, "W1") == tile_seed(0, "W1")
    assert tile_seed(0, "W1") == 7676451408931877333
    assert len({tile_seed(s, n) for s in (0, 1) for n in ("W1", "W2", "W10")}) == 6
    a = Simulator(mlp_graph(), "ideal", seed=1)
    b = Simulator(mlp_graph(), "ideal", seed=1)
    c = Simulator(mlp_graph(), "ideal", seed=2)
    np.testing.assert_array_equal(a.tiles["W1"].weights(), b.tiles["W1"].weights())
    assert not np.array_equal(a.tiles["W1"].weights(), c.tiles["W1"].weights())


def test_given_tiles_are_used_and_checked():
    trained = IdealTile(5, 3, init=np.ones((5, 3)))
    sim = Simulator(mlp_graph(), "ideal", tiles={"W1": trained})
    assert sim.tiles["W1"] is trained
    with pytest.raises(ConfigError, match="W9"):
        Simulator(mlp_graph(), "ideal", tiles={"W9": trained})
    with pytest.raises(ConfigError, match="5 x 3"):
        Simulator(mlp_graph(), "ideal", tiles={"W2": trained})


# --------------------------------------------------------------------------- running
def test_batch_run_matches_numpy():
    g = mlp_graph()
    sim = Simulator(g, "ideal", seed=0)
    x = random_inputs(g, 4)["x"]
    y = sim.run({"x": x})["y"]
    w1, w2 = sim.tiles["W1"].weights(), sim.tiles["W2"].weights()
    np.testing.assert_allclose(y, np.tanh(x @ w1.T) @ w2.T, rtol=1e-14)
    xs, ys = sim.forward_signals("W2")
    np.testing.assert_allclose(xs, np.tanh(x @ w1.T), rtol=1e-14)
    np.testing.assert_array_equal(ys, y)
    assert sim.steps == 1


def test_sequence_run_matches_a_numpy_loop():
    g = rnn_graph()
    sim = Simulator(g, "ideal", seed=0)
    x = random_inputs(g, 2, steps=5)["x"]
    y = sim.run({"x": x})["y"]
    w, u, v = (sim.tiles[n].weights() for n in "WUV")
    h = np.broadcast_to([0.2, -0.1, 0.05], (2, 3))
    for t in range(5):
        h = np.tanh(x[:, t] @ w.T + h @ u.T)
        np.testing.assert_allclose(y[:, t], h @ v.T, rtol=1e-13, atol=1e-15)
    assert y.shape == (2, 5, 2) and sim.steps == 5
    xs, ys = sim.forward_signals("U")
    assert isinstance(xs, list) and len(xs) == 5 and xs[0].shape == (2, 3)
    np.testing.assert_allclose(xs[0], np.broadcast_to([0.2, -0.1, 0.05], (2, 3)))
    assert sim.recorded("h").shape == (2, 5, 3)


def test_delay_restarts_from_init_every_run():
    g = rnn_graph()
    sim = Simulator(g, "ideal", seed=0)
    x = random_inputs(g, 2, steps=3)
    np.testing.assert_array_equal(sim.run(x)["y"], sim.run(x)["y"])


def test_input_errors_name_the_signal():
    g = zoo_graph()
    sim = Simulator(g, "ideal")
    good = random_inputs(g, 2)
    with pytest.raises(SimulationError, match="missing input.*'u'"):
        sim.run({"x": good["x"]})
    with pytest.raises(SimulationError, match="unknown input.*'v'"):
        sim.run({**good, "v": good["u"]})
    with pytest.raises(SimulationError, match=r"input 'u' must have shape \(batch, 2\)"):
        sim.run({**good, "u": np.zeros((2, 3))})
    with pytest.raises(SimulationError, match="input 'x'.*shape"):
        sim.run({**good, "x": np.zeros(3)})
    with pytest.raises(SimulationError, match="same batch"):
        sim.run({**good, "u": np.zeros((3, 2))})
    with pytest.raises(SimulationError, match="non-finite"):
        sim.run({**good, "x": np.full((2, 3), np.nan)})
    sim.run(good)
    with pytest.raises(SimulationError, match="'a' is not a graph output"):
        sim.backward({"a": np.zeros((2, 4))})
    with pytest.raises(SimulationError, match=r"gradient of 'y' must have shape \(2, 4\)"):
        sim.backward({"y": np.zeros((2, 1, 4))})
    with pytest.raises(SimulationError, match="no tile 'Q'"):
        sim.local_signals("Q")


def test_backward_needs_a_recorded_run():
    g = mlp_graph()
    sim = Simulator(g, "ideal")
    with pytest.raises(SimulationError, match="record=True"):
        sim.backward({"y": np.zeros((2, 2))})
    sim.run(random_inputs(g, 2), record=False)
    with pytest.raises(SimulationError, match="record=True"):
        sim.backward({"y": np.zeros((2, 2))})
    with pytest.raises(SimulationError, match="backward"):
        sim.local_signals("W1")


# --------------------------------------------------------------------------- reverse mode
def test_mlp_backward_is_exact_backprop():
    g = mlp_graph()
    sim = Simulator(g, "ideal", seed=2)
    x = random_inputs(g, 6)["x"]
    target = np.random.default_rng(3).normal(size=(6, 2))
    y = sim.run({"x": x})["y"]
    dx = sim.backward({"y": y - target})["x"]   # loss 0.5 |y - target|^2
    w1, w2 = sim.tiles["W1"].weights(), sim.tiles["W2"].weights()
    h = np.tanh(x @ w1.T)
    dy = y - target
    dh = dy @ w2
    da = dh * (1 - h * h)
    x1, d1 = sim.local_signals("W1")
    x2, d2 = sim.local_signals("W2")
    np.testing.assert_allclose(x1, x, rtol=1e-15)
    np.testing.assert_allclose(d1, da, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(x2, h, rtol=1e-15)
    np.testing.assert_allclose(d2, dy, rtol=1e-15)
    np.testing.assert_allclose(dx, da @ w1, rtol=1e-13, atol=1e-15)


def test_mlp_gradient_matches_finite_differences():
    g = mlp_graph()
    check_gradients(g, random_inputs(g, 3))


def test_rnn_bptt_matches_finite_differences():
    g = rnn_graph()
    check_gradients(g, random_inputs(g, 2, steps=4))


def test_every_operator_gradient_matches_finite_differences():
    g = zoo_graph()
    check_gradients(g, random_inputs(g, 2, steps=3))


def test_transposed_read_gradient():
    g = DeviceGraph()
    g.add_input("x", 3)
    g.add_output("y", 4)
    g.add_tile("M", 3, 4)
    g.add(TileMVMT("M", "x", "y"))
    sim = Simulator(g, "ideal", seed=0)
    x = random_inputs(g, 5)["x"]
    y = sim.run({"x": x})["y"]
    w = sim.tiles["M"].weights()
    np.testing.assert_allclose(y, x @ w, rtol=1e-14)
    dy = np.random.default_rng(1).normal(size=y.shape)
    dx = sim.backward({"y": dy})["x"]
    np.testing.assert_allclose(dx, dy @ w.T, rtol=1e-13)
    xm, dm = sim.local_signals("M")
    np.testing.assert_allclose(dm.T @ xm, x.T @ dy, rtol=1e-13)  # dL/dW of y = x W


def test_local_signals_stack_time_into_the_batch_axis():
    g = rnn_graph()
    sim = Simulator(g, "ideal", seed=0)
    x = random_inputs(g, 2, steps=4)["x"]
    y = sim.run({"x": x})["y"]
    sim.backward({"y": np.ones_like(y)})
    xw, dw = sim.local_signals("W")
    assert xw.shape == (8, 2) and dw.shape == (8, 3)
    np.testing.assert_array_equal(xw[2:4], x[:, 1])   # rows: step-major, then sample


def test_only_last_step_loss_gives_zero_rows_before():
    g = mlp_graph()
    sim = Simulator(g, "ideal", seed=0)
    x = random_inputs(g, 2, steps=3)["x"]
    y = sim.run({"x": x})["y"]
    grad = np.zeros_like(y)
    grad[:, -1] = 1.0
    dx = sim.backward({"y": grad})["x"]
    assert np.all(dx[:, :2] == 0) and np.any(dx[:, 2] != 0)
    _, d2 = sim.local_signals("W2")
    assert np.all(d2[:4] == 0) and np.all(d2[4:] == 1)


def test_learning_update_records_pairs_and_calls_the_rule():
    g = zoo_graph()
    sim = Simulator(g, "ideal", seed=0)
    inputs = random_inputs(g, 2, steps=3)
    calls = []

    def rule(name, tile, x, d):
        calls.append(name)
        tile.update(x, d, 0.01)

    before = sim.tiles["C"].weights()
    sim.run(inputs, update=rule)
    assert calls == ["C"] * 3
    x, d = sim.local_signals("C")            # no backward yet: the LearningUpdate's pairs
    np.testing.assert_array_equal(x[:2], sim.recorded("mc")[:, 0])
    np.testing.assert_array_equal(d[4:], sim.recorded("y")[:, 2])
    assert not np.array_equal(sim.tiles["C"].weights(), before)
    with pytest.raises(SimulationError, match="no pairs"):
        sim.local_signals("A", source="update")
    with pytest.raises(ConfigError, match="callable"):
        sim.run(inputs, update=0.1)


def test_round_tripped_graph_runs_identically():
    g = zoo_graph(**EXACT)
    inputs = random_inputs(g, 2, steps=2)
    a = Simulator(g, "device", seed=9).run(inputs)
    b = Simulator(DeviceGraph.from_json(g.to_json()), "device", seed=9).run(inputs)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


# --------------------------------------------------------------------------- conformance
def _one_op_graphs():
    """A small graph per operator kind (each output depends on a tile, so updates show)."""
    def base(name):
        g = DeviceGraph(name)
        g.add_input("x", 3)
        g.add_signal("a", 4)
        g.add_output("y", 4)
        g.add_tile("A", 4, 3, **EXACT)
        g.add(TileMVM("A", "x", "a"))
        return g

    graphs = {}
    g = base("TileMVM")
    g.add(Copy("a", "y"))
    graphs["TileMVM"] = g
    g = base("TileMVMT")
    g.add_tile("B", 4, 4, **EXACT)
    g.add(TileMVMT("B", "a", "y"))
    graphs["TileMVMT"] = g
    for fn in ("tanh", "sigmoid", "relu", "sin", "square"):
        g = base(f"Elementwise-{fn}")
        g.add(Elementwise(fn, "a", "y"))
        graphs[g.name] = g
    g = base("Add")
    g.add(Add(["a", "a"], "y", coefficients=[0.25, -2.0]))
    graphs["Add"] = g
    g = base("Multiply")
    g.add_signal("t", 4)
    g.add(Elementwise("tanh", "a", "t"))
    g.add(Multiply("a", "t", "y"))
    graphs["Multiply"] = g
    g = base("Copy")
    g.add(Copy("a", "y"))
    graphs["Copy"] = g
    g = base("Delay")
    g.add(Delay("a", "y", init=0.5))
    g.add_output("a")  # so that a single step also trains A
    graphs["Delay"] = g
    g = base("inc")
    g.add_tile("C", 4, 3, **EXACT)
    g.add(TileMVM("C", "x", "y", inc=True))
    g.add(TileMVM("A", "x", "y", inc=True))
    graphs["inc"] = g
    g = base("LearningUpdate")
    g.add(Elementwise("tanh", "a", "y"))
    g.add(LearningUpdate("A", "x", "y"))
    graphs["LearningUpdate"] = g
    graphs["zoo"] = zoo_graph(**EXACT)
    graphs["rnn"] = rnn_graph(**EXACT)
    return graphs


ONE_OP_GRAPHS = _one_op_graphs()


@pytest.mark.parametrize("steps", [None, 3])
@pytest.mark.parametrize("name", sorted(ONE_OP_GRAPHS))
def test_targets_agree_with_exact_devices(name, steps):
    """Perfect IO, float updates, noise-free wide-bounds device: device == ideal."""
    g = ONE_OP_GRAPHS[name]
    inputs = random_inputs(g, 3, steps=steps, seed=1)
    sims = {t: Simulator(g, target=t, seed=5) for t in ("ideal", "device")}
    results = {}
    for target, sim in sims.items():
        hook = lambda n, tile, x, d: tile.update(x, d, 0.05)  # noqa: E731
        outs = sim.run(inputs, update=hook)
        grads = {k: np.cos(v) for k, v in outs.items()}
        dins = sim.backward(grads)
        local = {n: sim.local_signals(n) for n in sim.tiles}
        for n, tile in sim.tiles.items():
            tile.update(*local[n], lr=0.1)
        weights = {n: tile.weights() for n, tile in sim.tiles.items()}
        results[target] = (outs, dins, local, weights)
    (oi, di, li, wi), (od, dd, ld, wd) = results["ideal"], results["device"]
    for k in oi:
        np.testing.assert_allclose(od[k], oi[k], rtol=0, atol=1e-10, err_msg=f"output {k}")
    for k in di:
        np.testing.assert_allclose(dd[k], di[k], rtol=0, atol=1e-10, err_msg=f"d{k}")
    for k in li:
        for part, (a, b) in zip("xd", zip(ld[k], li[k])):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-10, err_msg=f"{k} {part}")
    moved = 0
    for k in wi:
        np.testing.assert_allclose(wd[k], wi[k], rtol=0, atol=1e-10, err_msg=f"weights {k}")
        moved += not np.array_equal(wi[k], g.tiles[k].initial_weights(tile_seed(5, k)))
    assert moved > 0  # the updates did something


def test_chained_delays_gradient():
    """y_t = W a_{t-2} through two Delays, plus a direct path."""
    g = DeviceGraph("chain")
    g.add_input("x", 2)
    for s in ("a", "d1", "d2", "s"):
        g.add_signal(s, 2)
    g.add_output("y", 2)
    g.add_tile("W", 2, 2)
    g.add_tile("P", 2, 2)
    g.add(TileMVM("P", "x", "a"))
    g.add(Delay("a", "d1"))
    g.add(Delay("d1", "d2", init=[1.0, -1.0]))
    g.add(Add(["d2", "a"], "s", coefficients=[1.0, 0.5]))
    g.add(TileMVM("W", "s", "y"))
    check_gradients(g, random_inputs(g, 2, steps=4))


def test_noisy_device_target_runs_and_learns():
    g = rnn_graph()  # default tile: ConstantStep device, default IO and pulsed updates
    sim = Simulator(g, "device", seed=0)
    x = random_inputs(g, 4, steps=3)["x"]
    y = sim.run({"x": x})["y"]
    sim.backward({"y": y})
    before = sim.tiles["U"].weights()
    xs, ds = sim.local_signals("U")
    assert xs.shape == (12, 3) and np.all(np.isfinite(ds))
    sim.tiles["U"].update(xs, ds, lr=0.1)
    assert not np.array_equal(sim.tiles["U"].weights(), before)
    assert sim.tiles["U"].counters["mvm_backward"] == 12
