"""The pass manager: spec -> IR -> passes -> device graph -> report.

:class:`Compiler` holds the options (target, tile size, device, IO, strictness) for repeated
use; :func:`compile` is the one-call shortcut (QuTiP's ``SESolver`` / ``sesolve`` pattern).

Passes, in order:

1. front end: :func:`compiler.build_ir` (the cell's field expanded per stage, weights drawn);
2. stability (:func:`compiler.passes.stability.analyse`) on the spec at its initial weights:
   warns (:class:`compiler.errors.StabilityWarning`) when not stable; with ``strict=True``
   an unstable recurrence is refused (a marginal one, like the exact unitary step, which
   keeps norms by design, is only warned about);
3. tiling (:mod:`compiler.passes.tiling`), placement (:mod:`compiler.passes.placement`),
   precision (:mod:`compiler.passes.precision`);
4. lowering (:mod:`compiler.lower`) to a :class:`hwsim.DeviceGraph`;
5. syre (:func:`compiler.passes.syre.apply`) on the graph's tiles when ``spec.syre`` is set;
6. the report (:mod:`compiler.report`).

Target ``"qunn"`` skips all of these: :func:`compiler.targets.qunn.lower` maps a unitary-cell
spec onto a :class:`qunn.QUNN` and reports what it mapped.
"""

import dataclasses
import time
import warnings
from pathlib import Path

import numpy as np

import hwsim

from . import _validate as V
from .errors import CompileError, StabilityWarning
from .expand import build_ir
from .lower import lower
from .passes import fold as fold_pass
from .passes import placement as placement_pass
from .passes import precision as precision_pass
from .passes import stability as stability_pass
from .passes import syre as syre_pass
from .passes import tiling as tiling_pass
from .report import CompileReport, cost_dict, predict_cost
from .spec import ODERNN
from .weights import parameter_count

__all__ = ["Compiler", "CompileResult", "compile", "TARGETS", "load_spec"]

#: Targets of the compiler: device graphs (``device``, ``ideal``) or a QUNN (``qunn``,
#: :mod:`compiler.targets.qunn`, imported only when asked for: it loads QuTiP).
TARGETS = ("device", "ideal", "qunn")


@dataclasses.dataclass
class CompileResult:
    """What :func:`compile` returns.

    Attributes
    ----------
    graph : hwsim.DeviceGraph
        Input ``"x"`` (size ``inputs``), output ``"y"`` (size ``outputs``); runs over
        sequences ``(batch, T, inputs)`` with :class:`hwsim.Simulator`.
    ir : IR
    report : CompileReport
        ``print(result.report)`` for people, ``result.report.to_json()`` for machines.
    placement : Placement
    tiling : TilingPlan
    spec : ODERNN
    target : str
        The default target of :meth:`simulator`.
    stability : object or None
        The stability pass's report (``.verdict``, ``.offending``, ``.summary()``).
    weights : dict of str to ndarray
        The initial parameter matrices (by parameter name), what the tiles start from:
        ``compiler.reference.run(spec, result.weights, x)`` is the graph's ideal output.
    """

    graph: object
    ir: object
    report: object
    placement: object
    tiling: object
    spec: object
    target: str
    stability: object
    weights: dict

    def simulator(self, seed=0, target=None, **options):
        """A :class:`hwsim.Simulator` of the graph (on ``target``, default the result's)."""
        return hwsim.Simulator(self.graph, target=target or self.target, seed=seed, **options)

    def run(self, x, seed=0, target=None):
        """The outputs ``y`` (batch, T, outputs) for inputs ``x`` (batch, T, inputs)."""
        return self.simulator(seed, target).run({"x": x}, record=False)["y"]

    def map_weights(self, simulator):
        """The full matrices of the IR's maps reassembled from a simulator's tiles (e.g.
        after training): ``{map name: (out_size, in_size) array}``. For the exponential
        step the recurrent map is ``Q`` itself."""
        out = {}
        for name, blocks in self.tiling.tiles.items():
            m = self.ir.maps[name]
            full = np.zeros(m.shape)
            for t in blocks:
                full[t.rows[0]:t.rows[1], t.cols[0]:t.cols[1]] = \
                    simulator.tiles[t.name].weights()
            out[name] = full
        return out

    def parameter_weights(self, simulator):
        """The parameter matrices (``W``, ``U``, ``c``, ...) read back from a simulator's
        tiles: folded maps are split into their parts. The exponential step's recurrent
        map is returned as ``Q`` (``A`` is not stored on the hardware)."""
        out = {}
        for name, full in self.map_weights(simulator).items():
            for part, start, stop in self.ir.maps[name].parts:
                out[part] = full[:, start:stop].copy()
        return out

    def save(self, path, dot=None):
        """Write the graph's JSON to ``path`` (and its DOT to ``dot``)."""
        Path(path).write_text(self.graph.to_json(indent=1))
        if dot is not None:
            Path(dot).write_text(self.graph.to_dot())


