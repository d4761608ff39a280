"""Sparse dendritic weights (``b_mask``): B's start, update and leak respect the mask."""

import json

import numpy as np
import pytest

import devices
from hwsim.errors import ConfigError
from hwsim.io import IOConfig
from hwsim.networks import mlp
from hwsim.rules import FeedbackAlignment, Heterosynaptic, get_rule
from hwsim.rules.heterosynaptic import masked_update, random_mask
from hwsim.simulator import Simulator
from hwsim.tile import AnalogTile, IdealTile

MASK = np.array([[True, False, True],
                 [False, False, True],
                 [True, True, False],
                 [False, True, False],
                 [True, False, False]])          # B of mlp([4, 5, 3]): 5 hidden x 3 outputs


def _sim(rule, sizes=(4, 5, 3), target="ideal", seed=0, **tile_options):
    graph, feedback = rule.prepare(mlp(list(sizes), "tanh", **tile_options))
    sim = Simulator(graph, target=target, seed=seed, feedback=feedback)
    rule.initialize(sim)
    return sim


def _step(sim, rule, rng, teacher):
    x = rng.standard_normal((6, teacher.shape[1]))
    y = sim.run({"x": x})["y"]
    sim.backward({"y": (y - x @ teacher.T) / x.shape[0]})
    rule.apply(sim)


