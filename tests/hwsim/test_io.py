"""The periphery of a tile: IOConfig validation and the MVM pipeline (hwsim.io).

Statistical checks compare an estimate with its expectation within ``K_SIGMA`` standard
errors derived from the configured variance (chi-square for variances), with fixed seeds.
"""

import math

import numpy as np
import pytest

from hwsim import io as hio
from hwsim.errors import ConfigError
from hwsim.io import IOConfig

K_SIGMA = 5.0


def rng(seed=0):
    return np.random.default_rng(seed)


def clean(**changes):
    """A pipeline with nothing on: no quantisation, noise, management; change from there."""
    base = dict(inp_res=0.0, out_res=0.0, out_noise=0.0, noise_management="none",
                bound_management="none", inp_bound=1e9, out_bound=1e9)
    base.update(changes)
    return IOConfig(**base)


def read(w, x, cfg, seed=0, **kw):
    y, _ = hio.mvm(np.asarray(w, float), np.atleast_2d(np.asarray(x, float)), cfg, rng(seed),
                   **kw)
    return y


def assert_variance(samples, sigma2, dof):
    """Sample variance vs ``sigma2`` within K_SIGMA chi-square standard errors."""
    ratio = samples / sigma2
    assert abs(ratio - 1.0) < K_SIGMA * math.sqrt(2.0 / dof), (samples, sigma2)


# ---------------------------------------------------------------- IOConfig
def test_defaults_are_aihwkit_io_parameters():
    c = IOConfig()
    assert not c.is_perfect
    assert (c.inp_bound, c.inp_res, c.inp_sto_round, c.inp_noise) == (1.0, 1 / 126, False, 0.0)
    assert (c.out_bound, c.out_res, c.out_sto_round, c.out_noise) == (12.0, 1 / 510, False, 0.06)
    assert (c.noise_management, c.nm_thres) == ("abs_max", 0.0)
    assert (c.bound_management, c.max_bm_factor, c.max_bm_res) == ("iterative", 1000, 0.25)
    assert (c.w_noise, c.w_noise_type, c.ir_drop) == (0.0, "none", 0.0)
    assert c.ir_drop_g_ratio == pytest.approx(1 / 0.35 / 5e-6)
    assert c.out_nonlinearity == 0.0


def test_config_is_frozen_and_replace_validates():
    c = IOConfig()
    with pytest.raises(AttributeError):
        c.out_noise = 0.1
    assert c.replace(out_noise=0.1).out_noise == 0.1
    with pytest.raises(ConfigError, match="out_noise"):
        c.replace(out_noise=-1.0)


def test_unknown_keyword_is_named():
    with pytest.raises(TypeError, match="out_nois"):
        IOConfig(out_nois=0.1)
    with pytest.raises(TypeError, match="bogus"):
        IOConfig.from_bits(8, 8, bogus=1)


@pytest.mark.parametrize("name", ["inp_bound", "inp_res", "out_noise", "out_res", "nm_thres",
                                  "max_bm_factor", "w_noise", "ir_drop", "ir_drop_g_ratio"])
def test_nan_is_refused_with_the_name(name):
    with pytest.raises(ConfigError, match=name):
        IOConfig(**{name: float("nan")})


@pytest.mark.parametrize("kwargs, name", [({"inp_bound": 0.0}, "inp_bound"),
                                          ({"out_bound": -1.0}, "out_bound"),
                                          ({"noise_management": "avg"}, "noise_management"),
                                          ({"bound_management": "shift"}, "bound_management"),
                                          ({"w_noise_type": "pcm"}, "w_noise_type"),
                                          ({"max_bm_factor": 0.5}, "max_bm_factor"),
                                          ({"noise_management": "constant"}, "nm_thres")])
def test_invalid_values_are_named(kwargs, name):
    with pytest.raises(ConfigError, match=name):
        IOConfig(**kwargs)


def test_bool_fields_refuse_non_bools():
    with pytest.raises(TypeError, match="is_perfect"):
        IOConfig(is_perfect=1)


def test_choices_accept_aihwkit_spelling():
    c = IOConfig(noise_management="ABS_MAX", bound_management="ITERATIVE_WORST_CASE",
                 w_noise_type="PCM_READ")
    assert (c.noise_management, c.bound_management, c.w_noise_type) == \
        ("abs_max", "iterative_worst_case", "pcm_read")


