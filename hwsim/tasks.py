"""Built-in learning tasks, generated in code from a seed; nothing is downloaded.

Every generator returns a :class:`Task`: train and test arrays (float64), what kind of task it
is, its metric and loss, and the parameters it was made from. The same arguments and seed give
the same arrays.

Layouts
-------
``"feedforward"``
    ``x`` has shape ``(n, features)`` and ``y`` shape ``(n, outputs)``.
``"sequence"``
    ``x`` has shape ``(n, T, features)``. ``y`` has shape ``(n, T, outputs)`` when there is a
    target at every step (Mackey-Glass, sine: the value ``horizon`` steps ahead), or
    ``(n, outputs)`` when only the end of the sequence counts (adding problem).

Tasks
-----
====================  ==============  ===========  ==========================================
name                  kind            layout       target
====================  ==============  ===========  ==========================================
``teacher-student``   regression      feedforward  a fixed random linear or 2-layer teacher
``mackey-glass``      regression      either       the chaotic series ``horizon`` steps ahead
``sine``              regression      either       a random sine wave ``horizon`` steps ahead
``adding``            regression      sequence     sum of the two marked values, ``(n, 1)``
``parity``            classification  feedforward  n-bit parity, +-1 or one-hot
``digits``            classification  feedforward  scikit-learn's 8x8 digits, one-hot
====================  ==============  ===========  ==========================================

Use :func:`get_task` to build one by name (``get_task("mackey-glass", tau=17)``).
"""

import dataclasses
import inspect
import math

import numpy as np

from . import _validate as V
from .errors import ConfigError

__all__ = ["Task", "TaskUnavailable", "TASKS", "get_task", "teacher_student", "mackey_glass",
           "sine", "adding_problem", "parity", "digits", "nrmse", "accuracy", "mse"]

_KINDS = ("regression", "classification")
_LAYOUTS = ("feedforward", "sequence")


class TaskUnavailable(ImportError):
    """A task needs an optional package that is not installed."""


# --------------------------------------------------------------------------- metrics

def mse(y_pred, y_true):
    """Mean squared error over all elements."""
    y_pred, y_true = _pair(y_pred, y_true)
    return float(np.mean((y_pred - y_true) ** 2))


def nrmse(y_pred, y_true):
    """Root-mean-square error divided by the standard deviation of the truth.

    Pooled over all elements, so the truth scores 0 and predicting the truth's mean scores 1.
    """
    y_pred, y_true = _pair(y_pred, y_true)
    spread = float(np.std(y_true))
    if spread == 0.0:
        raise ConfigError("nrmse: the true values are constant (std 0), so NRMSE is undefined")
    return float(np.sqrt(np.mean((y_pred - y_true) ** 2)) / spread)


def accuracy(y_pred, y_true):
    """Fraction of samples classified correctly.

    With more than one output column the class is the arg-max over the last axis (one-hot
    targets); with one column it is the sign (+-1 targets, threshold 0).
    """
    y_pred, y_true = _pair(y_pred, y_true)
    if y_true.shape[-1] > 1:
        hit = np.argmax(y_pred, axis=-1) == np.argmax(y_true, axis=-1)
    else:
        hit = (y_pred[..., 0] > 0) == (y_true[..., 0] > 0)
    return float(np.mean(hit))


def _pair(y_pred, y_true):
    y_true = V.array("score", "y_true", y_true)
    y_pred = V.array("score", "y_pred", y_pred)
    if y_pred.shape != y_true.shape:
        raise ConfigError(f"score: y_pred must have the shape of y_true {y_true.shape}, "
                          f"got {y_pred.shape}")
    if y_true.size == 0:
        raise ConfigError("score: y_true is empty")
    return y_pred, y_true


_METRICS = {"regression": ("nrmse", nrmse), "classification": ("accuracy", accuracy)}


# --------------------------------------------------------------------------- Task

