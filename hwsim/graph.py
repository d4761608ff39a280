"""The device graph: signals, tile specs and operators, checked and ordered by a builder.

A :class:`DeviceGraph` describes one time step of an emulated circuit: named per-sample
vectors (:class:`Signal`), the crossbar arrays it uses (:class:`TileSpec`, parameters only,
never live tiles) and the operators of :mod:`hwsim.ops` that read, set, increment, latch and
update them. :meth:`DeviceGraph.build` checks the declarations (Nengo's rules: per signal
and step at most one set, then increments, then reads; per tile at most one update; every
read signal produced; no cycle except through a :class:`~hwsim.ops.Delay`) and orders the
operators by a topological sort whose ties follow insertion order, so the order is the same
on every run and every machine.

Because the graph holds names and parameters only, one graph runs on two targets (see
:class:`hwsim.simulator.Simulator`) and round-trips exactly through JSON; :meth:`to_dot`
renders it for Graphviz.
"""

import dataclasses
import enum
import heapq
import json
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

import devices
from devices import UpdateParameters

from . import _validate as V
from . import cells
from .errors import ConfigError, GraphError
from .io import IOConfig
from .ops import (OPERATORS, Add, Copy, Delay, Elementwise, LearningUpdate, Multiply, Operator,
                  TileMVM, TileMVMT, op_from_dict, ref_name)
from .tile import check_rate

__all__ = ["Signal", "TileSpec", "DeviceGraph", "Schedule", "OPERATORS", "Operator", "TileMVM",
           "TileMVMT", "Elementwise", "Multiply", "Add", "Copy", "Delay", "LearningUpdate"]

FORMAT = "hwsim.DeviceGraph"
VERSION = 1
INIT_SCHEMES = ("uniform", "normal", "zeros")


def _name(owner, value):
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{owner}.name must be a non-empty string, got {value!r}")
    return value


# --------------------------------------------------------------------------- signals
@dataclass(frozen=True)
class Signal:
    """A named per-sample vector; the batch axis is added at run time.

    Parameters
    ----------
    name : str
        Unique within a graph.
    size : int
        Number of elements per sample (>= 1).
    """

    name: str
    size: int

    def __post_init__(self):
        _name("Signal", self.name)
        object.__setattr__(self, "size", V.integer(f"Signal {self.name!r}", "size", self.size,
                                                   low=1))


