"""``hwsim experiment metaplasticity``: flipping the plasticity gain of some neurons flips the
sign of their plasticity after a lag set by the leak (reference/theory.md sections 2.2, 2.4).

The student of :mod:`hwsim.experiments.heterosynaptic` (20 -> 64 tanh -> 5 on the teacher
``y = C tanh(2 A x)``) learns with the heterosynaptic circuit, every gain ``kappa_i = +1``,
until B has aligned with ``U^T`` (6 time constants ``1/(eta lambda)``). At ``T0`` the gains of
a random half of the hidden neurons flip to ``-1``; training goes on for 5 more time
constants.

Prediction (theory.md 2.2): ``B_i - kappa_i U_i^T`` decays exactly as ``(1 - eta lambda)^k``,
so after the flip ``B_i(k) ~ U_i^T (2 (1 - eta lambda)^k - 1)`` while U moves slowly: the
consistency score ``phi_i`` goes from +1 to -1 and crosses 0 after
``ln 2 / (eta lambda) ~ 0.69 / (eta lambda)`` steps, and so does the dendritic potential of any
fixed probe pairing.

Measured:

phi
    The median ``phi_i`` of the flipped and of the unflipped neurons at every evaluation;
    the lag is the first step after ``T0`` at which the flipped median is below 0 (linearly
    interpolated between evaluations).
probe
    A fixed pairing, an input ``x_p`` and an output error ``e_p`` (both fixed random
    vectors), given to a copy of the circuit (forward ``x_p``, backward ``e_p``, the rule's
    ``apply``) at every evaluation: ``s_i = <dW1_i, x_p>`` with ``dW1`` the copy's change of
    W1 with the leak's shrinkage removed, i.e. ``-eta p_i |x_p|^2``: potentiation (> 0) or
    depression (< 0) of neuron i's synapses for that pairing. Its sign relative to the
    sign just before ``T0``, per neuron; the lag is where the median of ``s_i / s_i(T0)`` over
    the flipped neurons crosses 0. The training simulator is never touched by the probe.

Run for two leaks (``lambda`` and ``lambda / 2`` quick, ``2 lambda`` full) on the ideal
target, so that the lag's ``1/(eta lambda)`` scaling is measured too, and for ``lambda`` on the
device target. The quick version compresses time as the heterosynaptic experiment does
(``eta = lambda = 0.1`` instead of 0.02).
"""

import copy
import math
import time

import numpy as np

from .base import ExperimentResult, check, targets
from .heterosynaptic import (HIDDEN, N_HIDDEN, N_IN, N_OUT, READOUT, device_summary,
                             make_sim, make_task, train)
from ..io_utils import pyplot, save_figure
from ..progress import progress_bar
from ..rules.heterosynaptic import Heterosynaptic, consistency
from ..simulator import Simulator

NAME = "metaplasticity"
DESCRIPTION = ("flipping kappa_i of half the neurons at T0 flips phi_i and the sign of a "
               "fixed pairing's weight change after a lag ~ ln2/(eta lambda)")

#: (eta, lambdas on the ideal target, lambda on the device target)
#: The second ideal leak is half the first in the quick run and twice the first in the full
#: run: with eta = 0.02 and lambda = 0.01 the network's own learning moves U during the lag
#: (measured: lag 0.89 / (eta lambda) instead of 0.69), which the prediction neglects.
SCHEDULE = {"quick": (0.1, (0.1, 0.05), 0.1), "full": (0.02, (0.02, 0.04), 0.02)}
PRE, POST = 6.0, 5.0            # time constants 1/(eta lambda) before and after the flip
EVALS_PER_TAU = 20
FLIP_FRACTION = 0.5
LAG_FACTOR = {"ideal": 1.25, "device": 2.0}   # measured/predicted lag within this factor


def probe_change(sim, rule, x_p, e_p):
    """Per hidden neuron, ``<dW1_i, x_p>`` of the rule's update for the pairing (x_p, e_p),
    on a copy of the circuit (the leak's shrinkage of W1 removed)."""
    tiles = copy.deepcopy(sim.tiles)
    twin = Simulator(sim.graph, target=sim.target, seed=sim.seed, tiles=tiles,
                     feedback=sim.feedback)
    w1 = tiles[HIDDEN].weights()
    twin.run({"x": x_p[None, :]})
    twin.backward({"y": e_p[None, :]})
    rule.apply(twin)
    dw = tiles[HIDDEN].weights() - w1 + rule.lr * rule.leak * w1
    return dw @ x_p


def crossing(steps, values, start):
    """First step >= start where ``values`` goes below 0 (linear interpolation), or None."""
    steps = np.asarray(steps, float)
    values = np.asarray(values, float)
    for k in range(1, len(steps)):
        if steps[k] <= start:
            continue
        if values[k] < 0 <= values[k - 1]:
            s0, s1, v0, v1 = steps[k - 1], steps[k], values[k - 1], values[k]
            return float(s0 + (s1 - s0) * v0 / (v0 - v1))
        if values[k] < 0:
            return float(steps[k])
    return None


