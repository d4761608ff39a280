"""``hwsim experiment symmetry-collapse``: weight decay restores parameter symmetries, on the
emulated hardware (reference/theory.md section 3).

Every network here is a :func:`hwsim.networks.mlp` of tiles trained by full-batch gradient
descent with :class:`hwsim.rules.PulsedSGD` (its weight decay ``gamma``: one step is
``theta <- theta - eta (grad + gamma theta)``, the gradient of the loss plus
``(gamma/2) |theta|^2``).

1. **Scalar rescaling model (3a).** ``f = u w x`` (two 1 x 1 tiles, no nonlinearity) on data
   with ``E x^2 = 1`` and ``E x y = c = 1`` exactly (64 samples, label noise orthogonal to
   x), from the unbalanced start ``u = 0.3, w = 1.5``, ``eta = 0.1``, for ``gamma`` swept
   over [0, 2]. Predicted (closed form, theory.md 3.2 (3a)): ``uw = max(0, c - gamma)`` and
   ``|u| = |w|`` for gamma > 0 -- a second-order transition at ``gamma_c = c``, beyond which
   the network is dead (``u = w = 0``). At gamma = 0 the charge ``u^2 - w^2`` is conserved
   up to ``O(eta^2)`` (section 0), so ``|u| != |w|``. At ``gamma = c`` the balanced dynamics
   reduce to ``s' = s (1 - eta s)^2`` for ``s = uw``: critical slowing down, ``s_k ~
   1 / (2 eta k)`` instead of an exponential approach.
2. **Linear factorisation (3b).** ``f = U W x`` (8 -> 10 -> 6) on whitened inputs
   (``X^T X / N = I`` exactly, N = 32) with targets ``y = M x``, ``M`` of singular values
   ``sigma = (2.4, 1.6, 1.0, 0.6, 0.3)``. The loss is then ``|M - UW|_F^2 / 2`` plus the
   decay, equivalent to the nuclear-norm penalty ``gamma |UW|_*``: predicted
   ``s_i(UW) = max(0, sigma_i - gamma)`` and rank ``#{sigma_i > gamma}`` (the rotation
   symmetry restored in the dropped directions), and balance ``U^T U = W W^T``. The grid of
   gamma keeps every ``|sigma_i - gamma| >= 0.15``, away from the slow critical points. The
   charge ``C = |U|^2 - |W|^2`` changes per step by exactly
   ``-2 eta gamma C + eta^2 (|G_U|^2 - |G_W|^2)`` with ``G = grad + gamma theta``
   (section 0), accumulated step by step and compared with the measured change; at gamma = 0
   C stays near its initial value.
3. **Neuron merging (3c).** A tanh student 10 -> 8 -> 3 learns a tanh teacher with 2 hidden
   neurons (gain 2, 256 Gaussian inputs) by full-batch descent, ``eta = 0.1``, for gamma in
   {0, 0.01, 0.03, 0.1, 0.3}. A neuron is the vector ``(W1[i], W2[:, i])``, taken up to the
   sign symmetry of tanh (:func:`hwsim.diagnostics.odd_canonical`); it is dead when its norm
   is below 1 % of the largest (:func:`~hwsim.diagnostics.dead_neurons`), and two live
   neurons are merged when their distance is below 5 % of the largest norm
   (:func:`~hwsim.diagnostics.merged_neurons`). The number of distinct live units measures
   how much of the permutation (and rescaling) symmetry is left. Predicted (3.1, 3c): none
   is restored without decay; decay restores it, with every global minimum symmetric at
   large gamma ("permutation symmetry leads to homogeneous ensembling", "rescaling symmetry
   leads to sparsity"). The thresholds: merged pairs approach each other exponentially
   (their difference decays at the decay's ``eta gamma`` per step where the data term is
   flat across it), while distinct neurons stay tens of percent of the largest norm apart
   (the closest pair at gamma = 0 and the closest distinct pair are reported).
4. **Device leak as weight decay.** The factorisation again, on the device target (analog
   tiles of a constant-step device, ``dw_min`` 1e-3, perfect converters, stochastic
   pulse-train updates), with *no* weight decay in the rule: the devices relax toward their
   reset value 0 with a lifetime of ``L`` mini-batches (``devices.ConstantStep(lifetime=L)``,
   one ``tile.decay()`` per step, before the pulses). That is ``theta <- theta (1 - 1/L)``,
   i.e. weight decay ``gamma_eff = 1 / (eta L)``: predicted
   ``s_i(UW) = max(0, sigma_i - gamma_eff)`` up to the devices' fluctuation. Run with the
   same step in every device, and once with the standard 30 % device-to-device spread of
   the step: each weight then moves by its own gain ``a_ij`` against the common leak, an
   anisotropic decay ``gamma_eff / a_ij`` (theory.md 0.4: gain mismatch moves the balance
   point), no longer invariant under rotations of the hidden space, so the collapse of 3b
   need not follow ("deliberate heterogeneity prevents it", 3.2).

The quick run (the tests') keeps every part with fewer gammas and steps (:data:`SETTINGS`):
scalar 6 gammas x 1000 steps, factorisation 3 x 1000, merging 3 x 4000, device gamma_eff
1.3 with uniform steps and with the spread, 1000 steps each.

Checks (thresholds): the ideal fixed points are reached to 1e-3 (the slowest mode of the
grid relaxes by more than e^-20 in the run, so what remains is far below that); the charge
identity holds to 1e-9 relative (rounding); without decay the charge drifts by at most
``2 eta (L_0 - L_end)`` (the descent lemma bounds the discrete steps' ``eta^2 |g|^2``);
the critical decay ``uw 2 eta k`` is 1 within 5 % (the corrections are
``O(1 / (s_0 2 eta k))``, under 1 % here). Merging: all 8 neurons distinct at gamma = 0, at
most half distinct with decay, the fewest at the largest gamma, where all are alive and in
at most 2 (the teacher's width) clusters. Device: the singular values averaged over the
last quarter of the run within twice their fluctuation plus five device steps of the
prediction (the average's error is well below one fluctuation; the steps allow for the
asymmetry's bias), the rank counted as ``s > 0.02`` (a collapsed mode hovers at 1e-4 to
1e-3, the pulses' noise floor), and with the step spread a rank above the prediction.

Measured (full run, seed 0):

- Scalar: ``uw`` on ``max(0, 1 - gamma)`` to 2e-15 at all 20 off-critical gammas,
  ``|u| = |w|`` to 6e-15, ``u = w = 0`` beyond gamma = 1 (2e-14); at gamma = 0 the charge
  goes -2.160 -> -2.145 (bound 0.030), ending at ``u = 0.63, w = 1.59``; at gamma = c
  ``uw 2 eta k = 0.997`` after 3000 steps.
- Factorisation: singular values on ``max(0, sigma_i - gamma)`` to 1e-15, ranks 5, 5, 4, 3,
  2 for gamma = 0, 0.15, 0.45, 0.8, 1.3 as predicted; the charge identity to 3e-13; C stays
  at -1.37 -> -1.43 without decay and goes to 0 (balance ``U^T U = W W^T`` to 5e-15) with it.
- Merging (distinct live units, dead): gamma 0: 8, 0 (closest pair 0.14 of the largest
  norm); 0.01: 2, 6; 0.03: 3, 5; 0.1: 2, 0 (all 8 in 2 clusters); 0.3: 2, 0 (likewise).
  Small decay restores symmetry by killing neurons (sparsity), large decay by merging them;
  the count is not monotone between 0.01 and 0.03. Training loss 1e-5, 0.008, 0.025, 0.105,
  0.33.
- Device leak (uniform steps): lifetimes 22.2 and 7.7 (gamma_eff 0.45, 1.3) give
  ``s = 1.952, 1.155, 0.557, 0.157, 0.001`` against 1.95, 1.15, 0.55, 0.15, 0 and
  ``1.106, 0.308, 0.001`` against 1.1, 0.3, 0: max error 0.008 with fluctuations of 0.013
  to 0.015, ranks 4 and 2 as predicted. With the 30 % step spread at gamma_eff 1.3:
  ``1.344, 0.439, 0.067``, rank 3 -- the mode with sigma = 1.0 < gamma_eff survives.
"""

