"""Local learning rules: how the tiles of a simulated graph change after a forward pass.

A rule reads what each tile saw (its input ``x`` and the error ``d`` that reached its
output, recorded by :class:`hwsim.Simulator`) and updates every tile in place by the tile's
own update, which on the device target is the pulsed outer-product update of the devices.

Today: :class:`PulsedSGD`. Coming: heterosynaptic plasticity, Hebbian/Oja, feedback
alignment.
"""

from .base import RULES, Rule, get_rule
from .pulsed_sgd import PulsedSGD

__all__ = ["Rule", "PulsedSGD", "RULES", "get_rule"]
