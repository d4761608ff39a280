"""Exact gradients (clock-chain Frechet derivative + adjoint sweep) and the optimiser loop."""

import numpy as np
import pytest

import qunn


def _fd_grad(model, xs, ys, eps=1e-6):
    theta = model.parameters
    grad = np.empty_like(theta)
    for i in range(len(theta)):
        e = np.zeros_like(theta)
        e[i] = eps
        model.parameters = theta + e
        lp = model.loss(xs, ys, method="fast")
        model.parameters = theta - e
        lm = model.loss(xs, ys, method="fast")
        grad[i] = (lp - lm) / (2 * eps)
    model.parameters = theta
    return grad


@pytest.mark.parametrize("q, t, batch", [(1, 1, False), (1, 3, True), (2, 4, False), (3, 2, True)])
def test_gradient_matches_finite_differences(q, t, batch):
    rng = np.random.default_rng(q * 10 + t)
    m = qunn.QUNN(qubits=q, memory=t, encoding=("z", "x") if q == 1 else ("z", "xx"),
                  couplings=rng.normal(size=t), tau=0.9, readout=["z0", "x0"],
                  train_tau=True, train_readout=True)
    shape = (2, 6) if batch else (6,)
    xs = rng.normal(size=shape + (m.encoding.n_features,))
    ys = rng.normal(size=shape)
    loss, grad = m.loss_and_gradient(xs, ys)
    assert loss == pytest.approx(m.loss(xs, ys))
    np.testing.assert_allclose(grad, _fd_grad(m, xs, ys), atol=1e-7, rtol=1e-6)


def test_postselect_outputs_do_not_depend_on_couplings():
    rng = np.random.default_rng(0)
    m = qunn.QUNN(qubits=1, memory=2, encoding=("z", "x"), update="postselect", train_readout=True)
    xs, ys = rng.normal(size=(5, 2)), rng.normal(size=5)
    _, grad = m.loss_and_gradient(xs, ys)
    np.testing.assert_array_equal(grad[:2], 0)
    np.testing.assert_allclose(grad, _fd_grad(m, xs, ys), atol=1e-7)


def test_train_reduces_loss_towards_a_teacher():
    rng = np.random.default_rng(3)
    enc = qunn.Encoding(1, ("z", "x"), delta=0.8)
    teacher = qunn.QUNN(qubits=1, memory=3, encoding=enc, couplings=[1.4, 0.3, 0.9], tau=1.1)
    xs = rng.normal(size=(3, 6, 2))
    ys = np.array([teacher.predict(x) for x in xs])
    student = qunn.QUNN(qubits=1, memory=3, encoding=enc, couplings=[0.5, 0.5, 0.5], tau=1.1)
    start = student.loss(xs, ys)
    seen = []
    res = qunn.train(student, xs, ys, steps=150, lr=0.05, progress=lambda s, l, m: seen.append(l))
    assert res.best_loss < 0.1 * start
    assert len(seen) == res.steps and student.loss(xs, ys) == pytest.approx(res.best_loss)


def test_early_stopping_tol_and_patience(capsys):
    rng = np.random.default_rng(4)
    m = qunn.QUNN(qubits=1, memory=2, encoding=("z", "x"))
    xs = rng.normal(size=(5, 2))
    ys = m.predict(xs)  # already optimal: loss 0
    res = qunn.train(m, xs, ys, steps=50, tol=1e-12)
    assert res.stopped == "tol" and res.steps == 1
    ys2 = rng.normal(size=5)
    res = qunn.Trainer(m, lr=1e-9, patience=3, min_delta=1e-3, progress=1).fit(xs, ys2, steps=100)
    assert res.stopped == "patience" and res.steps == 4
    assert "qunn.train step" in capsys.readouterr().err


def test_bad_trainer_input():
    m = qunn.QUNN(qubits=1, memory=1)
    with pytest.raises(qunn.QunnError, match="lr"):
        qunn.Trainer(m, lr=-1)
    with pytest.raises(qunn.QunnError, match="steps"):
        qunn.train(m, np.zeros((3, 1)), np.zeros(3), steps=0)
    with pytest.raises(qunn.QunnError, match="ys"):
        m.loss_and_gradient(np.zeros((3, 1)), np.zeros(4))
    noisy = qunn.QUNN(qubits=1, memory=1, noise=qunn.Noise(damping=0.2))
    with pytest.raises(qunn.QunnError, match="noise-free"):
        noisy.loss_and_gradient(np.zeros((3, 1)), np.zeros(3))
