"""The benchmark report: Markdown tables and PNG plots from a directory of result records.

:func:`write_report` (``hwsim report DIR``) reads every ``*.json`` in a results directory
that is a result record of :data:`hwsim.bench.schema.RESULT_SCHEMA` (other JSON files are
skipped and counted) and writes ``report.md`` with

- a summary table, one row per successful point: task, network, device, rule, target, task
  metric, energy and latency per inference and per training step (the cost model's
  estimates, :mod:`hwsim.cost`), pulses, emulation wall time, training samples per second
  and the gap to the ideal target;
- the gap to ideal of each device row, against the ideal row with the same ``pair_key``
  (the same point but for its target). It is signed so that a positive gap means the device
  is worse, whichever way the metric points: ``ideal - device`` for accuracy,
  ``device - ideal`` for NRMSE or MSE;
- the energy-accuracy Pareto front of the device rows of each task: a row is on it when no
  other row of the task reaches a metric at least as good at no more energy per inference,
  one of the two strictly better;
- emulation speed, ideal against device, per point;
- the failed points with their error, and the files that were skipped;

and PNG plots next to it: accuracy against device non-ideality (``dw_min``, ``up_down``,
``write_noise_std``, ``dw_min_std``), the Pareto front, emulation speed and the gap to ideal.
Without matplotlib the tables are still written and the report says how to get the plots.
"""

import datetime
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..io_utils import PlotUnavailable, pyplot, save_figure
from .schema import read_record

__all__ = ["write_report", "load_records", "Row", "Records", "pareto_front", "gap_to_ideal"]

#: The device parameters plotted against the metric: (field, axis label, panel title).
NONIDEALITIES = (
    ("dw_min", "dw_min (weight change per pulse, weight units)", "step size"),
    ("up_down", "up_down (up/down step bias, relative)", "asymmetry"),
    ("write_noise_std", "write_noise_std (noise on read weights, x dw_min)", "write noise"),
    ("dw_min_std", "dw_min_std (cycle-to-cycle step spread, relative)", "cycle-to-cycle noise"),
)
PLOTS = ("gap", "nonideality", "pareto", "speed")
# the room a Pareto label takes, in fractions of the data range: width per character (7 pt
# text on a 6.5-inch panel) and height
_LABEL_CHAR_WIDTH, _LABEL_HEIGHT = 0.01, 0.045


# --------------------------------------------------------------------------- reading

@dataclass
class Records:
    """The contents of a results directory.

    Attributes
    ----------
    ok, failed : list of dict
        Result records with status ``"ok"`` and ``"error"``, sorted by (name, target).
    skipped : list of (str, str)
        ``*.json`` files that are not result records: file name and why.
    """

    ok: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    skipped: list = field(default_factory=list)


def _sort_key(record):
    point = record["point"]
    return point["name"], point["target"] != "ideal", point["target"], record["key"]


def load_records(results_dir):
    """Read the result records of ``results_dir`` (its ``*.json`` files, not recursive).

    Raises
    ------
    ConfigError
        If ``results_dir`` is not an existing directory.
    """
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise ConfigError(f"benchmark report: results_dir {str(results_dir)!r} is not an "
                          "existing directory; give the --out directory of a `hwsim bench` run")
    out = Records()
    for path in sorted(results_dir.glob("*.json")):
        record, reason = read_record(path)
        if record is None:
            out.skipped.append((path.name, reason))
        else:
            (out.ok if record["status"] == "ok" else out.failed).append(record)
    out.ok.sort(key=_sort_key)
    out.failed.sort(key=_sort_key)
    return out


# --------------------------------------------------------------------------- rows

def _fmt_value(v):
    return f"{v:g}" if isinstance(v, float) else str(v)