def test_from_bits_perfect_and_standard():
    c = IOConfig.from_bits(6, 10, out_noise=0.0)
    assert c.inp_res == 1 / 62 and c.out_res == 1 / 1022 and c.out_noise == 0.0
    assert IOConfig.from_bits(None, 8).inp_res == 0.0
    s = IOConfig.standard()
    assert (s.inp_res, s.out_res, s.out_bound, s.out_noise) == (1 / 254, 1 / 254, 10.0, 0.04)
    p = IOConfig.perfect()
    assert p.is_perfect and p.out_noise == 0.0


@pytest.mark.parametrize("name", ["dac_bits", "adc_bits"])
@pytest.mark.parametrize("bits", [0, -3, 1])
def test_from_bits_refuses_too_few_bits(name, bits):
    with pytest.raises(ConfigError, match=rf"{name}.*got {bits}"):
        IOConfig.from_bits(**{name: bits})


# ---------------------------------------------------------------- quantisation
def test_resolution_conventions():
    assert hio.quantum(0.0, 1.0) == 0.0 and hio.quantum(-1.0, 1.0) == 0.0
    assert hio.quantum(0.25, 2.0) == pytest.approx(1.0)      # fraction of the range 4
    assert hio.quantum(8.0, 2.0) == pytest.approx(0.5)       # 8 steps over 4
    assert IOConfig(inp_res=14.0).inp_step == pytest.approx(IOConfig(inp_res=1 / 14).inp_step)


@pytest.mark.parametrize("bits", [3, 4, 5])
def test_dac_levels_and_clipping(bits):
    cfg = clean(inp_res=1 / (2 ** bits - 2), inp_bound=1.0)
    x = np.linspace(-2.0, 2.0, 4001)[:, None]
    y = read(np.eye(1), x, cfg)[:, 0]
    levels = np.unique(y)
    assert levels.size == 2 ** bits - 1
    assert levels.min() == -1.0 and levels.max() == 1.0
    assert np.allclose(np.diff(levels), 2.0 / (2 ** bits - 2))
    inside = np.abs(x[:, 0]) <= 1.0
    assert np.all(np.abs(y[inside] - x[inside, 0]) <= 1.0 / (2 ** bits - 2) + 1e-12)


@pytest.mark.parametrize("bits", [3, 6])
def test_adc_levels_and_clipping(bits):
    cfg = clean(out_res=1 / (2 ** bits - 2), out_bound=3.0)
    x = np.linspace(-6.0, 6.0, 4001)[:, None]
    y = read(np.eye(1), x, cfg)[:, 0]
    levels = np.unique(y)
    assert levels.size == 2 ** bits - 1
    assert (levels.min(), levels.max()) == (-3.0, 3.0)
    assert np.all(y[x[:, 0] > 3.0] == 3.0) and np.all(y[x[:, 0] < -3.0] == -3.0)


def test_stochastic_rounding_is_unbiased_between_neighbours():
    step = 0.1
    v = np.full(20000, 0.537)
    q = hio.quantize(v.copy(), step, 10.0, sto_round=True, rng=rng(3))
    assert set(np.round(np.unique(q), 12)) == {0.5, 0.6}
    p = 0.37  # probability of rounding up
    se = step * math.sqrt(p * (1 - p) / v.size)
    assert abs(q.mean() - 0.537) < K_SIGMA * se


def test_stochastic_rounding_in_the_pipeline():
    cfg = clean(inp_res=1 / 10, inp_sto_round=True, inp_bound=1.0)
    y = read(np.eye(1), np.full((5000, 1), 0.33), cfg)[:, 0]
    assert set(np.round(np.unique(y), 12)) == {0.2, 0.4}
    p = 0.65
    assert abs(y.mean() - 0.33) < K_SIGMA * 0.2 * math.sqrt(p * (1 - p) / y.size)


# ---------------------------------------------------------------- noise
def test_output_noise_has_its_configured_spread():
    w = rng(1).uniform(-0.5, 0.5, (4, 6))
    x = rng(2).uniform(-2.0, 2.0, 6)
    alpha = np.abs(x).max()
    n = 4000
    cfg = clean(out_noise=0.1, noise_management="abs_max", inp_bound=1.0, out_bound=12.0)
    y = read(w, np.tile(x, (n, 1)), cfg, seed=5)
    sigma = 0.1 * alpha
    assert np.all(np.abs(y.mean(axis=0) - w @ x) < K_SIGMA * sigma / math.sqrt(n))
    pooled = ((y - y.mean(axis=0)) ** 2).sum() / (w.shape[0] * (n - 1))
    assert_variance(pooled, sigma ** 2, w.shape[0] * (n - 1))


