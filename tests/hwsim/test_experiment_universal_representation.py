"""``hwsim experiment universal-representation``: its kernel helpers against known answers,
and the ``--quick`` run passing every check."""

import json

import numpy as np
import pytest

from hwsim.cli import main
from hwsim.diagnostics import linear_cka
from hwsim.experiments import base
from hwsim.experiments import universal_representation as ur


def test_teacher_has_the_chosen_singular_values():
    m = ur.teacher(0)
    assert m.shape == (ur.N_OUT, ur.N_IN)
    assert np.allclose(np.linalg.svd(m, compute_uv=False), ur.SINGULAR_VALUES)
    assert not np.allclose(m, ur.teacher(1))


def test_balanced_factorisation_has_zero_e3_error():
    """Build a balanced factorisation of M from its SVD, M = A S B^T:
    W = (n/m)^(1/4) S^(1/2) B^T, U = (m/n)^(1/4) A S^(1/2) gives U W = M and
    n U^T U = m W W^T; its kernel W^T W is the balanced kernel, and an unbalanced
    factorisation of the same M (W scaled by 2, U by 1/2) is not."""
    m = ur.teacher(3)
    rows, cols = m.shape
    a, s, bt = np.linalg.svd(m, full_matrices=False)
    w = (cols / rows) ** 0.25 * np.sqrt(s)[:, None] * bt
    u = (rows / cols) ** 0.25 * a * np.sqrt(s)[None, :]
    assert np.allclose(u @ w, m)
    assert np.allclose(cols * u.T @ u, rows * w @ w.T)
    # sqrt of the rank-deficient M^T M: rounding of ~1e-16 on its zero eigenvalues becomes ~1e-8
    assert ur.e3_error(w.T @ w, u @ w) < 1e-6
    w2, u2 = 2 * w, u / 2
    assert np.allclose(u2 @ w2, m)
    assert ur.e3_error(w2.T @ w2, u2 @ w2) == pytest.approx(3.0)   # 4 K vs K


def test_kernel_cka_is_the_cka_of_the_networks_hidden_layers():
    """For W^T W = K the representations X W^T and X K^(1/2) differ by an orthogonal map,
    which linear CKA ignores; a rotation of the hidden layer (the symmetry) changes
    nothing."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, ur.N_IN))
    wa = rng.standard_normal((16, ur.N_IN))
    wb = rng.standard_normal((48, ur.N_IN))
    direct = linear_cka(x @ wa.T, x @ wb.T)
    assert ur.kernel_cka(x, wa.T @ wa, wb.T @ wb) == pytest.approx(direct, rel=1e-10)
    q, _ = np.linalg.qr(rng.standard_normal((16, 16)))
    assert linear_cka(x @ (q @ wa).T, x @ wb.T) == pytest.approx(direct, rel=1e-10)
    assert ur.kernel_cka(x, wa.T @ wa, wa.T @ wa) == pytest.approx(1.0)


def test_psd_sqrt_squares_back_and_clips_rounding():
    rng = np.random.default_rng(1)
    b = rng.standard_normal((8, 3))
    k = b @ b.T                       # rank 3: five eigenvalues ~ 0 (some slightly < 0)
    r = ur.psd_sqrt(k)
    assert np.allclose(r, r.T) and np.allclose(r @ r, k, atol=1e-12)
    assert np.all(np.isfinite(r))


def test_quick_run_passes_all_checks_and_writes_json(tmp_path, capsys):
    assert base.get("universal-representation") is ur
    status = main(["experiment", "universal-representation", "--quick", "--quiet", "--out",
                   str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "FAIL" not in out and out.count("PASS") >= 8
    data = json.loads((tmp_path / "universal-representation.json").read_text())
    assert data["passed"] and data["settings"]["quick"]
    ideal = data["figures"]["ideal"]
    assert ideal["sgd"]["cka_averaged"] > ideal["control"]["cka_final"]
    assert ideal["sgd"]["batch"] == 1 and ideal["control"]["batch"] == ur.CONTROL_BATCH
    pytest.importorskip("matplotlib")
    assert (tmp_path / "universal-representation.png").stat().st_size > 0
