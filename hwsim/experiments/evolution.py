"""``hwsim experiment evolution``: selecting only the plasticity gains, on task loss, with no
gradient computed for them, evolves one consistent sign and gradient-aligned updates
(reference/theory.md section 2.4, last row; the design is derived, not from the paper).

Genome: the gains ``kappa in R^16`` of the hidden neurons of the heterosynaptic circuit
(:class:`~hwsim.rules.Heterosynaptic`, random B start, ``eta = 0.1``, ``lambda = 0.05``) on a
narrower student than :mod:`hwsim.experiments.heterosynaptic`'s (20 -> 16 tanh -> 5, teacher
``y = C tanh(2 A x)``). theory.md's design has 64 hidden neurons and 50 genomes trained 2k
steps each; here the width is 16 because with 64 random tanh features the readout alone
reaches nearly the loss of a trained hidden layer within the few hundred steps a genome gets,
so the loss barely depends on the gains' signs (measured while building this experiment:
0.289 / 0.282 / 0.277 for 50 / 75 / 100 % positive gains at lambda = 0.1, 300 steps; with 16
hidden neurons and lambda = 0.05, 400 steps: 0.269 / 0.256 / 0.253).
Every genome trains the same initial network on the same batches (ideal target) for a fixed
number of steps; its fitness is minus the test loss at the end. Each generation keeps the top
20 % (unchanged, their fitness cached: the runs are deterministic) and refills the population
with mutants of them: ``kappa + sigma xi`` (sigma = 0.2) and, per gain, a sign flip with
probability 0.02. Initial gains are N(0, 1), so half of them are negative: those neurons do
gradient ascent once their dendritic weights have aligned (phi_i -> kappa_i).

Selection sees only the loss. The update-gradient cosine (``cos(dW1, -grad_W1 L)``, from the
shadow float backprop of the heterosynaptic experiment, averaged over the last quarter of
each training run) is measured for the report and never used. The fitness is the test loss
averaged over ten evaluations during the run (the final loss and the speed of learning). A
run with ``kappa = 1`` gives the cosine and loss evolution should approach.
"""

import time

import numpy as np

from .base import ExperimentResult, check, targets
from .heterosynaptic import make_sim, make_task, train
from ..io_utils import pyplot, save_figure
from ..progress import progress_bar
from ..rules.heterosynaptic import Heterosynaptic

NAME = "evolution"
DESCRIPTION = ("a population whose genome is only the plasticity gains kappa, selected on "
               "test loss without gradients, evolves kappa_i > 0 and gradient-aligned updates")

#: population, generations, training steps per genome, eta, lambda
#: (hidden: the student's hidden width, i.e. the genome's length)
SETTINGS = {"quick": dict(population=8, generations=10, steps=400, eta=0.1, leak=0.05,
                          hidden=16),
            "full": dict(population=20, generations=25, steps=400, eta=0.1, leak=0.05,
                         hidden=16)}
KEEP = 0.2
EVALS = 10
SIGMA = 0.2
P_FLIP = 0.02


