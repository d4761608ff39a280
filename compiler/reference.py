"""A direct numpy implementation of any :class:`~compiler.ODERNN`, the compiler's oracle.

Written from the equations (reference/theory.md section 6.2 and :mod:`compiler.cells`), not
from the IR, so that tests can check the whole compiler (IR expansion, tiling, lowering) on
the ideal target against it: a compiled graph and :func:`run` given the same weights agree
to rounding.

Conventions: arrays are ``(batch, size)`` per step and ``(batch, T, size)`` over sequences;
weights are the parameter matrices by name (:func:`compiler.weights.parameters`): ``W``,
``U``, ``c`` (column ``(hidden, 1)``), ``V``, ``d``; gated cells ``W_z``, ``U_z``, ...; the
unitary cell ``A``.
"""

import numpy as np

from hwsim import functions

__all__ = ["field", "step", "run", "sigmoid"]


def sigmoid(z):
    return functions.get("sigmoid").f(z)


def _lin(w, name, v):
    """``v @ M.T`` (row vectors): the matrix product of a tile read."""
    return v @ w[name].T


def _drive(spec, w, x, gate=""):
    s = f"_{gate}" if gate else ""
    out = _lin(w, f"U{s}", x)
    if spec.bias:
        out = out + w[f"c{s}"][:, 0]
    return out


def field(spec, weights, h, x):
    """``F(h, x)`` of the spec's cell (batch of rows)."""
    w, act = weights, functions.get(spec.activation).f
    cell = spec.cell
    if cell == "vanilla":
        return act(_lin(w, "W", h) + _drive(spec, w, x)) - h
    if cell == "residual":
        return act(_lin(w, "W", h) + _drive(spec, w, x))
    if cell == "gru":
        z = sigmoid(_lin(w, "W_z", h) + _drive(spec, w, x, "z"))
        r = sigmoid(_lin(w, "W_r", h) + _drive(spec, w, x, "r"))
        g = act(_lin(w, "W_g", r * h) + _drive(spec, w, x, "g"))
        return z * (g - h)
    if cell == "lstm":
        f = sigmoid(_lin(w, "W_f", h) + _drive(spec, w, x, "f"))
        i = sigmoid(_lin(w, "W_i", h) + _drive(spec, w, x, "i"))
        g = act(_lin(w, "W_g", h) + _drive(spec, w, x, "g"))
        return i * g - (1.0 - f) * h
    if cell == "unitary":
        return _lin(w, "A", h) + act(_drive(spec, w, x))
    raise ValueError(f"reference: unknown cell {cell!r}")


def step(spec, weights, history, x, Q=None):
    """One step: ``h_{k+1}`` from ``history = [h_k, h_{k-1}, ..., h_{k-t+1}]`` and ``x_k``.

    ``Q`` (``expm(step A)``) may be passed to avoid recomputing it for the exponential step.
    """
    alpha, beta, dt = spec.alpha, spec.stage_alpha, spec.step
    hbar = sum(b * h for b, h in zip(beta, history))
    new = sum(a * h for a, h in zip(alpha, history))
    if spec.exponential:
        if Q is None:
            from scipy.linalg import expm
            Q = expm(dt * weights["A"])
        act = functions.get(spec.activation).f
        return new + hbar @ Q.T - hbar + dt * act(_drive(spec, weights, x))
    tab = spec.tableau
    ks = []
    for i in range(tab.stages):
        point = hbar + dt * sum((tab.a[i][l] * ks[l] for l in range(i)), np.zeros_like(hbar))
        ks.append(field(spec, weights, point, x))
    return new + dt * sum(bi * k for bi, k in zip(tab.b, ks))


def readout(spec, weights, h):
    """``y`` from the new state."""
    if spec.readout == "identity":
        return h
    src = np.tanh(h) if spec.readout == "tanh" else h
    y = src @ weights["V"].T
    if spec.bias:
        y = y + weights["d"][:, 0]
    return y


def run(spec, weights, x, return_states=False):
    """Run the recurrence over sequences from zero initial states.

    Parameters
    ----------
    spec : ODERNN
    weights : dict of str to array
    x : array (batch, T, inputs)
    return_states : bool
        Also return the states ``h_1 .. h_T`` (batch, T, hidden).

    Returns
    -------
    y : ndarray (batch, T, outputs)
    """
    x = np.asarray(x, dtype=np.float64)
    batch, steps, _ = x.shape
    history = [np.zeros((batch, spec.hidden)) for _ in range(spec.order)]
    Q = None
    if spec.exponential:
        from scipy.linalg import expm
        Q = expm(spec.step * weights["A"])
    ys, hs = [], []
    for k in range(steps):
        h = step(spec, weights, history, x[:, k], Q)
        history = [h] + history[:-1]
        ys.append(readout(spec, weights, h))
        hs.append(h)
    y = np.stack(ys, axis=1)
    return (y, np.stack(hs, axis=1)) if return_states else y
