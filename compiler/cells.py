"""The cells of an ODERNN: vector fields ``F(h, x)`` that the IR builder expands per stage.

An n-t-ODERNN step (reference/theory.md section 6.2, a project construction) is

    h_{k+1} = sum_j alpha_j h_{k+1-j} + Delta sum_i b_i K_i,
    K_i = F(hbar + Delta sum_{l<i} a_il K_l, x_k),     hbar = sum_j alpha'_j h_{k+1-j},

so a cell only has to say what ``F`` is. Each :class:`Cell` declares its parameters (names,
shapes, initialisation) and writes ``F`` into the IR twice over: :meth:`Cell.drive` the part
that depends on the input only (``U x_k + c``, computed once per step and shared by all
stages: on hardware one input-tile read per step, not n), :meth:`Cell.field` the rest, once
per stage. Gates are sigmoids; ``sigma`` is the spec's ``activation``.

==========  ====================================================  ==========================
cell        F(h, x)                                               parameters
==========  ====================================================  ==========================
vanilla     -h + sigma(W h + U x + c)                             W, U, c
residual    sigma(W h + U x + c)                                  W, U, c
gru         z * (g - h);  z = sig(W_z h + U_z x + c_z),           W_{z,r,g}, U_{z,r,g},
            r = sig(W_r h + ...), g = sigma(W_g (r * h) + ...)    c_{z,r,g}
lstm        i * g - (1 - f) * h;  f, i = sig(W_{f,i} h + ...),    W_{f,i,g}, U_{f,i,g},
            g = sigma(W_g h + U_g x + c_g)                        c_{f,i,g}
unitary     A h + sigma(U x + c),  A skew-symmetric               A, U, c
==========  ====================================================  ==========================

With Euler and ``Delta = 1`` these give the textbook updates: vanilla ``h' = sigma(W h + U x
+ c)``, GRU ``h' = (1 - z) h + z g``, the LSTM cell state ``c' = f c + i g`` (gates reading
the state itself; no output gate). ``c`` terms exist only with ``bias=True``: a bias is a
tile column driven by the constant 1.

The unitary cell also has the exact exponential step (``method="exponential"``): the linear
part is integrated exactly, ``h_{k+1} = expm(Delta A) h_k + Delta sigma(U x_k + c)``
(exponential Euler), and the tile holds ``Q = expm(Delta A)``, orthogonal for skew ``A``.
"""

from dataclasses import dataclass

from .errors import CompileError

__all__ = ["Cell", "Param", "CELLS", "get_cell"]


@dataclass(frozen=True)
class Param:
    """A trainable matrix of a cell.

    Attributes
    ----------
    name : str
    shape : tuple of int
    role : str
        ``"recurrent"``, ``"input"``, ``"bias"`` or ``"readout"``.
    scheme : str
        Initialisation: ``"fan_in"`` (scale ``1/sqrt(in)``), ``"bias"`` (scale
        ``1/sqrt(hidden)``) or ``"skew"`` (``(B - B^T)/sqrt(2)``, ``B ~ N(0, 1/hidden)``).
    """

    name: str
    shape: tuple
    role: str
    scheme: str


class Cell:
    """Base class of the vector fields. Subclasses set ``name``, ``gates`` and implement
    :meth:`field` (and, for gates with their own activation, :meth:`gate_fn`)."""

    name = ""
    gates = ("",)           # one input drive per gate; "" is the single ungated drive
    exponential = False     # has an exact exponential step (a linear part A)

    # ------------------------------------------------------------ parameters
    def _suffix(self, gate):
        return f"_{gate}" if gate else ""

    def parameters(self, spec):
        """The cell's trainable matrices (the readout is added by the compiler)."""
        h, i = spec.hidden, spec.inputs
        out = [Param(f"W{self._suffix(g)}", (h, h), "recurrent", "fan_in")
               for g in self.gates]
        out += [Param(f"U{self._suffix(g)}", (h, i), "input", "fan_in") for g in self.gates]
        if spec.bias:
            out += [Param(f"c{self._suffix(g)}", (h, 1), "bias", "bias") for g in self.gates]
        return out

    def declare_maps(self, b, spec, weights, notes):
        """Declare the IR's linear maps from the weights (default: one map per parameter)."""
        for p in self.parameters(spec):
            b.map(p.name, weights[p.name], p.role, notes.get(p.name, ""))

    # ------------------------------------------------------------ the field
    def drive(self, b, spec):
        """Stage-independent values ``U_g x + c_g`` per gate: ``{gate: value}``."""
        out = {}
        for g in self.gates:
            s = self._suffix(g)
            d = b.value(f"drive.{g}" if g else "drive", spec.hidden)
            b.matvec(f"U{s}", "x", d)
            if spec.bias:
                b.matvec(f"c{s}", "one", d)
            out[g] = d
        return out

    def _gate(self, b, spec, gate, s, drive, fn, x=None):
        """``fn(W_gate x + drive_gate)`` with ``x = s`` by default."""
        suffix = self._suffix(gate)
        wx = b.matvec(f"W{suffix}", s if x is None else x, local=f"W{suffix}x")
        pre = b.sum([(1.0, wx), (1.0, drive[gate])], local=f"pre{suffix}")
        return b.pointwise(fn, pre, local=gate or "act")

    def field(self, b, spec, s, drive):
        """Write ``K = F(s, x)`` with builder ``b`` (scoped to the stage); returns K."""
        raise NotImplementedError

    def __repr__(self):
        return f"<cell {self.name}>"


