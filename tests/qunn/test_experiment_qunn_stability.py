"""``hwsim experiment qunn-stability --quick``: QUNN norm and trace preserved over 1000 steps;
the classical Euler/RK2 recurrences of the same field blow up."""

import json

import numpy as np
import pytest
import qutip

from hwsim.cli import main
from hwsim.experiments import base, qunn_stability


def test_density_stats_of_known_states():
    mixed = qutip.qeye(4) / 4
    pure = qutip.ket2dm(qutip.basis(4, 1))
    stats = qunn_stability.density_stats([mixed, pure])
    assert stats["trace_error"] == pytest.approx([0.0, 0.0], abs=1e-15)
    assert stats["purity"] == pytest.approx([0.25, 1.0])
    assert stats["min_eigenvalue"] == pytest.approx([0.25, 0.0], abs=1e-15)


def test_classical_recurrences_follow_the_stability_polynomial():
    xs = qunn_stability.inputs(2, 50, seed=3)
    out = qunn_stability.classical(1, xs, seed=3)
    # Euler grows every step: |R(iy)|^2 = 1 + y^2 > 1; RK2 too; exp keeps the norm.
    euler = np.diff(out["euler"]["log10_norm"])
    assert np.all(euler > 0)
    assert out["midpoint"]["final_log10_norm"] > 0
    assert out["exponential"]["max_abs_norm_minus_1"] < 1e-12
    for name in qunn_stability.CLASSICAL:
        assert out[name]["max_outside_bounds"] < 1e-9


def test_quick_run_passes_all_checks_and_writes_json(tmp_path, capsys):
    assert base.get("qunn-stability") is qunn_stability
    status = main(["experiment", "qunn-stability", "--quick", "--quiet", "--out",
                   str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "FAIL" not in out and out.count("PASS") == 7
    data = json.loads((tmp_path / "qunn-stability.json").read_text())
    assert data["passed"] and data["settings"]["quick"]
    fast = data["figures"]["fast"]["q2_t4"]
    assert fast["max_trace_error"] < 1e-10 and fast["max_ket_norm_error"] < 1e-10
    assert data["figures"]["classical"]["euler"]["final_log10_norm"] > 3
    pytest.importorskip("matplotlib")
    assert (tmp_path / "qunn-stability.png").stat().st_size > 0
