"""``hwsim experiment gradient-balance``: what discrete, noisy updates do to the rescaling
charge of a two-layer linear network (reference/theory.md sections 0 and 1.2).

Setup. The student ``f(x) = u^T W x`` (:func:`hwsim.networks.mlp` ``[10, 20, 1]`` with the
identity activation: tile ``W1`` is ``W``, 20 x 10, tile ``W2`` is ``u^T``) learns the linear
teacher ``y = a^T x + sigma xi`` (``|a| = 1``, ``x ~ N(0, I_10)``, label noise
``sigma = 1``) with :class:`~hwsim.rules.PulsedSGD` on the loss ``(f - y)^2 / 2``. Measured:
the per-neuron charges ``C_i = u_i^2 - |W_i|^2`` (:func:`hwsim.diagnostics.conserved_charge`)
before every step, the layer charge ``C = |u|^2 - |W|_F^2`` (their sum,
:func:`~hwsim.diagnostics.layer_charge`), and the gradient ratio
``R = E|g_u|^2 / E|g_W|^2`` per layer and per neuron
(:func:`~hwsim.diagnostics.gradient_balance` over blocks of 20 steps, from the ``(x, d)``
each tile received). Two strongly unbalanced starts: *u-heavy* (``|u| = 1.5``, W entries of
std 0.02: R about 0.02) and *W-heavy* (u entries 0.01, W entries of std 0.25: ``C`` about
-13). theory.md's table uses ``|u| = 3`` and ``sigma = 0.5``; with batch 1 and unit-variance
inputs ``|u| = 3`` is unstable at ``eta = 0.05`` (``eta |u|^2 E|x|^4 / E|x|^2 > 2``), and
``sigma = 1`` quarters the relaxation time. Four parts:

sgd
    Online SGD, batch 1, fresh samples with label noise, ``eta = 0.05`` (full run: also
    ``eta = 0.02``), from both starts. Prediction (theory.md 0, E2): each step changes C by
    exactly ``eta^2 (|g_u|^2 - |g_W|^2)``, so C drifts until ``E|g_u|^2 = E|g_W|^2`` (R = 1,
    per neuron too), relaxing near balance at ``kappa = (2n / (n + 1)) eta^2 sigma^2``
    (``1 / kappa = 220`` steps at ``eta = 0.05``); both starts reach the same charge, which
    matrix balance (E3 with m = 1: W rank one along u) puts at
    ``C* = |a| (1 - n) / sqrt(n) = -2.85`` up to ``O(eta)``.
gd
    Full-batch gradient descent on 64 fixed samples without label noise, from the u-heavy
    start, at ``eta`` and ``eta / 2`` (twice the steps). Prediction: C is conserved up to
    the discretisation drift ``eta^2 sum (|g_u|^2 - |g_W|^2)``, about ``eta`` times the loss
    descended, which halves with ``eta`` (gradient flow conserves C: Noether); R stays where
    it started.
noise
    The same gradient descent plus isotropic additive weight noise (``rho`` per weight and
    step, 2.5e-3 quick, 1.2e-3 full), from both starts. Prediction (theory.md 0,
    consequence 6): ``dC = 2 (u . eps_u - W . eps_W) + |eps_u|^2 - |eps_W|^2``, a random walk
    with the constant drift ``rho^2 (N_u - N_W)`` (``N`` the number of weights) and the
    per-step variance ``4 rho^2 (|u|^2 + |W|^2)``, whatever the gradients: no restoring
    force, so the two starts keep their charge gap, the variance of every ``C_i`` grows
    linearly in time (variance ratio ``D(L) / (L D(1)) = 1``, Lo & MacKinlay 1988) and R
    stays unbalanced.
pulsed
    Device target only: SGD as in *sgd* (u-heavy start, ``eta = 0.05``) on constant-step
    devices of step ``dw_min`` in {1e-2, 1e-3} (quick) or {1e-2, 3e-3, 1e-3, 3e-4} (full),
    against the ideal run, their small-step limit. A stochastic pulse train delivers the
    mean update ``-eta g`` with a per-weight variance ``V = dw_min^2 sum_b BL_b q (1 - q)``
    (:func:`pulse_statistics`), about ``dw_min eta |g|``: first order in ``eta``, where the
    update's own square is second order. Prediction (derived here with the algebra of
    theory.md 0, since ``u . g_u = W . g_W`` still cancels the first-order term): the
    expected charge step becomes ``eta^2 (|g_u|^2 - |g_W|^2) + sum V_u - sum V_W``, so
    stationarity balances ``eta^2 E|g_u|^2 + E sum V_u`` against the W side
    (``R_pulsed = 1``), not ``R = 1``. The W side has ten times the weights and a larger
    ``|g|_1``, so the pulses push C below the ideal stationary charge, by an amount that
    shrinks to 0 with ``dw_min``.

Which parts honour ``--target``: *sgd*, *gd* and *noise* run on every chosen target. On the
ideal target the tiles are float64 and the noise is Gaussian noise added to the weights; on
the device target the tiles are constant-step devices (no device-to-device or
cycle-to-cycle spread, symmetric steps, bounds +-4, perfect converters, pulse trains up to
4096 long so that no update is clipped: the devices' only non-ideality is the discreteness
of their pulsed updates) of ``dw_min = 1e-3`` (sgd) or ``1e-4`` (gd, noise), and the noise
is the devices' own diffusion (``diffusion = rho``, one :meth:`~hwsim.AnalogTile.diffuse`
per step). *pulsed* runs when the device target does. On the device target every expected
charge step includes the pulse variance, and every SE the pulses' own fluctuation, so the
device checks test the same identities as the ideal ones.

Checks. SE is the statistical error the run itself implies (see :func:`balance_summary`,
:func:`mean_charge`, :func:`variance_ratio`); "within 4 SE" is the threshold of every
statistical comparison.

- sgd: the u-heavy start's R over its first block is below 0.3 and the W-heavy start's C
  more than 2 ``|C*|`` below ``C*``; R over the second half is within 4 SE of 1 from both
  (on devices ``R_pulsed``); the median per-neuron ratio is within [0.67, 1.5]; the two
  starts' mean charges over the second half agree within 4 SE and within 10 % of their
  initial gap; on the ideal target both are within 20 % (quick: the second half of 2500
  steps still carries the approach from either side, measured -18 % to +13 % over seeds
  0-5) or 10 % (full) of ``C*``; the ideal identity holds to 1e-9 relative, the device's
  (with pulse variance) within 4 SE.
- gd: ``|C_T - C_0|`` below 3 % of ``|C_0|`` and R below 0.25 (it starts near 0.02); on the
  ideal target the drift at ``eta`` is 1.6 to 2.4 times that at ``eta / 2`` (2 to first
  order) and the identity holds.
- noise: the mean and the variance of the charge steps match the predictions (mean within
  4 SE; variance within ``4 sqrt(2 / T)`` relative); the change of the gap between the two
  starts is within 4 SE of the predicted (near-zero) one and the u-heavy R stays below
  0.25; the variance ratio of the 40 per-neuron charges at lag ``T / 4`` is within 4 SE of
  1, where a charge relaxing with SGD's time constant would give ``tau (1 - e^{-L/tau}) / L``
  (0.60 quick, 0.22 full).
- pulsed: at the coarsest ``dw_min`` the measured charge change matches the prediction with
  the pulse variance within 4 SE while the pulse term alone exceeds 4 SE; ``R_pulsed`` is
  within 4 SE of 1 at every ``dw_min``, and at the coarsest closer to 1 than the plain R
  (which is 3-4 SE above 1 there in the quick run, 12 SE in the full one); the offset of
  the stationary charge from the ideal one falls monotonically with ``dw_min``, the
  coarsest beyond 4 SE, the finest at most 0.3 of the coarsest (the step range is at least
  10x and the offset is first order in ``dw_min``).

Measured (full run, seed 0, both targets; ``docs/figures/experiments/gradient-balance.*``):

- sgd, ideal, ``eta = 0.05``: R from 0.025 (u-heavy) and 3.45 (W-heavy) to 0.995 and
  1.005 (SE 0.004); per-neuron medians 0.995, 1.005; C from 2.17 and -12.94 to -2.681 and
  -2.697 (SE 0.05, 0.07; ``C* = -2.846``, 6 % off at this eta). ``eta = 0.02``: R 0.007 and
  11.4 -> 0.986 and 1.010 (SE 0.01); C -2.796 and -2.906 (2 % off C*). Identity: 3e-15.
  Device (``dw_min = 1e-3``): ``R_pulsed`` 1.010, 1.014 (plain R 1.040, 1.041); C -3.054 and
  -3.038.
- gd: C 2.1672 -> 2.1473 (-0.91 %; SGD from the same start over as many steps: -4.96),
  R 0.024 -> 0.034; drift(eta) / drift(eta / 2) = 2.054. Device: -2.0 %.
- noise (rho = 1.2e-3, 4000 steps): mean step -2.51e-4 both (predicted -2.65e-4 and
  -2.56e-4, SE 0.7e-4 and 1.4e-4; isotropic part -2.59e-4); step variance 0.98 of the
  predicted; gap 15.110 -> 15.110 (predicted change -0.04 +- 0.65); variance ratio at lag
  1000: 0.952 (ideal), 0.982 (device), SE 0.09; R stays 0.047 (u-heavy), 1.9 (W-heavy).
- pulsed: offset of the stationary C from the ideal -2.68: -2.52 (dw_min 1e-2), -0.80
  (3e-3), -0.37 (1e-3), -0.11 (3e-4); plain R 1.257, 1.085, 1.040, 0.998, ``R_pulsed``
  1.007, 1.000, 1.010, 0.989; at 1e-2 the pulse term of the summed charge change is -85.9
  (12 SE) and the prediction with it misses by 0.3 SE.
"""