@dataclasses.dataclass(frozen=True, repr=False)
class Task:
    """A learning task: train and test data, metric and loss.

    Parameters
    ----------
    name : str
        Registry name (``"mackey-glass"``).
    x_train, y_train, x_test, y_test : ndarray of float64
        Inputs and targets; see the module docstring for the layouts. Stored read-only.
    kind : {"regression", "classification"}
        Sets the metric: NRMSE for regression (lower is better), accuracy for classification.
    layout : {"feedforward", "sequence"}
        Whether samples are vectors or sequences of vectors.
    info : dict
        The parameters the data were generated from (and derived facts such as the
        normalisation of Mackey-Glass or the teacher's weights).

    Attributes
    ----------
    metric : str
        ``"nrmse"`` or ``"accuracy"``.
    input_size, output_size : int
        Features per input vector and per target vector.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    kind: str
    layout: str = "feedforward"
    info: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        owner = f"Task({self.name!r})"
        V.choice(owner, "kind", self.kind, _KINDS)
        V.choice(owner, "layout", self.layout, _LAYOUTS)
        x_ndim = 3 if self.layout == "sequence" else 2
        for split in ("train", "test"):
            x = V.array(owner, f"x_{split}", getattr(self, f"x_{split}"), ndim=x_ndim)
            y = V.array(owner, f"y_{split}", getattr(self, f"y_{split}"))
            if y.ndim not in (2, x_ndim) or y.shape[0] != x.shape[0]:
                raise ConfigError(f"{owner}: y_{split} must have {x.shape[0]} samples and 2 or "
                                  f"{x_ndim} dimensions, got shape {y.shape}")
            if y.ndim == 3 and y.shape[1] != x.shape[1]:
                raise ConfigError(f"{owner}: y_{split} must have {x.shape[1]} steps like "
                                  f"x_{split}, got shape {y.shape}")
            # Read-only so that a model cannot silently edit the data set it is scored on.
            x.flags.writeable = False
            y.flags.writeable = False
            object.__setattr__(self, f"x_{split}", x)
            object.__setattr__(self, f"y_{split}", y)
        for part in ("x", "y"):
            if getattr(self, f"{part}_train").shape[1:] != getattr(self, f"{part}_test").shape[1:]:
                raise ConfigError(f"{owner}: {part}_train and {part}_test differ beyond the "
                                  f"sample axis: {getattr(self, f'{part}_train').shape} vs "
                                  f"{getattr(self, f'{part}_test').shape}")

    @property
    def metric(self):
        return _METRICS[self.kind][0]

    @property
    def input_size(self):
        return int(self.x_train.shape[-1])

    @property
    def output_size(self):
        return int(self.y_train.shape[-1])

    def score(self, y_pred, y_true=None):
        """The task's metric of ``y_pred`` against ``y_true`` (default: ``y_test``)."""
        return _METRICS[self.kind][1](y_pred, self.y_test if y_true is None else y_true)

    def loss(self, y_pred, y_true=None):
        """Mean squared error of ``y_pred`` against ``y_true`` (default: ``y_test``)."""
        return mse(y_pred, self.y_test if y_true is None else y_true)

    def __repr__(self):
        return (f"Task({self.name!r}, {self.kind}, {self.layout}, train x{self.x_train.shape} "
                f"y{self.y_train.shape}, test x{self.x_test.shape} y{self.y_test.shape}, "
                f"metric={self.metric})")


# --------------------------------------------------------------------------- teacher-student

