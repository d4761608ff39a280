"""``hwsim experiment qunn-params``: trainable parameters of the QUNN against q and t, next
to the classical t-th order ODERNN with the same state dimension (reference/theory.md
sections 6.1, 6.4 and the "Parameter count" row of 6.5).

Setup
-----
For q system qubits (state dimension N = 2^q) and memory t:

QUNN (project construction, :class:`qunn.QUNN`)
    Encoding by X rotations on every qubit (N_x = q data features). Two counts, both read
    from the model (:attr:`qunn.QUNN.n_parameters`): the couplings only (the default), and
    with tau and a linear readout of Z on every qubit trained too (t + 1 + q + 1). For
    q <= ``gradient_qubits`` the count is confirmed by the length of the exact gradient
    (:meth:`qunn.QUNN.loss_and_gradient` on a short random sequence).
Classical ODERNNs (:mod:`compiler`)
    The same state dimension N and inputs N_x: the vanilla 1-t ODERNN
    (``compiler.architecture("vanilla", hidden=N, inputs=N_x, outputs=1, order=t,
    memory="damped")``), the LSTM-like 2-2 ODERNN (``architecture("lstm", ...)``) and the
    unitary one (exp step, A skew), counted by :func:`compiler.parameter_count` on the spec.
    For q <= ``compile_qubits`` the vanilla spec is compiled (ideal target) and the weights its
    tiles hold are counted too.

Prediction (theory.md 6.1, 6.5)
-------------------------------
The QUNN's count is t (+ readout), independent of N: linear in memory length. A classical
ODERNN's count is polynomial in N (N^2 for the recurrent matrix alone). theory.md 6.5 writes
the classical 1-t count as t N^2 + N N_x, i.e. one matrix per memory slot; in this project's
compiler the memory coefficients alpha_j are fixed numbers, not trained (compiler/methods.py),
so the compiled classical count is N^2 + N N_x + ... *independent* of t. The experiment
reports what the compiler builds and shows theory.md's formula beside it for reference.

Measured (full run; ``docs/figures/experiments/qunn-params.json``)
------------------------------------------------------------------
QUNN: exactly t couplings for every q = 1..8 and t = 1..64 (t + q + 2 with tau and readout:
74 at q = 8, t = 64), gradient lengths equal (28 cases, q <= 4). Classical, the same for
every t: vanilla 11 (q = 1) to 68,097 (q = 8, N = 256), LSTM-like 27 to 203,777, unitary
as vanilla; the compiled vanilla graphs hold exactly those weights (35 specs, q <= 5).
Growth per qubit 1.585 (q = 1 -> 2) rising to 1.957 (q = 7 -> 8). The vanilla count exceeds
the QUNN's from q = 1 (t <= 4), 2 (t = 8, 16) and 3 (t = 32, 64); at q = 8, t = 64 it is
920 times the QUNN's (6,190 times at t = 1). theory.md's t N^2 + N N_x would be 4.2 million
at q = 8, t = 64.

Checks
------
* QUNN: the count equals t for every q (and t + q + 2 with tau and readout), the gradient has
  that length; exactly linear in t with slope 1 and independent of N.
* classical: every architecture's count is the same for every t (fixed memory coefficients),
  at least N^2, and the compiled graph's tiles hold exactly that many weights.
* classical growth in q: the growth per qubit log2(count(q+1) / count(q)) rises toward 2
  and is within 0.2 of it between the two largest q (N^2 dominates; the next term,
  N (N_x + 2) for the vanilla cell, is a fraction (q + 2)/N of it, which pulls the pairwise
  exponent below 2 by log2 of a ratio -> 1: 1.82 between q = 4 and 5, 1.96 between 7 and 8).
* the vanilla count exceeds the QUNN's (with readout) for every t once q >= the crossover,
  and the crossover exists for every t of the sweep.

``target`` has no meaning for counting (validated and recorded only).
"""

import math
import time
import warnings

import numpy as np

from .base import ExperimentResult, check, targets
from ..io_utils import pyplot, save_figure
from ..progress import progress_bar

