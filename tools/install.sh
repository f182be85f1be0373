#!/usr/bin/env bash
# Install panoptic_zoo with all its dependencies into a fresh virtual
# environment (default ./.venv). mmcv's compiled ops are built once (~27 min
# on 2 cores) and cached by tools/build_mmcv.sh; later installs take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
# Every pip call below (and mmcv's build) honours the pinned versions.
export PIP_CONSTRAINT="$PWD/requirements/pinned.txt"

python3 -m venv "$VENV"
# shellcheck disable=SC1091
. "$VENV/bin/activate"
python -m pip install -q -U pip
python -m pip install -q torch torchvision numpy
bash tools/build_mmcv.sh
python -m pip install -q -e '.[tests]'
python -m pip install -q --no-deps --no-build-isolation -e plugins/panoptic-zoo-example
python -m pip check
echo "[install] done: activate with '. $VENV/bin/activate'"
