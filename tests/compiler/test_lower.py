"""Lowering: compiled graphs equal the numpy reference on the ideal target, tiled or not;
the same graph runs on the device target, round-trips through JSON and trains by BPTT."""

import warnings

import numpy as np
import pytest
from scipy.linalg import expm

import compiler
import hwsim
from compiler import ODERNN, reference
from compiler.errors import StabilityWarning
from hwsim.ops import Concat, Slice

TOL = 1e-10


def compile_quiet(spec, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StabilityWarning)
        return compiler.compile(spec, target="ideal", **options)


def check_against_reference(spec, tile_size, seed=0, T=5, batch=3):
    result = compile_quiet(spec, tile_size=tile_size, seed=seed)
    x = np.random.default_rng(seed + 7).standard_normal((batch, T, spec.inputs))
    y = result.run(x)
    expected = reference.run(spec, result.weights, x)
    assert y.shape == (batch, T, spec.outputs)
    assert np.max(np.abs(y - expected)) < TOL
    return result


@pytest.mark.parametrize("tile_size", [256, 3], ids=["untiled", "tiled"])
@pytest.mark.parametrize("name", list(compiler.ARCHITECTURES))
def test_architectures_match_reference(name, tile_size):
    spec = compiler.architecture(name, hidden=7, inputs=4, outputs=5)
    result = check_against_reference(spec, tile_size)
    if tile_size == 3:
        assert all(len(t) > 1 for m, t in result.tiling.tiles.items() if m != "d")
        assert any(op.inc for op in result.graph.ops if isinstance(op, hwsim.TileMVM))
        # x (4 lanes) and y (5 lanes) are wider than a tile: cut and joined at the boundary
        kinds = {type(op) for op in result.graph.ops}
        assert Slice in kinds and Concat in kinds
    else:
        assert result.report.tiles == len(result.ir.maps)


@pytest.mark.parametrize("changes", [
    dict(method="rk4", step=0.3),
    dict(method="rk3", cell="gru", order=2, memory="damped"),
    dict(method="heun", cell="lstm", order=3, memory=[1.2, -0.3, 0.05],
         stage_memory=[0.6, 0.3, 0.1]),
    dict(method="euler", cell="residual", activation="relu", readout="tanh", bias=False),
    dict(method="exponential", cell="unitary", order=2, memory="damped", step=0.7),
    dict(method="rk4", cell="unitary", activation="sin", init="normal"),
    dict(method={"a": [[0, 0, 0], [0.5, 0, 0], [0, 0.75, 0]], "b": [2 / 9, 1 / 3, 4 / 9]},
         cell="vanilla", outputs=9, readout="identity"),
], ids=lambda c: "-".join(f"{v}" for v in c.values() if isinstance(v, str)))
@pytest.mark.parametrize("tile_size", [256, 4])
def test_variants_match_reference(changes, tile_size):
    spec = ODERNN(**{**dict(hidden=9, inputs=2, outputs=3), **changes})
    check_against_reference(spec, tile_size)


@pytest.mark.parametrize("method", ["euler", "midpoint", "heun", "rk3", "rk4", "exponential"])
@pytest.mark.parametrize("tile_size", [256, 2])
def test_linear_field_step_is_truncated_exponential(method, tile_size):
    """F(h) = A h (unitary cell, sigma = identity, no input): one compiled step multiplies
    the state by sum_{m<=n} (step A)^m / m! (expm(step A) for the exponential step)."""
    H, dt = 5, 0.4
    spec = ODERNN(hidden=H, inputs=2, outputs=H, cell="unitary", method=method,
                  activation="identity", readout="identity", bias=False, step=dt)
    rng = np.random.default_rng(11)
    A = rng.standard_normal((H, H)) * 0.5       # any matrix: the field is linear
    U = rng.standard_normal((H, 2))
    result = compile_quiet(spec, tile_size=tile_size, weights={"A": A, "U": U})
    x = np.zeros((1, 3, 2))
    x[0, 0] = rng.standard_normal(2)            # step 0 sets a nonzero state; then no input
    h = result.run(x)[0]
    n = spec.stages
    if method == "exponential":
        R = expm(dt * A)
    else:
        R, term = np.eye(H), np.eye(H)
        for m in range(1, n + 1):
            term = term @ (dt * A) / m
            R = R + term
    assert np.allclose(h[1], R @ h[0], rtol=0, atol=1e-12)
    assert np.allclose(h[2], R @ h[1], rtol=0, atol=1e-12)


def test_json_round_trip_runs_the_same():
    spec = compiler.architecture("lstm", hidden=6, inputs=3, outputs=2)
    result = compile_quiet(spec, tile_size=4)
    graph = hwsim.DeviceGraph.from_json(result.graph.to_json())
    x = np.random.default_rng(0).standard_normal((2, 4, 3))
    y1 = result.run(x)
    y2 = hwsim.Simulator(graph, target="ideal").run({"x": x})["y"]
    assert np.array_equal(y1, y2)


