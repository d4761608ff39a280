"""The stability analysis pass: R(z), its regions, the multistep root condition, a verdict.

An n-stage explicit Runge-Kutta step on a linear field ``F(h) = J h`` multiplies each
eigenmode of ``J`` by the stability function (reference/theory.md section 6.3)

    R(z) = 1 + z b^T (I - z A)^{-1} 1 = 1 + sum_{m>=1} z^m b^T A^{m-1} 1,    z = Delta lambda,

a polynomial of degree at most n because ``A`` is strictly lower triangular (nilpotent), so
the series stops. For an n-stage method of order n <= 4 it is the truncated exponential
``sum_{m<=n} z^m / m!``. The exact exponential (unitary) step of URNN/QUNN is the method
:data:`exponential`, ``R(z) = e^z``, with ``|R| = 1`` on the whole imaginary axis.

Gradients through k steps scale as ``prod R(Delta J_k)``, so a mode with ``|R| > 1`` explodes
and one with ``|R| < 1`` vanishes; the pass reports which modes of the Jacobian at
initialisation (or at given weights) lie outside the region.

The t-th order memory ``h_{k+1} = sum_j alpha_j h_{k+1-j} + ...`` has the characteristic
polynomial ``rho(zeta) = zeta^t - sum_j alpha_j zeta^{t-j}``; its roots must lie in the
closed unit disc with the unit-circle roots simple (the root condition, Dahlquist's zero
stability). The pure backward difference ``(zeta - 1)^t``, t >= 2, fails it: a repeated unit
root, growth ~ k^(t-1) of anything the memory integrates (drift, input, rounding).

Public functions: :func:`stability_polynomial`, :func:`R`, :func:`step_matrix`,
:func:`stability_interval`, :func:`imaginary_extent`, :func:`root_condition`,
:func:`analyse_linear` (the pure mathematics), :func:`jacobian` and :func:`analyse` (a spec at
initialisation or at given weights -> :class:`StabilityReport`; what
:func:`compiler.compile` runs).
"""

import dataclasses
import math
import numbers

import numpy as np
from numpy.polynomial import polynomial as P
from scipy.optimize import brentq

from ..errors import CompileError
from ..methods import ButcherTableau, get_tableau

VERDICTS = ("stable", "marginal", "unstable")

# Names that mean the exact exponential step rather than a Butcher tableau.
_EXPONENTIAL_NAMES = ("exponential", "exp", "expm", "unitary")


@dataclasses.dataclass(frozen=True)
class Exponential:
    """The exact exponential step ``h_{k+1} = expm(Delta J) h_k``: ``R(z) = e^z``.

    Used by the unitary (URNN-like) cell and QUNN; ``|R(iy)| = 1`` for every real ``y``, so
    oscillatory modes neither grow nor decay however large the step.
    """

    name: str = "exponential"

    def __repr__(self):
        return "exponential"


#: The exact exponential step (unitary for skew-Hermitian ``J``).
exponential = Exponential()


def _resolve(method, field="method"):
    """A :class:`ButcherTableau` or :data:`exponential`, via
    :func:`compiler.methods.get_tableau` (names, aliases, tableaus, dicts)."""
    if isinstance(method, Exponential):
        return method
    if isinstance(method, str) and method.strip().lower() in _EXPONENTIAL_NAMES:
        return exponential
    if not isinstance(method, (str, dict, ButcherTableau)):
        raise CompileError(f"{field} must be a ButcherTableau, a method name, a tableau dict "
                           f"or 'exponential', got {type(method).__name__} {method!r}")
    try:
        # ButcherTableau itself refuses implicit tableaus (R would be rational, not a
        # polynomial), so everything past this point is explicit.
        return get_tableau(method)
    except CompileError as exc:
        if field == "method":
            raise
        raise CompileError(f"{field}: {exc}") from None


def _name(method):
    return getattr(method, "name", repr(method))