class Compiler:
    """Compile ODERNN specs to device graphs with fixed options.

    Parameters
    ----------
    target : {"device", "ideal", "qunn"}
        Where the result runs by default. The graph is the same for both targets (the ideal
        target ignores devices and IO); the report's cost is the hardware's either way.
        ``"qunn"`` lowers a unitary-cell spec to a :class:`qunn.QUNN` instead of a graph
        (:mod:`compiler.targets.qunn`; the result is a ``QunnCompileResult``); the hardware
        options must then be left None.
    tile_size : int
        Rows and columns of one crossbar (>= 1); larger matrices are split.
    device : None, str, devices model or unit cell
        The device of every tile (a preset name such as ``"reram-es"``, a model, a unit
        cell); None: the tile default.
    io, backward_io : optional
        Forward and backward periphery per tile (see :mod:`compiler.passes.precision`).
    update : devices.UpdateParameters, optional
        How updates become pulses, for every tile.
    strict : bool
        Refuse (CompileError) a recurrence the stability pass finds unstable.
    seed : int
        Seeds the initial weights and syre's anchors.
    grid : (rows, cols), optional
        The chip's crossbar grid (default: the smallest near-square grid).
    cost_table : hwsim.CostTable, optional
        Per-event costs of the report.
    stability : bool
        Run the stability pass (its eigendecomposition costs O(hidden^3); turn off only
        to time or compile very large networks).
    fold_bias : bool
        Fold each bias into its input tile as one more column (:mod:`compiler.passes.fold`)
        instead of giving it tiles of its own.
    qunn : dict or QunnOptions, optional
        Options of the ``qunn`` target (``qubits``, ``tau``, ``couplings``, ``update``,
        ``encoding``, ``noise``; see :class:`compiler.targets.qunn.QunnOptions`).
    """

    def __init__(self, target="device", tile_size=256, device=None, io=None, backward_io=None,
                 update=None, strict=False, seed=0, grid=None, cost_table=None,
                 stability=True, fold_bias=True, qunn=None):
        owner = "compile"
        self.target = V.choice(owner, "target", target, TARGETS)
        self.tile_size = V.integer(owner, "tile_size", tile_size, low=1)
        self.device = _check_device(device)
        self.io, self.backward_io = io, backward_io
        if update is not None and not isinstance(update, hwsim.UpdateConfig):
            raise CompileError(f"compile.update must be None or hwsim.UpdateConfig, got "
                               f"{update!r}")
        self.update = update
        self.strict = V.boolean(owner, "strict", strict)
        self.seed = V.integer(owner, "seed", seed, low=0, high=2 ** 63 - 1)
        self.grid = grid
        if cost_table is not None and not isinstance(cost_table, hwsim.CostTable):
            raise CompileError(f"compile.cost_table must be None or hwsim.CostTable, got "
                               f"{cost_table!r}")
        self.cost_table = cost_table
        self.stability = V.boolean(owner, "stability", stability)
        self.fold_bias = V.boolean(owner, "fold_bias", fold_bias)
        self.qunn = self._qunn_options(qunn)

    def _qunn_options(self, qunn):
        if self.target != "qunn":
            if qunn is not None:
                raise CompileError(f"compile.qunn options apply only to target 'qunn', got "
                                   f"target {self.target!r}")
            return None
        from .targets import qunn as qunn_target

        hardware = {"device": self.device, "io": self.io, "backward_io": self.backward_io,
                    "update": self.update, "grid": self.grid, "cost_table": self.cost_table}
        return qunn_target.options(qunn, hardware)

    def compile(self, spec, weights=None):
        """Compile ``spec`` (an ODERNN, its dict, or a .toml/.json path).

        Parameters
        ----------
        spec : ODERNN, dict, str or Path
        weights : dict of str to array, optional
            Initial matrices by parameter name (others are drawn from ``seed``).

        Returns
        -------
        CompileResult
            Or a :class:`compiler.targets.qunn.QunnCompileResult` for target ``"qunn"``.

        Warns
        -----
        StabilityWarning
            When the stability verdict is not ``"stable"``.
        """
        return self._compile(spec, weights)

    def _compile(self, spec, weights):
        start = time.perf_counter()
        spec = load_spec(spec)
        if self.target == "qunn":
            from .targets import qunn as qunn_target

            return qunn_target.lower(spec, weights, self.seed, self.qunn)
        ir = build_ir(spec, weights, self.seed)
        stability = self._stability(spec, ir)
        if self.fold_bias:
            fold_pass.fold_bias(ir, self.tile_size)
            ir.check()
        tiling = tiling_pass.plan(ir, self.tile_size)
        placement = placement_pass.place(tiling, self.grid)
        ios = precision_pass.assign(tiling, ir, self.io, "compile.io")
        back = precision_pass.assign(tiling, ir, self.backward_io, "compile.backward_io")
        options = {}
        for t in tiling.all_tiles():
            opts = {"device": self.device, "io": ios[t.name], "backward_io": back[t.name],
                    "update": self.update}
            options[t.name] = {k: v for k, v in opts.items() if v is not None}
        graph = lower(ir, tiling, options, name=spec.name)
        if spec.syre is not None:
            graph = syre_pass.apply(graph, spec.syre, seed=self.seed)
        seconds = time.perf_counter() - start
        report = self._report(spec, ir, graph, tiling, placement, stability, seconds)
        return CompileResult(graph=graph, ir=ir, report=report, placement=placement,
                             tiling=tiling, spec=spec, target=self.target,
                             stability=stability, weights=ir.weights)

    # ------------------------------------------------------------ passes
    def _stability(self, spec, ir):
        if not self.stability:
            return None
        result = stability_pass.analyse(spec, weights=ir.weights)
        verdict = result.verdict
        if verdict != "stable":
            if self.strict and verdict == "unstable":
                raise CompileError(f"compile(strict=True): {spec.name!r} is unstable at its "
                                   f"initial weights, refused. {result.summary()}")
            what = ("some modes grow: gradients and states will explode"
                    if verdict == "unstable" else
                    "some modes neither grow nor decay (neutral)")
            warnings.warn(f"{spec.name!r} ({spec.describe()}) is {verdict}: {what}. "
                          f"{result.summary()}", StabilityWarning,
                          stacklevel=4)  # points at the caller of compile()
        return result

    def _report(self, spec, ir, graph, tiling, placement, stability, seconds):
        graph_ops = {}
        for op in graph.ops:
            graph_ops[op.kind] = graph_ops.get(op.kind, 0) + 1
        cost = predict_cost(graph, self.cost_table)
        notes = list(ir.notes)
        if stability is None:
            notes.append("stability pass skipped (stability=False)")
        if spec.exponential:
            notes.append("the Q tile is programmed once with expm(step * A); a local rule "
                         "then trains Q itself, which stays orthogonal only approximately")
        return CompileReport(
            spec=spec.to_dict(), description=spec.describe(), target=self.target,
            tile_size=tiling.tile_size, tiles=tiling.n_tiles,
            tiles_by_map={m: len(t) for m, t in tiling.tiles.items()},
            split_maps=tiling.split_maps(), grid=placement.grid,
            utilisation=placement.utilisation, grid_utilisation=placement.grid_utilisation,
            parameters=parameter_count(spec), ir_ops=ir.op_counts(), graph_ops=graph_ops,
            signals=len(graph.signals),
            stability=None if stability is None else stability.to_dict(),
            stability_summary="" if stability is None else stability.summary(),
            cost=cost_dict(cost), syre=None if spec.syre is None else spec.syre.to_dict(),
            seconds=seconds, notes=notes)


