"""qunn.Encoding: generators, Hermiticity and unitarity, and bad input."""

import numpy as np
import pytest
import qutip

import qunn


def _herm(op):
    m = op.full()
    return np.allclose(m, m.conj().T, atol=1e-12)


def _unitary(op):
    m = op.full()
    return np.allclose(m.conj().T @ m, np.eye(m.shape[0]), atol=1e-12)


@pytest.mark.parametrize("q, gens, n", [(1, "z", 1), (3, "z", 3), (3, "zz", 2), (3, "xx", 2),
                                        (2, ("z", "xx"), 3)])
def test_generator_counts_and_operators(q, gens, n):
    enc = qunn.Encoding(q, gens, delta=0.7)
    assert enc.n_features == n and enc.dim == 2 ** q
    x = np.random.default_rng(0).normal(size=n)
    H, U = enc.hamiltonian(x), enc.unitary(x)
    assert _herm(H) and _unitary(U)
    assert U.dims == [[2] * q, [2] * q]
    ref = (-1j * 0.7 * H).expm().full()
    fast = enc.unitary_array(x)
    fast = np.diag(fast) if fast.ndim == 1 else fast
    np.testing.assert_allclose(fast, ref, atol=1e-12)


def test_diagonal_encoding_uses_vector_and_zero_data_is_identity():
    enc = qunn.Encoding(2, ("z", "zz"))
    assert enc.unitary_array(np.ones(3)).ndim == 1
    np.testing.assert_allclose(enc.unitary(np.zeros(3)).full(), np.eye(4), atol=1e-14)
    assert qunn.Encoding(2, "xx").unitary_array(np.ones(1)).ndim == 2


def test_user_generators():
    g = qutip.tensor(qutip.sigmax(), qutip.sigmay())
    enc = qunn.Encoding(2, [g, "z"])
    assert enc.n_features == 3
    assert _unitary(enc.unitary([0.3, -1.0, 2.0]))
    # a plain 4x4 Qobj without qubit dims is accepted and re-labelled
    enc2 = qunn.Encoding(2, qutip.Qobj(g.full()))
    assert enc2.generators[0].dims == [[2, 2], [2, 2]]


@pytest.mark.parametrize("kwargs, match", [
    (dict(qubits=0), "qubits"),
    (dict(qubits=1.5), "qubits"),
    (dict(qubits=1, generators="zz"), "zz"),
    (dict(qubits=2, generators="foo"), "kind"),
    (dict(qubits=2, generators=[]), "empty"),
    (dict(qubits=2, generators=qutip.sigmaz()), "4x4"),
    (dict(qubits=1, generators=qutip.Qobj([[0, 1], [0, 0]])), "Hermitian"),
    (dict(qubits=1, delta=float("nan")), "delta"),
])
def test_bad_construction(kwargs, match):
    with pytest.raises(qunn.QunnError, match=match):
        qunn.Encoding(**kwargs)


def test_bad_data():
    enc = qunn.Encoding(2, "z")
    with pytest.raises(qunn.QunnError, match="x must be finite"):
        enc.unitary([0.0, np.nan])
    with pytest.raises(qunn.QunnError, match="length"):
        enc.hamiltonian([1.0])
    assert issubclass(qunn.QunnError, ValueError)
