"""Learning rules: each update against a hand-computed small case, and their behaviour."""

import numpy as np
import pytest

import devices
from hwsim.errors import ConfigError
from hwsim.graph import DeviceGraph
from hwsim.io import IOConfig
from hwsim.networks import mlp
from hwsim.ops import TileMVM
from hwsim.rules import (AntiHebbian, FeedbackAlignment, Hebbian, Heterosynaptic, Oja,
                         PulsedSGD, consistency, get_rule)
from hwsim.simulator import Simulator
from hwsim.tasks import get_task
from hwsim.train import Trainer


def _net(sizes=(4, 5, 3)):
    return mlp(list(sizes), "tanh")


def _sim(rule, graph, target="ideal", seed=0):
    graph, feedback = rule.prepare(graph)
    sim = Simulator(graph, target=target, seed=seed, feedback=feedback)
    rule.initialize(sim)
    return sim


def _batch(seed=1, n=6, sizes=(4, 5, 3)):
    g = np.random.default_rng(seed)
    return g.standard_normal((n, sizes[0])), g.standard_normal((n, sizes[-1]))


def test_heterosynaptic_step_matches_hand_computation():
    rule = Heterosynaptic(lr=0.1, leak=0.2, gains=[0.5, 1.0, 2.0, -1.0, 1.5])
    sim = _sim(rule, _net())
    W, U, B = (sim.tiles[n].weights() for n in ("W1", "W2", "B(W2)"))
    x, t = _batch()
    y = sim.run({"x": x})["y"]
    e = (y - t) / x.shape[0]
    sim.backward({"y": e})
    rule.apply(sim)
    h = x @ W.T
    a = np.tanh(h)
    p = (1 - a ** 2) * (e @ B.T)           # p_i = f'(h_i) sum_k B_ik e_k
    kappa = np.array([0.5, 1.0, 2.0, -1.0, 1.5])
    lr, leak = 0.1, 0.2
    W_new = (W - lr * p.T @ x) * (1 - lr * leak)
    U_new = (U - lr * e.T @ a) * (1 - lr * leak)
    B_new = (B - lr * (kappa * a).T @ e) * (1 - lr * leak)
    np.testing.assert_allclose(sim.tiles["W1"].weights(), W_new, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(sim.tiles["W2"].weights(), U_new, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(sim.tiles["B(W2)"].weights(), B_new, rtol=1e-12, atol=1e-14)


def test_transpose_start_with_unit_gain_is_backprop():
    x, t = _batch()
    hs = _sim(Heterosynaptic(lr=0.1, leak=0.0, b_init="transpose"), _net())
    bp = _sim(PulsedSGD(lr=0.1), _net())
    for sim in (hs, bp):
        y = sim.run({"x": x})["y"]
        sim.backward({"y": (y - t) / x.shape[0]})
    for name in ("W1", "W2"):
        for got, want in zip(hs.local_signals(name), bp.local_signals(name)):
            np.testing.assert_allclose(got, want, rtol=1e-12)


def test_leak_aligns_b_with_gained_transpose():
    """B - diag(kappa) U^T shrinks by (1 - lr leak) per step (theory.md 2.2, exact)."""
    kappa = np.array([0.5, 1.0, 2.0, 0.7, 1.5])
    lr, leak = 0.05, 0.2
    rule = Heterosynaptic(lr=lr, leak=leak, gains=kappa)
    sim = _sim(rule, _net())
    gap0 = sim.tiles["B(W2)"].weights() - kappa[:, None] * sim.tiles["W2"].weights().T
    # a fixed teacher keeps U away from zero while the leak removes the gap
    teacher = np.random.default_rng(7).standard_normal((3, 4))
    steps = 1000
    for k in range(steps):
        x, _ = _batch(seed=10 + k)
        y = sim.run({"x": x})["y"]
        sim.backward({"y": (y - x @ teacher.T) / x.shape[0]})
        rule.apply(sim)
    gap = sim.tiles["B(W2)"].weights() - kappa[:, None] * sim.tiles["W2"].weights().T
    np.testing.assert_allclose(gap, gap0 * (1 - lr * leak) ** steps, rtol=1e-6, atol=1e-12)
    phi = rule.consistency(sim)["W2"]
    np.testing.assert_allclose(phi, kappa, rtol=1e-2)


def test_feedback_alignment_keeps_b_fixed_and_learns():
    task = get_task("teacher-student", n_in=6, n_out=3, n_hidden=8, n_train=256, n_test=64,
                    seed=0)
    trainer = Trainer(mlp([6, 16, 3]), task, FeedbackAlignment(lr=0.05), target="ideal",
                      epochs=8, batch_size=8, progress=False)
    b0 = trainer.sim.tiles["B(W2)"].weights()
    result = trainer.fit()
    np.testing.assert_array_equal(trainer.sim.tiles["B(W2)"].weights(), b0)
    assert result.history[-1]["test_metric"] < 0.6 * result.history[0]["test_metric"]


def test_heterosynaptic_trains_on_devices():
    task = get_task("teacher-student", n_in=6, n_out=3, n_hidden=8, n_train=256, n_test=64,
                    seed=0)
    device = devices.ConstantStep(dw_min=1e-3, dw_min_dtod=0.0, up_down_dtod=0.0,
                                  w_min=-2, w_max=2, w_min_dtod=0, w_max_dtod=0)
    graph = mlp([6, 16, 3], device=device, io=IOConfig.perfect())
    trainer = Trainer(graph, task, Heterosynaptic(lr=0.05, leak=0.05), target="device",
                      epochs=6, batch_size=8, progress=False)
    result = trainer.fit()
    assert result.history[-1]["test_metric"] < 0.7 * result.history[0]["test_metric"]
    assert sum(h["pulses"] for h in result.history) > 0


def test_hebbian_and_anti_hebbian_hand_computation():
    graph = DeviceGraph("lin")
    graph.add_input("x", 3)
    graph.add_output("y", 2)
    graph.add_tile("W", 2, 3)
    graph.add(TileMVM("W", "x", "y"))
    x, _ = _batch(n=4, sizes=(3, 2))
    for rule, sign in ((Hebbian(lr=0.1), 1.0), (AntiHebbian(lr=0.1), -1.0)):
        sim = _sim(rule, graph)
        w0 = sim.tiles["W"].weights()
        y = sim.run({"x": x})["y"]
        rule.apply(sim)
        np.testing.assert_allclose(sim.tiles["W"].weights(), w0 + sign * 0.1 * y.T @ x,
                                   rtol=1e-12)


def test_oja_finds_the_leading_principal_component():
    graph = DeviceGraph("pca")
    graph.add_input("x", 4)
    graph.add_output("y", 1)
    graph.add_tile("W", 1, 4)
    graph.add(TileMVM("W", "x", "y"))
    g = np.random.default_rng(3)
    scales = np.array([3.0, 1.0, 0.7, 0.3])
    rot, _ = np.linalg.qr(g.standard_normal((4, 4)))
    rule = Oja(lr=0.002)
    sim = _sim(rule, graph)
    for _ in range(1500):
        x = (g.standard_normal((8, 4)) * scales) @ rot.T
        sim.run({"x": x})
        rule.apply(sim)
    w = sim.tiles["W"].weights()[0]
    assert abs(np.linalg.norm(w) - 1.0) < 0.05
    assert abs(abs(w @ rot[:, 0]) - 1.0) < 0.02


def test_consistency_of_known_matrices():
    u = np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]])
    np.testing.assert_allclose(consistency(u, 2.0 * u.T), [2.0, 2.0, 2.0])
    np.testing.assert_allclose(consistency(u, -u.T), [-1.0, -1.0, -1.0])
    with pytest.raises(ConfigError, match="shape"):
        consistency(u, u)


def test_rule_bad_input():
    with pytest.raises(ConfigError, match="gains"):
        _sim(Heterosynaptic(gains=[1.0, 2.0]), _net())
    with pytest.raises(ConfigError, match="b_init"):
        Heterosynaptic(b_init="ones")
    with pytest.raises(ConfigError, match="finite"):
        Heterosynaptic(gains=[1.0, float("nan")])
    with pytest.raises(ConfigError, match="gains"):
        Heterosynaptic(gains=[[1.0, 2.0]])
    with pytest.raises(ConfigError, match="lr"):
        Hebbian(lr=0.0)
    assert isinstance(get_rule("feedback-alignment"), FeedbackAlignment)
    with pytest.raises(ConfigError, match="feedback"):
        Simulator(_net(), target="ideal", feedback={"W2": "W1"})
