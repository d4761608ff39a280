"""``hwsim experiment crh``: the canonical representation hypothesis emerges with weight decay
(reference/theory.md section 4).

Setup (theory.md 4.4, "FC CRH sweep"): a student MLP 20 -> 64 -> 64 -> 5 (tanh) learns the
teacher ``y = C tanh(2 A x) + 0.3 noise`` (n = 20, hidden 30, m = 5, the teacher of section
2.4 with its ``A x 2``; :func:`hwsim.tasks.teacher_student`'s teacher, with fresh Gaussian
inputs and fresh label noise at every step)
by online SGD (:class:`hwsim.rules.PulsedSGD`, mini-batches of 8) with weight decay
``gamma`` on every tile. After training, fresh samples go through the network and its
backward pass; for the second layer ``h_b = W2 h_a`` the simulator's local signals give
``h_a`` (its input) and ``g_b = dl/dh_b`` per sample, from which
:func:`hwsim.diagnostics.crh_matrices` forms ``H_a, H_b, G_a, G_b`` (normalised and centred,
as the paper does, and raw) and ``Z_a = W^T W``, ``Z_b = W W^T``.
:func:`~hwsim.diagnostics.crh_alignments` measures the six relations (RGA: H ~ G, RWA:
H ~ Z, GWA: G ~ Z on either side) by the traceless cosine, whose random baseline is about 0,
and by the Pearson correlation, with its spectrum-matched random baseline reported;
:func:`~hwsim.diagnostics.pah_exponents` gives the power-law exponents of ``H_c`` and
``G_c`` in the eigenbasis of ``Z_c`` (raw matrices).

Prediction (theory.md 4.1, 4.2, 4.4): the alignments rise monotonically with gamma. At
gamma = 0 the CRH is broken (a spread spectrum, PAH-like); at an intermediate gamma a
distinct phase where GWA (both sides) and the b-side relations hold while the a-side RGA
and RWA do not; at the strongest gamma all six approach 1 as W collapses toward rank m = 5;
the test loss rises with gamma. Theorem 2 (paper-2nd) bounds the PAH exponents to [-1, 3].

Sizes: the full run is theory.md's, ``eta = 0.05``, 6 x 10^4 steps, gamma in {0, 3e-3,
1e-2, 3e-2}. The quick run compresses time: ``eta = 0.1``, 5000 steps, gamma in {0, 6e-3,
6e-2} (``eta gamma steps``, the number of decay time constants, is 30 at the largest gamma
against 90 in the full run, enough for the collapse; at 6e-3 it is 3, where the
intermediate phase shows). On the device target (tiles of a fine constant-step device,
perfect converters, pulsed updates, every step three tiles' pulse trains; the weight decay
is the devices' relaxation toward their reset value 0) two gammas, 0 and the largest: full
12000 steps with gamma 3e-2, quick 500 steps with gamma 0.15 (7.5 time constants).

Checks (thresholds): "holds" is a traceless cosine above 0.85 and "does not hold" below 0.6
and at least 0.3 below the relations that hold (the random baseline of the traceless cosine
is within a few hundredths of 0 for 64 x 64 matrices, reported per pair; the thresholds
separate the phases, whose values move by a few hundredths between training lengths). The
monotone rise is checked on the mean of the six alignments against twice the standard error
of the difference, estimated by splitting the fresh samples into four equal parts; the
collapse as an effective rank of W2 at most ``m + 1``; the test loss (clean targets) rises
strictly with gamma.

Measured (full run, seed 0; traceless cosines of the normalised matrices, "mean" the mean of
the six; random baselines: traceless within 0.01 of 0, Pearson 0.07-0.25):

- gamma = 0: mean 0.51 (a-RGA 0.12, a-RWA 0.14, b-RGA 0.54, a-GWA 0.81); W2's effective
  rank 44.9; test loss 0.018.
- gamma = 3e-3: mean 0.66; GWA 0.99 on both sides, b-RGA 0.84, b-RWA 0.88, a-RGA 0.10,
  a-RWA 0.15; effective rank 9.1; test loss 0.048.
- gamma = 1e-2: mean 0.77, the intermediate phase: GWA 0.99 and 1.00, b-RGA 0.97, b-RWA 0.96,
  a-RGA 0.35, a-RWA 0.36; effective rank 6.1; test loss 0.127.
- gamma = 3e-2: mean 0.985, all six 0.96-1.00; effective rank 5.13 (m = 5); test loss 0.259.
- PAH exponents (raw): at gamma = 3e-2 ``H_a ~ Z_a^1.03`` (a-RWA), ``H_b ~ Z_b^2.03`` (the
  exact ``p + 1``), ``G_b ~ Z_b^1.94``, ``G_a ~ Z_a^2.94``; at gamma = 0 ``H_a`` follows no
  power law (r^2 0.00), ``G_a`` 1.87, ``H_b`` 0.97, ``G_b`` 0.87. Every fitted exponent lies
  in [-0.19, 2.94], inside Theorem 2's [-1, 3] (G_a at the strongest gamma is close to 3).
- Device target (12000 steps): without leak the pulses' noise leaves the six relations near
  0 (mean 0.09; b-GWA -0.14); with the devices' relaxation at gamma = 3e-2 the mean is 0.975
  (all six 0.96-0.99), while W2's effective rank stays 24.6: the pulse noise keeps the small
  singular values above zero, yet the dominant modes carry the alignments.
"""

