"""``hwsim experiment qunn-params --quick``: QUNN count t (+ readout) whatever q; the compiled
classical ODERNN's count independent of t and ~N^2."""

import json

import pytest

import compiler
from hwsim.cli import main
from hwsim.experiments import base, qunn_params


def test_qunn_count_does_not_depend_on_qubits():
    counts = [qunn_params.qunn_counts(q, 5, gradient=q <= 2) for q in (1, 2, 3)]
    assert [c["couplings"] for c in counts] == [5, 5, 5]
    assert [c["with_readout"] for c in counts] == [5 + q + 2 for q in (1, 2, 3)]
    assert counts[0]["gradient_lengths"] == [5, 8]


def test_classical_count_comes_from_the_compiler_and_ignores_memory_order():
    specs = [qunn_params.classical_spec("vanilla", 3, t) for t in (1, 2, 5)]
    assert [s.order for s in specs] == [1, 2, 5]
    counts = {compiler.parameter_count(s) for s in specs}
    assert len(counts) == 1 and counts.pop() >= 64
    assert qunn_params.compiled_weights(specs[1]) == compiler.parameter_count(specs[1])
    assert qunn_params.theory_formula(3, 2) == 2 * 64 + 8 * 3


def test_quick_run_passes_all_checks_and_writes_json(tmp_path, capsys):
    assert base.get("qunn-params") is qunn_params
    status = main(["experiment", "qunn-params", "--quick", "--quiet", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "FAIL" not in out and out.count("PASS") == 4
    data = json.loads((tmp_path / "qunn-params.json").read_text())
    assert data["passed"] and data["settings"]["quick"]
    rows = {(r["qubits"], r["memory"]): r for r in data["figures"]["grid"]}
    assert rows[(5, 8)]["qunn"]["couplings"] == 8
    assert rows[(5, 8)]["vanilla"]["count"] > 32 ** 2
    pytest.importorskip("matplotlib")
    assert (tmp_path / "qunn-params.png").stat().st_size > 0
