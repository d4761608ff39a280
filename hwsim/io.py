"""Peripheral IO of an analog tile: DAC, ADC, noise and bound management, IR drop.

A crossbar read is not a matrix product. The digital input vector is scaled into the
DAC's range (noise management), converted to a finite number of voltage levels and clipped,
the array sums currents along its columns (with IR drop and read noise on the way), and the
ADC adds its own noise, quantises and clips the result. When an output clips, the periphery
can repeat the read with the input scaled down further (bound management). This module
implements that pipeline (reference/devices.md section 7) for a batch of vectors: the
product is numpy's (BLAS), each converter one small numba pass; :class:`IOConfig` holds its
parameters under aihwkit's ``IOParameters`` names and defaults, so configurations port by
name.

Pipeline per vector (``M`` the matrix being read, ``n`` its number of inputs):

1. noise management: a scale ``alpha`` per sample (``abs_max``: ``max|x|``, ...);
2. DAC: ``x~ = clip(Q_inp(x / alpha), +-inp_bound) + inp_noise xi``;
3. the array: ``y~ = M x~``, then IR drop, then weight (read) noise;
4. ADC: output nonlinearity, ``+ out_noise xi``, ``Q_out``, clip to ``+-out_bound``;
5. bound management (forward only): samples whose output clipped are read again with
   ``alpha`` doubled, until nothing clips or a limit is reached;
6. ``y = y~ alpha out_scale``.

Randomness comes from a ``numpy.random.Generator`` that the caller owns (a tile creates one
from its seed): each read takes one 64-bit key from it and draws its converter noise and
stochastic rounding from the counter-based streams of :mod:`devices.rng` under that key, so
a read is deterministic for a seed and a call sequence.
"""

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from devices.rng import derive as rng_derive
from devices.rng import normal as rng_normal
from devices.rng import uniform as rng_uniform

from . import _validate as V
from .errors import ConfigError

NOISE_MANAGEMENT = ("abs_max", "max", "constant", "none")
BOUND_MANAGEMENT = ("none", "iterative", "iterative_worst_case")
W_NOISE_TYPES = ("none", "additive_constant", "pcm_read")

_BOOLS = ("is_perfect", "inp_sto_round", "out_sto_round")
_CHOICES = {"noise_management": NOISE_MANAGEMENT, "bound_management": BOUND_MANAGEMENT,
            "w_noise_type": W_NOISE_TYPES}
# name -> (low, low_open); None means any finite real
_REALS = {"inp_bound": (0.0, True), "inp_res": None, "inp_noise": (0.0, False),
          "out_bound": (0.0, True), "out_res": None, "out_noise": (0.0, False),
          "out_scale": (0.0, True), "out_nonlinearity": (0.0, False), "nm_thres": (0.0, False),
          "max_bm_factor": (1.0, False), "max_bm_res": (0.0, True), "w_noise": (0.0, False),
          "ir_drop": (0.0, False), "ir_drop_g_ratio": (0.0, True)}


