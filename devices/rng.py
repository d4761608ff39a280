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


def _ziggurat_tables(n=128, r=3.442619855899, v=9.91256303526217e-3):
    """Layer tables of the Marsaglia-Tsang ziggurat for the standard normal (SSJ 5(8), 2000).

    ``k[i]`` is the acceptance threshold of layer i for a signed 32-bit draw, ``w[i]`` the
    scale from the draw to x, ``f[i]`` the density at the layer's edge.
    """
    m1 = 2147483648.0
    k = np.zeros(n, dtype=np.int64)
    w = np.zeros(n)
    f = np.zeros(n)
    dn = tn = r
    q = v / np.exp(-0.5 * dn * dn)
    k[0] = int((dn / q) * m1)
    k[1] = 0
    w[0] = q / m1
    w[n - 1] = dn / m1
    f[0] = 1.0
    f[n - 1] = np.exp(-0.5 * dn * dn)
    for i in range(n - 2, 0, -1):
        dn = np.sqrt(-2.0 * np.log(v / dn + np.exp(-0.5 * dn * dn)))
        k[i + 1] = int((dn / tn) * m1)
        tn = dn
        f[i] = np.exp(-0.5 * dn * dn)
        w[i] = dn / m1
    return k, w, f


_ZK, _ZW, _ZF = _ziggurat_tables()
_ZR = 3.442619855899
_MASK7 = np.uint64(127)
_S32 = np.uint64(32)


@njit(cache=True)
def _signed32(h):
    v = np.int64(h & np.uint64(0xFFFFFFFF))
    return v - 4294967296 if v >= 2147483648 else v


@njit(cache=True)
def normal(key, counter):
    """Standard normal by the ziggurat method from one 64-bit draw.

    The low 32 bits are the signed abscissa, bits 32-38 the layer; 98.8 % of draws end
    after one table comparison. The rare rejections continue on a sub-stream of this
    draw's counter, so the result stays a pure function of ``(key, counter)``.
    """
    h = bits(key, counter)
    hz = _signed32(h)
    iz = np.int64((h >> _S32) & _MASK7)
    if abs(hz) < _ZK[iz]:
        return hz * _ZW[iz]
    return _normal_slow(key, counter, hz, iz)


@njit(cache=True)
def _normal_slow(key, counter, hz, iz):
    sub = derive(key, np.uint64(counter) ^ np.uint64(0x5DEECE66D))
    t = np.uint64(0)
    while True:
        x = hz * _ZW[iz]
        if iz == 0:
            # the base strip: sample the tail beyond r (Marsaglia 1964)
            while True:
                x = -np.log(1.0 - uniform(sub, t)) / _ZR
                y = -np.log(1.0 - uniform(sub, t + np.uint64(1)))
                t += np.uint64(2)
                if y + y >= x * x:
                    break
            return _ZR + x if hz > 0 else -_ZR - x
        if _ZF[iz] + uniform(sub, t) * (_ZF[iz - 1] - _ZF[iz]) < np.exp(-0.5 * x * x):
            return x
        h = bits(sub, t + np.uint64(1))
        t += np.uint64(2)
        hz = _signed32(h)
        iz = np.int64((h >> _S32) & _MASK7)
        if abs(hz) < _ZK[iz]:
            return hz * _ZW[iz]


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
