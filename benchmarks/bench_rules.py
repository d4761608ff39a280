"""Training throughput (samples/s) of each learning rule on a 256-wide network.

Workload: a 64-256-16 tanh MLP (:func:`hwsim.networks.mlp`, no biases) trained by
:class:`hwsim.Trainer` with batch 16 on a teacher-student regression task
(:func:`hwsim.tasks.teacher_student`, 64 inputs, a 32-unit tanh teacher, 16 outputs), once
per rule and target:

- rules: ``PulsedSGD`` (backprop errors from transposed reads), ``Heterosynaptic`` (errors
  through a plastic dendritic tile ``B(W2)``, leak on every weight), ``FeedbackAlignment``
  (fixed random ``B(W2)``), ``Hebbian`` and ``Oja`` (no backward pass: correlation updates
  of every read tile of the same network, from its forward reads). Supervised rules use
  lr 0.05, the unsupervised ones lr 1e-4. Hebb's rule is unbounded: on the ideal target
  the weights grow (about e^0.8 per full epoch here, finite over the run, and float cost
  does not depend on magnitudes); on devices the conductance bounds stop them. The
  unsupervised rules do not learn the task; their losses are recorded only to show
  nothing diverged. On the device target an update's cost grows with its pulse count,
  which depends on the rule's learning rate and signals, so ``pulses_per_epoch`` is
  recorded next to each figure;
- targets: ``ideal`` (float64 tiles) and ``device`` (``ecram`` preset devices, 8-bit DAC
  and ADC: ``IOConfig(inp_res=1/254, out_res=1/254)``, every other IO and update
  parameter at its default; feedback tiles take the forward tile's device and periphery).

An epoch is one :meth:`Trainer.fit` epoch: every training batch (forward, loss, backward if
the rule needs it, the rule's update) plus the test pass and the trainer's per-epoch state
snapshot. Each trainer first runs one untimed warm-up epoch (numba compilation, caches);
then the rules of a target are timed round-robin, one epoch each per round, for
``--repeats`` rounds, so that a slow spell of the machine hits every rule alike and the
ratios to PulsedSGD compare epochs measured side by side. ``samples_per_s`` is
``n_train / median epoch seconds``; ``train_samples_per_s`` subtracts the median test-pass
time (measured after training). ``ratio_vs_pulsed_sgd`` is a rule's ``samples_per_s`` over
PulsedSGD's on the same target in the same run.

Threads: numba and numpy's OpenBLAS at ``--threads`` (default 1: the figures of one core,
robust on a shared 2-core machine). ``os.getloadavg()`` is recorded before and after, and the
CPU cores other processes used during each target's timed rounds (``other_processes_cores``,
from ``/proc/stat``); before each target the run waits up to ``--wait-quiet`` seconds for
other processes to use less than 0.25 cores.

Usage::

    python benchmarks/bench_rules.py [--quick] [--repeats 7] [--threads 1] [--wait-quiet 60]
                                     [--out benchmarks/results/bench_rules.json]
"""

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numba
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import hwsim  # noqa: E402
from bench_train import (CONTENDED_CORES, OtherLoad, _source_state,  # noqa: E402
                         set_threads, wait_quiet)
from hwsim.errors import DivergenceError  # noqa: E402
from hwsim.io import IOConfig  # noqa: E402
from hwsim.io_utils import write_json  # noqa: E402
from hwsim.networks import mlp  # noqa: E402
from hwsim.rules import FeedbackAlignment, Hebbian, Heterosynaptic, Oja, PulsedSGD  # noqa: E402
from hwsim.tasks import teacher_student  # noqa: E402

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "bench_rules.json"
SIZES = [64, 256, 16]
DEVICE = "ecram"
IO_8BIT = {"inp_res": 1.0 / 254, "out_res": 1.0 / 254}
BATCH = 16
TARGETS = ("ideal", "device")
BASELINE = "pulsed-sgd"


def rules():
    """The rules measured, by registry name, in measurement order (PulsedSGD first)."""
    return {
        "pulsed-sgd": PulsedSGD(lr=0.05),
        "heterosynaptic": Heterosynaptic(lr=0.05, leak=0.05),
        "feedback-alignment": FeedbackAlignment(lr=0.05),
        "hebbian": Hebbian(lr=1e-4),
        "oja": Oja(lr=1e-4),
    }


def workload(quick=False):
    """Task sizes: 2048 training samples (256 with ``quick``), 128 (64) test samples."""
    n_train, n_test = (256, 64) if quick else (2048, 128)
    return teacher_student(n_in=SIZES[0], n_out=SIZES[-1], n_hidden=32, n_train=n_train,
                           n_test=n_test, seed=0)


def network(target):
    """The 64-256-16 tanh MLP; ECRAM tiles with 8-bit IO on the device target."""
    if target == "device":
        return mlp(SIZES, "tanh", device=DEVICE, io=IOConfig(**IO_8BIT))
    return mlp(SIZES, "tanh")


def _epoch(trainer):
    """One more epoch of ``trainer``; its wall seconds, or None if it diverged."""
    trainer.epochs += 1  # fit() runs the epochs still missing: exactly one
    t0 = time.perf_counter()
    try:
        trainer.fit()
    except DivergenceError:
        trainer.epochs -= 1
        return None
    return time.perf_counter() - t0


