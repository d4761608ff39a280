"""The training loop: pulsed SGD on devices against the float run, resume, divergence."""

import numpy as np
import pytest

import devices
from hwsim.errors import ConfigError, DivergenceError
from hwsim.io import IOConfig
from hwsim.networks import mlp
from hwsim.rules import PulsedSGD, get_rule
from hwsim.tasks import get_task
from hwsim.tile import UpdateConfig
from hwsim.train import Trainer, train


def _task(seed=0, n_train=256):
    return get_task("teacher-student", n_in=6, n_out=3, n_train=n_train, n_test=128, seed=seed)


def _quiet_device(**changes):
    """A ConstantStep device without variation, many states and wide bounds."""
    params = dict(dw_min=2e-4, dw_min_dtod=0.0, dw_min_std=0.0, up_down_dtod=0.0,
                  w_min=-2.0, w_max=2.0, w_min_dtod=0.0, w_max_dtod=0.0)
    params.update(changes)
    return devices.ConstantStep(**params)


def _fit(device, target="device", epochs=8, io=None, seed=0, lr=0.05):
    graph = mlp([6, 3], device=device, io=io or IOConfig.perfect())
    return train(graph, _task(), PulsedSGD(lr=lr), target=target, epochs=epochs,
                 batch_size=8, seed=seed, progress=False)


def test_pulsed_sgd_on_fine_constant_step_matches_float_run():
    """With dw_min far below lr * |x| |d|, pulsed SGD follows the float trajectory.

    Tolerance: the pulse-count noise of an update is about sqrt(dw_min * lr |x||d|) per
    weight, two orders below the weights here; after 8 epochs the NRMSE of the linear
    teacher (noise-free, so the float run goes well below 0.1) may differ by 0.02.
    """
    ideal = _fit(None, target="ideal")
    device = _fit(_quiet_device())
    assert ideal.final_metric < 0.1
    assert abs(device.final_metric - ideal.final_metric) < 0.02
    assert device.history[-1]["pulses"] > 0


def test_soft_bounds_train_and_asymmetry_hurts():
    """SoftBounds devices learn; a strongly asymmetric ConstantStep (up_down 0.6: the down
    step is 0.4 of the up step) is measurably worse than the symmetric one, the known failure
    of plain SGD on asymmetric devices (the weights drift toward the stronger direction).
    """
    soft = _fit(devices.SoftBounds(dw_min=2e-3, w_min=-1.0, w_max=1.0), epochs=6)
    assert soft.final_metric < 0.5
    symmetric = _fit(_quiet_device(dw_min=2e-3), epochs=6)
    asymmetric = _fit(_quiet_device(dw_min=2e-3, up_down=0.6), epochs=6)
    assert asymmetric.final_metric > symmetric.final_metric + 0.1


def test_default_io_still_learns():
    """8-bit periphery with output noise: learning still reduces the error well below 1."""
    result = _fit(_quiet_device(), io=IOConfig.from_bits(8, 8), epochs=4)
    assert result.final_metric < 0.4


def test_history_and_result_fields():
    result = _fit(None, target="ideal", epochs=3)
    assert [h["epoch"] for h in result.history] == [1, 2, 3]
    assert result.metric == "nrmse"
    assert result.history[0]["train_loss"] > result.history[-1]["train_loss"]
    summary = result.to_dict()
    assert summary["final_metric"] == result.final_metric and "simulator" not in summary


def _weights(sim):
    return {name: tile.weights() for name, tile in sim.tiles.items()}


@pytest.mark.parametrize("target", ["ideal", "device"])
def test_resume_gives_the_uninterrupted_result(tmp_path, target):
    graph = mlp([6, 4, 3], device=_quiet_device(dw_min=1e-3), io=IOConfig.from_bits(8, 8))
    task = _task()
    common = dict(target=target, batch_size=16, seed=3, progress=False)
    full = Trainer(graph, task, PulsedSGD(lr=0.05), epochs=4, **common).fit()
    first = Trainer(graph, task, PulsedSGD(lr=0.05), epochs=2, checkpoint_dir=tmp_path,
                    **common).fit()
    assert len(first.history) == 2 and (tmp_path / "checkpoint.pkl").exists()
    second = Trainer(graph, task, PulsedSGD(lr=0.05), epochs=4, checkpoint_dir=tmp_path,
                     **common).fit()
    assert second.resumed_from == 2
    assert [h["test_metric"] for h in second.history] == \
        [h["test_metric"] for h in full.history]
    for name, w in _weights(full.simulator).items():
        np.testing.assert_array_equal(_weights(second.simulator)[name], w)


