"""The QUNN model: hwsim's clock-Hamiltonian construction (PROJECT CONSTRUCTION, theory.md 6.4).

This is the project's own construction, derived from the abstract of Niu, Chuang & Horesh
(arXiv:1904.12933), not the paper's equations. A q-qubit system register is coupled to a
(t+1)-level clock register by

    H = sum_{j=1}^{t} J_j (U_j (x) |j><j-1| + U_j^dag (x) |j-1><j|),

where U_j = exp(-i delta H(x)) encodes one past input and only J_1..J_t (optionally tau and the
readout weights) are trained. Starting from |psi_k> (x) |0>, one recurrent step evolves for a
time tau; the clock amplitude hops along the chain and applies one more U per level, so

    exp(-i H tau) |psi_k>|0> = sum_j c_j(tau) |psi^(j)>|j>,   |psi^(j)> = U_j ... U_1 |psi_k>,

with c(tau) = exp(-i tau h) e_0 for the (t+1)-site hopping chain h (see :mod:`qunn.clock`).

Indexing convention: step k (0-based) reads the window U_j = U(x_{k+1-j}), j = 1..t, so U_1
encodes the newest input x_k; inputs before the sequence start are zero (U = identity). Step k
produces rho_{k+1} and the output y_k = sum_o w_o Tr(O_o rho_{k+1}) + b. This is theory.md's
indexing shifted by one so that the output at step k already sees x_k.
"""

from dataclasses import dataclass
import re

import numpy as np
import qutip

from .clock import clock_amplitudes, clock_probability_jacobian
from .encoding import Encoding, pauli_string
from .errors import QunnError, check_finite_array, check_int, check_real
from .noise import Noise

__all__ = ["QUNN", "QunnResult", "METHODS", "UPDATES"]

METHODS = ("auto", "fast", "expm", "sesolve", "mesolve")
UPDATES = ("trace", "postselect")
_SOLVER_OPTIONS = {"atol": 1e-12, "rtol": 1e-10, "nsteps": 100000}


@dataclass
class QunnResult:
    """The outcome of :meth:`QUNN.run` on one sequence.

    Attributes
    ----------
    expect : ndarray, shape (K, n_obs)
        Tr(O_o rho_{k+1}) for each step k and readout observable o.
    outputs : ndarray, shape (K,)
        y_k = expect[k] @ readout_weights + readout_bias.
    success : ndarray, shape (K,) or None
        Post-selection success probability of each step (``update="postselect"``), else None.
    states : list of qutip.Qobj or None
        rho_1 .. rho_K (or kets) if ``store_states=True``.
    method : str
        The simulation path that produced the result.
    """

    expect: np.ndarray
    outputs: np.ndarray
    success: object
    states: object
    method: str


def _apply(u, state, ket):
    """U |psi> or U rho U^dag, with U stored as a diagonal vector or a dense matrix."""
    if u is None:
        return state
    if u.ndim == 1:
        return u * state if ket else (u[:, None] * state) * u.conj()[None, :]
    return u @ state if ket else u @ state @ u.conj().T


def _apply_adjoint(u, lam):
    """U^dag Lam U (the Heisenberg-picture step used by the adjoint pass)."""
    if u is None:
        return lam
    if u.ndim == 1:
        return (u.conj()[:, None] * lam) * u[None, :]
    return u.conj().T @ lam @ u


