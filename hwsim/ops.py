"""Operators of a device graph: what each does to signals and tiles in one time step.

Every operator declares the signals it **sets**, **increments** and **reads**, the signals it
**latches** (reads at the very end of a step, to hand them to the next step: the state
buffer of a recurrence) and the tiles it **updates**. Per signal and step there is at most
one set, then any increments, then the reads, then the latches; per tile at most one update,
after every read of the tile. :class:`hwsim.DeviceGraph` derives one deterministic order
from these declarations and checks them (Nengo's builder semantics, reference/devices.md
section 12).

An operator holds names only (of signals and tiles), never arrays or live tiles, so a graph
serialises to JSON and runs on any target. At run time the simulator asks each operator for
small closures:

``make_step(signals, tiles)``
    the forward work of one step, on ``signals`` (a dict name -> array ``(batch, size)``);
``make_latch(signals)``
    end-of-step work (only :class:`Delay`);
``make_update(signals, tiles, record, hook)``
    the update phase (only :class:`LearningUpdate`);
``make_backward(tiles, record)``
    one step of reverse mode: ``back(values, grads, carry)`` adds the vector-Jacobian
    product of the operator to ``grads`` (dict name -> gradient of the loss with respect to
    the signal at this step); :class:`Delay` adds to ``carry``, the gradients of the previous
    step.

Closures never modify an array in place: they bind a new array to the signal's name. So a
recorded step is a shallow copy of the signal dict and stays valid.
"""

import numbers

import numpy as np

from . import functions as _functions
from .errors import GraphError


# --------------------------------------------------------------------------- helpers
def ref_name(obj, what="signal"):
    """The name of a signal or tile given as an object with ``.name`` or as a string."""
    name = getattr(obj, "name", obj)
    if not isinstance(name, str) or not name:
        raise TypeError(f"a {what} must be given by a non-empty name or an object with a "
                        f".name, got {obj!r}")
    return name


def _acc(grads, name, value):
    """Add ``value`` to the gradient held for ``name`` (without modifying arrays in place)."""
    old = grads.get(name)
    grads[name] = value if old is None else old + value


def _finite_real(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not np.isfinite(value):
        raise GraphError(f"{owner}: {name} must be a finite real number, got {value!r}")
    return float(value)


class Operator:
    """Base class: the declarations and the closures of one operator.

    Parameters
    ----------
    name : str or None
        Unique within a graph; :meth:`hwsim.DeviceGraph.add` assigns ``"<Kind>#<index>"``
        when None.

    Notes
    -----
    Subclasses list their constructor arguments in ``_fields`` (the JSON keys, with
    ``name``) and override the declaration properties and the ``make_*`` methods they need.
    """

    _fields = ()

    def __init__(self, name=None):
        if name is not None and (not isinstance(name, str) or not name):
            raise GraphError(f"{type(self).__name__}: name must be a non-empty string or None, "
                             f"got {name!r}")
        self.name = name

    # ------------------------------------------------------------ declarations
    @property
    def kind(self):
        return type(self).__name__

    @property
    def reads(self):
        """Signals read during the step, after their set and increments."""
        return ()

    @property
    def sets(self):
        """Signals this operator writes (each signal has at most one setter)."""
        return ()

    @property
    def incs(self):
        """Signals this operator adds to (after their set, before their reads)."""
        return ()

    @property
    def latches(self):
        """Signals read at the end of the step, after everything else (Delay)."""
        return ()

    @property
    def updates(self):
        """Tiles whose weights this operator changes in the update phase."""
        return ()

    @property
    def tiles(self):
        """Tiles this operator reads (forward or transposed MVM)."""
        return ()

    # ------------------------------------------------------------ checks
    def check(self, signals, tiles):
        """Raise GraphError if sizes or references do not fit.

        Parameters
        ----------
        signals : dict of str to Signal
        tiles : dict of str to TileSpec
        """
        for name in (*self.reads, *self.sets, *self.incs, *self.latches):
            if name not in signals:
                known = ", ".join(sorted(signals)) or "none"
                raise GraphError(f"{self.describe()} refers to unknown signal {name!r}; "
                                 f"known signals: {known}")
        for name in (*self.tiles, *self.updates):
            if name not in tiles:
                known = ", ".join(sorted(tiles)) or "none"
                raise GraphError(f"{self.describe()} refers to unknown tile {name!r}; "
                                 f"known tiles: {known}")

    def _check_size(self, signals, role, signal, size, why):
        if signals[signal].size != size:
            raise GraphError(f"{self.describe()}: {role} {signal!r} has size "
                             f"{signals[signal].size}, but {why} is {size}")

    # ------------------------------------------------------------ closures
    def start(self, signals, batch, sizes):
        """Prepare per-run state before the first step (Delay's buffer).

        ``sizes`` maps every signal name to its size.
        """

    def make_step(self, signals, tiles):
        """The forward closure of one step, or None."""
        return None

    def make_latch(self, signals):
        """The end-of-step closure, or None."""
        return None

    def make_update(self, signals, tiles, record, hook):
        """The update-phase closure, or None."""
        return None

    def make_backward(self, tiles, record):
        """The reverse-mode closure ``back(values, grads, carry)``, or None."""
        return None

    # ------------------------------------------------------------ description
    def describe(self):
        """``Kind 'name' (reads -> writes)`` for error messages."""
        ins = ", ".join((*self.reads, *self.latches)) or "-"
        outs = ", ".join((*self.sets, *self.incs, *self.updates)) or "-"
        return f"{self.kind} {self.name!r} ({ins} -> {outs})"

    def __repr__(self):
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{self.kind}({args}, name={self.name!r})"

    # ------------------------------------------------------------ serialisation
    def to_dict(self):
        """Plain JSON-able dict: ``{"op": kind, "name": ..., <fields>}``."""
        out = {"op": self.kind, "name": self.name}
        for f in self._fields:
            value = getattr(self, f)
            out[f] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data):
        """Rebuild from :meth:`to_dict` output; unknown keys are a GraphError."""
        allowed = {"op", "name", *cls._fields}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise GraphError(f"{cls.__name__}: unknown key(s) {', '.join(map(repr, unknown))}; "
                             f"allowed keys: {', '.join(sorted(allowed))}")
        kwargs = {k: v for k, v in data.items() if k != "op"}
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise GraphError(f"{cls.__name__}: cannot rebuild from {data!r}: {exc}") from None


