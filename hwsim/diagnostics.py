"""Learning-theory diagnostics: what the theory predicts, measured on weights and signals.

Pure numpy functions on arrays, plus thin helpers that read a :class:`hwsim.Simulator`
(its tiles' weights and the local signals ``(x, d)`` of its last backward pass). The
quantities and their provenance are those of ``reference/theory.md``:

- **Gradient balance and conserved charges** (sections 0 and 1.2). For a hidden neuron
  ``i`` between a layer ``W`` (``h x n``, incoming weights ``W[i, :]``) and the layer above
  ``U`` (``m x h``, outgoing weights ``U[:, i]``) the rescaling charge is
  ``C_i = |U[:, i]|^2 - |W[i, :]|^2``. Gradient flow conserves it; a discrete SGD step
  changes it by exactly ``lr^2 (|g_out,i|^2 - |g_in,i|^2)`` (for a network with the
  rescaling symmetry: linear or ReLU hidden units), and noise drives it until
  ``E|g_out,i|^2 = E|g_in,i|^2`` (gradient balance).
- **CRH / PAH** (section 4). For a layer ``h_b = W h_a``: ``H_c = E h_c h_c^T``,
  ``G_c = E g_c g_c^T`` (``g_b = dl/dh_b``, ``g_a = W^T g_b``), ``Z_a = W^T W``,
  ``Z_b = W W^T``; six alignments (RGA: H~G, RWA: H~Z, GWA: G~Z on each side ``a``, ``b``)
  by the traceless cosine (baseline ~ 0) and by the Pearson correlation (with a
  spectrum-matched random baseline); PAH exponents from the eigenbasis of ``Z``.
- **Collapse** (section 3). Numerical and effective rank, dead neurons, merged neurons,
  the cosine of an update with the true gradient, consistency scores (section 2.3).
- **Representation similarity**: linear CKA.

Conventions: every function validates its arrays (a :class:`TypeError` for a non-numeric
argument, a :class:`hwsim.ConfigError` naming the argument and its shape otherwise; a
simulator without the needed signals raises :class:`hwsim.SimulationError` saying what to
run first). Where a normalised quantity is 0/0 (a cosine with a zero matrix) it is
defined as 0 and said so in the docstring.
"""

import numpy as np

from .errors import ConfigError, SimulationError
from .losses import get_loss
from .rules.heterosynaptic import consistency

__all__ = [
    # gradient balance and charges
    "conserved_charge", "layer_charge", "gradient_balance", "per_sample_balance",
    "layer_pairs", "simulator_gradient_balance",
    # CRH / PAH
    "covariance", "crh_matrices", "simulator_crh_matrices", "traceless_cosine",
    "pearson_alignment", "alignment_baseline", "crh_alignments", "pah_exponent",
    "pah_exponents", "CRH_PAIRS",
    # collapse
    "singular_values", "numerical_rank", "effective_rank", "dead_neurons", "merged_neurons",
    "update_gradient_cosine", "shadow_gradients", "consistency", "consistency_summary",
    "simulator_consistency",
    # representations
    "linear_cka", "representation_cka",
]

EPS = np.finfo(np.float64).eps

#: The six CRH relations: name -> (first matrix, second matrix) of :func:`crh_matrices`.
#: ``a`` is the input (forward, "f-") side of the layer, ``b`` the output (backward, "b-")
#: side; that reading of the paper's f-/b- names is hwsim's (theory.md section 4.1).
CRH_PAIRS = {
    "a-RGA": ("H_a", "G_a"), "a-RWA": ("H_a", "Z_a"), "a-GWA": ("G_a", "Z_a"),
    "b-RGA": ("H_b", "G_b"), "b-RWA": ("H_b", "Z_b"), "b-GWA": ("G_b", "Z_b"),
}


