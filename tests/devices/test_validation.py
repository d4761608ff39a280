"""Bad input fails early with a ValueError/TypeError whose message names the parameter."""

import dataclasses
import re

import numpy as np
import pytest

import devices as D
from devices.update import UpdateParameters

from conftest import FAMILY_NAMES, family_class

NAN, INF = float("nan"), float("inf")


def _float_fields(cls):
    return [f.name for f in dataclasses.fields(cls) if f.type in (float, "float")]


def _bool_fields(cls):
    return [f.name for f in dataclasses.fields(cls) if f.type in (bool, "bool")]


FLOAT_CASES = [(n, f) for n in FAMILY_NAMES for f in _float_fields(family_class(n))]
BOOL_CASES = [(n, f) for n in FAMILY_NAMES for f in _bool_fields(family_class(n))]


def _names(name):
    """Match the parameter as a word (dw_min must not be satisfied by dw_min_dtod alone)."""
    return rf"\b{re.escape(name)}\b"


# ------------------------------------------------------------------ model parameters
@pytest.mark.parametrize("family,field", FLOAT_CASES, ids=[f"{n}.{f}" for n, f in FLOAT_CASES])
@pytest.mark.parametrize("bad", [NAN, INF, -INF], ids=["nan", "inf", "-inf"])
def test_non_finite_parameter_is_rejected(family, field, bad):
    with pytest.raises(ValueError, match=_names(field)):
        family_class(family)(**{field: bad})


@pytest.mark.parametrize("family,field", FLOAT_CASES, ids=[f"{n}.{f}" for n, f in FLOAT_CASES])
def test_non_number_parameter_is_a_type_error(family, field):
    with pytest.raises(TypeError, match=_names(field)):
        family_class(family)(**{field: "0.1"})


@pytest.mark.parametrize("family,field", BOOL_CASES, ids=[f"{n}.{f}" for n, f in BOOL_CASES])
def test_non_bool_flag_is_a_type_error(family, field):
    with pytest.raises(TypeError, match=_names(field)):
        family_class(family)(**{field: 1})


@pytest.mark.parametrize("family", FAMILY_NAMES)
@pytest.mark.parametrize("value", [-0.001, 0.0])
def test_dw_min_must_be_positive(family, value):
    with pytest.raises(ValueError, match=_names("dw_min")):
        family_class(family)(dw_min=value)


@pytest.mark.parametrize("field", ["dw_min_dtod", "dw_min_std", "w_min_dtod", "w_max_dtod",
                                   "up_down_dtod", "write_noise_std", "lifetime",
                                   "lifetime_dtod", "reset_dtod", "reset_std", "diffusion",
                                   "diffusion_dtod", "corrupt_devices_prob",
                                   "corrupt_devices_range"])
def test_negative_spread_is_rejected(field):
    with pytest.raises(ValueError, match=_names(field)):
        D.ConstantStep(**{field: -0.1})


@pytest.mark.parametrize("family", FAMILY_NAMES)
@pytest.mark.parametrize("w_min,w_max", [(0.6, 0.6), (0.7, 0.6), (-0.2, -0.5)])
def test_w_min_must_be_below_w_max(family, w_min, w_max):
    with pytest.raises(ValueError, match=r"w_min.*w_max"):
        family_class(family)(w_min=w_min, w_max=w_max)


@pytest.mark.parametrize("w_min,w_max", [(0.1, 0.6), (-0.6, -0.1)])
def test_bounds_must_include_zero(w_min, w_max):
    with pytest.raises(ValueError, match=r"w_min.*w_max"):
        D.ConstantStep(w_min=w_min, w_max=w_max)


