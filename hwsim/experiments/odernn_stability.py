"""``hwsim experiment odernn-stability``: where RK1-RK4 ODERNN steps explode, and why the
exponential step and damped memory do not (reference/theory.md sections 6.3 and 6.5).

Four parts, each a comparison of the stability analysis (:mod:`compiler.passes.stability`)
with a direct simulation of the recurrence:

regions
    For RK1 (euler), RK2 (midpoint, heun), RK3 and RK4, the real stability interval and the
    imaginary extent found by root finding on ``|R| = 1`` are compared with the analytic
    table; then the recurrence ``h_{k+1} = h_k + Delta sum_i b_i K_i`` is simulated with the
    method's actual stages (not with ``R``) on a scalar mode ``F(h) = x h`` (real axis) and a
    2x2 rotation ``F(h) = y [[0, -1], [1, 0]] h`` (imaginary axis, ``Delta = 1``). The
    measured growth per step must equal ``|R(z)|`` and be above 1 exactly outside the
    computed region.
oscillation
    On oscillatory modes (skew-symmetric ``A``, eigenvalues ``+-i omega``) Euler and RK2 grow
    as ``|R(i Delta omega)|^k`` for every step size, while the exact exponential step
    ``expm(Delta A)`` keeps the norm at 1 (to 1e-10 over 1000 steps, also for a random
    16x16 skew-symmetric ``A``).
memory
    The t-th order backward-difference memory ``h_{k+1} = sum_j (-1)^(j+1) C(t, j) h_{k+1-j}``
    (``F = 0``: what the memory alone does to a disturbance) drifts as ``k^(t-1)`` for
    ``t >= 2``; the damped memory with roots at ``gamma = 0.9`` forgets it. The root
    condition's verdicts agree.
compiled
    A linear ODERNN (the unitary cell on a 2x2 rotation, no bias, identity readout) compiled
    with Euler, RK2, RK4 and the exponential step onto the ideal target and run by
    :class:`hwsim.Simulator`: its state norm follows the gain per step that the compiler's
    stability pass reports, ``|R(i Delta omega)|``.

``target`` has no hardware meaning for the pure recurrences (they run in float64 whatever it
is); the compiled part runs on the ideal target and is skipped with ``--target device``.
"""

import math
import time

import numpy as np

from .base import ExperimentResult, check, targets
from ..io_utils import pyplot, save_figure
from ..progress import progress_bar

NAME = "odernn-stability"
DESCRIPTION = ("RK1-RK4 stability regions from R(z) vs. simulated recurrences; Euler/RK2 "
               "grow on oscillatory modes, the exponential step keeps norm 1; undamped "
               "difference memory drifts")

# (label, method name, analytic real interval lower end, analytic imaginary extent).
METHODS = (
    ("RK1 (euler)", "euler", -2.0, 0.0),
    ("RK2 (midpoint)", "midpoint", -2.0, 0.0),
    ("RK2 (heun)", "heun", -2.0, 0.0),
    ("RK3", "rk3", -2.5127, math.sqrt(3.0)),
    ("RK4", "rk4", -2.7853, 2.0 * math.sqrt(2.0)),
)
OSCILLATION_METHODS = ("euler", "midpoint", "rk4")
DAMPING = 0.9


def rk_step(tableau, A, h, dt):
    """One explicit Runge-Kutta step of ``dh/dtau = A h`` with the tableau's stages.

    ``K_i = A (h + dt sum_{l<i} a_il K_l)``, ``h + dt sum_i b_i K_i``: the ODERNN stage
    composition itself, independent of the stability polynomial it is checked against.
    """
    a = np.asarray(tableau.a, dtype=float)
    b = np.asarray(tableau.b, dtype=float)
    stages = []
    for i in range(len(b)):
        point = h
        for l in range(i):
            if a[i, l] != 0.0:
                point = point + dt * a[i, l] * stages[l]
        stages.append(A @ point)
    out = h
    for i in range(len(b)):
        if b[i] != 0.0:
            out = out + dt * b[i] * stages[i]
    return out


def growth_rate(step, h0, steps):
    """Mean log growth per step of ``h -> step(h)`` over ``steps`` steps (renormalised every
    step, so exploding or vanishing modes stay in floating-point range)."""
    h = np.asarray(h0, dtype=float)
    h = h / np.linalg.norm(h)
    total = 0.0
    for _ in range(steps):
        h = step(h)
        norm = np.linalg.norm(h)
        total += math.log(norm)
        h = h / norm
    return total / steps


def _rotation(y):
    return np.array([[0.0, -y], [y, 0.0]])


