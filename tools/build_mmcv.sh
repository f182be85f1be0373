#!/usr/bin/env bash
# Build (once) and install mmcv 2.1.0 with compiled ops into the active Python.
#
# PyPI ships mmcv 2.1.0 only as an sdist that does not build on current torch:
# its setup.py hard-codes -std=c++17 (torch >= 2.10 headers need C++20, mmcv
# #3341) and imports pkg_resources (removed from recent setuptools, mmcv #3325;
# we build with setuptools<70). We patch a temp copy of the sdist, build a
# wheel, and cache it keyed by python + torch version so later installs take
# seconds. Cache: $PANOPTIC_ZOO_CACHE (default ~/.cache/panoptic_zoo).
set -euo pipefail

MMCV_VERSION=2.1.0
PY=${PYTHON:-python}
CACHE_ROOT=${PANOPTIC_ZOO_CACHE:-$HOME/.cache/panoptic_zoo}
KEY=$($PY -c 'import sys, torch; print(f"cp{sys.version_info.major}{sys.version_info.minor}-torch{torch.__version__}")')
WHEEL_DIR="$CACHE_ROOT/wheels/$KEY"
mkdir -p "$WHEEL_DIR"

wheel=$(ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
  echo "[build_mmcv] no cached wheel for $KEY: building mmcv $MMCV_VERSION with ops (~27 min on 2 cores)"
  # mmcv's setup.py imports pkg_resources: build with setuptools<70, then
  # put back the version torch asked for. ninja compiles MAX_JOBS in parallel.
  old_setuptools=$($PY -c 'import setuptools; print(setuptools.__version__)')
  $PY -m pip install -q 'setuptools<70' wheel ninja
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  $PY -m pip download -q --no-deps --no-binary=:all: --no-build-isolation \
    "mmcv==$MMCV_VERSION" -d "$tmp"
  tar -xzf "$tmp"/mmcv-"$MMCV_VERSION".tar.gz -C "$tmp"
  src="$tmp/mmcv-$MMCV_VERSION"
  grep -q -- '-std=c++17' "$src/setup.py" || {
    echo "[build_mmcv] expected -std=c++17 in $src/setup.py; sdist changed?" >&2; exit 1; }
  sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"
  # Build into the temp dir first, then move: no half-written wheel in cache.
  (cd "$src" && MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-2} \
    $PY -m pip wheel -q --no-deps --no-build-isolation -w "$tmp/dist" .)
  built=$(ls "$tmp"/dist/mmcv-"$MMCV_VERSION"-*.whl)
  mv "$built" "$WHEEL_DIR/"
  $PY -m pip install -q "setuptools==$old_setuptools"
  wheel="$WHEEL_DIR/$(basename "$built")"
else
  echo "[build_mmcv] using cached $wheel"
fi
# With its dependencies (opencv, addict, ...); pins come from PIP_CONSTRAINT.
$PY -m pip install -q "$wheel"
$PY -c 'import mmcv.ops; print("[build_mmcv] mmcv", mmcv.__version__, "with ops OK")'
