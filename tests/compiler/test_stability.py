"""The stability pass: R(z), the regions on the axes, the root condition and the verdict."""

import json
import math

import numpy as np
import pytest

from compiler.errors import CompileError
from compiler.methods import TABLEAUS, ButcherTableau, get_tableau, multistep
from compiler.passes import stability as stab
from compiler.passes.stability import (R, analyse_linear, exponential, imaginary_extent,
                                       root_condition, stability_interval,
                                       stability_polynomial, step_matrix)

# (name, analytic lower end of the real interval, analytic imaginary extent)
ANALYTIC = [
    ("euler", -2.0, 0.0),
    ("midpoint", -2.0, 0.0),
    ("heun", -2.0, 0.0),
    ("rk3", -2.5127, math.sqrt(3.0)),
    ("rk4", -2.7853, 2.0 * math.sqrt(2.0)),
]


def rk_step(tableau, A, h, dt):
    """The method's actual stages on dh/dt = A h (independent of R)."""
    a, b = np.asarray(tableau.a, float), np.asarray(tableau.b, float)
    K = []
    for i in range(len(b)):
        K.append(A @ (h + dt * sum((a[i, l] * K[l] for l in range(i)), np.zeros_like(h))))
    return h + dt * sum(b[i] * K[i] for i in range(len(b)))


def _stages(tab):
    return len(tab.b)


def _named_n_stage_order_n():
    seen, out = set(), []
    for tab in TABLEAUS.values():
        if _stages(tab) == tab.order and tab.name not in seen:
            seen.add(tab.name)
            out.append(tab)
    return out


@pytest.mark.parametrize("tab", _named_n_stage_order_n(), ids=lambda t: t.name)
def test_polynomial_is_truncated_exponential_for_n_stage_order_n(tab):
    coeffs = stability_polynomial(tab)
    n = _stages(tab)
    np.testing.assert_allclose(coeffs, [1.0 / math.factorial(m) for m in range(n + 1)],
                               rtol=0, atol=1e-15)


def test_every_named_method_is_covered():
    names = {t.name for t in _named_n_stage_order_n()}
    for name in ("euler", "midpoint", "heun", "rk3", "rk4"):
        assert get_tableau(name).name in names


def test_polynomial_equals_resolvent_formula_for_a_general_explicit_tableau():
    rng = np.random.default_rng(3)
    s = 5
    a = np.tril(rng.normal(size=(s, s)), -1)
    b = rng.normal(size=s)
    b /= b.sum()                                   # consistency, which the tableau checks
    tab = ButcherTableau("random", a.tolist(), b.tolist(), a.sum(axis=1).tolist(), 1)
    z = rng.normal(size=20) + 1j * rng.normal(size=20)
    direct = [1 + zz * b @ np.linalg.solve(np.eye(s) - zz * a, np.ones(s)) for zz in z]
    np.testing.assert_allclose(R(tab, z), direct, rtol=1e-12)
    assert stability_polynomial(tab).shape == (s + 1,)


def test_R_is_vectorised_and_names_resolve():
    z = np.array([[0.1 + 0.2j, -1.0], [2j, 0.0]])
    out = R("rk4", z)
    assert out.shape == z.shape and np.iscomplexobj(out)
    np.testing.assert_allclose(out, sum(z ** m / math.factorial(m) for m in range(5)),
                               rtol=1e-15)
    assert R("euler", 0.5) == pytest.approx(1.5)
    np.testing.assert_allclose(R(exponential, 1j * np.linspace(-5, 5, 11)), np.exp(
        1j * np.linspace(-5, 5, 11)))
    assert abs(R("exponential", 3j)) == pytest.approx(1.0, abs=1e-15)


def test_step_matrix_is_R_of_the_matrix():
    rng = np.random.default_rng(0)
    Z = 0.3 * rng.normal(size=(4, 4))
    np.testing.assert_allclose(step_matrix("rk4", Z),
                               sum(np.linalg.matrix_power(Z, m) / math.factorial(m)
                                   for m in range(5)), atol=1e-14)
    from scipy.linalg import expm
    np.testing.assert_allclose(step_matrix("exponential", Z), expm(Z), atol=1e-14)
    h = rng.normal(size=4)
    np.testing.assert_allclose(step_matrix("rk3", Z) @ h, rk_step(get_tableau("rk3"), Z, h,
                                                                   1.0), atol=1e-14)


