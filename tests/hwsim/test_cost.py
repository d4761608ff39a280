"""Cost model: linearity, breakdowns, hand-computed example, overrides, area, bad input."""

import dataclasses
import json
import math

import pytest

from hwsim.cost import COUNTER_KEYS, SOURCES, CostReport, CostTable, estimate, tile_area
from hwsim.errors import ConfigError

SHAPE = (16, 32)  # out_size, in_size


def counters(vectors=10, back=5, updates=4, up=300, down=200, repeats=2):
    """Counters as a tile would report them for `vectors` forward and `back` backward reads."""
    out_size, in_size = SHAPE
    reads = vectors + repeats
    return {
        "mvm_forward": vectors, "mvm_backward": back,
        "dac_forward": reads * in_size, "adc_forward": reads * out_size,
        "dac_backward": back * out_size, "adc_backward": back * in_size,
        "cell_reads_forward": reads * in_size * out_size,
        "cell_reads_backward": back * in_size * out_size,
        "pulses_up": up, "pulses_down": down, "updates": updates, "bm_repeats": repeats,
    }


def scaled(c, k):
    return {key: k * value for key, value in c.items()}


# --------------------------------------------------------------------------- the table

def test_every_default_has_a_source():
    names = {f.name for f in dataclasses.fields(CostTable)}
    assert set(SOURCES) == names
    assert all(isinstance(SOURCES[n], str) and len(SOURCES[n]) > 10 for n in names - {"technology"})


def test_effective_costs_follow_resolution():
    t = CostTable()
    up = dataclasses.replace(t, adc_bits=t.adc_ref_bits + 1)
    assert up.adc_energy_per_conversion == pytest.approx(2 * t.adc_energy)
    assert up.adc_area_each == pytest.approx(2 * t.adc_area)
    assert CostTable(dac_bits=4, dac_ref_bits=1).dac_energy_per_conversion == \
        pytest.approx(4 * CostTable().dac_energy)


def test_negative_and_wrong_types_are_rejected():
    with pytest.raises(ConfigError, match="pulse_energy"):
        CostTable(pulse_energy=-1e-12)
    with pytest.raises(ConfigError, match="adc_share"):
        CostTable(adc_share=0)
    with pytest.raises(TypeError, match="adc_bits"):
        CostTable(adc_bits=8.5)
    with pytest.raises(ConfigError, match="mvm_time"):
        CostTable(mvm_time=float("nan"))


# --------------------------------------------------------------------------- estimate

def test_zero_counters_cost_nothing_but_area():
    zero = dict.fromkeys(COUNTER_KEYS[:-1], 0)
    r = estimate({"t": (zero, SHAPE)})
    assert r.energy == 0.0 and r.latency == 0.0 and r.latency_parallel == 0.0
    assert all(v == 0.0 for v in r.energy_breakdown.values())
    assert r.area > 0.0


def test_doubling_counters_doubles_energy_and_latency():
    c = counters()
    one = estimate({"t": (c, SHAPE)}, digital_ops=100)
    two = estimate({"t": (scaled(c, 2), SHAPE)}, digital_ops=200)
    assert two.energy == pytest.approx(2 * one.energy)
    assert two.latency == pytest.approx(2 * one.latency)
    for key, value in one.energy_breakdown.items():
        assert two.energy_breakdown[key] == pytest.approx(2 * value)
    assert two.area == one.area


def test_tiles_add_up():
    c = counters()
    one = estimate({"a": (c, SHAPE)})
    both = estimate({"a": (c, SHAPE), "b": (c, SHAPE)})
    assert both.energy == pytest.approx(2 * one.energy)
    assert both.area == pytest.approx(2 * one.area)
    assert both.latency == pytest.approx(2 * one.latency)       # serial sum
    assert both.latency_parallel == pytest.approx(one.latency)  # tiles side by side


def test_breakdowns_sum_to_totals():
    r = estimate({"a": (counters(), SHAPE), "b": (counters(3, 1), (8, 8))}, digital_ops=77)
    assert set(r.energy_breakdown) == {"dac", "adc", "array_read", "write", "digital"}
    assert sum(r.energy_breakdown.values()) == pytest.approx(r.energy)
    assert sum(r.latency_breakdown.values()) == pytest.approx(r.latency)
    for t in r.tiles.values():
        total = t["area"].pop("total")
        assert sum(t["area"].values()) == pytest.approx(total)


