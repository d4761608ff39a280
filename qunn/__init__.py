"""qunn: the quantum-inspired QUNN recurrent network, simulated with QuTiP.

hwsim's PROJECT CONSTRUCTION (theory.md section 6.4, derived from the abstract of Niu, Chuang &
Horesh, arXiv:1904.12933; not the paper's equations): a q-qubit system register plus a
(t+1)-level clock register, data-dependent encoding unitaries U_j = exp(-i delta H(x)) and
trained clock couplings J_1..J_t, so the trainable parameters grow linearly in memory length.
Two simulation paths: the QuTiP reference (``Qobj.expm``, ``sesolve``, ``mesolve`` for noise)
and an exact fast path in the history basis, checked against each other in the tests.

Imports only qutip, numpy and scipy.
"""

from .clock import (chain_hamiltonian, clock_amplitudes, clock_probabilities,
                    clock_probability_jacobian, perfect_transfer_couplings)
from .clock_model import METHODS, QUNN, UPDATES, QunnResult
from .encoding import Encoding, pauli_string
from .errors import QunnError
from .noise import Noise
from .train import Trainer, TrainResult, train

clock_model = QUNN  # the name theory.md suggests for the project construction

__all__ = ["QUNN", "QunnResult", "Encoding", "Noise", "QunnError", "Trainer", "TrainResult",
           "train", "pauli_string", "chain_hamiltonian", "clock_amplitudes",
           "clock_probabilities", "clock_probability_jacobian", "perfect_transfer_couplings",
           "clock_model", "METHODS", "UPDATES"]