# --------------------------------------------------------------------------- tile reads
class TileMVM(Operator):
    """Forward read of a tile: ``y = tile.forward(x)``.

    Parameters
    ----------
    tile : str or TileSpec
        The tile (``out_size x in_size``).
    x : str or Signal
        Input, size ``in_size``.
    y : str or Signal
        Output, size ``out_size``.
    inc : bool
        Add to ``y`` instead of setting it (several tiles summing into one signal: the
        partial-sum adder of a layer split over tiles).
    name : str, optional

    Notes
    -----
    Reads ``x``; sets ``y`` (increments it with ``inc=True``); reads tile ``tile``.
    Reverse mode uses the tile's analog transposed read, ``dx = tile.backward(dy)``, and
    records the pair ``(x, dy)`` the tile needs for its update ``dW = -lr dy.T @ x``.
    """

    _fields = ("tile", "x", "y", "inc")

    def __init__(self, tile, x, y, inc=False, name=None):
        super().__init__(name)
        self.tile = ref_name(tile, "tile")
        self.x = ref_name(x)
        self.y = ref_name(y)
        if not isinstance(inc, (bool, np.bool_)):
            raise GraphError(f"{self.kind}: inc must be True or False, got {inc!r}")
        self.inc = bool(inc)

    reads = property(lambda self: (self.x,))
    sets = property(lambda self: () if self.inc else (self.y,))
    incs = property(lambda self: (self.y,) if self.inc else ())
    tiles = property(lambda self: (self.tile,))

    def _sizes(self, spec):
        """(size of x, size of y) for this read direction."""
        return spec.in_size, spec.out_size

    def check(self, signals, tiles):
        super().check(signals, tiles)
        spec = tiles[self.tile]
        nx, ny = self._sizes(spec)
        where = f"{self.kind} on tile {self.tile!r} ({spec.out_size} x {spec.in_size})"
        self._check_size(signals, "input", self.x, nx, f"the input size of {where}")
        self._check_size(signals, "output", self.y, ny, f"the output size of {where}")

    @staticmethod
    def _read(tile):
        return tile.forward

    @staticmethod
    def _read_t(tile):
        return tile.backward

    def make_step(self, signals, tiles):
        read, x, y = self._read(tiles[self.tile]), self.x, self.y
        if self.inc:
            def step():
                signals[y] = signals[y] + read(signals[x])
        else:
            def step():
                signals[y] = read(signals[x])
        return step

    def _pair(self, xv, g):
        """The (x, d) of the tile's update from this op's input and output gradient."""
        return xv, g

    def make_backward(self, tiles, record):
        read_t, pair, x, y = self._read_t(tiles[self.tile]), self._pair, self.x, self.y

        def back(values, grads, carry):
            xv, g = values[x], grads.get(y)
            if g is None:
                # no loss depends on y at this step: a zero d keeps the rows aligned with x
                record(*pair(xv, np.zeros(values[y].shape)))
                return
            record(*pair(xv, g))
            _acc(grads, x, read_t(g))
        return back