import time

import numpy as np

import devices
from devices.update import pulse_probabilities

from ..diagnostics import conserved_charge, gradient_balance
from ..io import IOConfig
from ..io_utils import pyplot, save_figure
from ..networks import mlp
from ..progress import progress_bar
from ..rules import PulsedSGD
from ..simulator import Simulator
from ..tile import UpdateConfig
from .base import ExperimentResult, check, targets

NAME = "gradient-balance"
DESCRIPTION = ("SGD noise drives the gradient ratio of a linear net to 1; gradient descent "
               "conserves the charge |u|^2 - |W|^2; isotropic device noise random-walks it; "
               "pulsed updates shift the balance by a dw_min-sized term")

N_IN, N_HIDDEN = 10, 20
SIGMA = 1.0             # label noise of the SGD parts
GD_SAMPLES = 64         # the fixed data set of the gradient-descent parts
HIDDEN, READOUT = "W1", "W2"
BOUND = 4.0             # device bounds: far above any weight the runs reach

#: Strongly unbalanced starts: (scale of u's entries, std of W's entries).
STARTS = {"u-heavy": (1.5 / np.sqrt(N_HIDDEN), 0.02), "w-heavy": (0.01, 0.25)}

#: Run lengths per size. ``sgd_lrs``: the SGD learning rates on the ideal target (the device
#: target and the pulsed sweep use the first); ``block``: steps per recorded block
#: (gradient statistics are block means, the curves have a point per block, and the
#: starting R is the first block's); ``rho``: the isotropic noise per weight and step, so
#: that its drift ``rho^2 (N_u - N_W) T`` is about -1 over the noise run.
SETTINGS = {
    "quick": {"sgd_lrs": (0.05,), "sgd_steps": 2500, "gd_steps": 600, "noise_steps": 1000,
              "block": 20, "rho": 2.5e-3, "dw_mins": (1e-2, 1e-3), "c_star_tol": 0.2},
    "full": {"sgd_lrs": (0.05, 0.02), "sgd_steps": 20000, "gd_steps": 4000,
             "noise_steps": 4000, "block": 20, "rho": 1.2e-3,
             "dw_mins": (1e-2, 3e-3, 1e-3, 3e-4), "c_star_tol": 0.1},
}
DEVICE_DW_MIN = 1e-3    # device target, sgd part
FINE_DW_MIN = 1e-4      # device target, gd and noise parts
SE_FACTOR = 4.0         # statistical checks: within (or beyond) this many standard errors
#: The start is unbalanced: the u-heavy start's R over the first block is below this, the
#: W-heavy start's charge is more than this many |C*| below C*.
R_START_MAX, W_START_OFFSET = 0.3, 2.0
NEURON_RATIO = (0.67, 1.5)   # median per-neuron ratio at balance
GAP_SHRINK = 0.1             # SGD: final charge gap of the two starts / initial gap
GD_DRIFT_MAX = 0.03          # GD: |C_T - C_0| / |C_0|
R_FAR = 0.25                 # GD and noise: the u-heavy R stays below this
ETA_SCALING = (1.6, 2.4)     # GD drift at eta / drift at eta/2 (2 to first order)
PULSE_SHRINK = 0.3           # pulsed: |offset(finest)| / |offset(coarsest)| at most


# --------------------------------------------------------------------------- set-up
def teacher(seed):
    """The teacher's unit weight vector ``a`` (n,)."""
    a = np.random.default_rng([seed, 1]).standard_normal(N_IN)
    return a / np.linalg.norm(a)


def balanced_charge(a):
    """``C* = |a| (1 - n) / sqrt(n)``: the layer charge of the matrix-balanced solution.

    theory.md E3 with ``m = 1``: ``n u u^T = W W^T`` makes W rank one along u, so with
    ``u^T W = a^T``, ``|u|^2 = |a| / sqrt(n)`` and ``|W|_F^2 = |a| sqrt(n)``.
    """
    norm = float(np.linalg.norm(a))
    return norm * (1.0 - N_IN) / np.sqrt(N_IN)


def relaxation_steps(lr, batch=1):
    """theory.md E2: near balance C relaxes at ``kappa = (2n / (n + 1)) lr^2 sigma^2 / B``
    per step; returns ``1 / kappa``."""
    return 1.0 / ((2.0 * N_IN / (N_IN + 1)) * lr * lr * SIGMA * SIGMA / batch)


def start_weights(kind, seed):
    """(W, u) of a strongly unbalanced start: ``kind`` is a key of :data:`STARTS`."""
    u_scale, w_std = STARTS[kind]
    rng = np.random.default_rng([seed, 2])
    w = w_std * rng.standard_normal((N_HIDDEN, N_IN))
    u = u_scale * rng.choice([-1.0, 1.0], N_HIDDEN)
    return w, u


def device_model(dw_min, diffusion=0.0):
    """A constant-step device whose only non-ideality is the discreteness of its steps
    (and, if given, diffusion): no spread of step or bounds, symmetric up and down."""
    return devices.ConstantStep(dw_min=dw_min, dw_min_dtod=0.0, dw_min_std=0.0,
                                up_down=0.0, up_down_dtod=0.0, w_min=-BOUND, w_max=BOUND,
                                w_min_dtod=0.0, w_max_dtod=0.0, diffusion=diffusion)