@dataclass(frozen=True)
class IOConfig:
    """Parameters of the periphery of one read direction (aihwkit ``IOParameters`` names).

    Parameters
    ----------
    is_perfect : bool
        Exact matrix product: no scaling, quantisation, bounds or noise. Default False.
    inp_bound : float
        DAC range ``+-inp_bound`` in normalised input units. Default 1.0.
    inp_res : float
        DAC resolution: ``<= 0`` none, ``<= 1`` the step as a fraction of the full range
        (quantum ``inp_res * 2 * inp_bound``), ``> 1`` the number of steps. Default
        ``1/(2**7 - 2)`` (7 bits, 127 symmetric levels).
    inp_sto_round : bool
        Stochastic instead of nearest rounding in the DAC.
    inp_noise : float
        Gaussian noise added to each converted input (normalised units). Default 0.
    out_bound : float
        ADC range ``+-out_bound`` in normalised output units. Default 12.
    out_res : float
        ADC resolution, same convention as ``inp_res``. Default ``1/(2**9 - 2)`` (9 bits).
    out_sto_round : bool
        Stochastic rounding in the ADC.
    out_noise : float
        Gaussian noise added to each output before the ADC (normalised units, so the noise
        of the returned value is ``out_noise * alpha``). Default 0.06.
    out_scale : float
        Digital gain applied to the result. Default 1.
    out_nonlinearity : float
        Saturating ADC front end ``y / (1 + n |y|)`` with ``n = out_nonlinearity /
        out_bound``. Default 0 (linear).
    noise_management : str
        How the input scale ``alpha`` is chosen per vector: ``"abs_max"`` (``max|x|``, the
        default), ``"max"`` (``max x``; ``max|x|`` where no entry is positive),
        ``"constant"`` (``nm_thres``) or ``"none"`` (1).
    nm_thres : float
        The constant of ``"constant"`` (then > 0 is required); for ``"abs_max"`` and
        ``"max"`` a value > 0 caps ``alpha`` at ``nm_thres``. Default 0.
    bound_management : str
        ``"iterative"`` (default): re-read the samples whose output clipped with ``alpha``
        doubled, until none clips or a limit below is hit. ``"iterative_worst_case"``: at
        most one repeat, with the input scaled so that the noise-free output cannot clip.
        ``"none"``. Forward reads only.
    max_bm_factor : float
        Stop doubling once the factor exceeds this. Default 1000.
    max_bm_res : float
        Stop doubling once the factor exceeds ``max_bm_res / inp_res`` (the scaled input
        would use fewer than ``1/max_bm_res`` levels). Default 0.25.
    w_noise : float
        Read noise of the weights, redrawn every read, never stored. Default 0.
    w_noise_type : str
        ``"none"`` (default), ``"additive_constant"`` (``y_i += w_noise ||x~|| xi``, i.e.
        i.i.d. noise per weight) or ``"pcm_read"`` (``y_i += w_noise sqrt(sum_j |w_ij|
        x~_j^2) xi``).
    ir_drop : float
        Scale of the steady-state IR-drop correction (0 = off), see :func:`ir_drop`.
    ir_drop_g_ratio : float
        Wire conductance over device maximum conductance. Default ``1/0.35/5e-6``.

    Notes
    -----
    Unknown keywords raise ``TypeError`` naming them; invalid or non-finite values raise
    :class:`hwsim.errors.ConfigError` naming the parameter and the value.
    """

    is_perfect: bool = False
    inp_bound: float = 1.0
    inp_res: float = 1.0 / (2 ** 7 - 2)
    inp_sto_round: bool = False
    inp_noise: float = 0.0
    out_bound: float = 12.0
    out_res: float = 1.0 / (2 ** 9 - 2)
    out_sto_round: bool = False
    out_noise: float = 0.06
    out_scale: float = 1.0
    out_nonlinearity: float = 0.0
    noise_management: str = "abs_max"
    nm_thres: float = 0.0
    bound_management: str = "iterative"
    max_bm_factor: float = 1000.0
    max_bm_res: float = 0.25
    w_noise: float = 0.0
    w_noise_type: str = "none"
    ir_drop: float = 0.0
    ir_drop_g_ratio: float = 1.0 / 0.35 / 5e-6

    def __post_init__(self):
        owner = type(self).__name__
        for name in _BOOLS:
            object.__setattr__(self, name, V.boolean(owner, name, getattr(self, name)))
        for name, allowed in _CHOICES.items():
            object.__setattr__(self, name, V.choice(owner, name, getattr(self, name), allowed))
        for name, rng in _REALS.items():
            low, low_open = rng if rng is not None else (None, False)
            object.__setattr__(self, name, V.real(owner, name, getattr(self, name), low=low,
                                                  low_open=low_open))
        if self.noise_management == "constant" and self.nm_thres <= 0.0:
            raise ConfigError(f"{owner}.nm_thres must be > 0 with noise_management='constant' "
                              f"(it is the constant input scale), got {self.nm_thres!r}")
        # Derived constants of the read loop, computed once (the config is frozen): a read
        # of one vector is short enough that recomputing them shows in its time.
        object.__setattr__(self, "_derived", _Derived(
            inp_step=quantum(self.inp_res, self.inp_bound),
            out_step=quantum(self.out_res, self.out_bound),
            nonlin=self.out_nonlinearity / self.out_bound,
            needs_abs=not self.is_perfect and (
                self.ir_drop > 0 or (self.w_noise > 0 and self.w_noise_type == "pcm_read")
                or self.bound_management == "iterative_worst_case"),
            w_noise_on=self.w_noise > 0 and self.w_noise_type != "none",
            nm_mode=_NM_MODES.get(self.noise_management, _NM_GIVEN)))

    # ----------------------------------------------------------- constructors
    @classmethod
    def from_bits(cls, dac_bits=8, adc_bits=8, **other):
        """A configuration with ``dac_bits`` / ``adc_bits`` converters.

        ``b`` bits give ``2**b - 2`` steps, i.e. ``2**b - 1`` levels symmetric about zero
        (aihwkit's convention: its 7-bit default is ``1/(2**7 - 2)``). ``None`` means no
        quantisation on that side. Other keywords are :class:`IOConfig` fields.
        """
        res = {}
        for name, bits in (("dac_bits", dac_bits), ("adc_bits", adc_bits)):
            if bits is None:
                res[name] = 0.0
                continue
            bits = V.integer("IOConfig.from_bits", name, bits)
            if not 2 <= bits <= 52:
                raise ConfigError(f"IOConfig.from_bits: {name} must be between 2 and 52 "
                                  f"(b bits give 2**b - 1 symmetric levels; 1 bit has no "
                                  f"zero level), got {bits}")
            res[name] = 1.0 / (2 ** bits - 2)
        return cls(inp_res=res["dac_bits"], out_res=res["adc_bits"], **other)

    @classmethod
    def perfect(cls):
        """Exact reads: no scaling, quantisation, bounds or noise."""
        return cls(is_perfect=True, inp_res=0.0, out_res=0.0, out_noise=0.0,
                   noise_management="none", bound_management="none")

    @classmethod
    def standard(cls):
        """aihwkit's ``StandardIOParameters``: 8-bit DAC and ADC, out_bound 10, out_noise 0.04."""
        return cls.from_bits(8, 8, out_bound=10.0, out_noise=0.04)

    # ----------------------------------------------------------- conveniences
    def replace(self, **changes):
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def field_names(cls):
        return tuple(f.name for f in dataclasses.fields(cls))

    @property
    def inp_step(self):
        """DAC quantum in normalised input units (0 = no quantisation)."""
        return self._derived.inp_step

    @property
    def out_step(self):
        """ADC quantum in normalised output units (0 = no quantisation)."""
        return self._derived.out_step

    @property
    def needs_abs_weights(self):
        """Whether a read needs ``|W|`` (IR drop, PCM read noise, worst-case bound management)."""
        return self._derived.needs_abs


