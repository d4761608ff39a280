"""``hwsim experiment heterosynaptic --quick``: every check passes, JSON (and PNG) written."""

import json

import numpy as np
import pytest

from hwsim.cli import main
from hwsim.experiments import base, heterosynaptic


def test_shadow_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    w1, w2 = rng.normal(size=(6, 4)), rng.normal(size=(3, 6))
    x, y = rng.normal(size=(5, 4)), rng.normal(size=(5, 3))

    def loss(a, b):
        return 0.5 * np.sum((np.tanh(x @ a.T) @ b.T - y) ** 2) / x.shape[0]

    g1, g2 = heterosynaptic.shadow_gradients(w1, w2, x, y)
    eps = 1e-6
    for w, g, f in ((w1, g1, lambda v: loss(v, w2)), (w2, g2, lambda v: loss(w1, v))):
        num = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            plus, minus = w.copy(), w.copy()
            plus[idx] += eps
            minus[idx] -= eps
            num[idx] = (f(plus) - f(minus)) / (2 * eps)
        assert np.allclose(g, num, atol=1e-7)


def test_quick_run_passes_all_checks_and_writes_json(tmp_path, capsys):
    assert base.get("heterosynaptic") is heterosynaptic
    status = main(["experiment", "heterosynaptic", "--quick", "--quiet", "--out",
                   str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "FAIL" not in out and out.count("PASS") >= 14
    data = json.loads((tmp_path / "heterosynaptic.json").read_text())
    assert data["passed"] and data["settings"]["quick"]
    assert all(c["passed"] for c in data["checks"])
    ideal = data["figures"]["ideal"]
    assert ideal["backprop"]["cos_final"] == pytest.approx(1.0, abs=1e-6)
    assert ideal["ascent"]["cos_final"] < 0 < ideal["fa"]["cos_final"] < ideal["kp"]["cos_final"]
    assert "device" in data["figures"]
    for target in ("ideal", "device"):
        sparse = data["figures"][target]["sparse"]
        assert sparse["mask_density"] == 0.25 and sparse["B_off_mask_max_abs"] == 0.0
        assert sparse["cos_final"] > 0
    assert ideal["sparse"]["cos_mid"] < ideal["kp"]["cos_mid"]
    pytest.importorskip("matplotlib")
    assert (tmp_path / "heterosynaptic.png").stat().st_size > 0
