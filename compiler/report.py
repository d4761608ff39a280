"""The compile report: tiles, utilisation, operators, stability and predicted cost per step.

The cost of one step is predicted from the graph alone, before anything runs: every tile
read of the step (:class:`hwsim.TileMVM`) is one forward MVM with ``in_size`` DAC and
``out_size`` ADC conversions touching ``rows * cols`` cells, exactly what a tile's counters
would record for one sample; the digital work outside the tiles (elementwise functions,
adds, products, and the partial-sum accumulation of split matrices) is counted per lane.
:func:`hwsim.cost.estimate` turns those counts into energy, latency and area with its
:class:`hwsim.CostTable` (published per-event costs). Training costs (backward reads,
pulses) are not part of the per-step prediction.
"""

import json
from dataclasses import dataclass, field

from hwsim import Add, Elementwise, Multiply, TileMVM, cost

__all__ = ["CompileReport", "step_counters", "predict_cost"]


def step_counters(graph):
    """The event counts of one forward step of ``graph`` for one sample.

    Returns
    -------
    counters : dict of str to (dict, (out_size, in_size))
        Per tile, in :func:`hwsim.cost.estimate`'s format.
    digital_ops : int
        Lane operations outside the tiles.
    """
    sizes = graph.build().sizes
    counters = {name: ({}, spec.shape) for name, spec in graph.tiles.items()}
    digital = 0
    incs = {}
    for op in graph.ops:
        if isinstance(op, TileMVM):
            spec = graph.tiles[op.tile]
            c = counters[op.tile][0]
            # a transposed read drives the rows and reads out the columns
            n_in, n_out = (spec.in_size, spec.out_size) if type(op) is TileMVM else \
                (spec.out_size, spec.in_size)
            for key, n in (("mvm_forward", 1), ("dac_forward", n_in), ("adc_forward", n_out),
                           ("cell_reads_forward", spec.out_size * spec.in_size)):
                c[key] = c.get(key, 0) + n
            if op.inc:
                incs[op.y] = incs.get(op.y, 0) + 1
        elif isinstance(op, Elementwise) or isinstance(op, Multiply):
            digital += sizes[op.y]
        elif isinstance(op, Add):
            coef = op.coefficients or (1.0,) * len(op.inputs)
            adds = len(op.inputs) - 1
            mults = sum(1 for c in coef if c != 1.0)
            digital += sizes[op.y] * (adds + mults)
    # k partial sums into one block take k - 1 additions per lane
    digital += sum((k - 1) * sizes[s] for s, k in incs.items())
    return counters, digital


def predict_cost(graph, table=None):
    """A :class:`hwsim.cost.CostReport` of one step for one sample."""
    counters, digital = step_counters(graph)
    return cost.estimate(counters, table, inferences=1, digital_ops=digital)


@dataclass
class CompileReport:
    """What a compilation produced and what it will cost.

    Attributes
    ----------
    spec : dict
    description : str
        ``spec.describe()``.
    target : str
    tile_size : int
    tiles : int
        Tiles used.
    tiles_by_map : dict of str to int
    split_maps : list of str
        Maps spread over several tiles (with partial-sum adders).
    grid : tuple of int
    utilisation, grid_utilisation : float
        Weights over the cells of the tiles used / of the whole grid.
    parameters : int
        Trainable scalars.
    ir_ops : dict of str to int
        IR ops by kind.
    graph_ops : dict of str to int
        hwsim operators by kind.
    signals : int
    stability : dict or None
        The stability pass's ``to_dict()``; None when the pass was skipped.
    stability_summary : str
    cost : dict
        Energy (J), latency (s, serial and with tiles in parallel), area (mm^2) per step
        and their breakdowns.
    syre : dict or None
    seconds : float
        Compile time.
    notes : list of str
    """

    spec: dict
    description: str
    target: str
    tile_size: int
    tiles: int
    tiles_by_map: dict
    split_maps: list
    grid: tuple
    utilisation: float
    grid_utilisation: float
    parameters: int
    ir_ops: dict
    graph_ops: dict
    signals: int
    stability: dict
    stability_summary: str
    cost: dict
    syre: dict = None
    seconds: float = 0.0
    notes: list = field(default_factory=list)

    @property
    def verdict(self):
        """The stability verdict, or ``"not analysed"``."""
        return "not analysed" if self.stability is None else self.stability["verdict"]

    def to_dict(self):
        out = dict(self.__dict__)
        out["grid"] = list(self.grid)
        out["verdict"] = self.verdict
        return out

    def to_json(self, indent=2):
        return json.dumps(self.to_dict(), indent=indent, default=str)

    def __str__(self):
        c = self.cost
        maps = ", ".join(f"{m} {n}" for m, n in self.tiles_by_map.items())
        lines = [
            f"compiled {self.description}",
            f"  target {self.target}; {self.parameters} parameters",
            f"  tiles: {self.tiles} of {self.tile_size} x {self.tile_size} on a "
            f"{self.grid[0]} x {self.grid[1]} grid ({maps})",
            f"  utilisation: {_pct(self.utilisation)} of the tiles used, "
            f"{_pct(self.grid_utilisation)} of the grid",
        ]
        if self.split_maps:
            lines.append(f"  split over tiles (partial-sum adders): "
                         f"{', '.join(self.split_maps)}")
        lines.append("  IR ops: " + ", ".join(f"{k} {v}" for k, v in self.ir_ops.items()))
        lines.append(f"  graph: {self.signals} signals, " + ", ".join(
            f"{k} {v}" for k, v in self.graph_ops.items()))
        lines.append(f"  stability: {self.verdict}")
        if self.stability_summary:
            lines.append("    " + self.stability_summary)
        lines.append(f"  predicted per step (one sample): energy {_si(c['energy_j'], 'J')}, "
                     f"latency {_si(c['latency_s'], 's')} serial / "
                     f"{_si(c['latency_parallel_s'], 's')} tiles in parallel, "
                     f"area {c['area_mm2']:.4g} mm^2")
        if self.syre is not None:
            lines.append("  syre: " + ", ".join(f"{k}={v}" for k, v in self.syre.items()))
        for note in self.notes:
            lines.append(f"  note: {note}")
        lines.append(f"  compiled in {self.seconds * 1e3:.1f} ms")
        return "\n".join(lines)


def _pct(value):
    return f"{value:.1%}" if value >= 0.01 else f"{100 * value:.3g}%"


def _si(value, unit):
    for scale, prefix in ((1, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p"),
                          (1e-15, "f")):
        if abs(value) >= scale:
            return f"{value / scale:.4g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def cost_dict(report):
    """The per-step figures of a :class:`hwsim.cost.CostReport` as plain data."""
    return {"energy_j": report.energy, "latency_s": report.latency,
            "latency_parallel_s": report.latency_parallel, "area_mm2": report.area * 1e-6,
            "energy_breakdown_j": dict(report.energy_breakdown),
            "latency_breakdown_s": dict(report.latency_breakdown)}
