"""Tests of devices.response.pulse_response and PulseResponse."""

import dataclasses
import math

import numpy as np
import pytest

import devices
from devices.response import PulseResponse, pulse_response

# device-to-device spreads off: every cell is the mean device
NO_D2D = dict(dw_min_dtod=0.0, w_min_dtod=0.0, w_max_dtod=0.0, up_down_dtod=0.0)


def soft_bounds(**kw):
    params = dict(dw_min=0.01, up_down=0.2, w_min=-0.5, w_max=0.8, dw_min_std=0.3, **NO_D2D)
    params.update(kw)
    return devices.SoftBounds(**params)


def soft_bounds_closed_form(model, n_up, n_down):
    """Noise-free soft-bounds trajectory from w_min: geometric approach to each bound.

    One up pulse maps ``w -> w + dw_up (1 - w/b_max)``, so ``b_max - w`` shrinks by the
    factor ``1 - dw_up/b_max`` per pulse; a down pulse shrinks ``w - b_min`` by
    ``1 + dw_down/b_min`` (``b_min < 0``).
    """
    dw_up = model.dw_min * (1.0 + min(model.up_down, 0.0))
    dw_down = model.dw_min * (1.0 - max(model.up_down, 0.0))
    lo, hi = model.w_min, model.w_max
    up = hi - (hi - lo) * (1.0 - dw_up / hi) ** np.arange(n_up + 1)
    down = lo + (up[-1] - lo) * (1.0 + dw_down / lo) ** np.arange(1, n_down + 1)
    return np.concatenate([up, down])


def test_noise_free_soft_bounds_follows_closed_form():
    model = soft_bounds()
    resp = pulse_response(model, 150, 200, cells=7, seed=3, noise=False)
    assert isinstance(resp, PulseResponse)
    np.testing.assert_array_equal(resp.pulses, [1] * 150 + [-1] * 200)
    assert resp.mean.shape == resp.std.shape == (351,)
    assert resp.trajectories.shape == (351, 7)
    np.testing.assert_allclose(resp.mean, soft_bounds_closed_form(model, 150, 200),
                               rtol=0, atol=1e-12)
    # no d2d and no c2c: every cell is the same (std only sees rounding of the mean)
    np.testing.assert_array_equal(resp.trajectories, resp.trajectories[:, :1].repeat(7, 1))
    np.testing.assert_allclose(resp.std, 0.0, atol=1e-15)
    assert resp.model is model


def test_noise_spreads_the_cells_by_the_c2c_spread():
    model = soft_bounds()
    cells = 400
    resp = pulse_response(model, 20, 20, cells=cells, seed=1)
    # all cells start on the same (unspread) bound, then every pulse adds noise
    assert np.all(resp.trajectories[0] == model.w_min)
    assert np.all(resp.std[1:] > 0.0)
    # first step from b_min: dw_up (1 - b_min/b_max)(1 + sigma xi), so its spread over
    # cells is dw_up (1 - b_min/b_max) sigma; a sample std of n normals has relative
    # standard error ~ 1/sqrt(2 n), allowed 5 of them
    expect = model.dw_min * (1.0 - model.w_min / model.w_max) * model.dw_min_std
    assert resp.std[1] == pytest.approx(expect, rel=5.0 / math.sqrt(2 * cells))


def test_constant_step_mean_first_step_is_dw_min():
    cells = 2000
    model = devices.ConstantStep(dw_min=0.01, dw_min_dtod=0.2, dw_min_std=0.2,
                                 up_down_dtod=0.01, w_min_dtod=0.0, w_max_dtod=0.0)
    # from w = 0 no cell is near a bound, so no step is clipped
    resp = pulse_response(model, 1, 0, cells=cells, seed=11, w0=0.0)
    step = resp.mean[1] - resp.mean[0]
    # per cell: dw (1 + dtod xi + up_down_dtod eta)(1 + std zeta), mean dw, variance
    # dw^2 [(1 + dtod^2 + up_down_dtod^2)(1 + std^2) - 1]; the sign flip of a negative
    # d2d factor (enforce_consistency) needs xi < -5, negligible here
    var = ((1 + model.dw_min_dtod ** 2 + model.up_down_dtod ** 2)
           * (1 + model.dw_min_std ** 2) - 1) * model.dw_min ** 2
    tol = 5.0 * math.sqrt(var / cells)
    assert tol < 0.05 * model.dw_min  # the check can tell a 5 % error
    assert abs(step - model.dw_min) < tol


