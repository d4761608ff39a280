"""Validation helpers of the compiler: each raises CompileError naming field, value and range.

The compiler cannot use hwsim's helpers for its own errors (they raise hwsim's ConfigError),
so it keeps this small set, used by every ``__post_init__`` and option check.
"""

import math
import numbers

import numpy as np

from .errors import CompileError


def integer(owner, field, value, low=None, high=None):
    """An int (bools refused) in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise CompileError(f"{owner}.{field} must be an integer, got "
                           f"{type(value).__name__} {value!r}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        allowed = (f">= {low}" if high is None else f"<= {high}" if low is None
                   else f"in [{low}, {high}]")
        raise CompileError(f"{owner}.{field} must be {allowed}, got {value!r}")
    return value


def real(owner, field, value, low=None, high=None, low_open=False, high_open=False):
    """A finite float in the given (half-)open or closed interval."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise CompileError(f"{owner}.{field} must be a real number, got "
                           f"{type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise CompileError(f"{owner}.{field} must be finite, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        raise CompileError(f"{owner}.{field} must be {'>' if low_open else '>='} {low:g}, "
                           f"got {value!r}")
    if high is not None and (value > high or (high_open and value == high)):
        raise CompileError(f"{owner}.{field} must be {'<' if high_open else '<='} {high:g}, "
                           f"got {value!r}")
    return value


def boolean(owner, field, value):
    if not isinstance(value, (bool, np.bool_)):
        raise CompileError(f"{owner}.{field} must be True or False, got {value!r}")
    return bool(value)


def choice(owner, field, value, allowed):
    """A string among ``allowed`` (case-insensitive; returned in lower case)."""
    if not isinstance(value, str) or value.strip().lower() not in allowed:
        raise CompileError(f"{owner}.{field} must be one of {', '.join(map(repr, allowed))}, "
                           f"got {value!r}")
    return value.strip().lower()


def name(owner, field, value):
    if not isinstance(value, str) or not value.strip():
        raise CompileError(f"{owner}.{field} must be a non-empty string, got {value!r}")
    return value


def matrix(owner, field, value, shape):
    """A finite float64 array of exactly ``shape`` (a fresh copy)."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise CompileError(f"{owner}.{field} must be a numeric array of shape {shape}, got "
                           f"{type(value).__name__}") from None
    if arr.shape != tuple(shape):
        raise CompileError(f"{owner}.{field} must have shape {tuple(shape)}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise CompileError(f"{owner}.{field} must be finite (it has NaN or inf entries)")
    return arr


def keys(owner, data, allowed):
    """Refuse unknown keys of a dict, listing the allowed ones."""
    if not isinstance(data, dict):
        raise CompileError(f"{owner}: expected a dict/table, got {type(data).__name__} "
                           f"{data!r}")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise CompileError(f"{owner}: unknown key(s) {', '.join(map(repr, unknown))}; allowed: "
                           f"{', '.join(allowed)}")
