"""Pulsed outer-product update, pulse probabilities, write noise, decay, diffusion, reset.

Tolerances of the pulsed update come from the binomial coincidence count: per sample the
count of cell (i, j) is Binomial(BL, p_ij), p_ij = p_x,j p_d,i, each pulse a step
``dw (1 + sigma xi)``, so the change summed over R samples has variance
``R dw^2 BL p (1 - p + sigma^2)``.
"""

import math

import numpy as np
import pytest

import devices as D
from devices.update import UpdateParameters, pulse_probabilities

from conftest import K_SIGMA, assert_mean, assert_std, make_model

EPS = 0.001


def _xd(n_in, n_out, seed=0, batch=1):
    gen = np.random.default_rng(seed)
    x = gen.uniform(0.2, 1.0, (batch, n_in)) * gen.choice([-1.0, 1.0], (batch, n_in))
    d = gen.uniform(0.2, 1.0, (batch, n_out)) * gen.choice([-1.0, 1.0], (batch, n_out))
    return x, d


def _expected_counts(x, d, lr, eps):
    """lr |x_j| |d_i| / eps, shape (batch, n_out, n_in)."""
    return lr * np.abs(d)[:, :, None] * np.abs(x)[:, None, :] / eps


def _slot_product_var(px, pd):
    """Variance of (sum_j X_j)(sum_i D_i) in one slot, X_j ~ Bern(px_j), D_i ~ Bern(pd_i).

    The coincidences of all cells in one slot; the x and d lines are independent.
    """
    sx, sd = px.sum(), pd.sum()
    vx, vd = np.sum(px * (1 - px)), np.sum(pd * (1 - pd))
    return (vx + sx ** 2) * (vd + sd ** 2) - sx ** 2 * sd ** 2


def _counts(bl, p_x, p_d):
    return bl[:, None, None] * p_d[:, :, None] * p_x[:, None, :]


# ------------------------------------------------------------------ pulse probabilities
def test_bl_management_shortens_train_to_ceil_k():
    x, d = _xd(6, 5, seed=1, batch=3)
    x[1] *= 0.1  # a sample with a smaller k
    lr = 0.004
    params = UpdateParameters()  # desired_bl 31, BL management and update management on
    bl, p_x, p_d = pulse_probabilities(x, d, lr, EPS, params)
    k = lr * np.abs(x).max(axis=1) * np.abs(d).max(axis=1) / EPS
    assert np.all(k < params.desired_bl)
    np.testing.assert_array_equal(bl, np.ceil(k).astype(np.int64))
    np.testing.assert_allclose(_counts(bl, p_x, p_d), _expected_counts(x, d, lr, EPS),
                               rtol=1e-12)
    # both trains equally dense, at most 1
    np.testing.assert_allclose(p_x.max(axis=1), np.sqrt(k / bl), rtol=1e-12)
    np.testing.assert_allclose(p_d.max(axis=1), np.sqrt(k / bl), rtol=1e-12)


def test_bl_management_clips_when_k_exceeds_desired_bl():
    """k > BL: x side at probability <= 1 (max exactly 1), d side saturates at 1."""
    x, d = _xd(6, 5, seed=2)
    lr = 0.2
    params = UpdateParameters(desired_bl=10)
    bl, p_x, p_d = pulse_probabilities(x, d, lr, EPS, params)
    xmax, dmax = np.abs(x).max(), np.abs(d).max()
    k = lr * xmax * dmax / EPS
    assert k > 10 and bl[0] == 10
    assert p_x.max() == pytest.approx(1.0, abs=1e-12)
    assert p_d.max() == 1.0
    assert np.sum(p_d == 1.0) >= 1
    assert np.all(p_x <= 1.0) and np.all(p_d <= 1.0)
    np.testing.assert_allclose(p_x[0], np.abs(x[0]) / xmax, rtol=1e-12)
    # mean count per cell: the target where it fits, BL |x_j| / max|x| where d saturates
    want = np.minimum(_expected_counts(x, d, lr, EPS)[0],
                      10 * np.abs(x[0])[None, :] / xmax)
    np.testing.assert_allclose(_counts(bl, p_x, p_d)[0], want, rtol=1e-12)
    assert _counts(bl, p_x, p_d).max() == pytest.approx(10.0)  # clipped from k


