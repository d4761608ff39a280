"""Training throughput (samples/s) of the default network, hwsim against aihwkit.

Workload: issue 3's default network and task (:data:`hwsim.experiments.run_config.MLP_RUN`): Mackey-Glass
one-step prediction from a window of 8 past values, a 8-64-1 tanh MLP of ECRAM tiles
(``EcRamPresetDevice``) without biases, 8-bit DAC and ADC (``inp_res = out_res = 1/254``,
every other IO parameter at aihwkit's default, the same for forward and backward reads),
``UpdateParameters`` defaults (BL 31, update and BL management on), pulsed SGD with
lr 0.05, batch 16, 4000 training and 500 test samples.

An epoch is one epoch of :class:`hwsim.Trainer` (``target="device"``): every training
batch (forward, loss, analog backward, pulsed update) in the shuffled order of that epoch,
then the test pass. Throughput is ``n_train / median(epoch seconds)`` over ``--repeats``
epochs after one untimed warm-up epoch (numba compilation), with ``numba.set_num_threads``
(and numpy's OpenBLAS) at 1 and at 2 threads. The ideal target (float64 tiles) of the same
network is measured the same way as the baseline of what a plain float network costs.

If the aihwkit peer environment exists (``bash benchmarks/setup_aihwkit_peer.sh``), the
same task data, initial weights, batch order, device, IO and update parameters run in
aihwkit's ``AnalogSequential`` with ``AnalogSGD`` (``benchmarks/aihwkit_train_peer.py``, in
a subprocess: this project never imports torch), and the JSON gets both throughputs, their
ratio at equal thread count (issue 3 targets at least 5x) and the final losses of both (a
check that both learn).

Contention: with 2 threads on a 2-core machine one busy neighbour can slow an epoch tenfold
(a spinning thread pool waits for a core), so each measurement waits for the machine to
quiet down (``--wait-quiet``), records the CPU cores other processes used while it ran
(``other_processes_cores``, from ``/proc/stat``), and is taken again when that was >= 0.25
(``--retries``); what is still contended is listed under ``machine.contended``.

Usage::

    python benchmarks/bench_train.py [--quick] [--repeats 7] [--wait-quiet 120] [--retries 2]
                                     [--out benchmarks/results/bench_train.json]
"""

import argparse
import ctypes
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import devices  # noqa: E402
import hwsim  # noqa: E402
from hwsim.experiments.run_config import MLP_RUN, RunConfig  # noqa: E402
from hwsim.experiments.main_run import build_graph  # noqa: E402
from hwsim.io_utils import write_json  # noqa: E402

PEER_VENV = Path(os.environ.get("HWSIM_AIHWKIT_VENV",
                                Path.home() / ".cache" / "hwsim" / "aihwkit-venv"))
PEER_SCRIPT = ROOT / "benchmarks" / "aihwkit_train_peer.py"
SETUP_HINT = "bash benchmarks/setup_aihwkit_peer.sh"
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "bench_train.json"
TARGET_RATIO = 5.0  # issue 3: at least 5x aihwkit's samples/s at equal threads
CONTENDED_CORES = 0.25  # other processes' average use above which a figure is retaken
LEARNS_NRMSE = 0.5  # predicting the mean scores 1; a network that learned is well below


# ------------------------------------------------------------------ setup
def run_config(quick=False):
    """The default run's configuration; ``quick`` shrinks the data, not the network.

    Parameters
    ----------
    quick : bool
        800 training and 100 test samples instead of 4000 and 500 (the network, device,
        IO, update, rule and batch size stay the default run's).

    Returns
    -------
    hwsim.config.RunConfig
    """
    if not quick:
        return RunConfig.from_dict(MLP_RUN)
    # [task] is replaced whole by from_dict, so the quick task repeats the default's keys
    return RunConfig.from_dict({**MLP_RUN, "task": {**MLP_RUN["task"], "n_train": 800,
                                         "n_test": 100}})