def device_label(device):
    """A short label of a point's ``device`` table: the preset, family or class and any
    parameter set on top of it (what a sweep varies)."""
    for key in ("preset", "family", "class"):
        if key in device:
            extra = [f"{k}={_fmt_value(v)}" for k, v in sorted(device.items()) if k != key]
            return str(device[key]) + (f" ({', '.join(extra)})" if extra else "")
    # a qunn's device is its qubits' noise rates
    rates = ", ".join(f"{k}={_fmt_value(v)}" for k, v in sorted(device.items()))
    return f"qubit noise ({rates})" if rates else "noiseless qubits"


def network_label(network):
    """A short label of a point's ``network`` table."""
    kind = network.get("kind", "?")
    if kind == "mlp":
        hidden = network.get("hidden", [])
        hidden = hidden if isinstance(hidden, list) else [hidden]
        return " ".join(["mlp", "-".join(map(str, hidden)) or "linear",
                         str(network.get("activation", ""))]).strip()
    if kind == "qunn":
        sizes = [f"{short}={network[key]}" for key, short in (("qubits", "q"), ("memory", "t"))
                 if key in network]
        return " ".join(["qunn", *sizes])
    cell = network.get("architecture") or network.get("cell") or "vanilla"
    parts = ["odernn", str(cell), str(network.get("method", "")),
             f"h={network['hidden']}" if "hidden" in network else ""]
    return " ".join(p for p in parts if p)


def rule_label(rule):
    """The rule's name and learning rate."""
    lr = rule.get("lr")
    return rule["name"] + (f" lr={_fmt_value(lr)}" if lr is not None else "")


def task_label(task):
    """The task's name (with its layout or length when given: they change the metric)."""
    extra = [f"{k}={_fmt_value(task[k])}" for k in ("layout", "T", "window") if k in task]
    return task["name"] + (f" ({', '.join(extra)})" if extra else "")


def _finite(x):
    return x is not None and math.isfinite(x)


@dataclass
class Row:
    """One successful benchmark point, flattened for tables and plots.

    ``gap`` is filled by :func:`gap_to_ideal` (None where there is no ideal partner) and
    ``gap_note`` says why there is none.
    """

    name: str
    key: str
    pair_key: str
    task: str
    network: str
    device: str
    rule: str
    target: str
    metric: str
    value: float
    higher_is_better: bool
    energy_inference: float | None
    latency_inference: float | None
    energy_train: float | None
    latency_train: float | None
    pulses: int
    wall_time: float
    samples_per_s: float
    params: dict | None
    gap: float | None = None
    gap_note: str = ""

    @classmethod
    def from_record(cls, record):
        p, m = record["point"], record["metrics"]
        tm = m["task_metric"]
        return cls(name=p["name"], key=record["key"], pair_key=record["pair_key"],
                   task=task_label(p["task"]), network=network_label(p["network"]),
                   device=device_label(p["device"]), rule=rule_label(p["rule"]),
                   target=p["target"], metric=tm["name"], value=float(tm["value"]),
                   higher_is_better=bool(tm["higher_is_better"]),
                   energy_inference=m["energy_per_inference_J"],
                   latency_inference=m["latency_per_inference_s"],
                   energy_train=m["energy_per_train_step_J"],
                   latency_train=m["latency_per_train_step_s"],
                   pulses=int(m["pulses"]), wall_time=float(m["wall_time_s"]),
                   samples_per_s=float(m["train_samples_per_s"]),
                   params=record["device_params"])

    @property
    def goodness(self):
        """The metric signed so that larger is better."""
        return self.value if self.higher_is_better else -self.value


