"""Fit a device family's parameters to a measured pulse-response trajectory.

The data are the mean weight of a population of cells under a known programme of up and
down pulses (e.g. :attr:`devices.response.PulseResponse.mean`). The fit adjusts the
parameters of the *mean device* of a family (every device-to-device and cycle-to-cycle
spread 0) so that its noise-free trajectory matches the data in the least-squares sense.
The simulation runs the family's own law through the same kernel as everything else, so a
fitted model reproduces the data in :meth:`DeviceArray.pulse_train` by construction.
"""

import contextlib
import dataclasses
import math
import numbers
from dataclasses import dataclass

import numba
import numpy as np
from scipy.optimize import least_squares

from . import _validate as V
from .errors import DeviceError
from .models import (FAMILIES, ConstantStep, ExpStep, LinearStep, PiecewiseStep, PowStep,
                     PulsedDevice, SoftBounds, SoftBoundsReference)

_OWNER = "fit"
_BASE = ("dw_min", "up_down", "w_min", "w_max")
# Family-specific parameters fitted besides the base ones (looked up along the MRO, so
# SoftBounds, a LinearStep subclass, keeps its slopes at 1).
_EXTRA = {
    ConstantStep: (),
    LinearStep: ("gamma_up", "gamma_down"),
    SoftBounds: (),
    ExpStep: ("A_up", "A_down", "gamma_up", "gamma_down"),
    PowStep: ("pow_gamma", "pow_up_down"),
    PiecewiseStep: ("piecewise_up", "piecewise_down"),
    SoftBoundsReference: (),
}
# Parameters held (unless fixed) because the trajectory cannot tell them from others that
# are fitted. PiecewiseStep: the node values already scale each direction's step, so
# dw_min is held at the data's step size and up_down at 0. ExpStep: the law depends on a
# and b only through A_up exp(gamma_up b), gamma_up a and the same for down, so for any
# a != 0 and b the fitted A and gamma reach every trajectory that fitting a and b would;
# a = 1, b = 0 makes A the step deficit at w = 0 and gamma the curvature.
_HELD = {PiecewiseStep: ("dw_min", "up_down"), ExpStep: ("a", "b")}
_NODES = ("piecewise_up", "piecewise_down")
_DEFAULT_NODES = 5
# Optimiser evaluations (besides the Jacobian's) per fitted value: to screen a start, and
# to converge.
_SCREEN = 10
_BUDGET = 50
# Parameters that only shape the population or the noise; the mean device has them at 0.
_SPREAD_EXTRA = frozenset({"corrupt_devices_prob", "dw_min_std_add", "dw_min_std_slope"})


@dataclass(frozen=True, eq=False)
class FitResult:
    """Result of :func:`fit`.

    Attributes
    ----------
    model : PulsedDevice
        The fitted mean device: the family with the fitted and fixed values and every
        device-to-device and cycle-to-cycle spread (``*_dtod``, ``*_std``,
        ``corrupt_devices_prob``) set to 0, since a mean trajectory does not determine
        them. Add spreads back with ``model.replace(...)``.
    params : dict
        Fitted values by parameter name (node lists of PiecewiseStep as tuples).
    rmse : float
        Root-mean-square residual over the ``T + 1`` points.
    r2 : float
        ``1 - SSE / SST`` (nan for constant data).
    nrmse : float
        ``rmse / (max(weights) - min(weights))`` (nan for constant data).
    success : bool
        The optimiser's convergence flag.
    message : str
        The optimiser's termination message.
    nfev : int
        Number of trajectory simulations.
    prediction : ndarray, shape (T + 1,)
        Trajectory of the fitted model.
    """

    model: PulsedDevice
    params: dict
    rmse: float
    r2: float
    nrmse: float
    success: bool
    message: str
    nfev: int
    prediction: np.ndarray


