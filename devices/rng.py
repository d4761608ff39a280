"""Counter-based random numbers for the numba kernels.

Every random number a kernel draws is a pure function of ``(key, counter)``: the key comes
from the array's seed and a per-call stream number, the counter from the position of the
draw (sample, row, column, slot, pulse). No generator state is shared between threads, so
a result does not depend on how ``prange`` splits the work: the same seed gives the same
bits with one thread or many.

The mixing function is SplitMix64's finaliser (Steele, Lea & Flood, OOPSLA 2014), which
passes BigCrush when fed a Weyl sequence; we feed it ``key + counter * golden``.
"""

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True)
def mix(z):
    """SplitMix64 finaliser: a bijection of uint64 with full avalanche."""
    z = np.uint64(z)
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def derive(key, stream):
    """Key of a sub-stream: a new key for each ``stream`` number under ``key``."""
    return mix(np.uint64(key) ^ mix(np.uint64(stream) * _GOLDEN + _GOLDEN))


@njit(cache=True)
def bits(key, counter):
    """64 random bits for position ``counter`` of the stream ``key``."""
    return mix(np.uint64(key) + (np.uint64(counter) + np.uint64(1)) * _GOLDEN)


@njit(cache=True)
def uniform(key, counter):
    """Uniform double in [0, 1) with 53 random bits."""
    return float(bits(key, counter) >> _S11) * _INV53


# Rational approximation of the inverse normal CDF (P. J. Acklam, 2003; relative error
# below 1.2e-9 everywhere). Its central branch needs no log or cos, so a normal costs a few
# nanoseconds instead of the ~40 ns of Box-Muller, and it is exact to double-precision
# sampling for any purpose a device model has.
_A0, _A1, _A2 = -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02
_A3, _A4, _A5 = 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00
_B0, _B1, _B2 = -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02
_B3, _B4 = 6.680131188771972e+01, -1.328068155288572e+01
_C0, _C1, _C2 = -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00
_C3, _C4, _C5 = -2.549671348494253e+00, 4.374664141464968e+00, 2.938163982698783e+00
_D0, _D1, _D2, _D3 = 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, \
    3.754408661907416e+00
_P_LOW = 0.02425


@njit(cache=True)
def _tail(p):
    q = np.sqrt(-2.0 * np.log(p))
    return ((((((_C0 * q + _C1) * q + _C2) * q + _C3) * q + _C4) * q + _C5)
            / ((((_D0 * q + _D1) * q + _D2) * q + _D3) * q + 1.0))


@njit(cache=True)
def normal(key, counter):
    """Standard normal by inversion of a 53-bit uniform in (0, 1)."""
    p = (float(bits(key, counter) >> _S11) + 0.5) * _INV53
    if p < _P_LOW:
        return _tail(p)
    if p > 1.0 - _P_LOW:
        return -_tail(1.0 - p)
    q = p - 0.5
    r = q * q
    return ((((((_A0 * r + _A1) * r + _A2) * r + _A3) * r + _A4) * r + _A5) * q
            / (((((_B0 * r + _B1) * r + _B2) * r + _B3) * r + _B4) * r + 1.0))


def key_from_seed(seed):
    """Kernel key (uint64) of an integer seed, computed the same way on every platform."""
    z = (int(seed) * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & 0xFFFFFFFFFFFFFFFF
    return np.uint64(_mix_py(z))


def _mix_py(z):
    z &= 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return z ^ (z >> 31)


@njit(cache=True)
def fill_normal(key, out):
    """Fill ``out`` (any shape, C order) with standard normals of stream ``key``."""
    flat = out.reshape(-1)
    for k in range(flat.size):
        flat[k] = normal(key, k)


@njit(cache=True)
def fill_uniform(key, out):
    """Fill ``out`` (any shape, C order) with uniforms in [0, 1) of stream ``key``."""
    flat = out.reshape(-1)
    for k in range(flat.size):
        flat[k] = uniform(key, k)
