"""The generic numba kernels every device family shares.

A kernel takes the family's law id as a compile-time literal (``numba.literally``), so
each family gets its own specialised, cached machine code while the loop structure, the
random streams and the clipping live here once. The per-pulse laws are in
:mod:`devices.laws`.

State arrays (all C-contiguous, shape ``(rows, cols)`` unless noted):

``w``          hidden weight, the state the device law acts on
``dw_up``      per-cell step magnitude of an up (potentiating) pulse
``dw_down``    per-cell step magnitude of a down (depressing) pulse
``bmin, bmax`` per-cell hard bounds; the weight is clipped to them after every pulse
``cp``         per-cell extra parameters of the family, shape ``(n_cp, rows, cols)``
``gp``         tile-wide parameters of the family; ``gp[0]`` is the c2c spread
               ``dw_min_std``

Random streams: every kernel gets a ``key`` that the caller derives from the array's seed
and a call counter; each draw's counter is its position (sample, cell, slot, pulse), see
:mod:`devices.rng`.
"""

import types

import numpy as np
from numba import literally, njit, prange, typeof

from . import rng
from .laws import step

# Stream numbers under one call key.
_STREAM_X = 1
_STREAM_D = 2
_STREAM_C2C = 3


_ENTRY_POINTS = {}

#: Below this many elementary operations a kernel runs as its serial twin (compiled without
#: ``parallel``): launching a parallel region costs tens of microseconds on an idle machine
#: and milliseconds when the cores are busy, more than small arrays take to process. The
#: result does not change: every random draw is a function of its position, not of the
#: thread that makes it.
PARALLEL_MIN_WORK = 1 << 18


def _work(kernel, args):
    """Elementary operations of a law kernel call: cells, times samples or pulses."""
    w = args[0]
    if kernel is pulsed_update:
        return w.size * args[3].shape[0]
    if kernel is apply_pulses:
        return w.size * max(1, int(np.abs(args[1]).max(initial=0)))
    return w.size


def _serial_twin(kernel):
    """The same kernel compiled without ``parallel`` (``prange`` runs as ``range``).

    It gets its own name, so numba caches it apart from the parallel compilation (the
    cache is keyed by the function's qualified name, not by its flags).
    """
    py = kernel.py_func
    name = py.__name__ + "_serial"
    twin = types.FunctionType(py.__code__, py.__globals__, name, py.__defaults__,
                              py.__closure__)
    twin.__qualname__ = name
    twin.__module__ = py.__module__
    twin.__doc__ = f"Serial compilation of ``{py.__name__}`` for small arrays."
    return njit(cache=True)(twin)


def _pick(kernel, work):
    """``kernel`` itself for large work (or if it is serial anyway), else its serial twin."""
    return kernel if work >= PARALLEL_MIN_WORK else _SERIAL.get(kernel, kernel)


def run(kernel, law, *args):
    """Call a law-specialised kernel with law id ``law``.

    Dispatching a ``literally`` argument from Python re-enters numba's compiler on every
    call (tens of milliseconds); so the first call per (kernel, law, argument types)
    compiles or loads the specialisation from the cache, and later calls go straight to its
    compiled entry point (microseconds).
    """
    kernel = _pick(kernel, _work(kernel, args))
    key = (kernel, law) + tuple((a.dtype, a.ndim) if isinstance(a, np.ndarray) else type(a)
                                for a in args)
    entry = _ENTRY_POINTS.get(key)
    if entry is not None:
        return entry(law, *args)
    result = kernel(law, *args)
    want = tuple(typeof(a) for a in args)
    for sig, cres in kernel.overloads.items():
        if getattr(sig[0], "literal_value", None) == law and tuple(sig[1:]) == want:
            _ENTRY_POINTS[key] = cres.entry_point
            break
    return result


@njit(cache=True)
def _clip(w, lo, hi):
    if w < lo:
        return lo
    if w > hi:
        return hi
    return w


@njit(cache=True, parallel=True)
def apply_pulses(law, w, n, dw_up, dw_down, bmin, bmax, cp, gp, key):
    """Apply ``n[i, j]`` pulses to each cell (positive up, negative down).

    Returns the per-row counts of up and down pulses applied, shape ``(rows, 2)``.
    """
    literally(law)
    rows, cols = w.shape
    counts = np.zeros((rows, 2), dtype=np.int64)
    kc = rng.derive(key, _STREAM_C2C)
    for i in prange(rows):
        n_up = 0
        n_down = 0
        for j in range(cols):
            m = n[i, j]
            up = m > 0
            dw = dw_up[i, j] if up else dw_down[i, j]
            ck = rng.derive(kc, i * cols + j)
            wij = w[i, j]
            lo = bmin[i, j]
            hi = bmax[i, j]
            for k in range(abs(m)):
                wij = _clip(step(law, wij, up, dw, lo, hi, cp, i, j, gp, rng.normal(ck, k)), lo, hi)
            w[i, j] = wij
            if up:
                n_up += m
            else:
                n_down -= m
        counts[i, 0] = n_up
        counts[i, 1] = n_down
    return counts


