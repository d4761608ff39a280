"""Noise through mesolve collapse operators: purity falls as the rates say."""

import numpy as np
import pytest
import qutip

import qunn

PLUS = (qutip.basis(2, 0) + qutip.basis(2, 1)).unit()


def test_dephasing_off_diagonal_decays_exp_minus_gamma_t():
    # zero data: U_j = identity, so H commutes with Z (x) I and only the noise acts on the system
    gamma, tau, steps = 0.3, 0.7, 4
    m = qunn.QUNN(qubits=1, memory=2, tau=tau, readout="x0", initial_state=PLUS,
                  noise=qunn.Noise(dephasing=gamma))
    res = m.run(np.zeros((steps, 1)), store_states=True)
    assert res.method == "mesolve"
    times = tau * np.arange(1, steps + 1)
    np.testing.assert_allclose(res.expect[:, 0], np.exp(-gamma * times), atol=1e-6)
    purity = np.array([(s * s).tr().real for s in res.states])
    np.testing.assert_allclose(purity, (1 + np.exp(-2 * gamma * times)) / 2, atol=1e-6)
    assert np.all(np.diff(purity) < 0)


def test_amplitude_damping_population_decays():
    gamma, tau = 0.5, 0.6
    m = qunn.QUNN(qubits=1, memory=1, tau=tau, initial_state=qutip.basis(2, 1),
                  noise=qunn.Noise(damping=gamma))
    res = m.run(np.zeros((3, 1)))
    p1 = (1 - res.expect[:, 0]) / 2  # <Z> = 1 - 2 P(|1>)
    np.testing.assert_allclose(p1, np.exp(-gamma * tau * np.arange(1, 4)), atol=1e-6)


def test_noise_on_second_qubit_only_and_zero_noise_matches_fast():
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(3, 3))
    kw = dict(qubits=2, memory=2, encoding=("z", "xx"), couplings=[0.8, 1.2], tau=0.9,
              initial_state=qutip.tensor(PLUS, PLUS))
    clean = qunn.QUNN(**kw).run(xs, "fast", store_states=True)
    zero = qunn.QUNN(noise=qunn.Noise(), **kw).run(xs, "mesolve", store_states=True)
    np.testing.assert_allclose(zero.expect, clean.expect, atol=1e-8)
    noisy = qunn.QUNN(noise=qunn.Noise(dephasing=[0.0, 0.4], damping=[0.0, 0.1]), **kw)
    assert len(noisy.noise.collapse_operators(2, 3)) == 2
    res = noisy.run(xs, store_states=True)
    pure = [np.real((s * s).tr()) for s in clean.states]
    mixed = [np.real((s * s).tr()) for s in res.states]
    assert all(m < p - 1e-3 for m, p in zip(mixed, pure))
    assert all(abs(s.tr() - 1) < 1e-8 for s in res.states)


@pytest.mark.parametrize("kwargs", [dict(dephasing=-0.1), dict(damping=np.nan), dict(dephasing="x")])
def test_bad_rates(kwargs):
    with pytest.raises(qunn.QunnError, match="Noise"):
        qunn.Noise(**kwargs)


def test_wrong_number_of_per_qubit_rates():
    with pytest.raises(qunn.QunnError, match="length"):
        qunn.QUNN(qubits=2, memory=1, noise=qunn.Noise(dephasing=[0.1, 0.2, 0.3]))