def thread_counts():
    """1 and 2 threads, capped by numba's pool (the issue compares at equal threads)."""
    return sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)})


def _openblas():
    """numpy's bundled OpenBLAS as ``(set, get)`` ctypes functions, or None.

    threadpoolctl is not a dependency of hwsim, and numpy has no API for its BLAS pool,
    so the wheel's ``scipy_openblas`` library (the one numpy already loaded) is called
    directly; any other BLAS build is left alone and reported as unknown.
    """
    libdir = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for path in sorted(glob.glob(str(libdir / "libscipy_openblas*.so*"))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for suffix in ("64_", "_64_", ""):
            setter = getattr(lib, f"scipy_openblas_set_num_threads{suffix}", None)
            getter = getattr(lib, f"scipy_openblas_get_num_threads{suffix}", None)
            if setter is not None and getter is not None:
                setter.argtypes, setter.restype = [ctypes.c_int], None
                getter.argtypes, getter.restype = [], ctypes.c_int
                return setter, getter
    return None


def set_threads(threads):
    """Set numba's and (when reachable) numpy's OpenBLAS thread counts.

    Parameters
    ----------
    threads : int
        Between 1 and ``numba.config.NUMBA_NUM_THREADS``.

    Returns
    -------
    dict
        ``numba_threads`` and ``blas_threads`` as set (``None`` when numpy's BLAS pool
        could not be reached).
    """
    top = numba.config.NUMBA_NUM_THREADS
    if not isinstance(threads, int) or not 1 <= threads <= top:
        raise ValueError(f"bench_train: threads must be an int between 1 and numba's pool "
                         f"size {top} (NUMBA_NUM_THREADS), got {threads!r}")
    numba.set_num_threads(threads)
    blas = _openblas()
    if blas is not None:
        blas[0](threads)
    return {"numba_threads": numba.get_num_threads(),
            "blas_threads": blas[1]() if blas is not None else None}


class OtherLoad:
    """CPU cores used by OTHER processes while a block runs (Linux ``/proc/stat``).

    The load average cannot tell a measurement's own threads from other processes', and
    a 2-thread measurement on a 2-core machine is ruined by one busy neighbour (OpenMP
    pools spin and then sleep). This counts the machine's busy CPU seconds over the block
    minus this process's and its children's, per wall second. ``cores`` is None where
    ``/proc/stat`` is unavailable.

    Examples
    --------
    >>> with OtherLoad() as load:
    ...     pass
    >>> load.cores is None or load.cores >= -0.5
    True
    """

    _TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    @staticmethod
    def _busy_seconds():
        try:
            with open("/proc/stat", encoding="ascii") as fh:
                fields = fh.readline().split()
        except OSError:
            return None
        # user nice system idle iowait irq softirq steal ...: idle and iowait are not busy
        ticks = [int(v) for v in fields[1:9]]
        return (sum(ticks) - ticks[3] - ticks[4]) / OtherLoad._TICK

    @staticmethod
    def _own_seconds():
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def __enter__(self):
        self.cores = None
        self._busy, self._own, self._wall = (self._busy_seconds(), self._own_seconds(),
                                             time.perf_counter())
        return self

    def __exit__(self, *exc):
        busy = self._busy_seconds()
        if busy is not None and self._busy is not None:
            wall = max(time.perf_counter() - self._wall, 1e-9)
            own = self._own_seconds() - self._own
            self.cores = (busy - self._busy - own) / wall
        return False


def wait_quiet(max_wait, threshold=CONTENDED_CORES, window=3.0):
    """Wait (up to ``max_wait`` seconds) until other processes use < ``threshold`` cores.

    Returns the last measured other load (cores), or None without ``/proc/stat``.
    """
    deadline = time.monotonic() + max(0.0, max_wait)
    while True:
        with OtherLoad() as load:
            time.sleep(window)
        if load.cores is None or load.cores < threshold or time.monotonic() >= deadline:
            return load.cores


# ------------------------------------------------------------------ hwsim
def _trainer(config, task, target):
    """A Trainer of the run's network at 0 epochs (epochs are added one at a time)."""
    graph, _ = build_graph(config, task)
    return hwsim.Trainer(graph, task, config.make_rule(), target=target, epochs=0,
                         batch_size=config.train.get("batch_size", 16), seed=config.seed,
                         progress=False)


def _loss_summary(history):
    first, last = history[0], history[-1]
    return {"first_train_loss": first["train_loss"], "final_train_loss": last["train_loss"],
            "final_test_loss": last["test_loss"], "final_test_nrmse": last["test_metric"],
            "learns": bool(last["test_metric"] < LEARNS_NRMSE
                           and last["train_loss"] < first["train_loss"])}


def hwsim_train_throughput(threads, repeats=5, quick=False, target="device"):
    """Samples per second of one ``hwsim.Trainer`` epoch of the default run.

    Parameters
    ----------
    threads : int
        numba (and numpy OpenBLAS) threads.
    repeats : int
        Timed epochs, after one untimed warm-up epoch (numba compilation, caches).
    quick : bool
        The smaller data of :func:`run_config`.
    target : {"device", "ideal"}
        ``"ideal"`` gives the float64 baseline of the same network.

    Returns
    -------
    dict
        ``samples_per_s`` (``n_train / median epoch seconds``, the epoch including the
        Trainer's test pass and state snapshot), ``train_samples_per_s`` (the same with
        the median test-pass time subtracted: the training batches alone), the medians,
        the CPU utilisation of the timed epochs, and the loss summary and history.
    """
    if not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"bench_train: repeats must be an int >= 1, got {repeats!r}")
    pools = set_threads(threads)
    config = run_config(quick)
    task = config.make_task()
    trainer = _trainer(config, task, target)
    n_train = task.x_train.shape[0]
    timed = []
    trainer.epochs = 1  # the warm-up epoch (numba compilation), not timed
    trainer.fit()
    load_avg = os.getloadavg()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    with OtherLoad() as other:
        for _ in range(repeats):
            trainer.epochs += 1  # fit() runs the epochs still missing: exactly one
            t0 = time.perf_counter()
            trainer.fit()
            timed.append(time.perf_counter() - t0)
    # process CPU seconds per wall second over the timed epochs (~1 = one busy core)
    cpu_util = (time.process_time() - cpu0) / max(time.perf_counter() - wall0, 1e-12)
    # the test pass alone, timed after training so that it cannot perturb the epochs
    test_times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        trainer.evaluate()
        test_times.append(time.perf_counter() - t0)
    epoch_s = statistics.median(timed)
    test_s = statistics.median(test_times)
    history = [{k: h[k] for k in ("epoch", "train_loss", "test_loss", "test_metric",
                                  "pulses", "seconds")} for h in trainer.history]
    return {"target": target, "threads": threads, **pools, "n_train": n_train,
            "warmup_epochs": 1, "repeats": repeats, "epoch_seconds": timed,
            "median_epoch_s": epoch_s, "min_epoch_s": min(timed),
            "median_test_s": test_s, "samples_per_s": n_train / epoch_s,
            "train_samples_per_s": n_train / max(epoch_s - test_s, 1e-12),
            "cpu_utilization": cpu_util, "other_processes_cores": other.cores,
            "loadavg_at_start": list(load_avg), **_loss_summary(trainer.history),
            "history": history}


