#!/usr/bin/env bash
# Evaluate a checkpoint on NUM_GPUS processes through torchrun: each process
# predicts its share of the images, PQ is computed once over all of them
# (the same number as one process gives).
#   usage: tools/dist_test.sh CONFIG CHECKPOINT NUM_GPUS [tools/test.py arguments]
# Several machines: NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT as for
# tools/dist_train.sh (see tools/torchrun.sh).
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 CONFIG CHECKPOINT NUM_GPUS [tools/test.py arguments]" >&2
  exit 2
fi
config=$1 checkpoint=$2 gpus=$3; shift 3
here=$(cd -P "$(dirname "$0")" && pwd)
exec "$here/torchrun.sh" "$gpus" "$here/test.py" "$config" "$checkpoint" "$@"