class TileMVMT(TileMVM):
    """Transposed read of a tile: ``y = tile.backward(x)`` (``W.T x``).

    Parameters
    ----------
    tile : str or TileSpec
    x : str or Signal
        Input, size ``out_size``.
    y : str or Signal
        Output, size ``in_size``.
    inc : bool
        Add to ``y`` instead of setting it.
    name : str, optional

    Notes
    -----
    Reads ``x``; sets (or increments) ``y``; reads tile ``tile`` transposed. Reverse mode
    reads the tile forward, ``dx = tile.forward(dy)``; the update pair is ``(dy, x)``,
    since ``dL/dW = x dy.T`` for ``y = W.T x``.
    """

    def _sizes(self, spec):
        return spec.out_size, spec.in_size

    @staticmethod
    def _read(tile):
        return tile.backward

    @staticmethod
    def _read_t(tile):
        return tile.forward

    def _pair(self, xv, g):
        return g, xv


# --------------------------------------------------------------------------- digital ops
class Elementwise(Operator):
    """``y = f(x)`` for a named function of :mod:`hwsim.functions`.

    Parameters
    ----------
    fn : str
        Function name (``tanh``, ``sigmoid``, ``relu``, ``sin``, ``square``, ...).
    x, y : str or Signal
        Same size.
    name : str, optional

    Notes
    -----
    Reads ``x``; sets ``y``. Reverse mode: ``dx += dy * f'(x)``.
    """

    _fields = ("fn", "x", "y")

    def __init__(self, fn, x, y, name=None):
        super().__init__(name)
        if fn not in _functions.FUNCTIONS:
            raise GraphError(f"{self.kind}: unknown function {fn!r}; known functions: "
                             f"{', '.join(_functions.names())}")
        self.fn = fn
        self.x = ref_name(x)
        self.y = ref_name(y)

    reads = property(lambda self: (self.x,))
    sets = property(lambda self: (self.y,))

    def check(self, signals, tiles):
        super().check(signals, tiles)
        self._check_size(signals, "output", self.y, signals[self.x].size,
                         f"the size of input {self.x!r}")

    def make_step(self, signals, tiles):
        f, x, y = _functions.get(self.fn).f, self.x, self.y

        def step():
            signals[y] = f(signals[x])
        return step

    def make_backward(self, tiles, record):
        df, x, y = _functions.get(self.fn).df, self.x, self.y

        def back(values, grads, carry):
            g = grads.get(y)
            if g is not None:
                _acc(grads, x, g * df(values[x], values[y]))
        return back


class Multiply(Operator):
    """Elementwise product ``y = a * b`` (gates of gated cells).

    Parameters
    ----------
    a, b, y : str or Signal
        Same size.
    name : str, optional

    Notes
    -----
    Reads ``a`` and ``b``; sets ``y``. Reverse mode: ``da += dy * b``, ``db += dy * a``.
    """

    _fields = ("a", "b", "y")

    def __init__(self, a, b, y, name=None):
        super().__init__(name)
        self.a, self.b, self.y = ref_name(a), ref_name(b), ref_name(y)

    reads = property(lambda self: (self.a, self.b))
    sets = property(lambda self: (self.y,))

    def check(self, signals, tiles):
        super().check(signals, tiles)
        size = signals[self.y].size
        for role, s in (("input", self.a), ("input", self.b)):
            self._check_size(signals, role, s, size, f"the size of output {self.y!r}")

    def make_step(self, signals, tiles):
        a, b, y = self.a, self.b, self.y

        def step():
            signals[y] = signals[a] * signals[b]
        return step

    def make_backward(self, tiles, record):
        a, b, y = self.a, self.b, self.y

        def back(values, grads, carry):
            g = grads.get(y)
            if g is not None:
                _acc(grads, a, g * values[b])
                _acc(grads, b, g * values[a])
        return back


