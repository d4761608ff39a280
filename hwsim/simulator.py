"""Run a device graph on a target: step it over batches and sequences, and go backward.

:class:`Simulator` instantiates the tiles of a :class:`hwsim.DeviceGraph` for one target,
``"device"`` (:class:`hwsim.tile.AnalogTile`: device physics, periphery, pulsed updates) or
``"ideal"`` (:class:`hwsim.tile.IdealTile`: float64), with the same initial weights on both,
then runs the graph's operators in the builder's order, once per time step.

``run`` records every step (the values of all signals); ``backward`` walks the record in
reverse (backprop through time across :class:`~hwsim.ops.Delay`), reading tiles transposed
exactly as the hardware would, and keeps for each tile the pairs ``(x, d)`` a learning rule
needs for ``tile.update(x, d, lr)``.
"""

import hashlib

import numpy as np

from . import _validate as V
from .errors import ConfigError, SimulationError
from .ops import LearningUpdate, TileMVM, TileMVMT, _acc
from .tile import AnalogTile, IdealTile

TARGETS = ("device", "ideal")


def tile_seed(seed, name):
    """The seed of tile ``name`` in a simulator seeded with ``seed``.

    Derived with SHA-256 (not Python's salted ``hash``), so it is the same in every process,
    and independent between tiles.
    """
    digest = hashlib.sha256(f"hwsim.tile:{int(seed)}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def make_tile(spec, target, seed):
    """A live tile for ``spec`` on ``target``, with ``spec``'s initial weights for ``seed``.

    The initial weights are drawn once from ``seed`` (by :meth:`TileSpec.initial_weights`)
    and written exactly on either target, so both start from the same matrix (clipped to the
    device bounds on the device target).
    """
    w0 = spec.initial_weights(seed)
    extra = spec.tile_options()  # offset and own weight decay (syre), on both targets
    if target == "ideal":
        return IdealTile(spec.out_size, spec.in_size, seed=seed, init=w0, **extra)
    options = {k: getattr(spec, k) for k in ("device", "io", "backward_io", "update")
               if getattr(spec, k) is not None}
    return AnalogTile(spec.out_size, spec.in_size, seed=seed, init=w0, **options, **extra)


class _FeedbackRead:
    """A forward tile whose transposed read is replaced by a forward read of tile ``b``."""

    def __init__(self, tile, b):
        self.forward = tile.forward
        self.backward = b.forward


class Simulator:
    """Steps a device graph over batches and sequences on one target.

    Parameters
    ----------
    graph : DeviceGraph
        Built (checked and ordered) on construction.
    target : {"device", "ideal"}
        ``"device"``: analog tiles from each spec's device, IO and update configs;
        ``"ideal"``: float64 tiles.
    seed : int
        Each tile's seed is :func:`tile_seed` ``(seed, name)``: its initial weights, device
        draws and noise streams.
    tiles : dict of str to tile, optional
        Live tiles to use instead of building some or all from their specs (for instance
        trained tiles from another simulator); each must have the spec's sizes.
    feedback : dict of str to str, optional
        ``{forward tile: feedback tile}``: in :meth:`backward` the error below a forward
        read of the forward tile is the feedback tile's forward read of the error above
        (``B e``) instead of the transposed read ``W.T e``. The feedback tile is a tile spec
        of the graph with the transposed shape that no operator reads; this is how feedback
        alignment and heterosynaptic circuits get their dendritic weights.

    Attributes
    ----------
    graph, target, seed
    schedule : Schedule
        The builder's order.
    tiles : dict of str to tile
        The live tiles, by name.
    steps : int
        Time steps of the last run (1 for a batch run).
    trace : list of dict
        Per step of the last recorded run, the value of every signal (arrays
        ``(batch, size)``; treat as read-only).

    Examples
    --------
    >>> sim = Simulator(graph, target="ideal", seed=1)              # doctest: +SKIP
    >>> y = sim.run({"x": x})["y"]                                  # doctest: +SKIP
    >>> sim.backward({"y": y - target})                             # doctest: +SKIP
    >>> x1, d1 = sim.local_signals("W1")                            # doctest: +SKIP
    >>> sim.tiles["W1"].update(x1, d1, lr=0.1)                      # doctest: +SKIP
    """

    def __init__(self, graph, target="device", seed=0, tiles=None, feedback=None):
        self.graph = graph
        self.target = V.choice("Simulator", "target", target, TARGETS)
        self.seed = V.seed("Simulator", seed)
        self.schedule = graph.build()
        self.tiles = self._make_tiles(tiles or {})
        self.feedback = self._check_feedback(feedback or {})
        self._signals = {}
        self._t = [0]               # the step being differentiated, for the record closures
        self._bw_pairs = {}         # op name -> per step (x, d) from backward
        self._up_pairs = {}         # op name -> per step (x, d) from LearningUpdate
        self._tile_ops = self._ops_by_tile()
        ops = self.schedule.ops
        sig, tl = self._signals, self.tiles
        self._stepfns = [f for f in (op.make_step(sig, tl) for op in ops) if f is not None]
        self._latches = [f for f in (op.make_latch(sig) for op in ops) if f is not None]
        # Backward reads go through the feedback tile where one is given: the error reaches
        # the layer below through B, not through the transpose of the forward tile.
        tl_back = dict(tl)
        for fwd, fb in self.feedback.items():
            tl_back[fwd] = _FeedbackRead(tl[fwd], tl[fb])
        self._backs = [b for b in (op.make_backward(tl_back,
                                                    self._recorder(self._bw_pairs, op.name))
                                   for op in ops) if b is not None]
        self.trace = []
        self.steps = 0
        self._sequence = False
        self._batch = 0
        self._backward_done = False

    @property
    def read_tiles(self):
        """Names of the tiles some operator reads (those a backward pass gives signals),
        in graph order; feedback tiles are not among them."""
        return tuple(name for name, ops in self._tile_ops.items() if ops)

    # ------------------------------------------------------------ construction
    def _check_feedback(self, feedback):
        """Validate ``{forward tile: feedback tile}``: known names, transposed shapes."""
        if not hasattr(feedback, "items"):
            raise ConfigError(f"Simulator.feedback must be a dict forward tile -> feedback "
                              f"tile, got {feedback!r}")
        specs = self.graph.tiles
        read_t = {op.tile for op in self.schedule.ops if isinstance(op, TileMVMT)}
        for fwd, fb in feedback.items():
            for name in (fwd, fb):
                if name not in specs:
                    raise ConfigError(f"Simulator.feedback: no tile {name!r} in graph "
                                      f"{self.graph.name!r}; its tiles: {', '.join(specs)}")
            if specs[fb].shape != (specs[fwd].in_size, specs[fwd].out_size):
                raise ConfigError(f"Simulator.feedback: tile {fb!r} is {specs[fb].out_size} x "
                                  f"{specs[fb].in_size}, but feedback for {fwd!r} "
                                  f"({specs[fwd].out_size} x {specs[fwd].in_size}) must be "
                                  f"{specs[fwd].in_size} x {specs[fwd].out_size}")
            if fwd in read_t:
                raise ConfigError(f"Simulator.feedback: tile {fwd!r} is read transposed "
                                  "(TileMVMT); feedback replaces only forward reads' backward")
        return dict(feedback)

    def _make_tiles(self, given):
        specs = self.graph.tiles
        unknown = sorted(set(given) - set(specs))
        if unknown:
            raise ConfigError(f"Simulator.tiles: no tile spec named {', '.join(unknown)} in "
                              f"graph {self.graph.name!r}; its tiles: {', '.join(specs)}")
        tiles = {}
        for name, spec in specs.items():
            if name in given:
                tile = given[name]
                if (tile.out_size, tile.in_size) != spec.shape:
                    raise ConfigError(f"Simulator.tiles[{name!r}] is {tile.out_size} x "
                                      f"{tile.in_size}, but its spec is {spec.out_size} x "
                                      f"{spec.in_size}")
                tiles[name] = tile
            else:
                tiles[name] = make_tile(spec, self.target, tile_seed(self.seed, name))
        return tiles

    def _ops_by_tile(self):
        by_tile = {name: [] for name in self.graph.tiles}
        for op in self.schedule.ops:
            if isinstance(op, TileMVM):  # TileMVMT included
                by_tile[op.tile].append(op)
        return by_tile

    def _recorder(self, store, op_name):
        """A closure storing an (x, d) pair for ``op_name`` at the current step."""
        t = self._t

        def record(x, d):
            store[op_name][t[0]] = (x, d)
        return record

    # ------------------------------------------------------------ forward
    def run(self, inputs, record=True, update=None):
        """Run the graph over a batch or a batch of sequences.

        Parameters
        ----------
        inputs : dict of str to array
            One entry per graph input: ``(batch, size)`` for one step, or
            ``(batch, T, size)`` for T steps (all inputs alike).
        record : bool
            Keep every step's signals (needed by :meth:`backward`,
            :meth:`forward_signals` and :meth:`recorded`).
        update : callable, optional
            A learning rule's hook ``update(tile_name, tile, x, d)``, called in the update
            phase of every step for each :class:`~hwsim.ops.LearningUpdate` (after all
            reads of the step); e.g. ``lambda n, t, x, d: t.update(x, d, 0.01)``. Without
            it the pairs are only recorded (see :meth:`local_signals`).

        Returns
        -------
        dict of str to ndarray
            Every graph output, ``(batch, size)`` or ``(batch, T, size)`` like the inputs.

        Notes
        -----
        Delay buffers start from their ``init`` at every run. Per step: inputs are bound,
        incremented-only signals zeroed, the operators run in order, Delays latch, then the
        update phase runs.
        """
        if update is not None and not callable(update):
            raise ConfigError(f"Simulator.run: update must be callable or None, got {update!r}")
        data, batch, steps, sequence = self._check_inputs(inputs)
        sig, sizes = self._signals, self.schedule.sizes
        sig.clear()
        for op in self.schedule.ops:
            op.start(sig, batch, sizes)
        zeros = {s: np.zeros((batch, sizes[s])) for s in self.schedule.inc_only}
        self._up_pairs = {op.name: [None] * steps for op in self.schedule.ops
                          if isinstance(op, LearningUpdate)}
        updates = [op.make_update(sig, self.tiles, self._recorder(self._up_pairs, op.name),
                                  update) for op in self.schedule.ops]
        updates = [u for u in updates if u is not None]
        outs = {name: np.empty((steps, batch, sizes[name])) for name in self.graph.outputs}
        self.trace, self._backward_done = [], False
        self._bw_pairs.clear()  # the backward closures hold this dict
        self.steps, self._sequence, self._batch = steps, sequence, batch
        for t in range(steps):
            self._t[0] = t
            self._step(data, t, zeros, updates)
            if record:
                self.trace.append(dict(sig))
            for name, out in outs.items():
                out[t] = sig[name]
        return {name: self._layout(out) for name, out in outs.items()}

    def _step(self, data, t, zeros, updates):
        sig = self._signals
        for name, arr in data.items():
            sig[name] = arr[t]
        sig.update(zeros)
        for step in self._stepfns:
            step()
        for latch in self._latches:
            latch()
        for upd in updates:
            upd()

    def _layout(self, arr):
        """(T, batch, size) -> (batch, T, size) for sequences, (batch, size) otherwise."""
        return np.ascontiguousarray(arr.transpose(1, 0, 2)) if self._sequence else arr[0]

    def _check_inputs(self, inputs):
        """Inputs as (T, batch, size) float64 copies; batch, T and whether sequences."""
        expected = self.graph.inputs
        if not hasattr(inputs, "keys"):
            raise SimulationError(f"Simulator.run: inputs must be a dict name -> array, got "
                                  f"{type(inputs).__name__}")
        unknown = sorted(set(inputs) - set(expected))
        missing = [n for n in expected if n not in inputs]
        if unknown or missing:
            parts = ([f"unknown input(s) {', '.join(map(repr, unknown))}"] if unknown else []) \
                + ([f"missing input(s) {', '.join(map(repr, missing))}"] if missing else [])
            raise SimulationError(f"Simulator.run: {'; '.join(parts)}; graph "
                                  f"{self.graph.name!r} takes {', '.join(expected) or 'none'}")
        if not expected:
            raise SimulationError(f"Simulator.run: graph {self.graph.name!r} has no inputs, "
                                  "so the batch size and the number of steps are unknown")
        data, shapes = {}, {}
        for name in expected:
            arr = self._input_array(name, inputs[name])
            shapes[name] = arr.shape
            data[name] = arr
        ndims = {len(s) for s in shapes.values()}
        lead = {s[:-1] for s in shapes.values()}
        if len(ndims) > 1 or len(lead) > 1:
            listing = ", ".join(f"{n} {s}" for n, s in shapes.items())
            raise SimulationError("Simulator.run: inputs must share the layout (batch, size) or "
                                  f"(batch, T, size) with the same batch and T; got {listing}")
        sequence = ndims == {3}
        batch = next(iter(lead))[0]
        steps = next(iter(lead))[1] if sequence else 1
        # time-major copies: arr[t] is a contiguous (batch, size) block, immune to later
        # changes of the caller's arrays
        data = {n: np.ascontiguousarray(a.transpose(1, 0, 2) if sequence else a[None])
                for n, a in data.items()}
        return data, batch, steps, sequence

    def _input_array(self, name, value):
        size = self.schedule.sizes[name]
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise SimulationError(f"Simulator.run: input {name!r} must be a numeric array, "
                                  f"got {type(value).__name__}") from None
        if arr.ndim not in (2, 3) or arr.shape[-1] != size or 0 in arr.shape:
            raise SimulationError(f"Simulator.run: input {name!r} must have shape (batch, "
                                  f"{size}) or (batch, T, {size}), got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise SimulationError(f"Simulator.run: input {name!r} has non-finite values")
        return arr

    # ------------------------------------------------------------ backward
    def backward(self, grads):
        """Reverse mode over the last recorded run (backprop through time for sequences).

        Parameters
        ----------
        grads : dict of str to array
            Gradient of the loss with respect to some graph outputs, in the layout
            :meth:`run` returned them (missing outputs count as zero).

        Returns
        -------
        dict of str to ndarray
            The gradient with respect to every graph input, in the input layout.

        Notes
        -----
        Tile reads are differentiated by the tile's transposed read (``tile.backward`` for
        :class:`~hwsim.ops.TileMVM`, ``tile.forward`` for :class:`~hwsim.ops.TileMVMT`), so
        on the device target the errors see the backward periphery, as on hardware. The
        tiles' current weights are used (those after any update of the run). For every tile
        read the pair ``(x, d)`` is kept, see :meth:`local_signals`.
        """
        if not self.trace or len(self.trace) != self.steps:
            raise SimulationError("Simulator.backward needs a recorded run: call "
                                  "run(inputs, record=True) first")
        per_step = self._check_grads(grads)
        batch, sizes, steps = self._batch, self.schedule.sizes, self.steps
        self._bw_pairs.clear()
        for ops in self._tile_ops.values():
            for op in ops:
                self._bw_pairs[op.name] = [None] * steps
        dinputs = {n: np.zeros((steps, batch, sizes[n])) for n in self.graph.inputs}
        carry = {}
        for t in reversed(range(steps)):
            self._t[0] = t
            grads_t, carry = carry, {}
            for name, g in per_step.items():
                _acc(grads_t, name, g[t])
            values = self.trace[t]
            for back in reversed(self._backs):
                back(values, grads_t, carry)
            for name, g in dinputs.items():
                if name in grads_t:
                    g[t] = grads_t[name]
        self._backward_done = True
        return {name: self._layout(g) for name, g in dinputs.items()}

    def _check_grads(self, grads):
        if not hasattr(grads, "keys"):
            raise SimulationError(f"Simulator.backward: grads must be a dict output name -> "
                                  f"array, got {type(grads).__name__}")
        outputs = self.graph.outputs
        unknown = sorted(set(grads) - set(outputs))
        if unknown:
            verb = "is not a graph output" if len(unknown) == 1 else "are not graph outputs"
            raise SimulationError(f"Simulator.backward: {', '.join(map(repr, unknown))} {verb}; "
                                  f"outputs: {', '.join(outputs) or 'none'}")
        out = {}
        for name, g in grads.items():
            size = self.schedule.sizes[name]
            want = (self._batch, self.steps, size) if self._sequence else (self._batch, size)
            arr = np.asarray(g, dtype=np.float64)
            if arr.shape != want:
                raise SimulationError(f"Simulator.backward: gradient of {name!r} must have "
                                      f"shape {want} (like the output), got {arr.shape}")
            if not np.all(np.isfinite(arr)):
                raise SimulationError(f"Simulator.backward: gradient of {name!r} has "
                                      "non-finite values")
            out[name] = np.ascontiguousarray(arr.transpose(1, 0, 2) if self._sequence
                                             else arr[None])
        return out

    # ------------------------------------------------------------ local signals
    def local_signals(self, tile, source=None):
        """The ``(x, d)`` a learning rule needs for ``tile.update(x, d, lr)``.

        Parameters
        ----------
        tile : str
            Tile name.
        source : {None, "backward", "update"}
            ``"backward"``: the pairs of the last :meth:`backward` (``x`` the input of each
            read of the tile, ``d`` the gradient of its output; for a transposed read the
            roles swap so that ``-d.T @ x`` is the descent direction). ``"update"``: the
            pairs the graph's :class:`~hwsim.ops.LearningUpdate` of the tile recorded.
            None: backward's if there are any, else the LearningUpdate's.

        Returns
        -------
        x : ndarray (rows, in_size)
        d : ndarray (rows, out_size)
            Rows ordered by operator (execution order), then time step, then sample; for a
            batch run of a tile read once, simply the batch.
        """
        if tile not in self.tiles:
            raise SimulationError(f"Simulator.local_signals: no tile {tile!r}; tiles: "
                                  f"{', '.join(self.tiles) or 'none'}")
        if source not in (None, "backward", "update"):
            raise ConfigError(f"Simulator.local_signals: source must be one of None, "
                              f"'backward', 'update', got {source!r}")
        upd_ops = [op for op in self.schedule.ops
                   if isinstance(op, LearningUpdate) and op.tile == tile]
        if source is None:
            source = "backward" if self._backward_done and self._tile_ops[tile] else "update"
        if source == "backward":
            if not self._backward_done:
                raise SimulationError("Simulator.local_signals: call backward() after run() "
                                      "first")
            names = [op.name for op in self._tile_ops[tile]]
            store = self._bw_pairs
        else:
            if not upd_ops or not self.steps or self._up_pairs.get(upd_ops[0].name,
                                                                  [None])[0] is None:
                raise SimulationError(f"Simulator.local_signals: tile {tile!r} has no pairs: "
                                      "call run() and backward(), or declare a "
                                      "LearningUpdate for it and run()")
            names = [op.name for op in upd_ops]
            store = self._up_pairs
        if not names:
            raise SimulationError(f"Simulator.local_signals: tile {tile!r} is not read by any "
                                  "operator, so backward() gives it no signals")
        pairs = [p for n in names for p in store[n]]
        return (np.concatenate([x for x, _ in pairs]), np.concatenate([d for _, d in pairs]))

    def forward_signals(self, tile, op=None):
        """What ``tile`` saw in the last recorded run: the input and output of its read.

        Parameters
        ----------
        tile : str
        op : str, optional
            The operator, when several read the tile.

        Returns
        -------
        (x, y)
            Arrays ``(batch, size)`` for a batch run; for sequences, lists over time of
            such arrays.
        """
        if tile not in self.tiles:
            raise SimulationError(f"Simulator.forward_signals: no tile {tile!r}; tiles: "
                                  f"{', '.join(self.tiles) or 'none'}")
        ops = self._tile_ops[tile]
        if op is not None:
            ops = [o for o in ops if o.name == op]
        if len(ops) != 1:
            names = ", ".join(repr(o.name) for o in self._tile_ops[tile]) or "none"
            which = f"operator {op!r} does not read it" if op is not None else \
                "pass op= to choose" if ops else "no operator reads it"
            raise SimulationError(f"Simulator.forward_signals: tile {tile!r}: {which}; "
                                  f"its reads: {names}")
        return self.recorded(ops[0].x, stacked=False), self.recorded(ops[0].y, stacked=False)

    def recorded(self, signal, stacked=True):
        """The values of ``signal`` in the last recorded run.

        ``(batch, size)`` for a batch run; for sequences ``(batch, T, size)``, or a list
        over time with ``stacked=False``.
        """
        if signal not in self.schedule.sizes:
            raise SimulationError(f"Simulator.recorded: no signal {signal!r}")
        if not self.trace:
            raise SimulationError("Simulator.recorded: call run(inputs, record=True) first")
        values = [step[signal] for step in self.trace]
        if not self._sequence:
            return values[0]
        return np.stack(values, axis=1) if stacked else values
