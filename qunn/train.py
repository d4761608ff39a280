"""Training the QUNN couplings (and tau, readout) with exact gradients: Adam with early stopping."""

from dataclasses import dataclass, field
import sys
import time

import numpy as np

from .errors import QunnError, check_int, check_real

__all__ = ["Trainer", "TrainResult", "train"]


@dataclass
class TrainResult:
    """What :meth:`Trainer.fit` returns.

    Attributes
    ----------
    parameters : ndarray
        The best parameters seen (also written back into the model).
    losses : list of float
        Training loss at each step (before that step's update).
    best_loss : float
    steps : int
        Steps taken.
    stopped : str
        "max_steps", "tol" (loss below ``tol``) or "patience" (no improvement).
    seconds : float
    """

    parameters: np.ndarray
    losses: list = field(default_factory=list)
    best_loss: float = np.inf
    steps: int = 0
    stopped: str = "max_steps"
    seconds: float = 0.0


class Trainer:
    """Adam on :meth:`QUNN.loss_and_gradient`, with early stopping and progress.

    Parameters
    ----------
    model : QUNN
        Trained in place (noise-free; the fast path gives the exact gradient).
    lr : float, default 0.05
        Adam step size (> 0).
    betas : (float, float), default (0.9, 0.999)
    tol : float, default 0
        Stop once the loss is <= tol.
    patience : int or None, default None
        Stop after this many steps without an improvement larger than ``min_delta``.
    min_delta : float, default 0
    progress : bool, int or callable, default False
        True: a line to stderr every 10 steps; an int n: every n steps; a callable
        ``progress(step, loss, model)`` is called every step.
    """

    def __init__(self, model, lr=0.05, betas=(0.9, 0.999), eps=1e-8, tol=0.0, patience=None,
                 min_delta=0.0, progress=False):
        self.model = model
        self.lr = check_real("lr", lr, positive=True)
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise QunnError(f"betas must be two numbers in [0, 1), got {betas!r}")
        self.betas = tuple(float(b) for b in betas)
        self.eps = check_real("eps", eps, positive=True)
        self.tol = check_real("tol", tol, nonnegative=True)
        self.patience = None if patience is None else check_int("patience", patience, 1)
        self.min_delta = check_real("min_delta", min_delta, nonnegative=True)
        if not (isinstance(progress, (bool, int)) or callable(progress)):
            raise QunnError(f"progress must be a bool, an int or a callable, got {progress!r}")
        self.progress = progress

    def _report(self, step, loss):
        if callable(self.progress):
            self.progress(step, loss, self.model)
        elif self.progress:
            every = 10 if self.progress is True else max(int(self.progress), 1)
            if step % every == 0:
                print(f"qunn.train step {step:5d}  loss {loss:.6e}", file=sys.stderr)

    def fit(self, xs, ys, steps):
        """Run up to ``steps`` Adam steps on the sequence(s) ``xs`` with targets ``ys``."""
        steps = check_int("steps", steps, 1)
        model = self.model
        b1, b2 = self.betas
        theta = model.parameters
        m, v = np.zeros_like(theta), np.zeros_like(theta)
        result = TrainResult(parameters=theta.copy())
        since_best = 0
        start = time.perf_counter()
        for step in range(steps):
            loss, grad = model.loss_and_gradient(xs, ys)
            result.losses.append(loss)
            result.steps = step + 1
            self._report(step, loss)
            if loss < result.best_loss - self.min_delta:
                result.best_loss, result.parameters = loss, theta.copy()
                since_best = 0
            else:
                since_best += 1
                result.best_loss = min(result.best_loss, loss)
            if loss <= self.tol:
                result.stopped = "tol"
                break
            if self.patience is not None and since_best >= self.patience:
                result.stopped = "patience"
                break
            m = b1 * m + (1 - b1) * grad
            v = b2 * v + (1 - b2) * grad ** 2
            mhat, vhat = m / (1 - b1 ** (step + 1)), v / (1 - b2 ** (step + 1))
            theta = theta - self.lr * mhat / (np.sqrt(vhat) + self.eps)
            if model.train_tau:  # tau must stay positive
                theta[model.memory] = max(theta[model.memory], 1e-6)
            model.parameters = theta
        else:
            loss = model.loss(xs, ys, method="fast")
            result.losses.append(loss)
            if loss < result.best_loss - self.min_delta:
                result.best_loss, result.parameters = loss, theta.copy()
        model.parameters = result.parameters
        result.best_loss = float(min(result.losses))
        result.seconds = time.perf_counter() - start
        return result


def train(model, xs, ys, steps=200, lr=0.05, **options):
    """One-call shortcut: ``Trainer(model, lr, **options).fit(xs, ys, steps)``."""
    return Trainer(model, lr=lr, **options).fit(xs, ys, steps)
