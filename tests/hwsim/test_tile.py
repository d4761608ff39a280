"""Analog and ideal tiles: interface, conformance, counters, programming, errors.

Statistical checks use fixed seeds and tolerances of ``K_SIGMA`` standard errors derived
from the configured variance.
"""

import math

import numpy as np
import pytest

import devices
from hwsim.cells import DifferentialPair, ReferenceCell
from hwsim.errors import ConfigError
from hwsim.io import IOConfig
from hwsim.tile import COUNTER_KEYS, AnalogTile, IdealTile, UpdateConfig

K_SIGMA = 5.0


def clean_device(**changes):
    """A constant-step device without noise or spread, with bounds far from any weight."""
    kw = dict(dw_min=0.001, dw_min_dtod=0.0, dw_min_std=0.0, up_down_dtod=0.0, w_min=-100.0,
              w_max=100.0, w_min_dtod=0.0, w_max_dtod=0.0, write_noise_std=0.0,
              reset_std=0.0)
    kw.update(changes)
    return devices.ConstantStep(**kw)


def float_tile(out_size=5, in_size=7, seed=3, **kw):
    """An AnalogTile that should behave exactly as an IdealTile."""
    return AnalogTile(out_size, in_size, device=clean_device(), io=IOConfig.perfect(),
                      update=UpdateConfig(pulse_type="none"), seed=seed, **kw)


def data(seed, *shape):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, shape)


# ---------------------------------------------------------------- conformance
def test_perfect_analog_tile_agrees_with_ideal_tile():
    analog, ideal = float_tile(), IdealTile(5, 7, seed=3)
    assert np.array_equal(analog.weights(), ideal.weights())
    for step in range(4):
        x, d = data(10 + step, 6, 7), data(20 + step, 6, 5)
        np.testing.assert_allclose(analog.forward(x), ideal.forward(x), atol=1e-10, rtol=0)
        np.testing.assert_allclose(analog.backward(d), ideal.backward(d), atol=1e-10, rtol=0)
        np.testing.assert_allclose(analog.forward(x[0]), ideal.forward(x[0]), atol=1e-10,
                                   rtol=0)
        analog.update(x, d, 0.05)
        ideal.update(x, d, 0.05)
        np.testing.assert_allclose(analog.weights(), ideal.weights(), atol=1e-10, rtol=0)
    assert analog.counters == ideal.counters


def test_ideal_tile_is_exact():
    t = IdealTile(3, 4, seed=1)
    w = t.weights()
    x, d = data(1, 2, 4), data(2, 2, 3)
    assert np.array_equal(t.forward(x), x @ w.T)
    assert np.array_equal(t.backward(d), d @ w)
    assert t.update(x, d, 0.1) == (0, 0)
    assert np.allclose(t.weights(), w - 0.1 * d.T @ x)
    t.decay()
    t.diffuse()
    assert np.allclose(t.weights(), w - 0.1 * d.T @ x)


# ---------------------------------------------------------------- shapes and batches
def test_shapes():
    t = AnalogTile(3, 4)
    assert (t.out_size, t.in_size, t.shape) == (3, 4, (3, 4))
    assert t.forward(np.ones(4)).shape == (3,)
    assert t.forward(np.ones((5, 4))).shape == (5, 3)
    assert t.backward(np.ones(3)).shape == (4,)
    assert t.backward(np.ones((5, 3))).shape == (5, 4)


@pytest.mark.parametrize("io", [IOConfig.from_bits(6, 7, out_noise=0.0),
                                IOConfig(out_noise=0.0, out_bound=0.5)],
                         ids=["quantised", "bound-managed"])
def test_batch_and_single_vector_agree(io):
    t = AnalogTile(4, 6, io=io, seed=2)
    x = data(3, 5, 6) * np.arange(1, 6)[:, None]
    batch = t.forward(x)
    single = np.array([t.forward(v) for v in x])
    assert np.array_equal(batch, single)
    d = data(4, 5, 4)
    assert np.array_equal(t.backward(d), np.array([t.backward(v) for v in d]))


