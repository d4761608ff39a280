"""Energy, latency and area of a run, from the tiles' event counters and a table of costs.

hwsim counts *events* (conversions, cell reads, device pulses, read cycles, update samples,
digital operations) and multiplies them by a :class:`CostTable` of per-event costs. The
table's defaults are published figures, each with its source in :data:`SOURCES`; override
any of them with :meth:`CostTable.from_dict` or :meth:`CostTable.from_toml`. This is a
first-order model in the spirit of NeuroSim's event accounting (reference/devices.md, §10),
not a circuit simulation: no leakage, buffers, interconnect or DRAM.

Technology assumed by the defaults: 32 nm CMOS periphery (ISAAC's converters), a 1T1R
analog synapse with a 5 uS maximum conductance (MLP+NeuroSim), cell size in F = 32 nm, and
digital arithmetic at 45 nm (Horowitz), which overstates a 32 nm digital cost slightly.

Counters
--------
Each tile reports a dict with these integer keys (a missing key counts as 0):

==========================================  ===============================================
key                                         meaning
==========================================  ===============================================
``mvm_forward``, ``mvm_backward``           vectors read (one analog read cycle each)
``dac_forward``, ``dac_backward``           DAC conversions (one per driven line per read)
``adc_forward``, ``adc_backward``           ADC conversions (one per read-out line per read)
``cell_reads_forward``, ``..._backward``    weights touched by the reads
``pulses_up``, ``pulses_down``              device pulses applied by updates
``updates``                                 samples (outer products) applied
``bm_repeats``                              extra forward read cycles of bound management
``digital_ops`` (optional)                  digital operations done for this tile
==========================================  ===============================================

Energy uses the conversion, cell-read, pulse and digital-op counts; latency uses the read
cycles (``mvm_*`` plus ``bm_repeats``), the update samples and the digital ops. Conversions
and cell reads of bound-management repeats are expected inside the ``dac_*``/``adc_*``/
``cell_reads_*`` counts.

Latency model
-------------
**Serial sum**: every read cycle, update and digital operation of every tile happens one
after another, nothing overlaps (an upper bound; the honest choice while hwsim does not know
which tiles a schedule could run concurrently). The report also gives
``latency_parallel``, the lower bound if all tiles ran concurrently (the slowest tile plus
the digital work).

- One read cycle of a tile with ``L`` read-out lines (``out_size`` forward, ``in_size``
  backward) takes ``dac_time + mvm_time + k * t_adc`` (``t_adc`` the conversion time at
  ``adc_bits``), where ``k = ceil(L / n_adc)`` is
  the number of lines each of the ``n_adc = ceil(L / adc_share)`` ADCs converts in turn.
  The DACs of all lines convert at once.
- One update sample takes ``update_bl * update_phases * pulse_time``: a stochastic pulse
  train of ``update_bl`` slots per phase, applied to all cells at once.
- A digital operation takes ``digital_op_time``.

Area model
----------
Per tile: ``out * in * devices_per_weight`` cells; one DAC per driven line and one ADC per
``adc_share`` read-out lines, on both sides of the array when ``bidirectional`` (a learning
tile reads forward and backward, as in the RPU design of Gokmen & Vlasov 2016); plus
``periphery_area`` of digital periphery.
"""

import dataclasses
import math
import numbers
import re
import tomllib
from pathlib import Path

from . import _validate as V
from .errors import ConfigError

__all__ = ["CostTable", "CostReport", "SOURCES", "COUNTER_KEYS", "estimate", "tile_area"]

#: The tile counter keys the estimate understands (``digital_ops`` is optional).
COUNTER_KEYS = ("mvm_forward", "mvm_backward", "dac_forward", "adc_forward", "dac_backward",
                "adc_backward", "cell_reads_forward", "cell_reads_backward", "pulses_up",
                "pulses_down", "updates", "bm_repeats", "digital_ops")

_ISAAC = ("Shafiee et al., 'ISAAC: a convolutional neural network accelerator with in-situ "
          "analog arithmetic in crossbars', ISCA 2016 (32 nm), as tabulated in Accelergy's "
          "hwcomponents-library (isaac.py)")
_KULL = ("Kull et al., 'A 3.1 mW 8b 1.2 GS/s single-channel asynchronous SAR ADC with "
         "alternate comparators', ISSCC 2013 / JSSC 48(12) 2013, 32 nm SOI: the ADC ISAAC uses")