import time

import numpy as np

import devices

from .base import ExperimentResult, check, targets
from .. import diagnostics as D
from ..io import IOConfig
from ..io_utils import pyplot, save_figure
from ..networks import mlp
from ..progress import progress_bar
from ..rules import PulsedSGD
from ..simulator import Simulator
from ..tasks import teacher_student
from ..tile import UpdateConfig

NAME = "crh"
DESCRIPTION = ("the six CRH alignments of a hidden layer rise with weight decay, through a "
               "phase where only GWA and the b-side hold; PAH exponents")

SIZES = [20, 64, 64, 5]
LAYER = "W2"                        # h_b = W2 h_a: 64 -> 64, the layer theory.md measures
TEACHER = {"n_in": 20, "n_hidden": 30, "n_out": 5, "gain": 2.0, "noise": 0.3}
BATCH = 8
HOLDS, FAILS = 0.85, 0.6            # traceless cosine: relation holds / does not hold
GAP = 0.3                           # the intermediate phase: a-side this far below the rest
SPLITS = 4                          # parts of the fresh samples, for the standard error

#: Per size and target: learning rate, gamma grid, steps, fresh samples for the measurement,
#: random draws of each baseline, and how often the effective rank is recorded.
SETTINGS = {
    "full": {"ideal": {"lr": 0.05, "gammas": (0.0, 3e-3, 1e-2, 3e-2), "steps": 60000,
                       "samples": 8000, "draws": 16, "record": 2000},
             "device": {"lr": 0.05, "gammas": (0.0, 3e-2), "steps": 12000,
                        "samples": 8000, "draws": 16, "record": 1000}},
    "quick": {"ideal": {"lr": 0.1, "gammas": (0.0, 6e-3, 6e-2), "steps": 5000,
                        "samples": 4000, "draws": 8, "record": 500},
              "device": {"lr": 0.1, "gammas": (0.0, 0.15), "steps": 500,
                         "samples": 2000, "draws": 8, "record": 100}},
}


# --------------------------------------------------------------------------- set-up
def device_options():
    """The device target's tiles: a fine constant-step device and perfect converters.

    ``dw_min`` 1e-4 over +-2 (4 x 10^4 states) with the standard's 30 % spreads of the step
    and 1 % spread of the up/down asymmetry; stochastic pulse trains (BL 31). The rule's
    weight decay acts as the devices' relaxation toward their reset value (0 here).
    """
    device = devices.ConstantStep(dw_min=1e-4, w_min=-2.0, w_max=2.0, w_min_dtod=0.05,
                                  w_max_dtod=0.05)
    return {"device": device, "io": IOConfig(is_perfect=True), "update": UpdateConfig()}


