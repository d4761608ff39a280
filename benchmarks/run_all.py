"""Run every benchmarks/bench_*.py and collect their results in one JSON (all.json).

Each bench runs in a subprocess of its own (a fresh interpreter: no numba thread pool or
cache state leaks from one bench into the next) as

    python benchmarks/bench_NAME.py --out TMP/bench_NAME.json [--quick] [--repeats N]
                                    [--wait-quiet 0]

with only the flags that bench's argparse declares (read from its source, so that a bench
without ``--quick`` is simply run in full). A bench's JSON replaces
``RESULTS/bench_NAME.json`` only when the bench succeeded, so a failure never destroys the
last good figures. Every figure is already a median over the bench's own repeats
(``--repeats N`` sets them where a bench takes it).

``RESULTS/all.json`` then holds, per bench, its status (``ok``, or ``error`` with the exit
status and the tail of its output), command, wall time and full JSON, and, in one place,
every figure next to the baseline that bench measured in the same run:

===============  =======================================================================
bench            figure: baseline
===============  =======================================================================
bench_update     cell updates/s: aihwkit's CPU tile at equal threads (when set up)
bench_tile       seconds per read: numpy ``x @ W.T``
bench_train      samples/s: aihwkit ``AnalogSequential`` (when set up); float reference
bench_rules      samples/s per rule on devices: float reference (the ideal target)
bench_qunn       seconds per step: QuTiP ``sesolve``
bench_compile    seconds per compile (no baseline)
===============  =======================================================================

``speedup`` is always hwsim's speed over the baseline's (> 1: hwsim is faster), and the
``headlines`` give its median and range per (bench, baseline). A bench this script has no
summariser for is still run and recorded, with an empty summary. Benches not run this time
(``--only``/``--skip``) keep their entries from the previous ``all.json``.

Finally the README's performance section is refreshed with ``benchmarks/readme_table.py``
(not after ``--quick``: smoke figures do not go into the README). ``--quick`` writes to
``benchmarks/results/quick/`` unless ``--results`` says otherwise. ``--collect`` runs
nothing and builds all.json from the bench JSONs already in the results folder.

Usage::

    python benchmarks/run_all.py [--quick] [--only NAME[,NAME]] [--skip NAME[,NAME]]
                                 [--repeats N] [--results DIR] [--timeout SECONDS]
                                 [--no-readme] [--collect] [--dry-run]

The exit status is 1 when a bench failed, else 0.
"""

import argparse
import ast
import collections
import datetime
import json
import os
import platform
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "benchmarks"
RESULTS = BENCH_DIR / "results"
QUICK_RESULTS = RESULTS / "quick"
ALL_JSON = "all.json"
SCHEMA = "hwsim-benchmarks-all/1"
FLOAT_REFERENCE = "float reference (ideal target)"
TAIL_LINES = 40  # output lines kept with a failed bench


# --------------------------------------------------------------------------- discovery

def discover(bench_dir=BENCH_DIR):
    """``{name: path}`` of every ``bench_*.py`` in ``bench_dir``, by name."""
    return {p.stem: p for p in sorted(Path(bench_dir).glob("bench_*.py"))}