def evaluate(kappa, task, cfg, seed, bar=None):
    """Train the circuit with gains ``kappa``; (fitness, late cosine, test loss)."""
    rule = Heterosynaptic(lr=cfg["eta"], leak=cfg["leak"],
                          gains=tuple(float(g) for g in kappa))
    sim = make_sim(rule, "ideal", seed, n_hidden=cfg["hidden"])
    steps = cfg["steps"]
    rec = train(sim, lambda k: rule, task, steps, cfg["eta"], cfg["leak"],
                np.random.default_rng([seed, 1]), eval_every=max(1, steps // EVALS),
                measure=True, bar=bar)
    # the test loss averaged over the run's evaluations: final loss and speed of learning
    loss = float(np.mean(rec["test_loss"][1:]))
    cos = float(np.mean(rec["cos"][-max(1, steps // 4):]))
    fitness = -loss if np.isfinite(loss) else -np.inf
    return fitness, cos, loss


def run(quick=False, target="both", seed=0, progress=True):
    """Evolve the gains on the ideal target (the device target is not run: see below)."""
    chosen = targets(target)
    cfg = SETTINGS["quick" if quick else "full"]
    start = time.perf_counter()
    figures, checks = {}, []
    settings = {"quick": quick, "target": target, "seed": seed, **cfg, "keep": KEEP,
                "sigma": SIGMA, "p_sign_flip": P_FLIP, "initial_gains": "N(0, 1)",
                "fitness": "-test loss (512 test points) averaged over 10 evaluations of the run",
                }
    if "ideal" not in chosen:
        figures["skipped"] = ("evolution runs on the ideal target only (a population of "
                              "device-trained networks per generation is too slow here)")
        return ExperimentResult(NAME, figures, checks, settings)
    if "device" in chosen:
        figures["device"] = ("not run: evolution runs on the ideal target only (a population "
                             "of device-trained networks per generation is too slow here)")
    task = make_task(seed)
    rng = np.random.default_rng([seed, 23])
    n, gens = cfg["population"], cfg["generations"]
    n_keep = max(1, int(round(KEEP * n)))
    hidden = cfg["hidden"]
    population = rng.standard_normal((n, hidden))
    cache = [None] * n
    history = {k: [] for k in ("best_fitness", "mean_fitness", "best_loss", "best_cos",
                               "mean_cos", "frac_pos_population", "frac_pos_best",
                               "median_kappa")}
    evaluations = 0
    total = (n + (gens - 1) * (n - n_keep) + 1) * cfg["steps"]
    with progress_bar(total, NAME, enabled=progress) as bar:
        reference = evaluate(np.ones(hidden), task, cfg, seed, bar)
        for g in range(gens):
            for i in range(n):
                if cache[i] is None:
                    cache[i] = evaluate(population[i], task, cfg, seed, bar)
                    evaluations += 1
            fit = np.array([c[0] for c in cache])
            cos = np.array([c[1] for c in cache])
            order = np.argsort(-fit)
            best = order[0]
            history["best_fitness"].append(float(fit[best]))
            history["mean_fitness"].append(float(np.mean(fit[np.isfinite(fit)])))
            history["best_loss"].append(float(cache[best][2]))
            history["best_cos"].append(float(cos[best]))
            history["mean_cos"].append(float(np.mean(cos)))
            history["frac_pos_population"].append(float(np.mean(population > 0)))
            history["frac_pos_best"].append(float(np.mean(population[best] > 0)))
            history["median_kappa"].append(float(np.median(population)))
            bar.note(f"generation {g + 1}/{gens}: best loss {cache[best][2]:.4g}, "
                     f"cos {cos[best]:.3f}, kappa > 0 {np.mean(population > 0):.2f}")
            if g == gens - 1:
                break
            elite = population[order[:n_keep]].copy()
            elite_cache = [cache[i] for i in order[:n_keep]]
            parents = elite[rng.integers(0, n_keep, n - n_keep)]
            children = parents + SIGMA * rng.standard_normal(parents.shape)
            flips = rng.random(children.shape) < P_FLIP
            children[flips] *= -1.0
            population = np.concatenate([elite, children])
            cache = elite_cache + [None] * (n - n_keep)
    best_kappa = population[int(np.argmax([c[0] for c in cache]))]
    figures["ideal"] = {
        "generations": history,
        "kappa_1_reference": {"cos": reference[1], "test_loss": reference[2]},
        "initial": {"frac_pos": history["frac_pos_population"][0],
                    "best_cos": history["best_cos"][0], "best_loss": history["best_loss"][0]},
        "final": {"frac_pos": history["frac_pos_population"][-1],
                  "frac_pos_best": history["frac_pos_best"][-1],
                  "best_cos": history["best_cos"][-1], "best_loss": history["best_loss"][-1],
                  "median_kappa": history["median_kappa"][-1]},
        "best_kappa": best_kappa.tolist(),
        "training_runs": evaluations + 1,
    }
    h, ref = history, reference
    checks.append(check(
        "ideal: the fraction of gains kappa_i > 0 rises toward 1 under selection on loss",
        h["frac_pos_population"][-1] > max(0.6, h["frac_pos_population"][0] + 0.1),
        f"population {h['frac_pos_population'][0]:.2f} -> {h['frac_pos_population'][-1]:.2f}, "
        f"best genome {h['frac_pos_best'][0]:.2f} -> {h['frac_pos_best'][-1]:.2f} over "
        f"{gens} generations"))
    checks.append(check(
        "ideal: the update-gradient cosine of the best genome rises toward the kappa = 1 case",
        h["best_cos"][-1] > h["best_cos"][0] + 0.02,
        f"best genome cos {h['best_cos'][0]:.3f} -> {h['best_cos'][-1]:.3f} (kappa = 1: "
        f"{ref[1]:.3f}); population mean {h['mean_cos'][0]:.3f} -> {h['mean_cos'][-1]:.3f}"))
    checks.append(check(
        "ideal: fitness improves (the best test loss falls)",
        h["best_loss"][-1] < h["best_loss"][0],
        f"best test loss {h['best_loss'][0]:.4g} -> {h['best_loss'][-1]:.4g} (kappa = 1: "
        f"{ref[2]:.4g})"))
    figures["seconds"] = time.perf_counter() - start
    return ExperimentResult(NAME, figures, checks, settings)


def plot(result, path):
    """Fraction of kappa_i > 0, the best genome's cosine and the best test loss per generation,
    and the final best genome's gains."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(18, 4.2))
    data = result.figures.get("ideal")
    if not data:
        for ax in axes:
            ax.set_axis_off()
        axes[0].text(0.5, 0.5, "not run", ha="center")
    else:
        h = data["generations"]
        ref = data["kappa_1_reference"]
        g = np.arange(1, len(h["best_cos"]) + 1)
        axes[0].plot(g, h["frac_pos_population"], "o-", label="population")
        axes[0].plot(g, h["frac_pos_best"], "s--", label="best genome")
        axes[0].set_ylim(0, 1.05)
        axes[0].set_ylabel("fraction of kappa_i > 0")
        axes[0].set_title("Dynamical consistency emerges")
        axes[1].plot(g, h["best_cos"], "o-", label="best genome")
        axes[1].plot(g, h["mean_cos"], "s--", label="population mean")
        axes[1].axhline(ref["cos"], color="k", ls=":", label="kappa = 1")
        axes[1].set_ylabel("cos(dW1, -grad_W1 L), last quarter of training")
        axes[1].set_title("Updates align with the gradient")
        axes[2].plot(g, h["best_loss"], "o-", label="best genome")
        axes[2].plot(g, [-f for f in h["mean_fitness"]], "s--", label="population mean")
        axes[2].axhline(ref["test_loss"], color="k", ls=":", label="kappa = 1")
        axes[2].set_yscale("log")
        axes[2].set_ylabel("test loss, mean over the training run")
        axes[2].set_title("Fitness = -test loss")
        for ax in axes[:3]:
            ax.set_xlabel("generation")
            ax.legend(fontsize=8)
        kappa = np.sort(np.asarray(data["best_kappa"]))
        axes[3].bar(np.arange(kappa.size), kappa, color=np.where(kappa > 0, "C0", "C3"))
        axes[3].axhline(0.0, color="k", lw=0.5)
        axes[3].set_xlabel("hidden neuron (sorted by gain)")
        axes[3].set_ylabel("kappa_i")
        axes[3].set_title("Best genome of the last generation")
    fig.tight_layout()
    out = save_figure(fig, path)
    plt.close(fig)
    return out
