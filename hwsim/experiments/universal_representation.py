"""``hwsim experiment universal-representation``: two linear networks of different widths
and seeds trained with noisy SGD reach more similar hidden representations than with
gradient descent (reference/theory.md section 1.2, E3, and the experiment of 1.4).

Setup. A linear teacher ``y = M x + sigma xi`` with ``M`` 3 x 8 (singular values 2, 1, 0.5,
random singular vectors from the seed), ``x ~ N(0, I_8)``. Two students
``f(x) = U W x`` (:func:`hwsim.networks.mlp` ``[8, h, 3]``, identity activation: tile ``W1``
is ``W``, h x 8, tile ``W2`` is ``U``), widths ``h = 16`` and ``48``, each from its own
random initialisation (the tiles' default uniform ``+-1/sqrt(fan-in)``, different seeds),
trained with :class:`~hwsim.rules.PulsedSGD` on the loss ``|f - y|^2 / 2`` under two
conditions:

sgd
    batch 1, fresh samples with label noise ``sigma``;
control
    batches of 256 fresh samples without label noise (near-noiseless gradient descent),
    run until converged (300 steps quick, 2000 full; nothing moves afterwards).

The hidden representations are compared on 512 fixed probe inputs by linear CKA
(:func:`hwsim.diagnostics.representation_cka` on the ``h1`` signal each network's tiles
produce for the probes); for inputs with ``E x x^T = I`` it is the cosine between the two
kernels ``W_a^T W_a`` and ``W_b^T W_b`` (8 x 8, width-independent).

Prediction (theory.md E3, derived there): label noise drives each network to matrix
balance ``n U^T U = m W W^T``, where its kernel is ``W^T W = sqrt(n/m) (M^T M)^{1/2}``: a
function of ``M = U W`` only, so two networks that learn the same map have the same kernel
(CKA -> 1) whatever their width, seed or start. Gradient flow instead conserves the matrix
charge ``Q = W W^T - U^T U``, so the kernels keep their random initial parts and differ.
SGD's iterates fluctuate around the balanced point by ``O(eta sigma^2)``: iterate averaging
(of the kernel ``W^T W``, which the hidden rotation symmetry leaves invariant; ``W`` itself
diffuses along it) and smaller ``eta`` bring CKA closer to 1.

Measured per condition: CKA of the final iterates (the tiles' own reads of the probes),
the typical CKA of the iterates (the mean over the second half of the CKA of the two
networks' instantaneous kernels) and the CKA of the iterate-averaged kernels (over the
second half; the representation ``X K^{1/2}``); per network the relative E3 error
``|W^T W - sqrt(n/m) (M^T M)^{1/2}|_F / |sqrt(n/m) (M^T M)^{1/2}|_F`` with ``M = U W``
(final, and averaged kernel against averaged map), the fit ``|U W - M|_F / |M|_F``, and the
relative change of the matrix charge ``|Q_T - Q_0|_F / |Q_0|_F``. The single final iterate
is noisy with batch 1 (its map is 20-60 % off M: the wide network's large Hessian trace
makes SGD's stationary excess loss comparable to ``|M|^2``), so the checks use the typical
and the averaged values. The full run follows theory.md (``eta = 0.02``, ``sigma = 1``,
30000 steps) and adds SGD at ``eta / 2``; the quick run uses ``eta = 0.05``,
``sigma = 0.5`` and 3000 steps (batch-1 SGD is unstable here above ``eta`` of about 0.05;
balance goes at ``eta^2 sigma^2``, the fluctuations at ``eta sigma^2``).

Checks (thresholds from what theory predicts and the runs measured, seed 0):

- SGD vs control: SGD's typical CKA above the control's, and ``1 - CKA`` of SGD's averaged
  kernels at least 10x smaller than the control's (the control's ``1 - CKA``, about 0.18,
  is set by the random initial kernels; SGD's averaged one is its residual ``O(eta)``
  fluctuation, measured 60-200x smaller).
- E3: both averaged SGD kernels within 0.2 of the balanced kernel of their map, and SGD's
  largest error below half the control's smallest.
- Iterate averaging raises SGD's CKA above the typical iterate's.
- Both conditions learn the map (SGD's averaged map within 15 %: its stationary
  fluctuations bias the average by a few per cent; the control within 1 %), so the
  difference is not one of accuracy; the control conserves Q (change below 20 %: the
  discretisation's ``O(eta)`` drift, and on devices the pulses' own noise) while SGD moves
  it by more than 50 %.
- (full) Halving ``eta`` makes ``1 - typical CKA`` at least 1.5x smaller (2 to first order).

Which parts honour ``--target``: all of them. On the device target the tiles are
constant-step devices of ``dw_min = 1e-3`` without spread or asymmetry, bounds +-4 and
perfect converters (:func:`hwsim.experiments.gradient_balance.device_model`): the pulsed
updates add their own gradient-correlated noise, in both conditions.

Measured (full run, seed 0; ``docs/figures/experiments/universal-representation.*``):

- ideal: CKA SGD 0.9475 (typical), 0.9426 (final), 0.9991 (averaged kernels) against the
  control's 0.8200; E3 error 0.023 and 0.025 (SGD, averaged) against 0.497 and 1.257
  (control, widths 16 and 48); fits 0.047, 0.045 (SGD, averaged) and < 1e-12 (control);
  Q moved by 98 % and 91 % under SGD, 1.0 % and 0.6 % under the control; at ``eta = 0.01``
  the typical CKA is 0.9759 (``1 - CKA`` 2.2x smaller).
- device: CKA 0.9459, 0.9324, 0.9985 against 0.8218; E3 0.040, 0.063 against 0.506, 1.255;
  the control's Q moved by 10 % and 7 % (the pulses); at ``eta = 0.01`` typical CKA 0.9725
  (2.0x).
"""