def bench_options(path):
    """The option strings a bench's argparse declares (``add_argument("--x", ...)``).

    Read from the source rather than by running ``--help``: importing a bench pulls in
    numba, qutip and friends, seconds per bench for a dry run.
    """
    options = set()
    for node in ast.walk(ast.parse(Path(path).read_text(), filename=str(path))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_argument"):
            options.update(a.value for a in node.args if isinstance(a, ast.Constant)
                           and isinstance(a.value, str) and a.value.startswith("--"))
    return options


def command(path, out, quick=False, repeats=None, python=sys.executable):
    """The command line of one bench: the flags it supports among ours."""
    options = bench_options(path)
    cmd = [python, str(path)]
    if "--out" in options:
        cmd += ["--out", str(out)]
    if quick and "--quick" in options:
        cmd.append("--quick")
    if quick and "--wait-quiet" in options:
        cmd += ["--wait-quiet", "0"]  # a smoke run need not wait for a quiet machine
    if repeats is not None and "--repeats" in options:
        cmd += ["--repeats", str(repeats)]
    return cmd


def _names(values):
    """Names from repeated and comma-separated options, without ``bench_``/``.py``."""
    out = []
    for value in values or ():
        for name in value.split(","):
            name = name.strip().removesuffix(".py")
            if name:
                out.append(name if name.startswith("bench_") else f"bench_{name}")
    return out


def select(benches, only=(), skip=()):
    """The benches to run; an unknown name is a ValueError listing the known ones."""
    only, skip = _names(only), _names(skip)
    unknown = [n for n in only + skip if n not in benches]
    if unknown:
        raise ValueError(f"unknown bench(es) {unknown}; known: {', '.join(benches)}")
    return {n: p for n, p in benches.items() if (not only or n in only) and n not in skip}


# --------------------------------------------------------------------------- running

def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _stream(proc, name, echo):
    """Echo the bench's output line by line (prefixed); return its last lines."""
    tail = collections.deque(maxlen=TAIL_LINES)
    for line in proc.stdout:
        line = line.rstrip("\n")
        tail.append(line)
        echo(f"[{name}] {line}")
    return list(tail)


def _kill_group(proc):
    # the bench's own session: its aihwkit peer subprocesses go with it
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_bench(name, path, results_dir, quick=False, repeats=None, timeout=None, echo=print):
    """Run one bench; its entry for all.json. Never raises for a failed bench."""
    started, t0 = _now(), time.perf_counter()
    final = Path(results_dir) / f"{name}.json"
    with tempfile.TemporaryDirectory(prefix=f"{name}-") as tmp:
        out = Path(tmp) / f"{name}.json"
        cmd = command(path, out, quick=quick, repeats=repeats)
        entry = {"status": "ok", "error": None, "command": _display(cmd, out, final),
                 "started": started}
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        timer = threading.Timer(timeout, _kill_group, (proc,)) if timeout else None
        if timer:
            timer.start()
        try:
            tail = _stream(proc, name, echo)
            code = proc.wait()
        except BaseException:
            # Ctrl-C reaches only this process (the bench has its own session): stop it too
            _kill_group(proc)
            proc.wait()
            raise
        finally:
            if timer:
                timer.cancel()
        entry["wall_s"] = time.perf_counter() - t0
        entry["finished"] = _now()
        entry["returncode"] = code
        error = _outcome(code, out, tail, timeout, entry["wall_s"])
        if error is None:
            entry["result"] = json.loads(out.read_text())
            entry["output"] = _relative(write_json(final, entry["result"]))
        else:
            entry.update(status="error", error=error)
    return entry


def collected(name, results_dir):
    """The all.json entry of a bench JSON already in ``results_dir`` (``--collect``)."""
    path = Path(results_dir) / f"{name}.json"
    entry = {"status": "ok", "error": None, "command": None, "collected": True,
             "started": None, "finished": None, "wall_s": None, "returncode": None}
    error = _outcome(0, path, [], None, None)
    if error is None:
        entry.update(result=json.loads(path.read_text()), output=_relative(path))
        entry["finished"] = datetime.datetime.fromtimestamp(
            path.stat().st_mtime, datetime.timezone.utc).isoformat(timespec="seconds")
    else:
        entry.update(status="error", error=error)
    return entry


def _outcome(code, out, tail, timeout, wall):
    """None for a bench that succeeded, else its error entry."""
    if code != 0:
        killed = timeout is not None and wall >= timeout and code < 0
        message = (f"timed out after {timeout:g} s" if killed
                   else f"exited with status {code}")
        return {"type": "Timeout" if killed else "ExitStatus", "message": message,
                "output_tail": tail}
    if not out.exists():
        return {"type": "NoResult", "message": "exited 0 but wrote no result JSON",
                "output_tail": tail}
    try:
        data = json.loads(out.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return {"type": "BadResult", "message": f"result JSON unreadable: {exc}",
                "output_tail": tail}
    if not isinstance(data, dict):
        return {"type": "BadResult", "message": "result JSON is not an object",
                "output_tail": tail}
    return None


def _relative(path):
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _display(cmd, tmp_out, final):
    """The command as a user would type it (python and paths relative to the checkout)."""
    shown = ["python", *(_relative(c) if Path(c).is_absolute() and Path(c).exists() else c
                         for c in cmd[1:])]
    return shlex.join(_relative(final) if c == str(tmp_out) else c for c in shown)


# --------------------------------------------------------------------------- summaries

def _row(bench, case, quantity, value, baseline=None, baseline_value=None, faster="higher"):
    """One figure; ``speedup`` is hwsim's speed over the baseline's (> 1: hwsim faster)."""
    speedup = None
    if baseline_value and value:
        speedup = value / baseline_value if faster == "higher" else baseline_value / value
    return {"bench": bench, "case": case, "quantity": quantity, "value": value,
            "baseline": baseline, "baseline_value": baseline_value, "speedup": speedup}


def summarise_update(data):
    rows = []
    for r in data["results"]:
        peers = {a["threads"]: a for a in r.get("aihwkit") or [] if a.get("status") == "ok"}
        for h in r["hwsim"]:
            peer = peers.get(h["threads"])
            name = f"aihwkit {peer.get('aihwkit_version', '')} CPU".replace("  ", " ") \
                if peer else None
            rows.append(_row("bench_update", f"{r['family']}, {h['threads']} thr.",
                             "cell updates/s", h["cell_updates_per_s"], name,
                             peer and peer["cell_updates_per_s"]))
    return rows


def summarise_tile(data):
    return [_row("bench_tile", f"{c['direction']} read, batch {c['batch']}", "s per read",
                 c["tile_s"], "numpy matmul", c["numpy_s"], faster="lower")
            for c in data["reads"]["cases"]]


def summarise_train(data):
    hw = data["hwsim"]
    ideal = {r["threads"]: r for r in hw.get("ideal", [])}
    peer = data.get("aihwkit") or {}
    peers = {r["threads"]: r for r in peer.get("results", [])} if peer.get("status") == "ok" \
        else {}
    version = peer.get("aihwkit_version", "")
    rows = []
    for r in hw.get("device", []):
        case = f"MLP_RUN device, {r['threads']} thr."
        if r["threads"] in peers:
            rows.append(_row("bench_train", case, "samples/s", r["samples_per_s"],
                             f"aihwkit {version} AnalogSequential".replace("  ", " "),
                             peers[r["threads"]]["samples_per_s"]))
        if r["threads"] in ideal:
            rows.append(_row("bench_train", case, "samples/s", r["samples_per_s"],
                             FLOAT_REFERENCE, ideal[r["threads"]]["samples_per_s"]))
    return rows


def summarise_rules(data):
    results = data["results"]
    ideal = results.get("ideal", {}).get("rules", {})
    rows = []
    for rule, r in results.get("device", {}).get("rules", {}).items():
        ref = ideal.get(rule, {}).get("samples_per_s")
        rows.append(_row("bench_rules", f"{rule}, device", "samples/s", r.get("samples_per_s"),
                         FLOAT_REFERENCE if ref else None, ref))
    return rows


def summarise_qunn(data):
    sections = data["sections"]
    # a cell too large for QuTiP has sesolve_s None: no baseline for it
    rows = [_row("bench_qunn", f"step q={s['qubits']} t={s['memory']}", "s per step",
                 s["fast_s"], "QuTiP sesolve" if s.get("sesolve_s") else None,
                 s.get("sesolve_s"), faster="lower")
            for s in sections.get("step", [])]
    rows += [_row("bench_qunn", f"gradient q={s['qubits']} t={s['memory']}",
                  "training steps/s", s["training_steps_per_s"])
             for s in sections.get("train", [])]
    return rows


def summarise_compile(data):
    return [_row("bench_compile", f"hidden {r['hidden']}", "s per compile", r["median_s"],
                 faster="lower") for r in data["compile"]]


SUMMARISERS = {"bench_update": summarise_update, "bench_tile": summarise_tile,
               "bench_train": summarise_train, "bench_rules": summarise_rules,
               "bench_qunn": summarise_qunn, "bench_compile": summarise_compile}


def summarise(name, data):
    """``(rows, note)``: the bench's figures, or a note on why there are none."""
    fn = SUMMARISERS.get(name)
    if fn is None:
        return [], "no summariser in benchmarks/run_all.py for this bench"
    try:
        return fn(data), None
    except (KeyError, TypeError, IndexError, AttributeError) as exc:
        # a bench whose JSON changed shape: keep its full result, say the summary failed
        return [], f"summary failed: {type(exc).__name__}: {exc}"


def headlines(rows):
    """Per (bench, quantity, baseline): how many cases and hwsim's speedup (median, min,
    max); without a baseline the range of the figure itself."""
    groups = {}
    for r in rows:
        groups.setdefault((r["bench"], r["quantity"], r["baseline"]), []).append(r)
    out = []
    for (bench, quantity, baseline), group in groups.items():
        entry = {"bench": bench, "quantity": quantity, "baseline": baseline,
                 "cases": len(group)}
        speedups = [r["speedup"] for r in group if r["speedup"] is not None]
        values = [r["value"] for r in group if r["value"] is not None]
        if baseline is not None and speedups:
            entry.update(median_speedup=statistics.median(speedups),
                         min_speedup=min(speedups), max_speedup=max(speedups))
        elif values:
            entry.update(min_value=min(values), max_value=max(values))
        out.append(entry)
    return out


# --------------------------------------------------------------------------- all.json

def _git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=30).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _previous(results_dir):
    path = Path(results_dir) / ALL_JSON
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return data.get("benches", {}) if isinstance(data, dict) else {}


def collect(entries, benches, results_dir, quick, collected_only=False):
    """The all.json document: this run's entries over the previous file's for the benches
    not run (benches that no longer exist are dropped)."""
    merged = {n: e for n, e in _previous(results_dir).items() if n in benches}
    merged.update(entries)
    rows = []
    for name, entry in sorted(merged.items()):
        if entry["status"] == "ok":
            entry["summary"], note = summarise(name, entry["result"])
            entry["summary_note"] = note
            rows += entry["summary"]
    return {"schema": SCHEMA, "created": _now(), "quick": quick, "collected": collected_only,
            "commit": _git_commit(),
            "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version(),
                        "platform": platform.platform()},
            "statistic": "each figure is its bench's median over repeats; speedup = hwsim's "
                         "speed / the baseline's, measured in the same bench run",
            "ran": sorted(entries), "benches": dict(sorted(merged.items())),
            "summary": rows, "headlines": headlines(rows)}


