"""The front end: :class:`ODERNN`, a recurrent network written as an ODE integrator.

A spec holds parameters only (Nengo's rule: front end and builder are separate). It says
which vector field (the *cell*) is integrated, by which explicit Runge-Kutta method
(*stages* n, a Butcher tableau) or the exact exponential step, with which multistep memory
(*order* t, coefficients alpha), at which step size, and how the state is read out. The
compiler turns it into an IR (:func:`compiler.build_ir`) and a device graph
(:func:`compiler.compile`).

Specs come from Python, dicts, TOML or JSON; every field is validated and errors are
:class:`compiler.CompileError` naming the field, the value and what is allowed.
"""

import dataclasses
import json
import math
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from . import _validate as V
from .cells import CELLS
from .errors import CompileError
from .methods import TABLEAUS, get_tableau, multistep

__all__ = ["ODERNN", "EXPONENTIAL", "READOUTS", "INITS"]

#: The method value of the exact exponential step (unitary cell only).
EXPONENTIAL = "exponential"
_EXPONENTIAL_NAMES = ("exponential", "exp", "expm")

#: How the output is read from the state: ``y = V h (+ d)``, ``y = V tanh(h) (+ d)``, ``y = h``.
READOUTS = ("linear", "tanh", "identity")

#: Weight initialisation schemes (see :func:`compiler.weights.initial_weights`).
INITS = ("uniform", "normal", "zeros")

_OWNER = "ODERNN"


