"""Diagnostics against matrices and dynamics with known answers."""

import numpy as np
import pytest

from hwsim import diagnostics as D
from hwsim.errors import ConfigError, SimulationError
from hwsim.networks import mlp
from hwsim.rules import Heterosynaptic
from hwsim.simulator import Simulator

EPS = np.finfo(float).eps


def _rng(seed=0):
    return np.random.default_rng(seed)


def _orthogonal(rng, d):
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def _sym_power(v, lam, p, scale=1.0):
    return scale * (v * lam ** p) @ v.T


def _ideal_sim(sizes=(4, 6, 3), activation="identity", seed=0):
    return Simulator(mlp(list(sizes), activation), target="ideal", seed=seed)


def _run_backward(sim, n=8, seed=1):
    g = _rng(seed)
    x = g.standard_normal((n, sim.tiles["W1"].in_size))
    t = g.standard_normal((n, sim.graph.build().sizes["y"]))
    y = sim.run({"x": x})["y"]
    sim.backward({"y": (y - t) / n})
    return x, t


# ------------------------------------------------------------------ charges and balance
def _linear_grads(w, u, x, y):
    """Full-batch gradients of L = |X W^T U^T - Y|^2 / (2N) for f = U W x."""
    e = (x @ w.T @ u.T - y) / x.shape[0]
    return u.T @ e.T @ x, e.T @ (x @ w.T)


def _gradient_flow(lr, steps, seed=0):
    g = _rng(seed)
    n, h, m, N = 5, 7, 3, 64
    x, y = g.standard_normal((N, n)), g.standard_normal((N, m))
    w, u = 0.8 * g.standard_normal((h, n)), 0.1 * g.standard_normal((m, h))  # imbalanced
    c0 = D.conserved_charge(w, u)
    predicted = np.zeros(h)   # sum over steps of lr^2 (|g_u,i|^2 - |g_w,i|^2)
    bound = np.zeros(h)       # sum over steps of lr^2 (|g_u,i|^2 + |g_w,i|^2)
    loss0 = None
    for _ in range(steps):
        gw, gu = _linear_grads(w, u, x, y)
        if loss0 is None:
            loss0 = np.sum((x @ w.T @ u.T - y) ** 2)
        b = D.gradient_balance(gw, gu)
        predicted += lr ** 2 * (b["g_out_sq"] - b["g_in_sq"])
        bound += lr ** 2 * (b["g_out_sq"] + b["g_in_sq"])
        w, u = w - lr * gw, u - lr * gu
    loss = np.sum((x @ w.T @ u.T - y) ** 2)
    return c0, D.conserved_charge(w, u), predicted, bound, w, u, loss0, loss


def test_charge_constant_under_small_step_gradient_flow():
    lr, steps = 1e-3, 2000
    c0, c1, predicted, bound, w, u, loss0, loss = _gradient_flow(lr, steps)
    assert loss < 0.9 * loss0  # the flow really moved the weights
    # rounding of |u|^2 - |w|^2 per step, accumulated over the steps
    rounding = steps * 8 * EPS * (np.sum(u * u, axis=0) + np.sum(w * w, axis=1) + 1.0)
    # section 0: |C_K - C_0| <= lr^2 sum_k (|g_u|^2 + |g_w|^2), which vanishes as lr -> 0
    assert np.all(np.abs(c1 - c0) <= bound + rounding)
    # and the drift is exactly the sum of the per-step lr^2 terms
    np.testing.assert_allclose(c1 - c0, predicted, rtol=0, atol=float(np.max(rounding)))
    # relative to the charge itself the drift is tiny at this step size
    assert np.max(np.abs(c1 - c0)) < 1e-3 * np.max(np.abs(c0))


def test_charge_drift_scales_with_step_squared_over_fixed_time():
    # same time lr * steps: the drift falls like lr (lr^2 per step times 1/lr steps)
    d_big = np.abs(np.subtract(*_gradient_flow(2e-3, 500)[1::-1])).max()
    d_small = np.abs(np.subtract(*_gradient_flow(2e-4, 5000)[1::-1])).max()
    assert d_small < 0.2 * d_big


