"""Pulsed-update throughput of every device family, with aihwkit side by side where set up.

Workload (the issue's): a 512 x 512 array, batch 64, pulse trains of BL = 31 (fixed length,
update management on), x and d uniform in [-1, 1], lr = dw_min so the expected number of
coincidences per cell and sample is lr |x| |d| / dw_min = 1/4 (16 pulses per cell per call).
Each family is measured with one numba thread and with all threads; the figure is
cell-updates per second = rows * cols * batch / (median seconds per update call).

Also reported per family:

* pulses actually applied per call, and the memory-traffic floor of those pulses: every
  (cell, sample) pair with at least one coincidence must read and write its weight and read
  its step and bounds (40 bytes); with the copy bandwidth measured in this run that gives a
  lower bound on the time of the pulse application alone;
* the mean-change check: the regression slope of the change after one update from zero
  weights on the target ``-lr d^T x`` (1 for an unbiased update in the linear regime).

If the aihwkit peer environment exists (``bash benchmarks/setup_aihwkit_peer.sh``), the same
configuration runs in aihwkit's CPU AnalogTile in a subprocess (this project never imports
torch), and the JSON gets aihwkit's throughput, the ratio, and both slopes.

Usage::

    python benchmarks/bench_update.py [--repeats 5] [--out benchmarks/results/bench_update.json]
                                      [--families ConstantStep,SoftBounds] [--quick]
"""

import argparse
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
from hwsim.io_utils import write_json  # noqa: E402

PEER_VENV = Path(os.environ.get("HWSIM_AIHWKIT_VENV",
                                Path.home() / ".cache" / "hwsim" / "aihwkit-venv"))
PEER_SCRIPT = ROOT / "benchmarks" / "aihwkit_peer.py"
BYTES_PER_TOUCH = 40  # w read + write, dw, bmin, bmax (float64)


def family_configs(dw_min):
    """One configuration per family with its standard defaults except the step size."""
    return {cls.__name__: cls(dw_min=dw_min) for cls in devices.FAMILIES}


def copy_bandwidth(repeats):
    """Bytes per second of a large numpy copy (read + write), median over repeats."""
    src = np.random.default_rng(0).random(16_000_000)
    dst = np.empty_like(src)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        np.copyto(dst, src)
        times.append(time.perf_counter() - t)
    return 2 * src.nbytes / statistics.median(times)


def touched_pairs(arr, x, d, lr, params):
    """(cell, sample) pairs that receive at least one coincidence, from the same trains."""
    bl, p_x, p_d = devices.pulse_probabilities(x, d, lr, arr.model.granularity, params)
    # expected count; the exact figure would need the private trains, this is its mean
    p_any = 1.0 - (1.0 - p_d[:, :, None] * p_x[:, None, :]) ** bl[:, None, None]
    return float(p_any.sum())


def measure_hwsim(model, x_list, d_list, lr, params, repeats, threads):
    numba.set_num_threads(threads)
    rows, cols = d_list[0].shape[1], x_list[0].shape[1]
    arr = model.realize((rows, cols), seed=0)
    arr.update(x_list[0], d_list[0], lr, params)  # compile / load
    times, pulses = [], []
    for k in range(repeats):
        x, d = x_list[1 + k % (len(x_list) - 1)], d_list[1 + k % (len(d_list) - 1)]
        t = time.perf_counter()
        up, down = arr.update(x, d, lr, params)
        times.append(time.perf_counter() - t)
        pulses.append(up + down)
    med = statistics.median(times)
    return {"threads": threads, "median_s": med, "min_s": min(times),
            "cell_updates_per_s": rows * cols * x_list[0].shape[0] / med,
            "pulses_per_call": float(np.mean(pulses))}


def slope_single_update(model, x, d, lr, params):
    arr = model.realize((d.shape[1], x.shape[1]), seed=1)
    before = arr.hidden_weights
    arr.update(x, d, lr, params)
    dw = arr.hidden_weights - before
    expected = -lr * d.T @ x
    return float((dw * expected).sum() / (expected * expected).sum())


