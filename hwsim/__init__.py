"""hwsim: the emulated hardware and the application layer.

Today: the command line (``hwsim devices list|show``, ``hwsim run``). Coming (issue 3):
analog tiles with DAC/ADC and noise, a device graph and simulator, on-device learning rules,
tasks, diagnostics and a cost model, built on :mod:`devices`.
"""

__version__ = "0.1.0"