class Add(Operator):
    """Weighted sum ``y = sum_k c_k x_k``.

    Parameters
    ----------
    inputs : sequence of str or Signal
        At least one, all of ``y``'s size (a signal may appear more than once).
    y : str or Signal
    coefficients : sequence of float, optional
        Fixed weights ``c_k`` (default all 1): Runge-Kutta stage combinations, scaling
        (one input), differences (``[1, -1]``).
    name : str, optional

    Notes
    -----
    Reads every input; sets ``y``. Reverse mode: ``dx_k += c_k dy``.
    """

    _fields = ("inputs", "y", "coefficients")

    def __init__(self, inputs, y, coefficients=None, name=None):
        super().__init__(name)
        if isinstance(inputs, str) or not hasattr(inputs, "__len__"):
            inputs = [inputs]
        if len(inputs) == 0:
            raise GraphError(f"{self.kind}: needs at least one input")
        self.inputs = tuple(ref_name(s) for s in inputs)
        self.y = ref_name(y)
        if coefficients is not None:
            if isinstance(coefficients, str) or not hasattr(coefficients, "__len__") \
                    or len(coefficients) != len(self.inputs):
                raise GraphError(f"{self.kind}: coefficients must be a sequence of "
                                 f"{len(self.inputs)} number(s) (one per input), got "
                                 f"{coefficients!r}")
            coefficients = tuple(_finite_real(self.kind, f"coefficients[{k}]", c)
                                 for k, c in enumerate(coefficients))
        self.coefficients = coefficients

    reads = property(lambda self: tuple(dict.fromkeys(self.inputs)))
    sets = property(lambda self: (self.y,))

    def _terms(self):
        coef = self.coefficients or (1.0,) * len(self.inputs)
        return tuple(zip(self.inputs, coef))

    def check(self, signals, tiles):
        super().check(signals, tiles)
        for s in self.inputs:
            self._check_size(signals, "input", s, signals[self.y].size,
                             f"the size of output {self.y!r}")

    def make_step(self, signals, tiles):
        terms, y = self._terms(), self.y
        (first, c0), rest = terms[0], terms[1:]

        def step():
            acc = signals[first] if c0 == 1.0 else c0 * signals[first]
            for s, c in rest:
                acc = acc + (signals[s] if c == 1.0 else c * signals[s])
            # a lone unit-coefficient input aliases it: fine, arrays are never mutated
            signals[y] = acc
        return step

    def make_backward(self, tiles, record):
        terms, y = self._terms(), self.y

        def back(values, grads, carry):
            g = grads.get(y)
            if g is not None:
                for s, c in terms:
                    _acc(grads, s, g if c == 1.0 else c * g)
        return back


class Copy(Operator):
    """``y = x``.

    Parameters
    ----------
    x, y : str or Signal
        Same size.
    name : str, optional

    Notes
    -----
    Reads ``x``; sets ``y``. Reverse mode: ``dx += dy``.
    """

    _fields = ("x", "y")

    def __init__(self, x, y, name=None):
        super().__init__(name)
        self.x, self.y = ref_name(x), ref_name(y)

    reads = property(lambda self: (self.x,))
    sets = property(lambda self: (self.y,))

    def check(self, signals, tiles):
        super().check(signals, tiles)
        self._check_size(signals, "output", self.y, signals[self.x].size,
                         f"the size of input {self.x!r}")

    def make_step(self, signals, tiles):
        x, y = self.x, self.y

        def step():
            signals[y] = signals[x]
        return step

    def make_backward(self, tiles, record):
        x, y = self.x, self.y

        def back(values, grads, carry):
            g = grads.get(y)
            if g is not None:
                _acc(grads, x, g)
        return back