@njit(cache=True)
def pulse_train(law, w, directions, dw_up, dw_down, bmin, bmax, cp, gp, key, noise):
    """Send the same pulse sequence to every cell and record the trajectory.

    ``directions`` is a 1-D int array of +1 (up), -1 (down) or 0 (no pulse). With
    ``noise`` False the c2c draw is zero, which gives the mean-device response.
    Returns the weights after each pulse, shape ``(len(directions) + 1, rows, cols)``
    (row 0 is the start). ``w`` is left at the final state.
    """
    literally(law)
    rows, cols = w.shape
    steps = directions.shape[0]
    out = np.empty((steps + 1, rows, cols))
    out[0] = w
    kc = rng.derive(key, _STREAM_C2C)
    for i in range(rows):
        for j in range(cols):
            ck = rng.derive(kc, i * cols + j)
            wij = w[i, j]
            lo = bmin[i, j]
            hi = bmax[i, j]
            for t in range(steps):
                dirn = directions[t]
                if dirn != 0:
                    up = dirn > 0
                    dw = dw_up[i, j] if up else dw_down[i, j]
                    xi = rng.normal(ck, t) if noise else 0.0
                    wij = _clip(step(law, wij, up, dw, lo, hi, cp, i, j, gp, xi), lo, hi)
                out[t + 1, i, j] = wij
            w[i, j] = wij
    return out


@njit(cache=True)
def expected_step(law, w, up, dw_up, dw_down, bmin, bmax, cp, gp):
    """Noise-free change of each cell's weight for one pulse (clipped to the bounds)."""
    literally(law)
    rows, cols = w.shape
    out = np.empty((rows, cols))
    for i in range(rows):
        for j in range(cols):
            dw = dw_up[i, j] if up else dw_down[i, j]
            wn = _clip(step(law, w[i, j], up, dw, bmin[i, j], bmax[i, j], cp, i, j, gp, 0.0),
                       bmin[i, j], bmax[i, j])
            out[i, j] = wn - w[i, j]
    return out


