"""Hardware benchmarks: suites of points, the sweep runner, and the result record.

A benchmark point is (task, architecture, device preset or config, learning rule, target,
seed); it yields the task metric, energy and latency per inference and per training step,
pulses and conversions, weight statistics and emulation speed, as one JSON record
(:data:`RESULT_SCHEMA`). Suites and sweeps are TOML files (:func:`load_suite`; ``quick``,
``standard`` and ``full`` ship with hwsim); :func:`run_sweep` runs them in local processes or
on a Dask cluster, resumably. ``hwsim bench`` and ``hwsim report`` are the command line.
See docs/bench.md.
"""

from .point import run_point
from .runner import SweepSummary, load_results, run_sweep
from .schema import RESULT_SCHEMA, ResultSchemaError, validate_result
from .suite import Suite, load_suite, pair_key, point_key, suite_names

__all__ = ["RESULT_SCHEMA", "ResultSchemaError", "validate_result", "Suite", "load_suite",
           "suite_names", "point_key", "pair_key", "run_point", "run_sweep", "SweepSummary",
           "load_results"]