import time

import numpy as np

import devices

from .base import ExperimentResult, check, targets
from .. import diagnostics as D
from ..io import IOConfig
from ..io_utils import pyplot, save_figure
from ..losses import mse
from ..networks import mlp
from ..progress import progress_bar
from ..rules import PulsedSGD
from ..simulator import Simulator
from ..tile import UpdateConfig

NAME = "symmetry-collapse"
DESCRIPTION = ("weight decay restores symmetries: scalar uw = max(0, c - gamma), singular "
               "values max(0, sigma - gamma), merged neurons; device leak as weight decay")

_SCALAR = {"c": 1.0, "n": 64, "noise": 0.5, "u0": 0.3, "w0": 1.5, "lr": 0.1,
           "margin": 0.1}
_FACTOR = {"sigmas": (2.4, 1.6, 1.0, 0.6, 0.3), "n_in": 8, "hidden": 10, "n_out": 6,
           "n": 32, "lr": 0.1}
_MERGE = {"n_in": 10, "hidden": 8, "n_out": 3, "teacher": 2, "gain": 2.0, "n": 256,
          "lr": 0.1, "dead": 0.01, "merged": 0.05}
_DEVICE = {"dw_min": 1e-3, "bound": 2.0, "spread": 0.3, "rank_atol": 0.02}

#: Sizes of the full run and of the quick one the tests run.
SETTINGS = {
    "full": {
        "scalar": {**_SCALAR, "gammas": tuple(round(0.1 * k, 2) for k in range(21)),
                   "steps": 3000, "record": 30},
        "factor": {**_FACTOR, "gammas": (0.0, 0.15, 0.45, 0.8, 1.3), "steps": 3000,
                   "record": 30},
        "merge": {**_MERGE, "gammas": (0.0, 0.01, 0.03, 0.1, 0.3), "steps": 16000,
                  "record": 200},
        "device": {**_FACTOR, **_DEVICE, "gammas": (0.45, 1.3), "spread_gammas": (1.3,),
                   "steps": 3000, "record": 30},
    },
    "quick": {
        "scalar": {**_SCALAR, "gammas": (0.0, 0.5, 0.75, 1.0, 1.5, 2.0), "steps": 1000,
                   "record": 20},
        "factor": {**_FACTOR, "gammas": (0.0, 0.45, 1.3), "steps": 1000, "record": 20},
        "merge": {**_MERGE, "gammas": (0.0, 0.03, 0.3), "steps": 4000, "record": 200},
        "device": {**_FACTOR, **_DEVICE, "gammas": (1.3,), "spread_gammas": (1.3,),
                   "steps": 1000, "record": 20},
    },
}


# --------------------------------------------------------------------------- data
def scalar_data(cfg, seed):
    """``x`` with ``mean(x^2) = 1`` and ``y = c x + e`` with ``mean(x e) = 0`` exactly."""
    rng = np.random.default_rng([seed, 0x5CA1])
    x = rng.standard_normal((cfg["n"], 1))
    x /= np.sqrt(np.mean(x * x))
    e = cfg["noise"] * rng.standard_normal((cfg["n"], 1))
    e -= x * np.mean(x * e)                     # E[x e] = 0 keeps E[x y] = c exactly
    return x, cfg["c"] * x + e


