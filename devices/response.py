"""Pulse response: the weight trajectory of a population of cells under up-then-down pulses.

The standard characterisation of a pulsed device: start every cell at a known weight, send
``n_up`` potentiating pulses followed by ``n_down`` depressing pulses, and record the weight
after each pulse. The mean over cells is what :func:`devices.fit.fit` takes as data.
"""

import numbers
from dataclasses import dataclass

import numpy as np

from . import _validate as V
from .errors import DeviceError
from .models import PulsedDevice

_OWNER = "pulse_response"


@dataclass(frozen=True, eq=False)
class PulseResponse:
    """Result of :func:`pulse_response` (arrays are read-only).

    Attributes
    ----------
    pulses : ndarray of int64, shape (T,)
        The programme: ``n_up`` times +1, then ``n_down`` times -1.
    mean, std : ndarray, shape (T + 1,)
        Mean and standard deviation (``ddof=0``, the spread of this population) over cells
        of the hidden weight before the first and after every pulse.
    trajectories : ndarray, shape (T + 1, cells)
        Hidden weight of every cell before the first and after every pulse.
    model : PulsedDevice
        The model the cells were realised from.
    """

    pulses: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    trajectories: np.ndarray
    model: PulsedDevice

    @property
    def n_up(self):
        """Number of up pulses at the start of the programme."""
        return int(np.count_nonzero(self.pulses > 0))

    @property
    def n_down(self):
        """Number of down pulses that follow them."""
        return int(np.count_nonzero(self.pulses < 0))

    def num_states(self):
        """Estimated number of distinguishable states seen in the up phase.

        ``(max - min of the mean over the up phase) / (first mean up step)``: how many
        steps of the size of the first one span the range the up pulses covered. For a
        constant-step device driven from bound to bound this is the nominal
        ``(w_max - w_min) / dw_min``; for devices whose step shrinks toward the upper
        bound (soft bounds, exp, pow) the first step is the largest, so it is a lower
        estimate, and too few pulses to reach the bound make it lower still.

        Returns
        -------
        float

        Raises
        ------
        DeviceError
            Without up pulses, or when the first mean up step is not positive (e.g. the
            cells started at their upper bound).
        """
        n_up = self.n_up
        if n_up == 0:
            raise DeviceError("PulseResponse.num_states needs n_up >= 1 up pulses, got 0")
        up_phase = self.mean[: n_up + 1]
        first = up_phase[1] - up_phase[0]
        if not first > 0:
            raise DeviceError("PulseResponse.num_states needs a positive first mean up step, "
                              f"got {first!r} (did the cells start at their upper bound?)")
        return float((up_phase.max() - up_phase.min()) / first)


def pulse_response(model, n_up, n_down, cells=100, seed=0, w0="min", noise=True):
    """Send ``n_up`` up pulses, then ``n_down`` down pulses, to ``cells`` fresh cells.

    Parameters
    ----------
    model : PulsedDevice
        Any device family instance; device-to-device variation is drawn once for the
        ``(1, cells)`` array it is realised into.
    n_up, n_down : int
        Number of up and down pulses, each >= 0, together >= 1.
    cells : int
        Number of cells (>= 1).
    seed : int
        Seed of the realisation and of the cycle-to-cycle noise.
    w0 : {"min", "max"} or float
        Start weight: each cell's own lower or upper bound, or a value clipped into each
        cell's bounds. Set without write noise.
    noise : bool
        Draw cycle-to-cycle noise (False gives every cell its mean response).

    Returns
    -------
    PulseResponse
        Trajectories are of the hidden weight (write noise, if the model has any, only
        affects reads, not the state the pulses act on).
    """
    if not isinstance(model, PulsedDevice):
        raise TypeError(f"{_OWNER}: model must be a device model such as SoftBounds(), got "
                        f"{type(model).__name__}")
    n_up = V.integer(_OWNER, "n_up", n_up, low=0)
    n_down = V.integer(_OWNER, "n_down", n_down, low=0)
    if n_up + n_down < 1:
        raise DeviceError(f"{_OWNER}: n_up + n_down must be >= 1, got n_up={n_up}, "
                          f"n_down={n_down}")
    cells = V.integer(_OWNER, "cells", cells, low=1)
    noise = V.boolean(_OWNER, "noise", noise)
    start = _check_w0(w0)

    arr = model.realize((1, cells), seed=seed)
    if start == "min":
        arr.set_weights(arr.bmin, write_noise=False)
    elif start == "max":
        arr.set_weights(arr.bmax, write_noise=False)
    else:
        arr.set_weights(np.full(arr.shape, start), write_noise=False)

    pulses = np.concatenate([np.ones(n_up, dtype=np.int64), -np.ones(n_down, dtype=np.int64)])
    traj = arr.pulse_train(pulses, noise=noise)[:, 0, :]
    mean, std = traj.mean(axis=1), traj.std(axis=1)
    for a in (pulses, mean, std, traj):
        a.flags.writeable = False
    return PulseResponse(pulses=pulses, mean=mean, std=std, trajectories=traj, model=model)


def _check_w0(w0):
    """``"min"``, ``"max"`` or a finite float."""
    if isinstance(w0, str):
        return V.choice(_OWNER, "w0", w0, {"min", "max"})
    if isinstance(w0, numbers.Real) and not isinstance(w0, bool):
        return V.real(_OWNER, "w0", w0)
    raise TypeError(f"{_OWNER}.w0 must be 'min', 'max' or a number, got {w0!r} "
                    f"({type(w0).__name__})")
