"""Lowering of the digital ops, block by block: Pointwise, Sum, Product, Copy, Concat.

They act lane by lane, so a vector split into blocks is processed one block at a time with
no data movement between tiles.
"""

from hwsim import Add, Copy, Elementwise, Multiply
from hwsim.ops import Concat, Slice

from ..ir import Concat as IRConcat
from ..ir import Copy as IRCopy
from ..ir import Pointwise, Product, Sum
from .context import register


@register(Pointwise)
def lower_pointwise(op, ctx):
    for x, y in zip(ctx.signals(op.x), ctx.signals(op.y)):
        ctx.graph.add(Elementwise(op.fn, x, y, name=f"{y} = {op.fn}"))


@register(Sum)
def lower_sum(op, ctx):
    blocks = [ctx.signals(v) for v in op.inputs]
    coefficients = None if all(c == 1.0 for c in op.coefficients) else op.coefficients
    for b, y in enumerate(ctx.signals(op.y)):
        ctx.graph.add(Add([s[b] for s in blocks], y, coefficients, name=f"{y} = sum"))


@register(Product)
def lower_product(op, ctx):
    for a, b, y in zip(ctx.signals(op.a), ctx.signals(op.b), ctx.signals(op.y)):
        ctx.graph.add(Multiply(a, b, y, name=f"{y} = product"))


@register(IRCopy)
def lower_copy(op, ctx):
    for x, y in zip(ctx.signals(op.x), ctx.signals(op.y)):
        ctx.graph.add(Copy(x, y, name=f"{y} = copy"))


@register(IRConcat)
def lower_concat(op, ctx):
    """Join the inputs' blocks; when the result is itself split, cut the joined vector into
    its blocks (the bias-folding pass only makes single-block joins, the common case)."""
    parts = [s for v in op.inputs for s in ctx.signals(v)]
    outs = ctx.signals(op.y)
    if len(outs) == 1:
        ctx.graph.add(Concat(parts, outs[0], name=f"{outs[0]} = concat"))
        return
    whole = f"{op.y}/all"
    ctx.graph.add_signal(whole, ctx.ir.values[op.y].size)
    ctx.graph.add(Concat(parts, whole, name=f"{whole} = concat"))
    for name, (start, stop) in zip(outs, ctx.tiling.blocks[op.y]):
        ctx.graph.add(Slice(whole, name, start, stop, name=f"{name} = slice"))