def test_forward_is_close_to_the_product_with_default_io():
    t = AnalogTile(6, 8, seed=4)
    x = data(5, 400, 8)
    err = t.forward(x) - x @ t.weights().T
    alpha = np.abs(x).max(axis=1, keepdims=True)
    # output noise 0.06 alpha dominates; quantisation adds a little
    assert np.sqrt((err ** 2 / alpha ** 2).mean()) < 0.08


# ---------------------------------------------------------------- seeds
def _run(seed):
    t = AnalogTile(4, 5, device="idealized", io=IOConfig(out_noise=0.1), seed=seed)
    x, d = data(6, 3, 5), data(7, 3, 4)
    out = [t.forward(x), t.backward(d)]
    t.update(x, d, 0.01)
    out.append(t.weights())
    return out, dict(t.counters)


def test_same_seed_same_results():
    (a, ca), (b, cb) = _run(11), _run(11)
    assert all(np.array_equal(u, v) for u, v in zip(a, b)) and ca == cb
    c, _ = _run(12)
    assert not np.array_equal(a[0], c[0])


def test_initial_weights():
    t = AnalogTile(50, 16, device=clean_device(), seed=5)
    w = t.weights()
    assert np.all(np.abs(w) <= 0.25) and w.std() > 0.1
    assert np.array_equal(w, IdealTile(50, 16, seed=5).weights())
    narrow = AnalogTile(50, 16, device=clean_device(w_min=-0.1, w_max=0.1), seed=5)
    assert np.abs(narrow.weights()).max() == pytest.approx(0.1)
    init = data(8, 3, 4)
    assert np.array_equal(AnalogTile(3, 4, device=clean_device(), init=init).weights(), init)
    assert np.array_equal(IdealTile(3, 4, init=init).weights(), init)


# ---------------------------------------------------------------- counters
def test_counters_count():
    t = AnalogTile(3, 4, device=clean_device(), io=IOConfig(out_noise=0.0), seed=1)
    assert tuple(t.counters) == COUNTER_KEYS and not any(t.counters.values())
    t.forward(np.full((5, 4), 0.1))
    t.backward(np.ones(3))
    up, down = t.update(data(1, 2, 4), data(2, 2, 3), 0.01)
    c = t.counters
    assert (c["mvm_forward"], c["dac_forward"], c["adc_forward"]) == (5, 20, 15)
    assert (c["mvm_backward"], c["dac_backward"], c["adc_backward"]) == (1, 3, 4)
    assert (c["cell_reads_forward"], c["cell_reads_backward"]) == (60, 12)
    assert (c["pulses_up"], c["pulses_down"], c["updates"]) == (up, down, 2)
    assert up + down > 0 and c["bm_repeats"] == 0
    assert all(type(v) is int for v in c.values())
    t.reset_counters()
    assert not any(t.counters.values()) and tuple(t.counters) == COUNTER_KEYS


def test_counters_include_bound_management_repeats():
    w = np.full((3, 4), 0.9)
    t = AnalogTile(3, 4, device=clean_device(), io=IOConfig(out_noise=0.0, out_bound=1.0,
                                                              inp_res=0.0),
                   init=w)
    t.forward(np.ones((2, 4)))    # 3.6 per output: clips at factors 1, 2; 4 gives 0.9
    c = t.counters
    assert c["bm_repeats"] == 4 and c["mvm_forward"] == 2
    assert c["dac_forward"] == 6 * 4 and c["adc_forward"] == 6 * 3
    assert c["cell_reads_forward"] == 6 * 12


