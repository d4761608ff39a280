"""Per-pulse laws: mean steps, asymmetry convention, bounds, symmetry point.

The reference formulas below are written from reference/devices.md sections 2-3, not from
devices/laws.py, and evaluated with numpy on each cell's realised parameters.
"""

import numpy as np
import pytest

import devices as D

from conftest import additive_c2c, assert_std, assert_sum_zero, make_model

SHAPE = (50, 40)


# ------------------------------------------------------------------ reference laws
def reference_step(model, arr, w, up):
    """Noise-free change of one pulse by the published equations (dtod-free extras)."""
    dw = arr.dw_up if up else arr.dw_down
    bmin, bmax = arr.bmin, arr.bmax
    sign = 1.0 if up else -1.0
    if type(model) is D.ConstantStep:
        s = dw
    elif isinstance(model, D.LinearStep):  # includes SoftBounds
        if model.mean_bound_reference:
            ref = model.w_max if up else model.w_min
        else:
            ref = bmax if up else bmin
        gamma = model.gamma_up if up else model.gamma_down
        gamma = gamma if model.allow_increasing else abs(gamma)
        s = dw * (1.0 - gamma * w / ref)
    elif isinstance(model, D.ExpStep):
        z = 2.0 * model.a * w / (bmax - bmin) + model.b
        if up:
            y = 1.0 - model.A_up * np.exp(model.gamma_up * z)
        else:
            y = 1.0 - model.A_down * np.exp(-model.gamma_down * z)
        s = np.maximum(y, 0.0) * dw
    elif isinstance(model, D.PowStep):
        omega = (bmax - w) / (bmax - bmin)
        beta = model.pow_up_down
        if up:
            g = model.pow_gamma * (1.0 + min(beta, 0.0))
            s = dw * omega ** g
        else:
            g = model.pow_gamma * (1.0 - max(beta, 0.0))
            s = dw * (1.0 - omega) ** g
    elif isinstance(model, D.PiecewiseStep):
        vals = np.asarray(model.piecewise_up if up else model.piecewise_down)
        n = len(vals)
        s = np.empty_like(w)
        for idx in np.ndindex(w.shape):
            nodes = np.linspace(bmin[idx], bmax[idx], n)
            s[idx] = dw[idx] * (np.interp(w[idx], nodes, vals) if n > 1 else vals[0])
    elif isinstance(model, D.SoftBoundsReference):
        ref = model.reference_mean
        v = w + ref
        vmax, vmin = bmax + ref, bmin + ref
        if up:
            f = np.where(vmax > 0, 1.0 - v / np.where(vmax > 0, vmax, 1.0), 1.0)
        else:
            f = np.where(vmin < 0, 1.0 - v / np.where(vmin < 0, vmin, 1.0), 1.0)
        s = dw * f
    else:  # pragma: no cover
        raise AssertionError(f"no reference law for {type(model).__name__}")
    return np.clip(w + sign * s, bmin, bmax) - w


LAW_MODELS = {
    "ConstantStep": D.ConstantStep(up_down=0.2),
    "LinearStep": D.LinearStep(gamma_up=0.4, gamma_down=0.7, gamma_up_dtod=0.0,
                               gamma_down_dtod=0.0),
    "LinearStep-own-bounds": D.LinearStep(gamma_up=0.4, gamma_down=0.7, gamma_up_dtod=0.0,
                                          gamma_down_dtod=0.0, mean_bound_reference=False),
    "LinearStep-increasing": D.LinearStep(gamma_up=-0.3, gamma_down=0.2, gamma_up_dtod=0.0,
                                          gamma_down_dtod=0.0, allow_increasing=True),
    "SoftBounds": D.SoftBounds(up_down=-0.1),
    "ExpStep": D.ExpStep(),
    "ExpStep-preset-like": D.ExpStep(a=-0.5, b=-0.5, gamma_up=5.0, gamma_down=5.0,
                                     A_up=-1.18445, A_down=-0.081404, w_min=-1.0, w_max=1.0),
    "PowStep": D.PowStep(pow_gamma=1.5, pow_gamma_dtod=0.0, pow_up_down=0.2),
    "PowStep-neg-asym": D.PowStep(pow_gamma=0.8, pow_gamma_dtod=0.0, pow_up_down=-0.3),
    "PiecewiseStep": D.PiecewiseStep(piecewise_up=(1.5, 1.0, 0.6, 0.2),
                                     piecewise_down=(0.1, 0.5, 1.0, 1.4)),
    "SoftBoundsReference": D.SoftBoundsReference(reference_mean=0.05),
}