def test_gradient_balance_hand_values_and_stacks():
    gw = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]])      # (1, h=3, n=2)
    gu = np.array([[[2.0, 1.0, 0.0], [0.0, 1.0, 4.0]]])        # (1, m=2, h=3)
    b = D.gradient_balance(gw, gu)
    np.testing.assert_allclose(b["g_in_sq"], [5.0, 0.0, 9.0])
    np.testing.assert_allclose(b["g_out_sq"], [4.0, 2.0, 16.0])
    assert b["ratio"][0] == pytest.approx(0.8) and np.isnan(b["ratio"][1])
    assert b["layer_ratio"] == pytest.approx(22.0 / 14.0)
    two = D.gradient_balance(np.concatenate([gw, 3 * gw]), np.concatenate([gu, 3 * gu]))
    np.testing.assert_allclose(two["g_in_sq"], 5.0 * np.array([5.0, 0.0, 9.0]))
    assert two["samples"] == 2
    np.testing.assert_allclose(D.conserved_charge(np.ones((3, 2)), np.ones((2, 3))), 0.0)
    assert D.layer_charge(np.ones((3, 2)), 2 * np.ones((2, 3))) == pytest.approx(24 - 6)


def test_per_sample_balance_matches_explicit_outer_products():
    g = _rng(3)
    k, n, h, m = 5, 4, 6, 3
    xw, dw, xu, du = (g.standard_normal(s) for s in ((k, n), (k, h), (k, h), (k, m)))
    explicit = D.gradient_balance(np.einsum("si,sj->sij", dw, xw),
                                  np.einsum("si,sj->sij", du, xu))
    fast = D.per_sample_balance(xw, dw, xu, du)
    for key in ("g_in_sq", "g_out_sq", "ratio"):
        np.testing.assert_allclose(fast[key], explicit[key], rtol=1e-12)


def test_simulator_gradient_balance_reads_local_signals():
    sim = _ideal_sim()
    _run_backward(sim)
    x1, d1 = sim.local_signals("W1")
    x2, d2 = sim.local_signals("W2")
    b = D.simulator_gradient_balance(sim, "W1", "W2")
    np.testing.assert_allclose(b["grad_w"], d1.T @ x1)
    np.testing.assert_allclose(b["g_in_sq"], np.sum((d1.T @ x1) ** 2, axis=1))
    np.testing.assert_allclose(b["g_out_sq"], np.sum((d2.T @ x2) ** 2, axis=0))
    w, u = sim.tiles["W1"].weights(), sim.tiles["W2"].weights()
    np.testing.assert_allclose(b["charge"], D.conserved_charge(w, u))
    assert b["charge_total"] == pytest.approx(float(np.sum(u * u) - np.sum(w * w)))
    ps = D.simulator_gradient_balance(sim, "W1", "W2", per_sample=True)
    np.testing.assert_allclose(ps["g_in_sq"], D.per_sample_balance(x1, d1, x2, d2)["g_in_sq"])
    assert D.layer_pairs(sim) == [("W1", "W2")]
    # linear hidden layer: the rescaling identity U[:, i].g_u,i = W[i, :].g_w,i holds
    np.testing.assert_allclose(np.sum(u * b["grad_u"], axis=0),
                               np.sum(w * b["grad_w"], axis=1), atol=1e-12)


def test_simulator_diagnostics_without_signals_raise_clearly():
    sim = _ideal_sim()
    with pytest.raises(SimulationError, match=r"'W1'.*backward"):
        D.simulator_gradient_balance(sim, "W1", "W2")
    with pytest.raises(SimulationError, match=r"'W2'.*backward"):
        D.simulator_crh_matrices(sim, "W2")
    sim.run({"x": np.ones((2, 4))})  # a forward run is not enough
    with pytest.raises(SimulationError, match="backward"):
        D.simulator_crh_matrices(sim, "W1")
    with pytest.raises(ConfigError, match="no tile 'W9'"):
        D.simulator_gradient_balance(sim, "W1", "W9")
    with pytest.raises(ConfigError, match="does not read"):
        D.simulator_gradient_balance(sim, "W2", "W1")
    with pytest.raises(TypeError, match="hwsim.Simulator"):
        D.simulator_gradient_balance("sim", "W1", "W2")


