"""Refresh the README's performance section from the JSON results in benchmarks/results/.

The section sits between the markers ``<!-- performance:start -->`` and
``<!-- performance:end -->``; everything between them is rewritten, nothing else is touched.
A benchmark whose JSON is missing is listed as not measured. When ``all.json`` (written by
``benchmarks/run_all.py``) is present, the section opens with its short summary: per bench
and baseline, hwsim's speed over the baseline measured in the same run (median and range
over the bench's cases), and any bench that failed.

Usage::

    python benchmarks/readme_table.py [--readme README.md] [--results DIR] [--check]

``--check`` only reports whether the README is up to date (exit status 1 if not).
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
START, END = "<!-- performance:start -->", "<!-- performance:end -->"


def _load(name, results=RESULTS):
    path = Path(results) / name
    return json.loads(path.read_text()) if path.exists() else None


def _rate(x):
    return f"{x:.3g}" if x is not None else "-"


def update_section(data):
    """Markdown lines for bench_update.json."""
    if data is None:
        return ["Pulsed update: not measured (run `python benchmarks/bench_update.py`)."]
    threads = sorted({h["threads"] for r in data["results"] for h in r["hwsim"]})
    head = "| family | " + " | ".join(f"hwsim {t} thr. (cell-upd/s)" for t in threads) \
        + " | aihwkit 1 thr. | ratio 1 thr. | ratio " + f"{threads[-1]} thr. | slope hwsim |"
    lines = [head, "|" + "---|" * (len(threads) + 5)]
    for r in data["results"]:
        by_t = {h["threads"]: h for h in r["hwsim"]}
        peer = {a["threads"]: a for a in r.get("aihwkit") or [] if a.get("status") == "ok"}
        row = [r["family"], *(_rate(by_t[t]["cell_updates_per_s"]) for t in threads),
               _rate(peer.get(1, {}).get("cell_updates_per_s")),
               *(f"{by_t[t]['ratio_vs_aihwkit']:.2f}x"
                 if by_t[t].get("ratio_vs_aihwkit") else "-" for t in (threads[0], threads[-1])),
               f"{r['slope_hwsim']:.3f}"]
        lines.append("| " + " | ".join(row) + " |")
    m = data.get("machine", {})
    lines.append("")
    lines.append(f"512 x 512 array, batch 64, BL 31, lr = dw_min = 0.001 "
                 f"({m.get('cpu_count', '?')} cores, numba {m.get('numba', '?')}); aihwkit "
                 "1.1.0 CPU in the same run, equal thread count. The slope is the regression of "
                 "the realised on the expected change (1 = unbiased).")
    return lines


def tile_section(data):
    """Markdown lines for bench_tile.json."""
    if data is None:
        return ["Tile reads: not measured (run `python benchmarks/bench_tile.py`)."]
    lines = ["| read | batch | tile | numpy matmul | ratio |", "|---|---|---|---|---|"]
    for c in data["reads"]["cases"]:
        lines.append(f"| {c['direction']} | {c['batch']} | {c['tile_s'] * 1e6:.0f} us | "
                     f"{c['numpy_s'] * 1e6:.0f} us | {c['ratio']:.2f}x |")
    lines.append("")
    lines.append("512 x 512 AnalogTile, 8-bit DAC and ADC with output noise "
                 "(`IOConfig.from_bits(8, 8)`), against `x @ W.T` in the same run; target "
                 f"within {data['reads'].get('target_ratio', 2)}x.")
    return lines


def train_section(data):
    """Markdown lines for bench_train.json."""
    if data is None:
        return ["Training throughput: not measured (run `python benchmarks/bench_train.py`)."]
    rows = {}
    for target, runs in data["hwsim"].items():
        if not isinstance(runs, list):
            continue
        for run in runs:
            rows.setdefault(run["threads"], {})[f"hwsim {target}"] = run["samples_per_s"]
    peer = data.get("aihwkit") or {}
    for run in peer.get("results", []):
        rows.setdefault(run["threads"], {})["aihwkit"] = run["samples_per_s"]
    ratios = {r["threads"]: r["ratio_samples_per_s"] for r in data.get("ratio_vs_aihwkit", [])}
    lines = ["| threads | hwsim device (samples/s) | hwsim ideal (float) | aihwkit 1.1.0 | "
             "device / aihwkit |", "|---|---|---|---|---|"]
    for t in sorted(rows):
        r = rows[t]
        lines.append(f"| {t} | {_rate(r.get('hwsim device'))} | {_rate(r.get('hwsim ideal'))} "
                     f"| {_rate(r.get('aihwkit'))} | "
                     f"{f'{ratios[t]:.2f}x' if t in ratios else '-'} |")
    lines.append("")
    lines.append("The perceptron workload (`MLP_RUN`: 8-64-1 tanh, ECRAM, 8-bit IO, batch 16, "
                 "4000 Mackey-Glass samples per epoch), against aihwkit's AnalogSequential with "
                 "the same device, IO and update parameters and the same initial weights; "
                 f"target {data.get('target_ratio', 5)}x.")
    return lines


def compile_section(data):
    """Markdown lines for bench_compile.json."""
    if data is None:
        return ["Compile time: not measured (run `python benchmarks/bench_compile.py`)."]
    lines = ["| hidden | tiles | weights | compile time |", "|---|---|---|---|"]
    for row in data["compile"]:
        lines.append(f"| {row['hidden']} | {row['tiles']} | {row['weights']:,} | "
                     f"{row['median_s'] * 1e3:.1f} ms |")
    g = data.get("growth_exponent", {})
    lines.append("")
    lines.append(f"{data['workload']['spec']} onto {data['workload']['tile_size']}x"
                 f"{data['workload']['tile_size']} tiles, stability pass off (it is "
                 f"O(hidden^3) and timed separately in the JSON). Growth exponent "
                 f"{g.get('vs_weights', float('nan')):.2f} in the number of weights "
                 f"({g.get('vs_hidden', float('nan')):.2f} in hidden size); target under "
                 f"{data['target']['max_seconds']} s at hidden {data['target']['hidden']}.")
    return lines


def _speedup(x):
    return f"{x:.3g}x"


def _figure(value, quantity):
    """A headline figure without a baseline, in the quantity's unit."""
    if quantity.startswith("s per"):
        return f"{value * 1e3:.3g} ms" if value < 1 else f"{value:.3g} s"
    return _rate(value)