import time

import numpy as np

from ..diagnostics import linear_cka, representation_cka
from ..io import IOConfig
from ..io_utils import pyplot, save_figure
from ..networks import mlp
from ..progress import progress_bar
from ..rules import PulsedSGD
from ..simulator import Simulator
from ..tile import UpdateConfig
from .base import ExperimentResult, check, targets
from .gradient_balance import device_model

NAME = "universal-representation"
DESCRIPTION = ("two linear nets of widths 16 and 48 reach the same hidden kernel "
               "sqrt(n/m)(M^T M)^(1/2) under noisy SGD (CKA -> 1), not under gradient descent")

N_IN, N_OUT = 8, 3
WIDTHS = (16, 48)
SINGULAR_VALUES = (2.0, 1.0, 0.5)
HIDDEN, READOUT, SIGNAL = "W1", "W2", "h1"
PROBES = 512
CONTROL_BATCH = 256
DEVICE_DW_MIN = 1e-3
#: Run sizes. The quick run trades a larger eta (faster balance, rate ~ eta^2 sigma^2) for a
#: smaller sigma (smaller fluctuations, ~ eta sigma^2); eta = 0.05 is the largest stable one
#: with batch 1 here. ``every``: steps between kernel samples for the averages and curves.
SETTINGS = {
    "quick": {"lr": 0.05, "sigma": 0.5, "steps": 3000, "control_steps": 300, "every": 10,
              "half_lr": False},
    "full": {"lr": 0.02, "sigma": 1.0, "steps": 30000, "control_steps": 2000, "every": 20,
             "half_lr": True},
}
AVERAGED_GAIN = 10.0    # how much smaller SGD's 1 - CKA of the averaged kernels must be
E3_MAX = 0.2            # averaged SGD kernels vs. the balanced kernel
FIT_SGD, FIT_CONTROL = 0.15, 0.01
Q_CONSERVED, Q_MOVED = 0.2, 0.5
HALF_LR_GAIN = 1.5      # full: 1 - typical CKA at eta / 2 this much smaller (2 to 1st order)