@njit(cache=True)
def _popcount(v):
    v = v - ((v >> np.uint64(1)) & np.uint64(0x5555555555555555))
    v = (v & np.uint64(0x3333333333333333)) + ((v >> np.uint64(2)) & np.uint64(0x3333333333333333))
    v = (v + (v >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return int((v * np.uint64(0x0101010101010101)) >> np.uint64(56))


@njit(cache=True, parallel=True)
def _pulse_trains(p, bl, key, stream, nwords):
    """Bit trains: bit s of word s//64 of ``out[b, k]`` fires with probability ``p[b, k]``."""
    batch, n = p.shape
    out = np.zeros((batch, n, nwords), dtype=np.uint64)
    kb = rng.derive(key, stream)
    for b in prange(batch):
        L = bl[b]
        if L == 0:
            continue
        kk = rng.derive(kb, b)
        for m in range(n):
            pm = p[b, m]
            if pm <= 0.0:
                continue
            base = m * L
            for s in range(L):
                if rng.uniform(kk, base + s) < pm:
                    out[b, m, s >> 6] |= np.uint64(1) << np.uint64(s & 63)
    return out


@njit(cache=True, parallel=True)
def pulsed_update(law, w, x_sign, d_sign, xbits, dbits, dw_up, dw_down, bmin, bmax, cp, gp,
                  key, touched):
    """Apply the coincidences of precomputed pulse trains, sample by sample.

    Cell (i, j) receives ``popcount(dbits[b, i] & xbits[b, j])`` pulses for sample ``b``,
    in direction up when ``x_sign[b, j] * d_sign[b, i] < 0`` (the update descends
    ``+lr * outer(d, x)``). Samples are applied in batch order, each pulse followed by
    the clip to the cell's bounds. ``touched[i, j]`` is set where a cell got a pulse.
    Returns per-row counts of up and down pulses, shape ``(rows, 2)``.

    Which cells of a row fire is random, so a branch per cell mispredicts often and costs
    more than the pulse itself; the row is therefore first compacted, branch-free, into the
    list of firing columns, and only that list is walked.
    """
    literally(law)
    rows, cols = w.shape
    batch = xbits.shape[0]
    nwords = xbits.shape[2]
    slots = 64 * nwords
    counts = np.zeros((rows, 2), dtype=np.int64)
    kc = rng.derive(key, _STREAM_C2C)
    for i in prange(rows):
        n_up = 0
        n_down = 0
        hit_j = np.empty(cols, dtype=np.int64)
        hit_n = np.empty(cols, dtype=np.int64)
        xi = np.empty(4 * cols)
        for b in range(batch):
            live = False
            for q in range(nwords):
                live = live or dbits[b, i, q] != 0
            if not live:
                continue
            m = 0
            for j in range(cols):
                n = 0
                for q in range(nwords):
                    n += _popcount(dbits[b, i, q] & xbits[b, j, q])
                hit_j[m] = j
                hit_n[m] = n
                m += n > 0
            kb = rng.derive(kc, b * rows + i)
            # Draw the c2c normals of the whole row first: independent draws pipeline,
            # whereas drawn inside the weight recursion each waits for the last.
            total = 0
            for h in range(m):
                total += hit_n[h]
            if total > xi.shape[0]:
                xi = np.empty(2 * total)
            # Counter of pulse k of column j: j * slots + k (k < n <= slots), unique per draw.
            pos = 0
            for h in range(m):
                base = hit_j[h] * slots
                for k in range(hit_n[h]):
                    xi[pos] = rng.normal(kb, base + k)
                    pos += 1
            ds = d_sign[b, i]
            pos = 0
            for h in range(m):
                j = hit_j[h]
                n = hit_n[h]
                up = x_sign[b, j] * ds < 0
                dw = dw_up[i, j] if up else dw_down[i, j]
                lo = bmin[i, j]
                hi = bmax[i, j]
                wij = w[i, j]
                for k in range(n):
                    wij = _clip(step(law, wij, up, dw, lo, hi, cp, i, j, gp, xi[pos]), lo, hi)
                    pos += 1
                w[i, j] = wij
                touched[i, j] = True
                n_up += n * up
                n_down += n * (not up)
        counts[i, 0] = n_up
        counts[i, 1] = n_down
    return counts


def make_pulse_trains(p, bl, key, stream):
    """Python entry for :func:`_pulse_trains` (sizes the word count from ``bl``)."""
    nwords = max(1, (int(bl.max(initial=0)) + 63) // 64)
    kernel = _pick(_pulse_trains, p.size * max(1, int(bl.max(initial=0))))
    return kernel(p, bl, key, stream, nwords)


STREAM_X = _STREAM_X
STREAM_D = _STREAM_D


@njit(cache=True, parallel=True)
def _decay(w, reset_bias, rate, bmin, bmax, scale):
    """Relax toward the reset bias, then clip: ``w <- clip((w - b)(1 - scale * rate) + b)``.

    The clip matters for stuck (corrupt) cells, whose bounds coincide, and for a reset bias
    drawn outside a cell's bounds: decay must never carry a weight past what the device holds.
    """
    rows, cols = w.shape
    for i in prange(rows):
        for j in range(cols):
            r = rate[i, j]
            if r != 0.0:
                f = 1.0 - scale * r
                if f < 0.0:
                    f = 0.0
                w[i, j] = _clip((w[i, j] - reset_bias[i, j]) * f + reset_bias[i, j],
                                bmin[i, j], bmax[i, j])


@njit(cache=True, parallel=True)
def _diffuse(w, rho, bmin, bmax, key, scale):
    """Random walk: ``w <- clip(w + scale * rho * xi)``."""
    rows, cols = w.shape
    for i in prange(rows):
        for j in range(cols):
            r = rho[i, j]
            if r != 0.0:
                w[i, j] = _clip(w[i, j] + scale * r * rng.normal(key, i * cols + j),
                                bmin[i, j], bmax[i, j])


@njit(cache=True, parallel=True)
def _reset(w, mask, reset_bias, reset_std, bmin, bmax, key):
    """Reset masked cells to ``clip(b + reset_std * xi)``."""
    rows, cols = w.shape
    for i in prange(rows):
        for j in range(cols):
            if mask[i, j]:
                v = reset_bias[i, j]
                if reset_std != 0.0:
                    v += reset_std * rng.normal(key, i * cols + j)
                w[i, j] = _clip(v, bmin[i, j], bmax[i, j])


@njit(cache=True, parallel=True)
def _clip_all(w, bmin, bmax):
    """Clip every cell to its bounds in place."""
    rows, cols = w.shape
    for i in prange(rows):
        for j in range(cols):
            w[i, j] = _clip(w[i, j], bmin[i, j], bmax[i, j])


@njit(cache=True, parallel=True)
def _write_noise(w, visible, mask, std, key):
    """Redraw the visible weight of masked cells: ``visible = w + std * xi``."""
    rows, cols = w.shape
    for i in prange(rows):
        for j in range(cols):
            if mask[i, j]:
                visible[i, j] = w[i, j] + std * rng.normal(key, i * cols + j)


_SERIAL = {k: _serial_twin(k) for k in (apply_pulses, pulsed_update, _pulse_trains, _decay,
                                         _diffuse, _reset, _clip_all, _write_noise)}


# Python entries of the elementwise kernels: the serial twin for small arrays.
def decay(w, reset_bias, rate, bmin, bmax, scale):
    """See :func:`_decay`."""
    _pick(_decay, w.size)(w, reset_bias, rate, bmin, bmax, scale)


def diffuse(w, rho, bmin, bmax, key, scale):
    """See :func:`_diffuse`."""
    _pick(_diffuse, w.size)(w, rho, bmin, bmax, key, scale)


def reset(w, mask, reset_bias, reset_std, bmin, bmax, key):
    """See :func:`_reset`."""
    _pick(_reset, w.size)(w, mask, reset_bias, reset_std, bmin, bmax, key)


def clip(w, bmin, bmax):
    """See :func:`_clip_all`."""
    _pick(_clip_all, w.size)(w, bmin, bmax)


def write_noise(w, visible, mask, std, key):
    """See :func:`_write_noise`."""
    _pick(_write_noise, w.size)(w, visible, mask, std, key)