def test_feedback_tile_has_no_signals_and_consistency():
    rule = Heterosynaptic(b_init="transpose")
    graph, feedback = rule.prepare(mlp([4, 5, 3], "tanh"))
    sim = Simulator(graph, target="ideal", seed=0, feedback=feedback)
    rule.initialize(sim)
    _run_backward(sim)
    with pytest.raises(SimulationError, match="not read"):
        D.simulator_crh_matrices(sim, "B(W2)")
    phi = D.simulator_consistency(sim)
    np.testing.assert_allclose(phi["W2"], 1.0)  # B = U^T exactly
    s = D.consistency_summary(phi["W2"])
    assert s["fraction_positive"] == 1.0 and s["median"] == pytest.approx(1.0) and s["n"] == 5
    np.testing.assert_allclose(D.consistency(np.ones((3, 5)), -2 * np.ones((5, 3))), -2.0)
    with pytest.raises(ConfigError, match="no feedback tiles"):
        D.simulator_consistency(_ideal_sim())


# ------------------------------------------------------------------ CRH / PAH
def test_traceless_cosine_known_answers():
    g = _rng(4)
    a = g.standard_normal((6, 6))
    a = a + a.T
    assert D.traceless_cosine(a, a) == pytest.approx(1.0)
    assert D.traceless_cosine(a, -a) == pytest.approx(-1.0)
    assert D.traceless_cosine(a, np.eye(6)) == 0.0
    assert D.traceless_cosine(a, 3 * a + 7 * np.eye(6)) == pytest.approx(1.0)  # identity parts
    assert D.traceless_cosine([[2.0]], [[5.0]]) == 0.0
    assert D.pearson_alignment(a, 2 * a + 1) == pytest.approx(1.0)
    assert D.pearson_alignment(a, np.ones((6, 6))) == 0.0
    assert D.pearson_alignment(a, np.full((6, 6), 0.1)) == 0.0  # inexact mean, still constant
    assert D.traceless_cosine(a, 0.1 * np.eye(6)) == 0.0
    with pytest.raises(ConfigError, match="shapes must match"):
        D.traceless_cosine(a, np.eye(5))
    with pytest.raises(ConfigError, match=r"a must be square, got shape \(2, 3\)"):
        D.traceless_cosine(np.ones((2, 3)), np.ones((2, 3)))


def test_alignment_baseline_pearson_biased_traceless_not():
    g = _rng(5)
    d, draws = 20, 64
    xa, xb = g.standard_normal((d, 40)), g.standard_normal((d, 40))
    a, b = xa @ xa.T, xb @ xb.T  # full-rank PSD (Wishart)
    base = D.alignment_baseline(a, b, n_draws=draws, seed=1)
    # traceless cosine of independent random rotations: mean 0, std about 1/sqrt(dof)
    dof = d * (d + 1) / 2 - 1
    assert abs(base["traceless_mean"]) < 5 / np.sqrt(dof * draws)
    assert base["traceless_std"] < 3 / np.sqrt(dof)
    # Pearson: the positive diagonals of two PSD matrices correlate whatever their bases
    assert base["pearson_mean"] > base["traceless_mean"] + 5 * base["pearson_std"] / np.sqrt(draws)
    assert base["pearson_mean"] > 0.2
    with pytest.raises(ConfigError, match="symmetric"):
        D.alignment_baseline(g.standard_normal((3, 3)), np.eye(3))


def test_crh_matrices_exact_relations_and_alignments():
    g = _rng(6)
    w = g.standard_normal((4, 7))
    h_a, g_b = g.standard_normal((50, 7)), g.standard_normal((50, 4))
    m = D.crh_matrices(h_a, g_b, w)
    np.testing.assert_allclose(m["H_b"], w @ m["H_a"] @ w.T, atol=1e-12)
    np.testing.assert_allclose(m["G_a"], w.T @ m["G_b"] @ w, atol=1e-12)
    np.testing.assert_allclose(m["Z_a"], w.T @ w)
    # constructed layer: H_a = Z_a, G_b = Z_b  =>  H_b = Z_b^2, G_a = Z_a^2
    za, zb = w.T @ w, w @ w.T
    mats = {"H_a": za, "Z_a": za, "Z_b": zb, "G_b": zb, "H_b": zb @ zb, "G_a": za @ za}
    al = D.crh_alignments(mats, n_draws=4)
    assert set(al) == set(D.CRH_PAIRS)
    assert al["a-RWA"]["traceless"] == pytest.approx(1.0)
    assert al["b-GWA"]["traceless"] == pytest.approx(1.0)
    assert al["a-RGA"]["traceless"] < 1.0 - 1e-3
    for row in al.values():
        assert {"pearson", "pearson_offdiag", "pearson_baseline", "pearson_baseline_std",
                "traceless_baseline"} <= set(row)
    assert "pearson_baseline" not in D.crh_alignments(mats, n_draws=0)["a-RGA"]
    with pytest.raises(ConfigError, match="lacks G_a"):
        D.crh_alignments({k: v for k, v in mats.items() if k != "G_a"})
    with pytest.raises(ConfigError, match=r"w must have shape \(d_b, d_a\) = \(4, 7\)"):
        D.crh_matrices(h_a, g_b, w.T)


