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
"""

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

    Notes
    -----
    Feedback tiles are named ``B(<forward tile>)``; they take the forward tile's device and
    periphery. :meth:`consistency` gives the consistency scores phi_i.
    """

    lr: float = 0.02
    leak: float = 0.02
    gains: object = 1.0
    b_init: str = "random"
    b_plastic: bool = True

    def __post_init__(self):
        owner = type(self).__name__
        object.__setattr__(self, "lr", V.real(owner, "lr", self.lr, low=0.0, low_open=True))
        object.__setattr__(self, "leak", V.real(owner, "leak", self.leak, low=0.0))
        if self.lr * self.leak >= 1.0:
            raise ConfigError(f"{owner}: lr * leak must be < 1, got {self.lr} * {self.leak}")
        object.__setattr__(self, "b_init", V.choice(owner, "b_init", self.b_init, B_INITS))
        object.__setattr__(self, "b_plastic", V.boolean(owner, "b_plastic", self.b_plastic))
        object.__setattr__(self, "gains", _check_gains(owner, self.gains))

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
        for name in feedback:
            self.gain_vector(name, graph.tiles[name].in_size)  # shape errors before any run
        return out, feedback

    def initialize(self, sim):
        """Set ``B = U^T`` exactly when ``b_init == "transpose"``."""
        if self.b_init == "transpose":
            for fwd, fb in sim.feedback.items():
                sim.tiles[fb].set_weights(sim.tiles[fwd].weights().T)

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
            if a.shape[0]:
                b_tile.update(e, a * kappa, lr)
            if rate:
                b_tile.decay(rate=rate)

    def consistency(self, sim):
        """Consistency scores ``phi_i = <B_i,:, U_:,i> / |U_:,i|^2`` per feedback pair.

        Returns
        -------
        dict of str to ndarray
            Forward tile name -> phi over its input (hidden) neurons.
        """
        return {fwd: consistency(sim.tiles[fwd].weights(), sim.tiles[fb].weights())
                for fwd, fb in sim.feedback.items()}


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
