"""Unit cells: one weight from several devices (reference/devices.md section 5).

A unit cell config (a small frozen dataclass) names the device model and the cell's own
parameters; ``config.realize(shape, seed)`` returns the runtime cell array, which has the
interface :class:`hwsim.AnalogTile` uses for a plain :class:`devices.DeviceArray`:
``weights``, ``hidden_weights``, ``set_weights(w, write_noise=True)``,
``update(x, d, lr, params)``, ``decay``, ``diffuse``, ``clip``, ``reset``, ``pulse_counts``,
``bmin``/``bmax``, ``shape``, ``copy``.

* :class:`DifferentialPair` (aihwkit ``OneSidedUnitCell``): ``W = w+ - w-``; each device
  only ever receives up (potentiating) pulses, as PCM and many ReRAM cells must be driven;
  a refresh moves pairs that have drifted up back to their difference.
* :class:`ReferenceCell` (aihwkit ``ReferenceUnitCell``): ``W = w0 - w1``; only ``w0`` is
  updated; ``w1`` is a fixed reference, by default at ``w0``'s symmetry point, so that the
  device's implicit leak pulls ``W`` toward 0.
"""

import dataclasses
from dataclasses import dataclass

import numpy as np

import devices
from devices import DeviceArray, PulsedDevice, UpdateParameters

from . import _validate as V
from .errors import ConfigError


def _device_model(owner, device):
    """A device model from a model or a preset name."""
    if isinstance(device, str):
        try:
            return devices.preset(device)
        except devices.DeviceError as exc:
            raise ConfigError(f"{owner}.device: {exc}") from None
    if not isinstance(device, PulsedDevice):
        raise TypeError(f"{owner}.device must be a device model (e.g. devices.ConstantStep()) "
                        f"or a preset name, got {device!r}")
    return device


def _sub_seed(seed, k):
    """Seed of the k-th device of a cell, independent of the others."""
    state = np.random.SeedSequence([seed, 0xCE11, k]).generate_state(1, dtype=np.uint64)[0]
    return int(state >> np.uint64(1))


class UnitCell:
    """Base class of unit cell configs (a config has ``device`` and ``realize``)."""

    def replace(self, **changes):
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