def test_checkpoint_of_another_configuration_is_refused(tmp_path):
    graph = mlp([6, 3])
    Trainer(graph, _task(), PulsedSGD(lr=0.05), target="ideal", epochs=1,
            checkpoint_dir=tmp_path, progress=False).fit()
    with pytest.raises(ConfigError, match="different configuration"):
        Trainer(graph, _task(), PulsedSGD(lr=0.01), target="ideal", epochs=2,
                checkpoint_dir=tmp_path, progress=False)


def test_divergence_stops_with_clear_error_and_keeps_last_good_state(tmp_path):
    graph = mlp([6, 3])
    trainer = Trainer(graph, _task(), PulsedSGD(lr=0.05), target="ideal", epochs=1,
                      checkpoint_dir=tmp_path, progress=False)
    trainer.fit()
    good = _weights(trainer.sim)
    # A learning rate this large makes the linear model's error grow geometrically.
    trainer = Trainer(graph, _task(), PulsedSGD(lr=50.0), target="ideal", epochs=50,
                      progress=False)
    trainer.sim.tiles["W1"].set_weights(good["W1"])
    start = _weights(trainer.sim)
    with np.errstate(over="ignore", invalid="ignore"):
        with pytest.raises(DivergenceError, match="diverged.*epoch"):
            trainer.fit()
    # the simulator is back at the start of the epoch that diverged, all finite
    kept = _weights(trainer.sim)
    assert all(np.all(np.isfinite(w)) for w in kept.values())
    if len(trainer.history) == 0:
        np.testing.assert_array_equal(kept["W1"], start["W1"])


def test_bad_input_errors():
    graph = mlp([6, 3])
    with pytest.raises(ConfigError, match="rule must be one of"):
        get_rule("backprop-magic")
    with pytest.raises(ConfigError, match="unknown parameter"):
        get_rule("pulsed-sgd", lrate=0.1)
    with pytest.raises(ConfigError, match="lr"):
        PulsedSGD(lr=-1.0)
    with pytest.raises(ConfigError, match="target"):
        Trainer(graph, _task(), target="gpu")
    with pytest.raises(ConfigError, match="size 5"):
        Trainer(mlp([5, 3]), _task())
    with pytest.raises(ValueError, match="batch_size"):
        Trainer(graph, _task(), batch_size=0)


def test_per_sample_updates_run():
    graph = mlp([6, 3])
    result = train(graph, _task(n_train=32), PulsedSGD(lr=0.05, per_sample=True),
                   target="ideal", epochs=2, batch_size=8, progress=False)
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]


def test_weight_decay_shrinks_weights_on_both_targets():
    task = _task(n_train=64)
    for target in ("ideal", "device"):
        graph = mlp([6, 3], device=_quiet_device(dw_min=1e-3), io=IOConfig.perfect(),
                    update=UpdateConfig())
        plain = train(graph, task, PulsedSGD(lr=0.05), target=target, epochs=3,
                      progress=False)
        decayed = train(graph, task, PulsedSGD(lr=0.05, weight_decay=2.0), target=target,
                        epochs=3, progress=False)
        norm = lambda r: np.linalg.norm(r.simulator.tiles["W1"].weights())  # noqa: E731
        assert norm(decayed) < 0.9 * norm(plain)


def test_overflowing_recurrence_is_a_divergence_with_state_kept():
    """A recurrent state that overflows inside the network stops training like a NaN loss."""
    from hwsim.graph import DeviceGraph
    from hwsim.ops import Add, Delay, TileMVM

    graph = DeviceGraph("rnn")
    graph.add_input("x", 2)
    graph.add_output("y", 2)
    graph.add_signal("h", 2)
    graph.add_signal("hp", 2)
    graph.add_signal("r", 2)
    graph.add_tile("W", 2, 2, init=np.eye(2) * 1e3)   # a recurrence that explodes
    graph.add_tile("U", 2, 2, init=np.eye(2))
    graph.add(Delay("h", "hp"))
    graph.add(TileMVM("W", "hp", "r"))
    graph.add(TileMVM("U", "x", "y"))
    graph.add(Add(["r", "y"], "h"))
    g = np.random.default_rng(0)
    task = hwsim_task(g)
    trainer = Trainer(graph, task, PulsedSGD(lr=0.01), target="ideal", epochs=2,
                      batch_size=4, progress=False)
    w0 = trainer.sim.tiles["W"].weights()
    with pytest.raises(DivergenceError, match="diverged"):
        trainer.fit()
    np.testing.assert_array_equal(trainer.sim.tiles["W"].weights(), w0)


def hwsim_task(g):
    from hwsim.tasks import Task
    x = g.standard_normal((8, 200, 2))
    return Task("overflow", x, x.copy(), x[:4].copy(), x[:4].copy(), "regression",
                layout="sequence")
