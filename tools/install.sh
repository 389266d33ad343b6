#!/usr/bin/env bash
# Install mmcrack and its pinned OpenMMLab stack into a virtual environment.
#
#   tools/install.sh            # or: make install
#
# Idempotent: a second run with unchanged requirements only re-checks the imports.
#
# Environment variables
#   PYTHON               interpreter used to create the venv          (python3.11)
#   VENV                 virtual environment folder                   (<repo>/.venv)
#   MMCRACK_WHEEL_CACHE  where locally built wheels (mmcv, pydensecrf2) are
#                        kept                                         (~/.cache/mmcrack/wheels)
#   PIP_FIND_LINKS       extra wheel folders pip searches first; a pre-built
#                        mmcv-2.1.0 or pydensecrf2-1.1 wheel found there is
#                        used instead of building
#   MMCV_BUILD_JOBS      parallel compile jobs for mmcv               (nproc)
#
# Why mmcv is built here: mmsegmentation 1.2.2 imports ``mmcv.ops`` at import time,
# so mmcv-lite is not enough, and no mmcv 2.1.0 wheel exists for torch 2.14. The
# sdist is built against the installed torch with no build isolation (its setup.py
# imports torch and pkg_resources) and with -std=c++20 (torch 2.14 headers need it;
# mmcv's setup.py says c++17). The wheel is cached so the ~30 min build happens once.
#
# pydensecrf2 1.1 (dense CRF of the CRF-label baseline) ships only an sdist. It is
# built once (~1 min, g++) with pip's default build isolation, which provides the
# Cython==0.29.36 its pyproject.toml pins (no numpy at build time), cached beside
# the mmcv wheel and installed before mmcrack, so requirements/runtime.txt's pin
# is already satisfied and ``pip install -e .`` never builds it a second time.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-python3.11}
VENV=${VENV:-$ROOT/.venv}
WHEEL_CACHE=${MMCRACK_WHEEL_CACHE:-$HOME/.cache/mmcrack/wheels}
TORCH_PINS=(torch==2.14.1 torchvision==0.29.1)
MMCV_PIN=mmcv==2.1.0
CRF_PIN=pydensecrf2==1.1

log() { printf '[mmcrack install] %s\n' "$*"; }
die() { printf '[mmcrack install] ERROR: %s\n' "$*" >&2; exit 1; }

# CUDA ops only where a compiler and a GPU are both present; the wheel flavours
# share one file name, so they are cached in separate folders.
if command -v nvcc >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    FLAVOUR=cuda; FORCE_CUDA=1
else
    FLAVOUR=cpu; FORCE_CUDA=0
fi
CACHE_DIR=$WHEEL_CACHE/$FLAVOUR
mkdir -p "$CACHE_DIR"
export PIP_FIND_LINKS="$CACHE_DIR${PIP_FIND_LINKS:+ $PIP_FIND_LINKS}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

CHECK_IMPORTS='import mmcv, mmcv.ops, mmengine, mmseg, mmpretrain, torchvision, mmcrack
from mmcv.ops import point_sample
import pydensecrf.densecrf
print("mmcrack", mmcrack.__version__, "| torch", __import__("torch").__version__,
      "| mmcv", mmcv.__version__, "| mmengine", mmengine.__version__,
      "| mmseg", mmseg.__version__, "| mmpretrain", mmpretrain.__version__)'

STAMP=$VENV/.mmcrack-install-stamp
KEY=$(cat tools/install.sh setup.py requirements/*.txt | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$KEY" ] \
        && "$VENV/bin/python" -c "$CHECK_IMPORTS" >/dev/null 2>&1; then
    log "environment in $VENV is up to date"
    exit 0
fi

command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found; set PYTHON=/path/to/python3.11"
"$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null \
    || die "$PYTHON is not Python 3.11 (the stack is pinned to 3.11)"
if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip)

log "build tools (setuptools<82 keeps pkg_resources, needed by mmcv's setup and by mmengine)"
"${PIP[@]}" install -q -r requirements/build.txt

log "torch + torchvision: ${TORCH_PINS[*]}"
"${PIP[@]}" install -q "${TORCH_PINS[@]}"

if "${PIP[@]}" install -q --no-deps --only-binary mmcv "$MMCV_PIN" 2>/dev/null; then
    log "mmcv: installed a pre-built wheel from: $PIP_FIND_LINKS"
else
    log "mmcv: no cached wheel; building $MMCV_PIN from its sdist ($FLAVOUR ops, ~30 min on 2 cores)"
    WORK=$(mktemp -d)
    trap 'rm -rf "$WORK"' EXIT
    "${PIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation -d "$WORK" "$MMCV_PIN"
    tar -xzf "$WORK"/mmcv-*.tar.gz -C "$WORK"
    SRC=$(echo "$WORK"/mmcv-*/)
    grep -q -- "-std=c++17" "$SRC/setup.py" || die "unexpected mmcv setup.py: no -std=c++17 to raise"
    sed -i 's/-std=c++17/-std=c++20/g' "$SRC/setup.py"
    MMCV_WITH_OPS=1 FORCE_CUDA=$FORCE_CUDA MAX_JOBS=${MMCV_BUILD_JOBS:-$(nproc)} \
        "${PIP[@]}" wheel --no-build-isolation --no-deps -w "$WORK/dist" "$SRC"
    mkdir -p "$CACHE_DIR"
    for whl in "$WORK"/dist/mmcv-*.whl; do  # copy then rename: never a half-written wheel
        cp "$whl" "$CACHE_DIR/.$(basename "$whl").part"
        mv "$CACHE_DIR/.$(basename "$whl").part" "$CACHE_DIR/$(basename "$whl")"
    done
    log "mmcv wheel cached in $CACHE_DIR"
    "${PIP[@]}" install -q --no-deps "$CACHE_DIR"/mmcv-2.1.0-*.whl
