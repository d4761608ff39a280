"""Stochastic pulse-train outer-product update: its parameters and pulse probabilities.

The target of one update call is ``dW = -lr * outer(d, x)`` summed over the batch, realised
by coincidences of stochastic pulse trains (Gokmen & Vlasov 2016): each of BL time slots
fires input line j with probability ``p_x[j]`` and output line i with probability
``p_d[i]``; a coincidence is one device pulse in direction ``-sign(x_j d_i)``. With
``BL * p_x[j] * p_d[i] = lr |x_j d_i| / dw_min`` the expected change equals the target
wherever the device is linear and unsaturated.

Names and defaults follow aihwkit's ``UpdateParameters`` so configurations port by name.
"""

from dataclasses import dataclass, fields

import numpy as np

from . import _validate as V

PULSE_TYPES = ("stochastic_compressed", "none", "none_with_device")


@dataclass(frozen=True)
class UpdateParameters:
    """How an outer-product update is turned into device pulses.

    Parameters
    ----------
    desired_bl : int
        Pulse-train length BL (the maximum with bit-line management). Default 31.
    fixed_bl : bool
        Always use ``desired_bl`` slots (else BL grows to ``ceil(lr / dw_min)`` when a
        single coincidence per slot cannot carry the learning rate). Default True.
    update_bl_management : bool
        Shorten BL per sample to ``ceil(k)`` with ``k = lr max|x| max|d| / dw_min``.
        Forces ``update_management`` on. Default True.
    update_management : bool
        Balance the x and d probabilities by ``sqrt(max|d| / max|x|)``. Default True.
    um_grad_scale : float
        Scale of the d side in update management. Default 1.0.
    pulse_type : str
        ``"stochastic_compressed"`` (pulse trains, the default), ``"none"`` (exact float
        update, no device law, no bounds) or ``"none_with_device"`` (exact float update
        clipped to the device bounds).
    """

    desired_bl: int = 31
    fixed_bl: bool = True
    update_bl_management: bool = True
    update_management: bool = True
    um_grad_scale: float = 1.0
    pulse_type: str = "stochastic_compressed"

    def __post_init__(self):
        owner = type(self).__name__
        object.__setattr__(self, "desired_bl", V.integer(owner, "desired_bl", self.desired_bl,
                                                         low=1, high=1 << 16))
        for name in ("fixed_bl", "update_bl_management", "update_management"):
            object.__setattr__(self, name, V.boolean(owner, name, getattr(self, name)))
        object.__setattr__(self, "um_grad_scale",
                           V.real(owner, "um_grad_scale", self.um_grad_scale, low=0.0,
                                  low_open=True))
        object.__setattr__(self, "pulse_type",
                           V.choice(owner, "pulse_type", self.pulse_type, PULSE_TYPES))

    @classmethod
    def field_names(cls):
        return tuple(f.name for f in fields(cls))


def pulse_probabilities(x, d, lr, dw_min, params):
    """Per-sample train length and line probabilities of a pulsed update.

    Parameters
    ----------
    x : ndarray, shape (batch, n_in)
        Inputs (the row/input side of the array).
    d : ndarray, shape (batch, n_out)
        Errors (the column/output side).
    lr : float
        Learning rate; the target is ``-lr * d.T @ x``.
    dw_min : float
        Nominal step of the device (the update granularity epsilon).
    params : UpdateParameters

    Returns
    -------
    bl : ndarray of int64, shape (batch,)
        Pulse-train length per sample (0 where the sample asks for no change).
    p_x : ndarray, shape (batch, n_in)
    p_d : ndarray, shape (batch, n_out)
        Firing probabilities per slot, clipped to [0, 1].

    Notes
    -----
    With update management the x side is scaled by ``sqrt(D/X)`` and the d side by
    ``sqrt(X/D)`` (``X = max|x|``, ``D = um_grad_scale max|d|``) so both trains are
    equally dense. With bit-line management ``BL = min(ceil(k), desired_bl)``; when
    ``k > BL`` the d side is reduced so the x side stays at probability <= 1 and the d
    side saturates, which clips the update (the standard's gradient clipping).
    """
    eps = float(dw_min)
    ax = np.abs(x)
    ad = np.abs(d)
    xmax = ax.max(axis=1)
    dmax = ad.max(axis=1)
    batch = x.shape[0]
    bl = np.full(batch, params.desired_bl, dtype=np.int64)
    scale = np.full(batch, np.sqrt(lr / (eps * params.desired_bl)))
    if not params.fixed_bl and not params.update_bl_management and eps * params.desired_bl < lr:
        bl[:] = int(np.ceil(lr / eps))
        scale[:] = np.sqrt(lr / (eps * bl[0]))

    um = params.update_management or params.update_bl_management
    dtil = params.um_grad_scale * dmax
    if params.update_bl_management:
        k = lr * xmax * dtil / eps
        bl = np.minimum(np.ceil(k), params.desired_bl).astype(np.int64)
        safe_bl = np.maximum(bl, 1)
        scale = np.sqrt(lr / (eps * safe_bl))
        over = k > safe_bl
        dtil = np.where(over, dtil * safe_bl / np.where(over, k, 1.0), dtil)

    if um:
        live = (xmax > 0) & (dtil > 0)
        ratio = np.sqrt(np.where(live, dtil, 1.0) / np.where(live, xmax, 1.0))
        sx = scale * ratio
        sd = scale / ratio
    else:
        sx = sd = scale
    p_x = np.minimum(sx[:, None] * ax, 1.0)
    p_d = np.minimum(sd[:, None] * ad, 1.0)
    bl = np.where((xmax > 0) & (dmax > 0), bl, 0)
    return bl, p_x, p_d
