"""One QUNN step: the exact fast path (history basis) next to QuTiP ``sesolve``, in one run.

Workload: a QUNN with q system qubits, memory t, encoding ``("z", "xx")`` (``"z"`` for q = 1),
random couplings, tau = 1, a random data window and a random system ket. Both sides compute
the same thing, exp(-i tau H)(|psi> (x) |0>) on system (x) clock, from prebuilt operators:
the reference is ``qutip.sesolve(H, psi (x) |0>, [0, tau])`` with H the clock Hamiltonian
``Qobj`` (atol 1e-10, rtol 1e-8); the candidate is ``QUNN._joint_columns`` (one
(t+1) x (t+1) chain exponential plus t applications of the encoding unitaries). Each figure is
the median over repeats of the mean time per call of a short inner loop, interleaved so that
machine load affects both alike; ``max_abs_diff`` checks they give the same state. A second
section times ``QUNN.loss_and_gradient`` (training steps per second).

Usage::

    python benchmarks/bench_qunn.py [--quick] [--repeats N] [--out PATH]
"""

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import qutip

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import qunn  # noqa: E402
from hwsim.io_utils import write_json  # noqa: E402  (benchmarks are application layer)

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "bench_qunn.json"
SOLVER = {"atol": 1e-10, "rtol": 1e-8, "nsteps": 100000}


def _timed(fn, inner):
    start = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - start) / inner


def _model(q, t, seed):
    rng = np.random.default_rng(seed)
    gens = ("z", "xx") if q > 1 else "z"
    return qunn.QUNN(qubits=q, memory=t, encoding=gens, couplings=0.5 + rng.random(t), tau=1.0), rng


def step_case(q, t, repeats, seed=0):
    """Fast path vs sesolve for one step at (q, t)."""
    model, rng = _model(q, t, seed)
    window = rng.normal(size=(t, model.encoding.n_features))
    psi = qutip.rand_ket([2] * q, seed=seed)
    H = model.hamiltonian(window)
    full0 = qutip.tensor(psi, qutip.basis(t + 1, 0))
    us = [model.encoding.unitary_array(x) for x in window]
    vec = psi.full()[:, 0]

    def fast():
        return model._joint_columns(us, vec)

    def ref():
        return qutip.sesolve(H, full0, [0.0, model.tau], options=SOLVER).states[-1]

    diff = float(np.max(np.abs(fast().reshape(-1) - ref().full()[:, 0])))
    fast(), ref()  # warm-up
    t_ref0 = _timed(ref, 1)
    inner_ref = max(1, int(0.2 / max(t_ref0, 1e-6)))
    inner_fast = max(1, int(0.2 / max(_timed(fast, 5), 1e-7)))
    f_s, r_s = [], []
    for _ in range(repeats):
        f_s.append(_timed(fast, inner_fast))
        r_s.append(_timed(ref, inner_ref))
    f, r = statistics.median(f_s), statistics.median(r_s)
    return {"qubits": q, "memory": t, "dim_total": (2 ** q) * (t + 1), "fast_s": f, "sesolve_s": r,
            "speedup": r / f, "max_abs_diff": diff,
            "fast_spread_s": [min(f_s), max(f_s)], "sesolve_spread_s": [min(r_s), max(r_s)]}


def train_case(q, t, steps_per_seq, repeats, seed=0):
    """Exact loss-and-gradient evaluations per second on one sequence."""
    model, rng = _model(q, t, seed)
    model.train_tau = True
    xs = rng.normal(size=(steps_per_seq, model.encoding.n_features))
    ys = rng.normal(size=steps_per_seq)
    model.loss_and_gradient(xs, ys)
    per = statistics.median(_timed(lambda: model.loss_and_gradient(xs, ys), 3) for _ in range(repeats))
    return {"qubits": q, "memory": t, "sequence_length": steps_per_seq, "gradient_s": per,
            "training_steps_per_s": 1.0 / per, "n_parameters": model.n_parameters}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    cases = [(2, 4), (4, 8)] if args.quick else [(2, 8), (4, 8), (6, 16), (8, 16)]
    steps = []
    for q, t in cases:
        row = step_case(q, t, repeats)
        print(f"step q={q} t={t}: fast {row['fast_s']:.2e} s  sesolve {row['sesolve_s']:.2e} s  "
              f"speedup {row['speedup']:.0f}x  diff {row['max_abs_diff']:.1e}", file=sys.stderr)
        steps.append(row)
    train = [train_case(q, t, 20, repeats) for q, t in ([(2, 4)] if args.quick else [(2, 4), (4, 8)])]
    data = {"benchmark": "bench_qunn", "quick": args.quick, "repeats": repeats,
            "sections": {"step": steps, "train": train},
            "machine": {"python": platform.python_version(), "platform": platform.platform(),
                        "processor": platform.processor(), "numpy": np.__version__,
                        "qutip": qutip.__version__}}
    write_json(args.out, data)
    print(f"wrote {args.out}", file=sys.stderr)
    return data


if __name__ == "__main__":
    main()
