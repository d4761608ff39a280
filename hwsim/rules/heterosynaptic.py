"""Learning without weight transport: dendritic feedback weights on their own tiles.

In a heterosynaptic circuit (theory.md section 2.2) the error ``e`` at a layer's output
reaches hidden neuron ``i`` below it through dendritic weights ``B`` (a tile of its own,
ideal or on devices), not through the transpose of the forward weights ``U``::

    p_i  = f'(h_i) sum_k B_ik e_k                dW = -lr p x^T       - lr leak W
    dU   = -lr e a^T        - lr leak U          dB = -lr diag(kappa) a e^T - lr leak B

``kappa_i`` is a per-neuron plasticity gain of either sign. With leak > 0, ``B`` aligns with
``diag(kappa) U^T`` from any start at rate ``lr * leak``, after which ``p_i = kappa_i dL/dh_i``:
the circuit does gradient descent preconditioned by ``kappa`` (all gains > 0), ascent (all
< 0), and backprop for ``B(0) = U^T, kappa = 1`` (Kolen-Pollack with leak). Feedback
alignment is the special case with ``B`` fixed and random.

On the device target every update here is the tile's pulsed outer-product update and every
leak the devices' relaxation, so device asymmetry, noise and bounds act on both pathways.

Dendritic connectivity can be sparse (``b_mask``): B exists only on a mask ``M``, and its
start, update and leak respect it, so ``B - diag(kappa) U^T * M`` leaks exactly like the
dense difference and B aligns with ``diag(kappa) U^T`` on the mask's support (theory.md
section 2.4: "HS holds on the support").
"""

import numbers
from dataclasses import dataclass

import numpy as np

from .. import _validate as V
from ..errors import ConfigError
from ..graph import DeviceGraph, TileSpec
from ..ops import TileMVM
from .base import Rule, register

B_INITS = ("random", "transpose", "zeros")


def feedback_name(tile):
    """Name of the feedback tile of forward tile ``tile``."""
    return f"B({tile})"


def _feedback_targets(graph):
    """Forward tiles whose backward error is needed: read by a TileMVM whose input is not a
    graph input (the first layer's error goes nowhere)."""
    inputs = set(graph.inputs)
    names = []
    for op in graph.build().ops:
        if type(op) is TileMVM and op.x not in inputs and op.tile not in names:
            names.append(op.tile)
    return names