@pytest.mark.parametrize("name,lo_ref,y_ref", ANALYTIC)
def test_regions_match_analytic_table(name, lo_ref, y_ref):
    lo, hi = stability_interval(name)
    assert lo == pytest.approx(lo_ref, abs=1e-4) and hi == 0.0
    assert imaginary_extent(name) == pytest.approx(y_ref, abs=1e-4)
    # The computed limits are on |R| = 1 to rounding, not merely near the table.
    assert abs(R(name, lo)) == pytest.approx(1.0, abs=1e-12)
    if y_ref:
        assert abs(R(name, 1j * imaginary_extent(name))) == pytest.approx(1.0, abs=1e-12)


def test_exponential_region_is_the_half_plane():
    assert stability_interval(exponential) == (-math.inf, 0.0)
    assert imaginary_extent("exponential") == math.inf


@pytest.mark.parametrize("name", ["euler", "midpoint", "rk3", "rk4"])
def test_simulated_recurrence_decays_or_grows_as_R_power_k(name):
    """Modes inside/outside the region, simulated with the stages, scale as |R|^k."""
    tab = get_tableau(name)
    lo, _ = stability_interval(tab)
    extent = imaginary_extent(tab)
    lam = [0.5 * lo, 0.98 * lo, 1.02 * lo, 1.3 * lo, -0.3 + 0.9j, 0.2 + 0.1j,
           1j * 0.9 * extent if extent else 0.4j, 1j * (1.1 * extent if extent else 1.0)]
    A = np.diag(np.asarray(lam, dtype=complex))
    h = np.ones(len(lam), dtype=complex)
    steps = 150
    for _ in range(steps):
        h = rk_step(tab, A, h, 1.0)
    expected = np.abs(R(tab, np.asarray(lam))) ** steps
    np.testing.assert_allclose(np.abs(h), expected, rtol=1e-10)
    inside = (np.abs(R(tab, np.asarray(lam))) <= 1)
    assert np.all((np.abs(h) <= 1) == inside)
    assert inside[:2].all() and not inside[2:4].any()       # the real boundary separates


def test_exponential_keeps_norm_on_skew_modes_where_euler_grows():
    omega = 0.7
    A = np.array([[0.0, -omega], [omega, 0.0]])
    E = step_matrix("exponential", A)
    h_exp = h_eul = np.array([1.0, 0.0])
    for _ in range(1000):
        h_exp = E @ h_exp
        h_eul = rk_step(get_tableau("euler"), A, h_eul, 1.0)
    assert abs(np.linalg.norm(h_exp) - 1.0) < 1e-10
    assert np.linalg.norm(h_eul) == pytest.approx(abs(R("euler", 1j * omega)) ** 1000,
                                                  rel=1e-9)


# -- root condition -------------------------------------------------------------------


def test_difference_t1_is_marginal_with_a_simple_unit_root():
    rc = root_condition(multistep("difference", 1))
    assert rc.verdict == "marginal" and rc.multiplicity == 1 and rc.growth == "bounded"
    np.testing.assert_allclose(rc.roots, [1.0])


@pytest.mark.parametrize("t", [2, 3, 4])
def test_difference_t_ge_2_is_unstable_with_a_repeated_root(t):
    rc = root_condition(multistep("difference", t))
    assert rc.verdict == "unstable"
    assert rc.multiplicity == t and rc.growth == f"polynomial ~ k^{t - 1}"
    assert len(rc.roots) == t
    np.testing.assert_allclose(rc.roots, np.ones(t), atol=1e-3)   # eps^(1/t) scatter
    assert rc.spectral_radius == pytest.approx(1.0, abs=1e-12)


def test_difference_t2_impulse_response_grows_linearly():
    alpha = np.asarray(multistep("difference", 2), float)
    h = [0.0, 1.0]
    for _ in range(98):
        h.append(alpha @ h[-1:-3:-1])
    assert h[-1] == pytest.approx(99.0)


