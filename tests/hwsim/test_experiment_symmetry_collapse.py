"""``hwsim experiment symmetry-collapse --quick``: every check passes, JSON (and PNG) written;
its data, measures and the diagnostics helper it adds."""

import json

import numpy as np
import pytest

from hwsim import diagnostics
from hwsim.cli import main
from hwsim.errors import ConfigError
from hwsim.experiments import base
from hwsim.experiments import symmetry_collapse as experiment


def test_quick_run_passes_all_checks_and_writes_json(tmp_path, capsys):
    assert base.get("symmetry-collapse") is experiment
    status = main(["experiment", "symmetry-collapse", "--quick", "--quiet", "--out",
                   str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "FAIL" not in out and out.count("PASS") == 8
    data = json.loads((tmp_path / "symmetry-collapse.json").read_text())
    assert data["passed"] and data["settings"]["quick"]
    figs = data["figures"]
    sc = figs["scalar"]
    np.testing.assert_allclose(sc["uw"][:3], [1.0, 0.5, 0.25], atol=1e-9)
    assert figs["factorisation"]["gamma_1.3"]["rank"] == 2
    assert figs["merging"]["gamma_0"]["units"] == 8
    assert figs["device_leak"]["gamma_1.3"]["rank"] == 2
    assert figs["device_leak_spread"]["gamma_1.3"]["rank"] == 3
    pytest.importorskip("matplotlib")
    assert (tmp_path / "symmetry-collapse.png").stat().st_size > 0


def test_data_have_the_moments_the_closed_forms_assume():
    cfg = experiment.SETTINGS["quick"]
    x, y = experiment.scalar_data(cfg["scalar"], 3)
    assert np.mean(x * x) == pytest.approx(1.0, abs=1e-12)
    assert np.mean(x * y) == pytest.approx(cfg["scalar"]["c"], abs=1e-12)
    x, y, m = experiment.factor_data(cfg["factor"], 3)
    np.testing.assert_allclose(x.T @ x / x.shape[0], np.eye(x.shape[1]), atol=1e-12)
    np.testing.assert_allclose(y.T @ x / x.shape[0], m, atol=1e-12)
    np.testing.assert_allclose(np.linalg.svd(m, compute_uv=False)[:5],
                               cfg["factor"]["sigmas"], atol=1e-12)


def test_charge_budget_is_the_exact_change_of_one_step():
    """theory.md section 0: one PulsedSGD step with decay changes C by exactly
    -2 eta gamma C + eta^2 (|G_U|^2 - |G_W|^2)."""
    from hwsim.rules import PulsedSGD

    cfg = experiment.SETTINGS["quick"]["factor"]
    x, y, _ = experiment.factor_data(cfg, 0)
    sim = experiment.factor_sim(cfg, "ideal", 0)
    rule, budget = PulsedSGD(lr=0.1, weight_decay=0.3), experiment.ChargeBudget(0.1, 0.3)
    before = diagnostics.layer_charge(sim.tiles["W1"].weights(), sim.tiles["W2"].weights())
    pred = sim.run({"x": x})["y"]
    sim.backward({"y": (pred - y) / x.shape[0]})
    budget(sim)
    rule.apply(sim)
    after = diagnostics.layer_charge(sim.tiles["W1"].weights(), sim.tiles["W2"].weights())
    assert after - before == pytest.approx(budget.total, rel=1e-12, abs=1e-14)


def test_odd_canonical_flips_neurons_to_a_positive_largest_entry():
    w = np.array([[1.0, -3.0], [0.5, 0.2], [0.0, 0.0]])
    u = np.array([[2.0, -1.0, 0.0]])
    cw, cu, signs = diagnostics.odd_canonical(w, u)
    np.testing.assert_array_equal(signs, [-1.0, -1.0, 1.0])
    np.testing.assert_array_equal(cw, [[-1.0, 3.0], [-0.5, -0.2], [0.0, 0.0]])
    np.testing.assert_array_equal(cu, [[-2.0, 1.0, 0.0]])
    # a neuron and its negative become identical, hence merged
    w2 = np.array([[0.3, -0.7], [-0.3, 0.7]])
    u2 = np.array([[0.4, -0.4]])
    merged = diagnostics.merged_neurons(*diagnostics.odd_canonical(w2, u2)[:2], threshold=1e-12)
    assert merged["n_clusters"] == 1
    with pytest.raises(ConfigError, match="odd_canonical: u of shape"):
        diagnostics.odd_canonical(w, np.ones((1, 2)))


def test_merge_check_reads_death_and_merging():
    cfg = experiment.SETTINGS["quick"]["merge"]

    def row(gamma, units, dead, merged, dist=0.2):
        return {"gamma": gamma, "units": units, "dead": dead, "merged": merged,
                "min_distance_rel": dist}

    good = [row(0.0, 8, 0, 0), row(0.03, 3, 5, 0), row(0.3, 2, 0, 8, 0.0)]
    assert experiment.merge_checks(cfg, good)[0].passed
    for bad in ([row(0.0, 7, 0, 2, 0.01)] + good[1:],            # merged without decay
                good[:1] + [row(0.03, 5, 0, 4)] + good[2:],       # more than half distinct
                good[:2] + [row(0.3, 2, 3, 5, 0.0)],             # largest gamma: deaths
                good[:1] + [row(0.03, 1, 7, 0)] + good[2:]):     # not fewest at the largest
        assert not experiment.merge_checks(cfg, bad)[0].passed


def test_measures():
    assert experiment.drift_bound(0.1, 2.0, 0.5) == pytest.approx(0.3)
    rows = [{"gamma": 0.5, "v": 1}, {"gamma": 0.0, "v": 2}]
    assert experiment.unkeyed(experiment.keyed(rows)) == rows[::-1]