def _regions(stab, tableau, label, lo_ref, y_ref, n_points, steps):
    """Part 1 for one method: analytic vs. computed region, simulation vs. |R|."""
    lo, hi = stab.stability_interval(tableau)
    extent = stab.imaginary_extent(tableau)
    # Sample both axes, plus points 1% inside and outside each boundary.
    xs = np.concatenate([np.linspace(-3.2, 0.4, n_points), [lo * 0.99, lo * 1.01]])
    xs = xs[np.abs(xs) > 1e-9]
    ys = np.linspace(0.05, 3.2, n_points)
    if extent > 0:
        ys = np.concatenate([ys, [extent * 0.99, extent * 1.01]])
    rows = []
    for x in xs:
        A = np.array([[x]])
        rate = growth_rate(lambda h: rk_step(tableau, A, h, 1.0), [1.0], steps)
        rows.append(("real", x, complex(x), rate))
    for y in ys:
        A = _rotation(y)
        rate = growth_rate(lambda h: rk_step(tableau, A, h, 1.0), [1.0, 0.3], steps)
        rows.append(("imag", y, complex(0.0, y), rate))
    z = np.array([r[2] for r in rows])
    log_r = np.log(np.abs(stab.R(tableau, z)))
    rates = np.array([r[3] for r in rows])
    error = float(np.max(np.abs(rates - log_r)))
    inside = np.array([(lo <= r[1] <= hi) if r[0] == "real" else (r[1] <= extent)
                       for r in rows])
    # Growth is exactly |R| - 1 away from the boundary; with points >= 1% from it the
    # smallest margin is |log|R|| ~ 1e-4 (RK2 near y = 0.05: y^4/8 ~ 8e-7), far above the
    # ~1e-15 rounding of the measured rate.
    grows = rates > 1e-12
    agree = bool(np.all(grows == ~inside))
    return {
        "label": label,
        "real_interval": [lo, hi],
        "real_interval_analytic": [lo_ref, 0.0],
        "imaginary_extent": extent,
        "imaginary_extent_analytic": y_ref,
        "points": len(rows),
        "steps": steps,
        "max_abs_log_growth_minus_log_abs_R": error,
        "grows_exactly_outside_region": agree,
        "x": xs.tolist(), "y": ys.tolist(),
    }


def _oscillation(stab, get_tableau, scipy_expm, domegas, steps, seed):
    """Part 2: norm of Euler/RK2/RK4/exp on rotations with several Delta omega."""
    out = {}
    for dw in domegas:
        A = _rotation(dw)                      # Delta = 1, omega = dw
        h0 = np.array([1.0, 0.0])
        per = {}
        for name in OSCILLATION_METHODS:
            tab = get_tableau(name)
            h, norms = h0.copy(), [1.0]
            for _ in range(steps):
                h = rk_step(tab, A, h, 1.0)
                norms.append(float(np.linalg.norm(h)))
            r = float(abs(stab.R(tab, 1j * dw)))
            predicted = r ** np.arange(steps + 1)
            per[name] = {"abs_R": r, "norm_final": norms[-1],
                         "max_rel_error_vs_R_power_k": float(np.max(
                             np.abs(np.array(norms) / predicted - 1.0))),
                         "norms": norms}
        E = scipy_expm(A)
        h, norms = h0.copy(), [1.0]
        for _ in range(steps):
            h = E @ h
            norms.append(float(np.linalg.norm(h)))
        per["exponential"] = {"abs_R": 1.0, "norm_final": norms[-1],
                              "max_abs_norm_minus_1": float(np.max(np.abs(
                                  np.array(norms) - 1.0))),
                              "norms": norms}
        out[f"domega_{dw:g}"] = per
    # A generic skew-symmetric A (16 modes, frequencies up to ~8): the exponential step is
    # orthogonal whatever the spectrum, so the norm stays 1 where every RK method explodes.
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(16, 16))
    S = (M - M.T) / 2.0
    E = scipy_expm(S)
    h = rng.normal(size=16)
    h /= np.linalg.norm(h)
    worst = 0.0
    for _ in range(steps):
        h = E @ h
        worst = max(worst, abs(float(np.linalg.norm(h)) - 1.0))
    out["random_skew16"] = {"max_abs_norm_minus_1": worst,
                            "max_frequency": float(np.max(np.abs(np.linalg.eigvals(S))))}
    return out


