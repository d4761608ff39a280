"""compiler: ODERNN architectures to device graphs.

Write a recurrent network as an ODE integrator (:class:`ODERNN`: an n-stage explicit
Runge-Kutta step of a cell's vector field with a t-th order multistep memory), and
:func:`compile` it to a :class:`hwsim.DeviceGraph` with a report of tiles, stability and
cost::

    import compiler
    spec = compiler.ODERNN(stages=4, order=1, hidden=64, inputs=1, outputs=1, method="rk4",
                           step=0.5)
    result = compiler.compile(spec, target="ideal", tile_size=32)
    print(result.report)
    y = result.run(x)                      # x: (batch, T, 1)

Pipeline: spec -> IR (:func:`build_ir`) -> passes (stability, tiling, placement, precision)
-> lowering (:mod:`compiler.lower`) -> syre -> :class:`CompileResult` with a report.

``compile(spec, target="qunn")`` lowers a unitary-cell spec to a :class:`qunn.QUNN` instead
(:mod:`compiler.targets.qunn`, a :class:`QunnCompileResult`); its names load QuTiP on first
use only.
"""

from .errors import CompileError, StabilityWarning
from .methods import TABLEAUS, ButcherTableau, get_tableau, multistep
from .spec import ODERNN
from . import architectures, cells, methods, reference  # noqa: E402
from .architectures import ARCHITECTURES, architecture
from .expand import build_ir
from .ir import IR
from .weights import initial_weights, parameter_count, parameters
from .compile import CompileResult, Compiler, compile  # noqa: A004 (the shortcut's name)
from .passes.syre import Syre

__all__ = ["ODERNN", "Syre", "CompileError", "StabilityWarning", "CompileResult", "Compiler",
           "compile", "IR", "build_ir", "ButcherTableau", "TABLEAUS", "get_tableau",
           "multistep", "ARCHITECTURES", "architecture", "initial_weights", "parameters",
           "parameter_count", "architectures", "cells", "methods", "reference",
           "QunnCompileResult", "QunnOptions", "QunnReport"]

#: Names of the qunn target, imported on first access (they load QuTiP).
_QUNN_NAMES = ("QunnCompileResult", "QunnOptions", "QunnReport")


def __getattr__(name):
    if name in _QUNN_NAMES:
        from .targets import qunn as _qunn_target

        return getattr(_qunn_target, name)
    raise AttributeError(f"module 'compiler' has no attribute {name!r}")
