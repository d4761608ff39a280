"""Benchmark peer: training throughput of an aihwkit ``AnalogSequential`` MLP.

Runs ONLY inside the separate aihwkit venv made by ``setup_aihwkit_peer.sh`` (it imports
torch and aihwkit; the hwsim package never imports this file)::

    ~/.cache/hwsim/aihwkit-venv/bin/python benchmarks/aihwkit_train_peer.py \
        --config CONFIG.json --out OUT.json

The network is ``AnalogSequential(AnalogLinear(n_in, hidden, bias=False), Tanh(),
AnalogLinear(hidden, n_out, bias=False))``, every layer with one ``SingleRPUConfig``
(device, forward and backward ``IOParameters``, ``UpdateParameters``), trained with
``AnalogSGD`` on mini-batches. An epoch is what ``hwsim.Trainer`` does in one epoch: every
training batch (forward, loss, backward, optimizer step) in a shuffled order, then one
forward pass over the test split. Throughput is ``n_train / median(epoch seconds)`` over
``repeats`` epochs after ``warmup`` epochs, for each thread count.

CONFIG.json keys (``data`` required)::

    data        path of an .npz with x_train, y_train, x_test, y_test (float arrays,
                (samples, features)) and optionally w1 (hidden, n_in), w2 (n_out, hidden):
                initial weights (default: aihwkit's own, torch.nn.Linear's init)
    hidden      hidden width, default 64
    device      {"class": "EcRamPresetDevice", ...}: a class of
                aihwkit.simulator.configs.devices or aihwkit.simulator.presets.devices,
                the other keys that dataclass's fields (enum fields by member name)
    forward_io  IOParameters fields of the forward read, default {} (aihwkit defaults)
    backward_io IOParameters fields of the backward read, default {}
    update      UpdateParameters fields, default {} (BL 31, both managements on)
    lr          AnalogSGD learning rate, default 0.05
    batch_size  default 16
    warmup      untimed epochs before the timed ones, default 1
    repeats     timed epochs, default 5
    threads     list of thread counts, default [1, 2]; a fresh model is trained per count
    seed        torch seed and data order, default 0

The loss is hwsim's ``mse``: ``sum((y - t)**2) / (2 B)`` (half the squared error summed over
outputs, averaged over the batch), so the gradient reaching the last layer is ``(y - t) / B``
exactly as in hwsim and the same ``lr`` means the same update. The batch order of epoch
``e`` is ``numpy.random.default_rng([seed, e]).permutation(n_train)``, hwsim.Trainer's.

OUT.json: ``status`` ("ok" or "error" with ``message``), versions, the configuration as
built (``rpu_config`` repr), and per thread count ``samples_per_s`` (whole epoch),
``train_samples_per_s`` (training batches only), medians, CPU utilisation, and the loss
history (``train_loss`` per epoch, ``test_loss``, ``test_nrmse``).

Gotcha: aihwkit's C++ RNG is seeded non-reproducibly (1.1.0 exposes no seed), so losses
vary slightly from run to run even with the same ``seed``.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import os
import platform
import statistics
import sys
import time
import traceback
from typing import Any, Dict, List


def _pin_threads_env(threads: int) -> None:
    # aihwkit's wheel bundles its OWN libgomp and OpenBLAS (aihwkit.libs/), separate from
    # torch's; the env caps every pool at start-up, before anything is imported. Per
    # measurement the count is then lowered with torch.set_num_threads + threadpoolctl.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)


def _coerce(cls: type, params: Dict[str, Any]) -> Dict[str, Any]:
    """Check names against the dataclass and turn enum-member names into enums."""
    fields = {f.name for f in dataclasses.fields(cls)}
    defaults = cls()
    out: Dict[str, Any] = {}
    for name, value in params.items():
        if name not in fields:
            raise ValueError(f"config: {cls.__name__} has no field {name!r}; fields: "
                             f"{', '.join(sorted(fields))}")
        default = getattr(defaults, name)
        if isinstance(default, enum.Enum) and isinstance(value, str):
            enum_cls = type(default)
            key = value.split(".")[-1]  # accept "PulseType.STOCHASTIC_COMPRESSED" too
            try:
                value = enum_cls[key]
            except KeyError:
                raise ValueError(f"config: {cls.__name__}.{name} must be one of "
                                 f"{[m.name for m in enum_cls]}, got {value!r}") from None
        out[name] = value
    return out


def _load_config(path: str) -> Dict[str, Any]:
    with open(path, "r", encoding="utf-8") as handle:
        cfg = json.load(handle)
    if not isinstance(cfg, dict) or "data" not in cfg:
        raise ValueError("config: needs a 'data' key (path of the .npz with the task data)")
    cfg.setdefault("hidden", 64)
    cfg.setdefault("device", {"class": "EcRamPresetDevice"})
    cfg.setdefault("forward_io", {})
    cfg.setdefault("backward_io", {})
    cfg.setdefault("update", {})
    cfg.setdefault("lr", 0.05)
    cfg.setdefault("batch_size", 16)
    cfg.setdefault("warmup", 1)
    cfg.setdefault("repeats", 5)
    cfg.setdefault("threads", [1, 2])
    cfg.setdefault("seed", 0)
    if not isinstance(cfg["device"], dict) or "class" not in cfg["device"]:
        raise ValueError("config: 'device' must be a dict with a 'class' key")
    threads = cfg["threads"]
    if isinstance(threads, int):
        threads = [threads]
    if not threads or any(int(t) < 1 for t in threads):
        raise ValueError(f"config: 'threads' must be a list of counts >= 1, got {threads!r}")
    cfg["threads"] = [int(t) for t in threads]
    return cfg


def _non_default(obj: Any) -> Dict[str, Any]:
    """Fields of a dataclass instance that differ from its class defaults (as strings)."""
    base = type(obj)()
    out = {}
    for field in dataclasses.fields(obj):
        value, default = getattr(obj, field.name), getattr(base, field.name)
        if value != default:
            out[field.name] = {"value": str(value), "default": str(default)}
    return out


def _device(spec: Dict[str, Any]):
    """An aihwkit device object from ``{"class": NAME, field: value, ...}``."""
    # pylint: disable=import-outside-toplevel
    from aihwkit.simulator.configs import devices as config_devices
    from aihwkit.simulator.presets import devices as preset_devices

    params = dict(spec)
    name = params.pop("class")
    for module in (config_devices, preset_devices):
        cls = getattr(module, name, None)
        if isinstance(cls, type) and dataclasses.is_dataclass(cls):
            return cls(**_coerce(cls, params))
    raise ValueError(f"config: no device class {name!r} in aihwkit.simulator.configs.devices "
                     "or aihwkit.simulator.presets.devices")


def _run(cfg: Dict[str, Any]) -> Dict[str, Any]:
    """Build, train and time the model for every thread count; the OUT.json document."""
    # imported here, after _pin_threads_env: the pools read the env when they load
    # pylint: disable=import-outside-toplevel,too-many-locals,too-many-statements
    import numpy as np
    import torch
    import aihwkit
    from aihwkit.nn import AnalogLinear, AnalogSequential
    from aihwkit.optim import AnalogSGD
    from aihwkit.simulator.configs import SingleRPUConfig
    from aihwkit.simulator.parameters import IOParameters, UpdateParameters

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings threadpoolctl
        threadpool_limits = None

    data = np.load(cfg["data"])
    missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in data.files]
    if missing:
        raise ValueError(f"data {cfg['data']!r}: missing arrays {missing}")
    # aihwkit's tiles compute in float32; the data are converted once, outside the timing
    x_train = torch.from_numpy(np.ascontiguousarray(data["x_train"], dtype=np.float32))
    y_train = torch.from_numpy(np.ascontiguousarray(data["y_train"], dtype=np.float32))
    x_test = torch.from_numpy(np.ascontiguousarray(data["x_test"], dtype=np.float32))
    y_test = torch.from_numpy(np.ascontiguousarray(data["y_test"], dtype=np.float32))
    if x_train.ndim != 2 or y_train.ndim != 2 or x_train.shape[0] != y_train.shape[0]:
        raise ValueError(f"data: x_train {tuple(x_train.shape)} and y_train "
                         f"{tuple(y_train.shape)} must be (samples, features) with equal samples")
    init = [data[k].astype(np.float32) if k in data.files else None for k in ("w1", "w2")]

    n_train, n_in = x_train.shape
    n_out = y_train.shape[1]
    hidden = int(cfg["hidden"])
    batch = int(cfg["batch_size"])
    lr = float(cfg["lr"])
    seed = int(cfg["seed"])
    warmup, repeats = int(cfg["warmup"]), max(1, int(cfg["repeats"]))
    n_batches = -(-n_train // batch)

    rpu_config = SingleRPUConfig(
        device=_device(cfg["device"]),
        forward=IOParameters(**_coerce(IOParameters, cfg["forward_io"])),
        backward=IOParameters(**_coerce(IOParameters, cfg["backward_io"])),
        update=UpdateParameters(**_coerce(UpdateParameters, cfg["update"])),
    )

    def build():
        torch.manual_seed(seed)
        model = AnalogSequential(
            AnalogLinear(n_in, hidden, bias=False, rpu_config=rpu_config),
            torch.nn.Tanh(),
            AnalogLinear(hidden, n_out, bias=False, rpu_config=rpu_config),
        )
        for layer, w in zip((model[0], model[2]), init):
            if w is not None:
                if tuple(w.shape) != (layer.out_features, layer.in_features):
                    raise ValueError(f"data: initial weights of shape {w.shape}, layer "
                                     f"needs {(layer.out_features, layer.in_features)}")
                layer.set_weights(torch.from_numpy(w))
        optimizer = AnalogSGD(model.parameters(), lr=lr)
        optimizer.regroup_param_groups(model)
        return model, optimizer

    def loss_fn(pred, target):
        # hwsim's mse: half the squared error summed over outputs, averaged over the batch
        return 0.5 * ((pred - target) ** 2).sum() / pred.shape[0]

    y_std = float(y_test.double().std(unbiased=False))

    def epoch(model, optimizer, index):
        order = torch.from_numpy(np.random.default_rng([seed, index]).permutation(n_train))
        model.train()
        total = 0.0
        t0 = time.perf_counter()
        for b in range(n_batches):
            idx = order[b * batch:(b + 1) * batch]
            xb, yb = x_train[idx], y_train[idx]
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.detach().item() * idx.numel()
        t1 = time.perf_counter()
        # the test pass hwsim.Trainer makes after every epoch (analog reads, no update)
        model.eval()
        with torch.no_grad():
            pred = model(x_test)
            test_loss = float(loss_fn(pred, y_test))
            rmse = float(torch.sqrt(((pred - y_test).double() ** 2).mean()))
        t2 = time.perf_counter()
        model.train()
        return {"epoch": index + 1, "train_loss": total / n_train, "test_loss": test_loss,
                "test_nrmse": rmse / y_std if y_std > 0 else float("nan"),
                "train_s": t1 - t0, "test_s": t2 - t1, "epoch_s": t2 - t0}

    results: List[Dict[str, Any]] = []
    for threads in cfg["threads"]:
        torch.set_num_threads(threads)
        limits = threadpool_limits(limits=threads) if threadpool_limits else None
        try:
            model, optimizer = build()
            history = [epoch(model, optimizer, e) for e in range(warmup)]
            timed = []
            cpu0, wall0 = time.process_time(), time.perf_counter()
            for e in range(warmup, warmup + repeats):
                timed.append(epoch(model, optimizer, e))
            # process CPU time / wall time over the timed epochs: ~1.0 is one core busy
            cpu_util = (time.process_time() - cpu0) / max(time.perf_counter() - wall0, 1e-12)
            history += timed
        finally:
            if limits is not None:
                limits.unregister()
        epoch_s = statistics.median(h["epoch_s"] for h in timed)
        train_s = statistics.median(h["train_s"] for h in timed)
        results.append({
            "threads": threads, "torch_threads": torch.get_num_threads(),
            "median_epoch_s": epoch_s, "min_epoch_s": min(h["epoch_s"] for h in timed),
            "median_train_s": train_s,
            "median_test_s": statistics.median(h["test_s"] for h in timed),
            "samples_per_s": n_train / epoch_s, "train_samples_per_s": n_train / train_s,
            "cpu_utilization": cpu_util,
            "final_train_loss": history[-1]["train_loss"],
            "final_test_loss": history[-1]["test_loss"],
            "final_test_nrmse": history[-1]["test_nrmse"],
            "history": history,
        })
        print(f"aihwkit {threads} thread(s): {n_train / epoch_s:,.0f} samples/s "
              f"(epoch {epoch_s:.3f} s, train part {train_s:.3f} s), final train loss "
              f"{history[-1]['train_loss']:.4g}, test NRMSE {history[-1]['test_nrmse']:.4f}",
              flush=True)

    return {
        "status": "ok",
        "aihwkit_version": aihwkit.__version__, "torch_version": torch.__version__,
        "numpy_version": np.__version__, "python": platform.python_version(),
        "network": {"n_in": n_in, "hidden": hidden, "n_out": n_out, "bias": False,
                    "activation": "tanh", "layers": repr(model)},
        "rpu_config": repr(rpu_config),
        # what this configuration changes from aihwkit's own defaults (an audit of "same
        # device and IO": for the default run only inp_res / out_res should appear)
        "non_default": {"device": _non_default(rpu_config.device),
                        "forward_io": _non_default(rpu_config.forward),
                        "backward_io": _non_default(rpu_config.backward),
                        "update": _non_default(rpu_config.update),
                        "mapping": _non_default(rpu_config.mapping),
                        "pre_post": _non_default(rpu_config.pre_post)},
        "device": cfg["device"], "forward_io": cfg["forward_io"],
        "backward_io": cfg["backward_io"], "update": cfg["update"],
        "lr": lr, "batch_size": batch, "n_train": n_train, "n_test": int(x_test.shape[0]),
        "initial_weights": "given" if init[0] is not None else "aihwkit default",
        "loss": "sum((y - t)**2) / (2 B)  (hwsim mse)",
        "warmup": warmup, "repeats": repeats, "seed": seed,
        "statistic": "n_train / median wall seconds of an epoch (train batches + test pass)",
        "results": results,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True, help="CONFIG.json")
    parser.add_argument("--out", required=True, help="OUT.json to write")
    args = parser.parse_args()

    try:
        cfg = _load_config(args.config)
        _pin_threads_env(max(cfg["threads"]))
        out = _run(cfg)
        code = 0
    except Exception as exc:  # pylint: disable=broad-except
        # the caller reads the JSON, so every failure becomes a status there
        out = {"status": "error", "message": f"{type(exc).__name__}: {exc}",
               "traceback": traceback.format_exc()[-4000:]}
        print(f"aihwkit_train_peer: {out['message']}", file=sys.stderr)
        code = 1
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(out, handle, indent=1)
    os.replace(tmp, args.out)
    return code


if __name__ == "__main__":
    sys.exit(main())
