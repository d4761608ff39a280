"""One benchmark point of a QUNN (``network.kind = "qunn"``), and ``hwsim run`` of one."""

import json

import pytest

from hwsim.bench import load_suite, validate_result
from hwsim.bench.point import run_point
from hwsim.cli import main

QUNN = """
seed = 3
[task]
name = "sine"
window = 6
n_train = 3
n_test = 1
[network]
kind = "qunn"
memory = 2
[device]
dephasing = 0.2
[rule]
name = "adam"
lr = 0.1
[train]
epochs = 2
"""


POINT = """
[[point]]
name = "q"
seed = 3
task = { name = "sine", window = 6, n_train = 3, n_test = 1 }
network = { kind = "qunn", memory = 2 }
device = { dephasing = 0.2 }
rule = { name = "adam", lr = 0.1 }
train = { epochs = 2, batch_size = 3 }
"""


@pytest.fixture(scope="module")
def qunn_rows(tmp_path_factory):
    path = tmp_path_factory.mktemp("qunn") / "q.toml"
    path.write_text(POINT)
    suite = load_suite(path)
    return {p["target"]: validate_result(run_point(p, suite.name)) for p in suite.points}


def test_qunn_rows_train_alike_and_differ_by_the_noise(qunn_rows):
    ideal, device = qunn_rows["ideal"], qunn_rows["device"]
    assert ideal["pair_key"] == device["pair_key"]
    assert ideal["point"]["train"] == {"epochs": 2, "batch_size": 3}   # the whole training set
    for record in (ideal, device):
        m = record["metrics"]
        assert record["status"] == "ok" and record["device_params"] is None
        assert m["energy_per_inference_J"] is None and m["area_mm2"] is None
        assert m["pulses"] == m["dac_conversions"] == m["adc_conversions"] == 0
        assert len(m["curve"]) == 2 and m["weights"]["frac_at_bounds"] is None
    # both targets train the same noise-free model; only the scoring differs
    assert ideal["metrics"]["weights"] == device["metrics"]["weights"]
    assert ideal["metrics"]["task_metric"]["value"] != device["metrics"]["task_metric"]["value"]


def test_hwsim_run_trains_a_qunn_on_both_targets(tmp_path, capsys):
    cfg = tmp_path / "qunn.toml"
    cfg.write_text(QUNN)
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "QUNN(qubits=1, memory=2" in text and "test nrmse" in text
    data = json.loads((out / "run.json").read_text())
    assert [r["target"] for r in data["results"]] == ["ideal", "device"]
    assert all(r["cost_inference"] is None and len(r["history"]) == 2 for r in data["results"])
    assert data["results"][0]["parameters"] == data["results"][1]["parameters"]
