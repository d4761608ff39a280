"""The main job until tiles exist: a linear teacher learned in place by pulsed updates.

A student weight matrix lives on a realised device array and learns a random linear teacher
by stochastic gradient descent, every update a stochastic pulse-train outer-product update
(``DeviceArray.update``); the same student in floating point is the reference. The reads are
exact matrix products (no DAC/ADC until ``hwsim.AnalogTile`` exists), so the gap between
the two curves is the device's doing: step size, asymmetry, bounds and noise.
"""

import time
from dataclasses import asdict, dataclass, field

import numpy as np

import devices


@dataclass
class RegressionResult:
    device: str
    shape: tuple
    epochs: int
    lr: float
    initial_mse: float
    float_mse: list = field(default_factory=list)
    device_mse: list = field(default_factory=list)
    pulses_up: int = 0
    pulses_down: int = 0
    seconds: float = 0.0

    def to_dict(self):
        return asdict(self)


def run(device="ecram", *, out_size=8, in_size=16, samples=512, batch=16, epochs=12, lr=0.05,
        seed=0, progress=print):
    """Train the float and the device student on the same data; return a RegressionResult.

    Parameters
    ----------
    device : str or PulsedDevice
        A preset name (``devices.PRESETS``) or a device model.
    progress : callable or None
        Called with one line per epoch.
    """
    model = devices.preset(device) if isinstance(device, str) else device
    name = device if isinstance(device, str) else type(device).__name__
    gen = np.random.default_rng(seed)
    teacher = gen.uniform(-0.5, 0.5, (out_size, in_size))
    x = gen.uniform(-1.0, 1.0, (samples, in_size))
    y = x @ teacher.T

    arr = model.realize((out_size, in_size), seed=seed)
    w_float = np.zeros((out_size, in_size))

    def mse(w):
        return float(np.mean((x @ w.T - y) ** 2))

    result = RegressionResult(name, (out_size, in_size), epochs, lr, mse(arr.weights))
    start = time.perf_counter()
    for epoch in range(epochs):
        order = gen.permutation(samples)
        for k in range(0, samples, batch):
            idx = order[k:k + batch]
            xb, yb = x[idx], y[idx]
            # gradient of the batch mean squared error, per sample (the pulsed update sums them)
            d_dev = (xb @ arr.weights.T - yb) / len(idx)
            arr.update(xb, d_dev, lr)
            d_flt = (xb @ w_float.T - yb) / len(idx)
            w_float -= lr * d_flt.T @ xb
        result.float_mse.append(mse(w_float))
        result.device_mse.append(mse(arr.weights))
        if progress:
            progress(f"epoch {epoch + 1:3d}/{epochs}  mse float {result.float_mse[-1]:.5f}  "
                     f"device {result.device_mse[-1]:.5f}")
    result.seconds = time.perf_counter() - start
    result.pulses_up, result.pulses_down = (int(v) for v in arr.pulse_counts)
    return result


def plot(result, path):
    """Learning curves of the float and the device student as a PNG."""
    from hwsim.io_utils import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    epochs = np.arange(1, result.epochs + 1)
    ax.semilogy(epochs, result.float_mse, "o-", label="float reference")
    ax.semilogy(epochs, result.device_mse, "s-", label=f"device ({result.device})")
    ax.axhline(result.initial_mse, color="grey", ls=":", label="initial")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean squared error")
    ax.set_title(f"linear teacher {result.shape[0]}x{result.shape[1]}, pulsed SGD, lr {result.lr}")
    ax.legend()
    save_figure(fig, path)
    plt.close(fig)
    return path
