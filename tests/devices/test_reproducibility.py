"""Reproducibility: same seed, same bits; thread count does not matter; seeds differ."""

import hashlib
import os
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest

import devices as D

from conftest import FAMILY_NAMES, make_model

SHAPE = (23, 17)  # odd sizes so prange chunks do not align with rows

NOISY = dict(write_noise_std=1.5, diffusion=0.002, diffusion_dtod=0.2, lifetime=50.0,
             lifetime_dtod=0.2, reset_std=0.01, reset_dtod=0.01, corrupt_devices_prob=0.05)


def _workout(arr):
    """A fixed sequence of every random operation; returns the state afterwards."""
    gen = np.random.default_rng(123)
    rows, cols = arr.shape
    arr.pulse(gen.integers(-6, 7, size=arr.shape))
    arr.update(gen.normal(size=(5, cols)), gen.normal(size=(5, rows)), 0.01)
    arr.update(gen.normal(size=(3, cols)), gen.normal(size=(3, rows)), 0.02,
               D.UpdateParameters(update_bl_management=False))
    arr.pulse_train(np.array([1, 1, -1, 0, 1, -1, -1]))
    arr.diffuse()
    arr.decay()
    arr.reset(gen.random(arr.shape) < 0.3)
    arr.pulse(3)
    arr.set_weights(arr.hidden_weights * 0.5)
    return state(arr)


def state(arr):
    return {"w": arr.hidden_weights, "visible": arr.weights, "dw_up": arr.dw_up,
            "dw_down": arr.dw_down, "bmin": arr.bmin, "bmax": arr.bmax,
            "cp": arr.cell_params, "counts": arr.pulse_counts.copy()}


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_same_seed_gives_identical_arrays(family):
    a = make_model(family, **NOISY).realize(SHAPE, seed=77)
    b = make_model(family, **NOISY).realize(SHAPE, seed=77)
    assert_same(state(a), state(b))
    assert_same(_workout(a), _workout(b))


def test_different_seeds_differ(family):
    a = make_model(family, **NOISY).realize(SHAPE, seed=1)
    b = make_model(family, **NOISY).realize(SHAPE, seed=2)
    assert np.mean(a.dw_up != b.dw_up) > 0.9
    assert np.mean(a.bmax != b.bmax) > 0.9
    sa, sb = _workout(a), _workout(b)
    assert np.mean(sa["w"] != sb["w"]) > 0.5


def test_different_seeds_draw_different_c2c_noise():
    """Without any d2d spread two seeds realise the same array but pulse it differently."""
    model = D.ConstantStep(dw_min_dtod=0.0, up_down_dtod=0.0, w_min_dtod=0.0, w_max_dtod=0.0)
    a, b = model.realize(SHAPE, seed=5), model.realize(SHAPE, seed=6)
    np.testing.assert_array_equal(a.dw_up, b.dw_up)
    a.pulse(1)
    b.pulse(1)
    assert np.all(a.hidden_weights != b.hidden_weights)


def test_successive_calls_draw_fresh_noise():
    model = D.ConstantStep(dw_min_dtod=0.0, up_down_dtod=0.0)
    arr = model.realize(SHAPE, seed=7)
    arr.pulse(1)
    first = arr.hidden_weights
    arr.set_weights(np.zeros(SHAPE))
    arr.pulse(1)
    assert np.all(arr.hidden_weights != first)


def test_copy_continues_the_same_random_streams():
    arr = D.SoftBounds(**NOISY).realize(SHAPE, seed=8)
    arr.pulse(2)
    twin = arr.copy()
    assert_same(_workout(arr), _workout(twin))
    # and the copy is independent
    twin.pulse(5)
    assert np.any(twin.hidden_weights != arr.hidden_weights)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 numba threads")
@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_thread_count_does_not_change_results(name, restore_threads):
    results = []
    for threads in (1, 2):
        numba.set_num_threads(threads)
        arr = make_model(name, **NOISY).realize(SHAPE, seed=99)
        results.append(_workout(arr))
    assert numba.get_num_threads() == 2
    assert_same(*results)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 numba threads")
@pytest.mark.parametrize("op", ["pulse", "update", "diffuse", "reset"])
def test_each_parallel_kernel_is_thread_count_independent(op, restore_threads):
    out = []
    for threads in (1, 2):
        numba.set_num_threads(threads)
        arr = D.ConstantStep(**NOISY).realize((64, 48), seed=3)
        gen = np.random.default_rng(0)
        if op == "pulse":
            arr.pulse(gen.integers(-9, 10, size=arr.shape))
        elif op == "update":
            arr.update(gen.normal(size=(16, 48)), gen.normal(size=(16, 64)), 0.05)
        elif op == "diffuse":
            arr.diffuse()
        else:
            arr.reset()
        out.append((arr.hidden_weights, arr.weights))
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)


def _digest(arr_state):
    h = hashlib.sha256()
    for k in sorted(arr_state):
        h.update(k.encode())
        h.update(np.ascontiguousarray(arr_state[k]).tobytes())
    return h.hexdigest()


def test_same_seed_identical_across_processes():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    script = textwrap.dedent(f"""
        import sys
        sys.path[:0] = [{root!r}, {here!r}]
        import test_reproducibility as T
        from conftest import make_model
        arr = make_model("LinearStep", **T.NOISY).realize(T.SHAPE, seed=4242)
        print(T._digest(T._workout(arr)))
    """)
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, timeout=300, check=True).stdout.strip().splitlines()[-1]
    arr = make_model("LinearStep", **NOISY).realize(SHAPE, seed=4242)
    assert out == _digest(_workout(arr))


# ------------------------------------------------------------------ the counter-based source
def test_counter_based_normals_are_standard_normal_and_pure():
    from scipy import stats

    from devices import rng

    key = rng.key_from_seed(2024)
    out = np.empty(1_000_000)
    rng.fill_normal(key, out)
    again = np.empty(1_000_000)
    rng.fill_normal(key, again)
    np.testing.assert_array_equal(out, again)  # a pure function of (key, counter)
    n = out.size
    assert abs(out.mean()) <= 5 / np.sqrt(n)
    assert abs(out.var() - 1.0) <= 5 * np.sqrt(2.0 / n)
    # binned shape including the ziggurat's tail beyond r = 3.4426
    edges = np.concatenate([[-np.inf], np.linspace(-4.5, 4.5, 91), [np.inf]])
    obs, _ = np.histogram(out, edges)
    exp = np.diff(stats.norm.cdf(edges)) * n
    chi2 = float(np.sum((obs - exp) ** 2 / exp))
    assert chi2 < stats.chi2.isf(1e-6, len(obs) - 1), f"chi2 = {chi2:.1f}"
    tail = np.sum(np.abs(out) > 3.442619855899)
    p_tail = 2 * stats.norm.sf(3.442619855899)
    assert abs(tail - n * p_tail) <= 5 * np.sqrt(n * p_tail)
    uni = np.empty(n)
    rng.fill_uniform(rng.key_from_seed(7), uni)
    assert uni.min() >= 0.0 and uni.max() < 1.0
    assert abs(uni.mean() - 0.5) <= 5 * np.sqrt(1 / 12 / n)
