"""``hwsim compile SPEC.toml -o graph.json [--dot graph.dot] [--tile-size N] [--strict]``."""

import json

import numpy as np

import hwsim
from compiler import ODERNN, reference
from hwsim.cli import main

SPEC = """
hidden = 10
inputs = 2
outputs = 1
method = "rk4"
step = 0.5
cell = "gru"
"""


def test_compile_writes_json_dot_and_report(tmp_path, capsys):
    spec_path = tmp_path / "spec.toml"
    spec_path.write_text(SPEC)
    out, dot, rep = tmp_path / "g.json", tmp_path / "g.dot", tmp_path / "r.json"
    code = main(["compile", str(spec_path), "-o", str(out), "--dot", str(dot),
                 "--tile-size", "4", "--target", "ideal", "--report", str(rep)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "compiled 4-1-ODERNN gru, rk4" in printed and "tiles:" in printed
    assert f"wrote {out}" in printed
    graph = hwsim.DeviceGraph.from_json(out.read_text())
    assert all(max(t.shape) <= 4 for t in graph.tiles.values())
    assert dot.read_text().startswith("digraph")
    report = json.loads(rep.read_text())
    assert report["tile_size"] == 4 and report["tiles"] == len(graph.tiles)
    # the written graph computes the spec (weights drawn with the default seed 0)
    import compiler
    spec = ODERNN.from_toml(SPEC)
    weights = compiler.initial_weights(spec, 0)[0]
    x = np.random.default_rng(0).standard_normal((2, 3, 2))
    y = hwsim.Simulator(graph, target="ideal").run({"x": x})["y"]
    assert np.max(np.abs(y - reference.run(spec, weights, x))) < 1e-10


def test_compile_strict_refuses_unstable(tmp_path, capsys):
    spec_path = tmp_path / "res.toml"
    spec_path.write_text('hidden = 8\ninputs = 1\noutputs = 1\ncell = "residual"\n'
                         'method = "euler"\n')
    code = main(["compile", str(spec_path), "-o", str(tmp_path / "g.json"), "--strict"])
    assert code == 2
    err = capsys.readouterr().err
    assert "unstable" in err and "strict" in err
    assert not (tmp_path / "g.json").exists()
    # without --strict it compiles and says why it is unstable
    code = main(["compile", str(spec_path), "-o", str(tmp_path / "g.json")])
    captured = capsys.readouterr()
    assert code == 0 and "stability: unstable" in captured.out
    assert "warning:" in captured.err


def test_compile_bad_spec_names_the_field(tmp_path, capsys):
    spec_path = tmp_path / "bad.toml"
    spec_path.write_text('hidden = 8\ninputs = 1\noutputs = 1\ncell = "transformer"\n')
    assert main(["compile", str(spec_path), "-o", str(tmp_path / "g.json")]) == 2
    assert "ODERNN.cell" in capsys.readouterr().err
