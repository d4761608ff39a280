"""Build device models from configurations written with aihwkit's names.

No aihwkit is needed: a configuration is a plain dict with the class name under
``"class"`` and parameters under their aihwkit names, e.g.::

    {"class": "SoftBoundsDevice", "dw_min": 0.01, "w_max": 1.0}

Device classes map to the families here, preset classes to the presets (parameters given
next to a preset class override its values), and ``UpdateParameters`` to
:class:`devices.UpdateParameters`. Options of aihwkit's that change the physics but are not
modelled here are refused when set to a non-default value, never silently ignored.
"""

import dataclasses
import math

from .errors import DeviceError
from .models import (ConstantStep, ExpStep, LinearStep, PiecewiseStep, PowStep, SoftBounds,
                     SoftBoundsReference)
from .presets import _ALL as _PRESETS
from .update import UpdateParameters

_FAMILIES = {cls.aihwkit_name: cls for cls in (ConstantStep, LinearStep, SoftBounds, ExpStep,
                                               PowStep, PiecewiseStep, SoftBoundsReference)}

# aihwkit fields with no effect on the physics modelled here.
_BOOKKEEPING = {"construction_seed", "count_pulses"}
# aihwkit fields accepted only at their default value (name -> default).
_DEFAULT_ONLY = {"perfect_bias": False, "reverse_up": False, "reverse_down": False,
                 "reverse_offset": 0.01, "drift": None}
_UPDATE_DEFAULT_ONLY = {"res": 0, "sto_round": False, "x_res_implicit": 0,
                        "d_res_implicit": 0, "d_sparsity": False}


def known_classes():
    """Every class name :func:`from_aihwkit` accepts."""
    return sorted([*_FAMILIES, "SoftBoundsPmaxDevice", "UpdateParameters",
                   *(p.aihwkit_name for p in _PRESETS)])


def from_aihwkit(config):
    """A device model (or ``UpdateParameters``) from an aihwkit-style dict.

    Parameters
    ----------
    config : dict
        ``"class"``: an aihwkit class name (see :func:`known_classes`); every other key an
        aihwkit parameter name of that class.

    Returns
    -------
    PulsedDevice or UpdateParameters

    Raises
    ------
    DeviceError
        Unknown class or parameter name (the message lists the known ones), or an aihwkit
        option this library does not model set to a non-default value.
    """
    if not isinstance(config, dict):
        raise TypeError(f"from_aihwkit: config must be a dict, got {type(config).__name__}")
    if "class" not in config:
        raise DeviceError("from_aihwkit: config needs a 'class' key naming an aihwkit class; "
                          f"known classes: {', '.join(known_classes())}")
    name = config["class"]
    params = {k: v for k, v in config.items() if k != "class"}
    if name == "UpdateParameters":
        return _build(UpdateParameters, name, params, _UPDATE_DEFAULT_ONLY)
    if name == "SoftBoundsPmaxDevice":
        return _soft_bounds_pmax(params)
    if name in _FAMILIES:
        return _build(_FAMILIES[name], name, params, _DEFAULT_ONLY)
    for p in _PRESETS:
        if p.aihwkit_name == name:
            return _build(type(p.model), name, {**_fields(p.model), **params}, _DEFAULT_ONLY)
    raise DeviceError(f"from_aihwkit: unknown class {name!r}; known classes: "
                      f"{', '.join(known_classes())}")


def _fields(obj):
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def _build(cls, name, params, default_only):
    known = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in params.items():
        if key in known:
            kwargs[key] = _plain(value)
        elif key in _BOOKKEEPING:
            continue
        elif key in default_only:
            if value != default_only[key] and not (key == "drift" and not value):
                raise DeviceError(f"from_aihwkit: {name}.{key}={value!r} is not modelled by "
                                  f"hwsim (only the default {default_only[key]!r} is accepted)")
        else:
            allowed = sorted(known | _BOOKKEEPING | set(default_only))
            raise DeviceError(f"from_aihwkit: unknown parameter {key!r} for {name}; known "
                              f"parameters: {', '.join(allowed)}")
    return cls(**kwargs)


def _plain(value):
    """aihwkit enums arrive as names such as ``"PulseType.STOCHASTIC_COMPRESSED"``."""
    if isinstance(value, str) and "." in value and value.split(".")[0][:1].isupper():
        return value.split(".")[-1]
    if isinstance(value, list):
        return tuple(value)
    return value


def _soft_bounds_pmax(params):
    """aihwkit's SoftBoundsPmaxDevice: ``w(p) = B (1 - exp(-alpha p)) + range_min``.

    Maps to soft bounds with ``w_min = range_min``, ``w_max = range_min + B``,
    ``dw_min = B alpha`` and ``up_down = 1 + 2 range_min / B``, where
    ``B = (range_max - range_min) / (1 - exp(-alpha p_max))``.
    """
    own = {"p_max": 1000, "alpha": 0.0005, "range_min": -1.0, "range_max": 1.0}
    derived = {"w_min", "w_max", "dw_min", "up_down"}
    rest = {}
    for key, value in params.items():
        if key in own:
            own[key] = value
        elif key in derived:
            raise DeviceError(f"from_aihwkit: SoftBoundsPmaxDevice.{key} is derived from "
                              "p_max, alpha, range_min and range_max; set those instead")
        else:
            rest[key] = value
    if own["alpha"] <= 0 or own["p_max"] <= 0 or own["range_max"] <= own["range_min"]:
        raise DeviceError("from_aihwkit: SoftBoundsPmaxDevice needs alpha > 0, p_max > 0 and "
                          f"range_max > range_min, got {own}")
    span = own["range_max"] - own["range_min"]
    big_b = span / (1.0 - math.exp(-own["alpha"] * own["p_max"]))
    mapped = {"w_min": own["range_min"], "w_max": own["range_min"] + big_b,
              "dw_min": big_b * own["alpha"], "up_down": 1.0 + 2.0 * own["range_min"] / big_b}
    return _build(SoftBounds, "SoftBoundsPmaxDevice", {**rest, **mapped}, _DEFAULT_ONLY)