def gap_to_ideal(rows, failed=()):
    """Set ``gap`` on each device row: how much worse than its ideal partner it is.

    The partner is the ideal row with the same ``pair_key``. The gap is ``ideal - device``
    for a metric where higher is better and ``device - ideal`` otherwise, so a positive gap
    always means the device target lost quality. ``failed`` (error records) explains missing
    partners.
    """
    ideal = {r.pair_key: r for r in rows if r.target == "ideal"}
    failed_pairs = {rec["pair_key"] for rec in failed if rec["point"]["target"] == "ideal"}
    for row in rows:
        if row.target == "ideal":
            row.gap, row.gap_note = None, "reference"
            continue
        ref = ideal.get(row.pair_key)
        if ref is None:
            row.gap_note = "ideal failed" if row.pair_key in failed_pairs else "no ideal row"
        elif ref.metric != row.metric:
            row.gap_note = f"ideal metric is {ref.metric}"
        else:
            # goodness is the metric signed so that larger is better: this is ideal -
            # device for accuracy and device - ideal for NRMSE
            row.gap, row.gap_note = ref.goodness - row.goodness, ""
    return rows


def pareto_front(energy, goodness):
    """Indices of the points not dominated in (lower energy, higher goodness).

    A point is dominated when another has no more energy and no less goodness, one of them
    strictly. Sweeping in order of energy (best goodness first among equal energies), a
    point is on the front exactly when it beats the best goodness seen so far, or repeats
    the front point that set it.
    """
    order = sorted(range(len(energy)), key=lambda i: (energy[i], -goodness[i]))
    front, best, best_energy = set(), -math.inf, None
    for i in order:
        if goodness[i] > best:
            front.add(i)
            best, best_energy = goodness[i], energy[i]
        elif goodness[i] == best and energy[i] == best_energy:
            front.add(i)
    return front


def pareto_groups(rows):
    """The device rows with a finite energy and metric per (task, metric), each with the
    set of its members on the Pareto front: ``{(task, metric): (rows, front)}``."""
    groups = {}
    for r in rows:
        if r.target == "device" and _finite(r.energy_inference) and _finite(r.value):
            groups.setdefault((r.task, r.metric), []).append(r)
    return {k: (g, pareto_front([r.energy_inference for r in g], [r.goodness for r in g]))
            for k, g in sorted(groups.items())}


# --------------------------------------------------------------------------- formatting

_PREFIXES = ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"),
             (1e-9, "n"), (1e-12, "p"), (1e-15, "f"))


def si(value, unit):
    """``value`` with an SI prefix and three significant digits (``-`` for None)."""
    if value is None:
        return "-"
    if not math.isfinite(value):
        return f"{value} {unit}"
    if value == 0:
        return f"0 {unit}"
    for scale, prefix in _PREFIXES:
        if abs(value) >= scale * 0.9995:
            return f"{value / scale:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def _cell(text):
    """Markdown table cell: pipes escaped, one line."""
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def rate(value):
    """A rate (per second): whole numbers with thousands separators from 100 up."""
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _gap_cell(row):
    if row.gap is None:
        return row.gap_note
    if not math.isfinite(row.gap):
        return "non-finite metric"
    verdict = "worse" if row.gap > 0 else ("better" if row.gap < 0 else "equal")
    return f"{row.gap:+.4g} ({verdict})"


SUMMARY_HEADER = ("name", "task", "network", "device", "rule", "target", "metric", "value",
                  "energy / inference", "latency / inference", "energy / train step",
                  "latency / train step", "pulses", "wall time", "samples/s", "gap to ideal")


def summary_table(rows):
    """Markdown lines of the summary table (:data:`SUMMARY_HEADER`)."""
    body = [(r.name, r.task, r.network, r.device, r.rule, r.target, r.metric,
             f"{r.value:.4g}", si(r.energy_inference, "J"), si(r.latency_inference, "s"),
             si(r.energy_train, "J"), si(r.latency_train, "s"), f"{r.pulses:,}",
             si(r.wall_time, "s"), rate(r.samples_per_s), _gap_cell(r)) for r in rows]
    return _table(SUMMARY_HEADER, body)


