"""Built-in tasks: determinism, shapes, values, known properties, metrics and bad input."""

import sys

import numpy as np
import pytest

from hwsim import tasks as T
from hwsim.errors import ConfigError

# Small sizes keep the suite fast; every generator is exercised with them.
SMALL = {
    "teacher-student": dict(n_train=32, n_test=16),
    "mackey-glass": dict(n_train=4, n_test=2, window=30, washout=100.0),
    "sine": dict(n_train=8, n_test=4, window=20),
    "adding": dict(T=10, n_train=16, n_test=8),
    "parity": dict(bits=3, n_train=20, n_test=10),
}


def arrays(task):
    return (task.x_train, task.y_train, task.x_test, task.y_test)


# --------------------------------------------------------------------------- determinism

@pytest.mark.parametrize("name", SMALL)
def test_same_seed_same_data(name):
    a = T.get_task(name, seed=3, **SMALL[name])
    b = T.get_task(name, seed=3, **SMALL[name])
    for u, v in zip(arrays(a), arrays(b)):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("name", SMALL)
def test_other_seed_other_data(name):
    a = T.get_task(name, seed=3, **SMALL[name])
    b = T.get_task(name, seed=4, **SMALL[name])
    assert not np.array_equal(a.x_train, b.x_train) or not np.array_equal(a.y_train, b.y_train)


@pytest.mark.parametrize("name", SMALL)
def test_arrays_are_float64_finite_and_read_only(name):
    task = T.get_task(name, **SMALL[name])
    for a in arrays(task):
        assert a.dtype == np.float64 and np.all(np.isfinite(a))
        with pytest.raises(ValueError):
            a[(0,) * a.ndim] = 1.0


# --------------------------------------------------------------------------- shapes

def test_teacher_student_shapes_and_teacher():
    t = T.teacher_student(n_in=5, n_out=3, n_hidden=7, n_train=20, n_test=10, gain=2.0)
    assert t.x_train.shape == (20, 5) and t.y_train.shape == (20, 3)
    assert t.x_test.shape == (10, 5) and t.y_test.shape == (10, 3)
    assert (t.input_size, t.output_size, t.kind, t.metric) == (5, 3, "regression", "nrmse")
    A, C = t.info["teacher"]["A"], t.info["teacher"]["C"]
    np.testing.assert_allclose(t.y_test, np.tanh(t.x_test @ A.T) @ C.T)


def test_teacher_student_linear_and_noise_only_on_train():
    clean = T.teacher_student(n_in=4, n_out=2, noise=0.0, seed=1)
    noisy = T.teacher_student(n_in=4, n_out=2, noise=0.5, seed=1)
    W = clean.info["teacher"]["W"]
    np.testing.assert_allclose(clean.y_train, clean.x_train @ W.T)
    np.testing.assert_allclose(noisy.y_test, noisy.x_test @ W.T)
    residual = noisy.y_train - noisy.x_train @ W.T
    # 512 x 2 residuals of std 0.5: the sample std is within a few % of 0.5.
    assert abs(residual.std() - 0.5) < 0.05


def test_teacher_student_relu():
    t = T.teacher_student(n_hidden=6, activation="relu", seed=2)
    A, C = t.info["teacher"]["A"], t.info["teacher"]["C"]
    np.testing.assert_allclose(t.y_test, np.maximum(t.x_test @ A.T, 0.0) @ C.T)


def test_mackey_glass_sequence_layout():
    t = T.mackey_glass(n_train=3, n_test=2, window=40, horizon=2, washout=100.0)
    assert t.layout == "sequence"
    assert t.x_train.shape == (3, 40, 1) and t.y_train.shape == (3, 40, 1)
    assert t.x_test.shape == (2, 40, 1) and t.y_test.shape == (2, 40, 1)
    # The target is the input `horizon` steps later.
    np.testing.assert_array_equal(t.y_train[:, :-2], t.x_train[:, 2:])
    np.testing.assert_array_equal(t.y_test[:, :-2], t.x_test[:, 2:])


def test_mackey_glass_feedforward_layout():
    t = T.mackey_glass(n_train=50, n_test=20, window=6, horizon=1, layout="feedforward",
                       washout=100.0)
    assert t.x_train.shape == (50, 6) and t.y_train.shape == (50, 1)
    assert t.x_test.shape == (20, 6) and t.y_test.shape == (20, 1)
    # Windows slide by one, so each target is the next window's last value.
    np.testing.assert_array_equal(t.y_train[:-1, 0], t.x_train[1:, -1])
    np.testing.assert_array_equal(t.x_train[1:, :-1], t.x_train[:-1, 1:])


