"""The ``qunn`` target: an ODERNN with a unitary cell lowered to a :class:`qunn.QUNN`.

Both sides are this project's constructions (reference/theory.md 6.2 and 6.4, derived from
the abstract of Niu, Chuang & Horesh, arXiv:1904.12933; not the paper's equations). The
unitary cell with the exact exponential step,

    h_{k+1} = expm(Delta A) h_k + Delta sigma(U x_k + c),      A skew-symmetric,

is the URNN of theory.md 6.2: its recurrent flow ``expm(Delta A) = exp(-i Delta H)`` with the
Hermitian ``H = i A``. The QUNN (theory.md 6.4) keeps that unitary flow, lets the data enter
through it, and replaces the multistep memory by a clock register:

==================  ==========================================  ==========================
spec                QUNN                                        why
==================  ==========================================  ==========================
state h, hidden     q system qubits, N = 2^q >= hidden;         the state vector becomes
                    component i is basis level |i> (levels      the amplitudes of a
                    >= hidden are padding)                      register; 2^q levels hold it
order t             clock memory t (levels 0..t, t couplings)   both say how many past
                                                                steps one step reaches
memory alpha_j      branch weights p_j = |c_j(tau)|^2           the clock mixture over
                                                                depths 0..t replaces the
                                                                multistep sum (6.4, "RK
                                                                analogy")
step Delta          encoding delta                              U = exp(-i Delta H), the
                                                                URNN step (6.2)
A, U, c             H(x) = i A + diag(U x + c) (padded):        x = 0, c = 0 gives
                    generators G_m = diag(U[:, m]) for the      U(x) = expm(Delta A), the
                    inputs and G_1 = i A + diag(c) for a        spec's own recurrent map;
                    constant feature 1                          the input drive becomes the
                                                                on-site energy of level i
readout V, d        O_o = sum_i V_oi |i><i| + d_o I:            V h + d with h_i replaced
                    y_o = Tr(O_o rho) = V p + d,                by the population
                    p_i = <i|rho|i>                             p_i of level i
trained             J_1..J_t only (:attr:`QUNN.n_parameters`)   theory.md 6.4: parameters
                                                                linear in memory
==================  ==========================================  ==========================

So the QUNN's step k applies, on its depth-j branch, ``U_j ... U_1`` with
``U_j = exp(Delta (A - i diag(U x_{k+1-j} + c)))``: j steps of the spec's exact flow driven
by the last j inputs, mixed with weights p_j (``update="trace"``) or, post-selected, the
full depth t. Inputs before the sequence start are zero including the constant feature, so
padded window entries are the identity (the QUNN's convention). What does not carry over,
and the report says so: the activation sigma (the QUNN's nonlinearity is the exponential of
the data Hamiltonian and the mixture), the multistep coefficients, and the zero initial
state (a state must be normalised: the QUNN starts in level ``|0>``).

Use ``compiler.compile(spec, target="qunn", qunn={...})`` with the options of
:class:`QunnOptions`; the result is a :class:`QunnCompileResult`.
"""

import dataclasses
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import qutip

import qunn

from .. import _validate as V
from ..errors import CompileError
from ..weights import initial_weights, parameter_count

__all__ = ["QunnOptions", "QunnReport", "QunnCompileResult", "MAX_QUBITS", "COUPLINGS",
           "ENCODING_KINDS", "options", "check_spec", "qubits_for", "lower", "load"]

_OWNER = "compile.qunn"

#: Largest register this target builds. The spec encoding's unitaries are dense N x N
#: (one Hermitian eigendecomposition per input step) and the QuTiP reference works on
#: N (t + 1) levels; theory.md 6.4 puts dense work at about 2^12.
MAX_QUBITS = 12

#: Named coupling profiles: all ones, or perfect state transfer at the chosen tau.
COUPLINGS = ("uniform", "transfer")

#: Encodings: the spec's own weights, or the fixed Pauli-string kinds of :class:`qunn.Encoding`.
ENCODING_KINDS = ("spec",) + qunn.encoding.KINDS

#: Options of the hardware targets that a QUNN has no use for.
_HARDWARE = ("device", "io", "backward_io", "update", "grid", "cost_table")