def pareto_table(groups):
    """Markdown lines listing each task's Pareto-front members, cheapest first."""
    body = []
    for (task, metric), (group, front) in groups.items():
        for i in sorted(front, key=lambda i: (group[i].energy_inference, -group[i].goodness)):
            r = group[i]
            body.append((task, r.name, r.device, r.rule, si(r.energy_inference, "J"),
                         f"{metric} {r.value:.4g}"))
    return _table(("task", "name", "device", "rule", "energy / inference", "metric"), body)


def speed_pairs(rows):
    """``[(name, ideal row or None, device row or None)]`` by point name."""
    pairs = {}
    for r in rows:
        pairs.setdefault(r.pair_key, {"name": r.name})[r.target] = r
    return sorted(((p["name"], p.get("ideal"), p.get("device")) for p in pairs.values()),
                  key=lambda t: t[0])


def speed_table(rows):
    """Markdown lines: training samples/s on each target and their ratio."""
    body = []
    for name, ideal, dev in speed_pairs(rows):
        ratio = (f"{dev.samples_per_s / ideal.samples_per_s:.3g}x"
                 if ideal and dev and ideal.samples_per_s > 0 else "-")
        body.append((name, rate(ideal.samples_per_s) if ideal else "-",
                     rate(dev.samples_per_s) if dev else "-", ratio))
    return _table(("name", "ideal samples/s", "device samples/s", "device / ideal"), body)


def failed_table(failed):
    """Markdown lines: each failed point with its error type and first message line."""
    body = []
    for rec in failed:
        p, err = rec["point"], rec["error"] or {}
        message = (err.get("message") or "").strip().splitlines()
        text = message[0] if message else ""
        body.append((p["name"], p["target"], device_label(p["device"]), rule_label(p["rule"]),
                     err.get("type", "?"), text[:200] + ("..." if len(text) > 200 else "")))
    return _table(("name", "target", "device", "rule", "error", "message"), body)


def _environments(records):
    seen = []
    for rec in records:
        env = rec["environment"]
        text = (f"hwsim {env.get('hwsim')}, Python {env.get('python')}, numpy "
                f"{env.get('numpy')}, numba {env.get('numba')}, {env.get('threads')} "
                f"thread(s), {env.get('platform')}")
        if text not in seen:
            seen.append(text)
    return seen


def _header(results_dir, records):
    everything = records.ok + records.failed
    suites = sorted({rec["suite"] for rec in everything})
    started = min((rec["started"] for rec in everything), default="-")
    finished = max((rec["finished"] for rec in everything), default="-")
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    lines = ["# Benchmark report", "",
             f"Generated {now} from `{results_dir}`: {len(everything)} result records "
             f"({len(records.ok)} ok, {len(records.failed)} failed); "
             f"{len(records.skipped)} other JSON file(s) skipped. "
             f"Suite(s): {', '.join(suites) or '-'}. Points ran from {started} to {finished}.",
             "", "Environment: " + ("; ".join(_environments(everything)) or "-") + "."]
    return lines


# --------------------------------------------------------------------------- plots

def _scale_axis(ax, values, axis="x"):
    """Log scale when positive values span more than two decades (symlog with zeros)."""
    pos = [v for v in values if v > 0]
    if not pos or max(pos) / min(pos) <= 100 or any(v < 0 for v in values):
        return
    setter = ax.set_xscale if axis == "x" else ax.set_yscale
    if len(pos) == len(values):
        setter("log")
    else:
        setter("symlog", linthresh=min(pos))


def _metric_label(metric, higher_is_better):
    return f"test {metric} ({'higher' if higher_is_better else 'lower'} is better)"


def _legend_handles(styles, kind):
    from matplotlib.lines import Line2D
    if kind == "colour":
        return [Line2D([], [], ls="none", marker="o", color=c, label=k)
                for k, c in styles.items()]
    return [Line2D([], [], ls="none", marker=m, color="0.3", label=k)
            for k, m in styles.items()]


_MARKERS = "osD^vP*Xh<>p"