def _check_device(device):
    if device is None:
        return None
    try:
        return hwsim.TileSpec("device check", 1, 1, device=device).device
    except (TypeError, ValueError) as exc:
        raise CompileError(f"compile.device: {exc}") from None


def load_spec(spec):
    """An ODERNN from an ODERNN, a dict, or a ``.toml`` / ``.json`` path."""
    if isinstance(spec, ODERNN):
        return spec
    if isinstance(spec, dict):
        return ODERNN.from_dict(spec)
    if isinstance(spec, (str, Path)):
        suffix = Path(spec).suffix.lower()
        if suffix == ".toml":
            return ODERNN.from_toml(Path(spec))
        if suffix == ".json":
            return ODERNN.from_json(Path(spec))
        raise CompileError(f"compile.spec: a spec file must end in .toml or .json, got "
                           f"{str(spec)!r}")
    raise CompileError(f"compile.spec must be an ODERNN, a dict or a .toml/.json path, got "
                       f"{type(spec).__name__}")


def compile(spec, target="device", tile_size=256, device=None, io=None, strict=False, *,
            weights=None, **options):
    """Compile an ODERNN spec to a device graph in one call.

    ``compile(spec, ...)`` is ``Compiler(target, tile_size, device, io, strict=strict,
    **options).compile(spec, weights)``; see :class:`Compiler` for the options
    (``backward_io``, ``update``, ``seed``, ``grid``, ``cost_table``, ``stability``, and
    ``qunn`` for ``target="qunn"``, which returns a ``QunnCompileResult``).

    Examples
    --------
    >>> import compiler
    >>> spec = compiler.architecture("gru", hidden=16, inputs=2, outputs=1)
    >>> result = compiler.compile(spec, target="ideal", tile_size=8)   # doctest: +SKIP
    >>> print(result.report)                                            # doctest: +SKIP
    >>> y = result.run(x)            # x: (batch, T, 2)                 # doctest: +SKIP
    """
    return Compiler(target, tile_size, device, io, strict=strict, **options)._compile(
        spec, weights)