_NEUROSIM_MLP = ("Chen, Peng & Yu, 'NeuroSim: a circuit-level macro model for benchmarking "
                 "neuro-inspired architectures in online learning', IEEE TCAD 37(12) 2018; "
                 "MLP+NeuroSim V3.0 analog synapse defaults (Cell.cpp, IdealDevice): "
                 "G in [0.1, 5] uS, V_read 0.5 V, read pulse 5 ns, V_write 2 V, write pulse "
                 "10 ns, 1T1R")
_NEUROSIM_DNN = ("Peng, Huang, Lu & Yu, 'DNN+NeuroSim: an end-to-end benchmarking framework "
                 "for compute-in-memory accelerators', IEDM 2019; DNN+NeuroSim Param.cpp")
_HOROWITZ = ("Horowitz, 'Computing's energy problem (and what we can do about it)', ISSCC "
             "2014: 45 nm, 0.9 V; 32-bit float add 0.9 pJ, multiply 3.7 pJ")

#: Where each default of :class:`CostTable` comes from.
SOURCES = {
    "dac_energy": f"0.417 pJ per 1-bit conversion: 4 mW for ISAAC's 8x128 1-bit DACs at "
                  f"1.2e7 x 1024 conversions/s, x128/100 for ADC-limited utilisation. {_ISAAC}",
    "dac_ref_bits": "1: ISAAC's DACs are 1 bit (inputs streamed bit-serially)",
    "dac_bits": "7: aihwkit's default forward input resolution (inp_res = 1/(2^7 - 2))",
    "dac_time": f"1 ns per conversion (ISAAC's 1 GHz DAC cycle). {_ISAAC}",
    "dac_area": f"0.166 um^2 per 1-bit DAC: 170 um^2 for 8x128 DACs. {_ISAAC}",
    "adc_energy": f"1.67 pJ per 8-bit conversion: 16 mW for 8 ADCs at 1.2 GS/s. {_ISAAC}; "
                  f"{_KULL}",
    "adc_ref_bits": f"8: the resolution of the ADC measured. {_KULL}",
    "adc_bits": "9: aihwkit's default forward output resolution (out_res = 1/(2^9 - 2))",
    "adc_time": f"0.833 ns per 8-bit conversion (1.2 GS/s). {_KULL}",
    "adc_area": f"1200 um^2 per 8-bit ADC: 9600 um^2 for 8 ADCs. {_ISAAC}",
    "adc_share": f"8 columns per ADC: NeuroSim's default numColMuxed. {_NEUROSIM_DNN}",
    "cell_read_energy": f"6.25 fJ = V_read^2 * G_max * t_read = 0.5^2 * 5 uS * 5 ns (at the "
                        f"maximum conductance, so an upper bound). {_NEUROSIM_MLP}",
    "mvm_time": f"5 ns: the read pulse (integration) width. {_NEUROSIM_MLP}",
    "pulse_energy": f"0.2 pJ = V_write^2 * G_max * t_write = 2^2 * 5 uS * 10 ns (upper bound; "
                    f"wire charging adds ~V^2 * C_line, about 10 fJ for a 128-row column). "
                    f"{_NEUROSIM_MLP}",
    "pulse_time": f"10 ns: the write pulse width. {_NEUROSIM_MLP}",
    "cell_area": f"0.0492 um^2 = 48 F^2 at F = 32 nm: NeuroSim's 1T1R cell, 4F x 12F "
                 f"(MLP+NeuroSim's pseudo-crossbar cell is 16 F^2; this is the larger). "
                 f"{_NEUROSIM_DNN}",
    "devices_per_weight": "1: one device per weight (set 2 for hwsim's DifferentialPair or "
                          "ReferenceCell unit cells)",
    "digital_op_energy": f"3.7 pJ: a 32-bit float multiply, the dearer of add and multiply. "
                         f"{_HOROWITZ}",
    "digital_op_time": f"1 ns: one operation per cycle at NeuroSim's 1 GHz clock (clkFreq). "
                       f"{_NEUROSIM_DNN}",
    "periphery_area": f"240 um^2: four 16-bit shift-and-add units of 60 um^2, ISAAC's "
                      f"per-array digital accumulation. {_ISAAC}",
    "update_bl": "31: aihwkit's default stochastic pulse-train length (desired_bl)",
    "update_phases": "2: a hwsim assumption, not a published figure: a line's pulse polarity "
                     "is fixed within a phase, so up and down coincidences take one phase each",
    "bidirectional": "True: a learning tile reads forward and backward (Gokmen & Vlasov, "
                     "'Acceleration of deep neural network training with resistive cross-point "
                     "devices', Front. Neurosci. 10:333, 2016)",
    "technology": "a label for reports",
}