@pytest.mark.parametrize("name", list(LAW_MODELS))
@pytest.mark.parametrize("up", [True, False], ids=["up", "down"])
def test_expected_step_follows_published_law(name, up):
    model = LAW_MODELS[name]
    arr = model.realize((12, 10), seed=11)
    gen = np.random.default_rng(1)
    # weights spread over each cell's whole range, including the bounds themselves
    t = gen.random(arr.shape)
    t[0, :3] = [0.0, 1.0, 0.5]
    w = arr.bmin + t * (arr.bmax - arr.bmin)
    arr.set_weights(w)
    w = arr.hidden_weights
    got = arr.expected_step(up)
    want = reference_step(model, arr, w, up)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-15)


# ------------------------------------------------------------------ mean first steps
@pytest.mark.parametrize("up", [True, False], ids=["up", "down"])
def test_mean_first_step_at_zero_equals_realised_step(family, up):
    """One pulse from w = 0: the per-cell change averages to the noise-free step.

    The change is ``e (1 + sigma xi)`` (multiplicative c2c) or ``e + sigma dw xi``
    (additive), so the deviation from ``expected_step`` has per-cell sd ``sigma |e|`` or
    ``sigma dw``: the deviations must sum to 0 within 5 sigma and their normalised spread
    must be 1 within the chi tolerance.
    """
    model = make_model(family)
    arr = model.realize(SHAPE, seed=21)
    arr.set_weights(np.zeros(SHAPE))
    e = arr.expected_step(up)
    assert np.all(e > 0) if up else np.all(e < 0)
    arr.pulse(1 if up else -1)
    change = arr.hidden_weights
    dw = arr.dw_up if up else arr.dw_down
    sigma = model.dw_min_std
    sd = sigma * (dw if additive_c2c(model) else np.abs(e))
    assert_sum_zero(change - e, sd, what=f"{family} first {'up' if up else 'down'} step")
    assert_std((change - e) / sd, 1.0, what="normalised c2c deviation")


@pytest.mark.parametrize("name", ["ConstantStep", "LinearStep", "SoftBounds", "PiecewiseStep",
                                  "SoftBoundsReference"])
def test_step_at_zero_is_exactly_the_realised_step(name):
    extra = {"piecewise_up": (1.0,), "piecewise_down": (1.0,)} if name == "PiecewiseStep" else {}
    arr = make_model(name, **extra).realize(SHAPE, seed=3)
    arr.set_weights(np.zeros(SHAPE))
    np.testing.assert_array_equal(arr.expected_step(True), arr.dw_up)
    np.testing.assert_array_equal(arr.expected_step(False), -arr.dw_down)


@pytest.mark.parametrize("name", ["ConstantStep", "LinearStep", "SoftBounds"])
@pytest.mark.parametrize("up_down", [0.3, -0.3])
def test_asymmetry_convention(name, up_down):
    """up_down > 0 shrinks the DOWN step to dw_min (1 - up_down); < 0 the UP step."""
    dw_min, sigma = 0.002, 0.3
    model = make_model(name, dw_min=dw_min, dw_min_dtod=0.0, up_down_dtod=0.0,
                       up_down=up_down, dw_min_std=sigma)
    arr = model.realize(SHAPE, seed=4)
    want_up = dw_min * (1.0 + min(up_down, 0.0))
    want_down = dw_min * (1.0 - max(up_down, 0.0))
    np.testing.assert_allclose(arr.dw_up, want_up, rtol=1e-12)
    np.testing.assert_allclose(arr.dw_down, want_down, rtol=1e-12)
    for up, want in ((True, want_up), (False, want_down)):
        arr.set_weights(np.zeros(SHAPE))
        arr.pulse(1 if up else -1)
        step = np.abs(arr.hidden_weights)
        assert_sum_zero(step - want, sigma * want, what=f"mean {'up' if up else 'down'} step")


