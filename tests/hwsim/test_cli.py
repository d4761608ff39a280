"""The command line: ``hwsim run`` with a config file, ``hwsim devices``; config errors."""

import json

import numpy as np

import pytest

from hwsim.cli import main
from hwsim.experiments.run_config import DEFAULT_RUN, RunConfig, load_run_config
from hwsim.errors import ConfigError

SMALL = """
seed = 1
[task]
name = "teacher-student"
n_in = 4
n_out = 2
n_train = 64
n_test = 32
[network]
kind = "mlp"
hidden = [6]
[device]
family = "ConstantStep"
dw_min = 0.001
[train]
epochs = 2
batch_size = 8
"""


def test_run_with_config_file_writes_results(tmp_path, capsys):
    cfg = tmp_path / "small.toml"
    cfg.write_text(SMALL)
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "test nrmse" in text and "energy / prediction" in text
    data = json.loads((out / "run.json").read_text())
    assert [r["target"] for r in data["results"]] == ["ideal", "device"]
    device = data["results"][1]
    assert device["pulses"] > 0 and len(device["history"]) == 2
    assert device["cost_inference"]["inferences"] == 32
    assert device["cost_inference"]["energy_per_inference_j"] > 0
    assert (out / "run.png").exists()
    assert (out / "checkpoints" / "device" / "checkpoint.pkl").exists()


def test_resume_flag_continues_from_checkpoints(tmp_path, capsys):
    cfg = tmp_path / "small.toml"
    cfg.write_text(SMALL)
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--out", str(out), "--quiet"]) == 0
    first = json.loads((out / "run.json").read_text())
    cfg.write_text(SMALL.replace("epochs = 2", "epochs = 3"))
    assert main(["run", str(cfg), "--out", str(out), "--quiet", "--resume"]) == 0
    second = json.loads((out / "run.json").read_text())
    for a, b in zip(first["results"], second["results"]):
        assert b["resumed_from_epoch"] == 2
        assert b["history"][:2] == a["history"]
        assert len(b["history"]) == 3


@pytest.mark.parametrize("text, words", [
    ("[train]\nepochz = 3\n", ["[train]", "epochz"]),
    ("colour = 1\n", ["top level", "colour"]),
    ("[device]\npreset = \"unobtainium\"\n", ["device", "unobtainium"]),
    ("[io]\ndac_bits = 0\n", ["dac_bits", "0"]),
    ("[rule]\nname = \"magic\"\n", ["rule", "magic"]),
    ("[task]\nname = \"mnist\"\n", ["mnist"]),
    ("[network]\nkind = \"mlp\"\nhidden = [0]\n", ["hidden[0]"]),
    ("[network]\nkind = \"cnn\"\n", ["kind", "cnn"]),
    ("[network]\nhidden = 8\nstages = 3\n", ["stages", "3"]),
    ("[network]\nstages = 3\n", ["hidden"]),
    ("[network]\nhidden = 4\narchitecture = \"transformer\"\n", ["architecture", "transformer"]),
    ("[update]\ndesired_bl = 0\n", ["desired_bl"]),
    ("[cost]\nflux_capacitor = 1\n", ["flux_capacitor"]),
])
def test_config_errors_name_the_item(tmp_path, capsys, text, words):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    assert main(["run", str(cfg), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    for word in words:
        assert word in err


def test_missing_and_invalid_config_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_run_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[task\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_run_config(bad)


def test_default_config_is_valid_and_device_table_replaced_whole():
    config = RunConfig.from_dict({})
    assert config.task == DEFAULT_RUN["task"]
    config = RunConfig.from_dict({"device": {"class": "SoftBoundsDevice", "dw_min": 0.01}})
    assert config.device == {"class": "SoftBoundsDevice", "dw_min": 0.01}
    assert type(config.make_device()).__name__ == "SoftBounds"


def test_devices_commands(tmp_path, capsys):
    assert main(["devices", "list"]) == 0
    assert "reram-es" in capsys.readouterr().out
    png = tmp_path / "resp.png"
    assert main(["devices", "show", "ecram", "--cells", "4", "--pulses", "50",
                 "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "symmetry point" in out.lower() and png.exists()
    assert main(["devices", "show", "no-such-device"]) == 2
    assert "no-such-device" in capsys.readouterr().err


def test_experiment_command_lists_and_rejects_unknown(capsys):
    assert main(["experiment", "--list"]) == 0
    capsys.readouterr()
    assert main(["experiment", "no-such-experiment"]) == 2
    assert "no-such-experiment" in capsys.readouterr().err


ODERNN = """
seed = 2
[task]
name = "mackey-glass"
layout = "sequence"
window = 10
n_train = 8
n_test = 2
[network]
kind = "odernn"
architecture = "gru"
hidden = 6
[network.syre]
gamma = 0.001
[rule]
name = "pulsed-sgd"
lr = 0.01
[train]
epochs = 2
batch_size = 4
"""


def test_run_compiles_an_odernn_spec(tmp_path, capsys):
    cfg = tmp_path / "odernn.toml"
    cfg.write_text(ODERNN)
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "compiled 2-1-ODERNN gru" in text and "syre on" in text
    data = json.loads((out / "run.json").read_text())
    assert data["compile_report"]["stability"]["verdict"] in ("stable", "marginal")
    assert all(np.isfinite(r["final_metric"]) for r in data["results"])
    assert data["results"][1]["pulses"] > 0