def teacher_student(n_in=8, n_out=4, n_hidden=0, n_train=512, n_test=256, noise=0.0, gain=1.0,
                    activation="tanh", seed=0):
    """Regression on a fixed random teacher network.

    Inputs are standard normal. The teacher is linear, ``y = W x`` with
    ``W ~ N(0, 1/n_in)``, when ``n_hidden == 0``, else two-layer,
    ``y = C f(gain * A x)`` with ``A ~ N(0, 1/n_in)``, ``C ~ N(0, 1/n_hidden)`` and
    ``f`` tanh or ReLU. The 1/fan-in scaling keeps targets of order one.

    Parameters
    ----------
    n_in, n_out : int
        Input and output sizes.
    n_hidden : int
        0 for a linear teacher, else the teacher's hidden width.
    n_train, n_test : int
        Number of samples.
    noise : float
        Standard deviation of Gaussian label noise added to the *training* targets only; the
        test targets are the clean teacher outputs, so the score measures the learned function.
    gain : float
        Multiplies the first teacher layer (``A x 2`` in theory.md's setups is ``gain=2``).
    activation : {"tanh", "relu"}
        Teacher nonlinearity (ignored for a linear teacher).
    seed : int

    Returns
    -------
    Task
        ``info["teacher"]`` holds the teacher's weights (``W``, or ``A`` and ``C``).
    """
    owner = "teacher_student"
    n_in = V.integer(owner, "n_in", n_in, low=1)
    n_out = V.integer(owner, "n_out", n_out, low=1)
    n_hidden = V.integer(owner, "n_hidden", n_hidden, low=0)
    n_train, n_test = _sizes(owner, n_train, n_test)
    noise = V.real(owner, "noise", noise, low=0.0)
    gain = V.real(owner, "gain", gain, low=0.0, low_open=True)
    activation = V.choice(owner, "activation", activation, ("tanh", "relu"))
    seed = V.seed(owner, seed)

    rng = np.random.default_rng(seed)
    if n_hidden == 0:
        teacher = {"W": rng.normal(0.0, 1.0 / math.sqrt(n_in), (n_out, n_in))}
    else:
        teacher = {"A": gain * rng.normal(0.0, 1.0 / math.sqrt(n_in), (n_hidden, n_in)),
                   "C": rng.normal(0.0, 1.0 / math.sqrt(n_hidden), (n_out, n_hidden))}
    f = np.tanh if activation == "tanh" else (lambda h: np.maximum(h, 0.0))

    def apply(x):
        if n_hidden == 0:
            return x @ teacher["W"].T
        return f(x @ teacher["A"].T) @ teacher["C"].T

    x_train = rng.standard_normal((n_train, n_in))
    x_test = rng.standard_normal((n_test, n_in))
    y_train = apply(x_train) + noise * rng.standard_normal((n_train, n_out))
    y_test = apply(x_test)
    info = dict(n_in=n_in, n_out=n_out, n_hidden=n_hidden, n_train=n_train, n_test=n_test,
                noise=noise, gain=gain, activation=activation, seed=seed, teacher=teacher)
    return Task("teacher-student", x_train, y_train, x_test, y_test, "regression",
                "feedforward", info)


# --------------------------------------------------------------------------- Mackey-Glass

#: Integration step of the Mackey-Glass delay equation (time units).
MG_DT = 0.1


