"""The configuration of a training run (``hwsim run CONFIG.toml``), validated as a whole.

A run file is TOML with these tables; every key is optional and unknown keys are an error
that names the table and lists the known keys::

    seed = 0                      # initial weights, devices, noise, data order
    out = "hwsim-out/run"         # results folder

    [task]                        # a built-in task, hwsim.tasks.get_task(name, **rest)
    name = "mackey-glass"
    layout = "sequence"
    window = 40

    [network]                     # kind = "odernn": compiler.ODERNN fields (inputs and outputs
    kind = "odernn"               # come from the task), an optional named architecture,
    method = "rk2"                # tile_size; kind = "mlp": hidden = [..], activation;
    hidden = 32                   # kind = "qunn": qunn.QUNN fields (see QUNN_DEFAULTS)
    [network.syre]                # compiler.Syre: symmetry-aware training (ODERNN only)
    gamma = 1e-3

    [device]                      # one of: preset = NAME | aihwkit class + parameters |
    preset = "ecram"              # family = NAME (a devices family) + parameters; for a
                                  # qunn: the qubits' noise, dephasing and damping rates

    [io]                          # hwsim.io.IOConfig: dac_bits/adc_bits or any IOConfig field
    dac_bits = 8
    adc_bits = 8

    [update]                      # hwsim.tile.UpdateConfig (aihwkit UpdateParameters names)
    desired_bl = 31

    [rule]                        # hwsim.rules.get_rule(name, **rest)
    name = "pulsed-sgd"
    lr = 0.05

    [train]
    epochs = 20
    batch_size = 16

    [cost]                        # overrides of hwsim.cost.CostTable fields

This module is part of the application layer: it may import the compiler.
"""

import dataclasses
import json
import tomllib
from pathlib import Path

import devices

from .. import _validate as V
from ..errors import ConfigError
from ..io import IOConfig
from ..tile import UpdateConfig

__all__ = ["RunConfig", "load_run_config", "merge_tables", "DEFAULT_RUN", "MLP_RUN", "QUNN_DEFAULTS"]

#: The built-in main job (issue 4): an RK2 ODERNN with 32 hidden units and syre, compiled
#: onto ECRAM tiles with 8-bit converters, predicting the Mackey-Glass series one step ahead
#: over sequences of 40 samples.
DEFAULT_RUN = {
    "seed": 0,
    "out": "hwsim-out/run",
    "task": {"name": "mackey-glass", "layout": "sequence", "window": 40, "horizon": 1,
             "n_train": 128, "n_test": 12, "sample_every": 1},
    "network": {"kind": "odernn", "method": "rk2", "hidden": 32, "step": 0.5,
                "activation": "tanh", "cell": "vanilla", "tile_size": 256,
                "syre": {"gamma": 1e-3}},
    "device": {"preset": "ecram"},
    "io": {"dac_bits": 8, "adc_bits": 8},
    "update": {},
    "rule": {"name": "pulsed-sgd", "lr": 0.01},
    "train": {"epochs": 40, "batch_size": 8},
    "cost": {},
}

#: The two-layer network of issue 3 (8-64-1 tanh on windows of 8 past values): the workload
#: of benchmarks/bench_train.py, which compares it with aihwkit's AnalogSequential.
MLP_RUN = {
    **DEFAULT_RUN,
    "task": {"name": "mackey-glass", "layout": "feedforward", "window": 8, "horizon": 1,
             "n_train": 4000, "n_test": 500},
    "network": {"kind": "mlp", "hidden": [64], "activation": "tanh"},
    "rule": {"name": "pulsed-sgd", "lr": 0.05},
    "train": {"epochs": 30, "batch_size": 16},
}

NETWORK_KINDS = ("odernn", "mlp", "qunn")

#: The fields of a ``kind = "qunn"`` network and their defaults: :class:`qunn.QUNN` arguments
#: (``delta`` is the encoding's time step). One qubit with an X encoding takes a task of one
#: input feature; the trained readout scales the output to the target's range.
QUNN_DEFAULTS = {"kind": "qunn", "qubits": 1, "memory": 4, "encoding": "x", "delta": 1.0,
                 "tau": 1.0, "readout": "z0", "update": "trace", "train_tau": False,
                 "train_readout": True}

