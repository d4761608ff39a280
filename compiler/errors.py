"""Errors of the compiler."""


class CompileError(ValueError):
    """A spec, option or pass input the compiler cannot accept; the message names the field,
    its value and what is allowed."""


class StabilityWarning(UserWarning):
    """The compiled recurrence is not stable at its initial (or given) weights: the stability
    pass found modes that grow (unstable) or neither grow nor decay (marginal)."""