def test_damped_memory_is_stable_and_decays():
    rc = root_condition([1.6, -0.64])                 # (zeta - 0.8)^2
    assert rc.verdict == "stable" and rc.spectral_radius == pytest.approx(0.8, abs=1e-12)
    assert rc.growth.startswith("decays")
    rc = root_condition([0.5, 0.2, 0.1])
    assert rc.verdict == "stable"


def test_root_condition_other_cases():
    assert root_condition([0.0, 1.0]).verdict == "marginal"        # roots +-1, simple
    c = math.cos(1e-3)
    assert root_condition([2 * c, -1.0]).verdict == "marginal"     # close, distinct
    out = root_condition([2.5, -1.0])                               # roots 2 and 0.5
    assert out.verdict == "unstable" and out.growth.startswith("exponential")
    assert out.spectral_radius == pytest.approx(2.0)
    assert root_condition([1.0 + 1e-6]).verdict == "unstable"
    assert root_condition([1.0 - 1e-6]).verdict == "stable"
    assert root_condition([0.0]).verdict == "stable"                # zeta = 0
    json.dumps(out.to_dict())


# -- analyse_linear ---------------------------------------------------------------------


def test_analyse_linear_on_known_eigenvalues():
    # RK4, step 1: -1 and -2.5 inside, -3 outside (interval [-2.785, 0]); 2.5i inside,
    # 3i outside (extent 2 sqrt 2).
    lam = np.array([-1.0, -2.5, -3.0, 2.5j, -2.5j, 3j, -3j])
    rng = np.random.default_rng(1)
    V = rng.normal(size=(7, 7)) + 1j * rng.normal(size=(7, 7))
    J = V @ np.diag(lam) @ np.linalg.inv(V)
    report = analyse_linear("rk4", J, 1.0)
    assert report.verdict == "unstable"
    got = sorted((m.eigenvalue for m in report.offending),
                 key=lambda z: (round(z.real, 6), round(z.imag, 6)))
    np.testing.assert_allclose(got, [-3.0, -3j, 3j], atol=1e-9)
    for m in report.offending:
        assert m.abs_r == pytest.approx(abs(R("rk4", m.z)), rel=1e-9)
        assert m.gain == pytest.approx(m.abs_r)
    assert report.max_abs_r == pytest.approx(max(abs(R("rk4", [-3.0, 3j]))))
    assert [m.gain for m in report.offending] == sorted(
        (m.gain for m in report.offending), reverse=True)
    # Halving the step brings every mode inside.
    half = analyse_linear("rk4", J, 0.5)
    assert half.verdict == "stable" and half.offending == () and half.max_gain < 1


def test_analyse_linear_verdicts_per_method_on_rotation():
    A = np.array([[0.0, -1.0], [1.0, 0.0]])
    for name in ("euler", "midpoint", "heun"):
        rep = analyse_linear(name, A, 0.1)
        assert rep.verdict == "unstable" and len(rep.offending) == 2
    assert analyse_linear("rk4", A, 0.5).verdict == "stable"
    exp = analyse_linear("exponential", A, 5.0)
    assert exp.verdict == "marginal" and exp.marginal_modes == 2
    assert exp.max_gain == pytest.approx(1.0, abs=1e-12)
    assert exp.step_norm == pytest.approx(1.0, abs=1e-12)


def test_zero_mode_is_marginal_and_stable_field_is_stable():
    assert analyse_linear("euler", np.diag([0.0, -1.0]), 0.5).verdict == "marginal"
    rep = analyse_linear("euler", np.diag([-0.5, -1.0]), 1.0)
    assert rep.verdict == "stable" and rep.memory.verdict == "marginal"


def test_memory_root_condition_enters_the_verdict():
    J = -0.2 * np.eye(3)
    und = analyse_linear("euler", J, 1.0, alpha=multistep("difference", 2))
    assert und.verdict == "unstable" and und.memory.multiplicity == 2
    assert len(und.roots) == 2
    damped = analyse_linear("euler", J, 1.0, alpha=[1.6, -0.64])
    assert damped.memory.verdict == "stable"
    assert damped.verdict == "stable" and damped.max_gain < 1