def test_device_target_runs_the_same_graph():
    spec = compiler.architecture("gru", hidden=5, inputs=2, outputs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StabilityWarning)
        result = compiler.compile(spec, target="device", tile_size=4, device="reram-es",
                                  io={"dac_bits": 8, "adc_bits": 10})
    assert result.target == "device"
    x = np.random.default_rng(1).standard_normal((2, 6, 2))
    y_dev = result.run(x, seed=3)
    y_ideal = result.run(x, target="ideal")
    assert y_dev.shape == y_ideal.shape and np.all(np.isfinite(y_dev))
    assert not np.array_equal(y_dev, y_ideal)
    assert np.max(np.abs(y_dev - y_ideal)) < 1.0


def test_gradients_through_tiles_slices_and_delays():
    """Simulator.backward (BPTT) of a tiled graph with sliced inputs and joined outputs
    agrees with finite differences of the numpy reference, for weights and inputs."""
    spec = compiler.architecture("gru", hidden=5, inputs=3, outputs=3, order=2,
                                 memory="damped")
    result = compile_quiet(spec, tile_size=2)
    rng = np.random.default_rng(2)
    x, target = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 3))
    sim = result.simulator()
    y = sim.run({"x": x})["y"]
    dx = sim.backward({"y": y - target})["x"]

    def loss(weights, xx):
        return 0.5 * np.sum((reference.run(spec, weights, xx) - target) ** 2)

    eps = 1e-6
    num = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        num[idx] = (loss(result.weights, xp) - loss(result.weights, xm)) / (2 * eps)
    assert np.allclose(dx, num, atol=1e-7)
    # the weight gradient of W_g, assembled from its tiles' recorded (x, d) pairs
    g = np.zeros((5, 5))
    for t in result.tiling.tiles["W_g"]:
        xs, ds = sim.local_signals(t.name)
        g[t.rows[0]:t.rows[1], t.cols[0]:t.cols[1]] = ds.T @ xs
    w = {k: v.copy() for k, v in result.weights.items()}
    for idx in [(0, 0), (1, 3), (4, 2)]:
        w["W_g"][idx] += eps
        lp = loss(w, x)
        w["W_g"][idx] -= 2 * eps
        lm = loss(w, x)
        w["W_g"][idx] += eps
        assert g[idx] == pytest.approx((lp - lm) / (2 * eps), abs=1e-7)


def test_parameter_weights_read_back():
    spec = compiler.architecture("vanilla", hidden=5, inputs=2, outputs=2)
    for tile_size in (256, 2):
        result = compile_quiet(spec, tile_size=tile_size)
        back = result.parameter_weights(result.simulator())
        assert set(back) == set(result.weights)
        assert all(np.array_equal(back[k], result.weights[k]) for k in back)


def test_training_a_compiled_rnn_lowers_the_loss():
    task = hwsim.tasks.sine(n_train=24, n_test=8, window=12, seed=0)
    spec = compiler.architecture("vanilla", hidden=8, inputs=1, outputs=1)
    result = compile_quiet(spec, tile_size=4)
    out = hwsim.train(result.graph, task, hwsim.rules.PulsedSGD(lr=0.01), target="ideal",
                      epochs=4, batch_size=8, progress=False)
    losses = [h["train_loss"] for h in out.history]
    assert losses[-1] < 0.6 * losses[0]
    assert all(np.isfinite(losses))


def test_slice_and_concat_operators():
    """The two hwsim operators the lowering adds for wide inputs and outputs."""
    g = hwsim.DeviceGraph("sc")
    g.add_input("x", 5)
    g.add_signal("a", 2)
    g.add_signal("b", 3)
    g.add_output("y", 5)
    g.add(Slice("x", "a", 0, 2, name="a"))
    g.add(Slice("x", "b", 2, 5, name="b"))
    g.add(Concat(["b", "a"], "y", name="cat"))
    g2 = hwsim.DeviceGraph.from_json(g.to_json())
    sim = hwsim.Simulator(g2, target="ideal")
    x = np.arange(10.0).reshape(2, 5)
    y = sim.run({"x": x})["y"]
    assert np.array_equal(y, np.concatenate([x[:, 2:], x[:, :2]], axis=1))
    dy = np.arange(10.0).reshape(2, 5) + 1
    dx = sim.backward({"y": dy})["x"]
    assert np.array_equal(dx, np.concatenate([dy[:, 3:], dy[:, :3]], axis=1))
    with pytest.raises(hwsim.GraphError, match="end must be > begin"):
        Slice("x", "a", 2, 2)
    bad = hwsim.DeviceGraph("bad")
    bad.add_input("x", 3)
    bad.add_output("y", 2)
    bad.add(Slice("x", "y", 2, 4))
    with pytest.raises(hwsim.GraphError, match="end 4 is beyond input"):
        bad.build()
    bad2 = hwsim.DeviceGraph("bad2")
    bad2.add_input("x", 3)
    bad2.add_output("y", 2)
    bad2.add(Concat(["x"], "y"))
    with pytest.raises(hwsim.GraphError, match="total size of the inputs"):
        bad2.build()
