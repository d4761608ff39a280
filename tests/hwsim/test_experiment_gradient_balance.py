"""``hwsim experiment gradient-balance``: its measuring helpers against known answers, and the
``--quick`` run passing every check."""

import json

import numpy as np
import pytest

import hwsim
from hwsim.cli import main
from hwsim.experiments import base
from hwsim.experiments import gradient_balance as gb


def test_balanced_charge_is_that_of_the_rank_one_balanced_factorisation():
    # u = s e1, W = e1 a^T / s realises u^T W = a^T; n u u^T = W W^T fixes s^4 = |a|^2 / n
    a = np.array([3.0, -1.0, 2.0, 0.5, 0.0, 1.0, -2.0, 0.3, 0.7, 1.1])
    s = (a @ a / gb.N_IN) ** 0.25
    u = np.zeros(gb.N_HIDDEN)
    u[0] = s
    w = np.zeros((gb.N_HIDDEN, gb.N_IN))
    w[0] = a / s
    assert np.allclose(u @ w, a)
    assert np.allclose(gb.N_IN * np.outer(u, u), w @ w.T)
    charge = hwsim.diagnostics.layer_charge(w, u[None, :])
    assert gb.balanced_charge(a) == pytest.approx(charge, rel=1e-12)


def test_pulse_statistics_match_repeated_pulsed_updates():
    """Mean, variance and the variance of 2 <w, dw> of a pulsed update, measured over
    independent repetitions, against the closed forms; tolerances from the sampling error
    of a variance (relative SE sqrt(2 / (reps - 1)))."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 6))
    d = 0.05 * rng.standard_normal((4, 5))
    w0 = 0.3 * rng.standard_normal((5, 6))
    lr, reps = 0.05, 800
    tile = hwsim.AnalogTile(5, 6, device=gb.device_model(1e-3),
                            io=hwsim.IOConfig(is_perfect=True),
                            update=hwsim.UpdateConfig(desired_bl=4096), seed=0)
    steps = np.empty((reps, 5, 6))
    for k in range(reps):
        tile.set_weights(w0)
        tile.update(x, d, lr)
        steps[k] = tile.weights() - w0
    var, mvar, clipped = gb.pulse_statistics(tile, w0, x, d, lr)
    assert clipped == 0
    rel = 4 * np.sqrt(2.0 / (reps - 1))
    assert steps.var(axis=0).sum() == pytest.approx(var, rel=rel)
    linear = 2 * np.sum(w0 * steps, axis=(1, 2))
    assert linear.var() == pytest.approx(mvar, rel=rel)
    # unbiased: the mean step is -lr d^T x within 4 SE per cell (on average over cells)
    z = (steps.mean(axis=0) + lr * d.T @ x) / np.sqrt(steps.var(axis=0) / reps)
    assert abs(z.mean()) < 4 / np.sqrt(z.size)
    # a float tile adds nothing
    ideal = hwsim.IdealTile(5, 6, seed=0)
    assert gb.pulse_statistics(ideal, w0, x, d, lr) == (0.0, 0.0, 0)


def test_variance_ratio_tells_random_walks_from_mean_reverting_walks():
    rng = np.random.default_rng(0)
    steps, walkers, lag = 2000, 40, 250
    walk = np.cumsum(rng.standard_normal((steps + 1, walkers)), axis=0)
    vr, se = gb.variance_ratio(walk, lag)
    assert abs(vr - 1) < 4 * se
    # Ornstein-Uhlenbeck with time constant 50 steps: D(L) / (L D(1)) ~ 50 / L at L >> 50
    ou = np.zeros((steps + 1, walkers))
    for t in range(steps):
        ou[t + 1] = ou[t] * (1 - 1 / 50) + rng.standard_normal(walkers)
    vr_ou, _ = gb.variance_ratio(ou, lag)
    assert vr_ou < 1 - 4 * se
    assert vr_ou == pytest.approx(50 / lag, rel=0.5)


def test_mean_charge_se_accounts_for_correlation():
    """For an AR(1) series with coefficient phi, the SE of the mean is
    sigma_x sqrt((1 + phi) / ((1 - phi) n)); the helper's estimate matches it."""
    rng = np.random.default_rng(1)
    phi, n = 0.9, 20000
    c = np.zeros(n)
    for t in range(1, n):
        c[t] = phi * c[t - 1] + rng.standard_normal()
    mean, se = gb.mean_charge({"C": c}, 0)
    expected = np.sqrt(1 / (1 - phi ** 2)) * np.sqrt((1 + phi) / ((1 - phi) * n))
    assert se == pytest.approx(expected, rel=0.3)
    assert abs(mean) < 4 * expected


def test_quick_run_passes_all_checks_and_writes_json(tmp_path, capsys):
    assert base.get("gradient-balance") is gb
    status = main(["experiment", "gradient-balance", "--quick", "--quiet", "--out",
                   str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "FAIL" not in out and out.count("PASS") >= 20
    data = json.loads((tmp_path / "gradient-balance.json").read_text())
    assert data["passed"] and data["settings"]["quick"]
    sgd = data["figures"]["ideal"]["sgd_lr_0.05"]
    assert sgd["u-heavy"]["R_start"] < 0.3
    assert abs(sgd["u-heavy"]["R_end"] - 1) < 4 * sgd["u-heavy"]["R_se"]
    assert abs(data["figures"]["ideal"]["gd"]["C_change_rel"]) < 0.03
    pytest.importorskip("matplotlib")
    assert (tmp_path / "gradient-balance.png").stat().st_size > 0