def fit(family, pulses, weights, *, fixed=None, initial=None):
    """Fit a family's mean-device parameters to a measured trajectory.

    Parameters
    ----------
    family : type or str
        A device family class (e.g. ``devices.SoftBounds``) or its name, either the class
        name or the aihwkit name, case and underscores ignored (``"soft_bounds"``,
        ``"SoftBoundsDevice"``).
    pulses : array of int, shape (T,)
        The programme, +1 (up) or -1 (down) per pulse.
    weights : array of float, shape (T + 1,)
        Measured (mean) weight before the first and after every pulse.
    fixed : dict, optional
        Values of parameters held during the fit; any parameter of the family except the
        spreads (which the mean device has at 0). Fixing a fitted parameter removes it
        from the fit.
    initial : dict, optional
        Start values of fitted parameters, overriding the ones derived from the data.

    Returns
    -------
    FitResult

    Notes
    -----
    Fitted parameters: ``dw_min, up_down, w_min, w_max`` for every family, plus
    ``gamma_up, gamma_down`` (LinearStep), ``A_up, A_down, gamma_up, gamma_down``
    (ExpStep), ``pow_gamma, pow_up_down`` (PowStep).

    ExpStep holds ``a = 1`` and ``b = 0`` unless fixed: the law depends on them only
    through ``A_up exp(gamma_up b)``, ``gamma_up a`` and the same for down, so fitting
    them adds no trajectory the other four cannot give and leaves the answer non-unique.
    With ``a = 1, b = 0``, ``A`` is the relative step deficit at ``w = 0`` and ``gamma``
    the curvature; a preset written with other ``a, b`` fits to different but equivalent
    ``A, gamma``. PiecewiseStep fits ``w_min, w_max`` and the node values (as many nodes
    as an ``initial`` or ``fixed`` node list has, else 5) and holds ``dw_min`` at the
    data's step size and ``up_down`` at 0, because the nodes already set each direction's
    step scale (compare ``dw_min * node`` with another model's, not the nodes alone).

    Start values: the bounds at the data's extremes; the up and down step scales from the
    measured steps taken nearest ``w = 0`` (the reference point of ``dw_min``), divided by
    the law's relative step there; other parameters at the family defaults, except that
    LinearStep and ExpStep try two shape starts each (hard bounds give the least-squares
    problem local minima): each is screened for ``10 (n + 1)`` evaluations and the better
    one run on. ``initial`` overrides all this.

    Bounds keep every candidate valid: ``dw_min > 0``, ``w_min < 0 < w_max``,
    ``|up_down| <= 1`` and ``|pow_up_down| <= 1`` (beyond, a step changes sign),
    ``pow_gamma, node values >= 0``, LinearStep slopes ``gamma >= 0`` (their sign is
    discarded unless ``fixed`` sets ``allow_increasing=True``); ExpStep's ``A`` and
    ``gamma`` are free.

    The optimiser (scipy's bounded ``least_squares``, trust-region reflective) stops after
    ``50 (n + 1)`` trajectory evaluations besides those of its Jacobian, for n fitted
    values; ``success`` is False if that cut it short.

    Some parameters only separate when the data reach a hard bound: LinearStep's
    ``w_max`` and ``gamma_up`` (the slope is ``gamma_up / w_max``), ExpStep's bounds and
    ``gamma`` (through ``gamma a / (w_max - w_min)``). Otherwise the fit returns one of
    many equally good answers; check ``prediction``, not just ``params``.

    The mean of a population with device-to-device spreads is not in general the
    trajectory of the mean device (the laws are nonlinear); the fit is of the latter.
    """
    family = _resolve_family(family)
    pulses, weights = _check_data(pulses, weights)
    fixed, initial = _check_fixed_initial(family, fixed, initial)
    fitted = [n for n in _fit_names(family) if n not in fixed]
    eps = _eps(weights)
    _check_initial(family, fitted, fixed, initial, eps)
    n_nodes = _node_count(fixed, initial)

    with _one_thread():
        start = {**_data_start(family, fixed, pulses, weights, n_nodes), **initial}
        held = {n: start[n] for n in _lookup(_HELD, family, ()) if n not in fixed}
        base = {**_zero_spreads(family), **fixed, **held}
        layout = _Layout(family, fitted, n_nodes, fixed, eps)
        starts = [{**start, **alt} for alt in _alternatives(family, start, fitted, initial)]
        sol, nfev = _optimise(family, base, layout, starts, pulses, weights)
        params = layout.to_model(sol.x)
        model = family(**base, **params)
        prediction = _trajectory(model, pulses, weights[0])
    prediction.flags.writeable = False
    return FitResult(model=model, params=params, **_scores(prediction, weights),
                     success=bool(sol.success), message=str(sol.message), nfev=nfev,
                     prediction=prediction)