class UnitCellArray:
    """Base class of realised unit cells: what both kinds share."""

    config: UnitCell
    shape: tuple

    @property
    def model(self):
        """The cell config (``DeviceArray.model`` is the device model)."""
        return self.config

    @property
    def dw_min(self):
        """Nominal step of one device pulse (the write precision of the cell)."""
        return self.config.device.dw_min

    @property
    def granularity(self):
        return self.config.device.granularity

    def _devices(self):
        raise NotImplementedError

    @property
    def pulse_counts(self):
        """Up and down pulses applied to all devices of the cell, shape (2,)."""
        return sum(d.pulse_counts for d in self._devices())

    def copy(self):
        """An independent copy with the same state and the same future random streams."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        for name, value in self.__dict__.items():
            if isinstance(value, DeviceArray):
                setattr(new, name, value.copy())
        return new

    def __repr__(self):
        return (f"{type(self).__name__}({type(self.config.device).__name__}, "
                f"shape={self.shape}, pulses={int(self.pulse_counts.sum())})")


# ======================================================================= pair
@dataclass(frozen=True)
class DifferentialPair(UnitCell):
    """Two devices per weight, ``W = w+ - w-``, each driven one way (``OneSidedUnitCell``).

    Parameters
    ----------
    device : PulsedDevice or str
        Model (or preset name) of both devices.
    refresh_every : int
        Check for a refresh every this many update calls (0 = never). Default 1.
    refresh_upper, refresh_lower : float
        A pair is refreshed when the larger of its normalised weights ``w / bmax`` exceeds
        ``refresh_upper`` while the smaller exceeds ``refresh_lower`` (both devices are
        filling up, so they will soon saturate and the weight stop moving). Defaults 0.75
        and 0.25.
    refresh_iterations : int
        Rounds of the closed-loop rewrite after a refresh reset (each round reads the
        pair and sends the pulses that close the remaining error). Default 5.

    Notes
    -----
    *Splitting the update.* The target ``dW = -lr d^T x`` is split by the signs of the
    inputs and errors: with ``x = x+ - x-`` and ``d = d+ - d-`` (parts >= 0),
    ``dW = lr (d-^T x+ + d+^T x-) - lr (d+^T x+ + d-^T x-)``. The first term (the positive
    increments) is sent to ``w+`` and the second, negated, to ``w-``, each as an ordinary
    pulsed update of :mod:`devices` on the sample pairs ``(x+, -d-)``, ``(-x-, d+)``
    respectively ``(x+, -d+)``, ``(-x-, d-)``: every coincidence of those samples has
    ``sign(x) sign(d) < 0`` and so is an up pulse. For each cell exactly one of the four
    products is non-zero, so its expected number of coincidences is ``lr |x_j d_i| / dw``
    as in a one-device update. Unlike aihwkit, which routes the coincidences of one shared
    pair of pulse trains, each sign part draws its own trains (the counts of the two
    devices are independent, not anti-correlated) and bit-line management sees the maxima
    of each part, which may shorten trains; the mean update is the same.

    *Refresh.* Because both devices only go up, they climb toward their upper bounds and
    lose range. Every ``refresh_every`` updates the pairs past the thresholds (aihwkit's
    criterion) are read, both devices reset, and the difference rewritten by up pulses on
    ``w+`` (positive) or ``w-`` (negative) in a closed loop: the number of pulses is the
    remaining error over the device's present expected step, repeated
    ``refresh_iterations`` times, so the weight is kept to about half a step plus the
    devices' noise. aihwkit writes once, open loop.
    """

    device: object
    refresh_every: int = 1
    refresh_upper: float = 0.75
    refresh_lower: float = 0.25
    refresh_iterations: int = 5

    def __post_init__(self):
        owner = type(self).__name__
        object.__setattr__(self, "device", _device_model(owner, self.device))
        object.__setattr__(self, "refresh_every",
                           V.integer(owner, "refresh_every", self.refresh_every, low=0))
        for name in ("refresh_upper", "refresh_lower"):
            object.__setattr__(self, name, V.real(owner, name, getattr(self, name), low=0.0))
        if self.refresh_lower > self.refresh_upper:
            raise ConfigError(f"{owner}: refresh_lower must be <= refresh_upper, got "
                              f"refresh_lower={self.refresh_lower!r}, "
                              f"refresh_upper={self.refresh_upper!r}")
        object.__setattr__(self, "refresh_iterations",
                           V.integer(owner, "refresh_iterations", self.refresh_iterations,
                                     low=1))

    def realize(self, shape, seed=0):
        """Draw both device arrays; returns a :class:`DifferentialPairArray` at ``W = 0``."""
        return DifferentialPairArray(self, shape, seed)


def _split_signs(x, d):
    """Sample pairs whose coincidences are all up pulses: for ``w+`` and for ``w-``.

    Returns ``x2`` (batch 2B: ``x+`` and ``-x-`` of each sample, interleaved so samples
    stay in order), ``d_plus`` and ``d_minus`` (see :class:`DifferentialPair`).
    """
    batch = x.shape[0]
    xp, xm = np.maximum(x, 0.0), np.minimum(x, 0.0)
    dp, dm = np.maximum(d, 0.0), np.minimum(d, 0.0)
    x2 = np.stack([xp, xm], axis=1).reshape(2 * batch, -1)
    d_plus = np.stack([dm, dp], axis=1).reshape(2 * batch, -1)
    d_minus = -np.stack([dp, dm], axis=1).reshape(2 * batch, -1)
    return x2, d_plus, d_minus


class DifferentialPairArray(UnitCellArray):
    """A realised :class:`DifferentialPair` array.

    Attributes
    ----------
    config : DifferentialPair
    plus, minus : devices.DeviceArray
        The ``w+`` and ``w-`` devices.
    shape : tuple of int
    updates : int
        Update calls so far (the refresh clock).
    refreshes : int
        Pairs refreshed so far.
    refresh_pulses : int
        Pulses sent by refresh rewrites (included in ``pulse_counts``).
    """

    def __init__(self, config, shape, seed):
        self.config = config
        self.plus = config.device.realize(shape, _sub_seed(seed, 0))
        self.minus = config.device.realize(shape, _sub_seed(seed, 1))
        self.shape = self.plus.shape
        self.seed = seed
        self.updates = 0
        self.refreshes = 0
        self.refresh_pulses = 0

    def _devices(self):
        return (self.plus, self.minus)

    @property
    def weights(self):
        """Visible weight ``w+ - w-`` (a new array)."""
        return self.plus.weights - self.minus.weights

    @property
    def hidden_weights(self):
        return self.plus.hidden_weights - self.minus.hidden_weights

    @property
    def bmin(self):
        """Lowest weight :meth:`set_weights` reaches: ``-bmax`` of ``w-``."""
        return -self.minus.bmax

    @property
    def bmax(self):
        """Highest weight :meth:`set_weights` reaches: ``bmax`` of ``w+``."""
        return self.plus.bmax

    def set_weights(self, weights, *, write_noise=True):
        """``w+ = max(W, 0)``, ``w- = max(-W, 0)`` (aihwkit's ``onSetWeights``), clipped."""
        w = V.array(type(self).__name__, "weights", weights, shape=self.shape)
        self.plus.set_weights(np.maximum(w, 0.0), write_noise=write_noise)
        self.minus.set_weights(np.maximum(-w, 0.0), write_noise=write_noise)

    def update(self, x, d, lr, params=None):
        """Pulsed update toward ``-lr d^T x`` by up pulses on ``w+`` and ``w-``.

        Returns the (up, down) pulses applied, refresh pulses included (all are up pulses).
        """
        params = UpdateParameters() if params is None else params
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        d = np.atleast_2d(np.asarray(d, dtype=np.float64))
        x2, d_plus, d_minus = _split_signs(x, d)
        up_p, down_p = self.plus.update(x2, d_plus, lr, params)
        up_m, down_m = self.minus.update(x2, d_minus, lr, params)
        up, down = up_p + up_m, down_p + down_m
        self.updates += 1
        every = self.config.refresh_every
        if every and self.updates % every == 0:
            before = self.refresh_pulses
            self.refresh()
            up += self.refresh_pulses - before
        return up, down

    # ------------------------------------------------------------- refresh
    def refresh_mask(self):
        """Pairs that meet the refresh criterion now (bool array)."""
        a = _normalised(self.plus.weights, self.plus.bmax)
        b = _normalised(self.minus.weights, self.minus.bmax)
        hi, lo = np.maximum(a, b), np.minimum(a, b)
        return (hi > self.config.refresh_upper) & (lo > self.config.refresh_lower)

    def refresh(self):
        """Refresh the pairs past the thresholds; returns how many were refreshed."""
        mask = self.refresh_mask()
        count = int(mask.sum())
        if not count:
            return 0
        target = self.weights
        self.plus.reset(mask)
        self.minus.reset(mask)
        self._rewrite(mask, target)
        self.refreshes += count
        return count

    def _rewrite(self, mask, target):
        """Closed-loop write of ``target`` into the masked pairs by up pulses only."""
        # a pulse count never needs to exceed the device's number of states
        cap = int(np.ceil(self.config.device.num_states)) + 1
        for _ in range(self.config.refresh_iterations):
            err = np.where(mask, target - self.weights, 0.0)
            n_plus = _pulses_for(err, self.plus.expected_step(True), cap)
            n_minus = _pulses_for(-err, self.minus.expected_step(True), cap)
            if not (n_plus.any() or n_minus.any()):
                break
            up_p, _ = self.plus.pulse(n_plus)
            up_m, _ = self.minus.pulse(n_minus)
            self.refresh_pulses += up_p + up_m

    # ------------------------------------------------------------- slow processes
    def decay(self, scale=1.0, rate=None):
        """Decay of both devices (``rate``: None, a float or a per-cell array, see
        :meth:`devices.DeviceArray.decay`)."""
        self.plus.decay(scale, rate=rate)
        self.minus.decay(scale, rate=rate)

    def diffuse(self, scale=1.0):
        self.plus.diffuse(scale)
        self.minus.diffuse(scale)

    def clip(self):
        self.plus.clip()
        self.minus.clip()

    def reset(self, mask=None):
        """Reset both devices of the (masked) pairs."""
        self.plus.reset(mask)
        self.minus.reset(mask)


def _normalised(w, bmax):
    """``w / bmax``, 0 where a cell has no upper range (stuck at or below 0)."""
    return np.divide(w, bmax, out=np.zeros_like(w), where=bmax > 0.0)


def _pulses_for(err, step, cap):
    """Up pulses closing a positive error ``err`` with steps of size ``step`` (int64)."""
    ok = (err > 0.0) & (step > 0.0)
    n = np.zeros(err.shape, dtype=np.int64)
    n[ok] = np.minimum(np.rint(err[ok] / step[ok]), cap).astype(np.int64)
    return n


# ======================================================================= reference
@dataclass(frozen=True)
class ReferenceCell(UnitCell):
    """A device read against a fixed reference, ``W = w0 - w1`` (``ReferenceUnitCell``).

    Parameters
    ----------
    device : PulsedDevice or str
        Model (or preset name) of both devices.
    reference : str or float
        Value the reference ``w1`` is programmed to, once, at realisation:
        ``"symmetry_point"`` (default) each cell's symmetry point of ``w0`` (where its mean
        up and down steps cancel; 0 where there is none, e.g. symmetric constant steps),
        ``"zero"``, or a number.

    Notes
    -----
    Only ``w0`` receives update pulses. The reference is a real device: it is programmed
    with the device's write noise, and its own lifetime decay and diffusion act on it too
    (as on every device of aihwkit's vector cells); a learning rule's weight decay
    (``decay(rate=...)``) acts on ``w0`` only, and :meth:`ReferenceCellArray.reset` resets
    only ``w0``. With the reference at the symmetry point, random up/down pulses relax ``w0``
    to it and so ``W`` to 0: the device's implicit leak is centred on zero weight.
    """

    device: object
    reference: object = "symmetry_point"

    def __post_init__(self):
        owner = type(self).__name__
        object.__setattr__(self, "device", _device_model(owner, self.device))
        ref = self.reference
        if isinstance(ref, str):
            object.__setattr__(self, "reference",
                               V.choice(owner, "reference", ref, ("symmetry_point", "zero")))
        else:
            object.__setattr__(self, "reference", V.real(owner, "reference", ref))

    def realize(self, shape, seed=0):
        """Draw both device arrays and program the reference; ``W`` starts at 0."""
        return ReferenceCellArray(self, shape, seed)


def symmetry_points(array, iterations=40, margin=0.05):
    """Per-cell symmetry point of a device array, by bisection on the mean step.

    The net mean step (up + down) of each cell is evaluated on a probe copy at points
    ``margin`` of the range inside the bounds (so the clip at the bound does not fake a
    zero); where it changes sign from positive to negative the root is bisected, elsewhere
    (no symmetry point) 0 clipped into the bounds is returned.
    """
    probe = array.copy()
    span = array.bmax - array.bmin

    def net(w):
        probe.set_weights(w, write_noise=False)
        return probe.expected_step(True) + probe.expected_step(False)

    lo = array.bmin + margin * span
    hi = array.bmax - margin * span
    has = (net(lo) > 0.0) & (net(hi) < 0.0)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        pos = net(mid) > 0.0
        lo = np.where(pos, mid, lo)
        hi = np.where(pos, hi, mid)
    zero = np.clip(0.0, array.bmin, array.bmax)
    return np.where(has, 0.5 * (lo + hi), zero)


class ReferenceCellArray(UnitCellArray):
    """A realised :class:`ReferenceCell` array.

    Attributes
    ----------
    config : ReferenceCell
    device, reference : devices.DeviceArray
        ``w0`` (updated) and ``w1`` (fixed).
    shape : tuple of int
    """

    def __init__(self, config, shape, seed):
        self.config = config
        self.device = config.device.realize(shape, _sub_seed(seed, 0))
        self.reference = config.device.realize(shape, _sub_seed(seed, 1))
        self.shape = self.device.shape
        self.seed = seed
        if config.reference == "symmetry_point":
            value = symmetry_points(self.device)
        elif config.reference == "zero":
            value = np.zeros(self.shape)
        else:
            value = np.full(self.shape, config.reference)
        self.reference.set_weights(value)
        self.set_weights(np.zeros(self.shape), write_noise=False)

    def _devices(self):
        return (self.device, self.reference)

    @property
    def weights(self):
        """Visible weight ``w0 - w1`` (a new array)."""
        return self.device.weights - self.reference.weights

    @property
    def hidden_weights(self):
        return self.device.hidden_weights - self.reference.hidden_weights

    @property
    def bmin(self):
        return self.device.bmin - self.reference.hidden_weights

    @property
    def bmax(self):
        return self.device.bmax - self.reference.hidden_weights

    def set_weights(self, weights, *, write_noise=True):
        """Set ``w0 = W + w1`` (clipped to ``w0``'s bounds); the reference is untouched."""
        w = V.array(type(self).__name__, "weights", weights, shape=self.shape)
        self.device.set_weights(w + self.reference.hidden_weights, write_noise=write_noise)

    def update(self, x, d, lr, params=None):
        """Pulsed update of ``w0`` only; returns its (up, down) pulses."""
        return self.device.update(x, d, lr, params)

    def decay(self, scale=1.0, rate=None):
        """Decay of ``w0`` (``rate``: None, a float or a per-cell array, see
        :meth:`devices.DeviceArray.decay`); the reference only by its own lifetime."""
        # a rule's weight decay acts on the learning device; the reference only has its
        # own lifetime
        self.device.decay(scale, rate=rate)
        self.reference.decay(scale)

    def diffuse(self, scale=1.0):
        self.device.diffuse(scale)
        self.reference.diffuse(scale)

    def clip(self):
        self.device.clip()

    def reset(self, mask=None):
        """Reset ``w0`` (the reference keeps its programmed value)."""
        self.device.reset(mask)
