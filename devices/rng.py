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
_S32 = np.uint64(32)
_S11 = np.uint64(11)
_LOW32 = np.uint64(0xFFFFFFFF)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53
_INV32 = 1.0 / 4294967296.0  # 2**-32
_TWO_PI = 6.283185307179586


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


@njit(cache=True)
def normal(key, counter):
    """Standard normal by Box-Muller on the two 32-bit halves of one draw.

    32-bit halves bound the tails at about 6.7 sigma, far beyond anything a device
    model resolves, at one hash per normal.
    """
    h = bits(key, counter)
    u1 = (float(h >> _S32) + 0.5) * _INV32
    u2 = float(h & _LOW32) * _INV32
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(_TWO_PI * u2)


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
