"""benchmarks/run_all.py and benchmarks/readme_table.py, without running a real benchmark.

The runner is exercised on tiny fake bench scripts (a few lines of Python each, no hwsim
import) in a temporary folder; the summarisers on small synthetic bench JSONs whose
speedups are computed here by hand.
"""

import importlib.util
import json
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _module(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


run_all = _module("run_all")
readme_table = _module("readme_table")

GOOD = """
import argparse, json
p = argparse.ArgumentParser()
p.add_argument("--quick", action="store_true")
p.add_argument("--repeats", type=int, default=5)
p.add_argument("--out")
a = p.parse_args()
print("measuring")
json.dump({"benchmark": "good", "quick": a.quick, "repeats": a.repeats}, open(a.out, "w"))
"""
FAILING = """
import argparse, sys
p = argparse.ArgumentParser()
p.add_argument("--out")
p.parse_args()
print("step 1 fine")
print("boom: the device exploded")
sys.exit(3)
"""
SILENT = """
import argparse
p = argparse.ArgumentParser()
p.add_argument("--out")
p.parse_args()
"""
SLOW = """
import argparse, time
p = argparse.ArgumentParser()
p.add_argument("--out")
p.parse_args()
print("starting", flush=True)
time.sleep(60)
"""


def fake_benches(folder, **sources):
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in sources.items():
        (folder / f"bench_{name}.py").write_text(textwrap.dedent(source))
    return folder


def run(argv):
    lines = []
    code = run_all.main(argv, echo=lines.append)
    return code, lines


# --------------------------------------------------------------------------- discovery

def test_dry_run_lists_every_bench_and_passes_quick_where_supported(tmp_path):
    code, lines = run(["--dry-run", "--quick", "--results", str(tmp_path)])
    assert code == 0
    benches = sorted(p.stem for p in (ROOT / "benchmarks").glob("bench_*.py"))
    listed = [line.split(":")[0] for line in lines[:-1]]
    assert listed == benches
    for line, name in zip(lines, benches):
        declares = "--quick" in run_all.bench_options(ROOT / "benchmarks" / f"{name}.py")
        assert ("--quick" in line.split()) == declares
        assert f"{name}.json" in line
    assert list(tmp_path.iterdir()) == []  # a dry run writes nothing


def test_options_are_read_from_the_argparse_calls(tmp_path):
    fake_benches(tmp_path, good=GOOD, failing=FAILING)
    assert run_all.bench_options(tmp_path / "bench_good.py") == {"--quick", "--repeats",
                                                                 "--out"}
    cmd = run_all.command(tmp_path / "bench_failing.py", "o.json", quick=True, repeats=3)
    assert cmd[2:] == ["--out", "o.json"]  # no --quick/--repeats it would reject
    cmd = run_all.command(tmp_path / "bench_good.py", "o.json", quick=True, repeats=3)
    assert cmd[2:] == ["--out", "o.json", "--quick", "--repeats", "3"]


def test_only_and_skip_select_benches_and_unknown_names_are_errors(tmp_path, capsys):
    fake_benches(tmp_path, good=GOOD, failing=FAILING, silent=SILENT)
    benches = run_all.discover(tmp_path)
    assert list(run_all.select(benches, only=["good,silent"])) == ["bench_good", "bench_silent"]
    assert list(run_all.select(benches, skip=["bench_good.py"])) == ["bench_failing",
                                                                     "bench_silent"]
    with pytest.raises(ValueError, match=r"unknown bench\(es\) \['bench_nope'\]; known: "):
        run_all.select(benches, only=["nope"])
    with pytest.raises(SystemExit):
        run_all.main(["--benchmarks", str(tmp_path), "--skip", "nope", "--dry-run"])
    assert "bench_nope" in capsys.readouterr().err


# --------------------------------------------------------------------------- running

def test_a_failed_bench_is_recorded_and_the_rest_go_on(tmp_path):
    benches = fake_benches(tmp_path / "b", failing=FAILING, good=GOOD, silent=SILENT)
    results = tmp_path / "results"
    results.mkdir()
    (results / "bench_failing.json").write_text('{"old": true}')  # the last good figures
    code, lines = run(["--benchmarks", str(benches), "--results", str(results), "--quick"])
    assert code == 1
    data = json.loads((results / "all.json").read_text())
    good, failing, silent = (data["benches"][f"bench_{n}"] for n in ("good", "failing",
                                                                      "silent"))
    assert good["status"] == "ok" and good["result"] == {"benchmark": "good", "quick": True,
                                                         "repeats": 5}
    assert json.loads((results / "bench_good.json").read_text()) == good["result"]
    assert failing["status"] == "error" and failing["error"]["type"] == "ExitStatus"
    assert failing["error"]["message"] == "exited with status 3"
    assert "boom: the device exploded" in failing["error"]["output_tail"]
    assert json.loads((results / "bench_failing.json").read_text()) == {"old": True}
    assert silent["error"]["type"] == "NoResult"
    assert "[bench_good] measuring" in lines
    assert data["ran"] == ["bench_failing", "bench_good", "bench_silent"]
    assert good["summary_note"].startswith("no summariser")


def test_a_bench_over_its_timeout_is_killed_and_recorded(tmp_path):
    benches = fake_benches(tmp_path / "b", slow=SLOW)
    code, _ = run(["--benchmarks", str(benches), "--results", str(tmp_path / "r"),
                   "--timeout", "1", "--no-readme"])
    entry = json.loads((tmp_path / "r" / "all.json").read_text())["benches"]["bench_slow"]
    assert code == 1
    assert entry["error"]["type"] == "Timeout" and "starting" in entry["error"]["output_tail"]


def test_benches_not_run_keep_their_previous_entries(tmp_path):
    benches = fake_benches(tmp_path / "b", failing=FAILING, good=GOOD)
    results = tmp_path / "r"
    run(["--benchmarks", str(benches), "--results", str(results), "--no-readme"])
    code, _ = run(["--benchmarks", str(benches), "--results", str(results), "--only", "good",
                   "--no-readme"])
    data = json.loads((results / "all.json").read_text())
    assert code == 0 and data["ran"] == ["bench_good"]
    assert data["benches"]["bench_failing"]["status"] == "error"


# --------------------------------------------------------------------------- summaries

UPDATE = {"results": [{"family": "SoftBounds", "hwsim": [
    {"threads": 1, "cell_updates_per_s": 3e8}, {"threads": 2, "cell_updates_per_s": 5e8}],
    "aihwkit": [{"threads": 1, "status": "ok", "cell_updates_per_s": 1e8,
                 "aihwkit_version": "1.1.0"},
                {"threads": 2, "status": "failed"}]}]}
TILE = {"reads": {"cases": [{"direction": "forward", "batch": 64, "tile_s": 2e-3,
                             "numpy_s": 1e-3},
                            {"direction": "backward", "batch": 1, "tile_s": 1e-4,
                             "numpy_s": 4e-4}]}}
TRAIN = {"hwsim": {"device": [{"threads": 1, "samples_per_s": 2e4}],
                   "ideal": [{"threads": 1, "samples_per_s": 8e4}]},
         "aihwkit": {"status": "ok", "aihwkit_version": "1.1.0",
                     "results": [{"threads": 1, "samples_per_s": 1e4}]}}
RULES = {"results": {"device": {"rules": {"hebbian": {"samples_per_s": 100.0},
                                          "oja": {"samples_per_s": 50.0}}},
                     "ideal": {"rules": {"hebbian": {"samples_per_s": 400.0}}}}}
QUNN = {"sections": {"step": [{"qubits": 2, "memory": 4, "fast_s": 1e-4, "sesolve_s": 1e-3},
                              {"qubits": 10, "memory": 32, "fast_s": 1e-2, "sesolve_s": None,
                               "reference": "skipped: too large"}],
                     "train": [{"qubits": 2, "memory": 4, "training_steps_per_s": 200.0}]}}
COMPILE = {"compile": [{"hidden": 64, "median_s": 0.004}, {"hidden": 4096, "median_s": 0.4}]}


def speedups(name, data):
    rows, note = run_all.summarise(name, data)
    assert note is None
    return {(r["case"], r["baseline"]): r["speedup"] for r in rows}


def test_summaries_put_each_figure_next_to_its_baseline():
    assert speedups("bench_update", UPDATE) == {
        ("SoftBounds, 1 thr.", "aihwkit 1.1.0 CPU"): pytest.approx(3.0),
        ("SoftBounds, 2 thr.", None): None}  # the failed peer is no baseline
    # times: numpy / tile, so a tile twice as slow is 0.5x
    assert speedups("bench_tile", TILE) == {
        ("forward read, batch 64", "numpy matmul"): pytest.approx(0.5),
        ("backward read, batch 1", "numpy matmul"): pytest.approx(4.0)}
    assert speedups("bench_train", TRAIN) == {
        ("MLP_RUN device, 1 thr.", "aihwkit 1.1.0 AnalogSequential"): pytest.approx(2.0),
        ("MLP_RUN device, 1 thr.", run_all.FLOAT_REFERENCE): pytest.approx(0.25)}
    assert speedups("bench_rules", RULES) == {
        ("hebbian, device", run_all.FLOAT_REFERENCE): pytest.approx(0.25),
        ("oja, device", None): None}
    assert speedups("bench_qunn", QUNN) == {("step q=2 t=4", "QuTiP sesolve"): pytest.approx(10),
                                            ("step q=10 t=32", None): None,
                                            ("gradient q=2 t=4", None): None}
    assert set(speedups("bench_compile", COMPILE).values()) == {None}


def test_a_bench_json_of_another_shape_keeps_a_note_not_a_crash():
    rows, note = run_all.summarise("bench_tile", {"reads": {}})
    assert rows == [] and note.startswith("summary failed: KeyError")


def test_headlines_give_median_and_range_per_baseline():
    rows = [run_all._row("b", f"c{i}", "x/s", v, "base", 1.0) for i, v in enumerate((1, 4, 2))]
    rows += [run_all._row("b", "t", "s per x", 0.5, faster="lower")]
    heads = {h["baseline"]: h for h in run_all.headlines(rows)}
    assert heads["base"]["cases"] == 3
    assert (heads["base"]["median_speedup"], heads["base"]["min_speedup"],
            heads["base"]["max_speedup"]) == (2, 1, 4)
    assert (heads[None]["min_value"], heads[None]["max_value"]) == (0.5, 0.5)


# --------------------------------------------------------------------------- README section

def all_json(results):
    entries = {f"bench_{n}": {"status": "ok", "error": None, "result": data}
               for n, data in (("update", UPDATE), ("tile", TILE), ("qunn", QUNN))}
    entries["bench_train"] = {"status": "error", "error": {"type": "ExitStatus",
                                                            "message": "exited with status 1"}}
    doc = run_all.collect(entries, {**entries}, results, quick=False)
    run_all.write_json(results / "all.json", doc)


def test_readme_section_opens_with_the_summary_when_all_json_exists(tmp_path):
    all_json(tmp_path)
    text = readme_table.section(tmp_path)
    summary = text[text.index("**Summary**"):text.index("**Pulsed outer-product update**")]
    assert "| `bench_update` | cell updates/s | aihwkit 1.1.0 CPU | 1 | 3x |" in summary
    assert "| `bench_tile` | s per read | numpy matmul | 2 | 2.25x (0.5x to 4x) |" in summary
    assert "| `bench_train` | failed: exited with status 1 |" in summary
    assert "4 benches (3 ok)" in summary
    # the per-bench sections follow; their JSONs are absent here
    assert "Pulsed update: not measured" in text and "Compile time: not measured" in text


def test_readme_section_still_renders_the_committed_results_without_all_json(tmp_path):
    results = ROOT / "benchmarks" / "results"
    text = readme_table.section(results)
    if (results / "all.json").exists():
        assert "**Summary**" in text
    else:
        assert "**Summary**" not in text
    for head in ("| family | hwsim 1 thr. (cell-upd/s)", "| read | batch | tile | numpy matmul",
                 "| threads | hwsim device (samples/s)", "| hidden | tiles | weights |"):
        assert head in text, head
    assert text.startswith(readme_table.START) and text.endswith(readme_table.END)


def test_refresh_rewrites_only_between_the_markers(tmp_path):
    all_json(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\nbefore\n\n{readme_table.START}\nold\n{readme_table.END}\n"
                      "\nafter\n")
    assert readme_table.refresh(readme, results=tmp_path) is False
    text = readme.read_text()
    assert text.startswith("# title\n\nbefore\n\n") and text.endswith("\n\nafter\n")
    assert "old" not in text and "**Summary**" in text
    assert readme_table.main(["--readme", str(readme), "--results", str(tmp_path),
                              "--check"]) == 0