def make_sim(target, w, u, seed, dw_min=DEVICE_DW_MIN, diffusion=0.0):
    """The student on ``target``, its weights set exactly to ``(w, u)``.

    Long pulse trains (BL up to 4096) so that bit-line management never clips an update
    (a clipped update is biased, which the charge identity would see).
    """
    options = {}
    if target == "device":
        options = {"device": device_model(dw_min, diffusion),
                   "io": IOConfig(is_perfect=True), "update": UpdateConfig(desired_bl=4096)}
    sim = Simulator(mlp([N_IN, N_HIDDEN, 1], activation="identity", **options),
                    target=target, seed=seed)
    sim.tiles[HIDDEN].set_weights(w)
    sim.tiles[READOUT].set_weights(u[None, :])
    return sim


def online(a, rng, batch=1):
    """Fresh samples with label noise every step (SGD)."""
    def draw(_k):
        x = rng.standard_normal((batch, N_IN))
        return x, x @ a[:, None] + SIGMA * rng.standard_normal((batch, 1))
    return draw


def fixed(a, rng):
    """The same ``GD_SAMPLES`` noiseless samples every step (full-batch gradient descent)."""
    x = rng.standard_normal((GD_SAMPLES, N_IN))
    y = x @ a[:, None]
    return lambda _k: (x, y)


# --------------------------------------------------------------------------- measures
def pulse_statistics(tile, w, x, d, lr):
    """What the pulses of one update of ``tile`` toward ``-lr d^T x`` add to the charge.

    Returns ``(var, mvar, clipped)``: ``var`` the summed per-weight variance of the update
    (its contribution to the expected change of ``|w|^2``), ``mvar`` the variance of
    ``2 <w, dw>`` (the fluctuating first-order part of that change), and the number of
    samples whose update bit-line management clipped (a clipped update is biased).

    Per sample b and slot, line i of the d side fires with probability ``p_i`` and line j
    of the x side with ``p'_j`` (:func:`devices.update.pulse_probabilities`); cell (i, j)
    steps by ``dw_min`` on a coincidence. Over ``BL_b`` independent slots a cell's count is
    ``Binomial(BL_b, p_i p'_j)``, so ``Var dw_ij = dw_min^2 sum_b BL_b q (1 - q)``,
    ``q = p_i p'_j``. Cells of a row share the d line and cells of a column the x line, so
    their counts are correlated; with ``A = w * sign(d_i x_j)``, ``P = p (1 - p)``,
    ``P' = p' (1 - p')`` one slot gives
    ``Var sum A_ij D_i X_j = sum_i P_i (A p')_i^2 + sum_j P'_j (A^T p)_j^2 +
    sum_ij P_i P'_j A_ij^2``. Exact for the symmetric constant-step device without
    cycle-to-cycle spread away from its bounds; zeros for a float tile.
    """
    array = getattr(tile, "array", None)
    if array is None:
        return 0.0, 0.0, 0
    eps = array.model.granularity
    params = tile.update_config
    bl, p_x, p_d = pulse_probabilities(x, d, lr, eps, params)
    # sums over cells factorise: sum_ij q = (sum_i p_i)(sum_j p'_j), likewise for q^2, and
    # the signs in A square away, so nothing (batch, rows, cols)-sized is formed
    var = eps * eps * float(np.dot(bl, p_d.sum(axis=1) * p_x.sum(axis=1)
                                   - (p_d * p_d).sum(axis=1) * (p_x * p_x).sum(axis=1)))
    sx, sd = np.sign(x), np.sign(d)
    pd_var, px_var = p_d * (1.0 - p_d), p_x * (1.0 - p_x)
    rows = (sx * p_x) @ w.T
    cols = (sd * p_d) @ w
    slot = (np.sum(pd_var * rows * rows, axis=1) + np.sum(px_var * cols * cols, axis=1)
            + np.sum((pd_var @ (w * w)) * px_var, axis=1))
    mvar = 4.0 * eps * eps * float(np.dot(bl, slot))
    need = lr * np.abs(x).max(axis=1) * params.um_grad_scale * np.abs(d).max(axis=1) / eps
    return var, mvar, int(np.sum(need > bl))


def add_noise(sim, rho, rng):
    """One step of isotropic additive weight noise of std ``rho``: the devices' own
    diffusion on the device target, explicit Gaussian noise on float tiles."""
    for tile in (sim.tiles[HIDDEN], sim.tiles[READOUT]):
        if sim.target == "device":
            tile.diffuse()
        else:
            tile.set_weights(tile.weights() + rho * rng.standard_normal(tile.shape))


def train(sim, lr, draw, steps, *, block, rho=0.0, rng=None, bar=None):
    """Train with :class:`~hwsim.rules.PulsedSGD`, recording the charge and its prediction.

    Returns a dict of arrays: ``Ci`` (steps + 1, h) the per-neuron charges before each step
    (and at the end) and ``C`` their sum, the layer charge; per block of ``block`` steps:
    ``g_in``, ``g_out`` (blocks, h) the block means of ``|g_W[i, :]|^2`` and ``|g_u[i]|^2``
    (:func:`~hwsim.diagnostics.gradient_balance`), ``v_in``, ``v_out`` the summed pulse
    variances of W and u (:func:`pulse_statistics`), ``expected`` the expected change of
    C (``lr^2 block (layer_out - layer_in) + v_out - v_in + rho^2 (N_u - N_W) block``)
    and ``mvar`` the variance of the change around it; ``loss`` per step; ``clipped``
    (samples whose update was clipped).
    """
    rule = PulsedSGD(lr=lr)
    tw, tu = sim.tiles[HIDDEN], sim.tiles[READOUT]
    blocks = steps // block
    end = blocks * block
    n_u, n_w = tu.out_size * tu.in_size, tw.out_size * tw.in_size
    log = {"Ci": np.empty((end + 1, N_HIDDEN)), "loss": np.empty(end),
           "g_in": np.empty((blocks, N_HIDDEN)), "g_out": np.empty((blocks, N_HIDDEN)),
           "v_in": np.zeros(blocks), "v_out": np.zeros(blocks),
           "expected": np.empty(blocks), "mvar": np.zeros(blocks), "clipped": 0}
    gw = np.empty((block, N_HIDDEN, N_IN))
    gu = np.empty((block, 1, N_HIDDEN))
    for k in range(end):
        b, j = divmod(k, block)
        w, u = tw.weights(), tu.weights()
        log["Ci"][k] = conserved_charge(w, u)
        x, y = draw(k)
        err = sim.run({"x": x})["y"] - y
        if not np.all(np.isfinite(err)):
            raise FloatingPointError(f"{NAME}: training diverged at step {k}")
        log["loss"][k] = 0.5 * float(np.mean(err * err))
        sim.backward({"y": err / x.shape[0]})
        xw, dw = sim.local_signals(HIDDEN)
        xu, du = sim.local_signals(READOUT)
        gw[j] = dw.T @ xw
        gu[j] = du.T @ xu
        var_w, mvar_w, clip_w = pulse_statistics(tw, w, xw, dw, lr)
        var_u, mvar_u, clip_u = pulse_statistics(tu, u, xu, du, lr)
        log["clipped"] += clip_w + clip_u
        log["v_in"][b] += var_w
        log["v_out"][b] += var_u
        # C changes by sum 2 w dw + dw^2: the fluctuating part is that of 2 <w, dw> (pulses
        # and noise are independent), the rest is of second order in the small variances
        log["mvar"][b] += mvar_w + mvar_u + 4.0 * rho * rho * (np.sum(w * w) + np.sum(u * u))
        rule.apply(sim)
        if rho:
            add_noise(sim, rho, rng)
        if j == block - 1:
            bal = gradient_balance(gw, gu)
            log["g_in"][b], log["g_out"][b] = bal["g_in_sq"], bal["g_out_sq"]
            log["expected"][b] = (lr * lr * block * (bal["layer_out"] - bal["layer_in"])
                                  + log["v_out"][b] - log["v_in"][b]
                                  + rho * rho * (n_u - n_w) * block)
        if bar is not None:
            bar.update(1)
    log["Ci"][end] = conserved_charge(tw.weights(), tu.weights())
    # the layer charge is the sum of the neurons' (hwsim.diagnostics.layer_charge)
    log["C"] = log["Ci"].sum(axis=1)
    log["steps"], log["block"], log["lr"], log["rho"] = end, block, lr, rho
    log["N_u"], log["N_w"] = n_u, n_w
    return log