def test_other_range_checks():
    with pytest.raises(ValueError, match=_names("corrupt_devices_prob")):
        D.ConstantStep(corrupt_devices_prob=1.5)
    with pytest.raises(ValueError, match=_names("lifetime")):
        D.ConstantStep(lifetime=0.5)
    with pytest.raises(ValueError, match=_names("pow_gamma")):
        D.PowStep(pow_gamma=-1.0)
    with pytest.raises(ValueError, match=r"piecewise_up"):
        D.PiecewiseStep(piecewise_up=(1.0, NAN), piecewise_down=(1.0, 1.0))
    with pytest.raises(ValueError, match=r"piecewise_down"):
        D.PiecewiseStep(piecewise_up=(1.0, 1.0), piecewise_down=(1.0, -0.5))
    with pytest.raises(ValueError, match=r"piecewise_up.*piecewise_down"):
        D.PiecewiseStep(piecewise_up=(1.0, 1.0), piecewise_down=(1.0,))
    with pytest.raises(ValueError, match=r"piecewise_up"):
        D.PiecewiseStep(piecewise_up=(), piecewise_down=())
    with pytest.raises(TypeError, match=r"piecewise_up"):
        D.PiecewiseStep(piecewise_up=1.0)


def test_replace_validates_again():
    model = D.ConstantStep()
    with pytest.raises(ValueError, match=_names("dw_min")):
        model.replace(dw_min=NAN)


def test_base_class_cannot_be_instantiated():
    with pytest.raises(TypeError, match="PulsedDevice"):
        D.PulsedDevice()


def test_models_are_frozen():
    model = D.ConstantStep()
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.dw_min = 0.1


def test_device_error_is_a_value_error():
    assert issubclass(D.DeviceError, ValueError)


# ------------------------------------------------------------------ update parameters
@pytest.mark.parametrize("kwargs,exc,name", [
    ({"desired_bl": 0}, ValueError, "desired_bl"),
    ({"desired_bl": -3}, ValueError, "desired_bl"),
    ({"desired_bl": 1.5}, TypeError, "desired_bl"),
    ({"desired_bl": 1 << 20}, ValueError, "desired_bl"),
    ({"fixed_bl": "yes"}, TypeError, "fixed_bl"),
    ({"update_bl_management": 0}, TypeError, "update_bl_management"),
    ({"update_management": None}, TypeError, "update_management"),
    ({"um_grad_scale": 0.0}, ValueError, "um_grad_scale"),
    ({"um_grad_scale": NAN}, ValueError, "um_grad_scale"),
    ({"pulse_type": "deterministic"}, ValueError, "pulse_type"),
])
def test_bad_update_parameters(kwargs, exc, name):
    with pytest.raises(exc, match=_names(name)):
        UpdateParameters(**kwargs)


# ------------------------------------------------------------------ realize
@pytest.mark.parametrize("shape,exc", [
    ((0, 3), ValueError), ((3, -1), ValueError), ((2, 3, 4), ValueError), ((5,), ValueError),
    ("ab", ValueError), ((2.0, 3), TypeError), ((True, 3), TypeError), (0, ValueError),
    (None, ValueError),
])
def test_bad_realize_shape(shape, exc):
    with pytest.raises(exc, match="shape"):
        D.ConstantStep().realize(shape, seed=0)


@pytest.mark.parametrize("seed,exc", [(-1, ValueError), (1.5, TypeError), ("1", TypeError),
                                      (2 ** 63, ValueError)])
def test_bad_seed(seed, exc):
    with pytest.raises(exc, match=_names("seed")):
        D.ConstantStep().realize((2, 2), seed=seed)


# ------------------------------------------------------------------ array methods
@pytest.fixture
def arr():
    return D.ConstantStep().realize((4, 3), seed=0)


@pytest.mark.parametrize("x,d,name", [
    (np.ones(4), np.ones(4), "x"),             # x has the row count
    (np.ones(3), np.ones(3), "d"),             # d has the column count
    (np.ones((2, 3)), np.ones((3, 4)), "batch"),
    (np.ones((1, 1, 3)), np.ones(4), "x"),
    (np.ones(3), np.ones((1, 2, 4)), "d"),
    (np.array([1.0, NAN, 0.0]), np.ones(4), "x"),
    (np.ones(3), np.array([0.0, 1.0, INF, 0.0]), "d"),
])
def test_bad_update_inputs(arr, x, d, name):
    w0 = arr.hidden_weights
    with pytest.raises(ValueError, match=_names(name)):
        arr.update(x, d, 0.01)
    np.testing.assert_array_equal(arr.hidden_weights, w0)


