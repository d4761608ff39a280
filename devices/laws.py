"""The per-pulse law of each device family, one small ``@njit`` function each.

Every law has the same signature::

    law(w, up, dw, bmin, bmax, cp, i, j, gp, xi) -> w_new

``w`` is the cell's hidden weight, ``up`` True for a potentiating pulse, ``dw`` the cell's
step magnitude for that direction (``dw_up`` or ``dw_down``, drawn once from the
device-to-device spreads), ``bmin``/``bmax`` its bounds, ``cp[:, i, j]`` its family extras,
``gp`` the tile-wide parameters (``gp[0]`` is the cycle-to-cycle spread ``dw_min_std``) and
``xi`` a fresh standard normal (0 for the mean response). The kernels clip the result to
``[bmin, bmax]``.

The equations are the published ones of the standard pulsed families (aihwkit's device
documentation, reference/devices.md section 3), written here from the equations.

To add a family: write its law here, give it the next id, add a branch to :func:`step`,
and write its dataclass in :mod:`devices.models`.
"""

import numpy as np
from numba import njit

CONSTANT = 0
LINEAR = 1
EXP = 2
POW = 3
PIECEWISE = 4
REFERENCE = 5

NAMES = {CONSTANT: "constant_step", LINEAR: "linear_step", EXP: "exp_step", POW: "pow_step",
         PIECEWISE: "piecewise_step", REFERENCE: "soft_bounds_reference"}


@njit(cache=True)
def constant_step(w, up, dw, bmin, bmax, cp, i, j, gp, xi):
    """Constant step: ``w +- dw (1 + sigma xi)``; only the hard bounds limit it."""
    s = dw * (1.0 + gp[0] * xi)
    return w + s if up else w - s


@njit(cache=True)
def linear_step(w, up, dw, bmin, bmax, cp, i, j, gp, xi):
    """Step linear in the weight: ``w +- dw (gamma^d w + 1)(1 + sigma xi)``.

    ``cp[0]`` / ``cp[1]`` hold the per-cell slopes of up and down pulses (negative slopes
    shrink the step toward the bound the pulse moves to; slope -1/b gives soft bounds).
    ``gp[1]`` is 1 for multiplicative c2c noise, 0 for additive ``(gamma w + 1 + sigma xi)``.
    """
    if up:
        g = cp[0, i, j] * w + 1.0
    else:
        g = cp[1, i, j] * w + 1.0
    if gp[1] != 0.0:
        s = dw * g * (1.0 + gp[0] * xi)
    else:
        s = dw * (g + gp[0] * xi)
    return w + s if up else w - s


@njit(cache=True)
def exp_step(w, up, dw, bmin, bmax, cp, i, j, gp, xi):
    """Exponential step (ReRAM/PCM-like), tile-wide shape parameters.

    ``z = 2 a w / (bmax - bmin) + b``; up: ``y = max(1 - A_up exp(gamma_up z), 0)``,
    down: ``y = max(1 - A_down exp(-gamma_down z), 0)``; the step is ``y dw``.
    c2c noise is ``(1 + sigma xi)`` on the step, or, when ``dw_min_std_add`` or
    ``dw_min_std_slope`` is set, additive ``sigma (|step| + add + slope |w|) xi``.
    ``gp = [sigma, a, b, A_up, A_down, gamma_up, gamma_down, std_add, std_slope]``.
    """
    span = bmax - bmin
    if span <= 0.0:
        return w
    z = 2.0 * gp[1] * w / span + gp[2]
    if up:
        y = 1.0 - gp[3] * np.exp(gp[5] * z)
    else:
        y = 1.0 - gp[4] * np.exp(-gp[6] * z)
    if y < 0.0:
        y = 0.0
    s = y * dw
    if gp[7] != 0.0 or gp[8] != 0.0:
        noise = gp[0] * (s + gp[7] + gp[8] * abs(w)) * xi
        return (w + s if up else w - s) + noise
    s *= 1.0 + gp[0] * xi
    return w + s if up else w - s