def _memory(stab, multistep, max_order, steps):
    """Part 3: impulse response of undamped and damped difference memories (F = 0)."""
    out = {}
    k = np.arange(steps)
    for t in range(1, max_order + 1):
        for damped in (False, True):
            # damped: (zeta - r)^t, the difference memory with every root moved from 1 to
            # r < 1, alpha_j -> alpha_j r^j, like a forget gate.
            alpha = np.asarray(multistep("damped", t, damping=DAMPING) if damped
                               else multistep("difference", t), dtype=float)
            h = np.zeros(steps)
            h[t - 1] = 1.0                     # a unit disturbance entering the memory
            for i in range(t, steps):
                h[i] = float(np.dot(alpha, h[i - 1::-1][:t]))
            rc = stab.root_condition(alpha)
            half = k >= steps // 2
            mag = np.abs(h[half])
            if np.all(mag > 0):
                slope = float(np.polyfit(np.log(k[half]), np.log(mag), 1)[0])
            else:
                slope = float("nan")
            out[f"t{t}_{'damped' if damped else 'undamped'}"] = {
                "alpha": alpha.tolist(), "verdict": rc.verdict, "growth": rc.growth,
                "spectral_radius": rc.spectral_radius, "multiplicity": rc.multiplicity,
                "final_abs_h": float(abs(h[-1])), "max_abs_h": float(np.max(np.abs(h))),
                "loglog_slope": slope, "h": h.tolist(),
            }
    return out


def _compiled(stab, steps, domega=0.5):
    """Part 4: a linear ODERNN compiled onto the ideal target grows as predicted.

    The unitary cell without bias, ``F = A h + tanh(U x)``, with ``A = omega [[0, -1], [1,
    0]]`` and the identity readout (``y = h``): a unit input at the first step sets the
    state, after which ``x = 0`` and the compiled graph runs the pure linear recurrence
    ``h_{k+1} = R(Delta A) h_k``. Its norm must follow ``|R(i Delta omega)|^k``, the gain the
    stability pass reports for the spec (:func:`compiler.passes.stability.analyse`).
    """
    import warnings

    import compiler

    A = domega * np.array([[0.0, -1.0], [1.0, 0.0]])      # step 1: Delta omega = domega
    weights = {"A": A, "U": np.array([[1.0], [0.0]])}
    x = np.zeros((1, steps, 1))
    x[0, 0, 0] = 1.0
    out, checks = {"domega": domega, "steps": steps}, []
    for name in OSCILLATION_METHODS + ("exponential",):
        spec = compiler.ODERNN(hidden=2, inputs=1, outputs=2, cell="unitary", method=name,
                               readout="identity", bias=False, step=1.0,
                               name=f"linear-{name}")
        with warnings.catch_warnings():
            # Euler and RK2 are unstable here by design: the warning is the point.
            warnings.simplefilter("ignore", compiler.StabilityWarning)
            result = compiler.compile(spec, target="ideal", weights=weights)
        y = np.asarray(result.run(x, target="ideal"))[0]          # (steps, 2): h_1 .. h_T
        norms = np.linalg.norm(y, axis=1)
        measured = norms / norms[0]
        gain = result.stability.max_gain
        predicted = gain ** np.arange(steps)
        err = float(np.max(np.abs(measured / predicted - 1.0)))
        out[name] = {"verdict": result.stability.verdict, "predicted_gain": gain,
                     "abs_R": float(abs(stab.R(name, 1j * domega))),
                     "norm_ratio_final": float(measured[-1]), "max_rel_error": err,
                     "norms": norms.tolist()}
        checks.append(check(
            f"compiled linear ODERNN ({name}, ideal target) grows as the pass predicts",
            err < 1e-9 and abs(gain - out[name]["abs_R"]) < 1e-9,
            f"verdict {result.stability.verdict}, gain {gain:.6f}/step, ||h_T||/||h_1|| = "
            f"{measured[-1]:.4g} after {steps - 1} steps, max rel. error {err:.1e}"))
    out["_checks"] = checks
    return out