def stability_polynomial(tableau):
    """Coefficients of ``R(z)`` in ascending powers of ``z``.

    Parameters
    ----------
    tableau : ButcherTableau or str
        An explicit tableau or its name (see :func:`compiler.methods.get_tableau`).

    Returns
    -------
    numpy.ndarray, shape (s + 1,)
        ``c[0] = 1`` and ``c[m] = b^T A^{m-1} 1`` for ``m = 1 .. s`` (s stages).

    Notes
    -----
    ``(I - zA)^{-1} = sum_m (zA)^m`` exactly because ``A`` is nilpotent (``A^s = 0``), so
    the series has s terms and no truncation error. For the n-stage order-n methods
    (n <= 4) the coefficients are ``1 / m!``.
    """
    method = _resolve(tableau, "tableau")
    if isinstance(method, Exponential):
        raise CompileError("tableau: the exponential step has no stability polynomial "
                           "(R(z) = exp(z)); use R(exponential, z)")
    a = np.asarray(method.a, dtype=float)
    b = np.asarray(method.b, dtype=float)
    coeffs = [1.0]
    v = np.ones(len(b))             # A^{m-1} 1
    for _ in range(len(b)):
        coeffs.append(float(b @ v))
        v = a @ v
    return np.array(coeffs)


def R(method, z):
    """The stability function ``R(z)`` of ``method``, vectorised over (complex) arrays.

    Parameters
    ----------
    method : ButcherTableau, str or Exponential
        An explicit tableau, a method name, or :data:`exponential` (``"exponential"``).
    z : complex or array_like
        Points ``z = Delta lambda``.

    Returns
    -------
    numpy scalar or ndarray
        ``R(z)``, of ``z``'s shape (complex for complex input).
    """
    method = _resolve(method)
    z = np.asarray(z)
    if isinstance(method, Exponential):
        return np.exp(z)
    return P.polyval(z, stability_polynomial(method))


def step_matrix(method, Z):
    """``R(Z)`` for a square matrix ``Z = Delta J``: the one-step map of a linear field.

    Horner's scheme on the stability polynomial; ``scipy.linalg.expm`` for
    :data:`exponential`.
    """
    method = _resolve(method)
    Z = _square(Z, "Z")
    if isinstance(method, Exponential):
        from scipy.linalg import expm
        return expm(Z)
    coeffs = stability_polynomial(method)
    out = coeffs[-1] * np.eye(Z.shape[0], dtype=Z.dtype)
    for c in coeffs[-2::-1]:
        out = Z @ out + c * np.eye(Z.shape[0], dtype=Z.dtype)
    return out


# --------------------------------------------------------------------------------------
# Regions on the axes


def _gain_polynomial(coeffs, direction):
    """Coefficients in ``s`` of ``|R(d s)|^2 - 1`` for real ``s >= 0``.

    Working with the exact polynomial (not ``abs(R) - 1`` in floating point) makes the
    behaviour near ``s = 0`` decidable: RK2 on the imaginary axis has ``|R(iy)|^2 - 1 =
    y^4/4``, which is below rounding for small ``y`` if computed from ``R`` itself.
    """
    c = np.asarray(coeffs, dtype=complex) * direction ** np.arange(len(coeffs))
    p = P.polymul(c, np.conj(c)).real
    p[0] -= 1.0
    return p


def _first_crossing(p):
    """The smallest ``s > 0`` where the polynomial ``p`` (with ``p(0) = 0``) turns positive.

    Returns ``inf`` if ``p`` vanishes identically (``|R| = 1`` along the whole ray) and
    ``0.0`` if it is positive right after 0.
    """
    scale = max(1.0, float(np.max(np.abs(p))))
    # Coefficients that are zero in exact arithmetic come out as ~1e-17 from 1/6, 1/24, ...;
    # left in, they would decide the sign near s = 0 (e.g. make RK4's imaginary extent 0).
    p = np.where(np.abs(p) <= 1e-12 * scale, 0.0, p)
    nonzero = np.flatnonzero(p)
    if nonzero.size == 0:
        return math.inf
    q = np.trim_zeros(p[nonzero[0]:], "b")       # p(s) / s^k0: nonzero at s = 0
    if q[0] > 0:
        return 0.0
    if q.size == 1:                               # p = q0 s^k0 with q0 < 0: |R| < 1 forever
        return math.inf
    if q[-1] < 0:                                 # |R| -> 0 along the ray: never leaves
        # (impossible for |R|^2 - 1, whose leading coefficient is |c_n|^2 > 0; kept for
        # robustness against trimmed coefficients)
        return math.inf
    # Cauchy's bound: every root of q has |s| < 1 + max |q_i / q_lead|, so q > 0 beyond it.
    bound = 1.0 + float(np.max(np.abs(q[:-1] / q[-1])))
    # A fine grid where regions live (an explicit s-stage method has real interval at most
    # 2 s^2, Chebyshev), then a coarse one up to the bound; brentq refines the crossing.
    degree = (len(p) - 1) // 2
    fine_end = min(bound, 2.0 * degree ** 2 + 2.0)
    grid = np.linspace(0.0, fine_end, int(fine_end * 2000) + 2)
    if bound > fine_end:
        grid = np.concatenate([grid, np.linspace(fine_end, bound, 20001)[1:]])
    values = P.polyval(grid, q)
    bad = np.flatnonzero(values > 0)
    if bad.size == 0:                             # only at the bound itself
        return bound
    i = bad[0]
    return float(brentq(lambda s: P.polyval(s, q), grid[i - 1], grid[i], xtol=1e-15,
                        rtol=4 * np.finfo(float).eps, maxiter=200))