_ENERGY_UNITS = {"j": 1.0, "mj": 1e-3, "uj": 1e-6, "nj": 1e-9, "pj": 1e-12, "fj": 1e-15,
                 "aj": 1e-18}
_TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "ps": 1e-12, "fs": 1e-15}
_AREA_UNITS = {"m2": 1e12, "mm2": 1e6, "um2": 1.0, "nm2": 1e-6}  # to um^2
_KIND_UNITS = {"energy": (_ENERGY_UNITS, "J"), "time": (_TIME_UNITS, "s"),
               "area": (_AREA_UNITS, "um^2")}


def _field(default, kind=None, **bounds):
    return dataclasses.field(default=default, metadata={"kind": kind, **bounds})


@dataclasses.dataclass(frozen=True)
class CostTable:
    """Per-event costs. Energies in J, times in s, areas in um^2.

    Every default is a published figure; :data:`SOURCES` gives the source of each. Zero is
    allowed everywhere a cost is (to leave a component out); negative values are not.

    Parameters
    ----------
    dac_energy : float
        Energy of one DAC conversion at ``dac_ref_bits`` (0.417 pJ, ISAAC 1-bit DAC).
    dac_ref_bits, dac_bits : int
        Resolution the DAC figure is for (1) and the resolution used (7). A ``dac_bits``
        conversion costs ``dac_bits / dac_ref_bits`` times ``dac_energy`` and
        ``dac_area``: a b-bit input is costed as b one-bit conversions, ISAAC's bit-serial
        scheme. It still takes one ``dac_time`` slot (amplitude- or pulse-width-coded drive).
    dac_time : float
        Time of one DAC conversion (1 ns).
    dac_area : float
        Area of one DAC at ``dac_ref_bits`` (0.166 um^2).
    adc_energy : float
        Energy of one ADC conversion at ``adc_ref_bits`` (1.67 pJ, 8-bit SAR at 32 nm).
    adc_ref_bits, adc_bits : int
        Resolution the ADC figures are for (8) and the resolution used (9). Energy and area
        scale as ``2**(adc_bits - adc_ref_bits)``: a constant Walden figure of merit
        ``E / 2**bits`` (Walden, IEEE JSAC 17(4) 1999; Murmann's ADC survey tracks it), which
        holds at moderate resolution and is conservative below ~10 bits; conversion time
        scales as ``adc_bits / adc_ref_bits`` (a SAR ADC decides one bit per step).
    adc_time : float
        Time of one conversion at ``adc_ref_bits`` (0.833 ns, 1.2 GS/s).
    adc_area : float
        Area of one ADC at ``adc_ref_bits`` (1200 um^2).
    adc_share : int
        Read-out lines sharing one ADC (8).
    cell_read_energy : float
        Energy of one cell in one analog read (6.25 fJ).
    mvm_time : float
        Analog integration time of one read cycle (5 ns).
    pulse_energy : float
        Energy of one device pulse (0.2 pJ).
    pulse_time : float
        Length of one pulse slot (10 ns).
    cell_area : float
        Area of one device cell (0.0492 um^2 = 48 F^2 at 32 nm).
    devices_per_weight : int
        Device cells per weight (1; 2 for a differential pair or a reference cell): scales
        the cell area and the read energy (a read of one weight touches every device of its
        unit cell). Pulses are counted per device already.
    digital_op_energy, digital_op_time : float
        Energy (3.7 pJ) and time (1 ns) of one digital operation.
    periphery_area : float
        Digital periphery per tile (240 um^2).
    update_bl, update_phases : int
        Pulse slots per phase (31) and phases (2) of one update sample.
    bidirectional : bool
        Converters on both sides of each array (True).
    technology : str
        Label for reports.
    """

    dac_energy: float = _field(0.417e-12, "energy")
    dac_ref_bits: int = _field(1, None, low=1, high=24)
    dac_bits: int = _field(7, None, low=1, high=24)
    dac_time: float = _field(1e-9, "time")
    dac_area: float = _field(0.166, "area")
    adc_energy: float = _field(1.67e-12, "energy")
    adc_ref_bits: int = _field(8, None, low=1, high=24)
    adc_bits: int = _field(9, None, low=1, high=24)
    adc_time: float = _field(1.0 / 1.2e9, "time")
    adc_area: float = _field(1200.0, "area")
    adc_share: int = _field(8, None, low=1)
    cell_read_energy: float = _field(0.5 ** 2 * 5e-6 * 5e-9, "energy")
    mvm_time: float = _field(5e-9, "time")
    pulse_energy: float = _field(2.0 ** 2 * 5e-6 * 10e-9, "energy")
    pulse_time: float = _field(10e-9, "time")
    cell_area: float = _field(48 * 0.032 ** 2, "area")
    devices_per_weight: int = _field(1, None, low=1)
    digital_op_energy: float = _field(3.7e-12, "energy")
    digital_op_time: float = _field(1e-9, "time")
    periphery_area: float = _field(240.0, "area")
    update_bl: int = _field(31, None, low=1)
    update_phases: int = _field(2, None, low=1)
    bidirectional: bool = _field(True)
    technology: str = _field("32 nm periphery (ISAAC), 1T1R analog synapse (NeuroSim), "
                             "45 nm digital (Horowitz)")

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type in (float, "float"):
                value = V.real("CostTable", f.name, value, low=0.0)
            elif f.type in (int, "int"):
                value = V.integer("CostTable", f.name, value, low=f.metadata.get("low"),
                                  high=f.metadata.get("high"))
            elif f.type in (bool, "bool"):
                value = V.boolean("CostTable", f.name, value)
            elif not isinstance(value, str):
                raise TypeError(f"CostTable.{f.name} must be a string, got {value!r}")
            object.__setattr__(self, f.name, value)

    # -- effective per-event costs at the resolutions in use

    @property
    def dac_energy_per_conversion(self):
        """J per DAC conversion at ``dac_bits``."""
        return self.dac_energy * self.dac_bits / self.dac_ref_bits

    @property
    def dac_area_each(self):
        """um^2 per DAC at ``dac_bits``."""
        return self.dac_area * self.dac_bits / self.dac_ref_bits

    @property
    def adc_energy_per_conversion(self):
        """J per ADC conversion at ``adc_bits`` (Walden scaling)."""
        return self.adc_energy * 2.0 ** (self.adc_bits - self.adc_ref_bits)

    @property
    def adc_time_per_conversion(self):
        """s per ADC conversion at ``adc_bits`` (one SAR step per bit)."""
        return self.adc_time * self.adc_bits / self.adc_ref_bits

    @property
    def adc_area_each(self):
        """um^2 per ADC at ``adc_bits``."""
        return self.adc_area * 2.0 ** (self.adc_bits - self.adc_ref_bits)

    def read_cycle_time(self, lines):
        """Seconds of one analog read cycle with ``lines`` read-out lines."""
        n_adc = math.ceil(lines / self.adc_share)
        return (self.dac_time + self.mvm_time
                + math.ceil(lines / n_adc) * self.adc_time_per_conversion)

    @property
    def update_time(self):
        """Seconds of one update sample (one pulse train on all cells)."""
        return self.update_bl * self.update_phases * self.pulse_time

    # -- construction from configuration files

    @classmethod
    def from_dict(cls, d):
        """A table with the defaults overridden by the entries of ``d``.

        Values of energy, time and area fields are numbers in J, s and um^2, or strings with
        a unit: ``"1.5 pJ"``, ``"10 ns"``, ``"0.05 um^2"`` (also ``um2``, ``µm²``, ``mm2``,
        ``m2``). A dict with the single key ``"cost"`` is unwrapped, so a ``[cost]`` section
        of a larger file works.

        Raises
        ------
        ConfigError
            For an unknown key (listing the known ones), a unit of the wrong kind, an
            unknown unit or a value out of range.
        """
        if not isinstance(d, dict):
            raise TypeError(f"CostTable.from_dict needs a dict, got {type(d).__name__}")
        if set(d) == {"cost"} and isinstance(d["cost"], dict):
            d = d["cost"]
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - set(fields))
        if unknown:
            raise ConfigError(f"CostTable: unknown key(s) {', '.join(map(repr, unknown))}; "
                              f"known keys: {', '.join(fields)}")
        values = {}
        for key, value in d.items():
            kind = fields[key].metadata.get("kind")
            values[key] = _parse_quantity(key, value, kind) if kind else value
        return cls(**values)

    @classmethod
    def from_toml(cls, path):
        """A table from a TOML file (top-level keys or a ``[cost]`` section); see from_dict."""
        path = Path(path)
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"CostTable.from_toml: {path} is not valid TOML: {exc}") from None
        return cls.from_dict(data)

    def to_dict(self):
        """The table as a plain dict (SI units: J, s; areas in um^2)."""
        return dataclasses.asdict(self)