# noise-management modes of the DAC kernel: scale given, or computed per row
_NM_GIVEN, _NM_ABS_MAX, _NM_MAX = 0, 1, 2
_NM_MODES = {"abs_max": _NM_ABS_MAX, "max": _NM_MAX}


@dataclass(frozen=True)
class _Derived:
    inp_step: float
    out_step: float
    nonlin: float
    needs_abs: bool
    w_noise_on: bool
    nm_mode: int


# ------------------------------------------------------------------- elements
def resolution_fraction(res):
    """A resolution as a fraction of the full range (0 = none): ``res`` or ``1/res``."""
    if res <= 0.0:
        return 0.0
    return res if res <= 1.0 else 1.0 / res


def quantum(res, bound):
    """The quantisation step of a converter with resolution ``res`` over ``+-bound``."""
    return resolution_fraction(res) * 2.0 * bound


def quantize(v, step, bound, sto_round=False, rng=None):
    """Round ``v`` to multiples of ``step`` (if > 0), then clip to ``+-bound``; in place.

    Nearest rounding rounds halves up (as the converter kernels do); stochastic rounding
    rounds up with probability equal to the remainder (unbiased) and needs ``rng``.
    Returns ``v``. (The pipeline runs the same arithmetic inside its numba kernels.)
    """
    if step > 0.0:
        v /= step
        v += rng.random(v.shape) if sto_round else 0.5
        np.floor(v, out=v)
        v *= step
    np.clip(v, -bound, bound, out=v)
    return v


def input_scale(x, cfg):
    """Noise-management scale ``alpha`` per sample, shape ``(batch,)`` (step 1).

    A sample whose scale would be 0 (an all-zero input) gets 0: its output is then 0.
    (:func:`mvm` computes the same inside the DAC kernel.)
    """
    nm = cfg.noise_management
    if nm == "none":
        return np.ones(x.shape[0])
    if nm == "constant":
        return np.full(x.shape[0], cfg.nm_thres)
    alpha = np.empty(x.shape[0])
    _row_scales(x, cfg._derived.nm_mode, cfg.nm_thres, alpha)
    return alpha