def test_update_management_off_uses_equal_scales():
    x, d = _xd(6, 5, seed=3)
    lr = 0.01
    params = UpdateParameters(update_bl_management=False, update_management=False)
    bl, p_x, p_d = pulse_probabilities(x, d, lr, EPS, params)
    scale = math.sqrt(lr / (EPS * 31))
    assert bl[0] == 31
    np.testing.assert_allclose(p_x, scale * np.abs(x), rtol=1e-12)
    np.testing.assert_allclose(p_d, scale * np.abs(d), rtol=1e-12)


@pytest.mark.parametrize("g", [1.0, 4.0])
def test_update_management_balances_the_trains(g):
    x, d = _xd(6, 5, seed=4)
    d *= 0.2
    lr = 0.01
    params = UpdateParameters(update_bl_management=False, um_grad_scale=g)
    bl, p_x, p_d = pulse_probabilities(x, d, lr, EPS, params)
    xmax, dmax = np.abs(x).max(), np.abs(d).max()
    scale = math.sqrt(lr / (EPS * 31))
    np.testing.assert_allclose(p_x, scale * math.sqrt(g * dmax / xmax) * np.abs(x), rtol=1e-12)
    np.testing.assert_allclose(p_d, scale * math.sqrt(xmax / (g * dmax)) * np.abs(d),
                               rtol=1e-12)
    np.testing.assert_allclose(_counts(bl, p_x, p_d), _expected_counts(x, d, lr, EPS),
                               rtol=1e-12)


def test_bl_management_forces_update_management_on():
    x, d = _xd(6, 5, seed=5)
    d *= 0.3
    a = pulse_probabilities(x, d, 0.01, EPS, UpdateParameters(update_management=False))
    b = pulse_probabilities(x, d, 0.01, EPS, UpdateParameters(update_management=True))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_not_fixed_bl_grows_the_train_for_a_large_lr():
    x, d = _xd(6, 5, seed=6)
    params = UpdateParameters(desired_bl=4, fixed_bl=False, update_bl_management=False,
                              update_management=False)
    lr = 0.0123  # > EPS * desired_bl
    bl, p_x, p_d = pulse_probabilities(x, d, lr, EPS, params)
    assert bl[0] == math.ceil(lr / EPS)
    assert p_x.max() <= 1.0 and p_d.max() <= 1.0
    np.testing.assert_allclose(_counts(bl, p_x, p_d), _expected_counts(x, d, lr, EPS),
                               rtol=1e-12)
    # a small lr keeps desired_bl
    bl, _, _ = pulse_probabilities(x, d, 0.002, EPS, params)
    assert bl[0] == 4
    # fixed_bl keeps desired_bl even for the large lr, and the probabilities clip at 1
    fixed = UpdateParameters(desired_bl=4, update_bl_management=False, update_management=False)
    bl, p_x, p_d = pulse_probabilities(x * 0 + 1.0, d * 0 + 1.0, lr, EPS, fixed)
    assert bl[0] == 4 and p_x.max() == 1.0 and p_d.max() == 1.0


def test_zero_sample_gets_no_train():
    x, d = _xd(4, 3, seed=7, batch=3)
    x[0] = 0.0
    d[2] = 0.0
    bl, p_x, p_d = pulse_probabilities(x, d, 0.01, EPS, UpdateParameters())
    assert bl[0] == 0 and bl[2] == 0 and bl[1] > 0
    assert np.all(np.isfinite(p_x)) and np.all(np.isfinite(p_d))


# ------------------------------------------------------------------ expected update
LINEAR_DEVICE = dict(dw_min=EPS, dw_min_dtod=0.0, up_down_dtod=0.0, dw_min_std=0.3,
                     w_min=-10.0, w_max=10.0, w_min_dtod=0.0, w_max_dtod=0.0)

UPDATE_CONFIGS = {
    "bl-management": UpdateParameters(),
    "um-only": UpdateParameters(update_bl_management=False),
    "no-management": UpdateParameters(update_bl_management=False, update_management=False),
    "not-fixed-bl": UpdateParameters(desired_bl=4, fixed_bl=False, update_bl_management=False,
                                     update_management=False),
}


