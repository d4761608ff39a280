"""Lowering: IR -> :class:`hwsim.DeviceGraph`, one module per construct (Nengo's builder).

:func:`lower` creates the graph's signals (every IR value as its blocks of lanes, see
:mod:`compiler.passes.tiling`), its tile specs (one per block of each linear map, holding
that block of the initial matrix) and then asks the lowering function registered for each
IR op class to emit hwsim operators:

==================  ====================================  ================================
IR op               hwsim operators                        module
==================  ====================================  ================================
MatVec              TileMVM per tile (inc=True when        :mod:`compiler.lower.linear`
                    several tiles add into a block)
Pointwise           Elementwise per block                  :mod:`compiler.lower.pointwise`
Sum                 Add with coefficients per block        :mod:`compiler.lower.pointwise`
Product             Multiply per block                     :mod:`compiler.lower.pointwise`
Copy                Copy per block                         :mod:`compiler.lower.pointwise`
Concat              Concat (x|1 = [x, 1] of a folded bias)  :mod:`compiler.lower.pointwise`
StateBuffer         Delay per block                        :mod:`compiler.lower.state`
Constant            a Delay latching itself (init = 1)     :mod:`compiler.lower.state`
==================  ====================================  ================================

The data input ``x`` and the output ``y`` keep their names and full sizes (Slice / Concat
at the boundary when they are wider than a tile; :mod:`compiler.lower.boundary`).
"""

from .context import LOWERERS, Context, lower, register  # noqa: F401
from . import boundary, linear, pointwise, state  # noqa: F401,E402  (register the lowerers)

__all__ = ["lower", "register", "Context", "LOWERERS"]