def mackey_glass_series(length, tau=17.0, beta=0.2, gamma=0.1, exponent=10.0, sample_every=1,
                        washout=500.0, seed=0):
    """Integrate the Mackey-Glass delay equation and return ``length`` samples (not normalised).

    ``dx/dt = beta x(t - tau) / (1 + x(t - tau)^exponent) - gamma x(t)`` is integrated by
    classical RK4 with step ``MG_DT`` = 0.1. The delayed term at the RK4 half steps falls
    between grid points and is linearly interpolated, the usual scheme for delay equations
    (its error is O(dt^2), well below the series' own variation). The history on
    ``[-tau, 0]`` is random (seeded); the first ``washout`` time units are dropped so that
    the trajectory has settled on the attractor, then one sample is kept every
    ``sample_every`` time units.
    """
    steps_per_sample = int(round(sample_every / MG_DT))
    n_hist = int(math.ceil(tau / MG_DT))
    n_wash = int(round(washout / MG_DT))
    n_steps = n_wash + length * steps_per_sample
    rng = np.random.default_rng(seed)
    # A random but smooth-enough start: a level inside the attractor's range plus jitter.
    level = rng.uniform(0.5, 1.2)
    x = np.empty(n_hist + 1 + n_steps)
    x[:n_hist + 1] = level + 0.05 * rng.standard_normal(n_hist + 1)
    x = x.tolist()  # Python floats: the scalar loop below is much faster on lists

    def delayed(i, frac):
        # x at time (i + frac) * dt - tau, by linear interpolation on the grid; grid index
        # j stores time (j - n_hist) * dt.
        pos = i + frac - tau / MG_DT
        lo = int(math.floor(pos))
        w = pos - lo
        return x[lo] if w == 0.0 else (1.0 - w) * x[lo] + w * x[lo + 1]

    def rhs(xi, xd):
        return beta * xd / (1.0 + xd ** exponent) - gamma * xi

    dt = MG_DT
    for i in range(n_hist, n_hist + n_steps):
        xi = x[i]
        d0, dh, d1 = delayed(i, 0.0), delayed(i, 0.5), delayed(i, 1.0)
        k1 = rhs(xi, d0)
        k2 = rhs(xi + 0.5 * dt * k1, dh)
        k3 = rhs(xi + 0.5 * dt * k2, dh)
        k4 = rhs(xi + dt * k3, d1)
        x[i + 1] = xi + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    series = np.asarray(x[n_hist + 1 + n_wash:])
    return series[steps_per_sample - 1::steps_per_sample][:length]


def mackey_glass(n_train=16, n_test=4, tau=17.0, horizon=1, window=100, sample_every=1,
                 layout="sequence", washout=500.0, beta=0.2, gamma=0.1, exponent=10.0, seed=0):
    """Predict the chaotic Mackey-Glass series ``horizon`` samples ahead.

    One long trajectory is integrated (see :func:`mackey_glass_series`), normalised to zero
    mean and unit standard deviation with the statistics of the training part, and cut into
    samples; the test part comes after the training part in time, without overlap.

    Parameters
    ----------
    n_train, n_test : int
        Number of sequences (``layout="sequence"``) or windows (``"feedforward"``).
    tau : float
        Delay; 17 gives the classic mildly chaotic attractor (quasi-period about 50).
    horizon : int
        Steps ahead (in samples) of the target.
    window : int
        Sequence length T (sequence layout) or delay-embedding length (feedforward layout).
    sample_every : int
        Time units between kept samples (the integration step is 0.1).
    layout : {"sequence", "feedforward"}
        Sequence: ``x (n, T, 1)``, ``y (n, T, 1)`` with ``y[:, t] = s[t + horizon]``;
        consecutive non-overlapping sequences. Feedforward: ``x (n, window)`` holds the last
        ``window`` values and ``y (n, 1)`` the value ``horizon`` after the last one; windows
        slide by one sample.
    washout : float
        Time units dropped at the start.
    beta, gamma, exponent : float
        The equation's constants (0.2, 0.1, 10: Mackey & Glass 1977).
    seed : int
        Draws the initial history.

    Returns
    -------
    Task
        ``info`` includes ``mean`` and ``std`` of the raw training series (to undo the
        normalisation) and ``raw_min``/``raw_max`` of the whole raw series.
    """
    owner = "mackey_glass"
    n_train, n_test = _sizes(owner, n_train, n_test)
    tau = V.real(owner, "tau", tau, low=MG_DT)
    horizon = V.integer(owner, "horizon", horizon, low=1)
    window = V.integer(owner, "window", window, low=1)
    sample_every = V.integer(owner, "sample_every", sample_every, low=1)
    layout = V.choice(owner, "layout", layout, _LAYOUTS)
    washout = V.real(owner, "washout", washout, low=0.0)
    beta = V.real(owner, "beta", beta, low=0.0, low_open=True)
    gamma = V.real(owner, "gamma", gamma, low=0.0, low_open=True)
    exponent = V.real(owner, "exponent", exponent, low=0.0, low_open=True)
    seed = V.seed(owner, seed)

    length = _series_length(layout, n_train, n_test, window, horizon)
    raw = mackey_glass_series(length, tau, beta, gamma, exponent, sample_every, washout, seed)
    cut = _cut(raw, layout, n_train, n_test, window, horizon)
    mean, std = float(np.mean(raw[:cut["train_end"]])), float(np.std(raw[:cut["train_end"]]))
    x_tr, y_tr, x_te, y_te = ((a - mean) / std for a in cut["arrays"])
    info = dict(n_train=n_train, n_test=n_test, tau=tau, horizon=horizon, window=window,
                sample_every=sample_every, layout=layout, washout=washout, beta=beta,
                gamma=gamma, exponent=exponent, seed=seed, dt=MG_DT, integrator="rk4",
                mean=mean, std=std, raw_min=float(raw.min()), raw_max=float(raw.max()))
    return Task("mackey-glass", x_tr, y_tr, x_te, y_te, "regression", layout, info)