def ir_drop(weights, abs_weights, xt, cfg):
    """Steady-state IR-drop correction to subtract from ``xt @ weights.T`` (step 3).

    With ``n`` inputs at positions ``j = 0 .. n-1`` along the wire (reference/devices.md
    section 7): ``a_i = (n / g_ratio) sum_j |w_ij| |x_j|``,
    ``c_i = a_i (a_i (0.05 a_i - 0.2) + 0.5)``, ``x'_j = x_j (1 - (1 - j/n)^2)``; the
    returned term is ``ir_drop c_i sum_j w_ij x'_j``. The drop grows with the total current
    the row draws (``a``) and is felt most by the inputs farthest from the driver.
    """
    n = weights.shape[1]
    a = np.abs(xt) @ abs_weights.T
    a *= n / cfg.ir_drop_g_ratio
    c = a * (a * (0.05 * a - 0.2) + 0.5)
    pos = 1.0 - (1.0 - np.arange(n) / n) ** 2
    term = (xt * pos) @ weights.T
    term *= c
    term *= cfg.ir_drop
    return term


def weight_noise(abs_weights, xt, shape, cfg, rng):
    """Read noise of the weights as output noise, shape ``shape`` (step 3)."""
    if cfg.w_noise_type == "additive_constant":
        std = np.sqrt(np.einsum("ij,ij->i", xt, xt))[:, None]
    else:  # pcm_read: the noise of each device grows with its conductance
        std = np.sqrt((xt * xt) @ abs_weights.T)
    return cfg.w_noise * std * rng.standard_normal(shape)


def analog_pass(weights, x, alpha, cfg, rng, abs_weights=None, inp_bound=None):
    """One read of the array by the periphery (steps 2-4), rescaled by ``alpha``.

    Parameters
    ----------
    weights : ndarray, shape (m, n)
        The matrix being read (``W`` forward, ``W.T`` backward).
    x : ndarray, shape (batch, n)
        Digital inputs (C-contiguous float64), not modified.
    alpha : ndarray, shape (batch,), or None
        Input scale per sample; None computes it by ``cfg.noise_management`` (step 1).
    cfg : IOConfig
    rng : numpy.random.Generator
        Source of the key of this read's counter-based noise and rounding draws.
    abs_weights : ndarray, optional
        ``|weights|`` (needed for IR drop and PCM read noise; computed if missing).
    inp_bound : float, optional
        Overrides ``cfg.inp_bound`` (the backward read under noise management).

    Returns
    -------
    y : ndarray, shape (batch, m)
        ADC outputs times ``alpha * out_scale``.
    clipped : ndarray of bool, shape (batch,)
        Samples with an ADC output at its bound (before the rescaling).
    alpha : ndarray, shape (batch,)
        The input scale used.
    """
    k = cfg._derived
    mode = _NM_GIVEN
    if alpha is None:
        mode = k.nm_mode
        alpha = np.empty(x.shape[0]) if mode != _NM_GIVEN else input_scale(x, cfg)
    step, bound = k.inp_step, cfg.inp_bound
    if inp_bound is not None:
        step, bound = quantum(cfg.inp_res, inp_bound), inp_bound
    key = np.uint64(rng.bit_generator.random_raw())
    xt = np.empty_like(x)
    _dac(x, alpha, mode, cfg.nm_thres, step, bound, cfg.inp_sto_round, cfg.inp_noise, key, xt)
    y = xt @ weights.T
    if k.needs_abs and abs_weights is None:
        abs_weights = np.abs(weights)
    if cfg.ir_drop > 0.0:
        y -= ir_drop(weights, abs_weights, xt, cfg)
    if k.w_noise_on:
        y += weight_noise(abs_weights, xt, y.shape, cfg, rng)
    scale = alpha * cfg.out_scale if cfg.out_scale != 1.0 else alpha
    clipped = np.empty(x.shape[0], dtype=np.bool_)
    _adc(y, k.nonlin, cfg.out_noise, k.out_step, cfg.out_bound, cfg.out_sto_round, key, scale,
         clipped)
    return y, clipped, alpha


