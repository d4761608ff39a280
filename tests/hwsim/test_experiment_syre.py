"""``hwsim experiment syre --quick --target ideal``: every check passes, JSON (and PNG)
written; the device path of the experiment runs (a few steps; its quick run takes about
40 s and is exercised by ``hwsim experiment syre --quick``, not here)."""

import json

import numpy as np
import pytest

from hwsim.cli import main
from hwsim.experiments import base
from hwsim.experiments import syre as experiment
from hwsim.progress import progress_bar
from hwsim.tile import AnalogTile


def test_quick_ideal_run_passes_all_checks_and_writes_json(tmp_path, capsys):
    assert base.get("syre") is experiment
    status = main(["experiment", "syre", "--quick", "--target", "ideal", "--quiet", "--out",
                   str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "FAIL" not in out and out.count("PASS") == 6
    data = json.loads((tmp_path / "syre.json").read_text())
    assert data["passed"] and data["settings"]["quick"]
    assert all(c["passed"] for c in data["checks"])
    trap = data["figures"]["ideal"]["permutation_trap"]
    assert trap["vanilla"]["neurons_bit_identical"] and trap["vanilla"]["final_rank"] == 1
    assert trap["syre"]["final_rank"] >= 7 and trap["loss_ratio_syre_vs_vanilla"] < 0.5
    diag = data["figures"]["ideal"]["diagonal"]
    assert diag["vanilla"]["phase1_dead_inactive"] > 20 and diag["syre"]["phase1_dead_all"] == 0
    curves = data["figures"]["curves"]["ideal"]
    assert len(curves["permutation_trap"]["syre"]["loss"]) == 71
    pytest.importorskip("matplotlib")
    assert (tmp_path / "syre.png").stat().st_size > 0


def test_device_path_uses_reference_arrays_and_records():
    trap_cfg = dict(experiment.SETTINGS["quick"]["device"]["trap"], steps=20, record=10)
    diag_cfg = dict(experiment.SETTINGS["quick"]["device"]["diag"], n=50, steps1=20,
                    steps2=10, record=10)
    with progress_bar(0, "test", enabled=False) as bar:
        trap = experiment.run_trap(trap_cfg, "device", 0, bar)
        diag = experiment.run_diag(diag_cfg, "device", 0, bar)
        reference = experiment.symmetric_reference(trap_cfg, 0, bar)
    assert trap["syre"]["step"] == [0, 10, 19] and len(diag["syre"]["loss"]) == 5
    # the identical start is exact on the devices too; their pulses break it at once
    assert trap["vanilla"]["min_distance"][0] == 0.0 < trap["vanilla"]["min_distance"][1]
    figures = experiment.trap_figures(trap, reference)
    assert figures["vanilla"]["min_distance_at_first_record"] > 0
    norms = np.asarray(diag["syre"]["anchor_norms"])
    assert norms.shape == (50,) and np.all(norms > 0)
    dfig = experiment.diag_figures(diag, diag_cfg, "device")
    assert dfig["dead_threshold"] == experiment.DEAD["device"]


def test_syre_graph_on_devices_builds_reference_arrays():
    from compiler.passes.syre import Syre, apply
    from hwsim import Simulator

    cfg = experiment.SETTINGS["quick"]["device"]["trap"]
    x, y, w1, w2 = experiment.trap_problem(cfg, 0)
    graph = apply(experiment.trap_graph(cfg, w1, w2, "device"), Syre(gamma=1e-3), 0)
    sim = Simulator(graph, target="device", seed=0)
    for name in ("W1", "W2"):
        tile = sim.tiles[name]
        assert isinstance(tile, AnalogTile) and tile.reference is not None
        np.testing.assert_allclose(tile.offset, graph.tiles[name].offset, atol=1e-15)
    np.testing.assert_allclose(sim.tiles["W1"].weights(), w1, atol=1e-15)


def test_measures():
    w1 = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    w2 = np.array([[1.0, 1.0, 2.0]])
    dist = experiment.neuron_distances(w1, w2)
    np.testing.assert_allclose(dist, [0.0, np.sqrt(3.0), np.sqrt(3.0)])
    assert experiment.ranks(w1)[0] == 2
    rank, eff = experiment.ranks(np.eye(3))
    assert rank == 3 and eff == pytest.approx(3.0)
    assert experiment.ranks(np.zeros((2, 2))) == (0, 0.0)
