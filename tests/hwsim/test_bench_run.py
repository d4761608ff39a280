"""The sweep runner: the quick suite (CI acceptance), resume, failed points, a killed run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hwsim.bench import load_results, load_suite, point_key, run_sweep, validate_result
from hwsim.bench.runner import result_path
from hwsim.cli import main

# Fields that measure the machine, not the result: they differ between two runs of a point.
TIMING = ("wall_time_s", "train_samples_per_s")

SMALL = """
[defaults]
task = { name = "teacher-student", n_in = 4, n_out = 1, n_train = 256, n_test = 64 }
network = { kind = "mlp", hidden = [8] }
rule = { name = "pulsed-sgd", lr = 0.05 }
train = { epochs = 3, batch_size = 8 }
[[grid]]
name = "small"
[grid.axes]
"device.preset" = ["ecram", "reram-es", "capacitor", "gokmen-vlasov", "reram-sb", "idealized"]
"""


def results_without_timing(out):
    """``{key: (status, point, metrics without timing, device_params)}`` of a folder."""
    records = load_results(out)
    assert len(records) == len(list(Path(out).glob("*.json")))   # every file is valid
    return {key: (r["status"], r["point"],
                  r["metrics"] and {k: v for k, v in r["metrics"].items() if k not in TIMING},
                  r["device_params"]) for key, r in records.items()}


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """The quick suite run once through the command line with two workers."""
    out = tmp_path_factory.mktemp("quick")
    code = main(["bench", "quick", "--workers", "2", "--out", str(out), "--quiet"])
    return code, out


def test_quick_suite_runs_and_every_record_validates(quick):
    code, out = quick
    assert code == 0
    suite = load_suite("quick")
    files = sorted(out.glob("*.json"))
    assert len(files) == len(suite.points)
    for point in suite.points:
        record = json.loads(result_path(out, point_key(point)).read_text())
        validate_result(record)
        assert record["status"] == "ok", record["error"]
        assert record["suite"] == "quick" and record["point"] == point
        metrics = record["metrics"]
        assert len(metrics["curve"]) == point["train"]["epochs"]
        if point["network"]["kind"] != "qunn":
            assert metrics["energy_per_inference_J"] > 0 and metrics["dac_conversions"] > 0
            assert (metrics["pulses"] > 0) == (point["target"] == "device")
    assert not list(out.glob("*.tmp"))


def test_rerun_skips_everything(quick):
    _, out = quick
    before = {p: p.stat().st_mtime_ns for p in out.glob("*.json")}
    summary = run_sweep(load_suite("quick"), out=out, workers=2, progress=False,
                        echo=lambda *a: None)
    assert summary.skipped == summary.total == len(before)
    assert summary.ok == summary.failed == 0
    assert {p: p.stat().st_mtime_ns for p in out.glob("*.json")} == before


BAD = """
[defaults]
task = { name = "teacher-student", n_in = 4, n_out = 1, n_train = 64, n_test = 32 }
network = { kind = "mlp", hidden = [8] }
train = { epochs = 2, batch_size = 8 }
target = "ideal"
[[point]]
name = "good"
[[point]]
name = "diverges"                     # valid, but the loss overflows in the first epoch
rule = { name = "pulsed-sgd", lr = 1e30 }
[[point]]
name = "good-too"
seed = 1
"""


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_failing_point_is_recorded_and_the_rest_finish(tmp_path, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(BAD)
    out = tmp_path / "out"
    assert main(["bench", str(cfg), "--workers", "1", "--out", str(out), "--quiet"]) == 1
    text = capsys.readouterr().out
    assert "1 failed" in text and "diverges" in text and "DivergenceError" in text
    records = {r["point"]["name"]: r for r in load_results(out).values()}
    assert set(records) == {"good", "diverges", "good-too"}
    bad = records["diverges"]
    assert bad["status"] == "error" and bad["metrics"] is None
    assert bad["error"]["type"] == "DivergenceError" and "Traceback" in bad["error"]["traceback"]
    assert bad["device_params"]["family"] == "LinearStep"
    assert records["good"]["status"] == records["good-too"]["status"] == "ok"
    # a rerun retries the failed point only (and it fails again: same seed, same run)
    summary = run_sweep(load_suite(cfg), out=out, workers=1, progress=False,
                        echo=lambda *a: None)
    assert (summary.skipped, summary.ok, summary.failed) == (2, 0, 1)


@pytest.fixture(scope="module")
def small_reference(tmp_path_factory):
    """The small sweep run uninterrupted in this process."""
    root = tmp_path_factory.mktemp("small")
    cfg = root / "small.toml"
    cfg.write_text(SMALL)
    out = root / "reference"
    summary = run_sweep(load_suite(cfg), out=out, workers=1, progress=False,
                        echo=lambda *a: None)
    assert summary.ok == summary.total == 12
    return cfg, results_without_timing(out)


def test_killed_run_resumes_to_the_uninterrupted_results(small_reference, tmp_path):
    cfg, reference = small_reference
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "hwsim.cli", "bench", str(cfg), "--workers", "1",
           "--out", str(out), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(list(out.glob("*.json"))) < 2 and proc.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, "the sweep ended before it could be killed"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done = list(out.glob("*.json"))
    assert 2 <= len(done) < len(reference)
    assert len(results_without_timing(out)) == len(done)   # what was written is whole
    # what a crash of a non-atomic writer would leave: a truncated file and a stray temp file
    done[0].write_text(done[0].read_text()[:100])
    (out / f"{done[1].name}.abc123.tmp").write_text("{")
    summary = run_sweep(load_suite(cfg), out=out, workers=1, progress=False,
                        echo=lambda *a: None)
    assert summary.skipped == len(done) - 1 and summary.failed == 0
    assert results_without_timing(out) == reference
    assert not list(out.glob("*.tmp"))