def run_one(target, lr, leak, seed, bar):
    """Train to alignment, flip half the gains at T0, keep training; phi and the probe."""
    tau = 1.0 / (lr * leak)
    every = max(1, int(round(tau / EVALS_PER_TAU)))
    # T0 on an evaluation step: the evaluation there is the reference "just before T0"
    t0_step = every * int(round(PRE * tau / every))
    total = t0_step + int(round(POST * tau))
    rng = np.random.default_rng([seed, 11])
    flipped = np.zeros(N_HIDDEN, bool)
    flipped[rng.choice(N_HIDDEN, int(FLIP_FRACTION * N_HIDDEN), replace=False)] = True
    before = Heterosynaptic(lr=lr, leak=leak, gains=1.0)
    after = Heterosynaptic(lr=lr, leak=leak,
                           gains=tuple(float(g) for g in np.where(flipped, -1.0, 1.0)))
    x_p = rng.standard_normal(N_IN)
    e_p = rng.standard_normal(N_OUT)
    e_p /= np.linalg.norm(e_p)
    task = make_task(seed)
    sim = make_sim(before, target, seed)
    log = {"step": [], "phi_flipped": [], "phi_kept": [], "probe": [], "phi_error": [],
           "u_norm": []}
    kappa_new = np.where(flipped, -1.0, 1.0)
    at_t0 = {}

    def on_eval(k, s):
        rule = before if k < t0_step else after
        u = s.tiles[READOUT].weights()
        b = s.tiles[s.feedback[READOUT]].weights()
        phi = consistency(u, b)
        if k == t0_step:
            at_t0["u"], at_t0["r"] = u, b - kappa_new[:, None] * u.T
        if k >= t0_step:
            # derived (theory.md 2.2): B - diag(kappa) U^T only leaks, so
            # phi_i(k) = kappa_i + (1 - eta lambda)^(k - T0) <R_i(T0), U_i(k)> / |U_i(k)|^2
            # with R(T0) = B(T0) - diag(kappa_new) U(T0)^T; exact on the ideal target
            decay = (1.0 - lr * leak) ** (k - t0_step)
            pred = kappa_new + decay * np.sum(at_t0["r"] * u.T, axis=1) / np.sum(u * u, axis=0)
            log["phi_error"].append(float(np.max(np.abs(pred - phi) / (1.0 + np.abs(phi)))))
        log["step"].append(k)
        log["phi_flipped"].append(float(np.median(phi[flipped])))
        log["phi_kept"].append(float(np.median(phi[~flipped])))
        log["u_norm"].append(np.linalg.norm(u, axis=0))
        log["probe"].append(probe_change(s, rule, x_p, e_p))

    start = time.perf_counter()
    # the evaluation at step t0_step happens before that step's update: the last one with
    # the old gains, i.e. the reference "just before T0"
    train(sim, lambda k: before if k < t0_step else after, task, total, lr, leak,
          np.random.default_rng([seed, 1]), eval_every=every, measure=False,
          on_eval=on_eval, bar=bar)
    steps = np.asarray(log["step"])
    probe = np.asarray(log["probe"])                       # (evals, hidden)
    ref_idx = int(np.searchsorted(steps, t0_step))
    ref = probe[ref_idx]
    rel = probe / np.where(ref == 0, 1.0, ref)             # s_i(t) / s_i(T0)
    rel_flipped = np.median(rel[:, flipped], axis=1)
    rel_kept = np.median(rel[:, ~flipped], axis=1)
    # per neuron, the relative probe change averaged over one to two time constants after
    # the flip (after the predicted crossing, before the flipped neurons' readouts have been
    # silenced, see the module docstring)
    window = (steps >= t0_step + tau) & (steps <= t0_step + 2 * tau)
    mean_rel = rel[window].mean(axis=0)
    u_norm = np.asarray(log["u_norm"])
    u_ratio = u_norm[-1] / u_norm[ref_idx]
    after_t0 = steps > t0_step
    lag_phi = crossing(steps, log["phi_flipped"], t0_step)
    lag_probe = crossing(steps, rel_flipped, t0_step)
    predicted = math.log(2.0) * tau
    out = {
        "eta": lr, "lambda": leak, "tau_steps": tau, "T0": t0_step, "steps": total,
        "flipped_neurons": int(flipped.sum()), "seconds": time.perf_counter() - start,
        "predicted_lag": predicted,
        "lag_phi": None if lag_phi is None else lag_phi - t0_step,
        "lag_probe": None if lag_probe is None else lag_probe - t0_step,
        "phi_flipped_before": log["phi_flipped"][ref_idx],
        "phi_kept_before": log["phi_kept"][ref_idx],
        "phi_flipped_min": float(np.min(np.asarray(log["phi_flipped"])[after_t0])),
        "phi_flipped_end": log["phi_flipped"][-1],
        "phi_kept_end": log["phi_kept"][-1],
        "phi_max_rel_error_vs_derived": float(np.max(log["phi_error"])),
        "probe_window_steps": [t0_step + tau, t0_step + 2 * tau],
        "probe_reversed_flipped": float(np.mean(mean_rel[flipped] < 0)),
        "probe_reversed_kept": float(np.mean(mean_rel[~flipped] < 0)),
        "probe_rel_flipped_end": float(rel_flipped[-1]),
        "readout_norm_end_over_T0_flipped": float(np.median(u_ratio[flipped])),
        "readout_norm_end_over_T0_kept": float(np.median(u_ratio[~flipped])),
        "eval_step": steps.tolist(),
        "phi_flipped": log["phi_flipped"], "phi_kept": log["phi_kept"],
        "probe_rel_flipped": rel_flipped.tolist(), "probe_rel_kept": rel_kept.tolist(),
    }
    for key in ("lag_phi", "lag_probe"):
        out[f"{key}_over_predicted"] = None if out[key] is None else out[key] / predicted
        out[f"{key}_times_eta_lambda"] = None if out[key] is None else out[key] / tau
    return out


