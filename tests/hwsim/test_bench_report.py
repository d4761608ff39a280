"""The benchmark report (hwsim.bench.report) on synthetic result records.

Records are built by a small factory that fills every schema field and checks the record
with :func:`hwsim.bench.schema.validate_result`; the tests then read the Markdown tables
back and compare them with values computed here independently (Pareto membership by
pairwise dominance, the gap's sign from the metric's direction).
"""

import hashlib
import json
import math

import numpy as np
import pytest

from hwsim.bench import report
from hwsim.bench.schema import validate_result
from hwsim.errors import ConfigError
from hwsim.io_utils import PlotUnavailable

ENV = {"hwsim": "0.1.0", "python": "3.11.7", "numpy": "2.4.6", "numba": "0.68.1",
       "threads": 2, "platform": "Linux-test"}
PRESET_PARAMS = {"ecram": (0.001, 0.0, 0.0, 0.3), "reram-es": (0.00135, 0.259, 75.0, 5.0),
                 "pcm": (0.01, 0.1, 0.0, 0.6)}


def _sha(obj):
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":"))
                          .encode()).hexdigest()


def make_record(name, target, value, *, metric="accuracy", task="digits", preset="ecram",
                rule="pulsed-sgd", energy=1e-9, samples_per_s=1000.0, pulses=100,
                status="ok", error=None, kind="mlp"):
    """A schema-valid result record; the point is the same for both targets of a name."""
    point = {"name": name, "task": {"name": task},
             "network": {"kind": kind, "hidden": [16], "activation": "tanh"},
             "device": {"preset": preset}, "io": {"dac_bits": 8, "adc_bits": 8}, "update": {},
             "rule": {"name": rule, "lr": 0.05}, "train": {"epochs": 3, "batch_size": 8},
             "target": target, "seed": 0}
    dw_min, up_down, write_noise, dw_std = PRESET_PARAMS.get(preset, (0.01, 0.0, 0.0, 0.3))
    metrics = None
    if status == "ok":
        metrics = {
            "task_metric": {"name": metric, "value": value,
                            "higher_is_better": metric == "accuracy"},
            "curve": [value * 0.5, value],
            "energy_per_inference_J": energy, "latency_per_inference_s": 2e-6,
            "energy_per_train_step_J": None if energy is None else 3 * energy,
            "latency_per_train_step_s": 5e-6, "area_mm2": 0.01, "pulses": pulses,
            "dac_conversions": 10, "adc_conversions": 10,
            "weights": {"mean": 0.0, "std": 0.1, "min": -0.5, "max": 0.5,
                        "frac_at_bounds": 0.01},
            "wall_time_s": 1.5, "train_samples_per_s": samples_per_s}
    record = {
        "schema_version": 1, "key": _sha(point),
        "pair_key": _sha({k: v for k, v in point.items() if k != "target"}),
        "suite": "synthetic", "point": point, "status": status,
        "error": error if status == "error" else None, "metrics": metrics,
        "device_params": {"family": "LinearStep", "preset": preset, "dw_min": dw_min,
                          "up_down": up_down, "write_noise_std": write_noise,
                          "dw_min_std": dw_std, "w_min": -1.0, "w_max": 1.0},
        "environment": ENV, "started": "2026-11-29T00:00:00+00:00",
        "finished": "2026-11-29T00:00:02+00:00"}
    return validate_result(record)


def write(dir_, records):
    for rec in records:
        (dir_ / f"{rec['key']}.json").write_text(json.dumps(rec))


def dominated(i, energy, goodness):
    """Pairwise definition: another point is no worse in both and better in one."""
    return any(energy[j] <= energy[i] and goodness[j] >= goodness[i]
               and (energy[j] < energy[i] or goodness[j] > goodness[i])
               for j in range(len(energy)) if j != i)


# a sweep over presets and rules on an accuracy task, and one regression (NRMSE) pair
RNG = np.random.default_rng(7)
PARETO_POINTS = [(f"p{i:02d}", float(RNG.uniform(0.5, 0.95)), float(10 ** RNG.uniform(-10, -8)))
                 for i in range(12)]
