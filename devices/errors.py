"""Error types of the device library."""


class DeviceError(ValueError):
    """A device parameter, array or programme is not valid.

    Subclasses ``ValueError`` so that callers catching bad input the usual way see it.
    """