NAME = "qunn-params"
DESCRIPTION = ("QUNN trainable parameters (t couplings + readout) vs. q and t next to the "
               "compiled classical t-th order ODERNNs (vanilla, LSTM-like, unitary) with the "
               "same state dimension 2^q")

SETTINGS = {
    "quick": {"qubits": (1, 2, 3, 4, 5), "memories": (1, 2, 4, 8), "gradient_qubits": 2,
              "compile_qubits": 3},
    "full": {"qubits": (1, 2, 3, 4, 5, 6, 7, 8), "memories": (1, 2, 4, 8, 16, 32, 64),
             "gradient_qubits": 4, "compile_qubits": 5},
}

CLASSICAL = ("vanilla", "lstm", "unitary")


def qunn_counts(qubits, memory, gradient):
    """The QUNN's parameter counts (couplings only; with tau and readout)."""
    import qunn

    bare = qunn.QUNN(qubits, memory, encoding="x")
    full = qunn.QUNN(qubits, memory, encoding="x", readout=[f"z{i}" for i in range(qubits)],
                     train_tau=True, train_readout=True)
    out = {"couplings": bare.n_parameters, "with_readout": full.n_parameters,
           "features": bare.encoding.n_features}
    if gradient:
        rng = np.random.default_rng(0)
        xs = rng.uniform(-1.0, 1.0, (3, bare.encoding.n_features))
        ys = rng.uniform(-1.0, 1.0, 3)
        out["gradient_lengths"] = [len(bare.loss_and_gradient(xs, ys)[1]),
                                   len(full.loss_and_gradient(xs, ys)[1])]
    return out


def classical_spec(arch, qubits, memory):
    """The classical ODERNN with state dimension 2^q and the QUNN's q data features.

    The vanilla and unitary cells get order t with the damped memory (coefficients fixed);
    the LSTM-like architecture keeps its 2-2 form (its order is part of its definition).
    """
    import compiler

    fields = {"order": memory, "memory": "damped"} if arch != "lstm" else {}
    return compiler.architecture(arch, hidden=2 ** qubits, inputs=qubits, outputs=1,
                                 **fields)


def compiled_weights(spec):
    """Weights held by the tiles of ``spec`` compiled onto the ideal target."""
    import compiler

    with warnings.catch_warnings():
        # the count does not depend on the stability verdict
        warnings.simplefilter("ignore", compiler.StabilityWarning)
        result = compiler.compile(spec, target="ideal", tile_size=512)
    return sum(t.in_size * t.out_size for t in result.graph.tiles.values())


def theory_formula(qubits, memory):
    """theory.md 6.5's classical 1-t count t N^2 + N N_x (one matrix per memory slot)."""
    n = 2 ** qubits
    return memory * n * n + n * qubits


def log2_slope(q_pair, count_pair):
    """Growth exponent in q between two q: log2(count ratio) / (q difference)."""
    return float(math.log2(count_pair[1] / count_pair[0]) / (q_pair[1] - q_pair[0]))


def run(quick=False, target="both", seed=0, progress=True):
    """Count every model on the (q, t) grid; see the module docstring."""
    import compiler

    targets(target)
    settings = SETTINGS["quick" if quick else "full"]
    qubits, memories = settings["qubits"], settings["memories"]
    t0 = time.perf_counter()
    grid = {}
    with progress_bar(len(qubits), NAME, enabled=progress) as bar:
        for q in qubits:
            for t in memories:
                row = {"N": 2 ** q, "qunn": qunn_counts(q, t, q <= settings["gradient_qubits"]),
                       "theory_formula": theory_formula(q, t)}
                for arch in CLASSICAL:
                    spec = classical_spec(arch, q, t)
                    row[arch] = {"count": compiler.parameter_count(spec),
                                 "describe": spec.describe()}
                    if arch == "vanilla" and q <= settings["compile_qubits"]:
                        row[arch]["tile_weights"] = compiled_weights(spec)
                grid[f"q{q}_t{t}"] = row
            bar.update(1)
            bar.note(f"q = {q}")
    figures = {"qubits": list(qubits), "memories": list(memories), "grid": grid}
    figures.update(summaries(figures))
    checks = make_checks(figures)
    # One row per (q, t) in a list: the JSON keeps every count, the printout stays short.
    figures["grid"] = [{"qubits": int(key[1:].split("_")[0]), "memory": int(key.split("_t")[1]),
                        **row} for key, row in grid.items()]
    figures["seconds"] = time.perf_counter() - t0
    settings_out = {"quick": quick, "target": target, "seed": seed,
                    **{k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}}
    return ExperimentResult(NAME, figures, checks, settings_out)