# an exact duplicate of a point and a point with equal energy and worse accuracy: ties
PARETO_POINTS += [("dup", PARETO_POINTS[0][1], PARETO_POINTS[0][2]),
                  ("same-energy", PARETO_POINTS[0][1] - 0.1, PARETO_POINTS[0][2])]


def synthetic_records():
    recs = []
    presets = list(PRESET_PARAMS)
    for k, (name, acc, energy) in enumerate(PARETO_POINTS):
        kw = {"preset": presets[k % 3], "rule": ("pulsed-sgd", "heterosynaptic")[k % 2],
              "energy": energy}
        recs.append(make_record(name, "device", acc, samples_per_s=500.0 + k, **kw))
        recs.append(make_record(name, "ideal", 0.9, samples_per_s=4000.0, **kw))
    # regression: lower is better; the device is worse (higher NRMSE) on one, better on other
    for name, dev, ideal, energy in (("mg-worse", 0.30, 0.20, 2e-9), ("mg-better", 0.15, 0.25,
                                                                      1e-9),
                                     ("mg-costly", 0.10, 0.12, 5e-9)):
        kw = {"metric": "nrmse", "task": "mackey-glass", "energy": energy}
        recs.append(make_record(name, "device", dev, **kw))
        recs.append(make_record(name, "ideal", ideal, **kw))
    # a failed device point (with its ideal ok) and a failed ideal point (with its device ok)
    err = {"type": "DivergenceError", "message": "loss became nan at epoch 2\nmore text",
           "traceback": "Traceback ..."}
    recs.append(make_record("broken-dev", "device", 0.0, status="error", error=err))
    recs.append(make_record("broken-dev", "ideal", 0.8))
    recs.append(make_record("broken-ideal", "ideal", 0.0, status="error",
                            error={"type": "ValueError", "message": "bad lr", "traceback": ""}))
    recs.append(make_record("broken-ideal", "device", 0.7))
    # a QUNN row: no hardware cost, no device parameters
    qunn = make_record("qunn", "device", 0.2, metric="mse", task="qunn-memory", energy=None,
                       kind="qunn")
    qunn["device_params"] = None
    recs.append(validate_result(qunn))
    return recs


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One report over the synthetic records and three files that are not records."""
    d = tmp_path_factory.mktemp("results")
    write(d, synthetic_records())
    (d / "garbage.json").write_text("{not json")
    (d / "a-list.json").write_text("[1, 2, 3]")
    (d / "other.json").write_text(json.dumps({"benchmark": "bench_tile", "results": []}))
    (d / "notes.txt").write_text("not json at all, and not *.json")
    path = report.write_report(d)
    return d, path, path.read_text()


def table_after(text, heading):
    """The first Markdown table after ``heading`` as a list of dicts (header -> cell)."""
    lines = text[text.index(heading):].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| "))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip().strip("|").split(" | ")])
    header, body = rows[0], rows[2:]
    assert all(len(r) == len(header) for r in body)
    return [dict(zip(header, r)) for r in body]


def parse_si(text):
    number, unit = text.split()
    prefixes = {"G": 1e9, "M": 1e6, "k": 1e3, "m": 1e-3, "µ": 1e-6, "n": 1e-9, "p": 1e-12,
                "f": 1e-15}
    return float(number) * (prefixes[unit[0]] if len(unit) > 1 else 1.0)


def num(text):
    """A number as the tables print it (thousands separators allowed)."""
    return float(text.replace(",", ""))


def summary(text):
    return {(r["name"], r["target"]): r for r in table_after(text, "## Summary")}


# --------------------------------------------------------------------------- tables

def test_summary_has_one_row_per_successful_record(built):
    _, _, text = built
    rows = summary(text)
    ok = [r for r in synthetic_records() if r["status"] == "ok"]
    assert set(rows) == {(r["point"]["name"], r["point"]["target"]) for r in ok}
    assert ("broken-dev", "device") not in rows and ("broken-ideal", "ideal") not in rows
    assert tuple(table_after(text, "## Summary")[0]) == report.SUMMARY_HEADER


def test_summary_values_match_the_records(built):
    _, _, text = built
    rows = summary(text)
    for rec in synthetic_records():
        if rec["status"] != "ok":
            continue
        m, p = rec["metrics"], rec["point"]
        row = rows[(p["name"], p["target"])]
        assert row["metric"] == m["task_metric"]["name"]
        assert float(row["value"]) == pytest.approx(m["task_metric"]["value"], rel=1e-3)
        assert num(row["samples/s"]) == pytest.approx(m["train_samples_per_s"], rel=5e-3)
        assert int(row["pulses"].replace(",", "")) == m["pulses"]
        assert parse_si(row["wall time"]) == pytest.approx(m["wall_time_s"], rel=5e-3)
        assert parse_si(row["latency / inference"]) == pytest.approx(2e-6, rel=5e-3)
        if m["energy_per_inference_J"] is None:
            assert row["energy / inference"] == "-" and row["energy / train step"] == "-"
        else:
            assert parse_si(row["energy / inference"]) == pytest.approx(
                m["energy_per_inference_J"], rel=5e-3)
            assert parse_si(row["energy / train step"]) == pytest.approx(
                m["energy_per_train_step_J"], rel=5e-3)
        assert row["device"].startswith(p["device"].get("preset", "qubit"))
        assert row["rule"].startswith(p["rule"]["name"])


def expected_gap(device, ideal, higher_is_better):
    return ideal - device if higher_is_better else device - ideal


def test_gap_is_positive_when_the_device_is_worse_for_either_metric_direction(built):
    _, _, text = built
    rows = summary(text)
    values = {}
    for rec in synthetic_records():
        if rec["status"] == "ok":
            values[(rec["point"]["name"], rec["point"]["target"])] = rec["metrics"]["task_metric"]
    checked = 0
    for (name, target), tm in values.items():
        cell = rows[(name, target)]["gap to ideal"]
        if target == "ideal":
            assert cell == "reference"
            continue
        if (name, "ideal") not in values:
            continue
        gap = expected_gap(tm["value"], values[(name, "ideal")]["value"], tm["higher_is_better"])
        number, verdict = cell.split()
        assert float(number) == pytest.approx(gap, abs=1e-3)
        assert verdict == ("(worse)" if gap > 0 else "(better)" if gap < 0 else "(equal)")
        checked += 1
    # the sweep's pairs and the three regression pairs; broken-ideal's device row has no
    # ideal partner (see the next test) and qunn none at all
    assert checked == len(PARETO_POINTS) + 3
    # lower is better: NRMSE 0.30 on the device against 0.20 ideal is a loss (+0.1) ...
    assert rows[("mg-worse", "device")]["gap to ideal"] == "+0.1 (worse)"
    # ... and 0.15 against 0.25 a gain
    assert rows[("mg-better", "device")]["gap to ideal"] == "-0.1 (better)"


def test_rows_without_an_ideal_partner_say_why(built):
    _, _, text = built
    rows = summary(text)
    assert rows[("broken-ideal", "device")]["gap to ideal"] == "ideal failed"
    assert rows[("qunn", "device")]["gap to ideal"] == "no ideal row"


def test_pareto_front_members_match_pairwise_dominance(built):
    _, _, text = built
    listed = table_after(text, "## Energy-accuracy Pareto front")
    by_task = {}
    for row in listed:
        by_task.setdefault(row["task"], set()).add(row["name"])
    # accuracy task: the sweep plus broken-ideal's device row (0.7 at 1 nJ)
    points = PARETO_POINTS + [("broken-ideal", 0.7, 1e-9)]
    energy, goodness = [e for _, _, e in points], [a for _, a, _ in points]
    expected = {points[i][0] for i in range(len(points)) if not dominated(i, energy, goodness)}
    assert by_task["digits"] == expected
    assert ("dup" in expected) == (PARETO_POINTS[0][0] in expected)  # a duplicate ties
    assert "same-energy" not in by_task["digits"]
    # NRMSE task, lower is better: mg-better (0.15 at 1 nJ) dominates mg-worse (0.30 at 2 nJ);
    # mg-costly (0.10 at 5 nJ) is the most accurate, so also on the front
    assert by_task["mackey-glass"] == {"mg-better", "mg-costly"}
    # no cost model (QUNN): not in any front
    assert all("qunn" not in names for names in by_task.values())


def test_pareto_front_function_agrees_with_dominance_on_random_points():
    rng = np.random.default_rng(3)
    for trial in range(20):
        n = int(rng.integers(1, 25))
        # a coarse grid makes ties in energy and in goodness frequent
        energy = list(rng.integers(0, 6, n).astype(float))
        goodness = list(rng.integers(0, 6, n).astype(float))
        expected = {i for i in range(n) if not dominated(i, energy, goodness)}
        assert report.pareto_front(energy, goodness) == expected, trial


def test_failed_points_are_listed_with_their_error(built):
    _, _, text = built
    failed = {(r["name"], r["target"]): r for r in table_after(text, "## Failed points")}
    assert set(failed) == {("broken-dev", "device"), ("broken-ideal", "ideal")}
    assert failed[("broken-dev", "device")]["error"] == "DivergenceError"
    assert failed[("broken-dev", "device")]["message"] == "loss became nan at epoch 2"
    assert failed[("broken-ideal", "ideal")]["message"] == "bad lr"
    n_ok = sum(r["status"] == "ok" for r in synthetic_records())
    assert f"{n_ok + 2} result records ({n_ok} ok, 2 failed)" in text


def test_files_that_are_not_records_are_skipped_and_counted(built):
    _, _, text = built
    assert "3 other JSON file(s) skipped" in text
    skipped = text[text.index("## Skipped files"):]
    for name in ("garbage.json", "a-list.json", "other.json"):
        assert f"`{name}`" in skipped
    assert "notes.txt" not in text


def test_speed_table_pairs_ideal_and_device(built):
    _, _, text = built
    speed = {r["name"]: r for r in table_after(text, "## Emulation speed")}
    row = speed["p03"]
    assert num(row["ideal samples/s"]) == pytest.approx(4000.0)
    assert num(row["device samples/s"]) == pytest.approx(503.0)
    assert row["device / ideal"] == f"{503.0 / 4000.0:.3g}x"
    assert speed["qunn"]["ideal samples/s"] == "-"


# --------------------------------------------------------------------------- plots

def test_plots_are_written_and_linked(built):
    pytest.importorskip("matplotlib")
    d, path, text = built
    for name in report.PLOTS:
        png = d / f"report_{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({png.name})" in text
    assert "not installed" not in text


def test_without_matplotlib_the_tables_stay_and_the_report_says_why(tmp_path, monkeypatch):
    def missing():
        raise PlotUnavailable("plotting needs matplotlib, which is not installed")

    monkeypatch.setattr(report, "pyplot", missing)
    write(tmp_path, [make_record("a", "device", 0.8), make_record("a", "ideal", 0.9)])
    text = report.write_report(tmp_path, out=tmp_path / "sub" / "r.md").read_text()
    assert "`plot` extra" in text and ".png" not in text
    assert summary(text)[("a", "device")]["gap to ideal"] == "+0.1 (worse)"
    assert not list(tmp_path.rglob("*.png"))


def test_a_section_with_nothing_to_draw_says_so_and_drops_a_stale_png(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "_can_plot", lambda: False)
    stale = tmp_path / "report_gap.png"
    stale.write_bytes(b"old")
    write(tmp_path, [make_record("only-device", "device", 0.8)])
    text = report.write_report(tmp_path).read_text()
    assert "No device row has an ideal partner" in text
    assert not stale.exists()


# --------------------------------------------------------------------------- bad input

def test_missing_directory_is_an_error_naming_it(tmp_path):
    with pytest.raises(ConfigError, match="results_dir .*nowhere.* not an existing directory"):
        report.write_report(tmp_path / "nowhere")


def test_a_directory_without_records_is_an_error(tmp_path):
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ConfigError, match=r"holds no result records \(1 other JSON"):
        report.write_report(tmp_path)


def test_labels_and_si_formatting():
    assert report.si(1.234e-12, "J") == "1.23 pJ"
    assert report.si(0.0, "s") == "0 s"
    assert report.si(None, "J") == "-"
    assert report.si(999.96e-9, "s") == "1 µs"
    assert report.device_label({"preset": "ecram", "dw_min": 0.01}) == "ecram (dw_min=0.01)"
    assert report.device_label({"dephasing": 0.01}) == "qubit noise (dephasing=0.01)"
    assert report.network_label({"kind": "odernn", "architecture": "gru",
                                 "hidden": 32}) == "odernn gru h=32"
    assert math.isnan(float(report.si(float("nan"), "J").split()[0]))
