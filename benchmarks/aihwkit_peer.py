"""Benchmark peer: time IBM aihwkit's pulsed analog-tile update.

Runs ONLY inside the separate aihwkit venv made by ``setup_aihwkit_peer.sh``
(it imports torch and aihwkit; the hwsim package never imports this file)::

    ~/.cache/hwsim/aihwkit-venv/bin/python benchmarks/aihwkit_peer.py \
        --config CONFIG.json --out OUT.json

CONFIG.json keys (all but ``device`` optional)::

    device   {"class": "SoftBoundsDevice", "dw_min": 0.001, ...}
             class name from aihwkit.simulator.configs.devices, other keys are
             that dataclass's fields (enum fields may be given by member name)
    update   aihwkit UpdateParameters fields, e.g.
             {"desired_bl": 31, "update_bl_management": true,
              "update_management": true, "pulse_type": "STOCHASTIC_COMPRESSED"}
    rows     tile output size (d size), default 512
    cols     tile input size (x size), default 512
    batch    update batch size, default 64
    lr       learning rate (positive; aihwkit applies it as gradient descent)
    repeats  timed update calls after one warm-up, default 20
    threads  thread count for every thread pool (torch, aihwkit's own OpenMP)
    seed     seed of the x / d inputs (torch.Generator)

Semantics (aihwkit 1.1.0, checked with an ideal-ish ConstantStepDevice):
``tile.set_learning_rate(lr); tile.update(x, d)`` with x ``[batch, cols]`` and
d ``[batch, rows]`` changes the weights by, in expectation,
``dW = -lr * d^T x`` (summed over the batch, not averaged).  ``expected`` below
is exactly that matrix.

Gotcha: aihwkit's C++ pulse RNG is seeded non-reproducibly and 1.1.0 exposes no
way to seed it from Python, so ``dw`` differs run to run even with the same
``seed``; only x and d are reproducible.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import os
import statistics
import sys
import time
from typing import Any, Dict


def _load_config(path: str) -> Dict[str, Any]:
    with open(path, "r", encoding="utf-8") as handle:
        cfg = json.load(handle)
    if not isinstance(cfg.get("device"), dict) or "class" not in cfg["device"]:
        raise SystemExit("config: 'device' must be a dict with a 'class' key")
    cfg.setdefault("update", {})
    cfg.setdefault("rows", 512)
    cfg.setdefault("cols", 512)
    cfg.setdefault("batch", 64)
    cfg.setdefault("lr", 0.01)
    cfg.setdefault("repeats", 20)
    cfg.setdefault("threads", 1)
    cfg.setdefault("seed", 0)
    return cfg


def _pin_threads_env(threads: int) -> None:
    # aihwkit's wheel bundles its OWN libgomp and OpenBLAS (aihwkit.libs/),
    # separate from torch's, so torch.set_num_threads() alone does not bound
    # the C++ update's OpenMP loops. Set the env before anything is imported.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)


def _coerce(cls: type, params: Dict[str, Any]) -> Dict[str, Any]:
    """Check names against the dataclass and turn enum-member names to enums."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    defaults = cls()
    out: Dict[str, Any] = {}
    for name, value in params.items():
        if name not in fields:
            raise SystemExit(f"config: {cls.__name__} has no field {name!r}")
        default = getattr(defaults, name)
        if isinstance(default, enum.Enum) and isinstance(value, str):
            value = type(default)[value]
        out[name] = value
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True, help="CONFIG.json")
    parser.add_argument("--out", required=True, help="OUT.json to write")
    args = parser.parse_args()

    cfg = _load_config(args.config)
    threads = int(cfg["threads"])
    _pin_threads_env(threads)

    import torch  # pylint: disable=import-outside-toplevel
    import aihwkit  # pylint: disable=import-outside-toplevel
    from aihwkit.simulator.configs import SingleRPUConfig  # pylint: disable=import-outside-toplevel
    from aihwkit.simulator.configs import devices as aihw_devices  # pylint: disable=import-outside-toplevel
    from aihwkit.simulator.parameters import UpdateParameters  # pylint: disable=import-outside-toplevel

    torch.set_num_threads(threads)
    try:  # belt and braces: also cap every loaded pool at run time
        from threadpoolctl import threadpool_limits  # pylint: disable=import-outside-toplevel

        threadpool_limits(limits=threads)
    except ImportError:  # pragma: no cover - sklearn brings threadpoolctl
        pass

    dev_params = dict(cfg["device"])
    dev_name = dev_params.pop("class")
    dev_cls = getattr(aihw_devices, dev_name, None)
    if dev_cls is None or not isinstance(dev_cls, type):
        raise SystemExit(f"config: no device class {dev_name!r} in aihwkit.simulator.configs.devices")
    device = dev_cls(**_coerce(dev_cls, dev_params))
    update = UpdateParameters(**_coerce(UpdateParameters, cfg["update"]))
    rpu_config = SingleRPUConfig(device=device, update=update)

    rows, cols, batch = int(cfg["rows"]), int(cfg["cols"]), int(cfg["batch"])
    lr = float(cfg["lr"])
    repeats = max(1, int(cfg["repeats"]))

    def fresh_tile():
        # rpu_config.tile_class is aihwkit.simulator.tiles.AnalogTile (CPU)
        tile = rpu_config.tile_class(rows, cols, rpu_config)  # (out_size, in_size)
        tile.set_weights(torch.zeros(rows, cols))
        tile.set_learning_rate(lr)
        return tile

    gen = torch.Generator().manual_seed(int(cfg["seed"]))

    def rand(*shape):
        return torch.rand(*shape, generator=gen) * 2.0 - 1.0

    # --- single update from zero weights on a fresh tile -------------------
    x0, d0 = rand(batch, cols), rand(batch, rows)
    tile = fresh_tile()
    w_before = tile.get_weights()[0].clone()
    tile.update(x0, d0)
    dw = (tile.get_weights()[0] - w_before).double()
    expected = (-lr * (d0.T.double() @ x0.double()))
    exp_sq = float((expected * expected).sum())
    slope = float((dw * expected).sum()) / exp_sq if exp_sq > 0 else float("nan")
    corr = float(torch.corrcoef(torch.stack([dw.flatten(), expected.flatten()]))[0, 1])

    # --- timing -----------------------------------------------------------
    tile = fresh_tile()
    inputs = [(rand(batch, cols), rand(batch, rows)) for _ in range(repeats + 1)]
    tile.update(*inputs[0])  # warm-up
    times = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for x, d in inputs[1:]:
        t0 = time.perf_counter()
        tile.update(x, d)
        times.append(time.perf_counter() - t0)
    # process CPU time / wall time over the timed loop: ~1.0 means one core
    # busy (aihwkit 1.1.0's CPU update is effectively single-threaded).
    cpu_util = (time.process_time() - cpu0) / max(time.perf_counter() - wall0, 1e-12)
    median_s = statistics.median(times)

    out: Dict[str, Any] = {
        "aihwkit_version": aihwkit.__version__,
        "torch_version": torch.__version__,
        "threads": threads,
        "rows": rows,
        "cols": cols,
        "batch": batch,
        "bl": update.desired_bl,
        "update_bl_management": update.update_bl_management,
        "update_management": update.update_management,
        "pulse_type": update.pulse_type.name,
        "device": cfg["device"],
        "lr": lr,
        "seed": int(cfg["seed"]),
        "repeats": repeats,
        "median_s": median_s,
        "min_s": min(times),
        "cell_updates_per_s": rows * cols * batch / median_s,
        "cpu_utilization": cpu_util,
        "dw_convention": "expected = -lr * d^T x (batch-summed); dw = W_after - W_before",
        "mean_dw": float(dw.mean()),
        "mean_expected": float(expected.mean()),
        "slope": slope,
        "corr": corr,
    }
    if rows * cols <= 4096:
        out["dw"] = dw.tolist()
        out["expected"] = expected.tolist()
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(out, handle, indent=1)
    print(
        f"aihwkit {out['aihwkit_version']} {dev_name} {rows}x{cols} batch {batch} BL {out['bl']} "
        f"threads {threads}: median {median_s * 1e3:.3f} ms/update, "
        f"{out['cell_updates_per_s']:.3e} cell-updates/s, slope {slope:.4f}, corr {corr:.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