@register("heterosynaptic")
@dataclass(frozen=True)
class Heterosynaptic(Rule):
    """The two-signal heterosynaptic circuit with dendritic weights on tiles.

    Parameters
    ----------
    lr : float
        Learning rate of W, U and B (> 0).
    leak : float
        Leak lambda of every weight (>= 0): each update also relaxes the weights at rate
        ``lr * leak`` (on devices, toward each cell's reset value). Alignment of B needs it.
    gains : float, sequence of float, or dict of str to sequence
        Plasticity gains kappa: one number for every neuron, one value per hidden neuron
        (for every feedback tile of that size), or per forward tile name.
    b_init : {"random", "transpose", "zeros"}
        Initial dendritic weights: normal with std ``1/sqrt(fan_in)``, exactly ``U^T`` (the
        backprop start), or zeros.
    b_plastic : bool
        Update B by its own rule (False: B fixed, feedback alignment).
    b_mask : None, float, bool array, or dict of str to bool array
        Sparse dendritic connectivity: where B has synapses (True). A boolean array of B's
        shape ``(hidden, outputs)`` (the forward tile's ``(in_size, out_size)``) for every
        feedback tile, or one per forward tile name; or a density in (0, 1]: a random mask
        per feedback tile with ``round(density * size)`` synapses (at least one), drawn from
        ``b_mask_seed`` and the tile's name. None (default): dense B.
    b_mask_seed : int
        Seed of the random masks of a density ``b_mask``.

    Notes
    -----
    Feedback tiles are named ``B(<forward tile>)``; they take the forward tile's device and
    periphery. :meth:`consistency` gives the consistency scores phi_i.

    With a mask, B starts as its ``b_init`` times the mask (masked cells written to exactly
    0 on either target), its update is the rule's update restricted to the mask and its leak
    acts on the mask only, so masked entries stay exactly 0. On devices the masked cells
    receive no pulses: B is updated by one pulsed outer-product update per column (or row,
    whichever are fewer) of the mask, with the inputs outside that column and the errors
    outside its support set to zero, so only the mask's cells see coincident pulses. Each
    cell gets the expected change of the dense update; the pulse trains are drawn per
    column rather than shared along a row, and the tile's ``updates`` counter counts each
    sample once, as one sparse crossbar update would. Their leak is the devices' relaxation
    with rate 0 on the masked cells. (A device with write noise redraws the visible weight
    of every cell on each decay, :meth:`devices.DeviceArray.decay`; the masked cells'
    state stays 0.)
    """

    lr: float = 0.02
    leak: float = 0.02
    gains: object = 1.0
    b_init: str = "random"
    b_plastic: bool = True
    b_mask: object = None
    b_mask_seed: int = 0

    def __post_init__(self):
        owner = type(self).__name__
        object.__setattr__(self, "lr", V.real(owner, "lr", self.lr, low=0.0, low_open=True))
        object.__setattr__(self, "leak", V.real(owner, "leak", self.leak, low=0.0))
        if self.lr * self.leak >= 1.0:
            raise ConfigError(f"{owner}: lr * leak must be < 1, got {self.lr} * {self.leak}")
        object.__setattr__(self, "b_init", V.choice(owner, "b_init", self.b_init, B_INITS))
        object.__setattr__(self, "b_plastic", V.boolean(owner, "b_plastic", self.b_plastic))
        object.__setattr__(self, "gains", _check_gains(owner, self.gains))
        object.__setattr__(self, "b_mask", _check_mask(owner, self.b_mask))
        object.__setattr__(self, "b_mask_seed",
                           V.integer(owner, "b_mask_seed", self.b_mask_seed, low=0))
        # masks by (tile, shape), built once: apply() asks for them at every step
        object.__setattr__(self, "_masks", {})

    # ------------------------------------------------------------ circuit
    def prepare(self, graph):
        """A copy of ``graph`` with a feedback tile per hidden layer, and the feedback map."""
        out = DeviceGraph.from_dict(graph.to_dict())
        feedback = {}
        for name in _feedback_targets(graph):
            spec = graph.tiles[name]
            init = "normal" if self.b_init == "random" else "zeros"
            out.add_tile(TileSpec(feedback_name(name), spec.in_size, spec.out_size,
                                  device=spec.device, io=spec.io,
                                  backward_io=spec.backward_io, update=spec.update,
                                  init=init))
            feedback[name] = feedback_name(name)
        for name in feedback:  # shape errors before any run
            self.gain_vector(name, graph.tiles[name].in_size)
            self.mask(name, out.tiles[feedback[name]].shape)
        if isinstance(self.b_mask, dict):
            unknown = sorted(set(self.b_mask) - set(feedback))
            if unknown:
                raise ConfigError(f"{type(self).__name__}.b_mask: masks given for {unknown}, "
                                  f"which have no feedback tile; feedback goes to "
                                  f"{sorted(feedback)}")
        return out, feedback

    def initialize(self, sim):
        """Set ``B = U^T`` exactly when ``b_init == "transpose"``; zero B off its mask."""
        for fwd, fb in sim.feedback.items():
            tile = sim.tiles[fb]
            mask = self.mask(fwd, tile.shape)
            if self.b_init == "transpose":
                start = sim.tiles[fwd].weights().T
            elif mask is not None:
                start = tile.weights()
            else:
                continue
            tile.set_weights(start if mask is None else np.where(mask, start, 0.0))

    def mask(self, tile, shape):
        """The connectivity of the feedback tile of forward tile ``tile`` (B's ``shape``).

        Returns
        -------
        ndarray of bool or None
            The mask, or None where B is dense (no mask, or a mask that is all True).
        """
        if self.b_mask is None:
            return None
        key = (tile, tuple(shape))
        if key not in self._masks:
            self._masks[key] = self._build_mask(tile, key[1])
        return self._masks[key]

    def _build_mask(self, tile, shape):
        spec = self.b_mask
        owner = f"{type(self).__name__}.b_mask"
        if isinstance(spec, float):
            mask = random_mask(shape, spec, self.b_mask_seed, tile)
        else:
            if isinstance(spec, dict):
                if tile not in spec:
                    raise ConfigError(f"{owner}: no mask for tile {tile!r}; given for "
                                      f"{sorted(spec)}")
                spec, owner = spec[tile], f"{owner}[{tile!r}]"
            mask = np.array(spec, dtype=bool)
            if mask.shape != tuple(shape):
                raise ConfigError(f"{owner}: the feedback tile of {tile!r} is {shape[0]} x "
                                  f"{shape[1]} (hidden x outputs), but the mask has shape "
                                  f"{mask.shape}")
        return None if mask.all() else mask

    def gain_vector(self, tile, size):
        """The gains of the hidden neurons below forward tile ``tile`` (length ``size``)."""
        gains = self.gains
        if isinstance(gains, dict):
            if tile not in gains:
                raise ConfigError(f"{type(self).__name__}.gains: no gains for tile {tile!r}; "
                                  f"given for {sorted(gains)}")
            gains = gains[tile]
        vec = np.broadcast_to(np.asarray(gains, dtype=np.float64), (size,)) \
            if np.ndim(gains) == 0 else np.asarray(gains, dtype=np.float64)
        if vec.shape != (size,):
            raise ConfigError(f"{type(self).__name__}.gains: tile {tile!r} has {size} hidden "
                              f"neurons below it, but {vec.shape[0]} gains were given")
        return vec

    # ------------------------------------------------------------ learning
    def apply(self, sim, lr_scale=1.0):
        """W and U from their local signals (errors through B); then B from (e, kappa a)."""
        lr = self.lr * lr_scale
        rate = lr * self.leak
        pairs = {}
        for name in sim.read_tiles:
            x, d = sim.local_signals(name)
            pairs[name] = (x, d)
            tile = sim.tiles[name]
            if x.shape[0]:
                tile.update(x, d, lr)
            if rate:
                tile.decay(rate=rate)
        if not self.b_plastic:
            return
        for fwd, fb in sim.feedback.items():
            a, e = pairs[fwd]
            kappa = self.gain_vector(fwd, sim.tiles[fwd].in_size)
            b_tile = sim.tiles[fb]
            mask = self.mask(fwd, b_tile.shape)
            if a.shape[0]:
                if mask is None:
                    b_tile.update(e, a * kappa, lr)
                else:
                    masked_update(b_tile, e, a * kappa, lr, mask)
            if rate:
                b_tile.decay(rate=rate if mask is None else rate * mask)

    def consistency(self, sim):
        """Consistency scores ``phi_i = <B_i,:, U_:,i> / |U_:,i|^2`` per feedback pair.

        Returns
        -------
        dict of str to ndarray
            Forward tile name -> phi over its input (hidden) neurons.
        """
        return {fwd: consistency(sim.tiles[fwd].weights(), sim.tiles[fb].weights())
                for fwd, fb in sim.feedback.items()}