class Vanilla(Cell):
    """``F = -h + sigma(W h + U x + c)``: Euler with Delta = 1 is the Elman RNN."""

    name = "vanilla"

    def field(self, b, spec, s, drive):
        act = self._gate(b, spec, "", s, drive, spec.activation)
        return b.sum([(1.0, act), (-1.0, s)], local="F")


class Residual(Cell):
    """``F = sigma(W h + U x + c)``: Euler gives the residual RNN ``h + Delta sigma(.)``."""

    name = "residual"

    def field(self, b, spec, s, drive):
        return self._gate(b, spec, "", s, drive, spec.activation)


class GRU(Cell):
    """``F = z * (g - h)``, the GRU written as a field; Euler with Delta = 1 is the GRU."""

    name = "gru"
    gates = ("z", "r", "g")

    def field(self, b, spec, s, drive):
        z = self._gate(b, spec, "z", s, drive, "sigmoid")
        r = self._gate(b, spec, "r", s, drive, "sigmoid")
        rs = b.product(r, s, local="rh")
        g = self._gate(b, spec, "g", s, drive, spec.activation, x=rs)
        diff = b.sum([(1.0, g), (-1.0, s)], local="g-h")
        return b.product(z, diff, local="F")


class LSTM(Cell):
    """``F = i * g - (1 - f) * h``; Euler with Delta = 1 is ``f * h + i * g``."""

    name = "lstm"
    gates = ("f", "i", "g")

    def field(self, b, spec, s, drive):
        f = self._gate(b, spec, "f", s, drive, "sigmoid")
        i = self._gate(b, spec, "i", s, drive, "sigmoid")
        g = self._gate(b, spec, "g", s, drive, spec.activation)
        ig = b.product(i, g, local="ig")
        fs = b.product(f, s, local="fh")
        return b.sum([(1.0, ig), (-1.0, s), (1.0, fs)], local="F")


class Unitary(Cell):
    """``F = A h + sigma(U x + c)`` with ``A`` skew-symmetric (eigenvalues on the imaginary
    axis, ``expm(Delta A)`` orthogonal).

    With a Runge-Kutta method the tile holds ``A``; with ``method="exponential"`` it holds
    ``Q = expm(Delta A)`` and the step is ``Q hbar + Delta sigma(U x + c)`` (plus the memory
    terms): the linear part exactly, the forcing by Euler.
    """

    name = "unitary"
    exponential = True

    def parameters(self, spec):
        h, i = spec.hidden, spec.inputs
        out = [Param("A", (h, h), "recurrent", "skew"), Param("U", (h, i), "input", "fan_in")]
        if spec.bias:
            out.append(Param("c", (h, 1), "bias", "bias"))
        return out

    def declare_maps(self, b, spec, weights, notes):
        if not spec.exponential:
            return super().declare_maps(b, spec, weights, notes)
        from scipy.linalg import expm

        # On hardware the tile is programmed once with the exact flow of the linear part.
        b.map("Q", expm(spec.step * weights["A"]), "recurrent", f"expm({spec.step:g} * A)")
        for p in self.parameters(spec)[1:]:
            b.map(p.name, weights[p.name], p.role, notes.get(p.name, ""))

    def forcing(self, b, spec, drive):
        """``sigma(U x + c)``, stage-independent (computed once per step)."""
        return b.pointwise(spec.activation, drive[""], local="forcing")

    def drive(self, b, spec):
        out = super().drive(b, spec)
        # sigma(U x + c) does not depend on h: hoist it with the drive.
        return {"": out[""], "forcing": self.forcing(b, spec, out)}

    def field(self, b, spec, s, drive):
        ah = b.matvec("A", s, local="Ah")
        return b.sum([(1.0, ah), (1.0, drive["forcing"])], local="F")


#: The vector fields by name.
CELLS = {cls.name: cls() for cls in (Vanilla, Residual, GRU, LSTM, Unitary)}


def get_cell(name):
    """The :class:`Cell` called ``name``."""
    try:
        return CELLS[name]
    except (KeyError, TypeError):
        raise CompileError(f"cell must be one of {', '.join(map(repr, CELLS))}, got "
                           f"{name!r}") from None