def test_start_weights():
    model = devices.SoftBounds()  # default spreads: every cell has its own bounds
    arr = model.realize((1, 30), seed=5)
    lo = pulse_response(model, 1, 1, cells=30, seed=5, w0="min")
    hi = pulse_response(model, 1, 1, cells=30, seed=5, w0="MAX")
    np.testing.assert_array_equal(lo.trajectories[0], arr.bmin[0])
    np.testing.assert_array_equal(hi.trajectories[0], arr.bmax[0])
    clipped = pulse_response(model, 1, 1, cells=30, seed=5, w0=10.0)
    np.testing.assert_array_equal(clipped.trajectories[0], arr.bmax[0])
    mid = pulse_response(model, 1, 1, cells=30, seed=5, w0=0.1)
    np.testing.assert_array_equal(mid.trajectories[0], np.clip(0.1, arr.bmin, arr.bmax)[0])


def test_same_seed_same_result_and_read_only():
    model = soft_bounds()
    a = pulse_response(model, 10, 5, cells=20, seed=2)
    b = pulse_response(model, 10, 5, cells=20, seed=2)
    c = pulse_response(model, 10, 5, cells=20, seed=3)
    np.testing.assert_array_equal(a.trajectories, b.trajectories)
    assert not np.array_equal(a.trajectories, c.trajectories)
    for arr in (a.pulses, a.mean, a.std, a.trajectories):
        assert not arr.flags.writeable
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.mean = None


def test_num_states():
    model = devices.ConstantStep(dw_min=0.01, w_min=-0.5, w_max=0.5, **NO_D2D)
    resp = pulse_response(model, 150, 10, cells=3, noise=False)
    assert resp.num_states() == pytest.approx(model.num_states, rel=1e-9)
    assert (resp.n_up, resp.n_down) == (150, 10)
    # soft bounds: the first step from b_min is the largest, so fewer states than nominal
    soft = pulse_response(soft_bounds(), 1000, 0, cells=3, noise=False)
    assert soft.num_states() < soft_bounds().num_states
    with pytest.raises(devices.DeviceError, match="n_up"):
        pulse_response(model, 0, 5, cells=3, noise=False).num_states()
    with pytest.raises(devices.DeviceError, match="upper bound"):
        pulse_response(model, 5, 5, cells=3, noise=False, w0="max").num_states()


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(n_up=-1), devices.DeviceError, "n_up"),
    (dict(n_down=-2), devices.DeviceError, "n_down"),
    (dict(n_up=1.5), TypeError, "n_up"),
    (dict(n_up=0, n_down=0), devices.DeviceError, "n_up \\+ n_down"),
    (dict(cells=0), devices.DeviceError, "cells"),
    (dict(w0="middle"), devices.DeviceError, "w0"),
    (dict(w0=True), TypeError, "w0"),
    (dict(w0=float("nan")), devices.DeviceError, "w0"),
    (dict(noise=1), TypeError, "noise"),
    (dict(seed=-1), devices.DeviceError, "seed"),
])
def test_bad_arguments_name_the_parameter(kwargs, error, name):
    args = dict(model=soft_bounds(), n_up=3, n_down=3, cells=2)
    args.update(kwargs)
    with pytest.raises(error, match=name):
        pulse_response(**args)


def test_model_must_be_a_device():
    with pytest.raises(TypeError, match="model"):
        pulse_response(devices.SoftBounds, 3, 3)