# ------------------------------------------------------------------ bounds
HARD_BOUND = {"ConstantStep": {}, "LinearStep": {"gamma_up": 0.0, "gamma_down": 0.0},
              "PiecewiseStep": {}}


@pytest.mark.parametrize("up", [True, False], ids=["up", "down"])
def test_weights_saturate_at_realised_bounds(family, up):
    """Many pulses one way never pass the cell's bound; hard-bound laws sit exactly on it.

    Noise-free, every law then stops moving: its expected step has fallen to ~0 (at the
    bound, or where the law's step vanishes, e.g. ExpStep's ``y = 0``).
    """
    model = make_model(family, dw_min=0.01, dw_min_dtod=0.1, **HARD_BOUND.get(family, {}))
    arr = model.realize((20, 20), seed=5)
    sign = 1 if up else -1
    bound = arr.bmax if up else arr.bmin
    arr.pulse(sign * 3000)
    w = arr.hidden_weights
    assert np.all(w <= arr.bmax) and np.all(w >= arr.bmin)
    if family in HARD_BOUND:
        np.testing.assert_allclose(w, bound, rtol=0, atol=1e-12)

    arr.set_weights(np.zeros(arr.shape))
    traj = arr.pulse_train(np.full(3000, sign), noise=False)
    assert np.all(traj <= arr.bmax) and np.all(traj >= arr.bmin)
    assert np.all(sign * np.diff(traj, axis=0) >= 0)  # noise-free steps never reverse
    dw = arr.dw_up if up else arr.dw_down
    assert np.all(np.abs(arr.expected_step(up)) <= 0.01 * dw)
    if family in HARD_BOUND:
        np.testing.assert_allclose(traj[-1], bound, rtol=0, atol=1e-12)


def test_weights_never_cross_bounds_with_large_noise(family):
    """With c2c noise large enough to flip step signs, every visited state stays in bounds."""
    model = make_model(family, dw_min=0.02, dw_min_std=2.0)
    arr = model.realize((10, 10), seed=6)
    dirs = np.concatenate([np.ones(200), -np.ones(400), np.ones(200)]).astype(np.int64)
    traj = arr.pulse_train(dirs, noise=True)
    assert np.all(traj >= arr.bmin) and np.all(traj <= arr.bmax)
    arr.pulse(np.where(np.arange(100).reshape(10, 10) % 2 == 0, 500, -500))
    w = arr.hidden_weights
    assert np.all(w >= arr.bmin) and np.all(w <= arr.bmax)


# ------------------------------------------------------------------ symmetry point
def test_soft_bounds_converge_to_symmetry_point():
    """Alternating noise-free pulses: the 2-cycle brackets w* = (u - v)/(u/bmax - v/bmin)."""
    model = D.SoftBounds(dw_min=0.005, dw_min_dtod=0.2, up_down=0.2, up_down_dtod=0.05)
    arr = model.realize((30, 30), seed=7)
    u, v, bmax, bmin = arr.dw_up, arr.dw_down, arr.bmax, arr.bmin
    w_star = (u - v) / (u / bmax - v / bmin)
    assert np.ptp(w_star) > 0.1  # the symmetry points differ from cell to cell
    traj = arr.pulse_train(np.tile([1, -1], 10000), noise=False)
    after_up, after_down = traj[-2], traj[-1]
    np.testing.assert_allclose(traj[-1], traj[-3], rtol=0, atol=1e-12)  # converged
    # at the fixed 2-cycle the up step from after_down equals the down step from after_up;
    # the up step falls and the down step grows with w, so w* lies between them
    tol = 1e-12
    assert np.all(after_down <= w_star + tol) and np.all(after_up >= w_star - tol)
    assert np.all(np.abs(after_down - w_star) <= np.maximum(u, v))
    # and the exact 2-cycle of the law, where a single step cannot overshoot a bound
    a, b = u / bmax, v / bmin
    cycle = (u - v + b * u) / (a - b + a * b)
    unclipped = (a < 1.0) & (b > -1.0)
    assert unclipped.mean() > 0.99
    np.testing.assert_allclose(after_down[unclipped], cycle[unclipped], rtol=0, atol=1e-10)