def stability_interval(tableau):
    """The real stability interval ``[lo, hi]`` containing 0: ``|R(x)| <= 1`` on it.

    Found numerically: the polynomial ``R(x)^2 - 1`` is scanned from 0 outwards on each
    side and the first crossing refined by ``scipy.optimize.brentq``.

    Returns
    -------
    (float, float)
        ``(lo, hi)``; ``hi = 0`` for every consistent method (``sum b = 1``, so ``R(x) > 1``
        for small ``x > 0``). ``(-inf, 0)`` for :data:`exponential`.
        RK1/RK2: ``(-2, 0)``; RK3: ``(-2.5127, 0)``; RK4: ``(-2.7853, 0)``.
    """
    method = _resolve(tableau, "tableau")
    if isinstance(method, Exponential):
        return (-math.inf, 0.0)
    coeffs = stability_polynomial(method)
    lo = _first_crossing(_gain_polynomial(coeffs, -1.0))
    hi = _first_crossing(_gain_polynomial(coeffs, 1.0))
    return (-lo if lo else 0.0, hi)


def imaginary_extent(tableau):
    """The largest ``Y >= 0`` with ``|R(iy)| <= 1`` for all ``|y| <= Y``.

    ``R`` has real coefficients, so ``|R(-iy)| = |R(iy)|`` and the segment is symmetric.
    Returns 0 when oscillatory modes grow for every step (RK1, RK2), ``sqrt 3`` for RK3,
    ``2 sqrt 2`` for RK4 and ``inf`` for :data:`exponential`.
    """
    method = _resolve(tableau, "tableau")
    if isinstance(method, Exponential):
        return math.inf
    return _first_crossing(_gain_polynomial(stability_polynomial(method), 1j))


# --------------------------------------------------------------------------------------
# Multistep memory: the root condition


@dataclasses.dataclass(frozen=True)
class RootCondition:
    """The roots of a memory's characteristic polynomial and what they imply.

    Attributes
    ----------
    verdict : str
        ``"stable"`` (every root inside, ``|zeta| < 1 - tol``: the memory forgets),
        ``"marginal"`` (roots in the closed disc, those on the unit circle simple: bounded,
        neither forgets nor grows) or ``"unstable"`` (a root outside, or a repeated root on
        the circle).
    roots : tuple of complex
        All roots of ``rho``, largest modulus first.
    spectral_radius : float
        The largest root modulus.
    multiplicity : int
        The largest multiplicity among the roots on the unit circle (0 if none).
    growth : str
        How a disturbance evolves: ``"decays ~ r^k"``, ``"bounded"``, ``"polynomial ~
        k^(m-1)"`` or ``"exponential ~ r^k"``.
    """

    verdict: str
    roots: tuple
    spectral_radius: float
    multiplicity: int
    growth: str

    def to_dict(self):
        return {"verdict": self.verdict, "roots": [_complex(r) for r in self.roots],
                "spectral_radius": self.spectral_radius, "multiplicity": self.multiplicity,
                "growth": self.growth}


