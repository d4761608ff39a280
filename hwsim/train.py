"""Training a device graph on a task: the loop, its metrics, divergence and checkpoints.

:class:`Trainer` holds one :class:`hwsim.Simulator` (one target), a task and a learning rule,
and runs epochs of mini-batches: forward, loss, backward (analog transposed reads on the
device target), the rule's in-place update. After every epoch it evaluates on the test split
and, with a checkpoint directory, saves its whole state, so that a second trainer with the
same configuration resumes where the first stopped and ends with the same weights as an
uninterrupted run. :func:`train` is the one-call shortcut.
"""

import copy
import dataclasses
import hashlib
import json
import os
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np

from . import _validate as V
from .errors import ConfigError, DivergenceError, NonFiniteError
from .losses import get_loss
from .progress import progress_bar
from .rules import Rule, get_rule
from .simulator import Simulator
from .tasks import Task

__all__ = ["Trainer", "TrainResult", "train"]

CHECKPOINT = "checkpoint.pkl"
_FORMAT = 1


@dataclasses.dataclass
class TrainResult:
    """What a training run produced.

    Attributes
    ----------
    target : str
    history : list of dict
        One entry per epoch: ``epoch``, ``train_loss``, ``test_loss``, ``test_metric`` (the
        task's metric name is ``metric``), ``pulses`` (device pulses in that epoch) and
        ``seconds`` (wall time of the epoch, evaluation included).
    metric : str
        ``"nrmse"`` or ``"accuracy"``.
    final_metric : float
        Test metric after the last epoch.
    seconds : float
        Wall time of this call (a resumed run counts only its own epochs).
    resumed_from : int
        Epochs already done when this call started (0 for a fresh run).
    simulator : Simulator
        The trained simulator (its tiles hold the learned weights).
    """

    target: str
    history: list
    metric: str
    final_metric: float
    seconds: float
    resumed_from: int
    simulator: Simulator

    def to_dict(self):
        """JSON-able summary (without the simulator)."""
        return {"target": self.target, "metric": self.metric, "final_metric": self.final_metric,
                "seconds": self.seconds, "resumed_from": self.resumed_from,
                "history": self.history}


