"""Properties of a device model computed from its law: the mean device and its symmetry point."""

import dataclasses

import numpy as np

from .models import PulsedDevice

_SPREADS = ("dw_min_dtod", "dw_min_std", "w_min_dtod", "w_max_dtod", "up_down_dtod",
            "lifetime_dtod", "reset_dtod", "reset_std", "diffusion_dtod", "gamma_up_dtod",
            "gamma_down_dtod", "pow_gamma_dtod", "pow_up_down_dtod", "slope_up_dtod",
            "slope_down_dtod", "reference_std", "write_noise_std", "corrupt_devices_prob",
            "dw_min_std_add", "dw_min_std_slope")


def mean_device(model):
    """The same model with every device-to-device and cycle-to-cycle spread set to 0."""
    if not isinstance(model, PulsedDevice):
        raise TypeError(f"mean_device: model must be a device model, got {type(model).__name__}")
    names = {f.name for f in dataclasses.fields(model)}
    return model.replace(**{k: 0.0 for k in _SPREADS if k in names})


def step_curves(model, points=201):
    """Mean up and down step sizes over the weight range of the mean device.

    Returns
    -------
    w : ndarray, shape (points,)
    up, down : ndarray
        Weight change of one up pulse (>= 0) and one down pulse (<= 0) from each ``w``.
    """
    arr = mean_device(model).realize((1, points), seed=0)
    w = np.linspace(arr.bmin[0, 0], arr.bmax[0, 0], points)
    arr.set_weights(w[None, :], write_noise=False)
    return w, arr.expected_step(True)[0], arr.expected_step(False)[0]


def symmetry_point(model, points=2001):
    """Weight where the mean up and down steps cancel, or None if they never do.

    Under random up and down pulses a device whose steps depend on the weight relaxes to
    this point (an implicit leak centred on it). A device whose steps cancel everywhere
    (symmetric constant steps) or nowhere (asymmetric constant steps) has none.
    """
    w, up, down = step_curves(model, points)
    # where a step is cut by the clip, the law's own balance is not visible
    lo, hi = w[0], w[-1]
    inside = (w + up < hi) & (w + down > lo)
    w, up, down = w[inside], up[inside], down[inside]
    if w.size < 2:
        return None
    net = up + down
    scale = np.max(np.abs(up)) + np.max(np.abs(down))
    if scale == 0 or np.all(np.abs(net) <= 1e-12 * scale):
        return None
    sign = np.sign(net)
    idx = np.nonzero(sign[:-1] * sign[1:] < 0)[0]
    if idx.size == 0:
        zero = np.nonzero(sign == 0)[0]
        return float(w[zero[0]]) if zero.size else None
    k = idx[0]
    # linear interpolation between the two grid points that bracket the root
    t = net[k] / (net[k] - net[k + 1])
    return float(w[k] + t * (w[k + 1] - w[k]))
