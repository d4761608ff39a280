"""The compiler's intermediate representation: one time step of an ODERNN as a dataflow.

The IR sits between the spec (parameters only) and the device graph (tiles and signals).
It has

- **values**: named vectors with a size (``x``, ``h``, ``K1``, ``drive.g``, ...) and a kind
  (``input``, ``output``, ``state``, ``const``, ``temp``);
- **linear maps**: named matrices (``W``, ``U``, ``c``, ``V``, ``Q``) with their shapes, role
  and initial values: what tiles will hold;
- **ops**: :class:`MatVec` (``y += M x``; several MatVecs into one value sum, the partial-sum
  adder of tiling), :class:`Pointwise` (a named elementwise function), :class:`Sum` (weighted
  sum with fixed coefficients: Runge-Kutta and multistep combinations), :class:`Product`
  (gates), :class:`Copy`, :class:`Concat` (bias folding), :class:`StateBuffer` (a one-step
  delay: the state ``h`` and the multistep memory ``h_{k-1}, ..., h_{k-t+1}``) and
  :class:`Constant` (the constant 1 a bias column reads).

``str(ir)`` prints it for people; :func:`build_ir` builds it from a spec (the cell of the
spec expands its vector field once per Runge-Kutta stage, see :mod:`compiler.cells`).
Ops hold names only; each lowers to hwsim operators in :mod:`compiler.lower`.
"""

import dataclasses
from dataclasses import dataclass

import numpy as np

from .errors import CompileError

VALUE_KINDS = ("input", "output", "state", "const", "temp")
MAP_ROLES = ("recurrent", "input", "bias", "readout")


@dataclass(frozen=True)
class Value:
    """A named vector of one time step.

    Attributes
    ----------
    name : str
    size : int
    kind : str
        ``"input"`` (the data), ``"output"`` (the readout), ``"state"`` (a delayed state),
        ``"const"`` or ``"temp"``.
    """

    name: str
    size: int
    kind: str = "temp"


@dataclass(frozen=True, eq=False)
class LinearMap:
    """A named matrix that tiles will hold.

    Attributes
    ----------
    name : str
    out_size, in_size : int
    role : str
        ``"recurrent"`` (reads the state), ``"input"`` (reads ``x``), ``"bias"`` (reads the
        constant 1) or ``"readout"``.
    init : numpy.ndarray, shape (out_size, in_size)
        Initial weights (read-only).
    note : str
        How ``init`` was made (``"uniform +-1/sqrt(32)"``, ``"expm(1 * A)"``, ``"given"``).
    parts : tuple of (str, int, int)
        The parameters the map holds, as ``(name, first column, stop column)``: one for a
        plain map, two for a map with its bias column folded in (``U|c``).
    """

    name: str
    out_size: int
    in_size: int
    role: str
    init: np.ndarray
    note: str = ""
    parts: tuple = None

    def __post_init__(self):
        if self.parts is None:
            object.__setattr__(self, "parts", ((self.name, 0, self.in_size),))

    @property
    def shape(self):
        return (self.out_size, self.in_size)


# --------------------------------------------------------------------------- ops
@dataclass(frozen=True)
class Op:
    """Base of IR ops: ``reads`` and ``writes`` give the dataflow."""

    @property
    def reads(self):
        return ()

    @property
    def writes(self):
        return ()

    @property
    def kind(self):
        return type(self).__name__


@dataclass(frozen=True)
class MatVec(Op):
    """``y += M x`` (every MatVec into ``y`` adds; ``y`` starts at 0 unless another op sets
    it). Lowered to one or more tile reads."""

    map: str
    x: str
    y: str

    reads = property(lambda self: (self.x,))
    writes = property(lambda self: (self.y,))

    def __str__(self):
        return f"{self.y} += {self.map} @ {self.x}"


@dataclass(frozen=True)
class Pointwise(Op):
    """``y = fn(x)`` for a function name of :mod:`hwsim.functions`."""

    fn: str
    x: str
    y: str

    reads = property(lambda self: (self.x,))
    writes = property(lambda self: (self.y,))

    def __str__(self):
        return f"{self.y} = {self.fn}({self.x})"


@dataclass(frozen=True)
class Sum(Op):
    """``y = sum_k c_k x_k`` with fixed coefficients."""

    inputs: tuple
    coefficients: tuple
    y: str

    reads = property(lambda self: tuple(dict.fromkeys(self.inputs)))
    writes = property(lambda self: (self.y,))

    def __str__(self):
        terms = []
        for x, c in zip(self.inputs, self.coefficients):
            sign = "-" if c < 0 else "+"
            mag = abs(c)
            term = x if mag == 1.0 else f"{mag:.6g}*{x}"
            terms.append((sign, term))
        text = ("-" if terms[0][0] == "-" else "") + terms[0][1]
        for sign, term in terms[1:]:
            text += f" {sign} {term}"
        return f"{self.y} = {text}"


