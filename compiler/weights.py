"""Parameters of a spec and their initial values.

The compiler draws every matrix whole, before tiling, so that a matrix split over tiles has
the scale of the whole layer (a tile's own ``init="uniform"`` would use its own, smaller
fan-in) and so that a numpy reference can be given exactly the weights the graph starts
from. Each parameter has its own random stream (seed and parameter name, via SHA-256), so
adding a parameter never changes another's draw.
"""

import hashlib
import math

import numpy as np

from . import _validate as V
from .cells import Param, get_cell
from .errors import CompileError

__all__ = ["parameters", "initial_weights", "parameter_count"]


def parameters(spec):
    """The trainable matrices of ``spec``: the cell's, then the readout's (``V``, ``d``)."""
    out = list(get_cell(spec.cell).parameters(spec))
    if spec.readout != "identity":
        out.append(Param("V", (spec.outputs, spec.hidden), "readout", "fan_in"))
        if spec.bias:
            out.append(Param("d", (spec.outputs, 1), "bias", "bias"))
    return out


def parameter_count(spec):
    """Number of trainable scalars."""
    return sum(math.prod(p.shape) for p in parameters(spec))


def _stream(seed, name):
    digest = hashlib.sha256(f"compiler.weights:{name}".encode()).digest()
    words = [int.from_bytes(digest[k:k + 4], "little") for k in range(0, 16, 4)]
    return np.random.default_rng(np.random.SeedSequence([seed, *words]))


def _draw(param, spec, seed):
    """One parameter's initial matrix and a note saying how it was made."""
    out_size, in_size = param.shape
    if spec.init == "zeros":
        return np.zeros(param.shape), "zeros"
    rng = _stream(seed, param.name)
    if param.scheme == "skew":
        # Skew-symmetric A: eigenvalues +-i omega with |omega| up to about 2 (a Wigner
        # semicircle), so expm(step A) is orthogonal and rotates by up to ~2 step per step.
        b = rng.standard_normal(param.shape) / math.sqrt(in_size)
        return (b - b.T) / math.sqrt(2.0), "skew (B - B^T)/sqrt(2), B ~ N(0, 1/hidden)"
    fan = spec.hidden if param.scheme == "bias" else in_size
    scale = 1.0 / math.sqrt(fan)
    if spec.init == "normal":
        return scale * rng.standard_normal(param.shape), f"normal std 1/sqrt({fan})"
    return rng.uniform(-scale, scale, param.shape), f"uniform +-1/sqrt({fan})"


def initial_weights(spec, seed=0, given=None):
    """Every parameter's initial matrix.

    Parameters
    ----------
    spec : ODERNN
    seed : int
        Seeds the draws (per parameter by name).
    given : dict of str to array, optional
        Matrices to use instead of drawing (validated: known names, exact shapes, finite).

    Returns
    -------
    weights : dict of str to numpy.ndarray
    notes : dict of str to str
        How each was made (``"given"`` for given ones).
    """
    seed = V.integer("compile", "seed", seed, low=0, high=2 ** 63 - 1)
    params = parameters(spec)
    given = {} if given is None else given
    if not hasattr(given, "items"):
        raise CompileError(f"compile.weights must be a dict name -> array, got "
                           f"{type(given).__name__}")
    known = [p.name for p in params]
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise CompileError(f"compile.weights: unknown parameter(s) {', '.join(unknown)} for "
                           f"cell {spec.cell!r}; parameters: {', '.join(known)}")
    weights, notes = {}, {}
    for p in params:
        if p.name in given:
            weights[p.name] = V.matrix("compile.weights", p.name, given[p.name], p.shape)
            notes[p.name] = "given"
        else:
            weights[p.name], notes[p.name] = _draw(p, spec, seed)
    return weights, notes
