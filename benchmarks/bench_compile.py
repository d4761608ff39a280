"""Compile time of an RK4 ODERNN against its hidden size, onto 256 x 256 tiles.

Workload: ``compiler.ODERNN(hidden=H, inputs=1, outputs=1, method="rk4", step=0.5)`` (the
vanilla cell: ``W`` is H x H, read 4 times per step) compiled with ``tile_size=256`` for
H = 64 ... 4096, ``compiler.compile(spec, target="device", stability=False)``: the front
end, weight draws, tiling, placement, precision, lowering to a built ``hwsim.DeviceGraph``
and the report with its cost prediction. The stability pass is timed separately (its
eigendecomposition is O(H^3): it is a property of the network, not of the compiler's
plumbing) up to ``--stability-max`` (default 1024).

Each figure is the median over ``--repeats`` runs (after one warm-up). Growth exponents are
least-squares slopes of log time against log H and against log (number of weights) over the
sizes from 512 up (below that fixed costs dominate). Target: under 1 s at H = 4096 and
near-linear growth in the number of weights (exponent ~2 in H: the weights themselves are
O(H^2)).

Usage::

    python benchmarks/bench_compile.py [--quick] [--repeats N] [--out PATH]
"""

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import compiler  # noqa: E402
from compiler.passes import stability  # noqa: E402
from hwsim.io_utils import write_json  # noqa: E402

SIZES = (64, 128, 256, 512, 1024, 2048, 4096)
QUICK_SIZES = (64, 256, 1024)
TILE = 256
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "bench_compile.json"


def spec_of(hidden):
    return compiler.ODERNN(hidden=hidden, inputs=1, outputs=1, method="rk4", step=0.5,
                           name=f"rk4-{hidden}")


def time_compile(hidden, repeats):
    spec = spec_of(hidden)
    result = compiler.compile(spec, tile_size=TILE, stability=False)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        compiler.compile(spec, tile_size=TILE, stability=False)
        times.append(time.perf_counter() - start)
    r = result.report
    return {"hidden": hidden, "median_s": statistics.median(times),
            "spread_s": [min(times), max(times)], "repeats": repeats, "tiles": r.tiles,
            "graph_ops": sum(r.graph_ops.values()), "signals": r.signals,
            "weights": r.parameters, "utilisation": r.utilisation,
            "energy_per_step_j": r.cost["energy_j"], "latency_per_step_s": r.cost["latency_s"]}


def time_stability(hidden, repeats):
    spec = spec_of(hidden)
    weights = compiler.initial_weights(spec, 0)[0]
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        verdict = stability.analyse(spec, weights=weights).verdict
        times.append(time.perf_counter() - start)
    return {"hidden": hidden, "median_s": statistics.median(times), "verdict": verdict}


def slope(xs, ys):
    """Least-squares slope of log y against log x."""
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def machine():
    return {"python": platform.python_version(), "numpy": np.__version__,
            "cpus": os.cpu_count(), "platform": platform.platform()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes 64, 256, 1024")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--stability-max", type=int, default=1024,
                        help="largest hidden size whose stability pass is timed")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else SIZES
    rows = []
    for h in sizes:
        row = time_compile(h, args.repeats)
        rows.append(row)
        print(f"hidden {h:5d}: {row['tiles']:4d} tiles, {row['graph_ops']:5d} ops, compile "
              f"{row['median_s'] * 1e3:8.1f} ms (median of {args.repeats})", flush=True)
    fit = [r for r in rows if r["hidden"] >= 512] or rows
    exponents = {"vs_hidden": slope([r["hidden"] for r in fit], [r["median_s"] for r in fit]),
                 "vs_weights": slope([r["weights"] for r in fit],
                                     [r["median_s"] for r in fit]),
                 "fitted_sizes": [r["hidden"] for r in fit]}
    stab = [time_stability(h, min(args.repeats, 3)) for h in sizes if h <= args.stability_max]
    for s in stab:
        print(f"stability pass at hidden {s['hidden']:5d}: {s['median_s'] * 1e3:8.1f} ms "
              f"({s['verdict']})")
    largest = rows[-1]
    result = {"benchmark": "bench_compile", "workload": {
                  "spec": "ODERNN vanilla rk4 step 0.5, inputs 1, outputs 1",
                  "tile_size": TILE, "target": "device", "stability": False},
              "compile": rows, "growth_exponent": exponents, "stability_pass": stab,
              "target": {"hidden": 4096, "max_seconds": 1.0},
              "meets_target": bool(largest["hidden"] == 4096 and largest["median_s"] < 1.0),
              "machine": machine()}
    path = write_json(args.out, result)
    print(f"growth exponent: {exponents['vs_hidden']:.2f} vs hidden, "
          f"{exponents['vs_weights']:.2f} vs weights (sizes {exponents['fitted_sizes']})")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
