"""What every experiment shares: its result, its checks, and how it is written and reported.

An experiment is a module of :mod:`hwsim.experiments` that defines

``NAME``
    the command-line name (``hwsim experiment NAME``);
``DESCRIPTION``
    one line for ``hwsim experiment --list``;
``run(quick=False, target="both", seed=0, progress=True) -> ExperimentResult``
    the work; ``quick`` is the small version the tests run, ``target`` one of
    :data:`TARGET_CHOICES`;
``plot(result, path)`` (optional)
    a PNG of the result.

The command line calls :func:`finish`, which writes ``<out>/<NAME>.json`` (atomically) and the
PNG, prints the measured figures and one ``PASS``/``FAIL`` line per expected signature, and
returns the exit status (1 if any check failed).
"""

import dataclasses
import importlib
import pkgutil
from pathlib import Path

from ..errors import ConfigError
from ..io_utils import PlotUnavailable, write_json

TARGET_CHOICES = ("both", "ideal", "device")


@dataclasses.dataclass(frozen=True)
class Check:
    """One expected signature: its name, whether it held, and the figures behind it."""

    name: str
    passed: bool
    detail: str = ""

    def line(self):
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name}" + (
            f"  ({self.detail})" if self.detail else "")


@dataclasses.dataclass
class ExperimentResult:
    """Figures (JSON-able) and checks of one experiment run."""

    name: str
    figures: dict
    checks: list
    settings: dict = dataclasses.field(default_factory=dict)

    @property
    def passed(self):
        return all(c.passed for c in self.checks)

    def to_dict(self):
        return {"experiment": self.name, "settings": self.settings, "figures": self.figures,
                "checks": [dataclasses.asdict(c) for c in self.checks],
                "passed": self.passed}


def check(name, passed, detail=""):
    """A :class:`Check`; ``passed`` is converted to a plain bool (numpy bools are not JSON)."""
    return Check(name, bool(passed), detail)


def targets(target):
    """The targets a ``target`` option stands for, validated."""
    if target not in TARGET_CHOICES:
        raise ConfigError(f"target must be one of {list(TARGET_CHOICES)}, got {target!r}")
    return ("ideal", "device") if target == "both" else (target,)


def discover():
    """Map experiment name -> module, for every module of this package that has ``NAME``."""
    import hwsim.experiments as package
    found = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.name in ("base",) or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        name = getattr(module, "NAME", None)
        if name is not None:
            found[name] = module
    return dict(sorted(found.items()))


def get(name):
    """The experiment module called ``name``; ConfigError listing the known ones."""
    found = discover()
    if name not in found:
        raise ConfigError(f"unknown experiment {name!r}; known: {', '.join(found) or 'none'}")
    return found[name]


def _print_figures(figures, echo, indent=""):
    for key, value in figures.items():
        if isinstance(value, dict):
            echo(f"{indent}{key}:")
            _print_figures(value, echo, indent + "  ")
        elif isinstance(value, float):
            echo(f"{indent}{key}: {value:.6g}")
        elif isinstance(value, (list, tuple)) and len(value) > 8:
            continue  # curves and samples: in the JSON and the plot, not worth a line
        else:
            echo(f"{indent}{key}: {value}")


def finish(module, result, out, echo=print):
    """Write JSON and PNG, print figures and checks; return the exit status (0 or 1)."""
    out = Path(out)
    path = write_json(out / f"{result.name}.json", result.to_dict())
    _print_figures(result.figures, echo)
    plot = getattr(module, "plot", None)
    if plot is not None:
        try:
            echo(f"wrote {plot(result, out / f'{result.name}.png')}")
        except PlotUnavailable as exc:
            echo(f"no plot: {exc}")
    echo(f"wrote {path}")
    for c in result.checks:
        echo(c.line())
    return 0 if result.passed else 1
