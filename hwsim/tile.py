"""Analog tiles: a device array with its periphery, and the float reference.

:class:`AnalogTile` is a crossbar of ``out_size x in_size`` devices (or unit cells) with
DACs, ADCs and noise on its reads (:mod:`hwsim.io`) and pulsed outer-product updates
(:mod:`devices`). :class:`IdealTile` has the same interface in exact float64 arithmetic;
with perfect IO, float updates and a noise-free, wide-bounded device the two agree to
rounding (the conformance test of ``tests/hwsim/test_tile.py``).

Both count events for the cost model in ``tile.counters`` (:data:`COUNTER_KEYS`).

Both can carry a fixed per-weight **offset** ``theta0`` (syre, reference/theory.md section 5):
every read, forward and backward, sees ``phi = theta + theta0`` while updates and weight decay
act on ``theta`` alone, so a rule's weight decay pulls ``phi`` toward the random anchor
``theta0`` instead of toward 0. An :class:`IdealTile` adds the offset exactly; an
:class:`AnalogTile` holds it in a second device array, a reference programmed once (see its
Notes). Both can also carry their own per-weight ``weight_decay`` (syre's ``gamma D``), which
a learning rule adds to its own (:class:`hwsim.rules.PulsedSGD`).
"""

import numbers

import numpy as np

import devices
from devices import PulsedDevice, UpdateParameters

from . import _validate as V
from . import io as _io
from .cells import UnitCell, UnitCellArray
from .errors import ConfigError, NonFiniteError
from .io import IOConfig

#: The update configuration of a tile is :class:`devices.UpdateParameters` itself (aihwkit's
#: ``UpdateParameters`` names: ``desired_bl``, ``fixed_bl``, ``update_bl_management``,
#: ``update_management``, ``um_grad_scale``, ``pulse_type``); the tile needs no more fields.
UpdateConfig = UpdateParameters

#: Event counters of a tile, all ints.
#:
#: ``mvm_forward``, ``mvm_backward``
#:     vectors read (one per sample; bound-management repeats not included)
#: ``dac_forward``, ``adc_forward``, ``dac_backward``, ``adc_backward``
#:     conversions (``in_size`` DAC and ``out_size`` ADC per forward vector, the reverse
#:     backward), bound-management repeats included
#: ``cell_reads_forward``, ``cell_reads_backward``
#:     vectors x rows x cols, repeats included
#: ``pulses_up``, ``pulses_down``
#:     device pulses sent by updates (unit-cell refresh rewrites included)
#: ``updates``
#:     samples updated
#: ``bm_repeats``
#:     extra forward vector reads made by bound management
COUNTER_KEYS = ("mvm_forward", "mvm_backward", "dac_forward", "adc_forward", "dac_backward",
                "adc_backward", "cell_reads_forward", "cell_reads_backward", "pulses_up",
                "pulses_down", "updates", "bm_repeats")

# Stream tags under a tile seed: each use of randomness has its own generator, so adding
# reads does not change the initial weights or the device draws.
_INIT, _IO, _PROGRAM, _DEVICE, _OFFSET = 1, 2, 3, 4, 5


def _generator(seed, tag):
    return np.random.default_rng(np.random.SeedSequence([seed, 0x711E, tag]))


def _device_seed(seed, tag=_DEVICE):
    state = np.random.SeedSequence([seed, 0x711E, tag]).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))


def _finite_array(owner, name, value):
    """``V.array`` with a fast path for the hot read loop.

    A finite sum proves every entry finite in one vectorised pass; only when it is not
    (a NaN or inf, or an overflow of huge finite values) does the full check run, which
    names the first bad entry or passes the array.
    """
    if isinstance(value, np.ndarray) and value.dtype == np.float64 \
            and value.flags.c_contiguous and np.isfinite(value.sum()):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind == "f" \
            and not np.all(np.isfinite(value)):
        bad = tuple(int(b) for b in np.argwhere(~np.isfinite(value))[0])
        raise NonFiniteError(f"{owner}.{name} must be finite; found {value[bad]} at index "
                             f"{bad}")
    return V.array(owner, name, value)


