"""Stochastic gradient descent done by the devices themselves.

The error reaches every tile through analog transposed reads of the tiles above it (the
simulator's backward pass on the device target), and each tile is then updated in place by
its own pulsed outer-product update toward ``-lr d.T @ x``: the update of Gokmen & Vlasov's
resistive processing unit (2016), and what aihwkit calls analog SGD.
"""

from dataclasses import dataclass

from .. import _validate as V
from ..errors import ConfigError
from .base import Rule, register


@register("pulsed-sgd")
@dataclass(frozen=True)
class PulsedSGD(Rule):
    """Backprop errors from analog backward reads; each tile updated by its pulses.

    Parameters
    ----------
    lr : float
        Learning rate (> 0). The target change of a tile is ``-lr d.T @ x`` summed over the
        batch, with ``d`` already averaged over the batch by the loss.
    weight_decay : float
        L2 weight decay (>= 0). On devices it is decay toward each cell's reset value at
        rate ``lr * weight_decay`` per update, i.e. the devices' own relaxation; on the
        ideal target plain shrinkage toward 0. A tile's own ``weight_decay`` (a float or
        a per-weight array, set from its :class:`hwsim.TileSpec`) is added to it for that
        tile.
    per_sample : bool
        Update after every sample (online SGD, one pulse train per sample on fresh
        weights) instead of once per mini-batch with the batch's errors (the default;
        the devices still apply the batch's pulse trains sample by sample).

    Notes
    -----
    Tiles are updated in the graph's tile order, so the result is deterministic. Each tile's
    weight decay is applied before its pulses, so one step is exactly
    ``W <- W - lr (d^T x + weight_decay W)`` on the ideal target.

    *syre* (reference/theory.md section 5.2) needs nothing of the rule: the compiler's syre
    pass gives each tile a fixed offset ``theta0`` (reads see ``phi = theta + theta0``) and
    its own weight decay ``gamma D``; every step here is then
    ``theta <- theta - lr (grad_phi + (weight_decay + gamma D) theta)``, the decoupled
    syre/syre-ar update. With the ``mse`` loss (half the squared error) that is gradient
    descent on ``E l(theta + theta0) + (gamma/2) theta^T D theta``, whose minimiser is that
    of theory.md's ``||y - X phi||^2/N + gamma ||theta||^2``.
    """

    lr: float = 0.01
    weight_decay: float = 0.0
    per_sample: bool = False

    def __post_init__(self):
        owner = type(self).__name__
        object.__setattr__(self, "lr", V.real(owner, "lr", self.lr, low=0.0, low_open=True))
        object.__setattr__(self, "weight_decay",
                           V.real(owner, "weight_decay", self.weight_decay, low=0.0))
        object.__setattr__(self, "per_sample", V.boolean(owner, "per_sample", self.per_sample))
        if self.lr * self.weight_decay >= 1.0:
            raise ConfigError(f"{owner}: lr * weight_decay must be < 1 (a decay step cannot "
                                f"overshoot zero), got {self.lr} * {self.weight_decay}")

    def apply(self, sim, lr_scale=1.0):
        """Update every tile of ``sim`` from its recorded ``(x, d)`` pairs."""
        lr = self.lr * lr_scale
        for name in sim.read_tiles:
            tile = sim.tiles[name]
            x, d = sim.local_signals(name)
            # decay first: the errors were computed at the weights before this step, so
            # decaying those and then adding the pulses is exactly theta - lr (g + wd theta);
            # decaying after the update would shrink the update too, which moves the fixed
            # point by a factor 1 / (1 - lr wd)
            own = getattr(tile, "weight_decay", None)
            if own is not None:
                tile.decay(rate=lr * (self.weight_decay + own))
            elif self.weight_decay:
                tile.decay(rate=lr * self.weight_decay)
            if x.shape[0]:
                tile.update(x, d, lr)
