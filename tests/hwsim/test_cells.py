"""Unit cells: the differential pair (one-sided updates, refresh) and the reference cell.

Statistical checks use fixed seeds and tolerances of ``K_SIGMA`` standard errors derived
from the configured variance.
"""

import numpy as np
import pytest

import devices
from devices.analysis import mean_device, symmetry_point
from hwsim.cells import (DifferentialPair, DifferentialPairArray, ReferenceCell,
                         ReferenceCellArray, symmetry_points)
from hwsim.errors import ConfigError
from hwsim.io import IOConfig
from hwsim.tile import AnalogTile, UpdateConfig

K_SIGMA = 5.0


def clean_device(**changes):
    """Constant noise-free steps; bounds [-1, 1] unless changed."""
    kw = dict(dw_min=0.001, dw_min_dtod=0.0, dw_min_std=0.0, up_down_dtod=0.0, w_min=-1.0,
              w_max=1.0, w_min_dtod=0.0, w_max_dtod=0.0, reset_std=0.0)
    kw.update(changes)
    return devices.ConstantStep(**kw)


def data(seed, *shape):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, shape)


# ---------------------------------------------------------------- configs
def test_configs_validate():
    assert DifferentialPair("reram-es").device == devices.preset("reram-es")
    with pytest.raises(TypeError, match="device"):
        DifferentialPair(1.0)
    with pytest.raises(ConfigError, match="nope"):
        DifferentialPair("nope")
    with pytest.raises(ConfigError, match="refresh_lower"):
        DifferentialPair(clean_device(), refresh_upper=0.3, refresh_lower=0.5)
    with pytest.raises(ConfigError, match="refresh_every"):
        DifferentialPair(clean_device(), refresh_every=-1)
    with pytest.raises(ConfigError, match="refresh_upper"):
        DifferentialPair(clean_device(), refresh_upper=float("nan"))
    with pytest.raises(ConfigError, match="reference"):
        ReferenceCell(clean_device(), reference="middle")
    with pytest.raises(ConfigError, match="reference"):
        ReferenceCell(clean_device(), reference=float("inf"))
    with pytest.raises(AttributeError):
        DifferentialPair(clean_device()).refresh_every = 3
    assert ReferenceCell(clean_device(), reference=0.2).replace(reference="zero").reference \
        == "zero"


# ---------------------------------------------------------------- differential pair
def test_pair_weights_are_the_difference():
    pair = DifferentialPair(clean_device()).realize((3, 4), seed=1)
    assert isinstance(pair, DifferentialPairArray)
    w = data(1, 3, 4) * 0.5
    pair.set_weights(w)
    assert np.allclose(pair.plus.weights, np.maximum(w, 0))
    assert np.allclose(pair.minus.weights, np.maximum(-w, 0))
    assert np.allclose(pair.weights, w) and np.allclose(pair.hidden_weights, w)


def test_pair_float_update_is_exact_and_one_sided():
    pair = DifferentialPair(clean_device(), refresh_every=0).realize((4, 5), seed=2)
    w0 = data(2, 4, 5) * 0.3
    pair.set_weights(w0)
    plus, minus = pair.plus.weights, pair.minus.weights
    x, d = data(3, 3, 5), data(4, 3, 4)
    pair.update(x, d, 0.1, UpdateConfig(pulse_type="none"))
    assert np.allclose(pair.weights, w0 - 0.1 * d.T @ x, atol=1e-12)
    assert np.all(pair.plus.weights >= plus - 1e-15)
    assert np.all(pair.minus.weights >= minus - 1e-15)


def test_pair_pulsed_update_sends_only_up_pulses():
    pair = DifferentialPair(clean_device(), refresh_every=0).realize((6, 5), seed=3)
    x, d = data(5, 4, 5), data(6, 4, 6)
    before_p, before_m = pair.plus.weights, pair.minus.weights
    up, down = pair.update(x, d, 0.05)
    assert down == 0 and up > 0
    assert np.all(pair.plus.weights >= before_p) and np.all(pair.minus.weights >= before_m)
    # noise-free constant steps: each pulse is exactly dw_min on one device
    total = (pair.plus.weights - before_p).sum() + (pair.minus.weights - before_m).sum()
    assert total == pytest.approx(up * 0.001)
    assert tuple(pair.pulse_counts) == (up, 0)


