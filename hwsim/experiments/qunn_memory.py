"""``hwsim experiment qunn-memory``: delayed recall with delay up to the memory t, QUNN
against the LSTM-like ODERNN on the ideal target: accuracy vs. parameters
(reference/theory.md sections 6.1, 6.4 and the "Memory task" row of 6.5).

Task (made here, seeded; hwsim.tasks has no delayed-recall task)
----------------------------------------------------------------
Sequences of T random bits x_k = +-1; the target at step k is the input d steps back,
y_k = x_{k-d} (y_k = 0 for k < d, steps that are not scored). Accuracy is the fraction of
scored steps (k >= d) whose output has the target's sign; a model that knows nothing scores
1/2 with binomial standard deviation sigma = 1/(2 sqrt(n_scored)). Both families see the
same training sequences and are scored on the same test sequences.

Models
------
QUNN (project construction, :class:`qunn.QUNN`)
    q = 1..3 system qubits, memory t, clock traced out. The bit enters as an X rotation
    a_i x on qubit i, next to constant Z fields b_i and, for q > 1, constant Z_i Z_{i+1}
    couplings (delta = 0.5; fixed a_i from 1 to 0.5, b_i from 1 to 2, :func:`input_mask`).
    Without the non-commuting fields all U commute and the state only integrates the
    inputs; without distinct a_i, b_i and the entangling terms every qubit would carry the
    same marginal and q > 1 would add nothing (measured: accuracies within 0.02 for q = 1..3).
    Trained: the t couplings, tau and a linear readout of X, Y, Z on every qubit
    (t + 1 + 3q + 1 parameters), with :class:`qunn.Trainer` (Adam on the exact gradient,
    full batch).
LSTM-like 2-2 ODERNN (:func:`compiler.architecture` ``"lstm"``)
    hidden H = 1, 2, 4, 8, compiled onto the ideal target and trained by
    :class:`hwsim.Trainer` with :class:`hwsim.rules.PulsedSGD` (backpropagation through
    time), MSE on the same targets; parameters from :func:`compiler.parameter_count`.

Prediction (theory.md 6.1, 6.5)
-------------------------------
The paper claims more memory than an equal-depth LSTM with parameters linear in t; theory.md
gives no number for the project construction ("record the curves"). What the construction
implies: the traced-out step is a mixed-unitary, hence unital, channel Phi_k, so
rho_{k+1} - I/N = Phi_k(rho_k - I/N) and the Hilbert-Schmidt norm of that deviation never
grows. The output is w . Tr(O rho) + b = b + w . Tr(O (rho - I/N)) (Paulis are traceless):
the input-dependent part can only shrink along a sequence; inputs cannot write into a mixed
state. So the QUNN recalls only while its initial polarisation lasts: on sequences much
longer than the training ones it must relax to I/N and its recall fall to chance, where an
LSTM, whose state is driven by the inputs, keeps recalling. Within the training length the
curves are recorded; no ranking is predicted.

Measured (full run, seed 0; ``docs/figures/experiments/qunn-memory.json``)
-------------------------------------------------------------------------
Accuracy at delays d = 0..4 (T = 12, 64 test sequences; chance +- 4 sigma ~ 0.5 +- 0.08):
QUNN q = 1 (9 parameters) 0.93, 0.76, 0.78, 0.70, 0.68; q = 2 (12) 1.00, 0.88, 0.78, 0.76,
0.69; q = 3 (15) 1.00, 1.00, 0.92, 0.75, 0.69. LSTM-like H = 1 (11) 0.87, 0.79, 0.73, 0.71,
0.55; H = 2 (27) 0.92, 0.79, 0.75, 0.79, 0.75; H = 4 (77) 0.99, 0.78, 0.84, 0.81, 0.74;
H = 8 (249) 1.00, 0.77, 0.87, 0.80, 0.74. At 9-15 parameters the QUNN matches or beats the
LSTM at d <= 2 (q = 3: 1.00 / 0.92 at d = 1 / 2 against 0.79 / 0.87 for the best LSTM with
up to 249 parameters) and falls behind at d = 3, 4 (0.76 / 0.69 against 0.81 / 0.75).
Training moves the QUNN clock weight to level 0 (the identity branch) as d grows
(|c_0|^2 = 0.11 at d = 0 up to 0.62-0.79 at d = 4): it slows the mixing, a forget gate.
Late in 192-step sequences (last quarter, 32 sequences) every QUNN is at chance
(0.484-0.516), its excess purity Tr rho^2 - 1/N at most 1.5e-3 of the first step's, while
the best LSTM still recalls (0.98, 0.78, 0.79, 0.77, 0.72 at d = 0..4; the H = 8 model alone
drifts to chance at d = 2). Negative control 0.50-0.52. About 4 minutes of CPU (6 of wall
time on the shared machine).

Checks
------
* every model recalls the current input (d = 0) above chance: accuracy > 1/2 + 4 sigma;
* at every delay d <= t the best QUNN and the best LSTM are above 1/2 + 4 sigma;
* negative control: scored against the *next* input x_{k+1} (independent of everything the
  model has seen), every d = 0 model is within 4 sigma of 1/2;
* long sequences (``T_long``), last quarter: every QUNN's excess purity is below 1e-2 of its
  first step's (the relaxation is exponential; measured <= 1.5e-3) and its accuracy within
  4 sigma of 1/2; the best LSTM stays above 1/2 + 4 sigma at every delay;
* training lowered every model's loss (QUNN: training loss; LSTM: test loss).
4 sigma: a false alarm per comparison has probability ~6e-5 under the null.

``target``: the ODERNN runs on the ideal target (the brief's comparison); ``--target
device`` is refused with a clear error because the QUNN has no device counterpart here.
"""