def _frozen(arr):
    arr = np.array(arr, dtype=np.float64)
    arr.setflags(write=False)
    return arr


def check_rate(owner, name, value, shape, *, high=None):
    """A decay rate or weight decay: a float >= 0 or an array of ``shape`` of them.

    Arrays come back as read-only copies; ``high`` bounds every entry (1 for a decay rate).
    """
    if isinstance(value, numbers.Real):
        return V.real(owner, name, value, low=0.0, high=high)
    arr = V.array(owner, name, value, shape=shape)
    bad = (arr < 0.0) | ((arr > high) if high is not None else False)
    if np.any(bad):
        where = tuple(int(k) for k in np.argwhere(bad)[0])
        allowed = f"in [0, {high}]" if high is not None else ">= 0"
        raise ConfigError(f"{owner}.{name} must be {allowed} everywhere; found "
                          f"{arr[where]!r} at index {where}")
    return _frozen(arr)


class _Tile:
    """What both tiles share: sizes, argument checks, counters, initial weights, the
    optional offset and own weight decay."""

    def __init__(self, out_size, in_size, seed, offset=None, weight_decay=None):
        owner = type(self).__name__
        self.out_size = V.integer(owner, "out_size", out_size, low=1)
        self.in_size = V.integer(owner, "in_size", in_size, low=1)
        self.seed = V.seed(owner, seed)
        self.counters = dict.fromkeys(COUNTER_KEYS, 0)
        self._offset = None if offset is None else \
            _frozen(V.array(owner, "offset", offset, shape=self.shape))
        #: The tile's own weight decay (None, a float or a read-only per-weight array),
        #: added by a learning rule to its own; see :class:`hwsim.rules.PulsedSGD`.
        self.weight_decay = None if weight_decay is None else \
            check_rate(owner, "weight_decay", weight_decay, self.shape)

    @property
    def shape(self):
        """``(out_size, in_size)``."""
        return (self.out_size, self.in_size)

    def reset_counters(self):
        """Set every counter to 0."""
        for key in COUNTER_KEYS:
            self.counters[key] = 0

    def __repr__(self):
        return f"{type(self).__name__}({self.out_size}, {self.in_size}, seed={self.seed})"

    # --------------------------------------------------------------- checks
    def _vectors(self, name, value, size, method):
        """``value`` as a (batch, size) float64 array and whether it was one vector."""
        owner = f"{type(self).__name__}.{method}"
        arr = _finite_array(owner, name, value)
        single = arr.ndim == 1
        if single:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != size:
            raise ConfigError(f"{owner}: {name} must have shape ({size},) or (batch, {size}), "
                              f"got {np.shape(value)}")
        return arr, single

    def _matrix(self, name, value, method):
        return V.array(f"{type(self).__name__}.{method}", name, value, shape=self.shape)

    def _update_args(self, x, d, lr):
        x, _ = self._vectors("x", x, self.in_size, "update")
        d, _ = self._vectors("d", d, self.out_size, "update")
        if x.shape[0] != d.shape[0]:
            raise ConfigError(f"{type(self).__name__}.update: x and d must have the same batch "
                              f"size, got {x.shape[0]} and {d.shape[0]}")
        lr = V.real(f"{type(self).__name__}.update", "lr", lr, low=0.0)
        return x, d, lr

    def _initial(self, init):
        """Initial weights: uniform(+-1/sqrt(in_size)) from the seed, or ``init``."""
        if init is None:
            limit = 1.0 / np.sqrt(self.in_size)
            return _generator(self.seed, _INIT).uniform(-limit, limit, self.shape)
        return self._matrix("init", init, "__init__")

    def _count_reads(self, direction, vectors, repeats):
        n_in, n_out = (self.in_size, self.out_size) if direction == "forward" \
            else (self.out_size, self.in_size)
        reads = vectors + repeats
        c = self.counters
        c["mvm_" + direction] += vectors
        c["dac_" + direction] += reads * n_in
        c["adc_" + direction] += reads * n_out
        c["cell_reads_" + direction] += reads * n_in * n_out
        if direction == "forward":
            c["bm_repeats"] += repeats


