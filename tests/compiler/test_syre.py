"""The syre pass and the runtime it maps to: offsets, own weight decay, anisotropic decay.

Closed forms from reference/theory.md section 5.2: reads see ``phi = theta + theta0``, the
decay shrinks ``theta`` by ``1 - lr gamma D`` per step, and gradient descent on the ridge
problem converges to ``(X^T X / N + gamma I)^-1 (X^T y / N + gamma theta0)``.
"""

import json
import math

import numpy as np
import pytest

import devices
import hwsim
from compiler.errors import CompileError
from compiler.passes.syre import SOURCES, Syre, apply, default_sigma0
from hwsim.cells import DifferentialPair, ReferenceCell
from hwsim.errors import ConfigError
from hwsim.losses import mse
from hwsim.ops import TileMVM
from hwsim.rules import PulsedSGD
from hwsim.simulator import tile_seed
from hwsim.tile import AnalogTile, IdealTile

TARGETS = ("ideal", "device")


def quiet_device(**changes):
    """Constant steps without spread or noise, bounds far away: decay is exact there."""
    kw = dict(dw_min=1e-4, dw_min_dtod=0.0, dw_min_std=0.0, up_down_dtod=0.0, w_min=-10.0,
              w_max=10.0, w_min_dtod=0.0, w_max_dtod=0.0, reset_std=0.0)
    kw.update(changes)
    return devices.ConstantStep(**kw)


def linear_graph(p=5, out=1, device=None, init="zeros"):
    """``y = W x`` on one tile (a linear regression)."""
    g = hwsim.DeviceGraph("linear")
    g.add_input("x", p)
    g.add_output("y", out)
    g.add_tile("W", out, p, device=device, io=hwsim.IOConfig(is_perfect=True), init=init)
    g.add(TileMVM("W", "x", "y"))
    return g


def mlp(device=None):
    return hwsim.networks.mlp([4, 6, 3], device=device, io=hwsim.IOConfig(is_perfect=True))


def zero_gradient_steps(sim, rule, steps, n_in):
    """Rule steps whose gradients are zero, so only the decay acts."""
    x = np.zeros((2, n_in))
    for _ in range(steps):
        y = sim.run({"x": x})
        sim.backward({k: np.zeros_like(v) for k, v in y.items()})
        rule.apply(sim)


# =========================================================================== Syre config
def test_syre_defaults_round_trip_and_default_sigma():
    s = Syre()
    assert (s.sigma0, s.gamma, s.anisotropy, s.source) == (None, 1e-3, 0.0, "reference")
    assert s.sigma_for(100) == pytest.approx(0.001) == default_sigma0(100)
    assert Syre(sigma0=0.2).sigma_for(100) == 0.2
    for syre in (s, Syre(sigma0=0.05, gamma=0.1, anisotropy=0.01, source="device")):
        data = json.loads(json.dumps(syre.to_dict()))
        assert Syre.from_dict(data) == syre
    assert Syre(source="DEVICE").source == "device"
    assert s.replace(gamma=0.5).gamma == 0.5
    assert set(SOURCES) == {"reference", "device"}


@pytest.mark.parametrize("kwargs, words", [
    ({"sigma0": 0.0}, ["sigma0", "> 0"]),
    ({"sigma0": -1.0}, ["sigma0"]),
    ({"sigma0": math.nan}, ["sigma0", "finite"]),
    ({"gamma": 0.0}, ["gamma", "> 0"]),
    ({"gamma": math.inf}, ["gamma", "finite"]),
    ({"anisotropy": 1.0}, ["anisotropy", "< 1"]),
    ({"anisotropy": -0.1}, ["anisotropy", ">= 0"]),
    ({"source": "wires"}, ["source", "reference", "device"]),
])
def test_syre_rejects_bad_values_naming_the_field(kwargs, words):
    with pytest.raises(CompileError) as err:
        Syre(**kwargs)
    assert all(w in str(err.value) for w in words)
    assert isinstance(err.value, ValueError)


def test_syre_rejects_bad_types_and_keys():
    with pytest.raises(TypeError, match="gamma"):
        Syre(gamma="0.1")
    with pytest.raises(TypeError, match="sigma0"):
        Syre(sigma0=True)
    with pytest.raises(CompileError, match="'sigma'"):
        Syre.from_dict({"sigma": 0.1})
    with pytest.raises(CompileError, match="object"):
        Syre.from_dict([0.1])