def _vector(values, field, allow_complex=False):
    if isinstance(values, (str, bytes)) or values is None:
        raise CompileError(f"{field} must be a sequence of numbers, got {values!r}")
    try:
        arr = np.atleast_1d(np.asarray(values, dtype=complex if allow_complex else float))
    except (TypeError, ValueError):
        raise CompileError(f"{field} must be a sequence of numbers, got {values!r}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise CompileError(f"{field} must be a non-empty 1-D sequence, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise CompileError(f"{field} must be finite, got {arr.tolist()}")
    return arr


def _tolerance(tol):
    if (not isinstance(tol, numbers.Real) or isinstance(tol, bool) or not math.isfinite(tol)
            or not 0 <= tol < 0.5):
        raise CompileError(f"tol must be a real number in [0, 0.5), got {tol!r}")
    return float(tol)


def _clusters(roots, radius):
    """Group roots closer than ``radius`` (single linkage): a repeated root comes out of
    ``numpy.roots`` as a tight cluster (spread ~ eps^(1/m) for multiplicity m)."""
    n = len(roots)
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if abs(roots[i] - roots[j]) <= radius:
                parent[find(i)] = find(j)
    groups = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def _multiplicity(coeffs, centre, size):
    """Multiplicity of the root at ``centre``: 1 + the leading Taylor coefficients of
    ``rho`` at ``centre`` that vanish (at most ``size``, the cluster size).

    The centroid of a perturbed repeated root is accurate to ~eps, so the derivatives of a
    true repeated root vanish there to ~eps, while two distinct roots a distance ``d`` apart
    leave ``rho'`` ~ ``d``: the check keeps close but distinct roots apart.
    """
    scale = float(np.sum(np.abs(coeffs)))
    poly = np.asarray(coeffs, dtype=complex)
    m = 1
    factorial = 1.0
    for k in range(1, size):
        poly = np.polyder(poly)
        factorial *= k
        if abs(np.polyval(poly, centre)) / factorial > 1e-8 * scale:
            break
        m += 1
    return m


def _roots_verdict(coeffs, tol):
    """Verdict of the recurrence whose characteristic polynomial has ``coeffs`` (highest
    power first, leading 1)."""
    roots = np.roots(coeffs) if len(coeffs) > 1 else np.zeros(0, dtype=complex)
    roots = np.asarray(roots, dtype=complex)
    order = np.argsort(-np.abs(roots), kind="stable")
    roots = roots[order]
    if roots.size == 0:
        return "stable", roots, 0.0, 0, "decays ~ 0^k"
    eps = np.finfo(float).eps
    t = len(coeffs) - 1
    radius = min(0.1, max(1e-6, 10.0 * (eps * float(np.sum(np.abs(coeffs)))) ** (1.0 / t)))
    worst_out, worst_mult, on_circle, rho = 0.0, 0, False, 0.0
    for group in _clusters(roots, radius):
        # The centroid of a cluster is the accurate estimate of a repeated root (its members
        # scatter by ~eps^(1/m) around it), so moduli are judged on centroids.
        centre = complex(np.mean(roots[group]))
        modulus = abs(centre)
        rho = max(rho, modulus)
        if modulus > 1 + tol:
            worst_out = max(worst_out, modulus)
        elif modulus >= 1 - tol:
            on_circle = True
            m = _multiplicity(coeffs, centre, len(group))
            worst_mult = max(worst_mult, m)
    if worst_out:
        return "unstable", roots, rho, worst_mult, f"exponential ~ {worst_out:.6g}^k"
    if worst_mult >= 2:
        return ("unstable", roots, rho, worst_mult,
                f"polynomial ~ k^{worst_mult - 1}")
    if on_circle:
        return "marginal", roots, rho, worst_mult, "bounded"
    return "stable", roots, rho, 0, f"decays ~ {rho:.6g}^k"


def root_condition(alpha, tol=1e-9):
    """The root condition of the memory ``h_{k+1} = sum_{j=1}^t alpha_j h_{k+1-j} + ...``.

    Parameters
    ----------
    alpha : sequence of float (or complex)
        ``alpha_1 .. alpha_t`` (e.g. from :func:`compiler.methods.multistep`); the
        backward difference of order t is ``alpha_j = (-1)^(j+1) C(t, j)``.
    tol : float
        Roots with ``| |zeta| - 1 | <= tol`` count as on the unit circle.

    Returns
    -------
    RootCondition
        The roots of ``rho(zeta) = zeta^t - sum_j alpha_j zeta^(t-j)`` (``numpy.roots``) and
        the verdict: stable if all ``|zeta| < 1 - tol``; marginal if all ``|zeta| <= 1`` with
        the unit-circle ones simple; otherwise unstable.

    Examples
    --------
    ``root_condition([1])`` (plain recurrence, ``rho = zeta - 1``) is marginal;
    ``root_condition([2, -1])`` (``(zeta - 1)^2``) is unstable, growth ~ k;
    ``root_condition([1.6, -0.64])`` (``(zeta - 0.8)^2``, damped) is stable.
    """
    tol = _tolerance(tol)
    alpha = _vector(alpha, "alpha", allow_complex=True)
    if np.all(alpha.imag == 0):
        alpha = alpha.real
    coeffs = np.concatenate([[1.0], -alpha])
    verdict, roots, rho, mult, growth = _roots_verdict(coeffs, tol)
    return RootCondition(verdict, tuple(complex(r) for r in roots), rho, mult, growth)


# --------------------------------------------------------------------------------------
# The pass: Jacobian -> per-mode gains -> verdict


@dataclasses.dataclass(frozen=True)
class Mode:
    """One eigenmode of the step-size-scaled Jacobian.

    Attributes
    ----------
    index : int
        Position of the eigenvalue in ``numpy.linalg.eigvals(J)``.
    eigenvalue : complex
        ``lambda`` of ``J = dF/dh``.
    z : complex
        ``Delta lambda``.
    abs_r : float
        ``|R(Delta lambda)|``, the one-step amplification of the Runge-Kutta part.
    gain : float
        Spectral radius of the mode's full recurrence (RK step combined with the memory);
        equals ``abs_r`` for first-order memory ``alpha = (1,)``.
    verdict : str
        The mode's own verdict (unstable also for a repeated root on the unit circle).
    """

    index: int
    eigenvalue: complex
    z: complex
    abs_r: float
    gain: float
    verdict: str

    def to_dict(self):
        return {"index": self.index, "eigenvalue": _complex(self.eigenvalue),
                "z": _complex(self.z), "abs_r": self.abs_r, "gain": self.gain,
                "verdict": self.verdict}


@dataclasses.dataclass(frozen=True)
class StabilityReport:
    """The stability verdict of a compiled recurrence.

    Attributes
    ----------
    verdict : str
        ``"stable"``, ``"marginal"`` or ``"unstable"`` (see :func:`analyse_linear`, Notes).
    method : str
        The Runge-Kutta method's name (or ``"exponential"``).
    step : float
        The step size ``Delta``.
    offending : tuple of Mode
        The unstable modes (``gain > 1 + tol`` or a repeated unit root), largest gain first.
    max_gain : float
        The largest per-mode gain (spectral radius of the one-step map).
    max_abs_r : float
        The largest ``|R(Delta lambda)|``.
    memory : RootCondition
        The root condition of the memory polynomial ``rho``.
    n_modes : int
        Number of eigenmodes analysed.
    marginal_modes : int
        Modes with gain within ``tol`` of 1 (neutral: neither forget nor explode).
    step_norm : float or None
        ``||R(Delta J)||_2`` for first-order memory and up to 1024 modes (bounds the
        transient growth of a non-normal ``J``, which eigenvalues do not see); else None.
    tol : float
        The tolerance used.
    """

    verdict: str
    method: str
    step: float
    offending: tuple
    max_gain: float
    max_abs_r: float
    memory: RootCondition
    n_modes: int
    marginal_modes: int
    step_norm: float = None
    tol: float = 1e-9

    @property
    def roots(self):
        """The roots of the memory polynomial ``rho`` (``memory.roots``)."""
        return self.memory.roots

    @property
    def stable(self):
        return self.verdict == "stable"

    def to_dict(self):
        return {"verdict": self.verdict, "method": self.method, "step": self.step,
                "offending": [m.to_dict() for m in self.offending],
                "max_gain": self.max_gain, "max_abs_r": self.max_abs_r,
                "roots": [_complex(r) for r in self.roots], "memory": self.memory.to_dict(),
                "n_modes": self.n_modes, "marginal_modes": self.marginal_modes,
                "step_norm": self.step_norm, "tol": self.tol}

    def summary(self):
        """One readable paragraph: the verdict and why."""
        t = len(self.roots)
        text = [f"Stability: {self.verdict.upper()}. {self.method} with step {self.step:g} on "
                f"{self.n_modes} mode(s): max |R(Delta lambda)| = {self.max_abs_r:.6g}, max "
                f"gain per step = {self.max_gain:.6g}"]
        if self.step_norm is not None:
            text[-1] += f", ||R(Delta J)||_2 = {self.step_norm:.6g}"
        text[-1] += "."
        if self.offending:
            shown = ", ".join(
                f"lambda = {_fmt(m.eigenvalue)} (gain {m.gain:.6g}"
                + (", repeated root" if m.gain <= 1 + self.tol else "") + ")"
                for m in self.offending[:3])
            more = f" and {len(self.offending) - 3} more" if len(self.offending) > 3 else ""
            text.append(f"{len(self.offending)} mode(s) grow: {shown}{more}.")
        if self.marginal_modes:
            text.append(f"{self.marginal_modes} mode(s) are neutral (gain 1 within "
                        f"{self.tol:g}).")
        mem = self.memory
        text.append(f"Memory of order {t}: roots of rho have max modulus "
                    f"{mem.spectral_radius:.6g}, root condition {mem.verdict} "
                    f"({mem.growth}).")
        if mem.verdict == "unstable":
            text.append("The memory alone amplifies drift and inputs; add damping "
                        "(e.g. a forget factor < 1).")
        elif self.verdict == "unstable":
            if any(m.eigenvalue.real > 0 for m in self.offending):
                # The field itself grows along these modes: no step size or explicit method
                # can contract them, only a change of the field can.
                text.append("Some offending eigenvalues of J have a positive real part: the "
                            "field itself grows there, so no step size or method helps; add "
                            "decay or damping to the cell (e.g. the vanilla cell's -h term) "
                            "or scale down the recurrent weights.")
            else:
                oscillatory = any(abs(m.z.imag) > abs(m.z.real) for m in self.offending)
                advice = "Reduce the step size or use a method with a larger region (rk3/rk4"
                advice += (", or the exponential step of the unitary cell, for oscillatory "
                           "modes)." if oscillatory else ").")
                text.append(advice)
        return " ".join(text)


def _complex(value):
    value = complex(value)
    return [value.real, value.imag]


def _fmt(value):
    value = complex(value)
    if value.imag == 0:
        return f"{value.real:.6g}"
    return f"{value.real:.6g}{value.imag:+.6g}i"


def _square(matrix, field):
    try:
        arr = np.asarray(matrix)
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise TypeError
        arr = arr.astype(complex if np.iscomplexobj(arr) else float)
    except (TypeError, ValueError):
        raise CompileError(f"{field} must be a square numeric matrix, got "
                           f"{type(matrix).__name__}") from None
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise CompileError(f"{field} must be a non-empty square matrix, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise CompileError(f"{field} must be finite (it has NaN or inf entries)")
    return arr


def _positive(value, field):
    if (not isinstance(value, numbers.Real) or isinstance(value, bool)
            or not math.isfinite(value) or value <= 0):
        raise CompileError(f"{field} must be a positive finite number, got {value!r}")
    return float(value)


def analyse_linear(method, jacobian, step, alpha=(1.0,), stage_alpha=None, tol=1e-9):
    """Stability of the recurrence of a linear field ``F(h) = J h`` (the core of the pass).

    Parameters
    ----------
    method : ButcherTableau, str or Exponential
        The Runge-Kutta method of the stages (or the exact exponential step).
    jacobian : array_like, shape (N, N)
        ``J = dF/dh`` (real or complex).
    step : float
        The step size ``Delta > 0``.
    alpha : sequence of float
        Memory coefficients ``alpha_1 .. alpha_t``; ``(1,)`` is the plain one-step method.
    stage_alpha : sequence of float, optional
        Coefficients ``alpha'_j`` of the point the stages start from, ``hbar = sum_j
        alpha'_j h_{k+1-j}``; default ``(1, 0, ..., 0)`` (the stages read ``h_k``).
    tol : float
        Gains within ``tol`` of 1 are neutral (marginal), above ``1 + tol`` unstable.

    Returns
    -------
    StabilityReport

    Notes
    -----
    With ``F`` linear every stage is linear in ``hbar`` and the step is
    ``h_{k+1} = sum_j alpha_j h_{k+1-j} + (R(Delta J) - I) hbar``: the stages add
    ``Delta sum_i b_i K_i = (R(Delta J) - I) hbar``. On an eigenmode ``lambda`` of ``J`` that is a
    scalar t-term recurrence with characteristic polynomial

        zeta^t - sum_j (alpha_j + (R(z) - 1) alpha'_j) zeta^(t-j),    z = Delta lambda,

    whose largest root modulus is the mode's gain (``|R(z)|`` when ``t = 1``). The verdict:

    - unstable if the memory's own root condition fails (``rho`` = the polynomial at
      ``z = 0``: the memory then amplifies drift and inputs whatever the field; the pure
      difference of order t >= 2), or if any mode has gain ``> 1 + tol`` or a repeated root
      on the unit circle;
    - marginal if some mode has gain within ``tol`` of 1 (a neutral mode: ``lambda = 0``,
      or the exponential step on an imaginary eigenvalue);
    - stable otherwise (every mode contracts).

    The memory's ``rho`` always has a unit root when it is consistent (``sum alpha_j = 1``,
    e.g. ``alpha = (1,)``): that root is the ``z -> 0`` limit of ``R(z)`` and is judged mode by
    mode, so a marginal root condition does not by itself make the verdict marginal.
    Eigenvalues miss the transient growth of a non-normal ``J``; ``step_norm`` reports
    ``||R(Delta J)||_2`` for that (theory.md section 6.3).
    """
    method = _resolve(method)
    J = _square(jacobian, "jacobian")
    step = _positive(step, "step")
    tol = _tolerance(tol)
    alpha = _vector(alpha, "alpha")
    t = alpha.size
    if stage_alpha is None:
        beta = np.zeros(t)
        beta[0] = 1.0
    else:
        beta = _vector(stage_alpha, "stage_alpha")
        if beta.size != t:
            raise CompileError(f"stage_alpha must have the length of alpha ({t}), got "
                               f"{beta.size}")
    memory = root_condition(alpha, tol)

    lam = np.linalg.eigvals(J)
    z = step * lam
    r = np.asarray(R(method, z.astype(complex)), dtype=complex)
    abs_r = np.abs(r)
    n = lam.size
    # Per-mode coefficients of zeta^(t-j): c_j = alpha_j + (R - 1) alpha'_j.
    c = alpha[None, :] + (r - 1.0)[:, None] * beta[None, :]
    if t == 1:
        gains = np.abs(c[:, 0])
    else:
        # Batched companion matrices: one eigvals call for all modes.
        comp = np.zeros((n, t, t), dtype=complex)
        comp[:, 0, :] = c
        comp[:, np.arange(1, t), np.arange(t - 1)] = 1.0
        gains = np.max(np.abs(np.linalg.eigvals(comp)), axis=1)
    verdicts = np.where(gains > 1 + tol, "unstable",
                        np.where(gains >= 1 - tol, "marginal", "stable")).astype(object)
    if t > 1:
        # A repeated root on the unit circle grows polynomially although its modulus is 1:
        # resolve multiplicities where it matters (modes near the circle only).
        for i in np.flatnonzero(verdicts == "marginal"):
            verdicts[i] = _roots_verdict(np.concatenate([[1.0], -c[i]]), tol)[0]
    modes = [Mode(int(i), complex(lam[i]), complex(z[i]), float(abs_r[i]), float(gains[i]),
                  str(verdicts[i])) for i in range(n)]
    offending = tuple(sorted((m for m in modes if m.verdict == "unstable"),
                             key=lambda m: -m.gain))
    marginal = sum(m.verdict == "marginal" for m in modes)
    if memory.verdict == "unstable" or offending:
        verdict = "unstable"
    elif marginal:
        verdict = "marginal"
    else:
        verdict = "stable"
    step_norm = None
    if t == 1 and n <= 1024:
        M = alpha[0] * np.eye(n) + beta[0] * (step_matrix(method, step * J) - np.eye(n))
        step_norm = float(np.linalg.norm(M, 2))
    return StabilityReport(verdict=verdict, method=_name(method), step=step,
                           offending=offending, max_gain=float(np.max(gains)),
                           max_abs_r=float(np.max(abs_r)), memory=memory, n_modes=n,
                           marginal_modes=int(marginal), step_norm=step_norm, tol=tol)


# --------------------------------------------------------------------------------------
# The spec adapter


def jacobian(spec, weights, state=None, inputs=None, eps=3e-5, block=512):
    """``J = dF/dh`` of the spec's cell at ``(state, inputs)`` (default: zeros).

    Central differences of :func:`compiler.reference.field` (the numpy oracle of every cell),
    evaluated for a block of perturbed states at once, so any cell, present or future, is
    covered without hand-written derivatives. The default ``eps`` balances truncation
    (~eps^2) against rounding (~1e-16 |F| / eps): about 1e-12 for the tanh cells, which is
    far below the verdict's ``tol``. At the kink of ``relu`` it returns the mean of the
    one-sided slopes.

    Parameters
    ----------
    spec : ODERNN
    weights : dict of str to ndarray
        Every parameter of the cell (e.g. from :func:`compiler.initial_weights`).
    state : array_like, shape (hidden,), optional
    inputs : array_like, shape (inputs,), optional
    eps : float
        The difference step.
    block : int
        Columns of ``J`` per batched evaluation (bounds memory at large ``hidden``).

    Returns
    -------
    numpy.ndarray, shape (hidden, hidden)
    """
    from .. import reference

    n = spec.hidden
    h0 = np.zeros(n) if state is None else np.asarray(state, dtype=float).reshape(n)
    x0 = np.zeros(spec.inputs) if inputs is None else np.asarray(
        inputs, dtype=float).reshape(spec.inputs)
    J = np.empty((n, n))
    for start in range(0, n, block):
        cols = np.arange(start, min(n, start + block))
        H = np.repeat(h0[None, :], cols.size, axis=0)
        X = np.repeat(x0[None, :], cols.size, axis=0)
        H[np.arange(cols.size), cols] += eps
        plus = reference.field(spec, weights, H, X)
        H[np.arange(cols.size), cols] -= 2 * eps
        minus = reference.field(spec, weights, H, X)
        J[:, cols] = ((plus - minus) / (2 * eps)).T
    return J


def analyse(spec, weights=None, tol=1e-9, seed=0, state=None, inputs=None):
    """The stability pass on a spec: its Jacobian at initialisation (or at given weights).

    Parameters
    ----------
    spec : ODERNN
        The recurrence (method or exponential step, memory ``alpha``, stage point
        ``alpha'``, step, cell).
    weights : dict of str to array, optional
        Parameter matrices by name; missing ones are drawn as the compiler draws them
        (:func:`compiler.initial_weights` with ``seed``), so ``analyse(spec)`` sees exactly
        the weights ``compiler.compile(spec, seed=seed)`` starts from.
    tol : float
        See :func:`analyse_linear`.
    seed : int
        Seed of the drawn weights.
    state, inputs : array_like, optional
        The point of the linearisation; default zeros (the state a sequence starts from,
        no input).

    Returns
    -------
    StabilityReport
        Of :func:`analyse_linear` on ``J = dF/dh`` (:func:`jacobian`), the spec's method
        (:data:`exponential` for the exact step of the unitary cell, whose linear part
        ``A`` is then integrated exactly), ``step``, ``alpha`` and ``alpha'``.

    Notes
    -----
    The eigendecomposition costs O(hidden^3): seconds at hidden 1024, minutes at 4096
    (``compile(..., stability=False)`` skips the pass).
    """
    from ..spec import ODERNN
    from ..weights import initial_weights

    if not isinstance(spec, ODERNN):
        raise CompileError(f"spec must be a compiler.ODERNN, got {type(spec).__name__}")
    weights, _ = initial_weights(spec, seed, given=weights)
    J = jacobian(spec, weights, state, inputs)
    method = exponential if spec.exponential else spec.tableau
    return analyse_linear(method, J, spec.step, alpha=spec.alpha,
                          stage_alpha=spec.stage_alpha, tol=tol)