# ====================================================================== ideal
class IdealTile(_Tile):
    """Float64 reference tile with the interface of :class:`AnalogTile`.

    Exact reads ``x @ W.T`` and ``d @ W``, exact update ``W -= lr d.T @ x``; counters as
    if it had converters (every read counts its vectors, conversions and cell reads; no
    pulses, no bound-management repeats).

    Parameters
    ----------
    out_size, in_size : int
    seed : int
        Seeds the initial weights (the same draw as an :class:`AnalogTile` of that seed).
    init : array, optional
        Initial weights ``(out_size, in_size)``; default uniform ``+-1/sqrt(in_size)``.
        With an offset these are the effective weights ``phi`` (``theta = init - offset``).
    offset : array, optional
        Fixed offset ``theta0`` ``(out_size, in_size)`` (syre): reads see
        ``phi = theta + theta0``, weight decay shrinks ``theta`` only, i.e. pulls ``phi``
        toward ``theta0``. Exact here.
    weight_decay : float or array, optional
        The tile's own weight decay coefficient(s) ``>= 0`` (syre's ``gamma D``), which
        :class:`hwsim.rules.PulsedSGD` adds to the rule's ``weight_decay``.

    Notes
    -----
    The tile stores ``phi`` (what reads use); an update changes ``phi`` and ``theta`` alike,
    and ``decay`` relaxes ``phi - theta0``. :meth:`weights`, :meth:`set_weights` and
    :meth:`program` speak of ``phi``; ``theta`` is ``weights() - offset``.
    """

    def __init__(self, out_size, in_size, seed=0, init=None, offset=None, weight_decay=None):
        super().__init__(out_size, in_size, seed, offset=offset, weight_decay=weight_decay)
        self._w = np.array(self._initial(init), dtype=np.float64)
        self._rng = _generator(self.seed, _PROGRAM)

    def forward(self, x):
        """``x @ W.T`` for ``x`` of shape (in,) or (batch, in)."""
        x, single = self._vectors("x", x, self.in_size, "forward")
        y = x @ self._w.T
        self._count_reads("forward", x.shape[0], 0)
        return y[0] if single else y

    def backward(self, d):
        """``d @ W`` for ``d`` of shape (out,) or (batch, out)."""
        d, single = self._vectors("d", d, self.out_size, "backward")
        y = d @ self._w
        self._count_reads("backward", d.shape[0], 0)
        return y[0] if single else y

    def update(self, x, d, lr):
        """``W -= lr d.T @ x`` (summed over the batch); returns (0, 0) pulses."""
        x, d, lr = self._update_args(x, d, lr)
        self._w -= lr * (d.T @ x)
        self.counters["updates"] += x.shape[0]
        return 0, 0

    def program(self, weights, noise_std=None):
        """Write ``weights`` (plus Gaussian noise of ``noise_std`` if given; default exact)."""
        w = self._matrix("weights", weights, "program").copy()
        if noise_std is not None:
            std = V.real(f"{type(self).__name__}.program", "noise_std", noise_std, low=0.0)
            w += std * self._rng.standard_normal(self.shape)
        self._w = w

    def weights(self):
        """The (effective) weights ``phi``, a copy."""
        return self._w.copy()

    def hidden_weights(self):
        return self._w.copy()

    @property
    def offset(self):
        """The fixed offset ``theta0`` every read adds (a copy), or None."""
        return None if self._offset is None else self._offset.copy()

    def set_weights(self, weights):
        """Set the (effective) weights exactly."""
        self._w = self._matrix("weights", weights, "set_weights").copy()

    def decay(self, scale=1.0, rate=None):
        """Weight decay ``theta <- theta (1 - scale * rate)`` when ``rate`` is given; else a
        no-op (an ideal tile has no device lifetime).

        ``rate`` is a float or a per-weight array (anisotropic decay), each in [0, 1].
        Without an offset ``theta`` is the weight itself; with one, ``phi`` relaxes toward
        ``theta0``.
        """
        if rate is not None:
            owner = f"{type(self).__name__}.decay"
            rate = check_rate(owner, "rate", rate, self.shape, high=1.0)
            factor = 1.0 - V.real(owner, "scale", scale, low=0.0) * rate
            if self._offset is None:
                self._w = self._w * factor
            else:
                self._w = self._offset + (self._w - self._offset) * factor

    def diffuse(self, scale=1.0):
        """No-op (an ideal tile does not drift)."""


