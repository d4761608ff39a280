"""Ready-made device graphs: the networks people build first.

Each builder returns a :class:`hwsim.DeviceGraph` (specs only), so the same network runs on
the ideal and the device target and serialises to JSON.
"""

from . import _validate as V
from . import functions
from .errors import ConfigError
from .graph import DeviceGraph
from .ops import Elementwise, TileMVM

__all__ = ["mlp"]


def mlp(sizes, activation="tanh", *, output_activation="identity", device=None, io=None,
        backward_io=None, update=None, init="uniform", name="mlp"):
    """A multi-layer perceptron of tiles: ``y = f_out(W_n ... f(W_2 f(W_1 x)))``.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths from input to output, at least two (``[8, 16, 4]`` is one hidden layer
        of 16).
    activation : str
        Hidden nonlinearity, a name of :mod:`hwsim.functions` (digital, between tiles).
    output_activation : str
        Nonlinearity after the last tile (``"identity"`` for regression and for logits).
    device, io, backward_io, update, init
        Passed to every tile spec (see :class:`hwsim.graph.TileSpec`).
    name : str

    Returns
    -------
    DeviceGraph
        Input signal ``"x"``, output ``"y"``; tiles ``"W1"`` ... ``"Wn"``; pre-activations
        ``"a1"`` ..., hidden activations ``"h1"`` ....

    Notes
    -----
    No bias terms: the tiles carry the whole layer (aihwkit's ``digital_bias`` is the usual
    alternative; here a bias can be had by appending a constant input).
    """
    owner = "mlp"
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"{owner}: sizes must be a sequence of layer widths, got {sizes!r}")
    if len(sizes) < 2:
        raise ConfigError(f"{owner}: sizes needs an input and an output width, got {list(sizes)}")
    sizes = [V.integer(owner, f"sizes[{k}]", s, low=1) for k, s in enumerate(sizes)]
    for fn in (activation, output_activation):
        functions.get(fn)  # a clear error for an unknown name, before anything is built
    graph = DeviceGraph(name)
    graph.add_input("x", sizes[0])
    n = len(sizes) - 1
    previous = "x"
    for k in range(1, n + 1):
        last = k == n
        tile = graph.add_tile(f"W{k}", sizes[k], sizes[k - 1], device=device, io=io,
                              backward_io=backward_io, update=update, init=init)
        pre = f"a{k}"
        graph.add_signal(pre, sizes[k])
        graph.add(TileMVM(tile, previous, pre, name=f"read W{k}"))
        post = "y" if last else f"h{k}"
        fn = output_activation if last else activation
        if last:
            graph.add_output(post, sizes[k])
        else:
            graph.add_signal(post, sizes[k])
        graph.add(Elementwise(fn, pre, post, name=f"{fn} {k}"))
        previous = post
    return graph
