"""Realisation: device-to-device spreads, c2c spread, bounds, corrupt devices.

Sample standard deviations are compared with the configured spread within the chi
tolerance ``5 / sqrt(2 (n - 1))`` (relative), means within ``5 sd / sqrt(n)``.
"""

import math

import numpy as np
import pytest

import devices as D

from conftest import assert_fraction, assert_mean, assert_std, make_model

BIG = (200, 200)


# ------------------------------------------------------------------ step spreads
@pytest.mark.parametrize("name", ["ConstantStep", "LinearStep", "SoftBounds", "ExpStep",
                                  "PowStep", "PiecewiseStep", "SoftBoundsReference"])
def test_dw_min_dtod_spread(name):
    dw_min, dtod = 0.002, 0.2
    arr = make_model(name, dw_min=dw_min, dw_min_dtod=dtod, up_down_dtod=0.0).realize(BIG, 1)
    for steps in (arr.dw_up, arr.dw_down):
        assert_mean(steps / dw_min, 1.0, dtod, what="mean realised step / dw_min")
        assert_std(steps / dw_min, dtod, what="std(realised step) / dw_min")
    # the same gain drives both directions
    np.testing.assert_allclose(arr.dw_up, arr.dw_down, rtol=1e-12)


def test_dw_min_dtod_log_normal():
    dw_min, dtod = 0.001, 0.3
    arr = D.ConstantStep(dw_min=dw_min, dw_min_dtod=dtod, dw_min_dtod_log_normal=True,
                         up_down_dtod=0.0).realize(BIG, 2)
    logs = np.log(arr.dw_up / dw_min)
    assert_mean(logs, 0.0, dtod, what="mean log gain")
    assert_std(logs, dtod, what="std log gain")


def test_up_down_dtod_spread():
    """dw_up - dw_down = 2 dw_min r with r = up_down_dtod xi (absolute, in dw_min)."""
    dw_min, ud_dtod = 0.001, 0.05
    arr = D.ConstantStep(dw_min=dw_min, dw_min_dtod=0.1, up_down_dtod=ud_dtod).realize(BIG, 3)
    r = (arr.dw_up - arr.dw_down) / (2.0 * dw_min)
    assert_mean(r, 0.0, ud_dtod, what="mean asymmetry draw")
    assert_std(r, ud_dtod, what="std asymmetry draw")


@pytest.mark.parametrize("up_down", [0.3, -0.3, 0.0])
def test_asymmetry_of_realised_steps(up_down):
    dw_min = 0.001
    arr = D.ConstantStep(dw_min=dw_min, dw_min_dtod=0.1, up_down=up_down,
                         up_down_dtod=0.0).realize((50, 40), 4)
    gain = (arr.dw_up + arr.dw_down) / (2 * dw_min) + abs(up_down) / 2.0
    np.testing.assert_allclose(arr.dw_up, dw_min * (gain + min(up_down, 0.0)), rtol=1e-12)
    np.testing.assert_allclose(arr.dw_down, dw_min * (gain - max(up_down, 0.0)), rtol=1e-12)


def test_enforce_consistency_keeps_steps_positive_and_zero_inside_bounds():
    model = D.ConstantStep(dw_min_dtod=1.5, w_min_dtod=1.5, w_max_dtod=1.5, up_down=0.5)
    arr = model.realize((100, 100), 5)
    assert np.all(arr.dw_up >= 0) and np.all(arr.dw_down >= 0)
    assert np.all(arr.bmin <= 0) and np.all(arr.bmax >= 0)
    assert np.all(arr.bmin <= arr.bmax)


def test_without_enforce_consistency_crossed_bounds_are_stuck_at_midpoint():
    model = D.ConstantStep(enforce_consistency=False, w_min_dtod=1.5, w_max_dtod=1.5)
    arr = model.realize((60, 60), 6)
    assert np.all(arr.bmin <= arr.bmax)
    dead = arr.bmin == arr.bmax
    assert dead.any()
    w0 = arr.hidden_weights
    arr.pulse(100)
    np.testing.assert_array_equal(arr.hidden_weights[dead], w0[dead])


# ------------------------------------------------------------------ bounds
def test_bounds_spread():
    w_min, w_max, dmin, dmax = -0.8, 0.5, 0.15, 0.25
    arr = D.ConstantStep(w_min=w_min, w_max=w_max, w_min_dtod=dmin,
                         w_max_dtod=dmax).realize(BIG, 7)
    assert_mean(arr.bmax / w_max, 1.0, dmax, what="mean bmax / w_max")
    assert_std(arr.bmax / w_max, dmax, what="std bmax / w_max")
    assert_mean(arr.bmin / w_min, 1.0, dmin, what="mean bmin / w_min")
    assert_std(arr.bmin / w_min, dmin, what="std bmin / w_min")
    # independent draws
    rho = np.corrcoef(arr.bmin.ravel(), arr.bmax.ravel())[0, 1]
    assert abs(rho) < 5.0 / math.sqrt(arr.bmin.size)


def test_bounds_without_spread_are_exact_and_weights_start_at_zero(family):
    arr = make_model(family, w_min=-0.3, w_max=0.7, w_min_dtod=0.0,
                     w_max_dtod=0.0).realize((5, 6), 8)
    np.testing.assert_array_equal(arr.bmin, -0.3)
    np.testing.assert_array_equal(arr.bmax, 0.7)
    np.testing.assert_array_equal(arr.hidden_weights, 0.0)
    np.testing.assert_array_equal(arr.weights, 0.0)
    assert arr.shape == (5, 6) and arr.hidden_weights.shape == (5, 6)


def test_integer_shape_is_one_row():
    arr = D.ConstantStep().realize(7, seed=0)
    assert arr.shape == (1, 7) and arr.weights.shape == (1, 7)