def test_hand_computed_example():
    # Every cost computed here from the table's own fields, event by event.
    table = CostTable.from_dict({"adc_share": 4, "devices_per_weight": 2})
    c = counters(vectors=10, back=5, updates=4, up=300, down=200, repeats=2)
    out_size, in_size = SHAPE
    r = estimate({"t": (c, SHAPE)}, table=table, digital_ops=50, inferences=10)

    e_dac = table.dac_energy * table.dac_bits / table.dac_ref_bits
    e_adc = table.adc_energy * 2.0 ** (table.adc_bits - table.adc_ref_bits)
    expected_energy = {
        "dac": (12 * in_size + 5 * out_size) * e_dac,
        "adc": (12 * out_size + 5 * in_size) * e_adc,
        "array_read": 17 * in_size * out_size * 2 * table.cell_read_energy,
        "write": 500 * table.pulse_energy,
        "digital": 50 * table.digital_op_energy,
    }
    for key, value in expected_energy.items():
        assert r.energy_breakdown[key] == pytest.approx(value), key
    assert r.energy_per_inference == pytest.approx(sum(expected_energy.values()) / 10)

    t_adc = table.adc_time * table.adc_bits / table.adc_ref_bits
    # forward: 16 lines on 4 ADCs -> 4 conversions each; backward: 32 lines on 8 ADCs -> 4 each
    t_fwd = table.dac_time + table.mvm_time + 4 * t_adc
    t_bwd = table.dac_time + table.mvm_time + 4 * t_adc
    expected_latency = {
        "read": 12 * t_fwd + 5 * t_bwd,
        "update": 4 * table.update_bl * table.update_phases * table.pulse_time,
        "digital": 50 * table.digital_op_time,
    }
    for key, value in expected_latency.items():
        assert r.latency_breakdown[key] == pytest.approx(value), key

    area = r.tiles["t"]["area"]
    assert area["cells"] == pytest.approx(out_size * in_size * 2 * table.cell_area)
    assert area["dac"] == pytest.approx((in_size + out_size) * table.dac_area * table.dac_bits)
    assert area["adc"] == pytest.approx((4 + 8) * table.adc_area * 2.0)
    assert area["periphery"] == table.periphery_area


def test_adc_sharing_sets_conversions_per_read():
    t = CostTable(adc_share=8)
    step = t.adc_time_per_conversion
    base = t.dac_time + t.mvm_time
    assert t.read_cycle_time(5) == pytest.approx(base + 5 * step)    # one ADC, 5 lines
    assert t.read_cycle_time(64) == pytest.approx(base + 8 * step)   # 8 ADCs, 8 lines each
    assert t.read_cycle_time(65) == pytest.approx(base + 8 * step)   # 9 ADCs, ceil(65/9) = 8


def test_bound_management_repeats_add_read_cycles():
    c = dict.fromkeys(COUNTER_KEYS[:-1], 0)
    c["mvm_forward"] = 3
    plain = estimate({"t": (c, SHAPE)})
    c["bm_repeats"] = 2
    repeated = estimate({"t": (c, SHAPE)})
    assert repeated.latency == pytest.approx(plain.latency * 5 / 3)


def test_area_scales_with_tile_size():
    t = CostTable()
    small, big = tile_area(16, 16, t), tile_area(64, 64, t)
    assert big["cells"] == pytest.approx(16 * small["cells"])
    assert big["dac"] == pytest.approx(4 * small["dac"])
    assert big["adc"] == pytest.approx(4 * small["adc"])   # 16 / 8 = 2 ADCs a side vs 8
    assert big["total"] > small["total"]
    one_sided = tile_area(64, 64, CostTable(bidirectional=False))
    assert one_sided["adc"] == pytest.approx(big["adc"] / 2)


def test_tile_like_objects_are_accepted():
    class FakeTile:
        out_size, in_size = SHAPE
        counters = counters()
    a = estimate({"t": FakeTile()})
    b = estimate({"t": (counters(), SHAPE)})
    assert a.energy == b.energy and a.area == b.area