@pytest.mark.parametrize("config", list(UPDATE_CONFIGS))
def test_expected_pulsed_update_is_minus_lr_outer(config):
    """Linear regime: the change summed over R samples is unbiased for -lr R outer(d, x)."""
    params = UPDATE_CONFIGS[config]
    model = D.ConstantStep(**LINEAR_DEVICE)
    rows, cols, R, lr, sigma = 50, 40, 1000, 0.01, LINEAR_DEVICE["dw_min_std"]
    arr = model.realize((rows, cols), seed=31)
    x0, d0 = _xd(cols, rows, seed=8)
    x, d = np.repeat(x0, R, axis=0), np.repeat(d0, R, axis=0)
    bl, p_x, p_d = pulse_probabilities(x0, d0, lr, model.granularity, params)
    p = p_d[0][:, None] * p_x[0][None, :]
    assert p.max() <= 1.0 and p_x.max() <= 1.0 and p_d.max() <= 1.0  # nothing clipped
    n_up, n_down = arr.update(x, d, lr, params)
    change = arr.hidden_weights
    target = -lr * R * np.outer(d0[0], x0[0])
    var = R * EPS ** 2 * bl[0] * p * (1.0 - p + sigma ** 2)
    z = (change - target) / np.sqrt(var)
    assert np.abs(z).max() <= K_SIGMA + 0.5, "a cell's update is off by more than 5.5 sigma"
    # totals: cells sharing an x or a d train are correlated, so use the slot-wise variance
    slots = R * bl[0]
    px, pd = p_x[0], p_d[0]
    moved = np.sum(np.sign(target) * change) / EPS  # total steps toward the target
    mean_c = slots * px.sum() * pd.sum()
    var_c = slots * _slot_product_var(px, pd)
    assert mean_c == pytest.approx(np.abs(target).sum() / EPS, rel=1e-12)
    assert abs(moved - mean_c) <= K_SIGMA * math.sqrt(var_c + sigma ** 2 * mean_c), \
        f"total movement {moved:.0f} steps, expected {mean_c:.0f}"
    assert abs(n_up + n_down - mean_c) <= K_SIGMA * math.sqrt(var_c)
    # directions: a coincidence moves against sign(x_j d_i)
    xp, xn = px * (x0[0] > 0), px * (x0[0] < 0)
    dp, dn = pd * (d0[0] > 0), pd * (d0[0] < 0)
    want_up = slots * (xp.sum() * dn.sum() + xn.sum() * dp.sum())
    var_up = slots * (_slot_product_var(xp, dn) + _slot_product_var(xn, dp))
    assert abs(n_up - want_up) <= K_SIGMA * math.sqrt(var_up)
    assert tuple(arr.pulse_counts) == (n_up, n_down)


def test_repeated_single_sample_updates_average_to_the_target():
    """Separate update calls (weights reset each time) draw fresh trains and average right."""
    model = D.ConstantStep(**LINEAR_DEVICE)
    rows, cols, K, lr, sigma = 10, 8, 400, 0.01, LINEAR_DEVICE["dw_min_std"]
    arr = model.realize((rows, cols), seed=33)
    x0, d0 = _xd(cols, rows, seed=11)
    bl, p_x, p_d = pulse_probabilities(x0, d0, lr, EPS, UpdateParameters())
    p = p_d[0][:, None] * p_x[0][None, :]
    total = np.zeros((rows, cols))
    changes = []
    for _ in range(K):
        arr.set_weights(np.zeros((rows, cols)))
        arr.update(x0[0], d0[0], lr)
        changes.append(arr.hidden_weights)
        total += changes[-1]
    target = -lr * K * np.outer(d0[0], x0[0])
    var = K * EPS ** 2 * bl[0] * p * (1.0 - p + sigma ** 2)
    z = (total - target) / np.sqrt(var)
    assert np.abs(z).max() <= K_SIGMA + 0.5
    assert not np.array_equal(changes[0], changes[1])


def test_update_sign_convention():
    model = D.ConstantStep(**LINEAR_DEVICE)
    arr = model.realize((3, 2), seed=1)
    n_up, n_down = arr.update(np.array([1.0, 1.0]), np.array([1.0, 1.0, 1.0]), 0.01)
    assert n_up == 0 and n_down > 0 and np.all(arr.hidden_weights <= 0)
    arr.set_weights(np.zeros((3, 2)))
    n_up, n_down = arr.update(np.array([1.0, 1.0]), np.array([-1.0, -1.0, -1.0]), 0.01)
    assert n_down == 0 and n_up > 0 and np.all(arr.hidden_weights >= 0)