@dataclass(frozen=True)
class Product(Op):
    """``y = a * b`` elementwise (gates)."""

    a: str
    b: str
    y: str

    reads = property(lambda self: (self.a, self.b))
    writes = property(lambda self: (self.y,))

    def __str__(self):
        return f"{self.y} = {self.a} * {self.b}"


@dataclass(frozen=True)
class Copy(Op):
    """``y = x``."""

    x: str
    y: str

    reads = property(lambda self: (self.x,))
    writes = property(lambda self: (self.y,))

    def __str__(self):
        return f"{self.y} = {self.x}"


@dataclass(frozen=True)
class Concat(Op):
    """``y = [x_1, x_2, ...]`` (an input with the constant 1 appended for a bias column)."""

    inputs: tuple
    y: str

    reads = property(lambda self: tuple(self.inputs))
    writes = property(lambda self: (self.y,))

    def __str__(self):
        return f"{self.y} = [{', '.join(self.inputs)}]"


@dataclass(frozen=True)
class StateBuffer(Op):
    """``y`` at step k is ``x`` at step k-1 (``init`` at step 0): the state memory."""

    x: str
    y: str
    init: float = 0.0

    # The buffer's output is available from the step's start: it reads nothing now.
    writes = property(lambda self: (self.y,))

    def __str__(self):
        return f"{self.y} = delay({self.x}, init={self.init:g})"


@dataclass(frozen=True)
class Constant(Op):
    """``y = value`` at every step (the constant input of the bias columns)."""

    y: str
    value: float = 1.0

    writes = property(lambda self: (self.y,))

    def __str__(self):
        return f"{self.y} = {self.value:g} (constant)"


# --------------------------------------------------------------------------- the IR
class IR:
    """One time step of a compiled recurrence.

    Attributes
    ----------
    name : str
    values : dict of str to Value
        In creation order.
    maps : dict of str to LinearMap
    ops : list of Op
        In dataflow order (every value is written before it is read, except the outputs
        of StateBuffers, which hold the previous step's values).
    inputs, outputs : tuple of str
        ``("x",)`` and ``("y",)``.
    spec : ODERNN or None
        The spec it was built from.
    notes : list of str
        What the builder decided (hoisting, dropped zero terms), for the report.
    """

    def __init__(self, name="odernn", spec=None):
        self.name = name
        self.spec = spec
        self.values = {}
        self.maps = {}
        self.ops = []
        self.inputs = ()
        self.outputs = ()
        self.notes = []

    # ------------------------------------------------------------ queries
    def ops_of(self, kind):
        """The ops of one class (``MatVec``, ``Sum``, ...)."""
        return [op for op in self.ops if isinstance(op, kind)]

    def op_counts(self):
        """``{kind: count}`` of the ops."""
        counts = {}
        for op in self.ops:
            counts[op.kind] = counts.get(op.kind, 0) + 1
        return counts

    def writers(self, value):
        return [op for op in self.ops if value in op.writes]

    def readers(self, value):
        return [op for op in self.ops if value in op.reads
                or (isinstance(op, StateBuffer) and op.x == value)]

    def check(self):
        """Raise CompileError if the dataflow is inconsistent (a bug of a builder or pass)."""
        written = set()
        for op in self.ops:
            for v in (*op.reads, *op.writes):
                if v not in self.values:
                    raise CompileError(f"IR {self.name!r}: {op} names unknown value {v!r}")
            if isinstance(op, MatVec):
                m = self.maps.get(op.map)
                if m is None:
                    raise CompileError(f"IR {self.name!r}: {op} names unknown map {op.map!r}")
                if (self.values[op.y].size, self.values[op.x].size) != m.shape:
                    raise CompileError(f"IR {self.name!r}: {op}: map {m.name} is "
                                       f"{m.out_size} x {m.in_size}, values are "
                                       f"{self.values[op.y].size} and {self.values[op.x].size}")
            for v in op.reads:
                if v not in written and v not in self.inputs:
                    raise CompileError(f"IR {self.name!r}: {op} reads {v!r} before it is "
                                       "written")
            for v in op.writes:
                if v in written and not isinstance(op, MatVec):
                    raise CompileError(f"IR {self.name!r}: value {v!r} written twice")
                written.add(v)
        for op in self.ops_of(StateBuffer):
            if op.x not in written:
                raise CompileError(f"IR {self.name!r}: {op} buffers {op.x!r}, never written")
        return self

    # ------------------------------------------------------------ printing
    def __str__(self):
        lines = [f"IR {self.name}"]
        if self.spec is not None:
            lines[0] += f": {self.spec.describe()}"
        lines.append("  maps:")
        for m in self.maps.values():
            lines.append(f"    {m.name:<10} {m.out_size:>5} x {m.in_size:<5} {m.role:<9} "
                         f"{m.note}")
        lines.append("  values:")
        for v in self.values.values():
            lines.append(f"    {v.name:<14} [{v.size}] {v.kind}")
        lines.append("  step:")
        for op in self.ops:
            lines.append(f"    {op}")
        for note in self.notes:
            lines.append(f"  note: {note}")
        return "\n".join(lines)

    def __repr__(self):
        return (f"IR({self.name!r}: {len(self.values)} values, {len(self.maps)} maps, "
                f"{len(self.ops)} ops)")

    def to_dict(self):
        """A JSON-able summary (no weights): maps, values and ops as text."""
        return {"name": self.name,
                "maps": [{"name": m.name, "shape": list(m.shape), "role": m.role,
                          "note": m.note} for m in self.maps.values()],
                "values": [dataclasses.asdict(v) for v in self.values.values()],
                "ops": [str(op) for op in self.ops], "notes": list(self.notes)}


