"""Sweeps on a Dask cluster: the same results as in process, and none lost to a dead worker."""

import os
import signal
import threading
import time

import pytest

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install 'hwsim[dask]')")

from hwsim.bench import load_suite, run_sweep  # noqa: E402
from test_bench_run import SMALL, results_without_timing  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local:
        yield local


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """The small sweep and its results run in this process."""
    root = tmp_path_factory.mktemp("dask")
    cfg = root / "small.toml"
    cfg.write_text(SMALL)
    suite = load_suite(cfg)
    run_sweep(suite, out=root / "reference", workers=1, progress=False, echo=lambda *a: None)
    return suite, results_without_timing(root / "reference")


def test_cluster_gives_the_in_process_results(cluster, sweep, tmp_path):
    suite, reference = sweep
    summary = run_sweep(suite, out=tmp_path, scheduler=cluster.scheduler_address,
                        progress=False, echo=lambda *a: None)
    assert (summary.ok, summary.failed) == (len(suite.points), 0)
    assert results_without_timing(tmp_path) == reference


def test_killing_a_worker_mid_sweep_loses_no_result(cluster, sweep, tmp_path):
    suite, reference = sweep
    with distributed.Client(cluster.scheduler_address) as client:
        pids = client.run(os.getpid)
    outcome = {}

    def sweep_in_background():
        outcome["summary"] = run_sweep(suite, out=tmp_path, scheduler=cluster.scheduler_address,
                                       progress=False, echo=lambda *a: None)

    thread = threading.Thread(target=sweep_in_background)
    thread.start()
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.02)
    written = len(list(tmp_path.glob("*.json")))
    victim = sorted(pids.values())[0]
    os.kill(victim, signal.SIGKILL)          # a worker process this test's cluster started
    thread.join(timeout=300)
    assert not thread.is_alive()
    assert 1 <= written < len(suite.points), "the sweep ended before the kill"
    summary = outcome["summary"]
    assert (summary.ok, summary.failed) == (len(suite.points), 0)
    assert results_without_timing(tmp_path) == reference