# =========================================================================== the pass
def test_offsets_and_decay_appear_in_the_graph_and_survive_json():
    g = mlp()
    out = apply(g, Syre(gamma=0.02), seed=5)
    assert all(t.offset is None and t.weight_decay is None for t in g.tiles.values())
    for name, spec in out.tiles.items():
        assert spec.offset.shape == spec.shape and spec.weight_decay == 0.02
        # N(0, sigma0^2) with sigma0 = 0.01 / sqrt(fan_in): 24 resp. 18 draws
        sigma = 0.01 / math.sqrt(spec.in_size)
        assert abs(np.mean(spec.offset)) < 5 * sigma / math.sqrt(spec.offset.size)
        assert 0.5 * sigma < np.std(spec.offset) < 1.5 * sigma
        assert spec.init == g.tiles[name].init
    back = hwsim.DeviceGraph.from_json(out.to_json())
    assert back.to_json() == out.to_json()
    for name in out.tiles:
        assert np.array_equal(back.tiles[name].offset, out.tiles[name].offset)
        assert back.tiles[name] == out.tiles[name]
    assert [op.name for op in back.order] == [op.name for op in g.order]
    assert "offset" in out.to_dot() and "offset" not in g.to_dot()


def test_pass_is_deterministic_per_seed_and_per_tile_name():
    a = apply(mlp(), Syre(anisotropy=0.1), seed=1)
    b = apply(mlp(), Syre(anisotropy=0.1), seed=1)
    c = apply(mlp(), Syre(anisotropy=0.1), seed=2)
    assert a.to_json() == b.to_json()
    assert not np.array_equal(a.tiles["W1"].offset, c.tiles["W1"].offset)
    # a tile's draws depend on its name, not on the other tiles
    g = mlp()
    g.add_tile("extra", 2, 2)
    d = apply(g, Syre(anisotropy=0.1), seed=1)
    assert np.array_equal(d.tiles["W2"].offset, a.tiles["W2"].offset)
    assert np.array_equal(d.tiles["W2"].weight_decay, a.tiles["W2"].weight_decay)


def test_pass_input_errors():
    g = apply(mlp(), Syre(), seed=0)
    with pytest.raises(CompileError, match="applied twice"):
        apply(g, Syre(), seed=0)
    with pytest.raises(TypeError, match="DeviceGraph"):
        apply("graph", Syre())
    with pytest.raises(TypeError, match="Syre"):
        apply(mlp(), {"gamma": 0.1})
    for seed in (-1, 1.5, True):
        with pytest.raises(CompileError, match="seed"):
            apply(mlp(), Syre(), seed=seed)


def test_tile_spec_offset_and_weight_decay_validation():
    with pytest.raises(ConfigError, match="offset"):
        hwsim.TileSpec("W", 2, 3, offset=np.zeros((3, 2)))
    with pytest.raises(ConfigError, match="offset"):
        hwsim.TileSpec("W", 2, 3, offset=np.full((2, 3), np.nan))
    with pytest.raises(ConfigError, match="weight_decay"):
        hwsim.TileSpec("W", 2, 3, weight_decay=-0.1)
    with pytest.raises(ConfigError, match="weight_decay"):
        hwsim.TileSpec("W", 2, 3, weight_decay=np.array([[0.1, -0.1, 0.0], [0, 0, 0]]))
    spec = hwsim.TileSpec("W", 2, 3, offset=np.ones((2, 3)), weight_decay=np.ones((2, 3)))
    assert not spec.offset.flags.writeable and not spec.weight_decay.flags.writeable
    # a graph without syre serialises exactly as before: no new keys
    assert set(hwsim.TileSpec("W", 2, 3).to_dict()) == {
        "name", "out_size", "in_size", "device", "io", "backward_io", "update", "init"}