# ------------------------------------------------------------------ c2c
def test_c2c_spread_of_single_pulses():
    """d2d-free ConstantStep: each pulse is dw_min (1 + dw_min_std xi), fresh every call."""
    dw_min, sigma = 0.001, 0.3
    arr = D.ConstantStep(dw_min=dw_min, dw_min_dtod=0.0, up_down_dtod=0.0,
                         dw_min_std=sigma).realize((50, 40), 9)
    np.testing.assert_array_equal(arr.dw_up, dw_min)
    rounds = []
    for up in (True, False, True, False):
        arr.set_weights(np.zeros(arr.shape))
        arr.pulse(1 if up else -1)
        rounds.append(np.abs(arr.hidden_weights) / dw_min)
    steps = np.stack(rounds)
    assert_mean(steps, 1.0, sigma, what="mean step / dw_min")
    assert_std(steps, sigma, what="std step / dw_min")
    # every call draws anew: consecutive rounds are uncorrelated
    for a, b in zip(rounds[:-1], rounds[1:]):
        rho = np.corrcoef(a.ravel(), b.ravel())[0, 1]
        assert abs(rho) < 5.0 / math.sqrt(a.size)


def test_c2c_pulses_of_a_train_are_independent():
    """n pulses in one call: the sum of n steps has variance n (sigma dw)^2."""
    dw_min, sigma, n = 0.001, 0.5, 9
    arr = D.ConstantStep(dw_min=dw_min, dw_min_dtod=0.0, up_down_dtod=0.0,
                         dw_min_std=sigma).realize((50, 40), 10)
    arr.pulse(n)
    total = arr.hidden_weights / dw_min
    assert_mean(total, n, sigma * math.sqrt(n), what="mean of n steps")
    assert_std(total, sigma * math.sqrt(n), what="std of n steps")


# ------------------------------------------------------------------ other d2d spreads
def test_lifetime_reset_and_diffusion_spreads():
    model = D.ConstantStep(lifetime=100.0, lifetime_dtod=0.2, reset=0.05, reset_dtod=0.02,
                           diffusion=0.01, diffusion_dtod=0.3)
    arr = model.realize(BIG, 11)
    life = 1.0 / arr.decay_rate
    assert_mean(life / 100.0, 1.0, 0.2, what="mean lifetime")
    assert_std(life / 100.0, 0.2, what="std lifetime")
    assert_mean(arr.reset_bias, 0.05, 0.02, what="mean reset bias")
    assert_std(arr.reset_bias, 0.02, what="std reset bias (additive)")
    assert np.all(arr.diffusion_rate >= 0)
    assert_mean(arr.diffusion_rate / 0.01, 1.0, 0.3, what="mean diffusion rate")
    assert_std(arr.diffusion_rate / 0.01, 0.3, what="std diffusion rate")


def test_no_lifetime_means_no_decay_rate():
    arr = D.ConstantStep(lifetime=0.0, lifetime_dtod=0.3).realize((4, 4), 0)
    np.testing.assert_array_equal(arr.decay_rate, 0.0)


# ------------------------------------------------------------------ corrupt devices
def test_corrupt_device_fraction_and_values():
    p, rng_ = 0.2, 0.1
    arr = D.ConstantStep(corrupt_devices_prob=p, corrupt_devices_range=rng_).realize(BIG, 12)
    stuck = arr.bmin == arr.bmax
    assert_fraction(int(stuck.sum()), stuck.size, p, what="stuck devices")
    vals = arr.bmin[stuck]
    assert np.all(np.abs(vals) <= rng_)
    # default bounds are wider than the range, so the stuck value is uniform on +-range
    assert_mean(vals, 0.0, 2 * rng_ / math.sqrt(12), what="mean stuck value")
    assert_std(vals, 2 * rng_ / math.sqrt(12), what="std stuck value", excess_kurtosis=-1.2)
    np.testing.assert_array_equal(arr.dw_up[stuck], 0.0)
    np.testing.assert_array_equal(arr.dw_down[stuck], 0.0)
    np.testing.assert_array_equal(arr.hidden_weights[stuck], vals)


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_corrupt_device_extremes(p):
    arr = D.ConstantStep(corrupt_devices_prob=p).realize((10, 10), 13)
    assert np.mean(arr.bmin == arr.bmax) == p


def test_corrupt_devices_do_not_move(family):
    """Stuck cells keep their value under pulses, updates, diffusion and reset."""
    model = make_model(family, corrupt_devices_prob=0.3, diffusion=0.01, reset_std=0.05,
                       dw_min=0.01)
    arr = model.realize((20, 20), 14)
    stuck = arr.bmin == arr.bmax
    assert 0 < stuck.sum() < stuck.size
    w0 = arr.hidden_weights
    arr.pulse(200)
    arr.pulse(-500)
    gen = np.random.default_rng(0)
    arr.update(gen.normal(size=(8, 20)), gen.normal(size=(8, 20)), 0.05)
    arr.diffuse()
    w1 = arr.hidden_weights
    assert np.all(w1[~stuck] != w0[~stuck])
    arr.reset()
    w2 = arr.hidden_weights
    np.testing.assert_array_equal(w1[stuck], w0[stuck])
    np.testing.assert_array_equal(w2[stuck], w0[stuck])


def test_corrupt_devices_do_not_move_under_decay():
    """A stuck device (bmin == bmax) stays stuck when the decay target lies elsewhere."""
    model = D.ConstantStep(corrupt_devices_prob=0.5, lifetime=10.0)
    arr = model.realize((20, 20), 15)
    stuck = arr.bmin == arr.bmax
    w0 = arr.hidden_weights
    arr.decay()
    np.testing.assert_array_equal(arr.hidden_weights[stuck], w0[stuck])