# ====================================================================== analog
def _resolve_device(device):
    """A device model or unit cell config from what ``AnalogTile(device=...)`` accepts."""
    if device is None:
        return devices.ConstantStep()
    if isinstance(device, str):
        try:
            return devices.preset(device)
        except devices.DeviceError as exc:
            raise ConfigError(f"AnalogTile.device: {exc}") from None
    if isinstance(device, (PulsedDevice, UnitCell)):
        return device
    raise TypeError(f"AnalogTile.device must be a device model (e.g. devices.ConstantStep()), "
                    f"a preset name (e.g. 'reram-es') or a unit cell (hwsim.cells."
                    f"DifferentialPair, ReferenceCell), got {device!r}")


def _config(owner, name, value, cls):
    if not isinstance(value, cls):
        raise TypeError(f"{owner}.{name} must be {cls.__name__}, got {value!r}")
    return value


class AnalogTile(_Tile):
    """A crossbar of devices with DAC/ADC periphery, read and updated in place.

    Parameters
    ----------
    out_size, in_size : int
        Rows (outputs) and columns (inputs) of the array.
    device : PulsedDevice, str or UnitCell
        A device model (any family of :mod:`devices`), a preset name (``"reram-es"``), or a
        unit cell config (:class:`hwsim.cells.DifferentialPair`,
        :class:`hwsim.cells.ReferenceCell`). Default ``devices.ConstantStep()``
        (aihwkit's default device).
    io : IOConfig
        Periphery of forward reads. Default ``IOConfig()``.
    backward_io : IOConfig, optional
        Periphery of backward (transposed) reads; defaults to ``io``. Backward reads never
        use bound management.
    update : UpdateConfig
        Pulse-train configuration of updates. Default ``UpdateConfig()``.
    seed : int
        Seeds the device-to-device draws, the device noise streams, the IO noise, the
        programming noise and the initial weights (each its own stream).
    init : array, optional
        Initial weights ``(out_size, in_size)``; default uniform ``+-1/sqrt(in_size)``
        from the seed. Either is written exactly (no write noise) and clipped to the
        device bounds. With an offset these are the effective weights ``phi``.
    offset : array, optional
        Fixed per-weight offset ``theta0`` (syre), held by a reference device array
        (see Notes).
    weight_decay : float or array, optional
        The tile's own weight decay coefficient(s) ``>= 0`` (syre's ``gamma D``), which
        :class:`hwsim.rules.PulsedSGD` adds to the rule's ``weight_decay``.

    Attributes
    ----------
    device : PulsedDevice or UnitCell
        The device model or unit cell config (a preset name resolved to its model).
    array : devices.DeviceArray or hwsim.cells.UnitCellArray
        The realised device state (the learning devices, ``theta`` with an offset).
    reference : devices.DeviceArray or None
        The offset's reference array (None without an offset).
    io, backward_io : IOConfig
    update_config : UpdateConfig
    counters : dict of str to int
        Event counts, see :data:`COUNTER_KEYS`.

    Notes
    -----
    Reads use the visible weights, cached between writes (no copy of the matrix per
    read); every update, program, set, decay or diffuse invalidates the cache.

    *Offset (syre).* A second array ``r`` of the same device model (for a unit cell, of its
    device), with its own device-to-device draws, is programmed once to ``-theta0``; each
    weight is read differentially, ``W = w - r``, as a :class:`hwsim.cells.ReferenceCell`
    reads its reference, so the periphery (DAC, ADC, output noise) sees the sum once and
    adds nothing of its own. Only ``w`` receives update pulses and a rule's weight decay
    (``decay(rate=...)``), so ``w`` (= ``theta``) relaxes to its reset bias, about 0, and
    ``W`` to ``theta0``. How the reference's own physics enters: its programming draws the
    device's write noise once (a fixed error of ``write_noise_std * dw_min`` per weight,
    which only makes the random anchor a little wider); it gets no pulses, so no
    cycle-to-cycle noise; the device's lifetime decay and diffusion (``decay()`` without a
    rate, ``diffuse()``) act on it as on ``w``, so a leaky or drifting device lets the
    anchor drift too. :attr:`offset` is the offset as read, ``-r``. Weights set, programmed
    or read are the effective ``W``; :meth:`set_weights` writes ``w = W + r`` so the read is
    exact. The reference programming is not counted in :attr:`counters`.
    """

    def __init__(self, out_size, in_size, device=None, io=None, backward_io=None, update=None,
                 seed=0, init=None, offset=None, weight_decay=None):
        super().__init__(out_size, in_size, seed, offset=offset, weight_decay=weight_decay)
        owner = type(self).__name__
        self.io = _config(owner, "io", IOConfig() if io is None else io, IOConfig)
        self.backward_io = _config(owner, "backward_io",
                                   self.io if backward_io is None else backward_io, IOConfig)
        self.update_config = _config(owner, "update", UpdateConfig() if update is None
                                     else update, UpdateConfig)
        self.device = _resolve_device(device)
        self.array = self.device.realize(self.shape, _device_seed(self.seed))
        self._io_rng = _generator(self.seed, _IO)
        self._program_rng = _generator(self.seed, _PROGRAM)
        self._w = None
        self._abs_w = None
        self.reference = None
        if self._offset is not None:
            model = self.device.device if isinstance(self.device, UnitCell) else self.device
            self.reference = model.realize(self.shape, _device_seed(self.seed, _OFFSET))
            self.reference.set_weights(-self._offset, write_noise=True)
        self.array.set_weights(self._learning(self._initial(init)), write_noise=False)

    def __repr__(self):
        return (f"AnalogTile({self.out_size}, {self.in_size}, "
                f"device={type(self.device).__name__}, seed={self.seed})")

    # --------------------------------------------------------------- reading
    def _weights(self):
        if self._w is None:
            self._w = self.array.weights if self.reference is None \
                else self.array.weights - self.reference.weights
        return self._w

    def _learning(self, weights):
        """What the learning devices must hold for the effective ``weights``."""
        return weights if self.reference is None else weights + self.reference.weights

    def _abs_weights(self):
        if self._abs_w is None:
            self._abs_w = np.abs(self._weights())
        return self._abs_w

    def _invalidate(self):
        self._w = None
        self._abs_w = None

    def forward(self, x):
        """Analog read ``W x`` through the forward periphery.

        Parameters
        ----------
        x : array, shape (in_size,) or (batch, in_size)

        Returns
        -------
        ndarray, shape (out_size,) or (batch, out_size)
        """
        x, single = self._vectors("x", x, self.in_size, "forward")
        w = self._weights()
        absw = self._abs_weights() if self.io.needs_abs_weights else None
        y, repeats = _io.mvm(w, x, self.io, self._io_rng, abs_weights=absw)
        self._count_reads("forward", x.shape[0], repeats)
        return y[0] if single else y

    def backward(self, d):
        """Transposed analog read ``W^T d`` through the backward periphery.

        Parameters
        ----------
        d : array, shape (out_size,) or (batch, out_size)

        Returns
        -------
        ndarray, shape (in_size,) or (batch, in_size)
        """
        d, single = self._vectors("d", d, self.out_size, "backward")
        w = self._weights()
        absw = self._abs_weights().T if self.backward_io.needs_abs_weights else None
        y, _ = _io.mvm(w.T, d, self.backward_io, self._io_rng, backward=True, abs_weights=absw)
        self._count_reads("backward", d.shape[0], 0)
        return y[0] if single else y

    def weights(self):
        """Visible weights (what a read sees, before the periphery), a copy."""
        return self._weights().copy()

    def hidden_weights(self):
        """Hidden weights (the state the device law acts on), a copy; with an offset the
        effective ``w - r`` of the hidden states."""
        if self.reference is None:
            return self.array.hidden_weights
        return self.array.hidden_weights - self.reference.hidden_weights

    @property
    def offset(self):
        """The offset as read, ``-r`` of the reference array (a new array), or None."""
        return None if self.reference is None else -self.reference.weights

    # --------------------------------------------------------------- writing
    def update(self, x, d, lr):
        """Pulsed outer-product update toward ``dW = -lr d.T @ x`` (summed over the batch).

        Parameters
        ----------
        x : array, shape (in_size,) or (batch, in_size)
        d : array, shape (out_size,) or (batch, out_size)
        lr : float
            Learning rate, >= 0.

        Returns
        -------
        tuple of int
            Up and down pulses applied.
        """
        x, d, lr = self._update_args(x, d, lr)
        up, down = self.array.update(x, d, lr, self.update_config)
        self._invalidate()
        c = self.counters
        c["pulses_up"] += int(up)
        c["pulses_down"] += int(down)
        c["updates"] += x.shape[0]
        return int(up), int(down)

    def program(self, weights, noise_std=None):
        """Write target weights in one shot, with Gaussian programming error.

        Parameters
        ----------
        weights : array, shape (out_size, in_size)
        noise_std : float, optional
            Standard deviation of the programming error. Default: the device's ``dw_min``
            (a write by pulses cannot be more precise than one step). The written weights
            are clipped to the device bounds and get the device's write noise.
        """
        owner = f"{type(self).__name__}.program"
        w = self._matrix("weights", weights, "program")
        std = self._dw_min() if noise_std is None else V.real(owner, "noise_std", noise_std,
                                                             low=0.0)
        noisy = w + std * self._program_rng.standard_normal(self.shape) if std > 0 else w
        self.array.set_weights(self._learning(noisy), write_noise=True)
        self._invalidate()

    def set_weights(self, weights):
        """Set the weights exactly (no programming or write noise), clipped to the bounds."""
        self.array.set_weights(self._learning(self._matrix("weights", weights, "set_weights")),
                               write_noise=False)
        self._invalidate()

    def _dw_min(self):
        arr = self.array
        return arr.dw_min if isinstance(arr, UnitCellArray) else arr.model.dw_min

    # --------------------------------------------------------------- slow processes
    def decay(self, scale=1.0, rate=None):
        """One mini-batch of device decay toward the reset values.

        With ``rate`` None the devices' own ``lifetime`` (the offset's reference array
        decays too); a given ``rate`` (a float or a per-weight array, each in [0, 1]) is a
        learning rule's weight decay acting through the relaxation of the learning devices
        only.
        """
        self.array.decay(scale, rate=rate)
        if self.reference is not None and rate is None:
            self.reference.decay(scale)
        self._invalidate()

    def diffuse(self, scale=1.0):
        """One mini-batch of device diffusion (of the offset's reference array too)."""
        self.array.diffuse(scale)
        if self.reference is not None:
            self.reference.diffuse(scale)
        self._invalidate()
