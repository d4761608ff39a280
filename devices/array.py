"""``DeviceArray``: the state of a realised crossbar of one device family.

A device model (a frozen dataclass of parameters) is realised once into a ``DeviceArray``,
which holds per-cell step sizes, bounds and family extras drawn from the device-to-device
spreads, the hidden weights the device law acts on, and the visible weights a read sees
(they differ only where write noise applies). Every method that draws random numbers
advances a call counter, so the same seed and the same sequence of calls give bit-identical
arrays whatever the thread count.
"""

import numbers

import numpy as np

from . import _validate as V
from . import kernels as K
from . import rng
from .update import UpdateParameters, pulse_probabilities


def decay_rates(owner, rate, shape):
    """A per-cell decay-rate array: ``shape``, finite, every entry in [0, 1] (a copy)."""
    rates = V.array(owner, "decay(rate)", rate, shape=shape).copy()
    bad = (rates < 0.0) | (rates > 1.0)
    if bad.any():
        where = tuple(int(k) for k in np.argwhere(bad)[0])
        raise V.DeviceError(f"{owner}.decay(rate) must be in [0, 1] everywhere; found "
                            f"{rates[where]!r} at index {where}")
    return rates


class DeviceArray:
    """A realised array of devices, shape ``(rows, cols)`` = ``(out_size, in_size)``.

    Create with ``model.realize(shape, seed)``.

    Attributes
    ----------
    model : PulsedDevice
        The parameters it was realised from.
    shape : tuple of int
    seed : int
    dw_up, dw_down : ndarray
        Per-cell step magnitudes of an up and a down pulse at the reference point of the
        law (for ConstantStep, LinearStep and SoftBounds: the step at ``w = 0``).
    bmin, bmax : ndarray
        Per-cell hard bounds.
    cell_params : ndarray, shape (n, rows, cols)
        Per-cell extras of the family (e.g. LinearStep slopes), see the family's docs.
    global_params : ndarray
        Tile-wide parameters of the family; element 0 is ``dw_min_std``.
    decay_rate, reset_bias, diffusion_rate : ndarray
        Per-cell 1/lifetime, decay target and random-walk step.
    pulse_counts : ndarray of int64, shape (2,)
        Up and down pulses applied so far.
    """

    def __init__(self, model, shape, seed, *, w, dw_up, dw_down, bmin, bmax, cell_params,
                 global_params, decay_rate, reset_bias, diffusion_rate):
        self.model = model
        self.shape = tuple(shape)
        self.seed = seed
        self._key = rng.key_from_seed(seed)
        self._calls = 0
        self.dw_up = dw_up
        self.dw_down = dw_down
        self.bmin = bmin
        self.bmax = bmax
        self.cell_params = cell_params
        self.global_params = global_params
        self.decay_rate = decay_rate
        self.reset_bias = reset_bias
        self.diffusion_rate = diffusion_rate
        self._w = w
        self._write_noise = model.write_noise_std * model.dw_min
        self._visible = w.copy() if self._write_noise > 0 else w
        self.pulse_counts = np.zeros(2, dtype=np.int64)
        self._law = model._law_id

    # ----------------------------------------------------------------- reading
    @property
    def weights(self):
        """Visible weights (what a read sees), a copy."""
        return self._visible.copy()

    @property
    def hidden_weights(self):
        """Hidden weights (the state the device law acts on), a copy."""
        return self._w.copy()

    @property
    def has_write_noise(self):
        return self._write_noise > 0

    def __repr__(self):
        return (f"DeviceArray({type(self.model).__name__}, shape={self.shape}, seed={self.seed}, "
                f"pulses={int(self.pulse_counts.sum())})")

    def copy(self):
        """An independent copy with the same state and the same future random streams."""
        new = object.__new__(DeviceArray)
        new.__dict__.update(self.__dict__)
        for name in ("dw_up", "dw_down", "bmin", "bmax", "cell_params", "global_params",
                     "decay_rate", "reset_bias", "diffusion_rate", "pulse_counts"):
            setattr(new, name, getattr(self, name).copy())
        new._w = self._w.copy()
        new._visible = self._visible.copy() if self.has_write_noise else new._w
        return new

    # ----------------------------------------------------------------- helpers
    def _next_key(self):
        self._calls += 1
        return np.uint64(rng.derive(self._key, self._calls))

    def _state(self):
        return (self.dw_up, self.dw_down, self.bmin, self.bmax, self.cell_params,
                self.global_params)

    def _refresh_visible(self, mask):
        if self.has_write_noise:
            K.write_noise(self._w, self._visible, mask, self._write_noise, self._next_key())

    def _owner(self):
        return f"DeviceArray({type(self.model).__name__})"

    # ----------------------------------------------------------------- writing
    def set_weights(self, weights, *, write_noise=True):
        """Set the hidden weights directly (clipped to the bounds), no pulses.

        With write noise on the model, the visible weights are redrawn unless
        ``write_noise`` is False.
        """
        w = V.array(self._owner(), "weights", weights, shape=self.shape)
        self._w[...] = w
        K.clip(self._w, self.bmin, self.bmax)
        if self.has_write_noise:
            if write_noise and self.model.apply_write_noise_on_set:
                self._refresh_visible(np.ones(self.shape, dtype=np.bool_))
            else:
                self._visible[...] = self._w

    def pulse(self, n):
        """Apply ``n`` pulses to every cell (positive up, negative down).

        ``n`` is an integer or an integer array broadcastable to ``shape``.
        Returns the number of (up, down) pulses applied.
        """
        arr = np.asarray(n)
        if arr.dtype.kind not in "iub":
            raise TypeError(f"{self._owner()}.pulse: n must be integer, got dtype {arr.dtype}")
        try:
            arr = np.ascontiguousarray(np.broadcast_to(arr, self.shape), dtype=np.int64)
        except ValueError as exc:
            raise V.DeviceError(f"{self._owner()}.pulse: n of shape {arr.shape} does not "
                                f"broadcast to {self.shape}") from exc
        counts = K.run(K.apply_pulses, self._law, self._w, arr, *self._state(), self._next_key())
        applied = counts.sum(axis=0)
        self.pulse_counts += applied
        self._refresh_visible(arr != 0)
        return int(applied[0]), int(applied[1])

    def pulse_train(self, directions, *, noise=True):
        """Send one pulse sequence to every cell and return the trajectory.

        Parameters
        ----------
        directions : array of int, shape (T,)
            +1 up, -1 down, 0 no pulse.
        noise : bool
            Draw cycle-to-cycle noise (False gives each cell's mean response).

        Returns
        -------
        ndarray, shape (T + 1, rows, cols)
            Hidden weights before the first and after every pulse.
        """
        dirs = V.array(self._owner(), "directions", directions, ndim=1, dtype=np.int64)
        if np.any(np.abs(dirs) > 1):
            raise V.DeviceError(f"{self._owner()}.pulse_train: directions must be -1, 0 or +1")
        traj = K.run(K.pulse_train, self._law, self._w, dirs, *self._state(), self._next_key(),
                             bool(noise))
        n_up = int((dirs > 0).sum()) * self._w.size
        n_down = int((dirs < 0).sum()) * self._w.size
        self.pulse_counts += (n_up, n_down)
        self._refresh_visible(np.full(self.shape, bool(np.any(dirs != 0))))
        return traj

    def expected_step(self, up=True):
        """Noise-free weight change of one pulse from the current hidden weights."""
        return K.run(K.expected_step, self._law, self._w, bool(up), *self._state())

    def update(self, x, d, lr, params=None):
        """Pulsed outer-product update toward ``-lr * d.T @ x``.

        Parameters
        ----------
        x : array, shape (n_in,) or (batch, n_in)
            Inputs; ``n_in = cols``.
        d : array, shape (n_out,) or (batch, n_out)
            Errors; ``n_out = rows``.
        lr : float
            Learning rate (> 0).
        params : UpdateParameters, optional
            Pulse-train configuration; defaults to ``UpdateParameters()``.

        Returns
        -------
        tuple of int
            Up and down pulses applied.
        """
        owner = self._owner() + ".update"
        params = UpdateParameters() if params is None else params
        if not isinstance(params, UpdateParameters):
            raise TypeError(f"{owner}: params must be UpdateParameters, got "
                            f"{type(params).__name__}")
        rows, cols = self.shape
        x = V.array(owner, "x", x)
        d = V.array(owner, "d", d)
        if x.ndim == 1:
            x = x[None, :]
        if d.ndim == 1:
            d = d[None, :]
        if x.ndim != 2 or x.shape[1] != cols:
            raise V.DeviceError(f"{owner}: x must have shape (batch, {cols}) or ({cols},), "
                                f"got {x.shape}")
        if d.ndim != 2 or d.shape[1] != rows:
            raise V.DeviceError(f"{owner}: d must have shape (batch, {rows}) or ({rows},), "
                                f"got {d.shape}")
        if x.shape[0] != d.shape[0]:
            raise V.DeviceError(f"{owner}: x and d must have the same batch size, got "
                                f"{x.shape[0]} and {d.shape[0]}")
        lr = V.real(owner, "lr", lr, low=0.0)
        if lr == 0.0:
            return 0, 0
        if params.pulse_type != "stochastic_compressed":
            self._w -= lr * (d.T @ x)
            if params.pulse_type == "none_with_device":
                K.clip(self._w, self.bmin, self.bmax)
            self._refresh_visible(np.ones(self.shape, dtype=np.bool_))
            return 0, 0
        bl, p_x, p_d = pulse_probabilities(x, d, lr, self.model.granularity, params)
        key = self._next_key()
        xbits = K.make_pulse_trains(p_x, bl, key, K.STREAM_X)
        dbits = K.make_pulse_trains(p_d, bl, key, K.STREAM_D)
        touched = np.zeros(self.shape, dtype=np.bool_)
        counts = K.run(K.pulsed_update, self._law, self._w, np.sign(x).astype(np.int8),
                                 np.sign(d).astype(np.int8), xbits, dbits, *self._state(),
                                 key, touched)
        applied = counts.sum(axis=0)
        self.pulse_counts += applied
        self._refresh_visible(touched)
        return int(applied[0]), int(applied[1])

    # ------------------------------------------------------ slow processes
    def decay(self, scale=1.0, rate=None):
        """One mini-batch of decay toward the reset bias.

        Parameters
        ----------
        scale : float
            Multiplies the per-cell rate (``1/lifetime`` of the model), e.g. the number of
            mini-batches this call stands for.
        rate : float or array, optional
            A rate instead of the model's lifetime: ``w <- b + (w - b)(1 - scale *
            rate)``. This is how a weight decay of a learning rule acts on a device: the
            device relaxes toward its own reset value, not toward exactly zero. A float is
            the same rate for every cell; an array of ``shape`` gives each cell its own
            (an anisotropic decay ``D``, as syre-ar asks for). Every rate is in [0, 1].
        """
        owner = self._owner()
        scale = V.real(owner, "decay(scale)", scale, low=0.0)
        if rate is None:
            if self.model.lifetime == 0.0:
                return
            rates = self.decay_rate
        elif isinstance(rate, numbers.Real):
            rate = V.real(owner, "decay(rate)", rate, low=0.0, high=1.0)
            if rate == 0.0:
                return
            rates = np.full(self.shape, rate)
        else:
            rates = decay_rates(owner, rate, self.shape)
            if not rates.any():
                return
        K.decay(self._w, self.reset_bias, rates, self.bmin, self.bmax, scale)
        self._refresh_visible(np.ones(self.shape, dtype=np.bool_))

    def diffuse(self, scale=1.0):
        """One mini-batch of diffusion (random walk of size ``diffusion``), then clip."""
        scale = V.real(self._owner(), "diffuse(scale)", scale, low=0.0)
        if self.model.diffusion == 0.0:
            return
        K.diffuse(self._w, self.diffusion_rate, self.bmin, self.bmax, self._next_key(), scale)
        self._refresh_visible(np.ones(self.shape, dtype=np.bool_))

    def reset(self, mask=None):
        """Reset cells (all, or where ``mask`` is True) to the reset value with its spread."""
        if mask is None:
            mask = np.ones(self.shape, dtype=np.bool_)
        else:
            mask = V.array(self._owner(), "reset(mask)", mask, shape=self.shape,
                           dtype=np.bool_)
        K.reset(self._w, mask, self.reset_bias, self.model.reset_std, self.bmin, self.bmax,
                self._next_key())
        self._refresh_visible(mask)

    def clip(self):
        """Clip the hidden weights to the per-cell bounds."""
        K.clip(self._w, self.bmin, self.bmax)
        self._refresh_visible(np.ones(self.shape, dtype=np.bool_))