def test_sine_layouts():
    seq = T.sine(n_train=5, n_test=3, window=12, horizon=3)
    assert seq.x_train.shape == (5, 12, 1) and seq.y_test.shape == (3, 12, 1)
    np.testing.assert_allclose(seq.y_train[:, :-3], seq.x_train[:, 3:], atol=1e-12)
    ff = T.sine(n_train=5, n_test=3, window=12, layout="feedforward")
    assert ff.x_train.shape == (5, 12) and ff.y_train.shape == (5, 1)


def test_adding_shapes():
    t = T.adding_problem(T=12, n_train=7, n_test=3)
    assert t.x_train.shape == (7, 12, 2) and t.y_train.shape == (7, 1)
    assert t.x_test.shape == (3, 12, 2) and t.y_test.shape == (3, 1)
    assert t.layout == "sequence" and t.input_size == 2 and t.output_size == 1


def test_parity_full_table_default():
    t = T.parity(bits=4)
    assert t.x_train.shape == (16, 4) and t.x_test.shape == (16, 4)
    assert len({tuple(r) for r in t.x_train}) == 16
    onehot = T.parity(bits=4, target="onehot", n_train=30)
    assert onehot.y_train.shape == (30, 2) and onehot.y_test.shape == (16, 2)


# --------------------------------------------------------------------------- values

def test_adding_target_is_the_marked_sum():
    t = T.adding_problem(T=20, n_train=200, n_test=50, seed=5)
    for x, y in ((t.x_train, t.y_train), (t.x_test, t.y_test)):
        values, markers = x[..., 0], x[..., 1]
        assert np.all((values >= 0.0) & (values <= 1.0))
        assert set(np.unique(markers)) == {0.0, 1.0}
        assert np.all(markers.sum(axis=1) == 2)
        assert np.all(markers[:, :10].sum(axis=1) == 1)   # one in each half
        np.testing.assert_allclose(y[:, 0], (values * markers).sum(axis=1))


@pytest.mark.parametrize("inputs", ["pm1", "binary"])
@pytest.mark.parametrize("target", ["pm1", "onehot"])
def test_parity_labels(inputs, target):
    t = T.parity(bits=5, n_train=100, n_test=40, inputs=inputs, target=target, seed=2)
    for x, y in ((t.x_train, t.y_train), (t.x_test, t.y_test)):
        allowed = {-1.0, 1.0} if inputs == "pm1" else {0.0, 1.0}
        assert set(np.unique(x)) <= allowed
        ones = (x > 0).sum(axis=1)  # set bits, whatever the encoding
        odd = ones % 2 == 1
        if target == "pm1":
            np.testing.assert_array_equal(y[:, 0], np.where(odd, 1.0, -1.0))
        else:
            np.testing.assert_array_equal(np.argmax(y, axis=1), odd.astype(int))
            np.testing.assert_array_equal(y.sum(axis=1), 1.0)
    assert t.score(t.y_test) == 1.0


def test_sine_bounded_by_amplitude():
    t = T.sine(n_train=20, n_test=5, amplitude=0.7)
    assert np.max(np.abs(t.x_train)) <= 0.7 + 1e-12


# --------------------------------------------------------------------------- Mackey-Glass

def test_mackey_glass_stays_in_known_range():
    # On the tau = 17 attractor x stays within about [0.4, 1.33] (Mackey & Glass 1977;
    # the standard benchmark series): inside [0.2, 1.4] for every seed.
    for seed in range(3):
        raw = T.mackey_glass_series(1500, tau=17.0, washout=300.0, seed=seed)
        assert 0.2 < raw.min() < 0.6 and 1.2 < raw.max() < 1.4


def test_mackey_glass_quasi_period_about_50():
    raw = T.mackey_glass_series(4000, tau=17.0, washout=300.0, seed=0)
    x = raw - raw.mean()
    power = np.abs(np.fft.rfft(x)) ** 2
    freq = np.fft.rfftfreq(len(x))
    period = 1.0 / freq[1 + np.argmax(power[1:])]
    assert 45.0 < period < 55.0


def test_mackey_glass_small_delay_settles_on_fixed_point():
    # For small tau the fixed point x* with beta / (1 + x*^10) = gamma, i.e. x* = 1, is stable.
    raw = T.mackey_glass_series(50, tau=2.0, washout=300.0, seed=1)
    np.testing.assert_allclose(raw, 1.0, atol=1e-6)


def test_mackey_glass_normalised_with_train_statistics():
    t = T.mackey_glass(n_train=6, n_test=2, window=50, washout=100.0, seed=2)
    raw_train = t.x_train * t.info["std"] + t.info["mean"]
    assert 0.2 < raw_train.min() and raw_train.max() < 1.4
    assert abs(t.x_train.mean()) < 0.1 and abs(t.x_train.std() - 1.0) < 0.1
    assert t.info["integrator"] == "rk4" and t.info["dt"] <= 0.1