def factor_data(cfg, seed):
    """Whitened inputs (``X^T X / N = I``), ``Y = X M^T``, and ``M`` with singular values
    ``sigmas`` in random orthonormal bases."""
    rng = np.random.default_rng([seed, 0xFAC7])
    n, n_in, n_out = cfg["n"], cfg["n_in"], cfg["n_out"]
    sig = np.asarray(cfg["sigmas"], dtype=float)
    q, _ = np.linalg.qr(rng.standard_normal((n, n_in)))
    x = np.sqrt(n) * q
    left, _ = np.linalg.qr(rng.standard_normal((n_out, sig.size)))
    right, _ = np.linalg.qr(rng.standard_normal((n_in, sig.size)))
    m = (left * sig) @ right.T
    return x, x @ m.T, m


def merge_data(cfg, seed):
    """Gaussian inputs and a tanh teacher of ``teacher`` hidden neurons."""
    rng = np.random.default_rng([seed, 0x3E6])
    a = cfg["gain"] * rng.standard_normal((cfg["teacher"], cfg["n_in"])) / np.sqrt(cfg["n_in"])
    c = rng.standard_normal((cfg["n_out"], cfg["teacher"])) / np.sqrt(cfg["teacher"])
    x = rng.standard_normal((cfg["n"], cfg["n_in"]))
    return x, np.tanh(x @ a.T) @ c.T


# --------------------------------------------------------------------------- training
def descend(sim, rule, x, y, steps, record, observe, bar, *, device_leak=False,
            before_update=None):
    """Full-batch gradient descent for ``steps`` steps.

    Every ``record`` steps and after the last, ``observe(sim)`` is stored with the step and
    the loss at the current weights. ``device_leak``: every tile's devices relax once per
    step (``tile.decay()``, their own lifetime) before the rule's update, as PulsedSGD
    orders its weight decay. ``before_update(sim)`` runs after the backward pass.
    """
    hist = {"step": [], "loss": []}
    for k in range(steps + 1):
        pred = sim.run({"x": x})["y"]
        loss, grad = mse(pred, y)
        if k % record == 0 or k == steps:
            hist["step"].append(k)
            hist["loss"].append(loss)
            for key, value in observe(sim).items():
                hist.setdefault(key, []).append(value)
        if k == steps:
            break
        if not np.isfinite(loss):
            raise FloatingPointError(f"{NAME}: training diverged at step {k}")
        sim.backward({"y": grad})
        if before_update is not None:
            before_update(sim)
        if device_leak:
            for tile in sim.tiles.values():
                tile.decay()
        rule.apply(sim)
        bar.update(1)
    return hist


def device_options(cfg, lifetime, spread=False):
    """Analog tiles of a constant-step device that relaxes to 0 with ``lifetime``.

    ``dw_min`` 1e-3 over +-2 (4000 states), the standard's 30 % cycle-to-cycle spread of
    the step and 1 % up/down asymmetry spread, bounds varying by 5 %; the reset (decay
    target) exactly 0 and the same lifetime in every cell. The step is the same in every
    cell (``dw_min_dtod = 0``) unless ``spread``: then the standard's 30 %
    device-to-device spread, which gives every weight its own gain ``a_ij`` on the
    gradient against the common leak, i.e. the anisotropic weight decay
    ``gamma / a_ij``. Perfect converters, so that what the device target adds is the
    devices; stochastic pulse trains (BL 31; with a step of 1e-4 the updates this leak
    needs would exceed the 31 pulses of a train and be clipped).
    """
    device = devices.ConstantStep(dw_min=cfg["dw_min"], w_min=-cfg["bound"],
                                  w_max=cfg["bound"], w_min_dtod=0.05, w_max_dtod=0.05,
                                  dw_min_dtod=cfg["spread"] if spread else 0.0,
                                  lifetime=lifetime, reset=0.0, reset_dtod=0.0)
    return {"device": device, "io": IOConfig(is_perfect=True), "update": UpdateConfig()}


# --------------------------------------------------------------------------- 1. scalar
def run_scalar(cfg, seed, bar):
    """``f = u w x`` for every gamma of the grid; final ``u``, ``w`` and the histories."""
    x, y = scalar_data(cfg, seed)
    runs = []
    for gamma in cfg["gammas"]:
        sim = Simulator(mlp([1, 1, 1], "identity", name="scalar"), target="ideal", seed=seed)
        sim.tiles["W1"].set_weights([[cfg["w0"]]])
        sim.tiles["W2"].set_weights([[cfg["u0"]]])
        rule = PulsedSGD(lr=cfg["lr"], weight_decay=gamma)

        def observe(s):
            w, u = s.tiles["W1"].weights()[0, 0], s.tiles["W2"].weights()[0, 0]
            return {"uw": float(u * w), "u": float(u), "w": float(w)}

        runs.append(descend(sim, rule, x, y, cfg["steps"], cfg["record"], observe, bar))
    return runs


def drift_bound(lr, loss_initial, loss_final):
    """Bound on the drift of a charge under gradient descent without decay.

    Each step changes C by ``eta^2 (|g_u|^2 - |g_w|^2)``, at most ``eta^2 |g|^2`` in size,
    and the descent lemma gives ``eta sum |g|^2 <= (L_0 - L_end) / (1 - eta lambda_max / 2)
    <= 2 (L_0 - L_end)`` for ``eta lambda_max <= 1``: ``|dC| <= 2 eta (L_0 - L_end)``, the
    discretisation's whole effect (gradient flow conserves C exactly).
    """
    return 2.0 * lr * (loss_initial - loss_final)