class Teacher:
    """theory.md 4.4's teacher; fresh inputs and label noise per call."""

    def __init__(self, seed):
        task = teacher_student(n_in=TEACHER["n_in"], n_out=TEACHER["n_out"],
                               n_hidden=TEACHER["n_hidden"], gain=TEACHER["gain"], n_train=1,
                               n_test=1, seed=seed)
        self.a, self.c = task.info["teacher"]["A"], task.info["teacher"]["C"]

    def clean(self, x):
        return np.tanh(x @ self.a.T) @ self.c.T

    def sample(self, rng, k, noise=True):
        x = rng.standard_normal((k, TEACHER["n_in"]))
        y = self.clean(x)
        if noise:
            y = y + TEACHER["noise"] * rng.standard_normal(y.shape)
        return x, y


def make_sim(target, seed):
    options = device_options() if target == "device" else {}
    return Simulator(mlp(SIZES, "tanh", name="crh", **options), target=target, seed=seed)


def train(sim, rule, teacher, steps, rng, bar, record=None, on_record=None):
    """Online SGD: a fresh mini-batch per step; ``on_record(k)`` every ``record`` steps."""
    for k in range(steps):
        if record and on_record is not None and k % record == 0:
            on_record(k)
        x, y = teacher.sample(rng, BATCH)
        pred = sim.run({"x": x})["y"]
        if not np.all(np.isfinite(pred)):
            raise FloatingPointError(f"{NAME}: training diverged at step {k}")
        sim.backward({"y": (pred - y) / BATCH})
        rule.apply(sim)
        bar.update(1)


# --------------------------------------------------------------------------- measures
def measure(sim, teacher, n, draws, seed):
    """Alignments, PAH exponents, ranks and test loss of ``LAYER`` on ``n`` fresh samples.

    The fresh samples (with label noise: the gradients are those training sees) are run
    through the network and its backward pass, and :func:`layer_measures` reads the layer's
    local signals.
    """
    rng = np.random.default_rng([seed, 0xC28])
    x, y = teacher.sample(rng, n)
    pred = sim.run({"x": x})["y"]
    test_loss = float(0.5 * np.mean(np.sum((pred - teacher.clean(x)) ** 2, axis=1)))
    sim.backward({"y": pred - y})
    h_a, g_b = sim.local_signals(LAYER, source="backward")
    return {"test_loss": test_loss,
            **layer_measures(h_a, g_b, sim.tiles[LAYER].weights(), draws, seed)}


def layer_measures(h_a, g_b, w, draws, seed):
    """The six alignments (normalised and centred H, G: traceless cosine with its baseline
    and Pearson with its baseline; raw: traceless), their mean and its standard error from
    ``SPLITS`` disjoint parts of the samples, PAH exponents (raw), and W's ranks."""
    norm = D.crh_matrices(h_a, g_b, w, normalize=True, center=True)
    raw = D.crh_matrices(h_a, g_b, w)
    aligned = D.crh_alignments(norm, n_draws=draws, seed=seed)
    parts = [_mean_traceless(D.crh_matrices(ha, gb, w, normalize=True, center=True))
             for ha, gb in zip(np.array_split(h_a, SPLITS), np.array_split(g_b, SPLITS))]
    return {"traceless": {k: v["traceless"] for k, v in aligned.items()},
            "traceless_raw": {k: v["traceless"] for k, v in
                              D.crh_alignments(raw, n_draws=0).items()},
            "pearson": {k: v["pearson"] for k, v in aligned.items()},
            "pearson_baseline": {k: v.get("pearson_baseline") for k, v in aligned.items()},
            "traceless_baseline": {k: v.get("traceless_baseline") for k, v in aligned.items()},
            "mean_traceless": float(np.mean([v["traceless"] for v in aligned.values()])),
            "mean_traceless_se": float(np.std(parts, ddof=1) / np.sqrt(SPLITS)),
            "pah": {k: {kk: (None if not np.isfinite(vv) else vv) for kk, vv in v.items()}
                    for k, v in D.pah_exponents(raw).items()},
            "rank": D.numerical_rank(w), "effective_rank": D.effective_rank(w),
            "singular_values": D.singular_values(w).tolist(), "samples": int(h_a.shape[0])}