class Trainer:
    """Train a device graph on a task with a local learning rule.

    Parameters
    ----------
    graph : DeviceGraph
        With one input (size ``task.input_size``) and one output (size
        ``task.output_size``), unless ``input``/``output`` name them.
    task : Task
        Train and test data (feed-forward or sequence layout).
    rule : Rule or str
        A rule object or a registered name (``"pulsed-sgd"``); default ``PulsedSGD()``.
    target : {"device", "ideal"}
    epochs : int
        Epochs to reach (a resumed run continues up to this count).
    batch_size : int
    seed : int
        Seeds the simulator (initial weights, device draws, noise) and the data order.
    loss : {"mse", "cross_entropy"} or callable, optional
        Default: mean squared error for regression, softmax cross-entropy for classification.
    checkpoint_dir : str or Path, optional
        Save the state after every epoch to ``checkpoint_dir/checkpoint.pkl`` (atomically);
        if a checkpoint of the same configuration is there, resume from it.
    progress : bool
        Show a progress bar over the batches (tqdm if installed, else one line per epoch
        on stderr).
    input, output : str, optional
        Graph signal names of the data input and the prediction.
    """

    def __init__(self, graph, task, rule=None, *, target="device", epochs=10, batch_size=16,
                 seed=0, loss=None, checkpoint_dir=None, progress=True, input=None,
                 output=None):
        owner = "Trainer"
        if not isinstance(task, Task):
            raise TypeError(f"{owner}: task must be a hwsim.tasks.Task, got "
                            f"{type(task).__name__}")
        self.task = task
        self.rule = get_rule("pulsed-sgd") if rule is None else (
            rule if isinstance(rule, Rule) else get_rule(rule))
        self.epochs = V.integer(owner, "epochs", epochs, low=0)
        self.batch_size = V.integer(owner, "batch_size", batch_size, low=1)
        self.seed = V.seed(owner, seed)
        self.progress = V.boolean(owner, "progress", progress)
        default_loss = "mse" if task.kind == "regression" else "cross_entropy"
        self.loss_name = loss if isinstance(loss, str) else (
            default_loss if loss is None else getattr(loss, "__name__", "custom"))
        self.loss = get_loss(default_loss if loss is None else loss)
        self.input = self._port(graph.inputs, input, "input", task.input_size, graph)
        self.output = self._port(graph.outputs, output, "output", task.output_size, graph)
        graph, feedback = self.rule.prepare(graph)
        self.sim = Simulator(graph, target=target, seed=self.seed, feedback=feedback)
        self.rule.initialize(self.sim)
        self.target = self.sim.target
        self.history = []
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self._fingerprint = self._config_fingerprint()
        if self.checkpoint_dir is not None:
            self._maybe_resume()

    # ------------------------------------------------------------ setup
    @staticmethod
    def _port(names, given, what, size, graph):
        if given is None:
            if len(names) != 1:
                raise ConfigError(f"Trainer: graph {graph.name!r} has {len(names)} {what}s "
                                  f"({', '.join(names) or 'none'}); name the data {what} with "
                                  f"{what}=")
            given = names[0]
        if given not in names:
            raise ConfigError(f"Trainer: {what}={given!r} is not a graph {what}; graph "
                              f"{what}s: {', '.join(names) or 'none'}")
        have = graph.build().sizes[given]
        if have != size:
            raise ConfigError(f"Trainer: graph {what} {given!r} has size {have}, but the task's "
                              f"{what}s have size {size}")
        return given

    def _config_fingerprint(self):
        """Hash of everything that decides the run except the number of epochs."""
        task = self.task
        data = hashlib.sha256()
        for arr in (task.x_train, task.y_train, task.x_test, task.y_test):
            data.update(np.ascontiguousarray(arr).tobytes())
        config = {"graph": json.loads(self.sim.graph.to_json()), "task": task.name,
                  "data": data.hexdigest(), "rule": self.rule.to_dict(), "target": self.target,
                  "seed": self.seed, "batch_size": self.batch_size, "loss": self.loss_name,
                  "input": self.input, "output": self.output}
        text = json.dumps(config, sort_keys=True, default=repr)
        return hashlib.sha256(text.encode()).hexdigest()

    # ------------------------------------------------------------ checkpoints
    @property
    def checkpoint_path(self):
        return None if self.checkpoint_dir is None else self.checkpoint_dir / CHECKPOINT

    def _maybe_resume(self):
        path = self.checkpoint_path
        if not path.exists():
            return
        with open(path, "rb") as fh:
            state = pickle.load(fh)
        if state.get("format") != _FORMAT:
            raise ConfigError(f"Trainer: checkpoint {path} has format {state.get('format')!r}, "
                              f"this version reads format {_FORMAT}")
        if state["fingerprint"] != self._fingerprint:
            raise ConfigError(f"Trainer: checkpoint {path} was written by a different "
                              "configuration (graph, task data, rule, target, seed, batch size "
                              "or loss differ); use another checkpoint_dir or delete it")
        self.sim = Simulator(self.sim.graph, target=self.target, seed=self.seed,
                             tiles=state["tiles"], feedback=self.sim.feedback)
        self.history = state["history"]

    def save_checkpoint(self):
        """Write the current state to ``checkpoint_dir`` atomically (temp file + rename)."""
        if self.checkpoint_dir is None:
            raise ConfigError("Trainer.save_checkpoint: no checkpoint_dir was given")
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        state = {"format": _FORMAT, "fingerprint": self._fingerprint, "history": self.history,
                 "tiles": self.sim.tiles}
        fd, tmp = tempfile.mkstemp(prefix=CHECKPOINT + ".", suffix=".tmp",
                                   dir=self.checkpoint_dir)
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.checkpoint_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    # ------------------------------------------------------------ one batch
    def _loss_grad(self, pred, y):
        """Loss and its gradient; end-of-sequence targets score the last step only."""
        if pred.ndim == 3 and y.ndim == 2:
            value, g_last = self.loss(pred[:, -1, :], y)
            grad = np.zeros_like(pred)
            grad[:, -1, :] = g_last
            return value, grad
        return self.loss(pred, y)

    def _step(self, x, y):
        """Forward, loss, backward and update on one batch (or one sample); the loss.

        A state that overflows inside the network (a recurrence that blew up) counts as a
        non-finite loss.
        """
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                pred = self.sim.run({self.input: x})[self.output]
        except NonFiniteError:
            return float("nan")
        value, grad = self._loss_grad(pred, y)
        if not np.isfinite(value):
            return value
        if self.rule.needs_backward:
            self.sim.backward({self.output: grad})
        self.rule.apply(self.sim)
        return value

    def _batch(self, x, y):
        if not self.rule.per_sample:
            return self._step(x, y)
        losses = [self._step(x[k:k + 1], y[k:k + 1]) for k in range(x.shape[0])]
        return float(np.mean(losses))

    # ------------------------------------------------------------ evaluation
    def predict(self, x):
        """Predictions for inputs ``x`` (no recording, no update)."""
        return self.sim.run({self.input: np.asarray(x, dtype=np.float64)},
                            record=False)[self.output]

    def evaluate(self, x=None, y=None):
        """``(loss, metric)`` on ``x, y`` (default: the test split)."""
        x = self.task.x_test if x is None else x
        y = self.task.y_test if y is None else y
        pred = self.predict(x)
        value, _ = self._loss_grad(pred, y)
        scored = pred[:, -1, :] if pred.ndim == 3 and y.ndim == 2 else pred
        return float(value), float(self.task.score(scored, y))

    # ------------------------------------------------------------ the loop
    def _pulses(self):
        return sum(int(t.counters.get("pulses_up", 0)) + int(t.counters.get("pulses_down", 0))
                   for t in self.sim.tiles.values())

    def _epoch(self, epoch, x_all, y_all, n_batches, bar):
        t0 = time.perf_counter()
        good = copy.deepcopy(self.sim.tiles)
        pulses0 = self._pulses()
        n = x_all.shape[0]
        # The order depends only on (seed, epoch), so a resumed run sees the same batches.
        order = np.random.default_rng([self.seed, epoch]).permutation(n)
        total = 0.0
        for b in range(n_batches):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            value = self._batch(x_all[idx], y_all[idx])
            if not np.isfinite(value):
                self._diverged(good, epoch, f"loss {value} in epoch {epoch + 1}, batch "
                                            f"{b + 1}/{n_batches}")
            total += value * idx.size
            bar.update(1, loss=value)
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                test_loss, test_metric = self.evaluate()
        except NonFiniteError:
            test_loss = test_metric = float("nan")
        if not np.isfinite(test_loss):
            self._diverged(good, epoch, f"the test predictions after epoch {epoch + 1} are "
                                        "not finite")
        self.history.append({"epoch": epoch + 1, "train_loss": total / n,
                             "test_loss": test_loss, "test_metric": test_metric,
                             "pulses": self._pulses() - pulses0,
                             "seconds": time.perf_counter() - t0})
        bar.note(f"epoch {epoch + 1}/{self.epochs}  train loss {total / n:.4g}  "
                 f"test {self.task.metric} {test_metric:.4g}")

    def _diverged(self, good, epoch, what):
        """Put back the tiles of the start of ``epoch`` and raise DivergenceError."""
        self.sim = Simulator(self.sim.graph, target=self.target, seed=self.seed, tiles=good,
                             feedback=self.sim.feedback)
        raise DivergenceError(f"training diverged on the {self.target} target: {what}; the "
                              f"state of the start of epoch {epoch + 1} was kept (try a "
                              "smaller learning rate)")

    def fit(self):
        """Run the remaining epochs; returns a :class:`TrainResult`.

        Raises
        ------
        DivergenceError
            If a batch gives a non-finite loss. The simulator is put back to its state at
            the start of that epoch (also what the checkpoint holds), and the message says
            where it happened.
        """
        start = time.perf_counter()
        done = len(self.history)
        x_all, y_all = self.task.x_train, self.task.y_train
        n = x_all.shape[0]
        n_batches = -(-n // self.batch_size)
        label = f"train ({self.target})"
        remaining = max(0, self.epochs - done) * n_batches
        with progress_bar(remaining, label, enabled=self.progress) as bar:
            for epoch in range(done, self.epochs):
                self._epoch(epoch, x_all, y_all, n_batches, bar)
                if self.checkpoint_dir is not None:
                    self.save_checkpoint()
        final = self.history[-1]["test_metric"] if self.history else self.evaluate()[1]
        return TrainResult(target=self.target, history=list(self.history),
                           metric=self.task.metric, final_metric=float(final),
                           seconds=time.perf_counter() - start, resumed_from=done,
                           simulator=self.sim)


def train(graph, task, rule=None, **options):
    """Train ``graph`` on ``task`` in one call: ``Trainer(graph, task, rule, **options).fit()``."""
    return Trainer(graph, task, rule, **options).fit()