def scalar_figures(cfg, runs):
    c, lr, margin = cfg["c"], cfg["lr"], cfg["margin"]
    gammas = np.asarray(cfg["gammas"], dtype=float)
    uw = np.array([r["uw"][-1] for r in runs])
    u = np.array([r["u"][-1] for r in runs])
    w = np.array([r["w"][-1] for r in runs])
    pred = np.maximum(0.0, c - gammas)
    far = np.abs(gammas - c) >= margin          # off the critical point: converged
    decayed = far & (gammas > 0)
    collapsed = far & (gammas > c)
    out = {"c": c, "gamma": gammas.tolist(), "uw": uw.tolist(), "u": u.tolist(),
           "w": w.tolist(), "uw_predicted": pred.tolist(),
           "max_error_off_critical": float(np.max(np.abs(uw - pred)[far])),
           "max_imbalance_gamma_positive": float(np.max(np.abs(np.abs(u) - np.abs(w))[
               decayed], initial=0.0)),
           "max_abs_weight_collapsed": float(np.max(np.maximum(np.abs(u), np.abs(w))[
               collapsed], initial=0.0))}
    zero = np.flatnonzero(gammas == 0.0)
    if zero.size:
        r = runs[zero[0]]
        c0 = r["u"][0] ** 2 - r["w"][0] ** 2
        c1 = r["u"][-1] ** 2 - r["w"][-1] ** 2
        out["gamma0"] = {"charge_initial": c0, "charge_final": c1, "u": r["u"][-1],
                         "w": r["w"][-1],
                         "drift_bound": drift_bound(lr, r["loss"][0], r["loss"][-1])}
    crit = np.flatnonzero(np.isclose(gammas, c))
    if crit.size:
        r = runs[crit[0]]
        k = np.asarray(r["step"], dtype=float)
        s = np.asarray(r["uw"])
        out["critical"] = {"gamma": c, "steps": r["step"], "uw_curve": r["uw"],
                           "uw_final": s[-1], "uw_times_2_eta_k": float(s[-1] * 2 * lr * k[-1])}
    return out


# --------------------------------------------------------------------------- 2. factor
def factor_sim(cfg, target, seed, lifetime=None, spread=False):
    """The linear two-tile network ``U W`` on ``target`` (device: leaky devices)."""
    options = device_options(cfg, lifetime, spread) if target == "device" else {}
    graph = mlp([cfg["n_in"], cfg["hidden"], cfg["n_out"]], "identity", name="factor",
                **options)
    return Simulator(graph, target=target, seed=seed)


def _factor_observe(s):
    w, u = s.tiles["W1"].weights(), s.tiles["W2"].weights()
    return {"s": D.singular_values(u @ w).tolist(), "charge": D.layer_charge(w, u)}


class ChargeBudget:
    """Accumulates the predicted change of ``C = |U|^2 - |W|^2`` over the steps of PulsedSGD
    with weight decay (theory.md section 0):
    ``dC = -2 eta gamma C + eta^2 (|G_U|^2 - |G_W|^2)``, ``G = grad + gamma theta``."""

    def __init__(self, lr, gamma):
        self.lr, self.gamma, self.total = lr, gamma, 0.0

    def __call__(self, sim):
        (xw, dw), (xu, du) = sim.local_signals("W1"), sim.local_signals("W2")
        w, u = sim.tiles["W1"].weights(), sim.tiles["W2"].weights()
        gw, gu = dw.T @ xw + self.gamma * w, du.T @ xu + self.gamma * u
        charge = np.sum(u * u) - np.sum(w * w)
        self.total += (-2 * self.lr * self.gamma * charge
                       + self.lr ** 2 * (np.sum(gu * gu) - np.sum(gw * gw)))


def run_factor(cfg, target, seed, bar, leak_from_devices=False, spread=False):
    """The factorisation for every gamma of ``cfg``: on the ideal target through the rule's
    weight decay, on the device target through the devices' lifetime ``1 / (eta gamma)``
    (``spread``: with a device-to-device spread of the step, for ``spread_gammas``)."""
    x, y, m = factor_data(cfg, seed)
    out = []
    for gamma in cfg["spread_gammas" if spread else "gammas"]:
        if leak_from_devices:
            lifetime = 1.0 / (cfg["lr"] * gamma)
            sim = factor_sim(cfg, target, seed, lifetime, spread)
            rule, budget = PulsedSGD(lr=cfg["lr"]), None
        else:
            sim = factor_sim(cfg, target, seed)
            rule, budget = PulsedSGD(lr=cfg["lr"], weight_decay=gamma), \
                ChargeBudget(cfg["lr"], gamma)
        hist = descend(sim, rule, x, y, cfg["steps"], cfg["record"], _factor_observe, bar,
                       device_leak=leak_from_devices, before_update=budget)
        w, u = sim.tiles["W1"].weights(), sim.tiles["W2"].weights()
        hist["balance_error"] = float(np.linalg.norm(u.T @ u - w @ w.T)
                                      / max(np.linalg.norm(w @ w.T), 1e-300))
        if budget is not None:
            hist["charge_predicted_change"] = budget.total
        if leak_from_devices:
            hist["lifetime"] = lifetime
        out.append(hist)
    return out, m


