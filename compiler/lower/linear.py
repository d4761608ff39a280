"""Lowering of :class:`~compiler.ir.MatVec`: one tile read per tile of the map.

Tile ``(r, c)`` reads column block ``c`` of ``x`` and writes row block ``r`` of ``y``. When a
block of ``y`` receives more than one tile read (the map is split over columns, or several
maps add into it, like ``U x + c``), every read increments it (``inc=True``): the block
starts each step at zero and the partial sums add up, the partial-sum adder of tiling.
"""

from hwsim import TileMVM

from ..ir import MatVec
from .context import register


@register(MatVec)
def lower_matvec(op, ctx):
    xs, ys = ctx.signals(op.x), ctx.signals(op.y)
    inc = ctx.accumulates(op.y)
    for t in ctx.tiling.tiles[op.map]:
        ctx.graph.add(TileMVM(t.name, xs[t.col], ys[t.row], inc=inc,
                              name=f"{t.name} @ {xs[t.col]} -> {ys[t.row]}"))