# --------------------------------------------------------------------------- set-up
def teacher(seed):
    """``M`` (3 x 8) with singular values :data:`SINGULAR_VALUES` and random singular
    vectors."""
    rng = np.random.default_rng([seed, 1])
    left, _ = np.linalg.qr(rng.standard_normal((N_OUT, N_OUT)))
    right, _ = np.linalg.qr(rng.standard_normal((N_IN, N_IN)))
    return left @ np.diag(SINGULAR_VALUES) @ right[:, :N_OUT].T


def psd_sqrt(k):
    """Symmetric square root of a positive semi-definite matrix (negative rounding clipped)."""
    vals, vecs = np.linalg.eigh((k + k.T) / 2)
    return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T


def balanced_kernel(m):
    """theory.md E3: the kernel ``sqrt(n/m) (M^T M)^{1/2}`` of a balanced factorisation of
    ``M`` (m x n)."""
    rows, cols = m.shape
    return np.sqrt(cols / rows) * psd_sqrt(m.T @ m)


def e3_error(kernel, m):
    """Relative distance of a kernel ``W^T W`` from the balanced kernel of ``M = U W``."""
    target = balanced_kernel(m)
    return float(np.linalg.norm(kernel - target) / np.linalg.norm(target))


def make_sim(target, width, seed):
    options = {}
    if target == "device":
        options = {"device": device_model(DEVICE_DW_MIN), "io": IOConfig(is_perfect=True),
                   "update": UpdateConfig(desired_bl=4096)}
    return Simulator(mlp([N_IN, width, N_OUT], activation="identity", **options),
                     target=target, seed=seed)


# --------------------------------------------------------------------------- training
def train(sim, m, lr, steps, batch, sigma, rng, every, probes, bar=None):
    """SGD on fresh samples; returns the kernel and map samples of the second half, the
    matrix charge before and after, and a CKA-ready trace of kernels.

    Returns
    -------
    dict
        ``K_mean`` and ``M_mean`` (averages of ``W^T W`` and ``U W`` over the second
        half), ``Q0`` and ``Q1`` (``W W^T - U^T U`` at the start and end), ``kernels``
        (``W^T W`` every ``every`` steps, for the curves) with ``kernel_steps``.
    """
    rule = PulsedSGD(lr=lr)
    tw, tu = sim.tiles[HIDDEN], sim.tiles[READOUT]

    def charge():
        w, u = tw.weights(), tu.weights()
        return w @ w.T - u.T @ u

    q0 = charge()
    k_sum, m_sum, n_avg = 0.0, 0.0, 0
    kernels, kernel_steps = [], []
    for k in range(steps):
        if k % every == 0:
            w = tw.weights()
            kernels.append(w.T @ w)
            kernel_steps.append(k)
            if k >= steps // 2:
                k_sum = k_sum + w.T @ w
                m_sum = m_sum + tu.weights() @ w
                n_avg += 1
        x = rng.standard_normal((batch, N_IN))
        y = x @ m.T
        if sigma:
            y = y + sigma * rng.standard_normal((batch, N_OUT))
        err = sim.run({"x": x})["y"] - y
        if not np.all(np.isfinite(err)):
            raise FloatingPointError(f"{NAME}: training diverged at step {k}")
        sim.backward({"y": err / batch})
        rule.apply(sim)
        if bar is not None:
            bar.update(1)
    w = tw.weights()
    kernels.append(w.T @ w)
    kernel_steps.append(steps)
    # the probes' hidden read on the trained tiles: what representation_cka compares
    sim.run({"x": probes})
    return {"K_mean": k_sum / n_avg, "M_mean": m_sum / n_avg, "Q0": q0, "Q1": charge(),
            "kernels": kernels, "kernel_steps": kernel_steps}


