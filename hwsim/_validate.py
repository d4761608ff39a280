"""Argument checks for hwsim objects: those of :mod:`devices` raising :class:`ConfigError`.

One validation helper per package (devices cannot import hwsim); the checks are the same,
only the error type differs so that users can tell a device mistake from a tile mistake.
"""

import functools

from devices import _validate as _dv
from devices.errors import DeviceError

from .errors import ConfigError


def _as_config_error(check):
    @functools.wraps(check)
    def checked(*args, **kwargs):
        try:
            return check(*args, **kwargs)
        except DeviceError as exc:
            raise ConfigError(str(exc)) from None
    return checked


real = _as_config_error(_dv.real)
integer = _as_config_error(_dv.integer)
boolean = _as_config_error(_dv.boolean)
choice = _as_config_error(_dv.choice)
real_sequence = _as_config_error(_dv.real_sequence)
array = _as_config_error(_dv.array)
seed = _as_config_error(_dv.seed)