def measure_target(target, task, repeats):
    """Samples/s of every rule on ``target``, timed round-robin after a warm-up epoch each.

    Returns
    -------
    dict
        Per rule name: ``samples_per_s``, ``train_samples_per_s``, ``median_epoch_s``,
        ``epoch_seconds``, ``median_test_s``, ``pulses_per_epoch`` (median), losses and
        ``diverged``; plus ``other_processes_cores`` of the timed rounds.
    """
    trainers = {}
    for name, rule in rules().items():
        trainers[name] = hwsim.Trainer(network(target), task, rule, target=target, epochs=0,
                                       batch_size=BATCH, seed=0, progress=False)
    diverged = {name: False for name in trainers}
    for name, trainer in trainers.items():  # warm-up, untimed
        diverged[name] |= _epoch(trainer) is None
    times = {name: [] for name in trainers}
    with OtherLoad() as other:
        for _ in range(repeats):
            for name, trainer in trainers.items():
                seconds = _epoch(trainer)
                if seconds is None:
                    diverged[name] = True
                else:
                    times[name].append(seconds)
    n_train = task.x_train.shape[0]
    rows = {}
    for name, trainer in trainers.items():
        test_times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            trainer.evaluate()
            test_times.append(time.perf_counter() - t0)
        hist = trainer.history
        timed = times[name]
        row = {"rule": trainer.rule.to_dict(), "epochs_timed": len(timed),
               "epoch_seconds": timed, "median_test_s": statistics.median(test_times),
               "diverged": diverged[name],
               "pulses_per_epoch": (statistics.median(h["pulses"] for h in hist[1:])
                                    if len(hist) > 1 else None),
               "first_train_loss": hist[0]["train_loss"] if hist else None,
               "final_train_loss": hist[-1]["train_loss"] if hist else None,
               "final_test_nrmse": hist[-1]["test_metric"] if hist else None}
        if timed:
            epoch_s = statistics.median(timed)
            row.update(median_epoch_s=epoch_s, min_epoch_s=min(timed),
                       samples_per_s=n_train / epoch_s,
                       train_samples_per_s=n_train / max(epoch_s - row["median_test_s"],
                                                         1e-12))
        rows[name] = row
    base = rows[BASELINE].get("samples_per_s")
    base_train = rows[BASELINE].get("train_samples_per_s")
    for row in rows.values():
        sps, tsps = row.get("samples_per_s"), row.get("train_samples_per_s")
        row["ratio_vs_pulsed_sgd"] = sps / base if sps and base else None
        row["train_ratio_vs_pulsed_sgd"] = tsps / base_train if tsps and base_train else None
    return {"rules": rows, "other_processes_cores": other.cores}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="256 training samples and 2 repeats (a smoke run)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed epochs per rule (default 7, quick 2)")
    parser.add_argument("--threads", type=int, default=1, help="numba and BLAS threads")
    parser.add_argument("--wait-quiet", type=float, default=60.0,
                        help="seconds to wait for a quiet machine before each target")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    repeats = args.repeats if args.repeats is not None else (2 if args.quick else 7)
    if repeats < 1:
        parser.error(f"--repeats must be >= 1, got {repeats}")
    pools = set_threads(args.threads)
    load_before = os.getloadavg()
    task = workload(args.quick)
    results = {}
    for target in TARGETS:
        quiet = wait_quiet(0.0 if args.quick else args.wait_quiet)
        results[target] = measure_target(target, task, repeats)
        results[target]["other_processes_cores_before"] = quiet
        other = results[target]["other_processes_cores"]
        # other processes busy >= 0.25 cores on average while the rounds ran: read the
        # absolute figures with care (the round-robin ratios suffer less)
        results[target]["contended"] = bool(other is not None and other >= CONTENDED_CORES)
        for name, row in results[target]["rules"].items():
            sps = row.get("samples_per_s")
            ratio = row.get("ratio_vs_pulsed_sgd")
            print(f"{target:6s} {name:19s} "
                  + (f"{sps:9.0f} samples/s  x{ratio:.2f} vs pulsed-sgd" if sps else
                     "no timed epoch (diverged)")
                  + f"  pulses/epoch {row['pulses_per_epoch']}", flush=True)
    doc = {
        "benchmark": "bench_rules",
        "workload": {"network": f"{'-'.join(map(str, SIZES))} tanh MLP, no bias "
                                "(hwsim.networks.mlp)",
                     "task": repr(task), "n_train": int(task.x_train.shape[0]),
                     "n_test": int(task.x_test.shape[0]), "batch_size": BATCH,
                     "device_target": {"device": DEVICE, "io": IO_8BIT,
                                       "update": "UpdateConfig() defaults"},
                     "epoch": "Trainer.fit epoch: all training batches (forward, loss, "
                              "backward if needed, rule update) + test pass + state snapshot"},
        "statistic": "n_train / median epoch wall seconds over `repeats` epochs per rule, "
                     "after one untimed warm-up epoch each; rules timed round-robin",
        "repeats": repeats, "quick": args.quick, "threads": pools,
        "results": results,
        "ratio_vs_pulsed_sgd": {t: {n: r["ratio_vs_pulsed_sgd"]
                                    for n, r in results[t]["rules"].items()}
                                for t in TARGETS},
        "source": _source_state(),
        "machine": {"cpu_count": os.cpu_count(),
                    "numba_threads": numba.config.NUMBA_NUM_THREADS,
                    "python": platform.python_version(), "numba": numba.__version__,
                    "numpy": np.__version__, "platform": platform.platform(),
                    "hwsim": hwsim.__version__,
                    "loadavg_before": list(load_before),
                    "loadavg_after": list(os.getloadavg())},
    }
    path = write_json(args.out, doc)
    print(f"wrote {path}")
    return doc


if __name__ == "__main__":
    main()
