"""The pass manager: report, stability warnings and strict mode, syre, tiling, placement,
precision, cost prediction; hypothesis-generated specs compile and run."""

import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import compiler
import hwsim
from compiler import ODERNN, CompileError, StabilityWarning, Syre, reference
from compiler.passes import placement, precision, tiling
from compiler.report import step_counters


def quiet(spec, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StabilityWarning)
        return compiler.compile(spec, **options)


# ------------------------------------------------------------------ tiling and placement
def test_partition_is_even():
    assert tiling.partition(300, 256) == [(0, 150), (150, 300)]
    assert tiling.partition(256, 256) == [(0, 256)]
    assert tiling.partition(7, 3) == [(0, 3), (3, 5), (5, 7)]
    assert tiling.partition(1, 8) == [(0, 1)]


@pytest.mark.parametrize("hidden, tile_size", [(8, 256), (8, 4), (10, 4), (33, 16)])
def test_tile_counts(hidden, tile_size):
    spec = ODERNN(hidden=hidden, inputs=1, outputs=1, method="rk4", step=0.5)
    r = compiler.compile(spec, target="ideal", tile_size=tile_size)
    per_map = {m: tiling.min_tiles(*r.ir.maps[m].shape, tile_size) for m in r.ir.maps}
    assert r.report.tiles_by_map == per_map
    assert r.report.tiles == sum(per_map.values()) == len(r.graph.tiles)
    assert all(max(t.shape) <= tile_size for t in r.graph.tiles.values())
    # RK4 reads every tile of W four times per step, the input tile once
    reads = {}
    for op in r.graph.ops:
        if isinstance(op, hwsim.TileMVM):
            reads[op.tile] = reads.get(op.tile, 0) + 1
    assert all(reads[t.name] == 4 for t in r.tiling.tiles["W"])
    assert all(reads[t.name] == 1 for t in r.tiling.tiles["U|c"])


def test_placement_deterministic_and_utilisation():
    spec = ODERNN(hidden=10, inputs=3, outputs=2)
    a = compiler.compile(spec, target="ideal", tile_size=4)
    b = compiler.compile(spec, target="ideal", tile_size=4)
    assert a.placement == b.placement
    p = a.placement
    assert len(set(p.positions.values())) == p.n_tiles
    rows, cols = p.grid
    assert rows * cols >= p.n_tiles and cols == math.ceil(math.sqrt(p.n_tiles))
    used = sum(r * c for r, c in p.shapes.values())
    assert used == sum(math.prod(m.shape) for m in a.ir.maps.values())
    assert p.utilisation == pytest.approx(used / (p.n_tiles * 16))
    assert a.report.utilisation == p.utilisation
    assert "placement:" in str(p) and p.to_dict()["tiles"][0]["position"] == [0, 0]
    fixed = placement.place(a.tiling, grid=(2, 20))
    assert fixed.grid == (2, 20)
    with pytest.raises(CompileError, match="grid 2 x 2 has 4 slots"):
        compiler.compile(spec, target="ideal", tile_size=4, grid=(2, 2))


def test_precision_per_role_map_and_tile():
    spec = ODERNN(hidden=6, inputs=2, outputs=1)
    io = {"recurrent": {"adc_bits": 10}, "V": hwsim.IOConfig(out_noise=0.0),
          "W[0,1]": {"dac_bits": 6}, "default": {"is_perfect": True}}
    r = compiler.compile(spec, target="ideal", tile_size=4, io=io)
    tiles = r.graph.tiles
    assert tiles["W[0,1]"].io.inp_res == pytest.approx(1 / 62)
    assert tiles["W[0,0]"].io.out_res == pytest.approx(1 / 1022)
    assert tiles["V[0,1]"].io.out_noise == 0.0 and tiles["d"].io.is_perfect
    assert tiles["U|c[1,0]"].io.is_perfect
    one = compiler.compile(spec, target="ideal", io={"dac_bits": 5})
    assert all(t.io.inp_res == pytest.approx(1 / 30) for t in one.graph.tiles.values())
    assert all(t.io is None for t in compiler.compile(spec, target="ideal").graph.tiles.values())
    with pytest.raises(CompileError, match="unknown key.*'Z'"):
        compiler.compile(spec, io={"Z": {"dac_bits": 5}})
    with pytest.raises(CompileError, match="dac_bits must be"):
        precision.io_config({"dac_bits": 1})


