"""``hwsim experiment evolution --quick``: every check passes, JSON (and PNG) written."""

import json

import pytest

from hwsim.cli import main
from hwsim.experiments import base, evolution


def test_quick_run_passes_all_checks_and_writes_json(tmp_path, capsys):
    assert base.get("evolution") is evolution
    status = main(["experiment", "evolution", "--quick", "--quiet", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "FAIL" not in out and out.count("PASS") == 3
    data = json.loads((tmp_path / "evolution.json").read_text())
    assert data["passed"] and data["settings"]["quick"]
    gens = data["figures"]["ideal"]["generations"]
    assert len(gens["best_cos"]) == data["settings"]["generations"]
    assert gens["frac_pos_population"][-1] > gens["frac_pos_population"][0]
    pytest.importorskip("matplotlib")
    assert (tmp_path / "evolution.png").stat().st_size > 0


def test_device_only_target_reports_skip():
    result = evolution.run(quick=True, target="device", progress=False)
    assert "skipped" in result.figures and result.checks == []