def test_pair_pulsed_update_follows_its_target_on_average():
    pair = DifferentialPair(clean_device(), refresh_every=0).realize((4, 4), seed=4)
    x, d = data(7, 1, 4), data(8, 1, 4)
    lr, eps, n = 0.005, 0.001, 150   # |target| <= 0.75: inside the bounds of both devices
    for _ in range(n):
        pair.update(x, d, lr)
    target = -n * lr * d.T @ x
    se = eps * np.sqrt(n * lr * np.abs(d.T @ x) / eps)
    assert np.all(np.abs(pair.weights - target) <= K_SIGMA * se + eps)


def _loaded_pair(**cfg):
    pair = DifferentialPair(clean_device(), **cfg).realize((2, 3), seed=5)
    plus = np.array([[0.9, 0.9, 0.5], [0.3, 0.8, 0.1]])
    minus = np.array([[0.5, 0.1, 0.9], [0.85, 0.26, 0.1]])
    pair.plus.set_weights(plus)
    pair.minus.set_weights(minus)
    # refresh when the larger > 0.75 and the smaller > 0.25
    due = np.array([[True, False, True], [True, True, False]])
    return pair, plus - minus, due


def test_refresh_keeps_the_weight_and_frees_the_range():
    pair, w, due = _loaded_pair()
    assert np.array_equal(pair.refresh_mask(), due)
    assert pair.refresh() == due.sum() == pair.refreshes
    # noise-free constant steps: the closed loop lands within half a step
    assert np.allclose(pair.weights, w, atol=0.5e-3 + 1e-12)
    low = np.minimum(pair.plus.weights, pair.minus.weights)
    assert np.all(low[due] == 0.0)
    assert np.allclose(pair.plus.weights[~due], np.array([[0.9, 0.9, 0.5],
                                                          [0.3, 0.8, 0.1]])[~due])
    assert pair.refresh_pulses == pytest.approx(np.abs(w[due]).sum() / 1e-3,
                                                abs=int(due.sum()))
    assert pair.refresh() == 0


def test_refresh_runs_every_n_updates():
    pair, w, due = _loaded_pair(refresh_every=2)
    zero = (np.zeros((1, 3)), np.zeros((1, 2)))
    assert pair.update(*zero, 0.01) == (0, 0) and pair.refreshes == 0
    up, down = pair.update(*zero, 0.01)
    assert pair.refreshes == due.sum() and up == pair.refresh_pulses > 0 and down == 0
    assert np.allclose(pair.weights, w, atol=0.5e-3 + 1e-12)


def test_refresh_off():
    pair, _, _ = _loaded_pair(refresh_every=0)
    for _ in range(3):
        pair.update(np.zeros(3), np.zeros(2), 0.01)
    assert pair.refreshes == 0


def test_pair_on_a_noisy_preset_in_a_tile():
    tile = AnalogTile(8, 6, device=DifferentialPair(devices.preset("reram-es")), seed=1)
    assert isinstance(tile.array, DifferentialPairArray)
    x, d = data(9, 4, 6), data(10, 4, 8)
    y = tile.forward(x)
    assert y.shape == (4, 8) and tile.backward(d).shape == (4, 6)
    w = tile.weights()
    for _ in range(20):
        up, down = tile.update(x, d, 0.05)
        assert down == 0
    assert tile.counters["pulses_up"] > 0 and tile.counters["pulses_down"] == 0
    # the mean change follows the target direction
    change = tile.weights() - w
    target = -20 * 0.05 * d.T @ x
    assert np.corrcoef(change.ravel(), target.ravel())[0, 1] > 0.5


