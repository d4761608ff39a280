"""The symmetry-aware training pass: syre and syre-ar mapped onto the hardware.

syre (Ziyin, Xu & Chuang, ICLR 2025; reference/theory.md section 5) trains
``theta`` of the deployed weights ``phi = theta + theta0``, with ``theta0 ~ N(0, sigma0^2)``
drawn once and frozen, under weight decay ``gamma ||theta||^2`` (syre-ar: ``gamma theta^T D
theta`` with ``D = diag(1 + xi)``, ``xi ~ U(-anisotropy, anisotropy)``). Equivalently the
weights decay toward a random anchor, ``gamma ||phi - theta0||^2``: the anchor differs from
every symmetric state almost surely, so no reflection symmetry (dead neurons, merged
neurons, low rank) stays a fixed point of the training dynamics.

On the hardware that is two things per weight, both written into the tile specs of the
lowered :class:`hwsim.DeviceGraph` by :func:`apply`:

the anchor
    ``source="reference"``: :attr:`hwsim.TileSpec.offset` = ``theta0``. Exact on the ideal
    target; on the device target a reference device array programmed once to ``-theta0``
    and read differentially (:class:`hwsim.AnalogTile`, Notes), so the learning devices
    hold ``theta`` and relax toward their reset value, about 0.

    ``source="device"``: no extra array; the devices' own device-to-device variation of
    their reset value is the anchor. A device's weight decay relaxes each cell toward its
    reset bias ``b_ij = reset + reset_dtod xi_ij`` (additive, as in :mod:`devices` and in
    aihwkit, whose source marks it "additive dtod"; reference/devices.md's relative
    ``reset (1 + reset_dtod xi)`` matches neither and would give no spread at ``reset = 0``).
    So the pass sets ``reset_dtod = sigma0`` on the tile's device model (keeping its mean
    ``reset``): ``phi -> b ~ N(reset, sigma0^2)``. In a :class:`hwsim.DifferentialPair`
    both devices decay, ``W -> b+ - b-``, so each gets ``sigma0 / sqrt(2)``; in a
    :class:`hwsim.ReferenceCell` only ``w0`` decays, so it gets ``sigma0`` (the anchor is
    then ``b0 - w1``, shifted by the cell's fixed reference). The draws are made when the
    simulator realises the devices (from its seed, not the pass's), and the ideal target,
    having no devices, has no anchor: such a graph trains there with plain decay toward 0.
    Use ``"reference"`` to compare the two targets.

the decay
    :attr:`hwsim.TileSpec.weight_decay` = ``gamma`` (a float), or ``gamma D`` (a
    per-weight array) with ``anisotropy > 0``. A learning rule adds it to its own weight
    decay (:class:`hwsim.rules.PulsedSGD`), so every update is followed by
    ``theta <- theta (1 - lr gamma D)`` on the learning devices: the decoupled syre step.

Conventions: ``gamma`` is the decay coefficient of that step. With hwsim's ``mse`` (half
the squared error) gradient descent then minimises ``E l(phi) + (gamma / 2) theta^T D
theta``, the same minimiser as theory.md's ``||y - X phi||^2 / N + gamma ||theta||^2``:
``phi* = (X^T X / N + gamma I)^-1 (X^T y / N + gamma theta0)`` (tests/compiler/test_syre.py).
``sigma0=None`` means ``0.01 / sqrt(in_size)`` for each tile (the paper's 0.01 times the
init scale ``1/sqrt(fan_in)``; after tiling the fan-in seen is the tile's column count).
"""

import dataclasses
import hashlib
import math
import numbers
from dataclasses import dataclass

import numpy as np

import devices
import hwsim
from hwsim import cells

from ..errors import CompileError

__all__ = ["Syre", "SOURCES", "apply", "default_sigma0"]

#: Where the anchor comes from: a reference array, or the devices' reset-value variation.
SOURCES = ("reference", "device")

# stream tags under (seed, tile name): the anchor and the anisotropy are independent draws
_ANCHOR, _ANISOTROPY = 1, 2


def _real(owner, name, value, *, low=None, high=None, low_open=False, high_open=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}.{name} must be a real number, got {value!r} "
                        f"({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise CompileError(f"{owner}.{name} must be finite, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        raise CompileError(f"{owner}.{name} must be {'>' if low_open else '>='} {low}, got "
                           f"{value!r}")
    if high is not None and (value > high or (high_open and value == high)):
        raise CompileError(f"{owner}.{name} must be {'<' if high_open else '<='} {high}, got "
                           f"{value!r}")
    return value


def default_sigma0(fan_in):
    """The paper's anchor scale for a tile of ``fan_in`` columns: ``0.01 / sqrt(fan_in)``."""
    return 0.01 / math.sqrt(fan_in)


