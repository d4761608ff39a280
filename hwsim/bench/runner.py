"""The sweep runner: every point of a suite, in local processes or on a Dask cluster.

Each point's result is one JSON file, ``<out>/<key>.json``, named by the content hash of the
resolved point and written atomically (temp file + rename) by the process that drives the
sweep, so a result file is either complete or absent, and results land wherever the driver
runs whatever the workers' file systems. Resumption follows from the keys:

- a point whose file holds a valid ``"ok"`` record of the same key is done and skipped;
- a missing, unreadable or invalid file, or an ``"error"`` record, is run (again);
- temp files left by a killed run are removed at the start.

A point that fails (an exception while building or training it, or a worker that died) is
recorded with status ``"error"`` and the sweep goes on. Where the points run:

- ``workers=1``: one after the other in this process;
- ``workers=N`` (default: the number of cores): a pool of N processes (spawned, so no numba
  thread pool is forked), each with ``cores // N`` numba threads;
- ``scheduler="tcp://host:port"``: on an existing Dask distributed cluster (the ``dask``
  extra). Each point is a task keyed by its content hash, with retries; a task whose worker
  dies is rerun elsewhere by the scheduler, and a point is idempotent (same seed, same
  record), so no result is lost or duplicated.
"""

import concurrent.futures as cf
import dataclasses
import multiprocessing
import os
import time
from pathlib import Path

from ..errors import ConfigError
from ..io_utils import write_json
from ..progress import progress_bar
from .point import error_record, run_point
from .schema import ResultSchemaError, read_record, validate_result, validator
from .suite import point_key

__all__ = ["run_sweep", "SweepSummary", "result_path", "load_results", "DEFAULT_OUT"]

#: Results of suite NAME go to ``DEFAULT_OUT / NAME`` unless ``out`` is given.
DEFAULT_OUT = Path("hwsim-out/bench")

#: Retries of a Dask task whose worker died, on top of the scheduler's own rescheduling.
DASK_RETRIES = 2


@dataclasses.dataclass
class SweepSummary:
    """What a sweep did.

    Attributes
    ----------
    suite : str
    out : Path
        The results folder.
    total : int
        Points in the suite.
    skipped : int
        Points already done before this run.
    ok, failed : int
        Points run by this call that succeeded / failed.
    failures : list of (str, str, str)
        ``(name, target, "Type: message")`` of each failed point.
    seconds : float
        Wall time of the sweep.
    """

    suite: str
    out: Path
    total: int
    skipped: int = 0
    ok: int = 0
    failed: int = 0
    failures: list = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    def line(self):
        """One line for the command line."""
        return (f"bench {self.suite}: {self.total} points, {self.skipped} done before, "
                f"{self.ok + self.failed} run ({self.ok} ok, {self.failed} failed) in "
                f"{self.seconds:.1f} s; results in {self.out}")


# --------------------------------------------------------------------------- results folder

def result_path(out, key):
    """The result file of the point with content hash ``key``."""
    return Path(out) / f"{key}.json"


def _read(path):
    """The record in ``path`` if it is a valid record, else None."""
    return read_record(path)[0]


def _done(out, key):
    record = _read(result_path(out, key)) if result_path(out, key).is_file() else None
    return record is not None and record["key"] == key and record["status"] == "ok"


def _remove_temp_files(out):
    """Remove what a killed :func:`hwsim.io_utils.write_json` left: ``<key>.json.*.tmp``."""
    for tmp in Path(out).glob("*.json.*.tmp"):
        tmp.unlink(missing_ok=True)


def load_results(out):
    """Every valid result record in ``out``, by key (invalid files are left out)."""
    records = (_read(p) for p in sorted(Path(out).glob("*.json")))
    return {r["key"]: r for r in records if r is not None}


# --------------------------------------------------------------------------- executors

def _serial(points, suite):
    for point in points:
        yield point, run_point(point, suite)


def _init_worker(threads):
    """Pool worker start: share the cores between the workers instead of oversubscribing."""
    import numba
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))