def block_charge_changes(log):
    """Measured change of C over each block."""
    c = log["C"][::log["block"]]
    return np.diff(c)


def balance_summary(log, start, stop):
    """Gradient balance over blocks ``[start, stop)`` with its statistical error.

    ``R = sum g_out / sum g_in`` (layer), ``R_pulsed`` with the pulse variances added to
    both sides, ``(lr^2 sum g_out + sum v_out) / (lr^2 sum g_in + sum v_in)``, equal to R
    on float tiles; the per-neuron ratios. SE of ``R_pulsed``: the
    charge identity gives ``R_pulsed - 1 = (C_stop - C_start - M) / den`` with ``M`` the
    martingale part (variance ``sum mvar``) and ``den`` the denominator, so at
    stationarity ``SE = sqrt(2 s_C^2 + sum mvar) / den`` with ``s_C`` the standard deviation
    of C over the window.
    """
    lr2, block = log["lr"] ** 2, log["block"]
    g_in = log["g_in"][start:stop]
    g_out = log["g_out"][start:stop]
    den = lr2 * block * g_in.sum() + log["v_in"][start:stop].sum()
    num = lr2 * block * g_out.sum() + log["v_out"][start:stop].sum()
    c = log["C"][start * block:stop * block + 1]
    se = np.sqrt(2.0 * np.var(c) + log["mvar"][start:stop].sum()) / den
    per_neuron = g_out.sum(axis=0) / g_in.sum(axis=0)
    return {"R": float(g_out.sum() / g_in.sum()), "R_pulsed": float(num / den),
            "R_se": float(se), "neuron_ratio_median": float(np.median(per_neuron)),
            "neuron_ratio_within_2x": float(np.mean((per_neuron > 0.5) & (per_neuron < 2.0)))}


def mean_charge(log, start_step):
    """Mean of C from ``start_step`` on, and its standard error.

    C is correlated over its relaxation time, so the SE is ``std sqrt(tau / n)`` with the
    integrated autocorrelation time ``tau = 1 + 2 sum_k rho_k``, summed up to the first
    negative autocorrelation (the initial positive sequence).
    """
    c = log["C"][start_step:]
    x = c - c.mean()
    n = x.size
    spec = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(spec * np.conj(spec))[:n]
    if acf[0] <= 0:
        return float(c.mean()), 0.0
    acf = acf / acf[0]
    negative = np.flatnonzero(acf < 0)
    stop = int(negative[0]) if negative.size else n
    tau = 1.0 + 2.0 * float(acf[1:stop].sum())
    return float(c.mean()), float(x.std() * np.sqrt(tau / n))


def variance_ratio(series, lag):
    """Variance ratio ``D(L) / (L D(1))`` of random walks, and its standard error.

    ``series`` is (time, walkers); ``D(L)`` is the mean squared change over ``L`` steps
    (overlapping windows) with each walker's mean increment removed, averaged over the
    walkers' ratios. 1 for a random walk (variance growing linearly in time), below 1 for
    a mean-reverting walk. Removing the estimated mean biases ``D(L)`` by the factor
    ``1 - L / T``, which is divided out. SE under the random-walk hypothesis (Lo &
    MacKinlay 1988): ``sqrt(2 (2L - 1)(L - 1) / (3 L T))``, over the square root of the
    number of walkers.
    """
    series = np.asarray(series, dtype=float)
    t = series.shape[0] - 1
    inc = np.diff(series, axis=0)
    mu = inc.mean(axis=0)
    d1 = np.mean((inc - mu) ** 2, axis=0)
    long = series[lag:] - series[:-lag] - lag * mu
    dl = np.mean(long * long, axis=0) / (1.0 - lag / t)
    vr = float(np.mean(dl / (lag * d1)))
    se = np.sqrt(2.0 * (2 * lag - 1) * (lag - 1) / (3.0 * lag * t)) / np.sqrt(series.shape[1])
    return vr, float(se)


def curve(log, points=60):
    """Short curves for JSON and the plot, on log-spaced groups of blocks (the start is
    resolved block by block): ``step`` (the end of each group), ``R`` over the group,
    ``C`` at its end."""
    block = log["block"]
    blocks = log["g_in"].shape[0]
    edges = np.unique(np.geomspace(1, blocks, points).astype(int))
    edges = np.concatenate([[0], edges])
    steps, ratio = [], []
    for a, b in zip(edges[:-1], edges[1:]):
        steps.append(int(b * block))
        ratio.append(float(log["g_out"][a:b].sum() / log["g_in"][a:b].sum()))
    return {"step": steps, "R": ratio, "C": [float(log["C"][s]) for s in steps]}


def charge_identity(log):
    """How the measured charge changes compare with the expected ones.

    Returns ``max_rel_error`` (largest block difference over the largest block change:
    the exact identity of float tiles), ``z`` (the summed difference in units of its
    martingale SE; None without fluctuations), ``pulse_sum`` (the pulse-variance term
    ``sum v_out - sum v_in``) and ``se`` (that martingale SE).
    """
    measured = block_charge_changes(log)
    diff = measured - log["expected"]
    se = float(np.sqrt(log["mvar"].sum()))
    scale = float(np.max(np.abs(measured))) or 1.0
    return {"max_rel_error": float(np.max(np.abs(diff)) / scale),
            "z": float(diff.sum() / se) if se > 0 else None,
            "pulse_sum": float(log["v_out"].sum() - log["v_in"].sum()), "se": se}


def lag_profile(series, lags):
    """:func:`variance_ratio` and its SE at each lag (flat at 1 for a random walk)."""
    pairs = [variance_ratio(series, lag) for lag in lags]
    return [p[0] for p in pairs], [p[1] for p in pairs]


# --------------------------------------------------------------------------- parts
def run_sgd(target, a, lr, cfg, seed, bar, dw_min=DEVICE_DW_MIN, kinds=tuple(STARTS)):
    """Online SGD with label noise from each start: ``{start: log}``."""
    logs = {}
    for i, kind in enumerate(kinds):
        w, u = start_weights(kind, seed)
        sim = make_sim(target, w, u, seed, dw_min=dw_min)
        draw = online(a, np.random.default_rng([seed, 3, i]))
        logs[kind] = train(sim, lr, draw, cfg["sgd_steps"], block=cfg["block"], bar=bar)
    return logs


