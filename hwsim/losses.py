"""Losses of a network's output and their gradients, the signal backprop starts from.

Each loss returns ``(value, grad)`` for a batch: ``value`` is a float averaged over the
samples (and summed over outputs and time steps), ``grad`` the gradient of ``value`` with
respect to the predictions, the same shape. Averaging over the batch keeps the learning rate
independent of the batch size, because a tile update sums ``d.T @ x`` over its batch.
"""

import numpy as np

from .errors import ConfigError

__all__ = ["mse", "cross_entropy", "LOSSES", "get_loss"]


def _check(owner, y_pred, y_true):
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.float64)
    if y_pred.shape != y_true.shape:
        raise ConfigError(f"{owner}: predictions of shape {y_pred.shape} do not match targets "
                          f"of shape {y_true.shape}")
    if y_pred.ndim < 2:
        raise ConfigError(f"{owner}: expected (batch, outputs) or (batch, T, outputs), got "
                          f"shape {y_pred.shape}")
    return y_pred, y_true


def mse(y_pred, y_true):
    """Half the squared error, summed over outputs, averaged over the batch.

    ``value = sum((y - t)**2) / (2 B)`` and ``grad = (y - t) / B``.
    """
    y_pred, y_true = _check("mse", y_pred, y_true)
    batch = y_pred.shape[0]
    err = y_pred - y_true
    return float(0.5 * np.sum(err * err) / batch), err / batch


def cross_entropy(y_pred, y_true):
    """Softmax cross-entropy of logits against one-hot (or probability) targets.

    ``value = -sum(t * log softmax(y)) / B`` and ``grad = (softmax(y) - t) / B``.
    """
    y_pred, y_true = _check("cross_entropy", y_pred, y_true)
    batch = y_pred.shape[0]
    shifted = y_pred - y_pred.max(axis=-1, keepdims=True)
    log_z = np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    log_p = shifted - log_z
    value = float(-np.sum(y_true * log_p) / batch)
    return value, (np.exp(log_p) - y_true) / batch


LOSSES = {"mse": mse, "cross_entropy": cross_entropy}


def get_loss(name):
    """The loss function called ``name`` (one of :data:`LOSSES`)."""
    if callable(name):
        return name
    if name not in LOSSES:
        raise ConfigError(f"loss must be one of {sorted(LOSSES)}, got {name!r}")
    return LOSSES[name]