# =========================================================================== reads
@pytest.mark.parametrize("target", TARGETS)
def test_reads_are_theta_plus_offset(target):
    g = apply(linear_graph(p=4, out=3, device=quiet_device(), init="normal"),
              Syre(sigma0=0.1, gamma=0.01), seed=3)
    sim = hwsim.Simulator(g, target=target, seed=7)
    tile = sim.tiles["W"]
    phi0 = g.tiles["W"].initial_weights(tile_seed(7, "W"))
    offset = g.tiles["W"].offset
    np.testing.assert_allclose(tile.offset, offset, rtol=0, atol=1e-15)
    # the function starts where it would without syre; the devices hold theta = phi - theta0
    np.testing.assert_allclose(tile.weights(), phi0, rtol=0, atol=1e-14)
    theta = phi0 - offset
    rng = np.random.default_rng(0)
    x, d = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    np.testing.assert_allclose(tile.forward(x), x @ (theta + offset).T, atol=1e-12)
    np.testing.assert_allclose(tile.backward(d), d @ (theta + offset), atol=1e-12)
    if target == "device":
        # on devices: the learning array holds theta, the reference array -theta0
        np.testing.assert_allclose(tile.array.weights, theta, atol=1e-14)
        np.testing.assert_allclose(tile.reference.weights, -offset, atol=1e-15)
        return
    # updates act on theta: reads follow theta - lr d^T x, plus the same offset
    tile.update(x, d, 0.1)
    theta = theta - 0.1 * d.T @ x
    np.testing.assert_allclose(tile.forward(x), x @ (theta + offset).T, atol=1e-12)
    tile.set_weights(np.ones((3, 4)))
    np.testing.assert_array_equal(tile.weights(), np.ones((3, 4)))


# =========================================================================== decay
@pytest.mark.parametrize("target", TARGETS)
def test_decay_pulls_theta_to_zero_and_phi_to_the_anchor(target):
    gamma, lr, steps = 0.05, 0.2, 7
    g = apply(linear_graph(p=4, out=2, device=quiet_device(), init="normal"),
              Syre(sigma0=0.1, gamma=gamma), seed=11)
    sim = hwsim.Simulator(g, target=target, seed=2)
    tile = sim.tiles["W"]
    offset = tile.offset
    theta0 = tile.weights() - offset
    zero_gradient_steps(sim, PulsedSGD(lr=lr), steps, 4)
    theta = tile.weights() - offset
    np.testing.assert_allclose(theta, theta0 * (1 - lr * gamma) ** steps, rtol=1e-12,
                               atol=1e-15)
    # long after, the weights sit at the anchor
    for _ in range(60):
        tile.decay(rate=0.5)
    np.testing.assert_allclose(tile.weights(), offset, atol=1e-15 + 1e-12)


def test_without_syre_the_same_decay_goes_to_zero():
    g = linear_graph(p=4, out=2, device=quiet_device(), init="normal")
    sim = hwsim.Simulator(g, target="ideal", seed=2)
    w0 = sim.tiles["W"].weights()
    zero_gradient_steps(sim, PulsedSGD(lr=0.2, weight_decay=0.05), 3, 4)
    np.testing.assert_allclose(sim.tiles["W"].weights(), w0 * 0.99 ** 3, rtol=1e-13)


@pytest.mark.parametrize("target", TARGETS)
def test_rule_and_tile_weight_decay_add_up(target):
    g = apply(linear_graph(p=3, out=2, device=quiet_device(), init="normal"),
              Syre(sigma0=0.1, gamma=0.05), seed=0)
    sim = hwsim.Simulator(g, target=target, seed=1)
    tile = sim.tiles["W"]
    theta0 = tile.weights() - tile.offset
    zero_gradient_steps(sim, PulsedSGD(lr=0.1, weight_decay=0.2), 2, 3)
    np.testing.assert_allclose(tile.weights() - tile.offset, theta0 * (1 - 0.1 * 0.25) ** 2,
                               rtol=1e-12)


@pytest.mark.parametrize("target", TARGETS)
def test_syre_ar_decays_each_weight_at_its_own_rate(target):
    gamma, eps, lr = 0.1, 0.2, 0.5
    g = apply(linear_graph(p=6, out=4, device=quiet_device(), init="normal"),
              Syre(sigma0=0.1, gamma=gamma, anisotropy=eps), seed=4)
    wd = g.tiles["W"].weight_decay
    assert wd.shape == (4, 6) and len(np.unique(wd)) == wd.size
    assert np.all(np.abs(wd / gamma - 1.0) <= eps) and np.std(wd / gamma) > eps / 4
    sim = hwsim.Simulator(g, target=target, seed=3)
    tile = sim.tiles["W"]
    theta0 = tile.weights() - tile.offset
    zero_gradient_steps(sim, PulsedSGD(lr=lr), 3, 6)
    ratio = (tile.weights() - tile.offset) / theta0
    np.testing.assert_allclose(ratio, (1 - lr * wd) ** 3, rtol=1e-10)
    assert len(np.unique(np.round(ratio, 12))) == ratio.size