def factor_figures(cfg, runs, device=False, gammas=None):
    """Per gamma: singular values against ``max(0, sigma - gamma)``, ranks, charge.

    On the ideal target the final singular values (a fixed point, reached exactly); on the
    device target (``device``) their mean over the last quarter of the records, where the
    devices' pulses keep them fluctuating about the fixed point (``s_std``: that
    fluctuation), and the rank counts ``s > rank_atol``.
    """
    sig = np.zeros(min(cfg["n_in"], cfg["n_out"]))
    sig[:len(cfg["sigmas"])] = cfg["sigmas"]
    rows = []
    for gamma, r in zip(cfg["gammas"] if gammas is None else gammas, runs):
        curve = np.asarray(r["s"])
        late = curve[-max(2, curve.shape[0] // 4):]
        s = late.mean(axis=0) if device else curve[-1]
        pred = np.maximum(0.0, sig - gamma)
        rank = int(np.sum(s > cfg["rank_atol"])) if device else \
            int(np.sum(s > 1e-3 * s[0])) if s[0] > 0 else 0
        row = {"gamma": gamma, "lr": cfg["lr"], "s": s.tolist(), "s_predicted": pred.tolist(),
               "max_abs_error": float(np.max(np.abs(s - pred))),
               "rank": rank, "rank_predicted": int(np.sum(sig > gamma)),
               "effective_rank": float(np.exp(-np.sum(_p(s) * np.log(_p(s))))),
               "charge_initial": r["charge"][0], "charge_final": r["charge"][-1],
               "balance_error": r["balance_error"], "loss_initial": r["loss"][0],
               "loss_final": r["loss"][-1],
               "steps": r["step"], "charge": r["charge"],
               "s_curve": [list(v) for v in r["s"]]}
        if "charge_predicted_change" in r:
            change = r["charge"][-1] - r["charge"][0]
            row["charge_identity_error"] = float(
                abs(change - r["charge_predicted_change"])
                / max(abs(r["charge"][0]), abs(change), 1e-12))
        if device:
            row["lifetime"] = r["lifetime"]
            row["s_std"] = late.std(axis=0).tolist()
            # per mode: the time average's error against twice the fluctuation plus five
            # device steps (see device_checks)
            row["tolerance"] = (2 * late.std(axis=0) + 5 * cfg["dw_min"]).tolist()
            row["within_tolerance"] = bool(np.all(np.abs(s - pred) <= row["tolerance"]))
        rows.append(row)
    return rows


def _p(s):
    s = np.asarray(s, dtype=float)
    s = s[s > 0]
    return s / s.sum()


# --------------------------------------------------------------------------- 3. merge
def merge_observe(cfg):
    """Dead neurons, distinct live units and the closest live pair, up to tanh's sign."""
    def observe(sim):
        w, u = D.odd_canonical(sim.tiles["W1"].weights(), sim.tiles["W2"].weights())[:2]
        norms = np.sqrt(np.sum(w * w, axis=1) + np.sum(u * u, axis=0))
        top = norms.max()
        dead = D.dead_neurons(w, u, threshold=cfg["dead"] * top)["mask"]
        merged = D.merged_neurons(w, u, threshold=cfg["merged"] * top, exclude=dead)
        dist = merged["distances"]
        labels = merged["labels"]
        apart = dist[(labels[:, None] != labels[None, :]) & np.isfinite(dist)]
        return {"dead": int(dead.sum()), "units": merged["n_clusters"],
                "merged": merged["n_merged"],
                "min_distance_rel": float(merged["min_distance"] / top),
                "closest_distinct_rel": float(apart.min() / top) if apart.size else None}
    return observe


def run_merge(cfg, seed, bar):
    x, y = merge_data(cfg, seed)
    runs = []
    for gamma in cfg["gammas"]:
        graph = mlp([cfg["n_in"], cfg["hidden"], cfg["n_out"]], "tanh", name="merge")
        sim = Simulator(graph, target="ideal", seed=seed)
        rule = PulsedSGD(lr=cfg["lr"], weight_decay=gamma)
        runs.append(descend(sim, rule, x, y, cfg["steps"], cfg["record"],
                            merge_observe(cfg), bar))
    return runs


def merge_figures(cfg, runs):
    rows = []
    for gamma, r in zip(cfg["gammas"], runs):
        rows.append({"gamma": gamma, "units": r["units"][-1], "dead": r["dead"][-1],
                     "merged": r["merged"][-1], "loss_final": r["loss"][-1],
                     "min_distance_rel": r["min_distance_rel"][-1],
                     "closest_distinct_rel": r["closest_distinct_rel"][-1],
                     "steps": r["step"], "loss": r["loss"], "units_curve": r["units"],
                     "dead_curve": r["dead"]})
    return rows


# --------------------------------------------------------------------------- checks
def scalar_checks(sc):
    out = [check("scalar: uw = max(0, c - gamma) off the critical point (within 1e-3), "
                 "|u| = |w| for gamma > 0, u = w = 0 beyond gamma = c",
                 sc["max_error_off_critical"] < 1e-3
                 and sc["max_imbalance_gamma_positive"] < 1e-3
                 and sc["max_abs_weight_collapsed"] < 1e-3,
                 f"max |uw - max(0, c - gamma)| {sc['max_error_off_critical']:.1e} over "
                 f"|gamma - c| >= 0.1; max ||u| - |w|| {sc['max_imbalance_gamma_positive']:.1e}"
                 f"; max |u|, |w| beyond c {sc['max_abs_weight_collapsed']:.1e}")]
    if "gamma0" in sc:
        g0 = sc["gamma0"]
        drift = abs(g0["charge_final"] - g0["charge_initial"])
        out.append(check("scalar, gamma = 0: the charge u^2 - w^2 is conserved up to the "
                         "discrete steps' 2 eta (L_0 - L_end), so |u| != |w| at the minimum",
                         drift <= g0["drift_bound"] and abs(abs(g0["u"]) - abs(g0["w"])) > 0.1,
                         f"C {g0['charge_initial']:.4f} -> {g0['charge_final']:.4f} (bound "
                         f"{g0['drift_bound']:.4f}); u {g0['u']:.4f}, w {g0['w']:.4f}"))
    if "critical" in sc:
        cr = sc["critical"]
        out.append(check("scalar, gamma = c: critical slowing down, uw ~ 1 / (2 eta k) "
                         "(within 5 %)",
                         abs(cr["uw_times_2_eta_k"] - 1) < 0.05,
                         f"uw {cr['uw_final']:.3e} after {cr['steps'][-1]} steps; "
                         f"uw 2 eta k = {cr['uw_times_2_eta_k']:.4f}"))
    return out


def factor_checks(rows):
    worst = max(r["max_abs_error"] for r in rows)
    ranks = [(r["rank"], r["rank_predicted"]) for r in rows]
    out = [check("factorisation: s_i(UW) = max(0, sigma_i - gamma) (within 1e-3), rank = "
                 "#{sigma_i > gamma}",
                 worst < 1e-3 and all(a == b for a, b in ranks),
                 f"max |s - prediction| {worst:.1e}; rank (measured, predicted) per gamma "
                 f"{ranks}")]
    ident = max(r["charge_identity_error"] for r in rows)
    zero = [r for r in rows if r["gamma"] == 0.0]
    positive = [r for r in rows if r["gamma"] > 0.0]
    detail = f"identity rel. error {ident:.1e}"
    passed = ident < 1e-9
    if zero:
        z = zero[0]
        drift = abs(z["charge_final"] - z["charge_initial"])
        bound = drift_bound(z["lr"], z["loss_initial"], z["loss_final"])
        detail += (f"; gamma = 0: C {z['charge_initial']:.4f} -> {z['charge_final']:.4f} "
                   f"(bound on the drift {bound:.3f})")
        passed = passed and drift <= bound
    if positive:
        bal = max(r["balance_error"] for r in positive)
        detail += f"; gamma > 0: |U^T U - W W^T| / |W W^T| <= {bal:.1e}"
        passed = passed and bal < 1e-3
    out.append(check("factorisation: C = |U|^2 - |W|^2 changes by exactly -2 eta gamma C + "
                     "eta^2 (|G_U|^2 - |G_W|^2); conserved up to 2 eta (L_0 - L_end) "
                     "without decay, balanced (U^T U = W W^T) with it", passed, detail))
    return out


def merge_checks(cfg, rows):
    """All neurons live and distinct without decay; with any decay at most half of them
    remain distinct (the others dead or merged), fewest at the largest gamma, where the
    restoration is by merging: every neuron alive, in at most the teacher's width of
    clusters."""
    first, last = rows[0], rows[-1]
    half = cfg["hidden"] // 2
    passed = (first["gamma"] == 0.0 and first["units"] == cfg["hidden"] and first["dead"] == 0
              and first["min_distance_rel"] > 2 * cfg["merged"]
              and all(r["units"] <= half for r in rows[1:])
              and all(last["units"] <= r["units"] for r in rows)
              and last["dead"] == 0 and last["units"] <= cfg["teacher"]
              and last["merged"] == cfg["hidden"])
    return [check(f"merging: weight decay restores symmetry: all {cfg['hidden']} neurons "
                  f"distinct at gamma = 0, at most {half} distinct with decay (dead or "
                  f"merged), fewest at the largest gamma, where all are alive and merged into "
                  f"<= {cfg['teacher']} clusters", passed,
                  "distinct units (dead, in merged clusters) per gamma: " + ", ".join(
                      f"{r['gamma']:g}: {r['units']} ({r['dead']}, {r['merged']})"
                      for r in rows)
                  + f"; closest pair at gamma = 0: {first['min_distance_rel']:.3f} of the "
                  f"largest norm (threshold {cfg['merged']:g})")]


def device_checks(cfg, uniform, spread):
    """The leak as weight decay: the time-averaged singular values within twice their
    fluctuation plus five device steps of the prediction (the average's own error is well
    below one fluctuation; a few steps allow for the asymmetry's bias), and the rank."""
    worst = max(r["max_abs_error"] for r in uniform)
    ranks = [(r["rank"], r["rank_predicted"]) for r in uniform]
    tol = max(max(r["tolerance"]) for r in uniform)
    out = [check("device: a leak of lifetime L acts as weight decay 1/(eta L): s_i(UW) = "
                 "max(0, sigma_i - 1/(eta L)) within the devices' fluctuation, rank (s > "
                 f"{cfg['rank_atol']:g}) = #{{sigma_i > 1/(eta L)}}",
                 all(r["within_tolerance"] for r in uniform)
                 and all(a == b for a, b in ranks),
                 f"max |s - prediction| {worst:.4f} (tolerance up to {tol:.4f}); lifetimes "
                 + ", ".join(f"{r['lifetime']:.2f}" for r in uniform)
                 + f"; rank (measured, predicted) {ranks}")]
    kept = [r for r in spread if r["rank"] > r["rank_predicted"]]
    out.append(check(f"device: a {cfg['spread']:.0%} device-to-device spread of the step "
                     "makes the leak anisotropic and keeps a mode the mean leak collapses",
                     len(kept) == len(spread),
                     "; ".join(f"gamma_eff {r['gamma']:g}: rank {r['rank']} (predicted "
                               f"{r['rank_predicted']}), s = "
                               + ", ".join(f"{v:.3f}" for v in r["s"]) for r in spread)))
    return out


# --------------------------------------------------------------------------- entry points
def keyed(rows):
    """Rows (one per gamma) as a dict ``{"gamma_<g>": row}``, which the report prints."""
    return {f"gamma_{r['gamma']:g}": r for r in rows}


def unkeyed(table):
    """The rows of :func:`keyed`, by increasing gamma (JSON sorts the keys)."""
    return sorted(table.values(), key=lambda r: r["gamma"]) if table else []


def run(quick=False, target="both", seed=0, progress=True):
    """The ideal parts (scalar, factorisation, merging) and the device leak; see the
    module docstring."""
    chosen = targets(target)
    cfg = SETTINGS["quick" if quick else "full"]
    plan = []
    if "ideal" in chosen:
        plan += [len(cfg["scalar"]["gammas"]) * cfg["scalar"]["steps"],
                 len(cfg["factor"]["gammas"]) * cfg["factor"]["steps"],
                 len(cfg["merge"]["gammas"]) * cfg["merge"]["steps"]]
    if "device" in chosen:
        plan.append((len(cfg["device"]["gammas"]) + len(cfg["device"]["spread_gammas"]))
                    * cfg["device"]["steps"])
    start = time.perf_counter()
    figures, checks = {}, []
    with progress_bar(sum(plan), NAME, enabled=progress) as bar:
        if "ideal" in chosen:
            sc = scalar_figures(cfg["scalar"], run_scalar(cfg["scalar"], seed, bar))
            bar.note(f"scalar: max error {sc['max_error_off_critical']:.1e}")
            runs, _ = run_factor(cfg["factor"], "ideal", seed, bar)
            fa = factor_figures(cfg["factor"], runs)
            bar.note(f"factorisation: ranks {[r['rank'] for r in fa]}")
            mg = merge_figures(cfg["merge"], run_merge(cfg["merge"], seed, bar))
            bar.note(f"merging: units {[r['units'] for r in mg]}")
            figures.update(scalar=sc, factorisation=keyed(fa), merging=keyed(mg))
            checks += scalar_checks(sc) + factor_checks(fa) + merge_checks(cfg["merge"], mg)
        if "device" in chosen:
            dc = cfg["device"]
            runs, _ = run_factor(dc, "device", seed, bar, leak_from_devices=True)
            dv = factor_figures(dc, runs, device=True)
            runs, _ = run_factor(dc, "device", seed, bar, leak_from_devices=True, spread=True)
            sp = factor_figures(dc, runs, device=True, gammas=dc["spread_gammas"])
            bar.note(f"device: max error {max(r['max_abs_error'] for r in dv):.3f}")
            figures["device_leak"] = keyed(dv)
            figures["device_leak_spread"] = keyed(sp)
            checks += device_checks(dc, dv, sp)
    figures["seconds"] = time.perf_counter() - start
    settings = {"quick": quick, "target": target, "seed": seed,
                "parts": {k: {kk: vv for kk, vv in v.items()} for k, v in cfg.items()},
                "rule": "PulsedSGD, full-batch gradient descent, weight decay gamma (device "
                        "part: no rule decay, the devices' lifetime L = 1 / (eta gamma))"}
    return ExperimentResult(NAME, figures, checks, settings)


def plot(result, path):
    """The scalar collapse and its critical slowing down, the soft-thresholded spectrum and
    the charge, merging against gamma and over training, and the device leak's spectrum."""
    plt = pyplot()
    figs = result.figures
    parts = result.settings["parts"]
    fig, axes = plt.subplots(2, 4, figsize=(22, 9.5))
    for ax in axes.ravel():
        ax.set_axis_off()
    if "scalar" in figs:
        _plot_scalar(axes[0, 0], axes[0, 1], figs["scalar"], parts["scalar"]["lr"])
        _plot_spectrum(axes[0, 2], unkeyed(figs["factorisation"]),
                       unkeyed(figs.get("device_leak")), parts["factor"]["sigmas"])
        _plot_charge(axes[0, 3], unkeyed(figs["factorisation"]))
        _plot_merge(axes[1, 0], axes[1, 1], unkeyed(figs["merging"]))
    if "device_leak" in figs:
        _plot_device(axes[1, 2], axes[1, 3], unkeyed(figs["device_leak"]),
                     unkeyed(figs["device_leak_spread"]), unkeyed(figs.get("factorisation")))
    fig.tight_layout()
    out = save_figure(fig, path)
    plt.close(fig)
    return out


def _on(ax):
    ax.set_axis_on()
    return ax


def _plot_scalar(ax, ax_crit, sc, lr):
    _on(ax)
    g = np.asarray(sc["gamma"])
    fine = np.linspace(0, max(g.max(), 1e-9), 200)
    ax.plot(fine, np.maximum(0, sc["c"] - fine), "k-", lw=1, label="max(0, c - gamma)")
    ax.plot(g, sc["uw"], "o", color="C0", label="uw (measured)")
    ax.plot(g, np.abs(sc["u"]), "^", color="C1", mfc="none", label="|u|")
    ax.plot(g, np.abs(sc["w"]), "v", color="C2", mfc="none", label="|w|")
    ax.axvline(sc["c"], color="gray", ls=":", lw=1)
    ax.set_xlabel("weight decay gamma")
    ax.set_ylabel("end of training")
    ax.set_title("3a: f = u w x, E xy = c = 1: collapse at gamma = c")
    ax.legend(fontsize=8)
    if "critical" not in sc:
        return
    _on(ax_crit)
    cr = sc["critical"]
    k = np.asarray(cr["steps"], dtype=float)[1:]
    ax_crit.loglog(k, np.asarray(cr["uw_curve"])[1:], color="C0", label="uw at gamma = c")
    ax_crit.loglog(k, 1.0 / (2 * lr * k), "k--", lw=1, label="1 / (2 eta k)")
    ax_crit.set_xlabel("step k")
    ax_crit.set_ylabel("uw")
    ax_crit.set_title(f"Critical slowing down at gamma = c (eta = {lr:g})")
    ax_crit.legend(fontsize=8)


def _plot_spectrum(ax, rows, device_rows, sigmas):
    _on(ax)
    gam = np.array([r["gamma"] for r in rows])
    s = np.array([r["s"] for r in rows])
    sig = np.asarray(sigmas)
    fine = np.linspace(0, max(gam.max(), 1.5), 200)
    for i, sv in enumerate(sig):
        ax.plot(fine, np.maximum(0, sv - fine), color=f"C{i}", lw=1)
        ax.plot(gam, s[:, i], "o", color=f"C{i}", label=f"s_{i + 1} (sigma = {sv:g})")
    if device_rows:
        for r in device_rows:
            ax.plot(np.full(len(sig), r["gamma"]), r["s"][:len(sig)], "kx", ms=8)
        ax.plot([], [], "kx", label="device leak, gamma = 1/(eta L)")
    ax.set_xlabel("weight decay gamma")
    ax.set_ylabel("singular values of UW")
    ax.set_title("3b: s_i(UW) = max(0, sigma_i - gamma) (lines)")
    ax.legend(fontsize=8)


def _plot_charge(ax, rows):
    _on(ax)
    for i, r in enumerate(rows):
        ax.plot(r["steps"], r["charge"], color=f"C{i}", label=f"gamma = {r['gamma']:g} "
                f"(rank {r['rank']})")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("step")
    ax.set_ylabel("C = |U|_F^2 - |W|_F^2")
    ax.set_title("Charge: conserved without decay, -> 0 with it")
    ax.legend(fontsize=8)


def _plot_merge(ax, ax_time, rows):
    _on(ax)
    gam = [r["gamma"] for r in rows]
    pos = np.arange(len(gam))
    ax.bar(pos - 0.2, [r["units"] for r in rows], 0.4, label="distinct live units")
    ax.bar(pos + 0.2, [r["dead"] for r in rows], 0.4, label="dead neurons")
    ax.set_xticks(pos, [f"{g:g}" for g in gam])
    ax.set_xlabel("weight decay gamma")
    ax.set_ylabel("neurons (of 8)")
    ax.set_title("3c: tanh 10-8-3 on a 2-neuron teacher: merging")
    ax.legend(fontsize=8)
    _on(ax_time)
    twin = ax_time.twinx()
    for i, r in enumerate(rows):
        ax_time.semilogy(r["steps"], r["loss"], color=f"C{i}", label=f"gamma = {r['gamma']:g}")
        twin.step(r["steps"], r["units_curve"], where="post", color=f"C{i}", ls=":", lw=1.2)
    ax_time.set_xlabel("step")
    ax_time.set_ylabel("training loss (solid)")
    twin.set_ylabel("distinct live units (dotted)")
    ax_time.set_title("Merging over training")
    ax_time.legend(fontsize=8)


def _plot_device(ax, ax_time, rows, spread_rows, ideal_rows):
    _on(ax)
    top = 0.0
    for i, r in enumerate(rows):
        pred, s = np.asarray(r["s_predicted"]), np.asarray(r["s"])
        ax.errorbar(pred, s, yerr=r["s_std"], fmt="o", color=f"C{i}", ms=5,
                    label=f"device, lifetime L = {r['lifetime']:.2f} (1/(eta L) = "
                          f"{r['gamma']:g})")
        top = max(top, pred.max(), s.max())
        match = [q for q in ideal_rows if q["gamma"] == r["gamma"]]
        if match:
            ax.plot(match[0]["s_predicted"], match[0]["s"], "+", color=f"C{i}", ms=12,
                    label=f"ideal, weight decay {r['gamma']:g}")
    for r in spread_rows:
        pred, s = np.asarray(r["s_predicted"]), np.asarray(r["s"])
        ax.plot(pred, s, "s", color="C3", mfc="none", ms=8,
                label=f"device with 30 % step spread, 1/(eta L) = {r['gamma']:g}")
        top = max(top, s.max())
    ax.plot([0, top], [0, top], "k--", lw=0.8, label="measured = predicted")
    ax.set_xlabel("predicted max(0, sigma_i - 1/(eta L))")
    ax.set_ylabel("measured s_i(UW) (device: mean of the last quarter)")
    ax.set_title("Device leak (no weight decay in the rule) acts as weight decay")
    ax.legend(fontsize=7)
    _on(ax_time)
    shown = [(r, "-", "uniform devices") for r in rows if r["gamma"] in
             [q["gamma"] for q in spread_rows]] + [(r, ":", "30 % step spread")
                                                 for r in spread_rows]
    for r, ls, label in shown:
        curve = np.asarray(r["s_curve"])
        for j in range(curve.shape[1]):
            ax_time.semilogy(r["steps"], np.maximum(curve[:, j], 1e-6), color=f"C{j}",
                             ls=ls, lw=1.2,
                             label=f"{label} (s_1 ... s_6)" if j == 0 else None)
    ax_time.axhline(SETTINGS["full"]["device"]["rank_atol"], color="k", lw=0.6)
    ax_time.set_ylim(1e-6, 5)
    ax_time.set_xlabel("step")
    ax_time.set_ylabel("singular values of UW (device; floor 1e-6; line: rank threshold)")
    gam = spread_rows[0]["gamma"] if spread_rows else float("nan")
    ax_time.set_title(f"Devices at 1/(eta L) = {gam:g}: the spread keeps s_3 alive")
    ax_time.legend(fontsize=8)
