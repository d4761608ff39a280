"""devices: numba models of analog synapses (what one crosspoint does).

Pulsed device families with the standard parameter names (aihwkit's), device-to-device and
cycle-to-cycle variation, bounds, asymmetry, write noise, decay and diffusion; one generic set
of counter-based, thread-count-independent numba kernels; calibrated presets; a port of
aihwkit configurations by name; pulse-response measurement and fitting.

This package imports nothing else of hwsim's.
"""

from .array import DeviceArray
from .errors import DeviceError
from .models import (FAMILIES, ConstantStep, ExpStep, LinearStep, PiecewiseStep, PowStep,
                     PulsedDevice, SoftBounds, SoftBoundsReference)
from .aihwkit_compat import from_aihwkit, known_classes
from .presets import PRESETS, Preset, get_preset, preset
from .response import PulseResponse, pulse_response
from .fit import FitResult, fit
from .update import UpdateParameters, pulse_probabilities

__all__ = [
    "DeviceArray", "DeviceError", "PulsedDevice", "ConstantStep", "LinearStep", "SoftBounds",
    "ExpStep", "PowStep", "PiecewiseStep", "SoftBoundsReference", "FAMILIES", "UpdateParameters",
    "pulse_probabilities", "from_aihwkit", "known_classes", "PRESETS", "Preset", "get_preset",
    "preset", "PulseResponse", "pulse_response", "FitResult", "fit",
]