def plot_nonideality(rows, path):
    """Device rows' metric against each device non-ideality; one row of panels per metric.

    Colour is the task, the marker the rule; the ideal partner's value is a grey bar at the
    same position, so the distance between the two is the cost of the device.
    """
    plt = pyplot()
    device = nonideality_rows(rows)
    ideal = {r.pair_key: r for r in rows if r.target == "ideal" and _finite(r.value)}
    metrics = sorted({(r.metric, r.higher_is_better) for r in device})
    colours = {t: f"C{i % 10}" for i, t in enumerate(sorted({r.task for r in device}))}
    markers = {u: _MARKERS[i % len(_MARKERS)]
               for i, u in enumerate(sorted({r.rule for r in device}))}
    fig, axes = plt.subplots(len(metrics), len(NONIDEALITIES), squeeze=False,
                             figsize=(4.2 * len(NONIDEALITIES), 3.6 * len(metrics)))
    for row_axes, (metric, hib) in zip(axes, metrics):
        subset = [r for r in device if r.metric == metric]
        for ax, (param, xlabel, title) in zip(row_axes, NONIDEALITIES):
            refs = [(float(r.params[param]), ideal[r.pair_key].value) for r in subset
                    if r.pair_key in ideal]
            if refs:
                ax.plot(*zip(*refs), marker="_", ms=14, mew=2.5, color="0.55", ls="none",
                        zorder=1)
            # one call per (task, rule): thousands of single-point lines are slow to draw
            for (task, rule), group in _group_by(subset, lambda r: (r.task, r.rule)).items():
                ax.plot([float(r.params[param]) for r in group], [r.value for r in group],
                        marker=markers[rule], color=colours[task], ls="none", alpha=0.85,
                        zorder=2)
            _scale_axis(ax, [float(r.params[param]) for r in subset])
            # unsupervised baselines (Hebbian) can be orders of magnitude off: keep the
            # supervised rows readable
            _scale_axis(ax, [r.value for r in subset] + [v for _, v in refs], axis="y")
            ax.tick_params(labelsize=8)
            ax.set_xlabel(xlabel, fontsize=8)
            ax.set_ylabel(_metric_label(metric, hib), fontsize=8)
            ax.set_title(f"{title}: {metric}", fontsize=10)
            ax.grid(alpha=0.3)
    from matplotlib.lines import Line2D
    handles = (_legend_handles(colours, "colour") + _legend_handles(markers, "marker")
               + [Line2D([], [], ls="none", marker="_", ms=12, mew=2, color="0.6",
                         label="ideal target, same point")])
    fig.suptitle("Device-target metric against device non-ideality "
                 "(colour: task, marker: rule)", fontsize=11)
    fig.tight_layout(rect=(0, 0.1 if len(handles) > 4 else 0.06, 1, 1))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 4), fontsize=8,
               frameon=False)
    return _save(plt, fig, path)


def nonideality_rows(rows):
    """The rows of the non-ideality plot: device rows with device parameters and a metric."""
    return [r for r in rows if r.target == "device" and r.params and _finite(r.value)]


def _group_by(items, key):
    groups = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


def _point_labels(group):
    """Device labels, or names where two points of the panel share device and rule."""
    pairs = [(r.device, r.rule) for r in group]
    if len(set(pairs)) == len(pairs):
        return [r.device for r in group]
    return [r.name for r in group]


def _energy_ticks(ax, energies):
    """SI-prefixed joule ticks; minor ticks labelled only within one decade (else they
    collide)."""
    from matplotlib.ticker import EngFormatter, NullFormatter
    ax.xaxis.set_major_formatter(EngFormatter(unit="J"))
    within_decade = max(energies) <= 10 * min(energies)
    ax.xaxis.set_minor_formatter(EngFormatter(unit="J") if within_decade else NullFormatter())
    ax.tick_params(axis="x", which="minor", labelsize=7)


