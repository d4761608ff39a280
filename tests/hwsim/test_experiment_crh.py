"""``hwsim experiment crh --quick``: every check passes, JSON (and PNG) written; its
measurement on matrices with a known answer."""

import json

import numpy as np
import pytest

from hwsim.cli import main
from hwsim.experiments import base
from hwsim.experiments import crh as experiment


def test_quick_run_passes_all_checks_and_writes_json(tmp_path, capsys):
    assert base.get("crh") is experiment
    status = main(["experiment", "crh", "--quick", "--quiet", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "FAIL" not in out and out.count("PASS") == 7
    data = json.loads((tmp_path / "crh.json").read_text())
    assert data["passed"] and data["settings"]["quick"]
    ideal = experiment.unkeyed(data["figures"]["ideal"])
    assert [r["gamma"] for r in ideal] == list(experiment.SETTINGS["quick"]["ideal"]["gammas"])
    means = [r["mean_traceless"] for r in ideal]
    assert means[0] < means[-1]
    assert set(ideal[0]["traceless"]) == {"a-RGA", "a-RWA", "a-GWA", "b-RGA", "b-RWA",
                                          "b-GWA"}
    assert set(ideal[0]["pah"]) == {"H_a", "G_a", "H_b", "G_b"}
    assert "device" in data["figures"]
    pytest.importorskip("matplotlib")
    assert (tmp_path / "crh.png").stat().st_size > 0


def test_layer_measures_on_a_layer_with_a_known_answer():
    """W a projector on a 5-dim subspace and signals that fill exactly that subspace
    isotropically (a tight frame +-sqrt(5) b_i): H, G and Z are all multiples of the
    projector, so every relation holds exactly; Z's spectrum is flat, so no PAH slope."""
    rng = np.random.default_rng(0)
    basis, _ = np.linalg.qr(rng.standard_normal((64, 5)))
    w = basis @ basis.T
    frame = np.sqrt(5.0) * np.concatenate([basis.T, -basis.T])        # (10, 64), mean 0
    h_a = np.tile(frame, (8, 1))                                      # 80 samples
    g_b = np.tile(0.1 * frame[::-1], (8, 1))
    row = experiment.layer_measures(h_a, g_b, w, 2, 0)
    for name, value in row["traceless"].items():
        assert value == pytest.approx(1.0, abs=1e-9), name
    assert row["mean_traceless"] == pytest.approx(1.0, abs=1e-9)
    assert row["mean_traceless_se"] == pytest.approx(0.0, abs=1e-9)
    assert row["rank"] == 5 and row["effective_rank"] == pytest.approx(5.0)
    assert all(v["exponent"] is None for v in row["pah"].values())
    # isotropic inputs (+-8 e_j): H_a ~ I has no traceless part, so a-RGA and a-RWA are 0;
    # G_a = cov(g_b W) = cov(g_b) ~ W still, so a-GWA stays 1
    iso = np.sqrt(64.0) * np.concatenate([np.eye(64), -np.eye(64)])
    row = experiment.layer_measures(np.tile(iso, (5, 1)), np.tile(frame, (64, 1)), w, 0, 0)
    assert row["traceless"]["a-RGA"] == 0.0 and row["traceless"]["a-RWA"] == 0.0
    assert row["traceless"]["a-GWA"] == pytest.approx(1.0, abs=1e-9)


def test_phase_rules():
    def row(**t):
        base_t = dict.fromkeys(("a-RGA", "a-RWA", "a-GWA", "b-RGA", "b-RWA", "b-GWA"), 0.95)
        base_t.update(t)
        return {"traceless": base_t}

    assert experiment.intermediate_phase(row(**{"a-RGA": 0.4, "a-RWA": 0.5}))
    assert not experiment.intermediate_phase(row())                        # all hold
    assert not experiment.intermediate_phase(row(**{"a-RGA": 0.4, "b-RGA": 0.6}))
    assert not experiment.intermediate_phase(row(**{"a-RGA": 0.59, "a-RWA": 0.59,
                                                    "b-RWA": 0.86}))     # gap < 0.3
    rows = [{"mean_traceless": m, "mean_traceless_se": 0.01} for m in (0.5, 0.8, 0.79)]
    assert experiment.rises(rows)                                         # within 2 SE
    rows[-1]["mean_traceless"] = 0.7
    assert not experiment.rises(rows)