# ------------------------------------------------------------------ aihwkit
def _enum_name(value):
    """hwsim's lower-case option names are aihwkit's enum member names in lower case."""
    return value.upper() if isinstance(value, str) else value


def aihwkit_device_spec(config):
    """The aihwkit device of a run's ``[device]`` table as ``{"class": NAME, ...}``.

    A preset maps to its aihwkit preset class (its values are aihwkit's, see
    :mod:`devices.presets`), a family to its aihwkit class; extra keys are passed on as
    aihwkit field names (hwsim's device fields carry aihwkit's names).
    """
    spec = dict(config.device)
    if "class" in spec:
        return spec
    if "preset" in spec:
        name = spec.pop("preset")
        return {"class": devices.get_preset(name).aihwkit_name, **spec}
    if "family" in spec:
        name = spec.pop("family")
        families = {cls.__name__: cls for cls in devices.FAMILIES}
        return {"class": families[name].aihwkit_name, **spec}
    raise ValueError(f"bench_train: cannot map device {config.device!r} to aihwkit")


def aihwkit_io_params(io):
    """aihwkit ``IOParameters`` fields of an :class:`hwsim.io.IOConfig` (all of them).

    Every field is passed, not only the non-default ones, so that a default that differs
    between the two libraries cannot slip through; the peer reports which fields then
    differ from aihwkit's defaults.
    """
    out = {}
    for name, value in io.to_dict().items():
        if name in ("noise_management", "bound_management", "w_noise_type"):
            value = _enum_name(value)
        elif name == "max_bm_factor" and float(value).is_integer():
            value = int(value)  # an int field in aihwkit (the C++ side takes an int)
        out[name] = value
    return out


