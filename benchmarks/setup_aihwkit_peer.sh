#!/usr/bin/env bash
# Create (or refresh) a separate virtual environment holding IBM's aihwkit as a
# benchmark peer for hwsim.  The hwsim project itself never imports torch or
# aihwkit; only benchmarks/aihwkit_peer.py runs inside this venv.
#
# Usage:   bash benchmarks/setup_aihwkit_peer.sh
# Env:     HWSIM_AIHWKIT_VENV   venv location (default ~/.cache/hwsim/aihwkit-venv)
#          PYTHON               base interpreter (default python3; must be 3.11,
#                               aihwkit 1.1.0 ships only a cp311 wheel we rely on)
#
# Idempotent: an existing venv is reused and packages already at the pinned
# versions are not re-downloaded.
#
# Pins (known-good combination):
#   torch==2.10.0   aihwkit 1.1.0's compiled extension is built against this
#                   ABI: torch 2.9.1 fails with an undefined symbol at import,
#                   torch 2.13 imports but rejects every tensor.
#   aihwkit==1.1.0  installed with --no-deps: its metadata pulls in cmake,
#                   scikit-build, pybind11, mypy, torchvision, ... which are
#                   not needed at run time and could drag torch to another
#                   version.
set -euo pipefail

VENV="${HWSIM_AIHWKIT_VENV:-$HOME/.cache/hwsim/aihwkit-venv}"
PYTHON="${PYTHON:-python3}"
TORCH_VERSION="2.10.0"
AIHWKIT_VERSION="1.1.0"

say() { printf '[aihwkit-peer] %s\n' "$*"; }
die() { printf '[aihwkit-peer] ERROR: %s\n' "$*" >&2; exit 1; }

command -v "$PYTHON" >/dev/null 2>&1 || die "base interpreter '$PYTHON' not found"
PYVER="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[ "$PYVER" = "3.11" ] || die "need Python 3.11 (aihwkit $AIHWKIT_VERSION cp311 wheel), got $PYVER from '$PYTHON'"

START=$(date +%s)

if [ -x "$VENV/bin/python" ]; then
    say "reusing venv at $VENV"
else
    say "creating venv at $VENV"
    mkdir -p "$(dirname "$VENV")"
    "$PYTHON" -m venv "$VENV"
fi
VPY="$VENV/bin/python"

# pip install into the venv. Full output goes to $VENV/pip-install.log; the
# console gets it filtered: this machine's pip.conf lists local extra indexes
# that produce one "Location ... is ignored" warning per package, and pip's
# "aihwkit 1.1.0 requires cmake/mypy/pybind11/scikit-build/torchvision, which
# is not installed" conflict report is expected (deliberate --no-deps).
PIPLOG="$VENV/pip-install.log"
pip_install() {
    local rc=0
    "$VPY" -m pip install --quiet "$@" >>"$PIPLOG" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        grep -v -e 'is ignored: it is neither a file nor a directory' "$PIPLOG" | tail -n 25 >&2 || true
    fi
    return "$rc"
}

# Installed version of a distribution in the venv ('' if absent).
installed() {
    "$VPY" - "$1" <<'EOF'
import sys
from importlib import metadata
try:
    print(metadata.version(sys.argv[1]))
except metadata.PackageNotFoundError:
    print("")
EOF
}

# Local version labels (e.g. 2.10.0+cpu) count as the pinned version.
TV="$(installed torch)"
if [ "${TV%%+*}" = "$TORCH_VERSION" ]; then
    say "torch $TV already installed"
else
    say "installing torch==$TORCH_VERSION (from PyPI this is the CUDA build: ~1 GB of wheels"
    say "  incl. nvidia-* libraries; it runs fine on CPU-only machines) ..."
    pip_install "torch==$TORCH_VERSION" \
        || die "pip could not install torch==$TORCH_VERSION (check pip constraints in /etc/xdg/pip)"
fi

AV="$(installed aihwkit)"
if [ "$AV" = "$AIHWKIT_VERSION" ]; then
    say "aihwkit $AV already installed"
else
    say "installing aihwkit==$AIHWKIT_VERSION (--no-deps) ..."
    pip_install --no-deps --only-binary=:all: "aihwkit==$AIHWKIT_VERSION" \
        || die "pip could not install the aihwkit==$AIHWKIT_VERSION wheel"
fi

say "installing aihwkit run-time deps (numpy scipy tqdm requests protobuf scikit-learn) ..."
# torch is passed again, pinned, so that no resolver step can move it.
pip_install "torch==$TORCH_VERSION" \
    numpy scipy tqdm "requests>=2.32,<3" protobuf scikit-learn \
    || die "pip could not install aihwkit's run-time dependencies"

say "verifying: import aihwkit and run an AnalogLinear forward pass ..."
"$VPY" -c '
import torch, aihwkit
from aihwkit.nn import AnalogLinear
from aihwkit.simulator.configs import SingleRPUConfig
from aihwkit.simulator.configs.devices import ConstantStepDevice
layer = AnalogLinear(4, 2, rpu_config=SingleRPUConfig(device=ConstantStepDevice()))
y = layer(torch.ones(3, 4))
assert tuple(y.shape) == (3, 2), y.shape
print("[aihwkit-peer] OK: aihwkit", aihwkit.__version__, "torch", torch.__version__,
      "AnalogLinear(4, 2) ->", tuple(y.shape))
' || die "verification failed: aihwkit does not import or run with this torch"

say "(pip log: $PIPLOG; a pip note that aihwkit requires cmake/mypy/pybind11/scikit-build/torchvision is expected)"
say "venv size: $(du -sh "$VENV" | cut -f1)   elapsed: $(( $(date +%s) - START )) s"
say "run the peer with: $VPY $(cd "$(dirname "$0")" && pwd)/aihwkit_peer.py --config CONFIG.json --out OUT.json"