def _optimise(family, base, layout, starts, pulses, weights):
    """Least squares from each start; returns the best solution and the evaluations used.

    With several starts, each is screened briefly and the best carried to convergence: a
    start that leads into a poor minimum usually shows it within a few iterations.
    """
    # an overflowing exponential (ExpStep far from the data) gives inf or nan steps; a
    # large finite residual there makes the optimiser step back instead of failing
    worst = 10.0 * max(float(np.ptp(weights)), float(np.max(np.abs(weights))), 1e-12)

    def residual(x):
        sim = _trajectory(family(**base, **layout.to_model(x)), pulses, weights[0])
        return np.nan_to_num(sim - weights, nan=worst, posinf=worst, neginf=-worst)

    def solve(x0, budget):
        return least_squares(residual, x0, bounds=layout.bounds, method="trf",
                             x_scale="jac", ftol=1e-12, xtol=1e-12, gtol=1e-12,
                             max_nfev=budget * (layout.size + 1))

    first = _SCREEN if len(starts) > 1 else _BUDGET
    sols = [solve(layout.to_vector(s), first) for s in starts]
    best = min(sols, key=lambda r: r.cost)
    if first != _BUDGET and best.status == 0:  # 0: the screening budget ran out
        best = solve(best.x, _BUDGET)
        sols.append(best)
    return best, sum(int(r.nfev) for r in sols)


# ------------------------------------------------------------------------- the simulation
@contextlib.contextmanager
def _one_thread():
    """Run numba's parallel kernels on this thread only, for the duration of the fit.

    ``set_weights`` of the 1x1 simulation array calls a ``parallel=True`` kernel; waking
    the thread pool for one cell costs milliseconds when the cores are busy (microseconds
    on one thread), hundreds of times per fit. ``numba.set_num_threads`` is per calling
    thread, so other threads are unaffected.
    """
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _trajectory(model, pulses, w0):
    """Noise-free trajectory of one cell of ``model`` (a mean device) from ``w0``."""
    arr = model.realize((1, 1), seed=0)
    arr.set_weights(np.full((1, 1), w0), write_noise=False)
    return arr.pulse_train(pulses, noise=False)[:, 0, 0]


def _scores(prediction, weights):
    res = prediction - weights
    sse = float(res @ res)
    rmse = math.sqrt(sse / res.size)
    sst = float(np.sum((weights - weights.mean()) ** 2))
    span = float(weights.max() - weights.min())
    return {"rmse": rmse, "r2": 1.0 - sse / sst if sst > 0 else math.nan,
            "nrmse": rmse / span if span > 0 else math.nan}


# ------------------------------------------------------------------------- parameters
def _lookup(table, family, default):
    """The entry of ``family`` or of its nearest base class in ``table``."""
    return next((table[c] for c in family.__mro__ if c in table), default)


def _kind(family):
    """The standard family whose parameters ``family`` fits (SoftBounds, not LinearStep)."""
    return next((c for c in family.__mro__ if c in _EXTRA), PulsedDevice)


def _fit_names(family):
    held = _lookup(_HELD, family, ())
    return tuple(n for n in _BASE if n not in held) + _lookup(_EXTRA, family, ())


def _is_spread(name):
    return name.endswith(("_dtod", "_std")) or name in _SPREAD_EXTRA


def _zero_spreads(family):
    return {f.name: 0.0 for f in dataclasses.fields(family) if _is_spread(f.name)}