def kernel_cka(probes, ka, kb):
    """Linear CKA of the representations ``X K_a^{1/2}`` and ``X K_b^{1/2}``: that of two
    networks with kernels ``K_a``, ``K_b`` (equal to their hidden CKA when the kernels are
    the networks' own ``W^T W``)."""
    return linear_cka(probes @ psd_sqrt(ka), probes @ psd_sqrt(kb))


def run_condition(target, m, cfg, seed, probes, condition, lr, bar):
    """Both networks under one condition: figures and curves."""
    sgd = condition == "sgd"
    steps = cfg["steps"] if sgd else cfg["control_steps"]
    batch = 1 if sgd else CONTROL_BATCH
    sigma = cfg["sigma"] if sgd else 0.0
    sims, runs = [], []
    for i, width in enumerate(WIDTHS):
        sim = make_sim(target, width, seed=1000 * seed + 17 * (i + 1))
        rng = np.random.default_rng([seed, 2, i, int(sgd)])
        runs.append(train(sim, m, lr, steps, batch, sigma, rng, cfg["every"], probes, bar))
        sims.append(sim)
    ka, kb = runs[0]["kernels"], runs[1]["kernels"]
    steps_k = np.asarray(runs[0]["kernel_steps"])
    late = np.flatnonzero(steps_k >= steps // 2)
    out = {"lr": lr, "steps": steps, "batch": batch, "sigma": sigma,
           "cka_final": representation_cka(sims[0], SIGNAL, sims[1], SIGNAL),
           "cka_typical": float(np.mean([kernel_cka(probes, ka[j], kb[j]) for j in late])),
           "cka_averaged": kernel_cka(probes, runs[0]["K_mean"], runs[1]["K_mean"])}
    k_star = balanced_kernel(m)
    for width, sim, run in zip(WIDTHS, sims, runs):
        w, u = sim.tiles[HIDDEN].weights(), sim.tiles[READOUT].weights()
        out[f"width_{width}"] = {
            "e3_error_final": e3_error(w.T @ w, u @ w),
            "e3_error_averaged": e3_error(run["K_mean"], run["M_mean"]),
            "fit_final": float(np.linalg.norm(u @ w - m) / np.linalg.norm(m)),
            "fit_averaged": float(np.linalg.norm(run["M_mean"] - m) / np.linalg.norm(m)),
            "charge_change": float(np.linalg.norm(run["Q1"] - run["Q0"])
                                   / np.linalg.norm(run["Q0"])),
            "cka_with_balanced_kernel": kernel_cka(probes, w.T @ w, k_star)}
    # CKA of the two networks along training (from the tiles' kernels)
    pick = np.unique(np.concatenate([[0], np.geomspace(1, len(ka), 120).astype(int) - 1]))
    out["curve"] = {"step": [int(runs[0]["kernel_steps"][j]) for j in pick],
                    "cka": [kernel_cka(probes, ka[j], kb[j]) for j in pick]}
    return out


# --------------------------------------------------------------------------- checks
def _deficit(value):
    return max(1.0 - value, 1e-12)


def checks_for(target, figs):
    sgd, ctrl = figs["sgd"], figs["control"]
    gain = _deficit(ctrl["cka_final"]) / _deficit(sgd["cka_averaged"])
    out = [check(
        f"{target}: noisy SGD makes the two networks' hidden representations more similar "
        f"than gradient descent (typical CKA of the iterates above the control's; 1 - CKA "
        f"of the averaged kernels {AVERAGED_GAIN:g}x smaller)",
        sgd["cka_typical"] > ctrl["cka_final"] and gain >= AVERAGED_GAIN,
        f"CKA SGD {sgd['cka_typical']:.4f} (typical), {sgd['cka_final']:.4f} (final), "
        f"{sgd['cka_averaged']:.4f} (averaged); control {ctrl['cka_final']:.4f}; "
        f"averaged gain {gain:.0f}x")]
    widths = [f"width_{w}" for w in WIDTHS]
    e3_sgd = [sgd[w]["e3_error_averaged"] for w in widths]
    e3_ctrl = [ctrl[w]["e3_error_final"] for w in widths]
    out.append(check(
        f"{target}: SGD's kernels approach the balanced kernel sqrt(n/m)(M^T M)^(1/2) of E3 "
        f"(averaged error < {E3_MAX:g}, below half the control's)",
        max(e3_sgd) < E3_MAX and max(e3_sgd) < 0.5 * min(e3_ctrl),
        "E3 error SGD (averaged) " + ", ".join(f"{e:.3f}" for e in e3_sgd)
        + "; control " + ", ".join(f"{e:.3f}" for e in e3_ctrl)))
    out.append(check(
        f"{target}: iterate averaging brings SGD's two networks closer to one representation",
        sgd["cka_averaged"] > sgd["cka_typical"],
        f"CKA {sgd['cka_typical']:.4f} (typical iterate) -> {sgd['cka_averaged']:.4f} "
        "(averaged kernels)"))
    fit_ok = all(sgd[w]["fit_averaged"] < FIT_SGD and ctrl[w]["fit_final"] < FIT_CONTROL
                 for w in widths)
    q_ok = all(ctrl[w]["charge_change"] < Q_CONSERVED and sgd[w]["charge_change"] > Q_MOVED
               for w in widths)
    out.append(check(
        f"{target}: both conditions learn the map (averaged SGD fit < {FIT_SGD:g}, control "
        f"< {FIT_CONTROL:g}); gradient descent conserves the matrix charge W W^T - U^T U "
        f"(change < {Q_CONSERVED:.0%}), SGD moves it (> {Q_MOVED:.0%})",
        fit_ok and q_ok,
        "fit SGD (averaged) " + ", ".join(f"{sgd[w]['fit_averaged']:.3f}" for w in widths)
        + ", control " + ", ".join(f"{ctrl[w]['fit_final']:.1e}" for w in widths)
        + "; charge change SGD " + ", ".join(f"{sgd[w]['charge_change']:.2f}"
                                             for w in widths)
        + ", control " + ", ".join(f"{ctrl[w]['charge_change']:.3f}" for w in widths)))
    if "sgd_half_lr" in figs:
        half = figs["sgd_half_lr"]
        ratio = _deficit(sgd["cka_typical"]) / _deficit(half["cka_typical"])
        out.append(check(
            f"{target}: halving eta brings SGD's iterates closer to one representation "
            f"(1 - typical CKA {HALF_LR_GAIN:g}x smaller)",
            ratio >= HALF_LR_GAIN,
            f"typical CKA {sgd['cka_typical']:.4f} (eta {sgd['lr']:g}) -> "
            f"{half['cka_typical']:.4f} (eta {half['lr']:g}): {ratio:.2f}x"))
    return out


# --------------------------------------------------------------------------- run
def run(quick=False, target="both", seed=0, progress=True):
    chosen = targets(target)
    cfg = SETTINGS["quick" if quick else "full"]
    m = teacher(seed)
    probes = np.random.default_rng([seed, 3]).standard_normal((PROBES, N_IN))
    per_target = len(WIDTHS) * (cfg["steps"] * (2 if cfg["half_lr"] else 1)
                                + cfg["control_steps"])
    start = time.perf_counter()
    figures, checks = {"teacher_singular_values": list(SINGULAR_VALUES)}, []
    with progress_bar(per_target * len(chosen), NAME, enabled=progress) as bar:
        for t in chosen:
            figs = {"sgd": run_condition(t, m, cfg, seed, probes, "sgd", cfg["lr"], bar),
                    "control": run_condition(t, m, cfg, seed, probes, "control", cfg["lr"],
                                             bar)}
            if cfg["half_lr"]:
                figs["sgd_half_lr"] = run_condition(t, m, cfg, seed, probes, "sgd",
                                                    cfg["lr"] / 2, bar)
            bar.note(f"{t}: CKA SGD {figs['sgd']['cka_final']:.4f}, control "
                     f"{figs['control']['cka_final']:.4f}")
            figures[t] = figs
            checks.extend(checks_for(t, figs))
    figures["seconds"] = time.perf_counter() - start
    settings = {"quick": quick, "target": target, "seed": seed,
                "networks": f"f = U W x, {N_IN} -> h -> {N_OUT}, linear, h in {list(WIDTHS)}",
                "teacher": "y = M x + sigma xi, x ~ N(0, I)", "probes": PROBES,
                "control_batch": CONTROL_BATCH, **cfg}
    if "device" in chosen:
        settings["device"] = {"device": device_model(DEVICE_DW_MIN).to_dict(),
                              "io": "IOConfig(is_perfect=True)",
                              "update": "UpdateConfig(desired_bl=4096)"}
    return ExperimentResult(NAME, figures, checks, settings)


# --------------------------------------------------------------------------- plot
def plot(result, path):
    """CKA of the two networks over training per condition and target; the E3 errors and
    CKA values per condition."""
    plt = pyplot()
    figs = result.figures
    chosen = [t for t in ("ideal", "device") if t in figs]
    fig, (ax_c, ax_b, ax_e) = plt.subplots(1, 3, figsize=(17, 4.8))
    styles = {"ideal": "-", "device": "--"}
    labels = {"sgd": "SGD, batch 1, label noise", "sgd_half_lr": "SGD, eta / 2",
              "control": f"control: batch {CONTROL_BATCH}, no noise"}
    colors = {"sgd": "C0", "sgd_half_lr": "C2", "control": "C1"}
    for t in chosen:
        for cond, f in figs[t].items():
            c = f["curve"]
            ax_c.plot(np.maximum(c["step"], 1), c["cka"], styles[t], color=colors[cond],
                      label=f"{labels[cond]} ({t})")
    ax_c.set_xscale("log")
    ax_c.set_xlabel("step")
    ax_c.set_ylabel("linear CKA of the hidden layers (widths 16, 48)")
    ax_c.set_title("Representation similarity over training")
    ax_c.legend(fontsize=7)
    names, final, averaged = [], [], []
    for t in chosen:
        for cond, f in figs[t].items():
            names.append(f"{cond}\n{t}")
            final.append(f["cka_typical"] if cond != "control" else f["cka_final"])
            averaged.append(f["cka_averaged"])
    x = np.arange(len(names))
    ax_b.bar(x - 0.2, final, 0.4, label="iterates (typical over the second half)")
    ax_b.bar(x + 0.2, averaged, 0.4, label="averaged kernels (second half)")
    ax_b.set_xticks(x, names, fontsize=7)
    ax_b.set_ylim(min(final + averaged) - 0.05, 1.0)
    ax_b.set_ylabel("linear CKA")
    ax_b.set_title("CKA between the two networks")
    ax_b.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    for i, width in enumerate(WIDTHS):
        vals = [figs[t][cond][f"width_{width}"]["e3_error_averaged" if cond != "control"
                                                else "e3_error_final"]
                for t in chosen for cond in figs[t]]
        ax_e.bar(x + (i - 0.5) * 0.4, vals, 0.4, label=f"width {width}")
    ax_e.set_xticks(x, names, fontsize=7)
    ax_e.set_yscale("log")
    ax_e.set_ylabel("|W^T W - sqrt(n/m)(M^T M)^(1/2)|_F / |.|_F")
    ax_e.set_title("Distance from the balanced kernel (E3; SGD: averaged kernels)")
    ax_e.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    fig.tight_layout()
    out = save_figure(fig, path)
    plt.close(fig)
    return out