def run_peer(name, model, rows, cols, batch, lr, repeats, threads):
    py = PEER_VENV / "bin" / "python"
    if not py.exists():
        return {"status": "not set up (bash benchmarks/setup_aihwkit_peer.sh)"}
    cfg = {"device": {"class": model.aihwkit_name, "dw_min": model.dw_min},
           "update": {"desired_bl": 31, "fixed_bl": True, "update_bl_management": False,
                      "update_management": True},
           "rows": rows, "cols": cols, "batch": batch, "lr": lr, "repeats": repeats,
           "threads": threads, "seed": 0}
    with tempfile.TemporaryDirectory() as tmp:
        cfg_path, out_path = Path(tmp) / "cfg.json", Path(tmp) / "out.json"
        cfg_path.write_text(json.dumps(cfg))
        proc = subprocess.run([str(py), str(PEER_SCRIPT), "--config", str(cfg_path), "--out",
                               str(out_path)], capture_output=True, text=True, timeout=3600)
        if proc.returncode != 0:
            return {"status": "failed", "stderr": proc.stderr[-2000:]}
        out = json.loads(out_path.read_text())
    out.pop("dw", None)
    out.pop("expected", None)
    out["status"] = "ok"
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "bench_update.json"))
    ap.add_argument("--families", default="", help="comma-separated subset")
    ap.add_argument("--quick", action="store_true", help="64x64, batch 8, 2 repeats")
    ap.add_argument("--no-peer", action="store_true", help="skip aihwkit even if set up")
    args = ap.parse_args(argv)

    rows = cols = 64 if args.quick else 512
    batch = 8 if args.quick else 64
    repeats = 2 if args.quick else args.repeats
    dw_min = 0.001
    lr = dw_min
    params = devices.UpdateParameters(desired_bl=31, fixed_bl=True, update_bl_management=False,
                                      update_management=True)
    gen = np.random.default_rng(0)
    x_list = [gen.uniform(-1, 1, (batch, cols)) for _ in range(4)]
    d_list = [gen.uniform(-1, 1, (batch, rows)) for _ in range(4)]
    all_threads = numba.config.NUMBA_NUM_THREADS
    bandwidth = copy_bandwidth(max(repeats, 3))

    configs = family_configs(dw_min)
    if args.families:
        configs = {k: v for k, v in configs.items() if k in args.families.split(",")}
    results = []
    for name, model in configs.items():
        row = {"family": name, "aihwkit_class": model.aihwkit_name}
        row["hwsim"] = [measure_hwsim(model, x_list, d_list, lr, params, repeats, t)
                        for t in sorted({1, all_threads})]
        touched = touched_pairs(model.realize((rows, cols), seed=0), x_list[1], d_list[1], lr,
                                params)
        row["touched_pairs_per_call"] = touched
        row["memory_floor_s"] = touched * BYTES_PER_TOUCH / bandwidth
        row["slope_hwsim"] = slope_single_update(model, x_list[0], d_list[0], lr, params)
        if not args.no_peer:
            row["aihwkit"] = [run_peer(name, model, rows, cols, batch, lr, max(repeats, 3), t)
                              for t in sorted({1, all_threads})]
            for ours, theirs in zip(row["hwsim"], row["aihwkit"]):
                if theirs.get("status") == "ok":
                    ours["ratio_vs_aihwkit"] = (ours["cell_updates_per_s"]
                                                / theirs["cell_updates_per_s"])
        results.append(row)
        line = "  ".join(f"{r['threads']}T {r['cell_updates_per_s']:.3g}/s"
                         + (f" ({r['ratio_vs_aihwkit']:.1f}x aihwkit)"
                            if "ratio_vs_aihwkit" in r else "") for r in row["hwsim"])
        print(f"{name:20s} {line}  slope {row['slope_hwsim']:.3f}  "
              f"floor {row['memory_floor_s'] * 1e3:.2f} ms", flush=True)
    numba.set_num_threads(all_threads)

    doc = {"benchmark": "pulsed outer-product update throughput",
           "workload": {"rows": rows, "cols": cols, "batch": batch, "desired_bl": 31,
                        "fixed_bl": True, "update_management": True, "lr": lr,
                        "dw_min": dw_min, "inputs": "x, d uniform in [-1, 1]"},
           "repeats": repeats, "statistic": "median seconds per update call",
           "copy_bandwidth_bytes_per_s": bandwidth,
           "machine": {"cpu_count": os.cpu_count(), "numba_threads": all_threads,
                       "python": platform.python_version(), "numba": numba.__version__,
                       "numpy": np.__version__, "platform": platform.platform()},
           "results": results}
    write_json(args.out, doc)
    print(f"wrote {args.out}")
    return doc


if __name__ == "__main__":
    main()
