"""Read throughput of an AnalogTile next to the plain numpy product, in one run.

Workload: a 512 x 512 AnalogTile with 8-bit DAC and ADC (``IOConfig.from_bits(8, 8)``:
noise management abs_max, iterative bound management, output noise 0.06), the default
ConstantStep device, inputs uniform in [-1, 1]; forward (``W x``) and backward (``W^T d``)
reads at batch 64 and batch 1. The reference is ``x @ W.T`` (``d @ W``) in numpy on the same
arrays, measured in the same process, interleaved with the tile's measurements so that
machine load affects both alike. Each figure is the median over repeats of the mean time
per call of a short inner loop; the ratio is tile / numpy (target: within 2x).

The JSON has one entry per section (today ``reads``; a training-throughput section is meant
to be added as another function in ``SECTIONS``), plus the machine description.

Usage::

    python benchmarks/bench_tile.py [--quick] [--repeats N] [--out PATH]
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

from hwsim.io import IOConfig  # noqa: E402
from hwsim.io_utils import write_json  # noqa: E402
from hwsim.tile import AnalogTile  # noqa: E402

SIZE = 512
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "bench_tile.json"


def _timed(fn, inner):
    """Mean seconds per call of ``fn`` over ``inner`` calls."""
    start = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - start) / inner


def compare(candidate, reference, repeats, inner):
    """Interleaved medians of two callables: (candidate s, reference s, ratio)."""
    for _ in range(3):  # warm-up: compilation, caches, BLAS thread pool
        candidate()
        reference()
    cand, ref = [], []
    for _ in range(repeats):
        cand.append(_timed(candidate, inner))
        ref.append(_timed(reference, inner))
    c, r = statistics.median(cand), statistics.median(ref)
    return {"tile_s": c, "numpy_s": r, "ratio": c / r,
            "tile_spread_s": [min(cand), max(cand)], "numpy_spread_s": [min(ref), max(ref)]}


def read_case(direction, batch, repeats, inner, seed=0):
    """One read measurement of a 512 x 512 tile with 8-bit IO against numpy."""
    tile = AnalogTile(SIZE, SIZE, io=IOConfig.from_bits(8, 8), seed=seed)
    w = tile.weights()
    rng = np.random.default_rng(seed + 1)
    v = rng.uniform(-1.0, 1.0, (batch, SIZE)) if batch > 1 else rng.uniform(-1.0, 1.0, SIZE)
    if direction == "forward":
        result = compare(lambda: tile.forward(v), lambda: v @ w.T, repeats, inner)
    else:
        result = compare(lambda: tile.backward(v), lambda: v @ w, repeats, inner)
    result.update(direction=direction, batch=batch, shape=[SIZE, SIZE],
                  io="IOConfig.from_bits(8, 8)", bm_repeats=tile.counters["bm_repeats"])
    return result


def bench_reads(quick, repeats):
    """Forward and backward reads at batch 64 and 1."""
    cases = []
    for batch, inner in ((64, 10 if quick else 20), (1, 100 if quick else 200)):
        for direction in ("forward", "backward"):
            case = read_case(direction, batch, repeats, inner)
            print(f"  {direction:8s} batch {batch:3d}: tile {case['tile_s'] * 1e6:9.1f} us   "
                  f"numpy {case['numpy_s'] * 1e6:9.1f} us   ratio {case['ratio']:.2f}",
                  flush=True)
            cases.append(case)
    return {"cases": cases, "target_ratio": 2.0,
            "within_target": all(c["ratio"] <= 2.0 for c in cases)}


#: One function per measurement section, each returning a JSON-able dict.
SECTIONS = {"reads": bench_reads}


def machine():
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"python": platform.python_version(), "numpy": np.__version__,
            "numba": numba.__version__, "numba_threads": numba.get_num_threads(),
            "cpus": os.cpu_count(), "platform": platform.platform(),
            "load_average": list(load) if load else None,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="repeats per figure (default 15, quick 3)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help=f"comma-separated subset of {', '.join(SECTIONS)}")
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 15)
    result = {"benchmark": "bench_tile", "quick": args.quick, "repeats": repeats,
              "machine": machine()}
    for name in args.sections.split(","):
        if name not in SECTIONS:
            parser.error(f"unknown section {name!r}; known: {', '.join(SECTIONS)}")
        print(f"{name}:", flush=True)
        result[name] = SECTIONS[name](args.quick, repeats)
    result["machine"]["load_average_after"] = list(os.getloadavg())
    path = write_json(args.out, result)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
