"""Lowering of the graph boundary: the data input ``x`` and the output ``y``.

Inside the graph every vector is carried as blocks of at most ``tile_size`` lanes; outside,
the simulator and the trainer see one input ``x`` of size ``inputs`` and one output ``y`` of
size ``outputs``. A boundary vector wider than a tile is cut (:class:`hwsim.ops.Slice`) or
joined (:class:`hwsim.ops.Concat`) here.
"""

from hwsim.ops import Concat, Slice


def bind_inputs(ctx):
    for value in ctx.ir.inputs:
        size = ctx.ir.values[value].size
        ctx.graph.add_input(value, size)
        blocks = ctx.tiling.blocks[value]
        if len(blocks) == 1:
            ctx.bind(value, [value])
            continue
        names = []
        for b, (start, stop) in enumerate(blocks):
            name = f"{value}/{b}"
            ctx.graph.add_signal(name, stop - start)
            ctx.graph.add(Slice(value, name, start, stop, name=f"slice {name}"))
            names.append(name)
        ctx.bind(value, names)


def bind_outputs(ctx):
    for value in ctx.ir.outputs:
        size = ctx.ir.values[value].size
        names = ctx.signals(value)
        if len(names) == 1:
            ctx.graph.add_output(value, size)
        else:
            ctx.graph.add_output(f"{value}", size)
            ctx.graph.add(Concat(names, value, name=f"concat {value}"))