#: The rule of a QUNN: Adam on the exact gradient of the clock couplings (qunn.train);
#: the pulsed rules of hwsim.rules act on tiles, which a QUNN has none of.
QUNN_RULE = "adam"
_QUNN_RULE_KEYS = ("name", "lr")
_QUNN_NOISE = ("dephasing", "damping")

_TOP = ("seed", "out", "task", "network", "device", "io", "update", "rule", "train", "cost")
_TABLES = ("task", "network", "device", "io", "update", "rule", "train", "cost")
_MLP = ("kind", "hidden", "activation", "output_activation")
_TRAIN = ("epochs", "batch_size")


def _unknown(where, given, known):
    extra = sorted(set(given) - set(known))
    if extra:
        raise ConfigError(f"run config [{where}]: unknown key(s) {', '.join(map(repr, extra))}; "
                          f"known: {', '.join(known)}")


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """A validated run configuration (see the module docstring for the file format).

    Build with :meth:`from_dict` or :func:`load_run_config`; the raw tables are kept so that
    the results JSON records exactly what was asked.
    """

    seed: int
    out: str
    task: dict
    network: dict
    device: dict
    io: dict
    update: dict
    rule: dict
    train: dict
    cost: dict

    @classmethod
    def from_dict(cls, data, base=None):
        """Validate ``data`` on top of ``base`` (default: :data:`DEFAULT_RUN`).

        Tables given in ``data`` replace those of ``base`` key by key, except ``task``,
        ``network`` and ``device``, which are replaced whole (a task, a network or a device
        is one thing, not a merge of two), and ``rule`` when it names another rule.
        """
        if not isinstance(data, dict):
            raise ConfigError(f"run config must be a table (dict), got {type(data).__name__}")
        _unknown("top level", data, _TOP)
        merged = merge_tables(DEFAULT_RUN if base is None else base, data)
        if merged["network"].get("kind") == "qunn" and "batch_size" not in data.get("train", {}):
            # a QUNN steps on the whole training set; the tile default of 8 does not apply
            merged["train"].pop("batch_size", None)
        config = cls(**merged)
        config.check()
        return config

    def check(self):
        """Build every part once, so that any mistake surfaces before a run starts."""
        V.seed("run config", self.seed)
        if not isinstance(self.out, str) or not self.out:
            raise ConfigError(f"run config: out must be a folder name, got {self.out!r}")
        task = self.make_task()
        kind = self.network.get("kind", "odernn")
        if kind not in NETWORK_KINDS:
            raise ConfigError(f"run config [network] kind must be one of {list(NETWORK_KINDS)}, "
                              f"got {kind!r}")
        _unknown("train", self.train, _TRAIN)
        V.integer("run config [train]", "epochs", self.train.get("epochs", 10), low=1)
        V.integer("run config [train]", "batch_size", self.train.get("batch_size", 16), low=1)
        if kind == "qunn":
            self._check_qunn(task)
            return
        if kind == "mlp":
            self._check_mlp()
        else:
            self.make_spec(task)
        self.make_device()
        self.make_io()
        self.make_update()
        self.make_rule()
        self.make_cost_table()

    def _check_mlp(self):
        _unknown("network", self.network, _MLP)
        hidden = self.network.get("hidden", [])
        if not isinstance(hidden, list):
            raise ConfigError(f"run config [network] hidden must be a list of widths, got "
                              f"{hidden!r}")
        for k, width in enumerate(hidden):
            V.integer("run config [network]", f"hidden[{k}]", width, low=1)

    def _check_qunn(self, task):
        """A QUNN learns a per-step scalar target of a sequence task with Adam, full batch."""
        self.make_qunn(task)
        self.make_qunn_noise()
        self.make_qunn_lr()
        if task.layout != "sequence" or task.y_train.ndim != 3 or task.output_size != 1:
            raise ConfigError(f"run config [task]: a qunn network predicts one value per time "
                              f"step of a sequence; task {task.name!r} has layout "
                              f"{task.layout!r} and targets of shape "
                              f"{task.y_train.shape[1:]} (use e.g. sine or mackey-glass with "
                              "layout = \"sequence\")")
        batch = self.train.get("batch_size", task.x_train.shape[0])
        if batch != task.x_train.shape[0]:
            raise ConfigError(f"run config [train]: a qunn trains on the whole training set "
                              f"at every step (exact gradient), so batch_size must be n_train "
                              f"= {task.x_train.shape[0]} or left out, got {batch!r}")

    # ------------------------------------------------------------ builders
    def make_qunn(self, task, noise=None):
        """The :class:`qunn.QUNN` of a ``qunn`` network for ``task``.

        Couplings start uniform in [0.5, 1.5], drawn from the seed, unless given. ``noise``
        (a :class:`qunn.Noise`) makes the noisy twin that scores the device target; training
        uses the noise-free model (the exact gradient needs it).
        """
        import numpy as np
        import qunn
        params = {**QUNN_DEFAULTS, **self.network}
        _unknown("network", params, tuple(QUNN_DEFAULTS) + ("couplings",))
        params.pop("kind")
        try:
            encoding = qunn.Encoding(params["qubits"], params.pop("encoding"),
                                     delta=params.pop("delta"))
            if "couplings" not in params:
                rng = np.random.default_rng([self.seed, 0x0C10C])
                params["couplings"] = rng.uniform(0.5, 1.5, V.integer(
                    "run config [network]", "memory", params["memory"], low=1))
            model = qunn.QUNN(encoding=encoding, noise=noise, **params)
        except (qunn.QunnError, TypeError) as exc:
            raise ConfigError(f"run config [network]: {exc}") from None
        if model.encoding.n_features != task.input_size:
            raise ConfigError(f"run config [network]: the qunn encoding takes "
                              f"{model.encoding.n_features} feature(s) per step, task "
                              f"{task.name!r} gives {task.input_size}")
        return model

    def make_qunn_noise(self):
        """The :class:`qunn.Noise` of a ``qunn`` network's device target (``[device]``
        dephasing and damping rates; none given: noise-free)."""
        import qunn
        if not set(self.device) <= set(_QUNN_NOISE):
            raise ConfigError(f"run config [device]: a qunn network's device is its qubits' "
                              f"noise, keys {', '.join(_QUNN_NOISE)}; got "
                              f"{', '.join(map(repr, sorted(self.device)))}")
        try:
            return qunn.Noise(**self.device)
        except qunn.QunnError as exc:
            raise ConfigError(f"run config [device]: {exc}") from None

    def make_qunn_lr(self):
        """The Adam step size of a ``qunn`` network (``[rule] name = "adam"``)."""
        name = self.rule.get("name")
        if name != QUNN_RULE:
            raise ConfigError(f"run config [rule] name must be {QUNN_RULE!r} for a qunn network "
                              f"(Adam on the exact gradient of the clock couplings), got "
                              f"{name!r}")
        _unknown("rule", self.rule, _QUNN_RULE_KEYS)
        return V.real("run config [rule]", "lr", self.rule.get("lr", 0.05), low=0.0,
                      low_open=True)

    def make_spec(self, task):
        """The ODERNN spec of an ``odernn`` network for ``task``'s input and output sizes.

        ``architecture = NAME`` starts from a named architecture of
        :mod:`compiler.architectures`; the other keys are :class:`compiler.ODERNN` fields.
        """
        import compiler
        params = {k: v for k, v in self.network.items() if k not in ("kind", "tile_size")}
        params["inputs"], params["outputs"] = task.input_size, task.output_size
        name = params.pop("architecture", None)
        if "hidden" not in params:
            raise ConfigError("run config [network]: give hidden (the state size) of the "
                              "ODERNN")
        try:
            if name is not None:
                return compiler.architecture(name, **params)
            return compiler.ODERNN.from_dict(params)
        except compiler.CompileError as exc:
            raise ConfigError(f"run config [network]: {exc}") from None

    def tile_size(self):
        return V.integer("run config [network]", "tile_size",
                         self.network.get("tile_size", 256), low=1)

    def make_task(self):
        """The task; the same arguments give the same (read-only) task object, made once."""
        params = dict(self.task)
        name = params.pop("name", None)
        if name is None:
            raise ConfigError("run config [task]: give the task's name")
        params.setdefault("seed", self.seed)
        return _cached_task(name, params)

    def make_device(self):
        """The device model: a preset, an aihwkit class, or a devices family by name."""
        spec = dict(self.device)
        try:
            if "preset" in spec:
                name = spec.pop("preset")
                return devices.preset(name, **spec)
            if "class" in spec:
                return devices.from_aihwkit(spec)
            if "family" in spec:
                name = spec.pop("family")
                families = {cls.__name__: cls for cls in devices.FAMILIES}
                if name not in families:
                    raise ConfigError(f"run config [device] family must be one of "
                                      f"{sorted(families)}, got {name!r}")
                return families[name](**spec)
        except TypeError as exc:
            raise ConfigError(f"run config [device]: {exc}") from None
        except devices.DeviceError as exc:
            raise ConfigError(f"run config [device]: {exc}") from None
        raise ConfigError("run config [device] needs one of the keys 'preset', 'class' "
                          "(an aihwkit device class) or 'family' (a devices family)")

    def make_io(self):
        params = dict(self.io)
        try:
            if "dac_bits" in params or "adc_bits" in params:
                return IOConfig.from_bits(params.pop("dac_bits", 8), params.pop("adc_bits", 8),
                                          **params)
            return IOConfig(**params)
        except TypeError as exc:
            raise ConfigError(f"run config [io]: {exc}") from None

    def make_update(self):
        known = UpdateConfig.field_names()
        _unknown("update", self.update, known)
        try:
            return UpdateConfig(**self.update)
        except devices.DeviceError as exc:
            raise ConfigError(f"run config [update]: {exc}") from None

    def make_rule(self):
        from ..rules import get_rule
        params = dict(self.rule)
        name = params.pop("name", "pulsed-sgd")
        return get_rule(name, **params)

    def make_cost_table(self):
        from ..cost import CostTable
        return CostTable.from_dict(self.cost)

    def to_dict(self):
        return dataclasses.asdict(self)


