"""The clock chain: amplitudes, exact derivatives, perfect state transfer."""

import numpy as np
import pytest

import qunn


def test_amplitudes_normalised_and_hermitian_chain():
    J = np.random.default_rng(0).normal(size=5)
    h = qunn.chain_hamiltonian(J)
    assert h.shape == (6, 6) and np.allclose(h, h.T)
    c = qunn.clock_amplitudes(J, 1.3)
    assert abs(np.linalg.norm(c) - 1) < 1e-13
    np.testing.assert_allclose(qunn.clock_probabilities(J, 1.3), np.abs(c) ** 2)


def test_jacobian_matches_finite_differences():
    J, tau, eps = np.array([0.4, -1.2, 0.9, 0.3]), 0.8, 1e-6
    p, dJ, dtau = qunn.clock_probability_jacobian(J, tau)
    np.testing.assert_allclose(p, qunn.clock_probabilities(J, tau), atol=1e-14)
    for i in range(len(J)):
        e = np.zeros_like(J)
        e[i] = eps
        fd = (qunn.clock_probabilities(J + e, tau) - qunn.clock_probabilities(J - e, tau)) / (2 * eps)
        np.testing.assert_allclose(dJ[:, i], fd, atol=1e-8)
    fd = (qunn.clock_probabilities(J, tau + eps) - qunn.clock_probabilities(J, tau - eps)) / (2 * eps)
    np.testing.assert_allclose(dtau, fd, atol=1e-8)
    np.testing.assert_allclose(dJ.sum(axis=0), 0, atol=1e-12)  # probabilities stay normalised


@pytest.mark.parametrize("t", [1, 2, 3, 6, 11])
@pytest.mark.parametrize("lam", [1.0, 0.37])
def test_perfect_state_transfer(t, lam):
    J = qunn.perfect_transfer_couplings(t, lam)
    assert abs(qunn.clock_probabilities(J, np.pi / (2 * lam))[-1] - 1) < 1e-10


def test_uniform_couplings_fall_short():
    # uniform chains transfer perfectly only for t <= 2; the best over tau drops with t
    best = [max(qunn.clock_probabilities(np.ones(t), tau)[-1] for tau in np.linspace(0.1, 3 * t, 600))
            for t in (3, 6)]
    assert best[0] < 1 - 1e-3 and best[1] < best[0]


def test_spectral_paths_equal_scipy_expm_and_expm_frechet():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    J, tau = np.array([0.7, 0.0, -1.1, 0.4, 0.4]), 1.7   # a zero coupling: degenerate spectrum
    h = qunn.chain_hamiltonian(J)
    A = -1j * tau * h
    c = scipy_linalg.expm(A)[:, 0]
    np.testing.assert_allclose(qunn.clock_amplitudes(J, tau), c, atol=1e-12)
    _, dJ, _ = qunn.clock_probability_jacobian(J, tau)
    for i in range(len(J)):
        E = np.zeros_like(A)
        E[i + 1, i] = E[i, i + 1] = -1j * tau
        L = scipy_linalg.expm_frechet(A, E)[1][:, 0]
        np.testing.assert_allclose(dJ[:, i], 2 * np.real(np.conj(c) * L), atol=1e-12)
