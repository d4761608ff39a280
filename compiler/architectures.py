"""Named architectures: familiar RNNs as n-t-ODERNNs (reference/theory.md section 6.2).

Each is an :class:`~compiler.ODERNN` with its cell, method, memory and step preset; any
field can be overridden. The placement of the classic cells in the n-t family is the
project's own construction (theory.md 6.2, "derived"), with the confidence given there.

==========  =====  =========================================================  ===========
name        n-t    one step (Delta = step, sigma = activation)                method
==========  =====  =========================================================  ===========
vanilla     1-1    h' = h + Delta (-h + sigma(W h + U x + c));                euler
                   Delta = 1: the Elman RNN h' = sigma(W h + U x + c)
residual    1-1    h' = h + Delta sigma(W h + U x + c)                        euler
gru         2-1    field F = z (g - h) (Euler, Delta = 1: the GRU             midpoint
                   h' = (1 - z) h + z g, reset gate nested inside sigma);
                   integrated with the 2-stage midpoint method:
                   K1 = F(h), K2 = F(h + Delta/2 K1), h' = h + Delta K2
lstm        2-2    field F = i g - (1 - f) h (Euler, Delta = 1, t = 1: the    midpoint
                   LSTM cell state f h + i g); the update reads h_k and
                   h_{k-1}: h' = 1.6 h_k - 0.64 h_{k-1} + Delta K2 (memory
                   "damped" with roots 0.8: a forget factor; the pure second
                   difference 2 h_k - h_{k-1} fails the root condition, and
                   roots 0.9 leave the oscillatory modes of the field at
                   initialisation slightly unstable, gain ~1.06)
unitary     1-1*   h' = expm(Delta A) h + Delta sigma(U x + c), A             exponential
                   skew-symmetric: the exact flow of dh/dt = A h (|lambda| =
                   1), the input by Euler (exponential Euler)
==========  =====  =========================================================  ===========

(*) the exact exponential step is not a Runge-Kutta tableau: it is the n -> infinity limit
of the truncated exponential, with |R(i y)| = 1 on the whole imaginary axis.

The readout is ``y = V h + d`` (``"tanh"`` for lstm: ``y = V tanh(h) + d``, standing in
for the output gate ``o tanh(c)`` with ``o = 1``).

The unitary architecture is *fixed-form at initialisation*: the compiler programs the tile
with ``Q = expm(Delta A)`` from the skew-symmetric ``A``; local rules then train ``Q``
directly like any tile, so it stays orthogonal only approximately (the stability pass at
trained weights measures how far).
"""

from .spec import ODERNN

__all__ = ["ARCHITECTURES", "architecture", "vanilla", "residual", "gru", "lstm", "unitary"]

#: name -> (preset fields, n, t, one-line description)
ARCHITECTURES = {
    "vanilla": (dict(cell="vanilla", method="euler", order=1, step=1.0),
                "Elman RNN: Euler, Delta = 1, of dh/dt = -h + sigma(W h + U x + c)"),
    "residual": (dict(cell="residual", method="euler", order=1, step=1.0),
                 "residual RNN: h + Delta sigma(W h + U x + c)"),
    "gru": (dict(cell="gru", method="midpoint", order=1, step=1.0),
            "GRU-like: midpoint (2 stages) of the GRU field z (g - h)"),
    "lstm": (dict(cell="lstm", method="midpoint", order=2,
                  memory={"name": "damped", "damping": 0.8}, step=1.0, readout="tanh"),
             "LSTM-like: midpoint of i g - (1 - f) h with a damped 2-step memory"),
    "unitary": (dict(cell="unitary", method="exponential", order=1, step=1.0),
                "URNN-like: exact step expm(Delta A), A skew, plus Delta sigma(U x + c)"),
}


def architecture(name, *, hidden, inputs, outputs, **overrides):
    """The named architecture as an :class:`~compiler.ODERNN` (fields overridable).

    Examples
    --------
    >>> architecture("lstm", hidden=8, inputs=1, outputs=1).describe()
    '2-2-ODERNN lstm, midpoint, step 1, memory damped 0.8 (1.6, -0.64), hidden 8, tanh'
    """
    from .errors import CompileError

    if name not in ARCHITECTURES:
        raise CompileError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got "
                           f"{name!r}")
    fields = dict(ARCHITECTURES[name][0])
    fields.update(overrides)
    fields.setdefault("name", name)
    if "method" in overrides and "stages" not in overrides:
        fields["stages"] = None
    return ODERNN(hidden=hidden, inputs=inputs, outputs=outputs, **fields)


def _factory(name):
    def make(*, hidden, inputs, outputs, **overrides):
        return architecture(name, hidden=hidden, inputs=inputs, outputs=outputs, **overrides)
    make.__name__ = name
    make.__doc__ = f"{ARCHITECTURES[name][1]}. See :func:`architecture`."
    return make


vanilla = _factory("vanilla")
residual = _factory("residual")
gru = _factory("gru")
lstm = _factory("lstm")
unitary = _factory("unitary")