def _parse_quantity(name, value, kind):
    """A number in the field's base unit, from a number or a ``"<number> <unit>"`` string."""
    if not isinstance(value, str):
        return value  # numbers are checked by CostTable itself
    units, base = _KIND_UNITS[kind]
    m = re.fullmatch(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S+)\s*", value)
    if m is None:
        raise ConfigError(f"CostTable.{name}: cannot read {value!r}; write a number in {base} "
                          f"or a number and a unit, e.g. '1.5 {_example(kind)}'")
    number, unit = float(m.group(1)), _normalise_unit(m.group(2))
    if unit not in units:
        for other, (other_units, _) in _KIND_UNITS.items():
            if unit in other_units:
                raise ConfigError(f"CostTable.{name}: {value!r} is {_article(other)} {other}, "
                                  f"but {name} is {_article(kind)} {kind} (units: "
                                  f"{_UNIT_NAMES[kind]})")
        raise ConfigError(f"CostTable.{name}: unknown unit {m.group(2)!r} in {value!r}; "
                          f"{kind} units: {_UNIT_NAMES[kind]}")
    return number * units[unit]


_UNIT_NAMES = {"energy": "J, mJ, uJ, nJ, pJ, fJ, aJ", "time": "s, ms, us, ns, ps, fs",
               "area": "m^2, mm^2, um^2, nm^2"}