def test_input_noise_spread():
    w = np.array([[1.0, -1.0, 0.5]])
    n = 4000
    cfg = clean(inp_noise=0.05)
    y = read(w, np.zeros((n, 3)), cfg, seed=6)[:, 0]
    # noise_management none: alpha = 1, so the output variance is inp_noise^2 sum w^2
    assert_variance(y.var(ddof=1), 0.05 ** 2 * (w ** 2).sum(), n - 1)


@pytest.mark.parametrize("kind", ["additive_constant", "pcm_read"])
def test_weight_noise_spread(kind):
    w = np.array([[0.5, -0.2, 0.1, 0.8], [0.0, 0.3, -0.6, 0.2]])
    x = np.array([0.5, -1.0, 0.25, 0.75])
    n = 4000
    cfg = clean(w_noise=0.05, w_noise_type=kind)
    y = read(w, np.tile(x, (n, 1)), cfg, seed=7)
    if kind == "additive_constant":
        var = 0.05 ** 2 * (x ** 2).sum() * np.ones(2)
    else:
        var = 0.05 ** 2 * (np.abs(w) @ (x ** 2))
    for i in range(2):
        assert_variance(y[:, i].var(ddof=1), var[i], n - 1)


def test_reads_are_deterministic_per_generator_state():
    w = rng(1).normal(size=(3, 5))
    x = rng(2).normal(size=(4, 5))
    cfg = IOConfig()
    assert np.array_equal(read(w, x, cfg, seed=9), read(w, x, cfg, seed=9))
    assert not np.array_equal(read(w, x, cfg, seed=9), read(w, x, cfg, seed=10))


# ---------------------------------------------------------------- noise management
def test_noise_management_scales():
    x = np.array([[0.5, -3.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -0.5], [0.2, 0.4, 0.1]])
    assert np.allclose(hio.input_scale(x, IOConfig()), [3.0, 0.0, 2.0, 0.4])
    assert np.allclose(hio.input_scale(x, IOConfig(noise_management="max")),
                       [1.0, 0.0, 2.0, 0.4])
    assert np.allclose(hio.input_scale(x, IOConfig(nm_thres=1.0)), [1.0, 0.0, 1.0, 0.4])
    assert np.allclose(hio.input_scale(x, IOConfig(noise_management="constant", nm_thres=2.5)),
                       2.5)
    assert np.allclose(hio.input_scale(x, IOConfig(noise_management="none")), 1.0)


def test_noise_management_recovers_inputs_beyond_the_dac_range():
    w = rng(3).uniform(-0.3, 0.3, (5, 8))
    x = rng(4).uniform(-10.0, 10.0, (6, 8))
    exact = x @ w.T
    bits = dict(inp_res=1 / 254, out_res=1 / 254, out_noise=0.0, bound_management="none")
    without = read(w, x, IOConfig(noise_management="none", **bits))
    managed = read(w, x, IOConfig(noise_management="abs_max", **bits))
    alpha = np.abs(x).max(axis=1, keepdims=True)
    # DAC error: half a quantum per input; ADC: half a quantum per output
    tol = alpha * (0.5 * (2 / 254) * np.abs(w).sum(axis=1) + 0.5 * (24 / 254)) + 1e-12
    assert np.all(np.abs(managed - exact) <= tol)
    assert np.abs(without - exact).max() > 10 * tol.max()


def test_zero_input_reads_zero():
    y = read(np.ones((2, 3)), np.zeros((1, 3)), IOConfig())
    assert np.array_equal(y, np.zeros((1, 2)))


# ---------------------------------------------------------------- bound management
def _clipping_case():
    w = np.full((3, 8), 0.9)
    x = np.ones((2, 8))
    x[1, ::2] = -1.0       # the second sample sums to 0 and does not clip
    return w, x, x @ w.T   # 7.2 and 0 per output


