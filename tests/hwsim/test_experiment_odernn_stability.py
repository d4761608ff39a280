"""``hwsim experiment odernn-stability --quick``: every check passes, JSON (and PNG) written."""

import json

import pytest

from hwsim.cli import main
from hwsim.experiments import base, odernn_stability


def test_quick_run_passes_all_checks_and_writes_json(tmp_path, capsys):
    assert base.get("odernn-stability") is odernn_stability
    status = main(["experiment", "odernn-stability", "--quick", "--quiet", "--out",
                   str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "FAIL" not in out and out.count("PASS") >= 14
    data = json.loads((tmp_path / "odernn-stability.json").read_text())
    assert data["passed"] and data["settings"]["quick"]
    assert all(c["passed"] for c in data["checks"])
    regions = data["figures"]["regions"]
    assert regions["rk4"]["real_interval"][0] == pytest.approx(-2.7853, abs=1e-4)
    assert regions["rk3"]["imaginary_extent"] == pytest.approx(3 ** 0.5, abs=1e-4)
    osc = data["figures"]["oscillation"]["domega_0.5"]
    assert osc["euler"]["norm_final"] > 1e40 and abs(osc["exponential"]["norm_final"] - 1) < 1e-10
    mem = data["figures"]["memory"]
    assert mem["t2_undamped"]["verdict"] == "unstable" and mem["t2_damped"]["verdict"] == "stable"
    pytest.importorskip("matplotlib")
    assert (tmp_path / "odernn-stability.png").stat().st_size > 0