def test_pulse_counts_follow_the_granularity(family):
    """E[#coincidences] = lr |x_j||d_i| / granularity in every family."""
    model = make_model(family)
    rows, cols, R, lr = 20, 15, 500, 0.005
    arr = model.realize((rows, cols), seed=32)
    x0, d0 = _xd(cols, rows, seed=9)
    x, d = np.repeat(x0, R, axis=0), np.repeat(d0, R, axis=0)
    g = model.granularity
    bl, p_x, p_d = pulse_probabilities(x0, d0, lr, g, UpdateParameters())
    p = p_d[0][:, None] * p_x[0][None, :]
    assert p.max() <= 1.0
    want = R * lr * np.sum(np.abs(np.outer(d0, x0))) / g
    np.testing.assert_allclose(R * bl[0] * p.sum(), want, rtol=1e-12)
    sd = math.sqrt(R * bl[0] * _slot_product_var(p_x[0], p_d[0]))
    got = sum(arr.update(x, d, lr))
    assert abs(got - want) <= K_SIGMA * sd, f"{got} coincidences, expected {want:.1f} +- {sd:.1f}"


def test_zero_lr_and_zero_inputs_do_nothing():
    arr = D.ConstantStep().realize((4, 3), seed=2)
    w0 = arr.hidden_weights
    assert arr.update(np.ones(3), np.ones(4), 0.0) == (0, 0)
    assert arr.update(np.zeros(3), np.ones(4), 0.1) == (0, 0)
    assert arr.update(np.ones(3), np.zeros(4), 0.1) == (0, 0)
    np.testing.assert_array_equal(arr.hidden_weights, w0)


def test_float_pulse_types():
    model = D.ConstantStep(w_min=-0.1, w_max=0.1, w_min_dtod=0.0, w_max_dtod=0.0)
    x, d = _xd(5, 4, seed=10, batch=3)
    lr = 0.2
    exact = -lr * d.T @ x
    arr = model.realize((4, 5), seed=3)
    assert arr.update(x, d, lr, UpdateParameters(pulse_type="none")) == (0, 0)
    np.testing.assert_allclose(arr.hidden_weights, exact, rtol=1e-12)
    assert np.abs(exact).max() > 0.1  # "none" ignores the bounds
    arr = model.realize((4, 5), seed=3)
    arr.update(x, d, lr, UpdateParameters(pulse_type="none_with_device"))
    np.testing.assert_allclose(arr.hidden_weights, np.clip(exact, -0.1, 0.1), rtol=1e-12)


# ------------------------------------------------------------------ write noise
WN = dict(write_noise_std=3.0, dw_min=0.001, dw_min_std=0.0, dw_min_dtod=0.1,
          up_down_dtod=0.0)


def test_write_noise_on_set_and_its_statistics():
    model = D.ConstantStep(**WN)
    arr = model.realize((100, 100), seed=40)
    assert arr.has_write_noise
    w = np.random.default_rng(0).uniform(-0.3, 0.3, arr.shape)
    arr.set_weights(w)
    np.testing.assert_array_equal(arr.hidden_weights, np.clip(w, arr.bmin, arr.bmax))
    noise = arr.weights - arr.hidden_weights
    sd = WN["write_noise_std"] * WN["dw_min"]
    assert_mean(noise, 0.0, sd, what="mean write noise")
    assert_std(noise, sd, what="std write noise")
    arr.set_weights(w, write_noise=False)
    np.testing.assert_array_equal(arr.weights, arr.hidden_weights)
    quiet = D.ConstantStep(apply_write_noise_on_set=False, **WN).realize((10, 10), seed=40)
    quiet.set_weights(np.full((10, 10), 0.1))
    np.testing.assert_array_equal(quiet.weights, quiet.hidden_weights)


def test_pulse_redraws_write_noise_of_touched_cells_only():
    model = D.ConstantStep(**WN)
    arr = model.realize((100, 100), seed=41)
    arr.set_weights(np.zeros(arr.shape))
    before = arr.weights
    old_noise = before - arr.hidden_weights
    n = np.where(np.random.default_rng(1).random(arr.shape) < 0.5, 3, 0)
    touched = n != 0
    arr.pulse(n)
    after, hidden = arr.weights, arr.hidden_weights
    np.testing.assert_array_equal(after[~touched], before[~touched])
    new_noise = (after - hidden)[touched]
    sd = WN["write_noise_std"] * WN["dw_min"]
    assert_std(new_noise, sd, what="std of redrawn write noise")
    rho = np.corrcoef(new_noise, old_noise[touched])[0, 1]
    assert abs(rho) < K_SIGMA / math.sqrt(new_noise.size)