def test_simulator_crh_matrices_match_local_signals():
    sim = _ideal_sim(activation="tanh")
    _run_backward(sim)
    x, d = sim.local_signals("W2")
    m = D.simulator_crh_matrices(sim, "W2", normalize=True, center=True)
    np.testing.assert_allclose(m["H_a"], D.covariance(x, normalize=True, center=True))
    np.testing.assert_allclose(m["G_b"], D.covariance(d, normalize=True, center=True))
    assert m["Z_b"].shape == (3, 3) and m["Z_a"].shape == (6, 6)


def test_pah_exponent_recovers_power_law():
    g = _rng(7)
    v = _orthogonal(g, 6)
    lam = np.array([1e-6, 0.05, 0.3, 1.0, 2.5, 8.0])  # first mode below 1e-3 lambda_max
    z = _sym_power(v, lam, 1.0)
    fit = D.pah_exponent(z, _sym_power(v, lam, 1.5, scale=2.0))
    assert fit["exponent"] == pytest.approx(1.5, abs=1e-8)
    assert fit["intercept"] == pytest.approx(np.log(2.0), abs=1e-8)
    assert fit["r2"] == pytest.approx(1.0) and fit["n_modes"] == 5
    # H_a ~ Z_a^p  =>  H_b = W H_a W^T ~ Z_b^(p + 1)  (theory.md 4.2)
    w = g.standard_normal((5, 5)) + 3 * np.eye(5)
    za = w.T @ w
    la, va = np.linalg.eigh(za)
    h_a = _sym_power(va, la, 0.5)
    mats = {"Z_a": za, "Z_b": w @ w.T, "H_a": h_a, "H_b": w @ h_a @ w.T,
            "G_a": za, "G_b": np.eye(5)}
    ex = D.pah_exponents(mats)
    assert ex["H_a"]["exponent"] == pytest.approx(0.5, abs=1e-6)
    assert ex["H_b"]["exponent"] == pytest.approx(1.5, abs=1e-6)
    assert ex["G_b"]["exponent"] == pytest.approx(0.0, abs=1e-6)
    assert np.isnan(D.pah_exponent(np.eye(4), np.eye(4))["exponent"])  # flat: no slope


# ------------------------------------------------------------------ collapse
def test_rank_of_constructed_low_rank_matrix():
    g = _rng(8)
    a = g.standard_normal((10, 3)) @ g.standard_normal((3, 12))
    assert D.numerical_rank(a) == 3
    assert D.numerical_rank(a + 1e-9 * g.standard_normal(a.shape)) == 3
    assert D.numerical_rank(a, atol=0.0) >= 3
    u, v = _orthogonal(g, 8)[:, :4], _orthogonal(g, 9)[:, :4]
    flat = 2.5 * u @ v.T  # four equal singular values
    assert D.effective_rank(flat) == pytest.approx(4.0)
    s = np.array([3.0, 1.0])
    p = s / s.sum()
    assert D.effective_rank(np.diag(s)) == pytest.approx(np.exp(-np.sum(p * np.log(p))))
    assert D.numerical_rank(np.zeros((3, 3))) == 0 and D.effective_rank(np.zeros((3, 3))) == 0
    np.testing.assert_allclose(D.singular_values(np.diag([1.0, 4.0])), [4.0, 1.0])