@dataclass(frozen=True, kw_only=True)
class ODERNN:
    """An n-t-ODERNN: an n-stage explicit Runge-Kutta step of a cell's vector field with a
    t-th order multistep memory (reference/theory.md section 6.2, a project construction).

    One step, for input ``x_k``::

        hbar    = sum_j alpha'_j h_{k+1-j}
        K_i     = F(hbar + step * sum_{l<i} a_il K_l, x_k)          i = 1 .. n
        h_{k+1} = sum_j alpha_j h_{k+1-j} + step * sum_i b_i K_i
        y_k     = readout(h_{k+1})

    Parameters
    ----------
    hidden, inputs, outputs : int
        State, input and output sizes (>= 1).
    stages : int, optional
        n, the number of Runge-Kutta stages; must equal the method's (default: the method's).
        1 for the exponential step.
    order : int
        t, the memory length (>= 1): how many past states the step reads.
    method : str, ButcherTableau or dict
        ``"euler"`` (``"rk1"``), ``"midpoint"`` (``"rk2"``), ``"heun"``, ``"rk3"``, ``"rk4"``,
        a :class:`~compiler.methods.ButcherTableau` (or its dict), or ``"exponential"``: the
        exact step of the linear part (cell ``"unitary"`` only). Default ``"rk2"``.
    memory : str, sequence of float or dict
        The alpha_j: ``"difference"`` (the t-th backward difference; t = 1 gives the plain
        ``h_{k+1} = h_k + ...``), ``"damped"`` (roots moved to 0.9, or ``{"name": "damped",
        "damping": r}``) or t coefficients. See :func:`compiler.methods.multistep`.
    stage_memory : sequence of float, optional
        The alpha'_j of the point the stages start from; default ``(1, 0, ..., 0)``
        (the stages read ``h_k``).
    step : float
        Delta > 0.
    activation : str
        sigma, a function of :mod:`hwsim.functions` (``"tanh"``, ``"relu"``, ...). Gates
        are sigmoids whatever this is.
    cell : str
        The vector field: ``"vanilla"``, ``"residual"``, ``"gru"``, ``"lstm"``,
        ``"unitary"`` (see :mod:`compiler.cells`).
    readout : str
        ``"linear"`` (``y = V h + d``), ``"tanh"`` (``y = V tanh(h) + d``) or ``"identity"``
        (``y = h``; needs ``outputs == hidden``).
    bias : bool
        Bias vectors ``c`` (and ``d``) as tile columns driven by a constant 1.
    init : str
        ``"uniform"`` (``+-1/sqrt(fan_in)``), ``"normal"`` (that standard deviation) or
        ``"zeros"``; biases use the scale ``1/sqrt(hidden)``; ``A`` of the unitary cell is
        skew-symmetric.
    syre : Syre or dict, optional
        Symmetry-aware training (:class:`compiler.Syre`): applied to every tile.
    name : str
        Names the graph.

    Attributes
    ----------
    tableau : ButcherTableau or None
        None for the exponential step.
    exponential : bool
    alpha, stage_alpha : tuple of float

    Raises
    ------
    CompileError
        Naming the field, the value and what is allowed.

    Examples
    --------
    >>> spec = ODERNN(stages=4, order=1, hidden=32, inputs=1, outputs=1, method="rk4",
    ...               step=0.5)
    >>> spec.describe()
    '4-1-ODERNN vanilla, rk4, step 0.5, memory difference (1), hidden 32, tanh'
    """

    hidden: int
    inputs: int
    outputs: int
    stages: int = None
    order: int = 1
    method: object = "rk2"
    memory: object = "difference"
    stage_memory: object = None
    step: float = 1.0
    activation: str = "tanh"
    cell: str = "vanilla"
    readout: str = "linear"
    bias: bool = True
    init: str = "uniform"
    syre: object = None
    name: str = "odernn"

    def __post_init__(self):
        put = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen dataclass)
        for key in ("hidden", "inputs", "outputs"):
            put(key, V.integer(_OWNER, key, getattr(self, key), low=1))
        put("order", V.integer(_OWNER, "order", self.order, low=1))
        put("cell", V.choice(_OWNER, "cell", self.cell, tuple(CELLS)))
        put("method", _method(self.method, self.cell))
        n = 1 if self.method == EXPONENTIAL else self.method.stages
        if self.stages is None:
            put("stages", n)
        else:
            put("stages", V.integer(_OWNER, "stages", self.stages, low=1))
            if self.stages != n:
                what = "the exponential step" if self.method == EXPONENTIAL else \
                    f"method {self.method.name!r}"
                raise CompileError(f"{_OWNER}.stages must equal the number of stages of "
                                   f"{what}, {n}; got {self.stages}")
        put("memory", _memory(self.memory, self.order))
        put("stage_memory", _stage_memory(self.stage_memory, self.order))
        put("step", V.real(_OWNER, "step", self.step, low=0.0, low_open=True))
        put("activation", _activation(self.activation))
        put("readout", V.choice(_OWNER, "readout", self.readout, READOUTS))
        if self.readout == "identity" and self.outputs != self.hidden:
            raise CompileError(f"{_OWNER}.readout 'identity' needs outputs == hidden "
                               f"({self.hidden}), got outputs={self.outputs}")
        put("bias", V.boolean(_OWNER, "bias", self.bias))
        put("init", V.choice(_OWNER, "init", self.init, INITS))
        put("syre", _syre(self.syre))
        put("name", V.name(_OWNER, "name", self.name))

    # ------------------------------------------------------------ derived
    @property
    def exponential(self):
        """True for the exact exponential step."""
        return self.method == EXPONENTIAL

    @property
    def tableau(self):
        """The Butcher tableau, or None for the exponential step."""
        return None if self.exponential else self.method

    @property
    def method_name(self):
        return EXPONENTIAL if self.exponential else self.method.name

    @property
    def alpha(self):
        """The memory coefficients ``alpha_1 .. alpha_t``."""
        return multistep(self.memory, self.order)

    @property
    def stage_alpha(self):
        """The stage-point coefficients ``alpha'_1 .. alpha'_t``."""
        if self.stage_memory is None:
            return (1.0,) + (0.0,) * (self.order - 1)
        return self.stage_memory

    def describe(self):
        """One line: ``n-t-ODERNN cell, method, step, memory, sizes``."""
        memory = self.memory if isinstance(self.memory, str) else (
            f"damped {self.memory['damping']:g}" if isinstance(self.memory, dict)
            else "given")
        alpha = ", ".join(f"{a:g}" for a in self.alpha)
        return (f"{self.stages}-{self.order}-ODERNN {self.cell}, {self.method_name}, step "
                f"{self.step:g}, memory {memory} ({alpha}), hidden {self.hidden}, "
                f"{self.activation}")

    def replace(self, **changes):
        """A copy with some fields changed (validated again; ``stages`` follows a new
        ``method`` unless given)."""
        if "method" in changes and "stages" not in changes:
            changes["stages"] = None
        return dataclasses.replace(self, **changes)

    def __hash__(self):
        # memory may be a dict: hash the canonical plain data instead of the fields
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    # ------------------------------------------------------------ serialisation
    def to_dict(self):
        """Plain data (JSON-able); :meth:`from_dict` rebuilds an equal spec."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "method":
                value = _method_to_data(value)
            elif f.name == "syre":
                value = None if value is None else value.to_dict()
            elif f.name == "memory":
                value = dict(value) if isinstance(value, dict) else (
                    value if isinstance(value, str) else list(value))
            elif f.name == "stage_memory":
                value = None if value is None else list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data):
        """Build from :meth:`to_dict` output (missing keys take defaults; unknown keys are
        a CompileError). An ``{"odernn": {...}}`` wrapper is accepted."""
        if isinstance(data, dict) and set(data) == {"odernn"}:
            data = data["odernn"]
        fields = [f.name for f in dataclasses.fields(cls)]
        V.keys(_OWNER, data, fields)
        missing = [k for k in ("hidden", "inputs", "outputs") if k not in data]
        if missing:
            raise CompileError(f"{_OWNER}: missing required field(s) {', '.join(missing)}")
        return cls(**data)

    def to_json(self, indent=2):
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, source):
        """From JSON text or a path to a ``.json`` file."""
        text = _read(source, ".json")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CompileError(f"{_OWNER}: invalid JSON: {exc}") from None
        return cls.from_dict(data)

    def to_toml(self):
        """TOML text (flat keys; ``method``, ``memory`` and ``syre`` as tables when they are
        not plain names); :meth:`from_toml` rebuilds an equal spec."""
        return _to_toml(self.to_dict())

    @classmethod
    def from_toml(cls, source):
        """From TOML text or a path to a ``.toml`` file (flat keys, or an ``[odernn]``
        table)."""
        text = _read(source, ".toml")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CompileError(f"{_OWNER}: invalid TOML: {exc}") from None
        return cls.from_dict(data)


# --------------------------------------------------------------------------- field checks
def _method(method, cell):
    if isinstance(method, str) and method.strip().lower() in _EXPONENTIAL_NAMES:
        if not CELLS[cell].exponential:
            allowed = [c.name for c in CELLS.values() if c.exponential]
            raise CompileError(f"{_OWNER}.method 'exponential' needs a cell with a linear "
                               f"part to exponentiate ({', '.join(allowed)}); got cell "
                               f"{cell!r}")
        return EXPONENTIAL
    try:
        return get_tableau(method)
    except CompileError as exc:
        text = str(exc)
        if not text.startswith("method"):
            text = f"method: {text}"
        raise CompileError(f"{_OWNER}.{text}; or 'exponential' for the unitary cell") \
            from None


def _method_to_data(method):
    if method == EXPONENTIAL:
        return EXPONENTIAL
    named = TABLEAUS.get(method.name)
    return method.name if named == method else method.to_dict()


def _memory(memory, order):
    try:
        multistep(memory, order)  # validates
    except CompileError as exc:
        text = str(exc)
        if not text.startswith("memory"):
            text = f"memory: {text}"
        raise CompileError(f"{_OWNER}.{text}") from None
    if isinstance(memory, str):
        return memory.strip().lower()
    if isinstance(memory, dict):
        if "coefficients" in memory:
            return tuple(float(a) for a in memory["coefficients"])
        name = str(memory["name"]).strip().lower()
        if name == "damped":
            from .methods import DEFAULT_DAMPING
            return {"name": "damped", "damping": float(memory.get("damping",
                                                                  DEFAULT_DAMPING))}
        return name
    return tuple(float(a) for a in memory)


def _stage_memory(stage, order):
    if stage is None:
        return None
    if isinstance(stage, (str, bytes)) or not hasattr(stage, "__iter__"):
        raise CompileError(f"{_OWNER}.stage_memory must be None or a sequence of {order} "
                           f"numbers (alpha'_1 .. alpha'_t), got {stage!r}")
    values = tuple(V.real(_OWNER, f"stage_memory[{k}]", v) for k, v in enumerate(stage))
    if len(values) != order:
        raise CompileError(f"{_OWNER}.stage_memory must have order = {order} coefficients, "
                           f"got {len(values)}: {values!r}")
    if all(v == 0.0 for v in values):
        raise CompileError(f"{_OWNER}.stage_memory must not be all zero (the stages would "
                           f"not see the state), got {values!r}")
    return values


def _activation(name):
    from hwsim import functions

    if not isinstance(name, str) or name not in functions.FUNCTIONS:
        raise CompileError(f"{_OWNER}.activation must be a function of hwsim.functions "
                           f"({', '.join(functions.names())}), got {name!r}")
    return name


def _syre(syre):
    if syre is None:
        return None
    from .passes.syre import Syre

    if isinstance(syre, Syre):
        return syre
    if isinstance(syre, dict):
        try:
            return Syre.from_dict(syre)
        except (CompileError, TypeError) as exc:
            raise CompileError(f"{_OWNER}.syre: {exc}") from None
    raise CompileError(f"{_OWNER}.syre must be None, a compiler.Syre or its dict, got "
                       f"{type(syre).__name__} {syre!r}")


# --------------------------------------------------------------------------- files
def _read(source, suffix):
    """Text from a path (Path, or a str naming an existing file / ending in ``suffix``) or
    the text itself."""
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source
                                           and (source.endswith(suffix)
                                                or os.path.isfile(source))):
        try:
            return Path(source).read_text()
        except OSError as exc:
            raise CompileError(f"{_OWNER}: cannot read {source}: {exc}") from None
    if not isinstance(source, str):
        raise CompileError(f"{_OWNER}: expected text or a path, got {type(source).__name__}")
    return source


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise CompileError(f"{_OWNER}: cannot write {value!r} to TOML")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string is a JSON string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise CompileError(f"{_OWNER}: cannot write {type(value).__name__} to TOML")


def _to_toml(data):
    flat, tables = [], []
    for key, value in data.items():
        if value is None:
            continue  # TOML has no null: a missing key means the default
        if isinstance(value, dict):
            body = [f"{k} = {_toml_value(v)}" for k, v in value.items() if v is not None]
            tables.append(f"[{key}]\n" + "\n".join(body))
        else:
            flat.append(f"{key} = {_toml_value(value)}")
    return "\n".join(flat) + "\n" + "".join(f"\n{t}\n" for t in tables)