def masked_update(tile, x, d, lr, mask):
    """``tile.update(x, d, lr)`` restricted to the cells where ``mask`` is True.

    One update per column of the mask (``x`` zero outside the column, ``d`` zero outside
    its support), or per row when there are fewer rows: no other cell sees an input and an
    error together, so on devices no pulse reaches a masked cell and on the ideal target
    its weight does not change at all. The ``updates`` counter counts the batch once.
    """
    rows, cols = mask.shape
    calls = 0
    by_column = cols <= rows
    for k in range(cols if by_column else rows):
        support = mask[:, k] if by_column else mask[k, :]
        if not support.any():
            continue
        xk, dk = (np.zeros_like(x), d * support) if by_column else (x * support,
                                                                    np.zeros_like(d))
        if by_column:
            xk[:, k] = x[:, k]
        else:
            dk[:, k] = d[:, k]
        tile.update(xk, dk, lr)
        calls += 1
    if calls > 1:
        tile.counters["updates"] -= (calls - 1) * x.shape[0]


def random_mask(shape, density, seed, tile):
    """A random connectivity mask of ``shape`` with ``round(density * size)`` True cells
    (at least one), drawn from ``seed`` and the forward tile's name ``tile``."""
    size = int(np.prod(shape))
    count = max(1, int(round(density * size)))
    entropy = [int(seed), 0xB3A5, *tile.encode()]
    rng = np.random.default_rng(np.random.SeedSequence(entropy))
    mask = np.zeros(size, dtype=bool)
    mask[rng.choice(size, count, replace=False)] = True
    return mask.reshape(shape)


