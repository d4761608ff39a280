"""The placement pass: tiles onto a 2-D grid of crossbars, deterministically.

A chip is a grid of equal ``tile_size x tile_size`` crossbars. The pass puts the tiles in
the tiling plan's order (map by map, each map's blocks row-major) onto the grid row by row,
so the blocks of one matrix sit next to each other and share their partial-sum adders'
neighbourhood. With no grid given it picks the smallest near-square one, ``cols =
ceil(sqrt(n))``, ``rows = ceil(n / cols)``. The same plan always gives the same placement.

Utilisation is the fraction of the crossbars' cells that hold a weight: per tile
``rows * cols / tile_size^2``, and over the grid (empty grid slots count as unused).
"""

import math
import string
from dataclasses import dataclass

from .. import _validate as V
from ..errors import CompileError

__all__ = ["Placement", "place"]


@dataclass(frozen=True)
class Placement:
    """Where each tile sits.

    Attributes
    ----------
    grid : tuple of int
        ``(rows, cols)`` of crossbar slots.
    tile_size : int
    positions : dict of str to tuple of int
        Tile name -> ``(row, col)`` slot.
    shapes : dict of str to tuple of int
        Tile name -> ``(out_size, in_size)`` used.
    maps : dict of str to str
        Tile name -> the IR map it belongs to.
    """

    grid: tuple
    tile_size: int
    positions: dict
    shapes: dict
    maps: dict

    @property
    def n_tiles(self):
        return len(self.positions)

    def tile_utilisation(self, name):
        r, c = self.shapes[name]
        return r * c / self.tile_size ** 2

    @property
    def used_cells(self):
        return sum(r * c for r, c in self.shapes.values())

    @property
    def utilisation(self):
        """Weights held over the cells of the tiles used."""
        return self.used_cells / (self.n_tiles * self.tile_size ** 2) if self.n_tiles else 0.0

    @property
    def grid_utilisation(self):
        """Weights held over the cells of the whole grid."""
        slots = self.grid[0] * self.grid[1]
        return self.used_cells / (slots * self.tile_size ** 2) if slots else 0.0

    def to_dict(self):
        return {"grid": list(self.grid), "tile_size": self.tile_size,
                "utilisation": self.utilisation, "grid_utilisation": self.grid_utilisation,
                "tiles": [{"name": n, "map": self.maps[n], "position": list(p),
                           "shape": list(self.shapes[n]),
                           "utilisation": self.tile_utilisation(n)}
                          for n, p in self.positions.items()]}

    def legend(self):
        """One letter per map, for :meth:`__str__`."""
        letters = string.ascii_uppercase + string.ascii_lowercase + string.digits
        maps = list(dict.fromkeys(self.maps.values()))
        return {m: letters[k % len(letters)] for k, m in enumerate(maps)}

    def __str__(self):
        """The grid as a letter map (for grids up to 64 columns), one letter per map."""
        rows, cols = self.grid
        legend = self.legend()
        head = f"placement: {self.n_tiles} tile(s) on a {rows} x {cols} grid of " \
               f"{self.tile_size} x {self.tile_size}, utilisation {self.utilisation:.1%}"
        if cols > 64 or rows > 64:
            return head
        cells = [["." for _ in range(cols)] for _ in range(rows)]
        for name, (r, c) in self.positions.items():
            cells[r][c] = legend[self.maps[name]]
        lines = [head] + ["  " + " ".join(row) for row in cells]
        lines.append("  " + ", ".join(f"{v}={k}" for k, v in legend.items()))
        return "\n".join(lines)


def place(tiling, grid=None):
    """Place the tiles of a :class:`~compiler.passes.tiling.TilingPlan`.

    Parameters
    ----------
    tiling : TilingPlan
    grid : tuple of int, optional
        ``(rows, cols)`` of the chip; CompileError if the tiles do not fit.

    Returns
    -------
    Placement
    """
    tiles = tiling.all_tiles()
    n = len(tiles)
    if grid is None:
        cols = max(1, math.ceil(math.sqrt(n)))
        grid = (max(1, math.ceil(n / cols)), cols)
    else:
        if isinstance(grid, (str, bytes)) or not hasattr(grid, "__len__") or len(grid) != 2:
            raise CompileError(f"compile.grid must be (rows, cols), got {grid!r}")
        grid = (V.integer("compile", "grid[0]", grid[0], low=1),
                V.integer("compile", "grid[1]", grid[1], low=1))
        if grid[0] * grid[1] < n:
            raise CompileError(f"compile.grid {grid[0]} x {grid[1]} has {grid[0] * grid[1]} "
                               f"slots, but the network needs {n} tiles of "
                               f"{tiling.tile_size} x {tiling.tile_size}")
    cols = grid[1]
    positions = {t.name: divmod(k, cols) for k, t in enumerate(tiles)}
    return Placement(grid=tuple(grid), tile_size=tiling.tile_size, positions=positions,
                     shapes={t.name: t.shape for t in tiles},
                     maps={t.name: t.map for t in tiles})