def _node_count(fixed, initial):
    """Node count of PiecewiseStep: that of a given node list, else the default."""
    given = {len(d[n]) for d in (fixed, initial) for n in _NODES if n in d}
    if len(given) > 1:
        raise DeviceError(f"{_OWNER}: piecewise_up and piecewise_down must have the same "
                          f"number of nodes, got lengths {sorted(given)} in fixed/initial")
    return given.pop() if given else _DEFAULT_NODES


def _eps(weights):
    """A tiny weight: keeps strict inequalities (dw_min > 0, w_min < w_max) strict."""
    return 1e-9 * max(float(np.max(np.abs(weights))), 1e-12)


def _data_start(family, fixed, pulses, weights, n_nodes):
    """Start values: bounds and step sizes read off the data, shape parameters by guess."""
    eps = _eps(weights)
    start = {f.name: f.default for f in dataclasses.fields(family)}
    # bounds at the data's extremes: a bound the start trajectory never touches has no
    # gradient, so a plateau in the data would never pull it in
    start.update(w_min=min(float(weights.min()), -eps), w_max=max(float(weights.max()), eps))
    if issubclass(family, PiecewiseStep):
        start.update(piecewise_up=(1.0,) * n_nodes, piecewise_down=(1.0,) * n_nodes)
    if issubclass(family, ExpStep):
        start.update(a=1.0, b=0.0)
    start.update(fixed)
    family(**{**start, **_zero_spreads(family)})  # bad fixed values fail here, in their words
    start.update({k: v for k, v in _shape_starts(family, start)[0].items() if k not in fixed})
    up, down = (_step_scale(family, start, pulses, weights, d) for d in (1, -1))
    # a programme in one direction says nothing about the other step; assume symmetry
    up, down = (up or down or family.dw_min), (down or up or family.dw_min)
    scale, r = _join(up, down)
    if issubclass(family, PiecewiseStep):
        r = 0.0  # held: the down nodes carry the asymmetry
    start.update({k: v for k, v in (("dw_min", scale), ("up_down", r)) if k not in fixed})
    return start


# Start values of shape parameters tried in turn (the best fit is kept): under hard
# clipping the least-squares problem has local minima (a slope or a steep exponential that
# saturates the weight short of a bound the data reach), and no single start of LinearStep
# or ExpStep found the best fit in tests over random and preset devices; these pairs did.
_LINEAR_STARTS = ({"gamma_up": 0.5, "gamma_down": 0.5}, {"gamma_up": 0.05, "gamma_down": 0.05})
# ExpStep's steps are 1 - c exp(+-kappa z') with z' = 2 w / (w_max - w_min): (c, kappa) of
# the family defaults, and steps a little above dw that flatten toward the pulse direction.
_EXP_STARTS = ((0.0166, 3.0), (-1e-3, 1.0))


def _shape_starts(family, start):
    """Overrides of the shape parameters for each run of the optimiser."""
    kind = _kind(family)
    if kind is LinearStep:
        return list(_LINEAR_STARTS)
    if kind is ExpStep and start["a"] != 0.0:
        # (c, kappa) -> (A, gamma) for the held a and b: c = A exp(gamma b), kappa = gamma a
        out = []
        for c, kappa in _EXP_STARTS:
            g = kappa / start["a"]
            out.append({"A_up": c * math.exp(-g * start["b"]), "gamma_up": g,
                        "A_down": c * math.exp(g * start["b"]), "gamma_down": g})
        return out
    return [{}]


def _alternatives(family, start, fitted, initial):
    """Overrides of the start for each run: the family's shape starts, minus user input."""
    alts = []
    for alt in _shape_starts(family, start):
        alt = {k: v for k, v in alt.items() if k in fitted and k not in initial}
        if alt not in alts:
            alts.append(alt)
    return alts