# ------------------------------------------------------------------ stability
def test_unstable_warns_and_strict_refuses():
    spec = compiler.architecture("residual", hidden=8, inputs=1, outputs=1)
    with pytest.warns(StabilityWarning, match="'residual'.*is unstable"):
        r = compiler.compile(spec, target="ideal")
    assert r.report.verdict == "unstable" and r.stability.offending
    assert "UNSTABLE" in str(r.report)
    with pytest.raises(CompileError, match="strict=True.*unstable"):
        compiler.compile(spec, target="ideal", strict=True)


def test_marginal_warns_but_strict_accepts():
    spec = compiler.architecture("unitary", hidden=6, inputs=1, outputs=1)
    with pytest.warns(StabilityWarning, match="marginal"):
        r = compiler.compile(spec, target="ideal", strict=True)
    assert r.report.verdict == "marginal"


def test_stable_compiles_silently():
    spec = compiler.architecture("vanilla", hidden=8, inputs=1, outputs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", StabilityWarning)
        r = compiler.compile(spec, target="ideal", strict=True)
    assert r.report.verdict == "stable"
    assert r.report.stability["verdict"] == "stable"


def test_stability_sees_given_weights():
    spec = compiler.architecture("vanilla", hidden=4, inputs=1, outputs=1)
    with pytest.warns(StabilityWarning, match="unstable"):
        compiler.compile(spec, target="ideal", weights={"W": 5 * np.eye(4)})


def test_stability_can_be_skipped():
    spec = compiler.architecture("residual", hidden=8, inputs=1, outputs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", StabilityWarning)
        r = compiler.compile(spec, target="ideal", stability=False)
    assert r.stability is None and r.report.verdict == "not analysed"


# ------------------------------------------------------------------ syre
def test_syre_reference_offsets_and_decay_on_every_tile():
    spec = ODERNN(hidden=6, inputs=2, outputs=1, syre=Syre(sigma0=0.05, gamma=0.01))
    r = compiler.compile(spec, target="ideal", tile_size=4, seed=3)
    for t in r.graph.tiles.values():
        assert t.offset is not None and t.offset.shape == t.shape
        assert t.weight_decay == 0.01
    assert r.report.syre["gamma"] == 0.01 and "syre:" in str(r.report)
    # the effective weights start where they would without syre: same function
    x = np.random.default_rng(0).standard_normal((2, 4, 2))
    assert np.max(np.abs(r.run(x) - reference.run(spec, r.weights, x))) < 1e-10
    again = compiler.compile(spec, target="ideal", tile_size=4, seed=3)
    assert all(np.array_equal(again.graph.tiles[k].offset, t.offset)
               for k, t in r.graph.tiles.items())


def test_syre_anisotropy_gives_per_weight_decay():
    spec = ODERNN(hidden=4, inputs=1, outputs=1, syre={"gamma": 0.01, "anisotropy": 0.5})
    r = compiler.compile(spec, target="ideal")
    w = r.graph.tiles["W"].weight_decay
    assert isinstance(w, np.ndarray) and w.shape == (4, 4)
    assert np.all((w >= 0.005) & (w <= 0.015))


# ------------------------------------------------------------------ report and cost
def test_step_counters_per_tile_read():
    spec = ODERNN(hidden=6, inputs=2, outputs=1, method="heun")
    r = compiler.compile(spec, target="ideal", tile_size=4)
    counters, digital = step_counters(r.graph)
    w00 = counters["W[0,0]"][0]
    assert w00 == {"mvm_forward": 2, "dac_forward": 2 * 3, "adc_forward": 2 * 3,
                   "cell_reads_forward": 2 * 9}
    assert digital > 0
    cost = hwsim.cost.estimate(counters, inferences=1, digital_ops=digital)
    assert r.report.cost["energy_j"] == pytest.approx(cost.energy)
    assert r.report.cost["latency_s"] == pytest.approx(cost.latency)
    assert r.report.cost["latency_parallel_s"] <= r.report.cost["latency_s"]


def test_cost_grows_with_stages():
    def energy(method):
        spec = ODERNN(hidden=16, inputs=1, outputs=1, method=method)
        return compiler.compile(spec, target="ideal", stability=False).report.cost["energy_j"]
    assert energy("euler") < energy("midpoint") < energy("rk3") < energy("rk4")


def test_report_text_and_json():
    spec = compiler.architecture("gru", hidden=6, inputs=2, outputs=1)
    r = quiet(spec, target="ideal", tile_size=4)
    text = str(r.report)
    for part in ("compiled 2-1-ODERNN gru, midpoint", "tiles: ", "utilisation:",
                 "IR ops:", "graph:", "stability:", "predicted per step", "energy",
                 "latency", "compiled in"):
        assert part in text
    data = json.loads(r.report.to_json())
    assert data["tiles"] == r.report.tiles and data["verdict"] == r.report.verdict
    assert data["graph_ops"]["TileMVM"] == sum(isinstance(o, hwsim.TileMVM)
                                               for o in r.graph.ops)
    assert ODERNN.from_dict(data["spec"]) == spec


def test_options_validated():
    spec = ODERNN(hidden=4, inputs=1, outputs=1)
    for kwargs, field in [(dict(target="fpga"), "target"), (dict(tile_size=0), "tile_size"),
                          (dict(device="no-such-preset"), "device"), (dict(strict=1), "strict"),
                          (dict(seed=-1), "seed"), (dict(grid=(1,)), "grid")]:
        with pytest.raises(CompileError, match=rf"compile\.{field}"):
            compiler.compile(spec, **kwargs)
    with pytest.raises(CompileError, match="'qunn' is not available"):
        compiler.compile(spec, target="qunn")
    with pytest.raises(CompileError, match="compile.spec"):
        compiler.compile(42)


def test_compile_from_dict_and_files(tmp_path):
    spec = ODERNN(hidden=4, inputs=1, outputs=1, method="rk3")
    path = tmp_path / "s.toml"
    path.write_text(spec.to_toml())
    assert compiler.compile(str(path), target="ideal").spec == spec
    assert compiler.compile(spec.to_dict(), target="ideal").spec == spec
    c = compiler.Compiler(target="ideal", tile_size=2)
    assert c.compile(spec).report.tile_size == 2


def test_save_writes_json_and_dot(tmp_path):
    r = compiler.compile(ODERNN(hidden=4, inputs=1, outputs=1), target="ideal")
    r.save(tmp_path / "g.json", dot=tmp_path / "g.dot")
    g = hwsim.DeviceGraph.from_json((tmp_path / "g.json").read_text())
    assert set(g.tiles) == set(r.graph.tiles)
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


# ------------------------------------------------------------------ hypothesis
@st.composite
def valid_specs(draw):
    cell = draw(st.sampled_from(sorted(compiler.cells.CELLS)))
    methods = ["euler", "midpoint", "heun", "rk3", "rk4"] + (
        ["exponential"] if cell == "unitary" else [])
    method = draw(st.sampled_from(methods))
    order = draw(st.integers(1, 3))
    memory = draw(st.sampled_from(["difference", "damped",
                                   {"name": "damped", "damping": 0.5}, None]))
    if memory is None:
        memory = draw(st.lists(st.floats(-1, 1), min_size=order, max_size=order))
    hidden = draw(st.integers(1, 7))
    outputs = draw(st.integers(1, 4))
    readout = draw(st.sampled_from(["linear", "tanh"] + (["identity"] if outputs == hidden
                                                        else [])))
    return ODERNN(hidden=hidden, inputs=draw(st.integers(1, 4)), outputs=outputs,
                  method=method, order=order, memory=memory, cell=cell, readout=readout,
                  step=draw(st.floats(0.05, 1.0)),
                  activation=draw(st.sampled_from(["tanh", "sigmoid", "relu", "identity"])),
                  bias=draw(st.booleans()), init=draw(st.sampled_from(["uniform", "normal"])))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=valid_specs(), tile_size=st.sampled_from([2, 3, 256]), seed=st.integers(0, 99))
def test_hypothesis_valid_specs_compile_and_run(spec, tile_size, seed):
    r = quiet(spec, target="ideal", tile_size=tile_size, seed=seed)
    x = np.random.default_rng(seed).uniform(-1, 1, (2, 3, spec.inputs))
    y = r.run(x)
    assert y.shape == (2, 3, spec.outputs)
    expected = reference.run(spec, r.weights, x)
    scale = max(1.0, float(np.max(np.abs(expected))))
    assert np.max(np.abs(y - expected)) <= 1e-10 * scale
    assert ODERNN.from_dict(spec.to_dict()) == spec


@pytest.mark.parametrize("hidden", [4, 16])
def test_named_architecture_verdicts(hidden):
    expected = {"vanilla": "stable", "gru": "stable", "lstm": "stable",
                "residual": "unstable", "unitary": "marginal"}
    for name, verdict in expected.items():
        spec = compiler.architecture(name, hidden=hidden, inputs=2, outputs=1)
        assert quiet(spec, target="ideal").report.verdict == verdict, name