# =========================================================================== validation
def _array(owner, name, value, ndim, allow_empty=False):
    """``value`` as a finite float64 array with ``ndim`` dimensions (a tuple: any of them)."""
    if isinstance(value, (str, bytes, dict)) or value is None:
        raise TypeError(f"{owner}: {name} must be a numeric array, got "
                        f"{type(value).__name__}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{owner}: {name} must be a numeric array, got "
                        f"{type(value).__name__}") from None
    dims = ndim if isinstance(ndim, tuple) else (ndim,)
    if arr.ndim not in dims:
        want = " or ".join(f"{d}-D" for d in dims)
        raise ConfigError(f"{owner}: {name} must be {want}, got shape {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ConfigError(f"{owner}: {name} is empty (shape {arr.shape})")
    if not np.all(np.isfinite(arr)):
        raise ConfigError(f"{owner}: {name} has non-finite values")
    return arr


def _square(owner, name, value):
    arr = _array(owner, name, value, 2)
    if arr.shape[0] != arr.shape[1]:
        raise ConfigError(f"{owner}: {name} must be square, got shape {arr.shape}")
    return arr


def _same_shape(owner, names, arrays):
    shapes = [a.shape for a in arrays]
    if len(set(shapes)) > 1:
        listing = ", ".join(f"{n} {s}" for n, s in zip(names, shapes))
        raise ConfigError(f"{owner}: shapes must match, got {listing}")


def _positive(owner, name, value, allow_zero=False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}") from None
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{owner}: {name} must be finite and {bound}, got {value!r}")
    return v


def _check_pair(owner, w, u):
    """W (h, n) and U (m, h) of one hidden layer."""
    w = _array(owner, "w", w, 2)
    u = _array(owner, "u", u, 2)
    if u.shape[1] != w.shape[0]:
        raise ConfigError(f"{owner}: u of shape {u.shape} must have as many columns as w "
                          f"of shape {w.shape} has rows (the hidden neurons)")
    return w, u


def _check_sim(owner, sim):
    if not (hasattr(sim, "tiles") and hasattr(sim, "local_signals")
            and hasattr(sim, "read_tiles")):
        raise TypeError(f"{owner}: sim must be a hwsim.Simulator, got {type(sim).__name__}")
    return sim


def _tile(owner, sim, name):
    if not isinstance(name, str) or name not in sim.tiles:
        raise ConfigError(f"{owner}: no tile {name!r} in the simulator; its tiles: "
                          f"{', '.join(sim.tiles) or 'none'}")
    return sim.tiles[name]


def _backward_signals(owner, sim, name):
    """``(x, d)`` of tile ``name`` from the simulator's last backward pass, or a clear error."""
    _tile(owner, sim, name)
    if name not in sim.read_tiles:
        raise SimulationError(f"{owner}: tile {name!r} is not read by any operator (a "
                              "feedback tile?), so it has no recorded signals")
    try:
        return sim.local_signals(name, source="backward")
    except SimulationError:
        raise SimulationError(f"{owner}: tile {name!r} has no recorded signals: this "
                              "diagnostic needs the (x, d) of a backward pass; call "
                              "sim.run(inputs) and sim.backward(grads) first") from None


# =========================================================================== balance
def conserved_charge(w, u):
    """Per-neuron rescaling charge ``C_i = |U[:, i]|^2 - |W[i, :]|^2``.

    Parameters
    ----------
    w : array (h, n)
        Incoming weights of the hidden layer (row ``i`` feeds neuron ``i``).
    u : array (m, h)
        Outgoing weights (column ``i`` leaves neuron ``i``).

    Returns
    -------
    ndarray (h,)

    Notes
    -----
    Rescaling ``W[i, :] -> a W[i, :]``, ``U[:, i] -> U[:, i] / a`` leaves a linear or ReLU
    network unchanged, so ``U[:, i] . g_out,i = W[i, :] . g_in,i`` for every minibatch and
    one SGD step of size ``lr`` changes ``C_i`` by exactly
    ``lr^2 (|g_out,i|^2 - |g_in,i|^2)`` (theory.md section 0); gradient flow conserves it.
    """
    w, u = _check_pair("conserved_charge", w, u)
    return np.sum(u * u, axis=0) - np.sum(w * w, axis=1)


def layer_charge(w, u):
    """Layer charge ``|U|_F^2 - |W|_F^2``, the sum of :func:`conserved_charge` over neurons."""
    w, u = _check_pair("layer_charge", w, u)
    return float(np.sum(u * u) - np.sum(w * w))


def gradient_balance(grad_w, grad_u):
    """Per-neuron and per-layer gradient balance from gradients of the two layers.

    Parameters
    ----------
    grad_w : array (h, n) or (k, h, n)
        Gradient(s) of the incoming weights ``W``; a stack of ``k`` (one per step, or per
        sample) is averaged over.
    grad_u : array (m, h) or (k, m, h)
        Gradient(s) of the outgoing weights ``U``, as many as ``grad_w``.

    Returns
    -------
    dict
        ``g_in_sq`` (h,): ``E |g_W[i, :]|^2``; ``g_out_sq`` (h,): ``E |g_U[:, i]|^2``;
        ``ratio`` (h,): ``g_out_sq / g_in_sq`` (NaN where ``g_in_sq`` is 0);
        ``layer_in`` ``E |g_W|_F^2``, ``layer_out`` ``E |g_U|_F^2`` and their ``layer_ratio``
        (theory.md E2: 1 at balance); ``samples`` ``k``.
    """
    owner = "gradient_balance"
    gw = _array(owner, "grad_w", grad_w, (2, 3))
    gu = _array(owner, "grad_u", grad_u, (2, 3))
    if gw.ndim != gu.ndim:
        raise ConfigError(f"{owner}: grad_w {gw.shape} and grad_u {gu.shape} must both be "
                          "single gradients (2-D) or stacks of them (3-D)")
    if gw.ndim == 2:
        gw, gu = gw[None], gu[None]
    if gw.shape[0] != gu.shape[0] or gu.shape[2] != gw.shape[1]:
        raise ConfigError(f"{owner}: grad_w {gw.shape} (k, h, n) and grad_u {gu.shape} "
                          "(k, m, h) must share k and h")
    g_in = np.mean(np.sum(gw * gw, axis=2), axis=0)
    g_out = np.mean(np.sum(gu * gu, axis=1), axis=0)
    return _balance(g_in, g_out, gw.shape[0])


def _balance(g_in, g_out, samples):
    ratio = np.divide(g_out, g_in, out=np.full_like(g_out, np.nan), where=g_in > 0)
    layer_in, layer_out = float(np.sum(g_in)), float(np.sum(g_out))
    return {"g_in_sq": g_in, "g_out_sq": g_out, "ratio": ratio, "layer_in": layer_in,
            "layer_out": layer_out,
            "layer_ratio": layer_out / layer_in if layer_in > 0 else float("nan"),
            "samples": int(samples)}


def per_sample_balance(x_w, d_w, x_u, d_u):
    """Gradient balance over the per-sample gradients of local signals, without forming them.

    Parameters
    ----------
    x_w : array (k, n)
        Inputs of ``W`` (one row per sample).
    d_w : array (k, h)
        Errors at the output of ``W`` (``dl/dh`` of the hidden pre-activations).
    x_u : array (k, h)
        Inputs of ``U`` (the hidden activations).
    d_u : array (k, m)
        Errors at the output of ``U``.

    Returns
    -------
    dict
        As :func:`gradient_balance`, with ``E`` the mean over the ``k`` samples of the
        per-sample gradients ``g_W = d_w[s] x_w[s]^T`` and ``g_U = d_u[s] x_u[s]^T``:
        ``|g_W[i, :]|^2 = d_w[s, i]^2 |x_w[s]|^2`` and
        ``|g_U[:, i]|^2 = x_u[s, i]^2 |d_u[s]|^2``.

    Notes
    -----
    Signals recorded by the simulator carry the loss's ``1/B`` (the loss is averaged over
    the batch), which scales both sides alike and leaves the ratios unchanged.
    """
    owner = "per_sample_balance"
    x_w = _array(owner, "x_w", x_w, 2)
    d_w = _array(owner, "d_w", d_w, 2)
    x_u = _array(owner, "x_u", x_u, 2)
    d_u = _array(owner, "d_u", d_u, 2)
    k = x_w.shape[0]
    if not (d_w.shape[0] == x_u.shape[0] == d_u.shape[0] == k):
        raise ConfigError(f"{owner}: x_w {x_w.shape}, d_w {d_w.shape}, x_u {x_u.shape} and "
                          f"d_u {d_u.shape} must have the same number of rows (samples)")
    if d_w.shape[1] != x_u.shape[1]:
        raise ConfigError(f"{owner}: d_w {d_w.shape} and x_u {x_u.shape} must have the same "
                          "width (the hidden neurons)")
    g_in = np.mean(d_w * d_w * np.sum(x_w * x_w, axis=1)[:, None], axis=0)
    g_out = np.mean(x_u * x_u * np.sum(d_u * d_u, axis=1)[:, None], axis=0)
    return _balance(g_in, g_out, k)


def layer_pairs(sim):
    """Consecutive read tiles ``(W, U)`` of a simulator whose sizes chain (``U.in == W.out``).

    For :func:`hwsim.networks.mlp` these are ``("W1", "W2"), ("W2", "W3"), ...``.
    """
    _check_sim("layer_pairs", sim)
    names = sim.read_tiles
    return [(a, b) for a, b in zip(names, names[1:])
            if sim.tiles[b].in_size == sim.tiles[a].out_size]


def simulator_gradient_balance(sim, w_tile, u_tile, per_sample=False):
    """Gradient balance and charges of the hidden neurons between two tiles of a simulator.

    Parameters
    ----------
    sim : Simulator
        After ``run`` and ``backward`` (call it before the rule's update: the charges are
        those of the tiles' current weights).
    w_tile, u_tile : str
        The incoming tile ``W`` (``h x n``) and the outgoing tile ``U`` (``m x h``).
    per_sample : bool
        False: one gradient per tile, the minibatch gradient ``d^T x`` of the local
        signals (average :func:`gradient_balance` over steps for ``E``). True: the mean
        over the rows of the per-sample gradients (:func:`per_sample_balance`).

    Returns
    -------
    dict
        The keys of :func:`gradient_balance`, plus ``charge`` (h,) (:func:`conserved_charge`),
        ``charge_total`` (:func:`layer_charge`), and with ``per_sample=False`` the
        gradients ``grad_w`` and ``grad_u``.

    Notes
    -----
    ``d`` is what reached the tile in the backward pass: the true gradient under
    :class:`~hwsim.rules.PulsedSGD` on the ideal target, the analog (noisy) one on the
    device target, and the rule's own signal where errors go through feedback tiles
    (heterosynaptic, feedback alignment); use :func:`shadow_gradients` for the true one.
    """
    owner = "simulator_gradient_balance"
    _check_sim(owner, sim)
    tw, tu = _tile(owner, sim, w_tile), _tile(owner, sim, u_tile)
    if tu.in_size != tw.out_size:
        raise ConfigError(f"{owner}: tile {u_tile!r} ({tu.out_size} x {tu.in_size}) does not "
                          f"read the {tw.out_size} outputs of tile {w_tile!r} "
                          f"({tw.out_size} x {tw.in_size})")
    x_w, d_w = _backward_signals(owner, sim, w_tile)
    x_u, d_u = _backward_signals(owner, sim, u_tile)
    w, u = tw.weights(), tu.weights()
    if per_sample:
        out = per_sample_balance(x_w, d_w, x_u, d_u)
    else:
        grad_w, grad_u = d_w.T @ x_w, d_u.T @ x_u
        out = gradient_balance(grad_w, grad_u)
        out.update(grad_w=grad_w, grad_u=grad_u)
    out.update(charge=conserved_charge(w, u), charge_total=layer_charge(w, u))
    return out


# =========================================================================== CRH / PAH
def covariance(h, normalize=False, center=False):
    """Second-moment matrix ``E h h^T = h^T h / k`` of rows ``h`` (k samples x d).

    Parameters
    ----------
    h : array (k, d)
    normalize : bool
        Divide each row by its norm first (``h / |h|``; zero rows stay zero), the paper's
        normalised representation (theory.md section 4.3).
    center : bool
        Subtract the mean row (after normalising) so the result is a covariance.

    Returns
    -------
    ndarray (d, d)
    """
    h = _array("covariance", "h", h, 2)
    if normalize:
        norms = np.linalg.norm(h, axis=1, keepdims=True)
        h = np.divide(h, norms, out=np.zeros_like(h), where=norms > 0)
    if center:
        h = h - h.mean(axis=0)
    return h.T @ h / h.shape[0]


def crh_matrices(h_a, g_b, w, normalize=False, center=False):
    """The six CRH matrices of a layer ``h_b = W h_a`` from samples of its signals.

    Parameters
    ----------
    h_a : array (k, d_a)
        Inputs of the layer, one row per sample.
    g_b : array (k, d_b)
        Gradients of the loss with respect to the layer's outputs ``h_b``.
    w : array (d_b, d_a)
        The layer's weights.
    normalize, center : bool
        Passed to :func:`covariance` for the four signal matrices.

    Returns
    -------
    dict of str to ndarray
        ``H_a = E h_a h_a^T``, ``H_b = E h_b h_b^T`` with ``h_b = h_a W^T``,
        ``G_b = E g_b g_b^T``, ``G_a = E g_a g_a^T`` with ``g_a = g_b W`` (the exact
        relations of theory.md section 4.2), ``Z_a = W^T W`` and ``Z_b = W W^T``.
    """
    owner = "crh_matrices"
    h_a = _array(owner, "h_a", h_a, 2)
    g_b = _array(owner, "g_b", g_b, 2)
    w = _array(owner, "w", w, 2)
    if h_a.shape[0] != g_b.shape[0]:
        raise ConfigError(f"{owner}: h_a {h_a.shape} and g_b {g_b.shape} must have the same "
                          "number of rows (samples)")
    if w.shape != (g_b.shape[1], h_a.shape[1]):
        raise ConfigError(f"{owner}: w must have shape (d_b, d_a) = ({g_b.shape[1]}, "
                          f"{h_a.shape[1]}) for h_a {h_a.shape} and g_b {g_b.shape}, got "
                          f"{w.shape}")
    opts = dict(normalize=normalize, center=center)
    return {"H_a": covariance(h_a, **opts), "H_b": covariance(h_a @ w.T, **opts),
            "G_a": covariance(g_b @ w, **opts), "G_b": covariance(g_b, **opts),
            "Z_a": w.T @ w, "Z_b": w @ w.T}


def simulator_crh_matrices(sim, tile, normalize=False, center=False):
    """:func:`crh_matrices` of a tile from a simulator's last backward pass.

    ``h_a`` and ``g_b`` are the tile's local signals ``(x, d)`` (all rows: samples, and
    time steps of a sequence run); ``W`` its current weights (call before the update).
    ``d`` carries the loss's ``1/B``, which scales ``G`` and changes no alignment.
    """
    owner = "simulator_crh_matrices"
    _check_sim(owner, sim)
    x, d = _backward_signals(owner, sim, tile)
    return crh_matrices(x, d, sim.tiles[tile].weights(), normalize=normalize, center=center)


def traceless_cosine(a, b):
    """Cosine of two square matrices after removing their traces' identity parts.

    ``alpha_TL = <A', B'>_F / (|A'|_F |B'|_F)`` with ``A' = A - tr(A)/d I`` (theory.md
    section 4.3). Its baseline for unrelated matrices is about 0, whatever their rank.

    Returns
    -------
    float
        In [-1, 1]; 0 when either traceless part vanishes (a multiple of the identity, or
        ``d = 1``), where the cosine is undefined.
    """
    owner = "traceless_cosine"
    a, b = _square(owner, "a", a), _square(owner, "b", b)
    _same_shape(owner, ("a", "b"), (a, b))
    return _traceless_cos(a, b)


def _traceless(a):
    out = a.copy()
    out[np.diag_indices_from(out)] -= np.trace(a) / a.shape[0]
    return out


def _cos(u, v):
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        return 0.0
    return float(np.clip(np.vdot(u, v) / (nu * nv), -1.0, 1.0))


def _negligible(part, whole):
    """True if ``part`` is zero up to rounding relative to ``whole``."""
    return np.linalg.norm(part) <= 64 * EPS * np.linalg.norm(whole)


def _traceless_cos(a, b):
    ta, tb = _traceless(a), _traceless(b)
    # a traceless part that is only the rounding of a multiple of I counts as zero
    if _negligible(ta, a) or _negligible(tb, b):
        return 0.0
    return _cos(ta.ravel(), tb.ravel())


def pearson_alignment(a, b, offdiag=False):
    """Pearson correlation of the entries of two matrices, ``corr(vec A, vec B)``.

    Parameters
    ----------
    a, b : array (d, d)
    offdiag : bool
        Use only the off-diagonal entries (``alpha_off`` of theory.md section 4.3).

    Returns
    -------
    float
        0 when either set of entries is constant (undefined correlation).

    Notes
    -----
    Biased upward for pairs of positive semi-definite matrices (their diagonals are both
    positive), more so at high rank: always read it against :func:`alignment_baseline`.
    """
    owner = "pearson_alignment"
    a, b = _square(owner, "a", a), _square(owner, "b", b)
    _same_shape(owner, ("a", "b"), (a, b))
    return _pearson(a, b, offdiag)


def _pearson(a, b, offdiag):
    if offdiag:
        mask = ~np.eye(a.shape[0], dtype=bool)
        u, v = a[mask], b[mask]
    else:
        u, v = a.ravel(), b.ravel()
    if u.size < 2:
        return 0.0
    cu, cv = u - u.mean(), v - v.mean()
    if _negligible(cu, u) or _negligible(cv, v):  # constant entries: no correlation
        return 0.0
    return _cos(cu, cv)


def _haar(rng, d):
    """A Haar-random orthogonal matrix (QR of a Gaussian with the sign fix)."""
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def alignment_baseline(a, b, n_draws=16, seed=0, offdiag=False):
    """Random baseline of the alignment metrics for two symmetric matrices.

    Each draw rotates ``A`` and ``B`` by independent Haar-random orthogonal matrices
    (``Q_1 A Q_1^T``, ``Q_2 B Q_2^T``): the spectra are kept and any alignment of the
    eigenbases is destroyed. Reported: the mean and standard deviation over the draws of
    :func:`pearson_alignment` and :func:`traceless_cosine`.

    Parameters
    ----------
    a, b : array (d, d), symmetric
    n_draws : int >= 1
    seed : int
    offdiag : bool
        As in :func:`pearson_alignment`.

    Returns
    -------
    dict
        ``pearson_mean``, ``pearson_std``, ``traceless_mean``, ``traceless_std``,
        ``n_draws``.
    """
    owner = "alignment_baseline"
    a, b = _square(owner, "a", a), _square(owner, "b", b)
    _same_shape(owner, ("a", "b"), (a, b))
    for name, m in (("a", a), ("b", b)):
        if not np.allclose(m, m.T, rtol=1e-8, atol=1e-12 * max(np.abs(m).max(), 1e-300)):
            raise ConfigError(f"{owner}: {name} must be symmetric (shape {m.shape})")
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 1:
        raise ConfigError(f"{owner}: n_draws must be an int >= 1, got {n_draws!r}")
    rng = np.random.default_rng(seed)
    la, lb = np.linalg.eigvalsh(a), np.linalg.eigvalsh(b)
    d = a.shape[0]
    p, t = [], []
    for _ in range(int(n_draws)):
        q1, q2 = _haar(rng, d), _haar(rng, d)
        ra, rb = (q1 * la) @ q1.T, (q2 * lb) @ q2.T
        p.append(_pearson(ra, rb, offdiag))
        t.append(_traceless_cos(ra, rb))
    return {"pearson_mean": float(np.mean(p)), "pearson_std": float(np.std(p)),
            "traceless_mean": float(np.mean(t)), "traceless_std": float(np.std(t)),
            "n_draws": int(n_draws)}


def crh_alignments(mats, n_draws=16, seed=0):
    """The six CRH alignments of a layer (theory.md section 4.1).

    Parameters
    ----------
    mats : dict
        From :func:`crh_matrices` (``H_a, H_b, G_a, G_b, Z_a, Z_b``).
    n_draws : int
        Draws of :func:`alignment_baseline` per pair (0: no baselines).
    seed : int

    Returns
    -------
    dict of str to dict
        For each name of :data:`CRH_PAIRS` (``a-RGA``: ``H_a`` ~ ``G_a``, ``a-RWA``:
        ``H_a`` ~ ``Z_a``, ``a-GWA``: ``G_a`` ~ ``Z_a``, and the same on side ``b``):
        ``traceless`` (:func:`traceless_cosine`), ``pearson`` and ``pearson_offdiag``
        (:func:`pearson_alignment`), and with baselines ``pearson_baseline`` and
        ``pearson_baseline_std`` (and ``traceless_baseline``) from
        :func:`alignment_baseline`.
    """
    owner = "crh_alignments"
    if not hasattr(mats, "keys"):
        raise TypeError(f"{owner}: mats must be the dict of crh_matrices, got "
                        f"{type(mats).__name__}")
    missing = [k for k in ("H_a", "H_b", "G_a", "G_b", "Z_a", "Z_b") if k not in mats]
    if missing:
        raise ConfigError(f"{owner}: mats lacks {', '.join(missing)} (use crh_matrices)")
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 0:
        raise ConfigError(f"{owner}: n_draws must be an int >= 0, got {n_draws!r}")
    out = {}
    for k, (first, second) in enumerate(CRH_PAIRS.items()):
        na, nb = second
        a, b = _square(owner, na, mats[na]), _square(owner, nb, mats[nb])
        _same_shape(owner, (na, nb), (a, b))
        row = {"traceless": _traceless_cos(a, b), "pearson": _pearson(a, b, False),
               "pearson_offdiag": _pearson(a, b, True)}
        if n_draws:
            base = alignment_baseline(a, b, n_draws=n_draws, seed=(seed, k))
            row.update(pearson_baseline=base["pearson_mean"],
                       pearson_baseline_std=base["pearson_std"],
                       traceless_baseline=base["traceless_mean"])
        out[first] = row
    return out


def pah_exponent(z, m, rel_tol=1e-3):
    """Power-law exponent ``p`` of ``M ~ Z^p`` measured in the eigenbasis of ``Z``.

    With ``Z = V diag(lambda) V^T`` (``eigh``), ``m_k = (V^T M V)_kk``; the exponent is the
    least-squares slope of ``log m_k`` against ``log lambda_k`` over the modes with
    ``lambda_k > rel_tol * lambda_max`` and ``m_k > 0`` (theory.md section 4.3). For
    ``M = c Z^p`` exactly, ``m_k = c lambda_k^p`` and the slope is ``p``.

    Parameters
    ----------
    z : array (d, d), symmetric positive semi-definite (``W^T W`` or ``W W^T``)
    m : array (d, d), symmetric (``H`` or ``G`` of the same side)
    rel_tol : float > 0

    Returns
    -------
    dict
        ``exponent`` (slope), ``intercept`` (``log c``), ``r2`` (coefficient of
        determination of the fit), ``n_modes`` (modes used). ``exponent`` is NaN when
        fewer than two modes with distinct eigenvalues pass the cut (a flat or rank-one
        spectrum has no slope).
    """
    owner = "pah_exponent"
    z, m = _square(owner, "z", z), _square(owner, "m", m)
    _same_shape(owner, ("z", "m"), (z, m))
    rel_tol = _positive(owner, "rel_tol", rel_tol)
    lam, vec = np.linalg.eigh((z + z.T) / 2)
    top = lam.max()
    mk = np.einsum("ik,ij,jk->k", vec, (m + m.T) / 2, vec)
    keep = (lam > rel_tol * top) & (mk > 0) if top > 0 else np.zeros_like(lam, bool)
    x, y = np.log(lam[keep]), np.log(mk[keep])
    nan = float("nan")
    if x.size < 2 or np.ptp(x) <= 1e-12:
        return {"exponent": nan, "intercept": nan, "r2": nan, "n_modes": int(x.size)}
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    ss = np.sum((y - y.mean()) ** 2)
    r2 = 1.0 - np.sum(resid ** 2) / ss if ss > 0 else 1.0
    return {"exponent": float(slope), "intercept": float(intercept), "r2": float(r2),
            "n_modes": int(x.size)}


def pah_exponents(mats, rel_tol=1e-3):
    """PAH exponents of a layer: ``H_c ~ Z_c^p`` and ``G_c ~ Z_c^q`` for ``c`` in a, b.

    Returns
    -------
    dict of str to dict
        ``"H_a"``, ``"G_a"``, ``"H_b"``, ``"G_b"``: :func:`pah_exponent` of that matrix
        against ``Z_a`` or ``Z_b``. The exact relation ``H_b = W H_a W^T`` gives
        ``p_b = p_a + 1`` when ``H_a ~ Z_a^{p_a}`` (theory.md section 4.2).
    """
    if not hasattr(mats, "keys"):
        raise TypeError(f"pah_exponents: mats must be the dict of crh_matrices, got "
                        f"{type(mats).__name__}")
    missing = [k for k in ("H_a", "H_b", "G_a", "G_b", "Z_a", "Z_b") if k not in mats]
    if missing:
        raise ConfigError(f"pah_exponents: mats lacks {', '.join(missing)} (use crh_matrices)")
    return {name: pah_exponent(mats["Z_" + name[-1]], mats[name], rel_tol=rel_tol)
            for name in ("H_a", "G_a", "H_b", "G_b")}


# =========================================================================== collapse
def singular_values(m):
    """Singular values of a matrix, descending."""
    return np.linalg.svd(_array("singular_values", "m", m, 2), compute_uv=False)


def numerical_rank(m, rel_tol=1e-3, atol=None):
    """Number of singular values above a tolerance.

    ``#{s_i > rel_tol * s_max}`` (theory.md section 3.3), or ``#{s_i > atol}`` when ``atol``
    is given. 0 for the zero matrix.
    """
    owner = "numerical_rank"
    s = np.linalg.svd(_array(owner, "m", m, 2), compute_uv=False)
    if atol is not None:
        return int(np.sum(s > _positive(owner, "atol", atol, allow_zero=True)))
    tol = _positive(owner, "rel_tol", rel_tol)
    return int(np.sum(s > tol * s[0])) if s[0] > 0 else 0


def effective_rank(m):
    """Effective rank ``exp(H(p))``, ``p_i = s_i / sum_j s_j`` (RankMe; theory.md 3.3).

    Between 1 and the rank; equal to ``r`` for ``r`` equal nonzero singular values. 0 for
    the zero matrix.
    """
    s = np.linalg.svd(_array("effective_rank", "m", m, 2), compute_uv=False)
    total = s.sum()
    if total <= 0:
        return 0.0
    p = s[s > 0] / total
    return float(np.exp(-np.sum(p * np.log(p))))


def dead_neurons(w, u=None, threshold=1e-6, activations=None, act_threshold=0.0,
                 mode="both"):
    """Hidden neurons that no longer take part: vanished weights or no activity.

    Parameters
    ----------
    w : array (h, n)
        Incoming weights.
    u : array (m, h), optional
        Outgoing weights.
    threshold : float >= 0
        A weight vector is vanished when its norm is ``< threshold``.
    activations : array (k, h), optional
        The neurons' activations on ``k`` inputs; a neuron is silent when
        ``|a[:, i]| <= act_threshold`` on all of them.
    act_threshold : float >= 0
    mode : {"both", "either"}
        ``"both"``: dead by weights when the incoming *and* (if ``u`` is given) the
        outgoing norm vanish (the collapse of theory.md 3a takes both to 0); ``"either"``:
        when one of them does (functionally dead).

    Returns
    -------
    dict
        ``mask`` (h,) bool: dead by weights or silent; ``count``; ``fraction``;
        ``incoming_norms``, ``outgoing_norms`` (None without ``u``); ``silent`` (h,) bool
        (all False without activations).
    """
    owner = "dead_neurons"
    w = _array(owner, "w", w, 2)
    threshold = _positive(owner, "threshold", threshold, allow_zero=True)
    act_threshold = _positive(owner, "act_threshold", act_threshold, allow_zero=True)
    if mode not in ("both", "either"):
        raise ConfigError(f"{owner}: mode must be 'both' or 'either', got {mode!r}")
    h = w.shape[0]
    n_in = np.linalg.norm(w, axis=1)
    vanished = n_in < threshold
    n_out = None
    if u is not None:
        w, u = _check_pair(owner, w, u)
        n_out = np.linalg.norm(u, axis=0)
        gone = n_out < threshold
        vanished = (vanished & gone) if mode == "both" else (vanished | gone)
    silent = np.zeros(h, dtype=bool)
    if activations is not None:
        a = _array(owner, "activations", activations, 2)
        if a.shape[1] != h:
            raise ConfigError(f"{owner}: activations of shape {a.shape} must have {h} "
                              f"columns (one per row of w {w.shape})")
        silent = np.all(np.abs(a) <= act_threshold, axis=0)
    mask = vanished | silent
    return {"mask": mask, "count": int(mask.sum()), "fraction": float(mask.mean()),
            "incoming_norms": n_in, "outgoing_norms": n_out, "silent": silent}


def merged_neurons(w, u=None, threshold=1e-3, sort=False, exclude=None):
    """Neurons whose weight vectors coincide: pairwise distances and clusters.

    Neuron ``i`` is the vector ``v_i = [W[i, :], U[:, i]]`` (``W[i, :]`` alone without
    ``u``); ``d_ij = |v_i - v_j|``. Neurons ``i, j`` are merged when ``d_ij < threshold``
    (theory.md 3c: permutation symmetry restored); clusters are the connected components
    of that relation.

    Parameters
    ----------
    w : array (h, n)
    u : array (m, h), optional
    threshold : float >= 0
    sort : bool
        Sort each vector's entries first: the permutation-invariant distance between the
        sorted, flattened weights of two neurons (theory.md section 3.1).
    exclude : array (h,) of bool, optional
        Neurons to leave out (e.g. the ``mask`` of :func:`dead_neurons`: dead neurons all
        coincide at zero).

    Returns
    -------
    dict
        ``distances`` (h, h) (``inf`` on the diagonal and for excluded neurons);
        ``min_distance`` (``inf`` with fewer than two neurons); ``pairs`` list of
        ``(i, j)``, ``i < j``, below the threshold; ``n_pairs``; ``labels`` (h,) cluster
        per neuron (-1 if excluded); ``n_clusters``; ``n_merged`` (neurons in clusters of
        two or more).
    """
    owner = "merged_neurons"
    w = _array(owner, "w", w, 2)
    threshold = _positive(owner, "threshold", threshold, allow_zero=True)
    vec = w
    if u is not None:
        w, u = _check_pair(owner, w, u)
        vec = np.concatenate([w, u.T], axis=1)
    if sort:
        vec = np.sort(vec, axis=1)
    h = vec.shape[0]
    keep = np.ones(h, dtype=bool)
    if exclude is not None:
        ex = np.asarray(exclude)
        if ex.shape != (h,) or ex.dtype != bool:
            raise ConfigError(f"{owner}: exclude must be a bool array of shape ({h},), got "
                              f"{ex.dtype} {ex.shape}")
        keep = ~ex
    dist = np.full((h, h), np.inf)
    for i in range(h - 1):
        # exact differences, not the Gram identity, which loses small distances to rounding
        dist[i, i + 1:] = np.linalg.norm(vec[i + 1:] - vec[i], axis=1)
    dist = np.minimum(dist, dist.T)
    dist[~keep, :] = np.inf
    dist[:, ~keep] = np.inf
    iu, ju = np.nonzero(np.triu(dist < threshold, 1))
    pairs = [(int(i), int(j)) for i, j in zip(iu, ju)]
    parent = list(range(h))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in pairs:
        parent[root(i)] = root(j)
    labels = np.full(h, -1)
    roots = {}
    for i in np.flatnonzero(keep):
        labels[i] = roots.setdefault(root(i), len(roots))
    sizes = np.bincount(labels[labels >= 0], minlength=len(roots))
    return {"distances": dist, "min_distance": float(dist.min()) if h > 1 else float("inf"),
            "pairs": pairs, "n_pairs": len(pairs), "labels": labels, "n_clusters": len(roots),
            "n_merged": int(np.sum(sizes[sizes > 1]))}


def update_gradient_cosine(delta_w, grad_w, per_neuron=False):
    """Cosine of an update with the descent direction, ``cos(dW, -grad W)``.

    ``-<dW, grad W>_F / (|dW|_F |grad W|_F)``: 1 for gradient descent, -1 for ascent,
    about 0 for an unrelated update (theory.md section 2.3).

    Parameters
    ----------
    delta_w : array, or dict of str to array
        The update (weights after minus before). A dict (per tile) is compared with a dict
        of gradients with the same keys as one concatenated vector.
    grad_w : array, or dict of str to array
        The true gradient (e.g. from :func:`shadow_gradients`), same shape(s).
    per_neuron : bool
        For 2-D arrays: the cosine of each row (neuron ``i``'s incoming weights), an
        array (h,).

    Returns
    -------
    float or ndarray
        0 where either vector is zero (undefined cosine).
    """
    owner = "update_gradient_cosine"
    if isinstance(delta_w, dict) or isinstance(grad_w, dict):
        if not (isinstance(delta_w, dict) and isinstance(grad_w, dict)):
            raise TypeError(f"{owner}: delta_w and grad_w must both be arrays or both dicts")
        if set(delta_w) != set(grad_w):
            raise ConfigError(f"{owner}: delta_w has tiles {sorted(delta_w)} but grad_w has "
                              f"{sorted(grad_w)}")
        if per_neuron:
            raise ConfigError(f"{owner}: per_neuron needs single arrays, not dicts")
        keys = sorted(delta_w)
        parts = []
        for k in keys:
            a = _array(owner, f"delta_w[{k!r}]", delta_w[k], (1, 2, 3))
            b = _array(owner, f"grad_w[{k!r}]", grad_w[k], (1, 2, 3))
            _same_shape(owner, (f"delta_w[{k!r}]", f"grad_w[{k!r}]"), (a, b))
            parts.append((a.ravel(), b.ravel()))
        return _cos(np.concatenate([p[0] for p in parts]),
                    -np.concatenate([p[1] for p in parts]))
    a = _array(owner, "delta_w", delta_w, (1, 2, 3))
    b = _array(owner, "grad_w", grad_w, (1, 2, 3))
    _same_shape(owner, ("delta_w", "grad_w"), (a, b))
    if per_neuron:
        if a.ndim != 2:
            raise ConfigError(f"{owner}: per_neuron needs 2-D arrays, got shape {a.shape}")
        return np.array([_cos(a[i], -b[i]) for i in range(a.shape[0])])
    return _cos(a.ravel(), -b.ravel())


def shadow_gradients(sim, inputs, targets, loss="mse", output=None):
    """True gradients of the loss at a simulator's current weights, by a float shadow pass.

    A measurement aid (theory.md section 2.3): an ideal float64 copy of the graph with every
    tile's current (visible) weights runs ``inputs`` forward, then exact backprop through
    the transposes (no feedback tiles, no periphery). ``sim`` itself is not touched: no
    reads, counters or noise streams of its tiles are used.

    Parameters
    ----------
    sim : Simulator
    inputs : dict of str to array, or array
        Graph inputs (an array for a graph with one input).
    targets : array
        Targets of the output, same shape as it.
    loss : str or callable
        A name of :mod:`hwsim.losses` (default ``"mse"``) or a callable returning
        ``(value, grad)``.
    output : str, optional
        The output the loss scores (default: the graph's only output).

    Returns
    -------
    grads : dict of str to ndarray
        ``dL/dW`` per read tile (``d^T x`` of the shadow pass).
    value : float
        The loss at the current weights.
    """
    from .simulator import Simulator
    from .tile import IdealTile

    owner = "shadow_gradients"
    _check_sim(owner, sim)
    graph = sim.graph
    outputs = graph.outputs
    if output is None:
        if len(outputs) != 1:
            raise ConfigError(f"{owner}: graph {graph.name!r} has outputs "
                              f"{', '.join(outputs) or 'none'}; name one with output=")
        output = outputs[0]
    elif output not in outputs:
        raise ConfigError(f"{owner}: output={output!r} is not a graph output; outputs: "
                          f"{', '.join(outputs) or 'none'}")
    if not hasattr(inputs, "keys"):
        if len(graph.inputs) != 1:
            raise ConfigError(f"{owner}: graph {graph.name!r} has inputs "
                              f"{', '.join(graph.inputs)}; pass a dict")
        inputs = {graph.inputs[0]: inputs}
    tiles = {name: IdealTile(t.out_size, t.in_size, init=t.weights())
             for name, t in sim.tiles.items()}
    shadow = Simulator(graph, target="ideal", seed=0, tiles=tiles)
    pred = shadow.run(inputs)[output]
    t = _array(owner, "targets", targets, (2, 3))
    if t.shape != pred.shape:
        raise ConfigError(f"{owner}: targets of shape {t.shape} must match the output "
                          f"{output!r} of shape {pred.shape}")
    value, grad = get_loss(loss)(pred, t)
    shadow.backward({output: grad})
    grads = {}
    for name in shadow.read_tiles:
        x, d = shadow.local_signals(name, source="backward")
        grads[name] = d.T @ x
    return grads, float(value)


def consistency_summary(phi):
    """Summary of consistency scores ``phi_i`` (theory.md section 2.3).

    Returns
    -------
    dict
        ``median``, ``mean``, ``min``, ``max``, ``fraction_positive`` (the dynamical
        consistency order parameter: 1 when all ``phi_i > 0``), ``n``.
    """
    phi = _array("consistency_summary", "phi", phi, 1)
    return {"median": float(np.median(phi)), "mean": float(phi.mean()),
            "min": float(phi.min()), "max": float(phi.max()),
            "fraction_positive": float(np.mean(phi > 0)), "n": int(phi.size)}


def simulator_consistency(sim):
    """Consistency scores ``phi_i`` of every feedback pair of a simulator.

    ``{forward tile: phi}`` with ``phi = consistency(U, B)`` (:func:`consistency`, from
    :mod:`hwsim.rules`), for a simulator built with feedback tiles (heterosynaptic rules,
    feedback alignment).
    """
    owner = "simulator_consistency"
    _check_sim(owner, sim)
    feedback = getattr(sim, "feedback", None) or {}
    if not feedback:
        raise ConfigError(f"{owner}: the simulator has no feedback tiles; consistency scores "
                          "need a rule with dendritic weights (Heterosynaptic, "
                          "FeedbackAlignment) prepared on its graph")
    return {fwd: consistency(sim.tiles[fwd].weights(), sim.tiles[fb].weights())
            for fwd, fb in feedback.items()}


# =========================================================================== representations
def linear_cka(x, y):
    """Linear centred kernel alignment of two representations of the same samples.

    ``CKA = |Y_c^T X_c|_F^2 / (|X_c^T X_c|_F |Y_c^T Y_c|_F)`` with column-centred
    ``X_c, Y_c`` (Kornblith et al. 2019). Invariant to orthogonal transforms and isotropic
    scaling of either representation; in [0, 1].

    Parameters
    ----------
    x : array (n, d1)
    y : array (n, d2)
        Rows are the same ``n >= 2`` samples.

    Returns
    -------
    float

    Notes
    -----
    For independent Gaussian ``x, y`` with ``n >> d1, d2`` the expected value is about
    ``sqrt(d1 d2) / n`` (the finite-sample baseline), not 0.
    """
    owner = "linear_cka"
    x = _array(owner, "x", x, 2)
    y = _array(owner, "y", y, 2)
    if x.shape[0] != y.shape[0]:
        raise ConfigError(f"{owner}: x {x.shape} and y {y.shape} must have the same number of "
                          "rows (samples)")
    if x.shape[0] < 2:
        raise ConfigError(f"{owner}: need at least 2 samples, got x {x.shape}")
    x = x - x.mean(axis=0)
    y = y - y.mean(axis=0)
    n, d1, d2 = x.shape[0], x.shape[1], y.shape[1]
    if n < max(d1, d2):
        kx, ky = x @ x.T, y @ y.T  # the n x n Gram form is cheaper when features exceed n
        cross, nx, ny = np.sum(kx * ky), np.linalg.norm(kx), np.linalg.norm(ky)
    else:
        cross = np.sum((y.T @ x) ** 2)
        nx, ny = np.linalg.norm(x.T @ x), np.linalg.norm(y.T @ y)
    for name, norm in (("x", nx), ("y", ny)):
        if norm == 0:
            raise ConfigError(f"{owner}: {name} is constant across samples; CKA is undefined")
    return float(cross / (nx * ny))


def representation_cka(sim_a, signal_a, sim_b, signal_b):
    """:func:`linear_cka` of a signal of two simulators over their last recorded runs.

    Both runs must have seen the same samples (the same inputs, in the same order); a
    sequence run counts each (sample, step) as a row.
    """
    owner = "representation_cka"
    reps = []
    for name, sim, sig in (("sim_a", sim_a, signal_a), ("sim_b", sim_b, signal_b)):
        _check_sim(owner, sim)
        try:
            r = sim.recorded(sig)
        except SimulationError as exc:
            raise SimulationError(f"{owner}: {name}: {exc}") from None
        reps.append(r.reshape(-1, r.shape[-1]))
    return linear_cka(reps[0], reps[1])


# =========================================================================== symmetry helpers
__all__ += ["odd_canonical"]


def odd_canonical(w, u):
    """Neurons of an odd activation in a canonical sign, for merging up to that symmetry.

    With an odd nonlinearity (tanh), neuron ``i`` computes the same function with
    ``(W[i, :], U[:, i])`` and ``(-W[i, :], -U[:, i])`` (a reflection symmetry, theory.md
    section 5.1), so two neurons with ``v_i = -v_j`` are as merged as two with
    ``v_i = v_j``. Each neuron ``v_i = [W[i, :], U[:, i]]`` is flipped so that its entry of
    largest magnitude (the first, on a tie) is positive; pass the result to
    :func:`merged_neurons`.

    Parameters
    ----------
    w : array (h, n)
    u : array (m, h)

    Returns
    -------
    w, u : ndarray
        The flipped weights (new arrays).
    signs : ndarray (h,)
        +1 or -1 per neuron (+1 for a zero neuron).
    """
    w, u = _check_pair("odd_canonical", w, u)
    v = np.concatenate([w, u.T], axis=1)
    top = v[np.arange(v.shape[0]), np.argmax(np.abs(v), axis=1)]
    signs = np.where(top < 0, -1.0, 1.0)
    return w * signs[:, None], u * signs[None, :], signs