def test_pulse_counts_match_the_weight_change():
    # constant noise-free steps: each pulse moves a weight by exactly dw_min
    t = AnalogTile(6, 5, device=clean_device(), seed=2)
    before = t.weights()
    up, down = t.update(data(3, 4, 5), data(4, 4, 6), 0.05)
    net = (t.weights() - before) / 0.001
    assert np.allclose(net, np.rint(net), atol=1e-6)
    # opposite pulses on one cell cancel in the weight but both count
    assert np.abs(net).sum() <= up + down + 1e-6
    assert net.sum() == pytest.approx(up - down, abs=1e-6)


def test_pulsed_update_follows_its_target_on_average():
    t = AnalogTile(4, 4, device=clean_device(), seed=3, init=np.zeros((4, 4)))
    x, d = data(5, 1, 4), data(6, 1, 4)
    lr, eps, n = 0.01, 0.001, 200
    for _ in range(n):
        t.update(x, d, lr)
    target = -n * lr * d.T @ x
    # coincidences per call ~ Binomial with mean mu = lr |x d| / eps: variance <= mu
    se = eps * np.sqrt(n * lr * np.abs(d.T @ x) / eps) + 1e-12
    assert np.all(np.abs(t.weights() - target) <= K_SIGMA * se + eps)


# ---------------------------------------------------------------- writing
def test_program_has_dw_min_noise_and_set_weights_is_exact():
    t = AnalogTile(40, 50, device=clean_device(dw_min=0.01), seed=4)
    target = data(9, 40, 50) * 0.5
    t.set_weights(target)
    assert np.array_equal(t.weights(), target)
    t.program(target)
    err = t.weights() - target
    n = err.size
    assert abs(err.mean()) < K_SIGMA * 0.01 / math.sqrt(n)
    assert abs(err.var() / 0.01 ** 2 - 1) < K_SIGMA * math.sqrt(2 / n)
    t.program(target, noise_std=0.0)
    assert np.array_equal(t.weights(), target)
    t.program(target, noise_std=0.05)
    assert abs(t.weights().std() / 1.0 - target.std()) < 0.05


def test_program_clips_to_the_bounds():
    t = AnalogTile(3, 3, device=clean_device(w_min=-0.2, w_max=0.2))
    t.program(np.full((3, 3), 5.0), noise_std=0.0)
    assert np.allclose(t.weights(), 0.2)


def test_weights_are_copies_and_reads_follow_writes():
    t = float_tile()
    w = t.weights()
    w[:] = 0.0
    assert np.any(t.weights() != 0.0)
    x = data(2, 7)
    t.forward(x)                          # fills the cache
    t.set_weights(np.ones((5, 7)))
    assert np.allclose(t.forward(x), x.sum())
    t.update(x, np.ones(5), 0.5)
    assert np.allclose(t.forward(x), (1 - 0.5 * x) @ x)


def test_write_noise_shows_in_visible_weights():
    dev = clean_device(write_noise_std=10.0, dw_min=0.01)
    t = AnalogTile(20, 20, device=dev, io=IOConfig.perfect(), seed=6)
    target = np.zeros((20, 20))
    t.set_weights(target)
    assert np.array_equal(t.weights(), target)
    t.program(target, noise_std=0.0)
    assert t.weights().std() == pytest.approx(0.1, rel=0.2)
    assert np.array_equal(t.hidden_weights(), target)
    x = data(3, 20)
    assert np.allclose(t.forward(x), t.weights() @ x)


def test_decay_and_diffuse_reach_the_devices():
    t = AnalogTile(4, 4, device=clean_device(lifetime=10.0), init=np.full((4, 4), 0.5))
    t.decay()
    assert np.allclose(t.weights(), 0.5 * 0.9)
    t = AnalogTile(4, 4, device=clean_device(diffusion=0.01), init=np.zeros((4, 4)))
    t.diffuse()
    assert np.any(t.weights() != 0.0)