def summaries(figures):
    """Slopes, crossovers and the largest ratio, from the grid."""
    qubits, memories, grid = figures["qubits"], figures["memories"], figures["grid"]
    t0 = memories[0]
    slopes = {}
    for arch in CLASSICAL:
        counts = [grid[f"q{q}_t{t0}"][arch]["count"] for q in qubits]
        slopes[arch] = {"first_pair": log2_slope(qubits[:2], counts[:2]),
                        "last_pair": log2_slope(qubits[-2:], counts[-2:])}
    crossover = {}
    for t in memories:
        above = [q for q in qubits if all(
            grid[f"q{p}_t{t}"]["vanilla"]["count"] > grid[f"q{p}_t{t}"]["qunn"]["with_readout"]
            for p in qubits if p >= q)]
        crossover[str(t)] = above[0] if above else None
    last = grid[f"q{qubits[-1]}_t{memories[-1]}"]
    return {"classical_log2_slope": slopes, "crossover_qubits": crossover,
            "largest": {"qubits": qubits[-1], "memory": memories[-1],
                        "qunn_with_readout": last["qunn"]["with_readout"],
                        "vanilla": last["vanilla"]["count"], "lstm": last["lstm"]["count"],
                        "vanilla_over_qunn": last["vanilla"]["count"]
                        / last["qunn"]["with_readout"]}}


def make_checks(figures):
    """The expected signatures (module docstring, 'Checks')."""
    qubits, memories, grid = figures["qubits"], figures["memories"], figures["grid"]
    rows = [(q, t, grid[f"q{q}_t{t}"]) for q in qubits for t in memories]
    checks = []
    ok = all(r["qunn"]["couplings"] == t and r["qunn"]["with_readout"] == t + q + 2
             and r["qunn"].get("gradient_lengths", [t, t + q + 2]) == [t, t + q + 2]
             for q, t, r in rows)
    checks.append(check(
        "QUNN: t trainable couplings for every q (t + q + 2 with tau and readout), as many "
        "gradient components", ok,
        f"q = {qubits[0]}..{qubits[-1]}, t = {memories[0]}..{memories[-1]}; gradient length "
        f"checked for {sum('gradient_lengths' in r['qunn'] for _, _, r in rows)} cases"))
    ok, worst = True, []
    for arch in CLASSICAL:
        for q in qubits:
            counts = {grid[f"q{q}_t{t}"][arch]["count"] for t in memories}
            ok &= len(counts) == 1 and min(counts) >= 4 ** q
    held = [(r["vanilla"]["count"], r["vanilla"]["tile_weights"]) for _, _, r in rows
            if "tile_weights" in r["vanilla"]]
    ok &= bool(held) and all(a == b for a, b in held)
    checks.append(check(
        "classical ODERNN: count independent of t (fixed memory coefficients), >= N^2, and "
        "equal to the weights on the compiled tiles", ok,
        f"{len(held)} compiled specs; vanilla at q = {qubits[-1]}: "
        f"{grid[f'q{qubits[-1]}_t{memories[0]}']['vanilla']['count']}"))
    slopes = figures["classical_log2_slope"]
    checks.append(check(
        "classical count grows as N^2 = 4^q (log2 growth per qubit rises toward 2, within "
        "0.2 of it at the largest q)",
        all(abs(s["last_pair"] - 2.0) < 0.2 and s["last_pair"] > s["first_pair"]
            for s in slopes.values()),
        ", ".join(f"{a} {s['first_pair']:.3f} -> {s['last_pair']:.3f}"
                  for a, s in slopes.items())))
    cross = figures["crossover_qubits"]
    checks.append(check(
        "the classical count exceeds the QUNN's beyond a crossover q, for every t",
        all(v is not None for v in cross.values()),
        ", ".join(f"t={t}: q >= {q}" for t, q in cross.items())))
    return checks