def _series_length(layout, n_train, n_test, window, horizon):
    if layout == "sequence":
        # train sequences, a gap of `horizon` so no test input is a train target, test sequences
        return (n_train + n_test) * window + 2 * horizon
    return n_train + n_test + 2 * (window + horizon - 1)


def _cut(series, layout, n_train, n_test, window, horizon):
    """Split one series into train and test samples; the test part follows the train part."""
    if layout == "sequence":
        def block(start, n):
            idx = start + np.arange(n)[:, None] * window + np.arange(window)[None, :]
            return series[idx][..., None], series[idx + horizon][..., None]
        test_start = n_train * window + horizon
        x_tr, y_tr = block(0, n_train)
        x_te, y_te = block(test_start, n_test)
        train_end = n_train * window + horizon
    else:
        def block(start, n):
            idx = start + np.arange(n)[:, None] + np.arange(window)[None, :]
            return series[idx], series[idx[:, -1:] + horizon]
        test_start = n_train + window + horizon - 1  # first index after the last train target
        x_tr, y_tr = block(0, n_train)
        x_te, y_te = block(test_start, n_test)
        train_end = test_start
    return {"arrays": (x_tr, y_tr, x_te, y_te), "train_end": train_end}


# --------------------------------------------------------------------------- sine

def sine(n_train=64, n_test=16, window=50, horizon=1, f_min=0.01, f_max=0.1, amplitude=1.0,
         layout="sequence", seed=0):
    """Predict a sine wave of random frequency and phase ``horizon`` steps ahead.

    Each sample is its own wave ``amplitude * sin(2 pi f t + phi)`` with ``f`` uniform in
    ``[f_min, f_max]`` cycles per step and ``phi`` uniform in ``[0, 2 pi)``.

    Parameters
    ----------
    n_train, n_test : int
    window : int
        Sequence length T, or the number of past values in the feedforward layout.
    horizon : int
        Steps ahead of the target.
    f_min, f_max : float
        Frequency range in cycles per step (below the Nyquist limit 0.5).
    amplitude : float
    layout : {"sequence", "feedforward"}
        Sequence: ``x (n, T, 1)``, ``y (n, T, 1)`` = the wave ``horizon`` steps later.
        Feedforward: ``x (n, window)``, ``y (n, 1)``.
    seed : int
    """
    owner = "sine"
    n_train, n_test = _sizes(owner, n_train, n_test)
    window = V.integer(owner, "window", window, low=1)
    horizon = V.integer(owner, "horizon", horizon, low=1)
    f_min = V.real(owner, "f_min", f_min, low=0.0, low_open=True, high=0.5, high_open=True)
    f_max = V.real(owner, "f_max", f_max, low=f_min, high=0.5, high_open=True)
    amplitude = V.real(owner, "amplitude", amplitude, low=0.0, low_open=True)
    layout = V.choice(owner, "layout", layout, _LAYOUTS)
    seed = V.seed(owner, seed)

    rng = np.random.default_rng(seed)

    def waves(n):
        f = rng.uniform(f_min, f_max, (n, 1))
        phi = rng.uniform(0.0, 2.0 * np.pi, (n, 1))
        t = np.arange(window)[None, :]
        x = amplitude * np.sin(2.0 * np.pi * f * t + phi)
        if layout == "sequence":
            y = amplitude * np.sin(2.0 * np.pi * f * (t + horizon) + phi)
            return x[..., None], y[..., None]
        y = amplitude * np.sin(2.0 * np.pi * f * (window - 1 + horizon) + phi)
        return x, y

    x_tr, y_tr = waves(n_train)
    x_te, y_te = waves(n_test)
    info = dict(n_train=n_train, n_test=n_test, window=window, horizon=horizon, f_min=f_min,
                f_max=f_max, amplitude=amplitude, layout=layout, seed=seed)
    return Task("sine", x_tr, y_tr, x_te, y_te, "regression", layout, info)


