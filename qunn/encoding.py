"""Data encoding of the QUNN construction: x -> H(x) = sum_m x_m G_m -> U = exp(-i delta H(x)).

The generators G_m are fixed Pauli strings on the q system qubits; data never touch the trained
parameters (the clock couplings), which is what keeps the parameter count linear in memory.
"""

import numpy as np
import qutip

from .errors import QunnError, check_finite_array, check_int, check_real

__all__ = ["Encoding", "pauli_string"]

_PAULI = {"i": lambda: qutip.qeye(2), "x": qutip.sigmax, "y": qutip.sigmay, "z": qutip.sigmaz}
KINDS = ("z", "x", "zz", "xx")


def pauli_string(qubits, ops):
    """A Pauli string on ``qubits`` qubits as a ``Qobj``.

    Parameters
    ----------
    qubits : int
        Number of qubits q >= 1.
    ops : dict
        ``{qubit index: "x" | "y" | "z"}``; identity elsewhere.

    Returns
    -------
    qutip.Qobj
        The tensor product, dims ``[[2]*q, [2]*q]``.
    """
    qubits = check_int("qubits", qubits, 1)
    factors = []
    for i in range(qubits):
        name = ops.get(i, "i")
        if name not in _PAULI:
            raise QunnError(f"ops[{i}] must be one of 'x', 'y', 'z', got {name!r}")
        factors.append(_PAULI[name]())
    for i in ops:
        if not 0 <= i < qubits:
            raise QunnError(f"qubit index {i!r} out of range 0..{qubits - 1}")
    return qutip.tensor(factors)


def _kind_generators(qubits, kind):
    if kind in ("z", "x"):
        return [pauli_string(qubits, {i: kind}) for i in range(qubits)]
    if kind in ("zz", "xx"):
        if qubits < 2:
            raise QunnError(f"generators={kind!r} needs qubits >= 2 (nearest neighbours), got {qubits}")
        return [pauli_string(qubits, {i: kind[0], i + 1: kind[1]}) for i in range(qubits - 1)]
    raise QunnError(f"generator kind must be one of {KINDS} or a Qobj, got {kind!r}")


class Encoding:
    """Fixed Pauli-string encoding of a data vector into a unitary on q qubits.

    ``H(x) = sum_m x_m G_m`` and ``U(x) = exp(-i delta H(x))``; x = 0 gives the identity, which
    is how the QUNN pads the memory window before the sequence starts.

    Parameters
    ----------
    qubits : int
        Number of system qubits q >= 1.
    generators : str, Qobj or sequence of them, default "z"
        ``"z"``/``"x"``: a single-qubit Pauli on each qubit (q generators); ``"zz"``/``"xx"``:
        nearest-neighbour pairs on an open chain (q - 1 generators); or user ``Qobj``s, each
        Hermitian with dims ``[[2]*q, [2]*q]`` (or shape 2^q x 2^q). A sequence concatenates.
    delta : float, default 1.0
        Encoding time step delta (finite).

    Attributes
    ----------
    generators : list of qutip.Qobj
        The G_m, in data order.
    n_features : int
        Length of the data vector x (number of generators).
    dim : int
        System dimension N = 2^q.
    """

    def __init__(self, qubits, generators="z", delta=1.0):
        self.qubits = check_int("qubits", qubits, 1)
        self.delta = check_real("delta", delta)
        self.dim = 2 ** self.qubits
        items = [generators] if isinstance(generators, (str, qutip.Qobj)) else list(generators)
        if not items:
            raise QunnError("generators must not be empty")
        gens = []
        for n, item in enumerate(items):
            if isinstance(item, str):
                gens.extend(_kind_generators(self.qubits, item))
            elif isinstance(item, qutip.Qobj):
                gens.append(self._check_user(n, item))
            else:
                raise QunnError(f"generators[{n}] must be a kind in {KINDS} or a Qobj, got {item!r}")
        self.generators = gens
        self.n_features = len(gens)
        self._mats = np.array([g.full() for g in gens])                  # (M, N, N)
        self._diagonal = all(np.allclose(m, np.diag(np.diag(m))) for m in self._mats)
        self._diags = np.array([np.diag(m).real for m in self._mats])     # used if diagonal

    def _check_user(self, n, op):
        if op.shape != (self.dim, self.dim):
            raise QunnError(f"generators[{n}] must be {self.dim}x{self.dim} for qubits={self.qubits}, "
                            f"got shape {op.shape}")
        mat = op.full()
        if not np.all(np.isfinite(mat)):
            raise QunnError(f"generators[{n}] has non-finite entries")
        if not np.allclose(mat, mat.conj().T, atol=1e-12):
            raise QunnError(f"generators[{n}] must be Hermitian")
        return qutip.Qobj(mat, dims=[[2] * self.qubits, [2] * self.qubits])

    def check_x(self, x, name="x"):
        """Return ``x`` as a finite float vector of length ``n_features`` or raise."""
        x = check_finite_array(name, x, ndim=1)
        if x.shape[0] != self.n_features:
            raise QunnError(f"{name} must have length n_features={self.n_features}, got {x.shape[0]}")
        return x

    def hamiltonian(self, x):
        """H(x) = sum_m x_m G_m as a Hermitian ``Qobj``."""
        x = self.check_x(x)
        return sum((float(xm) * g for xm, g in zip(x, self.generators)), 0 * self.generators[0])

    def unitary(self, x):
        """U(x) = exp(-i delta H(x)) as a ``Qobj`` (QuTiP's ``expm``: the reference)."""
        return (-1j * self.delta * self.hamiltonian(x)).expm()

    def unitary_array(self, x):
        """U(x) as numpy: a length-N vector (the diagonal) if all G_m are diagonal, else N x N.

        The fast path uses this; diagonal encodings (``"z"``, ``"zz"``) cost O(N) per apply.
        """
        x = self.check_x(x)
        if self._diagonal:
            return np.exp(-1j * self.delta * (x @ self._diags))
        # H(x) is Hermitian: an eigendecomposition gives an exactly unitary U and, for the small
        # N of interest, is several times cheaper than a Pade expm.
        lam, vec = np.linalg.eigh(np.tensordot(x, self._mats, axes=1))
        return (vec * np.exp(-1j * self.delta * lam)) @ vec.conj().T

    def __repr__(self):
        return f"Encoding(qubits={self.qubits}, n_features={self.n_features}, delta={self.delta})"
