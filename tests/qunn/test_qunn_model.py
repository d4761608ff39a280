"""qunn.QUNN: built operators, fast path == QuTiP, conservation, bad input."""

import numpy as np
import pytest
import qutip

import qunn


def _model(q, t, seed, **kw):
    rng = np.random.default_rng(seed)
    gens = ("z", "xx") if q > 1 else ("z", "x")
    kw.setdefault("couplings", rng.normal(size=t))
    kw.setdefault("tau", 0.5 + rng.random())
    return qunn.QUNN(qubits=q, memory=t, encoding=qunn.Encoding(q, gens, delta=0.6), **kw)


def _random_dm(n, rng):
    a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    rho = a @ a.conj().T
    return rho / np.trace(rho)


def test_hamiltonian_hermitian_and_propagator_unitary():
    m = _model(2, 3, 0)
    win = np.random.default_rng(1).normal(size=(3, m.encoding.n_features))
    H = m.hamiltonian(win)
    assert H.dims == [[2, 2, 4], [2, 2, 4]]
    assert H.isherm
    U = m.propagator(win).full()
    np.testing.assert_allclose(U.conj().T @ U, np.eye(16), atol=1e-12)


def test_history_states_span_the_evolution():
    # the reduction: exp(-iH tau)|psi>|0> = sum_j c_j U_j..U_1|psi>|j>
    m = _model(2, 4, 2)
    rng = np.random.default_rng(3)
    win = rng.normal(size=(4, m.encoding.n_features))
    psi = qutip.rand_ket([2, 2], seed=4)
    out = m.propagator(win) * qutip.tensor(psi, qutip.basis(5, 0))
    c, hist, expected = m.clock_amplitudes(), psi, 0
    for j in range(5):
        if j > 0:
            hist = m.encoding.unitary(win[j - 1]) * hist
        expected = expected + c[j] * qutip.tensor(hist, qutip.basis(5, j))
    assert (out - expected).norm() < 1e-10


@pytest.mark.parametrize("q, t", [(1, 1), (1, 4), (2, 3), (3, 2)])
@pytest.mark.parametrize("method", ["expm", "sesolve"])
def test_trace_update_fast_equals_qutip(q, t, method):
    rng = np.random.default_rng(10 * q + t)
    m = _model(q, t, q + t, readout=["z0", f"x{q - 1}"], initial_state=qutip.rand_ket([2] * q, seed=t))
    xs = rng.normal(size=(5, m.encoding.n_features))
    fast, ref = m.run(xs, "fast", store_states=True), m.run(xs, method, store_states=True)
    np.testing.assert_allclose(fast.expect, ref.expect, atol=1e-8)
    for a, b in zip(fast.states, ref.states):
        assert a.isoper and b.isoper
        np.testing.assert_allclose(a.full(), b.full(), atol=1e-8)
    assert fast.success is None


@pytest.mark.parametrize("q, t", [(1, 2), (2, 3), (3, 6)])
def test_postselect_fast_equals_qutip(q, t):
    rng = np.random.default_rng(q * t)
    m = _model(q, t, 7, update="postselect", couplings=np.abs(rng.normal(size=t)) + 0.5)
    xs = rng.normal(size=(4, m.encoding.n_features))
    fast = m.run(xs, "fast", store_states=True)
    for method in ("expm", "sesolve"):
        ref = m.run(xs, method, store_states=True)
        np.testing.assert_allclose(fast.expect, ref.expect, atol=1e-8)
        np.testing.assert_allclose(fast.success, ref.success, atol=1e-8)
        for a, b in zip(fast.states, ref.states):
            assert a.isket and b.isket
            np.testing.assert_allclose(a.full(), b.full(), atol=1e-8)
    np.testing.assert_allclose(fast.success, abs(m.clock_amplitudes()[-1]) ** 2)


def test_mixed_initial_state_and_mesolve_without_noise():
    rng = np.random.default_rng(5)
    rho0 = _random_dm(4, rng)
    for update in qunn.UPDATES:
        m = _model(2, 2, 8, update=update, initial_state=rho0)
        xs = rng.normal(size=(3, m.encoding.n_features))
        fast = m.run(xs, "fast", store_states=True)
        for method in ("expm", "mesolve"):
            ref = m.run(xs, method, store_states=True)
            np.testing.assert_allclose(fast.expect, ref.expect, atol=1e-8)
            for a, b in zip(fast.states, ref.states):
                np.testing.assert_allclose(a.full(), b.full(), atol=1e-8)