def test_masked_step_matches_hand_computation():
    kappa = np.array([0.5, 1.0, 2.0, -1.0, 1.5])
    lr, leak = 0.1, 0.2
    rule = Heterosynaptic(lr=lr, leak=leak, gains=kappa, b_mask=MASK)
    sim = _sim(rule)
    W, U, B = (sim.tiles[n].weights() for n in ("W1", "W2", "B(W2)"))
    assert np.all(B[~MASK] == 0.0) and np.all(B[MASK] != 0.0)
    g = np.random.default_rng(1)
    x, t = g.standard_normal((6, 4)), g.standard_normal((6, 3))
    y = sim.run({"x": x})["y"]
    e = (y - t) / x.shape[0]
    sim.backward({"y": e})
    rule.apply(sim)
    a = np.tanh(x @ W.T)
    # element by element: the error reaches neuron i only through its existing synapses
    p = np.zeros((6, 5))
    B_new = np.zeros_like(B)
    for i in range(5):
        for k in range(3):
            p[:, i] += B[i, k] * e[:, k]
            if MASK[i, k]:
                B_new[i, k] = (B[i, k] - lr * kappa[i] * np.sum(a[:, i] * e[:, k])) \
                    * (1 - lr * leak)
    p *= 1 - a ** 2
    W_new = (W - lr * p.T @ x) * (1 - lr * leak)
    U_new = (U - lr * e.T @ a) * (1 - lr * leak)
    np.testing.assert_allclose(sim.tiles["W1"].weights(), W_new, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(sim.tiles["W2"].weights(), U_new, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(sim.tiles["B(W2)"].weights(), B_new, rtol=1e-12, atol=1e-14)
    assert np.all(sim.tiles["B(W2)"].weights()[~MASK] == 0.0)
    assert sim.tiles["B(W2)"].counters["updates"] == 6   # one sparse update of 6 samples


def test_transpose_start_is_masked():
    rule = Heterosynaptic(b_init="transpose", b_mask=MASK)
    sim = _sim(rule)
    np.testing.assert_array_equal(sim.tiles["B(W2)"].weights(),
                                  np.where(MASK, sim.tiles["W2"].weights().T, 0.0))


def test_ideal_training_keeps_masked_entries_zero_and_aligns_on_the_support():
    """B - diag(kappa) U^T * M only leaks (theory.md 2.2 restricted to the support)."""
    kappa = np.array([0.5, 1.0, 2.0, 0.7, 1.5])
    lr, leak, steps = 0.05, 0.2, 300
    rule = Heterosynaptic(lr=lr, leak=leak, gains=kappa, b_mask=MASK)
    sim = _sim(rule)

    def gap():
        return sim.tiles["B(W2)"].weights() - MASK * (kappa[:, None]
                                                       * sim.tiles["W2"].weights().T)

    gap0 = gap()
    rng, teacher = np.random.default_rng(3), np.random.default_rng(7).standard_normal((3, 4))
    for _ in range(steps):
        _step(sim, rule, rng, teacher)
    b = sim.tiles["B(W2)"].weights()
    assert np.all(b[~MASK] == 0.0)
    np.testing.assert_allclose(gap(), gap0 * (1 - lr * leak) ** steps, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("plastic", [True, False])
def test_device_training_sends_no_pulse_to_masked_cells(plastic):
    device = devices.ConstantStep(dw_min=1e-3, w_min=-1.0, w_max=1.0)
    rule = (Heterosynaptic(lr=0.1, leak=0.1, b_mask=0.4, b_mask_seed=5) if plastic
            else FeedbackAlignment(lr=0.1, leak=0.1, b_mask=0.4, b_mask_seed=5))
    sim = _sim(rule, sizes=(6, 10, 4), target="device", device=device,
               io=IOConfig(is_perfect=True))
    tile = sim.tiles["B(W2)"]
    mask = rule.mask("W2", tile.shape)
    assert mask.sum() == 16                                   # round(0.4 * 40)
    b0 = tile.weights()
    assert np.all(tile.hidden_weights()[~mask] == 0.0) and np.all(b0[mask] != 0.0)
    rng, teacher = np.random.default_rng(3), np.random.default_rng(7).standard_normal((4, 6))
    for _ in range(30):
        _step(sim, rule, rng, teacher)
    b = tile.hidden_weights()
    assert np.all(b[~mask] == 0.0)
    if plastic:
        assert tile.counters["pulses_up"] + tile.counters["pulses_down"] > 0
        assert np.all(b[mask] != b0[mask])
        assert tile.counters["updates"] == 30 * 6
    else:
        np.testing.assert_array_equal(tile.weights(), b0)


def test_masked_update_reaches_only_the_mask():
    rng = np.random.default_rng(0)
    mask = rng.random((7, 3)) < 0.5
    x, d = rng.standard_normal((4, 3)), rng.standard_normal((4, 7))
    for transpose in (False, True):      # by columns (3 < 7) and by rows (3 < 7)
        m, xx, dd = (mask.T, d, x) if transpose else (mask, x, d)
        ideal = IdealTile(*m.shape, init=np.zeros(m.shape))
        masked_update(ideal, xx, dd, 0.5, m)
        np.testing.assert_allclose(ideal.weights(), np.where(m, -0.5 * dd.T @ xx, 0.0),
                                   atol=1e-15)
        analog = AnalogTile(*m.shape, device=devices.ConstantStep(dw_min=1e-3),
                            init=np.zeros(m.shape), io=IOConfig(is_perfect=True))
        masked_update(analog, xx, dd, 0.5, m)
        w = analog.hidden_weights()
        assert np.all(w[~m] == 0.0) and np.count_nonzero(w[m]) > 0.8 * m.sum()
        assert analog.counters["updates"] == 4


def test_random_mask_density_and_reproducibility():
    m = random_mask((64, 5), 0.25, 0, "W2")
    assert m.dtype == bool and m.sum() == 80
    np.testing.assert_array_equal(m, random_mask((64, 5), 0.25, 0, "W2"))
    assert not np.array_equal(m, random_mask((64, 5), 0.25, 1, "W2"))
    assert not np.array_equal(m, random_mask((64, 5), 0.25, 0, "W3"))
    assert random_mask((4, 2), 0.01, 0, "W2").sum() == 1        # never empty


def test_dense_density_and_dict_masks():
    assert Heterosynaptic(b_mask=1.0).mask("W2", (5, 3)) is None
    rule = Heterosynaptic(b_mask={"W2": MASK})
    sim = _sim(rule)
    np.testing.assert_array_equal(sim.tiles["B(W2)"].weights() != 0, MASK)
    two = Heterosynaptic(b_mask=0.5)
    sim = _sim(two, sizes=(4, 6, 5, 3))
    for fb in sim.feedback.values():
        w = sim.tiles[fb].weights()
        assert np.count_nonzero(w) == round(0.5 * w.size)


def test_rule_with_mask_serialises():
    rule = get_rule("heterosynaptic", b_mask=MASK.tolist())
    data = json.loads(json.dumps(rule.to_dict()))
    assert np.array_equal(np.array(data["b_mask"]), MASK)
    assert get_rule("feedback-alignment", b_mask=0.3).to_dict()["b_mask"] == 0.3


@pytest.mark.parametrize("value, match", [
    (0.0, r"b_mask: a density must be in \(0, 1\], got 0.0"),
    (1.5, r"b_mask: a density must be in \(0, 1\], got 1.5"),
    (-0.2, r"density must be in \(0, 1\]"),
    (float("nan"), "b_mask"),
    (True, "b_mask must be None, a density"),
    (MASK.astype(int), "b_mask must be a boolean array .* got dtype int64"),
    (MASK.astype(float), "got dtype float64"),
    (np.array([True, False]), r"2-D boolean array .* got shape \(2,\)"),
    (np.zeros((5, 3), bool), "no True entry"),
    ("dense", "b_mask must be a boolean array"),
])
def test_bad_masks_are_config_errors(value, match):
    with pytest.raises(ConfigError, match=match):
        Heterosynaptic(b_mask=value)


def test_bad_mask_shape_or_tile_errors_at_prepare():
    with pytest.raises(ConfigError, match=r"feedback tile of 'W2' is 5 x 3 .* mask has shape "
                                          r"\(3, 5\)"):
        Heterosynaptic(b_mask=MASK.T).prepare(mlp([4, 5, 3]))
    with pytest.raises(ConfigError, match=r"b_mask: no mask for tile 'W2'"):
        Heterosynaptic(b_mask={"W3": MASK}).prepare(mlp([4, 5, 3]))
    with pytest.raises(ConfigError, match=r"masks given for \['W9'\]"):
        Heterosynaptic(b_mask={"W2": MASK, "W9": MASK}).prepare(mlp([4, 5, 3]))
    with pytest.raises(ConfigError, match="b_mask_seed"):
        Heterosynaptic(b_mask=0.5, b_mask_seed=-1)
