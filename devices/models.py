"""Device families: validated, frozen dataclasses of the standard pulsed-device parameters.

Names, meanings and defaults are those of aihwkit's pulsed devices (reference/devices.md),
so a configuration written for aihwkit ports by name (see :func:`devices.from_aihwkit`).
``model.realize(shape, seed)`` draws the device-to-device variation once and returns a
:class:`devices.DeviceArray`; the per-pulse law of each family is in :mod:`devices.laws`.
"""

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from . import _validate as V
from . import laws
from .array import DeviceArray
from .errors import DeviceError


def _p(default, low=None, high=None, low_open=False, doc=""):
    """A dataclass field with its allowed range kept in metadata for validation."""
    return field(default=default,
                 metadata={"low": low, "high": high, "low_open": low_open, "doc": doc})


@dataclass(frozen=True)
class PulsedDevice:
    """Parameters every pulsed family shares.

    Parameters
    ----------
    dw_min : float
        Mean step of one pulse at the law's reference point (weight units). > 0.
    dw_min_dtod : float
        Device-to-device spread of the step, relative (Gaussian factor ``1 + dtod xi``,
        or ``exp(dtod xi)`` with ``dw_min_dtod_log_normal``).
    dw_min_std : float
        Cycle-to-cycle spread of each step, relative.
    w_min, w_max : float
        Mean hard bounds; ``w_min < w_max``.
    w_min_dtod, w_max_dtod : float
        Device-to-device spread of the bounds, relative.
    up_down : float
        Up/down asymmetry beta: ``up_down > 0`` shrinks the down step to
        ``dw_min (1 - up_down)``, ``up_down < 0`` the up step to ``dw_min (1 + up_down)``.
    up_down_dtod : float
        Device-to-device spread of the asymmetry (absolute, in units of dw_min).
    enforce_consistency : bool
        Take step sizes in absolute value and order the bounds so ``bmin <= bmax``.
    write_noise_std : float
        Write noise in units of ``dw_min``: the visible weight is redrawn as
        ``w + write_noise_std dw_min xi`` after every pulse a cell receives, and for every
        cell after decay, diffusion, clip and reset.
    apply_write_noise_on_set : bool
        Also draw write noise when weights are set directly.
    lifetime, lifetime_dtod : float
        Decay lifetime in decay calls (0 = no decay) and its relative spread.
    reset, reset_dtod, reset_std : float
        Reset (and decay-target) value, its d2d spread, and the c2c spread of a reset.
    diffusion, diffusion_dtod : float
        Random-walk step per ``diffuse()`` call and its relative spread.
    corrupt_devices_prob, corrupt_devices_range : float
        Fraction of stuck devices and the range ``+-range`` their stuck value is drawn from.
    """

    dw_min: float = _p(0.001, low=0.0, low_open=True)
    dw_min_dtod: float = _p(0.3, low=0.0)
    dw_min_dtod_log_normal: bool = False
    dw_min_std: float = _p(0.3, low=0.0)
    w_min: float = _p(-0.6)
    w_min_dtod: float = _p(0.3, low=0.0)
    w_max: float = _p(0.6)
    w_max_dtod: float = _p(0.3, low=0.0)
    up_down: float = _p(0.0)
    up_down_dtod: float = _p(0.01, low=0.0)
    enforce_consistency: bool = True
    write_noise_std: float = _p(0.0, low=0.0)
    apply_write_noise_on_set: bool = True
    lifetime: float = _p(0.0, low=0.0)
    lifetime_dtod: float = _p(0.0, low=0.0)
    reset: float = _p(0.0)
    reset_dtod: float = _p(0.0, low=0.0)
    reset_std: float = _p(0.01, low=0.0)
    diffusion: float = _p(0.0, low=0.0)
    diffusion_dtod: float = _p(0.0, low=0.0)
    corrupt_devices_prob: float = _p(0.0, low=0.0, high=1.0)
    corrupt_devices_range: float = _p(0.1, low=0.0)

    _law_id: ClassVar[int] = -1
    aihwkit_name: ClassVar[str] = ""

    # ---------------------------------------------------------------- validation
    def __post_init__(self):
        if type(self) is PulsedDevice:
            raise TypeError("PulsedDevice holds the shared parameters; instantiate a family "
                            "such as ConstantStep, LinearStep, SoftBounds, ExpStep, PowStep "
                            "or PiecewiseStep")
        owner = type(self).__name__
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type in (bool, "bool"):
                value = V.boolean(owner, f.name, value)
            elif f.type in (float, "float"):
                m = f.metadata
                value = V.real(owner, f.name, value, low=m.get("low"), high=m.get("high"),
                               low_open=m.get("low_open", False))
            elif f.type in (tuple, "tuple"):
                value = V.real_sequence(owner, f.name, value)
            object.__setattr__(self, f.name, value)
        if self.w_min >= self.w_max:
            raise DeviceError(f"{owner}: w_min must be < w_max, got w_min={self.w_min!r}, "
                              f"w_max={self.w_max!r}")
        if not self.w_min <= 0.0 <= self.w_max:
            raise DeviceError(f"{owner}: the bounds must include 0 (w_min <= 0 <= w_max), got "
                              f"w_min={self.w_min!r}, w_max={self.w_max!r}")
        if self.lifetime != 0.0 and self.lifetime < 1.0:
            raise DeviceError(f"{owner}.lifetime must be 0 (no decay) or >= 1 decay call, "
                              f"got {self.lifetime!r}")
        self._check_family(owner)

    def _check_family(self, owner):
        """Family-specific cross-field checks (override)."""

    # ---------------------------------------------------------------- conveniences
    def replace(self, **changes):
        """A copy with some parameters changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        """Parameters as a plain dict, with the aihwkit class name under ``"class"``."""
        out = {"class": self.aihwkit_name}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def parameter_names(cls):
        return tuple(f.name for f in dataclasses.fields(cls))

    @property
    def num_states(self):
        """Nominal number of steps across the range, ``(w_max - w_min) / dw_min``."""
        return (self.w_max - self.w_min) / self.dw_min

    @property
    def granularity(self):
        """The update granularity epsilon that pulse probabilities are scaled by.

        The mean step of one pulse at ``w = 0`` in the update's reference direction; the
        family overrides it where the law's step at 0 is not ``dw_min``.
        """
        return self.dw_min

    # ---------------------------------------------------------------- realisation
    def realize(self, shape, seed=0):
        """Draw the device-to-device variation once for an array of ``shape``.

        Parameters
        ----------
        shape : tuple of int
            ``(rows, cols)`` = ``(out_size, in_size)``; an int gives a single row.
        seed : int
            Seeds the d2d draws and every later random stream of the array.

        Returns
        -------
        DeviceArray
            Hidden weights start at 0 clipped into each cell's bounds.
        """
        owner = type(self).__name__ + ".realize"
        shape = _check_shape(owner, shape)
        seed = V.seed(owner, seed)
        gen = np.random.default_rng(np.random.SeedSequence([seed, 0xD2D]))
        normal = lambda: gen.standard_normal(shape)  # noqa: E731  (one draw per call)

        gain = np.exp(self.dw_min_dtod * normal()) if self.dw_min_dtod_log_normal \
            else 1.0 + self.dw_min_dtod * normal()
        r = self.up_down_dtod * normal()
        dw_up, dw_down = self._step_scales(gain, r)
        if self.enforce_consistency:
            dw_up, dw_down = np.abs(dw_up), np.abs(dw_down)

        bmax = self.w_max * (1.0 + self.w_max_dtod * normal())
        bmin = self.w_min * (1.0 + self.w_min_dtod * normal())
        if self.enforce_consistency:
            # order the bounds, then keep w = 0 inside them
            bmin, bmax = np.minimum(bmin, bmax), np.maximum(bmin, bmax)
            bmin, bmax = -np.abs(bmin), np.abs(bmax)
        else:
            # crossed bounds make a dead cell stuck at their midpoint
            mid = 0.5 * (bmin + bmax)
            crossed = bmin > bmax
            bmin, bmax = np.where(crossed, mid, bmin), np.where(crossed, mid, bmax)

        lifetime = self.lifetime * (1.0 + self.lifetime_dtod * normal())
        decay_rate = np.zeros(shape)
        if self.lifetime > 0:
            decay_rate = 1.0 / np.maximum(lifetime, 1.0)
        reset_bias = self.reset + self.reset_dtod * normal()
        diffusion_rate = np.abs(self.diffusion * (1.0 + self.diffusion_dtod * normal()))

        if self.corrupt_devices_prob > 0:
            stuck = gen.random(shape) < self.corrupt_devices_prob
            lo = np.maximum(bmin, -self.corrupt_devices_range)
            hi = np.minimum(bmax, self.corrupt_devices_range)
            value = lo + (hi - lo) * gen.random(shape)
            bmin = np.where(stuck, value, bmin)
            bmax = np.where(stuck, value, bmax)
            dw_up = np.where(stuck, 0.0, dw_up)
            dw_down = np.where(stuck, 0.0, dw_down)

        cells = {"dw_up": dw_up, "dw_down": dw_down, "bmin": bmin, "bmax": bmax,
                 "reset_bias": reset_bias}
        cp, gp_tail = self._realize_family(gen, shape, cells)

        c = np.ascontiguousarray
        w = np.clip(np.zeros(shape), cells["bmin"], cells["bmax"])
        gp = c(np.concatenate([[self.dw_min_std], gp_tail]), dtype=np.float64)
        return DeviceArray(self, shape, seed, w=c(w), dw_up=c(cells["dw_up"]),
                           dw_down=c(cells["dw_down"]), bmin=c(cells["bmin"]),
                           bmax=c(cells["bmax"]), cell_params=c(cp, dtype=np.float64),
                           global_params=gp, decay_rate=c(decay_rate),
                           reset_bias=c(cells["reset_bias"]), diffusion_rate=c(diffusion_rate))

    def _step_scales(self, gain, r):
        """Per-cell up and down step magnitudes from the d2d gain and asymmetry draws."""
        up = self.dw_min * (gain + min(self.up_down, 0.0) + r)
        down = self.dw_min * (gain - max(self.up_down, 0.0) - r)
        return up, down

    def _realize_family(self, gen, shape, cells):
        """Draw the family's extras; may replace entries of ``cells`` (bounds, steps, bias).

        Returns the per-cell extras ``(n, rows, cols)`` and the tile-wide extras that follow
        ``dw_min_std`` in the law's ``gp``.
        """
        return np.zeros((0,) + shape), np.zeros(0)


def _check_shape(owner, shape):
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (1, int(shape))
    if not isinstance(shape, tuple) or len(shape) != 2:
        raise DeviceError(f"{owner}: shape must be (rows, cols), got {shape!r}")
    for k, s in enumerate(shape):
        V.integer(owner, f"shape[{k}]", s, low=1)
    return (int(shape[0]), int(shape[1]))


@dataclass(frozen=True)
class ConstantStep(PulsedDevice):
    """Constant step ``w +- dw_min (1 + sigma xi)`` between hard bounds."""

    _law_id: ClassVar[int] = laws.CONSTANT
    aihwkit_name: ClassVar[str] = "ConstantStepDevice"


@dataclass(frozen=True)
class LinearStep(PulsedDevice):
    """Step linear in the weight, ``dw (gamma^d w + 1)``, with per-cell slopes.

    Parameters (besides :class:`PulsedDevice`)
    ------------------------------------------
    gamma_up, gamma_down : float
        Slope of the up and down step in units of the bound; the up slope is
        ``-|gamma_up + gamma_up_dtod xi| / w_max`` (per-cell ``bmax`` unless
        ``mean_bound_reference``), the down slope ``-|gamma_down + ...| / w_min``.
        1 gives soft bounds.
    gamma_up_dtod, gamma_down_dtod : float
        Device-to-device spread of the slopes (absolute).
    allow_increasing : bool
        Keep the sign of ``gamma + dtod xi`` (steps may grow toward a bound).
    mean_bound_reference : bool
        Divide by the mean bounds ``w_max``/``w_min`` instead of the cell's own.
    mult_noise : bool
        c2c noise multiplies the step (else it adds ``sigma dw`` independent of w).
    """

    gamma_up: float = _p(0.0)
    gamma_down: float = _p(0.0)
    gamma_up_dtod: float = _p(0.05, low=0.0)
    gamma_down_dtod: float = _p(0.05, low=0.0)
    allow_increasing: bool = False
    mean_bound_reference: bool = True
    mult_noise: bool = True

    _law_id: ClassVar[int] = laws.LINEAR
    aihwkit_name: ClassVar[str] = "LinearStepDevice"

    def _realize_family(self, gen, shape, cells):
        bmin, bmax = cells["bmin"], cells["bmax"]
        g_up = self.gamma_up + self.gamma_up_dtod * gen.standard_normal(shape)
        g_down = self.gamma_down + self.gamma_down_dtod * gen.standard_normal(shape)
        if not self.allow_increasing:
            g_up, g_down = np.abs(g_up), np.abs(g_down)
        ref_max = self.w_max if self.mean_bound_reference else bmax
        ref_min = self.w_min if self.mean_bound_reference else bmin
        slope_up = -g_up / _nonzero(ref_max)
        slope_down = -g_down / _nonzero(ref_min)
        return np.stack([slope_up, slope_down]), np.array([1.0 if self.mult_noise else 0.0])


def _nonzero(b):
    """A bound used as a divisor; a zero bound gives a flat (zero) slope."""
    b = np.asarray(b, dtype=float)
    return np.where(b == 0.0, np.inf, b)


@dataclass(frozen=True)
class SoftBounds(LinearStep):
    """Soft bounds: the step shrinks linearly to zero at each cell's own bound.

    ``dw_up (1 - w / bmax)`` up and ``dw_down (1 - w / bmin)`` down: a LinearStep with
    slopes 1, no slope spread and per-cell bounds as the reference. Under random up and
    down pulses the weight relaxes to the symmetry point
    ``w* = (dw_up - dw_down) / (dw_up / bmax - dw_down / bmin)``.
    """

    gamma_up: float = _p(1.0)
    gamma_down: float = _p(1.0)
    gamma_up_dtod: float = _p(0.0, low=0.0)
    gamma_down_dtod: float = _p(0.0, low=0.0)
    mean_bound_reference: bool = False

    aihwkit_name: ClassVar[str] = "SoftBoundsDevice"


@dataclass(frozen=True)
class ExpStep(PulsedDevice):
    """Exponential step of ReRAM/PCM-like devices (tile-wide shape parameters).

    ``z = 2 a w / (bmax - bmin) + b``; up step ``dw max(1 - A_up exp(gamma_up z), 0)``,
    down step ``dw max(1 - A_down exp(-gamma_down z), 0)``.

    Parameters (besides :class:`PulsedDevice`)
    ------------------------------------------
    A_up, A_down, gamma_up, gamma_down, a, b : float
        Shape of the step-size curves.
    dw_min_std_add, dw_min_std_slope : float
        When either is non-zero the c2c noise is additive,
        ``dw_min_std (|step| + add + slope |w|) xi``.
    """

    A_up: float = _p(0.00081)
    A_down: float = _p(0.36833)
    gamma_up: float = _p(12.44625)
    gamma_down: float = _p(12.78785)
    a: float = _p(0.244)
    b: float = _p(0.2425)
    dw_min_std_add: float = _p(0.0, low=0.0)
    dw_min_std_slope: float = _p(0.0, low=0.0)

    _law_id: ClassVar[int] = laws.EXP
    aihwkit_name: ClassVar[str] = "ExpStepDevice"

    @property
    def granularity(self):
        """Mean down step at ``w = 0`` (the standard's choice), or ``dw_min`` if it is 0."""
        down = self.dw_min * (1.0 - max(self.up_down, 0.0))
        y = max(1.0 - self.A_down * np.exp(-self.gamma_down * self.b), 0.0)
        g = down * y
        return g if g > 0 else self.dw_min

    def _realize_family(self, gen, shape, cells):
        gp = [self.a, self.b, self.A_up, self.A_down, self.gamma_up, self.gamma_down,
              self.dw_min_std_add, self.dw_min_std_slope]
        return np.zeros((0,) + shape), np.array(gp)


@dataclass(frozen=True)
class PowStep(PulsedDevice):
    """Power-law step: up ``dw ((bmax - w)/(bmax - bmin))^gamma_up``, down with ``w - bmin``.

    Parameters (besides :class:`PulsedDevice`)
    ------------------------------------------
    pow_gamma : float
        Exponent (1 is soft bounds).
    pow_gamma_dtod : float
        Relative d2d spread of the exponent (one gain shared by both directions).
    pow_up_down, pow_up_down_dtod : float
        Asymmetry of the exponent between directions and its d2d spread, with the same
        sign convention as ``up_down``.
    """

    pow_gamma: float = _p(1.0, low=0.0)
    pow_gamma_dtod: float = _p(0.1, low=0.0)
    pow_up_down: float = _p(0.0)
    pow_up_down_dtod: float = _p(0.0, low=0.0)

    _law_id: ClassVar[int] = laws.POW
    aihwkit_name: ClassVar[str] = "PowStepDevice"

    @property
    def granularity(self):
        """Step at mid-range, ``dw_min 0.5^pow_gamma``."""
        return self.dw_min * 0.5 ** self.pow_gamma

    def _realize_family(self, gen, shape, cells):
        gain = 1.0 + self.pow_gamma_dtod * gen.standard_normal(shape)
        r = self.pow_up_down_dtod * gen.standard_normal(shape)
        g_up = (min(self.pow_up_down, 0.0) + gain + r) * self.pow_gamma
        g_down = (-max(self.pow_up_down, 0.0) + gain - r) * self.pow_gamma
        if self.enforce_consistency:
            g_up, g_down = np.abs(g_up), np.abs(g_down)
        return np.stack([g_up, g_down]), np.zeros(0)


@dataclass(frozen=True)
class PiecewiseStep(PulsedDevice):
    """Step size interpolated from node values evenly spaced over each cell's bounds.

    Parameters (besides :class:`PulsedDevice`)
    ------------------------------------------
    piecewise_up, piecewise_down : tuple of float
        Node values (relative to the cell's step) of up and down steps at
        ``bmin + k (bmax - bmin)/(n - 1)``; both of the same length n >= 1, values >= 0.
    """

    piecewise_up: tuple = field(default=(1.0,))
    piecewise_down: tuple = field(default=(1.0,))

    _law_id: ClassVar[int] = laws.PIECEWISE
    aihwkit_name: ClassVar[str] = "PiecewiseStepDevice"

    @property
    def granularity(self):
        """Up step at the middle node, ``dw_min piecewise_up[n // 2]``."""
        g = self.dw_min * self.piecewise_up[len(self.piecewise_up) // 2]
        return g if g > 0 else self.dw_min

    def _check_family(self, owner):
        for name in ("piecewise_up", "piecewise_down"):
            vals = getattr(self, name)
            if min(vals) < 0:
                raise DeviceError(f"{owner}.{name} node values must be >= 0, got {list(vals)}")
        if len(self.piecewise_up) != len(self.piecewise_down):
            raise DeviceError(f"{owner}: piecewise_up and piecewise_down must have the same "
                              f"length, got {len(self.piecewise_up)} and "
                              f"{len(self.piecewise_down)}")

    def _realize_family(self, gen, shape, cells):
        n = len(self.piecewise_up)
        return np.zeros((0,) + shape), np.array([float(n), *self.piecewise_up,
                                                 *self.piecewise_down])


@dataclass(frozen=True)
class SoftBoundsReference(PulsedDevice):
    """Soft-bounds device read as the difference to a fixed reference device.

    The device conductance ``v = w + ref`` follows soft bounds
    (``dw_up (1 - v/bmax)`` up, ``dw_down (1 - v/bmin)`` down); the read weight is
    ``w = v - ref``. With ``subtract_symmetry_point`` the reference sits at the cell's
    symmetry point, so random pulses relax the read weight to about 0.

    Parameters (besides :class:`PulsedDevice`)
    ------------------------------------------
    mult_noise : bool
        Multiplicative c2c noise (default False: additive ``(1 - v/b + sigma xi)``).
    slope_up_dtod, slope_down_dtod : float
        d2d spread of the soft-bound slopes, applied as bound scale ``1/|1 + dtod xi|``.
    reference_mean, reference_std : float
        The reference conductance per cell.
    subtract_symmetry_point : bool
        Add each cell's symmetry point to its reference (and to its reset value).
    """

    mult_noise: bool = False
    slope_up_dtod: float = _p(0.0, low=0.0)
    slope_down_dtod: float = _p(0.0, low=0.0)
    reference_mean: float = _p(0.0)
    reference_std: float = _p(0.0, low=0.0)
    subtract_symmetry_point: bool = False

    _law_id: ClassVar[int] = laws.REFERENCE
    aihwkit_name: ClassVar[str] = "SoftBoundsReferenceDevice"

    def _realize_family(self, gen, shape, cells):
        vmin, vmax = cells["bmin"], cells["bmax"]
        both = (vmax > 0) & (vmin < 0)
        vmax = np.where(both, vmax / np.abs(1.0 + self.slope_up_dtod * gen.standard_normal(shape)),
                        vmax)
        vmin = np.where(both, vmin / np.abs(1.0 + self.slope_down_dtod
                                            * gen.standard_normal(shape)), vmin)
        ref = self.reference_mean + self.reference_std * gen.standard_normal(shape)
        if self.subtract_symmetry_point:
            su, sd = cells["dw_up"], cells["dw_down"]
            with np.errstate(divide="ignore", invalid="ignore"):
                sp = (su - sd) / (su / vmax - sd / vmin)
            sp = np.where(both & np.isfinite(sp), sp, 0.0)
            ref = ref + sp
            cells["reset_bias"] = cells["reset_bias"] + sp
        cells["bmin"] = vmin - ref
        cells["bmax"] = vmax - ref
        return np.stack([ref, vmax, vmin]), np.array([1.0 if self.mult_noise else 0.0])


FAMILIES = (ConstantStep, LinearStep, SoftBounds, ExpStep, PowStep, PiecewiseStep,
            SoftBoundsReference)