#: Tasks made so far, by their arguments: generating data (Mackey-Glass integrates a delay
#: equation in Python) costs far more than checking a configuration, and a sweep validates
#: and runs many points on the same data. Tasks are frozen with read-only arrays.
_TASKS = {}
_TASK_CACHE_SIZE = 16


def _cached_task(name, params):
    from ..tasks import get_task
    try:
        key = json.dumps([name, params], sort_keys=True)
    except (TypeError, ValueError):        # unhashable odd input: let get_task judge it
        return get_task(name, **params)
    if key not in _TASKS:
        if len(_TASKS) >= _TASK_CACHE_SIZE:
            _TASKS.pop(next(iter(_TASKS)))
        _TASKS[key] = get_task(name, **params)
    return _TASKS[key]


def merge_tables(base, data):
    """``data``'s tables on top of ``base``'s (a new dict; neither is changed).

    A table of ``data`` replaces that of ``base`` key by key, except ``task``, ``network``
    and ``device``, which are replaced whole (a task, a network or a device is one thing, not
    a merge of two), and ``rule`` when it names another rule. Other keys are replaced.
    """
    merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for key, value in data.items():
        if key in _TABLES:
            if not isinstance(value, dict):
                raise ConfigError(f"run config [{key}] must be a table, got {value!r}")
            old = merged.get(key, {})
            whole = key in ("task", "network", "device") or (
                key == "rule" and value.get("name", old.get("name")) != old.get("name"))
            merged[key] = dict(value) if whole else {**old, **value}
        else:
            merged[key] = value
    return merged


def load_run_config(path=None):
    """The run configuration of a TOML file, or the built-in default when ``path`` is None."""
    if path is None:
        return RunConfig.from_dict({})
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"run config file {str(path)!r} does not exist")
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"run config file {str(path)!r} is not valid TOML: {exc}") from None
    return RunConfig.from_dict(data)