def run(quick=False, target="both", seed=0, progress=True):
    """Run the four parts; see the module docstring."""
    from scipy.linalg import expm

    from compiler.methods import get_tableau, multistep
    from compiler.passes import stability as stab

    chosen = targets(target)
    n_points = 21 if quick else 101
    steps = 200 if quick else 1000
    osc_steps = 1000
    max_order = 3 if quick else 4
    mem_steps = 400 if quick else 2000
    t0 = time.perf_counter()
    figures, checks = {"regions": {}}, []
    with progress_bar(len(METHODS) + 3, NAME, enabled=progress) as bar:
        for label, name, lo_ref, y_ref in METHODS:
            tab = get_tableau(name)
            reg = _regions(stab, tab, label, lo_ref, y_ref, n_points, steps)
            figures["regions"][name] = reg
            lo = reg["real_interval"][0]
            ext = reg["imaginary_extent"]
            checks.append(check(
                f"{label}: real interval and imaginary extent match the analytic table",
                abs(lo - lo_ref) < 1e-4 and reg["real_interval"][1] == 0.0
                and abs(ext - y_ref) < 1e-4,
                f"[{lo:.6f}, 0] vs [{lo_ref}, 0]; |y| <= {ext:.6f} vs {y_ref:.6f}"))
            checks.append(check(
                f"{label}: simulated stages grow as |R(z)| per step and exactly outside "
                f"the region",
                reg["max_abs_log_growth_minus_log_abs_R"] < 1e-10
                and reg["grows_exactly_outside_region"],
                f"{reg['points']} points x {steps} steps, max |log growth - log|R|| = "
                f"{reg['max_abs_log_growth_minus_log_abs_R']:.2e}"))
            bar.update(1)
            bar.note(label)

        domegas = (0.1, 0.5, 1.0)
        osc = _oscillation(stab, get_tableau, expm, domegas, osc_steps, seed)
        figures["oscillation"] = osc
        for name in ("euler", "midpoint"):
            errs = [osc[f"domega_{dw:g}"][name]["max_rel_error_vs_R_power_k"]
                    for dw in domegas]
            grew = all(osc[f"domega_{dw:g}"][name]["norm_final"] > 1.0 for dw in domegas)
            checks.append(check(
                f"{name} on oscillatory modes grows as |R(i Delta omega)|^k",
                grew and max(errs) < 1e-9,
                "final norm " + ", ".join(
                    f"{osc[f'domega_{dw:g}'][name]['norm_final']:.4g} (Delta omega {dw:g})"
                    for dw in domegas) + f"; max rel. error {max(errs):.1e}"))
        worst = max([osc[f"domega_{dw:g}"]["exponential"]["max_abs_norm_minus_1"]
                     for dw in domegas] + [osc["random_skew16"]["max_abs_norm_minus_1"]])
        checks.append(check(
            f"exponential step keeps norm 1 to 1e-10 over {osc_steps} steps",
            worst < 1e-10, f"max |norm - 1| = {worst:.1e} (2x2 rotations, random 16x16)"))
        bar.update(1)
        bar.note("oscillation")

        mem = _memory(stab, multistep, max_order, mem_steps)
        figures["memory"] = mem
        ok, detail = True, []
        for t in range(1, max_order + 1):
            und = mem[f"t{t}_undamped"]
            if t == 1:
                ok &= und["verdict"] == "marginal" and und["max_abs_h"] == 1.0
            else:
                ok &= (und["verdict"] == "unstable" and und["multiplicity"] == t
                       and abs(und["loglog_slope"] - (t - 1)) < 0.05)
            detail.append(f"t={t}: {und['verdict']}, slope {und['loglog_slope']:.3f}")
        checks.append(check(
            "undamped difference memory: t = 1 bounded, t >= 2 drifts as k^(t-1) "
            "(repeated unit root)", ok, "; ".join(detail)))
        ok, detail = True, []
        for t in range(1, max_order + 1):
            dam = mem[f"t{t}_damped"]
            ok &= dam["verdict"] == "stable" and dam["final_abs_h"] < 1e-6 * dam["max_abs_h"]
            detail.append(f"t={t}: {dam['verdict']}, |h_end| = {dam['final_abs_h']:.1e}")
        checks.append(check(f"damped memory (roots at {DAMPING}) forgets the disturbance",
                            ok, "; ".join(detail)))
        bar.update(1)
        bar.note("memory")

        if "ideal" in chosen:
            compiled = _compiled(stab, 200 if quick else 1000)
            checks.extend(compiled.pop("_checks"))
        else:
            compiled = {"skipped": "the compiled part runs on the ideal target (--target "
                                   "ideal or both)"}
        figures["compiled"] = compiled
        bar.update(1)
        bar.note("compiled")

    figures["seconds"] = time.perf_counter() - t0
    settings = {"quick": quick, "target": target, "seed": seed, "points_per_axis": n_points,
                "steps": steps, "oscillation_steps": osc_steps, "memory_steps": mem_steps,
                "max_memory_order": max_order}
    return ExperimentResult(NAME, figures, checks, settings)