def _article(word):
    return "an" if word[0] in "aeiou" else "a"


def _normalise_unit(unit):
    unit = unit.replace("µ", "u").replace("μ", "u").replace("²", "2").replace("^2", "2")
    return unit.lower()


def _example(kind):
    return {"energy": "pJ", "time": "ns", "area": "um^2"}[kind]


# --------------------------------------------------------------------------- the estimate

@dataclasses.dataclass(frozen=True)
class CostReport:
    """Energy, latency and area of a run. Energies in J, times in s, areas in um^2.

    Attributes
    ----------
    energy : float
        Total energy.
    energy_breakdown : dict
        ``dac``, ``adc``, ``array_read``, ``write``, ``digital``; sums to ``energy``.
    latency : float
        Serial-sum latency (see the module docstring).
    latency_breakdown : dict
        ``read``, ``update``, ``digital``; sums to ``latency``.
    latency_parallel : float
        Lower bound with all tiles running concurrently: the slowest tile plus the digital
        work counted outside the tiles.
    area : float
        Total area of the tiles.
    tiles : dict
        Per tile: ``shape`` (out, in), ``energy``, ``latency`` and ``area`` breakdowns.
    inferences : int or None
    energy_per_inference, latency_per_inference : float or None
        ``energy / inferences`` and ``latency / inferences`` when ``inferences`` was given
        (this includes any training work in the counters: pass the counters of an
        inference-only run for a pure inference cost).
    cost_table : CostTable
        The costs used.
    """

    energy: float
    energy_breakdown: dict
    latency: float
    latency_breakdown: dict
    latency_parallel: float
    area: float
    tiles: dict
    inferences: int | None
    energy_per_inference: float | None
    latency_per_inference: float | None
    cost_table: CostTable

    @property
    def area_mm2(self):
        return self.area * 1e-6

    def to_dict(self):
        """JSON-ready dict; keys carry their units."""
        return {
            "energy_j": self.energy,
            "energy_breakdown_j": dict(self.energy_breakdown),
            "latency_s": self.latency,
            "latency_breakdown_s": dict(self.latency_breakdown),
            "latency_parallel_s": self.latency_parallel,
            "area_um2": self.area,
            "tiles": {name: {"shape": list(t["shape"]), "energy_j": dict(t["energy"]),
                             "latency_s": dict(t["latency"]), "area_um2": dict(t["area"])}
                      for name, t in self.tiles.items()},
            "inferences": self.inferences,
            "energy_per_inference_j": self.energy_per_inference,
            "latency_per_inference_s": self.latency_per_inference,
            "cost_table": self.cost_table.to_dict(),
            "latency_model": "serial sum of read cycles, update samples and digital ops",
        }

    def table(self):
        """A plain-text rendering for the command line."""
        lines = []
        head = f"energy   {_si(self.energy, 'J')}"
        if self.energy_per_inference is not None:
            head += f"   ({_si(self.energy_per_inference, 'J')} per inference)"
        lines.append(head)
        for key, value in self.energy_breakdown.items():
            share = 100.0 * value / self.energy if self.energy > 0 else 0.0
            lines.append(f"  {key:<11}{_si(value, 'J'):>12}  {share:5.1f} %")
        head = (f"latency  {_si(self.latency, 's')} serial, "
                f"{_si(self.latency_parallel, 's')} with tiles in parallel")
        if self.latency_per_inference is not None:
            head += f"   ({_si(self.latency_per_inference, 's')} per inference)"
        lines.append(head)
        for key, value in self.latency_breakdown.items():
            lines.append(f"  {key:<11}{_si(value, 's'):>12}")
        lines.append(f"area     {self.area_mm2:.4g} mm^2")
        rows = [("tile", "shape", "cells", "DACs", "ADCs", "periphery", "total", "energy")]
        for name, t in self.tiles.items():
            a = t["area"]
            rows.append((name, f"{t['shape'][0]}x{t['shape'][1]}",
                         *(f"{a[k]:.4g}" for k in ("cells", "dac", "adc", "periphery", "total")),
                         _si(sum(t["energy"].values()), "J")))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines.append("  area per tile in um^2:")
        for r in rows:
            lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        lines.append(f"technology: {self.cost_table.technology}")
        return "\n".join(lines)