def _mean_traceless(mats):
    return float(np.mean([v["traceless"] for v in D.crh_alignments(mats, n_draws=0).values()]))


# --------------------------------------------------------------------------- one target
def run_target(target, cfg, seed, bar):
    teacher = Teacher(seed)
    rows = []
    for gamma in cfg["gammas"]:
        sim = make_sim(target, seed)
        rule = PulsedSGD(lr=cfg["lr"], weight_decay=gamma)
        history = {"step": [], "effective_rank": []}

        def on_record(k, sim=sim, history=history):
            history["step"].append(k)
            history["effective_rank"].append(D.effective_rank(sim.tiles[LAYER].weights()))

        t0 = time.perf_counter()
        train(sim, rule, teacher, cfg["steps"], np.random.default_rng([seed, 1]), bar,
              cfg["record"], on_record)
        row = {"gamma": gamma, "eta": cfg["lr"], "steps": cfg["steps"],
               **measure(sim, teacher, cfg["samples"], cfg["draws"], seed),
               "effective_rank_curve": history, "seconds": time.perf_counter() - t0}
        bar.note(f"{target} gamma {gamma:g}: mean alignment {row['mean_traceless']:.3f}, "
                 f"test loss {row['test_loss']:.4g}")
        rows.append(row)
    return rows


def keyed(rows):
    """Rows (one per gamma) as ``{"gamma_<g>": row}``, which the report prints."""
    return {f"gamma_{r['gamma']:g}": r for r in rows}


def unkeyed(table):
    """The rows of :func:`keyed` by increasing gamma (JSON sorts the keys)."""
    return sorted(table.values(), key=lambda r: r["gamma"])


# --------------------------------------------------------------------------- checks
def rises(rows):
    """Each step up the gamma grid raises the mean alignment by more than -2 SE."""
    return all(b["mean_traceless"] - a["mean_traceless"]
               > -2 * np.hypot(a["mean_traceless_se"], b["mean_traceless_se"])
               for a, b in zip(rows, rows[1:]))


def intermediate_phase(row):
    """GWA on both sides and the b-side relations hold; a-RGA and a-RWA do not: below
    ``FAILS`` and at least ``GAP`` below the lowest of the others."""
    t = row["traceless"]
    held = min(t["a-GWA"], t["b-GWA"], t["b-RGA"], t["b-RWA"])
    broken = max(t["a-RGA"], t["a-RWA"])
    return held > HOLDS and broken < FAILS and held - broken > GAP


def _fmt(row):
    return ", ".join(f"{k} {v:.2f}" for k, v in row["traceless"].items())


