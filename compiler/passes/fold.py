"""The bias-folding pass: a bias vector becomes one more column of the tile it adds to.

A bias ``c`` is a ``hidden x 1`` map reading the constant 1. Alone it would take a whole
tile for one column; on a crossbar it is simply one more column of the input tile, driven
at a fixed input. So ``drive += U x`` and ``drive += c 1`` become ``drive += [U | c] [x; 1]``
with the value ``x|1 = [x, 1]`` made once per step and shared by every map reading ``x``.

The pass folds only where the result still fits one column block (``size(x) + 1 <=
tile_size``: the input is not split over tiles), so folding never adds a tile or misaligns
the blocks of a split vector; elsewhere the bias keeps its own column tiles.
"""

import numpy as np

from ..ir import Builder, Concat, LinearMap, MatVec

__all__ = ["fold_bias"]


def fold_bias(ir, tile_size):
    """Fold bias maps into the map they add to (in place); returns the folded map names."""
    ops, folded = ir.ops, []
    matvecs = [op for op in ops if isinstance(op, MatVec)]
    by_target = {}
    for op in matvecs:
        by_target.setdefault(op.y, []).append(op)
    joined = {}                      # input value -> its "|1" value
    replace = {}                     # id(op) -> new op (None: drop)
    b = Builder(ir)
    for y, writers in by_target.items():
        bias = [op for op in writers if ir.maps[op.map].role == "bias" and op.x == "one"]
        main = [op for op in writers if ir.maps[op.map].role != "bias"
                and ir.values[op.x].size + 1 <= tile_size]
        if len(bias) != 1 or not main:
            continue
        # Fold into the first eligible map that is read only here (a map read elsewhere,
        # like W in every stage, cannot carry a column that only this read needs).
        target = next((op for op in main
                       if sum(o.map == op.map for o in matvecs) == 1), None)
        if target is None:
            continue
        m, c = ir.maps[target.map], ir.maps[bias[0].map]
        if target.x not in joined:
            name = f"{target.x}|1"
            b.value(name, ir.values[target.x].size + 1, scoped=False)
            joined[target.x] = name
        name = f"{m.name}|{c.name}"
        init = np.hstack([m.init, c.init])
        init.setflags(write=False)
        ir.maps[name] = LinearMap(name, m.out_size, m.in_size + 1, m.role, init,
                                  f"{m.note}; bias column {c.name}: {c.note}",
                                  parts=((m.name, 0, m.in_size),
                                         (c.name, m.in_size, m.in_size + 1)))
        del ir.maps[m.name], ir.maps[c.name]
        replace[id(target)] = MatVec(name, joined[target.x], y)
        replace[id(bias[0])] = None
        folded.append(name)
    if not folded:
        return folded
    new_ops = [replace.get(id(op), op) for op in ops]
    ir.ops = _insert_concats([op for op in new_ops if op is not None], joined)
    ir.notes.append(f"bias folded into its input tile as one more column: "
                    f"{', '.join(folded)}")
    return folded


def _insert_concats(ops, joined):
    """Put ``x|1 = [x, one]`` right before the first op that reads it."""
    out, done = [], set()
    for op in ops:
        for x, name in joined.items():
            if name in op.reads and name not in done:
                out.append(Concat((x, "one"), name))
                done.add(name)
        out.append(op)
    return out