# --------------------------------------------------------------------------- tile specs
class TileSpec:
    """The parameters of one crossbar tile; the simulator instantiates it per target.

    Parameters
    ----------
    name : str
        Unique within a graph.
    out_size, in_size : int
        Rows (outputs) and columns (inputs) of the weight matrix.
    device : None, str, devices.PulsedDevice or unit-cell config
        The device of the ``device`` target: a device model, a preset name or a unit cell of
        :mod:`hwsim.cells`; None uses the tile's default.
    io, backward_io : IOConfig or None
        Forward and transposed-read periphery (None: the tile's defaults).
    update : UpdateConfig or None
        How updates become pulses (None: the tile's default).
    init : {"uniform", "normal", "zeros"} or array (out_size, in_size)
        Initial weights: uniform in ``+-1/sqrt(in_size)``, normal with that standard
        deviation, zeros, or the given matrix. Drawn once per simulator from its seed and
        written exactly (``set_weights``) on every target. With an offset these are the
        effective weights ``phi`` (the function starts the same with or without offset).
    offset : None or array (out_size, in_size)
        A fixed per-weight offset ``theta0`` added to every read (syre, written by
        :func:`compiler.passes.syre.apply`): exact on the ideal target, a reference device
        array on the device target (see :class:`hwsim.AnalogTile`). Updates and weight
        decay act on ``theta = phi - theta0``.
    weight_decay : None, float or array (out_size, in_size)
        The tile's own weight decay coefficient(s) ``>= 0`` (syre's ``gamma``, times the
        anisotropy ``D`` of syre-ar), added by a learning rule to its own weight decay.
    """

    def __init__(self, name, out_size, in_size, device=None, io=None, backward_io=None,
                 update=None, init="uniform", offset=None, weight_decay=None):
        owner = f"TileSpec {name!r}"
        self.name = _name("TileSpec", name)
        self.out_size = V.integer(owner, "out_size", out_size, low=1)
        self.in_size = V.integer(owner, "in_size", in_size, low=1)
        self.device = _check_device(owner, device)
        self.io = _check_config(owner, "io", io, IOConfig)
        self.backward_io = _check_config(owner, "backward_io", backward_io, IOConfig)
        self.update = _check_config(owner, "update", update, UpdateParameters)
        if isinstance(init, str):
            self.init = V.choice(owner, "init", init, INIT_SCHEMES)
        else:
            arr = V.array(owner, "init", init, shape=(self.out_size, self.in_size)).copy()
            arr.setflags(write=False)
            self.init = arr
        self.offset = None
        if offset is not None:
            arr = V.array(owner, "offset", offset, shape=self.shape).copy()
            arr.setflags(write=False)
            self.offset = arr
        self.weight_decay = None if weight_decay is None else \
            check_rate(owner, "weight_decay", weight_decay, self.shape)

    @property
    def shape(self):
        return (self.out_size, self.in_size)

    def initial_weights(self, seed):
        """The initial weight matrix for a tile seeded with ``seed`` (a fresh array)."""
        if not isinstance(self.init, str):
            return np.array(self.init, dtype=np.float64)
        if self.init == "zeros":
            return np.zeros(self.shape)
        # a stream of its own, so the tile's other random draws do not shift the weights
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0x1417]))
        scale = 1.0 / np.sqrt(self.in_size)
        if self.init == "uniform":
            return rng.uniform(-scale, scale, self.shape)
        return scale * rng.standard_normal(self.shape)

    def tile_options(self):
        """The keyword arguments a live tile takes from this spec besides its device
        configs: ``offset`` and ``weight_decay`` where set."""
        return {k: getattr(self, k) for k in ("offset", "weight_decay")
                if getattr(self, k) is not None}

    def to_dict(self):
        """Plain JSON-able dict (devices by class and parameters, configs by field).

        ``offset`` and ``weight_decay`` appear only when set, so graphs without them
        serialise as before.
        """
        out = {"name": self.name, "out_size": self.out_size, "in_size": self.in_size,
               "device": _device_to_dict(self.device), "io": _config_to_dict(self.io),
               "backward_io": _config_to_dict(self.backward_io),
               "update": _config_to_dict(self.update),
               "init": self.init if isinstance(self.init, str) else self.init.tolist()}
        if self.offset is not None:
            out["offset"] = self.offset.tolist()
        if self.weight_decay is not None:
            out["weight_decay"] = _plain(self.weight_decay)
        return out

    @classmethod
    def from_dict(cls, data):
        """Rebuild from :meth:`to_dict`; unknown keys or classes are a GraphError."""
        keys = ("name", "out_size", "in_size", "device", "io", "backward_io", "update", "init",
                "offset", "weight_decay")
        _check_keys(f"tile {data.get('name')!r}" if isinstance(data, dict) else "tile",
                    data, keys, required=("name", "out_size", "in_size"))
        owner = f"tile {data['name']!r}"
        kwargs = dict(data)
        kwargs["device"] = _device_from_dict(owner, data.get("device"))
        for key in ("io", "backward_io", "update"):
            kwargs[key] = _config_from_dict(owner, key, data.get(key))
        return cls(**kwargs)

    def __eq__(self, other):
        return isinstance(other, TileSpec) and self.to_dict() == other.to_dict()

    __hash__ = None

    def __repr__(self):
        init = self.init if isinstance(self.init, str) else "array"
        extra = (", offset=array" if self.offset is not None else "") + (
            ", weight_decay=array" if isinstance(self.weight_decay, np.ndarray) else
            f", weight_decay={self.weight_decay!r}" if self.weight_decay is not None else "")
        return (f"TileSpec({self.name!r}, {self.out_size}, {self.in_size}, "
                f"device={self.device!r}, init={init!r}{extra})")