def checks_ideal(rows):
    first, last = rows[0], rows[-1]
    means = ", ".join(f"{r['gamma']:g}: {r['mean_traceless']:.3f} +- "
                      f"{r['mean_traceless_se']:.3f}" for r in rows)
    middle = [r for r in rows[1:-1] if intermediate_phase(r)]
    exps = [v["exponent"] for r in rows for v in r["pah"].values()
            if v["exponent"] is not None and v["r2"] is not None and v["r2"] >= 0.5]
    losses = [r["test_loss"] for r in rows]
    return [
        check("ideal: the six alignments rise monotonically with gamma (mean traceless "
              "cosine, within 2 SE)", rises(rows), means),
        check(f"ideal: gamma = 0: the CRH is broken (some relation below {FAILS}, mean below "
              f"0.7)", first["gamma"] == 0.0 and min(first["traceless"].values()) < FAILS
              and first["mean_traceless"] < 0.7, _fmt(first)),
        check(f"ideal: an intermediate gamma shows the distinct phase: GWA and the b-side "
              f"relations hold (> {HOLDS}), a-RGA and a-RWA do not (< {FAILS}, {GAP} below)",
              bool(middle),
              "; ".join(f"gamma {r['gamma']:g}: {_fmt(r)}" for r in rows[1:-1])),
        check(f"ideal: strongest gamma: all six hold (> {HOLDS}) and W collapses toward "
              f"rank m = {SIZES[-1]} (effective rank <= {SIZES[-1] + 1})",
              min(last["traceless"].values()) > HOLDS
              and last["effective_rank"] <= SIZES[-1] + 1,
              f"gamma {last['gamma']:g}: {_fmt(last)}; effective rank "
              f"{last['effective_rank']:.2f} (gamma = 0: {first['effective_rank']:.1f}), "
              f"numerical rank {last['rank']}"),
        check("ideal: the test loss rises with gamma",
              all(b > a for a, b in zip(losses, losses[1:])),
              ", ".join(f"{r['gamma']:g}: {r['test_loss']:.4f}" for r in rows)),
        check("ideal: PAH exponents (fits with r^2 >= 0.5) lie in Theorem 2's range [-1, 3]",
              bool(exps) and all(-1.0 <= e <= 3.0 for e in exps),
              f"{len(exps)} exponents in [{min(exps, default=float('nan')):.2f}, "
              f"{max(exps, default=float('nan')):.2f}]"),
    ]


def checks_device(rows):
    first, last = rows[0], rows[-1]
    return [check(f"device: with the devices' relaxation as weight decay the alignments rise "
                  f"too: mean at the largest gamma above gamma = 0 (by 2 SE), all six > "
                  f"{HOLDS} there",
                  rises(rows) and last["mean_traceless"] > first["mean_traceless"]
                  and min(last["traceless"].values()) > HOLDS,
                  f"mean {first['mean_traceless']:.3f} -> {last['mean_traceless']:.3f}; "
                  f"gamma {last['gamma']:g}: {_fmt(last)}; effective rank "
                  f"{first['effective_rank']:.1f} -> {last['effective_rank']:.2f}")]


# --------------------------------------------------------------------------- entry points
def run(quick=False, target="both", seed=0, progress=True):
    """The gamma sweep on each chosen target; see the module docstring."""
    chosen = targets(target)
    size = "quick" if quick else "full"
    total = sum(len(SETTINGS[size][t]["gammas"]) * SETTINGS[size][t]["steps"] for t in chosen)
    start = time.perf_counter()
    figures, checks = {}, []
    with progress_bar(total, NAME, enabled=progress) as bar:
        for t in chosen:
            rows = run_target(t, SETTINGS[size][t], seed, bar)
            figures[t] = keyed(rows)
            checks += checks_ideal(rows) if t == "ideal" else checks_device(rows)
    figures["seconds"] = time.perf_counter() - start
    settings = {"quick": quick, "target": target, "seed": seed, "sizes": SIZES,
                "layer": LAYER, "teacher": TEACHER, "batch": BATCH,
                "runs": {t: SETTINGS[size][t] for t in chosen},
                "metric": "traceless cosine of normalised, centred H and G with Z (baseline "
                          "~0); Pearson with its spectrum-matched random baseline reported",
                "holds": HOLDS, "fails": FAILS}
    return ExperimentResult(NAME, figures, checks, settings)