fi

# --- pydensecrf2 (begin) ---
# A subshell function: its own temporary folder and EXIT trap (the mmcv build's
# trap stays in place).
install_pydensecrf() (
    installed_ok='import importlib.metadata as m, pydensecrf.densecrf; assert m.version("pydensecrf2") == "1.1"'
    if "${PIP[0]}" -c "$installed_ok" 2>/dev/null; then
        log "pydensecrf2: $CRF_PIN already installed"
        exit 0
    fi
    if "${PIP[@]}" install -q --no-deps --only-binary pydensecrf2 "$CRF_PIN" 2>/dev/null; then
        log "pydensecrf2: installed a pre-built wheel from: $PIP_FIND_LINKS"
        exit 0
    fi
    log "pydensecrf2: no cached wheel; building $CRF_PIN from its sdist (~1 min)"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    "${PIP[@]}" wheel -q --no-deps --no-binary pydensecrf2 -w "$work" "$CRF_PIN" \
        || die "building $CRF_PIN failed (it needs g++, and PyPI for its build requirement Cython==0.29.36)"
    mkdir -p "$CACHE_DIR"
    for whl in "$work"/pydensecrf2-*.whl; do  # copy then rename: never a half-written wheel
        cp "$whl" "$CACHE_DIR/.$(basename "$whl").part"
        mv "$CACHE_DIR/.$(basename "$whl").part" "$CACHE_DIR/$(basename "$whl")"
    done
    log "pydensecrf2 wheel cached in $CACHE_DIR"
    "${PIP[@]}" install -q --no-deps --only-binary pydensecrf2 "$CRF_PIN"
)
# --- pydensecrf2 (end) ---
install_pydensecrf

log "mmcrack and its runtime + test requirements"
"${PIP[@]}" install -q -e ".[tests]"

# mmengine and mmcv declare opencv-python (GUI build, needs libGL); keep only the
# headless build, which provides the same cv2 module.
if "${PIP[@]}" show -q opencv-python >/dev/null 2>&1; then
    "${PIP[@]}" uninstall -q -y opencv-python
    "${PIP[@]}" install -q --force-reinstall --no-deps opencv-python-headless
fi

# --- chromium (begin) ---
# Headless Chromium for the browser test of the evaluation report
# (tests/test_visualization/test_html_report.py, which skips without it):
# Debian's package, installed with the rest of the environment when apt-get
# can (as root). Never fails the install; MMCRACK_NO_CHROMIUM=1 skips it.
install_chromium() (
    if command -v chromium >/dev/null 2>&1; then
        log "chromium: $(command -v chromium)"
        exit 0
    fi
    if [ "${MMCRACK_NO_CHROMIUM:-0}" = 1 ]; then
        log "chromium: not installed (MMCRACK_NO_CHROMIUM=1); the report's browser test will skip"
        exit 0
    fi
    if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
        log "chromium: not found, and installing it needs apt-get as root; the browser test will skip" \
            "(install Debian's package: apt-get install chromium)"
        exit 0
    fi
    log "chromium: installing Debian's chromium for the report's browser test (apt-get, ~2 min)"
    apt_log=$(mktemp)
    trap 'rm -f "$apt_log"' EXIT
    if { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } \
            >"$apt_log" 2>&1 && command -v chromium >/dev/null 2>&1; then
        log "chromium: installed $(command -v chromium)"
    else
        tail -n 5 "$apt_log" >&2
        log "chromium: apt-get failed (above); the install goes on, the browser test will skip"
    fi
)
# --- chromium (end) ---
install_chromium || log "chromium: skipped"

log "checking imports"
if ! "$VENV/bin/python" -c "$CHECK_IMPORTS"; then
    die "the environment in $VENV does not import; see the traceback above. \
If mmcv.ops is missing, a wheel without compiled ops was found in PIP_FIND_LINKS: remove it and rerun."
fi
echo "$KEY" > "$STAMP"
log "done: activate with 'source $VENV/bin/activate'"