def _headline_cell(h):
    if "median_speedup" in h:
        spread = ("" if h["cases"] == 1 else
                  f" ({_speedup(h['min_speedup'])} to {_speedup(h['max_speedup'])})")
        return _speedup(h["median_speedup"]) + spread
    if "min_value" in h:
        low, high = _figure(h["min_value"], h["quantity"]), _figure(h["max_value"],
                                                                    h["quantity"])
        return low if low == high else f"{low} to {high}"
    return "-"


def summary_section(data):
    """Markdown lines for all.json (benchmarks/run_all.py): one row per bench and baseline,
    then the benches that failed. None when there is no all.json."""
    if data is None:
        return None
    lines = ["| benchmark | figure | against | cases | hwsim speed / baseline's: median "
             "(range); without a baseline, the figure |", "|---|---|---|---|---|"]
    for h in data.get("headlines", []):
        against = h["baseline"] or "-"
        lines.append(f"| `{h['bench']}` | {h['quantity']} | {against} | {h['cases']} | "
                     f"{_headline_cell(h)} |")
    benches = data.get("benches", {})
    failed = {n: e for n, e in benches.items() if e.get("status") != "ok"}
    for name, entry in failed.items():
        err = entry.get("error") or {}
        lines.append(f"| `{name}` | failed: {err.get('message', '?')} | - | - | - |")
    lines.append("")
    kind = "quick (smoke sizes)" if data.get("quick") else "full"
    how = "collected from the bench JSONs" if data.get("collected") else f"{kind} run"
    lines.append(f"`python benchmarks/run_all.py`: {len(benches)} benches "
                 f"({len(benches) - len(failed)} ok), {how}, {data.get('created', '?')[:10]}; "
                 "speed vs baseline > 1x means hwsim is faster (time ratios inverted); every "
                 "figure, with the aihwkit, numpy, float and QuTiP baselines, is in "
                 "`benchmarks/results/all.json`.")
    return lines


def section(results=RESULTS):
    """The whole generated section, markers included, from the JSONs in ``results``."""
    summary = summary_section(_load("all.json", results))
    parts = [START, "",
             "Measured on this project's CI machine class (2 cores); medians over repeats, "
             "ratios against baselines measured in the same run. Regenerate with "
             "`python benchmarks/run_all.py` (runs every bench, then this), or with "
             "`python benchmarks/readme_table.py` after running benchmarks one by one.", "",
             *(["**Summary** (`benchmarks/run_all.py`)", "", *summary, ""] if summary else []),
             "**Pulsed outer-product update** (`benchmarks/bench_update.py`)", "",
             *update_section(_load("bench_update.json", results)), "",
             "**Tile reads** (`benchmarks/bench_tile.py`)", "",
             *tile_section(_load("bench_tile.json", results)), "",
             "**Training** (`benchmarks/bench_train.py`)", "",
             *train_section(_load("bench_train.json", results)), "",
             "**Compiler** (`benchmarks/bench_compile.py`)", "",
             *compile_section(_load("bench_compile.json", results)), "", END]
    return "\n".join(parts)


def refresh(readme, check=False, results=RESULTS):
    """Rewrite the section in ``readme``; returns True if it was already current."""
    text = readme.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{readme}: markers {START} / {END} not found")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = head + section(results) + tail
    if new == text:
        return True
    if not check:
        readme.write_text(new)
    return False


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--readme", default=str(ROOT / "README.md"))
    p.add_argument("--results", default=str(RESULTS),
                   help="folder of the bench JSONs and all.json (default benchmarks/results)")
    p.add_argument("--check", action="store_true")
    args = p.parse_args(argv)
    current = refresh(Path(args.readme), check=args.check, results=Path(args.results))
    print("README performance section is current" if current else
          ("README performance section is stale" if args.check else "README updated"))
    return 0 if current or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