@dataclass(frozen=True)
class Syre:
    """Symmetry-aware training (syre, syre-ar): a random anchor per weight and decay to it.

    Parameters
    ----------
    sigma0 : float or None
        Standard deviation of the anchor ``theta0 ~ N(0, sigma0^2)``, > 0. None: per tile
        ``0.01 / sqrt(in_size)`` (reference/theory.md section 5.2).
    gamma : float
        Weight decay coefficient toward the anchor, > 0 (Prop. 1 of the paper: without
        decay the anchor removes nothing). Each update is followed by
        ``theta <- theta (1 - lr gamma D)``.
    anisotropy : float
        syre-ar: ``D = 1 + xi`` per weight, ``xi ~ U(-anisotropy, anisotropy)``, in [0, 1).
        0 (default) is plain syre, ``D = I``. The paper suggests a spread well below the
        relative anchor scale (``0.01``, or ``0.1 sigma0`` in weight units).
    source : {"reference", "device"}
        The anchor as a reference device array per tile (default; exact on the ideal
        target), or the devices' own device-to-device variation of their reset value
        (device target only); see the module documentation.

    Raises
    ------
    CompileError
        A value out of range or an unknown source; TypeError for a wrong type.
    """

    sigma0: object = None
    gamma: float = 1e-3
    anisotropy: float = 0.0
    source: str = "reference"

    def __post_init__(self):
        owner = "Syre"
        if self.sigma0 is not None:
            object.__setattr__(self, "sigma0", _real(owner, "sigma0", self.sigma0, low=0.0,
                                                     low_open=True))
        object.__setattr__(self, "gamma", _real(owner, "gamma", self.gamma, low=0.0,
                                                low_open=True))
        object.__setattr__(self, "anisotropy", _real(owner, "anisotropy", self.anisotropy,
                                                     low=0.0, high=1.0, high_open=True))
        if not isinstance(self.source, str) or self.source.lower() not in SOURCES:
            raise CompileError(f"{owner}.source must be one of {list(SOURCES)}, got "
                               f"{self.source!r}")
        object.__setattr__(self, "source", self.source.lower())

    def sigma_for(self, fan_in):
        """The anchor scale of a tile with ``fan_in`` columns."""
        return default_sigma0(fan_in) if self.sigma0 is None else self.sigma0

    def replace(self, **changes):
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        """``{"sigma0": ..., "gamma": ..., "anisotropy": ..., "source": ...}``."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data):
        """Rebuild from :meth:`to_dict` (missing keys take their defaults).

        Raises CompileError for anything but a dict or for an unknown key.
        """
        if not isinstance(data, dict):
            raise CompileError(f"Syre.from_dict: expected an object, got {data!r}")
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise CompileError(f"Syre: unknown key(s) {', '.join(map(repr, unknown))}; known: "
                               f"{', '.join(known)}")
        return cls(**data)


def _stream(seed, name, tag):
    """A generator for tile ``name`` under ``seed``: SHA-256 of the name, not Python's salted
    ``hash``, so it is the same in every process and adding a tile shifts no other."""
    digest = hashlib.sha256(f"compiler.syre:{name}".encode()).digest()
    words = [int.from_bytes(digest[k:k + 4], "little") for k in range(0, 16, 4)]
    return np.random.default_rng(np.random.SeedSequence([seed, 0x5E7E, tag, *words]))


def _device_model(device):
    """The device model a spec's ``device`` stands for (None: the tile's default)."""
    if device is None:
        return devices.ConstantStep()
    if isinstance(device, str):
        return devices.preset(device)
    return device


def _device_with_anchor(owner, device, sigma):
    """``device`` with its reset-value spread set so that the decay target is the anchor."""
    if isinstance(device, cells.DifferentialPair):
        model = device.device.replace(reset_dtod=sigma / math.sqrt(2.0))
        return device.replace(device=model)
    if isinstance(device, cells.ReferenceCell):
        return device.replace(device=device.device.replace(reset_dtod=sigma))
    if isinstance(device, cells.UnitCell):
        raise CompileError(f"{owner}: source='device' does not know how unit cell "
                           f"{type(device).__name__} decays; use source='reference'")
    return _device_model(device).replace(reset_dtod=sigma)


def apply(graph, syre, seed=0):
    """Give every tile of ``graph`` syre's anchor and decay; returns a new graph.

    Parameters
    ----------
    graph : hwsim.DeviceGraph
        The lowered graph; it is not modified.
    syre : Syre
    seed : int
        Seeds the anchors and the anisotropy, per tile by its name: the same seed gives
        the same graph.

    Returns
    -------
    hwsim.DeviceGraph
        A copy whose tile specs carry ``offset`` (``source="reference"``) or a device with
        ``reset_dtod = sigma0`` (``source="device"``), and ``weight_decay`` = ``gamma`` or
        the array ``gamma D``.

    Raises
    ------
    CompileError
        A tile that already has an offset or its own weight decay (syre applied twice),
        or ``source="device"`` with a unit cell it cannot map.
    TypeError
        ``graph`` not a DeviceGraph, ``syre`` not a Syre.
    """
    if not isinstance(graph, hwsim.DeviceGraph):
        raise TypeError(f"syre.apply: graph must be a hwsim.DeviceGraph, got "
                        f"{type(graph).__name__}")
    if not isinstance(syre, Syre):
        raise TypeError(f"syre.apply: syre must be a compiler.Syre, got {syre!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or \
            not 0 <= seed < 2 ** 63:
        raise CompileError(f"syre.apply: seed must be an integer in [0, 2**63), got {seed!r}")
    data = graph.to_dict()
    tiles = []
    for spec in graph.tiles.values():
        owner = f"syre.apply: tile {spec.name!r}"
        if spec.offset is not None or spec.weight_decay is not None:
            raise CompileError(f"{owner} already has an offset or its own weight decay "
                               "(was syre applied twice?)")
        sigma = syre.sigma_for(spec.in_size)
        entry = spec.to_dict()
        if syre.source == "reference":
            entry["offset"] = (sigma * _stream(seed, spec.name, _ANCHOR)
                               .standard_normal(spec.shape)).tolist()
        else:
            device = _device_with_anchor(owner, spec.device, sigma)
            entry["device"] = hwsim.TileSpec(spec.name, spec.out_size, spec.in_size,
                                             device=device).to_dict()["device"]
        if syre.anisotropy > 0.0:
            eps = syre.anisotropy
            d = 1.0 + _stream(seed, spec.name, _ANISOTROPY).uniform(-eps, eps, spec.shape)
            entry["weight_decay"] = (syre.gamma * d).tolist()
        else:
            entry["weight_decay"] = syre.gamma
        tiles.append(entry)
    data["tiles"] = tiles
    return hwsim.DeviceGraph.from_dict(data)
