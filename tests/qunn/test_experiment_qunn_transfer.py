"""``hwsim experiment qunn-transfer --quick``: the learned clock couplings recover the perfect
state-transfer profile; the helpers agree with qunn's clock code."""

import json

import numpy as np
import pytest

import qunn
from hwsim.cli import main
from hwsim.experiments import base, qunn_transfer


@pytest.mark.parametrize("t, tau", [(1, 0.7), (5, 1.3), (9, np.pi / 2)])
def test_last_level_gradient_equals_qunn_jacobian(t, tau):
    J = np.random.default_rng(t).uniform(0.2, 2.0, t)
    p, grad = qunn_transfer.last_level(J, tau)
    p_all, dp_dJ, _ = qunn.clock_probability_jacobian(J, tau)
    assert p == pytest.approx(p_all[-1], abs=1e-14)
    np.testing.assert_allclose(grad, dp_dJ[-1], atol=1e-12)


def test_best_uniform_is_a_local_maximum_of_the_last_level_probability():
    a, p = qunn_transfer.best_uniform(6, qunn_transfer.TAU, grid=100)
    assert p == pytest.approx(qunn.clock_probabilities(np.full(6, a), qunn_transfer.TAU)[-1])
    for da in (-1e-3, 1e-3):
        assert qunn.clock_probabilities(np.full(6, a + da), qunn_transfer.TAU)[-1] < p
    assert p < 0.99  # uniform couplings fall short of perfect transfer for t > 2


def test_rescaled_profile_keeps_the_shape_of_the_analytic_chain():
    J8 = qunn.perfect_transfer_couplings(8)
    assert np.allclose(qunn_transfer.rescale_profile(J8, 8), J8)
    J16 = qunn.perfect_transfer_couplings(16)
    start = qunn_transfer.rescale_profile(J8, 16)
    assert qunn_transfer.profile_error(start, J16) < 0.2   # a warm start (worst at the ends)
    assert qunn_transfer.profile_error(start, J16) > 1e-3


def test_quick_run_passes_all_checks_and_writes_json(tmp_path, capsys):
    assert base.get("qunn-transfer") is qunn_transfer
    status = main(["experiment", "qunn-transfer", "--quick", "--quiet", "--out",
                   str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "FAIL" not in out and out.count("PASS") == 6
    data = json.loads((tmp_path / "qunn-transfer.json").read_text())
    assert data["passed"] and data["settings"]["quick"]
    for t in data["figures"]["memories"]:
        row = data["figures"]["by_memory"][str(t)]
        learned = np.asarray(row["curriculum"]["couplings"])
        np.testing.assert_allclose(learned, qunn.perfect_transfer_couplings(t), rtol=1e-3)
        assert row["uniform"]["p_last"] < row["curriculum"]["p_last"]
    pytest.importorskip("matplotlib")
    assert (tmp_path / "qunn-transfer.png").stat().st_size > 0
