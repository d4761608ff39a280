"""``hwsim experiment metaplasticity --quick``: every check passes, JSON (and PNG) written."""

import json
import math

import pytest

from hwsim.cli import main
from hwsim.experiments import base, metaplasticity


def test_crossing_interpolates_the_first_sign_change_after_start():
    steps = [0, 10, 20, 30, 40]
    values = [-1.0, 1.0, 1.0, -1.0, -2.0]
    assert metaplasticity.crossing(steps, values, 5) == pytest.approx(25.0)
    assert metaplasticity.crossing(steps, [1, 1, 1, 1, 1], 0) is None


def test_quick_run_passes_all_checks_and_writes_json(tmp_path, capsys):
    assert base.get("metaplasticity") is metaplasticity
    status = main(["experiment", "metaplasticity", "--quick", "--quiet", "--out",
                   str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "FAIL" not in out and out.count("PASS") >= 12
    data = json.loads((tmp_path / "metaplasticity.json").read_text())
    assert data["passed"] and data["settings"]["quick"]
    run = data["figures"]["ideal"]["lambda_0.1"]
    tau = 1.0 / (run["eta"] * run["lambda"])
    assert run["lag_phi"] == pytest.approx(math.log(2) * tau, rel=0.25)
    assert run["probe_reversed_flipped"] > 0.9 and run["probe_reversed_kept"] < 0.1
    pytest.importorskip("matplotlib")
    assert (tmp_path / "metaplasticity.png").stat().st_size > 0
