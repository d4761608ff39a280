"""Unsupervised correlation rules: Hebbian, anti-Hebbian and Oja's rule on tiles.

Each reads only what a tile saw in the forward pass, its input ``x`` and output ``y``, so no
backward pass runs. On the device target the correlation term is the tile's pulsed
outer-product update (``update(x, -y, lr)`` gives ``dW = lr y x^T``), so the devices' step
asymmetry and noise act on it.
"""

from dataclasses import dataclass

import numpy as np

from .. import _validate as V
from .base import Rule, register


def forward_pairs(sim, name):
    """``(x, y)`` of every read of tile ``name`` in the last run, time stacked into rows."""
    x, y = sim.forward_signals(name)
    if isinstance(x, list):
        x, y = np.concatenate(x), np.concatenate(y)
    return x, y


@dataclass(frozen=True)
class _Correlation(Rule):
    lr: float = 0.01
    needs_backward = False
    _sign = 1.0

    def __post_init__(self):
        object.__setattr__(self, "lr", V.real(type(self).__name__, "lr", self.lr, low=0.0,
                                              low_open=True))

    def apply(self, sim, lr_scale=1.0):
        lr = self.lr * lr_scale
        for name in sim.read_tiles:
            x, y = forward_pairs(sim, name)
            sim.tiles[name].update(x, -self._sign * y, lr)


@register("hebbian")
@dataclass(frozen=True)
class Hebbian(_Correlation):
    """Hebb's rule ``dW = lr y x^T`` (summed over the batch) on every read tile.

    Unbounded on its own: pair it with device bounds, decay or a normalising rule.
    """

    _sign = 1.0


@register("anti-hebbian")
@dataclass(frozen=True)
class AntiHebbian(_Correlation):
    """The anti-Hebbian rule ``dW = -lr y x^T``: decorrelates the outputs from the inputs."""

    _sign = -1.0


@register("oja")
@dataclass(frozen=True)
class Oja(_Correlation):
    """Oja's rule ``dW = lr (y x^T - diag(sum_b y_b^2) W)``: Hebb with a normalising decay.

    For a single output it converges to the leading principal component of the inputs, with
    unit norm. The decay term acts row by row (rate ``lr sum_b y_i^2``): on devices it is the
    devices' relaxation toward their reset values, so rows settle where Hebbian growth and
    device decay balance.
    """

    def apply(self, sim, lr_scale=1.0):
        lr = self.lr * lr_scale
        for name in sim.read_tiles:
            x, y = forward_pairs(sim, name)
            tile = sim.tiles[name]
            # decay first: both terms then use the weights y was read with (exact Oja step)
            rates = np.minimum(lr * np.sum(y * y, axis=0), 1.0)
            tile.decay(rate=np.ascontiguousarray(
                np.broadcast_to(rates[:, None], (tile.out_size, tile.in_size))))
            tile.update(x, -y, lr)