import math
import time
import warnings

import numpy as np

from .base import ExperimentResult, check, targets
from ..errors import ConfigError
from ..io_utils import pyplot, save_figure
from ..progress import progress_bar

NAME = "qunn-memory"
DESCRIPTION = ("delayed recall (delay 0..t): QUNN (t couplings + readout) vs. LSTM-like "
               "ODERNN on the ideal target, accuracy vs. parameters")

DELTA = 0.5
Z_SIGMAS = 4.0
#: Late excess purity Tr rho^2 - 1/N, as a fraction of the first step's, below which the
#: QUNN state counts as relaxed to I/N (see 'Checks').
LATE_PURITY = 1e-2

SETTINGS = {
    "quick": {"memory": 2, "delays": (0, 2), "T": 10, "n_train": 16, "n_test": 32,
              "T_long": 96, "n_long": 32, "window": 12,
              "qubits": (1,), "qunn_steps": 40, "qunn_lr": 0.1,
              "hidden": (2,), "epochs": 40, "batch_size": 8, "lstm_lr": 0.05},
    "full": {"memory": 4, "delays": (0, 1, 2, 3, 4), "T": 12, "n_train": 24, "n_test": 64,
             "T_long": 192, "n_long": 32, "window": 12,
             "qubits": (1, 2, 3), "qunn_steps": 100, "qunn_lr": 0.1,
             "hidden": (1, 2, 4, 8), "epochs": 150, "batch_size": 8, "lstm_lr": 0.05},
}


# --------------------------------------------------------------------------- the task
def delayed_recall(n, T, delay, seed):
    """``n`` sequences of ``T`` random +-1 bits and their targets ``y_k = x_{k-delay}``.

    Returns
    -------
    x : ndarray, shape (n, T)
    y : ndarray, shape (n, T)
        Zero at the ``delay`` first steps (no target yet; not scored).
    """
    if delay < 0 or delay >= T:
        raise ConfigError(f"delayed_recall: delay must be in 0..T-1 = {T - 1}, got {delay!r}")
    x = np.random.default_rng(seed).choice([-1.0, 1.0], size=(n, T))
    y = np.zeros_like(x)
    y[:, delay:] = x[:, :T - delay]
    return x, y


def accuracy(pred, y, delay):
    """Fraction of scored steps (k >= delay) where ``pred`` has the sign of ``y``."""
    return float(np.mean((np.asarray(pred)[:, delay:] > 0) == (y[:, delay:] > 0)))


def chance_sigma(n_scored):
    """Standard deviation of the accuracy of a blind guesser over ``n_scored`` +-1 targets."""
    return 0.5 / math.sqrt(n_scored)


def _data(settings, delay, seed):
    """Train, test and long test splits (independent seeds per delay and split)."""
    tr = delayed_recall(settings["n_train"], settings["T"], delay, [seed, delay, 0])
    te = delayed_recall(settings["n_test"], settings["T"], delay, [seed, delay, 1])
    long = delayed_recall(settings["n_long"], settings["T_long"], delay, [seed, delay, 2])
    return tr, te, long