# =========================================================================== ridge
@pytest.mark.parametrize("out", [1, 2])
def test_gradient_descent_converges_to_the_syre_ridge_solution(out):
    """GD on ||y - X phi||^2/N + gamma ||phi - theta0||^2 (hwsim's half-mse, decay lr gamma)."""
    rng = np.random.default_rng(5)
    n, p, gamma, lr = 200, 5, 0.3, 0.5
    x = rng.standard_normal((n, p))
    y = x @ rng.standard_normal((p, out)) + 0.3 * rng.standard_normal((n, out))
    g = apply(linear_graph(p=p, out=out), Syre(sigma0=0.5, gamma=gamma), seed=9)
    theta0 = g.tiles["W"].offset
    sim = hwsim.Simulator(g, target="ideal", seed=0)
    rule = PulsedSGD(lr=lr)
    for _ in range(400):
        pred = sim.run({"x": x})["y"]
        _, grad = mse(pred, y)
        sim.backward({"y": grad})
        rule.apply(sim)
    phi_star = np.linalg.solve(x.T @ x / n + gamma * np.eye(p), x.T @ y / n + gamma * theta0.T)
    np.testing.assert_allclose(sim.tiles["W"].weights(), phi_star.T, rtol=0, atol=1e-10)
    # and not the plain ridge solution: the anchor moves the minimiser
    plain = np.linalg.solve(x.T @ x / n + gamma * np.eye(p), x.T @ y / n)
    assert np.max(np.abs(plain.T - phi_star.T)) > 1e-2


# =========================================================================== source device
def test_device_source_sets_the_reset_spread_as_the_anchor():
    sigma = 0.03
    g = hwsim.networks.mlp([5, 4, 2], device="idealized")  # a preset name
    out = apply(g, Syre(sigma0=sigma, gamma=0.1, source="device"), seed=0)
    for spec in out.tiles.values():
        assert spec.offset is None and spec.weight_decay == 0.1
        assert isinstance(spec.device, devices.ConstantStep)
        assert spec.device.reset_dtod == sigma
        assert spec.device.dw_min == devices.preset("idealized").dw_min
    assert hwsim.DeviceGraph.from_json(out.to_json()).to_json() == out.to_json()
    default = apply(hwsim.networks.mlp([3, 2]), Syre(sigma0=sigma, source="device"))
    assert default.tiles["W1"].device == devices.ConstantStep(reset_dtod=sigma)
    pair = apply(hwsim.networks.mlp([3, 2], device=DifferentialPair(quiet_device())),
                 Syre(sigma0=sigma, source="device"))
    assert pair.tiles["W1"].device.device.reset_dtod == pytest.approx(sigma / math.sqrt(2))
    ref = apply(hwsim.networks.mlp([3, 2], device=ReferenceCell(quiet_device())),
                Syre(sigma0=sigma, source="device"))
    assert ref.tiles["W1"].device.device.reset_dtod == sigma


def test_device_source_decays_to_the_devices_reset_biases():
    sigma = 0.05
    g = apply(linear_graph(p=40, out=25, device=quiet_device(), init="normal"),
              Syre(sigma0=sigma, gamma=0.1, source="device"), seed=0)
    sim = hwsim.Simulator(g, target="device", seed=4)
    tile = sim.tiles["W"]
    anchor = tile.array.reset_bias
    # additive spread: reset + reset_dtod xi with reset = 0, 1000 draws
    assert abs(np.std(anchor) - sigma) < 5 * sigma / math.sqrt(2 * anchor.size)
    assert abs(np.mean(anchor)) < 5 * sigma / math.sqrt(anchor.size)
    w0 = tile.weights()
    zero_gradient_steps(sim, PulsedSGD(lr=0.5), 3, 40)
    np.testing.assert_allclose(tile.weights() - anchor, (w0 - anchor) * 0.95 ** 3,
                               rtol=1e-10, atol=1e-15)
    for _ in range(80):
        tile.decay(rate=0.5)
    np.testing.assert_allclose(tile.weights(), anchor, atol=1e-12)


