"""Same seed, same result, whatever the thread count.

A device-target training run (matrices large enough for multithreaded BLAS) in fresh
processes with one and with two numba and BLAS threads gives bit-identical weights.
"""

import os
import subprocess
import sys

SCRIPT = r"""
import hashlib
import numpy as np
import devices
from hwsim.io import IOConfig
from hwsim.networks import mlp
from hwsim.rules import PulsedSGD
from hwsim.tasks import get_task
from hwsim.train import train

task = get_task("teacher-student", n_in=128, n_out=4, n_hidden=8, n_train=96, n_test=32,
                seed=2)
graph = mlp([128, 256, 4], device=devices.preset("ecram"), io=IOConfig.from_bits(8, 8))
result = train(graph, task, PulsedSGD(lr=0.05), target="device", epochs=2, batch_size=32,
               seed=5, progress=False)
digest = hashlib.sha256()
for name, tile in result.simulator.tiles.items():
    digest.update(tile.weights().tobytes())
print(digest.hexdigest())
"""


def _run(threads):
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_training_is_bit_identical_with_one_and_two_threads():
    assert _run(1) == _run(2)