def estimate(counters_by_tile, table=None, inferences=None, digital_ops=0):
    """Estimate energy, latency and area from tile event counters.

    Parameters
    ----------
    counters_by_tile : dict
        Tile name -> ``(counters, (out_size, in_size))``, where ``counters`` is a dict of the
        keys in :data:`COUNTER_KEYS` (missing keys count 0). A tile object with
        ``out_size``, ``in_size`` and a ``counters`` dict (or method returning one) is also
        accepted in place of the tuple.
    table : CostTable, optional
        Per-event costs; default ``CostTable()``.
    inferences : int, optional
        Number of inferences (samples) the counters cover, for per-inference figures.
    digital_ops : int
        Digital operations counted outside the tiles (activations, adds).

    Returns
    -------
    CostReport
    """
    table = CostTable() if table is None else table
    if not isinstance(table, CostTable):
        raise TypeError(f"estimate: table must be a CostTable, got {type(table).__name__}")
    if not isinstance(counters_by_tile, dict):
        raise TypeError(f"estimate: counters_by_tile must be a dict of tile name -> "
                        f"(counters, (out_size, in_size)), got {type(counters_by_tile).__name__}")
    digital_ops = V.integer("estimate", "digital_ops", digital_ops, low=0)
    if inferences is not None:
        inferences = V.integer("estimate", "inferences", inferences, low=1)

    tiles = {}
    for name, entry in counters_by_tile.items():
        counters, shape = _unpack(name, entry)
        tiles[str(name)] = _tile_cost(counters, shape, table)

    energy_breakdown = {k: sum(t["energy"][k] for t in tiles.values())
                        for k in ("dac", "adc", "array_read", "write", "digital")}
    energy_breakdown["digital"] += digital_ops * table.digital_op_energy
    latency_breakdown = {k: sum(t["latency"][k] for t in tiles.values())
                         for k in ("read", "update", "digital")}
    outside = digital_ops * table.digital_op_time
    latency_breakdown["digital"] += outside
    energy = sum(energy_breakdown.values())
    latency = sum(latency_breakdown.values())
    slowest = max((sum(t["latency"].values()) for t in tiles.values()), default=0.0)
    return CostReport(
        energy=energy, energy_breakdown=energy_breakdown, latency=latency,
        latency_breakdown=latency_breakdown, latency_parallel=slowest + outside,
        area=sum(t["area"]["total"] for t in tiles.values()), tiles=tiles,
        inferences=inferences,
        energy_per_inference=None if inferences is None else energy / inferences,
        latency_per_inference=None if inferences is None else latency / inferences,
        cost_table=table)