def _step_scale(family, start, pulses, weights, direction, k=5):
    """Step scale ``dw`` of one direction from the measured steps nearest ``w = 0``.

    Each measured step is divided by the law's relative step at its weight under the
    start shape parameters, so PowStep's ``0.5^gamma`` at mid-range does not bias it.
    Steps cut to zero by a bound carry no scale and are left out. Returns 0 if no step
    in this direction moved.
    """
    idx = np.flatnonzero(pulses == direction)
    steps = np.abs(weights[idx + 1] - weights[idx])
    idx, steps = idx[steps > 0], steps[steps > 0]
    if idx.size == 0:
        return 0.0
    near = np.argsort(np.abs(weights[idx]), kind="stable")[:k]
    w, steps = weights[idx[near]], steps[near]
    tiny = 1e-6 * (start["w_max"] - start["w_min"])
    probe = family(**{**start, **_zero_spreads(family), "dw_min": tiny, "up_down": 0.0})
    arr = probe.realize((1, w.size), seed=0)
    arr.set_weights(w[None, :], write_noise=False)
    rel = np.abs(arr.expected_step(direction > 0)[0]) / tiny
    ok = rel > 0
    return float(np.median(steps[ok] / rel[ok])) if np.any(ok) else float(np.median(steps))


def _bound(family, name, fixed, eps):
    """Allowed interval of one fitted parameter (see :func:`fit`, Notes)."""
    inf = math.inf
    if issubclass(family, ExpStep) and name in ("A_up", "A_down", "gamma_up", "gamma_down"):
        # negative A (steps that grow) and either sign of the rate are in use
        return -inf, inf
    if name == "dw_min":
        return eps, inf
    if name == "w_min":
        return -inf, -eps
    if name == "w_max":
        return eps, inf
    if name in ("up_down", "pow_up_down"):
        return -1.0, 1.0
    if name in ("gamma_up", "gamma_down") and fixed.get("allow_increasing", False):
        return -inf, inf
    # pow_gamma, LinearStep's gamma_up, gamma_down, node values
    return 0.0, inf


# A scale and an asymmetry enter the law as ``scale (1 + min(r, 0))`` up and
# ``scale (1 - max(r, 0))`` down: smooth in the two products, kinked at r = 0 in (scale, r).
# The optimiser works on the products, so it crosses r = 0 without stalling.
_PAIRS = {("dw_min", "up_down"): ("dw_up", "dw_down"),
          ("pow_gamma", "pow_up_down"): ("pow_gamma_up", "pow_gamma_down")}
_PAIR_NAMES = frozenset(n for q in _PAIRS.values() for n in q)


def _product_bound(name, eps):
    """Products are >= 0; dw_min must stay > 0, so its products stay >= eps."""
    return (eps if name.startswith("dw_") else 0.0), math.inf


def _split(scale, r):
    return scale * (1.0 + min(r, 0.0)), scale * (1.0 - max(r, 0.0))


def _join(up, down):
    scale = max(up, down)
    return scale, ((up - down) / scale if scale > 0 else 0.0)


class _Layout:
    """Maps fitted model parameters to the optimiser's vector and back.

    Node lists are expanded to one coordinate per node; a scale and its asymmetry, when
    both are fitted, become the up and down products (see ``_PAIRS``).
    """

    def __init__(self, family, fitted, n_nodes, fixed, eps):
        self.pairs = {p: q for p, q in _PAIRS.items() if p[0] in fitted and p[1] in fitted}
        paired = {n for p in self.pairs for n in p}
        self.names = [n for n in fitted if n not in paired] + [n for q in self.pairs.values()
                                                               for n in q]
        self.sizes = [n_nodes if n in _NODES else 1 for n in self.names]
        self.size = sum(self.sizes)
        lo, hi = [], []
        for name, size in zip(self.names, self.sizes):
            a, b = _product_bound(name, eps) if name in _PAIR_NAMES \
                else _bound(family, name, fixed, eps)
            lo += [a] * size
            hi += [b] * size
        self.bounds = (np.array(lo), np.array(hi))

    def to_vector(self, values):
        """The optimiser's vector from model values (clipped into the bounds)."""
        values = dict(values)
        for (scale, r), (up, down) in self.pairs.items():
            values[up], values[down] = _split(values[scale], values[r])
        x = np.concatenate([np.asarray(values[n], dtype=float).reshape(s)
                            for n, s in zip(self.names, self.sizes)])
        return np.clip(x, *self.bounds)

    def to_model(self, x):
        """Model values (node lists as tuples) from the optimiser's vector."""
        out, k = {}, 0
        for name, size in zip(self.names, self.sizes):
            seg = x[k:k + size]
            out[name] = tuple(float(v) for v in seg) if name in _NODES else float(seg[0])
            k += size
        for (scale, r), (up, down) in self.pairs.items():
            out[scale], out[r] = _join(out.pop(up), out.pop(down))
        return out