def run_gd(target, a, lr, steps, cfg, seed, bar):
    """Full-batch gradient descent on the fixed noiseless data from the u-heavy start."""
    w, u = start_weights("u-heavy", seed)
    sim = make_sim(target, w, u, seed, dw_min=FINE_DW_MIN)
    return train(sim, lr, fixed(a, np.random.default_rng([seed, 4])), steps,
                 block=cfg["block"], bar=bar)


def run_noise(target, a, lr, cfg, seed, bar):
    """Gradient descent plus isotropic weight noise from each start: ``{start: log}``."""
    logs = {}
    rho = cfg["rho"]
    for i, kind in enumerate(STARTS):
        w, u = start_weights(kind, seed)
        sim = make_sim(target, w, u, seed, dw_min=FINE_DW_MIN, diffusion=rho)
        logs[kind] = train(sim, lr, fixed(a, np.random.default_rng([seed, 4])),
                           cfg["noise_steps"], block=cfg["block"], rho=rho,
                           rng=np.random.default_rng([seed, 5, i]), bar=bar)
    return logs


# --------------------------------------------------------------------------- figures
def sgd_figures(logs, c_star):
    """Balance at the start and over the second half, stationary charges, curves."""
    out = {}
    for kind, log in logs.items():
        blocks = log["g_in"].shape[0]
        start = balance_summary(log, 0, 1)
        end = balance_summary(log, blocks // 2, blocks)
        c_mean, c_se = mean_charge(log, log["steps"] // 2)
        out[kind] = {"lr": log["lr"], "steps": log["steps"], "R_start": start["R"],
                     "R_end": end["R"], "R_pulsed_end": end["R_pulsed"], "R_se": end["R_se"],
                     "neuron_ratio_median": end["neuron_ratio_median"],
                     "neuron_ratio_within_2x": end["neuron_ratio_within_2x"],
                     "C_start": float(log["C"][0]), "C_mean_second_half": c_mean,
                     "C_mean_se": c_se, "C_std_second_half":
                         float(np.std(log["C"][log["steps"] // 2:])),
                     "clipped_updates": log["clipped"], "identity": charge_identity(log),
                     "curve": curve(log)}
    u, w = out["u-heavy"], out["w-heavy"]
    out["C_star"] = c_star
    out["gap_start"] = u["C_start"] - w["C_start"]
    out["gap_end"] = u["C_mean_second_half"] - w["C_mean_second_half"]
    out["gap_se"] = float(np.hypot(u["C_mean_se"], w["C_mean_se"]))
    return out


def gd_figures(log, log_half, sgd_change):
    ident = charge_identity(log)
    blocks = log["g_in"].shape[0]
    change = float(log["C"][-1] - log["C"][0])
    out = {"lr": log["lr"], "steps": log["steps"], "C_start": float(log["C"][0]),
           "C_end": float(log["C"][-1]), "C_change": change,
           "C_change_rel": change / abs(float(log["C"][0])),
           "sgd_C_change_same_start": sgd_change,
           "R_start": balance_summary(log, 0, 1)["R"],
           "R_end": balance_summary(log, blocks // 2, blocks)["R"],
           "loss_start": float(log["loss"][0]), "loss_end": float(log["loss"][-1]),
           "identity": ident, "curve": curve(log)}
    if log_half is not None:
        half = float(log_half["C"][-1] - log_half["C"][0])
        out.update(lr_half=log_half["lr"], steps_half=log_half["steps"],
                   C_change_half_lr=half,
                   drift_ratio=change / half if half != 0 else None,
                   identity_half_lr=charge_identity(log_half))
    return out


def noise_figures(logs, lag, lags):
    out = {}
    for kind, log in logs.items():
        inc = np.diff(log["C"])
        steps = log["steps"]
        blocks = log["g_in"].shape[0]
        end = balance_summary(log, blocks // 2, blocks)
        expected = float(log["expected"].sum())
        se = float(np.sqrt(log["mvar"].sum()))
        out[kind] = {"steps": steps, "rho": log["rho"], "C_start": float(log["C"][0]),
                     "C_end": float(log["C"][-1]),
                     "drift_measured": float(inc.mean()),
                     "drift_expected": expected / steps, "drift_se": se / steps,
                     "drift_isotropic": log["rho"] ** 2 * (log["N_u"] - log["N_w"]),
                     "step_variance_measured": float(inc.var()),
                     "step_variance_expected": float(log["mvar"].sum() / steps),
                     "R_end": end["R"], "identity": charge_identity(log),
                     "curve": curve(log)}
    u, w = logs["u-heavy"], logs["w-heavy"]
    walkers = np.concatenate([u["Ci"], w["Ci"]], axis=1)
    vr, vr_se = variance_ratio(walkers, lag)
    gap0 = float(u["C"][0] - w["C"][0])
    gap1 = float(u["C"][-1] - w["C"][-1])
    out.update(gap_start=gap0, gap_end=gap1, gap_change=gap1 - gap0,
               gap_change_expected=float(u["expected"].sum() - w["expected"].sum()),
               gap_change_se=float(np.sqrt(u["mvar"].sum() + w["mvar"].sum())),
               variance_ratio_lag=lag, variance_ratio=vr, variance_ratio_se=vr_se,
               lags=list(lags))
    out["variance_ratio_profile"], out["variance_ratio_profile_se"] = lag_profile(walkers,
                                                                                  lags)
    return out


def pulsed_figures(logs, ideal_log):
    """Per ``dw_min`` (and the ideal reference): balance, stationary charge and its offset
    from the ideal one, the charge identity; the cumulative charge change of the coarsest
    device against the ideal formula and the formula with the pulse variance."""
    ref_mean, ref_se = mean_charge(ideal_log, ideal_log["steps"] // 2)
    blocks = ideal_log["g_in"].shape[0]
    ref = balance_summary(ideal_log, blocks // 2, blocks)
    out = {"ideal": {"C_mean_second_half": ref_mean, "C_mean_se": ref_se, "R_end": ref["R"],
                     "R_se": ref["R_se"]}, "runs": {}}
    for dw_min, log in sorted(logs.items(), reverse=True):
        blocks = log["g_in"].shape[0]
        end = balance_summary(log, blocks // 2, blocks)
        c_mean, c_se = mean_charge(log, log["steps"] // 2)
        out["runs"][f"dw_min_{dw_min:g}"] = {
            "dw_min": dw_min, "R_end": end["R"], "R_pulsed_end": end["R_pulsed"],
            "R_se": end["R_se"], "C_mean_second_half": c_mean, "C_mean_se": c_se,
            "C_offset_from_ideal": c_mean - ref_mean,
            "C_offset_se": float(np.hypot(c_se, ref_se)),
            "clipped_updates": log["clipped"], "identity": charge_identity(log)}
    coarsest = logs[max(logs)]
    measured = np.concatenate([[0.0], np.cumsum(block_charge_changes(coarsest))])
    expected = np.concatenate([[0.0], np.cumsum(coarsest["expected"])])
    pulses = np.concatenate([[0.0], np.cumsum(coarsest["v_out"] - coarsest["v_in"])])
    pick = np.unique(np.linspace(0, measured.size - 1, 200).astype(int))
    out["coarsest_cumulative"] = {
        "dw_min": max(logs), "step": (pick * coarsest["block"]).tolist(),
        "measured": measured[pick].tolist(), "expected_with_pulses": expected[pick].tolist(),
        "expected_ideal_formula": (expected - pulses)[pick].tolist()}
    return out


# --------------------------------------------------------------------------- checks
def _within(value, center, se, factor=SE_FACTOR):
    return value is not None and abs(value - center) <= factor * se


def sgd_checks(target, figs, c_star_tol):
    u, w, c_star = figs["u-heavy"], figs["w-heavy"], figs["C_star"]
    tag = f"{target}, SGD eta = {u['lr']:g}"
    ratio = "R_pulsed_end" if target == "device" else "R_end"
    name = "R_pulsed (pulse variance included)" if target == "device" else "R"
    out = [check(
        f"{tag}: the gradient ratio {name} goes to 1 from both starts (within "
        f"{SE_FACTOR:g} SE); the u-heavy start began below {R_START_MAX:g}",
        u["R_start"] < R_START_MAX and _within(u[ratio], 1.0, u["R_se"])
        and _within(w[ratio], 1.0, w["R_se"]),
        f"u-heavy {u['R_start']:.3f} -> {u[ratio]:.3f} +- {u['R_se']:.3f}; w-heavy "
        f"{w['R_start']:.3f} -> {w[ratio]:.3f} +- {w['R_se']:.3f}; plain R "
        f"{u['R_end']:.3f}, {w['R_end']:.3f}")]
    lo, hi = NEURON_RATIO
    out.append(check(
        f"{tag}: per-neuron balance, median E g_u_i^2 / E |g_W_i|^2 in [{lo:g}, {hi:g}]",
        all(lo <= f["neuron_ratio_median"] <= hi for f in (u, w)),
        f"median {u['neuron_ratio_median']:.3f} (u-heavy), {w['neuron_ratio_median']:.3f} "
        f"(w-heavy); within a factor 2: {u['neuron_ratio_within_2x']:.0%}, "
        f"{w['neuron_ratio_within_2x']:.0%} of neurons"))
    gap_ok = (abs(figs["gap_end"]) <= SE_FACTOR * figs["gap_se"]
              and abs(figs["gap_end"]) <= GAP_SHRINK * abs(figs["gap_start"]))
    # on devices the pulses move the balance point (the pulsed part measures by how much)
    star_ok = target != "ideal" or all(abs(f["C_mean_second_half"] / c_star - 1)
                                       <= c_star_tol for f in (u, w))
    star = (f", within {c_star_tol:.0%} of C* = {c_star:.3f} (E3)" if target == "ideal"
            else "")
    out.append(check(
        f"{tag}: both starts reach the same charge (gap within {SE_FACTOR:g} SE and below "
        f"{GAP_SHRINK:.0%} of the initial gap){star}; the W-heavy start began "
        f"{W_START_OFFSET:g} |C*| below C*",
        gap_ok and star_ok and w["C_start"] < c_star - W_START_OFFSET * abs(c_star),
        f"C {u['C_start']:.2f} -> {u['C_mean_second_half']:.3f} +- {u['C_mean_se']:.3f} "
        f"(u-heavy), {w['C_start']:.2f} -> {w['C_mean_second_half']:.3f} +- "
        f"{w['C_mean_se']:.3f} (w-heavy); gap {figs['gap_start']:.2f} -> "
        f"{figs['gap_end']:.3f} +- {figs['gap_se']:.3f}"))
    out.append(_identity_check(f"{tag}", target, [u["identity"], w["identity"]]))
    return out


def _identity_check(tag, target, idents):
    if target == "ideal":
        worst = max(i["max_rel_error"] for i in idents)
        return check(f"{tag}: every step changes C by exactly eta^2 (|g_u|^2 - |g_W|^2)",
                     worst < 1e-9, f"max relative error {worst:.1e}")
    zs = [i["z"] for i in idents]
    return check(
        f"{tag}: C changes as eta^2 (|g_u|^2 - |g_W|^2) + sum V_u - sum V_W (pulse "
        f"variance) predicts, within {SE_FACTOR:g} martingale SE",
        all(z is not None and abs(z) <= SE_FACTOR for z in zs),
        "summed difference " + ", ".join(f"{z:+.2f}" for z in zs) + " SE; pulse term "
        + ", ".join(f"{i['pulse_sum']:+.3f}" for i in idents))


def gd_checks(target, figs):
    tag = f"{target}, GD eta = {figs['lr']:g}"
    out = [check(
        f"{tag}: C is conserved (|C_T - C_0| < {GD_DRIFT_MAX:.0%} of |C_0|) and R stays "
        f"below {R_FAR:g} (u-heavy start, no noise)",
        abs(figs["C_change_rel"]) < GD_DRIFT_MAX and figs["R_end"] < R_FAR,
        f"C {figs['C_start']:.4f} -> {figs['C_end']:.4f} ({figs['C_change_rel']:+.2%}; SGD "
        f"from the same start: {figs['sgd_C_change_same_start']:+.3f}); R "
        f"{figs['R_start']:.4f} -> {figs['R_end']:.4f}; loss {figs['loss_start']:.3g} -> "
        f"{figs['loss_end']:.2g}")]
    idents = [figs["identity"]]
    if "drift_ratio" in figs:
        lo, hi = ETA_SCALING
        r = figs["drift_ratio"]
        out.append(check(
            f"{tag}: the drift of C is the discretisation's, ~eta: drift(eta) / "
            f"drift(eta / 2) in [{lo:g}, {hi:g}] (gradient flow conserves C)",
            r is not None and lo <= r <= hi,
            f"{figs['C_change']:+.5f} / {figs['C_change_half_lr']:+.5f} = "
            f"{'n/a' if r is None else format(r, '.3f')}"))
        idents.append(figs["identity_half_lr"])
    out.append(_identity_check(tag, target, idents))
    return out


def noise_checks(target, figs):
    u, w = figs["u-heavy"], figs["w-heavy"]
    tag = f"{target}, GD + isotropic noise rho = {u['rho']:g}"
    drift_ok = all(_within(f["drift_measured"], f["drift_expected"], f["drift_se"])
                   for f in (u, w))
    var_tol = SE_FACTOR * np.sqrt(2.0 / u["steps"])
    var_ok = all(abs(f["step_variance_measured"] / f["step_variance_expected"] - 1) <= var_tol
                 for f in (u, w))
    out = [check(
        f"{tag}: C drifts at rho^2 (N_u - N_W) per step and its steps have variance "
        f"4 rho^2 (|u|^2 + |W|^2), as predicted",
        drift_ok and var_ok,
        f"drift {u['drift_measured']:.3e}, {w['drift_measured']:.3e} (predicted "
        f"{u['drift_expected']:.3e}, {w['drift_expected']:.3e} +- {u['drift_se']:.1e}; "
        f"isotropic part {u['drift_isotropic']:.3e}); step variance / predicted "
        f"{u['step_variance_measured'] / u['step_variance_expected']:.3f}, "
        f"{w['step_variance_measured'] / w['step_variance_expected']:.3f} (tolerance "
        f"{var_tol:.3f})")]
    out.append(check(
        f"{tag}: no restoring force: the two starts keep their charge gap (within "
        f"{SE_FACTOR:g} SE of the predicted change) and the u-heavy R stays below {R_FAR:g}",
        _within(figs["gap_change"], figs["gap_change_expected"], figs["gap_change_se"])
        and u["R_end"] < R_FAR,
        f"gap {figs['gap_start']:.3f} -> {figs['gap_end']:.3f} (change "
        f"{figs['gap_change']:+.3f}, predicted {figs['gap_change_expected']:+.3f} +- "
        f"{figs['gap_change_se']:.3f}); R {u['R_end']:.3f} (u-heavy), {w['R_end']:.3f} "
        f"(w-heavy)"))
    vr, se, lag = figs["variance_ratio"], figs["variance_ratio_se"], figs["variance_ratio_lag"]
    out.append(check(
        f"{tag}: the variance of the per-neuron charges grows linearly in time "
        f"(variance ratio D(L) / (L D(1)) at L = {lag} within {SE_FACTOR:g} SE of 1)",
        _within(vr, 1.0, se),
        f"{vr:.3f} +- {se:.3f} over {2 * N_HIDDEN} neuron charges; a charge relaxing "
        f"with SGD's time constant would give about {figs['mean_reverting_reference']:.2f}"))
    return out


def pulsed_checks(figs):
    rows = sorted(figs["runs"].values(), key=lambda r: -r["dw_min"])
    coarse = rows[0]
    ci = coarse["identity"]
    out = [check(
        f"device, pulsed SGD: at dw_min = {coarse['dw_min']:g} the pulse variance is a "
        f"first-order term of the charge's drift: the formula with it holds (within "
        f"{SE_FACTOR:g} SE), the ideal formula alone misses by more than {SE_FACTOR:g} SE",
        ci["z"] is not None and abs(ci["z"]) <= SE_FACTOR
        and abs(ci["pulse_sum"]) > SE_FACTOR * ci["se"],
        f"measured - predicted {ci['z']:+.2f} SE; pulse term {ci['pulse_sum']:+.3f} = "
        f"{ci['pulse_sum'] / ci['se']:+.1f} SE")]
    bal_ok = all(_within(r["R_pulsed_end"], 1.0, r["R_se"]) for r in rows)
    out.append(check(
        f"device, pulsed SGD: R_pulsed = (eta^2 E|g_u|^2 + E V_u) / (eta^2 E|g_W|^2 + "
        f"E V_W) is 1 (within {SE_FACTOR:g} SE) at every dw_min; at dw_min = "
        f"{coarse['dw_min']:g} the plain R is further from 1",
        bal_ok and abs(coarse["R_end"] - 1) > abs(coarse["R_pulsed_end"] - 1),
        "; ".join(f"dw_min {r['dw_min']:g}: R_pulsed {r['R_pulsed_end']:.3f}, R "
                  f"{r['R_end']:.3f} +- {r['R_se']:.3f}" for r in rows)))
    offsets = [abs(r["C_offset_from_ideal"]) for r in rows]
    monotone = all(a > b for a, b in zip(offsets, offsets[1:]))
    out.append(check(
        f"device, pulsed SGD: the discrete steps move the stationary charge away from the "
        f"ideal (small-step) one, by an amount that shrinks with dw_min (coarsest beyond "
        f"{SE_FACTOR:g} SE; finest at most {PULSE_SHRINK:g} of it)",
        monotone and offsets[0] > SE_FACTOR * coarse["C_offset_se"]
        and offsets[-1] <= PULSE_SHRINK * offsets[0],
        "; ".join(f"dw_min {r['dw_min']:g}: {r['C_offset_from_ideal']:+.3f} +- "
                  f"{r['C_offset_se']:.3f}" for r in rows)
        + f" (ideal C {figs['ideal']['C_mean_second_half']:.3f})"))
    return out


# --------------------------------------------------------------------------- run
def _total_steps(cfg, chosen):
    total = 0
    for t in chosen:
        lrs = len(cfg["sgd_lrs"]) if t == "ideal" else 1
        total += 2 * cfg["sgd_steps"] * lrs + cfg["gd_steps"] + 2 * cfg["noise_steps"]
        if t == "ideal":
            total += 2 * cfg["gd_steps"]
    if "device" in chosen:
        extra = [d for d in cfg["dw_mins"] if d != DEVICE_DW_MIN]
        total += cfg["sgd_steps"] * (len(extra) + ("ideal" not in chosen))
    return total


def run_target(target, a, cfg, seed, bar):
    """sgd, gd and noise on one target: (figures, checks, main SGD logs)."""
    c_star = balanced_charge(a)
    lr = cfg["sgd_lrs"][0]
    figs, checks, main = {}, [], None
    for eta in (cfg["sgd_lrs"] if target == "ideal" else (lr,)):
        logs = run_sgd(target, a, eta, cfg, seed, bar)
        figs[f"sgd_lr_{eta:g}"] = f = sgd_figures(logs, c_star)
        checks.extend(sgd_checks(target, f, cfg["c_star_tol"]))
        if eta == lr:
            main = logs
        bar.note(f"{target} SGD eta {eta:g}: R {f['u-heavy']['R_end']:.3f}, "
                 f"{f['w-heavy']['R_end']:.3f}")
    sgd_change = float(main["u-heavy"]["C"][cfg["gd_steps"]] - main["u-heavy"]["C"][0])
    gd = run_gd(target, a, lr, cfg["gd_steps"], cfg, seed, bar)
    gd_half = (run_gd(target, a, lr / 2, 2 * cfg["gd_steps"], cfg, seed, bar)
               if target == "ideal" else None)
    figs["gd"] = gd_figures(gd, gd_half, sgd_change)
    checks.extend(gd_checks(target, figs["gd"]))
    lag = cfg["noise_steps"] // 4
    lags = sorted({int(v) for v in np.geomspace(1, lag, 12)})
    noise = run_noise(target, a, lr, cfg, seed, bar)
    figs["noise"] = noise_figures(noise, lag, lags)
    # for contrast: what a charge relaxing like SGD's (Ornstein-Uhlenbeck, time constant
    # tau of theory.md E2) would give, D(L) / (L D(1)) = tau (1 - exp(-L / tau)) / L
    tau = relaxation_steps(lr)
    figs["noise"]["sgd_relaxation_steps"] = tau
    figs["noise"]["mean_reverting_reference"] = tau * (1.0 - np.exp(-lag / tau)) / lag
    checks.extend(noise_checks(target, figs["noise"]))
    bar.note(f"{target} noise: variance ratio {figs['noise']['variance_ratio']:.3f}")
    return figs, checks, main


def run(quick=False, target="both", seed=0, progress=True):
    chosen = targets(target)
    cfg = SETTINGS["quick" if quick else "full"]
    a = teacher(seed)
    lr = cfg["sgd_lrs"][0]
    start = time.perf_counter()
    figures = {"C_star": balanced_charge(a)}
    checks, mains = [], {}
    with progress_bar(_total_steps(cfg, chosen), NAME, enabled=progress) as bar:
        for t in chosen:
            figures[t], found, mains[t] = run_target(t, a, cfg, seed, bar)
            checks.extend(found)
        if "device" in chosen:
            ideal = (mains["ideal"]["u-heavy"] if "ideal" in mains else
                     run_sgd("ideal", a, lr, cfg, seed, bar, kinds=("u-heavy",))["u-heavy"])
            logs = {}
            for dw_min in cfg["dw_mins"]:
                logs[dw_min] = (mains["device"]["u-heavy"] if dw_min == DEVICE_DW_MIN else
                                run_sgd("device", a, lr, cfg, seed, bar, dw_min=dw_min,
                                        kinds=("u-heavy",))["u-heavy"])
            figures["pulsed"] = pulsed_figures(logs, ideal)
            checks.extend(pulsed_checks(figures["pulsed"]))
    figures["seconds"] = time.perf_counter() - start
    settings = {"quick": quick, "target": target, "seed": seed,
                "network": f"f = u^T W x, {N_IN} -> {N_HIDDEN} -> 1, linear",
                "teacher": "y = a^T x + sigma xi, |a| = 1, x ~ N(0, I)", "sigma": SIGMA,
                "starts": {k: {"u_entries": float(v[0]), "W_std": float(v[1])}
                           for k, v in STARTS.items()},
                "gd_samples": GD_SAMPLES, "se_factor": SE_FACTOR,
                **{k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()}}
    if "device" in chosen:
        settings["device"] = {"sgd": device_model(DEVICE_DW_MIN).to_dict(),
                              "gd_and_noise": device_model(FINE_DW_MIN,
                                                           cfg["rho"]).to_dict(),
                              "io": "IOConfig(is_perfect=True)",
                              "update": "UpdateConfig(desired_bl=4096)"}
    return ExperimentResult(NAME, figures, checks, settings)


# --------------------------------------------------------------------------- plot
_STYLE = {"ideal": "-", "device": "--"}


def plot(result, path):
    """R and C over training for every part; the variance growth of the charges under
    noise vs. SGD; the pulsed devices' stationary charge, balance and charge identity."""
    plt = pyplot()
    figs = result.figures
    chosen = [t for t in ("ideal", "device") if t in figs]
    fig, axes = plt.subplots(2, 3, figsize=(17, 9.5))
    ax_r, ax_c, ax_v = axes[0]
    colors = {"sgd u-heavy": "C0", "sgd w-heavy": "C1", "gd": "C2", "noise u-heavy": "C3",
              "noise w-heavy": "C4"}
    for t in chosen:
        f = figs[t]
        lr = result.settings["sgd_lrs"][0]
        runs = [(f"sgd {k}", f[f"sgd_lr_{lr:g}"][k]) for k in STARTS]
        runs.append(("gd", f["gd"]))
        runs += [(f"noise {k}", f["noise"][k]) for k in STARTS]
        for label, run in runs:
            c = dict(run["curve"], C_start=run["C_start"])
            ax_r.plot(c["step"], c["R"], _STYLE[t], color=colors[label], lw=1,
                      label=f"{label} ({t})")
            # the start at step 1 (a log axis has no step 0)
            ax_c.plot([1] + c["step"], [c["C_start"]] + c["C"], _STYLE[t],
                      color=colors[label], lw=1, label=f"{label} ({t})")
        noise = f["noise"]
        ax_v.errorbar(noise["lags"], noise["variance_ratio_profile"],
                      yerr=noise["variance_ratio_profile_se"], fmt=_STYLE[t] + "o", ms=3,
                      color="C3" if t == "ideal" else "C4", capsize=2,
                      label=f"GD + isotropic noise, 40 neuron charges ({t})")
    ax_r.set_xscale("log")
    ax_r.set_yscale("log")
    ax_r.axhline(1.0, color="k", lw=0.8, ls=":")
    ax_r.set_xlabel("step")
    ax_r.set_ylabel("R = E|g_u|^2 / E|g_W|^2 (per block)")
    ax_r.set_title("Gradient ratio: SGD balances, GD and noise do not")
    ax_r.legend(fontsize=6, ncol=2)
    ax_c.axhline(figs["C_star"], color="k", lw=0.8, ls=":",
                 label=f"C* = {figs['C_star']:.2f} (E3)")
    ax_c.set_xscale("log")
    ax_c.set_xlabel("step")
    ax_c.set_ylabel("charge C = |u|^2 - |W|_F^2")
    ax_c.set_title("Charge: SGD converges to C*, GD conserves it, noise random-walks")
    ax_c.legend(fontsize=6, ncol=2)
    if chosen:
        noise = figs[chosen[0]]["noise"]
        lags = np.geomspace(1, max(noise["lags"]), 50)
        tau = noise["sgd_relaxation_steps"]
        ax_v.plot(lags, tau * (1 - np.exp(-lags / tau)) / lags, "k--", lw=1,
                  label=f"mean-reverting, SGD's tau = {tau:.0f} steps")
    ax_v.axhline(1.0, color="k", lw=0.8, ls=":", label="random walk")
    ax_v.set_xscale("log")
    ax_v.set_ylim(0, 1.6)
    ax_v.set_xlabel("lag L (steps)")
    ax_v.set_ylabel("variance ratio D(L) / (L D(1))  (+- SE)")
    ax_v.set_title("Variance of C_i grows linearly under noise")
    ax_v.legend(fontsize=7)
    _plot_pulsed(axes[1], figs.get("pulsed"))
    fig.tight_layout()
    out = save_figure(fig, path)
    plt.close(fig)
    return out


def _plot_pulsed(axes, pulsed):
    ax_c, ax_r, ax_i = axes
    if pulsed is None:
        for ax in axes:
            ax.text(0.5, 0.5, "pulsed sweep: device target only", ha="center",
                    transform=ax.transAxes)
            ax.set_axis_off()
        return
    rows = sorted(pulsed["runs"].values(), key=lambda r: r["dw_min"])
    dw = [r["dw_min"] for r in rows]
    ideal = pulsed["ideal"]
    ax_c.errorbar(dw, [r["C_mean_second_half"] for r in rows],
                  yerr=[r["C_mean_se"] for r in rows], fmt="o-", color="C1", capsize=3,
                  label="pulsed devices")
    ax_c.axhspan(ideal["C_mean_second_half"] - ideal["C_mean_se"],
                 ideal["C_mean_second_half"] + ideal["C_mean_se"], color="C0", alpha=0.3,
                 label="ideal SGD (small-step limit)")
    ax_c.set_xscale("log")
    ax_c.set_xlabel("device step dw_min")
    ax_c.set_ylabel("stationary charge C (second half, +- SE)")
    ax_c.set_title("Discrete steps shift the balance point")
    ax_c.legend(fontsize=7)
    ax_r.errorbar(dw, [r["R_end"] for r in rows], yerr=[r["R_se"] for r in rows], fmt="o-",
                  color="C1", capsize=3, label="R (ideal formula)")
    ax_r.errorbar(dw, [r["R_pulsed_end"] for r in rows], yerr=[r["R_se"] for r in rows],
                  fmt="s--", color="C2", capsize=3, label="R_pulsed (with pulse variance)")
    ax_r.axhline(1.0, color="k", lw=0.8, ls=":")
    ax_r.set_xscale("log")
    ax_r.set_xlabel("device step dw_min")
    ax_r.set_ylabel("gradient ratio (second half, +- SE)")
    ax_r.set_title("Balance holds once the pulse variance is counted")
    ax_r.legend(fontsize=7)
    cum = pulsed["coarsest_cumulative"]
    ax_i.plot(cum["step"], cum["measured"], color="k", lw=1.2, label="measured")
    ax_i.plot(cum["step"], cum["expected_with_pulses"], "--", color="C2",
              label="eta^2 (|g_u|^2 - |g_W|^2) + V_u - V_W")
    ax_i.plot(cum["step"], cum["expected_ideal_formula"], ":", color="C1",
              label="eta^2 (|g_u|^2 - |g_W|^2) only")
    ax_i.set_xlabel("step")
    ax_i.set_ylabel("cumulative change of C")
    ax_i.set_title(f"Charge identity on devices, dw_min = {cum['dw_min']:g}")
    ax_i.legend(fontsize=7)