def _unpack(name, entry):
    """(counters dict of ints, (out_size, in_size)) from a tuple or a tile-like object."""
    owner = f"estimate[{name!r}]"
    if isinstance(entry, (tuple, list)) and len(entry) == 2:
        counters, shape = entry
    elif all(hasattr(entry, a) for a in ("counters", "out_size", "in_size")):
        counters = entry.counters() if callable(entry.counters) else entry.counters
        shape = (entry.out_size, entry.in_size)
    else:
        raise TypeError(f"{owner} must be (counters, (out_size, in_size)) or a tile with "
                        f"counters, out_size and in_size; got {type(entry).__name__}")
    if not isinstance(counters, dict):
        raise TypeError(f"{owner}: counters must be a dict, got {type(counters).__name__}")
    unknown = sorted(set(counters) - set(COUNTER_KEYS))
    if unknown:
        raise ConfigError(f"{owner}: unknown counter(s) {', '.join(map(repr, unknown))}; "
                          f"known counters: {', '.join(COUNTER_KEYS)}")
    counts = {k: _count(owner, k, counters.get(k, 0)) for k in COUNTER_KEYS}
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise TypeError(f"{owner}: shape must be (out_size, in_size), got {shape!r}")
    out_size = V.integer(owner, "out_size", shape[0], low=1)
    in_size = V.integer(owner, "in_size", shape[1], low=1)
    return counts, (out_size, in_size)


def _count(owner, key, value):
    # Counters are integers, but a float that holds a whole number (e.g. from JSON) is fine.
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)):
        if not math.isfinite(value) or value != int(value):
            raise ConfigError(f"{owner}.{key} must be a whole number, got {value!r}")
        value = int(value)
    return V.integer(owner, key, value, low=0)


def _tile_cost(c, shape, table):
    out_size, in_size = shape
    energy = {
        "dac": (c["dac_forward"] + c["dac_backward"]) * table.dac_energy_per_conversion,
        "adc": (c["adc_forward"] + c["adc_backward"]) * table.adc_energy_per_conversion,
        # The tile counts weights read; each weight is devices_per_weight device cells.
        "array_read": (c["cell_reads_forward"] + c["cell_reads_backward"])
        * table.devices_per_weight * table.cell_read_energy,
        "write": (c["pulses_up"] + c["pulses_down"]) * table.pulse_energy,
        "digital": c["digital_ops"] * table.digital_op_energy,
    }
    latency = {
        "read": ((c["mvm_forward"] + c["bm_repeats"]) * table.read_cycle_time(out_size)
                 + c["mvm_backward"] * table.read_cycle_time(in_size)),
        "update": c["updates"] * table.update_time,
        "digital": c["digital_ops"] * table.digital_op_time,
    }
    return {"shape": shape, "energy": energy, "latency": latency,
            "area": tile_area(out_size, in_size, table)}


def tile_area(out_size, in_size, table=None):
    """Area breakdown (um^2) of one ``out_size x in_size`` tile: cells, dac, adc, periphery,
    total."""
    table = CostTable() if table is None else table
    driven = in_size + (out_size if table.bidirectional else 0)
    n_adc = math.ceil(out_size / table.adc_share)
    if table.bidirectional:
        n_adc += math.ceil(in_size / table.adc_share)
    area = {
        "cells": out_size * in_size * table.devices_per_weight * table.cell_area,
        "dac": driven * table.dac_area_each,
        "adc": n_adc * table.adc_area_each,
        "periphery": table.periphery_area,
    }
    area["total"] = sum(area.values())
    return area


_PREFIXES = ((1e0, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f"),
             (1e-18, "a"))


def _si(value, unit):
    """``value`` with an SI prefix: 1.2e-9 J -> '1.2 nJ'."""
    if value == 0:
        return f"0 {unit}"
    for scale, prefix in _PREFIXES:
        if abs(value) >= scale:
            return f"{value / scale:.4g} {prefix}{unit}"
    return f"{value:.3g} {unit}"
