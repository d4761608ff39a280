"""Tests of devices.fit.fit: recovery of known parameters and input checks."""

import dataclasses
import math

import numba
import numpy as np
import pytest

import devices
from devices.fit import FitResult, fit
from devices.response import pulse_response


def mean_device(family, **params):
    """A family instance with every d2d and c2c spread 0."""
    spreads = {f.name: 0.0 for f in dataclasses.fields(family)
               if f.name.endswith(("_dtod", "_std"))}
    return family(**{**spreads, **params})


def noise_free(model, n_up, n_down, w0="min"):
    """Programme and trajectory of one noise-free cell."""
    resp = pulse_response(model, n_up, n_down, cells=1, noise=False, w0=w0)
    return resp.pulses, resp.mean


def assert_recovers(result, truth, names, rtol=1e-6):
    assert isinstance(result, FitResult)
    for name in names:
        assert result.params[name] == pytest.approx(getattr(truth, name), rel=rtol), name
    assert result.r2 > 1 - 1e-9
    assert result.nrmse < 1e-6


BASE = ("dw_min", "up_down", "w_min", "w_max")

# each programme saturates at both bounds, so every fitted parameter shows in the data
RECOVERY_CASES = {
    "SoftBounds": (mean_device(devices.SoftBounds, dw_min=0.01, up_down=0.2, w_min=-0.5,
                               w_max=0.8), 400, BASE),
    "SoftBounds-negative-asymmetry": (
        mean_device(devices.SoftBounds, dw_min=0.005, up_down=-0.3, w_min=-0.7, w_max=0.4),
        700, BASE),
    "LinearStep": (mean_device(devices.LinearStep, dw_min=0.01, up_down=0.1, w_min=-0.5,
                               w_max=0.6, gamma_up=0.4, gamma_down=0.7), 250,
                   BASE + ("gamma_up", "gamma_down")),
    "PowStep": (mean_device(devices.PowStep, dw_min=0.01, up_down=0.1, w_min=-0.5,
                            w_max=0.6, pow_gamma=1.8, pow_up_down=0.2), 400,
                BASE + ("pow_gamma", "pow_up_down")),
    # a = 1, b = 0 are the values fit holds, so A and gamma are the model's own
    "ExpStep": (mean_device(devices.ExpStep, dw_min=0.005, up_down=-0.15, w_min=-0.6,
                            w_max=0.6, a=1.0, b=0.0, A_up=0.02, A_down=0.05, gamma_up=3.0,
                            gamma_down=2.0), 400,
                BASE + ("A_up", "A_down", "gamma_up", "gamma_down")),
    "ConstantStep": (mean_device(devices.ConstantStep, dw_min=0.01, up_down=0.3, w_min=-0.4,
                                 w_max=0.7), 200, BASE),
    "SoftBoundsReference": (mean_device(devices.SoftBoundsReference, dw_min=0.01,
                                        up_down=-0.1, w_min=-0.6, w_max=0.5), 400, BASE),
}


@pytest.mark.parametrize("case", sorted(RECOVERY_CASES))
def test_recovers_noise_free_parameters(case):
    truth, n, names = RECOVERY_CASES[case]
    pulses, weights = noise_free(truth, n, n)
    result = fit(type(truth), pulses, weights)
    assert sorted(result.params) == sorted(names)
    assert_recovers(result, truth, names)
    assert result.success


def test_exp_step_with_other_a_b_fixed():
    truth = mean_device(devices.ExpStep, dw_min=0.005, up_down=0.1, w_min=-0.6, w_max=0.6)
    pulses, weights = noise_free(truth, 300, 300, w0=0.0)
    result = fit(devices.ExpStep, pulses, weights, fixed={"a": truth.a, "b": truth.b})
    assert_recovers(result, truth, BASE + ("A_up", "A_down", "gamma_up", "gamma_down"))
    assert (result.model.a, result.model.b) == (truth.a, truth.b)


def test_exp_step_held_a_b_give_the_same_trajectory():
    # written with the family's a, b: fit holds a = 1, b = 0 and reaches the same
    # trajectory through A_up exp(gamma_up b), A_down exp(-gamma_down b) and gamma a
    truth = mean_device(devices.ExpStep, dw_min=0.005, up_down=0.1, w_min=-0.6, w_max=0.6)
    pulses, weights = noise_free(truth, 300, 300)
    result = fit(devices.ExpStep, pulses, weights)
    assert (result.model.a, result.model.b) == (1.0, 0.0)
    assert result.r2 > 1 - 1e-9
    for d, sign in (("up", 1.0), ("down", -1.0)):
        a_name, g_name = f"A_{d}", f"gamma_{d}"
        gamma = getattr(truth, g_name)
        assert result.params[a_name] == pytest.approx(
            getattr(truth, a_name) * math.exp(sign * gamma * truth.b), rel=1e-5)
        assert result.params[g_name] == pytest.approx(gamma * truth.a, rel=1e-5)


def test_piecewise_recovers_the_step_curve():
    up, down = (1.5, 1.2, 1.0, 0.6, 0.3), (0.4, 0.7, 1.0, 1.1, 1.3)
    truth = mean_device(devices.PiecewiseStep, dw_min=0.01, w_min=-0.5, w_max=0.6,
                        piecewise_up=up, piecewise_down=down)
    pulses, weights = noise_free(truth, 200, 200)
    result = fit(devices.PiecewiseStep, pulses, weights)
    assert sorted(result.params) == ["piecewise_down", "piecewise_up", "w_max", "w_min"]
    assert result.r2 > 1 - 1e-9
    # dw_min is held, so the nodes come out in its units: compare the steps
    for name, nodes in (("piecewise_up", up), ("piecewise_down", down)):
        np.testing.assert_allclose(np.multiply(result.params[name], result.model.dw_min),
                                   np.multiply(nodes, truth.dw_min), rtol=1e-6)
    assert result.params["w_min"] == pytest.approx(truth.w_min, rel=1e-6)
    assert result.params["w_max"] == pytest.approx(truth.w_max, rel=1e-6)