def test_dead_neurons_on_constructed_weights():
    g = _rng(9)
    w, u = g.standard_normal((6, 4)), g.standard_normal((3, 6))
    w[1], u[:, 1] = 0.0, 0.0      # dead both ways
    w[4] = 0.0                    # incoming only
    u[:, 5] = 1e-9                # outgoing only, below the threshold
    both = D.dead_neurons(w, u)
    assert both["count"] == 1 and np.flatnonzero(both["mask"]).tolist() == [1]
    either = D.dead_neurons(w, u, mode="either")
    assert np.flatnonzero(either["mask"]).tolist() == [1, 4, 5]
    assert either["fraction"] == pytest.approx(0.5)
    acts = g.standard_normal((10, 6))
    acts[:, 2] = 0.0
    silent = D.dead_neurons(w, u, activations=acts)
    assert np.flatnonzero(silent["mask"]).tolist() == [1, 2]
    assert np.flatnonzero(D.dead_neurons(w)["mask"]).tolist() == [1, 4]
    with pytest.raises(ConfigError, match="activations of shape"):
        D.dead_neurons(w, u, activations=acts[:, :5])
    with pytest.raises(ConfigError, match="mode"):
        D.dead_neurons(w, mode="any")


def test_merged_neurons_on_constructed_weights():
    g = _rng(10)
    w, u = g.standard_normal((6, 4)), g.standard_normal((3, 6))
    w[3], u[:, 3] = w[0] + 1e-6, u[:, 0]   # 3 merges with 0 at distance 2e-6
    w[5], u[:, 5] = w[1], u[:, 1]          # 5 is a copy of 1
    m = D.merged_neurons(w, u)
    assert m["pairs"] == [(0, 3), (1, 5)]
    assert m["n_clusters"] == 4 and m["n_merged"] == 4
    assert m["min_distance"] == pytest.approx(0.0, abs=1e-15)
    assert m["distances"][0, 3] == pytest.approx(2e-6, rel=1e-6)
    assert m["labels"][0] == m["labels"][3] != m["labels"][1]
    ex = D.merged_neurons(w, u, exclude=np.arange(6) == 5)
    assert ex["pairs"] == [(0, 3)] and ex["labels"][5] == -1 and ex["n_clusters"] == 4
    # a permuted copy is merged only by the permutation-invariant (sorted) distance
    w2 = g.standard_normal((3, 5))
    w2[2] = w2[0][::-1]
    assert D.merged_neurons(w2)["n_pairs"] == 0
    assert D.merged_neurons(w2, sort=True)["pairs"] == [(0, 2)]
    with pytest.raises(ConfigError, match="exclude must be a bool array"):
        D.merged_neurons(w, exclude=[0, 1])


def test_update_gradient_cosine():
    g = _rng(11)
    grad = g.standard_normal((4, 3))
    assert D.update_gradient_cosine(-0.1 * grad, grad) == pytest.approx(1.0)
    assert D.update_gradient_cosine(grad, grad) == pytest.approx(-1.0)
    other = np.zeros((4, 3))
    other[0, 0], grad2 = 1.0, np.zeros((4, 3))
    grad2[1, 1] = 1.0
    assert D.update_gradient_cosine(other, grad2) == 0.0
    assert D.update_gradient_cosine(np.zeros((4, 3)), grad) == 0.0
    # a tiny update (a small learning rate) still has its direction measured
    assert D.update_gradient_cosine(-1e-15 * grad, 1e3 * grad) == pytest.approx(1.0)
    sign = np.array([1.0, -1.0, 1.0, -2.0])[:, None]
    np.testing.assert_allclose(D.update_gradient_cosine(-sign * grad, grad, per_neuron=True),
                               [1, -1, 1, -1])
    both = D.update_gradient_cosine({"a": -grad, "b": grad[:2]}, {"a": grad, "b": grad[:2]})
    expected = (np.sum(grad ** 2) - np.sum(grad[:2] ** 2)) / (np.sum(grad ** 2)
                                                             + np.sum(grad[:2] ** 2))
    assert both == pytest.approx(expected)
    with pytest.raises(ConfigError, match="delta_w has tiles"):
        D.update_gradient_cosine({"a": grad}, {"b": grad})