class Delay(Operator):
    """One-step delay: ``y`` at step t is ``x`` at step t-1 (``init`` at step 0).

    The state buffer of a recurrence: a cycle through a Delay is allowed, because ``x`` is
    latched at the end of the step, after every other operator.

    Parameters
    ----------
    x, y : str or Signal
        Same size.
    init : float or sequence of float
        The value of ``y`` at the first step of every run (one number or one per element).
    name : str, optional

    Notes
    -----
    Sets ``y`` at the start of the step; latches ``x`` at its end. Reverse mode (backprop
    through time): ``dy`` at step t becomes part of ``dx`` at step t-1; the gradient with
    respect to ``init`` is dropped.
    """

    _fields = ("x", "y", "init")

    def __init__(self, x, y, init=0.0, name=None):
        super().__init__(name)
        self.x, self.y = ref_name(x), ref_name(y)
        if isinstance(init, (list, tuple, np.ndarray)):
            init = tuple(_finite_real(self.kind, f"init[{k}]", v)
                         for k, v in enumerate(np.asarray(init, dtype=object).ravel()))
        else:
            init = _finite_real(self.kind, "init", init)
        self.init = init

    sets = property(lambda self: (self.y,))
    latches = property(lambda self: (self.x,))

    @property
    def _key(self):
        # the buffer lives in the signal dict under a key no signal name can take
        return ("delay", self.name)

    def check(self, signals, tiles):
        super().check(signals, tiles)
        size = signals[self.y].size
        self._check_size(signals, "input", self.x, size, f"the size of output {self.y!r}")
        if isinstance(self.init, tuple) and len(self.init) != size:
            raise GraphError(f"{self.describe()}: init has {len(self.init)} value(s), but "
                             f"{self.y!r} has size {size}")

    def start(self, signals, batch, sizes):
        signals[self._key] = np.broadcast_to(np.asarray(self.init, dtype=np.float64),
                                             (batch, sizes[self.y])).copy()

    def make_step(self, signals, tiles):
        key, y = self._key, self.y

        def step():
            signals[y] = signals[key]
        return step

    def make_latch(self, signals):
        key, x = self._key, self.x

        def latch():
            signals[key] = signals[x]
        return latch

    def make_backward(self, tiles, record):
        x, y = self.x, self.y

        def back(values, grads, carry):
            g = grads.get(y)
            if g is not None:
                _acc(carry, x, g)
        return back


# --------------------------------------------------------------------------- learning
class LearningUpdate(Operator):
    """Declares that tile ``tile`` learns from the local signals ``x`` and ``d``.

    In the update phase of every step (after all reads of the tile) the simulator records
    the pair ``(x, d)`` for the tile and, when a rule is attached to the run, calls it,
    typically ``tile.update(x, d, lr)`` (``dW = -lr d.T @ x``).

    Parameters
    ----------
    tile : str or TileSpec
    x : str or Signal
        Size ``in_size`` (the presynaptic signal).
    d : str or Signal
        Size ``out_size`` (the postsynaptic error or activity).
    name : str, optional

    Notes
    -----
    Reads ``x`` and ``d``; updates tile ``tile``. Not differentiated in reverse mode.
    """

    _fields = ("tile", "x", "d")

    def __init__(self, tile, x, d, name=None):
        super().__init__(name)
        self.tile = ref_name(tile, "tile")
        self.x, self.d = ref_name(x), ref_name(d)

    reads = property(lambda self: (self.x, self.d))
    updates = property(lambda self: (self.tile,))

    def check(self, signals, tiles):
        super().check(signals, tiles)
        spec = tiles[self.tile]
        shape = f"tile {self.tile!r} is {spec.out_size} x {spec.in_size}, so its"
        self._check_size(signals, "x", self.x, spec.in_size, f"{shape} in_size")
        self._check_size(signals, "d", self.d, spec.out_size, f"{shape} out_size")

    def make_update(self, signals, tiles, record, hook):
        tile_name, tile, x, d = self.tile, tiles[self.tile], self.x, self.d

        def update():
            xv, dv = signals[x], signals[d]
            record(xv, dv)
            if hook is not None:
                hook(tile_name, tile, xv, dv)
        return update


