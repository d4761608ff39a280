"""The tiling pass: every vector into lanes, every matrix into tiles of at most tile_size.

A crossbar holds at most ``tile_size x tile_size`` weights, so a wider vector is carried as
blocks of lanes, one per row or column of tiles, and an ``m x n`` matrix as the grid of its
``ceil(m/T) x ceil(n/T)`` blocks. The product ``y = M x`` becomes, for every row block r,
``y_r = sum_c M_rc x_c``: each tile reads its column block and *adds* its partial sum into
the row block (:class:`hwsim.TileMVM` with ``inc=True``), the partial-sum adder of a layer
split over tiles. Elementwise work runs block by block, so nothing is ever gathered.

Blocks are as even as possible (300 lanes on 256-wide tiles: 150 + 150, not 256 + 44): the
same number of tiles, and each ADC has the same amount of work. Every vector of one size is
cut the same way, so blocks always line up.
"""

import math
from dataclasses import dataclass, field

from .. import _validate as V

__all__ = ["TileBlock", "TilingPlan", "partition", "plan"]


def partition(size, tile_size):
    """``[(start, stop), ...]``: ``size`` lanes in ``ceil(size / tile_size)`` even blocks."""
    n = -(-size // tile_size)
    base, extra = divmod(size, n)
    out, start = [], 0
    for k in range(n):
        stop = start + base + (1 if k < extra else 0)
        out.append((start, stop))
        start = stop
    return out


@dataclass(frozen=True)
class TileBlock:
    """One tile of a split matrix.

    Attributes
    ----------
    name : str
        ``"W"`` for an unsplit matrix, else ``"W[r,c]"``.
    map : str
        The IR linear map.
    row, col : int
        Block indices.
    rows, cols : tuple of int
        ``(start, stop)`` of the matrix rows and columns it holds.
    """

    name: str
    map: str
    row: int
    col: int
    rows: tuple
    cols: tuple

    @property
    def shape(self):
        return (self.rows[1] - self.rows[0], self.cols[1] - self.cols[0])


@dataclass
class TilingPlan:
    """The blocks of every value and the tiles of every map.

    Attributes
    ----------
    tile_size : int
    blocks : dict of str to list of (start, stop)
        Per IR value.
    tiles : dict of str to list of TileBlock
        Per IR map, row-major over its block grid.
    """

    tile_size: int
    blocks: dict = field(default_factory=dict)
    tiles: dict = field(default_factory=dict)

    def all_tiles(self):
        """Every TileBlock, map by map (the order of tiles in the graph)."""
        return [t for tiles in self.tiles.values() for t in tiles]

    @property
    def n_tiles(self):
        return sum(len(t) for t in self.tiles.values())

    def split_maps(self):
        """Names of the maps spread over more than one tile."""
        return [m for m, tiles in self.tiles.items() if len(tiles) > 1]


def plan(ir, tile_size=256):
    """The tiling of ``ir`` on ``tile_size x tile_size`` tiles.

    Parameters
    ----------
    ir : IR
    tile_size : int
        Rows and columns of one crossbar, >= 1.

    Returns
    -------
    TilingPlan
    """
    tile_size = V.integer("compile", "tile_size", tile_size, low=1)
    out = TilingPlan(tile_size)
    cuts = {}

    def cut(size):
        if size not in cuts:
            cuts[size] = partition(size, tile_size)
        return cuts[size]

    for name, value in ir.values.items():
        out.blocks[name] = cut(value.size)
    for name, m in ir.maps.items():
        rows, cols = cut(m.out_size), cut(m.in_size)
        single = len(rows) == 1 and len(cols) == 1
        out.tiles[name] = [
            TileBlock(name if single else f"{name}[{r},{c}]", name, r, c, rows[r], cols[c])
            for r in range(len(rows)) for c in range(len(cols))]
    return out


def min_tiles(out_size, in_size, tile_size):
    """Tiles an ``out_size x in_size`` matrix needs: ``ceil(out/T) ceil(in/T)``."""
    return math.ceil(out_size / tile_size) * math.ceil(in_size / tile_size)