@njit(cache=True)
def pow_step(w, up, dw, bmin, bmax, cp, i, j, gp, xi):
    """Power-law step: up ``dw ((bmax - w)/range)^gamma_up``, down ``dw ((w - bmin)/range)^gamma_down``.

    ``cp[0]`` / ``cp[1]`` are the per-cell exponents (gamma 1 is soft bounds). The step at
    ``w = 0`` is ``dw * 0.5^gamma`` for symmetric bounds, not ``dw``.
    """
    span = bmax - bmin
    if span <= 0.0:
        return w
    if up:
        s = dw * ((bmax - w) / span) ** cp[0, i, j]
    else:
        s = dw * ((w - bmin) / span) ** cp[1, i, j]
    s *= 1.0 + gp[0] * xi
    return w + s if up else w - s


@njit(cache=True)
def piecewise_step(w, up, dw, bmin, bmax, cp, i, j, gp, xi):
    """Step given by linear interpolation of node values evenly spaced over the bounds.

    ``gp = [sigma, n, up_0 .. up_{n-1}, down_0 .. down_{n-1}]``; node values are relative
    to the cell's step ``dw``.
    """
    n = int(gp[1])
    base = 2 if up else 2 + n
    if n == 1:
        v = gp[base]
    else:
        span = bmax - bmin
        t = (w - bmin) / span * (n - 1) if span > 0.0 else 0.0
        k = int(np.floor(t))
        if k < 0:
            k = 0
        elif k > n - 2:
            k = n - 2
        q = t - k
        if q < 0.0:
            q = 0.0
        elif q > 1.0:
            q = 1.0
        v = (1.0 - q) * gp[base + k] + q * gp[base + k + 1]
    s = dw * v * (1.0 + gp[0] * xi)
    return w + s if up else w - s


@njit(cache=True)
def soft_bounds_reference(w, up, dw, bmin, bmax, cp, i, j, gp, xi):
    """Soft bounds on the device conductance ``v = w + ref`` read against a reference device.

    ``cp = [ref, vmax, vmin]`` per cell (the device's own bounds; the kernels clip ``w`` to
    the shifted bounds ``v - ref``). Up ``dw (1 - v/vmax)``, down ``dw (1 - v/vmin)``;
    a bound on the wrong side of 0 gives no slope. ``gp[1]`` is 1 for multiplicative c2c
    noise, 0 for additive ``(1 - v/b + sigma xi)``.
    """
    ref = cp[0, i, j]
    v = w + ref
    if up:
        b = cp[1, i, j]
        f = 1.0 - v / b if b > 0.0 else 1.0
    else:
        b = cp[2, i, j]
        f = 1.0 - v / b if b < 0.0 else 1.0
    if gp[1] != 0.0:
        s = dw * f * (1.0 + gp[0] * xi)
    else:
        s = dw * (f + gp[0] * xi)
    return (v + s if up else v - s) - ref


@njit(cache=True)
def step(law, w, up, dw, bmin, bmax, cp, i, j, gp, xi):
    """Dispatch to the law with id ``law`` (a compile-time literal in the kernels)."""
    if law == CONSTANT:
        return constant_step(w, up, dw, bmin, bmax, cp, i, j, gp, xi)
    elif law == LINEAR:
        return linear_step(w, up, dw, bmin, bmax, cp, i, j, gp, xi)
    elif law == EXP:
        return exp_step(w, up, dw, bmin, bmax, cp, i, j, gp, xi)
    elif law == POW:
        return pow_step(w, up, dw, bmin, bmax, cp, i, j, gp, xi)
    elif law == PIECEWISE:
        return piecewise_step(w, up, dw, bmin, bmax, cp, i, j, gp, xi)
    else:
        return soft_bounds_reference(w, up, dw, bmin, bmax, cp, i, j, gp, xi)