# ------------------------------------------------------------------- kernels
# One numba pass per converter instead of a numpy pass per operation. The noise and
# rounding draws are counter-based (devices.rng), keyed per read and indexed by (sample,
# line). Each row is processed in short loops (draw the noise row, then add, round, clip),
# which lets LLVM vectorise everything but the draws: measured at batch 64 x 512, 210 us
# instead of 350 us for one fused loop. The kernels are serial on purpose: on 2 cores,
# numba's OpenMP threads started right after a multi-threaded OpenBLAS product compete with
# BLAS's spinning threads and a read stalls for a scheduler tick (8 ms instead of 1 ms).
_STREAM_DAC_ROUND, _STREAM_DAC_NOISE, _STREAM_ADC_ROUND, _STREAM_ADC_NOISE = 1, 2, 3, 4


@njit(cache=True)
def _row_max(x, b, absolute):
    """``max |x[b]|`` or ``max x[b]``, with four running maxima.

    One running maximum is a chain of dependent compares that LLVM does not vectorise;
    four independent ones run about 4x faster (max is exact in any order).
    """
    n = x.shape[1]
    m0 = m1 = m2 = m3 = 0.0 if absolute else -np.inf
    j = 0
    while j + 4 <= n:
        v0, v1, v2, v3 = x[b, j], x[b, j + 1], x[b, j + 2], x[b, j + 3]
        if absolute:
            v0, v1, v2, v3 = abs(v0), abs(v1), abs(v2), abs(v3)
        m0 = v0 if v0 > m0 else m0
        m1 = v1 if v1 > m1 else m1
        m2 = v2 if v2 > m2 else m2
        m3 = v3 if v3 > m3 else m3
        j += 4
    while j < n:
        v0 = abs(x[b, j]) if absolute else x[b, j]
        m0 = v0 if v0 > m0 else m0
        j += 1
    return max(max(m0, m1), max(m2, m3))


@njit(cache=True)
def _row_scale(x, b, mode, thres):
    """Noise-management scale of row ``b``: ``max|x|``, or ``max x`` where positive."""
    a = -1.0
    if mode == _NM_MAX:
        a = _row_max(x, b, False)
    if a <= 0.0:
        a = _row_max(x, b, True)
    return min(a, thres) if thres > 0.0 else a


@njit(cache=True)
def _row_scales(x, mode, thres, out):
    for b in range(x.shape[0]):
        out[b] = _row_scale(x, b, mode, thres)


@njit(cache=True)
def _quantize_row(row, step, sto_round, key, base):
    """Round ``row`` in place to multiples of ``step``: halves up, or stochastically."""
    inv = 1.0 / step
    if sto_round:
        for j in range(row.size):
            row[j] = math.floor(row[j] * inv + rng_uniform(key, base + j)) * step
    else:
        for j in range(row.size):
            row[j] = math.floor(row[j] * inv + 0.5) * step


@njit(cache=True)
def _add_noise_row(row, std, key, base, buf):
    """``row += std xi`` with the normals drawn first into ``buf`` (a tight draw loop)."""
    for j in range(row.size):
        buf[j] = rng_normal(key, base + j)
    for j in range(row.size):
        row[j] += std * buf[j]


@njit(cache=True)
def _dac(x, alpha, mode, thres, step, bound, sto_round, noise, key, out):
    """``out = clip(Q(x / alpha), +-bound) + noise xi`` (steps 1-2).

    With ``mode`` != ``_NM_GIVEN`` the scale of each row is computed first and stored in
    ``alpha``.
    """
    batch, n = x.shape
    kr = rng_derive(key, _STREAM_DAC_ROUND)
    kn = rng_derive(key, _STREAM_DAC_NOISE)
    buf = np.empty(n)
    for b in range(batch):
        if mode != _NM_GIVEN:
            alpha[b] = _row_scale(x, b, mode, thres)
        a = alpha[b] if alpha[b] > 0.0 else 1.0
        row = out[b]
        if step > 0.0 and not sto_round:
            # the common case in one loop: scale, round (halves up), clip
            inv = 1.0 / step
            for j in range(n):
                v = math.floor(x[b, j] / a * inv + 0.5) * step
                row[j] = min(max(v, -bound), bound)
        else:
            for j in range(n):
                row[j] = x[b, j] / a
            if step > 0.0:
                _quantize_row(row, step, sto_round, kr, b * n)
            for j in range(n):
                row[j] = min(max(row[j], -bound), bound)
        if noise > 0.0:
            _add_noise_row(row, noise, kn, b * n, buf)


