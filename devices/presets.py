"""Calibrated device presets: published parameter values with their sources.

Each preset carries the values of the corresponding aihwkit preset device (the same names,
so ``from_aihwkit({"class": "ReRamESPresetDevice"})`` gives the same model) and the paper
the values were fitted to.
"""

from dataclasses import dataclass

from .errors import DeviceError
from .models import ConstantStep, ExpStep, LinearStep, PulsedDevice, SoftBoundsReference


@dataclass(frozen=True)
class Preset:
    """A named, calibrated device model.

    Attributes
    ----------
    name : str
        Short name used on the command line (``reram-es``).
    aihwkit_name : str
        The preset's class name in aihwkit (``ReRamESPresetDevice``).
    model : PulsedDevice
        The parameters.
    source : str
        The measurement the values were fitted to, one line.
    summary : str
        What the device is, one line.
    """

    name: str
    aihwkit_name: str
    model: PulsedDevice
    source: str
    summary: str


_ALL = (
    Preset("reram-es", "ReRamESPresetDevice",
           ExpStep(dw_min=0.00135, up_down=0.259359, w_max=1.0, w_min=-1.0, a=-0.5, b=-0.5,
                   gamma_up=5.0, gamma_down=5.0, A_up=-1.18445, A_down=-0.081404,
                   dw_min_dtod=0.2, up_down_dtod=0.05, w_max_dtod=0.3, w_min_dtod=0.3,
                   dw_min_std=5.0, write_noise_std=75.0),
           "Gong et al., Nat. Commun. 9, 2102 (2018): HfO2 ReRAM pulse response",
           "ReRAM, exponential step with large cycle-to-cycle and write noise"),
    Preset("reram-sb", "ReRamSBPresetDevice",
           SoftBoundsReference(dw_min=0.002, up_down=0.0, w_max=1.25, w_min=-0.75,
                               mult_noise=False, dw_min_dtod=0.3, up_down_dtod=0.01,
                               w_max_dtod=0.3 / 1.25, w_min_dtod=0.3 / 0.75, dw_min_std=3.75,
                               write_noise_std=56.0),
           "Gong et al., Nat. Commun. 9, 2102 (2018): loose soft-bounds fit",
           "ReRAM, soft bounds with additive cycle-to-cycle noise and write noise"),
    Preset("capacitor", "CapacitorPresetDevice",
           LinearStep(dw_min=0.005, up_down=0.0, w_max=1.0, w_min=-1.0, mult_noise=False,
                      gamma_up=0.05, gamma_down=0.05, dw_min_dtod=0.1, up_down_dtod=0.06,
                      w_max_dtod=0.07, w_min_dtod=0.07, gamma_up_dtod=0.01,
                      gamma_down_dtod=0.01, dw_min_std=0.3, mean_bound_reference=True,
                      lifetime=1.0e6, lifetime_dtod=0.3),
           "Li et al., VLSI Technology 2018: capacitor-based cross-point array",
           "capacitor cell, nearly linear steps with slow leakage (lifetime 1e6)"),
    Preset("ecram", "EcRamPresetDevice",
           LinearStep(dw_min=0.002, up_down=0.0, w_max=1.1724, w_min=-0.8276, mult_noise=True,
                      gamma_up=0.1153, gamma_down=0.5085, dw_min_dtod=0.1, up_down_dtod=0.01,
                      w_max_dtod=0.05, w_min_dtod=0.05, gamma_up_dtod=0.05,
                      gamma_down_dtod=0.05, dw_min_std=0.3, mean_bound_reference=True),
           "Tang et al., IEDM 2018: Li-ion ECRAM",
           "electrochemical RAM, linear step with asymmetric slopes"),
    Preset("ecram-mo", "EcRamMOPresetDevice",
           LinearStep(dw_min=2.8214e-4, up_down=0.0, w_max=1.1714, w_min=-0.8286,
                      mult_noise=True, gamma_up=0.4152, gamma_down=0.7342, dw_min_dtod=0.1,
                      up_down_dtod=0.01, w_max_dtod=0.05, w_min_dtod=0.05,
                      gamma_up_dtod=0.05, gamma_down_dtod=0.05, dw_min_std=2.0,
                      mean_bound_reference=True),
           "Kim et al., IEDM 2019: metal-oxide ECRAM",
           "metal-oxide ECRAM, many small noisy steps"),
    Preset("idealized", "IdealizedPresetDevice",
           ConstantStep(dw_min=0.0002, dw_min_dtod=0.3, dw_min_std=0.3, up_down=0.0,
                        up_down_dtod=0.0, w_max=1.0, w_min=-1.0, w_max_dtod=0.3,
                        w_min_dtod=0.3),
           "Gokmen & Vlasov, Front. Neurosci. 10, 333 (2016), modified to ~1e4 states",
           "idealised RPU, constant symmetric steps, about 10^4 states"),
    Preset("gokmen-vlasov", "GokmenVlasovPresetDevice",
           ConstantStep(dw_min=0.0016, dw_min_dtod=0.3, dw_min_std=0.3, up_down=0.0,
                        up_down_dtod=0.01, w_max=1.0, w_min=-1.0, w_max_dtod=0.3,
                        w_min_dtod=0.3),
           "Gokmen & Vlasov, Front. Neurosci. 10, 333 (2016): RPU design specification",
           "the RPU specification, constant steps, about 1200 states"),
    Preset("pcm", "PCMPresetDevice",
           ExpStep(dw_min=0.01, up_down=0.0, w_max=2.0, w_min=0.0, a=-1.0, b=0.0,
                   gamma_up=2.5, gamma_down=2.5, A_up=-27.235, A_down=-2.235,
                   dw_min_dtod=0.2, up_down_dtod=0.05, w_max_dtod=0.1, w_min_dtod=0.0,
                   dw_min_std=0.6, dw_min_std_add=0.042, dw_min_std_slope=0.108,
                   reset=0.01, reset_dtod=0.02),
           "Nandakumar et al., Front. Neurosci. 14, 406 (2020): PCM mixed-precision training",
           "phase-change memory, one-sided exponential step (use in a differential pair)"),
    Preset("reram-array-om", "ReRamArrayOMPresetDevice",
           SoftBoundsReference(dw_min_dtod_log_normal=True, dw_min=0.0949, up_down=0.0,
                               w_max=1.0, w_min=-1.0, mult_noise=False, dw_min_dtod=0.7829,
                               up_down_dtod=0.01, w_max_dtod=0.3499, w_min_dtod=0.5695,
                               dw_min_std=0.4158, write_noise_std=1.4113,
                               corrupt_devices_range=0.01, subtract_symmetry_point=True,
                               reference_std=0.05),
           "Gong, Rasch et al., IEDM 2022: ReRAM array, optimised material",
           "ReRAM array (optimised material), few coarse steps, reference device"),
    Preset("reram-array-hfo2", "ReRamArrayHfO2PresetDevice",
           SoftBoundsReference(dw_min_dtod_log_normal=True, dw_min=0.4622, up_down=0.0,
                               w_max=1.0, w_min=-1.0, mult_noise=False, dw_min_dtod=0.7125,
                               up_down_dtod=0.01, w_max_dtod=0.4295, w_min_dtod=0.5990,
                               dw_min_std=0.2174, write_noise_std=0.5841,
                               corrupt_devices_range=0.01, subtract_symmetry_point=True,
                               reference_std=0.05),
           "Gong, Rasch et al., IEDM 2022: ReRAM array, baseline HfO2",
           "ReRAM array (baseline HfO2), very few coarse steps, reference device"),
)

PRESETS = {p.name: p for p in _ALL}
_BY_ANY_NAME = {**{p.name.lower(): p for p in _ALL}, **{p.aihwkit_name.lower(): p for p in _ALL}}


def get_preset(name):
    """The :class:`Preset` called ``name`` (short or aihwkit name, any case)."""
    if not isinstance(name, str):
        raise TypeError(f"preset name must be a string, got {name!r}")
    try:
        return _BY_ANY_NAME[name.lower()]
    except KeyError:
        known = ", ".join(f"{p.name} ({p.aihwkit_name})" for p in _ALL)
        raise DeviceError(f"unknown preset {name!r}; known presets: {known}") from None


def preset(name, **changes):
    """The device model of preset ``name``, with optional parameter changes.

    Examples
    --------
    >>> import devices
    >>> devices.preset("ecram").dw_min
    0.002
    >>> devices.preset("ecram", dw_min_std=0.0).dw_min_std
    0.0
    """
    model = get_preset(name).model
    return model.replace(**changes) if changes else model