class QUNN:
    """Quantum-inspired recurrent network on a system (x) clock register (project construction).

    Parameters
    ----------
    qubits : int
        Number of system qubits q >= 1 (N = 2^q).
    memory : int
        Memory length t >= 1 (clock levels 0..t; t couplings).
    encoding : Encoding, str, Qobj or sequence, default "z"
        An :class:`Encoding` on ``qubits`` qubits, or its ``generators`` argument.
    couplings : array_like of length t, optional
        J_1..J_t (real, finite). Default: all ones.
    tau : float, default 1.0
        Evolution time per recurrent step (> 0).
    readout : "z<i>", Qobj or a sequence of them, default "z0"
        Hermitian observables O_o on the system; ``"z0"`` is Pauli Z on qubit 0.
    update : {"trace", "postselect"}, default "trace"
        "trace": rho_{k+1} = sum_j |c_j|^2 |psi^(j)><psi^(j)| (clock traced out);
        "postselect": project the clock on |t>, renormalise, report |c_t|^2 as success.
    noise : Noise, optional
        System-qubit dephasing / amplitude damping (forces the ``mesolve`` path).
    initial_state : Qobj or array, optional
        Normalised ket or density matrix of the system. Default |0...0>.
    readout_weights : array_like of length n_obs, optional
        w in y = w . <O> + b. Default ones / n_obs.
    readout_bias : float, default 0
    train_tau, train_readout : bool, default False
        Whether tau and (w, b) are part of :attr:`parameters`.

    Attributes
    ----------
    n_parameters : int
        t (+1 if train_tau) (+ n_obs + 1 if train_readout): independent of N.
    """

    def __init__(self, qubits, memory, encoding="z", couplings=None, tau=1.0, readout="z0",
                 update="trace", noise=None, initial_state=None, readout_weights=None,
                 readout_bias=0.0, train_tau=False, train_readout=False):
        self.qubits = check_int("qubits", qubits, 1)
        self.memory = check_int("memory", memory, 1)
        self.dim = 2 ** self.qubits
        if isinstance(encoding, Encoding):
            if encoding.qubits != self.qubits:
                raise QunnError(f"encoding acts on {encoding.qubits} qubits, model has qubits={self.qubits}")
            self.encoding = encoding
        else:
            self.encoding = Encoding(self.qubits, encoding)
        self.couplings = np.ones(self.memory) if couplings is None else couplings
        self.tau = tau
        if update not in UPDATES:
            raise QunnError(f"update must be one of {UPDATES}, got {update!r}")
        self.update = update
        if noise is not None and not isinstance(noise, Noise):
            raise QunnError(f"noise must be a qunn.Noise or None, got {noise!r}")
        self.noise = noise
        if noise is not None:
            noise.collapse_operators(self.qubits, self.memory + 1)  # validates per-qubit lengths
        self.readout = self._make_readout(readout)
        self._readout_mats = [o.full() for o in self.readout]
        n_obs = len(self.readout)
        w = np.full(n_obs, 1.0 / n_obs) if readout_weights is None else readout_weights
        self.readout_weights = check_finite_array("readout_weights", w, ndim=1)
        if self.readout_weights.shape != (n_obs,):
            raise QunnError(f"readout_weights must have length {n_obs}, got {self.readout_weights.shape[0]}")
        self.readout_bias = check_real("readout_bias", readout_bias)
        self.train_tau = bool(train_tau)
        self.train_readout = bool(train_readout)
        self.initial_state = self._make_state(initial_state)

    # ----------------------------------------------------------------- validation
    @property
    def couplings(self):
        """J_1..J_t as a float array (a copy)."""
        return self._couplings.copy()

    @couplings.setter
    def couplings(self, value):
        J = check_finite_array("couplings", value, ndim=1)
        if J.shape != (self.memory,):
            raise QunnError(f"couplings must have length memory={self.memory}, got {J.shape[0]}")
        self._couplings = J.copy()

    @property
    def tau(self):
        """Evolution time per step."""
        return self._tau

    @tau.setter
    def tau(self, value):
        self._tau = check_real("tau", value, positive=True)

    def _make_readout(self, readout):
        items = [readout] if isinstance(readout, (str, qutip.Qobj)) else list(readout)
        if not items:
            raise QunnError("readout must not be empty")
        ops = []
        for n, item in enumerate(items):
            if isinstance(item, str):
                m = re.fullmatch(r"([xyz])(\d+)", item)
                if not m or int(m.group(2)) >= self.qubits:
                    raise QunnError(f"readout[{n}] must be 'x<i>', 'y<i>' or 'z<i>' with i < {self.qubits}, "
                                    f"got {item!r}")
                ops.append(pauli_string(self.qubits, {int(m.group(2)): m.group(1)}))
            elif isinstance(item, qutip.Qobj):
                mat = item.full()
                if mat.shape != (self.dim, self.dim):
                    raise QunnError(f"readout[{n}] must be {self.dim}x{self.dim}, got shape {mat.shape}")
                if not np.all(np.isfinite(mat)) or not np.allclose(mat, mat.conj().T, atol=1e-12):
                    raise QunnError(f"readout[{n}] must be a finite Hermitian operator")
                ops.append(qutip.Qobj(mat, dims=[[2] * self.qubits] * 2))
            else:
                raise QunnError(f"readout[{n}] must be a string like 'z0' or a Qobj, got {item!r}")
        return ops

    def _make_state(self, state):
        if state is None:
            return qutip.tensor([qutip.basis(2, 0)] * self.qubits)
        mat = state.full() if isinstance(state, qutip.Qobj) else check_finite_array("initial_state", state, dtype=complex)
        if mat.ndim == 2 and mat.shape[1] == 1:
            mat = mat[:, 0]
        if not np.all(np.isfinite(mat)):
            raise QunnError("initial_state must be finite")
        dims = [2] * self.qubits
        if mat.shape == (self.dim,):
            if abs(np.linalg.norm(mat) - 1) > 1e-10:
                raise QunnError(f"initial_state must be normalised, got norm {np.linalg.norm(mat)!r}")
            return qutip.Qobj(mat.reshape(-1, 1), dims=[dims, [1] * self.qubits])
        if mat.shape == (self.dim, self.dim):
            if not np.allclose(mat, mat.conj().T, atol=1e-12) or abs(np.trace(mat) - 1) > 1e-10 \
                    or np.linalg.eigvalsh(mat).min() < -1e-10:
                raise QunnError("initial_state density matrix must be Hermitian, positive, trace 1")
            return qutip.Qobj(mat, dims=[dims, dims])
        raise QunnError(f"initial_state must be a ket of length {self.dim} or a {self.dim}x{self.dim} "
                        f"density matrix, got shape {mat.shape}")

    def _check_sequence(self, xs, name="xs"):
        xs = check_finite_array(name, xs, ndim=2)
        if xs.shape[1] != self.encoding.n_features:
            raise QunnError(f"{name} must have shape (steps, {self.encoding.n_features}), got {xs.shape}")
        if xs.shape[0] < 1:
            raise QunnError(f"{name} must have at least one step")
        return xs

    # ----------------------------------------------------------------- parameters
    @property
    def n_parameters(self):
        """Number of trainable parameters: t (+1 tau) (+ n_obs + 1 readout)."""
        n = self.memory + int(self.train_tau)
        return n + (len(self.readout) + 1 if self.train_readout else 0)

    @property
    def parameters(self):
        """Flat trainable vector [J_1..J_t, (tau), (w_1..w_n_obs, b)] (a copy)."""
        parts = [self._couplings]
        if self.train_tau:
            parts.append([self._tau])
        if self.train_readout:
            parts += [self.readout_weights, [self.readout_bias]]
        return np.concatenate([np.asarray(p, dtype=float) for p in parts])

    @parameters.setter
    def parameters(self, value):
        theta = check_finite_array("parameters", value, ndim=1)
        if theta.shape != (self.n_parameters,):
            raise QunnError(f"parameters must have length n_parameters={self.n_parameters}, got {theta.shape[0]}")
        t = self.memory
        self.couplings = theta[:t]
        i = t
        if self.train_tau:
            self.tau = theta[i]
            i += 1
        if self.train_readout:
            n = len(self.readout)
            self.readout_weights = theta[i:i + n].copy()
            self.readout_bias = float(theta[i + n])

    # ----------------------------------------------------------------- operators
    def clock_amplitudes(self):
        """c_j(tau), j = 0..t: data independent (see :func:`qunn.clock.clock_amplitudes`)."""
        return clock_amplitudes(self._couplings, self._tau)

    def window(self, xs, k):
        """The (t, n_features) data window of step k: row j-1 is x_{k+1-j}, zeros before the start."""
        xs = np.asarray(xs, dtype=float)
        win = np.zeros((self.memory, self.encoding.n_features))
        for j in range(1, self.memory + 1):
            if k + 1 - j >= 0:
                win[j - 1] = xs[k + 1 - j]
        return win

    def hamiltonian(self, window):
        """The clock Hamiltonian on system (x) clock as a Hermitian ``Qobj`` (QuTiP reference).

        Parameters
        ----------
        window : array_like, shape (t, n_features)
            Row j-1 is the data encoded by U_j.
        """
        window = check_finite_array("window", window, ndim=2)
        if window.shape != (self.memory, self.encoding.n_features):
            raise QunnError(f"window must have shape {(self.memory, self.encoding.n_features)}, got {window.shape}")
        d = self.memory + 1
        H = 0
        for j in range(1, d):
            hop = qutip.tensor(self.encoding.unitary(window[j - 1]),
                               qutip.basis(d, j) * qutip.basis(d, j - 1).dag())
            H = H + float(self._couplings[j - 1]) * (hop + hop.dag())
        return H

    def propagator(self, window):
        """exp(-i tau H) as a ``Qobj`` (dense ``expm`` of the full clock Hamiltonian)."""
        return (-1j * self._tau * self.hamiltonian(window)).expm()

    def joint_state(self, window, psi=None):
        """exp(-i tau H)(|psi> (x) |0>) by the exact fast path, as a ket on system (x) clock.

        Sum_j c_j(tau) |psi^(j)> (x) |j> with |psi^(j)> = U_j ... U_1 |psi>: one (t+1) x (t+1)
        chain exponential plus t applications of the encoding unitaries; compare
        ``qutip.sesolve(self.hamiltonian(window), psi (x) |0>, [0, tau])``.

        Parameters
        ----------
        window : array_like, shape (t, n_features)
            Row j-1 is the data encoded by U_j.
        psi : Qobj ket, optional
            System state; default the model's initial state (which must then be a ket).
        """
        window = check_finite_array("window", window, ndim=2)
        if window.shape != (self.memory, self.encoding.n_features):
            raise QunnError(f"window must have shape {(self.memory, self.encoding.n_features)}, got {window.shape}")
        psi = self.initial_state if psi is None else self._make_state(psi)
        if not psi.isket:
            raise QunnError("joint_state needs a pure system state (a ket)")
        cols = self._joint_columns([self.encoding.unitary_array(x) for x in window], psi.full()[:, 0])
        return qutip.Qobj(cols.reshape(-1, 1), dims=[[2] * self.qubits + [self.memory + 1],
                                                     [1] * (self.qubits + 1)])

    def _joint_columns(self, us, psi):
        """(N, t+1) array whose column j is c_j U_j...U_1 psi (system-major when flattened)."""
        c = clock_amplitudes(self._couplings, self._tau)
        out = np.empty((self.dim, self.memory + 1), dtype=complex)
        out[:, 0] = psi
        for j, u in enumerate(us, start=1):
            out[:, j] = _apply(u, out[:, j - 1], True)
        return out * c[None, :]

    # ----------------------------------------------------------------- simulation
    def _resolve_method(self, method):
        if method not in METHODS:
            raise QunnError(f"method must be one of {METHODS}, got {method!r}")
        noisy = self.noise is not None and not self.noise.is_zero
        if method == "auto":
            return "mesolve" if noisy else "fast"
        if noisy and method != "mesolve":
            raise QunnError(f"a noisy model simulates only with method='mesolve' (or 'auto'), got {method!r}")
        return method

    def run(self, xs, method="auto", initial_state=None, store_states=False):
        """Run the recurrence over one sequence.

        Parameters
        ----------
        xs : array_like, shape (K, n_features)
            Input sequence (finite).
        method : {"auto", "fast", "expm", "sesolve", "mesolve"}
            "fast": exact history-basis path (numpy); "expm": ``Qobj.expm`` of the full H;
            "sesolve": QuTiP ``sesolve`` for kets (``mesolve`` without collapse operators once
            the state is mixed); "mesolve": QuTiP ``mesolve`` with the noise's collapse
            operators. "auto": "fast" if noise-free, else "mesolve".
        initial_state : Qobj or array, optional
            Overrides the model's initial state.
        store_states : bool
            Keep rho_1..rho_K (kets when the state stays pure) as ``Qobj``s.

        Returns
        -------
        QunnResult
        """
        xs = self._check_sequence(xs)
        method = self._resolve_method(method)
        state = self.initial_state if initial_state is None else self._make_state(initial_state)
        if method == "fast":
            return self._run_fast(xs, state, store_states)
        return self._run_qutip(xs, state, method, store_states)

    def predict(self, xs, method="auto"):
        """Outputs y_k, shape (K,), of :meth:`run`."""
        return self.run(xs, method=method).outputs

    def _outputs(self, expect):
        return expect @ self.readout_weights + self.readout_bias

    def _unitaries(self, xs):
        return [self.encoding.unitary_array(x) for x in xs]

    def _window_unitaries(self, us, k):
        return [us[k + 1 - j] if k + 1 - j >= 0 else None for j in range(1, self.memory + 1)]

    def _run_fast(self, xs, state, store_states):
        c = clock_amplitudes(self._couplings, self._tau)
        p = np.abs(c) ** 2
        phase = c[-1] / abs(c[-1]) if abs(c[-1]) > 0 else 1.0
        us = self._unitaries(xs)
        ket = state.isket and self.update == "postselect"
        s = state.full()[:, 0] if ket else (state.proj() if state.isket else state).full()
        expect = np.empty((len(xs), len(self.readout)))
        states = [] if store_states else None
        dims = [[2] * self.qubits, [1] * self.qubits if ket else [2] * self.qubits]
        for k in range(len(xs)):
            win = self._window_unitaries(us, k)
            if self.update == "postselect":
                for u in win:
                    s = _apply(u, s, ket)
                if ket:  # keep the global phase of c_t so kets match the QuTiP path exactly
                    s = phase * s
            else:
                sigma, new = s, p[0] * s
                for j, u in enumerate(win, start=1):
                    sigma = _apply(u, sigma, False)
                    new = new + p[j] * sigma
                s = new
            if ket:
                expect[k] = [np.real(np.vdot(s, o @ s)) for o in self._readout_mats]
            else:
                expect[k] = [np.real(np.sum(o.T * s)) for o in self._readout_mats]
            if store_states:
                states.append(qutip.Qobj(s.reshape(-1, 1) if ket else s, dims=dims))
        success = np.full(len(xs), p[-1]) if self.update == "postselect" else None
        return QunnResult(expect, self._outputs(expect), success, states, "fast")

    def _run_qutip(self, xs, state, method, store_states):
        d = self.memory + 1
        sys_dims = [2] * self.qubits
        c_ops = self.noise.collapse_operators(self.qubits, d) if self.noise is not None else []
        project = qutip.tensor(qutip.qeye(sys_dims), qutip.basis(d, d - 1).dag())
        expect = np.empty((len(xs), len(self.readout)))
        success = np.empty(len(xs)) if self.update == "postselect" else None
        states = [] if store_states else None
        for k in range(len(xs)):
            H = self.hamiltonian(self.window(xs, k))
            clock0 = qutip.basis(d, 0)
            full0 = qutip.tensor(state, clock0 if state.isket else clock0.proj())
            if method == "expm":
                U = (-1j * self._tau * H).expm()
                full = U * full0 if full0.isket else U * full0 * U.dag()
            elif method == "sesolve" and full0.isket:
                full = qutip.sesolve(H, full0, [0.0, self._tau], options=_SOLVER_OPTIONS).states[-1]
            else:
                full = qutip.mesolve(H, full0, [0.0, self._tau], c_ops=c_ops,
                                     options=_SOLVER_OPTIONS).states[-1]
            if self.update == "trace":
                state = full.ptrace(list(range(self.qubits)))
            else:
                if full.isket:
                    proj = project * full
                    prob = proj.norm() ** 2
                    if prob <= 1e-300:
                        raise QunnError("post-selection success probability |c_t|^2 is zero: "
                                        "change couplings or tau")
                    state = proj / np.sqrt(prob)
                else:
                    proj = project * full * project.dag()
                    prob = float(np.real(proj.tr()))
                    if prob <= 1e-300:
                        raise QunnError("post-selection success probability |c_t|^2 is zero: "
                                        "change couplings or tau")
                    state = proj / prob
                success[k] = prob
                state = qutip.Qobj(state.full(), dims=[sys_dims, [1] * self.qubits if state.isket else sys_dims])
            expect[k] = [np.real(qutip.expect(o, state)) for o in self.readout]
            if store_states:
                states.append(state)
        return QunnResult(expect, self._outputs(expect), success, states, method)

    # ----------------------------------------------------------------- training
    def loss(self, xs, ys, method="auto"):
        """Mean squared error of the outputs over the steps (and sequences, if xs is 3-D)."""
        xs, ys = self._check_batch(xs, ys)
        return float(np.mean([np.mean((self.predict(x, method) - y) ** 2) for x, y in zip(xs, ys)]))

    def _check_batch(self, xs, ys):
        xs = check_finite_array("xs", xs)
        ys = check_finite_array("ys", ys)
        if xs.ndim == 2:
            xs, ys = xs[None], ys[None]
        if xs.ndim != 3 or ys.ndim != 2 or ys.shape != xs.shape[:2]:
            raise QunnError(f"xs must be (K, d) or (B, K, d) with ys (K,) or (B, K); got {xs.shape}, {ys.shape}")
        for x in xs:
            self._check_sequence(x)
        return xs, ys

    def loss_and_gradient(self, xs, ys):
        """Exact MSE loss and its gradient w.r.t. :attr:`parameters` (noise-free fast path).

        The branch weights p_j = |c_j(tau)|^2 are the only place J and tau enter; dp/dJ and
        dp/dtau come from the Frechet derivative of the (t+1) x (t+1) chain exponential, and
        dL/dp from one adjoint (Heisenberg-picture) sweep backwards through the sequence:
        Lam_{k+1} = dL/drho_{k+1}, Lam_k <- sum_j p_j V_j^dag Lam V_j. With ``"postselect"`` the
        outputs do not depend on J or tau (only the success probability does), so those
        components are zero.

        Parameters
        ----------
        xs : array_like, shape (K, d) or (B, K, d)
        ys : array_like, shape (K,) or (B, K)

        Returns
        -------
        loss : float
        grad : ndarray, shape (n_parameters,)
        """
        if self.noise is not None and not self.noise.is_zero:
            raise QunnError("exact gradients need a noise-free model (noise breaks the history-basis reduction)")
        xs, ys = self._check_batch(xs, ys)
        p, dp_dJ, dp_dtau = clock_probability_jacobian(self._couplings, self._tau)
        n_obs = len(self.readout)
        obs = sum(w * o for w, o in zip(self.readout_weights, self._readout_mats))
        B = len(xs)
        loss, g_p = 0.0, np.zeros(self.memory + 1)
        g_w, g_b = np.zeros(n_obs), 0.0
        for x, y in zip(xs, ys):
            K = len(x)
            us = self._unitaries(x)
            rhos = [(self.initial_state.proj() if self.initial_state.isket else self.initial_state).full()]
            expect = np.empty((K, n_obs))
            for k in range(K):
                rho = rhos[-1]
                win = self._window_unitaries(us, k)
                if self.update == "postselect":
                    for u in win:
                        rho = _apply(u, rho, False)
                    new = rho
                else:
                    sigma, new = rho, p[0] * rho
                    for j, u in enumerate(win, start=1):
                        sigma = _apply(u, sigma, False)
                        new = new + p[j] * sigma
                rhos.append(new)
                expect[k] = [np.real(np.sum(o.T * new)) for o in self._readout_mats]
            out = self._outputs(expect)
            err = out - y
            loss += np.mean(err ** 2) / B
            g = 2 * err / (K * B)                      # dL/dy_k
            g_w += g @ expect
            g_b += g.sum()
            if self.update == "postselect":
                continue
            lam = np.zeros((self.dim, self.dim), dtype=complex)
            for k in range(K - 1, -1, -1):
                lam = lam + g[k] * obs                 # dL/drho_{k+1}
                win = self._window_unitaries(us, k)
                sigma = rhos[k]
                g_p[0] += np.real(np.sum(lam.T * sigma))
                for j, u in enumerate(win, start=1):
                    sigma = _apply(u, sigma, False)
                    g_p[j] += np.real(np.sum(lam.T * sigma))
                # Horner form of sum_j p_j V_j^dag lam V_j with V_j = U_j ... U_1.
                acc = p[-1] * lam
                for j in range(self.memory, 0, -1):
                    acc = p[j - 1] * lam + _apply_adjoint(win[j - 1], acc)
                lam = acc
        grad = [g_p @ dp_dJ]
        if self.train_tau:
            grad.append([g_p @ dp_dtau])
        if self.train_readout:
            grad += [g_w, [g_b]]
        return float(loss), np.concatenate(grad)

    def __repr__(self):
        return (f"QUNN(qubits={self.qubits}, memory={self.memory}, update={self.update!r}, "
                f"tau={self._tau}, n_parameters={self.n_parameters})")