# --------------------------------------------------------------------------- options
@dataclass(frozen=True)
class QunnOptions:
    """Options of the ``qunn`` target (``compiler.compile(..., qunn={...})``).

    Parameters
    ----------
    qubits : int, optional
        System qubits q with ``2^q >= hidden`` and ``q <= MAX_QUBITS``. Default: the
        smallest such q (at least 1).
    tau : float, default 1.0
        Clock evolution time per recurrent step (> 0).
    couplings : {"uniform", "transfer"} or sequence of t floats, default "uniform"
        J_1..J_t: ``"uniform"`` all ones (the QUNN default); ``"transfer"`` the
        perfect-state-transfer profile ``J_j = lambda sqrt(j (t + 1 - j))`` with
        ``lambda = pi / (2 tau)``, so all clock amplitude reaches level t (the full
        depth-t composition, p_t = 1); or t finite numbers.
    update : {"trace", "postselect"}, default "trace"
        How the system state is updated (see :class:`qunn.QUNN`).
    encoding : str or sequence of str, default "spec"
        ``"spec"``: generators from the spec's weights (module docstring; features
        ``[x, 1]``). Or Pauli-string kinds of :class:`qunn.Encoding` (``"z"``, ``"x"``,
        ``"zz"``, ``"xx"``, or a list of them) whose feature count must equal the spec's
        ``inputs``; then A and c are not used and the features are ``x``.
    noise : qunn.Noise or dict, optional
        Dephasing / amplitude damping of the system qubits (``{"dephasing": g, "damping":
        g1}``); the model then runs with QuTiP ``mesolve``.

    Unknown keys are a :class:`compiler.CompileError`.
    """

    qubits: int = None
    tau: float = 1.0
    couplings: object = "uniform"
    update: str = "trace"
    encoding: object = "spec"
    noise: object = None

    def __post_init__(self):
        put = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen dataclass)
        if self.qubits is not None:
            put("qubits", V.integer(_OWNER, "qubits", self.qubits, low=1, high=MAX_QUBITS))
        put("tau", V.real(_OWNER, "tau", self.tau, low=0.0, low_open=True))
        put("couplings", _couplings_option(self.couplings))
        put("update", V.choice(_OWNER, "update", self.update, qunn.UPDATES))
        put("encoding", _encoding_option(self.encoding))
        put("noise", _noise_option(self.noise))

    @classmethod
    def from_value(cls, value):
        """Options from None (defaults), a dict (unknown keys refused) or QunnOptions."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        V.keys(_OWNER, value, [f.name for f in dataclasses.fields(cls)])
        return cls(**value)

    def to_dict(self):
        """Plain data (JSON-able); :meth:`from_value` rebuilds equal options."""
        out = dataclasses.asdict(self)
        out["couplings"] = self.couplings if isinstance(self.couplings, str) \
            else list(self.couplings)
        out["encoding"] = self.encoding if isinstance(self.encoding, str) \
            else list(self.encoding)
        if self.noise is not None:
            out["noise"] = {k: np.asarray(getattr(self.noise, k), dtype=float).tolist()
                            for k in ("dephasing", "damping")}
        return out


def _couplings_option(value):
    if isinstance(value, str):
        return V.choice(_OWNER, "couplings", value, COUPLINGS)
    if not hasattr(value, "__iter__"):
        raise CompileError(f"{_OWNER}.couplings must be one of {', '.join(map(repr, COUPLINGS))} "
                           f"or a sequence of t real numbers, got {value!r}")
    return tuple(V.real(_OWNER, f"couplings[{j}]", v) for j, v in enumerate(value))


def _encoding_option(value):
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items or not all(
            isinstance(k, str) and k.strip().lower() in ENCODING_KINDS for k in items):
        raise CompileError(f"{_OWNER}.encoding must be one of "
                           f"{', '.join(map(repr, ENCODING_KINDS))} or a list of Pauli kinds, "
                           f"got {value!r}")
    kinds = tuple(k.strip().lower() for k in items)
    if "spec" in kinds and len(kinds) > 1:
        raise CompileError(f"{_OWNER}.encoding 'spec' cannot be combined with other kinds, "
                           f"got {value!r}")
    return kinds[0] if isinstance(value, str) else kinds


def _noise_option(value):
    if value is None or isinstance(value, qunn.Noise):
        return value
    if isinstance(value, dict):
        V.keys(f"{_OWNER}.noise", value, ["dephasing", "damping"])
        try:
            return qunn.Noise(**value)
        except qunn.QunnError as exc:
            raise CompileError(f"{_OWNER}.noise: {exc}") from None
    raise CompileError(f"{_OWNER}.noise must be None, a qunn.Noise or a dict with keys "
                       f"dephasing, damping; got {value!r}")


def options(value, hardware):
    """Validate the target's options and refuse hardware options it would ignore.

    Parameters
    ----------
    value : None, dict or QunnOptions
        The ``qunn=`` argument of :func:`compiler.compile`.
    hardware : dict of str to object
        The compiler's hardware options (``device``, ``io``, ...) as given.
    """
    for name in _HARDWARE:
        if hardware.get(name) is not None:
            raise CompileError(f"compile.{name} is not used by target 'qunn' (a QUNN has no "
                               f"tiles or devices), got {hardware[name]!r}; leave it None")
    return QunnOptions.from_value(value)


# --------------------------------------------------------------------------- the spec
def check_spec(spec):
    """Refuse a spec that has no QUNN form, saying what is wrong and what is allowed."""
    if spec.cell != "unitary":
        raise CompileError(
            f"compile.target 'qunn' is not available for ODERNN.cell {spec.cell!r}: a QUNN "
            f"evolves its state by unitaries, so only the cell with a skew-symmetric "
            f"(unitary) recurrent part lowers to it; allowed: cell 'unitary' with method "
            f"'exponential' (compiler.architecture('unitary', ...))")
    if not spec.exponential:
        raise CompileError(
            f"compile.target 'qunn' needs ODERNN.method 'exponential' (the exact step "
            f"expm(step * A), unitary like the QUNN's); got {spec.method_name!r}, whose "
            f"stability polynomial R(step * A) is not unitary")
    if spec.readout == "tanh":
        raise CompileError(
            "compile.target 'qunn' cannot lower ODERNN.readout 'tanh': a QUNN reads out "
            "expectation values, linear in the state; allowed: 'linear', 'identity'")
    if spec.syre is not None:
        raise CompileError(
            f"compile.target 'qunn' cannot apply ODERNN.syre {spec.syre.to_dict()!r}: syre "
            f"acts on device tiles and a QUNN has none; set syre to None")


def qubits_for(hidden, requested=None):
    """The register size: the smallest q >= 1 with 2^q >= hidden, or ``requested`` if it
    holds the state."""
    needed = max(1, math.ceil(math.log2(hidden)))
    if needed > MAX_QUBITS:
        raise CompileError(f"ODERNN.hidden {hidden} needs {needed} qubits for target 'qunn', "
                           f"more than MAX_QUBITS = {MAX_QUBITS} (hidden <= {2 ** MAX_QUBITS})")
    if requested is None:
        return needed
    if 2 ** requested < hidden:
        raise CompileError(f"{_OWNER}.qubits {requested} gives 2^{requested} = "
                           f"{2 ** requested} levels, fewer than ODERNN.hidden {hidden}; "
                           f"allowed: {needed} <= qubits <= {MAX_QUBITS}")
    return requested


def _check_skew(A):
    scale = max(1.0, float(np.max(np.abs(A))))
    gap = float(np.max(np.abs(A + A.T)))
    if gap > 1e-12 * scale:
        raise CompileError(f"compile.weights A must be skew-symmetric for target 'qunn' "
                           f"(i A is the Hermitian generator), got max |A + A^T| = {gap:.3g}")
    # i A must be exactly Hermitian for qunn.Encoding: keep the antisymmetric part.
    return (A - A.T) / 2


def _padded(matrix, dim):
    out = np.zeros((dim, dim), dtype=complex)
    out[:matrix.shape[0], :matrix.shape[1]] = matrix
    return out


def _diag(vector, dim):
    return np.diag(np.concatenate([vector, np.zeros(dim - len(vector))])).astype(complex)


def _qobj(matrix, q):
    return qutip.Qobj(matrix, dims=[[2] * q, [2] * q])


def spec_generators(spec, weights, q):
    """The generators of the ``"spec"`` encoding: ``diag(U[:, m])`` per input, then
    ``i A + diag(c)`` for the constant feature (all padded to 2^q levels)."""
    dim = 2 ** q
    A = _check_skew(weights["A"])
    c = weights["c"][:, 0] if spec.bias else np.zeros(spec.hidden)
    gens = [_qobj(_diag(weights["U"][:, m], dim), q) for m in range(spec.inputs)]
    gens.append(_qobj(1j * _padded(A, dim) + _diag(c, dim), q))
    return gens


def _encoding(spec, weights, q, kinds):
    """The :class:`qunn.Encoding`, whether it appends the constant feature, and a summary."""
    if kinds == "spec":
        enc = qunn.Encoding(q, spec_generators(spec, weights, q), delta=spec.step)
        bias = " + c" if spec.bias else ""
        return enc, True, (f"spec: H(x) = i A + diag(U x{bias}) on levels 0..{spec.hidden - 1}, "
                           f"delta = step = {spec.step:g}; features [x, 1]")
    try:
        enc = qunn.Encoding(q, kinds, delta=spec.step)
    except qunn.QunnError as exc:
        raise CompileError(f"{_OWNER}.encoding {kinds!r}: {exc}") from None
    if enc.n_features != spec.inputs:
        raise CompileError(f"{_OWNER}.encoding {kinds!r} on {q} qubits has {enc.n_features} "
                           f"features, but ODERNN.inputs is {spec.inputs}; they must be equal "
                           f"(or use encoding 'spec', which takes any number of inputs)")
    names = kinds if isinstance(kinds, str) else "+".join(kinds)
    return enc, False, (f"Pauli {names}: H(x) = sum_m x_m G_m, delta = step = {spec.step:g}; "
                        f"features x (A and c of the spec unused)")


def _couplings(option, t, tau):
    if option == "uniform":
        return np.ones(t)
    if option == "transfer":
        return qunn.perfect_transfer_couplings(t, lam=math.pi / (2 * tau))
    if len(option) != t:
        raise CompileError(f"{_OWNER}.couplings must have t = ODERNN.order = {t} values, got "
                           f"{len(option)}")
    return np.array(option, dtype=float)


def readout_observables(spec, weights, q):
    """The observables O_o whose expectations are the outputs, and a summary."""
    dim = 2 ** q
    if spec.readout == "identity":
        obs = [_qobj(_diag(np.eye(spec.hidden)[i], dim), q) for i in range(spec.hidden)]
        return obs, "identity: y_i = <i|rho|i>, the population of level i"
    d = weights["d"][:, 0] if spec.bias else np.zeros(spec.outputs)
    obs = [_qobj(_diag(weights["V"][o], dim) + d[o] * np.eye(dim), q)
           for o in range(spec.outputs)]
    bias = " + d" if spec.bias else ""
    return obs, (f"linear: y = V p{bias}, p_i = <i|rho|i> (O_o = sum_i V_oi |i><i|"
                 f"{' + d_o' if spec.bias else ''})")


# --------------------------------------------------------------------------- lowering
def lower(spec, weights=None, seed=0, opts=None):
    """Lower a unitary-cell ODERNN to a :class:`qunn.QUNN`.

    Parameters
    ----------
    spec : ODERNN
    weights : dict of str to array, optional
        Initial matrices by parameter name (others drawn from ``seed``, as for the device
        targets, so both targets start from the same A, U, c, V, d).
    seed : int
    opts : QunnOptions, dict or None

    Returns
    -------
    QunnCompileResult
    """
    start = time.perf_counter()
    opts = QunnOptions.from_value(opts)
    check_spec(spec)
    q = qubits_for(spec.hidden, opts.qubits)
    drawn, _ = initial_weights(spec, seed, weights)
    encoding, constant, enc_text = _encoding(spec, drawn, q, opts.encoding)
    observables, readout_text = readout_observables(spec, drawn, q)
    J = _couplings(opts.couplings, spec.order, opts.tau)
    model = qunn.QUNN(qubits=q, memory=spec.order, encoding=encoding, couplings=J,
                      tau=opts.tau, readout=observables, update=opts.update, noise=opts.noise,
                      readout_weights=np.eye(len(observables))[0])
    report = _report(spec, model, opts, enc_text, readout_text, constant,
                     time.perf_counter() - start)
    return QunnCompileResult(model=model, report=report, spec=spec, weights=drawn,
                             options=opts, constant_feature=constant)


def _notes(spec, opts, constant):
    notes = [f"the activation {spec.activation!r} is not used: the QUNN's nonlinearity is "
             f"the exponential of the data Hamiltonian and the clock mixture",
             f"the initial state is level |0> (a QUNN state is normalised), not h = 0"]
    if spec.order > 1 or spec.memory != "difference":
        alpha = ", ".join(f"{a:g}" for a in spec.alpha)
        notes.append(f"the multistep coefficients ({alpha}) are replaced by the clock "
                     f"branch weights p_j = |c_j(tau)|^2")
    if not constant:
        notes.append("the spec's A and c are not used by a Pauli-string encoding")
    if opts.update == "postselect":
        notes.append("postselect: the outputs see only the depth-t branch; its success "
                     "probability p_t is in the model's results")
    return notes


def _report(spec, model, opts, enc_text, readout_text, constant, seconds):
    p = qunn.clock_probabilities(model.couplings, model.tau)
    couplings = opts.couplings if isinstance(opts.couplings, str) else "given"
    return QunnReport(
        spec=spec.to_dict(), description=spec.describe(), qubits=model.qubits,
        dim=model.dim, hidden=spec.hidden, memory=model.memory,
        couplings=model.couplings.tolist(), coupling_profile=couplings,
        parameters=model.n_parameters, classical_parameters=parameter_count(spec),
        tau=model.tau, delta=model.encoding.delta, update=model.update,
        branch_weights=p.tolist(), encoding=enc_text, features=model.encoding.n_features,
        readout=readout_text, outputs=len(model.readout),
        noise=None if opts.noise is None else opts.to_dict()["noise"],
        seconds=seconds, notes=_notes(spec, opts, constant))


# --------------------------------------------------------------------------- report
@dataclass
class QunnReport:
    """What the ``qunn`` target mapped, for people (``str``) and machines (``to_json``).

    Attributes
    ----------
    spec : dict
    description : str
    target : str
        ``"qunn"``.
    qubits, dim, hidden : int
        q, N = 2^q and the spec's state size (levels ``hidden..N-1`` are padding).
    memory : int
        t, the clock memory (= the spec's order).
    couplings : list of float
        J_1..J_t at compile time; ``coupling_profile`` says where they came from.
    parameters : int
        Trainable parameters of the QUNN (the t couplings), next to
        ``classical_parameters``, the spec's count on the device targets.
    tau, delta : float
    update : str
    branch_weights : list of float
        p_j = |c_j(tau)|^2, j = 0..t.
    encoding, readout : str
        What the data and the outputs map to.
    features, outputs : int
    noise : dict or None
    seconds : float
    notes : list of str
    """

    spec: dict
    description: str
    qubits: int
    dim: int
    hidden: int
    memory: int
    couplings: list
    coupling_profile: str
    parameters: int
    classical_parameters: int
    tau: float
    delta: float
    update: str
    branch_weights: list
    encoding: str
    features: int
    readout: str
    outputs: int
    noise: dict = None
    seconds: float = 0.0
    notes: list = field(default_factory=list)
    target: str = "qunn"

    @property
    def verdict(self):
        """Always ``"stable"``: every step is unitary and the update CPTP (theory.md 6.4)."""
        return "stable"

    def to_dict(self):
        out = dict(self.__dict__)
        out["verdict"] = self.verdict
        return out

    def to_json(self, indent=2):
        return json.dumps(self.to_dict(), indent=indent)

    def __str__(self):
        pad = f"; levels {self.hidden}..{self.dim - 1} padding" if self.dim > self.hidden else ""
        J = ", ".join(f"{j:.4g}" for j in self.couplings)
        p = ", ".join(f"{x:.3f}" for x in self.branch_weights)
        lines = [
            f"compiled {self.description}",
            f"  target qunn: {self.qubits} qubits (N = {self.dim} >= hidden {self.hidden}{pad}), "
            f"clock memory t = {self.memory} (levels 0..{self.memory})",
            f"  parameters: {self.parameters} trainable clock couplings J_1..J_{self.memory} "
            f"(the classical spec has {self.classical_parameters})",
            f"  couplings: {self.coupling_profile} ({J}), tau {self.tau:g}, update "
            f"{self.update}; branch weights p_0..p_t = ({p})",
            f"  encoding: {self.encoding} ({self.features} features)",
            f"  readout: {self.readout} ({self.outputs} output{'s' * (self.outputs != 1)})",
            f"  stability: {self.verdict} (unitary steps, CPTP update: norm and trace kept)",
        ]
        if self.noise is not None:
            lines.append(f"  noise: dephasing {self.noise['dephasing']}, damping "
                         f"{self.noise['damping']} (QuTiP mesolve)")
        lines += [f"  note: {n}" for n in self.notes]
        lines.append(f"  compiled in {self.seconds * 1e3:.1f} ms")
        return "\n".join(lines)


# --------------------------------------------------------------------------- result
@dataclass
class QunnCompileResult:
    """What :func:`compiler.compile` returns for ``target="qunn"``.

    Attributes
    ----------
    model : qunn.QUNN
        The lowered network: train it with :func:`qunn.train` on :meth:`features`. Its
        readout observables are the outputs' O_o; its scalar ``outputs`` (readout weights
        ``(1, 0, ...)``) is the first output.
    report : QunnReport
    spec : ODERNN
    weights : dict of str to ndarray
        The spec's matrices the model was built from (A, U, c, V, d).
    options : QunnOptions
    constant_feature : bool
        Whether :meth:`features` appends the constant 1 (encoding ``"spec"``).
    target : str
        ``"qunn"``.
    stability : None
        The classical stability pass does not apply (the QUNN is stable by construction).
    """

    model: object
    report: QunnReport
    spec: object
    weights: dict
    options: QunnOptions
    constant_feature: bool
    target: str = "qunn"
    stability: object = None

    def features(self, x):
        """The QUNN's input sequences for spec inputs ``x`` (batch, T, inputs):
        ``[x, 1]`` for the spec encoding, else ``x`` itself."""
        x = _check_inputs(x, self.spec.inputs)
        if not self.constant_feature:
            return x
        return np.concatenate([x, np.ones(x.shape[:2] + (1,))], axis=2)

    def results(self, x, method="auto"):
        """One :class:`qunn.QunnResult` per sequence of ``x`` (batch, T, inputs)."""
        return [self.model.run(seq, method=method) for seq in self.features(x)]

    def run(self, x, method="auto"):
        """Outputs ``y`` (batch, T, outputs) for inputs ``x`` (batch, T, inputs).

        ``y[b, k, o] = Tr(O_o rho_{k+1})`` for sequence b: the readout observables of
        :func:`readout_observables` on the state after step k (which has seen x_k). For one
        output this is ``self.model.run(self.features(x)[b]).outputs``.

        Parameters
        ----------
        x : array_like, shape (batch, T, inputs)
        method : {"auto", "fast", "expm", "sesolve", "mesolve"}
            The QUNN's simulation path (``"auto"``: the exact fast path, or ``mesolve``
            with noise).
        """
        return np.stack([r.expect for r in self.results(x, method)])

    def to_dict(self):
        """Plain data: spec, options and weights rebuild the model (:func:`load`)."""
        return {"target": "qunn", "spec": self.spec.to_dict(), "options": self.options.to_dict(),
                "weights": {k: v.tolist() for k, v in self.weights.items()},
                "report": self.report.to_dict()}

    def to_dot(self):
        """Graphviz DOT of the clock chain: system register, levels 0..t, couplings."""
        m = self.model
        lines = [f'digraph "{self.spec.name}" {{', "  rankdir=LR;",
                 f'  system [shape=box, label="system: {m.qubits} qubits (N = {m.dim})"];',
                 '  readout [shape=box, label="readout: Tr(O rho)"];']
        for j in range(m.memory + 1):
            lines.append(f'  c{j} [shape=circle, label="|{j}>"];')
        for j, J in enumerate(m.couplings, start=1):
            data = "x_k" if j == 1 else f"x_k-{j - 1}"
            lines.append(f'  c{j - 1} -> c{j} [dir=both, label="J_{j} = {J:.4g}, U({data})"];')
        lines += ["  system -> c0 [style=dashed];",
                  f'  c{m.memory} -> readout [style=dashed, label="{m.update}"];', "}"]
        return "\n".join(lines) + "\n"

    def save(self, path, dot=None):
        """Write :meth:`to_dict` as JSON to ``path`` (and the clock chain's DOT to ``dot``)."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1))
        if dot is not None:
            Path(dot).write_text(self.to_dot())


def _check_inputs(x, inputs):
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise CompileError(f"x must be a numeric array (batch, T, {inputs}), got "
                           f"{type(x).__name__}") from None
    if arr.ndim != 3 or arr.shape[2] != inputs or arr.shape[1] < 1:
        raise CompileError(f"x must have shape (batch, T >= 1, inputs = {inputs}), got "
                           f"{arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise CompileError("x must be finite (it has NaN or inf entries)")
    return arr


def load(path):
    """Rebuild a :class:`QunnCompileResult` from the JSON that :meth:`~QunnCompileResult.save`
    wrote."""
    from ..compile import load_spec

    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or data.get("target") != "qunn":
        raise CompileError(f"{path}: not a saved qunn target (no \"target\": \"qunn\")")
    return lower(load_spec(data["spec"]), data["weights"], 0, data["options"])
