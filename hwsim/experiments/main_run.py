"""The main job, ``hwsim run [CONFIG.toml]``: one network trained on both targets.

By default an ODERNN (an RK2 step of a vanilla cell, 32 hidden units, syre) is compiled by
:mod:`compiler` onto ECRAM tiles and trained to predict the Mackey-Glass series one step
ahead; a config file can ask for any ODERNN or a plain multi-layer perceptron instead. The
same device graph is trained on the ideal target (float tiles) and on the device target
(analog tiles: device physics, DAC/ADC periphery, pulsed updates, errors from analog
transposed reads), from the same initial weights and data order. The job prints a table of
the task metric, the energy and latency per inference and per training sample, the pulses
and the emulation wall time of each target, and writes ``run.json`` and ``run.png``
(learning curves and test predictions) to its results folder.
"""

import platform
import shutil
import time
from pathlib import Path

import numpy as np

from .. import __version__
from .run_config import load_run_config
from ..cost import estimate
from ..io_utils import PlotUnavailable, pyplot, save_figure, write_json
from ..networks import mlp
from ..progress import progress_bar
from ..train import Trainer

TARGETS = ("ideal", "device")


def build_graph(config, task):
    """The run's device graph and, for an ODERNN, ``(compile result, stability warnings)``
    (else None)."""
    kind = config.network.get("kind", "odernn")
    if kind == "mlp":
        net = config.network
        sizes = [task.input_size, *net.get("hidden", []), task.output_size]
        graph = mlp(sizes, net.get("activation", "tanh"),
                    output_activation=net.get("output_activation", "identity"),
                    device=config.make_device(), io=config.make_io(),
                    update=config.make_update(), name="run")
        return graph, None
    import warnings

    import compiler
    spec = config.make_spec(task)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", compiler.StabilityWarning)
        compiled = compiler.compile(spec, target="device", tile_size=config.tile_size(),
                                    device=config.make_device(), io=config.make_io(),
                                    update=config.make_update(), seed=config.seed,
                                    cost_table=config.make_cost_table())
    for w in caught:
        if not issubclass(w.category, compiler.StabilityWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return compiled.graph, (compiled, [str(w.message) for w in caught
                                       if issubclass(w.category, compiler.StabilityWarning)])


def _cost(tiles, table, inferences, digital_ops):
    counters = {name: (dict(t.counters), (t.out_size, t.in_size)) for name, t in tiles.items()}
    return estimate(counters, table, inferences=inferences, digital_ops=digital_ops)


def _reset_counters(tiles):
    for tile in tiles.values():
        tile.reset_counters()


def _activations(graph):
    """Digital elementwise operations per sample (one per element of each function)."""
    sizes = graph.build().sizes
    return sum(sizes[op.y] for op in graph.ops if op.kind == "Elementwise")


def _conversions(tiles):
    """DAC and ADC conversions counted by ``tiles`` (both read directions)."""
    return {kind: sum(int(t.counters.get(f"{kind}_{d}", 0)) for t in tiles.values()
                      for d in ("forward", "backward")) for kind in ("dac", "adc")}


def measure_target(config, graph, task, target, checkpoint_dir=None, progress=True):
    """Train ``graph`` on one target, then measure cost and speed.

    Parameters
    ----------
    config : RunConfig
    graph : DeviceGraph
    task : Task
    target : {"ideal", "device"}
    checkpoint_dir : Path, optional
        Checkpoint after every epoch here (and resume from a checkpoint found there).
    progress : bool

    Returns
    -------
    summary : dict
        Metric and history, wall time and samples per second, pulses, DAC/ADC conversions
        of training, and the cost reports of training and of inference on the test split.
    predictions : ndarray
        Test-split predictions of the trained network.
    trainer : Trainer
        The trained trainer (its simulator holds the final tiles).
    """
    trainer = Trainer(graph, task, config.make_rule(), target=target,
                      epochs=config.train.get("epochs", 10),
                      batch_size=config.train.get("batch_size", 16), seed=config.seed,
                      checkpoint_dir=checkpoint_dir, progress=progress)
    t0 = time.perf_counter()
    result = trainer.fit()
    seconds = time.perf_counter() - t0
    tiles = trainer.sim.tiles
    # An inference is one prediction: one sample, or one time step of a sequence.
    steps = task.x_train.shape[1] if task.layout == "sequence" else 1
    n_train = task.x_train.shape[0] * steps * (len(result.history) - result.resumed_from)
    per_sample_ops = _activations(graph)
    table = config.make_cost_table()
    training = _cost(tiles, table, n_train, per_sample_ops * n_train)
    conversions = _conversions(tiles)
    _reset_counters(tiles)
    t1 = time.perf_counter()
    predictions = trainer.predict(task.x_test)
    infer_seconds = time.perf_counter() - t1
    n_test = task.x_test.shape[0] * steps
    inference = _cost(tiles, table, n_test, per_sample_ops * n_test)
    pulses = sum(h["pulses"] for h in result.history)
    summary = {
        "target": target, "metric": result.metric, "final_metric": result.final_metric,
        "history": result.history, "train_seconds": seconds,
        "train_samples_per_s": n_train / seconds if seconds > 0 else None,
        "sample_unit": "time step" if steps > 1 else "sample",
        "inference_seconds": infer_seconds, "pulses": pulses, "conversions": conversions,
        "resumed_from_epoch": result.resumed_from,
        "cost_inference": inference.to_dict(), "cost_training": training.to_dict(),
    }
    return summary, predictions, trainer


def train_target(config, graph, task, target, out, resume, progress):
    """Train on one target with checkpoints under ``out``; return its summary dict and the
    test predictions."""
    ckpt = out / "checkpoints" / target
    if not resume and ckpt.exists():
        shutil.rmtree(ckpt)
    summary, predictions, _ = measure_target(config, graph, task, target, ckpt, progress)
    return summary, predictions


def measure_qunn(config, task, target, progress=True):
    """Train a ``qunn`` network and measure it on one target.

    The QUNN trains noise-free on both targets (Adam on the exact gradient of the clock
    couplings, :func:`qunn.train`, one step per epoch on the whole training set; the model
    keeps the best parameters seen). The ideal target scores the noise-free model; the device
    target scores the same parameters under the qubits' noise of ``[device]`` (QuTiP
    ``mesolve``). There are no tiles, so no pulses, conversions or hardware cost.

    Returns
    -------
    summary : dict
        The keys of :func:`measure_target`'s summary (the cost reports None) and
        ``parameters``, the trained parameter vector.
    predictions : ndarray, shape (n_test, T, 1)
    model : qunn.QUNN
        The trained (noise-free) model.
    """
    import qunn

    model = config.make_qunn(task)
    noise = config.make_qunn_noise()
    scored = model if target == "ideal" or noise.is_zero else config.make_qunn(task, noise)
    xs, ys = task.x_train, task.y_train[..., 0]
    epochs = config.train.get("epochs", 10)
    history = []
    clock = [time.perf_counter()]

    def evaluate():
        scored.parameters = model.parameters
        pred = np.array([scored.predict(x) for x in task.x_test])[..., None]
        return float(task.loss(pred)), float(task.score(pred)), pred

    def record(step, loss):
        test_loss, test_metric, pred = evaluate()
        now = time.perf_counter()
        history.append({"epoch": step, "train_loss": float(loss), "test_loss": test_loss,
                        "test_metric": test_metric, "pulses": 0,
                        "seconds": now - clock[0]})
        clock[0] = now
        return pred

    t0 = time.perf_counter()
    with progress_bar(epochs, f"train qunn ({target})", enabled=progress) as bar:
        def on_step(step, loss, _model):
            # called before step ``step``'s update, so the parameters are those after
            # ``step`` updates: the end of epoch ``step``
            if step > 0:
                record(step, loss)
                bar.update(1)
                bar.note(f"epoch {step}/{epochs}  test {task.metric} "
                         f"{history[-1]['test_metric']:.4g}")

        trained = qunn.train(model, xs, ys, steps=epochs, lr=config.make_qunn_lr(),
                             progress=on_step)
        predictions = record(epochs, trained.losses[-1])
        bar.update(1)
    seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    evaluate()
    infer_seconds = time.perf_counter() - t1
    n_train = xs.shape[0] * xs.shape[1] * epochs
    summary = {
        "target": target, "metric": task.metric, "final_metric": history[-1]["test_metric"],
        "history": history, "train_seconds": seconds,
        "train_samples_per_s": n_train / seconds if seconds > 0 else None,
        "sample_unit": "time step", "inference_seconds": infer_seconds, "pulses": 0,
        "conversions": {"dac": 0, "adc": 0}, "resumed_from_epoch": 0,
        "cost_inference": None, "cost_training": None,
        "parameters": model.parameters.tolist(),
    }
    return summary, predictions, model


def _fmt_si(value, unit):
    if value is None:
        return "-"
    for scale, prefix in ((1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "u"), (1e-3, "m"),
                          (1.0, "")):
        if abs(value) < scale * 1000:
            return f"{value / scale:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def _hw(result, cost, key, unit):
    """A hardware cost figure; the ideal target is the float reference, not hardware."""
    if result["target"] == "ideal" or result[cost] is None:
        return "-"
    return _fmt_si(result[cost][key], unit)


def summary_table(results, metric):
    """The printed comparison, one column per target."""
    rows = [("", *(r["target"] for r in results))]
    rows.append((f"test {metric}", *(f"{r['final_metric']:.4f}" for r in results)))
    rows.append(("energy / prediction",
                 *(_hw(r, "cost_inference", "energy_per_inference_j", "J") for r in results)))
    rows.append(("latency / prediction",
                 *(_hw(r, "cost_inference", "latency_per_inference_s", "s") for r in results)))
    rows.append(("energy / training step",
                 *(_hw(r, "cost_training", "energy_per_inference_j", "J") for r in results)))
    rows.append(("pulses", *(f"{r['pulses']:,}" for r in results)))
    rows.append(("emulation time", *(f"{r['train_seconds']:.1f} s" for r in results)))
    unit = "steps" if results and results[0].get("sample_unit") == "time step" else "samples"
    rows.append((f"train {unit} / s", *(f"{r['train_samples_per_s']:,.0f}"
                                        if r["train_samples_per_s"] else "-" for r in results)))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                               for i, (c, w) in enumerate(zip(row, widths))) for row in rows)