class Builder:
    """Appends values and ops to an :class:`IR`; what cells use to expand their field.

    Parameters
    ----------
    ir : IR
    prefix : str
        Prepended (with a dot) to the names of new temporaries (``"K2"`` gives
        ``"K2.pre"``); :meth:`scope` makes a builder with another prefix on the same IR.
    """

    def __init__(self, ir, prefix=""):
        self.ir = ir
        self.prefix = prefix

    def scope(self, prefix):
        return Builder(self.ir, prefix)

    def name(self, local):
        return f"{self.prefix}.{local}" if self.prefix else local

    def value(self, local, size, kind="temp", scoped=True):
        """Create a value (name scoped by the prefix unless ``scoped=False``)."""
        name = self.name(local) if scoped else local
        if name in self.ir.values:
            raise CompileError(f"IR {self.ir.name!r}: value {name!r} created twice")
        self.ir.values[name] = Value(name, int(size), kind)
        return name

    def size(self, value):
        return self.ir.values[value].size

    def map(self, name, init, role, note=""):
        """Declare a linear map with its initial matrix; returns its name."""
        if name in self.ir.maps:
            raise CompileError(f"IR {self.ir.name!r}: map {name!r} declared twice")
        init = np.asarray(init, dtype=np.float64)
        init.setflags(write=False)
        self.ir.maps[name] = LinearMap(name, init.shape[0], init.shape[1], role, init, note)
        return name

    # ------------------------------------------------------------ ops
    def matvec(self, map_name, x, y=None, local=None):
        """``y += M x``; a new value ``local`` (default ``"<map>x"``) when ``y`` is None."""
        m = self.ir.maps[map_name]
        if y is None:
            y = self.value(local or f"{map_name}{x.split('.')[-1]}", m.out_size)
        self.ir.ops.append(MatVec(map_name, x, y))
        return y

    def pointwise(self, fn, x, local):
        if fn == "identity":
            return x  # nothing to compute: the value itself
        y = self.value(local, self.size(x))
        self.ir.ops.append(Pointwise(fn, x, y))
        return y

    def product(self, a, b, local):
        y = self.value(local, self.size(a))
        self.ir.ops.append(Product(a, b, y))
        return y

    def sum(self, terms, local=None, y=None, kind="temp"):
        """``y = sum c x`` over ``terms`` (pairs ``(c, x)``): equal inputs merged, zero terms
        dropped; a single unit term returns its input without an op when ``y`` is None."""
        merged = {}
        for c, x in terms:
            merged[x] = merged.get(x, 0.0) + float(c)
        merged = [(c, x) for x, c in merged.items() if c != 0.0]
        if not merged:
            raise CompileError(f"IR {self.ir.name!r}: sum {local or y!r} has no nonzero term")
        if y is None and len(merged) == 1 and merged[0][0] == 1.0:
            return merged[0][1]
        if y is None:
            y = self.value(local, self.size(merged[0][1]), kind)
        self.ir.ops.append(Sum(tuple(x for _, x in merged), tuple(c for c, _ in merged), y))
        return y

    def copy(self, x, y):
        self.ir.ops.append(Copy(x, y))
        return y

    def state(self, x, y, init=0.0):
        self.ir.ops.append(StateBuffer(x, y, float(init)))
        return y

    def constant(self, y, value=1.0):
        self.ir.ops.append(Constant(y, float(value)))
        return y


def eliminate_dead(ir):
    """Drop ops whose values nobody reads (kept: outputs and buffered states); returns the
    number of ops removed. Cells write every gate they might need; a tableau with a zero
    weight (midpoint's ``b_1``) can leave a stage combination unused."""
    removed = 0
    while True:
        needed = set(ir.outputs)
        for op in ir.ops:
            needed.update(op.reads)
            if isinstance(op, StateBuffer):
                needed.add(op.x)
        keep = [op for op in ir.ops if isinstance(op, StateBuffer)
                or any(v in needed for v in op.writes)]
        if len(keep) == len(ir.ops):
            break
        removed += len(ir.ops) - len(keep)
        ir.ops = keep
    used = {v for op in ir.ops for v in (*op.reads, *op.writes)} | set(ir.inputs) | \
        set(ir.outputs)
    ir.values = {k: v for k, v in ir.values.items() if k in used}
    used_maps = {op.map for op in ir.ops if isinstance(op, MatVec)}
    ir.maps = {k: m for k, m in ir.maps.items() if k in used_maps}
    return removed