class Slice(Operator):
    """``y = x[begin:end]``: one block of lanes of a wider signal.

    The compiler splits vectors wider than a tile into blocks of lanes (one per row or
    column of tiles); a graph input wider than a tile is cut into those blocks here.

    Parameters
    ----------
    x, y : str or Signal
        ``y`` has size ``end - begin``.
    begin, end : int
        ``0 <= begin < end <= size(x)``.
    name : str, optional

    Notes
    -----
    Reads ``x``; sets ``y``. Reverse mode: ``dx[:, begin:end] += dy``.
    """

    _fields = ("x", "y", "begin", "end")

    def __init__(self, x, y, begin, end, name=None):
        super().__init__(name)
        self.x, self.y = ref_name(x), ref_name(y)
        for key, value in (("begin", begin), ("end", end)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                raise GraphError(f"{self.kind}: {key} must be an integer >= 0, got {value!r}")
        if end <= begin:
            raise GraphError(f"{self.kind}: end must be > begin, got begin={begin}, "
                             f"end={end}")
        # not "start": Operator.start is the per-run preparation hook
        self.begin, self.end = int(begin), int(end)

    reads = property(lambda self: (self.x,))
    sets = property(lambda self: (self.y,))

    def check(self, signals, tiles):
        super().check(signals, tiles)
        if self.end > signals[self.x].size:
            raise GraphError(f"{self.describe()}: end {self.end} is beyond input {self.x!r} "
                             f"of size {signals[self.x].size}")
        self._check_size(signals, "output", self.y, self.end - self.begin, "end - begin")

    def make_step(self, signals, tiles):
        x, y, a, b = self.x, self.y, self.begin, self.end

        def step():
            signals[y] = signals[x][:, a:b]
        return step

    def make_backward(self, tiles, record):
        x, y, a, b = self.x, self.y, self.begin, self.end

        def back(values, grads, carry):
            g = grads.get(y)
            if g is not None:
                full = np.zeros(values[x].shape)
                full[:, a:b] = g
                _acc(grads, x, full)
        return back


class Concat(Operator):
    """``y = [x_1, x_2, ...]``: blocks of lanes joined into one signal.

    Parameters
    ----------
    inputs : sequence of str or Signal
        At least one; their sizes add up to the size of ``y``.
    y : str or Signal
    name : str, optional

    Notes
    -----
    Reads every input; sets ``y``. Reverse mode: each input gets its block of ``dy``.
    """

    _fields = ("inputs", "y")

    def __init__(self, inputs, y, name=None):
        super().__init__(name)
        if isinstance(inputs, str) or not hasattr(inputs, "__len__") or len(inputs) == 0:
            raise GraphError(f"{self.kind}: inputs must be a non-empty sequence of signals, "
                             f"got {inputs!r}")
        self.inputs = tuple(ref_name(s) for s in inputs)
        if len(set(self.inputs)) != len(self.inputs):
            raise GraphError(f"{self.kind}: inputs must be distinct, got {self.inputs!r}")
        self.y = ref_name(y)

    reads = property(lambda self: self.inputs)
    sets = property(lambda self: (self.y,))

    def check(self, signals, tiles):
        super().check(signals, tiles)
        total = sum(signals[s].size for s in self.inputs)
        self._check_size(signals, "output", self.y, total, "the total size of the inputs")

    def make_step(self, signals, tiles):
        inputs, y = self.inputs, self.y

        def step():
            signals[y] = np.concatenate([signals[s] for s in inputs], axis=1)
        return step

    def make_backward(self, tiles, record):
        inputs, y = self.inputs, self.y

        def back(values, grads, carry):
            g = grads.get(y)
            if g is not None:
                a = 0
                for s in inputs:
                    b = a + values[s].shape[1]
                    _acc(grads, s, g[:, a:b])
                    a = b
        return back


OPERATORS = {cls.__name__: cls for cls in (TileMVM, TileMVMT, Elementwise, Multiply, Add,
                                           Copy, Delay, LearningUpdate, Slice, Concat)}


def op_from_dict(data):
    """Rebuild any operator from its :meth:`Operator.to_dict`; GraphError names unknown ops."""
    if not isinstance(data, dict) or "op" not in data:
        raise GraphError(f"an operator entry must be a dict with an 'op' key, got {data!r}")
    kind = data["op"]
    if kind not in OPERATORS:
        raise GraphError(f"unknown operator {kind!r}; known operators: "
                         f"{', '.join(sorted(OPERATORS))}")
    return OPERATORS[kind].from_dict(data)