@pytest.mark.parametrize("kind", ["iterative", "iterative_worst_case"])
def test_bound_management_recovers_clipped_outputs(kind):
    w, x, exact = _clipping_case()
    base = dict(out_bound=2.0, inp_res=0.0, out_res=1 / 510, out_noise=0.0)
    clipped = read(w, x, IOConfig(bound_management="none", **base))
    assert np.allclose(clipped[0], 2.0)
    y, repeats = hio.mvm(w, x, IOConfig(bound_management=kind, **base), rng(0))
    step = 4.0 / 510
    # after a doubling by f, the ADC error of the rescaled output is f step / 2
    assert np.allclose(y[0], exact[0], atol=8 * step / 2 + 1e-12)
    assert np.allclose(y[1], exact[1], atol=step / 2 + 1e-12)
    if kind == "iterative":
        assert repeats == 2   # 7.2 clips at factors 1 and 2 (3.6); 4 gives 1.8 < 2
    else:
        assert repeats == 1


def test_bound_management_stops_at_its_limits():
    w = np.full((2, 4), 1e6)
    x = np.ones((3, 4))
    cfg = IOConfig(out_noise=0.0, inp_res=0.0, out_bound=1.0)
    _, repeats = hio.mvm(w, x, cfg, rng(0))
    assert repeats == 3 * 10          # factors 2 .. 1024: stop after exceeding 1000
    _, repeats = hio.mvm(w, x, cfg.replace(inp_res=1 / 126), rng(0))
    assert repeats == 3 * 5           # factors 2 .. 32: stop after exceeding 0.25 * 126
    _, repeats = hio.mvm(w, x, cfg.replace(max_bm_factor=1.0), rng(0))
    assert repeats == 3


def test_backward_reads_never_use_bound_management():
    w, x, _ = _clipping_case()
    cfg = IOConfig(out_bound=2.0, out_noise=0.0)
    y, repeats = hio.mvm(w, x, cfg, rng(0), backward=True)
    assert repeats == 0 and np.allclose(y[0], 2.0)


def test_backward_uses_unit_input_bound_under_noise_management():
    cfg = clean(noise_management="abs_max", inp_bound=0.5)
    x = np.array([[1.0, 0.5]])
    fwd = read(np.eye(2), x, cfg)
    bwd = read(np.eye(2), x, cfg, backward=True)
    assert np.allclose(fwd, [[0.5, 0.5]])     # x / alpha = 1 clipped to 0.5, times alpha
    assert np.allclose(bwd, x)


# ---------------------------------------------------------------- array effects
def _ir_drop_by_hand(w, x, ir, g_ratio):
    """Reference/devices.md section 7, written out with loops."""
    m, n = w.shape
    y = np.zeros(m)
    for i in range(m):
        a = (n / g_ratio) * sum(abs(w[i, j]) * abs(x[j]) for j in range(n))
        c = a * (a * (0.05 * a - 0.2) + 0.5)
        xp = [x[j] * (1 - (1 - j / n) ** 2) for j in range(n)]
        y[i] = sum(w[i, j] * x[j] for j in range(n)) - ir * c * sum(w[i, j] * xp[j]
                                                                    for j in range(n))
    return y


def test_ir_drop_follows_the_formula_and_reduces_outputs():
    w = rng(5).uniform(0.1, 1.0, (3, 6))
    x = rng(6).uniform(0.1, 1.0, 6)
    cfg = clean(ir_drop=1.0, ir_drop_g_ratio=20.0)
    y = read(w, x, cfg)[0]
    assert np.allclose(y, _ir_drop_by_hand(w, x, 1.0, 20.0), rtol=1e-12, atol=1e-12)
    assert np.all(y < w @ x)
    assert np.allclose(read(w, x, clean(ir_drop=0.0))[0], w @ x)


def test_output_nonlinearity():
    cfg = clean(out_nonlinearity=2.0, out_bound=4.0)
    x = np.array([[3.0], [-1.0]])
    y = read(np.eye(1), x, cfg)[:, 0]
    assert np.allclose(y, x[:, 0] / (1 + 0.5 * np.abs(x[:, 0])))


def test_perfect_io_is_the_exact_product():
    w = rng(7).normal(size=(4, 5))
    x = rng(8).normal(size=(3, 5)) * 100
    assert np.array_equal(read(w, x, IOConfig.perfect()), x @ w.T)


def test_out_scale():
    y = read(np.eye(2), [[1.0, -2.0]], clean(out_scale=0.5))
    assert np.allclose(y, [[0.5, -1.0]])