def position_accuracy(pred, y, delay, window):
    """Accuracy in consecutive windows of ``window`` steps (scored steps only)."""
    hits = (np.asarray(pred) > 0) == (y > 0)
    hits[:, :delay] = False
    starts = range(0, y.shape[1], window)
    return [float(hits[:, a:a + window].sum() / y[:, max(a, delay):a + window].size)
            for a in starts]


def late(pred, y, delay):
    """Accuracy over the last quarter of long sequences, and its chance sigma."""
    start = max(3 * y.shape[1] // 4, delay)
    return accuracy(pred[:, start:], y[:, start:], 0), chance_sigma(y[:, start:].size)


# --------------------------------------------------------------------------- QUNN
def input_mask(qubits):
    """Fixed per-qubit weights (a_i of the bit on X_i, b_i of the field on Z_i).

    Distinct values break the permutation symmetry of the qubits: with equal ones every
    qubit's marginal state is the same, and the readout of q qubits says no more than one.
    """
    return np.linspace(1.0, 0.5, qubits), np.linspace(1.0, 2.0, qubits)


def generators(qubits):
    """X_i (the bit), Z_i (constant fields) and, for q > 1, Z_i Z_{i+1} (entangling)."""
    return ["x", "z"] + (["zz"] if qubits > 1 else [])


def qunn_features(x, qubits):
    """Features for :func:`generators`: a_i x on X_i, b_i on Z_i, 1 on Z_i Z_{i+1}."""
    x = np.asarray(x, dtype=float)
    a, b = input_mask(qubits)
    ones = np.ones(x.shape + (1,))
    parts = [x[..., None] * a, ones * b]
    if qubits > 1:
        parts.append(np.repeat(ones, qubits - 1, -1))
    return np.concatenate(parts, axis=-1)


def make_qunn(qubits, memory):
    """The trained QUNN: couplings, tau and a readout of X, Y, Z on every qubit."""
    import qunn

    readout = [f"{axis}{i}" for i in range(qubits) for axis in "xyz"]
    return qunn.QUNN(qubits, memory,
                     encoding=qunn.Encoding(qubits, generators(qubits), delta=DELTA),
                     readout=readout, train_tau=True, train_readout=True)


def long_run_qunn(model, qubits, x_long):
    """Outputs on long sequences and the excess purity Tr rho_k^2 - 1/N per step (mean
    over the sequences): how far the state still is from I/N."""
    runs = [model.run(qunn_features(x, qubits), store_states=True) for x in x_long]
    purity = np.mean([[float(np.real((s * s).tr())) for s in r.states] for r in runs], axis=0)
    return np.array([r.outputs for r in runs]), purity - 1.0 / model.dim


def train_qunn(qubits, settings, train, test, long, delay):
    """Train one QUNN on one delay; its parameters, accuracy (also on long sequences) and
    losses."""
    import qunn

    model = make_qunn(qubits, settings["memory"])
    (x_tr, y_tr), (x_te, y_te) = train, test
    t0 = time.perf_counter()
    result = qunn.Trainer(model, lr=settings["qunn_lr"]).fit(
        qunn_features(x_tr, qubits), y_tr, settings["qunn_steps"])
    pred = np.array([model.predict(qunn_features(x, qubits)) for x in x_te])
    seconds = time.perf_counter() - t0
    pred_long, excess = long_run_qunn(model, qubits, long[0])
    late_acc, late_sigma = late(pred_long, long[1], delay)
    # qunn's loss is already the squared error averaged over steps and sequences
    return {"parameters": model.n_parameters, "accuracy": accuracy(pred, y_te, delay),
            "late_accuracy": late_acc, "late_sigma": late_sigma,
            "position_accuracy": position_accuracy(pred_long, long[1], delay,
                                                   settings["window"]),
            "excess_purity": excess[::settings["window"]].tolist(),
            "late_excess_purity": float(np.mean(excess[3 * len(excess) // 4:])),
            "test_mse": float(np.mean((pred - y_te) ** 2)),
            "initial_loss": result.losses[0], "final_loss": result.best_loss,
            "mse_curve": result.losses, "seconds": seconds,
            "clock_weights": (np.abs(model.clock_amplitudes()) ** 2).tolist(),
            "tau": model.tau, "pred": pred}


# --------------------------------------------------------------------------- LSTM
def _task(train, test):
    from ..tasks import Task

    (x_tr, y_tr), (x_te, y_te) = train, test
    return Task("delayed-recall", x_tr[..., None], y_tr[..., None], x_te[..., None],
                y_te[..., None], "regression", "sequence")


def train_lstm(hidden, settings, train, test, long, delay, seed):
    """Compile and train one LSTM-like ODERNN (ideal target) on one delay."""
    import compiler
    import hwsim
    from ..rules import PulsedSGD

    spec = compiler.architecture("lstm", hidden=hidden, inputs=1, outputs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", compiler.StabilityWarning)
        result = compiler.compile(spec, target="ideal", seed=seed)
    task = _task(train, test)
    trainer = hwsim.Trainer(result.graph, task, PulsedSGD(lr=settings["lstm_lr"]),
                            target="ideal", epochs=settings["epochs"],
                            batch_size=settings["batch_size"], seed=seed, progress=False)
    t0 = time.perf_counter()
    initial_loss = trainer.evaluate()[0]
    trainer.fit()
    pred = trainer.predict(task.x_test)[..., 0]
    seconds = time.perf_counter() - t0
    pred_long = trainer.predict(long[0][..., None])[..., 0]
    late_acc, late_sigma = late(pred_long, long[1], delay)
    # hwsim's mse is half the squared error summed over the T steps: per step, 2 value / T
    per_step = 2.0 / settings["T"]
    return {"parameters": compiler.parameter_count(spec),
            "accuracy": accuracy(pred, test[1], delay),
            "late_accuracy": late_acc, "late_sigma": late_sigma,
            "position_accuracy": position_accuracy(pred_long, long[1], delay,
                                                   settings["window"]),
            "test_mse": float(np.mean((pred - test[1]) ** 2)), "initial_loss": initial_loss,
            "final_loss": trainer.history[-1]["test_loss"],
            "mse_curve": [per_step * h["test_loss"] for h in trainer.history],
            "seconds": seconds, "pred": pred}


# --------------------------------------------------------------------------- experiment
def next_input_accuracy(pred, x):
    """Accuracy of ``pred[:, k]`` against the next input x_{k+1}: the negative control."""
    return float(np.mean((np.asarray(pred)[:, :-1] > 0) == (x[:, 1:] > 0)))


def run(quick=False, target="both", seed=0, progress=True):
    """Train every model on every delay; see the module docstring."""
    chosen = targets(target)
    if "ideal" not in chosen:
        raise ConfigError("qunn-memory compares with the ODERNN on the ideal target; use "
                          "--target ideal or both")
    settings = SETTINGS["quick" if quick else "full"]
    t_start = time.perf_counter()
    models = [("qunn", q) for q in settings["qubits"]] + \
             [("lstm", h) for h in settings["hidden"]]
    runs, controls, sigmas = {}, {}, {}
    with progress_bar(len(models) * len(settings["delays"]), NAME, enabled=progress) as bar:
        for d in settings["delays"]:
            train, test, long = _data(settings, d, seed)
            n_scored = test[1][:, d:].size
            sigmas[str(d)] = chance_sigma(n_scored)
            for family, size in models:
                out = (train_qunn(size, settings, train, test, long, d) if family == "qunn"
                       else train_lstm(size, settings, train, test, long, d, seed))
                pred = out.pop("pred")
                key = f"{family}_{'q' if family == 'qunn' else 'h'}{size}"
                runs.setdefault(key, {"family": family, "size": size,
                                      "parameters": out["parameters"], "by_delay": {}})
                runs[key]["by_delay"][str(d)] = out
                if d == 0:
                    controls[key] = next_input_accuracy(pred, test[0])
                    sigmas["next_input"] = chance_sigma(test[0][:, 1:].size)
                bar.update(1)
                bar.note(f"d = {d} {key}: accuracy {out['accuracy']:.3f} in "
                         f"{out['seconds']:.1f} s")
    figures = {"memory": settings["memory"], "delays": list(settings["delays"]),
               "T": settings["T"], "T_long": settings["T_long"], "window": settings["window"],
               "chance_sigma": sigmas, "runs": runs, "next_input_accuracy": controls,
               "table": table(runs, settings["delays"])}
    figures["seconds"] = time.perf_counter() - t_start
    settings_out = {"quick": quick, "target": target, "seed": seed, "delta": DELTA,
                    **{k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}}
    return ExperimentResult(NAME, figures, make_checks(figures), settings_out)


def table(runs, delays):
    """One line per model: parameters and accuracy at every delay."""
    return {key: f"{r['parameters']} parameters; accuracy (late in long sequences) " + ", ".join(
        f"d={d}: {r['by_delay'][str(d)]['accuracy']:.3f} "
        f"({r['by_delay'][str(d)]['late_accuracy']:.3f})" for d in delays)
        for key, r in runs.items()}


def make_checks(figures):
    """The expected signatures (module docstring, 'Checks')."""
    runs, delays, sig = figures["runs"], figures["delays"], figures["chance_sigma"]
    checks = []
    line0 = 0.5 + Z_SIGMAS * sig["0"]
    acc0 = {k: r["by_delay"]["0"]["accuracy"] for k, r in runs.items()}
    checks.append(check(
        "every model recalls the current input above chance (d = 0)",
        all(a > line0 for a in acc0.values()),
        f"threshold {line0:.3f}; " + ", ".join(f"{k} {a:.3f}" for k, a in acc0.items())))
    for family in ("qunn", "lstm"):
        best = {d: max(r["by_delay"][str(d)]["accuracy"] for r in runs.values()
                       if r["family"] == family) for d in delays}
        checks.append(check(
            f"best {family.upper()} recalls above chance at every delay d <= t = "
            f"{figures['memory']}",
            all(best[d] > 0.5 + Z_SIGMAS * sig[str(d)] for d in delays),
            ", ".join(f"d={d}: {best[d]:.3f} (> {0.5 + Z_SIGMAS * sig[str(d)]:.3f})"
                      for d in delays)))
    ctrl = figures["next_input_accuracy"]
    band = Z_SIGMAS * sig["next_input"]
    checks.append(check(
        "negative control: no model predicts the next (independent) input",
        all(abs(a - 0.5) < band for a in ctrl.values()),
        f"|accuracy - 0.5| < {band:.3f}: " + ", ".join(f"{k} {a:.3f}" for k, a in ctrl.items())))
    qunn_runs = [(k, d, r["by_delay"][str(d)]) for k, r in runs.items() for d in delays
                 if r["family"] == "qunn"]
    checks.append(check(
        "QUNN forgets in long sequences: the state relaxes to I/N and recall falls to chance",
        all(o["late_excess_purity"] < LATE_PURITY * o["excess_purity"][0] and
            abs(o["late_accuracy"] - 0.5) < Z_SIGMAS * o["late_sigma"] for _, _, o in qunn_runs),
        f"last quarter of T = {figures['T_long']}: excess purity at most "
        f"{max(o['late_excess_purity'] / o['excess_purity'][0] for _, _, o in qunn_runs):.1e}"
        f" of the first step's, accuracy "
        f"{min(o['late_accuracy'] for _, _, o in qunn_runs):.3f} to "
        f"{max(o['late_accuracy'] for _, _, o in qunn_runs):.3f} "
        f"(chance +- {Z_SIGMAS * qunn_runs[0][2]['late_sigma']:.3f})"))
    best = {d: max(r["by_delay"][str(d)]["late_accuracy"] for r in runs.values()
                   if r["family"] == "lstm") for d in delays}
    sig_late = {d: next(r["by_delay"][str(d)]["late_sigma"] for r in runs.values())
                for d in delays}
    checks.append(check(
        "the best LSTM keeps recalling late in long sequences (its state is input-driven)",
        all(best[d] > 0.5 + Z_SIGMAS * sig_late[d] for d in delays),
        ", ".join(f"d={d}: {best[d]:.3f}" for d in delays)))
    drops = [(k, d, r["by_delay"][str(d)]) for k, r in runs.items() for d in delays]
    checks.append(check(
        "training lowered every model's loss",
        all(o["final_loss"] < o["initial_loss"] for _, _, o in drops),
        f"{len(drops)} runs; largest final/initial "
        f"{max(o['final_loss'] / o['initial_loss'] for _, _, o in drops):.3f}"))
    return checks


# --------------------------------------------------------------------------- plot
def _colours(runs):
    """QUNN runs in C0.., LSTM runs in C5.. (stable across panels)."""
    out, n = {}, {"qunn": 0, "lstm": 5}
    for key, r in runs.items():
        out[key] = f"C{n[r['family']]}"
        n[r["family"]] += 1
    return out


def _label(r):
    name = "QUNN q = {}" if r["family"] == "qunn" else "LSTM-like H = {}"
    return name.format(r["size"]) + f" ({r['parameters']} par.)"


def plot(result, path):
    """Accuracy vs. delay, accuracy vs. parameters, accuracy along long sequences with the
    QUNN's distance from I/N, learning curves."""
    plt = pyplot()
    fig = result.figures
    runs, delays = fig["runs"], fig["delays"]
    colours = _colours(runs)
    style = {"qunn": "o-", "lstm": "s--"}
    f, axes = plt.subplots(2, 2, figsize=(14, 10))

    ax = axes[0, 0]
    for key, r in runs.items():
        ax.plot(delays, [r["by_delay"][str(d)]["accuracy"] for d in delays],
                style[r["family"]], color=colours[key], label=_label(r))
    band = [0.5 + Z_SIGMAS * fig["chance_sigma"][str(d)] for d in delays]
    ax.fill_between(delays, [1 - b for b in band], band, color="gray", alpha=0.25,
                    label=f"chance +- {Z_SIGMAS:g} sigma")
    ax.set_xticks(delays)
    ax.set_xlabel(f"delay d (steps; memory t = {fig['memory']})")
    ax.set_ylabel(f"recall accuracy (test, T = {fig['T']}, steps k >= d)")
    ax.set_title("Delayed recall y_k = x_{k-d}")
    ax.legend(fontsize=7)

    ax = axes[0, 1]
    cmap = plt.get_cmap("viridis")
    for n, d in enumerate(delays):
        colour = cmap(n / max(len(delays) - 1, 1))
        for family in ("qunn", "lstm"):
            rs = sorted((r for r in runs.values() if r["family"] == family),
                        key=lambda r: r["parameters"])
            ax.plot([r["parameters"] for r in rs],
                    [r["by_delay"][str(d)]["accuracy"] for r in rs], style[family],
                    color=colour, label=f"d = {d}" if family == "qunn" else None)
    ax.plot([], [], "ko-", label="QUNN")
    ax.plot([], [], "ks--", label="LSTM-like ODERNN")
    ax.axhline(0.5, color="gray", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("trainable parameters")
    ax.set_ylabel("recall accuracy")
    ax.set_title("Accuracy vs. parameters, per delay")
    ax.legend(fontsize=7, ncol=2)

    ax = axes[1, 0]
    d = delays[len(delays) // 2]
    w = fig["window"]
    twin = ax.twinx()
    for key, r in runs.items():
        o = r["by_delay"][str(d)]
        centres = w * np.arange(len(o["position_accuracy"])) + w / 2
        ax.plot(centres, o["position_accuracy"], style[r["family"]], ms=3,
                color=colours[key], label=_label(r))
        if r["family"] == "qunn":
            twin.semilogy(w * np.arange(len(o["excess_purity"])),
                          np.maximum(o["excess_purity"], 1e-12), ":", color=colours[key])
    ax.axvline(fig["T"], color="k", lw=0.8, ls="--", label=f"training length T = {fig['T']}")
    ax.axhline(0.5, color="gray", lw=0.8)
    ax.set_xlabel("step k in a long test sequence")
    ax.set_ylabel(f"recall accuracy, d = {d} (windows of {w} steps)")
    twin.set_ylabel("QUNN Tr rho^2 - 1/N (dotted; 1e-12 floor)")
    ax.set_title("Long sequences: the QUNN state relaxes to I/N and forgets")
    ax.legend(fontsize=7, loc="upper right")

    ax = axes[1, 1]
    d = delays[-1]
    for key, r in runs.items():
        curve = r["by_delay"][str(d)]["mse_curve"]
        ax.plot(np.linspace(0, 1, len(curve)), curve,
                "-" if r["family"] == "qunn" else "--", color=colours[key], label=_label(r))
    ax.set_yscale("log")
    ax.set_xlabel("fraction of training (QUNN: Adam steps; LSTM: epochs)")
    ax.set_ylabel("squared error per step (QUNN: training set; LSTM: test set)")
    ax.set_title(f"Learning curves at d = {d}")
    ax.legend(fontsize=7)
    f.tight_layout()
    out = save_figure(f, path)
    plt.close(f)
    return out
