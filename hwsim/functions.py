"""Named elementwise functions with their derivatives, for the ``Elementwise`` operator.

A device graph refers to a function by name only, so graphs serialise to JSON and the same
name means the same function on every target. Each entry holds the function ``f(x)`` and its
derivative written as ``df(x, y)`` with ``y = f(x)`` already computed, because several
derivatives are cheapest from the output (``tanh' = 1 - y**2``, ``sigmoid' = y (1 - y)``).

Add a function with :func:`register`; it must be registered before a graph naming it is
loaded or simulated.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .errors import ConfigError


@dataclass(frozen=True)
class Function:
    """A named elementwise function and its derivative.

    Attributes
    ----------
    name : str
        The name graphs use.
    f : callable
        ``f(x) -> y`` on arrays of any shape.
    df : callable
        ``df(x, y) -> dy/dx`` elementwise, with ``y = f(x)``.
    doc : str
        One line for listings.
    """

    name: str
    f: Callable
    df: Callable
    doc: str = ""


def _sigmoid(x):
    # The two-branch form never overflows exp for large |x|.
    out = np.empty_like(x, dtype=np.float64)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out


def _softplus(x):
    # log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


FUNCTIONS = {}


def register(name, f, df, doc="", replace=False):
    """Register an elementwise function under ``name``.

    Parameters
    ----------
    name : str
        The name graphs will use.
    f : callable
        ``f(x) -> y``, elementwise on float arrays.
    df : callable
        ``df(x, y) -> dy/dx``, elementwise.
    doc : str
        One line describing the function.
    replace : bool
        Allow replacing an existing entry (otherwise a clash is an error, so that a graph
        saved with one meaning of a name is not silently run with another).

    Returns
    -------
    Function
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"function name must be a non-empty string, got {name!r}")
    if not callable(f) or not callable(df):
        raise TypeError(f"function {name!r}: f and df must be callable")
    if name in FUNCTIONS and not replace:
        raise ConfigError(f"function {name!r} is already registered; pass replace=True to "
                          "replace it")
    FUNCTIONS[name] = Function(name, f, df, doc)
    return FUNCTIONS[name]


def get(name):
    """The :class:`Function` called ``name``; ConfigError listing the known names otherwise."""
    try:
        return FUNCTIONS[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown elementwise function {name!r}; known functions: "
                          f"{', '.join(names())}") from None


def names():
    """The registered function names, sorted."""
    return sorted(FUNCTIONS)


for _args in (
    ("identity", lambda x: x, lambda x, y: np.ones_like(x), "y = x"),
    ("negative", lambda x: -x, lambda x, y: -np.ones_like(x), "y = -x"),
    ("tanh", np.tanh, lambda x, y: 1.0 - y * y, "hyperbolic tangent"),
    ("sigmoid", _sigmoid, lambda x, y: y * (1.0 - y), "logistic 1 / (1 + e^-x)"),
    ("relu", lambda x: np.maximum(x, 0.0), lambda x, y: (x > 0).astype(np.float64),
     "max(x, 0); derivative 0 at x = 0"),
    ("softplus", _softplus, lambda x, y: _sigmoid(x), "log(1 + e^x)"),
    ("sin", np.sin, lambda x, y: np.cos(x), "sine"),
    ("cos", np.cos, lambda x, y: -np.sin(x), "cosine"),
    ("square", np.square, lambda x, y: 2.0 * x, "x^2"),
    ("cube", lambda x: x * x * x, lambda x, y: 3.0 * x * x, "x^3"),
    ("exp", np.exp, lambda x, y: y, "e^x"),
    ("abs", np.abs, lambda x, y: np.sign(x), "|x|; derivative 0 at x = 0"),
):
    register(*_args)
del _args