def test_write_noise_leaves_hidden_weights_alone():
    """Hidden evolution is the same with and without write noise (noise-free steps)."""
    noisy = D.ConstantStep(**WN).realize((20, 20), seed=42)
    clean = D.ConstantStep(**{**WN, "write_noise_std": 0.0}).realize((20, 20), seed=42)
    n = np.random.default_rng(2).integers(-5, 6, size=(20, 20))
    for arr in (noisy, clean):
        arr.set_weights(np.full((20, 20), 0.01))
        arr.pulse(n)
        arr.pulse(-2)
    np.testing.assert_array_equal(noisy.hidden_weights, clean.hidden_weights)
    np.testing.assert_array_equal(clean.weights, clean.hidden_weights)
    assert np.all(noisy.weights != noisy.hidden_weights)


def test_update_redraws_write_noise_of_touched_cells_only():
    arr = D.ConstantStep(**WN).realize((6, 5), seed=43)
    before = arr.weights
    x = np.array([0.5, 0.0, -0.7, 0.0, 1.0])  # columns 1 and 3 get no pulse
    arr.update(np.repeat(x[None], 20, axis=0), np.ones((20, 6)), 0.01)
    after = arr.weights
    np.testing.assert_array_equal(after[:, [1, 3]], before[:, [1, 3]])
    assert np.all(after[:, [0, 2, 4]] != before[:, [0, 2, 4]])


@pytest.mark.parametrize("op", ["clip", "decay", "diffuse", "reset"])
def test_slow_processes_redraw_write_noise_everywhere(op):
    arr = D.ConstantStep(lifetime=10.0, diffusion=1e-4, **WN).realize((30, 30), seed=44)
    arr.set_weights(np.full((30, 30), 0.01))
    old = arr.weights - arr.hidden_weights
    getattr(arr, op)()
    new = arr.weights - arr.hidden_weights
    assert np.all(new != old)
    assert_std(new, WN["write_noise_std"] * WN["dw_min"], what=f"write noise after {op}")


def test_weights_are_copies():
    arr = D.ConstantStep(**WN).realize((3, 3), seed=45)
    w, h = arr.weights, arr.hidden_weights
    w[...] = 5.0
    h[...] = 5.0
    assert np.all(arr.weights != 5.0) and np.all(arr.hidden_weights != 5.0)


# ------------------------------------------------------------------ decay
def test_decay_toward_reset_bias_with_lifetime():
    L, b = 10.0, 0.05
    model = D.ConstantStep(lifetime=L, reset=b, reset_dtod=0.0, w_min_dtod=0.0,
                           w_max_dtod=0.0)
    arr = model.realize((10, 10), seed=50)
    w0 = np.random.default_rng(3).uniform(-0.5, 0.5, arr.shape)
    arr.set_weights(w0)
    for n in range(1, 4):
        arr.decay()
        np.testing.assert_allclose(arr.hidden_weights, (w0 - b) * (1 - 1 / L) ** n + b,
                                   rtol=1e-12)
    arr.set_weights(w0)
    arr.decay(scale=0.5)
    np.testing.assert_allclose(arr.hidden_weights, (w0 - b) * (1 - 0.5 / L) + b, rtol=1e-12)
    for _ in range(400):
        arr.decay()
    np.testing.assert_allclose(arr.hidden_weights, b, atol=1e-12)


def test_decay_follows_per_cell_lifetime_and_bias():
    model = D.ConstantStep(lifetime=20.0, lifetime_dtod=0.3, reset=0.0, reset_dtod=0.05)
    arr = model.realize((20, 20), seed=51)
    arr.set_weights(np.random.default_rng(4).uniform(-0.2, 0.2, arr.shape))
    w0 = arr.hidden_weights  # clipped into each cell's bounds
    arr.decay()
    want = (w0 - arr.reset_bias) * (1 - arr.decay_rate) + arr.reset_bias
    np.testing.assert_allclose(arr.hidden_weights, want, rtol=1e-12)