def test_report_serialises_and_renders():
    r = estimate({"layer1": (counters(), SHAPE)}, inferences=10)
    assert isinstance(r, CostReport)
    d = json.loads(json.dumps(r.to_dict()))
    assert d["energy_j"] == pytest.approx(r.energy)
    assert d["tiles"]["layer1"]["shape"] == list(SHAPE)
    text = r.table()
    assert "layer1" in text and "per inference" in text and "mm^2" in text


# --------------------------------------------------------------------------- bad counters

@pytest.mark.parametrize("bad, match", [
    ({"mvm_forwad": 1}, "mvm_forwad"),
    ({"pulses_up": -1}, "pulses_up"),
    ({"updates": 2.5}, "updates"),
])
def test_bad_counters(bad, match):
    with pytest.raises(ConfigError, match=match):
        estimate({"t": (bad, SHAPE)})


def test_bad_shape_and_arguments():
    with pytest.raises(ConfigError, match="in_size"):
        estimate({"t": ({}, (4, 0))})
    with pytest.raises(TypeError):
        estimate({"t": ({}, 4)})
    with pytest.raises(ConfigError, match="inferences"):
        estimate({"t": ({}, SHAPE)}, inferences=0)
    with pytest.raises(ConfigError, match="digital_ops"):
        estimate({"t": ({}, SHAPE)}, digital_ops=-3)


def test_whole_float_counters_are_accepted():
    c = {k: float(v) for k, v in counters().items()}
    assert estimate({"t": (c, SHAPE)}).energy == estimate({"t": (counters(), SHAPE)}).energy


# --------------------------------------------------------------------------- overrides

def test_from_dict_reads_units():
    t = CostTable.from_dict({"pulse_energy": "1.5 pJ", "pulse_time": "20ns",
                             "cell_area": "0.02 µm²", "periphery_area": "0.001 mm^2",
                             "adc_share": 16, "mvm_time": 1e-8})
    assert t.pulse_energy == pytest.approx(1.5e-12)
    assert t.pulse_time == pytest.approx(2e-8)
    assert t.cell_area == pytest.approx(0.02)
    assert t.periphery_area == pytest.approx(1000.0)
    assert t.adc_share == 16 and t.mvm_time == 1e-8
    assert t.adc_energy == CostTable().adc_energy  # untouched fields keep their defaults


def test_toml_override(tmp_path):
    path = tmp_path / "cost.toml"
    path.write_text('[cost]\npulse_energy = "2 pJ"\nupdate_bl = 10\nbidirectional = false\n')
    t = CostTable.from_toml(path)
    assert t.pulse_energy == pytest.approx(2e-12) and t.update_bl == 10 and not t.bidirectional
    c = counters()
    default = estimate({"t": (c, SHAPE)})
    custom = estimate({"t": (c, SHAPE)}, table=t)
    assert custom.energy_breakdown["write"] == pytest.approx(
        default.energy_breakdown["write"] * 2e-12 / CostTable().pulse_energy)

    flat = tmp_path / "flat.toml"
    flat.write_text("adc_bits = 6\n")
    assert CostTable.from_toml(flat).adc_bits == 6


def test_toml_unknown_key_lists_known(tmp_path):
    path = tmp_path / "cost.toml"
    path.write_text("pulse_energi = 1e-12\n")
    with pytest.raises(ConfigError, match=r"'pulse_energi'.*known keys: .*pulse_energy"):
        CostTable.from_toml(path)


@pytest.mark.parametrize("value, match", [
    ("5 ns", "is a time, but pulse_energy is an energy"),
    ("3 furlongs", "unknown unit"),
    ("-1 pJ", ">= 0"),
    ("lots", "cannot read"),
])
def test_wrong_units_and_values(value, match):
    with pytest.raises(ConfigError, match=match):
        CostTable.from_dict({"pulse_energy": value})


def test_invalid_toml(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("pulse_energy = = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        CostTable.from_toml(path)


def test_default_costs_are_plausible():
    # Guard rails against unit slips in the defaults (orders of magnitude, not values).
    t = CostTable()
    assert 1e-13 < t.adc_energy_per_conversion < 1e-10
    assert 1e-16 < t.cell_read_energy < 1e-12
    assert 1e-15 < t.pulse_energy < 1e-10
    assert 1e-10 < t.read_cycle_time(128) < 1e-6
    assert 1e-3 < t.cell_area < 1.0 and 100 < t.adc_area < 1e5
    assert math.isclose(t.cell_area, 48 * 0.032 ** 2)