def _ratio_ok(value, factor):
    return value is not None and 1.0 / factor <= value <= factor


def checks_for(target, runs):
    out = []
    factor = LAG_FACTOR[target]
    for name, r in runs.items():
        tag = f"{target}, lambda = {r['lambda']:g}"
        tol = 0.05 if target == "ideal" else 0.2
        out.append(check(
            f"{tag}: before T0 every neuron's phi has aligned to kappa = +1",
            abs(r["phi_flipped_before"] - 1) < tol and abs(r["phi_kept_before"] - 1) < tol,
            f"median phi {r['phi_flipped_before']:.3f} (to be flipped), "
            f"{r['phi_kept_before']:.3f} (kept)"))
        lp = r["lag_phi"]
        out.append(check(
            f"{tag}: phi of the flipped neurons crosses 0 after ln2/(eta lambda) "
            f"(within a factor {factor:g}); the others stay near +1",
            _ratio_ok(r["lag_phi_over_predicted"], factor) and r["phi_flipped_min"] < -0.1
            and abs(r["phi_kept_end"] - 1) < 2 * tol,
            f"lag {lp if lp is None else round(lp)} steps = "
            f"{'n/a' if lp is None else format(r['lag_phi_times_eta_lambda'], '.3f')} / "
            f"(eta lambda), predicted {r['predicted_lag']:.0f} = 0.693 / (eta lambda); "
            f"flipped median phi down to {r['phi_flipped_min']:.3f}; kept "
            f"{r['phi_kept_end']:.3f} at the end"))
        lq = r["lag_probe"]
        need, spare = (0.9, 0.1) if target == "ideal" else (0.6, 0.25)
        w0, w1 = r["probe_window_steps"]
        out.append(check(
            f"{tag}: a fixed pairing's weight change reverses sign for the flipped neurons "
            f"after a lag ~ ln2/(eta lambda) (factor {factor:g}), not for the others",
            _ratio_ok(r["lag_probe_over_predicted"], factor)
            and r["probe_reversed_flipped"] >= need and r["probe_reversed_kept"] <= spare,
            f"median lag {lq if lq is None else round(lq)} steps (predicted "
            f"{r['predicted_lag']:.0f}); reversed over steps {w0:.0f}-{w1:.0f}: "
            f"{r['probe_reversed_flipped']:.0%} of flipped, {r['probe_reversed_kept']:.0%} "
            "of kept neurons"))
        if target == "ideal":
            out.append(check(
                f"{tag}: phi_i(t) = kappa_i + (1 - eta lambda)^k <R_i(T0), U_i> / |U_i|^2 "
                "exactly; the flipped neurons' readouts are silenced, so phi and the probe "
                "return toward the old sign later",
                r["phi_max_rel_error_vs_derived"] < 1e-6
                and r["readout_norm_end_over_T0_flipped"] < 0.5
                * r["readout_norm_end_over_T0_kept"],
                f"max rel. error {r['phi_max_rel_error_vs_derived']:.1e}; |U[:, i]| end / T0: "
                f"{r['readout_norm_end_over_T0_flipped']:.3f} (flipped), "
                f"{r['readout_norm_end_over_T0_kept']:.3f} (kept); at the end median phi "
                f"{r['phi_flipped_end']:.3f}, probe {r['probe_rel_flipped_end']:.3f} of its "
                "T0 value (flipped)"))
    if target == "ideal" and len(runs) == 2:
        a, b = runs.values()
        ratio = None if (a["lag_phi"] is None or b["lag_phi"] is None) else \
            b["lag_phi"] / a["lag_phi"]
        expect = a["lambda"] / b["lambda"]
        out.append(check(
            "ideal: the lag scales as 1/(eta lambda)",
            ratio is not None and abs(ratio / expect - 1) < 0.25,
            f"lag(lambda = {b['lambda']:g}) / lag(lambda = {a['lambda']:g}) = "
            f"{'n/a' if ratio is None else format(ratio, '.3f')}, expected {expect:g}"))
    return out