def test_noisy_population_mean_soft_bounds():
    truth = devices.SoftBounds(dw_min=0.01, up_down=0.2, w_min=-0.5, w_max=0.8,
                               dw_min_std=0.3, dw_min_dtod=0.0, w_min_dtod=0.0,
                               w_max_dtod=0.0, up_down_dtod=0.0)
    resp = pulse_response(truth, 300, 300, cells=200, seed=0)
    result = fit(devices.SoftBounds, resp.pulses, resp.mean)
    # Soft bounds are linear in w and the c2c noise is multiplicative with mean 0, so the
    # expected mean trajectory is the noise-free one: the fit is unbiased and its error
    # is the noise of a 200-cell mean. Over seeds 0..99 the fit errors had standard
    # deviations 2.3e-5 (dw_min), 2.6e-3 (up_down), 3.5e-4 (w_min), 5.2e-4 (w_max) and
    # means within 3 standard errors of 0; the tolerances are 5 standard deviations.
    tol = {"dw_min": 1.2e-4, "up_down": 0.013, "w_min": 1.8e-3, "w_max": 2.6e-3}
    for name, t in tol.items():
        assert abs(result.params[name] - getattr(truth, name)) < t, name
    assert result.r2 > 0.9999
    assert result.nrmse < 5e-3


def test_result_model_prediction_and_fixed():
    truth = RECOVERY_CASES["SoftBounds"][0]
    pulses, weights = noise_free(truth, 400, 400)
    result = fit("soft_bounds", pulses, weights, fixed={"w_max": truth.w_max},
                 initial={"dw_min": 0.02, "up_down": 0.0})
    assert "w_max" not in result.params
    assert result.model.w_max == truth.w_max
    assert_recovers(result, truth, ("dw_min", "up_down", "w_min"))
    # the model is the mean device, and its trajectory is the prediction
    for f in dataclasses.fields(result.model):
        if f.name.endswith(("_dtod", "_std")):
            assert getattr(result.model, f.name) == 0.0, f.name
    np.testing.assert_array_equal(result.prediction, noise_free(result.model, 400, 400)[1])
    assert result.rmse == pytest.approx(np.sqrt(np.mean((result.prediction - weights) ** 2)))


@pytest.mark.parametrize("name", ["SoftBounds", "softbounds", "SoftBoundsDevice",
                                  "soft_bounds"])
def test_family_by_name(name):
    truth = RECOVERY_CASES["SoftBounds"][0]
    pulses, weights = noise_free(truth, 50, 50)
    assert type(fit(name, pulses, weights).model) is devices.SoftBounds


def test_fit_leaves_numba_thread_count_alone():
    before = numba.get_num_threads()
    pulses, weights = noise_free(RECOVERY_CASES["ConstantStep"][0], 20, 20)
    fit(devices.ConstantStep, pulses, weights)
    assert numba.get_num_threads() == before


PULSES = np.array([1, 1, 1, -1, -1])
WEIGHTS = np.array([0.0, 0.1, 0.2, 0.3, 0.2, 0.1])


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(pulses=[1, 2, 1, -1, -1]), ValueError, "pulses.*found 2 at index 1"),
    (dict(pulses=[1, 0, 1, -1, -1]), ValueError, "pulses"),
    (dict(pulses=[]), ValueError, "pulses"),
    (dict(pulses=[[1, -1]]), ValueError, "pulses"),
    (dict(weights=WEIGHTS[:-1]), ValueError, "weights must have len\\(pulses\\) \\+ 1 = 6"),
    (dict(weights=np.r_[WEIGHTS[:3], np.nan, WEIGHTS[4:]]), ValueError,
     "weights must be finite"),
    (dict(weights="abc"), TypeError, "weights"),
    (dict(family="SoftBoundz"), ValueError, "family must name a device family"),
    (dict(family=3), TypeError, "family"),
    (dict(family=devices.PulsedDevice), TypeError, "family"),
    (dict(fixed={"w_maxx": 1.0}), ValueError, "fixed.*w_maxx"),
    (dict(fixed={"dw_min_std": 0.1}), ValueError, "fixed.*dw_min_std"),
    (dict(fixed={"w_max": -1.0}), ValueError, "w_max"),
    (dict(fixed=[("w_max", 1.0)]), TypeError, "fixed"),
    (dict(initial={"gamma_up": 1.0}), ValueError, "initial.*gamma_up"),
    (dict(initial={"dw_min": -1.0}), ValueError, "initial.*dw_min"),
    (dict(initial={"dw_min": "big"}), TypeError, "initial.*dw_min"),
    (dict(initial={"w_max": 1.0}, fixed={"w_max": 1.0}), ValueError, "w_max"),
])
def test_bad_input_names_the_parameter(kwargs, error, match):
    args = dict(family=devices.SoftBounds, pulses=PULSES, weights=WEIGHTS)
    args.update(kwargs)
    family = args.pop("family")
    with pytest.raises(error, match=match):
        fit(family, **args)


def test_piecewise_node_counts_must_agree():
    with pytest.raises(ValueError, match="same"):
        fit(devices.PiecewiseStep, PULSES, WEIGHTS, initial={"piecewise_up": (1.0, 1.0)},
            fixed={"piecewise_down": (1.0, 1.0, 1.0)})