def consistency(u, b):
    """``phi_i = <B[i, :], U[:, i]> / |U[:, i]|^2`` (0 where the column of U is zero)."""
    u = np.asarray(u, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if b.shape != u.T.shape:
        raise ConfigError(f"consistency: B of shape {b.shape} must have the shape of U^T "
                          f"{u.T.shape}")
    norm = np.sum(u * u, axis=0)
    dot = np.sum(b * u.T, axis=1)
    return np.divide(dot, norm, out=np.zeros_like(dot), where=norm > 0)


@register("feedback-alignment")
@dataclass(frozen=True)
class FeedbackAlignment(Heterosynaptic):
    """Feedback alignment (Lillicrap et al. 2016): errors through fixed random weights B.

    The heterosynaptic circuit without plasticity of B and, by default, without leak.
    """

    leak: float = 0.0
    b_plastic: bool = False


def _check_gains(owner, gains):
    if isinstance(gains, dict):
        return {str(k): _gain_values(owner, f"gains[{k!r}]", v) for k, v in gains.items()}
    return _gain_values(owner, "gains", gains)


def _check_mask(owner, b_mask):
    """None, a density in (0, 1], or boolean mask(s) stored as nested tuples (JSON-able)."""
    if b_mask is None:
        return None
    if isinstance(b_mask, (bool, np.bool_)):
        raise ConfigError(f"{owner}.b_mask must be None, a density in (0, 1], a boolean "
                          f"array or a dict of them, got {b_mask!r}")
    if isinstance(b_mask, numbers.Real):
        density = V.real(owner, "b_mask", b_mask)
        if not 0.0 < density <= 1.0:
            raise ConfigError(f"{owner}.b_mask: a density must be in (0, 1], got {b_mask!r}")
        return density
    if isinstance(b_mask, dict):
        return {str(k): _mask_values(owner, f"b_mask[{k!r}]", v) for k, v in b_mask.items()}
    return _mask_values(owner, "b_mask", b_mask)


def _mask_values(owner, name, value):
    if isinstance(value, (str, bytes)):
        raise ConfigError(f"{owner}.{name} must be a boolean array, got {value!r}")
    arr = np.asarray(value)
    if arr.dtype != bool:
        raise ConfigError(f"{owner}.{name} must be a boolean array (True where B has a "
                          f"synapse), got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.size == 0:
        raise ConfigError(f"{owner}.{name} must be a non-empty 2-D boolean array (hidden x "
                          f"outputs), got shape {arr.shape}")
    if not arr.any():
        raise ConfigError(f"{owner}.{name} has no True entry: B would have no synapse")
    return tuple(tuple(bool(v) for v in row) for row in arr)


def _gain_values(owner, name, value):
    if np.ndim(value) == 0:
        return V.real(owner, name, value)
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ConfigError(f"{owner}.{name} must be a number or a 1-D sequence, got shape "
                          f"{arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ConfigError(f"{owner}.{name} must be finite")
    return tuple(float(v) for v in arr)