# =========================================================================== runtime
def test_device_array_decay_accepts_per_cell_rates():
    arr = quiet_device(reset_dtod=0.1).realize((3, 4), seed=1)
    arr.set_weights(np.ones((3, 4)), write_noise=False)
    b = arr.reset_bias
    rates = np.linspace(0.0, 1.0, 12).reshape(3, 4)
    arr.decay(0.5, rate=rates)
    np.testing.assert_allclose(arr.weights, b + (1 - b) * (1 - 0.5 * rates), rtol=1e-14)
    with pytest.raises(devices.DeviceError, match="shape"):
        arr.decay(rate=np.zeros((4, 3)))
    with pytest.raises(devices.DeviceError, match=r"\[0, 1\]"):
        arr.decay(rate=np.full((3, 4), 1.5))
    with pytest.raises(devices.DeviceError, match="finite"):
        arr.decay(rate=np.full((3, 4), np.nan))
    before = arr.weights
    arr.decay(rate=np.zeros((3, 4)))
    np.testing.assert_array_equal(arr.weights, before)


@pytest.mark.parametrize("cell", [DifferentialPair, ReferenceCell])
def test_unit_cells_and_ideal_tiles_take_per_cell_rates(cell):
    rates = np.array([[0.1, 0.2], [0.3, 0.4]])
    tile = AnalogTile(2, 2, device=cell(quiet_device()), seed=0,
                      init=np.array([[0.2, -0.2], [0.4, 0.1]]))
    w = tile.weights()
    tile.decay(rate=rates)
    np.testing.assert_allclose(tile.weights(), w * (1 - rates), rtol=1e-12)
    ideal = IdealTile(2, 2, init=w)
    ideal.decay(rate=rates)
    np.testing.assert_allclose(ideal.weights(), w * (1 - rates), rtol=1e-14)
    with pytest.raises(ConfigError, match="rate"):
        ideal.decay(rate=np.ones((2, 3)))
    with pytest.raises(ConfigError, match="rate"):
        ideal.decay(rate=-rates)


def test_analog_offset_reference_array_physics():
    offset = np.random.default_rng(0).normal(0.0, 0.05, (3, 4))
    noisy = quiet_device(write_noise_std=2.0, lifetime=10.0)
    tile = AnalogTile(3, 4, device=noisy, io=hwsim.IOConfig(is_perfect=True), seed=1,
                      init=np.zeros((3, 4)), offset=offset)
    # the reference is programmed once with the device's write noise (2 dw_min): a fixed
    # error of the anchor, and reads are exact at the effective weights
    err = tile.offset - offset
    assert 0 < np.max(np.abs(err)) < 10 * 2.0 * noisy.dw_min
    np.testing.assert_allclose(tile.weights(), 0.0, atol=1e-15)
    np.testing.assert_allclose(tile.forward(np.eye(4)), np.zeros((4, 3)), atol=1e-15)
    # a rule's decay acts on the learning devices only; the lifetime decays both arrays
    ref = tile.reference.hidden_weights
    tile.decay(rate=0.1)
    np.testing.assert_array_equal(tile.reference.hidden_weights, ref)
    tile.decay()
    np.testing.assert_allclose(tile.reference.hidden_weights, ref * 0.9, rtol=1e-12)
    # set_weights is exact on the effective weights; the offset's reference sees no pulses
    tile.set_weights(np.full((3, 4), 0.3))
    np.testing.assert_allclose(tile.weights(), 0.3, atol=1e-15)
    tile.update(np.ones(4), np.ones(3), 0.01)
    assert tile.reference.pulse_counts.sum() == 0
    with pytest.raises(ConfigError, match="offset"):
        AnalogTile(3, 4, offset=np.zeros((4, 3)))
    with pytest.raises(ConfigError, match="weight_decay"):
        IdealTile(3, 4, weight_decay=-1.0)


def test_offset_with_unit_cells_reads_phi():
    offset = np.full((2, 3), 0.02)
    for cell in (DifferentialPair(quiet_device(w_min=0.0)), ReferenceCell(quiet_device())):
        tile = AnalogTile(2, 3, device=cell, io=hwsim.IOConfig(is_perfect=True), seed=0,
                          init=np.full((2, 3), 0.1), offset=-offset)
        np.testing.assert_allclose(tile.weights(), 0.1, atol=1e-15)
        tile.decay(rate=1.0)
        np.testing.assert_allclose(tile.weights(), -offset, atol=1e-15)
