"""Butcher tableaus and multistep memories: validation, named sets, the truncated exponential."""

import math

import numpy as np
import pytest

from compiler.errors import CompileError
from compiler.methods import (ALIASES, TABLEAUS, ButcherTableau, get_tableau, multistep)


def rk_step(tab, A, h, dt):
    """One explicit RK step of F(h) = A h, written from the tableau."""
    ks = []
    for i in range(tab.stages):
        point = h + dt * sum((tab.a[i][l] * ks[l] for l in range(i)), np.zeros_like(h))
        ks.append(A @ point)
    return h + dt * sum(b * k for b, k in zip(tab.b, ks))


def truncated_exp(Z, n):
    out, term = np.eye(len(Z)), np.eye(len(Z))
    for m in range(1, n + 1):
        term = term @ Z / m
        out = out + term
    return out


@pytest.mark.parametrize("name", sorted(TABLEAUS) + sorted(ALIASES))
def test_named_step_is_truncated_exponential(name):
    tab = get_tableau(name)
    rng = np.random.default_rng(3)
    A = rng.standard_normal((5, 5))
    h = rng.standard_normal(5)
    dt = 0.3
    expected = truncated_exp(dt * A, tab.stages) @ h
    assert np.allclose(rk_step(tab, A, h, dt), expected, rtol=0, atol=1e-13)


def test_named_tableaus():
    assert {k: (t.stages, t.order) for k, t in TABLEAUS.items()} == {
        "euler": (1, 1), "midpoint": (2, 2), "heun": (2, 2), "rk3": (3, 3), "rk4": (4, 4)}
    assert get_tableau("RK2") is TABLEAUS["midpoint"]
    assert get_tableau("rk1") is TABLEAUS["euler"]
    assert TABLEAUS["rk3"].a == ((0.0, 0.0, 0.0), (0.5, 0.0, 0.0), (-1.0, 2.0, 0.0))
    t = TABLEAUS["rk4"]
    assert get_tableau(t) is t
    assert get_tableau(t.to_dict()) == t


def test_dict_tableau_infers_c_and_order():
    t = get_tableau({"a": [[0, 0], [1, 0]], "b": [0.5, 0.5]})
    assert t.c == (0.0, 1.0) and t.order == 2 and t.name == "custom"
    # Ralston's third-order method
    t3 = get_tableau({"name": "ralston3", "a": [[0, 0, 0], [0.5, 0, 0], [0, 0.75, 0]],
                      "b": [2 / 9, 1 / 3, 4 / 9]})
    assert t3.order == 3


@pytest.mark.parametrize("kwargs, field", [
    (dict(a=((0.0, 1.0), (0.0, 0.0)), b=(0.5, 0.5), c=(1.0, 0.0), order=1), "a"),
    (dict(a=((0.0,),), b=(0.9,), c=(0.0,), order=1), "b"),
    (dict(a=((0.0, 0.0), (1.0, 0.0)), b=(0.5, 0.5), c=(0.0, 0.5), order=2), "c"),
    (dict(a=((0.0, 0.0), (1.0, 0.0)), b=(0.5, 0.5), c=(0.0, 1.0), order=3), "order"),
    (dict(a=((0.0, 0.0), (0.7, 0.0)), b=(0.5, 0.5), c=(0.0, 0.7), order=2), "order"),
    (dict(a=((0.0,),), b=(float("nan"),), c=(0.0,), order=1), "b"),
    (dict(a=((0.0, 0.0),), b=(0.5, 0.5), c=(0.0, 0.0), order=1), "a"),
    (dict(a=((0.0,),), b=(1.0,), c=(0.0,), order=0), "order"),
])
def test_invalid_tableau_names_field(kwargs, field):
    with pytest.raises(CompileError, match=rf"^{field}\b"):
        ButcherTableau("bad", **kwargs)


def test_unknown_method_lists_allowed():
    with pytest.raises(CompileError, match="method: unknown method 'rk9'.*rk4"):
        get_tableau("rk9")
    with pytest.raises(CompileError, match="unknown tableau key"):
        get_tableau({"a": [[0]], "b": [1], "weights": 1})


@pytest.mark.parametrize("t", [1, 2, 3, 4, 5])
def test_difference_memory(t):
    alpha = multistep("difference", t)
    assert alpha == tuple(float((-1) ** (j + 1) * math.comb(t, j)) for j in range(1, t + 1))
    # rho(zeta) = zeta^t - sum alpha_j zeta^(t-j) = (zeta - 1)^t
    rho = np.concatenate([[1.0], -np.array(alpha)])
    assert np.allclose(rho, np.poly(np.ones(t)))


@pytest.mark.parametrize("t", [1, 2, 3])
def test_damped_memory_roots_inside_unit_circle(t):
    alpha = multistep("damped", t)
    roots = np.roots(np.concatenate([[1.0], -np.array(alpha)]))
    assert np.allclose(np.abs(roots), 0.9, atol=1e-4)
    assert multistep({"name": "damped", "damping": 0.5}, 2) == (1.0, -0.25)
    assert multistep("damped", 1, damping=0.7) == (0.7,)


def test_given_memory_and_errors():
    assert multistep([1.5, -0.5], 2) == (1.5, -0.5)
    assert multistep({"coefficients": [0.5]}, 1) == (0.5,)
    with pytest.raises(CompileError, match="memory must have order = 2"):
        multistep([1.0], 2)
    with pytest.raises(CompileError, match="memory: unknown memory 'adams'"):
        multistep("adams", 1)
    with pytest.raises(CompileError, match="damping must be in"):
        multistep("damped", 2, damping=1.0)
    with pytest.raises(CompileError, match="order must be a positive integer"):
        multistep("difference", 0)
    with pytest.raises(CompileError, match="memory\\[1\\] must be finite"):
        multistep([1.0, float("inf")], 2)