# --------------------------------------------------------------------------- adding problem

def adding_problem(T=50, n_train=512, n_test=128, seed=0):
    """Hochreiter & Schmidhuber's adding problem (1997), in the two-half form of Le et al. 2015.

    Each step carries two channels: a value uniform in ``[0, 1]`` and a marker. Exactly two
    steps are marked with 1 (one in the first half, one in the second half, so the memory
    needed is of order ``T``); every other marker is 0. The target, given once at the end, is
    the sum of the two marked values: ``x (n, T, 2)``, ``y (n, 1)``. Always predicting 1
    gives MSE 1/6 (NRMSE about 1), the usual baseline.
    """
    owner = "adding_problem"
    T = V.integer(owner, "T", T, low=2)
    n_train, n_test = _sizes(owner, n_train, n_test)
    seed = V.seed(owner, seed)
    rng = np.random.default_rng(seed)

    def make(n):
        values = rng.uniform(0.0, 1.0, (n, T))
        half = T // 2
        first = rng.integers(0, half, n)
        second = rng.integers(half, T, n)
        markers = np.zeros((n, T))
        rows = np.arange(n)
        markers[rows, first] = 1.0
        markers[rows, second] = 1.0
        y = (values[rows, first] + values[rows, second])[:, None]
        return np.stack([values, markers], axis=-1), y

    x_tr, y_tr = make(n_train)
    x_te, y_te = make(n_test)
    info = dict(T=T, n_train=n_train, n_test=n_test, seed=seed)
    return Task("adding", x_tr, y_tr, x_te, y_te, "regression", "sequence", info)


# --------------------------------------------------------------------------- parity

def parity(bits=4, n_train=None, n_test=None, inputs="pm1", target="pm1", seed=0):
    """n-bit parity: is the number of set bits odd?

    Parameters
    ----------
    bits : int
        Input width (1 to 20).
    n_train, n_test : int or None
        ``None`` (default) takes the full truth table of ``2**bits`` patterns, in order, for
        that split (parity is classically a memorisation task, so train and test may both be
        the whole table). An integer draws that many patterns uniformly with replacement.
    inputs : {"pm1", "binary"}
        Bits encoded as -1/+1 (default) or 0/1.
    target : {"pm1", "onehot"}
        ``"pm1"``: one output, +1 for odd parity and -1 for even (accuracy by sign).
        ``"onehot"``: two outputs, column 1 set for odd parity (accuracy by arg-max).
    seed : int
        Used only when patterns are drawn.
    """
    owner = "parity"
    bits = V.integer(owner, "bits", bits, low=1, high=20)
    n_train = None if n_train is None else V.integer(owner, "n_train", n_train, low=1)
    n_test = None if n_test is None else V.integer(owner, "n_test", n_test, low=1)
    inputs = V.choice(owner, "inputs", inputs, ("pm1", "binary"))
    target = V.choice(owner, "target", target, ("pm1", "onehot"))
    seed = V.seed(owner, seed)
    rng = np.random.default_rng(seed)

    def make(n):
        if n is None:
            codes = np.arange(2 ** bits)
        else:
            codes = rng.integers(0, 2 ** bits, n)
        b = (codes[:, None] >> np.arange(bits)[None, :]) & 1
        odd = b.sum(axis=1) % 2
        x = (2.0 * b - 1.0) if inputs == "pm1" else b.astype(np.float64)
        y = (2.0 * odd - 1.0)[:, None] if target == "pm1" else np.eye(2)[odd]
        return x, y

    x_tr, y_tr = make(n_train)
    x_te, y_te = make(n_test)
    info = dict(bits=bits, n_train=len(x_tr), n_test=len(x_te), inputs=inputs, target=target,
                full_table_train=n_train is None, full_table_test=n_test is None, seed=seed)
    return Task("parity", x_tr, y_tr, x_te, y_te, "classification", "feedforward", info)