def plot(results, task, predictions, path):
    """Learning curves of both targets and test predictions against the truth."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ax = axes[0]
    colors = {"ideal": "C0", "device": "C3"}
    for r in results:
        epochs = [h["epoch"] for h in r["history"]]
        c = colors.get(r["target"])
        ax.plot(epochs, [h["test_metric"] for h in r["history"]], marker="o", ms=3, color=c,
                label=f"{r['target']}: test {task.metric}")
        ax.plot(epochs, [h["train_loss"] for h in r["history"]], ls="--", lw=1, color=c,
                label=f"{r['target']}: train loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"test {task.metric} / train loss")
    ax.set_yscale("log")
    ax.set_title("learning curves")
    ax.legend(fontsize=8)
    ax = axes[1]
    y = np.asarray(task.y_test)
    if task.kind == "regression" and y.ndim in (2, 3):
        # sequences: the first test sequences one after the other
        flat = (lambda a: a[:, :, 0].reshape(-1)) if y.ndim == 3 else (lambda a: a[:, 0])
        n = min(200, flat(y).size)
        ax.plot(flat(y)[:n], color="k", lw=1.5, label="truth")
        for r in results:
            ax.plot(flat(predictions[r["target"]])[:n], lw=1, label=r["target"],
                    color=colors.get(r["target"]))
        ax.set_xlabel("test step" if y.ndim == 3 else "test sample")
        ax.set_ylabel("output 0")
        ax.set_title(f"{task.name}: prediction vs truth")
    else:
        names = [r["target"] for r in results]
        ax.bar(names, [r["final_metric"] for r in results], color=["C0", "C1"])
        ax.set_ylabel(f"test {task.metric}")
        ax.set_title(task.name)
    ax.legend(fontsize=8) if ax.get_legend_handles_labels()[0] else None
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
    return path


def run(config_path=None, out=None, resume=False, progress=True, echo=print):
    """Run the main job; returns the results dict (also written to ``out/run.json``)."""
    config = load_run_config(config_path)
    out = Path(out or config.out)
    task = config.make_task()
    if config.network.get("kind") == "qunn":
        return _run_qunn(config, task, out, progress, echo)
    graph, compiled = build_graph(config, task)
    echo(f"hwsim run: {task!r}")
    if compiled is not None:
        compiled, stability_warnings = compiled
        rep = compiled.report
        echo(f"  compiled {compiled.spec.describe()}")
        echo(f"  {len(graph.tiles)} tiles of {config.tile_size()}x{config.tile_size()}, "
             f"stability {compiled.stability.verdict}; syre "
             f"{'on' if compiled.spec.syre is not None else 'off'}")
        for message in stability_warnings:
            echo(f"  warning: {message}")
    else:
        rep = None
        shapes = ", ".join(f"{name} {t.out_size}x{t.in_size}"
                           for name, t in graph.tiles.items())
        echo(f"  tiles {shapes}")
    echo(f"  device {type(config.make_device()).__name__} {config.device}; io {config.io}; "
         f"rule {config.rule}")
    results, predictions = [], {}
    for target in TARGETS:
        summary, pred = train_target(config, graph, task, target, out, resume, progress)
        results.append(summary)
        predictions[target] = pred
    echo("")
    echo(summary_table(results, task.metric))
    data = {"hwsim_version": __version__, "config": config.to_dict(),
            "task": repr(task), "graph": graph.to_dict(), "results": results,
            "compile_report": None if rep is None else rep.to_dict(),
            "machine": {"python": platform.python_version(),
                        "platform": platform.platform()}}
    _write(data, results, task, predictions, out, echo)
    return data


def _write(data, results, task, predictions, out, echo):
    """``run.json`` and ``run.png`` in ``out``."""
    json_path = write_json(out / "run.json", data)
    echo(f"\nwrote {json_path}")
    try:
        echo(f"wrote {plot(results, task, predictions, out / 'run.png')}")
    except PlotUnavailable as exc:
        echo(f"no plot: {exc}")


def _run_qunn(config, task, out, progress, echo):
    """The main job for a ``qunn`` network: no tiles, no compile report."""
    echo(f"hwsim run: {task!r}")
    echo(f"  {config.make_qunn(task)!r}; device target noise {config.make_qunn_noise()}")
    results, predictions = [], {}
    for target in TARGETS:
        summary, pred, _ = measure_qunn(config, task, target, progress)
        results.append(summary)
        predictions[target] = pred
    echo("")
    echo(summary_table(results, task.metric))
    data = {"hwsim_version": __version__, "config": config.to_dict(), "task": repr(task),
            "graph": None, "results": results, "compile_report": None,
            "machine": {"python": platform.python_version(), "platform": platform.platform()}}
    _write(data, results, task, predictions, out, echo)
    return data