@pytest.mark.parametrize("lr,exc", [(NAN, ValueError), (INF, ValueError), (-0.1, ValueError),
                                    ("0.1", TypeError), (None, TypeError)])
def test_bad_learning_rate(arr, lr, exc):
    with pytest.raises(exc, match=_names("lr")):
        arr.update(np.ones(3), np.ones(4), lr)


def test_update_params_must_be_update_parameters(arr):
    with pytest.raises(TypeError, match=_names("params")):
        arr.update(np.ones(3), np.ones(4), 0.01, params={"desired_bl": 3})


@pytest.mark.parametrize("weights", [np.zeros((3, 4)), np.zeros(12), np.zeros((4, 3, 1)),
                                     np.full((4, 3), NAN), [[0.0] * 3] * 3])
def test_bad_set_weights(arr, weights):
    with pytest.raises(ValueError, match=_names("weights")):
        arr.set_weights(weights)


def test_set_weights_rejects_a_single_nan(arr):
    w = np.zeros((4, 3))
    w[2, 1] = NAN
    with pytest.raises(ValueError, match=r"weights.*\(2, 1\)"):
        arr.set_weights(w)


@pytest.mark.parametrize("n,exc", [(np.ones((3, 4), dtype=np.int64), ValueError),
                                   (np.ones(4, dtype=np.int64), ValueError),
                                   (1.0, TypeError), (np.ones((4, 3)), TypeError)])
def test_bad_pulse_counts(arr, n, exc):
    with pytest.raises(exc, match=r"\bn\b"):
        arr.pulse(n)


def test_pulse_broadcasts_rows_and_columns(arr):
    assert arr.pulse(np.array([1, 0, 2])) == (12, 0)
    assert arr.pulse(np.array([[1], [0], [0], [-1]])) == (3, 3)


@pytest.mark.parametrize("dirs", [np.array([1, 2]), np.array([-3]),
                                  np.ones((2, 2), dtype=int)])
def test_bad_pulse_train(arr, dirs):
    with pytest.raises(ValueError, match="directions"):
        arr.pulse_train(dirs)


@pytest.mark.parametrize("dirs", [np.array([1.0, NAN]), np.array([0.6, -1.0])],
                         ids=["nan", "fraction"])
def test_pulse_train_rejects_non_integer_directions(arr, dirs):
    """A NaN or fractional direction must not be cast silently to some pulse (or none)."""
    w0 = arr.hidden_weights
    with pytest.raises((ValueError, TypeError), match="directions"):
        arr.pulse_train(dirs)
    np.testing.assert_array_equal(arr.hidden_weights, w0)


def test_bad_reset_mask(arr):
    with pytest.raises(ValueError, match="mask"):
        arr.reset(np.ones((3, 4), dtype=bool))


def test_reset_mask_rejects_nan(arr):
    """A NaN mask must not be read as True (resetting every cell)."""
    arr.set_weights(np.full((4, 3), 0.3))
    with pytest.raises((ValueError, TypeError), match="mask"):
        arr.reset(np.full((4, 3), NAN))
    np.testing.assert_array_equal(arr.hidden_weights, np.minimum(0.3, arr.bmax))


@pytest.mark.parametrize("method", ["decay", "diffuse"])
@pytest.mark.parametrize("scale,exc", [(NAN, ValueError), (-1.0, ValueError), ("1", TypeError)])
def test_bad_slow_process_scale(arr, method, scale, exc):
    with pytest.raises(exc, match="scale"):
        getattr(arr, method)(scale)