def plot(result, path):
    """The six alignments against gamma (each target), the Pearson metric against its
    baseline, PAH exponents, and test loss and effective rank against gamma."""
    plt = pyplot()
    figs = result.figures
    chosen = [t for t in ("ideal", "device") if t in figs]
    fig, axes = plt.subplots(1, 4, figsize=(22, 5))
    names = list(D.CRH_PAIRS)
    markers = {"ideal": "o-", "device": "s:"}
    ax = axes[0]
    for t in chosen:
        rows = unkeyed(figs[t])
        x = _xpos(rows)
        for i, name in enumerate(names):
            ax.plot(x, [r["traceless"][name] for r in rows], markers[t], color=f"C{i}",
                    mfc="none" if t == "device" else None,
                    label=name if t == "ideal" else ("device (dotted, open)" if i == 0
                                                     else None))
    _gamma_axis(ax, figs)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_ylabel("traceless cosine (baseline ~ 0)")
    ax.set_title("CRH alignments of layer 2 (device: dotted, open)")
    ax.legend(fontsize=7, ncol=2)
    ax = axes[1]
    if "ideal" in figs:
        rows = unkeyed(figs["ideal"])
        x = _xpos(rows)
        for i, name in enumerate(names):
            ax.plot(x, [r["pearson"][name] for r in rows], "o-", color=f"C{i}", label=name)
            ax.plot(x, [r["pearson_baseline"][name] for r in rows], "--", color=f"C{i}", lw=0.8)
        _gamma_axis(ax, figs)
    ax.set_ylabel("Pearson alignment (dashed: random baseline)")
    ax.set_title("Paper-style metric against its baseline (ideal)")
    ax.legend(fontsize=7, ncol=2)
    ax = axes[2]
    if "ideal" in figs:
        rows = unkeyed(figs["ideal"])
        x = _xpos(rows)
        for i, name in enumerate(("H_a", "G_a", "H_b", "G_b")):
            vals = [r["pah"][name]["exponent"] for r in rows]
            ax.plot(x, [np.nan if v is None else v for v in vals], "o-", color=f"C{i}",
                    label=f"{name} ~ Z_{name[-1]}^p")
        _gamma_axis(ax, figs)
    ax.axhspan(-1, 3, color="0.9", zorder=0, label="Theorem 2 range [-1, 3]")
    ax.set_ylabel("PAH exponent p (eigenbasis of Z)")
    ax.set_title("Polynomial alignment exponents (raw matrices, ideal)")
    ax.legend(fontsize=7)
    ax = axes[3]
    twin = ax.twinx()
    for t in chosen:
        rows = unkeyed(figs[t])
        x = _xpos(rows)
        ax.semilogy(x, [r["test_loss"] for r in rows], markers[t], color="C0",
                    label=f"test loss ({t})")
        twin.plot(x, [r["effective_rank"] for r in rows], markers[t], color="C3",
                  label=f"effective rank of W2 ({t})")
    twin.axhline(SIZES[-1], color="C3", lw=0.6, ls="--")
    _gamma_axis(ax, figs)
    ax.set_ylabel("test loss (half MSE, clean targets)", color="C0")
    twin.set_ylabel("effective rank of W2 (dashed: m = 5)", color="C3")
    ax.set_title("Cost of the collapse")
    lines = ax.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=7, loc="center left")
    fig.tight_layout()
    out = save_figure(fig, path)
    plt.close(fig)
    return out


def _xpos(rows):
    return np.array([r["gamma"] for r in rows])


def _gamma_axis(ax, figs):
    """A symmetric-log gamma axis (0 included) with a tick at every gamma of the runs."""
    gammas = sorted({r["gamma"] for t in ("ideal", "device") if t in figs
                     for r in figs[t].values()})
    positive = [g for g in gammas if g > 0]
    ax.set_xscale("symlog", linthresh=min(positive) / 2 if positive else 1e-3)
    ax.set_xticks(gammas, [f"{g:g}" for g in gammas])
    ax.set_xlabel("weight decay gamma (symmetric log scale)")