def aihwkit_update_params(update):
    """aihwkit ``UpdateParameters`` fields of a :class:`hwsim.tile.UpdateConfig`."""
    return {name: _enum_name(getattr(update, name)) if name == "pulse_type"
            else getattr(update, name) for name in update.field_names()}


def peer_config(config, data_path, threads_list, repeats):
    """The JSON configuration of ``aihwkit_train_peer.py`` for a run configuration."""
    hidden = config.network.get("hidden", [])
    if len(hidden) != 1 or config.network.get("activation", "tanh") != "tanh" \
            or config.network.get("output_activation", "identity") != "identity":
        raise ValueError("bench_train: the aihwkit peer builds Linear-Tanh-Linear only; "
                         f"got network {config.network!r}")
    io = config.make_io()
    return {"data": str(data_path), "hidden": hidden[0],
            "device": aihwkit_device_spec(config),
            # hwsim's mlp gives both reads the same IOConfig (backward_io defaults to io)
            "forward_io": aihwkit_io_params(io), "backward_io": aihwkit_io_params(io),
            "update": aihwkit_update_params(config.make_update()),
            "lr": config.make_rule().lr, "batch_size": config.train.get("batch_size", 16),
            "warmup": 1, "repeats": repeats, "threads": list(threads_list),
            "seed": config.seed}


def aihwkit_train_throughput(threads_list, repeats=5, quick=False):
    """Samples per second of the same training in aihwkit, run in the peer venv.

    Parameters
    ----------
    threads_list : sequence of int
        Thread counts (torch, aihwkit's OpenMP and BLAS pools), one fresh model each.
    repeats : int
        Timed epochs after one warm-up epoch.
    quick : bool
        The smaller data of :func:`run_config`.

    Returns
    -------
    dict
        The peer's JSON (``status`` "ok", per thread count ``samples_per_s`` and losses),
        or ``{"status": "not installed", "hint": ...}`` without the peer venv, or
        ``{"status": "error", "message": ...}`` when the peer failed.
    """
    py = PEER_VENV / "bin" / "python"
    if not py.exists():
        return {"status": "not installed", "hint": SETUP_HINT}
    config = run_config(quick)
    task = config.make_task()
    # the device target's initial weights (what hwsim starts from), so both start equal
    tiles = _trainer(config, task, "device").sim.tiles
    with tempfile.TemporaryDirectory(prefix="bench_train_") as tmp:
        data_path, cfg_path, out_path = (Path(tmp) / n for n in ("data.npz", "cfg.json",
                                                                 "out.json"))
        np.savez(data_path, x_train=task.x_train, y_train=task.y_train, x_test=task.x_test,
                 y_test=task.y_test, w1=tiles["W1"].weights(), w2=tiles["W2"].weights())
        cfg = peer_config(config, data_path, threads_list, repeats)
        cfg_path.write_text(json.dumps(cfg))
        load_avg = os.getloadavg()
        try:
            # the peer's own timing is per epoch; this only watches the neighbours
            with OtherLoad() as other:
                proc = subprocess.run([str(py), str(PEER_SCRIPT), "--config", str(cfg_path),
                                       "--out", str(out_path)], capture_output=True,
                                      text=True, timeout=3600)
        except subprocess.TimeoutExpired:
            return {"status": "error", "message": "aihwkit peer timed out after 3600 s"}
        if not out_path.exists():
            return {"status": "error", "message": f"aihwkit peer exited with code "
                    f"{proc.returncode} and wrote no JSON", "stderr": proc.stderr[-2000:]}
        out = json.loads(out_path.read_text())
    if out.get("status") != "ok":
        out.setdefault("status", "error")
        out["stderr"] = proc.stderr[-2000:]
        return out
    out["config_sent"] = {k: v for k, v in cfg.items() if k != "data"}
    # averaged over the whole subprocess, start-up and imports included
    out["other_processes_cores"] = other.cores
    out["loadavg_at_start"] = list(load_avg)
    for row in out["results"]:
        row["learns"] = bool(row["final_test_nrmse"] < LEARNS_NRMSE
                             and row["final_train_loss"] < row["history"][0]["train_loss"])
        row["first_train_loss"] = row["history"][0]["train_loss"]
    return out