def _labelled(group, labels, front, log_x):
    """Indices of the points of a Pareto panel that get a text label: every front member,
    then the others, best first, wherever a label (drawn to the right of its point) does
    not overlap one already placed."""
    def spread(values):
        low, span = min(values), (max(values) - min(values)) or 1.0
        return [(v - low) / span for v in values]

    xs = spread([math.log10(r.energy_inference) if log_x else r.energy_inference
                 for r in group])
    ys = spread([r.value for r in group])
    ends = [x + _LABEL_CHAR_WIDTH * len(text) for x, text in zip(xs, labels)]
    placed = []
    for i in sorted(range(len(group)), key=lambda i: (i not in front, -group[i].goodness)):
        clash = any(xs[i] < ends[j] and xs[j] < ends[i] and abs(ys[i] - ys[j]) < _LABEL_HEIGHT
                    for j in placed)
        if i in front or not clash:
            placed.append(i)
    return set(placed)


def plot_pareto(groups, path):
    """Metric against energy per inference per (task, metric); the front drawn as a step
    line through its members (outlined). Front members are always labelled, other points
    where their label has room (every point is in the summary table)."""
    plt = pyplot()
    n = len(groups)
    cols = min(n, 2)
    nrows = math.ceil(n / cols)
    fig, axes = plt.subplots(nrows, cols, squeeze=False, figsize=(6.5 * cols, 4.8 * nrows))
    rules = sorted({r.rule for g, _ in groups.values() for r in g})
    colours = {u: f"C{i % 10}" for i, u in enumerate(rules)}
    for ax, ((task, metric), (group, front)) in zip(axes.flat, groups.items()):
        labels = _point_labels(group)
        log_x = len({r.energy_inference for r in group}) > 1
        labelled = _labelled(group, labels, front, log_x)
        for i, r in enumerate(group):
            on = i in front
            ax.plot(r.energy_inference, r.value, "o", color=colours[r.rule], ms=8 if on else 6,
                    mec="k" if on else "none", mew=1.5, alpha=1 if on else 0.7)
            if i in labelled:
                ax.annotate(labels[i], (r.energy_inference, r.value), fontsize=7,
                            xytext=(4, 3), textcoords="offset points",
                            fontweight="bold" if on else "normal")
        members = sorted((group[i] for i in front), key=lambda r: r.energy_inference)
        ax.plot([r.energy_inference for r in members], [r.value for r in members], "k--",
                lw=1, drawstyle="steps-post", zorder=0)
        if log_x:
            ax.set_xscale("log")
        _energy_ticks(ax, [r.energy_inference for r in group])
        hib = group[0].higher_is_better
        ax.set_xlabel("energy per inference (cost model)")
        ax.set_ylabel(_metric_label(metric, hib))
        ax.set_title(f"{task}: {len(front)} of {len(group)} on the front"
                     + ("" if len(labelled) == len(group) else
                        f" ({len(group) - len(labelled)} crowded label(s) left out)"),
                     fontsize=10)
        ax.grid(alpha=0.3, which="both")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    from matplotlib.lines import Line2D
    handles = _legend_handles(colours, "colour") + [
        Line2D([], [], ls="none", marker="o", color="w", mec="k", mew=1.5,
               label="on the Pareto front"),
        Line2D([], [], color="k", ls="--", lw=1, label="Pareto front")]
    fig.suptitle("Energy-accuracy Pareto front of the device target (colour: rule)",
                 fontsize=11)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 4), fontsize=8,
               frameon=False)
    return _save(plt, fig, path)