def test_window_convention_and_causality():
    m = _model(1, 2, 9)
    xs = np.arange(8.0).reshape(4, 2)
    np.testing.assert_array_equal(m.window(xs, 0), [[0, 1], [0, 0]])
    np.testing.assert_array_equal(m.window(xs, 2), [[4, 5], [2, 3]])
    # changing a later input does not change earlier outputs
    ys = m.predict(xs)
    xs2 = xs.copy()
    xs2[3] += 1.0
    np.testing.assert_array_equal(m.predict(xs2)[:3], ys[:3])


def test_norm_and_trace_conserved_over_1000_steps():
    rng = np.random.default_rng(11)
    xs = rng.normal(size=(1000, 2))
    m = _model(1, 2, 12, initial_state=qutip.rand_ket([2], seed=1))
    res = m.run(xs, "fast", store_states=True)
    traces = np.array([s.tr() for s in res.states])
    assert np.max(np.abs(traces - 1)) < 1e-10
    for s in res.states[::100]:
        assert np.allclose(s.full(), s.full().conj().T, atol=1e-12)
        assert np.linalg.eigvalsh(s.full()).min() > -1e-10
    ps = qunn.QUNN(qubits=1, memory=2, encoding=("z", "x"), update="postselect",
                   initial_state=qutip.rand_ket([2], seed=2))
    res = ps.run(xs, "fast", store_states=True)
    norms = np.array([s.norm() for s in res.states])
    assert np.max(np.abs(norms - 1)) < 1e-10


def test_parameter_count_and_vector():
    m = qunn.QUNN(qubits=3, memory=5)
    assert m.n_parameters == 5
    np.testing.assert_array_equal(m.parameters, np.ones(5))
    m = qunn.QUNN(qubits=3, memory=5, readout=["z0", "z1"], train_tau=True, train_readout=True)
    assert m.n_parameters == 5 + 1 + 3
    theta = np.arange(1.0, 10.0)
    m.parameters = theta
    np.testing.assert_array_equal(m.parameters, theta)
    assert m.tau == 6.0 and m.readout_bias == 9.0
    # the count does not grow with the system size
    assert qunn.QUNN(qubits=1, memory=5).n_parameters == qunn.QUNN(qubits=3, memory=5).n_parameters


@pytest.mark.parametrize("kwargs, match", [
    (dict(qubits=0, memory=2), "qubits"),
    (dict(qubits=1, memory=0), "memory"),
    (dict(qubits=1, memory=2, couplings=[1.0]), "couplings"),
    (dict(qubits=1, memory=2, couplings=[1.0, np.nan]), "couplings"),
    (dict(qubits=1, memory=2, tau=0.0), "tau"),
    (dict(qubits=1, memory=2, update="measure"), "update"),
    (dict(qubits=1, memory=2, readout="z1"), "readout"),
    (dict(qubits=1, memory=2, readout=qutip.Qobj([[0, 1], [0, 0]])), "Hermitian"),
    (dict(qubits=2, memory=2, encoding=qunn.Encoding(1)), "encoding"),
    (dict(qubits=1, memory=2, initial_state=np.array([1.0, 1.0])), "normalised"),
    (dict(qubits=1, memory=2, noise="strong"), "noise"),
])
def test_bad_model_input(kwargs, match):
    with pytest.raises(qunn.QunnError, match=match):
        qunn.QUNN(**kwargs)


def test_bad_run_input():
    m = qunn.QUNN(qubits=2, memory=2)
    with pytest.raises(qunn.QunnError, match="xs must be finite"):
        m.run([[0.0, np.nan]])
    with pytest.raises(qunn.QunnError, match="shape"):
        m.run(np.zeros((3, 3)))
    with pytest.raises(qunn.QunnError, match="method"):
        m.run(np.zeros((3, 2)), method="euler")
    noisy = qunn.QUNN(qubits=1, memory=1, noise=qunn.Noise(dephasing=0.1))
    with pytest.raises(qunn.QunnError, match="mesolve"):
        noisy.run(np.zeros((2, 1)), method="fast")


def test_joint_state_equals_sesolve_and_expm():
    m = _model(2, 3, 21)
    win = np.random.default_rng(22).normal(size=(3, m.encoding.n_features))
    psi = qutip.rand_ket([2, 2], seed=23)
    fast = m.joint_state(win, psi)
    full0 = qutip.tensor(psi, qutip.basis(4, 0))
    ref = qutip.sesolve(m.hamiltonian(win), full0, [0, m.tau],
                        options={"atol": 1e-12, "rtol": 1e-10}).states[-1]
    assert fast.dims == ref.dims
    np.testing.assert_allclose(fast.full(), ref.full(), atol=1e-8)
    np.testing.assert_allclose(fast.full(), (m.propagator(win) * full0).full(), atol=1e-10)
    assert abs(fast.norm() - 1) < 1e-12