def test_multistep_mode_gain_matches_simulation():
    """The per-mode gain of the combined recurrence is its growth rate."""
    alpha = np.array([1.2, -0.3])
    beta = np.array([0.5, 0.5])
    lam = np.array([-0.4, -3.5, 1.5j])
    tab = get_tableau("midpoint")
    rep = analyse_linear(tab, np.diag(lam), 1.0, alpha=alpha, stage_alpha=beta)
    A = np.diag(lam.astype(complex))
    hist = [np.ones(3, complex), np.ones(3, complex)]          # h_{k-1}, h_k
    rates = np.zeros(3)
    for _ in range(400):
        hbar = beta[0] * hist[1] + beta[1] * hist[0]
        new = alpha[0] * hist[1] + alpha[1] * hist[0] + rk_step(tab, A, hbar, 1.0) - hbar
        scale = np.maximum(np.abs(new), 1e-300)
        rates += np.log(scale)
        hist = [hist[1] / scale, new / scale]
    # Compare mean log growth with log(gain) mode by mode (transients die out over 400
    # steps: the two roots per mode are well separated here).
    c = alpha[None, :] + (R(tab, lam) - 1)[:, None] * beta[None, :]
    gains = [max(abs(np.roots([1.0, -ci[0], -ci[1]]))) for ci in c]
    np.testing.assert_allclose(rates / 400, np.log(gains), atol=0.02)
    assert rep.max_gain == pytest.approx(max(gains), rel=1e-9)


def test_report_serialises_and_summarises():
    rep = analyse_linear("euler", np.diag([-3.0, -0.5, 0.0]), 1.0)
    data = json.loads(json.dumps(rep.to_dict()))
    assert data["verdict"] == "unstable" and data["offending"][0]["eigenvalue"] == [-3.0, 0.0]
    assert data["roots"] == [[1.0, 0.0]]
    text = rep.summary()
    assert "UNSTABLE" in text and "-3" in text and "euler" in text
    assert "\n" not in text


# -- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs,field", [
    ({"jacobian": np.ones((2, 3))}, "jacobian"),
    ({"jacobian": [[np.nan]]}, "jacobian"),
    ({"jacobian": "J"}, "jacobian"),
    ({"step": 0.0}, "step"),
    ({"step": float("inf")}, "step"),
    ({"alpha": []}, "alpha"),
    ({"alpha": [np.nan]}, "alpha"),
    ({"alpha": [1.0, 0.0], "stage_alpha": [1.0]}, "stage_alpha"),
    ({"tol": -1.0}, "tol"),
    ({"method": "no-such-method"}, "method"),
    ({"method": 3}, "method"),
])
def test_bad_input_raises_compile_error_naming_the_field(kwargs, field):
    args = {"method": "rk4", "jacobian": -np.eye(2), "step": 0.5}
    args.update(kwargs)
    with pytest.raises(CompileError, match=field):
        analyse_linear(**args)


def test_bad_tableau_and_alpha():
    implicit = {"name": "trapezoid", "a": [[0.0, 0.0], [0.5, 0.5]], "b": [0.5, 0.5]}
    with pytest.raises(CompileError, match="tableau.*strictly lower triangular"):
        stability_polynomial(implicit)
    with pytest.raises(CompileError, match="tableau"):
        stability_interval("no-such-method")
    with pytest.raises(CompileError, match="tableau"):
        stability_polynomial(exponential)
    with pytest.raises(CompileError, match="alpha"):
        root_condition("difference")
    with pytest.raises(CompileError, match="alpha"):
        root_condition([[1.0, 2.0]])
    with pytest.raises(CompileError, match="tol"):
        root_condition([1.0], tol=float("nan"))
    assert issubclass(CompileError, ValueError)


def test_verdict_names_are_the_documented_ones():
    assert stab.VERDICTS == ("stable", "marginal", "unstable")


# -- the spec adapter -------------------------------------------------------------------