# ------------------------------------------------------------------------- input checks
def _normalise(name):
    return name.lower().replace("_", "").replace("-", "")


def _resolve_family(family):
    if isinstance(family, str):
        table = {}
        for cls in FAMILIES:
            table[_normalise(cls.__name__)] = cls
            table[_normalise(cls.aihwkit_name)] = cls
        cls = table.get(_normalise(family))
        if cls is None:
            names = sorted(c.__name__ for c in FAMILIES)
            raise DeviceError(f"{_OWNER}.family must name a device family, one of {names} "
                              f"(or its aihwkit name), got {family!r}")
        return cls
    if isinstance(family, type) and issubclass(family, PulsedDevice) \
            and family is not PulsedDevice:
        return family
    raise TypeError(f"{_OWNER}.family must be a device family class such as SoftBounds or "
                    f"its name, got {family!r} ({type(family).__name__})")


def _check_data(pulses, weights):
    p = V.array(_OWNER, "pulses", pulses, ndim=1)
    if p.size == 0:
        raise DeviceError(f"{_OWNER}.pulses must hold at least one pulse, got an empty array")
    bad = np.flatnonzero(np.abs(p) != 1.0)
    if bad.size:
        k = int(bad[0])
        raise DeviceError(f"{_OWNER}.pulses must be +1 (up) or -1 (down); found {p[k]:g} at "
                          f"index {k}")
    w = V.array(_OWNER, "weights", weights, ndim=1)
    if w.size != p.size + 1:
        raise DeviceError(f"{_OWNER}.weights must have len(pulses) + 1 = {p.size + 1} values "
                          f"(the start weight, then one per pulse), got {w.size}")
    return p.astype(np.int64), w


def _check_fixed_initial(family, fixed, initial):
    fixed = _check_dict("fixed", fixed, family)
    initial = _check_dict("initial", initial, family)
    for name in fixed:
        if _is_spread(name):
            raise DeviceError(f"{_OWNER}.fixed[{name!r}]: spreads are not fitted and are 0 in "
                              f"the mean device; remove {name!r}")
    both = sorted(set(fixed) & set(initial))
    if both:
        raise DeviceError(f"{_OWNER}: {both} given in both fixed and initial; a parameter is "
                          "either held (fixed) or fitted from a start value (initial)")
    return fixed, initial


def _check_initial(family, fitted, fixed, initial, eps):
    for name, value in initial.items():
        if name not in fitted:
            raise DeviceError(f"{_OWNER}.initial[{name!r}]: {name} is not fitted for "
                              f"{family.__name__} (fitted: {fitted}); set it in fixed")
        lo, hi = _bound(family, name, fixed, eps)
        values = np.atleast_1d(np.asarray(value, dtype=float))
        if np.any((values < lo) | (values > hi)):
            raise DeviceError(f"{_OWNER}.initial[{name!r}] must lie in [{lo}, {hi}], "
                              f"got {value!r}")


def _check_dict(name, value, family):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"{_OWNER}.{name} must be a dict of parameter values, got "
                        f"{type(value).__name__}")
    known = set(family.parameter_names())
    for key, v in value.items():
        if key not in known:
            raise DeviceError(f"{_OWNER}.{name}: {key!r} is not a parameter of "
                              f"{family.__name__}")
        if key in _NODES:
            V.real_sequence(_OWNER, f"{name}[{key!r}]", v)
        elif name == "initial":
            _check_start_value(key, v)
    return dict(value)


def _check_start_value(key, v):
    where = f"initial[{key!r}]"
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{_OWNER}.{where} must be a real number, got {v!r}")
    V.real(_OWNER, where, v)