def test_no_lifetime_no_decay():
    arr = D.ConstantStep(lifetime=0.0).realize((5, 5), seed=52)
    arr.set_weights(np.full((5, 5), 0.2))
    arr.decay()
    np.testing.assert_array_equal(arr.hidden_weights, 0.2)


def test_decay_with_explicit_rate_ignores_lifetime():
    """A rule's weight decay: uniform rate toward each cell's own reset bias."""
    model = D.ConstantStep(lifetime=0.0, reset=0.0, reset_dtod=0.05)
    arr = model.realize((10, 10), seed=54)
    arr.set_weights(np.random.default_rng(5).uniform(-0.3, 0.3, arr.shape))
    w0 = arr.hidden_weights
    arr.decay(rate=0.1)
    np.testing.assert_allclose(arr.hidden_weights,
                               (w0 - arr.reset_bias) * 0.9 + arr.reset_bias, rtol=1e-12)
    with pytest.raises(ValueError, match="rate"):
        arr.decay(rate=1.5)


def test_decay_keeps_weights_within_bounds():
    """A decay target beyond a cell's bound must not carry the weight past the bound."""
    model = D.ConstantStep(lifetime=2.0, reset=0.0, reset_dtod=1.0, w_min=-0.2, w_max=0.2,
                           w_min_dtod=0.0, w_max_dtod=0.0)
    arr = model.realize((20, 20), seed=53)
    assert np.any(np.abs(arr.reset_bias) > 0.2)
    for _ in range(5):
        arr.decay()
    w = arr.hidden_weights
    assert np.all(w >= arr.bmin) and np.all(w <= arr.bmax)


# ------------------------------------------------------------------ diffusion
def test_diffusion_std_per_call():
    rho = 0.01
    model = D.ConstantStep(diffusion=rho, diffusion_dtod=0.0)
    arr = model.realize((100, 100), seed=60)
    np.testing.assert_array_equal(arr.diffusion_rate, rho)
    arr.diffuse()
    step = arr.hidden_weights
    assert_mean(step, 0.0, rho, what="mean diffusion step")
    assert_std(step, rho, what="std of one diffusion call")
    for _ in range(3):
        arr.diffuse()
    assert_std(arr.hidden_weights, 2 * rho, what="std after 4 calls")
    arr.set_weights(np.zeros(arr.shape))
    arr.diffuse(scale=0.5)
    assert_std(arr.hidden_weights, 0.5 * rho, what="std of a half-scale call")


def test_diffusion_is_clipped_and_off_by_default():
    arr = D.ConstantStep(diffusion=1.0).realize((20, 20), seed=61)
    arr.diffuse()
    w = arr.hidden_weights
    assert np.all(w >= arr.bmin) and np.all(w <= arr.bmax)
    assert np.any(w == arr.bmax) and np.any(w == arr.bmin)
    quiet = D.ConstantStep().realize((4, 4), seed=61)
    quiet.diffuse()
    np.testing.assert_array_equal(quiet.hidden_weights, 0.0)


# ------------------------------------------------------------------ reset
def test_reset_to_reset_value_with_reset_std():
    b, s = 0.1, 0.02
    arr = D.ConstantStep(reset=b, reset_std=s, reset_dtod=0.0, w_min_dtod=0.0,
                         w_max_dtod=0.0).realize((100, 100), seed=70)
    arr.reset()
    w = arr.hidden_weights
    assert_mean(w, b, s, what="mean after reset")
    assert_std(w, s, what="std after reset")
    first = w
    arr.reset()
    assert np.all(arr.hidden_weights != first)  # a fresh draw per reset


def test_reset_mask_and_exact_reset():
    arr = D.ConstantStep(reset=0.05, reset_std=0.0, reset_dtod=0.01).realize((10, 10), 71)
    arr.set_weights(np.full((10, 10), -0.3))
    mask = np.zeros((10, 10), dtype=bool)
    mask[::3, 1::2] = True
    arr.reset(mask)
    w = arr.hidden_weights
    np.testing.assert_array_equal(w[mask], arr.reset_bias[mask])
    np.testing.assert_array_equal(w[~mask], np.maximum(-0.3, arr.bmin)[~mask])


def test_reset_is_clipped_to_bounds():
    arr = D.ConstantStep(reset=0.5, reset_std=0.0, w_max=0.3, w_max_dtod=0.0).realize((5, 5), 72)
    arr.reset()
    np.testing.assert_array_equal(arr.hidden_weights, arr.bmax)
