"""The compiler's ``qunn`` target: a unitary-cell ODERNN lowered to a qunn.QUNN."""

import json
import math

import numpy as np
import pytest
import qutip
from scipy.linalg import expm

import compiler
import qunn
from compiler import CompileError, ODERNN
from compiler.targets import qunn as target
from hwsim.cli import main


def unitary_spec(hidden=6, inputs=2, outputs=1, order=3, step=0.5, **fields):
    return compiler.architecture("unitary", hidden=hidden, inputs=inputs, outputs=outputs,
                                 order=order, step=step, **fields)


def inputs(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


# ------------------------------------------------------------------ the mapping
@pytest.mark.parametrize("hidden, order, qubits", [(1, 1, 1), (2, 2, 1), (5, 3, 3), (8, 4, 3),
                                                   (9, 2, 4)])
def test_lowering_gives_expected_q_t_and_parameter_count(hidden, order, qubits):
    r = compiler.compile(unitary_spec(hidden=hidden, order=order), target="qunn")
    assert isinstance(r.model, qunn.QUNN) and r.target == "qunn"
    assert r.model.qubits == qubits == r.report.qubits
    assert 2 ** qubits >= hidden > 2 ** (qubits - 1) or qubits == 1
    assert r.model.memory == order == r.report.memory
    assert r.model.n_parameters == order == r.report.parameters == len(r.model.couplings)
    assert r.report.classical_parameters == compiler.parameter_count(r.spec)
    assert r.model.encoding.n_features == 2 + 1        # x and the constant feature
    assert r.model.encoding.delta == r.spec.step


def test_explicit_qubits_and_options_reach_the_model():
    r = compiler.compile(unitary_spec(hidden=5, order=4), target="qunn",
                         qunn={"qubits": 4, "tau": 0.7, "couplings": [0.5, 1.0, 1.5, 2.0],
                               "update": "postselect"})
    m = r.model
    assert (m.qubits, m.dim, m.tau, m.update) == (4, 16, 0.7, "postselect")
    np.testing.assert_array_equal(m.couplings, [0.5, 1.0, 1.5, 2.0])
    assert r.options == compiler.QunnOptions(qubits=4, tau=0.7, couplings=(0.5, 1, 1.5, 2),
                                             update="postselect")


def test_generators_are_the_spec_weights():
    # H(x) = i A + diag(U x + c), padded to 2^q levels; x = 0 gives U = expm(step A)
    spec = unitary_spec(hidden=5, inputs=2, order=2, step=0.3)
    r = compiler.compile(spec, target="qunn", seed=3)
    w = r.weights                      # the same draws as the device targets
    for name, value in compiler.initial_weights(spec, 3)[0].items():
        np.testing.assert_array_equal(w[name], value)
    x = np.array([0.4, -1.1])
    H = r.model.encoding.hamiltonian(np.r_[x, 1.0]).full()
    expected = np.zeros((8, 8), dtype=complex)
    expected[:5, :5] = 1j * w["A"] + np.diag(w["U"] @ x + w["c"][:, 0])
    np.testing.assert_allclose(H, expected, atol=1e-14)
    zero_drive = compiler.compile(spec, target="qunn", seed=3,
                                  weights={"U": np.zeros((5, 2)), "c": np.zeros((5, 1))})
    Uq = zero_drive.model.encoding.unitary_array(np.r_[x, 1.0])
    np.testing.assert_allclose(Uq[:5, :5], expm(0.3 * w["A"]), atol=1e-12)
    np.testing.assert_allclose(Uq[5:, 5:], np.eye(3), atol=1e-12)


def test_outputs_match_running_the_qunn_directly():
    # a QUNN built here from the weights by the documented mapping, not by the target
    spec = unitary_spec(hidden=6, inputs=2, outputs=2, order=3, step=0.5)
    r = compiler.compile(spec, target="qunn", seed=1, qunn={"tau": 0.8})
    w, N = r.weights, 8
    pad = lambda m: np.pad(m, ((0, N - m.shape[0]), (0, N - m.shape[1])))  # noqa: E731
    gens = [qutip.Qobj(pad(np.diag(w["U"][:, m])), dims=[[2] * 3] * 2) for m in range(2)]
    gens.append(qutip.Qobj(pad(1j * w["A"] + np.diag(w["c"][:, 0])), dims=[[2] * 3] * 2))
    obs = [qutip.Qobj(pad(np.diag(w["V"][o])) + w["d"][o, 0] * np.eye(N), dims=[[2] * 3] * 2)
           for o in range(2)]
    direct = qunn.QUNN(qubits=3, memory=3, encoding=qunn.Encoding(3, gens, delta=0.5),
                       tau=0.8, readout=obs)
    x = inputs((3, 7, 2), seed=2)
    y = r.run(x)
    assert y.shape == (3, 7, 2)
    for b in range(3):
        res = direct.run(np.c_[x[b], np.ones(7)])
        np.testing.assert_allclose(y[b], res.expect, atol=1e-12)
        # the classical readout with h_i replaced by the level populations
        pops = np.array([np.real(np.diag(s.full()))[:6] for s in
                         direct.run(np.c_[x[b], np.ones(7)], store_states=True).states])
        np.testing.assert_allclose(y[b], pops @ w["V"].T + w["d"][:, 0], atol=1e-12)


def test_single_output_equals_the_model_outputs_and_qutip():
    r = compiler.compile(unitary_spec(hidden=3, order=2), target="qunn")
    x = inputs((2, 4, 2), seed=5)
    y = r.run(x)
    for b in range(2):
        np.testing.assert_allclose(y[b, :, 0], r.model.run(r.features(x)[b]).outputs,
                                   atol=1e-14)
    np.testing.assert_allclose(r.run(x, method="expm"), y, atol=1e-10)


def test_perfect_transfer_applies_the_spec_flow_exactly():
    # zero drive, PST couplings at tau: p_t = 1, every in-sequence U_j = expm(step A), so
    # after step k the state is Q^(sum_{k' <= k} min(k'+1, t)) |0>
    spec = unitary_spec(hidden=4, inputs=1, order=3, step=0.4, readout="identity",
                        outputs=4)
    r = compiler.compile(spec, target="qunn", qunn={"couplings": "transfer", "tau": 1.3},
                         weights={"U": np.zeros((4, 1)), "c": np.zeros((4, 1))})
    assert r.report.branch_weights[-1] == pytest.approx(1.0, abs=1e-12)
    Q = expm(0.4 * r.weights["A"])
    K = 6
    y = r.run(inputs((1, K, 1)))[0]
    h, powers = np.eye(4)[0], 0
    for k in range(K):
        powers += min(k + 1, 3)
        h_k = np.linalg.matrix_power(Q, powers) @ h
        np.testing.assert_allclose(y[k], h_k ** 2, atol=1e-10)


def test_trace_is_kept_and_noise_lowers_purity():
    spec = unitary_spec(hidden=4, inputs=1, order=2, readout="identity", outputs=4)
    x = inputs((1, 5, 1), seed=7)
    ideal = compiler.compile(spec, target="qunn")
    noisy = compiler.compile(spec, target="qunn", qunn={"noise": {"dephasing": 0.5}})
    # identity readout over all 4 = 2^2 levels: populations sum to Tr(rho) = 1
    np.testing.assert_allclose(ideal.run(x).sum(axis=2), 1.0, atol=1e-12)
    states = [noisy.model.run(noisy.features(x)[0], store_states=True).states[-1],
              ideal.model.run(ideal.features(x)[0], store_states=True).states[-1]]
    purity = [float(np.real((s * s).tr())) for s in states]
    assert purity[0] < purity[1] - 1e-3
    assert noisy.results(x)[0].method == "mesolve"


def test_training_the_lowered_model_reduces_the_loss():
    r = compiler.compile(unitary_spec(hidden=4, inputs=1, order=3), target="qunn")
    xs = r.features(inputs((2, 6, 1), seed=8))
    ys = np.random.default_rng(9).uniform(-0.5, 0.5, (2, 6))
    before = r.model.loss(xs, ys)
    result = qunn.train(r.model, xs, ys, steps=15, lr=0.1)
    assert result.best_loss < before


# ------------------------------------------------------------------ report and files
def test_report_says_what_was_mapped():
    r = compiler.compile(unitary_spec(hidden=6, order=3), target="qunn")
    text = str(r.report)
    for part in ("target qunn: 3 qubits", "N = 8 >= hidden 6", "clock memory t = 3",
                 "3 trainable clock couplings", "encoding: spec: H(x) = i A + diag(U x + c)",
                 "readout: linear", "stability: stable", "activation"):
        assert part in text, part
    data = json.loads(r.report.to_json())
    assert (data["qubits"], data["memory"], data["parameters"]) == (3, 3, 3)
    assert data["target"] == "qunn" and data["verdict"] == "stable"
    assert len(data["branch_weights"]) == 4
    assert sum(data["branch_weights"]) == pytest.approx(1.0)


def test_pauli_encoding_and_save_load_round_trip(tmp_path):
    spec = unitary_spec(hidden=4, inputs=2, order=2)           # q = 2: "z" has 2 features
    r = compiler.compile(spec, target="qunn", qunn={"encoding": "z", "couplings": "transfer"})
    assert r.model.encoding.n_features == 2 and not r.constant_feature
    assert "A and c of the spec unused" in str(r.report)
    r.save(tmp_path / "q.json", dot=tmp_path / "q.dot")
    again = target.load(tmp_path / "q.json")
    x = inputs((2, 5, 2), seed=4)
    np.testing.assert_allclose(again.run(x), r.run(x), atol=1e-14)
    dot = (tmp_path / "q.dot").read_text()
    assert dot.startswith("digraph") and "J_2" in dot and "|2>" in dot


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("spec, match", [
    (ODERNN(hidden=4, inputs=1, outputs=1), r"'qunn' is not available.*cell 'vanilla'"),
    (compiler.architecture("gru", hidden=4, inputs=1, outputs=1),
     r"cell 'gru'.*allowed: cell 'unitary'"),
    (unitary_spec(method="rk4"), r"ODERNN.method 'exponential'.*'rk4'"),
    (unitary_spec(readout="tanh"), r"ODERNN.readout 'tanh'.*allowed: 'linear', 'identity'"),
    (unitary_spec(syre={"gamma": 1e-3}), r"ODERNN.syre"),
    (unitary_spec(hidden=5000, inputs=1), r"needs 13 qubits.*MAX_QUBITS = 12"),
])
def test_specs_that_cannot_lower_are_refused(spec, match):
    with pytest.raises(CompileError, match=match):
        compiler.compile(spec, target="qunn")


@pytest.mark.parametrize("kwargs, match", [
    (dict(qunn={"qubits": 2}), r"compile\.qunn\.qubits 2 gives 2\^2 = 4 levels, fewer than "
                               r"ODERNN\.hidden 6; allowed: 3 <= qubits <= 12"),
    (dict(qunn={"qubits": 13}), r"compile\.qunn\.qubits must be in \[1, 12\]"),
    (dict(qunn={"tau": 0.0}), r"compile\.qunn\.tau must be > 0"),
    (dict(qunn={"tau": math.nan}), r"compile\.qunn\.tau must be finite"),
    (dict(qunn={"couplings": [1.0, 2.0]}), r"couplings must have t = ODERNN\.order = 3"),
    (dict(qunn={"couplings": "flat"}), r"compile\.qunn\.couplings must be one of 'uniform', "
                                       r"'transfer'"),
    (dict(qunn={"couplings": [1.0, math.inf, 1.0]}), r"couplings\[1\] must be finite"),
    (dict(qunn={"update": "measure"}), r"compile\.qunn\.update must be one of 'trace', "
                                       r"'postselect'"),
    (dict(qunn={"encoding": "y"}), r"compile\.qunn\.encoding must be one of 'spec', 'z'"),
    (dict(qunn={"encoding": "x"}), r"encoding 'x' on 3 qubits has 3 features, but "
                                   r"ODERNN\.inputs is 2"),
    (dict(qunn={"noise": {"dephasing": -1.0}}), r"compile\.qunn\.noise: Noise\.dephasing"),
    (dict(qunn={"noise": 0.1}), r"compile\.qunn\.noise must be None, a qunn\.Noise"),
    (dict(qunn={"temperature": 1}), r"compile\.qunn: unknown key\(s\) 'temperature'"),
    (dict(device="ecram"), r"compile\.device is not used by target 'qunn'"),
    (dict(grid=(2, 2)), r"compile\.grid is not used by target 'qunn'"),
])
def test_bad_options_name_the_option(kwargs, match):
    with pytest.raises(CompileError, match=match):
        compiler.compile(unitary_spec(hidden=6, inputs=2, order=3), target="qunn", **kwargs)


def test_bad_weights_inputs_and_misplaced_options():
    spec = unitary_spec(hidden=3, inputs=1, order=1)
    with pytest.raises(CompileError, match=r"compile\.weights A must be skew-symmetric"):
        compiler.compile(spec, target="qunn", weights={"A": np.ones((3, 3))})
    with pytest.raises(CompileError, match=r"compile\.qunn options apply only to target "
                                           r"'qunn', got target 'ideal'"):
        compiler.compile(spec, target="ideal", qunn={"tau": 2.0})
    r = compiler.compile(spec, target="qunn")
    with pytest.raises(CompileError, match=r"x must have shape \(batch, T >= 1, inputs = 1\), "
                                           r"got \(4, 1\)"):
        r.run(np.zeros((4, 1)))
    with pytest.raises(CompileError, match="x must be finite"):
        r.run(np.full((1, 2, 1), np.nan))


def test_cli_compile_target_qunn(tmp_path, capsys):
    spec_path = tmp_path / "u.toml"
    spec_path.write_text(unitary_spec(hidden=6, inputs=2, order=3).to_toml())
    out, dot, rep = tmp_path / "q.json", tmp_path / "q.dot", tmp_path / "r.json"
    code = main(["compile", str(spec_path), "-o", str(out), "--dot", str(dot),
                 "--target", "qunn", "--report", str(rep)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "target qunn: 3 qubits" in printed and f"wrote {out}" in printed
    assert json.loads(rep.read_text())["parameters"] == 3
    assert target.load(out).model.memory == 3
    assert dot.read_text().startswith("digraph")
    # a non-unitary spec is refused with the reason on stderr and exit status 2
    spec_path.write_text('hidden = 4\ninputs = 1\noutputs = 1\ncell = "gru"\n')
    assert main(["compile", str(spec_path), "-o", str(out), "--target", "qunn"]) == 2
    assert "cell 'gru'" in capsys.readouterr().err