def _pool(points, suite, workers):
    threads = max(1, (os.cpu_count() or 1) // workers)
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                initializer=_init_worker, initargs=(threads,)) as pool:
        futures = {pool.submit(run_point, point, suite): point for point in points}
        try:
            for future in cf.as_completed(futures):
                point = futures[future]
                try:
                    yield point, future.result()
                except Exception as exc:  # the worker process died (crash, out of memory)
                    yield point, error_record(point, suite, exc)
        finally:
            for future in futures:
                future.cancel()


def _dask_client(address):
    try:
        from dask.distributed import Client
    except ImportError:
        raise ImportError("--scheduler runs the sweep on a Dask cluster, which needs "
                          "dask.distributed; install the extra with: pip install "
                          "'hwsim[dask]'") from None
    try:
        return Client(address, timeout="30s")
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"run_sweep: scheduler={address!r}: cannot connect to a Dask "
                          f"scheduler there ({type(exc).__name__}: {exc})") from None


def _dask(points, suite, address):
    from dask.distributed import as_completed
    client = _dask_client(address)
    try:
        futures = {client.submit(run_point, point, suite, key=f"hwsim-bench-{point_key(point)}",
                                 retries=DASK_RETRIES): point for point in points}
        for future in as_completed(futures):
            point = futures[future]
            try:
                record = future.result()
            except Exception as exc:  # the task failed on every worker it was tried on
                record = error_record(point, suite, exc)
            future.release()
            yield point, record
    finally:
        client.close()


def _executor(points, suite, workers, scheduler):
    if scheduler is not None:
        return _dask(points, suite, scheduler), f"the Dask cluster at {scheduler}"
    workers = min(workers or os.cpu_count() or 1, max(len(points), 1))
    if workers <= 1:
        return _serial(points, suite), "this process"
    return _pool(points, suite, workers), f"{workers} worker processes"


# --------------------------------------------------------------------------- the sweep

def _checked(record, point, suite):
    """``record`` if it validates, else an error record saying why (a bug, not a result)."""
    try:
        return validate_result(record)
    except ResultSchemaError as exc:
        return error_record(point, suite, exc)


def _eta(done, total, seconds):
    if not done:
        return "?"
    return f"{seconds / done * (total - done):.0f} s"


def run_sweep(suite, out=None, workers=None, scheduler=None, progress=True, echo=print):
    """Run every point of ``suite`` not done yet in ``out``; write one result file each.

    Parameters
    ----------
    suite : Suite
        A loaded suite (:func:`hwsim.bench.suite.load_suite`).
    out : str or Path, optional
        Results folder; default ``hwsim-out/bench/<suite name>``.
    workers : int, optional
        Local worker processes (default: the number of cores; 1 runs in this process).
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:port``): run there instead.
    progress : bool
        Progress bar with the counts and the time left.
    echo : callable
        Where the start and end lines go.

    Returns
    -------
    SweepSummary
    """
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ValueError(f"run_sweep: workers must be an integer >= 1, got {workers!r}")
    validator()  # without jsonschema, fail now rather than after the first point
    out = Path(out) if out is not None else DEFAULT_OUT / suite.name
    out.mkdir(parents=True, exist_ok=True)
    _remove_temp_files(out)
    summary = SweepSummary(suite=suite.name, out=out, total=len(suite.points))
    todo = [p for p in suite.points if not _done(out, point_key(p))]
    summary.skipped = summary.total - len(todo)
    t0 = time.perf_counter()
    results, where = _executor(todo, suite.name, workers, scheduler)
    echo(f"bench {suite.name}: {summary.total} points, {summary.skipped} done before, "
         f"{len(todo)} to run in {where}; results in {out}")
    with progress_bar(len(todo), f"bench {suite.name}", enabled=progress and bool(todo)) as bar:
        for point, record in results:
            record = _checked(record, point, suite.name)
            write_json(result_path(out, record["key"]), record)
            if record["status"] == "ok":
                summary.ok += 1
            else:
                summary.failed += 1
                error = record["error"]
                summary.failures.append((point["name"], point["target"],
                                         f"{error['type']}: {error['message']}"))
            done = summary.ok + summary.failed
            bar.update(1)
            bar.note(f"ok {summary.ok}, failed {summary.failed}, left "
                     f"{len(todo) - done}, eta {_eta(done, len(todo), time.perf_counter() - t0)}")
    summary.seconds = time.perf_counter() - t0
    return summary