def write_json(path, data):
    """Atomic JSON write (temp file in the same folder + rename), formatted as
    hwsim.io_utils.write_json formats the benches' own files; kept here so that this
    orchestrator does not import hwsim (and numba) itself."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path


def refresh_readme(results_dir, echo=print):
    """Refresh the README's performance section with readme_table.py."""
    proc = subprocess.run([sys.executable, str(BENCH_DIR / "readme_table.py"), "--results",
                           str(results_dir)], cwd=ROOT, capture_output=True, text=True)
    echo((proc.stdout + proc.stderr).strip())
    return proc.returncode


# --------------------------------------------------------------------------- main

def _parser():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="pass --quick to every bench that has it (smoke sizes; results go to "
                        "benchmarks/results/quick/ and the README is left alone)")
    p.add_argument("--only", action="append", metavar="NAME",
                   help="run only these benches (repeat or comma-separate; bench_ optional)")
    p.add_argument("--skip", action="append", metavar="NAME", help="do not run these benches")
    p.add_argument("--repeats", type=int, help="repeats for every bench that takes --repeats")
    p.add_argument("--results", type=Path, help="where the bench JSONs and all.json go "
                   "(default benchmarks/results, or benchmarks/results/quick with --quick)")
    p.add_argument("--timeout", type=float, help="seconds before a bench is killed (default: "
                   "no limit)")
    p.add_argument("--no-readme", action="store_true", help="do not refresh the README")
    p.add_argument("--collect", action="store_true",
                   help="run nothing: summarise the bench JSONs already in the results folder")
    p.add_argument("--dry-run", action="store_true",
                   help="print the commands that would run, run nothing, write nothing")
    p.add_argument("--benchmarks", type=Path, default=BENCH_DIR, help=argparse.SUPPRESS)
    return p


