"""Local learning rules: how the tiles of a simulated graph change after a forward pass.

A rule reads what each tile saw (its input ``x`` and the error ``d`` that reached its
output, recorded by :class:`hwsim.Simulator`) and updates every tile in place by the tile's
own update, which on the device target is the pulsed outer-product update of the devices.

Rules: :class:`PulsedSGD` (backprop errors from analog transposed reads),
:class:`Heterosynaptic` (errors through dendritic weights B on tiles of their own, with
per-neuron plasticity gains), :class:`FeedbackAlignment` (B fixed and random), and the
unsupervised :class:`Hebbian`, :class:`AntiHebbian` and :class:`Oja`.
"""

from .base import RULES, Rule, get_rule
from .hebbian import AntiHebbian, Hebbian, Oja
from .heterosynaptic import FeedbackAlignment, Heterosynaptic, consistency
from .pulsed_sgd import PulsedSGD

__all__ = ["Rule", "PulsedSGD", "Heterosynaptic", "FeedbackAlignment", "Hebbian",
           "AntiHebbian", "Oja", "consistency", "RULES", "get_rule"]