def _check_device(owner, device):
    if device is None or isinstance(device, devices.PulsedDevice):
        return device
    if isinstance(device, str):
        try:
            devices.get_preset(device)
        except ValueError as exc:
            raise ConfigError(f"{owner}.device: {exc}") from None
        return device
    if isinstance(device, cells.UnitCell):
        return device
    raise TypeError(f"{owner}.device must be None, a device model, a preset name or a unit "
                    f"cell, got {device!r}")


def _check_config(owner, name, cfg, cls):
    if cfg is not None and not isinstance(cfg, cls):
        raise TypeError(f"{owner}.{name} must be None or {cls.__name__}, got {cfg!r}")
    return cfg


# --------------------------------------------------------------------------- JSON pieces
def _check_keys(owner, data, allowed, required=()):
    if not isinstance(data, dict):
        raise GraphError(f"{owner}: expected a JSON object, got {data!r}")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise GraphError(f"{owner}: unknown key(s) {', '.join(map(repr, unknown))}; allowed "
                         f"keys: {', '.join(allowed)}")
    missing = [k for k in required if k not in data]
    if missing:
        raise GraphError(f"{owner}: missing key(s) {', '.join(map(repr, missing))}")


def _plain(value):
    """A JSON-able copy of a config value (tuples and arrays as lists, numpy scalars as
    Python numbers, nested dataclasses as dicts)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _config_to_dict(cfg):
    if cfg is None:
        return None
    return {"class": type(cfg).__name__, **_plain(cfg)}


#: Config classes a graph may name, by class name (the tile's UpdateConfig is
#: devices.UpdateParameters itself).
_CONFIG_CLASSES = {"IOConfig": IOConfig, "UpdateParameters": UpdateParameters}


def _config_from_dict(owner, key, data):
    if data is None:
        return None
    if not isinstance(data, dict) or "class" not in data:
        raise GraphError(f"{owner}.{key}: expected null or an object with a 'class' key, got "
                         f"{data!r}")
    classes = _CONFIG_CLASSES
    name = data["class"]
    if name not in classes:
        raise GraphError(f"{owner}.{key}: unknown config class {name!r}; known: "
                         f"{', '.join(sorted(classes))}")
    cls = classes[name]
    params = {k: v for k, v in data.items() if k != "class"}
    fields = {f.name: f for f in dataclasses.fields(cls)}
    _check_keys(f"{owner}.{key} ({name})", params, tuple(fields))
    # JSON has no tuples: give tuple-valued fields their tuples back
    for k, v in params.items():
        if isinstance(v, list) and isinstance(_default_of(fields[k]), tuple):
            params[k] = _tuplify(v)
    try:
        return cls(**params)
    except (TypeError, ValueError) as exc:
        raise GraphError(f"{owner}.{key}: cannot rebuild {name}: {exc}") from None


def _default_of(field):
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None


def _tuplify(v):
    return tuple(_tuplify(x) for x in v) if isinstance(v, list) else v


def _device_to_dict(device):
    if device is None:
        return None
    if isinstance(device, str):
        return {"preset": device}
    if isinstance(device, devices.PulsedDevice):
        return {"model": device.to_dict()}
    # a unit cell: its fields, the device model(s) among them by class and parameters
    fields = {}
    for f in dataclasses.fields(device):
        v = getattr(device, f.name)
        fields[f.name] = {"model": v.to_dict()} if isinstance(v, devices.PulsedDevice) \
            else _plain(v)
    return {"cell": {"type": type(device).__name__, **fields}}


def _device_from_dict(owner, data):
    if data is None:
        return None
    if not isinstance(data, dict) or len(data) != 1 or \
            next(iter(data)) not in ("preset", "model", "cell"):
        raise GraphError(f"{owner}.device: expected null or an object with one key 'preset', "
                         f"'model' or 'cell', got {data!r}")
    kind, value = next(iter(data.items()))
    try:
        if kind == "preset":
            return value
        if kind == "model":
            return _model_from_dict(owner, value)
        return _cell_from_dict(owner, value)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, GraphError):
            raise
        raise GraphError(f"{owner}.device: {exc}") from None


def _model_from_dict(owner, value):
    model = devices.from_aihwkit(value)
    if not isinstance(model, devices.PulsedDevice):
        raise GraphError(f"{owner}.device: {value.get('class')!r} is not a device class")
    return model


def _cell_from_dict(owner, data):
    if not isinstance(data, dict) or "type" not in data:
        raise GraphError(f"{owner}.device.cell: expected an object with a 'type' key, got "
                         f"{data!r}")
    cls = getattr(cells, data["type"], None)
    if not (isinstance(cls, type) and issubclass(cls, cells.UnitCell)):
        known = sorted(n for n, c in vars(cells).items() if isinstance(c, type)
                       and issubclass(c, cells.UnitCell) and c is not cells.UnitCell)
        raise GraphError(f"{owner}.device.cell: unknown unit cell {data['type']!r}; known: "
                         f"{', '.join(known)}")
    params = {k: v for k, v in data.items() if k != "type"}
    _check_keys(f"{owner}.device.cell ({data['type']})", params,
                tuple(f.name for f in dataclasses.fields(cls)))
    for k, v in params.items():
        if isinstance(v, dict) and set(v) == {"model"}:
            params[k] = _model_from_dict(owner, v["model"])
    return cls(**params)


# --------------------------------------------------------------------------- schedule
@dataclass(frozen=True)
class Schedule:
    """The builder's result.

    Attributes
    ----------
    ops : tuple of Operator
        Every operator in execution order.
    inc_only : tuple of str
        Signals that are incremented but never set: they start every step at zero.
    sizes : dict
        Signal name -> size.
    """

    ops: tuple
    inc_only: tuple
    sizes: dict


# --------------------------------------------------------------------------- the graph
class DeviceGraph:
    """Signals, tile specs and operators of one emulated circuit.

    Parameters
    ----------
    name : str
        A label (DOT title, JSON).

    Examples
    --------
    A two-layer perceptron:

    >>> g = DeviceGraph("mlp")
    >>> _ = g.add_input("x", 4); _ = g.add_signal("a", 8); _ = g.add_signal("h", 8)
    >>> _ = g.add_output("y", 2)
    >>> _ = g.add_tile("W1", 8, 4); _ = g.add_tile("W2", 2, 8)
    >>> _ = g.add(TileMVM("W1", "x", "a")); _ = g.add(Elementwise("tanh", "a", "h"))
    >>> _ = g.add(TileMVM("W2", "h", "y"))
    >>> [op.name for op in g.build().ops]
    ['TileMVM#0', 'Elementwise#1', 'TileMVM#2']
    """

    def __init__(self, name="graph"):
        if not isinstance(name, str):
            raise ConfigError(f"DeviceGraph.name must be a string, got {name!r}")
        self.name = name
        self._signals = {}
        self._tiles = {}
        self._ops = []
        self._op_names = set()
        self._op_ids = set()        # id() of the ops added: the "already added" check in O(1)
        self._inputs = []
        self._outputs = []
        self._schedule = None

    # ------------------------------------------------------------ views
    @property
    def signals(self):
        """Read-only mapping name -> Signal, in insertion order."""
        return MappingProxyType(self._signals)

    @property
    def tiles(self):
        """Read-only mapping name -> TileSpec, in insertion order."""
        return MappingProxyType(self._tiles)

    @property
    def ops(self):
        """Operators in insertion order (see :meth:`build` for execution order)."""
        return tuple(self._ops)

    @property
    def inputs(self):
        return tuple(self._inputs)

    @property
    def outputs(self):
        return tuple(self._outputs)

    def op(self, name):
        """The operator called ``name``."""
        for op in self._ops:
            if op.name == name:
                return op
        raise GraphError(f"graph {self.name!r} has no operator {name!r}")

    # ------------------------------------------------------------ construction
    def add_signal(self, signal, size=None):
        """Add a signal (a :class:`Signal`, or a name and a size); returns the Signal."""
        if not isinstance(signal, Signal):
            if size is None:
                raise GraphError(f"signal {signal!r}: give its size")
            signal = Signal(signal, size)
        elif size is not None and size != signal.size:
            raise GraphError(f"signal {signal.name!r}: size {size} given for a Signal of "
                             f"size {signal.size}")
        if signal.name in self._signals:
            raise GraphError(f"graph {self.name!r} already has a signal {signal.name!r}")
        self._signals[signal.name] = signal
        self._schedule = None
        return signal

    def _existing_or_new(self, signal, size):
        name = ref_name(signal)
        if name in self._signals:
            old = self._signals[name]
            if size is not None and size != old.size:
                raise GraphError(f"signal {name!r} has size {old.size}, not {size}")
            return old
        return self.add_signal(signal, size)

    def add_input(self, signal, size=None):
        """Declare a graph input (set from the data at every step), adding it if new."""
        signal = self._existing_or_new(signal, size)
        if signal.name not in self._inputs:
            self._inputs.append(signal.name)
        self._schedule = None
        return signal

    def add_output(self, signal, size=None):
        """Declare a graph output (returned by the simulator), adding it if new."""
        signal = self._existing_or_new(signal, size)
        if signal.name not in self._outputs:
            self._outputs.append(signal.name)
        self._schedule = None
        return signal

    def add_tile(self, tile, out_size=None, in_size=None, **params):
        """Add a tile spec (a :class:`TileSpec`, or its arguments); returns the TileSpec."""
        if not isinstance(tile, TileSpec):
            tile = TileSpec(tile, out_size, in_size, **params)
        elif out_size is not None or in_size is not None or params:
            raise GraphError(f"tile {tile.name!r}: pass either a TileSpec or its arguments")
        if tile.name in self._tiles:
            raise GraphError(f"graph {self.name!r} already has a tile {tile.name!r}")
        self._tiles[tile.name] = tile
        self._schedule = None
        return tile

    def add(self, op):
        """Add an operator; it is named ``"<Kind>#<index>"`` if it has no name. Returns it."""
        if not isinstance(op, Operator):
            raise TypeError(f"DeviceGraph.add takes an operator of hwsim.ops, got {op!r}")
        if id(op) in self._op_ids:
            raise GraphError(f"{op.describe()} is already in graph {self.name!r}")
        if op.name is None:
            op.name = f"{op.kind}#{len(self._ops)}"
        if op.name in self._op_names:
            raise GraphError(f"graph {self.name!r} already has an operator named {op.name!r}")
        self._ops.append(op)
        self._op_names.add(op.name)
        self._op_ids.add(id(op))
        self._schedule = None
        return op

    # ------------------------------------------------------------ builder
    def build(self):
        """Check the declarations and order the operators.

        Returns
        -------
        Schedule

        Raises
        ------
        GraphError
            A reference to an unknown signal or tile, mismatched sizes, a signal set twice
            (or set while being a graph input), a tile updated twice, a signal read but never
            set, or a cycle not broken by a Delay (a signal read in a step before it is set);
            the message names the operators involved.
        """
        if self._schedule is None:
            self._schedule = _build(self)
        return self._schedule

    @property
    def order(self):
        """The operators in execution order (builds the graph)."""
        return self.build().ops

    # ------------------------------------------------------------ serialisation
    def to_dict(self):
        """A plain JSON-able dict of the whole graph (exact: floats kept as Python floats)."""
        return {"format": FORMAT, "version": VERSION, "name": self.name,
                "signals": [{"name": s.name, "size": s.size} for s in self._signals.values()],
                "inputs": list(self._inputs), "outputs": list(self._outputs),
                "tiles": [t.to_dict() for t in self._tiles.values()],
                "ops": [op.to_dict() for op in self._ops]}

    @classmethod
    def from_dict(cls, data):
        """Rebuild a graph from :meth:`to_dict`; unknown keys or operators are a GraphError."""
        keys = ("format", "version", "name", "signals", "inputs", "outputs", "tiles", "ops")
        _check_keys("device graph", data, keys, required=("signals",))
        if data.get("format", FORMAT) != FORMAT:
            raise GraphError(f"device graph: format {data['format']!r} is not {FORMAT!r}")
        if data.get("version", VERSION) != VERSION:
            raise GraphError(f"device graph: version {data['version']!r} is not supported "
                             f"(this hwsim reads version {VERSION})")
        graph = cls(data.get("name", "graph"))
        for s in data["signals"]:
            _check_keys("signal", s, ("name", "size"), required=("name", "size"))
            graph.add_signal(s["name"], s["size"])
        for name in data.get("inputs", ()):
            graph.add_input(_known_signal(graph, name, "inputs"))
        for name in data.get("outputs", ()):
            graph.add_output(_known_signal(graph, name, "outputs"))
        for t in data.get("tiles", ()):
            graph.add_tile(TileSpec.from_dict(t))
        for o in data.get("ops", ()):
            graph.add(op_from_dict(o))
        return graph

    def to_json(self, indent=None):
        """JSON text; floats are written by ``repr`` and so read back bit for bit."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_json(cls, text):
        """Rebuild a graph from :meth:`to_json` text."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise GraphError(f"device graph: invalid JSON: {exc}") from None
        return cls.from_dict(data)

    def to_dot(self):
        """Graphviz DOT text: signals as ellipses, operators as boxes, tiles highlighted."""
        return _to_dot(self)

    def __repr__(self):
        return (f"DeviceGraph({self.name!r}: {len(self._signals)} signals, "
                f"{len(self._tiles)} tiles, {len(self._ops)} ops)")


def _known_signal(graph, name, where):
    if name not in graph.signals:
        raise GraphError(f"device graph: {where} names unknown signal {name!r}")
    return name


# --------------------------------------------------------------------------- builder
def _build(graph):
    """Check a graph and return its Schedule (see DeviceGraph.build)."""
    signals, tiles, ops = graph.signals, graph.tiles, graph.ops
    for op in ops:
        op.check(signals, tiles)
    setters, incers = _writers(graph)
    _check_updates(ops)
    produced = set(graph.inputs) | set(setters) | set(incers)
    for op in ops:
        for s in (*op.reads, *op.latches):
            if s not in produced:
                raise GraphError(f"signal {s!r} is read by {op.describe()} but never set: no "
                                 "operator sets or increments it and it is not a graph input")
    for s in graph.outputs:
        if s not in produced:
            raise GraphError(f"output {s!r} is never set: no operator sets or increments it")
    order = _toposort(ops, _edges(ops, setters, incers))
    inc_only = tuple(s for s in signals if s in incers and s not in setters
                     and s not in graph.inputs)
    sizes = {name: s.size for name, s in signals.items()}
    return Schedule(tuple(order), inc_only, sizes)


def _writers(graph):
    """signal -> setting op, and signal -> incrementing ops; set-twice errors."""
    setters, incers = {}, {}
    for op in graph.ops:
        for s in op.sets:
            if s in graph.inputs:
                raise GraphError(f"signal {s!r} is a graph input and is also set by "
                                 f"{op.describe()}")
            if s in setters:
                raise GraphError(f"signal {s!r} is set twice: by {setters[s].describe()} and "
                                 f"by {op.describe()}")
            setters[s] = op
        for s in op.incs:
            if s in op.sets:
                raise GraphError(f"{op.describe()} both sets and increments {s!r}")
            incers.setdefault(s, []).append(op)
    return setters, incers


def _check_updates(ops):
    updaters = {}
    for op in ops:
        for t in op.updates:
            if t in updaters:
                raise GraphError(f"tile {t!r} is updated twice in a step: by "
                                 f"{updaters[t].describe()} and by {op.describe()}")
            updaters[t] = op


def _edges(ops, setters, incers):
    """Dependencies ``(producer, consumer) -> signal``: set before incs before reads.

    Latched signals (Delay's input) make no edge: they are read after the whole step, which
    is what breaks a recurrence's cycle.
    """
    edges = {}

    def link(u, v, s):
        if u is v:
            raise GraphError(f"signal {s!r} is read by {v.describe()} before it is set by "
                             f"{u.describe()} (the same operator): a cycle not broken by a "
                             "Delay")
        edges.setdefault((u.name, v.name), s)

    for op in ops:
        for s in op.reads:
            for producer in ([setters[s]] if s in setters else []) + incers.get(s, []):
                link(producer, op, s)
        for s in op.incs:
            if s in setters:
                link(setters[s], op, s)
    return edges


def _toposort(ops, edges):
    """Kahn's algorithm; among ready operators the earliest inserted goes first."""
    index = {op.name: k for k, op in enumerate(ops)}
    succ = {op.name: [] for op in ops}
    indeg = {op.name: 0 for op in ops}
    for u, v in edges:
        succ[u].append(v)
        indeg[v] += 1
    ready = [index[n] for n, d in indeg.items() if d == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        k = heapq.heappop(ready)
        order.append(ops[k])
        for v in succ[ops[k].name]:
            indeg[v] -= 1
            if indeg[v] == 0:
                heapq.heappush(ready, index[v])
    if len(order) < len(ops):
        _raise_cycle(ops, edges, {n for n, d in indeg.items() if d > 0}, index)
    return order


def _raise_cycle(ops, edges, left, index):
    """Find one cycle among the unordered operators and report it."""
    preds = {n: sorted((u for (u, v) in edges if v == n and u in left), key=index.get)
             for n in left}
    # Every unordered op has an unordered predecessor, so walking back must repeat.
    node, seen, path = min(left, key=index.get), {}, []
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = preds[node][0]
    cycle = path[seen[node]:][::-1]  # forward direction: each produces what the next reads
    by_name = {op.name: op for op in ops}
    # Report the back edge: the consumer inserted earliest reads before its producer sets.
    k = min(range(len(cycle)), key=lambda i: index[cycle[i]])
    consumer, producer = cycle[k], cycle[k - 1]
    signal = edges[(producer, consumer)]
    hops = " -> ".join(f"{cycle[i]!r} -[{edges[(cycle[i], cycle[(i + 1) % len(cycle)])]}]"
                       for i in range(len(cycle))) + f" -> {cycle[0]!r}"
    raise GraphError(f"signal {signal!r} is read by {by_name[consumer].describe()} before it "
                     f"is set by {by_name[producer].describe()}: cycle {hops} is not broken "
                     "by a Delay (carry one of its signals to the next step with a Delay)")


# --------------------------------------------------------------------------- DOT
def _q(text):
    """A DOT double-quoted string."""
    text = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + text + '"'


def _device_label(spec):
    d = spec.device
    if d is None:
        return "default device"
    if isinstance(d, str):
        return f"preset {d}"
    return type(d).__name__


def _to_dot(graph):
    lines = [f"digraph {_q(graph.name)} {{", "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9];']
    sid, oid, tid = (lambda n: _q("s:" + n)), (lambda n: _q("o:" + n)), (lambda n: _q("t:" + n))
    for s in graph.signals.values():
        extra = ""
        if s.name in graph.inputs or s.name in graph.outputs:
            extra = ', peripheries=2, style=bold'
        lines.append(f"  {sid(s.name)} [shape=ellipse, label={_q(f'{s.name} [{s.size}]')}"
                     f"{extra}];")
    for t in graph.tiles.values():
        label = f"{t.name}\n{t.out_size} x {t.in_size}\n{_device_label(t)}"
        if t.offset is not None:
            label += "\n+ offset (syre)"
        lines.append(f"  {tid(t.name)} [shape=box3d, style=filled, fillcolor=\"#ffd27f\", "
                     f"color=\"#b06000\", penwidth=2, label={_q(label)}];")
    for op in graph.ops:
        label = op.kind if op.name.startswith(op.kind + "#") else f"{op.kind}\n{op.name}"
        if isinstance(op, Elementwise):
            label += f"\n{op.fn}"
        lines.append(f"  {oid(op.name)} [shape=box, label={_q(label)}];")
    for op in graph.ops:
        for s in op.reads:
            lines.append(f"  {sid(s)} -> {oid(op.name)};")
        for s in op.latches:
            lines.append(f"  {sid(s)} -> {oid(op.name)} [style=dashed, label=\"t-1\"];")
        for s in op.sets:
            lines.append(f"  {oid(op.name)} -> {sid(s)};")
        for s in op.incs:
            lines.append(f"  {oid(op.name)} -> {sid(s)} [style=dashed, label=\"+=\"];")
        for t in op.tiles:
            lines.append(f"  {tid(t)} -> {oid(op.name)} [color=\"#b06000\", arrowhead=none];")
        for t in op.updates:
            lines.append(f"  {oid(op.name)} -> {tid(t)} [color=red, label=\"update\"];")
    lines.append("}")
    return "\n".join(lines) + "\n"
