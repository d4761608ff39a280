"""Argument checks shared by every device dataclass and kernel entry point.

Each check raises :class:`devices.errors.DeviceError` (a ``ValueError``) or ``TypeError``
naming the owner, the parameter, the value and what is allowed, so that a bad configuration
fails at construction and never deep inside a numba kernel.
"""

import math
import numbers

import numpy as np

from .errors import DeviceError


def real(owner, name, value, *, low=None, high=None, low_open=False, high_open=False):
    """Return ``value`` as a float after checking it is a finite real in the given range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}.{name} must be a real number, got {value!r} "
                        f"({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise DeviceError(f"{owner}.{name} must be finite, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        rel = ">" if low_open else ">="
        raise DeviceError(f"{owner}.{name} must be {rel} {low}, got {value!r}")
    if high is not None and (value > high or (high_open and value == high)):
        rel = "<" if high_open else "<="
        raise DeviceError(f"{owner}.{name} must be {rel} {high}, got {value!r}")
    return value


def integer(owner, name, value, *, low=None, high=None):
    """Return ``value`` as an int after checking type and range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}.{name} must be an integer, got {value!r} "
                        f"({type(value).__name__})")
    value = int(value)
    if low is not None and value < low:
        raise DeviceError(f"{owner}.{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise DeviceError(f"{owner}.{name} must be <= {high}, got {value}")
    return value


def boolean(owner, name, value):
    """Return ``value`` after checking it is a bool (numpy bools accepted)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}.{name} must be True or False, got {value!r}")
    return bool(value)


def choice(owner, name, value, allowed):
    """Return ``value`` (lower-cased) after checking it is one of ``allowed``."""
    if not isinstance(value, str) or value.lower() not in allowed:
        raise DeviceError(f"{owner}.{name} must be one of {sorted(allowed)}, got {value!r}")
    return value.lower()


def real_sequence(owner, name, values, *, low=None, min_len=1):
    """Return ``values`` as a tuple of finite floats (each >= ``low``)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(f"{owner}.{name} must be a sequence of numbers, got {values!r}")
    if len(values) < min_len:
        raise DeviceError(f"{owner}.{name} needs at least {min_len} value(s), got {len(values)}")
    return tuple(real(owner, f"{name}[{k}]", v, low=low) for k, v in enumerate(values))


def array(owner, name, value, *, shape=None, ndim=None, dtype=np.float64, finite=True):
    """Return ``value`` as a C-contiguous array of ``dtype`` with the given shape or ndim.

    ``shape`` entries may be ``None`` to accept any length on that axis.
    """
    target = np.dtype(dtype)
    try:
        if target.kind in "biu":
            # Casting silently turns NaN into garbage and 0.7 into 0; refuse instead.
            raw = np.asarray(value)
            if raw.dtype.kind in "fc":
                bad = ~np.isfinite(raw) | (raw != np.round(raw.real))
                if target.kind == "b":
                    bad |= (raw != 0) & (raw != 1)
                if np.any(bad):
                    where = tuple(int(b) for b in np.argwhere(bad)[0])
                    allowed = "0 or 1" if target.kind == "b" else "whole numbers"
                    raise DeviceError(f"{owner}.{name} must hold {allowed}; found "
                                      f"{raw[where]!r} at index {where}")
        arr = np.ascontiguousarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, DeviceError):
            raise
        raise TypeError(f"{owner}.{name} must be array-like of {np.dtype(dtype).name}, "
                        f"got {type(value).__name__}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise DeviceError(f"{owner}.{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if shape is not None:
        ok = arr.ndim == len(shape) and all(s is None or s == a for s, a in zip(shape, arr.shape))
        if not ok:
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise DeviceError(f"{owner}.{name} must have shape {want}, got {arr.shape}")
    if finite and arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise DeviceError(f"{owner}.{name} must be finite; found {arr[tuple(bad)]} at index "
                          f"{tuple(int(b) for b in bad)}")
    return arr


def seed(owner, value):
    """Return a seed as a non-negative int below 2**63."""
    return integer(owner, "seed", value, low=0, high=2**63 - 1)
