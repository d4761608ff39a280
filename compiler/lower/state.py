"""Lowering of the state: StateBuffer (the memory of h) and Constant (the bias input).

A :class:`~compiler.ir.StateBuffer` is an :class:`hwsim.Delay` per block: it latches
``h[k+1]`` at the end of a step and presents it as ``h[k]`` in the next; a chain of them is
the multistep memory ``h[k-1], h[k-2], ...``; backprop through time crosses them.

hwsim has no constant source, so :class:`~compiler.ir.Constant` is a Delay that latches its
own output, starting from the constant: ``one`` is 1 at step 0 and keeps the value it had,
forever. The bias tiles (``hidden x 1`` columns) read it, as a bias column driven at a fixed
voltage does on a crossbar.
"""

from hwsim import Delay

from ..ir import Constant, StateBuffer
from .context import register


@register(StateBuffer)
def lower_state(op, ctx):
    for x, y in zip(ctx.signals(op.x), ctx.signals(op.y)):
        ctx.graph.add(Delay(x, y, init=op.init, name=f"{y} = delay"))


@register(Constant)
def lower_constant(op, ctx):
    for y in ctx.signals(op.y):
        ctx.graph.add(Delay(y, y, init=op.value, name=f"{y} = constant {op.value:g}"))
