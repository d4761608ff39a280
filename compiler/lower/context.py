"""The lowering driver and its context: signals per block, tile specs, the op registry."""

from hwsim import DeviceGraph, TileSpec

from ..errors import CompileError

#: IR op class -> function ``(op, ctx)`` emitting hwsim operators.
LOWERERS = {}


def register(ir_op_class):
    """Decorator: register the lowering of an IR op class."""
    def wrap(fn):
        LOWERERS[ir_op_class] = fn
        return fn
    return wrap


class Context:
    """What the lowerers share while building one graph.

    Attributes
    ----------
    graph : DeviceGraph
    ir : IR
    tiling : TilingPlan
    tile_options : dict of str to dict
        Per tile name, keyword arguments of its :class:`hwsim.TileSpec` besides shape and
        init (``device``, ``io``, ``backward_io``, ``update``).
    """

    def __init__(self, ir, tiling, tile_options=None, name=None):
        self.ir = ir
        self.tiling = tiling
        self.tile_options = tile_options or {}
        self.graph = DeviceGraph(name or ir.name)
        self._signals = {}
        self._writers = self._count_tile_writers()

    # ------------------------------------------------------------ signals
    @staticmethod
    def block_name(value, b, n):
        return value if n == 1 else f"{value}/{b}"

    def signals(self, value):
        """The block signal names of an IR value (created on first use)."""
        if value not in self._signals:
            blocks = self.tiling.blocks[value]
            names = []
            for b, (start, stop) in enumerate(blocks):
                name = self.block_name(value, b, len(blocks))
                self.graph.add_signal(name, stop - start)
                names.append(name)
            self._signals[value] = names
        return self._signals[value]

    def bind(self, value, names):
        """Use existing graph signals as the blocks of ``value`` (the boundary)."""
        self._signals[value] = list(names)

    # ------------------------------------------------------------ tiles
    def _count_tile_writers(self):
        """Per IR value, the number of tile reads adding into each of its blocks: a block
        written by one tile read is set by it; by several, every read increments it."""
        from ..ir import MatVec
        count = {}
        for op in self.ir.ops:
            if isinstance(op, MatVec):
                ncols = len(self.tiling.blocks[op.x])
                count[op.y] = count.get(op.y, 0) + ncols
        return count

    def accumulates(self, value):
        return self._writers.get(value, 0) > 1

    def add_tiles(self):
        """One TileSpec per block of every map, with its block of the initial matrix."""
        for name, blocks in self.tiling.tiles.items():
            m = self.ir.maps[name]
            for t in blocks:
                init = m.init[t.rows[0]:t.rows[1], t.cols[0]:t.cols[1]]
                opts = self.tile_options.get(t.name, {})
                self.graph.add_tile(TileSpec(t.name, t.shape[0], t.shape[1], init=init,
                                             **opts))


def lower(ir, tiling, tile_options=None, name=None):
    """The device graph of ``ir`` tiled by ``tiling``.

    Parameters
    ----------
    ir : IR
    tiling : TilingPlan
    tile_options : dict, optional
        Per tile name: ``device``, ``io``, ``backward_io``, ``update`` of its TileSpec.
    name : str, optional
        The graph's name (default the IR's).

    Returns
    -------
    DeviceGraph
        Built (checked and ordered).
    """
    from .boundary import bind_inputs, bind_outputs

    ctx = Context(ir, tiling, tile_options, name)
    bind_inputs(ctx)
    ctx.add_tiles()
    for op in ir.ops:
        fn = LOWERERS.get(type(op))
        if fn is None:
            raise CompileError(f"lower: no lowering for IR op {op.kind} ({op})")
        fn(op, ctx)
    bind_outputs(ctx)
    ctx.graph.build()
    return ctx.graph