def plot(result, path):
    """Parameters against q (per t) and against t (per q), QUNN and classical."""
    plt = pyplot()
    fig = result.figures
    qubits, memories = fig["qubits"], fig["memories"]
    grid = {f"q{r['qubits']}_t{r['memory']}": r for r in fig["grid"]}
    f, axes = plt.subplots(1, 3, figsize=(18, 5.2))

    ax = axes[0]
    shown = sorted({memories[0], memories[len(memories) // 2], memories[-1]})
    for n, t in enumerate(shown):
        ax.semilogy(qubits, [grid[f"q{q}_t{t}"]["qunn"]["with_readout"] for q in qubits],
                    "o-", color=f"C{n}", label=f"QUNN, t = {t} (t + q + 2)")
        ax.semilogy(qubits, [grid[f"q{q}_t{t}"]["theory_formula"] for q in qubits], ":",
                    color=f"C{n}", label=f"theory.md t N^2 + N N_x, t = {t}")
    for arch, style in (("vanilla", "ks-"), ("lstm", "k^--"), ("unitary", "kv-.")):
        ax.semilogy(qubits, [grid[f"q{q}_t{memories[0]}"][arch]["count"] for q in qubits],
                    style, label=f"compiled {arch} ODERNN (any t)")
    ax.set_xlabel("system qubits q  (state dimension N = 2^q)")
    ax.set_ylabel("trainable parameters")
    ax.set_title("Parameters vs. state size")
    ax.legend(fontsize=7)

    ax = axes[1]
    for n, q in enumerate(sorted({qubits[0], qubits[len(qubits) // 2], qubits[-1]})):
        ax.loglog(memories, [grid[f"q{q}_t{t}"]["qunn"]["with_readout"] for t in memories],
                  "o-", color=f"C{n}", label=f"QUNN, q = {q}")
        ax.loglog(memories, [grid[f"q{q}_t{t}"]["vanilla"]["count"] for t in memories], "s--",
                  color=f"C{n}", label=f"vanilla ODERNN, N = {2 ** q}")
    ax.loglog(memories, memories, "k:", label="couplings alone: t")
    ax.set_xticks(memories)
    ax.set_xticklabels([str(t) for t in memories])
    ax.minorticks_off()
    ax.set_xlabel("memory t")
    ax.set_ylabel("trainable parameters")
    ax.set_title("Parameters vs. memory length")
    ax.legend(fontsize=7, loc="center right")

    ax = axes[2]
    ratio = np.array([[grid[f"q{q}_t{t}"]["vanilla"]["count"]
                       / grid[f"q{q}_t{t}"]["qunn"]["with_readout"] for t in memories]
                      for q in qubits])
    im = ax.imshow(np.log10(ratio), origin="lower", aspect="auto", cmap="coolwarm",
                   vmin=-np.abs(np.log10(ratio)).max(), vmax=np.abs(np.log10(ratio)).max())
    ax.set_xticks(range(len(memories)))
    ax.set_xticklabels([str(t) for t in memories])
    ax.set_yticks(range(len(qubits)))
    ax.set_yticklabels([str(q) for q in qubits])
    for i in range(len(qubits)):
        for j in range(len(memories)):
            ax.text(j, i, f"{ratio[i, j]:.3g}", ha="center", va="center", fontsize=6)
    ax.set_xlabel("memory t")
    ax.set_ylabel("system qubits q")
    ax.set_title("vanilla ODERNN / QUNN (with readout) parameters")
    f.colorbar(im, ax=ax, label="log10 ratio (red: classical larger)")
    f.tight_layout()
    out = save_figure(f, path)
    plt.close(f)
    return out
