"""``hwsim experiment odernn-zoo --quick --target ideal``: every check passes, JSON (and PNG)
written, and the figures say what the module promises (the device target's quick run takes
about 10 s more and is exercised by ``hwsim experiment odernn-zoo --quick``; here one short
device run checks that path)."""

import json
import math

import numpy as np
import pytest

import compiler
from hwsim.cli import main
from hwsim.experiments import base
from hwsim.experiments import odernn_zoo as experiment


def test_quick_ideal_run_passes_all_checks_and_writes_json(tmp_path, capsys):
    assert base.get("odernn-zoo") is experiment
    status = main(["experiment", "odernn-zoo", "--quick", "--target", "ideal", "--quiet",
                   "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0, out
    # compile + reference, verdicts, parameter counts, Mackey-Glass below the baseline
    assert "FAIL" not in out and out.count("PASS") == 4
    data = json.loads((tmp_path / "odernn-zoo.json").read_text())
    assert data["passed"] and data["settings"]["quick"]
    assert all(c["passed"] for c in data["checks"])
    figs = data["figures"]
    archs = set(compiler.ARCHITECTURES)
    assert set(figs["architectures"]) == archs
    for task in experiment.TASKS:
        assert figs["tasks"][task]["baselines"]["mean_predictor"] == pytest.approx(1.0)
        for arch in archs:
            desc = figs["architectures"][arch][task]
            assert desc["parameters"] == desc["parameter_count"] == desc["tile_weights"]
            run = figs["results"][task][arch]
            assert set(run) == {"ideal"}                # only the chosen target ran
            assert run["ideal"]["status"] in ("trained", "diverged")
    lstm = figs["architectures"]["lstm"]["mackey-glass"]
    assert (lstm["n"], lstm["t"]) == (2, 2)
    assert figs["architectures"]["residual"]["adding"]["stability"] == "unstable"
    mg = figs["results"]["mackey-glass"]
    for arch in ("vanilla", "gru", "lstm", "unitary"):
        assert mg[arch]["ideal"]["metric"] <= experiment.MARGIN
    pytest.importorskip("matplotlib")
    assert (tmp_path / "odernn-zoo.png").stat().st_size > 0


def test_device_target_trains_a_compiled_architecture():
    settings = experiment.SETTINGS["quick"]
    cfg = dict(settings["mackey-glass"], epochs=2)
    task = experiment.make_task("mackey-glass", cfg, 0)
    result, warned = experiment.compile_architecture("vanilla", task, settings, 0)
    assert warned == [] and result.stability.verdict == "stable"
    out = experiment.train_one(result.graph, task, cfg, "device", 0)
    assert out["status"] == "trained" and len(out["curve"]) == 2
    assert math.isfinite(out["metric"]) and out["metric"] < out["initial_metric"]


def test_divergence_is_recorded_not_raised():
    # The residual cell is unstable at initialisation; at an absurd rate its state
    # overflows within the first epoch on the ideal target.
    settings = experiment.SETTINGS["quick"]
    cfg = dict(settings["adding"], epochs=3, lr=50.0)
    task = experiment.make_task("adding", cfg, 0)
    result, warned = experiment.compile_architecture("residual", task, settings, 0)
    assert result.stability.verdict == "unstable" and len(warned) == 1
    out = experiment.train_one(result.graph, task, cfg, "ideal", 0)
    assert out["status"] == "diverged" and out["metric"] is None and out["error"]


def test_baselines():
    settings = experiment.SETTINGS["quick"]
    mg = experiment.make_task("mackey-glass", settings["mackey-glass"], 0)
    b = experiment.baselines("mackey-glass", mg)
    assert b["mean_predictor"] == pytest.approx(1.0, abs=1e-12)
    # one sample per time unit: the series is smooth, persistence is a strong forecaster
    assert b["persistence"] < 0.3
    add = experiment.make_task("adding", settings["adding"], 0)
    b = experiment.baselines("adding", add)
    assert set(b) == {"mean_predictor", "mean_train_target"}
    assert b["mean_train_target"] == pytest.approx(1.0, abs=0.05)
    assert np.isclose(b["mean_predictor"], 1.0)
