"""Open-system noise on the QUNN system qubits, for QuTiP's ``mesolve``."""

from dataclasses import dataclass

import numpy as np
import qutip

from .errors import QunnError

__all__ = ["Noise"]


def _rates(name, value, qubits):
    arr = np.broadcast_to(np.asarray(value, dtype=float), (qubits,)) if np.ndim(value) == 0 \
        else np.asarray(value, dtype=float)
    if arr.shape != (qubits,):
        raise QunnError(f"{name} must be a scalar or have length qubits={qubits}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise QunnError(f"{name} must be finite and >= 0, got {value!r}")
    return arr


@dataclass(frozen=True)
class Noise:
    """Markovian noise on each system qubit during the clock evolution.

    Parameters
    ----------
    dephasing : float or array of length q, default 0
        Pure-dephasing rate gamma_phi: off-diagonal elements of a qubit decay as
        exp(-gamma_phi t). Collapse operator sqrt(gamma_phi / 2) Z.
    damping : float or array of length q, default 0
        Amplitude-damping rate gamma_1: the population of |1> decays to |0> as exp(-gamma_1 t)
        (|0> is Z = +1, the default initial state). Collapse operator sqrt(gamma_1) |0><1|.

    Notes
    -----
    The noise acts on the system only (the clock is treated as ideal). It breaks the exact
    history-basis reduction, so a noisy model simulates with ``mesolve`` on system (x) clock.
    """

    dephasing: object = 0.0
    damping: object = 0.0

    def __post_init__(self):
        for name in ("dephasing", "damping"):
            value = getattr(self, name)
            arr = np.asarray(value, dtype=float) if not isinstance(value, str) else None
            if arr is None or arr.ndim > 1 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
                raise QunnError(f"Noise.{name} must be a finite rate >= 0 (scalar or per qubit), "
                                f"got {value!r}")

    @property
    def is_zero(self):
        """True if every rate is zero."""
        return not (np.any(np.asarray(self.dephasing)) or np.any(np.asarray(self.damping)))

    def collapse_operators(self, qubits, clock_dim):
        """The list of collapse operators on system (x) clock (zero rates are left out)."""
        dephasing = _rates("Noise.dephasing", self.dephasing, qubits)
        damping = _rates("Noise.damping", self.damping, qubits)
        ops = []
        for i in range(qubits):
            for rate, single in ((dephasing[i] / 2, qutip.sigmaz()), (damping[i], qutip.destroy(2))):
                if rate > 0:
                    factors = [qutip.qeye(2)] * qubits + [qutip.qeye(clock_dim)]
                    factors[i] = single
                    ops.append(np.sqrt(rate) * qutip.tensor(factors))
        return ops