def test_decay_with_a_rate_is_weight_decay():
    w = data(12, 3, 4)
    ideal = IdealTile(3, 4, init=w)
    ideal.decay(rate=0.1)
    assert np.allclose(ideal.weights(), 0.9 * w)
    ideal.decay()
    assert np.allclose(ideal.weights(), 0.9 * w)
    analog = AnalogTile(3, 4, device=clean_device(), io=IOConfig.perfect(), init=w)
    analog.forward(np.ones(4))                   # fills the read cache
    analog.decay(scale=2.0, rate=0.1)            # toward the reset value 0
    assert np.allclose(analog.weights(), 0.8 * w)
    assert np.allclose(analog.forward(np.ones(4)), 0.8 * w.sum(axis=1))
    pair = AnalogTile(3, 4, device=DifferentialPair(clean_device()), init=w)
    pair.decay(rate=0.5)
    assert np.allclose(pair.weights(), 0.5 * w)
    with pytest.raises(ConfigError, match="rate"):
        ideal.decay(rate=2.0)


def test_device_forms():
    for device in ("idealized", devices.preset("ecram"), "EcRamPresetDevice",
                   DifferentialPair("pcm"), ReferenceCell("reram-sb")):
        t = AnalogTile(3, 4, device=device, seed=1)
        t.forward(np.ones(4))
        t.backward(np.ones(3))
        t.update(np.ones(4), np.ones(3), 0.01)
    assert isinstance(AnalogTile(2, 2).array.model, devices.ConstantStep)


def test_backward_io_defaults_to_forward_io():
    io = IOConfig.standard()
    t = AnalogTile(2, 3, io=io)
    assert t.backward_io is io
    other = IOConfig.perfect()
    assert AnalogTile(2, 3, io=io, backward_io=other).backward_io is other


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("cls", [AnalogTile, IdealTile])
@pytest.mark.parametrize("sizes, name", [((0, 3), "out_size"), ((3, -1), "in_size")])
def test_bad_sizes(cls, sizes, name):
    with pytest.raises(ConfigError, match=name):
        cls(*sizes)


@pytest.mark.parametrize("cls", [AnalogTile, IdealTile])
def test_bad_inputs(cls):
    t = cls(3, 4)
    with pytest.raises(ConfigError, match=r"x.*\(4,\).*\(3,\)"):
        t.forward(np.ones(3))
    with pytest.raises(ConfigError, match=r"d.*\(3,\)"):
        t.backward(np.ones((2, 4)))
    with pytest.raises(ConfigError, match=r"x.*nan"):
        t.forward(np.array([1.0, np.nan, 0.0, 0.0]))
    with pytest.raises(ConfigError, match=r"d.*inf"):
        t.update(np.ones(4), np.array([1.0, np.inf, 0.0]), 0.1)
    with pytest.raises(ConfigError, match="same batch"):
        t.update(np.ones((2, 4)), np.ones((3, 3)), 0.1)
    with pytest.raises(ConfigError, match="lr"):
        t.update(np.ones(4), np.ones(3), -0.1)
    with pytest.raises(ConfigError, match="weights"):
        t.set_weights(np.ones((4, 3)))
    with pytest.raises(ConfigError, match="noise_std"):
        t.program(np.ones((3, 4)), noise_std=-1.0)
    with pytest.raises(ConfigError, match="init"):
        cls(3, 4, init=np.ones((3, 3)))
    with pytest.raises(TypeError, match="x"):
        t.forward("abc")


def test_bad_tile_configuration():
    with pytest.raises(ConfigError, match="not-a-device"):
        AnalogTile(2, 2, device="not-a-device")
    with pytest.raises(TypeError, match="device"):
        AnalogTile(2, 2, device=3.0)
    with pytest.raises(TypeError, match="io"):
        AnalogTile(2, 2, io={"out_noise": 0.1})
    with pytest.raises(TypeError, match="update"):
        AnalogTile(2, 2, update="none")
    with pytest.raises(ConfigError, match="seed"):
        AnalogTile(2, 2, seed=-1)