@njit(cache=True)
def _adc(y, nonlin, noise, step, bound, sto_round, key, scale, clipped):
    """Output nonlinearity, ``+ noise xi``, ``Q``, clip, flag, rescale (steps 4 and 6)."""
    batch, m = y.shape
    kr = rng_derive(key, _STREAM_ADC_ROUND)
    kn = rng_derive(key, _STREAM_ADC_NOISE)
    buf = np.empty(m)
    for b in range(batch):
        row = y[b]
        if nonlin > 0.0:
            for i in range(m):
                row[i] = row[i] / (1.0 + nonlin * abs(row[i]))
        if noise > 0.0:
            _add_noise_row(row, noise, kn, b * m, buf)
        if step > 0.0:
            _quantize_row(row, step, sto_round, kr, b * m)
        hit = False
        s = scale[b]
        for i in range(m):
            v = row[i]
            hit |= abs(v) >= bound
            row[i] = min(max(v, -bound), bound) * s
        clipped[b] = hit


# ------------------------------------------------------------------- management
def _may_double(factor, cfg):
    """Whether samples read with bound-management ``factor`` may be read again at 2x.

    aihwkit's rule: stop after the read whose factor exceeds ``max_bm_factor`` or
    ``max_bm_res / inp_res``.
    """
    ok = factor <= cfg.max_bm_factor
    frac = resolution_fraction(cfg.inp_res)
    if frac > 0.0:
        ok &= factor <= cfg.max_bm_res / frac
    return ok


def _iterative(weights, x, alpha, y, clipped, cfg, rng, abs_weights):
    """Re-read clipped samples with doubled scale (step 5); returns the extra vector reads."""
    factor = np.ones(x.shape[0])
    idx = np.flatnonzero(clipped)
    repeats = 0
    while idx.size:
        idx = idx[_may_double(factor[idx], cfg)]
        if not idx.size:
            break
        factor[idx] *= 2.0
        y[idx], hit, _ = analog_pass(weights, x[idx], alpha[idx] * factor[idx], cfg, rng,
                                     abs_weights)
        repeats += idx.size
        idx = idx[hit]
    return repeats


def _worst_case(weights, x, alpha, y, clipped, cfg, rng, abs_weights):
    """One repeat of clipped samples, scaled so the noise-free output cannot clip."""
    idx = np.flatnonzero(clipped)
    if not idx.size:
        return 0
    if abs_weights is None:
        abs_weights = np.abs(weights)
    safe = np.where(alpha[idx] > 0.0, alpha[idx], 1.0)
    # the largest possible |output| of the scaled input is max_i sum_j |w_ij||x_j|
    worst = (np.abs(x[idx]) / safe[:, None]) @ abs_weights.T
    factor = np.clip(worst.max(axis=1) / cfg.out_bound, 2.0, max(cfg.max_bm_factor, 2.0))
    y[idx], _, _ = analog_pass(weights, x[idx], alpha[idx] * factor, cfg, rng, abs_weights)
    return idx.size


def mvm(weights, x, cfg, rng, *, backward=False, abs_weights=None):
    """A read ``x @ weights.T`` through the periphery (steps 1-6) for a batch.

    Parameters
    ----------
    weights : ndarray, shape (m, n)
        The matrix read (pass ``W.T``, a view, for the transposed read).
    x : ndarray, shape (batch, n)
        Inputs (finite, C-contiguous float64; not modified).
    cfg : IOConfig
    rng : numpy.random.Generator
    backward : bool
        A backward (transposed) read: no bound management, and ``inp_bound`` is 1 when
        noise management is on (aihwkit's backward pass).
    abs_weights : ndarray, optional
        Cached ``|weights|``; computed when a feature needs it and it is missing.

    Returns
    -------
    y : ndarray, shape (batch, m)
    repeats : int
        Extra vector reads made by bound management (0 without).
    """
    if cfg.is_perfect:
        return x @ weights.T, 0
    inp_bound = 1.0 if backward and cfg.noise_management != "none" else None
    y, clipped, alpha = analog_pass(weights, x, None, cfg, rng, abs_weights, inp_bound)
    repeats = 0
    if not backward and cfg.bound_management != "none" and clipped.any():
        manage = _iterative if cfg.bound_management == "iterative" else _worst_case
        repeats = manage(weights, x, alpha, y, clipped, cfg, rng, abs_weights)
    return y, repeats
