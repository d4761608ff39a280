"""Spec -> IR: the Runge-Kutta stages, the multistep memory and the readout, written out.

:func:`build_ir` is the builder of the front end. It declares the state buffers (one
:class:`~compiler.ir.StateBuffer` per remembered state ``h[k], h[k-1], ...``), the constant
input of the bias columns, the linear maps, then asks the cell for its input drive (once per
step) and its vector field (once per stage) and combines the stages with the tableau's
weights and the memory's coefficients. Zero coefficients are dropped (midpoint's ``b_1``,
rk4's ``a_31``) and ops nobody reads are removed.
"""

from .cells import get_cell
from .ir import IR, Builder, eliminate_dead
from .weights import initial_weights

__all__ = ["build_ir", "state_name"]


def state_name(j):
    """The IR value of ``h_{k+1-j}``: ``h[k+1]`` for j = 0, ``h[k]``, ``h[k-1]``, ..."""
    return "h[k+1]" if j == 0 else ("h[k]" if j == 1 else f"h[k-{j - 1}]")


def build_ir(spec, weights=None, seed=0):
    """The IR of one step of ``spec``.

    Parameters
    ----------
    spec : ODERNN
    weights : dict of str to array, optional
        Initial matrices by parameter name (see :func:`compiler.weights.parameters`);
        missing ones are drawn from ``seed``.
    seed : int

    Returns
    -------
    IR
        With ``ir.weights`` (the parameter matrices, by name) set.
    """
    cell = get_cell(spec.cell)
    weights, notes = initial_weights(spec, seed, weights)
    ir = IR(spec.name, spec)
    ir.weights = weights
    b = Builder(ir)
    t, n, step = spec.order, spec.stages, spec.step

    b.value("x", spec.inputs, "input")
    ir.inputs = ("x",)
    states = [state_name(j) for j in range(1, t + 1)]
    for s in states:
        b.value(s, spec.hidden, "state")
    new = b.value(state_name(0), spec.hidden, "temp")
    # h[k] <- h[k+1], h[k-1] <- h[k], ...: the memory is a chain of one-step delays.
    for j, s in enumerate(states):
        b.state(state_name(j), s)
    if spec.bias:
        b.value("one", 1, "const")
        b.constant("one", 1.0)

    cell.declare_maps(b, spec, weights, notes)
    _declare_readout(b, spec, weights, notes)

    drive = cell.drive(b, spec)
    ir.notes.append("input drive U x + c computed once per step, shared by the "
                    f"{n} stage(s)")
    hbar = b.sum([(a, s) for a, s in zip(spec.stage_alpha, states)], local="hbar")

    if spec.exponential:
        qh = b.matvec("Q", hbar, local="Qhbar")
        increment = [(1.0, qh), (-1.0, hbar), (step, drive["forcing"])]
        ir.notes.append("exponential step: Q = expm(step * A) on the tile, "
                        "h[k+1] = memory + (Q - I) hbar + step * forcing")
    else:
        increment = _stages(b, cell, spec, hbar, drive)
    memory = [(a, s) for a, s in zip(spec.alpha, states)]
    b.sum(memory + increment, y=new)
    _readout(b, spec, new)
    removed = eliminate_dead(ir)
    if removed:
        ir.notes.append(f"{removed} op(s) nobody reads removed")
    return ir.check()


def _stages(b, cell, spec, hbar, drive):
    """Expand the n stages; returns the terms ``(step * b_i, K_i)`` of the increment."""
    tab, step = spec.tableau, spec.step
    ks = []
    for i in range(tab.stages):
        terms = [(1.0, hbar)] + [(step * tab.a[i][l], ks[l]) for l in range(i)
                                 if tab.a[i][l] != 0.0]
        point = b.sum(terms, local=f"s{i + 1}")
        ks.append(cell.field(b.scope(f"K{i + 1}"), spec, point, drive))
    return [(step * tab.b[i], ks[i]) for i in range(tab.stages) if tab.b[i] != 0.0]


def _declare_readout(b, spec, weights, notes):
    if spec.readout == "identity":
        return
    b.map("V", weights["V"], "readout", notes["V"])
    if spec.bias:
        b.map("d", weights["d"], "bias", notes["d"])


def _readout(b, spec, h):
    y = b.value("y", spec.outputs, "output")
    b.ir.outputs = ("y",)
    if spec.readout == "identity":
        b.copy(h, y)
        return y
    src = b.pointwise("tanh", h, local="tanh(h)") if spec.readout == "tanh" else h
    b.matvec("V", src, y)
    if spec.bias:
        b.matvec("d", "one", y)
    return y