def test_shadow_gradients_equal_backprop_signals_and_leave_sim_alone():
    sim = _ideal_sim(activation="tanh")
    x, t = _run_backward(sim)
    # _run_backward used grad (y - t) / n, which is mse's gradient
    counters = {k: dict(v.counters) for k, v in sim.tiles.items()}
    grads, value = D.shadow_gradients(sim, x, t)
    for name in ("W1", "W2"):
        xs, ds = sim.local_signals(name)
        np.testing.assert_allclose(grads[name], ds.T @ xs, atol=1e-12)
    assert value == pytest.approx(0.5 * np.sum((sim.recorded("y") - t) ** 2) / len(x))
    assert {k: dict(v.counters) for k, v in sim.tiles.items()} == counters
    with pytest.raises(ConfigError, match="targets of shape"):
        D.shadow_gradients(sim, x, t[:, :2])


def test_device_sim_diagnostics_run():
    sim = Simulator(mlp([4, 6, 3], "tanh", device="ecram"), target="device", seed=0)
    x, t = _run_backward(sim)
    b = D.simulator_gradient_balance(sim, "W1", "W2")
    assert b["g_in_sq"].shape == (6,) and np.all(np.isfinite(b["g_in_sq"]))
    grads, _ = D.shadow_gradients(sim, x, t)
    # analog backward reads: close to, not exactly, the float gradient
    assert D.update_gradient_cosine(-b["grad_w"], grads["W1"]) > 0.5


# ------------------------------------------------------------------ representations
def test_linear_cka_rotation_is_one_and_independent_noise_near_zero():
    g = _rng(12)
    n, d1, d2 = 2000, 5, 5
    x = g.standard_normal((n, d1)) @ np.diag([3.0, 2.0, 1.0, 0.5, 0.2])
    q = _orthogonal(g, d1)
    assert D.linear_cka(x, 4.0 * x @ q + 1.0) == pytest.approx(1.0, abs=1e-12)
    y = g.standard_normal((n, d2))
    # independent Gaussians: mean ~ sqrt(d1 d2)/n for whitened x, std ~ sqrt(2)/n; x is not
    # whitened, which only lowers the mean (effective d1 smaller), so this bound holds
    assert D.linear_cka(x, y) < (np.sqrt(d1 * d2) + 6 * np.sqrt(2)) / n
    wide = g.standard_normal((10, 40))  # the Gram path (features > samples)
    assert D.linear_cka(wide, wide @ _orthogonal(g, 40)) == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ConfigError, match="constant"):
        D.linear_cka(x, np.ones((n, 2)))
    with pytest.raises(ConfigError, match="same number of rows"):
        D.linear_cka(x, y[:10])


def test_representation_cka_between_networks():
    a, b = _ideal_sim((4, 8, 3), seed=1), _ideal_sim((4, 16, 3), seed=2)
    with pytest.raises(SimulationError, match="sim_a"):
        D.representation_cka(a, "h1", b, "h1")
    x = _rng(13).standard_normal((64, 4))
    a.run({"x": x})
    b.run({"x": x})
    # linear nets of rank-4 inputs: both hidden layers are linear images of x
    cka = D.representation_cka(a, "h1", b, "h1")
    assert 0.0 < cka <= 1.0 + 1e-12
    assert D.representation_cka(a, "h1", a, "h1") == pytest.approx(1.0)


# ------------------------------------------------------------------ validation
def test_bad_inputs_name_the_argument():
    with pytest.raises(TypeError, match="w must be a numeric array"):
        D.conserved_charge("weights", np.ones((2, 2)))
    with pytest.raises(ConfigError, match=r"u of shape \(2, 5\).*w of shape \(4, 3\)"):
        D.conserved_charge(np.ones((4, 3)), np.ones((2, 5)))
    with pytest.raises(ConfigError, match="x_w has non-finite"):
        D.per_sample_balance(np.full((2, 2), np.nan), np.ones((2, 3)), np.ones((2, 3)),
                             np.ones((2, 1)))
    with pytest.raises(ConfigError, match="m must be 2-D"):
        D.numerical_rank(np.ones(3))
    with pytest.raises(ConfigError, match="rel_tol"):
        D.numerical_rank(np.ones((2, 2)), rel_tol=-1)
    with pytest.raises(ConfigError, match="must share k and h"):
        D.gradient_balance(np.ones((2, 3, 4)), np.ones((2, 5, 2)))
    with pytest.raises(TypeError, match="mats must be the dict"):
        D.crh_alignments([1, 2])
