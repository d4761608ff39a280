"""Error types of the emulated hardware.

Each is a ``ValueError`` where it reports bad input, so ``except ValueError`` catches every
configuration mistake; the message names the object, the parameter, the value and what is
allowed.
"""


class HwsimError(ValueError):
    """Base class of hwsim's bad-input errors."""


class ConfigError(HwsimError):
    """A tile, IO, update, task, cost or run configuration is invalid."""


class NonFiniteError(ConfigError):
    """An array that must be finite holds NaN or inf (e.g. a state that overflowed)."""


class GraphError(HwsimError):
    """A device graph is inconsistent (a signal set twice, read before it is set, ...)."""


class SimulationError(RuntimeError):
    """A simulation cannot go on (wrong input shapes at run time, missing signals)."""


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss; the last good state is kept."""