def plot_speed(rows, path):
    """Training samples per second of each point, ideal and device bars side by side."""
    import numpy as np
    plt = pyplot()
    pairs = speed_pairs(rows)
    ys = np.arange(len(pairs))
    fig, ax = plt.subplots(figsize=(9, 1.5 + 0.42 * len(pairs)))
    for k, (target, colour, offset) in enumerate((("ideal", "C0", -0.2),
                                                  ("device", "C3", 0.2))):
        values = [p[1 + k].samples_per_s if p[1 + k] else 0.0 for p in pairs]
        ax.barh(ys + offset, values, height=0.38, color=colour, label=f"{target} target")
    ax.set_yticks(ys)
    ax.set_yticklabels([p[0] for p in pairs], fontsize=8)
    ax.invert_yaxis()
    positive = [r.samples_per_s for r in rows if r.samples_per_s > 0]
    if positive and max(positive) / min(positive) > 20:
        ax.set_xscale("log")
    ax.set_xlabel("emulation speed (training samples per second, wall clock)")
    ax.set_title("Emulation speed per point: ideal (float) against device target")
    ax.grid(axis="x", alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return _save(plt, fig, path)


def plot_gap(rows, path):
    """Each device row's gap to its ideal partner, one panel per metric; bars right of zero
    (red) are losses on the device."""
    plt = pyplot()
    with_gap = [r for r in rows if r.gap is not None and _finite(r.gap)]
    metrics = sorted({(r.metric, r.higher_is_better) for r in with_gap})
    sizes = [sum(r.metric == m for r in with_gap) for m, _ in metrics]
    fig, axes = plt.subplots(len(metrics), 1, squeeze=False, height_ratios=sizes,
                             figsize=(9, 1.6 * len(metrics) + 0.42 * len(with_gap)))
    for ax, (metric, hib) in zip(axes[:, 0], metrics):
        subset = [r for r in with_gap if r.metric == metric]
        ax.barh(range(len(subset)), [r.gap for r in subset],
                color=["C3" if r.gap > 0 else "C2" for r in subset])
        ax.set_yticks(range(len(subset)))
        ax.set_yticklabels([r.name for r in subset], fontsize=8)
        ax.invert_yaxis()
        ax.axvline(0, color="k", lw=1)
        how = "ideal - device" if hib else "device - ideal"
        ax.set_xlabel(f"gap to ideal in test {metric} ({how}; > 0: device worse)")
        ax.set_title(f"{metric}: device target against the ideal target of the same point",
                     fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    from matplotlib.patches import Patch
    axes[0, 0].legend(handles=[Patch(color="C3", label="device worse than ideal"),
                               Patch(color="C2", label="device as good or better")],
                      fontsize=8, loc="best")
    fig.tight_layout()
    return _save(plt, fig, path)


def _save(plt, fig, path):
    try:
        return save_figure(fig, path)
    finally:
        plt.close(fig)


# --------------------------------------------------------------------------- the report

PLOT_HINT = ("Plots need matplotlib, which is not installed: install the `plot` extra "
             "(`pip install 'hwsim[plot]'`) and run `hwsim report` again.")


def _can_plot():
    try:
        pyplot()
    except PlotUnavailable:
        return False
    return True


def _resolve_out(results_dir, out):
    if out is None:
        return results_dir / "report.md"
    out = Path(out)
    return out / "report.md" if out.is_dir() else out


def write_report(results_dir, out=None):
    """Write the Markdown report of a results directory, with its PNG plots next to it.

    Parameters
    ----------
    results_dir : str or Path
        A directory of result records (``hwsim bench --out``); every ``*.json`` in it that
        is not a record is skipped and counted.
    out : str or Path, optional
        The Markdown file to write (an existing directory gets ``report.md``); default
        ``results_dir / "report.md"``. Plots are written next to it as
        ``<stem>_gap.png``, ``<stem>_nonideality.png``, ``<stem>_pareto.png`` and
        ``<stem>_speed.png``.

    Returns
    -------
    pathlib.Path
        The report written.

    Raises
    ------
    ConfigError
        If ``results_dir`` is not a directory or holds no result record.
    """
    results_dir = Path(results_dir)
    records = load_records(results_dir)
    if not records.ok and not records.failed:
        raise ConfigError(f"benchmark report: results_dir {str(results_dir)!r} holds no "
                          f"result records ({len(records.skipped)} other JSON file(s)); give "
                          "the --out directory of a `hwsim bench` run")
    out = _resolve_out(results_dir, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = gap_to_ideal([Row.from_record(r) for r in records.ok], records.failed)
    lines = _header(results_dir, records) + [""] + _summary_section(rows)
    lines += _plot_sections(rows, out, _can_plot())
    lines += _failed_section(records)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(out)
    return out


def _png(out, name):
    return out.with_name(f"{out.stem}_{name}.png")


def _summary_section(rows):
    lines = ["## Summary", ""]
    lines += summary_table(rows) if rows else ["No point succeeded."]
    return lines + [
        "", "Energy and latency are the cost model's estimates (`hwsim.cost`) per inference "
        "and per training step (`-` where no hardware cost applies, as for a QUNN). "
        "Samples/s is training samples per second of wall-clock emulation. The gap to ideal "
        "compares a device row with the ideal row of the same point: `ideal - device` for "
        "accuracy, `device - ideal` for NRMSE and MSE, so a positive gap means the device "
        "target is worse.", ""]


def _plot_sections(rows, out, can_plot):
    """The four plot sections, with their tables; each plot is drawn with its section.

    A section with nothing to draw says so (and removes a stale PNG of an earlier report);
    without matplotlib the sections keep their tables and the report says how to get plots.
    """
    gaps = [r for r in rows if r.gap is not None and _finite(r.gap)]
    groups = pareto_groups(rows)
    # (title, PNG name, anything to draw, draw, caption, why nothing, table lines)
    sections = [
        ("Gap to the ideal target", "gap", bool(gaps), lambda path: plot_gap(gaps, path),
         "Bars right of zero (red) are quality lost on the device target; left of zero "
         "(green), the device did as well or better.",
         "No device row has an ideal partner: nothing to plot.", []),
        ("Accuracy against device non-ideality", "nonideality", bool(nonideality_rows(rows)),
         lambda path: plot_nonideality(rows, path),
         "One panel per device parameter (its value in the resolved device model), one row "
         "of panels per metric; grey bars mark the ideal target of the same point.",
         "No device row with device parameters: nothing to plot.", []),
        ("Energy-accuracy Pareto front", "pareto", bool(groups),
         lambda path: plot_pareto(groups, path),
         "Device target, per task: a point is on the front (outlined, dashed line) when no "
         "other point reaches an equal or better metric at equal or lower energy per "
         "inference. The members:", "No device row with an energy estimate: no Pareto front.",
         pareto_table(groups) if groups else []),
        ("Emulation speed", "speed", bool(rows), lambda path: plot_speed(rows, path),
         "Training samples per second of wall-clock emulation on each target (ideal: float "
         "tiles; device: device physics and periphery).",
         "No successful row: nothing to plot.", speed_table(rows) if rows else []),
    ]
    lines = [] if can_plot else [PLOT_HINT, ""]
    for title, name, present, draw, caption, missing, table in sections:
        path = _png(out, name)
        lines += [f"## {title}", ""]
        if not present:
            path.unlink(missing_ok=True)
            lines += [missing, ""]
            continue
        if can_plot:
            draw(path)
            lines += [f"![{title}]({path.name})", ""]
        lines += [caption, ""] + (table + [""] if table else [])
    return lines


def _failed_section(records):
    lines = ["## Failed points", ""]
    lines += failed_table(records.failed) if records.failed else ["None."]
    lines.append("")
    if records.skipped:
        lines += ["## Skipped files", "", f"{len(records.skipped)} JSON file(s) in the "
                  "directory are not result records:", ""]
        lines += [f"- `{name}`: {_cell(reason)}" for name, reason in records.skipped]
        lines.append("")
    return lines
