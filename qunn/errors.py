"""Error type and the validation helpers of the qunn package (one place, as in nengo/params)."""

import numbers

import numpy as np

__all__ = ["QunnError"]


class QunnError(ValueError):
    """Bad input to a qunn object: the message names the parameter, its value and what is allowed."""


def check_int(name, value, low):
    """Return ``value`` as an int >= ``low`` or raise :class:`QunnError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise QunnError(f"{name} must be an integer >= {low}, got {value!r}")
    if value < low:
        raise QunnError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def check_real(name, value, positive=False, nonnegative=False):
    """Return ``value`` as a finite float (optionally > 0 or >= 0) or raise :class:`QunnError`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise QunnError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise QunnError(f"{name} must be finite, got {value!r}")
    if positive and value <= 0:
        raise QunnError(f"{name} must be > 0, got {value!r}")
    if nonnegative and value < 0:
        raise QunnError(f"{name} must be >= 0, got {value!r}")
    return value


def check_finite_array(name, value, ndim=None, dtype=float):
    """Return ``value`` as a finite array (of ``ndim`` dimensions if given) or raise."""
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise QunnError(f"{name} must be a numeric array, got {value!r}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise QunnError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise QunnError(f"{name} must be finite, found {arr[tuple(bad)]!r} at index {tuple(int(i) for i in bad)}")
    return arr