# ------------------------------------------------------------------ main
def _ratios(ours, theirs):
    """hwsim over aihwkit at each thread count both sides measured."""
    by_threads = {r["threads"]: r for r in theirs}
    out = []
    for row in ours:
        peer = by_threads.get(row["threads"])
        if peer is None:
            continue
        ratio = row["samples_per_s"] / peer["samples_per_s"]
        out.append({"threads": row["threads"], "ratio_samples_per_s": ratio,
                    "ratio_train_samples_per_s": row["train_samples_per_s"]
                    / peer["train_samples_per_s"],
                    "meets_target": bool(ratio >= TARGET_RATIO)})
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="800 training / 100 test samples, 2 repeats")
    ap.add_argument("--repeats", type=int, default=7, help="timed epochs (default 7)")
    ap.add_argument("--wait-quiet", type=float, default=120.0, metavar="SECONDS",
                    help="before each measurement wait up to this long for other processes "
                         "to use < 0.25 cores (default 120; 0: do not wait)")
    ap.add_argument("--retries", type=int, default=2,
                    help="measure again (after waiting) when other processes used >= 0.25 "
                         "cores during a measurement, up to this many times (default 2)")
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--no-peer", action="store_true", help="skip aihwkit even if set up")
    args = ap.parse_args(argv)
    repeats = 2 if args.quick else args.repeats
    if repeats < 1:
        ap.error(f"--repeats must be >= 1, got {repeats}")
    if args.retries < 0:
        ap.error(f"--retries must be >= 0, got {args.retries}")
    threads = thread_counts()
    load_before = os.getloadavg()
    quiet, discarded = {}, []

    def measure(name, run):
        """``run()`` after the machine settles, again if a neighbour disturbed it."""
        for attempt in range(1 + args.retries):
            # 2 threads on a 2-core machine: one busy neighbour ruins the figure (a
            # spinning thread pool then waits for a core), so start when it is quiet
            if args.wait_quiet > 0:
                quiet[name] = wait_quiet(args.wait_quiet)
            result = run()
            other = result.get("other_processes_cores")
            if other is None or other < CONTENDED_CORES or attempt == args.retries:
                return result
            discarded.append({"measurement": name, "other_processes_cores": other})
            print(f"{name}: other processes used {other:.2f} cores, measuring again",
                  flush=True)
        raise AssertionError("unreachable")

    device_rows, ideal_rows = [], []
    for target, rows in (("device", device_rows), ("ideal", ideal_rows)):
        for t in threads:
            row = measure(f"hwsim {target} {t}T", lambda t=t, target=target:
                          hwsim_train_throughput(t, repeats, args.quick, target=target))
            rows.append(row)
            print(f"hwsim {target:6s} {t}T: {row['samples_per_s']:,.0f} samples/s (epoch "
                  f"{row['median_epoch_s'] * 1e3:.1f} ms), final train loss "
                  f"{row['final_train_loss']:.4g}, test NRMSE {row['final_test_nrmse']:.4f}",
                  flush=True)
    set_threads(numba.config.NUMBA_NUM_THREADS)

    if args.no_peer:
        peer = {"status": "skipped (--no-peer)"}
    else:
        peer = measure("aihwkit", lambda: aihwkit_train_throughput(threads, repeats,
                                                                   args.quick))
    ratios = _ratios(device_rows, peer["results"]) if peer.get("status") == "ok" else []
    if peer.get("status") == "ok":
        for r in ratios:
            print(f"{r['threads']}T: hwsim / aihwkit = {r['ratio_samples_per_s']:.1f}x "
                  f"(target >= {TARGET_RATIO:g}x)")
    else:
        print(f"aihwkit: {peer.get('status')} {peer.get('hint', peer.get('message', ''))}")

    config = run_config(args.quick)
    task = config.make_task()
    doc = {
        "benchmark": "training throughput of the default network (samples/s)",
        "issue": "3: at least 5x aihwkit's AnalogSequential at equal threads",
        "workload": {"task": repr(task), "network": "8-64-1 tanh MLP, no bias (hwsim "
                     "networks.mlp; aihwkit AnalogSequential(AnalogLinear, Tanh, "
                     "AnalogLinear))", "config": config.to_dict(),
                     "epoch": "all training batches (forward, loss, backward, update) in "
                     "the epoch's shuffled order + one pass over the test split",
                     "loss": "sum((y - t)**2) / (2 B) on both sides"},
        "statistic": "n_train / median wall seconds of an epoch, after one warm-up epoch",
        "repeats": repeats, "quick": args.quick,
        "hwsim": {"version": hwsim.__version__, "device": device_rows, "ideal": ideal_rows},
        "aihwkit": peer,
        "ratio_vs_aihwkit": ratios,
        "target_ratio": TARGET_RATIO,
        "losses": {
            "hwsim_device": {f"{r['threads']}T": _pick_losses(r) for r in device_rows},
            "hwsim_ideal": {f"{r['threads']}T": _pick_losses(r) for r in ideal_rows},
            "aihwkit": ({f"{r['threads']}T": _pick_losses(r) for r in peer["results"]}
                        if peer.get("status") == "ok" else None),
        },
        "source": _source_state(),
        "machine": {"cpu_count": os.cpu_count(), "numba_threads": numba.config.NUMBA_NUM_THREADS,
                    "python": platform.python_version(), "numba": numba.__version__,
                    "numpy": np.__version__, "platform": platform.platform(),
                    "loadavg_before": list(load_before), "loadavg_after": list(os.getloadavg()),
                    "other_processes_cores_before_each": quiet,
                    "discarded_contended_measurements": discarded,
                    "contended": _contended(device_rows + ideal_rows, peer)},
    }
    path = write_json(args.out, doc)
    print(f"wrote {path}")
    return doc


def _source_state():
    """The commit measured and the files changed in the working tree (helpers edit it)."""
    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "HEAD"),
            "modified": status.splitlines() if status else []}


def _contended(rows, peer, threshold=None):
    """Measurements during which other processes used >= ``threshold`` cores on average."""
    threshold = CONTENDED_CORES if threshold is None else threshold
    out = [f"hwsim {r['target']} {r['threads']}T" for r in rows
           if (r.get("other_processes_cores") or 0.0) >= threshold]
    if (peer.get("other_processes_cores") or 0.0) >= threshold:
        out.append("aihwkit")
    return out


def _pick_losses(row):
    return {k: row[k] for k in ("first_train_loss", "final_train_loss", "final_test_loss",
                                "final_test_nrmse", "learns")}


if __name__ == "__main__":
    main()
