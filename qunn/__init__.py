"""qunn: the quantum-inspired QUNN recurrent network, simulated with QuTiP.

Coming (issue 6): a system register plus a (t+1)-level clock register, data-dependent
encoding unitaries and trained clock couplings, so the trainable parameters grow linearly in
memory length; a QuTiP reference path and an exact fast path in the history basis.
"""
