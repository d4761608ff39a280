"""The precision pass: the IO configuration (DAC/ADC resolution, bounds, noise) of every tile.

Options, most specific first:

- a dict keyed by tile name (``"W[0,1]"``), map name (``"W"``, ``"U|c"``), parameter name
  (``"U"`` also finds the folded ``"U|c"``), map role (``"recurrent"``, ``"input"``,
  ``"bias"``, ``"readout"``) or ``"default"``;
- a single :class:`hwsim.IOConfig` (or one such value) for every tile;
- None: the tile's default periphery.

Each value is an :class:`hwsim.IOConfig`, or a dict of IOConfig fields, optionally with
``dac_bits`` / ``adc_bits`` shorthands (``inp_res = 1/(2^b - 2)``, aihwkit's convention of
``2^b - 1`` symmetric levels). The ideal target ignores IO (its tiles are exact), but the
graph carries the configs so that the same graph runs on the device target.
"""

import dataclasses

from hwsim import IOConfig

from .. import _validate as V
from ..errors import CompileError

__all__ = ["io_config", "assign", "ROLES"]

ROLES = ("recurrent", "input", "bias", "readout")
_IO_FIELDS = tuple(f.name for f in dataclasses.fields(IOConfig))


def io_config(value, where="compile.io"):
    """An IOConfig from an IOConfig, a dict of its fields (plus ``dac_bits``/``adc_bits``)
    or None."""
    if value is None or isinstance(value, IOConfig):
        return value
    if not isinstance(value, dict):
        raise CompileError(f"{where} must be an hwsim.IOConfig, a dict of its fields or None, "
                           f"got {type(value).__name__} {value!r}")
    V.keys(where, value, _IO_FIELDS + ("dac_bits", "adc_bits"))
    fields = dict(value)
    for key, res in (("dac_bits", "inp_res"), ("adc_bits", "out_res")):
        if key in fields:
            if res in fields:
                raise CompileError(f"{where}: give {key} or {res}, not both")
            bits = V.integer(where, key, fields.pop(key), low=2, high=32)
            fields[res] = 1.0 / (2 ** bits - 2)
    try:
        return IOConfig(**fields)
    except (TypeError, ValueError) as exc:
        raise CompileError(f"{where}: {exc}") from None


def _is_table(io):
    """A dict of per-tile/map/role entries (not a dict of IOConfig fields)."""
    return isinstance(io, dict) and io and not (set(io) <= set(_IO_FIELDS) |
                                                {"dac_bits", "adc_bits"})


def assign(tiling, ir, io=None, where="compile.io"):
    """``{tile name: IOConfig or None}`` for every tile of the plan.

    Raises CompileError for a key that names no tile, map or role.
    """
    tiles = tiling.all_tiles()
    if not _is_table(io):
        cfg = io_config(io, where)
        return {t.name: cfg for t in tiles}
    parts = {p[0] for m in ir.maps.values() for p in m.parts}
    names = {t.name for t in tiles} | set(tiling.tiles) | parts | set(ROLES) | {"default"}
    unknown = sorted(set(io) - names)
    if unknown:
        raise CompileError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; keys are "
                           f"tile names, map names ({', '.join(tiling.tiles)}), roles "
                           f"({', '.join(ROLES)}) or 'default'")
    table = {k: io_config(v, f"{where}[{k!r}]") for k, v in io.items()}
    out = {}
    for t in tiles:
        role = ir.maps[t.map].role
        m = ir.maps[t.map]
        for key in (t.name, t.map, *(p[0] for p in m.parts), role, "default"):
            if key in table:
                out[t.name] = table[key]
                break
        else:
            out[t.name] = None
    return out