def test_pair_copy_is_independent():
    pair = DifferentialPair(clean_device()).realize((2, 2), seed=6)
    twin = pair.copy()
    pair.update(np.ones(2), np.ones(2), 0.1)
    assert np.all(twin.weights == 0.0) and np.any(pair.weights != 0.0)
    twin.update(np.ones(2), np.ones(2), 0.1)
    assert np.array_equal(twin.weights, pair.weights)


# ---------------------------------------------------------------- reference cell
def test_reference_cell_reads_w0_minus_w1():
    tile = AnalogTile(3, 4, device=ReferenceCell("reram-sb", reference=0.2),
                      io=IOConfig.perfect(), seed=2)
    cell = tile.array
    assert isinstance(cell, ReferenceCellArray)
    assert np.allclose(tile.weights(), cell.device.weights - cell.reference.weights)
    x = data(11, 4)
    assert np.allclose(tile.forward(x), tile.weights() @ x)


def test_reference_cell_updates_only_device_zero():
    cell = ReferenceCell(clean_device(), reference=0.1).realize((3, 3), seed=3)
    ref = cell.reference.weights
    assert np.allclose(ref, 0.1) and np.allclose(cell.weights, 0.0)
    up, down = cell.update(data(1, 2, 3), data(2, 2, 3), 0.05)
    assert up + down > 0
    assert np.array_equal(cell.reference.weights, ref)
    assert np.allclose(cell.weights, cell.device.weights - 0.1)
    w = data(3, 3, 3) * 0.5
    cell.set_weights(w)
    assert np.allclose(cell.weights, w)


def test_reference_defaults_to_the_symmetry_point_of_device_zero():
    model = devices.SoftBounds(dw_min=0.01, up_down=0.3, dw_min_std=0.0)
    cell = ReferenceCell(model).realize((5, 6), seed=4)
    dev = cell.device
    # soft bounds: w* = (dw_up - dw_down) / (dw_up / bmax - dw_down / bmin), per cell
    exact = (dev.dw_up - dev.dw_down) / (dev.dw_up / dev.bmax - dev.dw_down / dev.bmin)
    # the reference is another device: it holds the point within its own bounds
    ref = cell.reference
    assert np.allclose(ref.hidden_weights, np.clip(exact, ref.bmin, ref.bmax), atol=1e-9)
    assert np.allclose(cell.weights, 0.0)
    assert np.allclose(ReferenceCell(model, reference="zero").realize((2, 2)).reference.weights,
                       0.0)


@pytest.mark.parametrize("name", ["reram-es", "pcm", "ecram"])
def test_symmetry_points_match_the_device_library(name):
    model = mean_device(devices.preset(name))
    points = symmetry_points(model.realize((2, 2), seed=0))
    assert np.allclose(points, symmetry_point(model), atol=1e-3 * model.num_states * 1e-3)


def test_no_symmetry_point_gives_zero():
    arr = clean_device().realize((2, 3), seed=0)
    assert np.array_equal(symmetry_points(arr), np.zeros((2, 3)))


def test_reference_cell_relaxes_toward_zero_under_random_pulses():
    # soft bounds relax to the symmetry point, which the reference subtracts
    model = devices.SoftBounds(dw_min=0.02, up_down=0.4, dw_min_std=0.0, dw_min_dtod=0.0)
    cell = ReferenceCell(model).realize((4, 4), seed=5)
    plain = model.realize((4, 4), seed=5)
    rng = np.random.default_rng(0)
    for _ in range(300):
        x, d = rng.choice([-1.0, 1.0], (1, 4)), rng.choice([-1.0, 1.0], (1, 4))
        cell.update(x, d, 0.02)
        plain.update(x, d, 0.02)
    assert np.abs(cell.weights).mean() < 0.5 * np.abs(plain.weights).mean()


def test_reference_decays_with_device_zero():
    model = clean_device(lifetime=10.0)
    cell = ReferenceCell(model, reference=0.5).realize((2, 2), seed=6)
    cell.set_weights(np.full((2, 2), 0.2))
    cell.decay()
    assert np.allclose(cell.reference.weights, 0.45)
    assert np.allclose(cell.weights, 0.7 * 0.9 - 0.45)