def main(argv=None, echo=print):
    p = _parser()
    args = p.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        p.error(f"--repeats must be >= 1, got {args.repeats}")
    if args.timeout is not None and args.timeout <= 0:
        p.error(f"--timeout must be > 0 seconds, got {args.timeout}")
    benches = discover(args.benchmarks)
    try:
        chosen = select(benches, args.only, args.skip)
    except ValueError as exc:
        p.error(str(exc))
    results = args.results or (QUICK_RESULTS if args.quick else RESULTS)
    if args.dry_run:
        for name, path in chosen.items():
            out = results / f"{name}.json"
            echo(f"{name}: {_display(command(path, out, args.quick, args.repeats), out, out)}")
        echo(f"{len(chosen)} of {len(benches)} benches; results would go to "
             f"{_relative(results / ALL_JSON)}")
        return 0
    entries = {}
    for name, path in chosen.items():
        if args.collect:
            entries[name] = collected(name, results)
            echo(f"{name}: {entries[name]['status']}")
            continue
        echo(f"== {name}")
        entries[name] = run_bench(name, path, results, quick=args.quick,
                                  repeats=args.repeats, timeout=args.timeout, echo=echo)
        e = entries[name]
        echo(f"== {name}: {e['status']} in {e['wall_s']:.1f} s"
             + (f" ({e['error']['message']})" if e["error"] else f", saved {e['output']}"))
    doc = collect(entries, benches, results, args.quick, collected_only=args.collect)
    echo(f"wrote {write_json(results / ALL_JSON, doc)}")
    failed = [n for n, e in entries.items() if e["status"] != "ok"]
    if args.quick or args.no_readme:
        echo("README left alone" + (" (quick figures are smoke runs)" if args.quick else ""))
    else:
        refresh_readme(results, echo)
    if failed:
        echo(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