def test_jacobian_of_vanilla_cell_matches_the_analytic_one():
    import compiler
    spec = compiler.ODERNN(hidden=24, inputs=3, outputs=1, cell="vanilla", method="rk2")
    w, _ = compiler.initial_weights(spec, seed=4)
    J = stab.jacobian(spec, w)
    expected = np.diag(1.0 - np.tanh(w["c"][:, 0]) ** 2) @ w["W"] - np.eye(24)
    np.testing.assert_allclose(J, expected, atol=1e-10)
    # Any point: the state and input enter the pre-activation.
    h, x = np.linspace(-1, 1, 24), np.array([0.3, -0.2, 0.5])
    pre = w["W"] @ h + w["U"] @ x + w["c"][:, 0]
    np.testing.assert_allclose(stab.jacobian(spec, w, h, x, block=5),
                               np.diag(1.0 - np.tanh(pre) ** 2) @ w["W"] - np.eye(24),
                               atol=1e-10)


def test_analyse_uses_the_compilers_initial_weights():
    import compiler
    spec = compiler.ODERNN(hidden=16, inputs=2, outputs=1, cell="gru", method="rk4",
                           step=0.5)
    w, _ = compiler.initial_weights(spec, seed=7)
    direct = analyse_linear("rk4", stab.jacobian(spec, w), 0.5)
    rep = stab.analyse(spec, seed=7)
    assert rep.verdict == direct.verdict and rep.max_gain == pytest.approx(direct.max_gain)
    assert rep.method == "rk4" and rep.n_modes == 16
    assert stab.analyse(spec, weights=w, seed=123).max_gain == pytest.approx(direct.max_gain)


def test_analyse_linear_field_with_given_weights():
    import compiler
    # identity activation, no bias: F = W h - h, J = W - I with known eigenvalues.
    lam = np.array([-0.5, -1.5, -3.2, 0.1])
    spec = compiler.ODERNN(hidden=4, inputs=1, outputs=1, cell="vanilla", method="rk4",
                           activation="identity", bias=False, step=1.0)
    W = np.diag(lam + 1.0)
    rep = stab.analyse(spec, weights={"W": W})
    assert rep.verdict == "unstable"
    np.testing.assert_allclose(sorted(m.eigenvalue.real for m in rep.offending), [-3.2, 0.1],
                               atol=1e-9)
    ok = stab.analyse(spec, weights={"W": np.diag([0.5, -0.5, 0.2, 0.9])})
    assert ok.verdict == "stable"


def test_analyse_unitary_cell_exponential_vs_runge_kutta():
    import compiler
    exp = compiler.ODERNN(hidden=12, inputs=1, outputs=1, cell="unitary",
                          method="exponential")
    rep = stab.analyse(exp)
    assert rep.method == "exponential" and rep.verdict == "marginal"
    assert rep.max_gain == pytest.approx(1.0, abs=1e-9)
    euler = stab.analyse(exp.replace(method="euler"))
    assert euler.verdict == "unstable" and len(euler.offending) == 12


def test_analyse_difference_memory_and_damping():
    import compiler
    base = compiler.ODERNN(hidden=8, inputs=1, outputs=1, order=2, memory="difference",
                           method="euler", step=0.5)
    und = stab.analyse(base)
    assert und.verdict == "unstable" and und.memory.multiplicity == 2
    damped = stab.analyse(base.replace(memory="damped"))
    assert damped.memory.verdict == "stable"


def test_analyse_rejects_non_specs():
    with pytest.raises(CompileError, match="spec"):
        stab.analyse({"hidden": 4})


def test_compile_reports_and_enforces_the_verdict():
    import warnings
    import compiler
    spec = compiler.ODERNN(hidden=6, inputs=1, outputs=1, cell="unitary", method="euler")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = compiler.compile(spec, target="ideal")
    assert isinstance(result.stability, stab.StabilityReport)
    assert result.stability.verdict == "unstable"
    assert result.report.stability["verdict"] == "unstable"
    with pytest.warns(compiler.StabilityWarning):
        compiler.compile(spec, target="ideal")
    with pytest.raises(CompileError, match="unstable"):
        compiler.compile(spec, target="ideal", strict=True)
