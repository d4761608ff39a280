"""hwsim: the emulated hardware, learning on it, and the application layer.

The runtime (built on :mod:`devices`):

- tiles: :class:`AnalogTile` (devices with DAC/ADC periphery, noise, pulsed updates),
  :class:`IdealTile` (the float reference), :class:`IOConfig`, :class:`UpdateConfig`, and the
  unit cells of :mod:`hwsim.cells`;
- :class:`DeviceGraph` (signals, tile specs, operators) and :class:`Simulator` (runs a graph
  on the ``"ideal"`` or ``"device"`` target, backward through analog transposed reads);
- :mod:`hwsim.rules` (local learning rules), :func:`train` / :class:`Trainer`,
  :mod:`hwsim.tasks` (built-in data), :mod:`hwsim.cost` (energy, latency, area),
  :mod:`hwsim.networks` (ready-made graphs).

The application layer: :mod:`hwsim.cli` (``hwsim run``, ``hwsim devices``) and
:mod:`hwsim.experiments`. The runtime never imports ``compiler`` or ``qunn``.
"""

__version__ = "0.1.0"

from . import cost, diagnostics, functions, networks, rules, tasks
from .cells import DifferentialPair, ReferenceCell
from .cost import CostReport, CostTable, estimate
from .errors import ConfigError, DivergenceError, GraphError, HwsimError, SimulationError
from .graph import DeviceGraph, Signal, TileSpec
from .io import IOConfig
from .ops import Add, Copy, Delay, Elementwise, LearningUpdate, Multiply, TileMVM, TileMVMT
from .simulator import Simulator
from .tasks import Task, get_task
from .tile import AnalogTile, IdealTile, UpdateConfig
from .train import Trainer, TrainResult, train

__all__ = [
    "AnalogTile", "IdealTile", "IOConfig", "UpdateConfig", "DifferentialPair", "ReferenceCell",
    "DeviceGraph", "Signal", "TileSpec", "Add", "Copy", "Delay", "Elementwise",
    "LearningUpdate", "Multiply", "TileMVM", "TileMVMT", "Simulator", "Trainer", "TrainResult",
    "train", "Task", "get_task", "CostTable", "CostReport", "estimate", "ConfigError",
    "DivergenceError", "GraphError", "HwsimError", "SimulationError", "cost", "diagnostics",
    "functions",
    "networks", "rules", "tasks",
]
