"""Shared fixtures and statistical helpers of the device tests.

Every statistical assertion compares an estimate with its expectation within ``K_SIGMA``
standard errors, the standard error derived from the configured variance (never fitted to
the observed data), with fixed seeds so that a run is reproducible.
"""

import math

import numba
import numpy as np
import pytest

import devices as D

K_SIGMA = 5.0

#: Non-trivial, valid settings of each family's own parameters (shared ones at defaults).
FAMILY_KWARGS = {
    "ConstantStep": {},
    "LinearStep": {"gamma_up": 0.5, "gamma_down": 0.3},
    "SoftBounds": {},
    "ExpStep": {},
    "PowStep": {"pow_gamma": 1.5},
    "PiecewiseStep": {"piecewise_up": (1.2, 1.0, 0.8), "piecewise_down": (0.7, 1.0, 1.3)},
    "SoftBoundsReference": {},
}

FAMILY_NAMES = tuple(F.__name__ for F in D.FAMILIES)
assert set(FAMILY_NAMES) == set(FAMILY_KWARGS), "a family was added: give it FAMILY_KWARGS"


def family_class(name):
    return getattr(D, name)


def make_model(name, **overrides):
    """The family ``name`` with its FAMILY_KWARGS, updated by ``overrides``."""
    kwargs = dict(FAMILY_KWARGS[name])
    kwargs.update(overrides)
    return family_class(name)(**kwargs)


def additive_c2c(model):
    """True where the family's cycle-to-cycle noise is additive (``dw (f + sigma xi)``)."""
    if isinstance(model, (D.LinearStep, D.SoftBoundsReference)):
        return not model.mult_noise
    if isinstance(model, D.ExpStep):
        return model.dw_min_std_add != 0.0 or model.dw_min_std_slope != 0.0
    return False


@pytest.fixture(params=FAMILY_NAMES)
def family(request):
    """Name of each device family in turn."""
    return request.param


@pytest.fixture
def restore_threads():
    """Restore numba's thread count after a test that changes it."""
    before = numba.get_num_threads()
    yield before
    numba.set_num_threads(before)


# --------------------------------------------------------------------- statistics
def assert_mean(values, mean, sd, k=K_SIGMA, what="mean"):
    """Sample mean of iid ``values`` equals ``mean`` within k sd/sqrt(n)."""
    values = np.asarray(values, dtype=float).ravel()
    n = values.size
    se = sd / math.sqrt(n)
    got = values.mean()
    assert abs(got - mean) <= k * se, (
        f"{what}: got {got!r}, expected {mean!r} +- {k} x {se:.3g} (n={n})")


def assert_sum_zero(diffs, sds, k=K_SIGMA, what="sum of deviations"):
    """Independent deviations with per-element standard deviations ``sds`` sum to ~0."""
    diffs = np.asarray(diffs, dtype=float)
    sds = np.broadcast_to(np.asarray(sds, dtype=float), diffs.shape).ravel()
    diffs = diffs.ravel()
    se = math.sqrt(float(np.sum(sds ** 2)))
    z = float(diffs.sum()) / se
    assert abs(z) <= k, f"{what}: z = {z:.2f} (|z| must be <= {k})"


def std_rel_tol(n, k=K_SIGMA):
    """k standard errors of the sample std of n normal draws, relative to sigma (chi)."""
    return k / math.sqrt(2.0 * (n - 1))


def assert_std(values, sigma, k=K_SIGMA, what="std", excess_kurtosis=0.0):
    """Sample std of iid ``values`` equals ``sigma`` within the chi tolerance.

    ``excess_kurtosis`` widens the tolerance for non-normal data
    (Var[s^2] = sigma^4 (2/(n-1) + kappa/n)).
    """
    values = np.asarray(values, dtype=float).ravel()
    n = values.size
    got = values.std(ddof=1)
    rel = k * math.sqrt(2.0 / (n - 1) + excess_kurtosis / n) / 2.0  # se of s from se of s^2
    assert abs(got / sigma - 1.0) <= rel, (
        f"{what}: got {got!r}, expected {sigma!r} within {rel:.3%} (n={n})")


def assert_fraction(count, n, p, k=K_SIGMA, what="fraction"):
    """A Binomial(n, p) count is within k standard deviations of n p."""
    sd = math.sqrt(n * p * (1.0 - p))
    assert abs(count - n * p) <= k * sd, (
        f"{what}: {count} of {n}, expected {n * p:.1f} +- {k} x {sd:.2f}")