def run(quick=False, target="both", seed=0, progress=True):
    chosen = targets(target)
    lr, ideal_leaks, device_leak = SCHEDULE["quick" if quick else "full"]
    plan = [(t, leak) for t in chosen
            for leak in (ideal_leaks if t == "ideal" else (device_leak,))]
    total = sum(int(round((PRE + POST) / (lr * leak))) for _, leak in plan)
    start = time.perf_counter()
    figures, checks = {}, []
    with progress_bar(total, NAME, enabled=progress) as bar:
        for t in chosen:
            runs = {}
            for tt, leak in plan:
                if tt != t:
                    continue
                r = run_one(t, lr, leak, seed, bar)
                runs[f"lambda_{leak:g}"] = r
                bar.note(f"{t} lambda {leak:g}: lag phi {r['lag_phi']}, probe "
                         f"{r['lag_probe']} (predicted {r['predicted_lag']:.0f})")
            figures[t] = runs
            checks.extend(checks_for(t, runs))
    figures["seconds"] = time.perf_counter() - start
    settings = {"quick": quick, "target": target, "seed": seed, "eta": lr,
                "pre_flip_time_constants": PRE, "post_flip_time_constants": POST,
                "flip": f"kappa +1 -> -1 for {FLIP_FRACTION:.0%} of the {N_HIDDEN} hidden "
                        "neurons (random)",
                "lag_factor": LAG_FACTOR,
                "predicted_lag": "ln 2 / (eta lambda)"}
    if "device" in chosen:
        settings["device"] = device_summary()
    return ExperimentResult(NAME, figures, checks, settings)


def plot(result, path):
    """phi and the probe's relative weight change against steps since T0 (in units of
    1/(eta lambda)), per run; the lags against the prediction."""
    plt = pyplot()
    figs = result.figures
    runs = [(t, name, r) for t in ("ideal", "device") if t in figs
            for name, r in figs[t].items()]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    for i, (t, name, r) in enumerate(runs):
        x = (np.asarray(r["eval_step"]) - r["T0"]) / r["tau_steps"]
        c = f"C{i}"
        lab = f"{t}, lambda = {r['lambda']:g}"
        axes[0].plot(x, r["phi_flipped"], color=c, label=f"flipped ({lab})")
        axes[0].plot(x, r["phi_kept"], color=c, ls="--", label=f"kept ({lab})")
        axes[1].plot(x, np.clip(r["probe_rel_flipped"], -3, 3), color=c,
                     label=f"flipped ({lab})")
        axes[1].plot(x, np.clip(r["probe_rel_kept"], -3, 3), color=c, ls="--",
                     label=f"kept ({lab})")
        for lag, marker in ((r["lag_phi"], "o"), (r["lag_probe"], "s")):
            if lag is not None:
                axes[2].plot(r["predicted_lag"], lag, marker, color=c, ms=8, mfc="none")
        axes[2].plot([], [], "o", color=c, label=lab)
    for ax in axes[:2]:
        ax.axhline(0.0, color="k", lw=0.5)
        ax.axvline(0.0, color="gray", lw=0.8, ls=":")
        ax.axvline(math.log(2.0), color="k", lw=0.8, ls=":")
        ax.set_xlabel("(step - T0) eta lambda  (dotted: flip and ln 2)")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("median consistency score phi_i")
    axes[0].set_title("phi_i follows the flipped gain with a lag")
    axes[1].set_ylabel("<dW1_i, x_p> / value at T0 (median, clipped)")
    axes[1].set_title("Fixed probe pairing: potentiation -> depression")
    lags = [v for _, _, r in runs for v in (r["predicted_lag"],)]
    top = 1.6 * max(lags) if lags else 1.0
    axes[2].plot([0, top], [0, top], "k--", lw=0.8, label="measured = ln2/(eta lambda)")
    axes[2].set_xlim(0, top)
    axes[2].set_ylim(0, top)
    axes[2].set_xlabel("predicted lag ln2/(eta lambda) (steps)")
    axes[2].set_ylabel("measured lag (steps; o: phi, s: probe)")
    axes[2].set_title("Lag after the flip")
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    out = save_figure(fig, path)
    plt.close(fig)
    return out
