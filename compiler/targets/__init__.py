"""Compile targets that are not device graphs.

The device and ideal targets lower the IR to a :class:`hwsim.DeviceGraph`
(:mod:`compiler.lower`). A target here turns the spec into another kind of model:

==========  ===========================================  ==============================
target      result                                       module
==========  ===========================================  ==============================
qunn        a :class:`qunn.QUNN` (clock-Hamiltonian      :mod:`compiler.targets.qunn`
            recurrent network on QuTiP)
==========  ===========================================  ==============================

The modules are imported on demand (``compiler.compile(..., target="qunn")``), so that
``import compiler`` does not load QuTiP.
"""
