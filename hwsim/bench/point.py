"""Running one benchmark point: build, train, measure, and return its result record.

A point (see :mod:`hwsim.bench.suite`) is run exactly as ``hwsim run`` runs one target of a
configuration (:func:`hwsim.experiments.main_run.measure_target`, or
:func:`~hwsim.experiments.main_run.measure_qunn` for a QUNN), without checkpoints: a point
is small, and the sweep runner's unit of resumption is the whole point. Any exception while
building or training (a diverging run, a bug) becomes a record with status ``"error"`` and
the exception's type, message and traceback, so that one bad point never stops a sweep.
"""

import datetime
import platform
import traceback

import numpy as np

from .. import __version__
from .schema import SCHEMA_VERSION
from .suite import pair_key, point_config, point_key

__all__ = ["run_point", "error_record", "environment", "device_params"]

_HIGHER_IS_BETTER = {"accuracy": True, "nrmse": False, "mse": False}
_PARAMS = ("dw_min", "up_down", "write_noise_std", "dw_min_std", "w_min", "w_max")


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


def environment():
    """Versions and threads of this process (where the point ran)."""
    import numba
    return {"hwsim": __version__, "python": platform.python_version(),
            "numpy": np.__version__, "numba": numba.__version__,
            "threads": int(numba.get_num_threads()), "platform": platform.platform()}


def device_params(point, config):
    """The key parameters of the point's device model (None for a QUNN, which has none)."""
    if point["network"]["kind"] == "qunn":
        return None
    model = config.make_device()
    return {"family": type(model).__name__, "preset": point["device"].get("preset"),
            **{name: float(getattr(model, name)) for name in _PARAMS}}


def _weight_stats(values, at_bounds):
    values = np.concatenate([np.ravel(v) for v in values]) if values else np.zeros(1)
    return {"mean": float(values.mean()), "std": float(values.std()),
            "min": float(values.min()), "max": float(values.max()),
            "frac_at_bounds": at_bounds}


def _frac_at_bounds(tiles):
    """Fraction of devices within one step of a hard bound (None when no tile has plain
    device arrays, e.g. float tiles on the ideal target or unit cells)."""
    import devices
    hits = total = 0
    for tile in tiles:
        arr = getattr(tile, "array", None)
        if not isinstance(arr, devices.DeviceArray):
            continue
        w = arr.hidden_weights
        hits += int(np.count_nonzero((w <= arr.bmin + arr.dw_down) | (w >= arr.bmax - arr.dw_up)))
        total += w.size
    return hits / total if total else None


def _per(value, count):
    return None if value is None else value / count


def _tile_metrics(config, task, target):
    """Train a tile network (mlp or compiled ODERNN) on ``target`` and measure it."""
    from ..experiments.main_run import build_graph, measure_target
    graph, _ = build_graph(config, task)
    summary, _, trainer = measure_target(config, graph, task, target, progress=False)
    tiles = [trainer.sim.tiles[name] for name in graph.tiles]
    weights = _weight_stats([t.weights() for t in tiles], _frac_at_bounds(tiles))
    infer, train = summary["cost_inference"], summary["cost_training"]
    cost = {
        "energy_per_inference_J": infer["energy_per_inference_j"],
        "latency_per_inference_s": infer["latency_per_inference_s"],
        "energy_per_train_step_J": train["energy_per_inference_j"],
        "latency_per_train_step_s": train["latency_per_inference_s"],
        "area_mm2": infer["area_um2"] * 1e-6,
    }
    return summary, weights, cost


def _qunn_metrics(config, task, target):
    """Train a QUNN and score it on ``target``; no tiles, so no hardware cost."""
    from ..experiments.main_run import measure_qunn
    summary, _, model = measure_qunn(config, task, target, progress=False)
    weights = _weight_stats([model.parameters], None)
    cost = dict.fromkeys(("energy_per_inference_J", "latency_per_inference_s",
                          "energy_per_train_step_J", "latency_per_train_step_s", "area_mm2"))
    return summary, weights, cost


def _metrics(point):
    config = point_config(point)
    task = config.make_task()
    measure = _qunn_metrics if point["network"]["kind"] == "qunn" else _tile_metrics
    summary, weights, cost = measure(config, task, point["target"])
    metric = summary["metric"]
    return {
        "task_metric": {"name": metric, "value": float(summary["final_metric"]),
                        "higher_is_better": _HIGHER_IS_BETTER[metric]},
        "curve": [float(h["test_metric"]) for h in summary["history"]],
        **cost,
        "pulses": int(summary["pulses"]),
        "dac_conversions": int(summary["conversions"]["dac"]),
        "adc_conversions": int(summary["conversions"]["adc"]),
        "weights": weights,
        "wall_time_s": float(summary["train_seconds"]),
        "train_samples_per_s": float(summary["train_samples_per_s"] or 0.0),
    }, device_params(point, config)


def _error(exc):
    return {"type": type(exc).__name__, "message": str(exc),
            "traceback": "".join(traceback.format_exception(exc))}


def run_point(point, suite):
    """Run one resolved point and return its result record (never raises for a failed run).

    Parameters
    ----------
    point : dict
        A resolved point (:func:`hwsim.bench.suite.resolve_point`).
    suite : str
        The suite's name, recorded in the result.

    Returns
    -------
    dict
        A record of :data:`hwsim.bench.schema.RESULT_SCHEMA`: status ``"ok"`` with metrics,
        or ``"error"`` with the exception (type, message, traceback).
    """
    started = _now()
    try:
        metrics, params = _metrics(point)
    except Exception as exc:  # a failed point is a result, not the end of the sweep
        return error_record(point, suite, exc, started)
    return _record(point, suite, started, metrics=metrics, device_params=params)


def error_record(point, suite, exc, started=None):
    """The status ``"error"`` record of ``point`` for the exception ``exc`` (also used by
    the runner when a worker died before it could return a record)."""
    try:
        params = device_params(point, point_config(point))
    except Exception:  # the device itself may be what is wrong
        params = None
    return _record(point, suite, started or _now(), status="error", error=_error(exc),
                   device_params=params)


def _record(point, suite, started, status="ok", error=None, metrics=None, device_params=None):
    return {"schema_version": SCHEMA_VERSION, "key": point_key(point),
            "pair_key": pair_key(point), "suite": suite, "point": point, "status": status,
            "error": error, "metrics": metrics, "device_params": device_params,
            "environment": environment(), "started": started, "finished": _now()}
