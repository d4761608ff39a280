"""``hwsim experiment qunn-memory --quick``: the delayed-recall task, its scoring, and the
QUNN vs. LSTM-like ODERNN comparison."""

import json

import numpy as np
import pytest

from hwsim.cli import main
from hwsim.errors import ConfigError
from hwsim.experiments import base, qunn_memory


def test_delayed_recall_targets_are_the_delayed_inputs():
    x, y = qunn_memory.delayed_recall(5, 9, 3, seed=1)
    assert set(np.unique(x)) == {-1.0, 1.0}
    np.testing.assert_array_equal(y[:, 3:], x[:, :6])
    np.testing.assert_array_equal(y[:, :3], 0.0)
    x2, _ = qunn_memory.delayed_recall(5, 9, 3, seed=1)
    np.testing.assert_array_equal(x, x2)
    with pytest.raises(ConfigError, match="delay must be in 0..T-1 = 8, got 9"):
        qunn_memory.delayed_recall(5, 9, 9, seed=1)


def test_accuracy_scores_only_steps_with_a_target():
    x, y = qunn_memory.delayed_recall(4, 6, 2, seed=0)
    pred = y.copy()
    pred[:, :2] = -1.0          # unscored steps: anything
    assert qunn_memory.accuracy(pred, y, 2) == 1.0
    assert qunn_memory.accuracy(-y, y, 2) == 0.0
    assert qunn_memory.chance_sigma(400) == pytest.approx(0.025)
    assert qunn_memory.position_accuracy(pred, y, 2, 3) == [1.0, 1.0]
    pred[:, 3:] *= -1           # wrong from step 3 on
    assert qunn_memory.position_accuracy(pred, y, 2, 3) == [1.0, 0.0]


def test_qunn_features_put_the_bit_on_x_and_constants_on_z_and_zz():
    f = qunn_memory.qunn_features(np.array([[1.0, -1.0]]), 2)
    np.testing.assert_allclose(f[0], [[1, 0.5, 1, 2, 1], [-1, -0.5, 1, 2, 1]])
    assert qunn_memory.qunn_features(np.zeros((3, 4)), 1).shape == (3, 4, 2)
    model = qunn_memory.make_qunn(2, 3)
    assert model.encoding.n_features == 5 and model.n_parameters == 3 + 1 + 6 + 1


def test_device_target_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="ideal target"):
        qunn_memory.run(quick=True, target="device", progress=False)


def test_quick_run_passes_all_checks_and_writes_json(tmp_path, capsys):
    assert base.get("qunn-memory") is qunn_memory
    status = main(["experiment", "qunn-memory", "--quick", "--quiet", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "FAIL" not in out and out.count("PASS") == 7
    data = json.loads((tmp_path / "qunn-memory.json").read_text())
    assert data["passed"] and data["settings"]["quick"]
    runs = data["figures"]["runs"]
    assert runs["qunn_q1"]["parameters"] == 2 + 1 + 3 + 1     # t + tau + readout (X, Y, Z) + bias
    late = runs["qunn_q1"]["by_delay"]["0"]
    assert late["late_excess_purity"] < 1e-2 * late["excess_purity"][0]
    assert runs["lstm_h2"]["parameters"] > runs["qunn_q1"]["parameters"]
    pytest.importorskip("matplotlib")
    assert (tmp_path / "qunn-memory.png").stat().st_size > 0