def test_mackey_glass_sample_every_subsamples():
    fine = T.mackey_glass_series(60, sample_every=1, washout=50.0, seed=4)
    coarse = T.mackey_glass_series(20, sample_every=3, washout=50.0, seed=4)
    np.testing.assert_allclose(coarse, fine[2::3])


# --------------------------------------------------------------------------- metrics

def test_nrmse_of_truth_is_zero_and_of_mean_is_one():
    t = T.teacher_student(seed=4)
    assert t.score(t.y_test) == 0.0
    mean_pred = np.broadcast_to(t.y_test.mean(), t.y_test.shape)
    assert t.score(mean_pred) == pytest.approx(1.0)
    # The training mean is a fair stand-in: close to 1 as well.
    train_mean = np.broadcast_to(t.y_train.mean(), t.y_test.shape)
    assert 0.95 < t.score(train_mean) < 1.1


def test_loss_is_mse():
    t = T.sine(n_train=4, n_test=3, window=10)
    pred = t.y_test + 0.5
    assert t.loss(pred) == pytest.approx(0.25)
    assert T.mse(pred, t.y_test) == pytest.approx(0.25)


def test_accuracy_of_negated_pm1_is_zero():
    t = T.parity(bits=3)
    assert t.score(-t.y_test) == 0.0
    assert t.metric == "accuracy"


def test_score_checks_shapes():
    t = T.teacher_student(n_out=2)
    with pytest.raises(ConfigError, match="shape"):
        t.score(t.y_test[:, :1])


def test_constant_truth_has_no_nrmse():
    with pytest.raises(ConfigError, match="constant"):
        T.nrmse(np.zeros((3, 1)), np.ones((3, 1)))


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("make, kwargs, param", [
    (T.teacher_student, dict(n_in=0), "n_in"),
    (T.teacher_student, dict(noise=-0.1), "noise"),
    (T.teacher_student, dict(activation="sigmoid"), "activation"),
    (T.mackey_glass, dict(horizon=0), "horizon"),
    (T.mackey_glass, dict(tau=0.0), "tau"),
    (T.mackey_glass, dict(layout="graph"), "layout"),
    (T.mackey_glass, dict(n_train=0), "n_train"),
    (T.sine, dict(f_max=0.7), "f_max"),
    (T.sine, dict(f_min=0.2, f_max=0.1), "f_max"),
    (T.adding_problem, dict(T=1), "T"),
    (T.parity, dict(bits=0), "bits"),
    (T.parity, dict(target="label"), "target"),
    (T.teacher_student, dict(seed=-1), "seed"),
])
def test_bad_arguments_name_the_parameter(make, kwargs, param):
    with pytest.raises(ConfigError, match=param):
        make(**kwargs)


def test_wrong_type_is_type_error():
    with pytest.raises(TypeError, match="n_train"):
        T.adding_problem(n_train=1.5)


def test_get_task_names_and_aliases():
    assert set(T.TASKS) == {"teacher-student", "mackey-glass", "sine", "adding", "parity",
                            "digits"}
    assert T.get_task("teacher_student", n_train=4, n_test=2).name == "teacher-student"


def test_get_task_unknown_name_lists_known():
    with pytest.raises(ConfigError, match="known tasks: teacher-student, mackey-glass"):
        T.get_task("xor")


def test_get_task_unknown_kwarg_is_named():
    with pytest.raises(ConfigError, match="windw"):
        T.get_task("mackey-glass", windw=10)


def test_task_checks_its_arrays():
    x = np.zeros((4, 2))
    with pytest.raises(ConfigError, match="y_train"):
        T.Task("t", x, np.zeros((3, 1)), x, np.zeros((4, 1)), "regression")
    with pytest.raises(ConfigError, match="kind"):
        T.Task("t", x, np.zeros((4, 1)), x, np.zeros((4, 1)), "ranking")


# --------------------------------------------------------------------------- digits

def test_digits_without_sklearn_says_how_to_install(monkeypatch):
    # None in sys.modules makes the import fail as if scikit-learn were not installed.
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(T.TaskUnavailable, match="pip install scikit-learn"):
        T.digits()


def test_digits():
    pytest.importorskip("sklearn")
    t = T.get_task("digits", n_test=100, seed=1)
    assert t.x_train.shape == (1697, 64) and t.y_test.shape == (100, 10)
    assert t.x_train.min() >= 0.0 and t.x_train.max() <= 1.0
    assert t.kind == "classification" and t.score(t.y_test) == 1.0
    again = T.get_task("digits", n_test=100, seed=1)
    np.testing.assert_array_equal(t.x_test, again.x_test)