def test_soft_bounds_reference_subtracted_symmetry_point_is_zero():
    model = D.SoftBoundsReference(dw_min=0.005, dw_min_dtod=0.2, up_down=0.3,
                                  up_down_dtod=0.05, subtract_symmetry_point=True)
    arr = model.realize((20, 20), seed=8)
    traj = arr.pulse_train(np.tile([1, -1], 2500), noise=False)
    after_up, after_down = traj[-2], traj[-1]
    assert np.all(after_down <= 1e-12) and np.all(after_up >= -1e-12)


# ------------------------------------------------------------------ pulse() bookkeeping
def test_pulse_counts_and_deterministic_steps():
    model = D.ConstantStep(dw_min_std=0.0, w_min=-5.0, w_max=5.0)
    arr = model.realize((8, 9), seed=9)
    n = np.random.default_rng(2).integers(-7, 8, size=arr.shape)
    got = arr.pulse(n)
    assert got == (int(n[n > 0].sum()), int(-n[n < 0].sum()))
    want = np.where(n > 0, n * arr.dw_up, n * arr.dw_down)
    np.testing.assert_allclose(arr.hidden_weights, want, rtol=1e-12, atol=1e-18)
    arr.pulse(2)
    assert tuple(arr.pulse_counts) == (got[0] + 2 * n.size, got[1])
    assert arr.pulse(0) == (0, 0)


# ------------------------------------------------------------------ c2c noise forms
NOISE_FORMS = {
    # name: (model, sd of the change as a function of (expected change e, step dw, w))
    "LinearStep-mult": (D.LinearStep(gamma_up=0.5, gamma_down=0.5, gamma_up_dtod=0.0,
                                     gamma_down_dtod=0.0, mult_noise=True),
                        lambda e, dw, w, s: s * np.abs(e)),
    "LinearStep-add": (D.LinearStep(gamma_up=0.5, gamma_down=0.5, gamma_up_dtod=0.0,
                                    gamma_down_dtod=0.0, mult_noise=False),
                       lambda e, dw, w, s: s * dw),
    "SoftBoundsReference-add": (D.SoftBoundsReference(mult_noise=False),
                                lambda e, dw, w, s: s * dw),
    "SoftBoundsReference-mult": (D.SoftBoundsReference(mult_noise=True),
                                 lambda e, dw, w, s: s * np.abs(e)),
    "ExpStep-add": (D.ExpStep(dw_min_std_add=0.0005, dw_min_std_slope=0.002),
                    lambda e, dw, w, s: s * (np.abs(e) + 0.0005 + 0.002 * np.abs(w))),
    "PowStep": (D.PowStep(pow_gamma=1.5), lambda e, dw, w, s: s * np.abs(e)),
}


@pytest.mark.parametrize("name", list(NOISE_FORMS))
@pytest.mark.parametrize("up", [True, False], ids=["up", "down"])
def test_c2c_noise_form_away_from_zero(name, up):
    """Multiplicative noise scales with the mean step, additive noise with dw."""
    model, sd_of = NOISE_FORMS[name]
    model = model.replace(w_min_dtod=0.0, w_max_dtod=0.0)
    arr = model.realize(SHAPE, seed=12)
    w0 = np.full(SHAPE, 0.3)
    arr.set_weights(w0)
    e = arr.expected_step(up)
    arr.pulse(1 if up else -1)
    dev = arr.hidden_weights - w0 - e
    sd = sd_of(e, arr.dw_up if up else arr.dw_down, w0, model.dw_min_std)
    assert_sum_zero(dev, sd, what=f"{name} mean step")
    assert_std(dev / sd, 1.0, what=f"{name} normalised c2c deviation")