# --------------------------------------------------------------------------- digits

def digits(n_test=360, n_train=None, seed=0):
    """scikit-learn's bundled 8x8 handwritten digits (1797 images, 10 classes).

    The data ship inside scikit-learn (``sklearn.datasets.load_digits``); nothing is
    downloaded. Pixels (0 to 16) are scaled to ``[0, 1]``: ``x (n, 64)``; targets are
    one-hot ``(n, 10)``. The images are shuffled with ``seed`` and split: the first
    ``n_test`` are the test set, then ``n_train`` (default: all the rest) the training set.

    Raises
    ------
    TaskUnavailable
        When scikit-learn is not installed.
    """
    owner = "digits"
    n_test = V.integer(owner, "n_test", n_test, low=1)
    seed = V.seed(owner, seed)
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise TaskUnavailable("the 'digits' task needs scikit-learn, which ships the 8x8 digits "
                              "data (nothing is downloaded); install it with: "
                              "pip install 'hwsim[digits]' (or pip install scikit-learn)") from None
    data = load_digits()
    n_total = len(data.target)
    n_test = V.integer(owner, "n_test", n_test, low=1, high=n_total - 1)
    room = n_total - n_test
    n_train = room if n_train is None else V.integer(owner, "n_train", n_train, low=1, high=room)
    order = np.random.default_rng(seed).permutation(n_total)
    x = np.asarray(data.data, dtype=np.float64) / 16.0
    y = np.eye(10)[np.asarray(data.target)]
    te, tr = order[:n_test], order[n_test:n_test + n_train]
    info = dict(n_train=n_train, n_test=n_test, seed=seed, source="sklearn.datasets.load_digits",
                scale="pixels / 16")
    return Task("digits", x[tr], y[tr], x[te], y[te], "classification", "feedforward", info)


# --------------------------------------------------------------------------- registry

def _sizes(owner, n_train, n_test):
    return V.integer(owner, "n_train", n_train, low=1), V.integer(owner, "n_test", n_test, low=1)


#: Task generators by registry name.
TASKS = {
    "teacher-student": teacher_student,
    "mackey-glass": mackey_glass,
    "sine": sine,
    "adding": adding_problem,
    "parity": parity,
    "digits": digits,
}


def get_task(name, **kwargs):
    """Build a task by registry name (``"teacher-student"``, ``"mackey-glass"``, ``"sine"``,
    ``"adding"``, ``"parity"``, ``"digits"``); underscores are accepted for dashes.

    Raises
    ------
    ConfigError
        For an unknown name (listing the known ones) or an argument the generator does not
        take (naming it and listing the accepted ones).
    """
    if not isinstance(name, str):
        raise TypeError(f"get_task: name must be a string, got {name!r}")
    key = name.strip().lower().replace("_", "-")
    if key not in TASKS:
        raise ConfigError(f"get_task: unknown task {name!r}; known tasks: {', '.join(TASKS)}")
    make = TASKS[key]
    accepted = list(inspect.signature(make).parameters)
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ConfigError(f"get_task({key!r}): unknown argument(s) {', '.join(unknown)}; "
                          f"accepted: {', '.join(accepted)}")
    return make(**kwargs)