def plot(result, path):
    """Four panels: |R(iy)|, the |R| = 1 contours, norms on an oscillatory mode, memory."""
    from compiler.methods import get_tableau
    from compiler.passes import stability as stab

    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.5))
    colours = {"euler": "C0", "midpoint": "C1", "heun": "C5", "rk3": "C2", "rk4": "C3",
               "exponential": "k"}
    labels = {name: label for label, name, _, _ in METHODS}
    labels["exponential"] = "exp (unitary)"

    ax = axes[0, 0]
    y = np.linspace(0.0, 3.5, 700)
    for name in ("euler", "midpoint", "rk3", "rk4"):
        ax.plot(y, np.abs(stab.R(get_tableau(name), 1j * y)), color=colours[name],
                label=labels[name])
    ax.plot(y, np.ones_like(y), color="k", ls="--", label=labels["exponential"])
    ax.set_ylim(0.0, 2.5)
    ax.set_xlabel("y  (z = iy = i Delta omega)")
    ax.set_ylabel("|R(iy)|")
    ax.set_title("Gain per step on the imaginary axis")
    ax.legend(fontsize=8)

    ax = axes[0, 1]
    xr, yi = np.meshgrid(np.linspace(-3.5, 1.0, 181), np.linspace(-3.5, 3.5, 281))
    zz = xr + 1j * yi
    for name in ("euler", "midpoint", "rk3", "rk4"):
        ax.contour(xr, yi, np.abs(stab.R(get_tableau(name), zz)), levels=[1.0],
                   colors=colours[name])
        ax.plot([], [], color=colours[name], label=labels[name])
    ax.axvline(0.0, color="k", ls="--", label="exp: Re z = 0")
    for name, reg in result.figures["regions"].items():
        if name in ("euler", "midpoint", "rk3", "rk4"):
            ax.plot(reg["real_interval"][0], 0.0, "o", color=colours[name], ms=4)
            if reg["imaginary_extent"] > 0:
                ax.plot([0, 0], [-reg["imaginary_extent"], reg["imaginary_extent"]], "x",
                        color=colours[name], ms=6)
    ax.set_aspect("equal")
    ax.set_xlabel("Re z")
    ax.set_ylabel("Im z")
    ax.set_title("Stability regions |R(z)| <= 1 (dots: computed axis limits)")
    ax.legend(fontsize=8, loc="lower left")

    ax = axes[1, 0]
    osc = result.figures["oscillation"]["domega_0.5"]
    for name in ("euler", "midpoint", "rk4", "exponential"):
        ax.semilogy(osc[name]["norms"], color=colours[name],
                    label=f"{labels[name]}: |R| = {osc[name]['abs_R']:.6f}",
                    ls="--" if name == "exponential" else "-")
    comp = result.figures.get("compiled", {})
    for name in ("euler", "midpoint", "rk4", "exponential"):
        if name in comp:
            # The compiled graph's h_1 .. h_T, rescaled to the pure recurrence's first state.
            norms = np.asarray(comp[name]["norms"])
            k = np.arange(1, norms.size + 1)
            scale = osc[name]["norms"][1] / norms[0]
            ax.semilogy(k[::20], scale * norms[::20], "o", ms=3, mfc="none",
                        color=colours[name])
    if comp and "skipped" not in comp:
        ax.plot([], [], "o", ms=3, mfc="none", color="gray",
                label="compiled ODERNN, ideal target")
    # Euler reaches ~1e48; clip the axis so RK4's slow decay and exp's flat 1 stay visible.
    ax.set_ylim(0.5, 1e4)
    ax.set_xlabel("step k")
    ax.set_ylabel("||h_k||")
    ax.set_title("Oscillatory mode, Delta omega = 0.5")
    ax.legend(fontsize=8)

    ax = axes[1, 1]
    for key, mem in result.figures["memory"].items():
        t = len(mem["alpha"])
        h = np.abs(np.asarray(mem["h"]))[t - 1:]     # from the disturbance on
        k = np.arange(1, h.size + 1)
        damped = key.endswith("_damped")
        ax.loglog(k, np.maximum(h, 1e-30), color=f"C{t - 1}", ls="--" if damped else "-",
                  label=f"t = {t} {'damped' if damped else 'undamped'} ({mem['verdict']})")
    ax.set_ylim(1e-12, None)
    ax.set_xlabel("steps since the disturbance")
    ax.set_ylabel("|h_k| after a unit disturbance (F = 0)")
    ax.set_title("Difference memory of order t: drift ~ k^(t-1) unless damped")
    ax.legend(fontsize=7, ncol=2)

    fig.tight_layout()
    out = save_figure(fig, path)
    plt.close(fig)
    return out
